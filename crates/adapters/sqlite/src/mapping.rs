//! SQLite's column types for the store-neutral row model of [`disputes_rows`]: amounts
//! are TEXT (`Decimal`'s exact text, so no digit or scale is lost) and instants fixed-width
//! RFC 3339 TEXT, so that text order is time order.

use std::borrow::{Borrow, Cow};
use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use disputes_domain::{utc_digits, Dispute, SubjectKind, Timestamp};
use disputes_ports::StoreError;
use disputes_rows::flows::disputes::Build;
use disputes_rows::{
    self, corrupt, Answer, StoredRow, Value, CHILD_COLUMNS, DISPUTE_COLUMNS, MESSAGE_COLUMNS,
    TIMELINE_COLUMNS,
};
use rust_decimal::Decimal;
use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, SeqAccess, Visitor};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};

use crate::error::store_error;

/// How instants are stored: UTC, microseconds, fixed width, so that text order is time order.
const TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

/// An instant as stored. Domain instants are whole microseconds, so nothing is lost.
pub(crate) fn time_text(at: Timestamp) -> String {
    fixed_width_text(at).unwrap_or_else(|| at.format(TIME_FORMAT).to_string())
}

/// [`TIME_FORMAT`] written digit by digit ([`utc_digits`]), for years 0 to 9999 and no leap
/// second: what chrono writes then, without interpreting the format string for every instant.
/// `None` otherwise.
fn fixed_width_text(at: Timestamp) -> Option<String> {
    let mut text = utc_digits(at)?;
    // Microseconds: the first six of the nine fraction digits.
    text[26] = b'Z';
    String::from_utf8(text[..27].to_vec()).ok()
}

/// An instant from its stored text.
pub(crate) fn parse_time(text: &str) -> Result<Timestamp, chrono::ParseError> {
    match parse_fixed_width(text) {
        Some(at) => Ok(at),
        // Anything else (or nothing) chrono decides, with its error.
        None => NaiveDateTime::parse_from_str(text, TIME_FORMAT).map(|t| t.and_utc()),
    }
}

/// The text [`fixed_width_text`] writes, read back digit by digit: interpreting
/// [`TIME_FORMAT`] for every instant was the largest part of reading a dispute. Reads only what
/// chrono reads too, and to the same instant (a unit test compares them); `None` for anything
/// else.
fn parse_fixed_width(text: &str) -> Option<Timestamp> {
    let bytes = text.as_bytes();
    if bytes.len() != 27 {
        return None;
    }
    let number = |from: usize, to: usize| -> Option<u32> {
        bytes[from..to].iter().try_fold(0_u32, |value, byte| {
            byte.is_ascii_digit()
                .then(|| value * 10 + u32::from(byte - b'0'))
        })
    };
    let separators = [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
        (26, b'Z'),
    ];
    if separators
        .iter()
        .any(|(at, separator)| bytes[*at] != *separator)
    {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(number(0, 4)?).ok()?,
        number(5, 7)?,
        number(8, 10)?,
    )?;
    let (second, micros) = match (number(17, 19)?, number(20, 26)?) {
        // chrono reads second 60 as a leap second: the 59th, one second longer.
        (60, micros) => (59, 1_000_000 + micros),
        other => other,
    };
    let time = NaiveTime::from_hms_micro_opt(number(11, 13)?, number(14, 16)?, second, micros)?;
    Some(date.and_time(time).and_utc())
}

/// The filter on a subject kind, with the kind spelled as a literal. Bound as a parameter, SQLite
/// compares it with the `subject_kind = 'invoice'` of the partial unique indexes while planning,
/// remembers that the plan depended on the bound value, and so re-prepares the whole statement
/// (parsing and planning it again: about a million instructions) at every execution. A literal
/// costs at most one cached statement per kind.
pub(crate) fn kind_condition(kind: SubjectKind) -> &'static str {
    match kind {
        SubjectKind::Delivery => " AND subject_kind = 'delivery'",
        SubjectKind::Invoice => " AND subject_kind = 'invoice'",
        SubjectKind::Billing => " AND subject_kind = 'bill_item'",
    }
}

