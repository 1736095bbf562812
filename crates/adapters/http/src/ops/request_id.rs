//! The request id: taken from the client's `X-Request-Id` when it is sane, made up otherwise,
//! sent back on every answer, and carried by every log line of the request (a `request` span).

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use rand::RngCore as _;
use tracing::Instrument as _;

/// The header a request id comes in and goes out in.
pub(crate) static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest request id taken from a client; a longer one is replaced, not cut.
const MAX_LEN: usize = 128;

/// Tags the request with its id, runs it inside a span that names the id, and returns the id on
/// the answer.
pub(super) async fn tag(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| is_sane(id))
        .map_or_else(fresh_id, str::to_owned);
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
    );
    let mut response = next.run(request).instrument(span.clone()).await;
    span.in_scope(|| {
        tracing::debug!(status = response.status().as_u16(), "answered");
    });
    // Checked by `is_sane` or made of hex digits, so always a valid header value.
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(X_REQUEST_ID.clone(), value);
    }
    response
}

/// One to 128 visible ASCII characters: safe to log and to echo as a header.
fn is_sane(id: &str) -> bool {
    (1..=MAX_LEN).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic())
}

/// 128 random bits in hex.
fn fresh_id() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    // One allocation: every request gets an id, so a string per byte showed in the profile.
    format!("{:032x}", u128::from_be_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_visible_ascii_ids_are_taken_from_clients() {
        assert!(is_sane("req-42"));
        assert!(is_sane(&"a".repeat(128)));
        assert!(!is_sane(&"a".repeat(129)));
        assert!(!is_sane(""));
        assert!(!is_sane("with space"));
        assert!(!is_sane("tab\there"));
        assert!(!is_sane("café"));
    }

    #[test]
    fn fresh_ids_are_32_hex_digits_and_differ() {
        let (a, b) = (fresh_id(), fresh_id());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
