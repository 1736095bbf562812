//! The conformance suites of the driven ports: what a store (or any other implementation of a
//! port) must do, written once as test cases that every implementation runs in its own tests.
//! They are the checklist of `docs/extending.md`: an implementation is done when every case
//! passes. Stores use this crate as a dev-dependency only.
//!
//! ```text
//! disputes_conformance::repository_conformance_suite!(my_store::fresh_for_test());
//! disputes_conformance::idempotency_conformance_suite!(my_store::fresh_for_test());
//! disputes_conformance::ticket_store_conformance_suite!(my_store::fresh_for_test());
//! disputes_conformance::deadline_conformance_suite!(my_store::fresh_for_test());
//! ```

pub mod deadlines;
pub mod idempotency;
pub mod repository;
pub mod tickets;

pub use repository::{bill_dispute, bill_item, delivery, event_dispute, invoice, Store};
