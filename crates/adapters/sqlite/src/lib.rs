//! The embedded store: disputes, tenants and API keys in one SQLite file, through sqlx.
//!
//! [`SqliteStore`] implements the [`DisputeRepository`](disputes_ports::DisputeRepository),
//! [`CredentialStore`](disputes_ports::CredentialStore) and
//! [`ReasonCatalog`](disputes_ports::ReasonCatalog) and [`Outbox`](disputes_ports::Outbox)
//! ports: a create or update enqueues its notification jobs in its own transaction. What it stores reads back exactly:
//! amounts as decimal text (scale kept), instants as fixed-width UTC text with microseconds, the
//! evidence in its canonical form, and the timeline one row per entry with its hashes, so that
//! [`Dispute::verify`](disputes_domain::Dispute::verify) detects any edit made behind its back.
//!
//! Writes take SQLite's write lock up front (`BEGIN IMMEDIATE`), which makes the duplicate check
//! and the insert of `create` atomic; reads run in a transaction so that a dispute and its
//! timeline come from one snapshot. The file runs in WAL mode, so reads never wait for a write.

mod batch;
mod credentials;
mod deadlines;
mod error;
mod group;
mod idempotency;
mod mapping;
mod operations;
mod outbox;
mod policies;
mod reasons;
mod repository;
mod sent_emails;
mod sql;
mod tickets;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use error::SqliteError;

/// The schema, embedded at build time from `migrations/`.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// How long a statement waits for another connection's lock before giving up with "busy".
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The store. Cloning is cheap and shares the connection pool and the writers' queue.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// SQLite has one writer at a time. Writers of this process wait their turn here, in
    /// order, instead of inside SQLite's busy handler, which polls with sleeps of up to 100 ms
    /// and made the tail of concurrent opens hundreds of milliseconds long (docs/benchmarks.md).
    /// Other processes on the same file still meet the busy timeout.
    /// Creates and updates queued here share one transaction (`group`).
    writers: Arc<tokio::sync::Mutex<group::Turn>>,
}

pub(crate) use group::WriteTurn;

impl SqliteStore {
    /// Opens (creating if missing, with its parent directories) the database at `url` and brings
    /// its schema up to date.
    ///
    /// `url` is `sqlite://path/to/file.db` (relative to the working directory, or
    /// `sqlite:///absolute/path.db`) or an in-memory database such as `sqlite::memory:`, which
    /// lives as long as this store and its clones.
    ///
    /// # Errors
    /// When the URL is malformed, the directory or file cannot be created, the database cannot
    /// be opened, or a migration fails.
    pub async fn connect(url: &str) -> Result<SqliteStore, SqliteError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(SqliteError::InvalidUrl)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            // Safe with WAL: a power loss may drop the last commits but never corrupts the file.
            .synchronous(SqliteSynchronous::Normal);
        // sqlx pings a pooled connection before handing it out, a check meant for connections
        // over a network. Here it is one more trip to the connection's worker thread, and a
        // writer makes it while holding its turn (`begin_write`). A broken file shows on the
        // statement itself.
        let pool_options = if is_in_memory(url) {
            // An in-memory database vanishes with its last connection, and each connection would
            // otherwise see a database of its own: keep exactly one, forever.
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            create_parent_dir(options.get_filename())?;
            SqlitePoolOptions::new()
        };
        let pool = pool_options
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(SqliteError::Connect)?;
        let store = SqliteStore {
            pool,
            writers: Arc::new(tokio::sync::Mutex::new(group::Turn::default())),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies the embedded migrations that have not run yet. [`connect`](Self::connect) already
    /// does; this is for a store whose schema may have been changed underneath it.
    ///
    /// # Errors
    /// When a migration fails or the database's migration history does not match this build.
    pub async fn migrate(&self) -> Result<(), SqliteError> {
        MIGRATOR.run(&self.pool).await.map_err(SqliteError::Migrate)
    }

    /// This process's next turn to write, for a single writing statement (which SQLite runs as
    /// a transaction of its own). A batch of creates and updates left open for the writers
    /// queued behind it is committed first, so this write comes after them.
    pub(crate) async fn write_turn(&self) -> WriteTurn {
        let turn = self.writers.clone().lock_owned().await;
        group::Turn::settle(&self.writers, turn).await
    }

    /// Begins a write transaction (`BEGIN IMMEDIATE`: SQLite's write lock taken at once, so a
    /// check and the write that depends on it are one step) once this process's earlier writers
    /// are done. Keep the turn until the transaction is committed or dropped.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<(WriteTurn, sqlx::Transaction<'static, sqlx::Sqlite>), sqlx::Error> {
        let turn = self.write_turn().await;
        let tx = self.begin_immediate().await?;
        Ok((turn, tx))
    }

