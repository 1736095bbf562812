use std::sync::LazyLock;

use async_trait::async_trait;
use disputes_domain::{
    BillingTarget, Dispute, DisputeId, Message, NewDispute, Status, Subject, TenantId,
    TimelineEntry, Version,
};
use disputes_ports::{DisputeRepository, ListQuery, Page, StoreError, Write};
use disputes_rows::final_statuses;
use disputes_rows::flows::disputes as flow;

use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use crate::batch::Batch;
use crate::error::{is_unique_violation, store_error};
use crate::idempotency::record_effect;
use crate::mapping::{
    dispute_with_children, push_bind, time_text, Building, Stored, DISPUTE_COLUMN, SCREEN_COLUMNS,
};
use crate::outbox::enqueue;
use crate::SqliteStore;
use disputes_rows::{
    dispute_columns, screen_ids, status_count_from_row, Columns, MessageRow, TimelineRow,
    DISPUTE_COLUMNS, MESSAGE_COLUMNS, TIMELINE_COLUMNS,
};

/// Takes SQLite's write lock at once. A deferred transaction would take it only at its first
/// write, after the duplicate check had read, so two creates could both pass the check.
pub(crate) const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

#[async_trait]
impl DisputeRepository for SqliteStore {
    async fn create(&self, dispute: NewDispute, write: &Write) -> Result<Dispute, StoreError> {
        let parts = dispute.parts();
        // In the transaction of the writers queued with it (crate::group): one trip for its
        // savepoint, the duplicate check and the id, one for every insert (crate::batch). The
        // write lock is held throughout, so nothing can come between.
        let mut member = self.join_write().await?;
        let savepoint = member.savepoint_sql();
        let written: Result<i64, StoreError> = async {
            let tx = member.conn();
            let (existing, id) =
                conflict_and_next_id(&mut *tx, &savepoint, &parts.tenant, &parts.subject).await?;
            if let Some(existing) = existing {
                return Err(StoreError::Duplicate { existing });
            }
            let mut batch = Batch::new();
            insert_dispute(&mut batch, id, dispute_columns(parts));
            insert_screens(&mut batch, id, screen_ids(&parts.subject));
            insert_timeline(&mut batch, id, &parts.timeline);
            insert_messages(&mut batch, id, &parts.messages);
            enqueue(&mut batch, &parts.tenant, id, &write.notifications);
            let reservation =
                record_effect(&mut batch, id, parts.version.get(), write.key.as_ref());
            match batch.run(&mut *tx).await {
                Ok(marked) => {
                    if let Some(reservation) = reservation {
                        reservation.effect_recorded(marked)?;
                    }
                }
                // Only reachable if the check above and the partial unique indexes ever disagree;
                // the index wins, and the caller still learns which dispute is in the way. The
                // dispute's row is the batch's first statement, so nothing else was written.
                Err(e) if is_unique_violation(&e) => {
                    let found = find_conflict(&mut *tx, &parts.tenant, &parts.subject).await?;
                    return Err(flow::duplicate(found, || store_error(e)));
                }
                Err(e) => return Err(store_error(e)),
            }
            Ok(id)
        }
        .await;
        let id = member.finish(written).await?;
        flow::created(dispute, id)
    }

    async fn get(&self, tenant: &TenantId, id: DisputeId) -> Result<Option<Dispute>, StoreError> {
        // One statement reads the row and its children: one snapshot, so an update committed
        // meanwhile cannot pair a row with a longer timeline, and one trip to SQLite's thread.
        let row = sqlx::query(&GET_DISPUTE)
            .bind(tenant.as_str())
            .bind(id.get())
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?;
        row.map(|row| dispute_with_children(&row)).transpose()
    }

    async fn list(&self, tenant: &TenantId, query: &ListQuery) -> Result<Page, StoreError> {
        let mut select =
            QueryBuilder::<Sqlite>::new(format!("{} WHERE tenant = ", *SELECT_DISPUTES));
        select.push_bind(tenant.as_str());
        flow::list_filters(query, &mut Building(&mut select));
        let rows = select
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        flow::page(rows, query, dispute_with_children)
    }

