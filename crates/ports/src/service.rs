use std::sync::Arc;

use disputes_domain::{
    Actor, ActorId, Claim, Decision, Dispute, DisputeId, DisputePolicy, DomainError,
    EvidenceBundle, LedgerOutcome, NewMessage, OpenDispute, Remedy, ResolutionKind, Role,
    Settlement, Stance, Subject, SubjectKind, TenantId, TimelineError, Timestamp, Version,
};

use crate::idempotency::Reservation;
use crate::{
    Clock, DisputeRepository, Keyring, ListQuery, Notification, Page, PageSize, PolicyService,
    Principal, ServiceError, SettlementLedger, Sink, StoreError, TenantPolicies, Write,
    NO_SETTLEMENT_LEDGER,
};

/// What a contract asks to open, in domain terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenRequest {
    pub subject: Subject,
    pub claim: Claim,
    pub evidence: EvidenceBundle,
    /// Who the dispute is attributed to; the caller's own actor id when `None`.
    pub opened_by: Option<ActorId>,
}

/// What a caller's request binds a change to: the version of the dispute it saw (`If-Match`),
/// which the change must apply to, and the idempotency key it holds, on which the change is
/// recorded. The default binds it to neither.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Conditions<'a> {
    pub expected: Option<Version>,
    pub key: Option<&'a Reservation>,
}

/// How often a change that lost a race is re-read and re-applied when the caller did not pin a
/// version. The domain re-checks the command each time, so a retry never does what a fresh
/// request could not.
const UNPINNED_ATTEMPTS: usize = 3;

/// The use cases every contract drives: open, read, list and change disputes.
#[derive(Debug, Clone)]
pub struct DisputeService {
    disputes: Arc<dyn DisputeRepository>,
    clock: Arc<dyn Clock>,
    /// The policy of every tenant, until [`with_policies`](Self::with_policies); after that,
    /// of the tenants that have none of their own.
    policy: DisputePolicy,
    /// Each tenant's own policy; `None` applies `policy` to every tenant.
    policies: Option<PolicyService>,
    /// The sinks every change is queued for; none until [`with_sinks`](Self::with_sinks).
    sinks: Vec<Sink>,
    /// Where settlement adjustments are written; none until [`with_ledger`](Self::with_ledger).
    ledger: Option<Arc<dyn SettlementLedger>>,
    /// What seals every entry written and checks every seal read; none until
    /// [`with_keyring`](Self::with_keyring), when entries are neither sealed nor checked.
    keyring: Option<Arc<dyn Keyring>>,
}

impl DisputeService {
    pub fn new(
        disputes: Arc<dyn DisputeRepository>,
        clock: Arc<dyn Clock>,
        policy: DisputePolicy,
    ) -> Self {
        DisputeService {
            disputes,
            clock,
            policy,
            policies: None,
            sinks: Vec::new(),
            ledger: None,
            keyring: None,
        }
    }

    /// Seals every entry written with `keyring`, and refuses any dispute read whose head is not
    /// sealed or whose seals do not hold (see [`Dispute::verify_seals`]).
    pub fn with_keyring(mut self, keyring: Arc<dyn Keyring>) -> Self {
        self.keyring = Some(keyring);
        self
    }

    /// Writes each settlement adjustment's override to `ledger` (see [`settle`](Self::settle)).
    pub fn with_ledger(mut self, ledger: Arc<dyn SettlementLedger>) -> Self {
        self.ledger = Some(ledger);
        self
    }

    /// Applies each tenant's own policy from `policies` (the one given to
    /// [`new`](Self::new) to tenants without one) to opening and to every change.
    pub fn with_policies(mut self, policies: Arc<dyn TenantPolicies>) -> Self {
        self.policies = Some(PolicyService::new(policies, self.policy));
        self
    }

    /// The policy that applies to the tenant's disputes.
    async fn policy_for(
        &self,
        tenant: &disputes_domain::TenantId,
    ) -> Result<DisputePolicy, ServiceError> {
        match &self.policies {
            Some(policies) => Ok(policies.policy_for(tenant).await?),
            None => Ok(self.policy),
        }
    }

    /// Queues a notification for each of `sinks` with every change from now on, in the outbox,
    /// in the same transaction as the change.
    pub fn with_sinks(mut self, sinks: impl IntoIterator<Item = Sink>) -> Self {
        self.sinks = sinks.into_iter().collect();
        self.sinks.dedup();
        self
    }

