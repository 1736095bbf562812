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
//! Without the header nothing changes. The layer runs inside the contract's authentication
//! layer, so the caller it scopes the key to is the one the handler sees; it hands the
//! [`Reservation`] on in the request's extensions, and the handler passes it to the use case,
//! whose write records its effect on the key.

use std::future::Future;

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::OriginalUri;
use axum::extract::{Request, State};
use axum::http::header::{ACCEPT, CONTENT_TYPE, ETAG, IF_MATCH, LOCATION};
use axum::http::request::Parts;
use axum::http::response::Parts as AnswerParts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::MethodRouter;
use disputes_domain::DisputeId;
use disputes_ports::idempotency::{Fingerprint, KeyState, KeyedRequest, Reservation, StoredAnswer};
use disputes_ports::{IdempotencyKey, Principal};

use crate::shared::{authenticated, codes, Authenticates, ErrorShape, Problem};
use crate::SharedState;

/// The request header.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Set on an answer that repeats a stored one.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// The bodies a keyed request may have: the 1 MiB of both contracts (SPEC §6).
const BODY_LIMIT: usize = 1024 * 1024;
/// The answers kept for replays are single disputes or references; this only guards the memory.
const ANSWER_LIMIT: usize = 4 * 1024 * 1024;
/// The headers of an answer that a replay repeats.
const REPLAYED_HEADERS: [HeaderName; 3] = [CONTENT_TYPE, ETAG, LOCATION];

/// What a contract tells the guard.
pub trait KeyedContract: ErrorShape {
    /// What a keyed route answers, which the guard is told when it is layered on the route.
    type Operation: Copy + Send + Sync + 'static;

    /// The answer to `operation`, whose change to dispute `id` committed but whose answer was
    /// never stored, from the dispute as it is now.
    fn effected(
        state: &SharedState,
        headers: &HeaderMap,
        operation: Self::Operation,
        by: &Principal,
        id: DisputeId,
    ) -> impl Future<Output = Response> + Send;

    /// The answer to a registration of webhook `id` that committed but whose answer was never
    /// stored. Only a contract with a keyed registration has one; for any other a key that names
    /// a webhook is a fault of ours.
    fn subscribed(
        state: &SharedState,
        headers: &HeaderMap,
        by: &Principal,
        id: i64,
    ) -> impl Future<Output = Response> + Send {
        let _ = (state, by, id);
        let problem = Problem::internal(&"an idempotency key of this contract names a webhook");
        std::future::ready(Self::render(headers, problem))
    }
}

/// `route` behind contract `C`'s authentication layer, with its POSTs guarded by their
/// `Idempotency-Key` as `operation`s of `C`.
pub fn keyed<C: KeyedContract + Authenticates>(
    state: &SharedState,
    operation: C::Operation,
    route: MethodRouter<SharedState>,
) -> MethodRouter<SharedState> {
    let guarded = route.route_layer(middleware::from_fn_with_state(
        (state.clone(), operation),
        guard::<C>,
    ));
    authenticated::<C>(state, guarded)
}

/// The state of the guard on one route: the application, and what the route answers.
pub type Guarded<C> = (SharedState, <C as KeyedContract>::Operation);

