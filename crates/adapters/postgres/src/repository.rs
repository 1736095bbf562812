use std::sync::LazyLock;

use async_trait::async_trait;
use disputes_domain::{
    BillingTarget, Dispute, DisputeId, Message, NewDispute, Status, Subject, TenantId,
    TimelineEntry, Version,
};
use disputes_ports::{DisputeRepository, ListQuery, Page, StoreError, Write};
use disputes_rows::final_statuses;
use disputes_rows::flows::disputes as flow;
use sqlx::{PgConnection, Postgres, QueryBuilder};

use crate::error::{is_unique_violation, store_error};
use crate::idempotency::record_effect;
use crate::mapping::{
    dispute_with_children, push_bind, Building, MessageColumns, Stored, TimelineColumns,
};
use crate::outbox::enqueue;
use crate::PgStore;
use disputes_rows::{
    dispute_columns, json_object_arguments, screen_ids, status_count_from_row, Columns,
    DISPUTE_COLUMNS, MESSAGE_COLUMNS, TIMELINE_COLUMNS,
};

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
                let found = find_conflict(&mut conn, &parts.tenant, &parts.subject).await?;
                return Err(flow::duplicate(found, || store_error(e)));
            }
            Err(e) => return Err(store_error(e)),
        };
        insert_screens(&mut tx, id, screen_ids(&parts.subject)).await?;
        insert_timeline(&mut tx, id, &parts.timeline).await?;
        insert_messages(&mut tx, id, &parts.messages).await?;
        enqueue(&mut tx, &parts.tenant, id, &write.notifications).await?;
        record_effect(&mut tx, id, parts.version.get(), write.key.as_ref()).await?;
        tx.commit().await.map_err(store_error)?;
        flow::created(dispute, id)
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
        let mut select =
            QueryBuilder::<Postgres>::new(format!("{} WHERE tenant = ", *SELECT_DISPUTES));
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
        let mut select = QueryBuilder::<Postgres>::new(flow::COUNT_BY_STATUS);
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
        // READ COMMITTED: the UPDATE locks the row, so a concurrent update of the same dispute
        // waits for this transaction, then re-checks its `version = expected` against the row
        // this one committed, matches nothing and reports a conflict. No update is lost.
        let mut tx = self.pool.begin().await.map_err(store_error)?;
        let mut update = QueryBuilder::<Postgres>::new("");
        flow::update_state(dispute, expected, &mut Building(&mut update));
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
            return Err(flow::stale(exists));
        }
        let (appended, posted) = flow::new_since(dispute, expected);
        insert_timeline(&mut tx, dispute.id().get(), appended).await?;
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
        flow::ping(self).await
    }
}

/// The text [`LOCK_SUBJECT`] hashes: the tenant and what two conflicting subjects must share (the
/// campaign, the invoice, the bill item, the bill, the account of an event dispute), so that only
/// creates that could conflict wait for each other. The unit separator cannot occur in a tenant slug or a kind, so no two scopes spell the
/// same text. A hash collision between two scopes only makes their creates take turns.
fn lock_key(tenant: &TenantId, subject: &Subject) -> String {
    let scope = match subject {
        Subject::Delivery(s) => s.campaign_id(),
        Subject::Invoice(s) => s.invoice(),
        Subject::Billing(s) => match s.target() {
            BillingTarget::Item(item) => item.as_str(),
            BillingTarget::Bill(bill) => bill.as_str(),
            // An event dispute always names its account.
            BillingTarget::Events(_) => s.account_id().unwrap_or_default(),
        },
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
        Subject::Billing(s) => match s.target() {
            BillingTarget::Item(item) => {
                sqlx::query_scalar(concat!(
                    "SELECT id FROM disputes WHERE tenant = $1 AND item_id = $2",
                    " AND subject_kind = 'bill_item' AND status NOT IN ",
                    final_statuses!(),
                    " ORDER BY id LIMIT 1"
                ))
                .bind(tenant.as_str())
                .bind(item)
                .fetch_optional(conn)
                .await
            }
            BillingTarget::Bill(bill) => {
                sqlx::query_scalar(concat!(
                    "SELECT id FROM disputes WHERE tenant = $1 AND bill_id = $2",
                    " AND billing_target = 'bill'",
                    " AND subject_kind = 'bill_item' AND status NOT IN ",
                    final_statuses!(),
                    " ORDER BY id LIMIT 1"
                ))
                .bind(tenant.as_str())
                .bind(bill)
                .fetch_optional(conn)
                .await
            }
            BillingTarget::Events(events) => {
                sqlx::query_scalar(concat!(
                    "SELECT id FROM disputes WHERE tenant = $1 AND account_id = $2",
                    " AND billing_target = 'events' AND event_ids && $3",
                    " AND subject_kind = 'bill_item' AND status NOT IN ",
                    final_statuses!(),
                    " ORDER BY id LIMIT 1"
                ))
                .bind(tenant.as_str())
                .bind(s.account_id())
                .bind(events.ids())
                .fetch_optional(conn)
                .await
            }
        },
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
    flow::found_id(found)
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

    /// The partial unique indexes spell the list as the shared flows do (which a test of
    /// `disputes_rows` keeps in step with the domain).
    #[test]
    fn the_partial_indexes_use_the_final_statuses_of_the_queries() {
        let migration = include_str!("../migrations/0001_initial.sql");
        let predicate = concat!("status NOT IN ", final_statuses!());
        assert_eq!(migration.matches(predicate).count(), 2, "both indexes");
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