    /// What a write of `timeline` writes beside the dispute: the notifications of every entry
    /// after the first `stored` ones, and the request's idempotency `key`.
    fn write(
        &self,
        timeline: &[disputes_domain::TimelineEntry],
        stored: i64,
        key: Option<&Reservation>,
    ) -> Write {
        Write {
            notifications: Notification::for_entries(timeline, stored, &self.sinks),
            key: key.cloned(),
        }
    }

    /// Stores a newly opened dispute together with its opening's notifications, bound to `key`.
    async fn create(
        &self,
        mut new: disputes_domain::NewDispute,
        key: Option<&Reservation>,
    ) -> Result<Dispute, ServiceError> {
        if let Some(keyring) = &self.keyring {
            new.seal_with(|statement| keyring.seal(statement));
        }
        let write = self.write(&new.parts().timeline, 0, key);
        Ok(self.disputes.create(new, &write).await?)
    }

    /// Opens a dispute for the caller's tenant. `key` is the idempotency key the caller's
    /// request holds, if any: the opening is recorded on it, in the same transaction. Every
    /// use case that changes a dispute takes one.
    ///
    /// # Errors
    /// [`ServiceError::Duplicate`] when an open dispute already covers the subject;
    /// [`ServiceError::KeyTakenOver`] when a retry took `key` over meanwhile; domain errors
    /// for anything the domain refuses.
    pub async fn open(
        &self,
        by: &Principal,
        request: OpenRequest,
        key: Option<&Reservation>,
    ) -> Result<Dispute, ServiceError> {
        let policy = self.policy_for(&by.tenant).await?;
        let new = Dispute::open(opening(by, request), self.clock.now(), &policy)?;
        self.create(new, key).await
    }

    /// Opens a dispute for the caller's tenant whose thread starts with `message` (which is
    /// sealed with the evidence). A file the message describes must be in the blob store
    /// already; [`ThreadService`](crate::ThreadService) takes care of that.
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub async fn open_with_message(
        &self,
        by: &Principal,
        request: OpenRequest,
        message: NewMessage,
        key: Option<&Reservation>,
    ) -> Result<Dispute, ServiceError> {
        let policy = self.policy_for(&by.tenant).await?;
        let new =
            Dispute::open_with_message(opening(by, request), message, self.clock.now(), &policy)?;
        self.create(new, key).await
    }

    /// One of the caller's disputes. `kind` limits it to the disputes a contract serves.
    pub async fn get(
        &self,
        by: &Principal,
        id: DisputeId,
        kind: SubjectKind,
    ) -> Result<Dispute, ServiceError> {
        let dispute = self
            .disputes
            .get(&by.tenant, id)
            .await?
            .filter(|d| d.subject().kind() == kind)
            .ok_or(ServiceError::NotFound)?;
        self.check(&dispute)?;
        Ok(dispute)
    }

    /// Succeeds while the store answers; for readiness checks.
    pub async fn ping(&self) -> Result<(), ServiceError> {
        Ok(self.disputes.ping().await?)
    }

    /// A page of the caller's disputes, each verified: one that fails refuses the page, as a
    /// read of it alone would be refused, rather than leave it out unseen.
    pub async fn list(&self, by: &Principal, query: &ListQuery) -> Result<Page, ServiceError> {
        let page = self.disputes.list(&by.tenant, query).await?;
        for dispute in &page.disputes {
            self.check(dispute)?;
        }
        Ok(page)
    }

    /// How many of the caller's disputes match `query` in each status, over every page (its
    /// statuses and page are not applied).
    pub async fn count_by_status(
        &self,
        by: &Principal,
        query: &ListQuery,
    ) -> Result<Vec<(disputes_domain::Status, u64)>, ServiceError> {
        Ok(self.disputes.count_by_status(&by.tenant, query).await?)
    }

    /// The provider acknowledges the dispute and looks into it.
    pub async fn investigate(
        &self,
        by: &Principal,
        id: DisputeId,
        kind: SubjectKind,
        conditions: Conditions<'_>,
        notes: &str,
    ) -> Result<Dispute, ServiceError> {
        self.change(by, id, kind, conditions, |d, now, _| {
            d.investigate(by.actor.clone(), notes, now)
        })
        .await
    }

    /// The provider records that its evidence is gathered.
    pub async fn gather_evidence(
        &self,
        by: &Principal,
        id: DisputeId,
        kind: SubjectKind,
        conditions: Conditions<'_>,
        notes: &str,
    ) -> Result<Dispute, ServiceError> {
        self.change(by, id, kind, conditions, |d, now, _| {
            d.gather_evidence(by.actor.clone(), notes, now)
        })
        .await
    }

