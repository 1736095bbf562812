//! Each dispute's Freshdesk ticket (`freshdesk_tickets`).

use async_trait::async_trait;
use disputes_domain::{DisputeId, TenantId};
use disputes_ports::{StoreError, Ticket, TicketStore};
use disputes_rows::{self as rows, TICKET_COLUMNS};
use sqlx::{QueryBuilder, Sqlite};

use crate::error::store_error;
use crate::mapping::{push_tenant_disputes, time_text, Stored};
use crate::SqliteStore;

/// Reads every ticket column; a caller appends its `WHERE`.
fn select_tickets() -> String {
    format!("SELECT {TICKET_COLUMNS} FROM freshdesk_tickets")
}

#[async_trait]
impl TicketStore for SqliteStore {
    async fn ticket(
        &self,
        tenant: &TenantId,
        dispute: DisputeId,
    ) -> Result<Option<Ticket>, StoreError> {
        let row = sqlx::query(&format!(
            "{} WHERE tenant = ? AND dispute_id = ?",
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
        let mut query = QueryBuilder::<Sqlite>::new(select_tickets());
        push_tenant_disputes(&mut query, tenant, disputes);
        query.push(" ORDER BY dispute_id");
        let found = query
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        found
            .iter()
            .map(|row| rows::ticket_from_row(tenant, &Stored(row)))
            .collect()
    }

    async fn save_ticket(&self, ticket: &Ticket) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        sqlx::query(
            "INSERT INTO freshdesk_tickets \
             (tenant, dispute_id, ticket_id, url, status, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (tenant, dispute_id) DO UPDATE SET ticket_id = excluded.ticket_id, \
             url = excluded.url, status = excluded.status, updated_at = excluded.updated_at",
        )
        .bind(ticket.tenant.as_str())
        .bind(ticket.dispute.get())
        .bind(ticket.id)
        .bind(&ticket.url)
        .bind(ticket.status.code())
        .bind(time_text(ticket.created_at))
        .bind(time_text(ticket.updated_at))
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(())
    }
}
