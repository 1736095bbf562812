use chrono::{DateTime, SubsecRound, Utc};

use crate::DomainError;

/// Every instant in the domain is UTC. Stores keep microseconds, so the domain keeps no more
/// (see [`Period::new`] and the clock port): a time read back must hash the same as when written.
pub type Timestamp = DateTime<Utc>;

/// Truncates to whole microseconds, the precision every store keeps.
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
