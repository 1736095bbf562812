//! The tenant's settlement system: where a settlement adjustment becomes an override of the
//! settlement application it corrects (the delivery vendor's resolve writes one).

use async_trait::async_trait;
use disputes_domain::{Adjustment, DisputeId, TenantId};

/// Why no override was written: the engine has no settlement system to write it to.
pub const NO_SETTLEMENT_LEDGER: &str = "no_settlement_ledger";

/// A settlement system a settlement adjustment is written to.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait SettlementLedger: Send + Sync + std::fmt::Debug {
    /// Writes an override of the settlement application `application` that applies
    /// `adjustments` for the tenant's dispute `dispute`, and answers the override's id. The
    /// dispute's id lets a ledger answer a repeated call with the override it wrote before.
    ///
    /// # Errors
    /// [`LedgerError::ApplicationNotFound`] when the ledger has no such application, and
    /// [`LedgerError::Unavailable`] when it cannot be reached or refused the write.
    async fn apply_override(
        &self,
        tenant: &TenantId,
        dispute: DisputeId,
        application: &str,
        adjustments: &[Adjustment],
    ) -> Result<String, LedgerError>;
}

/// Why a settlement system wrote no override.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("the settlement system has no application {0}")]
    ApplicationNotFound(String),
    #[error("the settlement system failed: {0}")]
    Unavailable(String),
}

impl LedgerError {
    /// The machine reason a resolution records (`overrideSkipped`).
    pub fn reason(&self) -> &'static str {
        match self {
            LedgerError::ApplicationNotFound(_) => "original_application_not_found",
            LedgerError::Unavailable(_) => "settlement_ledger_unavailable",
        }
    }
}