    /// The provider responds, optionally proposing a remedy and saying where it stands.
    #[allow(clippy::too_many_arguments)] // One per part of the response, as the domain takes it.
    pub async fn respond(
        &self,
        by: &Principal,
        id: DisputeId,
        kind: SubjectKind,
        conditions: Conditions<'_>,
        stance: Option<Stance>,
        notes: &str,
        remedy: Option<Remedy>,
    ) -> Result<Dispute, ServiceError> {
        self.change(by, id, kind, conditions, |d, now, policy| {
            d.respond(by.actor.clone(), stance, notes, remedy.clone(), now, policy)
        })
        .await
    }

    /// The opener accepts or rejects the response; a stance, when given, must agree with the
    /// decision.
    #[allow(clippy::too_many_arguments)] // One per part of the reply, as the domain takes it.
    pub async fn reply(
        &self,
        by: &Principal,
        id: DisputeId,
        kind: SubjectKind,
        conditions: Conditions<'_>,
        decision: Decision,
        stance: Option<Stance>,
        notes: &str,
    ) -> Result<Dispute, ServiceError> {
        self.change(by, id, kind, conditions, |d, now, policy| {
            d.reply(by.actor.clone(), decision, stance, notes, now, policy)
        })
        .await
    }

    /// Either party takes the dispute to mediation.
    pub async fn escalate(
        &self,
        by: &Principal,
        id: DisputeId,
        kind: SubjectKind,
        conditions: Conditions<'_>,
        notes: &str,
    ) -> Result<Dispute, ServiceError> {
        self.change(by, id, kind, conditions, |d, now, policy| {
            d.escalate(by.actor.clone(), notes, now, policy)
        })
        .await
    }

    /// The provider settles the dispute. A settlement adjustment is first written to the
    /// settlement system, as an override of the application it corrects, and the resolution
    /// records what came of it ([`LedgerOutcome`]): not writing it (no settlement system, no
    /// application to correct, a failure) does not fail the settlement, as the delivery vendor
    /// does not, so the operator can apply it by hand.
    pub async fn settle(
        &self,
        by: &Principal,
        id: DisputeId,
        kind: SubjectKind,
        conditions: Conditions<'_>,
        mut settlement: Settlement,
    ) -> Result<Dispute, ServiceError> {
        if settlement.kind == Some(ResolutionKind::SettlementAdjustment) {
            settlement = self.with_override(by, id, kind, settlement).await?;
        }
        self.change(by, id, kind, conditions, |d, now, _| {
            d.settle(by.actor.clone(), settlement.clone(), now)
        })
        .await
    }

    /// `settlement` with the settlement system's override written, when the domain would take
    /// it: a settlement it refuses never reaches the settlement system. The two writes are not
    /// one transaction; a settlement that then loses to a change in between leaves an override
    /// the ledger can recognise by the dispute's id when the operator repeats it.
    async fn with_override(
        &self,
        by: &Principal,
        id: DisputeId,
        kind: SubjectKind,
        mut settlement: Settlement,
    ) -> Result<Settlement, ServiceError> {
        let dispute = self.get(by, id, kind).await?;
        dispute
            .clone()
            .settle(by.actor.clone(), settlement.clone(), self.clock.now())?;
        let application =
            dispute.original_application(settlement.original_application_id.as_deref());
        let outcome = match (&application, &self.ledger) {
            (Err(reason), _) => LedgerOutcome::Skipped {
                reason: (*reason).to_owned(),
            },
            (Ok(_), None) => LedgerOutcome::Skipped {
                reason: NO_SETTLEMENT_LEDGER.to_owned(),
            },
            (Ok(application), Some(ledger)) => match ledger
                .apply_override(&by.tenant, id, application, &settlement.adjustments)
                .await
            {
                Ok(override_id) => {
                    settlement.settlement_adjustment_id = Some(override_id.clone());
                    LedgerOutcome::Applied { override_id }
                }
                Err(e) => {
                    tracing::warn!(dispute = %id, tenant = %by.tenant, error = %e, "settlement adjustment not applied");
                    LedgerOutcome::Skipped {
                        reason: e.reason().to_owned(),
                    }
                }
            },
        };
        settlement.original_application_id = application.ok();
        settlement.ledger = Some(outcome);
        Ok(settlement)
    }

    /// The opener withdraws the dispute.
    pub async fn withdraw(
        &self,
        by: &Principal,
        id: DisputeId,
        kind: SubjectKind,
        conditions: Conditions<'_>,
        notes: &str,
    ) -> Result<Dispute, ServiceError> {
        self.change(by, id, kind, conditions, |d, now, _| {
            d.withdraw(by.actor.clone(), notes, now)
        })
        .await
    }

