//! What every contract gets around it for running in production (SPEC §6): a request id on every
//! answer and log line, Prometheus metrics at `/metrics`, a per-caller rate limit and a request
//! timeout. The layers sit outside the contracts; the contracts only ask the [`RateGate`] right
//! after they know who is calling.

mod metrics;
mod rate_limit;
mod request_id;
mod timeout;

use std::sync::Arc;
use std::time::Duration;

use axum::middleware;
use axum::routing::get;
use axum::Router;
use disputes_ports::{OperationsStats, Principal};

pub(crate) use rate_limit::RateGate;

/// How the operational layers behave; [`Operations::default`] is what `disputes serve` uses
/// unless told otherwise.
#[derive(Debug, Clone)]
pub struct Operations {
    /// Requests a minute each authenticated caller may make, with a burst of as many at once
    /// (a token bucket that holds one minute's worth). `0` turns the limit off. Counted in
    /// memory, per server instance.
    pub rate_limit_per_minute: u32,
    /// How long a client waits for an answer before it gets a 503. The request itself is not
    /// cancelled: it runs to completion, so it may still take effect.
    pub request_timeout: Duration,
    /// The store's counts (disputes by status, outbox depth) for `/metrics`; without it those
    /// series are left out.
    pub stats: Option<Arc<dyn OperationsStats>>,
}

impl Operations {
    /// The default rate limit: generous for a person or a batch job, a brake on a runaway loop.
    pub const DEFAULT_RATE_LIMIT_PER_MINUTE: u32 = 600;
    /// The default request timeout.
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
}

impl Default for Operations {
    fn default() -> Self {
        Operations {
            rate_limit_per_minute: Operations::DEFAULT_RATE_LIMIT_PER_MINUTE,
            request_timeout: Operations::DEFAULT_REQUEST_TIMEOUT,
            stats: None,
        }
    }
}

/// `router` with `/metrics` and the operational layers. From the outside in: the request id
/// (so every answer carries it, whoever produced it), metrics (so they count every answer,
/// 429s and timeouts included), the rate gate, the timeout.
pub(crate) fn wrap(router: Router, operations: Operations) -> Router {
    let metrics = Arc::new(metrics::Metrics::new(operations.stats.clone()));
    let limiter = rate_limit::RateLimiter::new(operations.rate_limit_per_minute).map(Arc::new);
    router
        .route("/metrics", get(metrics::serve).with_state(metrics.clone()))
        .layer(middleware::from_fn_with_state(
            operations.request_timeout,
            timeout::answer_in_time,
        ))
        .layer(middleware::from_fn_with_state(limiter, rate_limit::gate))
        .layer(middleware::from_fn_with_state(metrics, metrics::record))
        .layer(middleware::from_fn(request_id::tag))
}

/// The rate limit's bucket for a caller who authenticated with a login (billing, invoice): one
/// per tenant, role and username.
pub(crate) fn login_caller(principal: &Principal) -> String {
    format!(
        "login {}/{}/{}",
        principal.tenant, principal.actor.role, principal.actor.id
    )
}
