use async_trait::async_trait;
use disputes_domain::{Reason, ReasonCode, TenantId};

use crate::StoreError;

/// Where each tenant's reason table lives: the reason codes (BRM `domainId` + `reasonId`) that
/// billing disputes and settlements may name. Every method is scoped by tenant; one tenant's
/// table is invisible to every other.
///
/// A table starts empty and is seeded once, on first use, with [`default_reasons`] (see
/// [`BillingService`](crate::BillingService)); after that it is the tenant's own.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ReasonCatalog: Send + Sync + std::fmt::Debug {
    /// The tenant's reasons, ordered by domain id, then reason id. Empty for an unknown tenant.
    async fn reasons(&self, tenant: &TenantId) -> Result<Vec<Reason>, StoreError>;

    /// The tenant's reason with this code, if its table has one.
    async fn find_reason(
        &self,
        tenant: &TenantId,
        code: ReasonCode,
    ) -> Result<Option<Reason>, StoreError>;

    /// Adds `defaults` to the tenant's table, once in the tenant's life. Returns `true` when this
    /// call seeded the table and `false`, writing nothing, when it was seeded before (by this or
    /// any other process), even if reasons were added or removed since. Reasons the table
    /// already has keep their description.
    ///
    /// # Errors
    /// MUST return [`StoreError::NotFound`] when the tenant does not exist. MUST be atomic: of
    /// any number of concurrent calls for one tenant, exactly one returns `true`.
    async fn seed_reasons(
        &self,
        tenant: &TenantId,
        defaults: &[Reason],
    ) -> Result<bool, StoreError>;

    /// Adds one reason to the tenant's table.
    ///
    /// # Errors
    /// MUST return [`StoreError::AlreadyExists`] when the tenant's table has a reason with this
    /// code, and [`StoreError::NotFound`] when the tenant does not exist.
    async fn add_reason(&self, tenant: &TenantId, reason: &Reason) -> Result<(), StoreError>;
}

/// The dispute reason domain of the default table: the seed's `domainId` 34.
const DISPUTE_REASONS: i64 = 34;
/// The settlement reason domain of the default table.
const SETTLEMENT_REASONS: i64 = 35;

/// The table every tenant starts with, modelled on Oracle BRM's reason codes: a domain of
/// reasons to dispute an item and one of reasons for how a dispute was settled.
pub fn default_reasons() -> Vec<Reason> {
    const DEFAULTS: &[(i64, i64, &str)] = &[
        (DISPUTE_REASONS, 1, "Customer disagrees with item charges"),
        (DISPUTE_REASONS, 2, "Service not received"),
        (DISPUTE_REASONS, 3, "Service quality below agreement"),
        (DISPUTE_REASONS, 4, "Duplicate charge"),
        (DISPUTE_REASONS, 5, "Incorrect rate or discount applied"),
        (DISPUTE_REASONS, 6, "Other"),
        (
            SETTLEMENT_REASONS,
            1,
            "Dispute upheld: charge adjusted in full",
        ),
        (SETTLEMENT_REASONS, 2, "Dispute partially upheld"),
        (SETTLEMENT_REASONS, 3, "Dispute denied: charge is correct"),
        (SETTLEMENT_REASONS, 4, "Goodwill adjustment"),
    ];
    DEFAULTS
        .iter()
        .map(|&(domain, reason, description)| {
            let code = ReasonCode::new(domain, reason).expect("default reason codes are valid");
            Reason::new(code, description).expect("default descriptions are valid")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_ordered_unique_and_hold_the_seeds_reason() {
        let defaults = default_reasons();
        let codes: Vec<_> = defaults.iter().map(Reason::code).collect();
        let mut sorted = codes.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(
            codes, sorted,
            "ordered as the catalog lists them, no repeats"
        );
        assert!(codes.contains(&ReasonCode::new(34, 1).unwrap()));
    }
}
