//! The `Idempotency-Key` guard without sockets: the key store is a mock, so what the guard does
//! when the store fails, or when a handler fails on our side, is checked exactly.

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::http::{Request, StatusCode};
use chrono::Utc;
use disputes_domain::{ActorId, Digest, DisputePolicy, Role, TenantId};
use disputes_http::{router, AppState};
use disputes_ports::idempotency::{Claim, Reservation, StoredResponse};
use disputes_ports::{
    ApiKeyRecord, BillingService, CredentialService, DisputeService, IdempotencyKey, InvoiceDesk,
    MessageService, MockBlobStore, MockCredentialStore, MockDisputeRepository,
    MockIdempotencyStore, MockReasonCatalog, MockSentEmails, MockTicketStore, StoreError,
    SystemClock,
};
use serde_json::{json, Value};
use tower::ServiceExt as _;

const KEY: &str = "dk_0123456789abcdef_the-secret";

fn app(repo: MockDisputeRepository, keys: MockIdempotencyStore) -> axum::Router {
    let mut credentials = MockCredentialStore::new();
    credentials.expect_find_key().returning(|key_id| {
        Ok(Some(ApiKeyRecord {
            key_id: key_id.to_owned(),
            tenant: TenantId::new("acme").unwrap(),
            role: Role::Advertiser,
            actor: ActorId::new("dev").unwrap(),
            secret_hash: Digest::of(b"the-secret"),
            created_at: Utc::now(),
        }))
    });
    let repo = Arc::new(repo);
    let clock = Arc::new(SystemClock);
    let disputes = DisputeService::new(repo.clone(), clock.clone(), DisputePolicy::default());
    let credentials = CredentialService::new(Arc::new(credentials), clock);
    router(AppState {
        billing: BillingService::new(disputes.clone(), Arc::new(MockReasonCatalog::new())),
        invoices: InvoiceDesk::new(
            disputes.clone(),
            MessageService::new(disputes.clone(), Arc::new(MockBlobStore::new())),
            credentials.clone(),
            Arc::new(MockSentEmails::new()),
            Arc::new(MockTicketStore::new()),
        ),
        disputes,
        credentials,
        store: repo,
        idempotency: Arc::new(keys),
    })
}

fn opening() -> Value {
    json!({
        "disputedPeriod": { "start": "2026-10-01T00:00:00Z", "end": "2026-10-08T00:00:00Z" },
        "affectedSurface": { "campaignId": "cmp_1", "screenIds": ["scr_1"] },
        "claimedShortfall": { "unit": "impressions", "amount": "12500" },
        "evidenceBundle": { "proofPackIds": ["pp_1"] }
    })
}

async fn open_with_key(app: axum::Router) -> (StatusCode, axum::http::HeaderMap, Value) {
    let request = Request::post("/v1/disputes")
        .header("authorization", format!("Bearer {KEY}"))
        .header("content-type", "application/json")
        .header("idempotency-key", "open-1")
        .body(Body::from(opening().to_string()))
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap();
    (
        parts.status,
        parts.headers,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn reservation() -> Reservation {
    Reservation {
        tenant: TenantId::new("acme").unwrap(),
        principal: "advertiser:dev".into(),
        key: IdempotencyKey::new("open-1").unwrap(),
        token: "t".into(),
    }
}

#[tokio::test]
async fn a_key_store_outage_is_a_503_and_runs_nothing() {
    let mut keys = MockIdempotencyStore::new();
    keys.expect_reserve()
        .returning(|_, _| Err(StoreError::Unavailable("connection refused".into())));
    // The repository has no expectations: the handler must not run.
    let (status, _, body) = open_with_key(app(MockDisputeRepository::new(), keys)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["error"]["code"], "service_unavailable");
    assert!(!body.to_string().contains("connection refused"));
}

#[tokio::test]
async fn a_failure_on_our_side_frees_the_key_for_a_retry() {
    let mut keys = MockIdempotencyStore::new();
    keys.expect_reserve()
        .withf(|request, _| {
            request.principal == "advertiser:dev"
                && request.tenant.as_str() == "acme"
                && request.key.as_str() == "open-1"
        })
        .returning(|_, _| Ok(Claim::Reserved(reservation())));
    keys.expect_release()
        .withf(|r| *r == reservation())
        .times(1)
        .returning(|_| Ok(()));
    keys.expect_complete().never();
    let mut repo = MockDisputeRepository::new();
    repo.expect_create()
        .returning(|_, _| Err(StoreError::Other("disk I/O error".into())));
    let (status, _, _) = open_with_key(app(repo, keys)).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn a_refusal_is_kept_for_replays() {
    let mut keys = MockIdempotencyStore::new();
    keys.expect_reserve()
        .returning(|_, _| Ok(Claim::Reserved(reservation())));
    keys.expect_complete()
        .withf(|_, stored| {
            stored.status == 409
                && stored.content_type.as_deref() == Some("application/json")
                && String::from_utf8_lossy(&stored.body).contains("duplicate_dispute")
        })
        .times(1)
        .returning(|_, _| Ok(()));
    keys.expect_release().never();
    let mut repo = MockDisputeRepository::new();
    repo.expect_create().returning(|_, _| {
        Err(StoreError::Duplicate {
            existing: disputes_domain::DisputeId::new(3).unwrap(),
        })
    });
    let (status, _, body) = open_with_key(app(repo, keys)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "duplicate_dispute");
}

#[tokio::test]
async fn a_stored_answer_is_replayed_without_running_the_handler() {
    let mut keys = MockIdempotencyStore::new();
    keys.expect_reserve().returning(|_, _| {
        Ok(Claim::Replay(StoredResponse {
            status: 201,
            content_type: Some("application/json".into()),
            etag: Some("\"1\"".into()),
            location: None,
            body: br#"{"ok":true,"data":{"dispute":{"id":"9"}},"contractVersion":"v1.0"}"#.to_vec(),
        }))
    });
    let (status, headers, body) = open_with_key(app(MockDisputeRepository::new(), keys)).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(headers["etag"], "\"1\"");
    assert_eq!(headers["idempotent-replayed"], "true");
    assert_eq!(body["data"]["dispute"]["id"], "9");
}
