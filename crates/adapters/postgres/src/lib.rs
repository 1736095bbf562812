//! The production store: disputes, tenants and API keys in PostgreSQL, through sqlx, shared by
//! any number of server instances.
//!
//! [`PgStore`] implements the [`DisputeRepository`](disputes_ports::DisputeRepository),
//! [`CredentialStore`](disputes_ports::CredentialStore) and
//! [`ReasonCatalog`](disputes_ports::ReasonCatalog) and [`Outbox`](disputes_ports::Outbox) ports
//! with the same tables, columns and behaviour as the embedded SQLite store. What it stores reads back exactly: amounts as
//! `NUMERIC` (scale kept), instants as `TIMESTAMPTZ` (microseconds), the evidence in its
//! canonical form, and the timeline one row per entry with its hashes, so that
//! [`Dispute::verify`](disputes_domain::Dispute::verify) detects any edit made behind its back.
//!
//! Several processes may share one database:
//! - `create` takes a transaction-scoped advisory lock on the subject's conflict scope before its
//!   duplicate check, so of any number of concurrent creates for one subject, from any number of
//!   processes, exactly one succeeds;
//! - `update` is a compare-and-set on the version, serialised by the row lock;
//! - a create or update enqueues its notification jobs in its own transaction, and dispatchers
//!   claim due jobs with `FOR UPDATE SKIP LOCKED` and a lease, so no two take the same job;
//! - reads run in one `REPEATABLE READ` snapshot, so a dispute and its timeline always agree;
//! - migrations run under sqlx's advisory lock, so instances starting together are safe.
//!
//! When PostgreSQL is down the store fails fast with
//! [`StoreError::Unavailable`](disputes_ports::StoreError::Unavailable) (after at most the acquire
//! timeout, a few seconds) and recovers by itself once it is back: the pool tests a connection
//! before handing it out and replaces broken ones.

mod credentials;
mod deadlines;
mod error;
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

#[cfg(feature = "testing")]
pub mod testing;

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

pub use error::PgError;

/// The schema, embedded at build time from `migrations/`.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// How long a request waits for a connection, connecting included, before the store reports
/// itself unavailable. Short, so that a client gets its 503 while it is still waiting.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// Connections per store (per server process) unless the caller says otherwise. Modest, because
/// several instances share the server's `max_connections` (100 by default).
const MAX_CONNECTIONS: u32 = 10;

/// The name the server's sessions show in `pg_stat_activity`, unless the URL names another.
const APPLICATION_NAME: &str = "disputes";

/// The store. Cloning is cheap and shares the connection pool.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to the database at `url` with [`pool_options`](Self::pool_options) and brings its
    /// schema up to date.
    ///
    /// `url` is a libpq-style URL, `postgres://user:password@host:port/database?param=value`;
    /// an `options=-c%20search_path%3D<schema>` parameter puts the tables in that schema.
    ///
    /// # Errors
    /// When the URL is malformed, the database cannot be reached within the acquire timeout, or
    /// a migration fails.
    pub async fn connect(url: &str) -> Result<PgStore, PgError> {
        Self::connect_with(url, Self::pool_options()).await
    }

    /// [`connect`](Self::connect) with other pool settings, such as a smaller pool for tests that
    /// run many stores against one server. Start from [`pool_options`](Self::pool_options) to keep
    /// its fail-fast behaviour.
    ///
    /// # Errors
    /// As [`connect`](Self::connect).
    pub async fn connect_with(url: &str, pool_options: PgPoolOptions) -> Result<PgStore, PgError> {
        let mut options = PgConnectOptions::from_str(url).map_err(PgError::InvalidUrl)?;
        if options.get_application_name().is_none() {
            options = options.application_name(APPLICATION_NAME);
        }
        // The server's NOTICEs are chatter for a client like this one: the migrator's
        // `CREATE TABLE IF NOT EXISTS` logged `relation "_sqlx_migrations" already exists,
        // skipping` at every start. Warnings and errors still come through.
        options = options.options([("client_min_messages", "warning")]);
        let pool = pool_options
            .connect_with(options)
            .await
            .map_err(PgError::Connect)?;
        let store = PgStore { pool };
        store.migrate().await?;
        Ok(store)
    }

    /// The pool settings [`connect`](Self::connect) uses: at most 10 connections; waiting at most
    /// 3 s for one, connecting included (sqlx bounds the connect attempt by the same deadline),
    /// so an unreachable database costs a request seconds, not minutes; and every connection
    /// pinged before it is handed out, so that connections broken by a restart are replaced
    /// instead of failing a request.
    pub fn pool_options() -> PgPoolOptions {
        PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .min_connections(0)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .test_before_acquire(true)
    }

    /// Applies the embedded migrations that have not run yet. [`connect`](Self::connect) already
    /// does; this is for a store whose schema may have been changed underneath it. sqlx holds an
    /// advisory lock while migrating, so concurrent callers take turns.
    ///
    /// # Errors
    /// When a migration fails or the database's migration history does not match this build.
    pub async fn migrate(&self) -> Result<(), PgError> {
        MIGRATOR.run(&self.pool).await.map_err(PgError::Migrate)
    }

    /// The connection pool, for tests and tools that need to reach the tables directly
    /// (`disputes`, `dispute_screens`, `timeline_entries`,
    /// `dispute_messages`, `tenants`, `api_keys`, `reason_codes`, `outbox_jobs`).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}
