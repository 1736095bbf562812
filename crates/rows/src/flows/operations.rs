//! The [`OperationsStats`](disputes_ports::OperationsStats) port: aggregate reads across tenants.

use disputes_domain::{Status, Timestamp};
use disputes_ports::{OutboxDepth, Sink, StoreError};

use crate::{dead_letter_count_from_row, one, outbox_depth_from_row, status_count_from_row, Sql};

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

/// How many dead-lettered jobs each sink has. `sql` selects `sink, n`, one row per sink.
pub async fn dead_letters_by_sink(
    db: &impl Sql,
    sql: &str,
) -> Result<Vec<(Sink, u64)>, StoreError> {
    db.fetch_all(sql, Vec::new())
        .await?
        .iter()
        .map(dead_letter_count_from_row)
        .collect()
}
