//! `POST /v1/webhooks`: an operator registers an endpoint for its tenant's dispute events, the
//! delivery vendor's way (docs.enfinitos.com, "Create a webhook subscription"): `{url, events,
//! label}` in, the subscription and its `whsec_…` signing secret out, the secret this once.
//! Deliveries to it are signed `Enfinitos-Signature` as well as `X-Signature` (the notify
//! adapter's `webhook.rs`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use disputes_domain::{EntryKind, Role};
use disputes_ports::{
    Registration, UrlPolicy, Webhook, WebhookEvents, WebhookLabel, WebhookUrl, VENDOR_EVENTS,
};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::ToSchema;

use super::{envelope, require_role, Answer, Body, Caller};
use crate::shared::{format_time, Issues, JsonBody, Problem};
use crate::SharedState;

/// `POST /v1/webhooks`. Every field is optional here so that each missing one is named; the
/// schema says what a client must send.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = DeliveryWebhookRequest, description = "`POST /v1/webhooks`.", example = json!({
    "url": "https://hooks.example.com/disputes",
    "events": ["dispute.opened", "dispute.settled"],
    "label": "Ledger sync"
}))]
pub struct WebhookIn {
    /// The endpoint that receives the deliveries: an absolute `https://` URL, at most 2000
    /// characters, without credentials (`user@`), its port in digits.
    // The pattern is `WebhookUrl::new`'s rule, so a URL it admits is never refused.
    #[schema(
        value_type = String,
        required = true,
        max_length = 2000,
        pattern = "^https://([^/?#@\\[\\]:\\s\\u0000-\\u001f\\u007f-\\u009f]+|\\[[0-9A-Fa-f:.]+\\])(:[0-9]*)?([/?#][^\\s\\u0000-\\u001f\\u007f-\\u009f]*)?$"
    )]
    pub url: Option<String>,
    /// What it receives: `["*"]` for every event, or `dispute.<kind>` names (the `type` of a
    /// delivery's body). The vendor's own names are accepted too, and never sent: nothing here
    /// is one of them.
    #[schema(required = true, schema_with = event_names)]
    pub events: Option<Vec<String>>,
    /// A name to tell the tenant's endpoints apart: 1 to 60 characters, not blank, without
    /// control characters.
    #[schema(
        value_type = String,
        required = true,
        min_length = 1,
        max_length = 60,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    pub label: Option<String>,
}

impl WebhookIn {
    /// The registration, with `url` checked against `urls` and registered by `developer`;
    /// every missing or malformed field named in one answer.
    fn into_registration(
        self,
        urls: UrlPolicy,
        developer: disputes_domain::ActorId,
    ) -> Result<Registration, Problem> {
        let mut issues = Issues::default();
        let url = issues
            .required_text("url", self.url.as_deref())
            .and_then(|url| issues.absorb(refused(WebhookUrl::new(url, urls))));
        let events = issues
            .required("events", self.events.as_ref())
            .and_then(|names| issues.absorb(refused(WebhookEvents::new(names))));
        let label = issues
            .required("label", self.label.as_ref())
            .and_then(|label| issues.absorb(refused(WebhookLabel::new(label.as_str()))));
        issues.finish()?;
        let (Some(url), Some(events), Some(label)) = (url, events, label) else {
            unreachable!("finish() returned Ok, so every field is present and valid")
        };
        Ok(Registration {
            url,
            events,
            label: Some(label),
            developer: Some(developer),
        })
    }
}

/// A value the ports refused, as the field issue it is.
fn refused<T>(result: Result<T, disputes_domain::DomainError>) -> Result<T, Problem> {
    result.map_err(Problem::refused_field)
}

/// A subscription as the vendor shows it. A subscription is active from its registration and
/// its secret is never rotated yet, so `secretLastRotatedAt` is when it was created.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = DeliveryWebhookSubscription)]
pub struct SubscriptionOut<'w> {
    /// The subscription's id.
    #[schema(value_type = String, example = "7")]
    subscription_id: String,
    /// The developer whose key registered it.
    #[schema(value_type = Option<String>, required = true)]
    developer_id: Option<&'w str>,
    #[schema(value_type = String)]
    url: &'w str,
    #[schema(value_type = Vec<String>, schema_with = event_names)]
    events: Vec<&'w str>,
    #[schema(value_type = Option<String>, required = true)]
    label: Option<&'w str>,
    /// Whether deliveries go to it; always `true` here.
    active: bool,
    #[schema(format = DateTime)]
    created_at: String,
    /// When it last took a delivery; `null` until it takes one.
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    last_delivered_at: Option<String>,
    #[schema(format = DateTime)]
    secret_last_rotated_at: String,
}

impl<'w> SubscriptionOut<'w> {
    fn render(webhook: &'w Webhook) -> Self {
        SubscriptionOut {
            subscription_id: webhook.id.to_string(),
            developer_id: webhook.developer.as_ref().map(|d| d.as_str()),
            url: webhook.url.as_str(),
            events: webhook.events.names().collect(),
            label: webhook.label.as_ref().map(WebhookLabel::as_str),
            active: true,
            created_at: format_time(webhook.created_at),
            // Just registered: nothing was delivered to it yet.
            last_delivered_at: None,
            secret_last_rotated_at: format_time(webhook.created_at),
        }
    }
}

/// `data` of the answer to a registration.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = DeliveryWebhookCreated)]
pub struct Created<'w> {
    subscription: SubscriptionOut<'w>,
    /// The HMAC-SHA256 key of the deliveries' signatures. Shown in this answer only (and in
    /// its replays under the same `Idempotency-Key`); keep it.
    #[schema(value_type = String, example = "whsec_5f0c…")]
    signing_secret: &'w str,
}

/// The names a subscription may list, as the document shows them.
fn event_names() -> Schema {
    let names = std::iter::once(WebhookEvents::ALL.to_owned())
        .chain(EntryKind::ALL.iter().map(|k| format!("dispute.{k}")))
        .chain(VENDOR_EVENTS.iter().map(|n| (*n).to_owned()))
        .collect::<Vec<_>>();
    let name = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(names));
    ArrayBuilder::new()
        .items(RefOr::T(Schema::Object(name.build())))
        .min_items(Some(1))
        .max_items(Some(WebhookEvents::MAX))
        .into()
}

/// Registers an endpoint for the caller's tenant. Operator keys only: the endpoint hears of
/// every party's disputes, as an operator's systems do.
pub(super) async fn register(
    State(state): State<SharedState>,
    caller: Caller,
    JsonBody(body, _): Body<WebhookIn>,
) -> Answer {
    require_role(&caller, Role::Operator, "register a webhook")?;
    let registration = body.into_registration(
        state.webhooks.url_policy(),
        caller.principal.actor.id.clone(),
    )?;
    let webhook = state
        .webhooks
        .register(&caller.principal.tenant, &registration, caller.key())
        .await?;
    Ok(created(&webhook))
}

/// The answer to the registration of `webhook`: the subscription and its secret.
pub(super) fn created(webhook: &Webhook) -> Response {
    envelope(
        StatusCode::CREATED,
        Created {
            subscription: SubscriptionOut::render(webhook),
            signing_secret: &webhook.secret,
        },
    )
}
