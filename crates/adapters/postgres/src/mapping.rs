//! PostgreSQL's column types for the store-neutral row model of [`disputes_rows`]: money
//! is `NUMERIC`, instants `TIMESTAMPTZ`, reason codes `INTEGER`, flags `BOOLEAN`. Timeline
//! entries and messages are bound as arrays and inserted with one `UNNEST`.

use std::borrow::Borrow;

use disputes_domain::{Dispute, Message, SubjectKind, TimelineEntry, Timestamp};
use disputes_ports::StoreError;
use disputes_rows::flows::disputes::Build;
use disputes_rows::{
    self, corrupt, Answer, Field, FieldRow, MessageRow, StoredRow, TimelineRow, Value,
    CHILD_COLUMNS,
};
use rust_decimal::Decimal;
use sqlx::postgres::PgRow;
use sqlx::{Decode, Postgres, QueryBuilder, Row, Type, TypeInfo, ValueRef};

use crate::error::store_error;

/// A statement of the shared flows (`disputes_rows::flows::disputes::Build`) written into
/// sqlx's builder for PostgreSQL.
pub(crate) struct Building<'b, 'q>(pub(crate) &'b mut QueryBuilder<'q, Postgres>);

impl<'q> Build<'q> for Building<'_, 'q> {
    fn sql(&mut self, text: &str) {
        self.0.push(text);
    }

    fn text(&mut self, text: &'q str) {
        self.0.push_bind(text);
    }

    fn value(&mut self, value: Value) {
        push_bind(value, self.0);
    }

    /// Bound, as every other filter: a literal kind matters only to SQLite's planner.
    fn kind(&mut self, kind: SubjectKind) {
        self.0.push(" AND subject_kind = ").push_bind(kind.as_str());
    }

    fn names_event(&mut self, event: &'q str) {
        self.0
            .push(" AND ")
            .push_bind(event)
            .push(" = ANY(event_ids)");
    }
}

/// Appends a placeholder to `query` and binds `value` to it in PostgreSQL's column type.
pub(crate) fn push_bind(value: Value, query: &mut QueryBuilder<'_, Postgres>) {
    match value {
        Value::Text(v) => query.push_bind(v),
        Value::Integer(v) => query.push_bind(v),
        Value::SmallInteger(v) => query.push_bind(v),
        Value::Flag(v) => query.push_bind(v),
        Value::Decimal(v) => query.push_bind(v),
        Value::Time(v) => query.push_bind(v),
        Value::Bytes(v) => query.push_bind(v),
        Value::Integers(list) => query.push_bind(list),
        Value::TextList(list) => query.push_bind(list),
    };
}

/// A `PgRow` (or a borrowed one) read through the neutral row model. `pub` because
/// [`disputes_rows::Sql`] is, in a module of the crate's own: no other crate can name it.
#[derive(Debug)]
pub struct Stored<R = PgRow>(pub(crate) R);

impl Stored {
    /// The rows a statement returned, as the shared flows read them.
    pub(crate) fn answer(rows: impl IntoIterator<Item = PgRow>) -> Answer<Stored> {
        Answer::Rows(rows.into_iter().map(Stored).collect())
    }
}

impl<R: Borrow<PgRow>> Stored<R> {
    fn get<T>(&self, column: &str) -> Result<Option<T>, StoreError>
    where
        T: for<'v> Decode<'v, Postgres> + Type<Postgres>,
    {
        self.0.borrow().try_get(column).map_err(store_error)
    }
}

impl<R: Borrow<PgRow>> StoredRow for Stored<R> {
    fn text(&self, column: &str) -> Result<Option<String>, StoreError> {
        self.get(column)
    }

    fn integer(&self, column: &str) -> Result<Option<i64>, StoreError> {
        self.get(column)
    }

    fn small_integer(&self, column: &str) -> Result<Option<i64>, StoreError> {
        // INTEGER for reason codes and answer statuses; SMALLINT for desk ticket statuses.
        let raw = self.0.borrow().try_get_raw(column).map_err(store_error)?;
        if raw.type_info().name() == "INT2" {
            Ok(self.get::<i16>(column)?.map(i64::from))
        } else {
            Ok(self.get::<i32>(column)?.map(i64::from))
        }
    }

    fn flag(&self, column: &str) -> Result<Option<bool>, StoreError> {
        self.get(column)
    }

    fn decimal(&self, column: &str) -> Result<Option<Decimal>, StoreError> {
        self.get(column)
    }

    fn time(&self, column: &str) -> Result<Option<Timestamp>, StoreError> {
        self.get(column)
    }

    fn bytes(&self, column: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(column)
    }

    fn text_list(&self, column: &str) -> Result<Option<Vec<String>>, StoreError> {
        self.get(column)
    }
}

/// Timeline entries column by column, to be bound as arrays and inserted with one `UNNEST`: one
/// statement text for any number of entries, so PostgreSQL plans it once per connection.
#[derive(Debug, Default)]
pub(crate) struct TimelineColumns {
    seq: Vec<i64>,
    at: Vec<Timestamp>,
    actor_id: Vec<String>,
    actor_role: Vec<&'static str>,
    kind: Vec<&'static str>,
    notes: Vec<String>,
    prev_hash: Vec<String>,
    state_digest: Vec<Option<String>>,
    hash: Vec<String>,
    seal_key_id: Vec<Option<String>>,
    seal_signature: Vec<Option<String>>,
}

