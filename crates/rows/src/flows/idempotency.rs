//! The [`IdempotencyStore`](disputes_ports::idempotency::IdempotencyStore) port on
//! `idempotency_keys`. Recording a write's effect on its key is part of that write's own
//! statements, so it is written into the store's builder ([`Build`]) like the dispute's.

use disputes_domain::Timestamp;
use disputes_ports::idempotency::{
    KeyState, KeyedRequest, Reservation, StoredAnswer, LEASE, RETENTION,
};
use disputes_ports::StoreError;

use crate::flows::disputes::Build;
use crate::{one, stored_key_from_row, Sql, Value};

/// How many expired keys one reserve prunes at most, so that pruning never makes a request slow.
const PRUNE_BATCH: i64 = 100;

/// The statements of [`reserve`], in a store's dialect, each with its parameters in this order:
#[derive(Debug, Clone, Copy)]
pub struct ReserveSql<'s> {
    /// Deletes at most a given number of keys created at or before an instant (`created_at`,
    /// the number).
    pub prune: &'s str,
    /// Inserts the key unless it exists (`tenant, principal, idempotency_key, fingerprint,
    /// token, created_at, lease_until`).
    pub claim: &'s str,
    /// Selects [`IDEMPOTENCY_KEY_COLUMNS`](crate::IDEMPOTENCY_KEY_COLUMNS) of the key (`tenant,
    /// principal, idempotency_key`), locking it where the store must.
    pub stored: &'s str,
    /// Starts the key afresh (`fingerprint, token, created_at, lease_until`, then `tenant,
    /// principal, idempotency_key`), clearing its effect and answer.
    pub restart: &'s str,
}

/// Reserves `request`'s key at `now`, or tells what became of an earlier request with it, in
/// one write transaction: expired keys are pruned first, a claim is tried, and an existing key
/// decides by its [`verdict`](disputes_ports::idempotency::StoredKey::verdict) unless it has
/// expired or was abandoned without an effect, when this request starts it afresh.
pub async fn reserve<S: Sql>(
    db: &S,
    sql: &ReserveSql<'_>,
    request: &KeyedRequest,
    now: Timestamp,
) -> Result<KeyState, StoreError> {
    let mut write = db.begin().await?;
    let prune = vec![(now - RETENTION).into(), PRUNE_BATCH.into()];
    db.execute_in(&mut write, sql.prune, prune).await?;
    let token = Reservation::new_token();
    let key = key_params(request);
    let lease = vec![
        request.fingerprint.as_str().into(),
        (&token).into(),
        now.into(),
        (now + LEASE).into(),
    ];
    let claim = key.iter().cloned().chain(lease.iter().cloned()).collect();
    if db.execute_in(&mut write, sql.claim, claim).await? == 0 {
        let stored = one(db
            .fetch_optional_in(&mut write, sql.stored, key.clone())
            .await?)?;
        if let Some(state) = stored_key_from_row(&stored)?.verdict(&request.fingerprint, now) {
            db.commit(write).await?;
            return Ok(state);
        }
        let restart = lease.into_iter().chain(key).collect();
        db.execute_in(&mut write, sql.restart, restart).await?;
    }
    db.commit(write).await?;
    Ok(KeyState::Reserved(Reservation::of(request, token)))
}

/// Writes the record on `reservation`'s key that the write produced `version` of dispute `id`,
/// matching the key only while this request holds it (its token). The rows it changes tell
/// [`Reservation::effect_recorded`] whether it did.
pub fn record_effect<'q>(
    id: i64,
    version: i64,
    reservation: &'q Reservation,
    update: &mut impl Build<'q>,
) {
    update.sql("UPDATE idempotency_keys SET dispute_id = ");
    update.value(id.into());
    update.sql(", dispute_version = ");
    update.value(version.into());
    update.sql(" WHERE tenant = ");
    update.text(reservation.tenant.as_str());
    update.sql(" AND principal = ");
    update.text(&reservation.principal);
    update.sql(" AND idempotency_key = ");
    update.text(reservation.key.as_str());
    update.sql(" AND token = ");
    update.text(&reservation.token);
}

/// A key's columns: `tenant, principal, idempotency_key`.
fn key_params(request: &KeyedRequest) -> Vec<Value> {
    vec![
        request.tenant.as_str().into(),
        (&request.principal).into(),
        request.key.as_str().into(),
    ]
}

/// A reservation's key and token: `tenant, principal, idempotency_key, token`.
fn reservation_params(reservation: &Reservation) -> Vec<Value> {
    vec![
        reservation.tenant.as_str().into(),
        (&reservation.principal).into(),
        reservation.key.as_str().into(),
        (&reservation.token).into(),
    ]
}

/// Stores `answer` on the key while `reservation` still holds it. `sql` updates `answer` (bound
/// first), then matches [`reservation_params`]' columns.
pub async fn complete(
    db: &impl Sql,
    sql: &str,
    reservation: &Reservation,
    answer: &StoredAnswer,
) -> Result<(), StoreError> {
    let mut params = vec![answer.as_bytes().into()];
    params.extend(reservation_params(reservation));
    db.execute(sql, params).await?;
    Ok(())
}

/// Gives the key up while `reservation` still holds it and it has no effect. `sql` deletes by
/// `tenant, principal, idempotency_key, token`.
pub async fn release(
    db: &impl Sql,
    sql: &str,
    reservation: &Reservation,
) -> Result<(), StoreError> {
    db.execute(sql, reservation_params(reservation)).await?;
    Ok(())
}
