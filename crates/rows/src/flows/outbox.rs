//! The [`Outbox`](disputes_ports::Outbox) and [`WebhookRegistry`](disputes_ports::WebhookRegistry)
//! ports on `outbox_jobs`, `webhooks` and `webhook_deliveries`. Enqueueing is part of a write's
//! own statements, so it is written into the store's builder ([`Build`]) like the dispute's.
//! Running a lease stays with each store, whose locking differs; it shares its parameters and
//! the reading of its rows.

use disputes_domain::{EntryKind, TenantId, Timestamp};
use disputes_ports::idempotency::Reservation;
use disputes_ports::{
    DeadLetter, EventId, Notification, OutboxJob, Registration, Replay, StoreError, Webhook,
};

use crate::flows::disputes::Build;

use crate::{
    dead_letter_from_row, one, outbox_job_from_row, required, webhook_from_row, Sql, StoredRow,
    Value,
};

/// Writes the insert of `jobs`, the notifications of dispute `dispute_id` of `tenant`, as one
/// statement in the write's own transaction, so that they commit or roll back with it. The
/// caller writes nothing for no jobs (an `INSERT` needs a row).
pub fn enqueue<'q>(
    tenant: &'q TenantId,
    dispute_id: i64,
    jobs: &'q [Notification],
    insert: &mut impl Build<'q>,
) {
    insert.sql(
        "INSERT INTO outbox_jobs (event_id, tenant, dispute_id, seq, kind, sink, next_attempt_at) \
         VALUES ",
    );
    for (i, job) in jobs.iter().enumerate() {
        insert.sql(if i == 0 { "(" } else { ", (" });
        insert.text(job.event.as_str());
        insert.sql(", ");
        insert.text(tenant.as_str());
        insert.sql(", ");
        insert.value(dispute_id.into());
        insert.sql(", ");
        insert.value(job.seq.into());
        insert.sql(", ");
        insert.text(job.kind.as_str());
        insert.sql(", ");
        insert.text(job.sink.as_str());
        insert.sql(", ");
        insert.value(job.due.into());
        insert.sql(")");
    }
}

/// The parameters of a store's lease statement, which sets `next_attempt_at` of at most `limit`
/// jobs due at `now` to the end of their `lease` and returns them: the lease's end, `now`,
/// `limit`.
pub fn lease_params(now: Timestamp, lease: chrono::Duration, limit: u16) -> Vec<Value> {
    vec![(now + lease).into(), now.into(), i64::from(limit).into()]
}

/// The jobs a lease statement returned ([`OUTBOX_JOB_COLUMNS`](crate::OUTBOX_JOB_COLUMNS)), in
/// the order they were enqueued: `RETURNING` promises none.
pub fn leased(rows: &[impl StoredRow]) -> Result<Vec<OutboxJob>, StoreError> {
    let mut jobs = rows
        .iter()
        .map(outbox_job_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    jobs.sort_by_key(|job| job.id);
    Ok(jobs)
}

/// Marks `job` delivered `at`, unless it was. `sql` updates `delivered_at` by `id`.
pub async fn delivered(
    db: &impl Sql,
    sql: &str,
    job: i64,
    at: Timestamp,
) -> Result<(), StoreError> {
    db.execute(sql, vec![at.into(), job.into()]).await?;
    Ok(())
}

/// Records a failed attempt at `job`, unless it was delivered: `error`, and `at`, when it is
/// due again ([`Outbox::retry_at`](disputes_ports::Outbox::retry_at)) or when it was given up
/// on ([`Outbox::dead_letter`](disputes_ports::Outbox::dead_letter)). `sql` updates that time
/// column and `last_error` by `id`.
pub async fn failed_attempt(
    db: &impl Sql,
    sql: &str,
    job: i64,
    at: Timestamp,
    error: &str,
) -> Result<(), StoreError> {
    db.execute(sql, vec![at.into(), error.into(), job.into()])
        .await?;
    Ok(())
}

/// At most `limit` dead-lettered jobs. `sql` selects
/// [`DEAD_LETTER_COLUMNS`](crate::DEAD_LETTER_COLUMNS) of the dead-lettered jobs by id, with
/// the limit bound.
pub async fn dead_letters(
    db: &impl Sql,
    sql: &str,
    limit: u16,
) -> Result<Vec<DeadLetter>, StoreError> {
    db.fetch_all(sql, vec![i64::from(limit).into()])
        .await?
        .iter()
        .map(dead_letter_from_row)
        .collect()
}

/// Puts the dead-lettered jobs `which` names back in the queue, due `now`, their attempts from
/// 0 and `replayed_at` set; answers how many. `one_sql` updates (`next_attempt_at,
/// replayed_at`) the dead-lettered job by `id`; `all_sql` every one, binding the same two.
pub async fn replay(
    db: &impl Sql,
    one_sql: &str,
    all_sql: &str,
    which: Replay,
    now: Timestamp,
) -> Result<u64, StoreError> {
    match which {
        Replay::Job(id) => {
            db.execute(one_sql, vec![now.into(), now.into(), id.into()])
                .await
        }
        Replay::All => db.execute(all_sql, vec![now.into(), now.into()]).await,
    }
}

/// Deletes at most `limit` jobs delivered before `before`; answers how many. `sql` deletes by
/// (`before, limit`).
pub async fn prune_delivered(
    db: &impl Sql,
    sql: &str,
    before: Timestamp,
    limit: u16,
) -> Result<u64, StoreError> {
    db.execute(sql, vec![before.into(), i64::from(limit).into()])
        .await
}

/// The statements of [`add_webhook`], in a store's dialect.
#[derive(Debug, Clone, Copy)]
pub struct AddWebhookSql<'s> {
    /// Inserts (`tenant, url, secret, created_at, events, label, developer_id`) returning the
    /// webhook's `id`.
    pub insert: &'s str,
    /// Records the webhook on the registering request's key: sets `webhook_id` (bound first) of
    /// the key (`tenant, principal, idempotency_key`) while its `token` is the request's.
    pub record: &'s str,
}