/// Runs a keyed POST of contract `C` at most once per key. Layered on each POST route of the
/// contract, inside its authentication layer.
pub async fn guard<C: KeyedContract>(
    State((state, operation)): State<Guarded<C>>,
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
        Err(why) => return C::render(request.headers(), Problem::field("Idempotency-Key", why)),
    };
    let (mut parts, body) = request.into_parts();
    let Some(principal) = parts.extensions.get::<Principal>().cloned() else {
        return C::render(
            &parts.headers,
            Problem::internal(&"the idempotency layer ran outside the authentication layer"),
        );
    };
    // Over the limit, or cut off by the client: either way there is no request to run.
    let Ok(bytes) = to_bytes(body, BODY_LIMIT).await else {
        return C::render(
            &parts.headers,
            Problem::new(
                codes::PAYLOAD_TOO_LARGE,
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
    let state_of_key = match state.idempotency.reserve(&keyed).await {
        Ok(found) => found,
        Err(e) => return C::render(&parts.headers, e.into()),
    };
    match state_of_key {
        KeyState::Reserved(reservation) => {
            let headers = parts.headers.clone();
            parts.extensions.insert(reservation.clone());
            let request = Request::from_parts(parts, Body::from(bytes));
            let response = next.run(request).await;
            keep_or_release::<C>(&state, &headers, &reservation, response).await
        }
        KeyState::Answered(stored) => replay::<C>(&parts.headers, stored),
        KeyState::Mismatch => C::render(
            &parts.headers,
            Problem::new(codes::IDEMPOTENCY_KEY_REUSED, "this Idempotency-Key was used with a different request; use a new key for a new request",
            ),
        ),
        KeyState::InFlight => C::render(&parts.headers, Problem::key_in_flight()),
        KeyState::Effected { dispute, .. } => replayed(
            C::effected(&state, &parts.headers, operation, &principal, dispute).await,
        ),
        KeyState::Subscribed { webhook } => {
            replayed(C::subscribed(&state, &parts.headers, &principal, webhook).await)
        }
    }
}

/// `response`, marked as the replay of an earlier request's effect.
fn replayed(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    response
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
    // The whole path: a contract's router sees it without the contract's base path.
    let uri = parts
        .extensions
        .get::<OriginalUri>()
        .map_or(&parts.uri, |original| &original.0);
    let target = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
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
async fn keep_or_release<C: KeyedContract>(
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
            return C::render(request_headers, Problem::internal(&e));
        }
    };
    if let Err(e) = state
        .idempotency
        .complete(reservation, &encode(&parts, &bytes))
        .await
    {
        // The change (if any) is recorded with it already: a replay answers from the dispute.
        tracing::warn!(error = %e, "could not store the answer of an idempotent request");
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// An answer as it is kept for replays: the status, one line per repeated header, an empty
/// line, and the body, the way HTTP/1.1 writes a message. A header value never holds a line
/// break, so the first empty line ends the head.
fn encode(parts: &AnswerParts, body: &Bytes) -> StoredAnswer {
    let mut bytes = format!("{}\n", parts.status.as_u16()).into_bytes();
    for name in REPLAYED_HEADERS {
        if let Some(value) = parts.headers.get(&name) {
            bytes.extend_from_slice(name.as_str().as_bytes());
            bytes.extend_from_slice(b": ");
            bytes.extend_from_slice(value.as_bytes());
            bytes.push(b'\n');
        }
    }
    bytes.push(b'\n');
    bytes.extend_from_slice(body);
    StoredAnswer::new(bytes)
}

/// The answer [`encode`] kept, or `None` when the stored bytes are not one.
fn decode(stored: StoredAnswer) -> Option<Response> {
    let bytes = stored.into_bytes();
    let end = bytes.windows(2).position(|w| w == b"\n\n")?;
    let head = std::str::from_utf8(&bytes[..end]).ok()?;
    let mut lines = head.split('\n');
    let status = StatusCode::from_u16(lines.next()?.parse().ok()?).ok()?;
    let mut response = Response::new(Body::from(bytes[end + 2..].to_vec()));
    *response.status_mut() = status;
    for line in lines {
        let (name, value) = line.split_once(": ")?;
        response.headers_mut().insert(
            HeaderName::from_bytes(name.as_bytes()).ok()?,
            HeaderValue::from_str(value).ok()?,
        );
    }
    Some(response)
}

/// A stored answer, again.
fn replay<C: ErrorShape>(request_headers: &HeaderMap, stored: StoredAnswer) -> Response {
    let Some(mut response) = decode(stored) else {
        return C::render(
            request_headers,
            Problem::internal(&"a stored idempotent answer could not be read"),
        );
    };
    response
        .headers_mut()
        .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn futures_body(response: Response) -> Bytes {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        runtime
            .block_on(to_bytes(response.into_body(), usize::MAX))
            .expect("the body")
    }

    #[test]
    fn an_answer_is_kept_and_replayed_with_its_status_headers_and_body() {
        let mut answer = Response::new(Body::empty());
        *answer.status_mut() = StatusCode::CREATED;
        let headers = answer.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(ETAG, HeaderValue::from_static("\"1\""));
        headers.insert("x-other", HeaderValue::from_static("not repeated"));
        let (parts, _) = answer.into_parts();
        let body = Bytes::from_static(b"{\"ok\":true}\n\nmore");
        let replayed = decode(encode(&parts, &body)).expect("a stored answer");
        assert_eq!(replayed.status(), StatusCode::CREATED);
        assert_eq!(replayed.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(replayed.headers()[ETAG], "\"1\"");
        assert!(replayed.headers().get(LOCATION).is_none());
        assert!(replayed.headers().get("x-other").is_none());
        let replayed_body = futures_body(replayed);
        assert_eq!(replayed_body, body);

        let bare = decode(StoredAnswer::new(b"204\n\n".to_vec())).expect("no headers");
        assert_eq!(bare.status(), StatusCode::NO_CONTENT);
        for broken in [&b"201"[..], b"2x1\n\n", b"201\nno-colon\n\n", b""] {
            assert!(decode(StoredAnswer::new(broken.to_vec())).is_none());
        }
    }
}
