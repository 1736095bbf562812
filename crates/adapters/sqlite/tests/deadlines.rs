//! The deadline conformance suite (tenant policies, the deadline queue, the scheduler) against a
//! SQLite file.

use std::cell::RefCell;
use std::sync::Arc;

use disputes_sqlite::SqliteStore;
use tempfile::TempDir;

thread_local! {
    /// The directories of the stores made on this thread, removed when its test ends (libtest
    /// runs each test on a thread of its own).
    static SCRATCH: RefCell<Vec<TempDir>> = const { RefCell::new(Vec::new()) };
}

/// A store on a fresh database file: WAL and several connections are part of what is tested.
async fn fresh_store() -> Arc<SqliteStore> {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("disputes.db").display());
    SCRATCH.with(|dirs| dirs.borrow_mut().push(dir));
    Arc::new(SqliteStore::connect(&url).await.unwrap())
}

disputes_conformance::deadline_conformance_suite!(fresh_store());