/// A statement of the shared flows (`disputes_rows::flows::disputes::Build`) written into
/// sqlx's builder for SQLite.
pub(crate) struct Building<'b, 'q>(pub(crate) &'b mut QueryBuilder<'q, Sqlite>);

impl<'q> Build<'q> for Building<'_, 'q> {
    fn sql(&mut self, text: &str) {
        self.0.push(text);
    }

    fn kind(&mut self, kind: SubjectKind) {
        self.0.push(kind_condition(kind));
    }

    fn value(&mut self, value: Value) {
        push_bind(value, self.0);
    }

    fn text(&mut self, text: &'q str) {
        self.0.push_bind(text);
    }

    fn names_event(&mut self, event: &'q str) {
        self.0
            .push(" AND EXISTS (SELECT 1 FROM json_each(event_ids) WHERE value = ")
            .push_bind(event)
            .push(")");
    }
}

/// A list of text as SQLite keeps it: a JSON array, which `json_each` searches.
pub(crate) fn json_list(list: Vec<String>) -> String {
    serde_json::Value::from(list).to_string()
}

/// The list [`json_list`] stored.
fn parse_json_list(text: &str) -> Result<Vec<String>, serde_json::Error> {
    serde_json::from_str(text)
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
        Value::Bytes(v) => query.push_bind(v),
        Value::TextList(list) => query.push_bind(list.map(json_list)),
        Value::Integers(list) => {
            let mut list = list.into_iter();
            if let Some(first) = list.next() {
                query.push_bind(first);
            }
            for n in list {
                query.push(", ").push_bind(n);
            }
            query
        }
    };
}

/// `?, ?, …`: one placeholder for each of `n` values. SQLite has no array parameters, so a
/// [`Value::Integers`] is bound one integer to each.
pub(crate) fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// A `SqliteRow` (or a borrowed one) read through the neutral row model.
#[derive(Debug)]
pub struct Stored<R = SqliteRow>(pub(crate) R);

impl Stored {
    /// The rows a statement returned, as the shared flows read them.
    pub(crate) fn answer(rows: impl IntoIterator<Item = SqliteRow>) -> Answer<Stored> {
        Answer::Rows(rows.into_iter().map(Stored).collect())
    }
}

impl<R: Borrow<SqliteRow>> Stored<R> {
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

impl<R: Borrow<SqliteRow>> StoredRow for Stored<R> {
    fn text(&self, column: &str) -> Result<Option<String>, StoreError> {
        self.0.borrow().try_get(column).map_err(store_error)
    }

    fn integer(&self, column: &str) -> Result<Option<i64>, StoreError> {
        self.0.borrow().try_get(column).map_err(store_error)
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
        self.0.borrow().try_get(column).map_err(store_error)
    }

