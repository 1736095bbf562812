//! The checklist: every conformance suite the SQLite and PostgreSQL stores run, against the
//! in-memory store. Each case is a test of its own, on a fresh store.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use disputes_conformance::invoice;
use disputes_domain::{Dispute, DisputePolicy, Status, TenantId};
use disputes_example_memory_store::MemoryStore;
use disputes_ports::{
    CredentialStore, DisputeRepository, Notification, OperationsStats, Sink, Write,
};

/// A fresh, empty store for one case. The suites take a future, since a real store connects.
async fn fresh_store() -> Arc<MemoryStore> {
    Arc::new(MemoryStore::new())
}

disputes_conformance::repository_conformance_suite!(fresh_store());
disputes_conformance::idempotency_conformance_suite!(fresh_store());
disputes_conformance::ticket_store_conformance_suite!(fresh_store());
disputes_conformance::deadline_conformance_suite!(fresh_store());

/// `OperationsStats` has no suite of its own: what `/metrics` counts, checked here.
#[tokio::test]
async fn the_operations_counts_see_every_dispute_and_undelivered_job() {
    let store = fresh_store().await;
    let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
    store
        .create_tenant(&TenantId::new("acme").unwrap(), now)
        .await
        .unwrap();
    let new = Dispute::open(invoice("acme", "INV-1"), now, &DisputePolicy::default()).unwrap();
    let jobs = Notification::for_entries(&new.parts().timeline, 0, Sink::ALL);
    store.create(new, &Write::notifying(jobs)).await.unwrap();

    let by_status = store.disputes_by_status().await.unwrap();
    assert_eq!(by_status, vec![(Status::Open, 1)]);
    let depth = store.outbox_depth(now).await.unwrap();
    assert_eq!((depth.pending, depth.due), (3, 3));
    let earlier = store
        .outbox_depth(now - chrono::Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!((earlier.pending, earlier.due), (3, 0));
}
