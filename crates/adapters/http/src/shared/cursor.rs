//! Keyset cursors for list calls: opaque to clients, a dispute id to us.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use disputes_domain::DisputeId;

use super::Problem;

/// The cursor that continues a list after `id`: URL-safe, and opaque so that clients do not
/// build their own.
pub fn cursor_text(id: DisputeId) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1:{id}"))
}

/// The id a cursor from [`cursor_text`] continues after; a 400 about `cursor` for anything else.
pub fn parse_cursor(text: &str) -> Result<DisputeId, Problem> {
    URL_SAFE_NO_PAD
        .decode(text)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|s| s.strip_prefix("v1:").and_then(|id| id.parse().ok()))
        .ok_or_else(|| Problem::field("cursor", "is not a cursor this API handed out"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_strangers_are_refused() {
        let id = DisputeId::new(42).unwrap();
        assert_eq!(parse_cursor(&cursor_text(id)).unwrap(), id);
        for bad in ["", "42", "djE6MA", "!!", "djE6eA"] {
            assert!(parse_cursor(bad).is_err(), "{bad:?}");
        }
    }
}
