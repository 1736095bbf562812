//! Each dispute's Freshdesk ticket (`freshdesk_tickets`).

use async_trait::async_trait;
use disputes_domain::{DisputeId, TenantId};
use disputes_ports::{StoreError, Ticket, TicketStore};
use disputes_rows::{self as rows, TICKET_COLUMNS};

use crate::error::{corrupt, store_error};
use crate::mapping::Stored;
use crate::PgStore;

/// Reads every ticket column; a caller appends its `WHERE`.
fn select_tickets() -> String {
    format!("SELECT {TICKET_COLUMNS} FROM freshdesk_tickets")
}

#[async_trait]
impl TicketStore for PgStore {
    async fn ticket(
        &self,
        tenant: &TenantId,
        dispute: DisputeId,
    ) -> Result<Option<Ticket>, StoreError> {
        let row = sqlx::query(&format!(
            "{} WHERE tenant = $1 AND dispute_id = $2",
            select_tickets()
        ))
        .bind(tenant.as_str())
        .bind(dispute.get())
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        row.map(|row| rows::ticket_from_row(tenant, &Stored(&row)))
            .transpose()
    }

    async fn tickets(
        &self,
        tenant: &TenantId,
        disputes: &[DisputeId],
    ) -> Result<Vec<Ticket>, StoreError> {
        if disputes.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = disputes.iter().map(|d| d.get()).collect();
        let found = sqlx::query(&format!(
            "{} WHERE tenant = $1 AND dispute_id = ANY($2) ORDER BY dispute_id",
            select_tickets()
        ))
        .bind(tenant.as_str())
        .bind(&ids)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        found
            .iter()
            .map(|row| rows::ticket_from_row(tenant, &Stored(row)))
            .collect()
    }

    async fn save_ticket(&self, ticket: &Ticket) -> Result<(), StoreError> {
        // Freshdesk's numbers are small (2 to 5); SMALLINT holds every one of them.
        let status = i16::try_from(ticket.status.code()).map_err(|e| corrupt("status", e))?;
        sqlx::query(
            "INSERT INTO freshdesk_tickets \
             (tenant, dispute_id, ticket_id, url, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (tenant, dispute_id) DO UPDATE SET ticket_id = excluded.ticket_id, \
             url = excluded.url, status = excluded.status, updated_at = excluded.updated_at",
        )
        .bind(ticket.tenant.as_str())
        .bind(ticket.dispute.get())
        .bind(ticket.id)
        .bind(&ticket.url)
        .bind(status)
        .bind(ticket.created_at)
        .bind(ticket.updated_at)
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(())
    }
}