    /// Adds a message to the thread, written as `author`: the caller's own role, or the customer
    /// when the caller is a client, who relays what its customer wrote.
    ///
    /// # Errors
    /// [`DomainError::RoleNotPermitted`] when the caller may not write as `author`; what the
    /// domain refuses (a final dispute).
    pub async fn post_message(
        &self,
        by: &Principal,
        id: DisputeId,
        kind: SubjectKind,
        conditions: Conditions<'_>,
        author: Role,
        message: NewMessage,
    ) -> Result<Dispute, ServiceError> {
        let relays_customer = by.actor.role == Role::Client && author == Role::Customer;
        if author != by.actor.role && !relays_customer {
            return Err(DomainError::RoleNotPermitted {
                role: by.actor.role,
                action: "post a message as another party to",
            }
            .into());
        }
        let author = Actor::new(by.actor.id.clone(), author);
        self.change(by, id, kind, conditions, |d, now, _| {
            d.post_message(author.clone(), message.clone(), now)
        })
        .await
    }

    /// Either party adds a note to the timeline.
    pub async fn add_note(
        &self,
        by: &Principal,
        id: DisputeId,
        kind: SubjectKind,
        conditions: Conditions<'_>,
        notes: &str,
    ) -> Result<Dispute, ServiceError> {
        self.change(by, id, kind, conditions, |d, now, _| {
            d.add_note(by.actor.clone(), notes, now)
        })
        .await
    }

