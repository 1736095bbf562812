//! SQLite's column types for the store-neutral row model of [`disputes_ports::rows`]: amounts
//! are TEXT (`Decimal`'s exact text, so no digit or scale is lost) and instants fixed-width
//! RFC 3339 TEXT, so that text order is time order.

use chrono::{Duration, NaiveDateTime, SubsecRound};
use disputes_domain::{Dispute, DisputeId, TenantId, Timestamp};
use disputes_ports::rows::{self, corrupt, Field, FieldRow, StoredRow, Value, CHILD_COLUMNS};
use disputes_ports::StoreError;
use rust_decimal::Decimal;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};

use crate::error::store_error;

/// How instants are stored: UTC, microseconds, fixed width, so that text order is time order.
const TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

/// An instant as stored. Domain instants are whole microseconds, so nothing is lost.
pub(crate) fn time_text(at: Timestamp) -> String {
    at.format(TIME_FORMAT).to_string()
}

/// A range-filter bound as stored text. A caller's bound may carry nanoseconds; rounding it up
/// to the next whole microsecond keeps both `stored >= bound` and `stored < bound` exact, since
/// every stored instant is a whole microsecond.
pub(crate) fn bound_text(at: Timestamp) -> String {
    let truncated = at.trunc_subsecs(6);
    let ceiling = if truncated < at {
        truncated + Duration::microseconds(1)
    } else {
        truncated
    };
    time_text(ceiling)
}

pub(crate) fn parse_time(text: &str) -> Result<Timestamp, chrono::ParseError> {
    NaiveDateTime::parse_from_str(text, TIME_FORMAT).map(|t| t.and_utc())
}

/// Appends a placeholder to `query` and binds `value` to it in SQLite's column type.
pub(crate) fn push_bind(value: Value, query: &mut QueryBuilder<'_, Sqlite>) {
    match value {
        Value::Text(v) => query.push_bind(v),
        Value::Integer(v) => query.push_bind(v),
        Value::SmallInteger(v) => query.push_bind(v.map(i64::from)),
        Value::Flag(v) => query.push_bind(v.map(i64::from)),
        // `Decimal`'s text keeps the scale: "5.00" reads back as 5.00, not 5.
        Value::Decimal(v) => query.push_bind(v.map(|d| d.to_string())),
        Value::Time(v) => query.push_bind(v.map(time_text)),
    };
}

/// Appends ` WHERE tenant = ? AND dispute_id IN (?, …)`: the rows of `disputes` of `tenant`
/// (`disputes` must not be empty). SQLite has no array parameters, so each id is bound alone.
pub(crate) fn push_tenant_disputes<'a>(
    query: &mut QueryBuilder<'a, Sqlite>,
    tenant: &'a TenantId,
    disputes: &[DisputeId],
) {
    query.push(" WHERE tenant = ").push_bind(tenant.as_str());
    query.push(" AND dispute_id IN (");
    let mut ids = query.separated(", ");
    for id in disputes {
        ids.push_bind(id.get());
    }
    query.push(")");
}

/// A `SqliteRow` read through the neutral row model.
pub(crate) struct Stored<'r>(pub(crate) &'r SqliteRow);

impl Stored<'_> {
    fn parse_text<T, E: std::fmt::Display>(
        &self,
        column: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<Option<T>, StoreError> {
        self.text(column)?
            .map(|t| parse(&t).map_err(|e| corrupt(column, e)))
            .transpose()
    }
}

impl StoredRow for Stored<'_> {
    fn text(&self, column: &str) -> Result<Option<String>, StoreError> {
        self.0.try_get(column).map_err(store_error)
    }

    fn integer(&self, column: &str) -> Result<Option<i64>, StoreError> {
        self.0.try_get(column).map_err(store_error)
    }

    fn small_integer(&self, column: &str) -> Result<Option<i64>, StoreError> {
        self.integer(column)
    }

    fn flag(&self, column: &str) -> Result<Option<bool>, StoreError> {
        Ok(self.integer(column)?.map(|flag| flag != 0))
    }

    fn decimal(&self, column: &str) -> Result<Option<Decimal>, StoreError> {
        self.parse_text(column, str::parse::<Decimal>)
    }

    fn time(&self, column: &str) -> Result<Option<Timestamp>, StoreError> {
        self.parse_text(column, parse_time)
    }

    fn bytes(&self, column: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.0.try_get(column).map_err(store_error)
    }
}

/// Row → domain for a row of `SELECT_DISPUTES`: the dispute's columns and its children,
/// aggregated as JSON arrays in the [`CHILD_COLUMNS`].
pub(crate) fn dispute_with_children(row: &SqliteRow) -> Result<Dispute, StoreError> {
    let row = Stored(row);
    let [screens, timeline, messages] = CHILD_COLUMNS;
    let screens = json_array(&row, screens)?
        .into_iter()
        .map(|screen| match screen {
            serde_json::Value::String(id) => Ok(id),
            other => Err(corrupt(screens, format!("{other} is not a screen id"))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let timeline = field_rows(&row, timeline)?;
    let messages = field_rows(&row, messages)?;
    rows::dispute_with_children(&row, screens, &timeline, &messages)
}

fn json_array(row: &Stored<'_>, column: &str) -> Result<Vec<serde_json::Value>, StoreError> {
    match row.text(column)? {
        None => Ok(Vec::new()),
        Some(text) => serde_json::from_str(&text).map_err(|e| corrupt(column, e)),
    }
}

/// A JSON array of objects as [`FieldRow`]s: strings, integers and booleans; NULLs left out.
fn field_rows(row: &Stored<'_>, column: &str) -> Result<Vec<FieldRow>, StoreError> {
    json_array(row, column)?
        .into_iter()
        .map(|child| {
            let serde_json::Value::Object(object) = child else {
                return Err(corrupt(column, format!("{child} is not an object")));
            };
            let mut fields = FieldRow::default();
            for (name, value) in object {
                let field = match value {
                    serde_json::Value::Null => continue,
                    serde_json::Value::String(text) => Field::Text(text),
                    serde_json::Value::Bool(flag) => Field::Flag(flag),
                    serde_json::Value::Number(n) => {
                        Field::Integer(n.as_i64().ok_or_else(|| {
                            corrupt(column, format!("{name}: {n} is not an integer"))
                        })?)
                    }
                    other => {
                        return Err(corrupt(column, format!("{name}: {other} is not a value")))
                    }
                };
                fields.0.insert(name, field);
            }
            Ok(fields)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn times_are_fixed_width_and_round_trip() {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap() + Duration::microseconds(7);
        let text = time_text(at);
        assert_eq!(text, "2026-03-01T12:00:00.000007Z");
        assert_eq!(parse_time(&text).unwrap(), at);
        let whole = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        assert_eq!(time_text(whole), "2026-03-01T12:00:00.000000Z");
    }

    #[test]
    fn filter_bounds_round_up_to_whole_microseconds() {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        assert_eq!(bound_text(at), "2026-03-01T12:00:00.000000Z");
        let nanos = at + Duration::nanoseconds(1);
        assert_eq!(bound_text(nanos), "2026-03-01T12:00:00.000001Z");
    }
}
