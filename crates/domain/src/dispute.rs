use chrono::Duration;
use rust_decimal::Decimal;

use crate::message::{CollectionHold, Message, NewMessage, RELEASED_NOTE};
use crate::period::to_micros;
use crate::subject::required_text;
use crate::timeline::{self, EntryKind, TimelineEntry, TimelineError};
use crate::{
    Actor, Claim, Digest, DisputeId, DomainError, EvidenceBundle, EvidenceItem, EvidenceKind,
    Period, ReasonCode, Role, Seal, Subject, TenantId, Timestamp, Version, MAX_COLLECTION_HOLD,
};

named_enum! {
    /// Where a dispute is in its lifecycle. One state machine serves every contract:
    ///
    /// ```text
    /// Open ─investigate→ Investigating ─gather evidence→ EvidenceGathered
    ///  │ (each of the three, and Escalated) ─respond→ Responded
    /// Responded ─accept→ Accepted ─settle→ Resolved
    ///  │  └──reject→ UnderReview ─settle→ Resolved
    ///  └──more info→ Open
    /// any open status but Escalated ─escalate→ Escalated ─settle→ Resolved
    /// any open status ─withdraw→ Withdrawn, ─respond_by passes→ Expired
    /// ```
    ///
    /// Invoice and billing desks also settle straight from Open (and the steps before a
    /// response); a delivery dispute settles only once the advertiser has answered, or in
    /// mediation ([`Dispute::settle`]).
    pub enum Status in "status" {
        Open => "open",
        /// The provider acknowledged the dispute and is looking into it.
        Investigating => "investigating",
        /// The provider has gathered its evidence; its response comes next.
        EvidenceGathered => "evidence_gathered",
        Responded => "responded",
        Accepted => "accepted",
        UnderReview => "under_review",
        Resolved => "resolved",
        Withdrawn => "withdrawn",
        Expired => "expired",
        /// Taken to mediation by either party; it can still be settled, withdrawn, or answered
        /// by a fresh provider response.
        Escalated => "escalated",
    }
}

impl Status {
    /// Resolved, withdrawn and expired disputes never change again.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Resolved | Status::Withdrawn | Status::Expired)
    }
}

named_enum! {
    /// How a dispute ended.
    pub enum Outcome in "outcome" {
        Granted => "granted",
        PartiallyGranted => "partially_granted",
        Denied => "denied",
        /// Set by the engine when the opener withdraws.
        Withdrawn => "withdrawn",
        /// Set by the engine when `respond_by` passes.
        Expired => "expired",
    }
}

impl Outcome {
    /// The outcomes a party settles a dispute with, in the order contracts list them. The engine
    /// sets the others: [`Outcome::Withdrawn`] when the opener withdraws, [`Outcome::Expired`]
    /// when `respond_by` passes.
    pub const CHOSEN_BY_A_PARTY: &'static [Outcome] =
        &[Outcome::Granted, Outcome::PartiallyGranted, Outcome::Denied];

    /// Whether a party may settle with this outcome (see [`Outcome::CHOSEN_BY_A_PARTY`]).
    pub fn is_chosen_by_a_party(self) -> bool {
        Self::CHOSEN_BY_A_PARTY.contains(&self)
    }

    /// The outcome a party asks to settle with, by its stable name. Contracts parse what they
    /// were sent with this, so that they refuse exactly what [`Dispute::settle`] refuses, before
    /// anything is read.
    ///
    /// # Errors
    /// [`DomainError::Invalid`] about `outcome` (its reason lists the outcomes a party may
    /// choose) for a name that is no outcome and for one only the engine sets.
    pub fn parse_resolution(name: &str) -> Result<Outcome, DomainError> {
        name.parse::<Outcome>()
            .ok()
            .filter(|o| o.is_chosen_by_a_party())
            .ok_or_else(not_chosen_by_a_party)
    }

    /// The outcome a settlement of `settled` out of `claimed` amounts to: nothing is a denial,
    /// everything a grant, anything in between a partial grant. Contracts that settle by amount
    /// alone (the billing desk) let the amount decide.
    ///
    /// # Errors
    /// [`DomainError::SettlementOutOfRange`] when `settled` is negative or more than `claimed`.
    pub fn for_settled_amount(settled: Decimal, claimed: Decimal) -> Result<Outcome, DomainError> {
        if settled < Decimal::ZERO || settled > claimed {
            return Err(DomainError::SettlementOutOfRange(format!(
                "the settled amount must be between 0 and the disputed {claimed}"
            )));
        }
        Ok(if settled.is_zero() {
            Outcome::Denied
        } else if settled == claimed {
            Outcome::Granted
        } else {
            Outcome::PartiallyGranted
        })
    }
}

/// The refusal of an outcome a party may not choose: `must be granted, partially_granted or
/// denied`, the names taken from [`Outcome::CHOSEN_BY_A_PARTY`].
fn not_chosen_by_a_party() -> DomainError {
    let names = Outcome::CHOSEN_BY_A_PARTY
        .iter()
        .map(|o| o.as_str())
        .collect::<Vec<_>>();
    let listed = match names.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    };
    DomainError::invalid("outcome", format!("must be {listed}"))
}

named_enum! {
    /// The opener's answer to a response.
    pub enum Decision in "decision" {
        Accept => "accept",
        Reject => "reject",
        /// The opener adds information and hands the dispute back to the provider.
        MoreInfo => "more_info",
    }
}

named_enum! {
    /// Where a party stands on the dispute when it answers: the provider on the claim, the
    /// opener on the provider's response.
    pub enum Stance in "stance" {
        /// Agrees in full.
        Accept => "accept",
        /// Agrees with part of it.
        Partial => "partial",
        /// Disagrees.
        Reject => "reject",
    }
}

impl Stance {
    /// Where an opener who answered with `decision` stands; `None` for handing the dispute
    /// back with more information, which takes no stance.
    pub fn of_decision(decision: Decision) -> Option<Stance> {
        match decision {
            Decision::Accept => Some(Stance::Accept),
            Decision::Reject => Some(Stance::Reject),
            Decision::MoreInfo => None,
        }
    }

    /// The decision an opener's stance amounts to: only full agreement accepts the response;
    /// agreeing with part of it leaves the dispute under review, as a rejection does.
    pub fn decision(self) -> Decision {
        match self {
            Stance::Accept => Decision::Accept,
            Stance::Partial | Stance::Reject => Decision::Reject,
        }
    }
}