    /// The engine acts on the dispute's deadline if one is due: it expires a dispute whose
    /// `respond_by` has passed (with the tenant policy's outcome), or reminds whoever must act
    /// when the deadline is near and was not reminded of yet. `None` when nothing is due (any
    /// more: a racing change may have answered the dispute, or another scheduler acted first).
    ///
    /// # Errors
    /// Store failures, and [`ServiceError::Conflict`] when the dispute kept changing under it.
    pub async fn apply_deadline(
        &self,
        tenant: &disputes_domain::TenantId,
        id: DisputeId,
    ) -> Result<Option<DeadlineAction>, ServiceError> {
        let acted = self
            .apply(tenant, id, None, Conditions::default(), |d, now, policy| {
                if d.expire(now, policy).is_ok() {
                    return Ok(DeadlineAction::Expired);
                }
                d.remind(now, policy).map(|()| DeadlineAction::Reminded)
            })
            .await;
        match acted {
            Ok((_, action)) => Ok(Some(action)),
            // Nothing is due: not yet, no longer, or already done by someone else.
            Err(ServiceError::Domain(_) | ServiceError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Verifies every dispute of `tenant` as a read verifies it, a page at a time, so that
    /// memory stays bounded whatever their number: `each` is given each dispute and its
    /// verdict. Answers how many were verified.
    ///
    /// # Errors
    /// The store fails, or holds a row it cannot read back (reported, not skipped).
    pub async fn audit(
        &self,
        tenant: &TenantId,
        mut each: impl FnMut(&Dispute, Result<(), TimelineError>),
    ) -> Result<u64, ServiceError> {
        let mut query = ListQuery {
            limit: PageSize::new(i64::from(PageSize::MAX))?,
            ..ListQuery::default()
        };
        let mut verified = 0;
        loop {
            let page = self.disputes.list(tenant, &query).await?;
            for dispute in &page.disputes {
                each(dispute, self.verdict(dispute, Seals::All));
                verified += 1;
            }
            match page.next {
                Some(next) => query.after = Some(next),
                None => return Ok(verified),
            }
        }
    }

    /// [`audit`](Self::audit) of one dispute of `tenant`: the dispute and its verdict.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`] when the tenant has no such dispute.
    pub async fn audit_one(
        &self,
        tenant: &TenantId,
        id: DisputeId,
    ) -> Result<(Dispute, Result<(), TimelineError>), ServiceError> {
        let dispute = self
            .disputes
            .get(tenant, id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let verdict = self.verdict(&dispute, Seals::All);
        Ok((dispute, verdict))
    }

    /// Whether a stored dispute is what the engine wrote ([`Dispute::verify`]) and, with a
    /// keyring, what it sealed: every seal when `Seals::All` (an audit), the head's alone when
    /// `Seals::Head` (a read: the head's seal vouches for the whole chain and the state).
    fn verdict(&self, dispute: &Dispute, seals: Seals) -> Result<(), TimelineError> {
        dispute.verify()?;
        let Some(keyring) = &self.keyring else {
            return Ok(());
        };
        let check = |seal: &disputes_domain::Seal, statement: &str, at: Timestamp| {
            keyring
                .check(seal, statement, at)
                .map_err(|e| e.to_string())
        };
        match seals {
            Seals::All => dispute.verify_seals(check),
            Seals::Head => dispute.verify_head_seal(check),
        }
    }

    /// Proves a stored dispute is what the engine wrote and sealed ([`verdict`](Self::verdict)).
    /// One that is not is never served as fact nor changed (a new entry would seal the
    /// forgery): it is an incident, logged here with what broke, for an operator.
    fn check(&self, dispute: &Dispute) -> Result<(), ServiceError> {
        self.verdict(dispute, Seals::Head).map_err(|why| {
            tracing::error!(
                tenant = %dispute.tenant(),
                dispute = %dispute.id(),
                entry = why.entry(dispute),
                error = %why,
                "dispute failed integrity verification"
            );
            ServiceError::IntegrityViolation {
                dispute: dispute.id(),
                why,
            }
        })
    }

    /// Reads, applies one domain command and writes back under the version read, bound to
    /// the `conditions`' key. With a pinned version a mismatch is [`ServiceError::StaleVersion`]; without one a
    /// lost race is retried on a fresh read a few times before it becomes
    /// [`ServiceError::Conflict`]. A key taken over is never retried: its retry acts instead.
    async fn change<F>(
        &self,
        by: &Principal,
        id: DisputeId,
        kind: SubjectKind,
        conditions: Conditions<'_>,
        command: F,
    ) -> Result<Dispute, ServiceError>
    where
        F: Fn(&mut Dispute, Timestamp, &DisputePolicy) -> Result<(), DomainError>,
    {
        let (dispute, ()) = self
            .apply(&by.tenant, id, Some(kind), conditions, command)
            .await?;
        Ok(dispute)
    }

    /// [`change`](Self::change) for any actor, the engine included: `kind`, when given, limits
    /// it to the disputes a contract serves; the command's result comes back with the dispute.
    async fn apply<F, T>(
        &self,
        tenant: &disputes_domain::TenantId,
        id: DisputeId,
        kind: Option<SubjectKind>,
        Conditions { expected, key }: Conditions<'_>,
        command: F,
    ) -> Result<(Dispute, T), ServiceError>
    where
        F: Fn(&mut Dispute, Timestamp, &DisputePolicy) -> Result<T, DomainError>,
    {
        let policy = self.policy_for(tenant).await?;
        let attempts = if expected.is_some() {
            1
        } else {
            UNPINNED_ATTEMPTS
        };
        for _ in 0..attempts {
            let mut dispute = self
                .disputes
                .get(tenant, id)
                .await?
                .filter(|d| kind.is_none_or(|kind| d.subject().kind() == kind))
                .ok_or(ServiceError::NotFound)?;
            self.check(&dispute)?;
            let read_version = dispute.version();
            // The precondition comes before the request's content (RFC 9110 §13.2.2): a stale
            // version is a 412 whatever else the request holds.
            if let Some(expected) = expected {
                if expected != read_version {
                    return Err(ServiceError::StaleVersion {
                        current: read_version,
                    });
                }
            }
            let done = command(&mut dispute, self.clock.now(), &policy)?;
            if let Some(keyring) = &self.keyring {
                dispute.seal_after(read_version.get(), |statement| keyring.seal(statement));
            }
            let write = self.write(&dispute.parts().timeline, read_version.get(), key);
            match self.disputes.update(&dispute, read_version, &write).await {
                Ok(()) => return Ok((dispute, done)),
                Err(StoreError::VersionConflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ServiceError::Conflict)
    }
}

/// Which seals a verdict checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seals {
    Head,
    All,
}

/// What the engine did about a dispute's deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineAction {
    /// Recorded a `reminder` entry: the deadline is near.
    Reminded,
    /// Closed the dispute with the policy's outcome: the deadline passed.
    Expired,
}

/// The domain's opening command for a request of `by`: the caller's tenant, attributed to the
/// caller unless the request names someone of the caller's role.
fn opening(by: &Principal, request: OpenRequest) -> OpenDispute {
    let opened_by = Actor::new(
        request.opened_by.unwrap_or_else(|| by.actor.id.clone()),
        by.actor.role,
    );
    OpenDispute {
        tenant: by.tenant.clone(),
        subject: request.subject,
        claim: request.claim,
        opened_by,
        evidence: request.evidence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ManualClock, MockDisputeRepository, StoreError};
    use chrono::{TimeZone, Utc};
    use disputes_domain::{
        DeliverySubject, EntryKind, EvidenceItem, EvidenceKind, Period, Quantity, Role, TenantId,
        Unit,
    };

    fn principal(role: Role) -> Principal {
        Principal {
            tenant: TenantId::new("acme").unwrap(),
            actor: Actor::new(ActorId::new("dev").unwrap(), role),
        }
    }

    fn request() -> OpenRequest {
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let period = Period::new("p", start, start + chrono::Duration::days(1)).unwrap();
        OpenRequest {
            subject: Subject::Delivery(
                DeliverySubject::new("c", vec!["s".into()], None, period).unwrap(),
            ),
            claim: Claim::new(Quantity::new(5.into(), Unit::new("plays").unwrap()).unwrap()),
            evidence: EvidenceBundle::new(vec![
                EvidenceItem::new(EvidenceKind::ProofPack, "p").unwrap()
            ]),
            opened_by: None,
        }
    }

    fn service(repo: MockDisputeRepository) -> DisputeService {
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap());
        DisputeService::new(Arc::new(repo), Arc::new(clock), DisputePolicy::default())
    }

    fn stored() -> Dispute {
        let by = principal(Role::Advertiser);
        let command = OpenDispute {
            tenant: by.tenant,
            subject: request().subject,
            claim: request().claim,
            opened_by: by.actor,
            evidence: request().evidence,
        };
        Dispute::open(command, Utc::now(), &DisputePolicy::default())
            .unwrap()
            .into_dispute(DisputeId::new(7).unwrap())
    }

    /// A dispute the operator may settle: its evidence links `applications`, the operator
    /// responded and the advertiser accepted.
    fn accepted(applications: &[&str]) -> Dispute {
        let by = principal(Role::Advertiser);
        let mut items = vec![EvidenceItem::new(EvidenceKind::ProofPack, "p").unwrap()];
        for id in applications {
            items.push(EvidenceItem::new(EvidenceKind::SettlementApplication, *id).unwrap());
        }
        let command = OpenDispute {
            tenant: by.tenant,
            subject: request().subject,
            claim: request().claim,
            opened_by: by.actor.clone(),
            evidence: EvidenceBundle::new(items),
        };
        let policy = DisputePolicy::default();
        let mut d = Dispute::open(command, Utc::now(), &policy)
            .unwrap()
            .into_dispute(DisputeId::new(7).unwrap());
        let operator = principal(Role::Operator).actor;
        d.respond(operator, None, "", None, Utc::now(), &policy)
            .unwrap();
        d.reply(by.actor, Decision::Accept, None, "", Utc::now(), &policy)
            .unwrap();
        d
    }

    fn adjustment() -> Settlement {
        Settlement {
            kind: Some(ResolutionKind::SettlementAdjustment),
            adjustments: vec![disputes_domain::Adjustment {
                party: disputes_domain::PartyRole::Venue,
                cents: -250,
            }],
            ..Settlement::default()
        }
    }

    async fn settle_adjustment(
        repo: MockDisputeRepository,
        ledger: Option<crate::ledger::MockSettlementLedger>,
    ) -> Result<Dispute, ServiceError> {
        let mut service = service(repo);
        if let Some(ledger) = ledger {
            service = service.with_ledger(Arc::new(ledger));
        }
        service
            .settle(
                &principal(Role::Operator),
                DisputeId::new(7).unwrap(),
                SubjectKind::Delivery,
                Conditions::default(),
                adjustment(),
            )
            .await
    }

    fn stores_what_it_is_given(repo: &mut MockDisputeRepository, d: Dispute) {
        repo.expect_get().returning(move |_, _| Ok(Some(d.clone())));
        repo.expect_update().returning(|_, _, _| Ok(()));
    }

    #[tokio::test]
    async fn a_settlement_adjustment_is_written_to_the_ledger_and_its_override_recorded() {
        let mut repo = MockDisputeRepository::new();
        stores_what_it_is_given(&mut repo, accepted(&["sa_1"]));
        let mut ledger = crate::ledger::MockSettlementLedger::new();
        ledger
            .expect_apply_override()
            .withf(|_, dispute, application, adjustments| {
                dispute.get() == 7 && application == "sa_1" && adjustments.len() == 1
            })
            .times(1)
            .returning(|_, _, _, _| Ok("ovr_9".to_owned()));
        let settled = settle_adjustment(repo, Some(ledger)).await.unwrap();
        let resolution = settled.resolution().unwrap();
        assert_eq!(
            resolution.ledger,
            Some(LedgerOutcome::Applied {
                override_id: "ovr_9".into()
            })
        );
        assert_eq!(
            resolution.settlement_adjustment_id.as_deref(),
            Some("ovr_9")
        );
        assert_eq!(resolution.original_application_id.as_deref(), Some("sa_1"));
    }

    #[tokio::test]
    async fn an_adjustment_not_written_still_settles_and_says_why() {
        let skipped = |d: &Dispute| match d.resolution().and_then(|r| r.ledger.clone()) {
            Some(LedgerOutcome::Skipped { reason }) => reason,
            other => panic!("{other:?}"),
        };
        let mut repo = MockDisputeRepository::new();
        stores_what_it_is_given(&mut repo, accepted(&["sa_1"]));
        let settled = settle_adjustment(repo, None).await.unwrap();
        assert_eq!(skipped(&settled), NO_SETTLEMENT_LEDGER);

        let mut repo = MockDisputeRepository::new();
        stores_what_it_is_given(&mut repo, accepted(&["sa_1", "sa_2"]));
        let mut ledger = crate::ledger::MockSettlementLedger::new();
        ledger.expect_apply_override().never();
        let settled = settle_adjustment(repo, Some(ledger)).await.unwrap();
        assert_eq!(skipped(&settled), "ambiguous_original_application");

        let mut repo = MockDisputeRepository::new();
        stores_what_it_is_given(&mut repo, accepted(&["sa_1"]));
        let mut ledger = crate::ledger::MockSettlementLedger::new();
        ledger
            .expect_apply_override()
            .returning(|_, _, application, _| {
                Err(crate::LedgerError::ApplicationNotFound(
                    application.to_owned(),
                ))
            });
        let settled = settle_adjustment(repo, Some(ledger)).await.unwrap();
        assert_eq!(skipped(&settled), "original_application_not_found");
        assert_eq!(settled.status(), disputes_domain::Status::Resolved);
    }

    #[tokio::test]
    async fn a_settlement_the_domain_refuses_never_reaches_the_ledger() {
        let mut repo = MockDisputeRepository::new();
        repo.expect_get().returning(|_, _| Ok(Some(stored())));
        repo.expect_update().never();
        let mut ledger = crate::ledger::MockSettlementLedger::new();
        ledger.expect_apply_override().never();
        let refused = settle_adjustment(repo, Some(ledger)).await.unwrap_err();
        assert!(
            matches!(
                refused,
                ServiceError::Domain(DomainError::IllegalTransition { .. })
            ),
            "{refused:?}"
        );
    }

    #[tokio::test]
    async fn open_attributes_the_dispute_to_the_caller_by_default() {
        let mut repo = MockDisputeRepository::new();
        repo.expect_create()
            .withf(|new, _| new.parts().opened_by.id.as_str() == "dev")
            .returning(|new, _| Ok(new.into_dispute(DisputeId::new(1).unwrap())));
        let d = service(repo)
            .open(&principal(Role::Advertiser), request(), None)
            .await
            .unwrap();
        assert_eq!(d.opened_by().role, Role::Advertiser);
    }

    #[tokio::test]
    async fn a_domain_refusal_never_reaches_the_store() {
        let repo = MockDisputeRepository::new(); // any call would panic
        let mut bad = request();
        bad.evidence = EvidenceBundle::default();
        let err = service(repo)
            .open(&principal(Role::Advertiser), bad, None)
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            ServiceError::Domain(DomainError::EvidenceRequired)
        ));
    }

    #[tokio::test]
    async fn a_pinned_stale_version_is_refused_without_writing() {
        let mut repo = MockDisputeRepository::new();
        repo.expect_get().returning(|_, _| Ok(Some(stored())));
        repo.expect_update().never();
        let err = service(repo)
            .respond(
                &principal(Role::Operator),
                DisputeId::new(7).unwrap(),
                SubjectKind::Delivery,
                Conditions {
                    expected: Some(Version::new(3).unwrap()),
                    key: None,
                },
                None,
                "n",
                None,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, ServiceError::StaleVersion { current } if current == Version::FIRST));
    }

