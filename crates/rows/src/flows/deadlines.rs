//! The [`DeadlineQueue`](disputes_ports::DeadlineQueue) port: non-final disputes by
//! `respond_by`, across tenants. The due query itself is dialect (its time arithmetic differs),
//! so a store binds its parameters from a [`DueWindow`].

use disputes_domain::{DisputePolicy, Timestamp};
use disputes_ports::{DueDeadline, StoreError};

use crate::{deadline_horizon, due_deadline_from_row, one, Sql, StoredRow, Value};

/// What a due query is asked.
#[derive(Debug, Clone, Copy)]
pub struct DueWindow {
    pub now: Timestamp,
    /// No reminder of any tenant is due for a deadline beyond this: the index's range.
    pub horizon: Timestamp,
    /// The reminder window of a tenant without a policy of its own.
    pub default_remind_secs: i64,
    /// How many deadlines to return at most.
    pub limit: i64,
}

/// At most `limit` deadlines due at `now`, for a decision or a reminder, by `respond_by`.
/// `longest_sql` selects the longest reminder window of any tenant as `longest` (NULL without
/// policies); `due_sql` selects `tenant, id` with the parameters `params` makes of the window.
pub async fn due_deadlines(
    db: &impl Sql,
    longest_sql: &str,
    due_sql: &str,
    now: Timestamp,
    limit: u16,
    params: impl FnOnce(DueWindow) -> Vec<Value> + Send,
) -> Result<Vec<DueDeadline>, StoreError> {
    let longest = one(db.fetch_optional(longest_sql, Vec::new()).await?)?;
    let window = DueWindow {
        now,
        horizon: deadline_horizon(now, longest.integer("longest")?),
        default_remind_secs: DisputePolicy::default().remind_before.num_seconds(),
        limit: i64::from(limit),
    };
    db.fetch_all(due_sql, params(window))
        .await?
        .iter()
        .map(due_deadline_from_row)
        .collect()
}
