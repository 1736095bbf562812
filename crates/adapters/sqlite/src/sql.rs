//! SQLite under the flows both stores share ([`disputes_rows::Sql`]): their [`Value`]s bound in
//! SQLite's column types, their write transactions behind this process's write turn.

use async_trait::async_trait;
use disputes_ports::StoreError;
use disputes_rows::{Answer, Fetch, Sql, Statement, Value};
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Sqlite, SqliteConnection, Transaction};

use crate::error::store_error;
use crate::mapping::{json_list, time_text, Stored};
use crate::{SqliteStore, WriteTurn};

/// A write transaction of the shared flows: `BEGIN IMMEDIATE`, in this process's write turn
/// (see [`SqliteStore::begin_write`]), which it keeps until it is committed or dropped. `pub`
/// because [`Sql`] is, in a module of the crate's own: no other crate can name it.
#[derive(Debug)]
pub struct Writing {
    _turn: WriteTurn,
    tx: Transaction<'static, Sqlite>,
}

#[async_trait]
impl Sql for SqliteStore {
    type Row = Stored<SqliteRow>;
    type Write = Writing;

    async fn begin(&self) -> Result<Writing, StoreError> {
        let (turn, tx) = self.begin_write().await.map_err(store_error)?;
        Ok(Writing { _turn: turn, tx })
    }

    async fn commit(&self, write: Writing) -> Result<(), StoreError> {
        write.tx.commit().await.map_err(store_error)
    }

    async fn run(
        &self,
        write: Option<&mut Writing>,
        statement: Statement<'_>,
    ) -> Result<Answer<Self::Row>, StoreError> {
        let mut pooled;
        let conn: &mut SqliteConnection = match write {
            Some(write) => &mut write.tx,
            None => {
                pooled = self.pool.acquire().await.map_err(store_error)?;
                &mut pooled
            }
        };
        let query = statement
            .params
            .into_iter()
            .fold(sqlx::query(statement.sql), bind);
        let answer = match statement.fetch {
            Fetch::Count => query
                .execute(conn)
                .await
                .map(|done| Answer::Count(done.rows_affected())),
            Fetch::All => query.fetch_all(conn).await.map(Stored::answer),
            Fetch::Optional => query.fetch_optional(conn).await.map(Stored::answer),
        };
        answer.map_err(store_error)
    }
}

type Query<'q> = sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>>;

/// Binds `value` to `query`'s next placeholder in SQLite's column type.
fn bind(query: Query<'_>, value: Value) -> Query<'_> {
    match value {
        Value::Text(v) => query.bind(v),
        Value::Integer(v) => query.bind(v),
        Value::SmallInteger(v) => query.bind(v.map(i64::from)),
        Value::Flag(v) => query.bind(v.map(i64::from)),
        // `Decimal`'s text keeps the scale: "5.00" reads back as 5.00, not 5.
        Value::Decimal(v) => query.bind(v.map(|d| d.to_string())),
        Value::Time(v) => query.bind(v.map(time_text)),
        Value::Bytes(v) => query.bind(v),
        // One placeholder each: the text has as many (see `placeholders`).
        Value::Integers(list) => list.into_iter().fold(query, Query::bind),
        Value::TextList(list) => query.bind(list.map(json_list)),
    }
}
