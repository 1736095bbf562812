//! The HTTP driving adapter. One module per wire contract, each a thin translation between its
//! seed's JSON and the use-case services of `disputes-ports`; [`shared`] holds what every contract
//! needs (the error classification, body and decimal parsing, time formatting).

mod delivery;
mod shared;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use disputes_ports::{CredentialService, DisputeRepository, DisputeService};

pub use shared::Problem;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub disputes: DisputeService,
    pub credentials: CredentialService,
    /// Asked by `/readyz` whether the store answers.
    pub store: Arc<dyn DisputeRepository>,
}

/// The whole HTTP surface: every contract, health checks, and a fallback that answers unknown
/// routes and methods in the shape of the contract whose path they fall under.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(delivery::routes())
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "store unreachable").into_response()
        }
    }
}

async fn unknown_route(request: Request) -> Response {
    let problem = Problem::new(
        StatusCode::NOT_FOUND,
        "route_not_found",
        format!("no route for {} {}", request.method(), request.uri().path()),
    );
    render_for_path(request.uri().path(), problem)
}

async fn method_not_allowed(request: Request) -> Response {
    let problem = Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!(
            "{} is not allowed on {}",
            request.method(),
            request.uri().path()
        ),
    );
    render_for_path(request.uri().path(), problem)
}

/// Each contract answers in its own error shape under its own base path; anything else gets the
/// delivery envelope.
fn render_for_path(_path: &str, problem: Problem) -> Response {
    delivery::render_problem(problem)
}
