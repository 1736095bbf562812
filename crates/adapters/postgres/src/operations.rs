//! The counts an operator monitors (`/metrics`), across tenants: disputes by status and the
//! outbox's depth. Plain aggregate reads; they take no lock a write would wait for (MVCC).

use async_trait::async_trait;
use disputes_domain::{Status, Timestamp};
use disputes_ports::{OperationsStats, OutboxDepth, Sink, StoreError};
use disputes_rows::flows::operations as flow;

use crate::PgStore;

#[async_trait]
impl OperationsStats for PgStore {
    async fn disputes_by_status(&self) -> Result<Vec<(Status, u64)>, StoreError> {
        let sql = "SELECT status, COUNT(*) AS n FROM disputes GROUP BY status";
        flow::disputes_by_status(self, sql).await
    }

    async fn outbox_depth(&self, now: Timestamp) -> Result<OutboxDepth, StoreError> {
        let sql = "SELECT COUNT(*) AS pending, \
                    COALESCE(SUM(CASE WHEN next_attempt_at <= $1 THEN 1 ELSE 0 END), 0) AS due \
             FROM outbox_jobs WHERE delivered_at IS NULL AND dead_lettered_at IS NULL";
        flow::outbox_depth(self, sql, now).await
    }

    async fn dead_letters_by_sink(&self) -> Result<Vec<(Sink, u64)>, StoreError> {
        let sql = "SELECT sink, COUNT(*) AS n FROM outbox_jobs \
             WHERE dead_lettered_at IS NOT NULL AND delivered_at IS NULL GROUP BY sink";
        flow::dead_letters_by_sink(self, sql).await
    }
}