/// What the provider offers: an amount, a make-good window, or both.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Remedy {
    pub amount: Option<Decimal>,
    pub makegood_window: Option<Period>,
}

/// The provider's response to a dispute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub at: Timestamp,
    pub by: Actor,
    pub notes: String,
    pub remedy: Option<Remedy>,
    /// Where the provider stands on the claim, when it said so (the delivery contract's
    /// transition route requires it; responses before it existed have none).
    pub stance: Option<Stance>,
}

/// The opener's reply to the provider's response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenerReply {
    pub at: Timestamp,
    pub by: Actor,
    pub notes: String,
    pub decision: Decision,
    /// Where the opener stands on the response: given, or that of its decision
    /// ([`Stance::of_decision`]).
    pub stance: Option<Stance>,
}

named_enum! {
    /// How a delivery dispute was resolved, by the delivery vendor's kinds. A kind says what was
    /// done about the claim; the [`Outcome`] says how much of it was granted.
    pub enum ResolutionKind in "resolution kind" {
        /// A credit note was issued (its id is required).
        CreditIssued => "credit_issued",
        /// A make-good campaign ran (its id is required).
        MakegoodDelivered => "makegood_delivered",
        /// The parties' shares of the settlement were adjusted (by party, in integer cents).
        SettlementAdjustment => "settlement_adjustment",
        /// Nothing is credited: a denial.
        NoCredit => "no_credit",
        /// Anything else; the outcome must be given.
        Other => "other",
    }
}

named_enum! {
    /// A party to a settlement, by the delivery vendor's roles.
    pub enum PartyRole in "party role" {
        Tenant => "tenant",
        Venue => "venue",
        Customer => "customer",
        Platform => "platform",
        Agency => "agency",
        Affiliate => "affiliate",
        Reseller => "reseller",
        TaxAuthority => "tax_authority",
    }
}

/// A change of one party's share of a settlement, in integer cents of the settlement's
/// currency: negative reduces the party's amount. Cents, as the vendor counts them, so no
/// rounding can creep in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Adjustment {
    pub party: PartyRole,
    pub cents: i64,
}

/// What the tenant's settlement system did with a settlement adjustment: it wrote an override
/// of the settlement application (its id), or it did not, for a machine-readable reason. Not
/// applying is no failure of the resolution: the operator can apply it by hand.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LedgerOutcome {
    Applied { override_id: String },
    Skipped { reason: String },
}

impl LedgerOutcome {
    /// Whether the override was written.
    pub fn applied(&self) -> bool {
        matches!(self, LedgerOutcome::Applied { .. })
    }

    /// Why it was not; `None` when it was.
    pub fn skipped_reason(&self) -> Option<&str> {
        match self {
            LedgerOutcome::Skipped { reason } => Some(reason),
            LedgerOutcome::Applied { .. } => None,
        }
    }
}

/// A provider's decision to settle, before the domain checks it against the claim.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Settlement {
    /// Without an outcome, the settled amount decides it ([`Outcome::for_settled_amount`]).
    pub outcome: Option<Outcome>,
    pub settled_amount: Option<Decimal>,
    pub credit_note_id: Option<String>,
    pub makegood_campaign_id: Option<String>,
    pub settlement_adjustment_id: Option<String>,
    /// Why it was settled so: a code of the tenant's reason table (billing).
    pub reason: Option<ReasonCode>,
    pub notes: String,
    /// What was done about the claim (delivery); without one, the outcome alone says it.
    pub kind: Option<ResolutionKind>,
    /// A settlement adjustment's changes, one per party.
    pub adjustments: Vec<Adjustment>,
    /// The settlement application a settlement adjustment corrects, when the caller names it.
    pub original_application_id: Option<String>,
    /// What the settlement system did with a settlement adjustment.
    pub ledger: Option<LedgerOutcome>,
}

/// How a dispute ended, and what was settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    pub outcome: Outcome,
    /// Within `0 ..= claimed`, in the claim's unit; on a claim about a whole invoice, the credit
    /// given in the invoice's currency, or the claimed whole invoice (see [`Dispute::settle`]
    /// and [`Dispute::credit`]).
    pub settled_amount: Decimal,
    pub credit_note_id: Option<String>,
    pub makegood_campaign_id: Option<String>,
    pub settlement_adjustment_id: Option<String>,
    /// Why it was settled so, when the provider named a reason code (billing).
    pub reason: Option<ReasonCode>,
    pub by: Actor,
    pub at: Timestamp,
    pub notes: String,
    /// What was done about the claim, when the provider said (delivery).
    pub kind: Option<ResolutionKind>,
    /// A settlement adjustment's changes; empty for any other resolution.
    pub adjustments: Vec<Adjustment>,
    /// The settlement application a settlement adjustment corrects, when it is known.
    pub original_application_id: Option<String>,
    /// What the settlement system did with a settlement adjustment; `None` for any other.
    pub ledger: Option<LedgerOutcome>,
}

impl Resolution {
    /// A resolution the engine sets (a withdrawal, an expiry): nothing but the outcome, the
    /// amount, who and when.
    fn closing(
        outcome: Outcome,
        settled_amount: Decimal,
        by: Actor,
        at: Timestamp,
        notes: String,
    ) -> Self {
        Resolution {
            outcome,
            settled_amount,
            credit_note_id: None,
            makegood_campaign_id: None,
            settlement_adjustment_id: None,
            reason: None,
            by,
            at,
            notes,
            kind: None,
            adjustments: Vec::new(),
            original_application_id: None,
            ledger: None,
        }
    }
}

/// What settling a dispute gave its opener, as a notice shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credit {
    /// The whole invoice, whose amount the opener never gave.
    WholeInvoice,
    /// An amount of a unit: of the claim's unit, or of the invoice's currency for a credit on a
    /// whole-invoice claim. Zero when nothing was given.
    Amount { amount: Decimal, unit: crate::Unit },
}

/// A tenant's rules for deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DisputePolicy {
    /// How long whoever must act next has to do so.
    pub respond_within: Duration,
    /// Whether a dispute that expires is settled in the opener's favour (the full claim) or not.
    pub grant_on_expiry: bool,
    /// How long before `respond_by` whoever must act is reminded; zero sends no reminders.
    pub remind_before: Duration,
}

impl Default for DisputePolicy {
    fn default() -> Self {
        DisputePolicy {
            respond_within: Duration::days(14),
            grant_on_expiry: false,
            remind_before: Duration::hours(48),
        }
    }
}

impl DisputePolicy {
    /// The longest response time a tenant may give: a deadline further out is no deadline.
    pub const MAX_RESPOND_WITHIN: Duration = Duration::days(365);

