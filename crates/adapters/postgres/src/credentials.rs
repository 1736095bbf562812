use async_trait::async_trait;
use disputes_domain::{Agent, TenantId, Timestamp};
use disputes_ports::{ApiKeyRecord, CredentialStore, StoreError};
use disputes_rows::{api_key_from_row, tenant_owner};

use crate::error::store_error;
use crate::mapping::Stored;
use crate::PgStore;

#[async_trait]
impl CredentialStore for PgStore {
    async fn create_tenant(&self, tenant: &TenantId, at: Timestamp) -> Result<(), StoreError> {
        // A taken slug is a primary-key violation, which store_error reports as AlreadyExists.
        sqlx::query("INSERT INTO tenants (slug, created_at) VALUES ($1, $2)")
            .bind(tenant.as_str())
            .bind(at)
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn tenant_exists(&self, tenant: &TenantId) -> Result<bool, StoreError> {
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM tenants WHERE slug = $1)")
            .bind(tenant.as_str())
            .fetch_one(&self.pool)
            .await
            .map_err(store_error)
    }

    async fn assign_owner(&self, tenant: &TenantId, owner: &Agent) -> Result<(), StoreError> {
        let updated =
            sqlx::query("UPDATE tenants SET owner_name = $1, owner_email = $2 WHERE slug = $3")
                .bind(owner.name())
                .bind(owner.email().as_str())
                .bind(tenant.as_str())
                .execute(&self.pool)
                .await
                .map_err(store_error)?
                .rows_affected();
        if updated == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn tenant_owner(&self, tenant: &TenantId) -> Result<Option<Agent>, StoreError> {
        let row: Option<(Option<String>, Option<String>)> =
            sqlx::query_as("SELECT owner_name, owner_email FROM tenants WHERE slug = $1")
                .bind(tenant.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(store_error)?;
        match row {
            Some((name, email)) => tenant_owner(name, email),
            None => Ok(None),
        }
    }

    async fn add_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        // An unknown tenant breaks the foreign key (NotFound); a taken key id the primary key
        // (AlreadyExists).
        sqlx::query(
            "INSERT INTO api_keys (key_id, tenant, role, actor_id, secret_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(key.key_id.as_str())
        .bind(key.tenant.as_str())
        .bind(key.role.as_str())
        .bind(key.actor.as_str())
        .bind(key.secret_hash.to_hex())
        .bind(key.created_at)
        .execute(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn find_key(&self, key_id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT key_id, tenant, role, actor_id, secret_hash, created_at \
             FROM api_keys WHERE key_id = $1",
        )
        .bind(key_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        let Some(row) = row else {
            return Ok(None);
        };
        api_key_from_row(&Stored(&row)).map(Some)
    }
}
