//! The [`DisputeRepository`](disputes_ports::DisputeRepository) port's logic that does not depend
//! on how a store talks to its database: the checks and outcomes of `create` and `update`, the
//! statement text of `update` and of `list`'s filters, and the cutting of a page.
//!
//! Unlike the other flows these do not run over [`Sql`] for `get`, `list` and the writes: those
//! are the hot path (docs/benchmarks.md), and a [`Statement`](crate::Statement) owns its
//! parameters, so each row of a list page or each request would copy its text into a [`Value`].
//! The statements are written instead into a store's own query builder through [`Build`], which
//! binds borrowed text as it is, and each store keeps its batching (SQLite: one trip for a write's
//! inserts) or its locking (PostgreSQL: the advisory lock of a create).

use disputes_domain::{
    Dispute, DisputeId, Message, NewDispute, SubjectKind, TimelineEntry, Timestamp, Version,
};
use disputes_ports::{ListQuery, Page, StoreError};

use crate::{corrupt, dispute_columns, Columns, Sql, Value};

/// `Status::is_final` as an SQL list. Spelled as literals rather than bound, so that both
/// planners can match the partial unique indexes, whose predicate each store's migration spells
/// the same way (a unit test of each store checks its migration; one here the domain). A macro
/// so that stores can `concat!` it into constant SQL.
#[macro_export]
macro_rules! final_statuses {
    () => {
        "('resolved', 'withdrawn', 'expired')"
    };
}

/// A statement being written in a store's dialect: the store appends the text and binds each
/// parameter in its own column type, with its own placeholders.
pub trait Build<'q> {
    /// Appends SQL text.
    fn sql(&mut self, text: &str);
    /// Appends a placeholder bound to `value` (integers and instants; text that is not
    /// borrowed).
    fn value(&mut self, value: Value);
    /// Appends a placeholder bound to `text`, borrowed for as long as the statement: no copy
    /// for each filter of a list page.
    fn text(&mut self, text: &'q str);
    /// Appends ` AND subject_kind = ` and `kind`, bound or, where binding it costs (SQLite's
    /// planner ties a plan to a bound value the partial indexes mention), as a literal.
    fn kind(&mut self, kind: SubjectKind);
    /// Appends ` AND ` and a condition that the `event_ids` column (a JSON array of text)
    /// holds `event`, in the store's own JSON functions.
    fn names_event(&mut self, event: &'q str);
}

/// Appends to a `SELECT` over `disputes` that ends in its tenant's condition the rest of
/// `query`'s filters, its order (newest first) and its limit: one row more than a page, which
/// tells whether another page follows (see [`page`]).
pub fn list_filters<'q>(query: &'q ListQuery, select: &mut impl Build<'q>) {
    subject_filters(query, select);
    if !query.statuses.is_empty() {
        select.sql(" AND status IN (");
        for (i, status) in query.statuses.iter().enumerate() {
            if i > 0 {
                select.sql(", ");
            }
            select.text(status.as_str());
        }
        select.sql(")");
    }
    if let Some(cursor) = query.after {
        select.sql(" AND id < ");
        select.value(cursor.get().into());
    }
    select.sql(" ORDER BY id DESC LIMIT ");
    select.value((i64::from(query.limit.get()) + 1).into());
}

/// The statement of [`count_by_status`](disputes_ports::DisputeRepository::count_by_status):
/// appended to `SELECT status, COUNT(*) AS n FROM disputes WHERE tenant = <tenant>`, the filters
/// of `query` but its statuses and its page, grouped by status.
pub fn count_filters<'q>(query: &'q ListQuery, select: &mut impl Build<'q>) {
    subject_filters(query, select);
    select.sql(" GROUP BY status");
}

/// The count of [`count_filters`] before the filters: the tenant's condition comes next.
pub const COUNT_BY_STATUS: &str = "SELECT status, COUNT(*) AS n FROM disputes WHERE tenant = ";

/// The filters of `query` on what disputes are about and when they were opened: all of them
/// but the statuses and the page.
fn subject_filters<'q>(query: &'q ListQuery, select: &mut impl Build<'q>) {
    if let Some(kind) = query.kind {
        select.kind(kind);
    }
    if let Some(resolved) = query.resolved {
        select.sql(if resolved {
            concat!(" AND status IN ", final_statuses!())
        } else {
            concat!(" AND status NOT IN ", final_statuses!())
        });
    }
    if let Some(campaign) = &query.campaign_id {
        select.sql(" AND campaign_id = ");
        select.text(campaign);
    }
    if let Some(account) = &query.account_id {
        select.sql(" AND account_id = ");
        select.text(account);
    }
    if let Some(item) = &query.item_id {
        select.sql(" AND item_id = ");
        select.text(item);
    }
    if let Some(bill) = &query.bill_id {
        select.sql(" AND bill_id = ");
        select.text(bill);
    }
    if let Some(target) = query.billing_target {
        // Billing rows from before bills and events could be disputed have no target: items.
        select.sql(" AND coalesce(billing_target, 'item') = ");
        select.text(target.as_str());
    }
    if let Some(event) = &query.event_id {
        select.names_event(event);
    }
    if let Some(after) = query.opened_after {
        select.sql(" AND opened_at >= ");
        select.value(range_bound(after).into());
    }
    if let Some(before) = query.opened_before {
        select.sql(" AND opened_at < ");
        select.value(range_bound(before).into());
    }
}

