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
use sqlx::PgConnection;

use crate::error::store_error;
use crate::mapping::Stored;
use crate::PgStore;

/// How many expired keys one reserve prunes at most, so that pruning never makes a request slow.
const PRUNE_BATCH: i64 = 100;

#[async_trait]
impl IdempotencyStore for PgStore {
    async fn reserve(
        &self,
        request: &KeyedRequest,
        now: Timestamp,
    ) -> Result<KeyState, StoreError> {
        // A concurrent insert of the same key waits for this one to commit and then does nothing;
        // the row lock of `stored_key` serializes the rest.
        let mut tx = self.pool.begin().await.map_err(store_error)?;
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid FROM idempotency_keys \
             WHERE created_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .bind(now - RETENTION)
        .bind(PRUNE_BATCH)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        let token = Reservation::new_token();
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys \
             (tenant, principal, idempotency_key, fingerprint, token, created_at, lease_until) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(request.tenant.as_str())
        .bind(&request.principal)
        .bind(request.key.as_str())
        .bind(request.fingerprint.as_str())
        .bind(&token)
        .bind(now)
        .bind(now + LEASE)
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
                "UPDATE idempotency_keys SET fingerprint = $1, token = $2, created_at = $3, \
                 lease_until = $4, dispute_id = NULL, dispute_version = NULL, \
                 answer = NULL \
                 WHERE tenant = $5 AND principal = $6 AND idempotency_key = $7",
            )
            .bind(request.fingerprint.as_str())
            .bind(&token)
            .bind(now)
            .bind(now + LEASE)
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
        sqlx::query(
            "UPDATE idempotency_keys SET answer = $1 \
             WHERE tenant = $2 AND principal = $3 AND idempotency_key = $4 AND token = $5",
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
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE tenant = $1 AND principal = $2 \
             AND idempotency_key = $3 AND token = $4 AND dispute_id IS NULL",
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
    conn: &mut PgConnection,
    request: &KeyedRequest,
) -> Result<StoredKey, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {IDEMPOTENCY_KEY_COLUMNS} FROM idempotency_keys \
         WHERE tenant = $1 AND principal = $2 AND idempotency_key = $3 FOR UPDATE",
    ))
    .bind(request.tenant.as_str())
    .bind(&request.principal)
    .bind(request.key.as_str())
    .fetch_one(&mut *conn)
    .await
    .map_err(store_error)?;
    rows::stored_key_from_row(&Stored(&row))
}

/// Records on the write's `key` (if it has one) that the write produced `version` of dispute
/// `id`, inside the write's transaction. Fails with [`StoreError::KeyTakenOver`], so the write
/// rolls back, when the key is no longer held by this request.
pub(crate) async fn record_effect(
    conn: &mut PgConnection,
    id: i64,
    version: i64,
    key: Option<&Reservation>,
) -> Result<(), StoreError> {
    let Some(reservation) = key else {
        return Ok(());
    };
    let marked = sqlx::query(
        "UPDATE idempotency_keys SET dispute_id = $1, dispute_version = $2 \
         WHERE tenant = $3 AND principal = $4 AND idempotency_key = $5 AND token = $6",
    )
    .bind(id)
    .bind(version)
    .bind(reservation.tenant.as_str())
    .bind(&reservation.principal)
    .bind(reservation.key.as_str())
    .bind(&reservation.token)
    .execute(&mut *conn)
    .await
    .map_err(store_error)?
    .rows_affected();
    reservation.effect_recorded(marked)
}
