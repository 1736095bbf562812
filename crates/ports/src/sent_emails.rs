//! The record of notification mail: which message went to whom about which event, so that a
//! retry after a partial failure writes only to the recipients that have not had it, and a
//! dispute can show what was sent about it.

use async_trait::async_trait;
use disputes_domain::{DisputeId, TenantId, Timestamp};

use crate::{EventId, StoreError};

/// One mail that the SMTP relay accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentEmail {
    pub tenant: TenantId,
    pub dispute: DisputeId,
    /// The event the mail is about; with `recipient`, it identifies the mail.
    pub event: EventId,
    /// The address it went to.
    pub recipient: String,
    pub subject: String,
    /// Which template wrote it, with its language (`customer_opened.de`).
    pub template: String,
    pub sent_at: Timestamp,
}

/// Where sent mail is recorded.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait SentEmails: Send + Sync + std::fmt::Debug {
    /// Records a sent mail. Recording the same event and recipient again changes nothing.
    ///
    /// # Errors
    /// When the store cannot be written.
    async fn record_sent(&self, email: &SentEmail) -> Result<(), StoreError>;

    /// The mail sent about the tenant's `disputes`, oldest first (by time, then as recorded).
    /// A dispute of another tenant has none.
    ///
    /// # Errors
    /// When the store cannot be read.
    async fn sent_for(
        &self,
        tenant: &TenantId,
        disputes: &[DisputeId],
    ) -> Result<Vec<SentEmail>, StoreError>;
}
