//! Each tenant's deadline policy: how long whoever must act has, when they are reminded, and how
//! a dispute that nobody answered in time ends.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Duration;
use disputes_domain::{DisputePolicy, DomainError, TenantId};

use crate::{ServiceError, StoreError};

/// Where tenants' policies live. A tenant that never set one has none, and gets the default.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait TenantPolicies: Send + Sync + std::fmt::Debug {
    /// The tenant's own policy, if it set one.
    async fn policy(&self, tenant: &TenantId) -> Result<Option<DisputePolicy>, StoreError>;

    /// Replaces the tenant's policy. Durations are kept in whole seconds.
    ///
    /// # Errors
    /// MUST return [`StoreError::NotFound`] when the tenant does not exist.
    async fn set_policy(&self, tenant: &TenantId, policy: &DisputePolicy)
        -> Result<(), StoreError>;
}

/// A change to a tenant's policy: what is `None` stays as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PolicyChange {
    pub respond_within: Option<Duration>,
    /// `true`: an expired dispute is granted (the full claim); `false`: denied.
    pub grant_on_expiry: Option<bool>,
    pub remind_before: Option<Duration>,
}

/// Reads and changes tenants' policies, falling back to a default for tenants without one.
#[derive(Debug, Clone)]
pub struct PolicyService {
    policies: Arc<dyn TenantPolicies>,
    default: DisputePolicy,
}

impl PolicyService {
    pub fn new(policies: Arc<dyn TenantPolicies>, default: DisputePolicy) -> Self {
        PolicyService { policies, default }
    }

    /// The policy that applies to the tenant's disputes: its own, or the default.
    pub async fn policy_for(&self, tenant: &TenantId) -> Result<DisputePolicy, StoreError> {
        Ok(self.policies.policy(tenant).await?.unwrap_or(self.default))
    }

    /// Applies `change` to the tenant's current policy and stores the result, which is checked
    /// by [`DisputePolicy::new`] first and returned as stored (durations in whole seconds).
    ///
    /// # Errors
    /// [`ServiceError::Domain`] when the result makes no sense; [`ServiceError::NotFound`] for an
    /// unknown tenant.
    pub async fn change(
        &self,
        tenant: &TenantId,
        change: PolicyChange,
    ) -> Result<DisputePolicy, ServiceError> {
        let current = self.policy_for(tenant).await?;
        let policy = DisputePolicy::new(
            whole_seconds(
                "respond_within",
                change.respond_within.unwrap_or(current.respond_within),
            )?,
            change.grant_on_expiry.unwrap_or(current.grant_on_expiry),
            whole_seconds(
                "remind_before",
                change.remind_before.unwrap_or(current.remind_before),
            )?,
        )?;
        self.policies.set_policy(tenant, &policy).await?;
        Ok(policy)
    }
}

/// Stores keep seconds; a duration with a fraction of one would read back different from what
/// was checked.
fn whole_seconds(field: &'static str, duration: Duration) -> Result<Duration, DomainError> {
    if duration.subsec_nanos() != 0 {
        return Err(DomainError::Invalid {
            field,
            reason: "must be a whole number of seconds".to_owned(),
        });
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acme() -> TenantId {
        TenantId::new("acme").unwrap()
    }

    #[tokio::test]
    async fn a_tenant_without_a_policy_gets_the_default() {
        let mut store = MockTenantPolicies::new();
        store.expect_policy().returning(|_| Ok(None));
        let service = PolicyService::new(Arc::new(store), DisputePolicy::default());
        assert_eq!(
            service.policy_for(&acme()).await.unwrap(),
            DisputePolicy::default()
        );
    }

    #[tokio::test]
    async fn a_change_keeps_what_it_does_not_name_and_is_checked_before_it_is_stored() {
        let mut store = MockTenantPolicies::new();
        let own = DisputePolicy::new(Duration::days(7), true, Duration::hours(24)).unwrap();
        store.expect_policy().returning(move |_| Ok(Some(own)));
        store
            .expect_set_policy()
            .withf(|_, p| {
                *p == DisputePolicy::new(Duration::days(7), false, Duration::hours(24)).unwrap()
            })
            .times(1)
            .returning(|_, _| Ok(()));
        let service = PolicyService::new(Arc::new(store), DisputePolicy::default());
        let stored = service
            .change(
                &acme(),
                PolicyChange {
                    grant_on_expiry: Some(false),
                    ..PolicyChange::default()
                },
            )
            .await
            .unwrap();
        assert!(!stored.grant_on_expiry);

        for bad in [
            PolicyChange {
                remind_before: Some(Duration::days(7)),
                ..PolicyChange::default()
            },
            PolicyChange {
                respond_within: Some(Duration::milliseconds(1500)),
                ..PolicyChange::default()
            },
        ] {
            let err = service.change(&acme(), bad).await.unwrap_err();
            assert!(matches!(err, ServiceError::Domain(_)), "{err}");
        }
    }
}
