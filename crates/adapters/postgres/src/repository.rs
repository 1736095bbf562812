use std::sync::LazyLock;

use async_trait::async_trait;
use disputes_domain::{
    Dispute, DisputeId, Message, NewDispute, Subject, TenantId, TimelineEntry, Version,
};
use disputes_ports::{DisputeRepository, ListQuery, Page, StoreError, Write};
use sqlx::{PgConnection, Postgres, QueryBuilder};

use crate::error::{corrupt, is_unique_violation, store_error};
use crate::idempotency::record_effect;
use crate::mapping::{bound, dispute_with_children, push_bind, MessageColumns, TimelineColumns};
use crate::outbox::enqueue;
use crate::PgStore;
use disputes_rows::{
    dispute_columns, json_object_arguments, screen_ids, Columns, DISPUTE_COLUMNS, MESSAGE_COLUMNS,
    TIMELINE_COLUMNS,
};

/// `Status::is_final` as an SQL list. Spelled as literals rather than bound, so that the planner
/// can match the partial unique indexes, whose predicate the migration spells the same way; a
/// unit test keeps it in step with the domain.
macro_rules! final_statuses {
    () => {
        "('resolved', 'withdrawn', 'expired')"
    };
}

/// Serialises `create`s of one subject scope across every process sharing the database, until
/// the transaction ends. `$1` is [`lock_key`]'s text; PostgreSQL hashes it to the 64-bit key.
const LOCK_SUBJECT: &str = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))";

#[async_trait]
impl DisputeRepository for PgStore {
    async fn create(&self, dispute: NewDispute, write: &Write) -> Result<Dispute, StoreError> {
        let parts = dispute.parts();
        // READ COMMITTED (the default) matters here: each statement sees what was committed
        // before it started, so the conflict check, which starts after the lock is granted, sees
        // the dispute of whoever held the lock before. A REPEATABLE READ snapshot would be taken
        // by the lock statement itself, before the wait, and miss it.
        let mut tx = self.pool.begin().await.map_err(store_error)?;
        sqlx::query(LOCK_SUBJECT)
            .bind(lock_key(&parts.tenant, &parts.subject))
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        if let Some(existing) = find_conflict(&mut tx, &parts.tenant, &parts.subject).await? {
            // Explicitly, so the lock goes to the next waiter now rather than when the pool
            // gets around to resetting the connection.
            tx.rollback().await.map_err(store_error)?;
            return Err(StoreError::Duplicate { existing });
        }
        let id = match insert_dispute(&mut tx, dispute_columns(parts)).await {
            Ok(id) => id,
            // Only reachable if a writer bypassed the lock (a console, an older build); the
            // index wins, and the caller still learns which dispute is in the way. The failed
            // statement aborted the transaction, so the lookup runs outside it.
            Err(e) if is_unique_violation(&e) => {
                tx.rollback().await.map_err(store_error)?;
                let mut conn = self.pool.acquire().await.map_err(store_error)?;
                return Err(
                    match find_conflict(&mut conn, &parts.tenant, &parts.subject).await? {
                        Some(existing) => StoreError::Duplicate { existing },
                        None => store_error(e),
                    },
                );
            }
            Err(e) => return Err(store_error(e)),
        };
        insert_screens(&mut tx, id, screen_ids(&parts.subject)).await?;
        insert_timeline(&mut tx, id, &parts.timeline).await?;
        insert_messages(&mut tx, id, &parts.messages).await?;
        enqueue(&mut tx, &parts.tenant, id, &write.notifications).await?;
        record_effect(&mut tx, id, parts.version.get(), write.key.as_ref()).await?;
        tx.commit().await.map_err(store_error)?;
        let id = DisputeId::new(id).map_err(|e| corrupt("id", e))?;
        Ok(dispute.into_dispute(id))
    }

    async fn get(&self, tenant: &TenantId, id: DisputeId) -> Result<Option<Dispute>, StoreError> {
        // One statement reads the row and its children: one snapshot (so an update committed
        // meanwhile cannot pair a row with a longer timeline) in one round trip, where a
        // REPEATABLE READ transaction took six.
        let row = sqlx::query(&GET_DISPUTE)
            .bind(tenant.as_str())
            .bind(id.get())
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?;
        row.map(|row| dispute_with_children(&row)).transpose()
    }

