//! The record of sent notification mail (`sent_emails`).

use async_trait::async_trait;
use disputes_domain::{DisputeId, TenantId, Timestamp};
use disputes_ports::{SentEmail, SentEmails, StoreError};
use sqlx::postgres::PgRow;
use sqlx::Row;

use crate::error::{corrupt, store_error};
use crate::PgStore;

#[async_trait]
impl SentEmails for PgStore {
    async fn record_sent(&self, email: &SentEmail) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sent_emails \
             (tenant, dispute_id, event_id, recipient, subject, template, sent_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (event_id, recipient) DO NOTHING",
        )
        .bind(email.tenant.as_str())
        .bind(email.dispute.get())
        .bind(email.event.as_str())
        .bind(&email.recipient)
        .bind(&email.subject)
        .bind(&email.template)
        .bind(email.sent_at)
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn sent_for(
        &self,
        tenant: &TenantId,
        disputes: &[DisputeId],
    ) -> Result<Vec<SentEmail>, StoreError> {
        if disputes.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = disputes.iter().map(|d| d.get()).collect();
        let rows = sqlx::query(
            "SELECT dispute_id, event_id, recipient, subject, template, sent_at FROM sent_emails \
             WHERE tenant = $1 AND dispute_id = ANY($2) ORDER BY sent_at, id",
        )
        .bind(tenant.as_str())
        .bind(&ids)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.iter().map(|row| sent_from_row(tenant, row)).collect()
    }
}

fn sent_from_row(tenant: &TenantId, row: &PgRow) -> Result<SentEmail, StoreError> {
    let dispute: i64 = row.try_get("dispute_id").map_err(store_error)?;
    let event: String = row.try_get("event_id").map_err(store_error)?;
    let sent_at: Timestamp = row.try_get("sent_at").map_err(store_error)?;
    Ok(SentEmail {
        tenant: tenant.clone(),
        dispute: DisputeId::new(dispute).map_err(|e| corrupt("sent_emails.dispute_id", e))?,
        event: event.parse()?,
        recipient: row.try_get("recipient").map_err(store_error)?,
        subject: row.try_get("subject").map_err(store_error)?,
        template: row.try_get("template").map_err(store_error)?,
        sent_at,
    })
}
