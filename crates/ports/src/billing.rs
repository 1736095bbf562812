use std::sync::Arc;

use disputes_domain::{
    BillingTargetKind, Dispute, DisputeId, Reason, ReasonCode, Settlement, SubjectKind, TenantId,
};
use rust_decimal::Decimal;

use crate::idempotency::Reservation;
use crate::reasons::default_reasons;
use crate::{
    Conditions, DisputeService, ListQuery, OpenRequest, PageSize, Principal, ReasonCatalog,
    ServiceError,
};

/// What a Billing Care settlement names to find its dispute: the disputed item, bill, or one of
/// the disputed events, each by its billing system id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disputed<'a> {
    Item(&'a str),
    Bill(&'a str),
    Event(&'a str),
}

/// The billing desk's use cases (SPEC §4): the dispute use cases plus the tenant's reason table,
/// whose codes disputes and settlements must name.
#[derive(Debug, Clone)]
pub struct BillingService {
    disputes: DisputeService,
    reasons: Arc<dyn ReasonCatalog>,
}

impl BillingService {
    pub fn new(disputes: DisputeService, reasons: Arc<dyn ReasonCatalog>) -> Self {
        BillingService { disputes, reasons }
    }

    /// Opens a billing dispute (of an item, a bill or usage events); the reason it names, if any, must be in the tenant's table.
    ///
    /// # Errors
    /// [`ServiceError::UnknownReason`] for a reason the table lacks, before anything is stored;
    /// otherwise as [`DisputeService::open`].
    pub async fn open(
        &self,
        by: &Principal,
        request: OpenRequest,
        key: Option<&Reservation>,
    ) -> Result<Dispute, ServiceError> {
        if let Some(code) = request.claim.billing.and_then(|terms| terms.reason) {
            self.reason(&by.tenant, code).await?;
        }
        self.disputes.open(by, request, key).await
    }

    /// Settles a billing dispute by amount: nothing is a denial, the disputed amount a grant,
    /// anything in between a partial grant. The reason, if any, must be in the tenant's table.
    ///
    /// # Errors
    /// [`ServiceError::UnknownReason`] as for [`open`](Self::open); a domain error for an amount
    /// outside `0 ..= disputed` or a dispute that is already final; otherwise as
    /// [`DisputeService::settle`].
    pub async fn settle(
        &self,
        by: &Principal,
        id: DisputeId,
        amount: Decimal,
        reason: Option<ReasonCode>,
        notes: String,
        key: Option<&Reservation>,
    ) -> Result<Dispute, ServiceError> {
        if let Some(code) = reason {
            self.reason(&by.tenant, code).await?;
        }
        let settlement = Settlement {
            settled_amount: Some(amount),
            reason,
            notes,
            ..Settlement::default()
        };
        self.disputes
            .settle(
                by,
                id,
                SubjectKind::Billing,
                Conditions {
                    expected: None,
                    key,
                },
                settlement,
            )
            .await
    }

    /// The dispute a Billing Care settlement of `disputed` is for: the newest one about it (an
    /// item, a bill or an event has at most one open dispute at a time), open or already
    /// settled, so that settling twice is refused as settling its dispute twice is.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`] when none of the caller's tenant's disputes is about it.
    pub async fn dispute_of(
        &self,
        by: &Principal,
        disputed: Disputed<'_>,
    ) -> Result<DisputeId, ServiceError> {
        let mut query = ListQuery {
            kind: Some(SubjectKind::Billing),
            limit: PageSize::new(1).map_err(ServiceError::Domain)?,
            ..ListQuery::default()
        };
        match disputed {
            Disputed::Item(item) => query.item_id = Some(item.to_owned()),
            Disputed::Bill(bill) => {
                query.billing_target = Some(BillingTargetKind::Bill);
                query.bill_id = Some(bill.to_owned());
            }
            Disputed::Event(event) => {
                query.billing_target = Some(BillingTargetKind::Events);
                query.event_id = Some(event.to_owned());
            }
        }
        let page = self.disputes.list(by, &query).await?;
        page.disputes
            .first()
            .map(|d| d.id())
            .ok_or(ServiceError::NotFound)
    }

    /// The caller's open billing disputes that `filter` selects (an account's, a bill's),
    /// newest first: Billing Care's A/R listing, which has no pages. At most
    /// [`MAX_OPEN_LISTED`](Self::MAX_OPEN_LISTED) are read, so that one account cannot make a
    /// request unbounded; what is left out is logged.
    pub async fn open_disputes(
        &self,
        by: &Principal,
        filter: ListQuery,
    ) -> Result<Vec<Dispute>, ServiceError> {
        let mut query = ListQuery {
            kind: Some(SubjectKind::Billing),
            resolved: Some(false),
            limit: PageSize::new(100).map_err(ServiceError::Domain)?,
            after: None,
            ..filter
        };
        let mut open = Vec::new();
        loop {
            let page = self.disputes.list(by, &query).await?;
            open.extend(page.disputes);
            match page.next {
                Some(next) if open.len() < Self::MAX_OPEN_LISTED => query.after = Some(next),
                Some(_) => {
                    tracing::warn!(tenant = %by.tenant, listed = open.len(), "open disputes listed only in part");
                    break;
                }
                None => break,
            }
        }
        open.truncate(Self::MAX_OPEN_LISTED);
        Ok(open)
    }

    /// The most open disputes [`open_disputes`](Self::open_disputes) answers.
    pub const MAX_OPEN_LISTED: usize = 1000;

    /// The tenant's reason with `code`. A miss seeds the table with the defaults if it never was
    /// (a tenant's first use), then looks again; lookups that hit never write.
    async fn reason(&self, tenant: &TenantId, code: ReasonCode) -> Result<Reason, ServiceError> {
        if let Some(reason) = self.reasons.find_reason(tenant, code).await? {
            return Ok(reason);
        }
        if self.seed(tenant).await? {
            if let Some(reason) = self.reasons.find_reason(tenant, code).await? {
                return Ok(reason);
            }
        }
        Err(ServiceError::UnknownReason { code })
    }

    async fn seed(&self, tenant: &TenantId) -> Result<bool, ServiceError> {
        let seeded = self
            .reasons
            .seed_reasons(tenant, &default_reasons())
            .await?;
        if seeded {
            tracing::info!(tenant = %tenant, "seeded the default reason table");
        }
        Ok(seeded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ManualClock, MockDisputeRepository, MockReasonCatalog};
    use chrono::{TimeZone, Utc};
    use disputes_domain::{
        Actor, ActorId, BillingSubject, BillingTerms, Claim, DisputePolicy, EvidenceBundle,
        NoteStatus, Quantity, Role, Subject, TaxTreatment, Unit,
    };

    fn billing() -> Principal {
        Principal {
            tenant: TenantId::new("telco").unwrap(),
            actor: Actor::new(ActorId::new("csr").unwrap(), Role::Billing),
        }
    }

    fn request(reason: ReasonCode) -> OpenRequest {
        let terms = BillingTerms {
            tax: TaxTreatment::Included,
            credit: true,
            reason: Some(reason),
            note_status: NoteStatus::NotSet,
            note_amount: None,
            effective: None,
            percent: None,
        };
        OpenRequest {
            subject: Subject::Billing(
                BillingSubject::item("item", Some("acct".into()), None, None).unwrap(),
            ),
            claim: Claim::billed(
                Quantity::new(5.into(), Unit::new("XXX").unwrap()).unwrap(),
                terms,
            )
            .unwrap(),
            evidence: EvidenceBundle::default(),
            opened_by: None,
        }
    }

    fn service(repo: MockDisputeRepository, reasons: MockReasonCatalog) -> BillingService {
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap());
        let disputes =
            DisputeService::new(Arc::new(repo), Arc::new(clock), DisputePolicy::default());
        BillingService::new(disputes, Arc::new(reasons))
    }

    fn code(domain: i64, reason: i64) -> ReasonCode {
        ReasonCode::new(domain, reason).unwrap()
    }

    #[tokio::test]
    async fn a_known_reason_opens_without_writing_the_table() {
        let mut reasons = MockReasonCatalog::new();
        reasons
            .expect_find_reason()
            .returning(|_, code| Ok(Some(Reason::new(code, "known").unwrap())));
        reasons.expect_seed_reasons().never();
        let mut repo = MockDisputeRepository::new();
        repo.expect_create()
            .times(1)
            .returning(|new, _| Ok(new.into_dispute(DisputeId::new(1).unwrap())));
        let opened = service(repo, reasons)
            .open(&billing(), request(code(34, 1)), None)
            .await
            .unwrap();
        assert_eq!(opened.opened_by().role, Role::Billing);
    }

    #[tokio::test]
    async fn a_first_use_seeds_the_defaults_then_finds_the_reason() {
        let mut reasons = MockReasonCatalog::new();
        let mut seq = mockall::Sequence::new();
        reasons
            .expect_find_reason()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _| Ok(None));
        reasons
            .expect_seed_reasons()
            .withf(|tenant, defaults| tenant.as_str() == "telco" && *defaults == default_reasons())
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _| Ok(true));
        reasons
            .expect_find_reason()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, code| Ok(Some(Reason::new(code, "seeded").unwrap())));
        let mut repo = MockDisputeRepository::new();
        repo.expect_create()
            .returning(|new, _| Ok(new.into_dispute(DisputeId::new(1).unwrap())));
        service(repo, reasons)
            .open(&billing(), request(code(34, 1)), None)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn an_unknown_reason_is_refused_before_anything_is_stored() {
        let mut reasons = MockReasonCatalog::new();
        reasons.expect_find_reason().returning(|_, _| Ok(None));
        // Seeded long ago: the miss is a real one.
        reasons.expect_seed_reasons().returning(|_, _| Ok(false));
        let repo = MockDisputeRepository::new(); // any call would panic
        let svc = service(repo, reasons);
        let err = svc
            .open(&billing(), request(code(34, 99)), None)
            .await
            .unwrap_err();
        assert!(matches!(err, ServiceError::UnknownReason { code: c } if c == code(34, 99)));
        let err = svc
            .settle(
                &billing(),
                DisputeId::new(1).unwrap(),
                Decimal::ONE,
                Some(code(35, 99)),
                String::new(),
                None,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, ServiceError::UnknownReason { .. }));
    }
}
