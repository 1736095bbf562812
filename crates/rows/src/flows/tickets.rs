//! The [`TicketStore`](disputes_ports::TicketStore) port on `freshdesk_tickets`.

use disputes_domain::{DisputeId, TenantId};
use disputes_ports::{StoreError, Ticket};

use super::dispute_ids;
use crate::{ticket_from_row, ticket_status_code, Sql};

/// The ticket of `dispute`, if it has one. `sql` selects [`TICKET_COLUMNS`](crate::TICKET_COLUMNS)
/// by `tenant, dispute_id`.
pub async fn ticket(
    db: &impl Sql,
    sql: &str,
    tenant: &TenantId,
    dispute: DisputeId,
) -> Result<Option<Ticket>, StoreError> {
    db.fetch_optional(sql, vec![tenant.as_str().into(), dispute.get().into()])
        .await?
        .map(|row| ticket_from_row(tenant, &row))
        .transpose()
}

/// The tickets of those of `disputes` that have one, by dispute. `sql` selects as for
/// [`ticket`], by `tenant` and the list of dispute ids (a [`Value::Integers`](crate::Value)), in
/// `dispute_id` order.
pub async fn tickets(
    db: &impl Sql,
    sql: &str,
    tenant: &TenantId,
    disputes: &[DisputeId],
) -> Result<Vec<Ticket>, StoreError> {
    if disputes.is_empty() {
        return Ok(Vec::new());
    }
    db.fetch_all(sql, vec![tenant.as_str().into(), dispute_ids(disputes)])
        .await?
        .iter()
        .map(|row| ticket_from_row(tenant, row))
        .collect()
}

/// Stores `ticket`, replacing the dispute's earlier one. `sql` inserts or updates (`tenant,
/// dispute_id, ticket_id, url, status, created_at, updated_at`).
pub async fn save_ticket(db: &impl Sql, sql: &str, ticket: &Ticket) -> Result<(), StoreError> {
    // The stored codes are small (2 to 5): a 32-bit integer, and PostgreSQL's SMALLINT, holds
    // every one of them.
    let status = ticket_status_code(ticket.status);
    let params = vec![
        ticket.tenant.as_str().into(),
        ticket.dispute.get().into(),
        ticket.id.into(),
        (&ticket.url).into(),
        status.into(),
        ticket.created_at.into(),
        ticket.updated_at.into(),
    ];
    db.execute(sql, params).await?;
    Ok(())
}
