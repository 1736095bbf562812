//! The record of sent notification mail (`sent_emails`).

use async_trait::async_trait;
use disputes_domain::{DisputeId, TenantId};
use disputes_ports::{SentEmail, SentEmails, StoreError};
use disputes_rows::{self as rows, SENT_EMAIL_COLUMNS};
use sqlx::{QueryBuilder, Sqlite};

use crate::error::store_error;
use crate::mapping::{push_tenant_disputes, time_text, Stored};
use crate::SqliteStore;

#[async_trait]
impl SentEmails for SqliteStore {
    async fn record_sent(&self, email: &SentEmail) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        sqlx::query(
            "INSERT INTO sent_emails \
             (tenant, dispute_id, event_id, recipient, subject, template, sent_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id, recipient) DO NOTHING",
        )
        .bind(email.tenant.as_str())
        .bind(email.dispute.get())
        .bind(email.event.as_str())
        .bind(&email.recipient)
        .bind(&email.subject)
        .bind(&email.template)
        .bind(time_text(email.sent_at))
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
        let mut query =
            QueryBuilder::<Sqlite>::new(format!("SELECT {SENT_EMAIL_COLUMNS} FROM sent_emails"));
        push_tenant_disputes(&mut query, tenant, disputes);
        query.push(" ORDER BY sent_at, id");
        let found = query
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        found
            .iter()
            .map(|row| rows::sent_email_from_row(tenant, &Stored(row)))
            .collect()
    }
}
