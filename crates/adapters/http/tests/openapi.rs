//! The OpenAPI document and its documentation page, served by the router itself: no credentials,
//! and no asset fetched from anywhere else (the Swagger UI files are compiled in).

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::http::header::CONTENT_TYPE;
use axum::http::{Request, StatusCode};
use disputes_domain::DisputePolicy;
use disputes_http::{openapi_json, router, AppState};
use disputes_ports::{
    BillingService, CredentialService, DisputeService, IdempotencyService, InvoiceDesk,
    MockBlobStore, MockCredentialStore, MockDisputeRepository, MockIdempotencyStore,
    MockReasonCatalog, MockSentEmails, MockTicketStore, SystemClock, ThreadService,
};
use serde_json::Value;
use tower::ServiceExt as _;

/// The router over mocks with no expectations: serving the document must touch no store.
fn app() -> axum::Router {
    let repo = Arc::new(MockDisputeRepository::new());
    let clock = Arc::new(SystemClock);
    let disputes = DisputeService::new(repo.clone(), clock.clone(), DisputePolicy::default());
    let credentials = CredentialService::new(Arc::new(MockCredentialStore::new()), clock.clone());
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

/// Status, content type and body of `GET path`.
async fn get(path: &str) -> (StatusCode, String, Vec<u8>) {
    let request = Request::get(path).body(Body::empty()).unwrap();
    let response = app().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, content_type, bytes.to_vec())
}

#[tokio::test]
async fn the_document_is_served_as_json_without_credentials() {
    let (status, content_type, body) = get("/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let served: Value = serde_json::from_slice(&body).expect("JSON");
    let generated: Value = serde_json::from_str(&openapi_json()).expect("JSON");
    assert_eq!(served, generated);
    assert!(served["paths"]["/v1/disputes"]["post"].is_object());
}

#[tokio::test]
async fn the_documentation_page_and_its_assets_come_from_the_binary() {
    let (status, content_type, page) = get("/docs/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let page = String::from_utf8(page).expect("UTF-8");
    assert!(page.contains("swagger-ui"), "{page}");
    assert!(
        !page.contains("https://") && !page.contains("http://"),
        "the page loads nothing from elsewhere: {page}"
    );
    let (status, _, bundle) = get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(status, StatusCode::OK);
    assert!(bundle.len() > 100_000, "the whole bundle is embedded");
    let (status, _, initializer) = get("/docs/swagger-initializer.js").await;
    assert_eq!(status, StatusCode::OK);
    let initializer = String::from_utf8(initializer).expect("UTF-8");
    assert!(initializer.contains("/openapi.json"), "{initializer}");
}

#[test]
fn the_checked_in_document_is_what_the_code_generates() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../docs/openapi.json");
    let checked_in = std::fs::read_to_string(path).expect("docs/openapi.json exists");
    assert!(
        checked_in == openapi_json(),
        "docs/openapi.json is out of date: run `cargo xtask openapi` and commit it"
    );
}
