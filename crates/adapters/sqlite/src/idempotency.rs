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

use crate::batch::Batch;
use crate::mapping::Building;
use crate::SqliteStore;

#[async_trait]
impl IdempotencyStore for SqliteStore {
    async fn reserve(
        &self,
        request: &KeyedRequest,
        now: Timestamp,
    ) -> Result<KeyState, StoreError> {
        // In a write transaction: SQLite's write lock, taken up front, makes the check and the
        // claim one atomic step.
        let stored = format!(
            "SELECT {IDEMPOTENCY_KEY_COLUMNS} FROM idempotency_keys \
             WHERE tenant = ? AND principal = ? AND idempotency_key = ?"
        );
        let sql = ReserveSql {
            prune: "DELETE FROM idempotency_keys WHERE rowid IN \
                 (SELECT rowid FROM idempotency_keys WHERE created_at <= ? LIMIT ?)",
            claim: "INSERT INTO idempotency_keys \
                 (tenant, principal, idempotency_key, fingerprint, token, created_at, lease_until) \
                 VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            stored: &stored,
            restart: "UPDATE idempotency_keys SET fingerprint = ?, token = ?, created_at = ?, \
                 lease_until = ?, dispute_id = NULL, dispute_version = NULL, webhook_id = NULL, \
                 answer = NULL \
                 WHERE tenant = ? AND principal = ? AND idempotency_key = ?",
        };
        flow::reserve(self, &sql, request, now).await
    }

    async fn complete(
        &self,
        reservation: &Reservation,
        answer: &StoredAnswer,
    ) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        let sql = "UPDATE idempotency_keys SET answer = ? \
             WHERE tenant = ? AND principal = ? AND idempotency_key = ? AND token = ?";
        flow::complete(self, sql, reservation, answer).await
    }

    async fn release(&self, reservation: &Reservation) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        let sql = "DELETE FROM idempotency_keys WHERE tenant = ? AND principal = ? \
             AND idempotency_key = ? AND token = ? AND dispute_id IS NULL \
             AND webhook_id IS NULL";
        flow::release(self, sql, reservation).await
    }
}

/// Adds to `batch` the record on the write's `key` (if it has one) that the write produced
/// `version` of dispute `id`, inside the write's transaction, and returns the reservation to
/// check the outcome against: once the batch has run, pass the rows it changed beyond its inserts
/// to [`Reservation::effect_recorded`], which fails with [`StoreError::KeyTakenOver`], so the
/// write rolls back, when the key is no longer held by this request.
pub(crate) fn record_effect<'k>(
    batch: &mut Batch<'k>,
    id: i64,
    version: i64,
    key: Option<&'k Reservation>,
) -> Option<&'k Reservation> {
    let reservation = key?;
    let update = &mut Building(batch.statement(""));
    flow::record_effect(id, version, reservation, update);
    Some(reservation)
}