    fn text_list(&self, column: &str) -> Result<Option<Vec<String>>, StoreError> {
        self.parse_text(column, parse_json_list)
    }
}

/// The columns of `dispute_screens` that `SELECT_DISPUTES` reads for each screen, in order.
pub(crate) const SCREEN_COLUMNS: &str = "position, screen_id";

/// The column lists of the JSON arrays in a row of `SELECT_DISPUTES`.
static DISPUTE_ROW: LazyLock<ColumnList> = LazyLock::new(|| ColumnList::new(DISPUTE_COLUMNS));
static SCREEN_ROW: LazyLock<ColumnList> = LazyLock::new(|| ColumnList::new(SCREEN_COLUMNS));
static TIMELINE_ROW: LazyLock<ColumnList> = LazyLock::new(|| ColumnList::new(TIMELINE_COLUMNS));
static MESSAGE_ROW: LazyLock<ColumnList> = LazyLock::new(|| ColumnList::new(MESSAGE_COLUMNS));

/// Row → domain for a row of `SELECT_DISPUTES`: in [`DISPUTE_COLUMN`] the dispute's columns as
/// one JSON array, and in the [`CHILD_COLUMNS`] its screens, timeline and messages, each a JSON
/// array of such arrays.
///
/// Why arrays: sqlx copies every column of every row into a value of its own (two allocations
/// and a mutex each), which cost more than anything else of a page; one text column costs that
/// once. By position, because names would be built by SQLite and parsed here for every row. The
/// strings are borrowed from the row's text where they need no unescaping.
pub(crate) fn dispute_with_children(row: &SqliteRow) -> Result<Dispute, StoreError> {
    let dispute = json_row(
        &DISPUTE_ROW,
        DISPUTE_COLUMN,
        required_json(row, DISPUTE_COLUMN)?,
    )?;
    let [screens_column, timeline_column, messages_column] = CHILD_COLUMNS;
    let mut screens = json_rows(row, &SCREEN_ROW, screens_column)?;
    // SQLite's aggregates promise no order without an `ORDER BY`, which would cost a sorter per
    // statement; sorting the few children here is cheap, and a no-op when they came in order.
    screens.sort_by_key(|screen| screen.order_key("position"));
    let screens = screens
        .iter()
        .map(|screen| {
            screen
                .text("screen_id")?
                .ok_or_else(|| corrupt(screens_column, "screen_id is NULL"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut timeline = json_rows(row, &TIMELINE_ROW, timeline_column)?;
    timeline.sort_by_key(|entry| entry.order_key("seq"));
    let mut messages = json_rows(row, &MESSAGE_ROW, messages_column)?;
    messages.sort_by_key(|message| message.order_key("seq"));
    disputes_rows::dispute_with_children(&dispute, screens, &timeline, &messages)
}

/// The column of `SELECT_DISPUTES` that holds the dispute's own columns.
pub(crate) const DISPUTE_COLUMN: &str = "dispute";

fn required_json<'r>(row: &'r SqliteRow, column: &str) -> Result<&'r str, StoreError> {
    let text: Option<&str> = row.try_get(column).map_err(store_error)?;
    text.ok_or_else(|| corrupt(column, "is NULL"))
}

/// One array of `columns` values.
fn json_row<'r>(
    columns: &'static ColumnList,
    column: &str,
    text: &'r str,
) -> Result<JsonRow<'r>, StoreError> {
    let cells = from_json(RowSeed(columns), column, text)?;
    JsonRow::new(columns, column, cells)
}

/// An array of arrays of `columns` values; NULL for none.
fn json_rows<'r>(
    row: &'r SqliteRow,
    columns: &'static ColumnList,
    column: &str,
) -> Result<Vec<JsonRow<'r>>, StoreError> {
    let text: Option<&str> = row.try_get(column).map_err(store_error)?;
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    from_json(RowsSeed(columns), column, text)?
        .into_iter()
        .map(|cells| JsonRow::new(columns, column, cells))
        .collect()
}

/// The whole of `text` read by `seed`; `column` names it in errors.
fn from_json<'r, S: DeserializeSeed<'r>>(
    seed: S,
    column: &str,
    text: &'r str,
) -> Result<S::Value, StoreError> {
    let mut json = serde_json::Deserializer::from_str(text);
    let value = seed
        .deserialize(&mut json)
        .and_then(|value| json.end().map(|()| value))
        .map_err(|e| corrupt(column, e))?;
    Ok(value)
}

/// Reads a JSON array of a row's values into cells allocated once, for as many values as the
/// row has columns (a plain `Vec` would grow five times for a dispute).
#[derive(Clone, Copy)]
struct RowSeed(&'static ColumnList);

impl<'de> DeserializeSeed<'de> for RowSeed {
    type Value = Vec<Cell<'de>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RowSeed {
    type Value = Vec<Cell<'de>>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of column values")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut values: A) -> Result<Self::Value, A::Error> {
        let mut cells = Vec::with_capacity(self.0.len());
        while let Some(cell) = values.next_element()? {
            cells.push(cell);
        }
        Ok(cells)
    }
}

