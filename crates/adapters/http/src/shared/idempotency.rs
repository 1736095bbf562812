//! `Idempotency-Key` on the POSTs of the delivery and billing contracts (SPEC §6), as one
//! middleware ([`guard`]); the port's [`idempotency`](disputes_ports::idempotency) module describes
//! the key's life.
//!
//! - Same key, same request: the first answer again (status, `Content-Type`, `ETag`, `Location`,
//!   body), marked `Idempotent-Replayed: true`.
//! - Same key, another request: 422 `idempotency_key_reused`.
//! - Same key while the first request runs: 409 `idempotency_key_in_flight`.
//! - The first request's change committed but its answer was lost (the process stopped between
//!   the two): the answer is rendered from the dispute as it is now; it is never changed again.
//! - A request that failed on our side (5xx), or was throttled (429) or timed out (408), frees its
//!   key, so that a retry runs; every other answer, errors included, is kept for replays.
//!
//! Without the header nothing changes. A request that does not authenticate passes through
//! untouched: the handler refuses it, and there is no one to scope a key to.

use std::future::Future;

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{ACCEPT, CONTENT_TYPE, ETAG, IF_MATCH, LOCATION, RETRY_AFTER};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use disputes_domain::DisputeId;
use disputes_ports::idempotency::{
    within, Claim, Fingerprint, KeyedRequest, Reservation, StoredResponse,
};
use disputes_ports::{IdempotencyKey, Principal, ServiceError};

use crate::shared::Problem;
use crate::SharedState;

/// The request header.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Set on an answer that repeats a stored one.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// The bodies a keyed request may have: the 1 MiB of both contracts (SPEC §6).
const BODY_LIMIT: usize = 1024 * 1024;
/// The answers kept for replays are single disputes or references; this only guards the memory.
const ANSWER_LIMIT: usize = 4 * 1024 * 1024;

/// What a contract tells the guard.
pub trait KeyedContract {
    /// The caller, or `None` when the request does not authenticate or may not use the contract
    /// (the handler answers it then).
    fn principal(
        parts: &mut Parts,
        state: &SharedState,
    ) -> impl Future<Output = Option<Principal>> + Send;

    /// `problem` in the contract's error shape.
    fn problem(headers: &HeaderMap, problem: Problem) -> Response;

    /// The answer to the request at `path`, whose change to dispute `id` committed but whose
    /// answer was never stored, from the dispute as it is now.
    fn effected(
        state: &SharedState,
        headers: &HeaderMap,
        path: &str,
        by: &Principal,
        id: DisputeId,
    ) -> impl Future<Output = Response> + Send;
}

/// The middleware of every route: keyed POSTs of the delivery and billing contracts go through
/// [`guard`]; everything else passes.
pub async fn keyed_posts(
    State(state): State<SharedState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if path.starts_with(crate::billing::BASE_PATH) {
        guard::<crate::billing::keyed::Billing>(state, request, next).await
    } else if path.starts_with(crate::delivery::keyed::BASE_PATH) {
        guard::<crate::delivery::Delivery>(state, request, next).await
    } else {
        next.run(request).await
    }
}