    async fn count_by_status(
        &self,
        tenant: &TenantId,
        query: &ListQuery,
    ) -> Result<Vec<(Status, u64)>, StoreError> {
        let mut select = QueryBuilder::<Sqlite>::new(flow::COUNT_BY_STATUS);
        select.push_bind(tenant.as_str());
        flow::count_filters(query, &mut Building(&mut select));
        let rows = select
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        rows.iter()
            .map(|row| status_count_from_row(&Stored(row)))
            .collect()
    }

    async fn update(
        &self,
        dispute: &Dispute,
        expected: Version,
        write: &Write,
    ) -> Result<(), StoreError> {
        flow::check_update(dispute, expected)?;
        let parts = dispute.parts();
        // As in `create`: one trip for the savepoint and the guarded update, one for the rest.
        let mut member = self.join_write().await?;
        let savepoint = member.savepoint_sql();
        let written: Result<(), StoreError> = async {
            let tx = member.conn();
            let mut update = QueryBuilder::<Sqlite>::new(savepoint);
            flow::update_state(dispute, expected, &mut Building(&mut update));
            // Whether a row was updated, told by the row it returns: after the savepoint in the
            // same text, the sum of changes would not tell.
            update.push(" RETURNING id");
            let updated = update
                .build()
                .fetch_optional(&mut *tx)
                .await
                .map_err(store_error)?;
            if updated.is_none() {
                let exists: bool = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM disputes WHERE tenant = ? AND id = ?)",
                )
                .bind(parts.tenant.as_str())
                .bind(dispute.id().get())
                .fetch_one(&mut *tx)
                .await
                .map_err(store_error)?;
                return Err(flow::stale(exists));
            }
            let (appended, posted) = flow::new_since(dispute, expected);
            let id = dispute.id().get();
            let mut batch = Batch::new();
            insert_timeline(&mut batch, id, appended);
            insert_messages(&mut batch, id, posted);
            enqueue(&mut batch, &parts.tenant, id, &write.notifications);
            let reservation =
                record_effect(&mut batch, id, parts.version.get(), write.key.as_ref());
            let marked = batch.run(&mut *tx).await.map_err(store_error)?;
            if let Some(reservation) = reservation {
                reservation.effect_recorded(marked)?;
            }
            Ok(())
        }
        .await;
        member.finish(written).await
    }

    async fn find_open_for_subject(
        &self,
        tenant: &TenantId,
        subject: &Subject,
    ) -> Result<Option<DisputeId>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(store_error)?;
        find_conflict(&mut conn, tenant, subject).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        flow::ping(self).await
    }
}

/// The oldest non-final dispute of `tenant` whose subject conflicts with `subject`, by the rule of
/// [`Subject::conflicts_with`].
async fn find_conflict(
    conn: &mut SqliteConnection,
    tenant: &TenantId,
    subject: &Subject,
) -> Result<Option<DisputeId>, StoreError> {
    let mut query = QueryBuilder::<Sqlite>::new("");
    push_conflict(&mut query, tenant, subject);
    let found: Option<i64> = query
        .build_query_scalar()
        .fetch_optional(conn)
        .await
        .map_err(store_error)?;
    flow::found_id(found)
}

/// [`find_conflict`], and the id SQLite would give the next dispute, in one statement, after
/// `savepoint` (SQL ending in `;`, or empty). Inside
/// the write lock nobody else can take that id before the insert does.
async fn conflict_and_next_id(
    conn: &mut SqliteConnection,
    savepoint: &str,
    tenant: &TenantId,
    subject: &Subject,
) -> Result<(Option<DisputeId>, i64), StoreError> {
    let mut query = QueryBuilder::<Sqlite>::new(format!("{savepoint}SELECT ("));
    push_conflict(&mut query, tenant, subject);
    // AUTOINCREMENT's rule: one above the largest id ever handed out (sqlite_sequence, which
    // has no row before the first insert) and the largest id in the table.
    query.push(
        "), max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'disputes'), 0), \
         coalesce((SELECT max(id) FROM disputes), 0)) + 1",
    );
    let (found, next): (Option<i64>, i64) = query
        .build_query_as()
        .fetch_one(conn)
        .await
        .map_err(store_error)?;
    Ok((flow::found_id(found)?, next))
}

