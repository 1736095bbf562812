//! The invoice contract (seed 003, SPEC §3): `/v2/dispute`, buy-now-pay-later invoice disputes.
//! Every call is a POST whose JSON body carries the client's credentials (`billinkUsername`,
//! `billinkId`); every error is `{code, message, error}`.

mod codes;
mod error;
pub(crate) mod wire;

use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use disputes_domain::Role;
use disputes_ports::{InvoiceListing, InvoiceView, Principal, ServiceError};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::ops::{login_caller, RateGate};
use crate::shared::{export, page_size, parse_cursor, Issues, JsonBody, Problem};
use crate::SharedState;
pub use codes::REGISTRY as CODES;
pub use error::{Invoice, InvoiceError};
use wire::{
    whole_number_text, AttachmentIn, DisputeOut, FileOut, IdIn, ListIn, MessageIn, OpenIn, PageOut,
    ResolveIn,
};

/// Where this contract's calls live; unknown routes below it answer in its error shape.
pub const BASE_PATH: &str = "/v2/dispute";

/// SPEC §6: request bodies of this contract are at most 16 MiB, room for a 10 MiB file in
/// base64 and the fields around it.
const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// The contract's routes, to be nested under [`BASE_PATH`]. Each call authenticates with the
/// credentials in its body ([`Call`]); anything else is answered in this contract's shape.
pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/", post(open))
        .route("/info", post(info))
        .route("/list", post(list))
        .route("/message", post(message))
        .route("/resolve", post(resolve))
        .route("/attachment", post(attachment))
        .route("/export", post(export))
        .fallback(crate::unknown_route::<Invoice>)
        .method_not_allowed_fallback(crate::method_not_allowed::<Invoice>)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

type Answer = Result<Response, InvoiceError>;

/// An authenticated call: the client its credentials name, and the rest of its body as `T`.
///
/// The credentials are checked before anything else in the body, so a caller who cannot
/// authenticate learns nothing about what it sent: first that both are present (each missing one
/// is a 400 of its own, as for every required field), then that they are a client login of a
/// tenant (else 401).
#[derive(Debug)]
pub struct Call<T> {
    principal: Principal,
    body: T,
}

impl<T: DeserializeOwned> FromRequest<SharedState> for Call<T> {
    type Rejection = InvoiceError;

    async fn from_request(request: Request, state: &SharedState) -> Result<Self, Self::Rejection> {
        let gate = RateGate::of(request.extensions());
        let JsonBody(value, _) = JsonBody::<Value, Invoice>::from_request(request, state).await?;
        let Value::Object(fields) = &value else {
            return Err(InvoiceError::new(
                codes::INVALID_BODY,
                "the body must be a JSON object",
            ));
        };
        let mut issues = Issues::default();
        let secret = credential(&mut issues, fields, SECRET, &[SECRET_ALIAS])?;
        let username = credential(&mut issues, fields, USERNAME, &[])?;
        issues.finish()?;
        let (Some(username), Some(secret)) = (username, secret) else {
            unreachable!("finish() returned Ok, so both credentials are present")
        };
        let principal = state
            .credentials
            .authenticate_login(&username, &secret)
            .await?;
        // A billing login is a username and a secret too, but not one of this contract's.
        if principal.actor.role != Role::Client {
            return Err(ServiceError::Unauthenticated.into());
        }
        gate.admit(&login_caller(&principal))?;
        let body = serde_path_to_error::deserialize(value).map_err(|e| {
            let field = e.path().to_string();
            InvoiceError::new(codes::INVALID_BODY, format!("{field}: {}", e.into_inner()))
        })?;
        Ok(Call { principal, body })
    }
}

/// The body field of the client's login name.
pub(crate) const USERNAME: &str = "billinkUsername";
/// The body field of the client's login secret, as the dispute page spells it.
pub(crate) const SECRET: &str = "billinkId";

/// The login secret as every other Billink v2 call spells it (`billinkID`); the dispute page
/// alone writes `billinkId`, which comes first when a body has both.
const SECRET_ALIAS: &str = "billinkID";

