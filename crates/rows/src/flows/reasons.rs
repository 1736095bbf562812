//! The [`ReasonCatalog`](disputes_ports::ReasonCatalog) port on `reason_codes`. Seeding a
//! tenant's table stays with each store: it inserts any number of rows at once, which the two
//! dialects spell differently.

use disputes_domain::{Reason, ReasonCode, TenantId};
use disputes_ports::StoreError;

use crate::{reason_from_row, Sql};

/// The reasons of `tenant`. `sql` selects `domain_id, reason_id, description` of a `tenant`, in
/// code order.
pub async fn reasons(
    db: &impl Sql,
    sql: &str,
    tenant: &TenantId,
) -> Result<Vec<Reason>, StoreError> {
    db.fetch_all(sql, vec![tenant.as_str().into()])
        .await?
        .iter()
        .map(reason_from_row)
        .collect()
}

/// The reason `code` of `tenant`, if any. `sql` selects as for [`reasons`], by `tenant,
/// domain_id, reason_id`.
pub async fn find_reason(
    db: &impl Sql,
    sql: &str,
    tenant: &TenantId,
    code: ReasonCode,
) -> Result<Option<Reason>, StoreError> {
    let params = vec![
        tenant.as_str().into(),
        code.domain_id().into(),
        code.reason_id().into(),
    ];
    db.fetch_optional(sql, params)
        .await?
        .as_ref()
        .map(reason_from_row)
        .transpose()
}

/// Adds `reason` to `tenant`'s table. `sql` inserts (`tenant, domain_id, reason_id,
/// description`). A taken code breaks the primary key ([`StoreError::AlreadyExists`]), an
/// unknown tenant the foreign key ([`StoreError::NotFound`]).
pub async fn add_reason(
    db: &impl Sql,
    sql: &str,
    tenant: &TenantId,
    reason: &Reason,
) -> Result<(), StoreError> {
    let params = vec![
        tenant.as_str().into(),
        reason.code().domain_id().into(),
        reason.code().reason_id().into(),
        reason.description().into(),
    ];
    db.execute(sql, params).await?;
    Ok(())
}
