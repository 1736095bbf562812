//! The deadline scheduler's queue: non-final disputes by `respond_by`, across tenants.

use async_trait::async_trait;
use disputes_domain::{DisputePolicy, Timestamp};
use disputes_ports::{DeadlineQueue, DueDeadline, StoreError};
use disputes_rows as rows;

use crate::error::store_error;
use crate::mapping::Stored;
use crate::PgStore;

#[async_trait]
impl DeadlineQueue for PgStore {
    async fn due_deadlines(
        &self,
        now: Timestamp,
        limit: u16,
    ) -> Result<Vec<DueDeadline>, StoreError> {
        let default_remind = DisputePolicy::default().remind_before.num_seconds();
        let longest_remind: Option<i64> =
            sqlx::query_scalar("SELECT MAX(remind_before_secs) FROM tenant_policies")
                .fetch_one(&self.pool)
                .await
                .map_err(store_error)?;
        // No reminder of any tenant is due for a deadline beyond this: the index's range.
        let horizon = rows::deadline_horizon(now, longest_remind);
        let due = sqlx::query(
            "SELECT d.tenant, d.id FROM disputes d \
             LEFT JOIN tenant_policies p ON p.tenant = d.tenant \
             WHERE d.respond_by IS NOT NULL \
               AND d.status NOT IN ('resolved', 'withdrawn', 'expired') \
               AND d.respond_by <= $1 \
               AND (d.respond_by <= $2 \
                    OR (d.reminded_for IS DISTINCT FROM d.respond_by \
                        AND d.respond_by \
                              - COALESCE(p.remind_before_secs, $3) * INTERVAL '1 second' \
                            <= $2)) \
             ORDER BY d.respond_by, d.id \
             LIMIT $4",
        )
        .bind(horizon)
        .bind(now)
        .bind(default_remind)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        due.iter()
            .map(|row| rows::due_deadline_from_row(&Stored(row)))
            .collect()
    }
}