/// Inserts the entries of a [`TimelineColumns`] for the dispute bound to `$1`.
pub(crate) const INSERT_TIMELINE: &str = "INSERT INTO timeline_entries \
     (dispute_id, seq, at, actor_id, actor_role, kind, notes, prev_hash, state_digest, hash, \
     seal_key_id, seal_signature) \
     SELECT $1, * FROM UNNEST($2::BIGINT[], $3::TIMESTAMPTZ[], $4::TEXT[], $5::TEXT[], \
     $6::TEXT[], $7::TEXT[], $8::TEXT[], $9::TEXT[], $10::TEXT[], $11::TEXT[], $12::TEXT[])";

impl<'e> FromIterator<&'e TimelineEntry> for TimelineColumns {
    fn from_iter<I: IntoIterator<Item = &'e TimelineEntry>>(entries: I) -> Self {
        let mut columns = TimelineColumns::default();
        for entry in entries.into_iter().map(TimelineRow::from) {
            columns.seq.push(entry.seq);
            columns.at.push(entry.at);
            columns.actor_id.push(entry.actor_id);
            columns.actor_role.push(entry.actor_role);
            columns.kind.push(entry.kind);
            columns.notes.push(entry.notes);
            columns.prev_hash.push(entry.prev_hash);
            columns.state_digest.push(entry.state_digest);
            columns.hash.push(entry.hash);
            columns.seal_key_id.push(entry.seal_key_id);
            columns.seal_signature.push(entry.seal_signature);
        }
        columns
    }
}

impl TimelineColumns {
    pub(crate) fn is_empty(&self) -> bool {
        self.seq.is_empty()
    }

    /// [`INSERT_TIMELINE`] with every parameter bound.
    pub(crate) fn insert(
        self,
        dispute_id: i64,
    ) -> sqlx::query::Query<'static, Postgres, sqlx::postgres::PgArguments> {
        sqlx::query(INSERT_TIMELINE)
            .bind(dispute_id)
            .bind(self.seq)
            .bind(self.at)
            .bind(self.actor_id)
            .bind(self.actor_role)
            .bind(self.kind)
            .bind(self.notes)
            .bind(self.prev_hash)
            .bind(self.state_digest)
            .bind(self.hash)
            .bind(self.seal_key_id)
            .bind(self.seal_signature)
    }
}

/// Messages column by column, inserted with one `UNNEST` like [`TimelineColumns`].
#[derive(Debug, Default)]
pub(crate) struct MessageColumns {
    seq: Vec<i64>,
    at: Vec<Timestamp>,
    author_id: Vec<String>,
    author_role: Vec<&'static str>,
    text: Vec<String>,
    attachment_name: Vec<Option<String>>,
    attachment_type: Vec<Option<&'static str>>,
    attachment_size: Vec<Option<i64>>,
    attachment_sha256: Vec<Option<String>>,
}

/// Inserts the messages of a [`MessageColumns`] for the dispute bound to `$1`.
pub(crate) const INSERT_MESSAGES: &str = "INSERT INTO dispute_messages \
     (dispute_id, seq, at, author_id, author_role, text, \
     attachment_name, attachment_type, attachment_size, attachment_sha256) \
     SELECT $1, * FROM UNNEST($2::BIGINT[], $3::TIMESTAMPTZ[], $4::TEXT[], $5::TEXT[], \
     $6::TEXT[], $7::TEXT[], $8::TEXT[], $9::BIGINT[], $10::TEXT[])";

impl<'m> FromIterator<&'m Message> for MessageColumns {
    fn from_iter<I: IntoIterator<Item = &'m Message>>(messages: I) -> Self {
        let mut columns = MessageColumns::default();
        for message in messages.into_iter().map(MessageRow::from) {
            columns.seq.push(message.seq);
            columns.at.push(message.at);
            columns.author_id.push(message.author_id);
            columns.author_role.push(message.author_role);
            columns.text.push(message.text);
            columns.attachment_name.push(message.attachment_name);
            columns.attachment_type.push(message.attachment_type);
            columns.attachment_size.push(message.attachment_size);
            columns.attachment_sha256.push(message.attachment_sha256);
        }
        columns
    }
}

impl MessageColumns {
    pub(crate) fn is_empty(&self) -> bool {
        self.seq.is_empty()
    }

    /// [`INSERT_MESSAGES`] with every parameter bound.
    pub(crate) fn insert(
        self,
        dispute_id: i64,
    ) -> sqlx::query::Query<'static, Postgres, sqlx::postgres::PgArguments> {
        sqlx::query(INSERT_MESSAGES)
            .bind(dispute_id)
            .bind(self.seq)
            .bind(self.at)
            .bind(self.author_id)
            .bind(self.author_role)
            .bind(self.text)
            .bind(self.attachment_name)
            .bind(self.attachment_type)
            .bind(self.attachment_size)
            .bind(self.attachment_sha256)
    }
}

/// Row → domain for a row of `SELECT_DISPUTES`: the dispute's columns and its children,
/// aggregated as JSON arrays in the [`CHILD_COLUMNS`].
pub(crate) fn dispute_with_children(row: &PgRow) -> Result<Dispute, StoreError> {
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
    disputes_rows::dispute_with_children(&row, screens, &timeline, &messages)
}

fn json_array(row: &Stored<&PgRow>, column: &str) -> Result<Vec<serde_json::Value>, StoreError> {
    match row.text(column)? {
        None => Ok(Vec::new()),
        Some(text) => serde_json::from_str(&text).map_err(|e| corrupt(column, e)),
    }
}

/// A JSON array of objects as [`FieldRow`]s: strings, integers and booleans; NULLs left out.
fn field_rows(row: &Stored<&PgRow>, column: &str) -> Result<Vec<FieldRow>, StoreError> {
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
