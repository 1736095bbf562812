//! The outbox of notification jobs: enqueued by the repository inside its write transactions,
//! leased and marked by dispatchers; and the webhooks that some of them go to, in any number of processes sharing the database.

use async_trait::async_trait;
use disputes_domain::{EntryKind, TenantId, Timestamp};
use disputes_ports::idempotency::Reservation;
use disputes_ports::{
    DeadLetter, EventId, Notification, Outbox, OutboxJob, Registration, Replay, StoreError,
    Webhook, WebhookRegistry,
};
use disputes_rows::flows::outbox as flow;
use disputes_rows::{Sql, DEAD_LETTER_COLUMNS, OUTBOX_JOB_COLUMNS, WEBHOOK_COLUMNS};
use sqlx::{PgConnection, Postgres, QueryBuilder};

use crate::error::store_error;
use crate::mapping::Building;
use crate::PgStore;

/// Inserts `outbox` for dispute `dispute_id` on the caller's connection, so that the jobs commit
/// or roll back with the caller's transaction.
pub(crate) async fn enqueue(
    conn: &mut PgConnection,
    tenant: &TenantId,
    dispute_id: i64,
    outbox: &[Notification],
) -> Result<(), StoreError> {
    if outbox.is_empty() {
        return Ok(());
    }
    let mut insert = QueryBuilder::<Postgres>::new("");
    flow::enqueue(tenant, dispute_id, outbox, &mut Building(&mut insert));
    insert.build().execute(conn).await.map_err(store_error)?;
    Ok(())
}

#[async_trait]
impl Outbox for PgStore {
    async fn lease(
        &self,
        now: Timestamp,
        lease: chrono::Duration,
        limit: u16,
    ) -> Result<Vec<OutboxJob>, StoreError> {
        // SKIP LOCKED: a job another lease has locked (and is about to lease) is passed over
        // rather than waited for, so concurrent dispatchers share the due jobs instead of
        // queueing behind one another, and never take the same one.
        let sql = format!(
            "UPDATE outbox_jobs SET attempts = attempts + 1, next_attempt_at = $1 \
             WHERE id IN (SELECT id FROM outbox_jobs \
                          WHERE delivered_at IS NULL AND dead_lettered_at IS NULL \
                            AND next_attempt_at <= $2 \
                          ORDER BY next_attempt_at, id LIMIT $3 \
                          FOR UPDATE SKIP LOCKED) \
             RETURNING {OUTBOX_JOB_COLUMNS}"
        );
        let rows = self
            .fetch_all(&sql, flow::lease_params(now, lease, limit))
            .await?;
        flow::leased(&rows)
    }

    async fn delivered(&self, job: i64, at: Timestamp) -> Result<(), StoreError> {
        let sql = "UPDATE outbox_jobs SET delivered_at = $1 WHERE id = $2 AND delivered_at IS NULL";
        flow::delivered(self, sql, job, at).await
    }

    async fn retry_at(&self, job: i64, at: Timestamp, error: &str) -> Result<(), StoreError> {
        let sql = "UPDATE outbox_jobs SET next_attempt_at = $1, last_error = $2 \
             WHERE id = $3 AND delivered_at IS NULL";
        flow::failed_attempt(self, sql, job, at, error).await
    }

    async fn dead_letter(&self, job: i64, at: Timestamp, error: &str) -> Result<(), StoreError> {
        let sql = "UPDATE outbox_jobs SET dead_lettered_at = $1, last_error = $2 \
             WHERE id = $3 AND delivered_at IS NULL";
        flow::failed_attempt(self, sql, job, at, error).await
    }

    async fn dead_letters(&self, limit: u16) -> Result<Vec<DeadLetter>, StoreError> {
        let sql = format!(
            "SELECT {DEAD_LETTER_COLUMNS} FROM outbox_jobs \
             WHERE dead_lettered_at IS NOT NULL AND delivered_at IS NULL ORDER BY id LIMIT $1"
        );
        flow::dead_letters(self, &sql, limit).await
    }

    async fn replay(&self, which: Replay, now: Timestamp) -> Result<u64, StoreError> {
        let all = "UPDATE outbox_jobs \
             SET dead_lettered_at = NULL, attempts = 0, next_attempt_at = $1, replayed_at = $2 \
             WHERE dead_lettered_at IS NOT NULL AND delivered_at IS NULL";
        let one = format!("{all} AND id = $3");
        flow::replay(self, &one, all, which, now).await
    }

    async fn prune_delivered(&self, before: Timestamp, limit: u16) -> Result<u64, StoreError> {
        // SKIP LOCKED: two dispatchers pruning at once delete different jobs, neither waits.
        let sql = "DELETE FROM outbox_jobs WHERE id IN (SELECT id FROM outbox_jobs \
             WHERE delivered_at IS NOT NULL AND delivered_at < $1 \
             ORDER BY delivered_at LIMIT $2 FOR UPDATE SKIP LOCKED)";
        flow::prune_delivered(self, sql, before, limit).await
    }
}

#[async_trait]
impl WebhookRegistry for PgStore {
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
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            record: "UPDATE idempotency_keys SET webhook_id = $1 WHERE tenant = $2 \
                 AND principal = $3 AND idempotency_key = $4 AND token = $5",
        };
        flow::add_webhook(self, &sql, tenant, registration, secret, at, key.as_ref()).await
    }

    async fn webhook(&self, tenant: &TenantId, id: i64) -> Result<Option<Webhook>, StoreError> {
        let sql = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE tenant = $1 AND id = $2");
        flow::webhook(self, &sql, tenant, id).await
    }

    async fn webhooks_pending(
        &self,
        tenant: &TenantId,
        event: &EventId,
        kind: EntryKind,
    ) -> Result<Vec<Webhook>, StoreError> {
        let sql = format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks w WHERE tenant = $1 AND NOT EXISTS \
             (SELECT 1 FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.event_id = $2) \
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
        let sql = "INSERT INTO webhook_deliveries (webhook_id, event_id, delivered_at) \
             VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
        flow::webhook_delivered(self, sql, webhook, event, at).await
    }
}
