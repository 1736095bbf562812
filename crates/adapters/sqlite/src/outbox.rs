//! The outbox of notification jobs: enqueued by the repository inside its write transactions,
//! leased and marked by dispatchers; and the webhooks that some of them go to.

use async_trait::async_trait;
use disputes_domain::{EntryKind, TenantId, Timestamp};
use disputes_ports::idempotency::Reservation;
use disputes_ports::{
    DeadLetter, EventId, Notification, Outbox, OutboxJob, Registration, Replay, StoreError,
    Webhook, WebhookRegistry,
};
use disputes_rows::flows::outbox as flow;
use disputes_rows::{Sql, DEAD_LETTER_COLUMNS, OUTBOX_JOB_COLUMNS, WEBHOOK_COLUMNS};

use crate::batch::Batch;
use crate::mapping::Building;
use crate::SqliteStore;

/// Adds the insert of `outbox` for dispute `dispute_id` to `batch`, so that the jobs commit or
/// roll back with the caller's transaction.
pub(crate) fn enqueue<'a>(
    batch: &mut Batch<'a>,
    tenant: &'a TenantId,
    dispute_id: i64,
    outbox: &'a [Notification],
) {
    if outbox.is_empty() {
        return;
    }
    flow::enqueue(
        tenant,
        dispute_id,
        outbox,
        &mut Building(batch.statement("")),
    );
    batch.inserts(outbox.len());
}

#[async_trait]
impl Outbox for SqliteStore {
    async fn lease(
        &self,
        now: Timestamp,
        lease: chrono::Duration,
        limit: u16,
    ) -> Result<Vec<OutboxJob>, StoreError> {
        // The write lock, taken up front, makes the select and the update one step: no other
        // lease can read the same due jobs in between.
        let sql = format!(
            "UPDATE outbox_jobs SET attempts = attempts + 1, next_attempt_at = ? \
             WHERE id IN (SELECT id FROM outbox_jobs \
                          WHERE delivered_at IS NULL AND dead_lettered_at IS NULL \
                            AND next_attempt_at <= ? \
                          ORDER BY next_attempt_at, id LIMIT ?) \
             RETURNING {OUTBOX_JOB_COLUMNS}"
        );
        let mut write = self.begin().await?;
        let params = flow::lease_params(now, lease, limit);
        let rows = self.fetch_all_in(&mut write, &sql, params).await?;
        self.commit(write).await?;
        flow::leased(&rows)
    }

    async fn delivered(&self, job: i64, at: Timestamp) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        let sql = "UPDATE outbox_jobs SET delivered_at = ? WHERE id = ? AND delivered_at IS NULL";
        flow::delivered(self, sql, job, at).await
    }

    async fn retry_at(&self, job: i64, at: Timestamp, error: &str) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        let sql = "UPDATE outbox_jobs SET next_attempt_at = ?, last_error = ? \
             WHERE id = ? AND delivered_at IS NULL";
        flow::failed_attempt(self, sql, job, at, error).await
    }

    async fn dead_letter(&self, job: i64, at: Timestamp, error: &str) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        let sql = "UPDATE outbox_jobs SET dead_lettered_at = ?, last_error = ? \
             WHERE id = ? AND delivered_at IS NULL";
        flow::failed_attempt(self, sql, job, at, error).await
    }

    async fn dead_letters(&self, limit: u16) -> Result<Vec<DeadLetter>, StoreError> {
        let sql = format!(
            "SELECT {DEAD_LETTER_COLUMNS} FROM outbox_jobs \
             WHERE dead_lettered_at IS NOT NULL AND delivered_at IS NULL ORDER BY id LIMIT ?"
        );
        flow::dead_letters(self, &sql, limit).await
    }

    async fn replay(&self, which: Replay, now: Timestamp) -> Result<u64, StoreError> {
        let _turn = self.write_turn().await;
        let all = "UPDATE outbox_jobs \
             SET dead_lettered_at = NULL, attempts = 0, next_attempt_at = ?, replayed_at = ? \
             WHERE dead_lettered_at IS NOT NULL AND delivered_at IS NULL";
        let one = format!("{all} AND id = ?");
        flow::replay(self, &one, all, which, now).await
    }

    async fn prune_delivered(&self, before: Timestamp, limit: u16) -> Result<u64, StoreError> {
        let _turn = self.write_turn().await;
        let sql = "DELETE FROM outbox_jobs WHERE id IN (SELECT id FROM outbox_jobs \
             WHERE delivered_at IS NOT NULL AND delivered_at < ? ORDER BY delivered_at LIMIT ?)";
        flow::prune_delivered(self, sql, before, limit).await
    }
}

#[async_trait]
impl WebhookRegistry for SqliteStore {
    async fn add_webhook(
        &self,
        tenant: &TenantId,
        registration: &Registration,
        secret: &str,
        at: Timestamp,
        key: Option<Reservation>,
    ) -> Result<Webhook, StoreError> {
        let sql = flow::AddWebhookSql {
            insert: "INSERT INTO webhooks \
                 (tenant, url, secret, created_at, events, label, developer_id) \
                 VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            record: "UPDATE idempotency_keys SET webhook_id = ? WHERE tenant = ? \
                 AND principal = ? AND idempotency_key = ? AND token = ?",
        };
        flow::add_webhook(self, &sql, tenant, registration, secret, at, key.as_ref()).await
    }

    async fn webhook(&self, tenant: &TenantId, id: i64) -> Result<Option<Webhook>, StoreError> {
        let sql = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE tenant = ? AND id = ?");
        flow::webhook(self, &sql, tenant, id).await
    }

    async fn webhooks_pending(
        &self,
        tenant: &TenantId,
        event: &EventId,
        kind: EntryKind,
    ) -> Result<Vec<Webhook>, StoreError> {
        let sql = format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks w WHERE tenant = ? AND NOT EXISTS \
             (SELECT 1 FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.event_id = ?) \
             ORDER BY id"
        );
        flow::webhooks_pending(self, &sql, tenant, event, kind).await
    }

    async fn webhook_delivered(
        &self,
        webhook: i64,
        event: &EventId,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        let sql = "INSERT INTO webhook_deliveries (webhook_id, event_id, delivered_at) \
             VALUES (?, ?, ?) ON CONFLICT DO NOTHING";
        flow::webhook_delivered(self, sql, webhook, event, at).await
    }
}
