//! Each dispute's Freshdesk ticket (`freshdesk_tickets`): the flows of
//! [`disputes_rows::flows::tickets`] with SQLite's SQL.

use async_trait::async_trait;
use disputes_domain::{DisputeId, TenantId};
use disputes_ports::{StoreError, Ticket, TicketStore};
use disputes_rows::flows::tickets as flow;
use disputes_rows::TICKET_COLUMNS;

use crate::mapping::placeholders;
use crate::SqliteStore;

#[async_trait]
impl TicketStore for SqliteStore {
    async fn ticket(
        &self,
        tenant: &TenantId,
        dispute: DisputeId,
    ) -> Result<Option<Ticket>, StoreError> {
        let sql = format!(
            "SELECT {TICKET_COLUMNS} FROM freshdesk_tickets WHERE tenant = ? AND dispute_id = ?"
        );
        flow::ticket(self, &sql, tenant, dispute).await
    }

    async fn tickets(
        &self,
        tenant: &TenantId,
        disputes: &[DisputeId],
    ) -> Result<Vec<Ticket>, StoreError> {
        let sql = format!(
            "SELECT {TICKET_COLUMNS} FROM freshdesk_tickets \
             WHERE tenant = ? AND dispute_id IN ({}) ORDER BY dispute_id",
            placeholders(disputes.len())
        );
        flow::tickets(self, &sql, tenant, disputes).await
    }

    async fn save_ticket(&self, ticket: &Ticket) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        let sql = "INSERT INTO freshdesk_tickets \
             (tenant, dispute_id, ticket_id, url, status, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (tenant, dispute_id) DO UPDATE SET ticket_id = excluded.ticket_id, \
             url = excluded.url, status = excluded.status, updated_at = excluded.updated_at";
        flow::save_ticket(self, sql, ticket).await
    }
}
