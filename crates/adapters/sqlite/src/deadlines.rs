//! The deadline scheduler's queue: non-final disputes by `respond_by`, across tenants.

use async_trait::async_trait;
use disputes_domain::{DisputePolicy, Timestamp};
use disputes_ports::{DeadlineQueue, DueDeadline, StoreError};
use disputes_rows as rows;

use crate::error::store_error;
use crate::mapping::{time_text, Stored};
use crate::SqliteStore;

#[async_trait]
impl DeadlineQueue for SqliteStore {
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
        // Stored times are fixed-width text, so `<=` on them is exact. The reminder window needs
        // arithmetic: on whole microseconds since the epoch (the seconds from `unixepoch`, the
        // six fraction digits from the text), so it is exact too.
        let due = sqlx::query(
            "SELECT d.tenant, d.id FROM disputes d \
             LEFT JOIN tenant_policies p ON p.tenant = d.tenant \
             WHERE d.respond_by IS NOT NULL \
               AND d.status NOT IN ('resolved', 'withdrawn', 'expired') \
               AND d.respond_by <= ?1 \
               AND (d.respond_by <= ?2 \
                    OR (d.reminded_for IS NOT d.respond_by \
                        AND unixepoch(d.respond_by) * 1000000 \
                              + CAST(substr(d.respond_by, 21, 6) AS INTEGER) \
                              - COALESCE(p.remind_before_secs, ?3) * 1000000 \
                            <= ?4)) \
             ORDER BY d.respond_by, d.id \
             LIMIT ?5",
        )
        .bind(time_text(horizon))
        .bind(time_text(now))
        .bind(default_remind)
        .bind(now.timestamp_micros())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        due.iter()
            .map(|row| rows::due_deadline_from_row(&Stored(row)))
            .collect()
    }
}
