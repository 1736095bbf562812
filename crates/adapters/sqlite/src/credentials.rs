//! The [`CredentialStore`] port: the flows of [`disputes_rows::flows::credentials`] with
//! SQLite's SQL.

use async_trait::async_trait;
use disputes_domain::{Agent, TenantId, Timestamp};
use disputes_ports::{ApiKeyRecord, CredentialStore, StoreError};
use disputes_rows::flows::credentials as flow;

use crate::SqliteStore;

#[async_trait]
impl CredentialStore for SqliteStore {
    async fn create_tenant(&self, tenant: &TenantId, at: Timestamp) -> Result<(), StoreError> {
        let sql = "INSERT INTO tenants (slug, created_at) VALUES (?, ?)";
        flow::create_tenant(self, sql, tenant, at).await
    }

    async fn tenant_exists(&self, tenant: &TenantId) -> Result<bool, StoreError> {
        let sql = "SELECT EXISTS (SELECT 1 FROM tenants WHERE slug = ?) AS found";
        flow::tenant_exists(self, sql, tenant).await
    }

    async fn tenants(&self) -> Result<Vec<TenantId>, StoreError> {
        flow::tenants(self, "SELECT slug FROM tenants ORDER BY slug").await
    }

    async fn assign_owner(&self, tenant: &TenantId, owner: &Agent) -> Result<(), StoreError> {
        let sql = "UPDATE tenants SET owner_name = ?, owner_email = ? WHERE slug = ?";
        flow::assign_owner(self, sql, tenant, owner).await
    }

    async fn tenant_owner(&self, tenant: &TenantId) -> Result<Option<Agent>, StoreError> {
        let sql = "SELECT owner_name, owner_email FROM tenants WHERE slug = ?";
        flow::owner(self, sql, tenant).await
    }

    async fn add_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        let sql = "INSERT INTO api_keys \
             (key_id, tenant, role, actor_id, secret_hash, created_at, scopes) \
             VALUES (?, ?, ?, ?, ?, ?, ?)";
        flow::add_key(self, sql, key).await
    }

    async fn find_key(&self, key_id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        let sql = "SELECT key_id, tenant, role, actor_id, secret_hash, created_at, scopes \
             FROM api_keys WHERE key_id = ?";
        flow::find_key(self, sql, key_id).await
    }
}
