//! Router tests without sockets: the store is a mock, so faults that a real store rarely shows on
//! demand (an outage, a driver error) can be checked in the contract's shape.

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::http::{Request, StatusCode};
use chrono::Utc;
use disputes_domain::{ActorId, Digest, DisputePolicy, Role, TenantId};
use disputes_http::{router, AppState};
use disputes_ports::MockIdempotencyStore;
use disputes_ports::{
    ApiKeyRecord, BillingService, CredentialService, DisputeService, IdempotencyService,
    InvoiceDesk, MockBlobStore, MockCredentialStore, MockDisputeRepository, MockReasonCatalog,
    MockSentEmails, MockTicketStore, StoreError, SystemClock, ThreadService,
};
use serde_json::Value;
use tower::ServiceExt as _;

const KEY: &str = "dk_0123456789abcdef_the-secret";

fn app(repo: MockDisputeRepository) -> axum::Router {
    app_for(repo, Role::Operator)
}

/// The router with `repo` behind it and one valid key, [`KEY`], of `role`.
fn app_for(repo: MockDisputeRepository, role: Role) -> axum::Router {
    // No test through here reaches a file: any call to this blob store would panic.
    app_with(repo, role, MockBlobStore::new())
}

/// [`app_for`] with `blobs` as the blob store.
fn app_with(repo: MockDisputeRepository, role: Role, blobs: MockBlobStore) -> axum::Router {
    let mut credentials = MockCredentialStore::new();
    credentials.expect_find_key().returning(move |key_id| {
        Ok(Some(ApiKeyRecord {
            key_id: key_id.to_owned(),
            tenant: TenantId::new("acme").unwrap(),
            role,
            actor: ActorId::new("dev").unwrap(),
            secret_hash: Digest::of(b"the-secret"),
            created_at: Utc::now(),
            scopes: disputes_ports::Scope::DEFAULT.to_vec(),
        }))
    });
    let repo = Arc::new(repo);
    let clock = Arc::new(SystemClock);
    let disputes = DisputeService::new(repo.clone(), clock.clone(), DisputePolicy::default());
    let mut sent_emails = MockSentEmails::new();
    sent_emails
        .expect_sent_for()
        .returning(|_, _| Ok(Vec::new()));
    let credentials = CredentialService::new(Arc::new(credentials), clock.clone());
    router(AppState {
        // No test here reaches a reason table: any call to this one would panic.
        billing: BillingService::new(disputes.clone(), Arc::new(MockReasonCatalog::new())),
        invoices: InvoiceDesk::new(
            disputes.clone(),
            ThreadService::new(disputes.clone(), Arc::new(blobs)),
            credentials.clone(),
            Arc::new(sent_emails),
            // No test here reads a dispute's ticket: any call to this one would panic.
            Arc::new(MockTicketStore::new()),
        ),
        disputes,
        credentials,
        // No test here sends an Idempotency-Key: any call to this store would panic.
        // No test here registers a webhook: any call to this registry would panic.
        webhooks: disputes_ports::WebhookService::new(
            Arc::new(disputes_ports::MockWebhookRegistry::new()),
            clock.clone(),
        ),
        idempotency: IdempotencyService::new(Arc::new(MockIdempotencyStore::new()), clock.clone()),
        // No test here signs or lists keys: any call to this keyring would panic.
        signing: disputes_ports::SigningService::new(std::sync::Arc::new(
            disputes_ports::UnusedKeyring,
        )),
        public_url: None,
    })
}

async fn get(app: axum::Router, path: &str) -> (StatusCode, Value) {
    let request = Request::get(path)
        .header("authorization", format!("Bearer {KEY}"))
        .body(Body::empty())
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn a_store_fault_is_a_500_that_reveals_nothing() {
    let mut repo = MockDisputeRepository::new();
    repo.expect_get().returning(|_, _| {
        Err(StoreError::Other(
            "disk I/O error at /var/lib/secret.db".into(),
        ))
    });
    let (status, body) = get(app(repo), "/v1/disputes/1").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["ok"], false);
    assert_eq!(body["error"]["code"], "internal_error");
    assert!(!body.to_string().contains("secret.db"), "{body}");
}

