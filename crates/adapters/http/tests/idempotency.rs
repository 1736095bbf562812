//! The `Idempotency-Key` guard without sockets: the key store is a mock, so what the guard does
//! when the store fails, or when a handler fails on our side, is checked exactly.

use std::sync::{Arc, Mutex};

use axum::body::{to_bytes, Body};
use axum::http::{Request, StatusCode};
use chrono::Utc;
use disputes_domain::{ActorId, Digest, DisputePolicy, Role, TenantId};
use disputes_http::{router, AppState};
use disputes_ports::idempotency::{KeyState, Reservation, StoredAnswer};
use disputes_ports::{
    ApiKeyRecord, BillingService, CredentialService, DisputeService, IdempotencyKey,
    IdempotencyService, InvoiceDesk, MockBlobStore, MockCredentialStore, MockDisputeRepository,
    MockIdempotencyStore, MockReasonCatalog, MockSentEmails, MockTicketStore, StoreError,
    SystemClock, ThreadService,
};
use serde_json::{json, Value};
use tower::ServiceExt as _;

const KEY: &str = "dk_0123456789abcdef_the-secret";

fn app(repo: MockDisputeRepository, keys: MockIdempotencyStore) -> axum::Router {
    // No test of `app` registers a webhook: any call to this registry would panic.
    app_with_webhooks(repo, keys, disputes_ports::MockWebhookRegistry::new())
}

fn app_with_webhooks(
    repo: MockDisputeRepository,
    keys: MockIdempotencyStore,
    webhooks: disputes_ports::MockWebhookRegistry,
) -> axum::Router {
    let mut credentials = MockCredentialStore::new();
    credentials.expect_find_key().returning(|key_id| {
        Ok(Some(ApiKeyRecord {
            key_id: key_id.to_owned(),
            tenant: TenantId::new("acme").unwrap(),
            role: Role::Advertiser,
            actor: ActorId::new("dev").unwrap(),
            secret_hash: Digest::of(b"the-secret"),
            created_at: Utc::now(),
            scopes: disputes_ports::Scope::DEFAULT.to_vec(),
        }))
    });
    let repo = Arc::new(repo);
    let clock = Arc::new(SystemClock);
    let disputes = DisputeService::new(repo.clone(), clock.clone(), DisputePolicy::default());
    let credentials = CredentialService::new(Arc::new(credentials), clock.clone());
    router(AppState {
        billing: BillingService::new(disputes.clone(), Arc::new(MockReasonCatalog::new())),
        invoices: InvoiceDesk::new(
            disputes.clone(),
            ThreadService::new(disputes.clone(), Arc::new(MockBlobStore::new())),
            credentials.clone(),
            Arc::new(MockSentEmails::new()),
            Arc::new(MockTicketStore::new()),
        ),
        disputes,
        credentials,
        webhooks: disputes_ports::WebhookService::new(Arc::new(webhooks), clock.clone()),
        idempotency: IdempotencyService::new(Arc::new(keys), clock.clone()),
        // No test here signs or lists keys: any call to this keyring would panic.
        signing: disputes_ports::SigningService::new(std::sync::Arc::new(
            disputes_ports::UnusedKeyring,
        )),
        public_url: None,
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
        .returning(|_, _| Ok(KeyState::Reserved(reservation())));
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
async fn a_refusal_is_kept_and_replayed_without_running_the_handler() {
    let kept = Arc::new(Mutex::new(None::<StoredAnswer>));
    let mut keys = MockIdempotencyStore::new();
    keys.expect_reserve()
        .returning(|_, _| Ok(KeyState::Reserved(reservation())));
    let keeping = kept.clone();
    keys.expect_complete().times(1).returning(move |_, answer| {
        *keeping.lock().unwrap() = Some(answer.clone());
        Ok(())
    });
    keys.expect_release().never();
    let mut repo = MockDisputeRepository::new();
    repo.expect_create().returning(|_, _| {
        Err(StoreError::Duplicate {
            existing: disputes_domain::DisputeId::new(3).unwrap(),
        })
    });
    let (status, headers, body) = open_with_key(app(repo, keys)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "duplicate_dispute");

    // The same request again: the kept answer, and the handler does not run (the repository
    // has no expectations).
    let answer = kept.lock().unwrap().clone().expect("the answer was kept");
    let mut keys = MockIdempotencyStore::new();
    keys.expect_reserve()
        .returning(move |_, _| Ok(KeyState::Answered(answer.clone())));
    let (again, replayed_headers, replayed) =
        open_with_key(app(MockDisputeRepository::new(), keys)).await;
    assert_eq!(again, StatusCode::CONFLICT);
    assert_eq!(replayed, body);
    assert_eq!(replayed_headers["content-type"], headers["content-type"]);
    assert_eq!(replayed_headers["idempotent-replayed"], "true");
}

#[tokio::test]
async fn the_opening_carries_its_key_and_a_key_taken_over_is_a_409_not_a_retry() {
    let mut keys = MockIdempotencyStore::new();
    keys.expect_reserve()
        .returning(|_, _| Ok(KeyState::Reserved(reservation())));
    keys.expect_complete().returning(|_, _| Ok(()));
    let mut repo = MockDisputeRepository::new();
    repo.expect_create()
        .withf(|_, write| write.key == Some(reservation()))
        .times(1)
        .returning(|_, _| Err(StoreError::KeyTakenOver));
    let (status, headers, body) = open_with_key(app(repo, keys)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "idempotency_key_in_flight");
    assert_eq!(headers["retry-after"], "1");
}

#[tokio::test]
async fn a_corrupt_stored_answer_is_a_500_that_reveals_nothing() {
    let mut keys = MockIdempotencyStore::new();
    keys.expect_reserve()
        .returning(|_, _| Ok(KeyState::Answered(StoredAnswer::new(b"garbage".to_vec()))));
    let (status, _, body) = open_with_key(app(MockDisputeRepository::new(), keys)).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["error"]["code"], "internal_error");
}

#[tokio::test]
async fn a_registration_whose_answer_was_lost_replays_its_subscription() {
    let mut keys = MockIdempotencyStore::new();
    keys.expect_reserve()
        .returning(|_, _| Ok(KeyState::Subscribed { webhook: 7 }));
    let mut webhooks = disputes_ports::MockWebhookRegistry::new();
    webhooks.expect_add_webhook().never();
    webhooks
        .expect_webhook()
        .withf(|tenant, id| tenant.as_str() == "acme" && *id == 7)
        .returning(|tenant, id| {
            Ok(Some(disputes_ports::Webhook {
                id,
                tenant: tenant.clone(),
                url: disputes_ports::WebhookUrl::new(
                    "https://hooks.example.com/in",
                    disputes_ports::UrlPolicy::Https,
                )
                .unwrap(),
                events: disputes_ports::WebhookEvents::new(&["*"]).unwrap(),
                label: None,
                developer: None,
                secret: "whsec_kept".into(),
                created_at: Utc::now(),
            }))
        });
    let app = app_with_webhooks(MockDisputeRepository::new(), keys, webhooks);
    let request = Request::post("/v1/webhooks")
        .header("authorization", format!("Bearer {KEY}"))
        .header("content-type", "application/json")
        .header("idempotency-key", "hook-1")
        .body(Body::from(
            json!({"url": "https://hooks.example.com/in", "events": ["*"], "label": "x"})
                .to_string(),
        ))
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["idempotent-replayed"], "true");
    let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["data"]["signingSecret"], "whsec_kept", "{body}");
    assert_eq!(body["data"]["subscription"]["subscriptionId"], "7");
}