    /// A policy checked for sense: a response time of at least a second and at most
    /// [`MAX_RESPOND_WITHIN`](Self::MAX_RESPOND_WITHIN), and a reminder that comes after the
    /// deadline is set (`0 <= remind_before < respond_within`).
    ///
    /// # Errors
    /// [`DomainError::Invalid`] naming the offending field.
    pub fn new(
        respond_within: Duration,
        grant_on_expiry: bool,
        remind_before: Duration,
    ) -> Result<Self, DomainError> {
        if respond_within < Duration::seconds(1) || respond_within > Self::MAX_RESPOND_WITHIN {
            return Err(DomainError::invalid(
                "respond_within",
                "must be between 1 second and 365 days",
            ));
        }
        if remind_before < Duration::zero() || remind_before >= respond_within {
            return Err(DomainError::invalid(
                "remind_before",
                "must be at least 0 and shorter than respond_within",
            ));
        }
        Ok(DisputePolicy {
            respond_within,
            grant_on_expiry,
            remind_before,
        })
    }

    /// The outcome an expired dispute is settled with: granted (the full claim) or denied.
    pub fn outcome_on_expiry(&self) -> Outcome {
        if self.grant_on_expiry {
            Outcome::Granted
        } else {
            Outcome::Denied
        }
    }
}

/// What an opener asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenDispute {
    pub tenant: TenantId,
    pub subject: Subject,
    pub claim: Claim,
    pub opened_by: Actor,
    pub evidence: EvidenceBundle,
}

/// Every field of a dispute, as stores keep it. Only the domain's commands change a dispute; a
/// store rebuilds one with [`Dispute::restore`] and [`Dispute::verify`] proves nothing was edited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisputeParts {
    pub tenant: TenantId,
    pub subject: Subject,
    pub claim: Claim,
    pub opened_by: Actor,
    pub opened_at: Timestamp,
    pub updated_at: Timestamp,
    pub evidence: EvidenceBundle,
    pub evidence_digest: Digest,
    pub status: Status,
    pub version: Version,
    pub respond_by: Option<Timestamp>,
    pub response: Option<Response>,
    pub reply: Option<OpenerReply>,
    pub resolution: Option<Resolution>,
    pub timeline: Vec<TimelineEntry>,
    /// The hash of the last timeline entry, kept apart so that removing entries is detected.
    pub timeline_head: Digest,
    /// The thread, oldest first: the message a dispute was opened with (if any), then every
    /// message posted since.
    pub messages: Vec<Message>,
    /// An invoice dispute's pause of the invoice's collection.
    pub collection_hold: Option<CollectionHold>,
}

/// A dispute that was validated and sealed but has no id yet; the store gives it one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDispute(DisputeParts);

impl NewDispute {
    pub fn parts(&self) -> &DisputeParts {
        &self.0
    }

    /// Seals its entries with `sign` (see [`Dispute::seal_after`]).
    pub fn seal_with(&mut self, sign: impl FnMut(&str) -> Seal) {
        self.0.seal_after(0, sign);
    }

    pub fn into_dispute(self, id: DisputeId) -> Dispute {
        Dispute { id, parts: self.0 }
    }
}

/// Why no override was written: the dispute's evidence links no settlement application.
pub const NO_ORIGINAL_APPLICATION: &str = "no_original_application";
/// Why no override was written: the evidence links several applications and none was named.
pub const AMBIGUOUS_ORIGINAL_APPLICATION: &str = "ambiguous_original_application";

impl DisputeParts {
    /// Seals each entry after the first `stored` that has no seal yet with `sign`, which signs
    /// an entry's [seal statement](TimelineEntry::seal_statement).
    fn seal_after(&mut self, stored: i64, mut sign: impl FnMut(&str) -> Seal) {
        let tenant = &self.tenant;
        for entry in &mut self.timeline {
            if entry.seq() > stored && entry.seal().is_none() {
                let seal = sign(&entry.seal_statement(tenant));
                entry.set_seal(seal);
            }
        }
    }
}

/// The longest notes of a change, in characters.
pub const MAX_NOTES: usize = 10_000;

fn notes_text(field: &'static str, notes: &str) -> Result<String, DomainError> {
    if notes.chars().count() > MAX_NOTES {
        return Err(DomainError::invalid(
            field,
            format!("must be at most {MAX_NOTES} characters"),
        ));
    }
    Ok(notes.to_owned())
}

fn optional_ref(field: &'static str, value: Option<String>) -> Result<Option<String>, DomainError> {
    value.map(|v| required_text(field, v, 256)).transpose()
}

/// What a reminder entry says: the deadline it is for, in whole microseconds.
fn reminder_notes(deadline: Timestamp) -> String {
    format!(
        "a response is due by {}",
        deadline.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    )
}

/// The settled amount of a claim of an amount: part of it, as the outcome says (see
/// [`Dispute::settle`]).
fn settled_within_claim(
    outcome: Outcome,
    settled: Option<Decimal>,
    claimed: Decimal,
) -> Result<Decimal, DomainError> {
    let partial = || {
        format!(
            "a partially granted dispute needs a settledAmount above 0 and below the claimed {claimed}"
        )
    };
    match (outcome, settled) {
        (Outcome::Granted, None) => Ok(claimed),
        (Outcome::Granted, Some(a)) if a == claimed => Ok(claimed),
        (Outcome::Granted, Some(_)) => Err(DomainError::SettlementOutOfRange(format!(
            "a granted dispute settles the full claimed {claimed}; use partially_granted for less"
        ))),
        (Outcome::PartiallyGranted, Some(a)) if a > Decimal::ZERO && a < claimed => Ok(a),
        (Outcome::PartiallyGranted, None) => Err(DomainError::PartialAmountMissing(partial())),
        (Outcome::PartiallyGranted, Some(_)) => Err(DomainError::SettlementOutOfRange(partial())),
        (Outcome::Denied, None) => Ok(Decimal::ZERO),
        (Outcome::Denied, Some(a)) if a.is_zero() => Ok(Decimal::ZERO),
        (Outcome::Denied, Some(_)) => Err(DomainError::SettlementOutOfRange(
            "a denied dispute settles nothing".to_owned(),
        )),
        (Outcome::Withdrawn | Outcome::Expired, _) => Err(not_chosen_by_a_party()),
    }
}