    async fn list(&self, tenant: &TenantId, query: &ListQuery) -> Result<Page, StoreError> {
        let limit = usize::from(query.limit.get());
        let mut select =
            QueryBuilder::<Postgres>::new(format!("{} WHERE tenant = ", *SELECT_DISPUTES));
        select.push_bind(tenant.as_str());
        if let Some(kind) = query.kind {
            select.push(" AND subject_kind = ").push_bind(kind.as_str());
        }
        if let Some(status) = query.status {
            select.push(" AND status = ").push_bind(status.as_str());
        }
        if let Some(resolved) = query.resolved {
            select.push(if resolved {
                concat!(" AND status IN ", final_statuses!())
            } else {
                concat!(" AND status NOT IN ", final_statuses!())
            });
        }
        if let Some(campaign) = &query.campaign_id {
            select
                .push(" AND campaign_id = ")
                .push_bind(campaign.as_str());
        }
        if let Some(account) = &query.account_id {
            select
                .push(" AND account_id = ")
                .push_bind(account.as_str());
        }
        if let Some(after) = query.opened_after {
            select.push(" AND opened_at >= ").push_bind(bound(after));
        }
        if let Some(before) = query.opened_before {
            select.push(" AND opened_at < ").push_bind(bound(before));
        }
        if let Some(cursor) = query.after {
            select.push(" AND id < ").push_bind(cursor.get());
        }
        // One row more than asked for tells whether another page follows.
        select
            .push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::from(query.limit.get()) + 1);

        let mut rows = select
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let disputes = rows
            .iter()
            .map(dispute_with_children)
            .collect::<Result<Vec<_>, _>>()?;
        let next = if more {
            disputes.last().map(Dispute::id)
        } else {
            None
        };
        Ok(Page { disputes, next })
    }

    async fn update(
        &self,
        dispute: &Dispute,
        expected: Version,
        write: &Write,
    ) -> Result<(), StoreError> {
        let parts = dispute.parts();
        // The append below relies on this; a dispute that breaks it would be stored broken.
        if usize::try_from(parts.version.get()).ok() != Some(parts.timeline.len())
            || parts.version < expected
        {
            return Err(StoreError::Other(
                "refusing to store a dispute whose version does not match its timeline".into(),
            ));
        }
        // READ COMMITTED: the UPDATE locks the row, so a concurrent update of the same dispute
        // waits for this transaction, then re-checks its `version = expected` against the row
        // this one committed, matches nothing and reports a conflict. No update is lost.
        let mut tx = self.pool.begin().await.map_err(store_error)?;
        let Columns { state, .. } = dispute_columns(parts);
        let mut update = QueryBuilder::<Postgres>::new("UPDATE disputes SET ");
        for (i, (column, value)) in state.into_iter().enumerate() {
            if i > 0 {
                update.push(", ");
            }
            update.push(column).push(" = ");
            push_bind(value, &mut update);
        }
        update
            .push(" WHERE id = ")
            .push_bind(dispute.id().get())
            .push(" AND tenant = ")
            .push_bind(parts.tenant.as_str())
            .push(" AND version = ")
            .push_bind(expected.get());
        let updated = update
            .build()
            .execute(&mut *tx)
            .await
            .map_err(store_error)?
            .rows_affected();
        if updated == 0 {
            let exists: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM disputes WHERE tenant = $1 AND id = $2)",
            )
            .bind(parts.tenant.as_str())
            .bind(dispute.id().get())
            .fetch_one(&mut *tx)
            .await
            .map_err(store_error)?;
            tx.rollback().await.map_err(store_error)?;
            return Err(if exists {
                StoreError::VersionConflict
            } else {
                StoreError::NotFound
            });
        }
        // Entries up to `expected` are stored already: a version equals its timeline's length.
        let appended = parts
            .timeline
            .iter()
            .skip_while(|e| e.seq() <= expected.get());
        insert_timeline(&mut tx, dispute.id().get(), appended).await?;
        // Each message is keyed by the entry that recorded it, so the new ones are those of the
        // new entries.
        let posted = parts
            .messages
            .iter()
            .skip_while(|m| m.seq() <= expected.get());
        insert_messages(&mut tx, dispute.id().get(), posted).await?;
        enqueue(
            &mut tx,
            &parts.tenant,
            dispute.id().get(),
            &write.notifications,
        )
        .await?;
        record_effect(
            &mut tx,
            dispute.id().get(),
            parts.version.get(),
            write.key.as_ref(),
        )
        .await?;
        tx.commit().await.map_err(store_error)
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
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(())
    }
}

