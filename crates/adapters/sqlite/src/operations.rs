//! The counts an operator monitors (`/metrics`), across tenants: disputes by status and the
//! outbox's depth. Plain aggregate reads; they take no lock a write would wait for (WAL).

use async_trait::async_trait;
use disputes_domain::{Status, Timestamp};
use disputes_ports::{OperationsStats, OutboxDepth, StoreError};
use sqlx::Row;

use crate::error::{corrupt, store_error};
use crate::mapping::time_text;
use crate::SqliteStore;

#[async_trait]
impl OperationsStats for SqliteStore {
    async fn disputes_by_status(&self) -> Result<Vec<(Status, u64)>, StoreError> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM disputes GROUP BY status")
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        rows.iter()
            .map(|row| {
                let status: String = row.try_get("status").map_err(store_error)?;
                let count: i64 = row.try_get("n").map_err(store_error)?;
                let status = status.parse::<Status>().map_err(|e| corrupt("status", e))?;
                Ok((status, u64::try_from(count).unwrap_or_default()))
            })
            .collect()
    }

    async fn outbox_depth(&self, now: Timestamp) -> Result<OutboxDepth, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS pending, \
                    COALESCE(SUM(CASE WHEN next_attempt_at <= ? THEN 1 ELSE 0 END), 0) AS due \
             FROM outbox_jobs WHERE delivered_at IS NULL",
        )
        .bind(time_text(now))
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)?;
        let pending: i64 = row.try_get("pending").map_err(store_error)?;
        let due: i64 = row.try_get("due").map_err(store_error)?;
        Ok(OutboxDepth {
            pending: u64::try_from(pending).unwrap_or_default(),
            due: u64::try_from(due).unwrap_or_default(),
        })
    }
}