/// What a resolution kind needs: the credit note of a credit, the campaign of a make-good, and
/// the adjustments of a settlement adjustment, one per party (and adjustments with no other).
fn check_kind(settlement: &Settlement) -> Result<(), DomainError> {
    let missing = |field| Err(DomainError::invalid(field, "is required for this kind"));
    match settlement.kind {
        Some(ResolutionKind::CreditIssued) if settlement.credit_note_id.is_none() => {
            return missing("creditNoteId")
        }
        Some(ResolutionKind::MakegoodDelivered) if settlement.makegood_campaign_id.is_none() => {
            return missing("makegoodCampaignId")
        }
        Some(ResolutionKind::SettlementAdjustment) if settlement.adjustments.is_empty() => {
            return Err(DomainError::invalid(
                "adjustments",
                "must adjust at least one party",
            ))
        }
        Some(ResolutionKind::SettlementAdjustment) => {}
        _ if !settlement.adjustments.is_empty() => {
            return Err(DomainError::invalid(
                "adjustments",
                "only a SETTLEMENT_ADJUSTMENT adjusts the parties' shares",
            ))
        }
        _ => {}
    }
    let parties = &settlement.adjustments;
    if parties
        .iter()
        .enumerate()
        .any(|(i, a)| parties[..i].iter().any(|b| b.party == a.party))
    {
        return Err(DomainError::invalid("adjustments", "names a party twice"));
    }
    Ok(())
}

/// The credit a settlement of a whole-invoice claim records: the claimed whole invoice for a
/// grant without a credit, else the credit given, in the invoice's currency (see
/// [`Dispute::settle`]).
fn credit_on_whole_invoice(
    outcome: Outcome,
    credit: Option<Decimal>,
    claimed: Decimal,
) -> Result<Decimal, DomainError> {
    match (outcome, credit) {
        (Outcome::Granted, None) => Ok(claimed),
        (Outcome::Granted | Outcome::PartiallyGranted, Some(c)) if c > Decimal::ZERO => Ok(c),
        (Outcome::Granted | Outcome::PartiallyGranted, Some(_)) => {
            Err(DomainError::SettlementOutOfRange(
                "a credit on a whole invoice must be above 0".to_owned(),
            ))
        }
        (Outcome::PartiallyGranted, None) => Err(DomainError::PartialAmountMissing(
            "a partially granted dispute about a whole invoice needs the credit given".to_owned(),
        )),
        (Outcome::Denied, None) => Ok(Decimal::ZERO),
        (Outcome::Denied, Some(c)) if c.is_zero() => Ok(Decimal::ZERO),
        (Outcome::Denied, Some(_)) => Err(DomainError::SettlementOutOfRange(
            "a denied dispute settles nothing".to_owned(),
        )),
        (Outcome::Withdrawn | Outcome::Expired, _) => Err(not_chosen_by_a_party()),
    }
}

/// The dispute aggregate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dispute {
    id: DisputeId,
    parts: DisputeParts,
}

impl Dispute {
    /// Validates an opening, seals its evidence and starts the timeline.
    pub fn open(
        command: OpenDispute,
        now: Timestamp,
        policy: &DisputePolicy,
    ) -> Result<NewDispute, DomainError> {
        if command.opened_by.role == Role::System {
            return Err(DomainError::RoleNotPermitted {
                role: Role::System,
                action: "open",
            });
        }
        if matches!(command.subject, Subject::Delivery(_)) && !command.evidence.has_delivery_proof()
        {
            return Err(DomainError::EvidenceRequired);
        }
        let now = to_micros(now);
        let evidence_digest = command.evidence.digest();
        // Disputing an invoice pauses its collection, for the policy's response time but never
        // longer than the limit; the opening entry records until when.
        let collection_hold =
            matches!(command.subject, Subject::Invoice(_)).then(|| CollectionHold {
                until: now + policy.respond_within.min(MAX_COLLECTION_HOLD),
                released_at: None,
            });
        let notes = collection_hold
            .map(|hold| CollectionHold::placed_notes(hold.until))
            .unwrap_or_default();
        let mut parts = DisputeParts {
            tenant: command.tenant,
            subject: command.subject,
            claim: command.claim,
            opened_by: command.opened_by,
            opened_at: now,
            updated_at: now,
            evidence: command.evidence,
            evidence_digest,
            status: Status::Open,
            version: Version::FIRST,
            respond_by: Some(now + policy.respond_within),
            response: None,
            reply: None,
            resolution: None,
            timeline_head: evidence_digest,
            timeline: Vec::new(),
            messages: Vec::new(),
            collection_hold,
        };
        // The chain is anchored in the sealed evidence, so swapping the evidence breaks it too.
        let opened = TimelineEntry::chained(
            evidence_digest,
            1,
            now,
            parts.opened_by.clone(),
            EntryKind::Opened,
            notes,
            parts.state_digest(),
        );
        parts.timeline_head = opened.hash();
        parts.timeline.push(opened);
        Ok(NewDispute(parts))
    }

    /// Opens a dispute whose thread starts with `message`. The message is sealed with the
    /// evidence too (its text as a statement, its file as `sha256:<hex>`), so what a dispute was
    /// opened with can never change afterwards.
    pub fn open_with_message(
        mut command: OpenDispute,
        message: NewMessage,
        now: Timestamp,
        policy: &DisputePolicy,
    ) -> Result<NewDispute, DomainError> {
        let mut items = command.evidence.items().to_vec();
        items.push(EvidenceItem::new(
            EvidenceKind::Statement,
            message.text.as_str(),
        )?);
        if let Some(attachment) = &message.attachment {
            items.push(EvidenceItem::new(
                EvidenceKind::Attachment,
                attachment.evidence_ref(),
            )?);
        }
        command.evidence = EvidenceBundle::new(items);
        let NewDispute(mut parts) = Dispute::open(command, now, policy)?;
        let first = Message::new(1, parts.opened_at, parts.opened_by.clone(), message);
        parts.messages.push(first);
        Ok(NewDispute(parts))
    }

    /// Rebuilds a dispute from what a store kept. Call [`verify`](Dispute::verify) to prove it was
    /// not edited behind the domain's back.
    pub fn restore(id: DisputeId, parts: DisputeParts) -> Self {
        Dispute { id, parts }
    }

    pub fn id(&self) -> DisputeId {
        self.id
    }

    pub fn parts(&self) -> &DisputeParts {
        &self.parts
    }

    pub fn tenant(&self) -> &TenantId {
        &self.parts.tenant
    }

    pub fn subject(&self) -> &Subject {
        &self.parts.subject
    }

    pub fn claim(&self) -> &Claim {
        &self.parts.claim
    }

