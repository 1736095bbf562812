//! Tenants' deadline policies (`tenant_policies`).

use async_trait::async_trait;
use disputes_domain::{DisputePolicy, TenantId};
use disputes_ports::{StoreError, TenantPolicies};
use disputes_rows::{self as rows, POLICY_COLUMNS};

use crate::error::store_error;
use crate::mapping::Stored;
use crate::SqliteStore;

#[async_trait]
impl TenantPolicies for SqliteStore {
    async fn policy(&self, tenant: &TenantId) -> Result<Option<DisputePolicy>, StoreError> {
        sqlx::query(&format!(
            "SELECT {POLICY_COLUMNS} FROM tenant_policies WHERE tenant = ?",
        ))
        .bind(tenant.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?
        .as_ref()
        .map(|row| rows::policy_from_row(&Stored(row)))
        .transpose()
    }

    async fn set_policy(
        &self,
        tenant: &TenantId,
        policy: &DisputePolicy,
    ) -> Result<(), StoreError> {
        // An unknown tenant breaks the foreign key, which store_error reports as NotFound.
        let _turn = self.write_turn().await;
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