/// Reads a JSON array of rows, each read by [`RowSeed`].
#[derive(Clone, Copy)]
struct RowsSeed(&'static ColumnList);

impl<'de> DeserializeSeed<'de> for RowsSeed {
    type Value = Vec<Vec<Cell<'de>>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RowsSeed {
    type Value = Vec<Vec<Cell<'de>>>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of rows")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut values: A) -> Result<Self::Value, A::Error> {
        let mut rows = Vec::new();
        while let Some(cells) = values.next_element_seed(RowSeed(self.0))? {
            rows.push(cells);
        }
        Ok(rows)
    }
}

/// A column list (as in the `*_COLUMNS` constants) by name: where each column sits in a row read
/// by position.
#[derive(Debug)]
struct ColumnList {
    positions: HashMap<&'static str, usize>,
}

impl ColumnList {
    fn new(columns: &'static str) -> ColumnList {
        ColumnList {
            positions: columns.split(", ").zip(0..).collect(),
        }
    }

    fn len(&self) -> usize {
        self.positions.len()
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.positions.get(name).copied()
    }
}

/// One value of a JSON array SQLite built from a row: SQL's NULL, INTEGER or TEXT (the stored
/// tables are STRICT and hold no REAL or BLOB in the columns read so).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Cell<'r> {
    Null,
    Integer(i64),
    Text(Cow<'r, str>),
}

impl<'de> Deserialize<'de> for Cell<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CellVisitor)
    }
}

struct CellVisitor;

impl<'de> Visitor<'de> for CellVisitor {
    type Value = Cell<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("null, an integer or a string")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Cell<'de>, E> {
        Ok(Cell::Null)
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Cell<'de>, E> {
        Ok(Cell::Integer(n))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Cell<'de>, E> {
        i64::try_from(n)
            .map(Cell::Integer)
            .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(n), &self))
    }

    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Cell<'de>, E> {
        Ok(Cell::Text(Cow::Borrowed(text)))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Cell<'de>, E> {
        Ok(Cell::Text(Cow::Owned(text.to_owned())))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<Cell<'de>, E> {
        Ok(Cell::Text(Cow::Owned(text)))
    }
}

/// A row read by position, its columns named by a [`ColumnList`].
#[derive(Debug)]
struct JsonRow<'r> {
    columns: &'static ColumnList,
    cells: Vec<Cell<'r>>,
}

impl<'r> JsonRow<'r> {
    /// `column` names where the row came from, for errors.
    fn new(
        columns: &'static ColumnList,
        column: &str,
        cells: Vec<Cell<'r>>,
    ) -> Result<JsonRow<'r>, StoreError> {
        if cells.len() != columns.len() {
            return Err(corrupt(
                column,
                format!("{} values where {} were read", cells.len(), columns.len()),
            ));
        }
        Ok(JsonRow { columns, cells })
    }

    fn cell(&self, column: &str) -> Result<&Cell<'r>, StoreError> {
        self.columns
            .position(column)
            .map(|at| &self.cells[at])
            .ok_or_else(|| corrupt(column, "is not a column that was read"))
    }

    fn str(&self, column: &str) -> Result<Option<&str>, StoreError> {
        match self.cell(column)? {
            Cell::Null => Ok(None),
            Cell::Text(text) => Ok(Some(text)),
            Cell::Integer(n) => Err(corrupt(column, format!("{n} is not text"))),
        }
    }

    /// Where the row sorts among its siblings: by an integer column, the rows whose column is
    /// missing or not an integer last (they are reported as corrupt when read).
    fn order_key(&self, column: &str) -> (bool, i64) {
        match self.cell(column) {
            Ok(Cell::Integer(n)) => (false, *n),
            _ => (true, 0),
        }
    }
}