    pub fn opened_by(&self) -> &Actor {
        &self.parts.opened_by
    }

    pub fn opened_at(&self) -> Timestamp {
        self.parts.opened_at
    }

    pub fn updated_at(&self) -> Timestamp {
        self.parts.updated_at
    }

    pub fn evidence(&self) -> &EvidenceBundle {
        &self.parts.evidence
    }

    pub fn evidence_digest(&self) -> Digest {
        self.parts.evidence_digest
    }

    pub fn status(&self) -> Status {
        self.parts.status
    }

    pub fn version(&self) -> Version {
        self.parts.version
    }

    pub fn respond_by(&self) -> Option<Timestamp> {
        self.parts.respond_by
    }

    pub fn response(&self) -> Option<&Response> {
        self.parts.response.as_ref()
    }

    pub fn opener_reply(&self) -> Option<&OpenerReply> {
        self.parts.reply.as_ref()
    }

    pub fn resolution(&self) -> Option<&Resolution> {
        self.parts.resolution.as_ref()
    }

    /// What settling gave the opener; `None` while the dispute runs. On a claim of an amount it
    /// is the settled amount of the claim's unit. On a whole-invoice claim (see
    /// [`Dispute::settle`]) a settlement of the claimed whole invoice (a grant without a credit,
    /// or an expiry the policy grants) is [`Credit::WholeInvoice`], and any other amount a
    /// credit in the invoice's currency. The stored amount alone says which, so disputes settled
    /// before credits on whole invoices existed read as they always did; the price is that a
    /// grant with a credit of exactly 1 reads as a grant of the whole invoice, which a grant is.
    pub fn credit(&self) -> Option<Credit> {
        let resolution = self.parts.resolution.as_ref()?;
        let claim = &self.parts.claim;
        let amount = resolution.settled_amount;
        if !claim.is_whole_invoice() {
            return Some(Credit::Amount {
                amount,
                unit: claim.quantity.unit().clone(),
            });
        }
        let whole = matches!(resolution.outcome, Outcome::Granted | Outcome::Expired)
            && amount == claim.amount();
        Some(if whole {
            Credit::WholeInvoice
        } else {
            Credit::Amount {
                amount,
                unit: crate::Unit::invoice_currency(),
            }
        })
    }

    pub fn timeline(&self) -> &[TimelineEntry] {
        &self.parts.timeline
    }

    /// Seals the entries a change appended after the first `stored` with `sign`, before they
    /// are written: the engine signs what it writes, so a head recomputed by someone who can
    /// only write to the store has no valid seal.
    pub fn seal_after(&mut self, stored: i64, sign: impl FnMut(&str) -> Seal) {
        self.parts.seal_after(stored, sign);
    }

    /// Proves the seals: the dispute's head (its last entry) must be sealed, and every seal
    /// must pass `check`, which is given the seal, the statement it must sign and the entry's
    /// time, and says why not. [`verify`](Self::verify) proves what the seals sign.
    pub fn verify_seals(
        &self,
        check: impl Fn(&Seal, &str, Timestamp) -> Result<(), String>,
    ) -> Result<(), TimelineError> {
        self.verify_head_seal(&check)?;
        let tenant = &self.parts.tenant;
        for entry in &self.parts.timeline {
            if let Some(seal) = entry.seal() {
                check(seal, &entry.seal_statement(tenant), entry.at()).map_err(|why| {
                    TimelineError::SealRefused {
                        seq: entry.seq(),
                        why,
                    }
                })?;
            }
        }
        Ok(())
    }

    /// [`verify_seals`](Self::verify_seals) of the head alone: what a read needs, since the
    /// head's hash covers every entry before it and the state after it, so its seal vouches for
    /// all of them. The earlier seals matter to whoever shows them (an export, `verify`).
    pub fn verify_head_seal(
        &self,
        check: impl Fn(&Seal, &str, Timestamp) -> Result<(), String>,
    ) -> Result<(), TimelineError> {
        let Some(head) = self.parts.timeline.last() else {
            return Ok(());
        };
        let seal = head
            .seal()
            .ok_or(TimelineError::Unsealed { seq: head.seq() })?;
        check(seal, &head.seal_statement(&self.parts.tenant), head.at()).map_err(|why| {
            TimelineError::SealRefused {
                seq: head.seq(),
                why,
            }
        })
    }

    pub fn messages(&self) -> &[Message] {
        &self.parts.messages
    }

    pub fn collection_hold(&self) -> Option<&CollectionHold> {
        self.parts.collection_hold.as_ref()
    }

    /// Proves the evidence still matches its digest, the timeline's hash chain is whole, every
    /// fact of the dispute is the state its last entry sealed, and the messages and the
    /// collection hold are the ones the timeline recorded.
    pub fn verify(&self) -> Result<(), TimelineError> {
        if self.parts.evidence.digest() != self.parts.evidence_digest {
            return Err(TimelineError::EvidenceAltered);
        }
        timeline::verify(
            &self.parts.timeline,
            self.parts.evidence_digest,
            self.parts.timeline_head,
        )?;
        self.verify_messages()?;
        if let Some(hold) = &self.parts.collection_hold {
            let opening = self.parts.timeline.first().map(TimelineEntry::notes);
            if opening != Some(CollectionHold::placed_notes(hold.until).as_str()) {
                return Err(TimelineError::HoldAltered);
            }
        }
        // Last, as the widest check: the last entry sealed the state as it left it (entries of
        // format v1 sealed none).
        let sealed = self.parts.timeline.last().and_then(TimelineEntry::state);
        if sealed.is_some_and(|state| state != self.parts.state_digest()) {
            return Err(TimelineError::StateAltered);
        }
        Ok(())
    }

