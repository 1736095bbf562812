//! The deadline scheduler's queue: non-final disputes by `respond_by`, across tenants.

use async_trait::async_trait;
use disputes_domain::Timestamp;
use disputes_ports::{DeadlineQueue, DueDeadline, StoreError};
use disputes_rows::flows::deadlines as flow;

use crate::PgStore;

#[async_trait]
impl DeadlineQueue for PgStore {
    async fn due_deadlines(
        &self,
        now: Timestamp,
        limit: u16,
    ) -> Result<Vec<DueDeadline>, StoreError> {
        let longest = "SELECT MAX(remind_before_secs) AS longest FROM tenant_policies";
        let due = "SELECT d.tenant, d.id FROM disputes d \
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
             LIMIT $4";
        let params = |w: flow::DueWindow| {
            vec![
                w.horizon.into(),
                w.now.into(),
                w.default_remind_secs.into(),
                w.limit.into(),
            ]
        };
        flow::due_deadlines(self, longest, due, now, limit, params).await
    }
}
