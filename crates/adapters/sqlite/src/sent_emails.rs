//! The record of sent notification mail (`sent_emails`).

use async_trait::async_trait;
use disputes_domain::{DisputeId, TenantId};
use disputes_ports::{SentEmail, SentEmails, StoreError};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};

use crate::error::{corrupt, store_error};
use crate::mapping::{parse_time, time_text};
use crate::SqliteStore;

#[async_trait]
impl SentEmails for SqliteStore {
    async fn record_sent(&self, email: &SentEmail) -> Result<(), StoreError> {
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
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT dispute_id, event_id, recipient, subject, template, sent_at FROM sent_emails \
             WHERE tenant = ",
        );
        query
            .push_bind(tenant.as_str())
            .push(" AND dispute_id IN (");
        let mut ids = query.separated(", ");
        for dispute in disputes {
            ids.push_bind(dispute.get());
        }
        query.push(") ORDER BY sent_at, id");
        let rows = query
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        rows.iter().map(|row| sent_from_row(tenant, row)).collect()
    }
}

fn sent_from_row(tenant: &TenantId, row: &SqliteRow) -> Result<SentEmail, StoreError> {
    let dispute: i64 = row.try_get("dispute_id").map_err(store_error)?;
    let event: String = row.try_get("event_id").map_err(store_error)?;
    let sent_at: String = row.try_get("sent_at").map_err(store_error)?;
    Ok(SentEmail {
        tenant: tenant.clone(),
        dispute: DisputeId::new(dispute).map_err(|e| corrupt("sent_emails.dispute_id", e))?,
        event: event.parse()?,
        recipient: row.try_get("recipient").map_err(store_error)?,
        subject: row.try_get("subject").map_err(store_error)?,
        template: row.try_get("template").map_err(store_error)?,
        sent_at: parse_time(&sent_at).map_err(|e| corrupt("sent_emails.sent_at", e))?,
    })
}
