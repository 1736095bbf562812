//! The [`OperationsStats`](disputes_ports::OperationsStats) port: aggregate reads across tenants.

use disputes_domain::{Status, Timestamp};
use disputes_ports::{OutboxDepth, StoreError};

use crate::{one, outbox_depth_from_row, status_count_from_row, Sql};

/// How many disputes are in each status. `sql` selects `status, n`, one row per status.
pub async fn disputes_by_status(
    db: &impl Sql,
    sql: &str,
) -> Result<Vec<(Status, u64)>, StoreError> {
    db.fetch_all(sql, Vec::new())
        .await?
        .iter()
        .map(status_count_from_row)
        .collect()
}

/// The outbox's depth at `now`. `sql` selects `pending, due` in one row, `due` counting the jobs
/// due at the instant bound to it.
pub async fn outbox_depth(
    db: &impl Sql,
    sql: &str,
    now: Timestamp,
) -> Result<OutboxDepth, StoreError> {
    let row = one(db.fetch_optional(sql, vec![now.into()]).await?)?;
    outbox_depth_from_row(&row)
}
