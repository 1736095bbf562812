//! Router tests without sockets: the store is a mock, so faults that a real store rarely shows on
//! demand (an outage, a driver error) can be checked in the contract's shape.

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::http::{Request, StatusCode};
use chrono::Utc;
use disputes_domain::{ActorId, Digest, DisputePolicy, Role, TenantId};
use disputes_http::{router, AppState};
use disputes_ports::{
    ApiKeyRecord, CredentialService, DisputeService, MockCredentialStore, MockDisputeRepository,
    StoreError, SystemClock,
};
use serde_json::Value;
use tower::ServiceExt as _;

const KEY: &str = "dk_0123456789abcdef_the-secret";

fn app(repo: MockDisputeRepository) -> axum::Router {
    app_for(repo, Role::Operator)
}

/// The router with `repo` behind it and one valid key, [`KEY`], of `role`.
fn app_for(repo: MockDisputeRepository, role: Role) -> axum::Router {
    let mut credentials = MockCredentialStore::new();
    credentials.expect_find_key().returning(move |key_id| {
        Ok(Some(ApiKeyRecord {
            key_id: key_id.to_owned(),
            tenant: TenantId::new("acme").unwrap(),
            role,
            actor: ActorId::new("dev").unwrap(),
            secret_hash: Digest::of(b"the-secret"),
            created_at: Utc::now(),
        }))
    });
    let repo = Arc::new(repo);
    let clock = Arc::new(SystemClock);
    router(AppState {
        disputes: DisputeService::new(repo.clone(), clock.clone(), DisputePolicy::default()),
        credentials: CredentialService::new(Arc::new(credentials), clock),
        store: repo,
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
