//! Each dispute's Freshdesk ticket (`freshdesk_tickets`).

use async_trait::async_trait;
use disputes_domain::{DisputeId, TenantId};
use disputes_ports::{StoreError, Ticket, TicketStatus, TicketStore};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};

use crate::error::{corrupt, store_error};
use crate::mapping::{parse_time, time_text};
use crate::SqliteStore;

const COLUMNS: &str =
    "SELECT dispute_id, ticket_id, url, status, created_at, updated_at FROM freshdesk_tickets";

fn ticket_from_row(tenant: &TenantId, row: &SqliteRow) -> Result<Ticket, StoreError> {
    let dispute: i64 = row.try_get("dispute_id").map_err(store_error)?;
    let status: i64 = row.try_get("status").map_err(store_error)?;
    let time = |column: &str| -> Result<_, StoreError> {
        let text: String = row.try_get(column).map_err(store_error)?;
        parse_time(&text).map_err(|e| corrupt(column, e))
    };
    Ok(Ticket {
        tenant: tenant.clone(),
        dispute: DisputeId::new(dispute).map_err(|e| corrupt("dispute_id", e))?,
        id: row.try_get("ticket_id").map_err(store_error)?,
        url: row.try_get("url").map_err(store_error)?,
        status: TicketStatus::from_code(status)
            .ok_or_else(|| corrupt("status", format!("unknown ticket status {status}")))?,
        created_at: time("created_at")?,
        updated_at: time("updated_at")?,
    })
}

#[async_trait]
impl TicketStore for SqliteStore {
    async fn ticket(
        &self,
        tenant: &TenantId,
        dispute: DisputeId,
    ) -> Result<Option<Ticket>, StoreError> {
        let row = sqlx::query(&format!("{COLUMNS} WHERE tenant = ? AND dispute_id = ?"))
            .bind(tenant.as_str())
            .bind(dispute.get())
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?;
        row.map(|row| ticket_from_row(tenant, &row)).transpose()
    }

    async fn tickets(
        &self,
        tenant: &TenantId,
        disputes: &[DisputeId],
    ) -> Result<Vec<Ticket>, StoreError> {
        if disputes.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = QueryBuilder::<Sqlite>::new(COLUMNS);
        query.push(" WHERE tenant = ").push_bind(tenant.as_str());
        query.push(" AND dispute_id IN (");
        let mut ids = query.separated(", ");
        for id in disputes {
            ids.push_bind(id.get());
        }
        query.push(") ORDER BY dispute_id");
        let rows = query
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        rows.iter()
            .map(|row| ticket_from_row(tenant, row))
            .collect()
    }

    async fn save_ticket(&self, ticket: &Ticket) -> Result<(), StoreError> {
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