impl StoredRow for JsonRow<'_> {
    fn text(&self, column: &str) -> Result<Option<String>, StoreError> {
        Ok(self.str(column)?.map(str::to_owned))
    }

    fn integer(&self, column: &str) -> Result<Option<i64>, StoreError> {
        match self.cell(column)? {
            Cell::Null => Ok(None),
            Cell::Integer(n) => Ok(Some(*n)),
            Cell::Text(text) => Err(corrupt(column, format!("{text:?} is not an integer"))),
        }
    }

    fn small_integer(&self, column: &str) -> Result<Option<i64>, StoreError> {
        self.integer(column)
    }

    fn flag(&self, column: &str) -> Result<Option<bool>, StoreError> {
        Ok(self.integer(column)?.map(|flag| flag != 0))
    }

    fn decimal(&self, column: &str) -> Result<Option<Decimal>, StoreError> {
        self.str(column)?
            .map(|text| text.parse().map_err(|e| corrupt(column, e)))
            .transpose()
    }

    fn text_list(&self, column: &str) -> Result<Option<Vec<String>>, StoreError> {
        self.str(column)?
            .map(|text| parse_json_list(text).map_err(|e| corrupt(column, e)))
            .transpose()
    }

    fn time(&self, column: &str) -> Result<Option<Timestamp>, StoreError> {
        self.str(column)?
            .map(|text| parse_time(text).map_err(|e| corrupt(column, e)))
            .transpose()
    }

    /// `json_array` refuses BLOBs, so a row read so has none.
    fn bytes(&self, column: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self.cell(column)? {
            Cell::Null => Ok(None),
            other => Err(corrupt(column, format!("{other:?} is not bytes"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};

    #[test]
    fn times_are_fixed_width_and_round_trip() {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap() + Duration::microseconds(7);
        let text = time_text(at);
        assert_eq!(text, "2026-03-01T12:00:00.000007Z");
        assert_eq!(parse_time(&text).unwrap(), at);
        let whole = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        assert_eq!(time_text(whole), "2026-03-01T12:00:00.000000Z");
    }

    /// The digit-by-digit paths write and read exactly what chrono's format does.
    #[test]
    fn fixed_width_times_agree_with_chrono() {
        let base = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let mut instants = vec![
            Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap()
                + Duration::microseconds(999_999),
            Utc.with_ymd_and_hms(2024, 2, 29, 23, 59, 59).unwrap(),
            // Beyond four digits of year: chrono's way, both directions.
            Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap(),
            base + Duration::nanoseconds(1_500),
        ];
        // A spread of instants over some centuries, each with odd microseconds.
        let mut step = Duration::seconds(86_400 * 97 + 3_607) + Duration::microseconds(123_457);
        for _ in 0..2_000 {
            instants.push(base + step);
            instants.push(base - step);
            step = step + step / 997;
        }
        for at in instants {
            let text = time_text(at);
            assert_eq!(text, at.format(TIME_FORMAT).to_string(), "{at:?}");
            let chrono = NaiveDateTime::parse_from_str(&text, TIME_FORMAT).map(|t| t.and_utc());
            assert_eq!(parse_time(&text), chrono, "{text}");
        }
        for text in [
            "2026-03-01T12:00:60.000007Z",
            "2026-03-01T23:59:60.999999Z",
            "2026-02-29T12:00:00.000000Z",
            "2026-13-01T12:00:00.000000Z",
            "2026-03-01T24:00:00.000000Z",
            "2026-03-01 12:00:00.000000Z",
            "2026-03-01T12:00:00.00000Z",
            "2026-03-01T12:00:00.0000001Z",
            "2026-03-01T12:00:00.000000+00:00",
            "+2026-03-01T12:00:00.00000Z",
            "2026-03-0aT12:00:00.000000Z",
            "2026-03-01T12:00:00.000000z",
            "",
        ] {
            let chrono = NaiveDateTime::parse_from_str(text, TIME_FORMAT).map(|t| t.and_utc());
            assert_eq!(parse_time(text), chrono, "{text}");
        }
    }

    fn timeline_row(json: &str) -> Result<JsonRow<'_>, StoreError> {
        json_row(&TIMELINE_ROW, "timeline", json)
    }

    #[test]
    fn json_rows_read_by_position_and_borrow_plain_strings() {
        let row = timeline_row(
            r#"[7, 2, "2026-03-01T12:00:00.000007Z", "adv \"1\"", "advertiser", "note", null, "ab", null, "cd", null, null]"#,
        )
        .unwrap();
        assert_eq!(row.integer("dispute_id").unwrap(), Some(7));
        assert_eq!(row.integer("seq").unwrap(), Some(2));
        assert_eq!(
            row.time("at").unwrap(),
            Some(Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap() + Duration::microseconds(7))
        );
        assert_eq!(row.text("actor_id").unwrap().as_deref(), Some("adv \"1\""));
        assert!(matches!(
            row.cells[4],
            Cell::Text(Cow::Borrowed("advertiser"))
        ));
        assert_eq!(row.text("notes").unwrap(), None);
        assert_eq!(row.order_key("seq"), (false, 2));
    }

    #[test]
    fn malformed_json_rows_are_corrupt_data() {
        for json in [
            // A value short, a value too many, not an array, not JSON.
            r#"[7, 2, "at", "a", "r", "k", "n", "p", "s"]"#,
            r#"[7, 2, "at", "a", "r", "k", "n", "p", "s", "h", "k", "g", "x"]"#,
            r#"{"seq": 2}"#,
            "[7, 2,",
            // Values SQLite's integers and text never render as.
            r#"[7.5, 2, "at", "a", "r", "k", "n", "p", "s", "h", "k", "g"]"#,
            r#"[true, 2, "at", "a", "r", "k", "n", "p", "s", "h", "k", "g"]"#,
            r#"[[7], 2, "at", "a", "r", "k", "n", "p", "s", "h", "k", "g"]"#,
            r#"[18446744073709551615, 2, "at", "a", "r", "k", "n", "p", "s", "h", "k", "g"]"#,
        ] {
            assert!(
                matches!(timeline_row(json), Err(StoreError::Corrupt(_))),
                "{json}"
            );
        }
        let row =
            timeline_row(r#"["7", 2, "at", 4, "r", "k", "n", "p", "s", "h", "k", "g"]"#).unwrap();
        assert!(matches!(
            row.integer("dispute_id"),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(row.text("actor_id"), Err(StoreError::Corrupt(_))));
        assert!(matches!(row.time("at"), Err(StoreError::Corrupt(_))));
        assert!(matches!(
            row.text("no_such_column"),
            Err(StoreError::Corrupt(_))
        ));
        assert_eq!(row.order_key("dispute_id"), (true, 0));
    }

    #[test]
    fn column_lists_find_every_column() {
        for columns in [
            DISPUTE_COLUMNS,
            SCREEN_COLUMNS,
            TIMELINE_COLUMNS,
            MESSAGE_COLUMNS,
        ] {
            let list = ColumnList::new(columns);
            for (position, name) in columns.split(", ").enumerate() {
                assert_eq!(list.position(name), Some(position), "{name}");
            }
            assert_eq!(list.position("nope"), None);
        }
    }

    #[test]
    fn filter_bounds_round_up_to_whole_microseconds() {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let bound_text = |at| time_text(disputes_rows::flows::disputes::range_bound(at));
        assert_eq!(bound_text(at), "2026-03-01T12:00:00.000000Z");
        let nanos = at + Duration::nanoseconds(1);
        assert_eq!(bound_text(nanos), "2026-03-01T12:00:00.000001Z");
    }
}
