//! Waiting for what happens in the background (a dispatcher delivering, a relay coming up):
//! poll with a time limit instead of sleeping a fixed time; and reading a number from a server's
//! database to see how far it got.

use std::future::Future;
use std::time::Duration;

use disputes_postgres::PgStore;
use disputes_sqlite::SqliteStore;

use super::{Server, Store};

/// How long anything in a test may usually take to happen.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Polls `done` every 100 ms until it holds or `limit` has passed; says whether it held, so the
/// caller can fail with what it saw instead.
pub async fn within<F, Fut>(limit: Duration, mut done: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if done().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls `done` every 100 ms until it holds; fails after [`PATIENCE`], saying `what` never did.
pub async fn eventually<F, Fut>(what: &str, done: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    assert!(
        within(PATIENCE, done).await,
        "waited {PATIENCE:?} in vain: {what}"
    );
}

impl Server {
    /// One number (`SELECT COUNT(*) ...`) from the server's database, read past the server.
    pub async fn count(&self, sql: &str) -> i64 {
        match self.store {
            Store::Sqlite => {
                let store = SqliteStore::connect(&self.database_url)
                    .await
                    .expect("open sqlite");
                sqlx::query_scalar::<_, i64>(sql)
                    .fetch_one(store.pool())
                    .await
            }
            Store::Postgres => {
                let store = PgStore::connect(&self.database_url)
                    .await
                    .expect("open postgres");
                sqlx::query_scalar::<_, i64>(sql)
                    .fetch_one(store.pool())
                    .await
            }
        }
        .expect("the query runs")
    }
}