/// Runs a keyed POST of contract `C` at most once per key.
pub async fn guard<C: KeyedContract>(
    state: crate::SharedState,
    request: Request,
    next: Next,
) -> Response {
    let header = match request.headers().get(IDEMPOTENCY_KEY) {
        Some(header) if request.method() == Method::POST => header,
        _ => return next.run(request).await,
    };
    let key = match header
        .to_str()
        .map_err(|_| "must be visible ASCII characters")
        .and_then(IdempotencyKey::new)
    {
        Ok(key) => key,
        Err(why) => return C::problem(request.headers(), Problem::field("Idempotency-Key", why)),
    };
    let (mut parts, body) = request.into_parts();
    let Some(principal) = C::principal(&mut parts, &state).await else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    // Over the limit, or cut off by the client: either way there is no request to run.
    let Ok(bytes) = to_bytes(body, BODY_LIMIT).await else {
        return C::problem(
            &parts.headers,
            Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the body is larger than this contract accepts",
            ),
        );
    };
    let keyed = KeyedRequest {
        principal: format!("{}:{}", principal.actor.role, principal.actor.id),
        tenant: principal.tenant.clone(),
        key,
        fingerprint: fingerprint(&parts, &bytes),
    };
    let claim = match state.idempotency.reserve(&keyed, chrono::Utc::now()).await {
        Ok(claim) => claim,
        Err(e) => return C::problem(&parts.headers, ServiceError::from(e).into()),
    };
    match claim {
        Claim::Reserved(reservation) => {
            let headers = parts.headers.clone();
            let request = Request::from_parts(parts, Body::from(bytes));
            let response = within(reservation.clone(), next.run(request)).await;
            settle::<C>(&state, &headers, &reservation, response).await
        }
        Claim::Replay(stored) => replay(stored),
        Claim::Mismatch => C::problem(
            &parts.headers,
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this Idempotency-Key was used with a different request; use a new key for a new request",
            ),
        ),
        Claim::InFlight => {
            let mut response = C::problem(
                &parts.headers,
                Problem::new(
                    StatusCode::CONFLICT,
                    "idempotency_key_in_flight",
                    "a request with this Idempotency-Key is still being processed; retry shortly",
                ),
            );
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        Claim::Effected { dispute, .. } => {
            let mut response =
                C::effected(&state, &parts.headers, parts.uri.path(), &principal, dispute).await;
            response
                .headers_mut()
                .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
            response
        }
    }
}

/// What makes two requests the same: method, path and query, the headers that change what the
/// request means (`Content-Type`, `If-Match`) or how it is answered (`Accept`), and the body.
fn fingerprint(parts: &Parts, body: &Bytes) -> Fingerprint {
    let header = |name| {
        parts
            .headers
            .get(name)
            .map_or(&[][..], HeaderValue::as_bytes)
    };
    let target = parts
        .uri
        .path_and_query()
        .map_or(parts.uri.path(), |p| p.as_str());
    Fingerprint::of([
        parts.method.as_str().as_bytes(),
        target.as_bytes(),
        header(CONTENT_TYPE),
        header(ACCEPT),
        header(IF_MATCH),
        body.as_ref(),
    ])
}

/// Keeps the answer of a reserved request for replays, or frees the key when the answer says to
/// try again.
async fn settle<C: KeyedContract>(
    state: &SharedState,
    request_headers: &HeaderMap,
    reservation: &Reservation,
    response: Response,
) -> Response {
    let status = response.status();
    if status.is_server_error()
        || status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
    {
        // A key whose change committed is kept by the store, and answered from the dispute.
        if let Err(e) = state.idempotency.release(reservation).await {
            tracing::warn!(error = %e, "could not free an idempotency key; it frees itself when its lease ends");
        }
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = match to_bytes(body, ANSWER_LIMIT).await {
        Ok(bytes) => bytes,
        Err(e) => {
            if let Err(e) = state.idempotency.release(reservation).await {
                tracing::warn!(error = %e, "could not free an idempotency key");
            }
            return C::problem(request_headers, Problem::internal(&e));
        }
    };
    let text = |name| {
        parts
            .headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    let stored = StoredResponse {
        status: parts.status.as_u16(),
        content_type: text(CONTENT_TYPE),
        etag: text(ETAG),
        location: text(LOCATION),
        body: bytes.to_vec(),
    };
    if let Err(e) = state.idempotency.complete(reservation, &stored).await {
        // The change (if any) is recorded with it already: a replay answers from the dispute.
        tracing::warn!(error = %e, "could not store the answer of an idempotent request");
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// A stored answer, again.
fn replay(stored: StoredResponse) -> Response {
    let mut response = Response::new(Body::from(stored.body));
    *response.status_mut() = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    for (name, value) in [
        (CONTENT_TYPE, stored.content_type),
        (ETAG, stored.etag),
        (LOCATION, stored.location),
    ] {
        if let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            headers.insert(name, value);
        }
    }
    headers.insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    response
}