    #[tokio::test]
    async fn an_unpinned_lost_race_is_retried_then_reported() {
        let mut repo = MockDisputeRepository::new();
        repo.expect_get()
            .times(3)
            .returning(|_, _| Ok(Some(stored())));
        repo.expect_update()
            .times(3)
            .returning(|_, _, _| Err(StoreError::VersionConflict));
        let err = service(repo)
            .add_note(
                &principal(Role::Operator),
                DisputeId::new(7).unwrap(),
                SubjectKind::Delivery,
                Conditions::default(),
                "n",
            )
            .await
            .unwrap_err();
        assert!(matches!(err, ServiceError::Conflict));
    }

    fn reservation() -> Reservation {
        Reservation {
            tenant: TenantId::new("acme").unwrap(),
            principal: "operator:dev".into(),
            key: crate::IdempotencyKey::new("k-1").unwrap(),
            token: Reservation::new_token(),
        }
    }

    #[tokio::test]
    async fn a_keyed_change_carries_its_key_and_a_key_taken_over_is_not_retried() {
        let key = reservation();
        let mut repo = MockDisputeRepository::new();
        repo.expect_get()
            .times(1)
            .returning(|_, _| Ok(Some(stored())));
        let expected = key.clone();
        repo.expect_update()
            .withf(move |_, _, write| write.key.as_ref() == Some(&expected))
            .times(1)
            .returning(|_, _, _| Err(StoreError::KeyTakenOver));
        let err = service(repo)
            .add_note(
                &principal(Role::Operator),
                DisputeId::new(7).unwrap(),
                SubjectKind::Delivery,
                Conditions {
                    expected: None,
                    key: Some(&key),
                },
                "n",
            )
            .await
            .unwrap_err();
        assert!(matches!(err, ServiceError::KeyTakenOver), "{err:?}");
    }