    /// `BEGIN IMMEDIATE` on a pooled connection, on a task of its own. A caller's future dropped
    /// while the `BEGIN` was on its way would give the connection back to the pool inside the
    /// transaction, holding SQLite's write lock until someone used that connection again: every
    /// other writer met "database is busy". The task always ends with a `Transaction`, which
    /// rolls back when dropped.
    pub(crate) async fn begin_immediate(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        let pool = self.pool.clone();
        tokio::spawn(async move { pool.begin_with(repository::BEGIN_WRITE).await })
            .await
            .map_err(|e| sqlx::Error::Protocol(format!("beginning a write did not finish: {e}")))?
    }

    /// The connection pool, for tests and tools that need to reach the tables directly
    /// (`disputes`, `dispute_screens`, `timeline_entries`,
    /// `dispute_messages`, `tenants`, `api_keys`, `reason_codes`, `outbox_jobs`).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// Whether `url` names an in-memory database, read the way sqlx reads it (`sqlite::memory:`,
/// `sqlite://:memory:`, `...?mode=memory`). sqlx keeps that to itself once parsed.
/// The database file a `sqlite:` URL names, as [`SqliteStore::connect`] opens it; `None` for
/// an in-memory database or a URL it would refuse.
pub fn database_file(url: &str) -> Option<PathBuf> {
    if is_in_memory(url) {
        return None;
    }
    SqliteConnectOptions::from_str(url)
        .ok()
        .map(|options| options.get_filename().to_owned())
}

fn is_in_memory(url: &str) -> bool {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (database, params) = rest.split_once('?').unwrap_or((rest, ""));
    database == ":memory:" || params.split('&').any(|param| param == "mode=memory")
}

/// SQLite creates a missing file but not a missing directory.
fn create_parent_dir(file: &Path) -> Result<(), SqliteError> {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => {
            // Blocking, but once at startup and quick.
            std::fs::create_dir_all(dir).map_err(|source| SqliteError::CreateDir {
                path: dir.to_owned(),
                source,
            })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_file_is_the_one_connect_opens() {
        for (url, file) in [
            ("sqlite://data/disputes.db", "data/disputes.db"),
            ("sqlite:data/disputes.db", "data/disputes.db"),
            ("sqlite:///tmp/x.db?mode=rwc", "/tmp/x.db"),
        ] {
            assert_eq!(database_file(url), Some(PathBuf::from(file)), "{url}");
        }
        assert_eq!(database_file("sqlite::memory:"), None);
    }

    #[test]
    fn in_memory_urls_are_recognised() {
        for url in [
            "sqlite::memory:",
            "sqlite://:memory:",
            "sqlite://?mode=memory",
            "sqlite:x.db?cache=shared&mode=memory",
        ] {
            assert!(is_in_memory(url), "{url}");
        }
        for url in [
            "sqlite://data/disputes.db",
            "sqlite:///tmp/memory.db",
            "sqlite://x.db?mode=rwc",
        ] {
            assert!(!is_in_memory(url), "{url}");
        }
    }
}
