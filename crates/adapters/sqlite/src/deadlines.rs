//! The deadline scheduler's queue: non-final disputes by `respond_by`, across tenants.

use async_trait::async_trait;
use disputes_domain::Timestamp;
use disputes_ports::{DeadlineQueue, DueDeadline, StoreError};
use disputes_rows::flows::deadlines as flow;

use crate::SqliteStore;

#[async_trait]
impl DeadlineQueue for SqliteStore {
    async fn due_deadlines(
        &self,
        now: Timestamp,
        limit: u16,
    ) -> Result<Vec<DueDeadline>, StoreError> {
        let longest = "SELECT MAX(remind_before_secs) AS longest FROM tenant_policies";
        // Stored times are fixed-width text, so `<=` on them is exact. The reminder window needs
        // arithmetic: on whole microseconds since the epoch (the seconds from `unixepoch`, the
        // six fraction digits from the text), so it is exact too.
        let due = "SELECT d.tenant, d.id FROM disputes d \
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
             LIMIT ?5";
        let params = |w: flow::DueWindow| {
            vec![
                w.horizon.into(),
                w.now.into(),
                w.default_remind_secs.into(),
                w.now.timestamp_micros().into(),
                w.limit.into(),
            ]
        };
        flow::due_deadlines(self, longest, due, now, limit, params).await
    }
}
