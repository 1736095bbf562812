//! Tenants' deadline policies (`tenant_policies`).

use async_trait::async_trait;
use chrono::Duration;
use disputes_domain::{DisputePolicy, TenantId};
use disputes_ports::{StoreError, TenantPolicies};
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use crate::error::{corrupt, store_error};
use crate::SqliteStore;

#[async_trait]
impl TenantPolicies for SqliteStore {
    async fn policy(&self, tenant: &TenantId) -> Result<Option<DisputePolicy>, StoreError> {
        sqlx::query(
            "SELECT respond_within_secs, on_expiry, remind_before_secs FROM tenant_policies \
             WHERE tenant = ?",
        )
        .bind(tenant.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?
        .as_ref()
        .map(policy_from_row)
        .transpose()
    }

    async fn set_policy(
        &self,
        tenant: &TenantId,
        policy: &DisputePolicy,
    ) -> Result<(), StoreError> {
        // An unknown tenant breaks the foreign key, which store_error reports as NotFound.
        sqlx::query(
            "INSERT INTO tenant_policies \
               (tenant, respond_within_secs, on_expiry, remind_before_secs) \
             VALUES (?, ?, ?, ?) \
             ON CONFLICT (tenant) DO UPDATE SET \
               respond_within_secs = excluded.respond_within_secs, \
               on_expiry = excluded.on_expiry, \
               remind_before_secs = excluded.remind_before_secs",
        )
        .bind(tenant.as_str())
        .bind(policy.respond_within.num_seconds())
        .bind(policy.outcome_on_expiry().as_str())
        .bind(policy.remind_before.num_seconds())
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(())
    }
}

fn policy_from_row(row: &SqliteRow) -> Result<DisputePolicy, StoreError> {
    let respond_within: i64 = row.try_get("respond_within_secs").map_err(store_error)?;
    let on_expiry: String = row.try_get("on_expiry").map_err(store_error)?;
    let remind_before: i64 = row.try_get("remind_before_secs").map_err(store_error)?;
    let grant_on_expiry = match on_expiry.as_str() {
        "granted" => true,
        "denied" => false,
        other => return Err(corrupt("on_expiry", other)),
    };
    DisputePolicy::new(
        Duration::seconds(respond_within),
        grant_on_expiry,
        Duration::seconds(remind_before),
    )
    .map_err(|e| corrupt("tenant_policies", e))
}