    /// Each message must match the entry that recorded it (its time, author and, through the
    /// entry's notes, its text and attachment), the opening message must match the sealed
    /// evidence, and every `message` entry must have its message.
    fn verify_messages(&self) -> Result<(), TimelineError> {
        let timeline = &self.parts.timeline;
        let mut recorded = 0;
        let mut previous_seq = 0;
        for message in &self.parts.messages {
            let seq = message.seq();
            let altered = TimelineError::MessageAltered { seq };
            let entry = usize::try_from(seq - 1)
                .ok()
                .and_then(|i| timeline.get(i))
                .ok_or(altered.clone())?;
            let same_origin = seq > previous_seq
                && entry.at() == message.at()
                && entry.actor() == message.author();
            let matches_record = match entry.kind() {
                EntryKind::Message => {
                    recorded += 1;
                    entry.notes() == message.entry_notes()
                }
                EntryKind::Opened => {
                    let evidence = &self.parts.evidence;
                    let stated = evidence
                        .values(EvidenceKind::Statement)
                        .any(|text| text == message.text());
                    let attached = message.attachment().is_none_or(|a| {
                        evidence
                            .values(EvidenceKind::Attachment)
                            .any(|value| value == a.evidence_ref())
                    });
                    stated && attached
                }
                _ => false,
            };
            if !same_origin || !matches_record {
                return Err(altered);
            }
            previous_seq = seq;
        }
        let entries = timeline
            .iter()
            .filter(|e| e.kind() == EntryKind::Message)
            .collect::<Vec<_>>();
        if entries.len() != recorded {
            let missing = entries
                .iter()
                .find(|e| self.parts.messages.iter().all(|m| m.seq() != e.seq()))
                .map_or(0, |e| e.seq());
            return Err(TimelineError::MessageAltered { seq: missing });
        }
        Ok(())
    }

    /// The provider acknowledges the dispute and starts looking into it. The deadline stays:
    /// acknowledging a claim does not buy time to answer it.
    pub fn investigate(
        &mut self,
        by: Actor,
        notes: &str,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        const ACTION: &str = "investigate";
        self.require_responder(&by, ACTION)?;
        self.require_status(&[Status::Open], ACTION)?;
        let notes = notes_text("notes", notes)?;
        self.step(
            Status::Investigating,
            by,
            EntryKind::Investigating,
            notes,
            now,
        );
        Ok(())
    }

    /// The provider records that its evidence is gathered; its response comes next. The
    /// deadline stays, as for [`investigate`](Self::investigate).
    pub fn gather_evidence(
        &mut self,
        by: Actor,
        notes: &str,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        const ACTION: &str = "gather evidence for";
        self.require_responder(&by, ACTION)?;
        self.require_status(&[Status::Open, Status::Investigating], ACTION)?;
        let notes = notes_text("notes", notes)?;
        self.step(
            Status::EvidenceGathered,
            by,
            EntryKind::EvidenceGathered,
            notes,
            now,
        );
        Ok(())
    }

    /// The provider answers the claim, optionally proposing a remedy and saying where it stands.
    /// It may answer an open dispute, one it is investigating or gathered evidence for, and one
    /// in mediation (which returns it to negotiation).
    pub fn respond(
        &mut self,
        by: Actor,
        stance: Option<Stance>,
        notes: &str,
        remedy: Option<Remedy>,
        now: Timestamp,
        policy: &DisputePolicy,
    ) -> Result<(), DomainError> {
        const ACTION: &str = "respond to";
        self.require_responder(&by, ACTION)?;
        self.require_status(
            &[
                Status::Open,
                Status::Investigating,
                Status::EvidenceGathered,
                Status::Escalated,
            ],
            ACTION,
        )?;
        let notes = notes_text("notes", notes)?;
        if let Some(amount) = remedy.as_ref().and_then(|r| r.amount) {
            if amount < Decimal::ZERO || amount > self.parts.claim.amount() {
                return Err(DomainError::SettlementOutOfRange(format!(
                    "proposedRemedy.amount must be between 0 and the claimed {}",
                    self.parts.claim.amount()
                )));
            }
        }
        let now = to_micros(now);
        self.parts.response = Some(Response {
            at: now,
            by: by.clone(),
            notes: notes.clone(),
            remedy,
            stance,
        });
        self.parts.reply = None;
        self.advance(
            Status::Responded,
            by,
            EntryKind::Responded,
            notes,
            now,
            policy,
        );
        Ok(())
    }

    /// The opener accepts or rejects the provider's response, or hands it back with more
    /// information. A `stance`, when given, must be one the decision amounts to
    /// ([`Stance::decision`]); without one, the decision's own is recorded.
    pub fn reply(
        &mut self,
        by: Actor,
        decision: Decision,
        stance: Option<Stance>,
        notes: &str,
        now: Timestamp,
        policy: &DisputePolicy,
    ) -> Result<(), DomainError> {
        const ACTION: &str = "reply to";
        self.require_opener_side(&by, ACTION)?;
        self.require_status(&[Status::Responded], ACTION)?;
        if stance.is_some_and(|s| s.decision() != decision) {
            return Err(DomainError::invalid(
                "stance",
                format!("does not agree with the decision to {decision}"),
            ));
        }
        let notes = notes_text("notes", notes)?;
        let now = to_micros(now);
        let (status, kind) = match decision {
            Decision::Accept => (Status::Accepted, EntryKind::Accepted),
            Decision::Reject => (Status::UnderReview, EntryKind::Rejected),
            Decision::MoreInfo => (Status::Open, EntryKind::Note),
        };
        self.parts.reply = Some(OpenerReply {
            at: now,
            by: by.clone(),
            notes: notes.clone(),
            decision,
            stance: stance.or(Stance::of_decision(decision)),
        });
        self.advance(status, by, kind, notes, now, policy);
        Ok(())
    }

    /// Either party takes the dispute to mediation, from any open status but mediation itself.
    /// Whoever must act next gets a fresh deadline.
    pub fn escalate(
        &mut self,
        by: Actor,
        notes: &str,
        now: Timestamp,
        policy: &DisputePolicy,
    ) -> Result<(), DomainError> {
        const ACTION: &str = "escalate";
        if by.role == Role::System {
            return Err(DomainError::RoleNotPermitted {
                role: by.role,
                action: ACTION,
            });
        }
        self.require_not_final()?;
        if self.parts.status == Status::Escalated {
            return Err(DomainError::IllegalTransition {
                from: Status::Escalated,
                action: ACTION,
            });
        }
        let notes = notes_text("notes", notes)?;
        let now = to_micros(now);
        self.advance(
            Status::Escalated,
            by,
            EntryKind::Escalated,
            notes,
            now,
            policy,
        );
        Ok(())
    }

