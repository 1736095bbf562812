use chrono::{DateTime, SubsecRound, Utc};

use crate::state::{Facts, StateText};
use crate::DomainError;

/// Every instant in the domain is UTC. Stores keep microseconds, so the domain keeps no more
/// (see [`Period::new`] and the clock port): a time read back must hash the same as when written.
pub type Timestamp = DateTime<Utc>;

/// `at` as `YYYY-MM-DDTHH:MM:SS.nnnnnnnnn` followed by one spare byte, every field of the UTC
/// instant written digit by digit with all nine fraction digits: for years 0 to 9999 without a
/// leap second, `None` otherwise. The stores and the contracts cut the fraction to what they
/// show, put their `Z` in the spare byte or over the fraction, and leave the rest to chrono's
/// formatter: a page of disputes writes a hundred times, and interpreting a format string for
/// each was a tenth of rendering one (docs/benchmarks.md).
pub fn utc_digits(at: Timestamp) -> Option<[u8; 30]> {
    use chrono::{Datelike, Timelike};
    // The fields of the UTC instant itself: through the `DateTime`, each would add the (zero)
    // offset again.
    let at = at.naive_utc();
    let year = u32::try_from(at.year()).ok().filter(|year| *year <= 9999)?;
    let nanos = at.nanosecond();
    if nanos >= 1_000_000_000 {
        return None;
    }
    let mut text = *b"0000-00-00T00:00:00.000000000 ";
    put_digits(&mut text[0..4], year);
    put_digits(&mut text[5..7], at.month());
    put_digits(&mut text[8..10], at.day());
    put_digits(&mut text[11..13], at.hour());
    put_digits(&mut text[14..16], at.minute());
    put_digits(&mut text[17..19], at.second());
    put_digits(&mut text[20..29], nanos);
    Some(text)
}

/// `value`'s last `digits.len()` decimal digits, zero-padded, into `digits`.
fn put_digits(digits: &mut [u8], mut value: u32) {
    for digit in digits.iter_mut().rev() {
        *digit = b'0' + u8::try_from(value % 10).unwrap_or(0);
        value /= 10;
    }
}

/// Truncates to whole microseconds, the precision every store keeps.
/// An instant as every canonical text of the domain writes it (the evidence of a hold, an
/// entry's hash, a dispute's state): `YYYY-MM-DDTHH:MM:SS.ffffffZ`, fixed width.
pub fn canonical_time(at: Timestamp) -> impl std::fmt::Display {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ")
}

pub(crate) fn to_micros(at: Timestamp) -> Timestamp {
    at.trunc_subsecs(6)
}

/// A half-open interval `[start, end)` with `start < end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    start: Timestamp,
    end: Timestamp,
}

impl Period {
    /// Checks `start < end` after truncating both to microseconds; `field` names the period in
    /// the error.
    pub fn new(field: &'static str, start: Timestamp, end: Timestamp) -> Result<Self, DomainError> {
        let (start, end) = (to_micros(start), to_micros(end));
        if start >= end {
            return Err(DomainError::InvertedPeriod { field });
        }
        Ok(Period { start, end })
    }

    pub fn start(&self) -> Timestamp {
        self.start
    }

    pub fn end(&self) -> Timestamp {
        self.end
    }

    /// Half-open intervals overlap when each starts before the other ends.
    pub fn overlaps(&self, other: &Period) -> bool {
        self.start < other.end && other.start < self.end
    }
}

impl Facts for Period {
    fn facts(&self, name: &str, out: &mut StateText) {
        let Period { start, end } = self;
        out.time(&format!("{name}.start"), *start);
        out.time(&format!("{name}.end"), *end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use proptest::prelude::*;

    fn at(secs: i64) -> Timestamp {
        Utc.timestamp_opt(secs, 0).unwrap()
    }

    #[test]
    fn empty_and_inverted_periods_are_refused() {
        assert!(Period::new("p", at(10), at(10)).is_err());
        assert_eq!(
            Period::new("p", at(11), at(10)),
            Err(DomainError::InvertedPeriod { field: "p" })
        );
    }

    #[test]
    fn touching_periods_do_not_overlap() {
        let a = Period::new("p", at(0), at(10)).unwrap();
        let b = Period::new("p", at(10), at(20)).unwrap();
        assert!(!a.overlaps(&b));
        assert!(a.overlaps(&Period::new("p", at(9), at(11)).unwrap()));
    }

    proptest! {
        #[test]
        fn a_period_exists_only_when_ordered(s in -1_000_000_000i64..1_000_000_000, d in -1_000_000i64..1_000_000) {
            let start = at(s);
            let end = start + Duration::seconds(d);
            match Period::new("p", start, end) {
                Ok(p) => { prop_assert!(d > 0); prop_assert!(p.start() < p.end()); }
                Err(_) => prop_assert!(d <= 0),
            }
        }

        #[test]
        fn overlap_is_symmetric(a in 0i64..100, la in 1i64..50, b in 0i64..100, lb in 1i64..50) {
            let p = Period::new("p", at(a), at(a + la)).unwrap();
            let q = Period::new("p", at(b), at(b + lb)).unwrap();
            prop_assert_eq!(p.overlaps(&q), q.overlaps(&p));
        }
    }
}
