//! The [`TenantPolicies`] port: the flows of [`disputes_rows::flows::policies`] with
//! PostgreSQL's SQL.

use async_trait::async_trait;
use disputes_domain::{DisputePolicy, TenantId};
use disputes_ports::{StoreError, TenantPolicies};
use disputes_rows::flows::policies as flow;
use disputes_rows::POLICY_COLUMNS;

use crate::PgStore;

#[async_trait]
impl TenantPolicies for PgStore {
    async fn policy(&self, tenant: &TenantId) -> Result<Option<DisputePolicy>, StoreError> {
        let sql = format!("SELECT {POLICY_COLUMNS} FROM tenant_policies WHERE tenant = $1");
        flow::policy(self, &sql, tenant).await
    }

    async fn set_policy(
        &self,
        tenant: &TenantId,
        policy: &DisputePolicy,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO tenant_policies \
               (tenant, respond_within_secs, on_expiry, remind_before_secs) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant) DO UPDATE SET \
               respond_within_secs = excluded.respond_within_secs, \
               on_expiry = excluded.on_expiry, \
               remind_before_secs = excluded.remind_before_secs";
        flow::set_policy(self, sql, tenant, policy).await
    }
}
