use chrono::{DateTime, SecondsFormat, Utc};
use disputes_domain::Timestamp;

use super::Problem;

/// An RFC 3339 instant with an offset; stored and shown in UTC.
pub fn parse_time(field: &str, text: &str) -> Result<Timestamp, Problem> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            Problem::field(
                field,
                format!("{text:?} is not an RFC 3339 time such as 2023-11-07T05:31:56Z"),
            )
        })
}

/// RFC 3339 in UTC with `Z`, with as many fraction digits as the instant needs (none for whole
/// seconds), so a time sent in comes back as it was sent.
pub fn format_time(at: Timestamp) -> String {
    digit_by_digit(at).unwrap_or_else(|| at.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// What `to_rfc3339_opts(AutoSi, true)` writes for years 0 to 9999 without a leap second,
/// written digit by digit: a page of disputes shows a hundred times, and chrono's general
/// formatter was a tenth of rendering one. `None` for the rest, which chrono writes. A unit
/// test compares the two.
fn digit_by_digit(at: Timestamp) -> Option<String> {
    let mut text = disputes_domain::utc_digits(at)?;
    // As few fraction digits as show the instant exactly, in groups of three (the `Z` goes over
    // the `.` when there is no fraction).
    let nanos = at.timestamp_subsec_nanos();
    let end = if nanos == 0 {
        19
    } else if nanos % 1_000_000 == 0 {
        23
    } else if nanos % 1_000 == 0 {
        26
    } else {
        29
    };
    text[end] = b'Z';
    String::from_utf8(text[..=end].to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_as_chrono_writes_them() {
        use chrono::{Duration, TimeZone};
        let base = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let mut instants = vec![
            Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap()
                + Duration::nanoseconds(999_999_999),
            Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(-1, 1, 1, 0, 0, 0).unwrap(),
            base,
            base + Duration::milliseconds(120),
            base + Duration::microseconds(7),
            base + Duration::nanoseconds(5),
            base + Duration::nanoseconds(100_000_000),
        ];
        if let Some(leap) = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
        {
            instants.push(leap.and_utc());
        }
        let mut step = Duration::seconds(86_400 * 89 + 3_671) + Duration::nanoseconds(123_456_789);
        for i in 0..3_000 {
            let at = base + step;
            instants.push(at);
            // Whole milliseconds and microseconds too, and whole seconds.
            instants.push(
                at - Duration::nanoseconds(i64::from(at.timestamp_subsec_nanos() % 1_000_000)),
            );
            instants
                .push(at - Duration::nanoseconds(i64::from(at.timestamp_subsec_nanos() % 1_000)));
            instants.push(at - Duration::nanoseconds(i64::from(at.timestamp_subsec_nanos())));
            instants.push(base - step);
            step = step + step / (997 + i);
        }
        for at in instants {
            assert_eq!(
                format_time(at),
                at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
                "{at:?}"
            );
        }
    }

    #[test]
    fn times_round_trip_in_utc() {
        let t = parse_time("at", "2023-11-07T06:31:56+01:00").unwrap();
        assert_eq!(format_time(t), "2023-11-07T05:31:56Z");
        assert!(parse_time("at", "2023-11-07").is_err());
    }
}
