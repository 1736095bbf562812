//! The checklist: every conformance suite the SQLite and PostgreSQL stores run, against the
//! in-memory store. Each case is a test of its own, on a fresh store.

use std::sync::Arc;

use disputes_example_memory_store::MemoryStore;

/// A fresh, empty store for one case. The suites take a future, since a real store connects.
async fn fresh_store() -> Arc<MemoryStore> {
    Arc::new(MemoryStore::new())
}

disputes_conformance::repository_conformance_suite!(fresh_store());
disputes_conformance::idempotency_conformance_suite!(fresh_store());
disputes_conformance::ticket_store_conformance_suite!(fresh_store());
disputes_conformance::deadline_conformance_suite!(fresh_store());
