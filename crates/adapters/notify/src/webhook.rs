//! Webhooks: each event POSTed as JSON to every endpoint the dispute's tenant registered for
//! it, signed with the endpoint's secret: `X-Signature` for everybody, and the delivery vendor's
//! `Enfinitos-Signature` where a client of that vendor listens.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use disputes_domain::{LedgerOutcome, Resolution, SubjectKind};
use disputes_ports::{Event, Notifier, NotifyError, Webhook, WebhookRegistry};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use crate::retry_after;

/// The header with the Unix time (seconds) of the attempt.
pub const TIMESTAMP_HEADER: &str = "X-Timestamp";
/// The header with `sha256=` and the hex HMAC-SHA256, keyed with the endpoint's secret, of
/// `<X-Timestamp>.<body>`.
pub const SIGNATURE_HEADER: &str = "X-Signature";
/// The header with the event id, the same on every retry.
pub const EVENT_ID_HEADER: &str = "X-Event-Id";
/// The delivery vendor's signature header (docs.enfinitos.com, "Create a webhook
/// subscription"): `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`.
pub const ENFINITOS_SIGNATURE_HEADER: &str = "Enfinitos-Signature";

/// How long an endpoint may take to answer; well below the dispatcher's lease.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The hex HMAC-SHA256 over `<timestamp>.<body>` with `secret`: what both signatures carry.
fn mac_hex(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// `sha256=<hex>` of HMAC-SHA256 over `<timestamp>.<body>` with `secret`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!("sha256={}", mac_hex(secret, timestamp, body))
}

/// The delivery vendor's `t=<timestamp>,v1=<hex>`, the same HMAC as [`sign`]'s; the vendor
/// keys it with the whole `whsec_…` secret, as we do.
pub fn sign_enfinitos(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", mac_hex(secret, timestamp, body))
}

/// Whether a delivery of `event` to `webhook` carries the vendor's signature too: when the
/// endpoint was registered through the delivery contract (its developer says so), or the
/// dispute is one of that contract's; either way a client of the vendor may be listening.
pub fn signed_the_vendors_way(webhook: &Webhook, event: &Event) -> bool {
    webhook.developer.is_some() || event.dispute.subject().kind() == SubjectKind::Delivery
}

/// The JSON an endpoint receives for `event`: the event id and type (`dispute.<entry kind>`),
/// the dispute as it is now, and the timeline entry that records what happened.
pub fn event_body(event: &Event) -> Vec<u8> {
    let d = &event.dispute;
    let entry = event.entry().map(|e| {
        json!({
            "seq": e.seq(),
            "at": e.at().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "actor": {"id": e.actor().id.as_str(), "role": e.actor().role.as_str()},
            "kind": e.kind().as_str(),
            "notes": e.notes(),
        })
    });
    let body = json!({
        "id": event.id.as_str(),
        "type": format!("dispute.{}", event.kind.as_str()),
        "tenant": d.tenant().as_str(),
        "data": {
            "dispute": {
                "id": d.id().get(),
                "kind": d.subject().kind().as_str(),
                "status": d.status().as_str(),
                "version": d.version().get(),
            },
            "entry": entry,
            "resolution": d.resolution().map(resolution_body),
        },
    });
    serde_json::to_vec(&body).expect("a JSON value always serialises")
}

/// How a dispute ended, for an endpoint that acts on it (a settlement system applying a
/// settlement adjustment): the outcome and amount, what was done, each party's adjustment in
/// integer cents, and whether the tenant's settlement system already wrote the override.
fn resolution_body(r: &Resolution) -> serde_json::Value {
    let adjustments = r
        .adjustments
        .iter()
        .map(|a| (a.party.as_str().to_owned(), json!(a.cents)))
        .collect::<serde_json::Map<_, _>>();
    json!({
        "outcome": r.outcome.as_str(),
        "settledAmount": r.settled_amount.to_string(),
        "kind": r.kind.map(|k| k.as_str()),
        "adjustments": adjustments,
        "originalApplicationId": r.original_application_id,
        "settlementAdjustmentId": r.settlement_adjustment_id,
        "overrideApplied": r.ledger.as_ref().map(LedgerOutcome::applied),
        "overrideSkipped": r.ledger.as_ref().and_then(LedgerOutcome::skipped_reason),
    })
}

