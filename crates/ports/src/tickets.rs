//! Help-desk tickets: the ticket a desk (Freshdesk) opened for a dispute, kept on the dispute so
//! that later events add to that ticket instead of opening another, and so that the contracts
//! can show it.

use std::fmt;

use async_trait::async_trait;
use disputes_domain::{DisputeId, TenantId, Timestamp};

use crate::StoreError;

/// Where a desk's ticket stands. Each adapter writes it its own way (the Freshdesk sink by
/// Freshdesk's numbers, the stores by their column's codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TicketStatus {
    Open,
    Pending,
    Resolved,
    Closed,
}

impl TicketStatus {
    /// Every status, in the desk's order.
    pub const ALL: &'static [TicketStatus] = &[
        TicketStatus::Open,
        TicketStatus::Pending,
        TicketStatus::Resolved,
        TicketStatus::Closed,
    ];

    /// The name the contracts show (`open`, `pending`, `resolved`, `closed`).
    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::Open => "open",
            TicketStatus::Pending => "pending",
            TicketStatus::Resolved => "resolved",
            TicketStatus::Closed => "closed",
        }
    }
}

impl fmt::Display for TicketStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The desk ticket of one dispute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub tenant: TenantId,
    pub dispute: DisputeId,
    /// The desk's id of the ticket.
    pub id: i64,
    /// Where an agent opens it.
    pub url: String,
    pub status: TicketStatus,
    /// When it was first recorded; kept when the ticket is recorded again.
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Where each dispute's desk ticket is kept: at most one per dispute.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait TicketStore: Send + Sync + std::fmt::Debug {
    /// The ticket of `tenant`'s dispute `dispute`, if one was recorded. MUST return `None` for
    /// another tenant's dispute.
    async fn ticket(
        &self,
        tenant: &TenantId,
        dispute: DisputeId,
    ) -> Result<Option<Ticket>, StoreError>;

    /// The tickets of those of `disputes` that have one, for a page of disputes.
    async fn tickets(
        &self,
        tenant: &TenantId,
        disputes: &[DisputeId],
    ) -> Result<Vec<Ticket>, StoreError>;

    /// Records `ticket` as its dispute's; recording one again replaces its id, url, status and
    /// `updated_at` (the `created_at` first stored stays).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the tenant does not exist.
    async fn save_ticket(&self, ticket: &Ticket) -> Result<(), StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_have_the_names_the_contracts_show() {
        let names: Vec<_> = TicketStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names, ["open", "pending", "resolved", "closed"]);
    }
}
