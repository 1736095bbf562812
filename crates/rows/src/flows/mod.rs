//! The ports' operations as both stores run them, written once over [`Sql`](crate::Sql): which
//! statements run in which order, what is bound to them, how their rows become records and what
//! their outcome means. A store implements a port by calling these with its own SQL text (its
//! placeholders, types and locking clauses), bound in the order each function documents.

pub mod credentials;
pub mod deadlines;
pub mod disputes;
pub mod idempotency;
pub mod operations;
pub mod outbox;
pub mod policies;
pub mod reasons;
pub mod sent_emails;
pub mod tickets;

use disputes_domain::DisputeId;

use crate::Value;

/// The ids of `disputes` as one [`Value::Integers`].
fn dispute_ids(disputes: &[DisputeId]) -> Value {
    Value::Integers(disputes.iter().map(|d| d.get()).collect())
}
