//! Each dispute's Freshdesk ticket (`freshdesk_tickets`): the flows of
//! [`disputes_rows::flows::tickets`] with PostgreSQL's SQL.

use async_trait::async_trait;
use disputes_domain::{DisputeId, TenantId};
use disputes_ports::{StoreError, Ticket, TicketStore};
use disputes_rows::flows::tickets as flow;
use disputes_rows::TICKET_COLUMNS;

use crate::PgStore;

#[async_trait]
impl TicketStore for PgStore {
    async fn ticket(
        &self,
        tenant: &TenantId,
        dispute: DisputeId,
    ) -> Result<Option<Ticket>, StoreError> {
        let sql = format!(
            "SELECT {TICKET_COLUMNS} FROM freshdesk_tickets WHERE tenant = $1 AND dispute_id = $2"
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
             WHERE tenant = $1 AND dispute_id = ANY($2) ORDER BY dispute_id"
        );
        flow::tickets(self, &sql, tenant, disputes).await
    }

    async fn save_ticket(&self, ticket: &Ticket) -> Result<(), StoreError> {
        // `status` is a SMALLINT; the INTEGER bound to it is cast on assignment.
        let sql = "INSERT INTO freshdesk_tickets \
             (tenant, dispute_id, ticket_id, url, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (tenant, dispute_id) DO UPDATE SET ticket_id = excluded.ticket_id, \
             url = excluded.url, status = excluded.status, updated_at = excluded.updated_at";
        flow::save_ticket(self, sql, ticket).await
    }
}
