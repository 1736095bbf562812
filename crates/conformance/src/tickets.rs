//! The [`TicketStore`] conformance suite, beside the repository's: every store adapter runs it
//! in its own tests with
//!
//! ```text
//! disputes_conformance::ticket_store_conformance_suite!(my_store::fresh_for_test());
//! ```
//!
//! The expression is evaluated once per case and must yield a future of `Arc<S>` for a fresh,
//! empty store `S` implementing [`DisputeRepository`], [`CredentialStore`] and [`TicketStore`].

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use disputes_domain::{Dispute, DisputeId, DisputePolicy, TenantId, Timestamp};

use crate::repository::invoice;
use disputes_ports::{
    CredentialStore, DisputeRepository, StoreError, Ticket, TicketStatus, TicketStore, Write,
};

/// Runs every ticket store case as its own test against the stores `$store` makes.
#[macro_export]
macro_rules! ticket_store_conformance_suite {
    ($store:expr) => {
        mod ticket_store_conformance {
            use super::*;
            $crate::__ticket_cases!($store;
                tickets_are_recorded_per_dispute_and_scoped_by_tenant,
                recording_a_ticket_again_keeps_when_it_was_first_recorded,
                a_ticket_of_an_unknown_tenant_is_refused,
            );
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __ticket_cases {
    ($store:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let store = $store.await;
                $crate::tickets::$case(store).await;
            }
        )*
    };
}

/// What the suite needs of a store.
pub trait Store: DisputeRepository + CredentialStore + TicketStore + 'static {}
impl<T> Store for T where T: DisputeRepository + CredentialStore + TicketStore + 'static {}

fn t0() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

fn tenant(slug: &str) -> TenantId {
    TenantId::new(slug).unwrap()
}

async fn invoice_dispute<S: Store>(store: &S, slug: &str, number: &str) -> Dispute {
    let new = Dispute::open(invoice(slug, number), t0(), &DisputePolicy::default()).unwrap();
    store.create(new, &Write::default()).await.unwrap()
}

fn ticket(dispute: &Dispute, id: i64, status: TicketStatus, at: Timestamp) -> Ticket {
    Ticket {
        tenant: dispute.tenant().clone(),
        dispute: dispute.id(),
        id,
        url: format!("https://acme.freshdesk.com/a/tickets/{id}"),
        status,
        created_at: at,
        updated_at: at,
    }
}

pub async fn tickets_are_recorded_per_dispute_and_scoped_by_tenant<S: Store>(store: Arc<S>) {
    for slug in ["acme", "globex"] {
        store.create_tenant(&tenant(slug), t0()).await.unwrap();
    }
    let first = invoice_dispute(&*store, "acme", "INV-1").await;
    let second = invoice_dispute(&*store, "acme", "INV-2").await;
    let untracked = invoice_dispute(&*store, "acme", "INV-3").await;
    let a = ticket(&first, 42, TicketStatus::Open, t0());
    let b = ticket(
        &second,
        43,
        TicketStatus::Pending,
        t0() + Duration::seconds(1),
    );
    store.save_ticket(&a).await.unwrap();
    store.save_ticket(&b).await.unwrap();

    assert_eq!(
        store.ticket(&tenant("acme"), first.id()).await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(
        store.ticket(&tenant("acme"), untracked.id()).await.unwrap(),
        None
    );
    assert_eq!(
        store.ticket(&tenant("globex"), first.id()).await.unwrap(),
        None,
        "another tenant's dispute has no ticket"
    );
    let ids = [
        untracked.id(),
        second.id(),
        first.id(),
        DisputeId::new(999_999).unwrap(),
    ];
    let mut page = store.tickets(&tenant("acme"), &ids).await.unwrap();
    page.sort_by_key(|t| t.id);
    assert_eq!(page, vec![a, b]);
    assert!(store
        .tickets(&tenant("globex"), &ids)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .tickets(&tenant("acme"), &[])
        .await
        .unwrap()
        .is_empty());
}

pub async fn recording_a_ticket_again_keeps_when_it_was_first_recorded<S: Store>(store: Arc<S>) {
    store.create_tenant(&tenant("acme"), t0()).await.unwrap();
    let dispute = invoice_dispute(&*store, "acme", "INV-1").await;
    store
        .save_ticket(&ticket(&dispute, 42, TicketStatus::Open, t0()))
        .await
        .unwrap();
    let later = t0() + Duration::minutes(5);
    store
        .save_ticket(&ticket(&dispute, 42, TicketStatus::Resolved, later))
        .await
        .unwrap();
    let stored = store
        .ticket(dispute.tenant(), dispute.id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, TicketStatus::Resolved);
    assert_eq!((stored.created_at, stored.updated_at), (t0(), later));
}

pub async fn a_ticket_of_an_unknown_tenant_is_refused<S: Store>(store: Arc<S>) {
    store.create_tenant(&tenant("acme"), t0()).await.unwrap();
    let dispute = invoice_dispute(&*store, "acme", "INV-1").await;
    let mut stray = ticket(&dispute, 42, TicketStatus::Open, t0());
    stray.tenant = tenant("nobody");
    assert!(matches!(
        store.save_ticket(&stray).await,
        Err(StoreError::NotFound)
    ));
}