    /// The provider settles: in full, in part, or not at all. A provider may settle at once
    /// (invoice and billing desks do), or after the opener accepted or rejected its response.
    ///
    /// The outcome must be one a party chooses ([`Outcome::CHOSEN_BY_A_PARTY`]); without one,
    /// the amount decides it ([`Outcome::for_settled_amount`]). What is settled depends on the
    /// claim:
    ///
    /// - A claim of an amount (money, impressions, ...): the settled amount is part of it,
    ///   `0 <= settled <= claimed`. Granted settles the claim in full (an amount, if given, must
    ///   be the claimed one); partially granted needs an amount above 0 and below the claim
    ///   ([`DomainError::PartialAmountMissing`] without one); denied settles 0.
    /// - A claim about a whole invoice whose amount was not given ([`Claim::is_whole_invoice`]):
    ///   there is nothing to take a part of, so the amount is the credit given, in the invoice's
    ///   currency ([`crate::Unit::invoice_currency`]), with no upper bound. Granted without a
    ///   credit settles the claimed whole invoice (as it always has: 1 invoice); granted or
    ///   partially granted with a credit records that credit, which must be above 0; partially
    ///   granted without one is [`DomainError::PartialAmountMissing`]; denied settles 0. Such a
    ///   settlement needs its outcome: a credit alone does not say whether all was granted.
    ///
    /// # Errors
    /// [`DomainError::RoleNotPermitted`] for an opener's role, [`DomainError::Final`] and
    /// [`DomainError::IllegalTransition`] for a dispute that cannot be settled now,
    /// [`DomainError::Invalid`] about `outcome`, and [`DomainError::SettlementOutOfRange`] or
    /// [`DomainError::PartialAmountMissing`] for an amount that does not fit the outcome.
    pub fn settle(
        &mut self,
        by: Actor,
        settlement: Settlement,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        const ACTION: &str = "settle";
        if !by.role.is_provider() {
            return Err(DomainError::RoleNotPermitted {
                role: by.role,
                action: ACTION,
            });
        }
        self.require_status(self.settles_from(), ACTION)?;
        let claimed = self.parts.claim.amount();
        let whole_invoice = self.parts.claim.is_whole_invoice();
        check_kind(&settlement)?;
        let outcome = match (
            settlement.outcome,
            settlement.settled_amount,
            settlement.kind,
        ) {
            (Some(outcome), _, _) => outcome,
            (None, _, Some(ResolutionKind::NoCredit)) => Outcome::Denied,
            (None, Some(amount), _) if !whole_invoice => {
                Outcome::for_settled_amount(amount, claimed)?
            }
            // What was done is named and no amount: the claim was made good in full.
            (
                None,
                None,
                Some(
                    ResolutionKind::CreditIssued
                    | ResolutionKind::MakegoodDelivered
                    | ResolutionKind::SettlementAdjustment,
                ),
            ) => Outcome::Granted,
            (None, _, _) => return Err(DomainError::invalid("outcome", "is required")),
        };
        if settlement.kind == Some(ResolutionKind::NoCredit) && outcome != Outcome::Denied {
            return Err(DomainError::invalid(
                "outcome",
                "a NO_CREDIT resolution is a denial",
            ));
        }
        let settled_amount = if whole_invoice {
            credit_on_whole_invoice(outcome, settlement.settled_amount, claimed)?
        } else {
            settled_within_claim(outcome, settlement.settled_amount, claimed)?
        };
        let notes = notes_text("notes", &settlement.notes)?;
        let resolution = Resolution {
            outcome,
            settled_amount,
            credit_note_id: optional_ref("creditNoteId", settlement.credit_note_id)?,
            makegood_campaign_id: optional_ref(
                "makegoodCampaignId",
                settlement.makegood_campaign_id,
            )?,
            settlement_adjustment_id: optional_ref(
                "settlementAdjustmentId",
                settlement.settlement_adjustment_id,
            )?,
            reason: settlement.reason,
            by: by.clone(),
            at: to_micros(now),
            notes: notes.clone(),
            kind: settlement.kind,
            original_application_id: optional_ref(
                "originalApplicationId",
                settlement.original_application_id,
            )?,
            adjustments: settlement.adjustments,
            ledger: settlement.ledger,
        };
        self.finish(resolution, EntryKind::Settled);
        Ok(())
    }

