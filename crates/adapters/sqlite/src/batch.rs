//! Several writing statements sent to SQLite in one go.
//!
//! Every statement sqlx runs is a trip to the connection's worker thread and back to a tokio
//! task that competes with the HTTP requests for the cores. Inside a write transaction those
//! trips are the critical section that all writers of the file queue for, so a create's five
//! inserts, run one by one, made it about twice as long as the work in SQLite itself
//! (docs/benchmarks.md). sqlx's SQLite driver runs a query text of several statements, each
//! taking the next of the bound arguments, as one command on its worker thread: one trip.
//!
//! sqlx calls several statements in one query deprecated (launchbadge/sqlx#3108) and may drop
//! them in a later major version; the conformance suite then fails on every create, not silently.

use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

/// Statements to run in one trip, on a connection inside a write transaction.
pub(crate) struct Batch<'a> {
    query: QueryBuilder<'a, Sqlite>,
    empty: bool,
    /// The rows the `INSERT ... VALUES` statements so far insert when they succeed: each
    /// exactly its tuples (none has an `ON CONFLICT` clause that could skip one). What the batch
    /// changes beyond this is what the other statements changed.
    inserted: u64,
}

impl<'a> Batch<'a> {
    pub(crate) fn new() -> Batch<'a> {
        Batch {
            query: QueryBuilder::new(""),
            empty: true,
            inserted: 0,
        }
    }

    /// Starts the next statement with `sql`, to be completed on the returned builder.
    pub(crate) fn statement(&mut self, sql: &str) -> &mut QueryBuilder<'a, Sqlite> {
        if !self.empty {
            self.query.push(";\n");
        }
        self.empty = false;
        self.query.push(sql)
    }

    /// Counts `rows` inserted by the statement just added (an `INSERT ... VALUES` of that many
    /// tuples).
    pub(crate) fn inserts(&mut self, rows: usize) {
        self.inserted += u64::try_from(rows).unwrap_or(u64::MAX);
    }

    /// Runs the statements in order and returns how many rows the statements that are not
    /// counted inserts changed. The first statement that fails stops the batch; the caller's
    /// transaction then holds the effect of those before it, so it must roll back (drop it).
    pub(crate) async fn run(mut self, conn: &mut SqliteConnection) -> Result<u64, sqlx::Error> {
        if self.empty {
            return Ok(0);
        }
        let done = self.query.build().execute(conn).await?;
        Ok(done.rows_affected().saturating_sub(self.inserted))
    }
}
