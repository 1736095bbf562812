//! How the flows both stores share reach a database: [`Sql`], which each store implements once
//! for its driver, and the [`Statement`]s it runs, each the store's own SQL text with its
//! parameters as neutral [`Value`]s.
//!
//! This crate may not see sqlx (the layering test keeps the row model as store-neutral as the
//! ports), so a flow written here names no driver type: it hands a store SQL text and values, and
//! reads back rows through [`StoredRow`] or a count of changed rows.

use async_trait::async_trait;
use disputes_domain::Timestamp;
use disputes_ports::StoreError;
use rust_decimal::Decimal;

use crate::{StoredRow, Value};

/// What a statement hands back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetch {
    /// How many rows it changed.
    Count,
    /// Every row it returns.
    All,
    /// Its first row, if any; the rest are not read.
    Optional,
}

/// A statement's answer, as its [`Fetch`] asked.
#[derive(Debug)]
pub enum Answer<R> {
    /// The rows changed ([`Fetch::Count`]).
    Count(u64),
    /// The rows returned ([`Fetch::All`]; at most one for [`Fetch::Optional`]).
    Rows(Vec<R>),
}

/// One statement: SQL text in the store's dialect, its parameters in placeholder order, and
/// what it hands back.
#[derive(Debug)]
pub struct Statement<'s> {
    pub sql: &'s str,
    pub params: Vec<Value>,
    pub fetch: Fetch,
}

impl<'s> Statement<'s> {
    pub fn new(sql: &'s str, params: Vec<Value>, fetch: Fetch) -> Self {
        Statement { sql, params, fetch }
    }
}

/// A store's database, as the shared flows use it. A store implements the three required
/// methods for its driver (binding each [`Value`] in its own column type, and turning the
/// driver's errors into the port's); the rest is written here once.
#[async_trait]
pub trait Sql: Sync {
    /// A returned row, read through the neutral row model.
    type Row: StoredRow + Send;
    /// An open write transaction, holding whatever lock the store takes for one.
    type Write: Send;

    /// Begins a write transaction: what runs in it is one atomic step.
    async fn begin(&self) -> Result<Self::Write, StoreError>;

    /// Commits `write`. Dropping it instead rolls it back.
    async fn commit(&self, write: Self::Write) -> Result<(), StoreError>;

    /// Runs `statement` inside `write`, or on a pooled connection of its own without one.
    async fn run(
        &self,
        write: Option<&mut Self::Write>,
        statement: Statement<'_>,
    ) -> Result<Answer<Self::Row>, StoreError>;

    /// Runs `sql` with `params` on a pooled connection; the rows it changed.
    async fn execute(&self, sql: &str, params: Vec<Value>) -> Result<u64, StoreError> {
        let statement = Statement::new(sql, params, Fetch::Count);
        count(self.run(None, statement).await?)
    }

    /// [`execute`](Self::execute) inside `write`.
    async fn execute_in(
        &self,
        write: &mut Self::Write,
        sql: &str,
        params: Vec<Value>,
    ) -> Result<u64, StoreError> {
        let statement = Statement::new(sql, params, Fetch::Count);
        count(self.run(Some(write), statement).await?)
    }

    /// Runs `sql` with `params` on a pooled connection; every row it returns.
    async fn fetch_all(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Self::Row>, StoreError> {
        let statement = Statement::new(sql, params, Fetch::All);
        rows(self.run(None, statement).await?)
    }

    /// Runs `sql` with `params` inside `write`; every row it returns.
    async fn fetch_all_in(
        &self,
        write: &mut Self::Write,
        sql: &str,
        params: Vec<Value>,
    ) -> Result<Vec<Self::Row>, StoreError> {
        let statement = Statement::new(sql, params, Fetch::All);
        rows(self.run(Some(write), statement).await?)
    }

    /// Runs `sql` with `params` on a pooled connection; its first row, if any.
    async fn fetch_optional(
        &self,
        sql: &str,
        params: Vec<Value>,
    ) -> Result<Option<Self::Row>, StoreError> {
        let statement = Statement::new(sql, params, Fetch::Optional);
        Ok(rows(self.run(None, statement).await?)?.into_iter().next())
    }

    /// [`fetch_optional`](Self::fetch_optional) inside `write`.
    async fn fetch_optional_in(
        &self,
        write: &mut Self::Write,
        sql: &str,
        params: Vec<Value>,
    ) -> Result<Option<Self::Row>, StoreError> {
        let statement = Statement::new(sql, params, Fetch::Optional);
        Ok(rows(self.run(Some(write), statement).await?)?
            .into_iter()
            .next())
    }
}

/// The count of an answer to [`Fetch::Count`].
fn count<R>(answer: Answer<R>) -> Result<u64, StoreError> {
    match answer {
        Answer::Count(changed) => Ok(changed),
        Answer::Rows(_) => Err(StoreError::Other("rows where a count was asked".into())),
    }
}

/// The rows of an answer to [`Fetch::All`] or [`Fetch::Optional`].
fn rows<R>(answer: Answer<R>) -> Result<Vec<R>, StoreError> {
    match answer {
        Answer::Rows(rows) => Ok(rows),
        Answer::Count(_) => Err(StoreError::Other("a count where rows were asked".into())),
    }
}

/// A row a statement must return, such as an aggregate's: its absence is a driver's failure.
pub fn one<R>(row: Option<R>) -> Result<R, StoreError> {
    row.ok_or_else(|| StoreError::Other("database failure".to_owned()))
}

impl From<&str> for Value {
    fn from(text: &str) -> Value {
        Value::Text(Some(text.to_owned()))
    }
}

impl From<&String> for Value {
    fn from(text: &String) -> Value {
        Value::Text(Some(text.clone()))
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Integer(Some(n))
    }
}

/// 32-bit integers are the columns of [`Value::SmallInteger`].
impl From<i32> for Value {
    fn from(n: i32) -> Value {
        Value::SmallInteger(Some(n))
    }
}

impl From<Timestamp> for Value {
    fn from(at: Timestamp) -> Value {
        Value::Time(Some(at))
    }
}

impl From<Decimal> for Value {
    fn from(amount: Decimal) -> Value {
        Value::Decimal(Some(amount))
    }
}

impl From<&[u8]> for Value {
    fn from(bytes: &[u8]) -> Value {
        Value::Bytes(Some(bytes.to_vec()))
    }
}