/// A range-filter bound at stored precision. A caller's bound may carry nanoseconds; rounding it
/// up to the next whole microsecond keeps both `stored >= bound` and `stored < bound` exact,
/// since every stored instant is a whole microsecond.
pub fn range_bound(at: Timestamp) -> Timestamp {
    use chrono::SubsecRound;
    let truncated = at.trunc_subsecs(6);
    if truncated < at {
        truncated + chrono::Duration::microseconds(1)
    } else {
        truncated
    }
}

/// The page of `query` from the rows its [`list_filters`] statement returned, each decoded by
/// `decode`.
pub fn page<R>(
    mut rows: Vec<R>,
    query: &ListQuery,
    decode: impl Fn(&R) -> Result<Dispute, StoreError>,
) -> Result<Page, StoreError> {
    let limit = usize::from(query.limit.get());
    let more = rows.len() > limit;
    rows.truncate(limit);
    let disputes = rows.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
    let next = if more {
        disputes.last().map(Dispute::id)
    } else {
        None
    };
    Ok(Page { disputes, next })
}

/// Refuses to store `dispute` over `expected` unless its version is its timeline's length and
/// not older than `expected`: the append of [`new_since`] relies on it, and a dispute that broke
/// it would be stored broken.
pub fn check_update(dispute: &Dispute, expected: Version) -> Result<(), StoreError> {
    let parts = dispute.parts();
    if usize::try_from(parts.version.get()).ok() != Some(parts.timeline.len())
        || parts.version < expected
    {
        return Err(StoreError::Other(
            "refusing to store a dispute whose version does not match its timeline".into(),
        ));
    }
    Ok(())
}

/// Appends `UPDATE disputes SET` every state column of `dispute`, guarded by `expected`: it
/// changes the row only if it still has that version (`WHERE id, tenant, version`).
pub fn update_state<'q>(dispute: &'q Dispute, expected: Version, update: &mut impl Build<'q>) {
    let parts = dispute.parts();
    let Columns { state, .. } = dispute_columns(parts);
    update.sql("UPDATE disputes SET ");
    for (i, (column, value)) in state.into_iter().enumerate() {
        if i > 0 {
            update.sql(", ");
        }
        update.sql(column);
        update.sql(" = ");
        update.value(value);
    }
    update.sql(" WHERE id = ");
    update.value(dispute.id().get().into());
    update.sql(" AND tenant = ");
    update.text(parts.tenant.as_str());
    update.sql(" AND version = ");
    update.value(expected.get().into());
}

/// Why a guarded update changed no row, by whether the dispute `exists` for its tenant: someone
/// else updated it first, or there is none.
pub fn stale(exists: bool) -> StoreError {
    if exists {
        StoreError::VersionConflict
    } else {
        StoreError::NotFound
    }
}

/// What an update of `dispute` over `expected` appends: entries up to `expected` are stored
/// already (a version equals its timeline's length), and each message is keyed by the entry
/// that recorded it, so the new messages are those of the new entries.
pub fn new_since(
    dispute: &Dispute,
    expected: Version,
) -> (
    impl Iterator<Item = &TimelineEntry>,
    impl Iterator<Item = &Message>,
) {
    let parts = dispute.parts();
    let appended = parts
        .timeline
        .iter()
        .skip_while(move |e| e.seq() <= expected.get());
    let posted = parts
        .messages
        .iter()
        .skip_while(move |m| m.seq() <= expected.get());
    (appended, posted)
}

/// What a create refused by a unique index reports: the dispute in the way, as the conflict
/// lookup `found` it, or, with none found, the index's own error (`otherwise`).
pub fn duplicate(found: Option<DisputeId>, otherwise: impl FnOnce() -> StoreError) -> StoreError {
    match found {
        Some(existing) => StoreError::Duplicate { existing },
        None => otherwise(),
    }
}

/// The dispute `dispute` became, stored under the `id` its row was given.
pub fn created(dispute: NewDispute, id: i64) -> Result<Dispute, StoreError> {
    let id = DisputeId::new(id).map_err(|e| corrupt("id", e))?;
    Ok(dispute.into_dispute(id))
}

/// The dispute id a conflict lookup `found`, if any.
pub fn found_id(found: Option<i64>) -> Result<Option<DisputeId>, StoreError> {
    found
        .map(|id| DisputeId::new(id).map_err(|e| corrupt("id", e)))
        .transpose()
}

/// Whether the database answers a trivial statement, on a pooled connection.
pub async fn ping(db: &impl Sql) -> Result<(), StoreError> {
    db.execute("SELECT 1", Vec::new()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};
    use disputes_domain::Status;

    use super::range_bound;

    #[test]
    fn the_sql_list_of_final_statuses_matches_the_domain() {
        let finals: Vec<String> = Status::ALL
            .iter()
            .filter(|s| s.is_final())
            .map(|s| format!("'{s}'"))
            .collect();
        assert_eq!(final_statuses!(), format!("({})", finals.join(", ")));
    }

    #[test]
    fn range_bounds_round_up_to_whole_microseconds() {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        assert_eq!(range_bound(at), at);
        let micros = at + Duration::microseconds(7);
        assert_eq!(range_bound(micros), micros);
        let nanos = at + Duration::nanoseconds(1);
        assert_eq!(range_bound(nanos), at + Duration::microseconds(1));
    }
}