/// Pushes the `SELECT` of [`find_conflict`] (one `id` column, at most one row).
fn push_conflict<'a>(
    query: &mut QueryBuilder<'a, Sqlite>,
    tenant: &'a TenantId,
    subject: &'a Subject,
) {
    match subject {
        Subject::Invoice(s) => {
            query
                .push("SELECT id FROM disputes WHERE tenant = ")
                .push_bind(tenant.as_str())
                .push(" AND invoice = ")
                .push_bind(s.invoice())
                .push(concat!(
                    " AND subject_kind = 'invoice' AND status NOT IN ",
                    final_statuses!(),
                    " ORDER BY id LIMIT 1"
                ));
        }
        Subject::Billing(s) => {
            query
                .push("SELECT id FROM disputes WHERE tenant = ")
                .push_bind(tenant.as_str());
            match s.target() {
                BillingTarget::Item(item) => {
                    query.push(" AND item_id = ").push_bind(item.as_str());
                }
                BillingTarget::Bill(bill) => {
                    query
                        .push(" AND billing_target = 'bill' AND bill_id = ")
                        .push_bind(bill.as_str());
                }
                BillingTarget::Events(events) => {
                    query
                        .push(" AND billing_target = 'events' AND account_id = ")
                        .push_bind(s.account_id())
                        .push(
                            " AND EXISTS (SELECT 1 FROM json_each(event_ids) \
                             WHERE value IN (",
                        );
                    let mut ids = query.separated(", ");
                    for id in events.ids() {
                        ids.push_bind(id.as_str());
                    }
                    query.push("))");
                }
            }
            query.push(concat!(
                " AND subject_kind = 'bill_item' AND status NOT IN ",
                final_statuses!(),
                " ORDER BY id LIMIT 1"
            ));
        }
        Subject::Delivery(s) => {
            query
                .push("SELECT d.id FROM disputes d WHERE d.tenant = ")
                .push_bind(tenant.as_str())
                .push(" AND d.campaign_id = ")
                .push_bind(s.campaign_id())
                .push(concat!(
                    " AND d.subject_kind = 'delivery' AND d.status NOT IN ",
                    final_statuses!()
                ))
                // Half-open periods overlap when each starts before the other ends; the stored
                // text compares in time order.
                .push(" AND d.period_start < ")
                .push_bind(time_text(s.period().end()))
                .push(" AND ")
                .push_bind(time_text(s.period().start()))
                .push(" < d.period_end")
                .push(
                    " AND EXISTS (SELECT 1 FROM dispute_screens ds \
                     WHERE ds.dispute_id = d.id AND ds.screen_id IN (",
                );
            let mut screens = query.separated(", ");
            for screen in s.screen_ids() {
                screens.push_bind(screen.as_str());
            }
            query.push(")) ORDER BY d.id LIMIT 1");
        }
    }
}

/// Adds the insert of the `disputes` row, with the id [`conflict_and_next_id`] found.
fn insert_dispute<'a>(batch: &mut Batch<'a>, id: i64, columns: Columns) {
    let columns: Vec<_> = columns.fixed.into_iter().chain(columns.state).collect();
    let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    let insert = batch.statement("INSERT INTO disputes (id, ");
    insert
        .push(names.join(", "))
        .push(") VALUES (")
        .push_bind(id);
    for (_, value) in columns {
        insert.push(", ");
        push_bind(value, insert);
    }
    insert.push(")");
    batch.inserts(1);
}

fn insert_screens<'a>(batch: &mut Batch<'a>, dispute_id: i64, screens: &'a [String]) {
    if screens.is_empty() {
        return;
    }
    batch
        .statement("INSERT INTO dispute_screens (dispute_id, screen_id, position) ")
        .push_values(
            screens.iter().zip(0_i64..),
            |mut row, (screen, position)| {
                row.push_bind(dispute_id)
                    .push_bind(screen.as_str())
                    .push_bind(position);
            },
        );
    batch.inserts(screens.len());
}