#[tokio::test]
async fn a_store_outage_is_a_503_and_not_ready() {
    let mut repo = MockDisputeRepository::new();
    repo.expect_get()
        .returning(|_, _| Err(StoreError::Unavailable("connection refused".into())));
    repo.expect_ping()
        .returning(|| Err(StoreError::Unavailable("connection refused".into())));
    let app = app(repo);
    let (status, body) = get(app.clone(), "/v1/disputes/1").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["error"]["code"], "service_unavailable");
    assert!(!body.to_string().contains("refused"));
    let (status, _) = get(app, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn a_key_of_another_contract_may_not_use_this_one() {
    let app = app_for(MockDisputeRepository::new(), Role::Billing);
    let (status, body) = get(app, "/v1/disputes").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "forbidden_role");
}

/// A billing call with Basic credentials that the mock accepts (any username, [`KEY`]'s secret).
async fn billing_get(app: axum::Router, path: &str, accept: &str) -> (StatusCode, String, String) {
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode("csr:the-secret");
    let request = Request::get(path)
        .header("authorization", format!("Basic {basic}"))
        .header("accept", accept)
        .body(Body::empty())
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (
        status,
        content_type,
        String::from_utf8(bytes.to_vec()).unwrap(),
    )
}

#[tokio::test]
async fn a_billing_store_fault_is_a_500_in_the_contracts_shape_in_json_and_xml() {
    for (accept, content_type) in [
        ("application/json", "application/json"),
        ("application/xml", "application/xml"),
    ] {
        let mut repo = MockDisputeRepository::new();
        repo.expect_get().returning(|_, _| {
            Err(StoreError::Other(
                "disk I/O error at /var/lib/secret.db".into(),
            ))
        });
        let (status, shown_type, body) = billing_get(
            app_for(repo, Role::Billing),
            "/bcws/webresources/v1.0/disputes/0.0.0.1+-item-dispute+1",
            accept,
        )
        .await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(shown_type, content_type);
        assert!(body.contains("internal_error"), "{body}");
        assert!(!body.contains("secret.db"), "{body}");
    }
}

#[tokio::test]
async fn a_billing_store_outage_is_a_503() {
    let mut repo = MockDisputeRepository::new();
    repo.expect_get()
        .returning(|_, _| Err(StoreError::Unavailable("connection refused".into())));
    let (status, _, body) = billing_get(
        app_for(repo, Role::Billing),
        "/bcws/webresources/v1.0/disputes/settlement/0.0.0.1+-item-settlement+1",
        "*/*",
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["o:errorCode"], "service_unavailable");
    assert_eq!(body["status"], 503);
}

/// An invoice call as the client login `shop` (any username works with the mock; [`KEY`]'s
/// secret is its `billinkId`).
async fn invoice_post(app: axum::Router, path: &str, mut body: Value) -> (StatusCode, Value) {
    body["billinkUsername"] = "shop".into();
    body["billinkId"] = "the-secret".into();
    let request = Request::post(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

fn invoice_opening() -> Value {
    serde_json::json!({
        "category": "damaged",
        "customerEmail": "jan@example.nl",
        "customerName": "Jan de Vries",
        "invoice": "INV-1",
        "locale": "nl",
        "message": "Kapot.",
        "file": "JVBERi0xLjcK",
        "fileName": "bon.pdf",
    })
}

#[tokio::test]
async fn an_invoice_store_fault_is_a_500_in_the_contracts_shape_that_reveals_nothing() {
    let mut repo = MockDisputeRepository::new();
    repo.expect_get().returning(|_, _| {
        Err(StoreError::Other(
            "disk I/O error at /var/lib/secret.db".into(),
        ))
    });
    let (status, body) = invoice_post(
        app_for(repo, Role::Client),
        "/v2/dispute/info",
        serde_json::json!({ "id": 1 }),
    )
    .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["error"], "internal_error");
    assert_eq!(body["code"], 50001);
    assert!(!body.to_string().contains("secret.db"), "{body}");
}

#[tokio::test]
async fn a_blob_store_outage_is_a_503_and_opens_nothing() {
    let repo = MockDisputeRepository::new(); // a create would panic
    let mut blobs = MockBlobStore::new();
    blobs
        .expect_put()
        .returning(|_, _| Err(StoreError::Unavailable("disk gone".into())));
    let (status, body) = invoice_post(
        app_with(repo, Role::Client, blobs),
        "/v2/dispute",
        invoice_opening(),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["error"], "service_unavailable");
    assert_eq!(body["code"], 50301);
}

#[tokio::test]
async fn another_contracts_login_is_not_an_invoice_client() {
    let (status, body) = invoice_post(
        app_for(MockDisputeRepository::new(), Role::Billing),
        "/v2/dispute/info",
        serde_json::json!({ "id": 1 }),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_credentials");
}