/// A credential field (or, when it is absent, the first of its `aliases` present): text, or
/// missing (noted in `issues`, under `field`) when absent, `null` or blank.
fn credential(
    issues: &mut Issues,
    fields: &Map<String, Value>,
    field: &'static str,
    aliases: &[&'static str],
) -> Result<Option<String>, InvoiceError> {
    let (name, value) = std::iter::once(field)
        .chain(aliases.iter().copied())
        .find_map(|name| fields.get(name).map(|value| (name, value)))
        .unwrap_or((field, &Value::Null));
    let text = match value {
        Value::String(text) => Some(text.clone()),
        Value::Null => None,
        _ => {
            return Err(InvoiceError::new(
                codes::INVALID_BODY,
                format!("{name} must be a string"),
            ))
        }
    };
    Ok(issues
        .required_text(field, text.as_deref())
        .map(str::to_owned))
}

/// A dispute as this contract shows it, with its tenant's owner, the mail sent about it and its
/// ticket.
fn dispute_answer(view: &InvoiceView) -> Answer {
    Ok(Json(DisputeOut::render(view)?).into_response())
}

async fn open(State(state): State<SharedState>, call: Call<OpenIn>) -> Answer {
    let opening = call.body.into_opening()?;
    let view = state.invoices.open(&call.principal, opening).await?;
    dispute_answer(&view)
}

async fn info(State(state): State<SharedState>, call: Call<IdIn>) -> Answer {
    let view = state.invoices.get(&call.principal, call.body.id()?).await?;
    dispute_answer(&view)
}

/// `/export`: the dispute `/info` shows, as a signed `export.v1` envelope that the delivery
/// vendor's verifier checks against `GET /v1/runtime-keys` (an extension; Billink has none).
async fn export(State(state): State<SharedState>, call: Call<IdIn>) -> Answer {
    let view = state.invoices.get(&call.principal, call.body.id()?).await?;
    let shown =
        serde_json::to_value(DisputeOut::render(&view)?).map_err(|e| Problem::internal(&e))?;
    let envelope = export::dispute_export(&state.signing, &view.dispute, shown);
    Ok(Json(envelope).into_response())
}

async fn list(State(state): State<SharedState>, call: Call<ListIn>) -> Answer {
    let ListIn {
        resolved,
        limit,
        cursor,
    } = call.body;
    let listing = InvoiceListing {
        resolved,
        limit: page_size(limit.as_ref().map(whole_number_text).as_deref())?,
        after: cursor.as_deref().map(parse_cursor).transpose()?,
    };
    let page = state.invoices.list(&call.principal, listing).await?;
    Ok(Json(PageOut::render(&page)?).into_response())
}

async fn message(State(state): State<SharedState>, call: Call<MessageIn>) -> Answer {
    let posting = call.body.into_posting()?;
    let view = state
        .invoices
        .post(
            &call.principal,
            posting.id,
            posting.author,
            posting.text,
            posting.file,
        )
        .await?;
    dispute_answer(&view)
}

async fn resolve(State(state): State<SharedState>, call: Call<ResolveIn>) -> Answer {
    let resolving = call.body.into_resolving()?;
    let view = state
        .invoices
        .resolve(
            &call.principal,
            resolving.id,
            resolving.outcome,
            resolving.credit_amount,
            resolving.text,
        )
        .await?;
    dispute_answer(&view)
}

async fn attachment(State(state): State<SharedState>, call: Call<AttachmentIn>) -> Answer {
    let (id, sha256) = call.body.into_request()?;
    let file = state
        .invoices
        .attachment(&call.principal, id, sha256)
        .await?
        .ok_or_else(|| {
            InvoiceError::new(
                codes::ATTACHMENT_NOT_FOUND,
                "no message of this dispute has a file with this sha256",
            )
        })?;
    Ok(Json(FileOut::render(id, &file)).into_response())
}
