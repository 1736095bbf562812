//! The record of sent notification mail (`sent_emails`).

use async_trait::async_trait;
use disputes_domain::{DisputeId, TenantId};
use disputes_ports::{SentEmail, SentEmails, StoreError};
use disputes_rows::{self as rows, SENT_EMAIL_COLUMNS};

use crate::error::store_error;
use crate::mapping::Stored;
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
        let found = sqlx::query(&format!(
            "SELECT {SENT_EMAIL_COLUMNS} FROM sent_emails \
             WHERE tenant = $1 AND dispute_id = ANY($2) ORDER BY sent_at, id"
        ))
        .bind(tenant.as_str())
        .bind(&ids)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        found
            .iter()
            .map(|row| rows::sent_email_from_row(tenant, &Stored(row)))
            .collect()
    }
}
