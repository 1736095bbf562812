//! PostgreSQL under the flows both stores share ([`disputes_rows::Sql`]): their [`Value`]s
//! bound in PostgreSQL's column types, their write transactions plain `BEGIN`s (what must not
//! interleave is locked by the statements themselves, row by row).

use async_trait::async_trait;
use disputes_ports::StoreError;
use disputes_rows::{Answer, Fetch, Sql, Statement, Value};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::{PgConnection, Postgres, Transaction};

use crate::error::store_error;
use crate::mapping::Stored;
use crate::PgStore;

#[async_trait]
impl Sql for PgStore {
    type Row = Stored<PgRow>;
    type Write = Transaction<'static, Postgres>;

    async fn begin(&self) -> Result<Self::Write, StoreError> {
        self.pool.begin().await.map_err(store_error)
    }

    async fn commit(&self, write: Self::Write) -> Result<(), StoreError> {
        write.commit().await.map_err(store_error)
    }

    async fn run(
        &self,
        write: Option<&mut Self::Write>,
        statement: Statement<'_>,
    ) -> Result<Answer<Self::Row>, StoreError> {
        let mut pooled;
        let conn: &mut PgConnection = match write {
            Some(write) => write,
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

type Query<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

/// Binds `value` to `query`'s next placeholder in PostgreSQL's column type.
fn bind(query: Query<'_>, value: Value) -> Query<'_> {
    match value {
        Value::Text(v) => query.bind(v),
        Value::Integer(v) => query.bind(v),
        Value::SmallInteger(v) => query.bind(v),
        Value::Flag(v) => query.bind(v),
        Value::Decimal(v) => query.bind(v),
        Value::Time(v) => query.bind(v),
        Value::Bytes(v) => query.bind(v),
        // One `BIGINT[]`, for `= ANY($n)`.
        Value::Integers(list) => query.bind(list),
        Value::TextList(list) => query.bind(list),
    }
}