fn insert_timeline<'a>(
    batch: &mut Batch<'a>,
    dispute_id: i64,
    entries: impl IntoIterator<Item = &'a TimelineEntry>,
) {
    let entries: Vec<_> = entries.into_iter().collect();
    if entries.is_empty() {
        return;
    }
    let count = entries.len();
    batch
        .statement(&format!(
            "INSERT INTO timeline_entries ({TIMELINE_COLUMNS}) "
        ))
        .push_values(entries, |mut row, entry| {
            let entry = TimelineRow::from(entry);
            row.push_bind(dispute_id)
                .push_bind(entry.seq)
                .push_bind(time_text(entry.at))
                .push_bind(entry.actor_id)
                .push_bind(entry.actor_role)
                .push_bind(entry.kind)
                .push_bind(entry.notes)
                .push_bind(entry.prev_hash)
                .push_bind(entry.state_digest)
                .push_bind(entry.hash)
                .push_bind(entry.seal_key_id)
                .push_bind(entry.seal_signature);
        });
    batch.inserts(count);
}

fn insert_messages<'a>(
    batch: &mut Batch<'a>,
    dispute_id: i64,
    messages: impl IntoIterator<Item = &'a Message>,
) {
    let messages: Vec<_> = messages.into_iter().collect();
    if messages.is_empty() {
        return;
    }
    let count = messages.len();
    batch
        .statement(&format!(
            "INSERT INTO dispute_messages ({MESSAGE_COLUMNS}) "
        ))
        .push_values(messages, |mut row, message| {
            let message = MessageRow::from(message);
            row.push_bind(dispute_id)
                .push_bind(message.seq)
                .push_bind(time_text(message.at))
                .push_bind(message.author_id)
                .push_bind(message.author_role)
                .push_bind(message.text)
                .push_bind(message.attachment_name)
                .push_bind(message.attachment_type)
                .push_bind(message.attachment_size)
                .push_bind(message.attachment_sha256);
        });
    batch.inserts(count);
}

/// `SELECT` of a dispute and its children, `FROM disputes d`; the caller appends the `WHERE`.
/// The dispute's columns come as one JSON array (`DISPUTE_COLUMN`), and, in the
/// [`CHILD_COLUMNS`](disputes_rows::CHILD_COLUMNS), its screens, timeline and messages as
/// JSON arrays of arrays, each in the order of its column list (see `dispute_with_children` for
/// why). The aggregates have no `ORDER BY`: each would open a sorter at every execution, and the
/// children are sorted as they are read. Built once: the column lists are constants.
static SELECT_DISPUTES: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT json_array({DISPUTE_COLUMNS}) AS {DISPUTE_COLUMN}, \
         (SELECT json_group_array(json_array({})) FROM dispute_screens s \
          WHERE s.dispute_id = d.id) AS screens, \
         (SELECT json_group_array(json_array({})) FROM timeline_entries t \
          WHERE t.dispute_id = d.id) AS timeline, \
         (SELECT json_group_array(json_array({})) FROM dispute_messages m \
          WHERE m.dispute_id = d.id) AS messages \
         FROM disputes d",
        qualified("s", SCREEN_COLUMNS),
        qualified("t", TIMELINE_COLUMNS),
        qualified("m", MESSAGE_COLUMNS),
    )
});

/// `columns` of the table aliased `alias`, each qualified by it.
fn qualified(alias: &str, columns: &str) -> String {
    columns
        .split(", ")
        .map(|column| format!("{alias}.{column}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One dispute of a tenant, by id.
static GET_DISPUTE: LazyLock<String> =
    LazyLock::new(|| format!("{} WHERE tenant = ? AND id = ?", *SELECT_DISPUTES));

#[cfg(test)]
mod tests {
    use disputes_domain::SubjectKind;

    #[test]
    fn the_sql_literals_of_subject_kinds_match_the_domain() {
        for &kind in SubjectKind::ALL {
            assert_eq!(
                crate::mapping::kind_condition(kind),
                format!(" AND subject_kind = '{}'", kind.as_str())
            );
        }
    }

    /// The partial unique indexes spell the list as the shared flows do (which a test of
    /// `disputes_rows` keeps in step with the domain).
    #[test]
    fn the_partial_indexes_use_the_final_statuses_of_the_queries() {
        let migration = include_str!("../migrations/0001_initial.sql");
        let predicate = concat!("status NOT IN ", disputes_rows::final_statuses!());
        assert_eq!(migration.matches(predicate).count(), 2, "both indexes");
    }
}
