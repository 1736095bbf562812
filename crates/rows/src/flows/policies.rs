//! The [`TenantPolicies`](disputes_ports::TenantPolicies) port on `tenant_policies`.

use disputes_domain::{DisputePolicy, TenantId};
use disputes_ports::StoreError;

use crate::{policy_from_row, Sql};

/// The policy of `tenant`, if it set one. `sql` selects
/// [`POLICY_COLUMNS`](crate::POLICY_COLUMNS) of a `tenant`.
pub async fn policy(
    db: &impl Sql,
    sql: &str,
    tenant: &TenantId,
) -> Result<Option<DisputePolicy>, StoreError> {
    db.fetch_optional(sql, vec![tenant.as_str().into()])
        .await?
        .as_ref()
        .map(policy_from_row)
        .transpose()
}

/// Sets the policy of `tenant`. `sql` inserts or replaces (`tenant, respond_within_secs,
/// on_expiry, remind_before_secs`); an unknown tenant breaks the foreign key
/// ([`StoreError::NotFound`]).
pub async fn set_policy(
    db: &impl Sql,
    sql: &str,
    tenant: &TenantId,
    policy: &DisputePolicy,
) -> Result<(), StoreError> {
    let params = vec![
        tenant.as_str().into(),
        policy.respond_within.num_seconds().into(),
        policy.outcome_on_expiry().as_str().into(),
        policy.remind_before.num_seconds().into(),
    ];
    db.execute(sql, params).await?;
    Ok(())
}