/// The text [`LOCK_SUBJECT`] hashes: the tenant and what two conflicting subjects must share (the
/// campaign, the invoice, the bill item), so that only creates that could conflict wait for each
/// other. The unit separator cannot occur in a tenant slug or a kind, so no two scopes spell the
/// same text. A hash collision between two scopes only makes their creates take turns.
fn lock_key(tenant: &TenantId, subject: &Subject) -> String {
    let scope = match subject {
        Subject::Delivery(s) => s.campaign_id(),
        Subject::Invoice(s) => s.invoice(),
        Subject::BillItem(s) => s.item_id(),
    };
    format!("{tenant}\u{1f}{}\u{1f}{scope}", subject.kind())
}

/// The oldest non-final dispute of `tenant` whose subject conflicts with `subject`, by the rule of
/// [`Subject::conflicts_with`].
async fn find_conflict(
    conn: &mut PgConnection,
    tenant: &TenantId,
    subject: &Subject,
) -> Result<Option<DisputeId>, StoreError> {
    let found: Option<i64> = match subject {
        Subject::Invoice(s) => {
            sqlx::query_scalar(concat!(
                "SELECT id FROM disputes WHERE tenant = $1 AND invoice = $2",
                " AND subject_kind = 'invoice' AND status NOT IN ",
                final_statuses!(),
                " ORDER BY id LIMIT 1"
            ))
            .bind(tenant.as_str())
            .bind(s.invoice())
            .fetch_optional(conn)
            .await
        }
        Subject::BillItem(s) => {
            sqlx::query_scalar(concat!(
                "SELECT id FROM disputes WHERE tenant = $1 AND item_id = $2",
                " AND subject_kind = 'bill_item' AND status NOT IN ",
                final_statuses!(),
                " ORDER BY id LIMIT 1"
            ))
            .bind(tenant.as_str())
            .bind(s.item_id())
            .fetch_optional(conn)
            .await
        }
        Subject::Delivery(s) => {
            sqlx::query_scalar(concat!(
                "SELECT d.id FROM disputes d WHERE d.tenant = $1 AND d.campaign_id = $2",
                " AND d.subject_kind = 'delivery' AND d.status NOT IN ",
                final_statuses!(),
                // Half-open periods overlap when each starts before the other ends.
                " AND d.period_start < $3 AND $4 < d.period_end",
                " AND EXISTS (SELECT 1 FROM dispute_screens ds",
                " WHERE ds.dispute_id = d.id AND ds.screen_id = ANY($5))",
                " ORDER BY d.id LIMIT 1"
            ))
            .bind(tenant.as_str())
            .bind(s.campaign_id())
            .bind(s.period().end())
            .bind(s.period().start())
            .bind(s.screen_ids())
            .fetch_optional(conn)
            .await
        }
    }
    .map_err(store_error)?;
    found
        .map(|id| DisputeId::new(id).map_err(|e| corrupt("id", e)))
        .transpose()
}

/// Inserts the `disputes` row and returns the id the sequence gave it.
async fn insert_dispute(conn: &mut PgConnection, columns: Columns) -> Result<i64, sqlx::Error> {
    let columns: Vec<_> = columns.fixed.into_iter().chain(columns.state).collect();
    let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    let mut insert = QueryBuilder::<Postgres>::new("INSERT INTO disputes (");
    insert.push(names.join(", ")).push(") VALUES (");
    for (i, (_, value)) in columns.into_iter().enumerate() {
        if i > 0 {
            insert.push(", ");
        }
        push_bind(value, &mut insert);
    }
    insert.push(") RETURNING id");
    insert.build_query_scalar().fetch_one(conn).await
}

async fn insert_screens(
    conn: &mut PgConnection,
    dispute_id: i64,
    screens: &[String],
) -> Result<(), StoreError> {
    if screens.is_empty() {
        return Ok(());
    }
    // Positions count from 0, as in the embedded store.
    sqlx::query(
        "INSERT INTO dispute_screens (dispute_id, screen_id, position) \
         SELECT $1, screen, (n - 1)::INTEGER FROM UNNEST($2::TEXT[]) WITH ORDINALITY AS s (screen, n)",
    )
    .bind(dispute_id)
    .bind(screens)
    .execute(conn)
    .await
    .map_err(store_error)?;
    Ok(())
}