    /// The settlement application a settlement adjustment of this dispute corrects: the one
    /// named, else the only one its evidence links. `Err` carries the machine reason an
    /// override cannot be written: no application linked, or several and none named.
    pub fn original_application(&self, named: Option<&str>) -> Result<String, &'static str> {
        if let Some(named) = named {
            return Ok(named.to_owned());
        }
        let mut linked = self
            .parts
            .evidence
            .values(EvidenceKind::SettlementApplication);
        match (linked.next(), linked.next()) {
            (Some(only), None) => Ok(only.to_owned()),
            (None, _) => Err(NO_ORIGINAL_APPLICATION),
            (Some(_), Some(_)) => Err(AMBIGUOUS_ORIGINAL_APPLICATION),
        }
    }

    /// The statuses [`settle`](Self::settle) is legal from. An invoice or billing desk settles
    /// at once, or at any step after; a delivery dispute only once the advertiser answered the
    /// operator's response, or in mediation (the delivery vendor's rule).
    fn settles_from(&self) -> &'static [Status] {
        const AFTER_AN_ANSWER: &[Status] =
            &[Status::Accepted, Status::UnderReview, Status::Escalated];
        const ANY_OPEN: &[Status] = &[
            Status::Open,
            Status::Investigating,
            Status::EvidenceGathered,
            Status::Accepted,
            Status::UnderReview,
            Status::Escalated,
        ];
        match self.parts.subject {
            Subject::Delivery(_) => AFTER_AN_ANSWER,
            Subject::Invoice(_) | Subject::Billing(_) => ANY_OPEN,
        }
    }

    /// The opener takes the dispute back: the very actor that opened it, not just someone of
    /// its side ([`DomainError::NotOpener`]).
    pub fn withdraw(&mut self, by: Actor, notes: &str, now: Timestamp) -> Result<(), DomainError> {
        const ACTION: &str = "withdraw";
        self.require_opener_side(&by, ACTION)?;
        self.require_not_final()?;
        if by.id != self.parts.opened_by.id {
            return Err(DomainError::NotOpener);
        }
        let notes = notes_text("notes", notes)?;
        let resolution =
            Resolution::closing(Outcome::Withdrawn, Decimal::ZERO, by, to_micros(now), notes);
        self.finish(resolution, EntryKind::Withdrawn);
        Ok(())
    }

    /// Either party adds a note to the timeline; the status does not move.
    pub fn add_note(&mut self, by: Actor, notes: &str, now: Timestamp) -> Result<(), DomainError> {
        self.require_not_final()?;
        let notes = required_text("notes", notes, MAX_NOTES)?;
        let now = to_micros(now);
        self.append(by, EntryKind::Note, notes, now);
        Ok(())
    }

    /// The provider or the customer adds a message, optionally with a file, to the thread. The
    /// status does not move: messages are how the parties talk while the dispute runs.
    pub fn post_message(
        &mut self,
        by: Actor,
        message: NewMessage,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        if !matches!(by.role, Role::Client | Role::Customer) {
            return Err(DomainError::RoleNotPermitted {
                role: by.role,
                action: "post a message to",
            });
        }
        self.require_not_final()?;
        let now = to_micros(now);
        let seq = self.parts.timeline.len() as i64 + 1;
        let message = Message::new(seq, now, by.clone(), message);
        let notes = message.entry_notes();
        self.parts.messages.push(message);
        self.append(by, EntryKind::Message, notes, now);
        Ok(())
    }

    /// The engine closes a dispute whose `respond_by` has passed, with the policy's outcome.
    pub fn expire(&mut self, now: Timestamp, policy: &DisputePolicy) -> Result<(), DomainError> {
        self.require_not_final()?;
        let now = to_micros(now);
        match self.parts.respond_by {
            Some(deadline) if now >= deadline => {}
            _ => return Err(DomainError::NotOverdue),
        }
        let settled_amount = if policy.grant_on_expiry {
            self.parts.claim.amount()
        } else {
            Decimal::ZERO
        };
        let resolution = Resolution::closing(
            Outcome::Expired,
            settled_amount,
            Actor::system(),
            now,
            "respond_by passed".to_owned(),
        );
        self.finish(resolution, EntryKind::Expired);
        Ok(())
    }

    /// The engine reminds whoever must act that `respond_by` is near: once `now` is within the
    /// policy's `remind_before` of it, and once per deadline (a later deadline, set by a response
    /// or a reply, gets a reminder of its own). The entry's notes name the deadline it is for,
    /// which is how a second reminder for the same deadline is recognised.
    ///
    /// # Errors
    /// [`DomainError::Final`] for a final dispute; [`DomainError::ReminderNotDue`] before the
    /// reminder window or once the deadline has passed (expiry is due then); and
    /// [`DomainError::AlreadyReminded`] when this deadline had its reminder.
    pub fn remind(&mut self, now: Timestamp, policy: &DisputePolicy) -> Result<(), DomainError> {
        self.require_not_final()?;
        let now = to_micros(now);
        let deadline = match self.parts.respond_by {
            Some(deadline)
                if policy.remind_before > Duration::zero()
                    && now >= deadline - policy.remind_before
                    && now < deadline =>
            {
                deadline
            }
            _ => return Err(DomainError::ReminderNotDue),
        };
        if self.reminded() {
            return Err(DomainError::AlreadyReminded);
        }
        self.append(
            Actor::system(),
            EntryKind::Reminder,
            reminder_notes(deadline),
            now,
        );
        Ok(())
    }

    /// Whether the current deadline has had its reminder.
    pub fn reminded(&self) -> bool {
        self.parts.respond_by.is_some_and(|deadline| {
            let notes = reminder_notes(deadline);
            self.parts
                .timeline
                .iter()
                .rev()
                .any(|e| e.kind() == EntryKind::Reminder && e.notes() == notes)
        })
    }

    /// The provider, never the opener's own side, answers a claim.
    fn require_responder(&self, by: &Actor, action: &'static str) -> Result<(), DomainError> {
        if !by.role.is_provider() {
            return Err(DomainError::RoleNotPermitted {
                role: by.role,
                action,
            });
        }
        if by.role == self.parts.opened_by.role {
            return Err(DomainError::OpenerCannotRespond);
        }
        Ok(())
    }

    fn require_opener_side(&self, by: &Actor, action: &'static str) -> Result<(), DomainError> {
        if by.role != self.parts.opened_by.role {
            return Err(DomainError::RoleNotPermitted {
                role: by.role,
                action,
            });
        }
        Ok(())
    }

    fn require_not_final(&self) -> Result<(), DomainError> {
        if self.parts.status.is_final() {
            return Err(DomainError::Final(self.parts.status));
        }
        Ok(())
    }

    fn require_status(&self, allowed: &[Status], action: &'static str) -> Result<(), DomainError> {
        self.require_not_final()?;
        if !allowed.contains(&self.parts.status) {
            return Err(DomainError::IllegalTransition {
                from: self.parts.status,
                action,
            });
        }
        Ok(())
    }

    /// Moves to a non-final status; the next party gets a fresh deadline.
    fn advance(
        &mut self,
        status: Status,
        by: Actor,
        kind: EntryKind,
        notes: String,
        now: Timestamp,
        policy: &DisputePolicy,
    ) {
        self.parts.status = status;
        self.parts.respond_by = Some(now + policy.respond_within);
        self.append(by, kind, notes, now);
    }

    /// Moves to a non-final status under the same deadline.
    fn step(&mut self, status: Status, by: Actor, kind: EntryKind, notes: String, now: Timestamp) {
        self.parts.status = status;
        self.append(by, kind, notes, to_micros(now));
    }

    fn finish(&mut self, resolution: Resolution, kind: EntryKind) {
        self.parts.status = match resolution.outcome {
            Outcome::Withdrawn => Status::Withdrawn,
            Outcome::Expired => Status::Expired,
            Outcome::Granted | Outcome::PartiallyGranted | Outcome::Denied => Status::Resolved,
        };
        self.parts.respond_by = None;
        let (by, mut notes, at) = (
            resolution.by.clone(),
            resolution.notes.clone(),
            resolution.at,
        );
        // A dispute that ends releases its invoice's collection at once; the closing entry says
        // so, which makes the release part of the history too.
        if let Some(hold) = self.parts.collection_hold.as_mut() {
            if hold.is_active(at) {
                hold.released_at = Some(at);
                notes = if notes.is_empty() {
                    RELEASED_NOTE.to_owned()
                } else {
                    format!("{notes}\n\n{RELEASED_NOTE}")
                };
            }
        }
        self.parts.resolution = Some(resolution);
        self.append(by, kind, notes, at);
    }

    /// Every change ends here: one new chained timeline entry and one more version.
    /// The entry seals the state the change left, version and time included.
    fn append(&mut self, by: Actor, kind: EntryKind, notes: String, at: Timestamp) {
        let seq = self.parts.timeline.len() as i64 + 1;
        self.parts.version = self.parts.version.next();
        self.parts.updated_at = at;
        let state = self.parts.state_digest();
        let entry =
            TimelineEntry::chained(self.parts.timeline_head, seq, at, by, kind, notes, state);
        self.parts.timeline_head = entry.hash();
        self.parts.timeline.push(entry);
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod message_tests;