/// Registers a webhook of `tenant` and, with the registering request's `key`, records on the key
/// which webhook it made, in one write transaction: a key a retry took over stores nothing.
pub async fn add_webhook<S: Sql>(
    db: &S,
    sql: &AddWebhookSql<'_>,
    tenant: &TenantId,
    registration: &Registration,
    secret: &str,
    at: Timestamp,
    key: Option<&Reservation>,
) -> Result<Webhook, StoreError> {
    let params = vec![
        tenant.as_str().into(),
        registration.url.as_str().into(),
        secret.into(),
        at.into(),
        registration.events.to_stored().as_str().into(),
        Value::Text(registration.label.as_ref().map(|l| l.as_str().to_owned())),
        Value::Text(
            registration
                .developer
                .as_ref()
                .map(|d| d.as_str().to_owned()),
        ),
    ];
    let mut write = db.begin().await?;
    let row = one(db.fetch_optional_in(&mut write, sql.insert, params).await?)?;
    let id = required("id", row.integer("id")?)?;
    if let Some(reservation) = key {
        let record = vec![
            id.into(),
            reservation.tenant.as_str().into(),
            (&reservation.principal).into(),
            reservation.key.as_str().into(),
            (&reservation.token).into(),
        ];
        let marked = db.execute_in(&mut write, sql.record, record).await?;
        // Dropping the transaction rolls the registration back.
        reservation.effect_recorded(marked)?;
    }
    db.commit(write).await?;
    Ok(Webhook {
        id,
        tenant: tenant.clone(),
        url: registration.url.clone(),
        events: registration.events.clone(),
        label: registration.label.clone(),
        developer: registration.developer.clone(),
        secret: secret.to_owned(),
        created_at: at,
    })
}

/// The webhook `id` of `tenant`, if any. `sql` selects [`WEBHOOK_COLUMNS`](crate::WEBHOOK_COLUMNS)
/// by `tenant, id`.
pub async fn webhook(
    db: &impl Sql,
    sql: &str,
    tenant: &TenantId,
    id: i64,
) -> Result<Option<Webhook>, StoreError> {
    db.fetch_optional(sql, vec![tenant.as_str().into(), id.into()])
        .await?
        .map(|row| webhook_from_row(tenant, &row))
        .transpose()
}

/// The webhooks of `tenant` that subscribed to events of `kind` and that `event` has not been
/// delivered to, by id. `sql` selects [`WEBHOOK_COLUMNS`](crate::WEBHOOK_COLUMNS) by `tenant,
/// event_id`. The subscription is matched here rather than in SQL: the names are a list in one
/// column, which each dialect would split its own way, and a tenant has a handful of endpoints.
pub async fn webhooks_pending(
    db: &impl Sql,
    sql: &str,
    tenant: &TenantId,
    event: &EventId,
    kind: EntryKind,
) -> Result<Vec<Webhook>, StoreError> {
    let mut pending = Vec::new();
    for row in db
        .fetch_all(sql, vec![tenant.as_str().into(), event.as_str().into()])
        .await?
    {
        let webhook = webhook_from_row(tenant, &row)?;
        if webhook.events.covers(kind) {
            pending.push(webhook);
        }
    }
    Ok(pending)
}

/// Records that `event` reached `webhook` `at`, once. `sql` inserts (`webhook_id, event_id,
/// delivered_at`), doing nothing when it is recorded.
pub async fn webhook_delivered(
    db: &impl Sql,
    sql: &str,
    webhook: i64,
    event: &EventId,
    at: Timestamp,
) -> Result<(), StoreError> {
    db.execute(sql, vec![webhook.into(), event.as_str().into(), at.into()])
        .await?;
    Ok(())
}
