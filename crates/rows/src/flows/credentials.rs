//! The [`CredentialStore`](disputes_ports::CredentialStore) port on `tenants` and `api_keys`.

use disputes_domain::{Agent, TenantId, Timestamp};
use disputes_ports::{ApiKeyRecord, StoreError};

use crate::{api_key_from_row, one, scopes_text, tenant_owner, Sql, StoredRow};

/// Creates `tenant`. `sql` inserts (`slug, created_at`); a taken slug breaks the primary key,
/// which a store reports as [`StoreError::AlreadyExists`].
pub async fn create_tenant(
    db: &impl Sql,
    sql: &str,
    tenant: &TenantId,
    at: Timestamp,
) -> Result<(), StoreError> {
    db.execute(sql, vec![tenant.as_str().into(), at.into()])
        .await?;
    Ok(())
}

/// Whether `tenant` exists. `sql` selects one flag `found` for the `slug`.
pub async fn tenant_exists(
    db: &impl Sql,
    sql: &str,
    tenant: &TenantId,
) -> Result<bool, StoreError> {
    let row = one(db.fetch_optional(sql, vec![tenant.as_str().into()]).await?)?;
    crate::required("found", row.flag("found")?)
}

/// Every tenant. `sql` selects the `slug` of every tenant, in order.
pub async fn tenants(db: &impl Sql, sql: &str) -> Result<Vec<TenantId>, StoreError> {
    db.fetch_all(sql, Vec::new())
        .await?
        .iter()
        .map(|row| {
            let slug = crate::required("slug", row.text("slug")?)?;
            TenantId::new(slug).map_err(|e| crate::corrupt("slug", e))
        })
        .collect()
}

/// Makes `owner` the owner of `tenant`. `sql` updates (`owner_name, owner_email`) of a `slug`;
/// no such tenant is [`StoreError::NotFound`].
pub async fn assign_owner(
    db: &impl Sql,
    sql: &str,
    tenant: &TenantId,
    owner: &Agent,
) -> Result<(), StoreError> {
    let params = vec![
        owner.name().into(),
        owner.email().as_str().into(),
        tenant.as_str().into(),
    ];
    if db.execute(sql, params).await? == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The owner of `tenant`, if it has one. `sql` selects `owner_name, owner_email` of a `slug`.
pub async fn owner(
    db: &impl Sql,
    sql: &str,
    tenant: &TenantId,
) -> Result<Option<Agent>, StoreError> {
    match db.fetch_optional(sql, vec![tenant.as_str().into()]).await? {
        Some(row) => tenant_owner(row.text("owner_name")?, row.text("owner_email")?),
        None => Ok(None),
    }
}

/// Adds `key`. `sql` inserts (`key_id, tenant, role, actor_id, secret_hash, created_at,
/// scopes`). An
/// unknown tenant breaks the foreign key ([`StoreError::NotFound`]); a taken key id the primary
/// key ([`StoreError::AlreadyExists`]).
pub async fn add_key(db: &impl Sql, sql: &str, key: &ApiKeyRecord) -> Result<(), StoreError> {
    let params = vec![
        key.key_id.as_str().into(),
        key.tenant.as_str().into(),
        key.role.as_str().into(),
        key.actor.as_str().into(),
        key.secret_hash.to_hex().as_str().into(),
        key.created_at.into(),
        scopes_text(&key.scopes).as_str().into(),
    ];
    db.execute(sql, params).await?;
    Ok(())
}

/// The key `key_id`, if any. `sql` selects the columns [`api_key_from_row`] reads by `key_id`.
pub async fn find_key(
    db: &impl Sql,
    sql: &str,
    key_id: &str,
) -> Result<Option<ApiKeyRecord>, StoreError> {
    db.fetch_optional(sql, vec![key_id.into()])
        .await?
        .map(|row| api_key_from_row(&row))
        .transpose()
}
