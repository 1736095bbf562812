//! The [`IdempotencyStore`] port on `idempotency_keys`, and [`record_effect`], which binds a
//! key to the create or update it caused inside that write's transaction.

use async_trait::async_trait;
use disputes_domain::Timestamp;
use disputes_ports::idempotency::{
    IdempotencyStore, KeyState, KeyedRequest, Reservation, StoredAnswer,
};
use disputes_ports::StoreError;
use disputes_rows::flows::idempotency::{self as flow, ReserveSql};
use disputes_rows::IDEMPOTENCY_KEY_COLUMNS;
use sqlx::{PgConnection, Postgres, QueryBuilder};

use crate::error::store_error;
use crate::mapping::Building;
use crate::PgStore;

#[async_trait]
impl IdempotencyStore for PgStore {
    async fn reserve(
        &self,
        request: &KeyedRequest,
        now: Timestamp,
    ) -> Result<KeyState, StoreError> {
        // A concurrent claim of the same key waits for this transaction to commit and then does
        // nothing; the row lock of `stored` (FOR UPDATE) serializes the rest. Pruning skips the
        // keys another reserve has locked.
        let stored = format!(
            "SELECT {IDEMPOTENCY_KEY_COLUMNS} FROM idempotency_keys \
             WHERE tenant = $1 AND principal = $2 AND idempotency_key = $3 FOR UPDATE"
        );
        let sql = ReserveSql {
            prune: "DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid FROM idempotency_keys \
                 WHERE created_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
            claim: "INSERT INTO idempotency_keys \
                 (tenant, principal, idempotency_key, fingerprint, token, created_at, lease_until) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            stored: &stored,
            restart: "UPDATE idempotency_keys SET fingerprint = $1, token = $2, created_at = $3, \
                 lease_until = $4, dispute_id = NULL, dispute_version = NULL, webhook_id = NULL, \
                 answer = NULL \
                 WHERE tenant = $5 AND principal = $6 AND idempotency_key = $7",
        };
        flow::reserve(self, &sql, request, now).await
    }

    async fn complete(
        &self,
        reservation: &Reservation,
        answer: &StoredAnswer,
    ) -> Result<(), StoreError> {
        let sql = "UPDATE idempotency_keys SET answer = $1 \
             WHERE tenant = $2 AND principal = $3 AND idempotency_key = $4 AND token = $5";
        flow::complete(self, sql, reservation, answer).await
    }

    async fn release(&self, reservation: &Reservation) -> Result<(), StoreError> {
        let sql = "DELETE FROM idempotency_keys WHERE tenant = $1 AND principal = $2 \
             AND idempotency_key = $3 AND token = $4 AND dispute_id IS NULL \
             AND webhook_id IS NULL";
        flow::release(self, sql, reservation).await
    }
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
    let mut update = QueryBuilder::<Postgres>::new("");
    flow::record_effect(id, version, reservation, &mut Building(&mut update));
    let marked = update
        .build()
        .execute(&mut *conn)
        .await
        .map_err(store_error)?
        .rows_affected();
    reservation.effect_recorded(marked)
}