    #[tokio::test]
    async fn a_keyed_opening_carries_its_key() {
        let key = reservation();
        let expected = key.clone();
        let mut repo = MockDisputeRepository::new();
        repo.expect_create()
            .withf(move |_, write| write.key.as_ref() == Some(&expected))
            .returning(|new, _| Ok(new.into_dispute(DisputeId::new(1).unwrap())));
        service(repo)
            .open(&principal(Role::Advertiser), request(), Some(&key))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_dispute_of_another_kind_is_not_found() {
        let mut repo = MockDisputeRepository::new();
        repo.expect_get().returning(|_, _| Ok(Some(stored())));
        let err = service(repo)
            .get(
                &principal(Role::Client),
                DisputeId::new(7).unwrap(),
                SubjectKind::Invoice,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, ServiceError::NotFound));
    }

    #[tokio::test]
    async fn every_write_carries_one_notification_per_sink_for_each_new_entry() {
        let sinks = [Sink::Email, Sink::Webhook];
        let mut repo = MockDisputeRepository::new();
        repo.expect_create()
            .withf(move |new, write| {
                let outbox = &write.notifications;
                outbox.len() == 2
                    && write.key.is_none()
                    && outbox.iter().map(|n| n.sink).eq(sinks)
                    && outbox.iter().all(|n| {
                        (n.seq, n.kind, n.due) == (1, EntryKind::Opened, new.parts().opened_at)
                            && n.event == outbox[0].event
                    })
            })
            .returning(|new, _| Ok(new.into_dispute(DisputeId::new(7).unwrap())));
        repo.expect_get().returning(|_, _| Ok(Some(stored())));
        repo.expect_update()
            .withf(move |_, expected, write| {
                *expected == Version::FIRST
                    && write.notifications.len() == 2
                    && write
                        .notifications
                        .iter()
                        .all(|n| (n.seq, n.kind) == (2, EntryKind::Note))
            })
            .returning(|_, _, _| Ok(()));
        let svc = service(repo).with_sinks(sinks);
        svc.open(&principal(Role::Advertiser), request(), None)
            .await
            .unwrap();
        svc.add_note(
            &principal(Role::Operator),
            DisputeId::new(7).unwrap(),
            SubjectKind::Delivery,
            Conditions::default(),
            "n",
        )
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn the_tenants_own_policy_sets_the_deadline_and_the_default_fills_in() {
        let mut policies = crate::MockTenantPolicies::new();
        let own =
            DisputePolicy::new(chrono::Duration::days(3), true, chrono::Duration::days(1)).unwrap();
        policies
            .expect_policy()
            .returning(move |t| Ok((t.as_str() == "acme").then_some(own)));
        let mut repo = MockDisputeRepository::new();
        repo.expect_create()
            .returning(|new, _| Ok(new.into_dispute(DisputeId::new(7).unwrap())));
        let svc = service(repo).with_policies(Arc::new(policies));
        let now = Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap();
        let d = svc
            .open(&principal(Role::Advertiser), request(), None)
            .await
            .unwrap();
        assert_eq!(d.respond_by(), Some(now + chrono::Duration::days(3)));
        let mut other = principal(Role::Advertiser);
        other.tenant = TenantId::new("globex").unwrap();
        let d = svc.open(&other, request(), None).await.unwrap();
        assert_eq!(d.respond_by(), Some(now + chrono::Duration::days(14)));
    }

    #[tokio::test]
    async fn without_sinks_nothing_is_queued() {
        let mut repo = MockDisputeRepository::new();
        repo.expect_create()
            .withf(|_, write| write.notifications.is_empty())
            .returning(|new, _| Ok(new.into_dispute(DisputeId::new(7).unwrap())));
        service(repo)
            .open(&principal(Role::Advertiser), request(), None)
            .await
            .unwrap();
    }
}
