//! The HTTP driving adapter. One module per wire contract, each a thin translation between its
//! seed's JSON and the use-case services of `disputes-ports`; [`shared`] holds what every contract
//! needs (the error classification, body and decimal parsing, time formatting).

mod billing;
mod delivery;
mod invoice;
mod openapi;
mod ops;
mod shared;

use std::sync::Arc;

use axum::extract::{OriginalUri, Request, State};
use axum::http::header::ACCEPT;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use disputes_ports::{
    BillingService, CredentialService, DisputeService, IdempotencyService, InvoiceDesk,
    SigningService, WebhookService,
};

pub use openapi::{document_json as openapi_json, document_value as openapi_document};
pub use ops::Operations;
pub use shared::export::canonical as canonical_json;
pub use shared::Problem;
use shared::{codes, ErrorShape};

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub disputes: DisputeService,
    pub credentials: CredentialService,
    /// The billing desk's use cases: disputes plus each tenant's reason table.
    pub billing: BillingService,
    /// The invoice desk's use cases: disputes with their message threads and files, and what
    /// the invoice contract shows beside them (owner, mail sent, Freshdesk ticket).
    pub invoices: InvoiceDesk,
    /// Where `Idempotency-Key`s are reserved and answers kept for replays.
    pub idempotency: IdempotencyService,
    /// Webhook registrations (the delivery contract's `POST /v1/webhooks`).
    pub webhooks: WebhookService,
    /// The published signing keys (`GET /v1/runtime-keys`) and signed exports.
    pub signing: SigningService,
    /// Where clients reach this server (`https://billing.example.com`, no trailing slash):
    /// every absolute URL the engine writes starts with it. `None` writes references relative
    /// to the server. Never taken from a request's `Host`, which a client chooses.
    pub public_url: Option<PublicUrl>,
}

/// An absolute `http://` or `https://` base URL without user, query or fragment, its trailing
/// `/` dropped: what [`AppState::public_url`] holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(String);

impl PublicUrl {
    /// # Errors
    /// What is wrong with `text`, for the operator who configured it.
    pub fn new(text: &str) -> Result<Self, String> {
        let rest = text
            .strip_prefix("https://")
            .or_else(|| text.strip_prefix("http://"))
            .ok_or_else(|| format!("{text:?} is not an http:// or https:// URL"))?;
        let host = rest.split('/').next().unwrap_or_default();
        if host.is_empty()
            || rest
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '?' | '#' | '@'))
        {
            return Err(format!(
                "{text:?} must name a host, without user, query, fragment or spaces"
            ));
        }
        Ok(PublicUrl(text.trim_end_matches('/').to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The router's state: [`AppState`] behind one `Arc`. axum clones the state into every layer
/// and handler of a route for each request, and a clone of the services themselves cost about
/// 1,000 instructions (two dozen of them per request in the profile, docs/benchmarks.md).
pub(crate) type SharedState = Arc<AppState>;

/// The whole HTTP surface: each contract's router under its base path (with its own
/// authentication, idempotency guard and fallbacks), health checks, the OpenAPI document, and a
/// fallback that answers anything else in the delivery envelope.
pub fn router(state: AppState) -> Router {
    let state: SharedState = Arc::new(state);
    Router::new()
        .nest(delivery::BASE_PATH, delivery::router(&state))
        .nest(billing::BASE_PATH, billing::router(&state))
        .nest(invoice::BASE_PATH, invoice::router())
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        // The OpenAPI document of every contract and its documentation page.
        .merge(openapi::routes())
        .fallback(unknown_route::<delivery::Delivery>)
        .method_not_allowed_fallback(method_not_allowed::<delivery::Delivery>)
        .layer(middleware::from_fn(run_to_completion))
        .with_state(state)
}

/// [`router`] with what running it in production takes (SPEC §6): `/metrics`, a request id on
/// every answer and log line, the per-caller rate limit and the request timeout.
pub fn router_with_operations(state: AppState, operations: Operations) -> Router {
    ops::wrap(router(state), operations)
}

/// Runs each request on a task of its own, to completion. Hyper drops a request's future when
/// the client goes away, and a future dropped halfway through a database transaction can hand its
/// connection back to the pool still inside that transaction (seen under load on PostgreSQL: the
/// next request on that connection met "there is already a transaction in progress", or a
/// read-only transaction). A request that was accepted finishes, whether or not anyone listens.
async fn run_to_completion(request: Request, next: Next) -> Response {
    // Enough of the request to answer in its contract's shape should the handler panic.
    let uri = request.uri().clone();
    let accept = request.headers().get(ACCEPT).cloned();
    // The task carries the request's span along, so its log lines name the request id.
    match tokio::spawn(tracing::Instrument::in_current_span(next.run(request))).await {
        Ok(response) => response,
        Err(failure) => {
            let mut echo = Request::new(axum::body::Body::empty());
            *echo.uri_mut() = uri;
            if let Some(accept) = accept {
                echo.headers_mut().insert(ACCEPT, accept);
            }
            render_for_path(&echo, Problem::internal(&failure))
        }
    }
}

async fn readyz(State(state): State<SharedState>) -> Response {
    match state.disputes.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "store unreachable").into_response()
        }
    }
}

/// The whole path of `request`: a contract's router sees it without the contract's base path.
fn full_path(request: &Request) -> &str {
    request
        .extensions()
        .get::<OriginalUri>()
        .map_or(request.uri().path(), |original| original.0.path())
}

/// A route contract `C` does not have, answered in `C`'s shape.
async fn unknown_route<C: ErrorShape>(request: Request) -> Response {
    let problem = Problem::new(
        codes::ROUTE_NOT_FOUND,
        format!("no route for {} {}", request.method(), full_path(&request)),
    );
    C::render(request.headers(), problem)
}

/// A method a route of contract `C` does not serve, answered in `C`'s shape.
async fn method_not_allowed<C: ErrorShape>(request: Request) -> Response {
    let problem = Problem::new(
        codes::METHOD_NOT_ALLOWED,
        format!(
            "{} is not allowed on {}",
            request.method(),
            full_path(&request)
        ),
    );
    C::render(request.headers(), problem)
}

/// The error shape for the layers that run before the request reaches its contract's router
/// (the timeout, a panic): the contract whose base path the request falls under, the delivery
/// envelope elsewhere. The routers themselves need no such table.
fn render_for_path(request: &Request, problem: Problem) -> Response {
    let path = request.uri().path();
    let under = |base: &str| {
        path.strip_prefix(base)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    if under(billing::BASE_PATH) {
        billing::Billing::render(request.headers(), problem)
    } else if under(invoice::BASE_PATH) {
        invoice::Invoice::render(request.headers(), problem)
    } else {
        delivery::Delivery::render(request.headers(), problem)
    }
}
