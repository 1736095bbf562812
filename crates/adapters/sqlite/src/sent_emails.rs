//! The record of sent notification mail (`sent_emails`): the flows of
//! [`disputes_rows::flows::sent_emails`] with SQLite's SQL.

use async_trait::async_trait;
use disputes_domain::{DisputeId, TenantId};
use disputes_ports::{SentEmail, SentEmails, StoreError};
use disputes_rows::flows::sent_emails as flow;
use disputes_rows::SENT_EMAIL_COLUMNS;

use crate::mapping::placeholders;
use crate::SqliteStore;

#[async_trait]
impl SentEmails for SqliteStore {
    async fn record_sent(&self, email: &SentEmail) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        let sql = "INSERT INTO sent_emails \
             (tenant, dispute_id, event_id, recipient, subject, template, sent_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id, recipient) DO NOTHING";
        flow::record_sent(self, sql, email).await
    }

    async fn sent_for(
        &self,
        tenant: &TenantId,
        disputes: &[DisputeId],
    ) -> Result<Vec<SentEmail>, StoreError> {
        let sql = format!(
            "SELECT {SENT_EMAIL_COLUMNS} FROM sent_emails \
             WHERE tenant = ? AND dispute_id IN ({}) ORDER BY sent_at, id",
            placeholders(disputes.len())
        );
        flow::sent_for(self, &sql, tenant, disputes).await
    }
}