/// Delivers events to the tenant's webhooks. An endpoint that answered 2xx has taken the event
/// and is not sent it again; a retry goes only to the others.
#[derive(Debug, Clone)]
pub struct WebhookNotifier {
    registry: Arc<dyn WebhookRegistry>,
    http: reqwest::Client,
}

impl WebhookNotifier {
    pub fn new(registry: Arc<dyn WebhookRegistry>) -> Self {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .expect("a plain HTTP client always builds");
        WebhookNotifier { registry, http }
    }

    /// One POST to `url`; `Err` with why it was not taken, any `Retry-After`, and whether the
    /// endpoint refused it for good ([`refused_for_good`]).
    async fn post(&self, webhook: &Webhook, event: &Event, body: &[u8]) -> Result<(), NotifyError> {
        let url = webhook.url.as_str();
        let shown = shown_url(url);
        let secret = &webhook.secret;
        let now = SystemTime::now();
        let timestamp = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let mut request = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(EVENT_ID_HEADER, event.id.as_str())
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, sign(secret, timestamp, body));
        if signed_the_vendors_way(webhook, event) {
            request = request.header(
                ENFINITOS_SIGNATURE_HEADER,
                sign_enfinitos(secret, timestamp, body),
            );
        }
        let response = request.body(body.to_vec()).send().await.map_err(|e| {
            // reqwest's message names the URL whole; the reason is listed to operators.
            NotifyError::retry(format!("{shown}: {}", e.without_url()))
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let reason = format!("{shown}: {status}");
        Err(match retry_after(response.headers(), now) {
            Some(after) => NotifyError::retry_after(reason, after),
            None if refused_for_good(status) => NotifyError::permanent(reason),
            None => NotifyError::retry(reason),
        })
    }
}

#[async_trait]
impl Notifier for WebhookNotifier {
    async fn deliver(&self, event: &Event) -> Result<(), NotifyError> {
        let tenant = event.dispute.tenant();
        let pending = self
            .registry
            .webhooks_pending(tenant, &event.id, event.kind)
            .await
            .map_err(|e| NotifyError::retry(format!("reading the webhooks: {e}")))?;
        let body = event_body(event);
        let mut failures: Vec<NotifyError> = Vec::new();
        for webhook in pending {
            match self.post(&webhook, event, &body).await {
                Ok(()) => {
                    let at = chrono::Utc::now();
                    if let Err(e) = self
                        .registry
                        .webhook_delivered(webhook.id, &event.id, at)
                        .await
                    {
                        // Not recorded: the endpoint gets it again, with the same event id.
                        failures.push(NotifyError::retry(format!("recording a delivery: {e}")));
                    }
                }
                Err(failure) => failures.push(failure),
            }
        }
        // The job is given up on at once only when every endpoint still pending refused it for
        // good; otherwise it is retried, and only those that did not take it are called again.
        NotifyError::combine(failures).map_or(Ok(()), Err)
    }
}

/// Whether an endpoint's answer refuses the event for good, so that retrying is pointless: a
/// 4xx (410 Gone above all: the vendor's clients answer it for a removed endpoint; 400, 401,
/// 403, 404 and the like say the same request would be refused again), except 408 Request
/// Timeout and 429 Too Many Requests, which ask to be tried later. 5xx, 3xx and no answer
/// are retried. A refusal that carries `Retry-After` is retried too: the endpoint said when.
pub fn refused_for_good(status: reqwest::StatusCode) -> bool {
    status.is_client_error()
        && status != reqwest::StatusCode::REQUEST_TIMEOUT
        && status != reqwest::StatusCode::TOO_MANY_REQUESTS
}

/// `url` without its user part (`user:password@`), query or fragment, which may hold
/// credentials: how a failure names the endpoint in the log and in `disputes outbox list`.
pub fn shown_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) => {
            // Neither can fail on an http(s) URL, the only kind registered.
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.set_query(None);
            parsed.set_fragment(None);
            parsed.to_string()
        }
        Err(_) => "<the endpoint's URL>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_client_error_that_asks_for_no_retry_is_for_good() {
        use reqwest::StatusCode;
        for status in [400, 401, 403, 404, 410, 422] {
            assert!(
                refused_for_good(StatusCode::from_u16(status).unwrap()),
                "{status}"
            );
        }
        for status in [408, 429, 500, 502, 503, 301] {
            assert!(
                !refused_for_good(StatusCode::from_u16(status).unwrap()),
                "{status}"
            );
        }
    }

    #[test]
    fn an_endpoint_is_named_without_what_may_be_credentials() {
        assert_eq!(
            shown_url("https://user:pw@hooks.example:8443/in/abc?token=s3cret#x"),
            "https://hooks.example:8443/in/abc"
        );
        assert_eq!(
            shown_url("http://127.0.0.1:9/hook"),
            "http://127.0.0.1:9/hook"
        );
    }

    #[test]
    fn a_settlement_event_carries_the_adjustments_and_what_became_of_them() {
        use chrono::{TimeZone, Utc};
        use disputes_domain::{
            Actor, ActorId, Adjustment, Claim, Decision, DeliverySubject, Dispute, DisputeId,
            DisputePolicy, EvidenceBundle, EvidenceItem, EvidenceKind, OpenDispute, PartyRole,
            Period, Quantity, ResolutionKind, Role, Settlement, Subject, TenantId, Unit,
        };
        let t0 = Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap();
        let period = Period::new("p", t0, t0 + chrono::Duration::days(7)).unwrap();
        let advertiser = Actor::new(ActorId::new("dev_adv").unwrap(), Role::Advertiser);
        let operator = Actor::new(ActorId::new("dev_op").unwrap(), Role::Operator);
        let policy = DisputePolicy::default();
        let command = OpenDispute {
            tenant: TenantId::new("acme").unwrap(),
            subject: Subject::Delivery(
                DeliverySubject::new("cmp", vec!["scr".into()], None, period).unwrap(),
            ),
            claim: Claim::new(Quantity::new(100.into(), Unit::new("EUR").unwrap()).unwrap()),
            opened_by: advertiser.clone(),
            evidence: EvidenceBundle::new(vec![
                EvidenceItem::new(EvidenceKind::ProofPack, "pp").unwrap()
            ]),
        };
        let mut d = Dispute::open(command, t0, &policy)
            .unwrap()
            .into_dispute(DisputeId::new(3).unwrap());
        d.respond(operator.clone(), None, "", None, t0, &policy)
            .unwrap();
        d.reply(advertiser, Decision::Accept, None, "", t0, &policy)
            .unwrap();
        let settlement = Settlement {
            kind: Some(ResolutionKind::SettlementAdjustment),
            adjustments: vec![Adjustment {
                party: PartyRole::TaxAuthority,
                cents: -125,
            }],
            ledger: Some(LedgerOutcome::Skipped {
                reason: "no_settlement_ledger".into(),
            }),
            ..Settlement::default()
        };
        d.settle(operator, settlement, t0).unwrap();
        let event = Event {
            id: disputes_ports::EventId::generate(),
            kind: disputes_domain::EntryKind::Settled,
            seq: 4,
            dispute: d,
            attempt: 1,
            replayed: false,
        };
        let body: serde_json::Value = serde_json::from_slice(&event_body(&event)).unwrap();
        assert_eq!(
            body["data"]["resolution"],
            json!({
                "outcome": "granted",
                "settledAmount": "100",
                "kind": "settlement_adjustment",
                "adjustments": {"tax_authority": -125},
                "originalApplicationId": null,
                "settlementAdjustmentId": null,
                "overrideApplied": false,
                "overrideSkipped": "no_settlement_ledger",
            })
        );
        assert_eq!(body["type"], "dispute.settled");
    }

    #[test]
    fn signatures_cover_the_timestamp_and_the_body() {
        let signature = sign("whsec_test", 1_700_000_000, br#"{"a":1}"#);
        assert!(signature.starts_with("sha256=") && signature.len() == 7 + 64);
        assert_ne!(signature, sign("whsec_test", 1_700_000_001, br#"{"a":1}"#));
        assert_ne!(signature, sign("whsec_test", 1_700_000_000, br#"{"a":2}"#));
        assert_ne!(signature, sign("whsec_other", 1_700_000_000, br#"{"a":1}"#));
        let mut mac = Hmac::<Sha256>::new_from_slice(b"whsec_test").unwrap();
        mac.update(br#"1700000000.{"a":1}"#);
        assert_eq!(
            signature,
            format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
        );
    }

    #[test]
    fn the_vendors_signature_is_the_same_hmac_with_its_time() {
        let body = br#"{"a":1}"#;
        let vendor = sign_enfinitos("whsec_test", 1_700_000_000, body);
        let ours = sign("whsec_test", 1_700_000_000, body);
        assert_eq!(
            vendor,
            format!("t=1700000000,v1={}", ours.strip_prefix("sha256=").unwrap())
        );
    }
}
