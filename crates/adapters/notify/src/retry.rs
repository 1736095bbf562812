use std::time::SystemTime;

use chrono::Duration;
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// How long a `Retry-After` header asks a client to wait: delay-seconds or an HTTP date
/// (RFC 9110 §10.2.3), measured from `now`. `None` when absent or unreadable.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u32>() {
        return Some(Duration::seconds(i64::from(seconds)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let wait = at.duration_since(now).unwrap_or_default();
    Duration::from_std(wait).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn with(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn seconds_and_http_dates_are_read() {
        let now = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_445_412_480);
        assert_eq!(retry_after(&with("2"), now), Some(Duration::seconds(2)));
        assert_eq!(
            retry_after(&with("Wed, 21 Oct 2015 07:28:30 GMT"), now),
            Some(Duration::seconds(30))
        );
        assert_eq!(
            retry_after(&with("Wed, 21 Oct 2015 07:27:00 GMT"), now),
            Some(Duration::zero()),
            "a date in the past means now"
        );
        assert_eq!(retry_after(&with("soon"), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }
}