async fn insert_timeline<'e>(
    conn: &mut PgConnection,
    dispute_id: i64,
    entries: impl IntoIterator<Item = &'e TimelineEntry>,
) -> Result<(), StoreError> {
    let columns: TimelineColumns = entries.into_iter().collect();
    if columns.is_empty() {
        return Ok(());
    }
    columns
        .insert(dispute_id)
        .execute(conn)
        .await
        .map_err(store_error)?;
    Ok(())
}

async fn insert_messages<'m>(
    conn: &mut PgConnection,
    dispute_id: i64,
    messages: impl IntoIterator<Item = &'m Message>,
) -> Result<(), StoreError> {
    let columns: MessageColumns = messages.into_iter().collect();
    if columns.is_empty() {
        return Ok(());
    }
    columns
        .insert(dispute_id)
        .execute(conn)
        .await
        .map_err(store_error)?;
    Ok(())
}

/// `SELECT` of every dispute column and, in the [`CHILD_COLUMNS`](disputes_rows::CHILD_COLUMNS),
/// the dispute's screens, timeline and messages as JSON arrays (NULL for none), `FROM disputes
/// d`; the caller appends the `WHERE`. Built once: the column lists are constants.
static SELECT_DISPUTES: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {DISPUTE_COLUMNS}, \
         (SELECT json_agg(s.screen_id ORDER BY s.position)::TEXT FROM dispute_screens s \
          WHERE s.dispute_id = d.id) AS screens, \
         (SELECT json_agg(json_build_object({}) ORDER BY t.seq)::TEXT FROM timeline_entries t \
          WHERE t.dispute_id = d.id) AS timeline, \
         (SELECT json_agg(json_build_object({}) ORDER BY m.seq)::TEXT FROM dispute_messages m \
          WHERE m.dispute_id = d.id) AS messages \
         FROM disputes d",
        json_object_arguments("t", TIMELINE_COLUMNS),
        json_object_arguments("m", MESSAGE_COLUMNS),
    )
});

/// One dispute of a tenant, by id.
static GET_DISPUTE: LazyLock<String> =
    LazyLock::new(|| format!("{} WHERE tenant = $1 AND id = $2", *SELECT_DISPUTES));

#[cfg(test)]
mod tests {
    use super::*;
    use disputes_domain::Status;

    #[test]
    fn the_sql_list_of_final_statuses_matches_the_domain() {
        let finals: Vec<String> = Status::ALL
            .iter()
            .filter(|s| s.is_final())
            .map(|s| format!("'{s}'"))
            .collect();
        assert_eq!(final_statuses!(), format!("({})", finals.join(", ")));
        let migration = include_str!("../migrations/0001_initial.sql");
        assert_eq!(
            migration
                .matches(concat!("status NOT IN ", final_statuses!()))
                .count(),
            2,
            "both partial unique indexes use the same list"
        );
    }

    #[test]
    fn lock_keys_cover_the_conflict_scope_only() {
        use disputes_conformance::{bill_item, delivery, invoice};
        let key =
            |command: disputes_domain::OpenDispute| lock_key(&command.tenant, &command.subject);
        // Conflicting subjects must share a key: the same campaign, whatever the screens or days.
        assert_eq!(
            key(delivery("acme", "c1", &["s1"], 0, 7)),
            key(delivery("acme", "c1", &["s2", "s3"], 3, 9))
        );
        assert_eq!(
            key(delivery("acme", "c1", &["s1"], 0, 7)),
            "acme\u{1f}delivery\u{1f}c1"
        );
        assert_eq!(
            key(bill_item("acme", "item-1", "acct-1")),
            key(bill_item("acme", "item-1", "acct-2"))
        );
        // Other tenants, campaigns and kinds need not wait for each other.
        assert_ne!(
            key(invoice("acme", "c1")),
            key(delivery("acme", "c1", &["s1"], 0, 7))
        );
        assert_ne!(
            key(invoice("acme", "INV-1")),
            key(invoice("globex", "INV-1"))
        );
        assert_ne!(key(invoice("acme", "INV-1")), key(invoice("acme", "INV-2")));
    }
}
