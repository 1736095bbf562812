//! The per-caller rate limit (SPEC §6): a token bucket per authenticated caller, kept in this
//! process's memory. Several instances behind a load balancer each keep their own buckets, so a
//! caller's real allowance is the limit times the instances it reaches.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{Extensions, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use crate::shared::{codes, Problem};

/// Every caller's bucket. A bucket holds up to one minute's allowance and refills continuously,
/// so a quiet caller may burst a minute's worth at once and then goes at the steady rate.
///
/// Kept as the generic cell rate algorithm: per caller only the time at which its bucket would
/// be full again (its "theoretical arrival time"), in exact integer time, no float drift.
#[derive(Debug)]
pub(super) struct RateLimiter {
    /// The steady rate: one request per this much time.
    interval: Duration,
    /// How far ahead of now a caller's arrival time may run: the burst beyond the first request.
    burst: Duration,
    arrivals: Mutex<Arrivals>,
}

/// Callers' arrival times. A time in the past means a full bucket, the same as no entry, so
/// such entries are dropped whenever the map has doubled since the last sweep: memory follows
/// the callers active in the last minute, not every caller ever seen.
#[derive(Debug, Default)]
struct Arrivals {
    by_caller: HashMap<String, Instant>,
    sweep_at: usize,
}

impl RateLimiter {
    /// A limiter of `per_minute` requests a minute per caller; `None` for 0, no limit.
    pub(super) fn new(per_minute: u32) -> Option<RateLimiter> {
        (per_minute > 0).then(|| {
            let interval = Duration::from_secs(60) / per_minute;
            RateLimiter {
                interval,
                burst: interval * (per_minute - 1),
                arrivals: Mutex::new(Arrivals::default()),
            }
        })
    }

    /// Takes one request from `caller`'s bucket at `now`, or says how long until there is one.
    fn take(&self, caller: &str, now: Instant) -> Result<(), Duration> {
        // A poisoned lock only means another request panicked while holding it; the times
        // inside are still right.
        let mut arrivals = self
            .arrivals
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let arrival = arrivals
            .by_caller
            .get(caller)
            .copied()
            .unwrap_or(now)
            .max(now);
        let ahead = arrival.duration_since(now);
        if ahead > self.burst {
            return Err(ahead - self.burst);
        }
        arrivals
            .by_caller
            .insert(caller.to_owned(), arrival + self.interval);
        if arrivals.by_caller.len() > arrivals.sweep_at {
            arrivals.by_caller.retain(|_, arrival| *arrival > now);
            arrivals.sweep_at = (arrivals.by_caller.len() * 2).max(1024);
        }
        Ok(())
    }
}

/// What a contract asks, right after it has authenticated the caller, whether the caller may go
/// on. It remembers a refusal, so the [`gate`] layer can answer with `Retry-After`.
#[derive(Debug, Clone, Default)]
pub(crate) struct RateGate {
    limiter: Option<Arc<RateLimiter>>,
    /// Seconds the refused caller should wait.
    refused_for: Arc<OnceLock<u64>>,
}

impl RateGate {
    /// The gate of the request whose extensions these are; an open gate when the router runs
    /// without the operational layers (as in tests of the contracts alone).
    pub(crate) fn of(extensions: &Extensions) -> RateGate {
        extensions.get::<RateGate>().cloned().unwrap_or_default()
    }

    /// Lets `caller` (a key id, or a tenant's login) through, or refuses with a 429 that each
    /// contract renders in its own shape.
    pub(crate) fn admit(&self, caller: &str) -> Result<(), Problem> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        let wait = match limiter.take(caller, Instant::now()) {
            Ok(()) => return Ok(()),
            Err(wait) => wait,
        };
        // Whole seconds, rounded up: a client that waits that long finds a token.
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let _ = self.refused_for.set(seconds.max(1));
        Err(Problem::new(
            codes::RATE_LIMITED,
            "too many requests with these credentials; retry after the seconds in Retry-After",
        ))
    }
}

/// Hands each request a [`RateGate`] and puts `Retry-After` on the answer when the gate refused.
pub(super) async fn gate(
    State(limiter): State<Option<Arc<RateLimiter>>>,
    mut request: Request,
    next: Next,
) -> Response {
    let gate = RateGate {
        limiter,
        refused_for: Arc::default(),
    };
    request.extensions_mut().insert(gate.clone());
    let mut response = next.run(request).await;
    if let Some(seconds) = gate.refused_for.get() {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(*seconds));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_may_burst_a_minutes_worth_then_waits_for_the_refill() {
        let limiter = RateLimiter::new(3).unwrap();
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.take("key a", start), Ok(()));
        }
        let wait = limiter.take("key a", start).unwrap_err();
        assert_eq!(wait, Duration::from_secs(20), "3 a minute: one every 20 s");
        // Another caller has a bucket of its own.
        assert_eq!(limiter.take("key b", start), Ok(()));
        // Half the refill time later half a token is back, not enough.
        let later = start + Duration::from_secs(10);
        assert_eq!(limiter.take("key a", later), Err(Duration::from_secs(10)));
        assert_eq!(
            limiter.take("key a", start + Duration::from_secs(20)),
            Ok(())
        );
    }

    #[test]
    fn a_bucket_never_holds_more_than_a_minutes_worth() {
        let limiter = RateLimiter::new(2).unwrap();
        let start = Instant::now();
        assert_eq!(limiter.take("k", start), Ok(()));
        let much_later = start + Duration::from_secs(3600);
        assert_eq!(limiter.take("k", much_later), Ok(()));
        assert_eq!(limiter.take("k", much_later), Ok(()));
        assert!(limiter.take("k", much_later).is_err());
    }

    #[test]
    fn callers_whose_buckets_are_full_again_are_forgotten() {
        let limiter = RateLimiter::new(60).unwrap();
        let start = Instant::now();
        for n in 0..5000 {
            assert_eq!(limiter.take(&format!("caller {n}"), start), Ok(()));
        }
        // A second later every one of those buckets is full again: sweeping them loses nothing.
        let later = start + Duration::from_secs(1);
        for n in 0..5000 {
            assert_eq!(limiter.take(&format!("newcomer {n}"), later), Ok(()));
        }
        let remembered = limiter.arrivals.lock().unwrap().by_caller.len();
        assert!(remembered <= 5000, "{remembered} callers remembered");
        assert!(limiter.take("newcomer 1", later).is_ok(), "burst left");
    }

    #[test]
    fn zero_is_no_limit_and_the_refusal_is_remembered_in_whole_seconds() {
        assert!(RateLimiter::new(0).is_none());
        assert_eq!(RateGate::default().admit("anyone"), Ok(()));
        let gate = RateGate {
            limiter: RateLimiter::new(1).map(Arc::new),
            refused_for: Arc::default(),
        };
        assert_eq!(gate.admit("k"), Ok(()));
        let refusal = gate.admit("k").unwrap_err();
        assert_eq!(refusal.status(), axum::http::StatusCode::TOO_MANY_REQUESTS);
        let seconds = *gate.refused_for.get().unwrap();
        assert!((59..=60).contains(&seconds), "{seconds}");
    }
}
