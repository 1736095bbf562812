use async_trait::async_trait;
use disputes_domain::{
    BillingTargetKind, Dispute, DisputeId, DomainError, NewDispute, Status, Subject, SubjectKind,
    TenantId, Timestamp, Version,
};

use crate::idempotency::Reservation;
use crate::{Notification, StoreError};

/// A page size between 1 and 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSize(u16);

impl PageSize {
    pub const MAX: u16 = 100;
    pub const DEFAULT: PageSize = PageSize(20);

    pub fn new(size: i64) -> Result<Self, DomainError> {
        if !(1..=i64::from(Self::MAX)).contains(&size) {
            return Err(DomainError::Invalid {
                field: "limit",
                reason: format!("must be between 1 and {}", Self::MAX),
            });
        }
        Ok(PageSize(size as u16))
    }

    pub fn get(self) -> u16 {
        self.0
    }
}

impl Default for PageSize {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Which disputes to list. Every filter is optional; results are newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    pub kind: Option<SubjectKind>,
    /// Only disputes in one of these statuses; any status when empty.
    pub statuses: Vec<Status>,
    /// `Some(true)`: only final disputes; `Some(false)`: only open ones.
    pub resolved: Option<bool>,
    pub campaign_id: Option<String>,
    pub account_id: Option<String>,
    /// A billing dispute's item (its `itemId`).
    pub item_id: Option<String>,
    /// A billing dispute's bill: the disputed bill, or the bill its notes named.
    pub bill_id: Option<String>,
    /// Only billing disputes of this kind of target (of a whole bill, say).
    pub billing_target: Option<BillingTargetKind>,
    /// Only event disputes that name this usage event.
    pub event_id: Option<String>,
    /// Opened at or after this instant.
    pub opened_after: Option<Timestamp>,
    /// Opened strictly before this instant.
    pub opened_before: Option<Timestamp>,
    pub limit: PageSize,
    /// The keyset cursor: only disputes with a smaller id than this one. New disputes get larger
    /// ids, so pages already handed out never shift.
    pub after: Option<DisputeId>,
}

/// One page of disputes, and where the next one starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub disputes: Vec<Dispute>,
    /// Present when more disputes may follow; pass it back as [`ListQuery::after`].
    pub next: Option<DisputeId>,
}

/// What a create or an update writes in the change's own transaction besides the dispute, so
/// that all of it commits together or none of it does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Write {
    /// The notifications of the change's new timeline entries, for the outbox.
    pub notifications: Vec<Notification>,
    /// The idempotency key of the request that makes the change, if it carried one: the store
    /// records on it which dispute and version the change produced.
    pub key: Option<Reservation>,
}

impl Write {
    /// A write of `notifications` for a request without an idempotency key.
    pub fn notifying(notifications: Vec<Notification>) -> Self {
        Write {
            notifications,
            key: None,
        }
    }
}

/// Where disputes live. Every method is scoped by tenant: a dispute of another tenant is
/// indistinguishable from one that does not exist.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait DisputeRepository: Send + Sync + std::fmt::Debug {
    /// Stores a newly opened dispute with the next id of the store's sequence, with everything
    /// of `write` in the same transaction: it enqueues the notifications of its opening in the
    /// outbox and records the dispute and its first version on `write.key`. The dispute is stored
    /// with all of it or not at all, with none of it.
    ///
    /// # Errors
    /// MUST return [`StoreError::Duplicate`] when a non-final dispute of the same tenant has a
    /// subject that [conflicts](Subject::conflicts_with) with this one. The check and the insert
    /// MUST be atomic: of any number of concurrent creates for one subject, exactly one succeeds.
    /// MUST return [`StoreError::KeyTakenOver`] when `write.key` is no longer held by its
    /// reservation (its lease ended and a retry took it over). A create that fails writes and
    /// enqueues nothing.
    async fn create(&self, dispute: NewDispute, write: &Write) -> Result<Dispute, StoreError>;

    /// The dispute, if it exists for this tenant.
    async fn get(&self, tenant: &TenantId, id: DisputeId) -> Result<Option<Dispute>, StoreError>;

    /// A page of the tenant's disputes matching `query`, ordered by id, newest first.
    async fn list(&self, tenant: &TenantId, query: &ListQuery) -> Result<Page, StoreError>;

    /// How many of the tenant's disputes match `query` in each status, over every page: the
    /// query's statuses, `limit` and `after` are not applied. Statuses no dispute is in are
    /// left out.
    async fn count_by_status(
        &self,
        tenant: &TenantId,
        query: &ListQuery,
    ) -> Result<Vec<(Status, u64)>, StoreError>;

    /// Stores a changed dispute, appending the timeline entries added since `expected`
    /// (a dispute's version always equals its timeline length), with everything of `write` in
    /// the same transaction: the notifications of those entries, and the dispute and its new
    /// version recorded on `write.key`.
    ///
    /// # Errors
    /// MUST return [`StoreError::NotFound`] when the tenant has no such dispute,
    /// [`StoreError::VersionConflict`] when the stored version is not `expected`, and
    /// [`StoreError::KeyTakenOver`] when `write.key` is no longer held by its reservation; in
    /// each case nothing is written and nothing enqueued.
    async fn update(
        &self,
        dispute: &Dispute,
        expected: Version,
        write: &Write,
    ) -> Result<(), StoreError>;

    /// The non-final dispute of this tenant whose subject conflicts with `subject`, if any.
    async fn find_open_for_subject(
        &self,
        tenant: &TenantId,
        subject: &Subject,
    ) -> Result<Option<DisputeId>, StoreError>;

    /// Succeeds when the store answers; for readiness checks.
    async fn ping(&self) -> Result<(), StoreError>;
}
