//! The outbox of notification jobs: enqueued by the repository inside its write transactions,
//! leased and marked by dispatchers; and the webhooks that some of them go to, in any number of processes sharing the database.

use async_trait::async_trait;
use disputes_domain::{TenantId, Timestamp};
use disputes_ports::{
    EventId, Notification, Outbox, OutboxJob, StoreError, Webhook, WebhookRegistry,
};
use disputes_rows::{outbox_job_from_row, webhook_from_row, WEBHOOK_COLUMNS};
use sqlx::{PgConnection, Postgres, QueryBuilder};

use crate::error::store_error;
use crate::mapping::Stored;
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
    let mut insert = QueryBuilder::<Postgres>::new(
        "INSERT INTO outbox_jobs (event_id, tenant, dispute_id, seq, kind, sink, next_attempt_at) ",
    );
    insert.push_values(outbox, |mut row, job| {
        row.push_bind(job.event.as_str())
            .push_bind(tenant.as_str())
            .push_bind(dispute_id)
            .push_bind(job.seq)
            .push_bind(job.kind.as_str())
            .push_bind(job.sink.as_str())
            .push_bind(job.due);
    });
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
        let rows = sqlx::query(
            "UPDATE outbox_jobs SET attempts = attempts + 1, next_attempt_at = $1 \
             WHERE id IN (SELECT id FROM outbox_jobs \
                          WHERE delivered_at IS NULL AND next_attempt_at <= $2 \
                          ORDER BY next_attempt_at, id LIMIT $3 \
                          FOR UPDATE SKIP LOCKED) \
             RETURNING id, event_id, tenant, dispute_id, seq, kind, sink, attempts",
        )
        .bind(now + lease)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        let mut jobs = rows
            .iter()
            .map(|row| outbox_job_from_row(&Stored(row)))
            .collect::<Result<Vec<_>, _>>()?;
        // RETURNING promises no order; hand the jobs out in the order they were enqueued.
        jobs.sort_by_key(|job| job.id);
        Ok(jobs)
    }

    async fn delivered(&self, job: i64, at: Timestamp) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox_jobs SET delivered_at = $1 WHERE id = $2 AND delivered_at IS NULL",
        )
        .bind(at)
        .bind(job)
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn retry_at(&self, job: i64, at: Timestamp, error: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox_jobs SET next_attempt_at = $1, last_error = $2 \
             WHERE id = $3 AND delivered_at IS NULL",
        )
        .bind(at)
        .bind(error)
        .bind(job)
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(())
    }
}

#[async_trait]
impl WebhookRegistry for PgStore {
    async fn add_webhook(
        &self,
        tenant: &TenantId,
        url: &str,
        secret: &str,
        at: Timestamp,
    ) -> Result<Webhook, StoreError> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO webhooks (tenant, url, secret, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(tenant.as_str())
        .bind(url)
        .bind(secret)
        .bind(at)
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(Webhook {
            id,
            tenant: tenant.clone(),
            url: url.to_owned(),
            secret: secret.to_owned(),
        })
    }

    async fn webhooks_pending(
        &self,
        tenant: &TenantId,
        event: &EventId,
    ) -> Result<Vec<Webhook>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks w WHERE tenant = $1 AND NOT EXISTS \
             (SELECT 1 FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.event_id = $2) \
             ORDER BY id"
        ))
        .bind(tenant.as_str())
        .bind(event.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.iter()
            .map(|row| webhook_from_row(tenant, &Stored(row)))
            .collect()
    }

    async fn webhook_delivered(
        &self,
        webhook: i64,
        event: &EventId,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO webhook_deliveries (webhook_id, event_id, delivered_at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(webhook)
        .bind(event.as_str())
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(())
    }
}
