//! The [`IdempotencyStore`] port on `idempotency_keys`, and [`record_effect`], which binds a
//! key to the create or update it caused inside that write's transaction.

use async_trait::async_trait;
use disputes_domain::Timestamp;
use disputes_ports::idempotency::{
    IdempotencyStore, KeyState, KeyedRequest, Reservation, StoredAnswer, StoredKey, LEASE,
    RETENTION,
};
use disputes_ports::StoreError;
use disputes_rows::{self as rows, IDEMPOTENCY_KEY_COLUMNS};
use sqlx::SqliteConnection;

use crate::batch::Batch;
use crate::error::store_error;
use crate::mapping::{time_text, Stored};
use crate::SqliteStore;

/// How many expired keys one reserve prunes at most, so that pruning never makes a request slow.
const PRUNE_BATCH: i64 = 100;

#[async_trait]
impl IdempotencyStore for SqliteStore {
    async fn reserve(
        &self,
        request: &KeyedRequest,
        now: Timestamp,
    ) -> Result<KeyState, StoreError> {
        // The write lock up front: the check and the claim below are one atomic step.
        let (_turn, mut tx) = self.begin_write().await.map_err(store_error)?;
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE rowid IN \
             (SELECT rowid FROM idempotency_keys WHERE created_at <= ? LIMIT ?)",
        )
        .bind(time_text(now - RETENTION))
        .bind(PRUNE_BATCH)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        let token = Reservation::new_token();
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys \
             (tenant, principal, idempotency_key, fingerprint, token, created_at, lease_until) \
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(request.tenant.as_str())
        .bind(&request.principal)
        .bind(request.key.as_str())
        .bind(request.fingerprint.as_str())
        .bind(&token)
        .bind(time_text(now))
        .bind(time_text(now + LEASE))
        .execute(&mut *tx)
        .await
        .map_err(store_error)?
        .rows_affected();
        if inserted == 0 {
            let stored = stored_key(&mut tx, request).await?;
            if let Some(state) = stored.verdict(&request.fingerprint, now) {
                tx.commit().await.map_err(store_error)?;
                return Ok(state);
            }
            // Expired, or abandoned without an effect: this request starts it afresh.
            sqlx::query(
                "UPDATE idempotency_keys SET fingerprint = ?, token = ?, created_at = ?, \
                 lease_until = ?, dispute_id = NULL, dispute_version = NULL, \
                 answer = NULL \
                 WHERE tenant = ? AND principal = ? AND idempotency_key = ?",
            )
            .bind(request.fingerprint.as_str())
            .bind(&token)
            .bind(time_text(now))
            .bind(time_text(now + LEASE))
            .bind(request.tenant.as_str())
            .bind(&request.principal)
            .bind(request.key.as_str())
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        }
        tx.commit().await.map_err(store_error)?;
        Ok(KeyState::Reserved(Reservation::of(request, token)))
    }

    async fn complete(
        &self,
        reservation: &Reservation,
        answer: &StoredAnswer,
    ) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        sqlx::query(
            "UPDATE idempotency_keys SET answer = ? \
             WHERE tenant = ? AND principal = ? AND idempotency_key = ? AND token = ?",
        )
        .bind(answer.as_bytes())
        .bind(reservation.tenant.as_str())
        .bind(&reservation.principal)
        .bind(reservation.key.as_str())
        .bind(&reservation.token)
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn release(&self, reservation: &Reservation) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE tenant = ? AND principal = ? \
             AND idempotency_key = ? AND token = ? AND dispute_id IS NULL",
        )
        .bind(reservation.tenant.as_str())
        .bind(&reservation.principal)
        .bind(reservation.key.as_str())
        .bind(&reservation.token)
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(())
    }
}

async fn stored_key(
    conn: &mut SqliteConnection,
    request: &KeyedRequest,
) -> Result<StoredKey, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {IDEMPOTENCY_KEY_COLUMNS} FROM idempotency_keys \
         WHERE tenant = ? AND principal = ? AND idempotency_key = ?",
    ))
    .bind(request.tenant.as_str())
    .bind(&request.principal)
    .bind(request.key.as_str())
    .fetch_one(&mut *conn)
    .await
    .map_err(store_error)?;
    rows::stored_key_from_row(&Stored(&row))
}

/// Adds to `batch` the record on the write's `key` (if it has one) that the write produced
/// `version` of dispute `id`, inside the write's transaction, and returns the reservation to
/// check the outcome against: once the batch has run, pass the rows it changed beyond its inserts
/// to [`Reservation::effect_recorded`], which fails with [`StoreError::KeyTakenOver`], so the
/// write rolls back, when the key is no longer held by this request.
pub(crate) fn record_effect<'k>(
    batch: &mut Batch<'_>,
    id: i64,
    version: i64,
    key: Option<&'k Reservation>,
) -> Option<&'k Reservation> {
    let reservation = key?;
    batch
        .statement("UPDATE idempotency_keys SET dispute_id = ")
        .push_bind(id)
        .push(", dispute_version = ")
        .push_bind(version)
        .push(" WHERE tenant = ")
        .push_bind(reservation.tenant.as_str().to_owned())
        .push(" AND principal = ")
        .push_bind(reservation.principal.clone())
        .push(" AND idempotency_key = ")
        .push_bind(reservation.key.as_str().to_owned())
        .push(" AND token = ")
        .push_bind(reservation.token.clone());
    Some(reservation)
}
