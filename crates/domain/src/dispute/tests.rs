use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::*;
use crate::{
    ActorId, DeliverySubject, EvidenceItem, EvidenceKind, Period, Quantity, TimelineError, Unit,
};

fn t0() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap()
}

fn actor(id: &str, role: Role) -> Actor {
    Actor::new(ActorId::new(id).unwrap(), role)
}

fn advertiser() -> Actor {
    actor("adv-dev", Role::Advertiser)
}

fn operator() -> Actor {
    actor("op-dev", Role::Operator)
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn opened() -> Dispute {
    let period = Period::new("disputedPeriod", t0(), t0() + Duration::days(7)).unwrap();
    let subject = DeliverySubject::new("camp-1", vec!["scr-1".into()], None, period).unwrap();
    let command = OpenDispute {
        tenant: TenantId::new("acme").unwrap(),
        subject: Subject::Delivery(subject),
        claim: Claim::new(Quantity::new(dec("1000.50"), Unit::new("EUR").unwrap()).unwrap()),
        opened_by: advertiser(),
        evidence: EvidenceBundle::new(vec![
            EvidenceItem::new(EvidenceKind::ProofPack, "pp-1").unwrap()
        ]),
    };
    Dispute::open(command, t0(), &DisputePolicy::default())
        .unwrap()
        .into_dispute(DisputeId::new(1).unwrap())
}

fn responded() -> Dispute {
    let mut d = opened();
    d.respond(
        operator(),
        None,
        "we checked",
        None,
        t0(),
        &DisputePolicy::default(),
    )
    .unwrap();
    d
}

/// A delivery dispute whose advertiser accepted the operator's response: one that may be
/// settled.
fn accepted() -> Dispute {
    let mut d = responded();
    d.reply(
        advertiser(),
        Decision::Accept,
        None,
        "fine",
        t0(),
        &DisputePolicy::default(),
    )
    .unwrap();
    d
}

fn settlement(outcome: Outcome, amount: Option<&str>) -> Settlement {
    Settlement {
        outcome: Some(outcome),
        settled_amount: amount.map(dec),
        ..Settlement::default()
    }
}

#[test]
fn opening_seals_evidence_and_starts_the_clock() {
    let d = opened();
    assert_eq!(d.status(), Status::Open);
    assert_eq!(d.version(), Version::FIRST);
    assert_eq!(d.respond_by(), Some(t0() + Duration::days(14)));
    assert_eq!(d.evidence_digest(), d.evidence().digest());
    assert_eq!(d.timeline().len(), 1);
    d.verify().unwrap();
}

#[test]
fn a_delivery_dispute_needs_a_proof() {
    let mut command = OpenDispute {
        tenant: opened().tenant().clone(),
        subject: opened().subject().clone(),
        claim: opened().claim().clone(),
        opened_by: advertiser(),
        evidence: EvidenceBundle::new(vec![
            EvidenceItem::new(EvidenceKind::AttachmentRef, "a").unwrap()
        ]),
    };
    assert_eq!(
        Dispute::open(command.clone(), t0(), &DisputePolicy::default()),
        Err(DomainError::EvidenceRequired)
    );
    command.opened_by = Actor::system();
    assert!(Dispute::open(command, t0(), &DisputePolicy::default()).is_err());
}

#[test]
fn respond_then_accept_then_settle_in_full() {
    let mut d = responded();
    assert_eq!(d.status(), Status::Responded);
    d.reply(
        advertiser(),
        Decision::Accept,
        None,
        "fine",
        t0(),
        &DisputePolicy::default(),
    )
    .unwrap();
    assert_eq!(d.status(), Status::Accepted);
    d.settle(operator(), settlement(Outcome::Granted, None), t0())
        .unwrap();
    assert_eq!(d.status(), Status::Resolved);
    assert_eq!(d.resolution().unwrap().settled_amount, dec("1000.50"));
    assert_eq!(d.version().get(), 4);
    assert_eq!(d.respond_by(), None);
    d.verify().unwrap();
}

#[test]
fn reject_goes_to_review_and_settles_in_part() {
    let mut d = responded();
    d.reply(
        advertiser(),
        Decision::Reject,
        None,
        "no",
        t0(),
        &DisputePolicy::default(),
    )
    .unwrap();
    assert_eq!(d.status(), Status::UnderReview);
    d.settle(
        operator(),
        settlement(Outcome::PartiallyGranted, Some("400.25")),
        t0(),
    )
    .unwrap();
    assert_eq!(d.resolution().unwrap().outcome, Outcome::PartiallyGranted);
    assert_eq!(d.resolution().unwrap().settled_amount, dec("400.25"));
}

#[test]
fn more_info_hands_the_dispute_back_to_the_provider() {
    let mut d = responded();
    d.reply(
        advertiser(),
        Decision::MoreInfo,
        None,
        "see log",
        t0(),
        &DisputePolicy::default(),
    )
    .unwrap();
    assert_eq!(d.status(), Status::Open);
    d.respond(
        operator(),
        None,
        "again",
        None,
        t0(),
        &DisputePolicy::default(),
    )
    .unwrap();
    assert_eq!(d.status(), Status::Responded);
}

#[test]
fn settlement_amounts_must_fit_the_outcome_and_the_claim() {
    for (outcome, amount) in [
        (Outcome::Granted, Some("1")),
        (Outcome::PartiallyGranted, None),
        (Outcome::PartiallyGranted, Some("0")),
        (Outcome::PartiallyGranted, Some("1000.50")),
        (Outcome::PartiallyGranted, Some("2000")),
        (Outcome::Denied, Some("1")),
    ] {
        let mut d = accepted();
        let err = d
            .settle(operator(), settlement(outcome, amount), t0())
            .unwrap_err();
        assert_eq!(err.code(), "invalid_settlement", "{outcome} {amount:?}");
        assert_eq!(d, accepted(), "a refused settlement changed the dispute");
    }
    let mut d = accepted();
    assert!(d
        .settle(operator(), settlement(Outcome::Withdrawn, None), t0())
        .is_err());
    assert!(d.settle(operator(), Settlement::default(), t0()).is_err());
    d.settle(operator(), settlement(Outcome::Denied, Some("0")), t0())
        .unwrap();
    assert_eq!(d.resolution().unwrap().settled_amount, Decimal::ZERO);
}

/// An invoice dispute about the whole invoice, opened by a merchant's client login without the
/// invoice's amount (as a client written to seed 003 does).
fn whole_invoice() -> Dispute {
    let subject =
        crate::InvoiceSubject::new("INV-1", "Jan", "jan@example.nl", "damaged", "nl").unwrap();
    let command = OpenDispute {
        tenant: TenantId::new("acme").unwrap(),
        subject: Subject::Invoice(subject),
        claim: Claim::new(Quantity::whole_invoice()),
        opened_by: client(),
        evidence: EvidenceBundle::default(),
    };
    Dispute::open(command, t0(), &DisputePolicy::default())
        .unwrap()
        .into_dispute(DisputeId::new(2).unwrap())
}

fn client() -> Actor {
    actor("shop", Role::Client)
}

fn euros(amount: &str) -> Option<Credit> {
    Some(Credit::Amount {
        amount: dec(amount),
        unit: Unit::new("EUR").unwrap(),
    })
}

#[test]
fn a_credit_on_a_whole_invoice_is_recorded_in_the_invoices_currency() {
    for (outcome, credit) in [
        (Outcome::Granted, "149.95"),
        (Outcome::PartiallyGranted, "10"),
        (Outcome::PartiallyGranted, "0.01"),
    ] {
        let mut d = whole_invoice();
        d.settle(client(), settlement(outcome, Some(credit)), t0())
            .unwrap();
        let resolution = d.resolution().unwrap();
        assert_eq!(resolution.outcome, outcome);
        assert_eq!(resolution.settled_amount, dec(credit));
        assert_eq!(d.credit(), euros(credit), "{outcome} {credit}");
        assert_eq!(
            d.claim().quantity,
            Quantity::whole_invoice(),
            "the claim stays"
        );
        d.verify().unwrap();
    }
}

#[test]
fn a_whole_invoice_granted_without_a_credit_settles_the_whole_invoice() {
    let mut d = whole_invoice();
    d.settle(client(), settlement(Outcome::Granted, None), t0())
        .unwrap();
    assert_eq!(d.resolution().unwrap().settled_amount, Decimal::ONE);
    assert_eq!(d.credit(), Some(Credit::WholeInvoice));
    let mut denied = whole_invoice();
    denied
        .settle(client(), settlement(Outcome::Denied, None), t0())
        .unwrap();
    assert_eq!(denied.resolution().unwrap().settled_amount, Decimal::ZERO);
    assert_eq!(denied.credit(), euros("0"));
    // An expiry the policy grants gives the whole invoice too.
    let mut expired = whole_invoice();
    let generous = DisputePolicy {
        grant_on_expiry: true,
        ..DisputePolicy::default()
    };
    expired
        .expire(t0() + Duration::days(30), &generous)
        .unwrap();
    assert_eq!(expired.credit(), Some(Credit::WholeInvoice));
    assert_eq!(whole_invoice().credit(), None, "nothing before the end");
}

#[test]
fn a_credit_on_a_whole_invoice_must_fit_the_outcome() {
    for (outcome, credit, code) in [
        (Outcome::Granted, Some("0"), "invalid_settlement"),
        (Outcome::Granted, Some("-5"), "invalid_settlement"),
        (Outcome::PartiallyGranted, Some("0"), "invalid_settlement"),
        (Outcome::PartiallyGranted, None, "invalid_settlement"),
        (Outcome::Denied, Some("10"), "invalid_settlement"),
        (Outcome::Withdrawn, Some("10"), "validation_failed"),
        (Outcome::Expired, None, "validation_failed"),
    ] {
        let mut d = whole_invoice();
        let err = d
            .settle(client(), settlement(outcome, credit), t0())
            .unwrap_err();
        assert_eq!(err.code(), code, "{outcome} {credit:?}");
        assert_eq!(
            d,
            whole_invoice(),
            "a refused settlement changed the dispute"
        );
    }
    let mut d = whole_invoice();
    let err = d
        .settle(client(), settlement(Outcome::PartiallyGranted, None), t0())
        .unwrap_err();
    assert!(
        matches!(err, DomainError::PartialAmountMissing(_)),
        "{err:?}"
    );
    // A credit alone does not say whether the whole invoice was granted.
    let by_amount = Settlement {
        settled_amount: Some(dec("10")),
        ..Settlement::default()
    };
    assert_eq!(
        d.settle(client(), by_amount, t0()).unwrap_err().field(),
        Some("outcome")
    );
    // A denial may say it credits nothing.
    d.settle(client(), settlement(Outcome::Denied, Some("0.00")), t0())
        .unwrap();
}

#[test]
fn a_claim_of_an_amount_reads_its_credit_in_its_own_unit() {
    let mut d = accepted();
    d.settle(
        operator(),
        settlement(Outcome::PartiallyGranted, Some("400.25")),
        t0(),
    )
    .unwrap();
    assert_eq!(d.credit(), euros("400.25"));
}

#[test]
fn a_partial_grant_without_an_amount_is_refused_as_such() {
    let mut d = accepted();
    let err = d
        .settle(
            operator(),
            settlement(Outcome::PartiallyGranted, None),
            t0(),
        )
        .unwrap_err();
    assert!(
        matches!(err, DomainError::PartialAmountMissing(_)),
        "{err:?}"
    );
    assert_eq!(d, accepted());
}

#[test]
fn a_party_chooses_granted_partially_granted_or_denied() {
    assert_eq!(
        Outcome::CHOSEN_BY_A_PARTY,
        &[Outcome::Granted, Outcome::PartiallyGranted, Outcome::Denied]
    );
    for &outcome in Outcome::CHOSEN_BY_A_PARTY {
        assert_eq!(Outcome::parse_resolution(outcome.as_str()), Ok(outcome));
    }
    for name in ["withdrawn", "expired", "maybe", "Granted", ""] {
        let err = Outcome::parse_resolution(name).unwrap_err();
        assert_eq!(err.field(), Some("outcome"), "{name}");
        assert_eq!(
            err.to_string(),
            "outcome: must be granted, partially_granted or denied"
        );
    }
    // What the parser refuses, settling refuses too.
    for outcome in [Outcome::Withdrawn, Outcome::Expired] {
        let mut d = accepted();
        let err = d
            .settle(operator(), settlement(outcome, None), t0())
            .unwrap_err();
        assert_eq!(Err(err), Outcome::parse_resolution(outcome.as_str()));
    }
}

#[test]
fn roles_are_enforced() {
    let policy = DisputePolicy::default();
    let mut d = opened();
    assert_eq!(
        d.respond(advertiser(), None, "", None, t0(), &policy)
            .unwrap_err()
            .code(),
        "forbidden_role"
    );
    assert_eq!(
        d.settle(advertiser(), settlement(Outcome::Granted, None), t0())
            .unwrap_err()
            .code(),
        "forbidden_role"
    );
    assert_eq!(
        d.withdraw(operator(), "", t0()).unwrap_err().code(),
        "forbidden_role"
    );
    let mut d = responded();
    assert_eq!(
        d.reply(operator(), Decision::Accept, None, "", t0(), &policy)
            .unwrap_err()
            .code(),
        "forbidden_role"
    );
}

#[test]
fn an_opener_cannot_respond_to_itself() {
    let mut d = opened();
    d.parts.opened_by = operator();
    assert_eq!(
        d.respond(operator(), None, "", None, t0(), &DisputePolicy::default()),
        Err(DomainError::OpenerCannotRespond)
    );
}

#[test]
fn illegal_transitions_are_errors_not_no_ops() {
    let policy = DisputePolicy::default();
    let mut d = opened();
    assert_eq!(
        d.reply(advertiser(), Decision::Accept, None, "", t0(), &policy),
        Err(DomainError::IllegalTransition {
            from: Status::Open,
            action: "reply to"
        })
    );
    let mut d = responded();
    assert_eq!(
        d.respond(operator(), None, "", None, t0(), &policy)
            .unwrap_err()
            .code(),
        "illegal_transition"
    );
    assert_eq!(
        d.settle(operator(), settlement(Outcome::Granted, None), t0())
            .unwrap_err()
            .code(),
        "illegal_transition"
    );
}

#[test]
fn final_disputes_never_change() {
    let policy = DisputePolicy::default();
    let mut d = opened();
    d.withdraw(advertiser(), "never mind", t0()).unwrap();
    assert_eq!(d.status(), Status::Withdrawn);
    let before = d.clone();
    assert_eq!(
        d.withdraw(advertiser(), "", t0()),
        Err(DomainError::Final(Status::Withdrawn))
    );
    assert!(d.add_note(advertiser(), "late", t0()).is_err());
    assert!(d
        .respond(operator(), None, "", None, t0(), &policy)
        .is_err());
    assert!(d
        .settle(operator(), settlement(Outcome::Granted, None), t0())
        .is_err());
    assert!(d.expire(t0() + Duration::days(30), &policy).is_err());
    assert_eq!(d, before);
}

#[test]
fn notes_move_the_version_but_not_the_status() {
    let mut d = opened();
    d.add_note(operator(), "looking into it", t0()).unwrap();
    assert_eq!(d.status(), Status::Open);
    assert_eq!(d.version().get(), 2);
    assert!(d.add_note(operator(), "  ", t0()).is_err());
}

#[test]
fn expiry_waits_for_the_deadline_and_applies_the_policy() {
    let mut d = opened();
    let mut policy = DisputePolicy::default();
    assert_eq!(
        d.expire(t0() + Duration::days(13), &policy),
        Err(DomainError::NotOverdue)
    );
    policy.grant_on_expiry = true;
    d.expire(t0() + Duration::days(14), &policy).unwrap();
    assert_eq!(d.status(), Status::Expired);
    assert_eq!(d.resolution().unwrap().outcome, Outcome::Expired);
    assert_eq!(d.resolution().unwrap().settled_amount, dec("1000.50"));
}

#[test]
fn a_reminder_comes_once_within_the_window_before_the_deadline() {
    let policy = DisputePolicy::default();
    let mut d = opened();
    let deadline = d.respond_by().unwrap();
    let window = deadline - policy.remind_before;
    let before = d.clone();
    for too_early in [t0(), window - Duration::microseconds(1)] {
        assert_eq!(
            d.remind(too_early, &policy),
            Err(DomainError::ReminderNotDue)
        );
    }
    assert_eq!(
        d.remind(deadline, &policy),
        Err(DomainError::ReminderNotDue)
    );
    assert_eq!(d, before, "a refused reminder changed the dispute");

    d.remind(window, &policy).unwrap();
    let entry = d.timeline().last().unwrap();
    assert_eq!(entry.kind(), EntryKind::Reminder);
    assert_eq!(entry.kind().as_str(), "reminder");
    assert_eq!(entry.actor(), &Actor::system());
    assert_eq!(
        entry.notes(),
        "a response is due by 2026-11-15T09:00:00.000000Z"
    );
    assert_eq!((d.version().get(), d.status()), (2, Status::Open));
    assert_eq!(
        d.respond_by(),
        Some(deadline),
        "a reminder moves no deadline"
    );
    assert!(d.reminded());
    d.verify().unwrap();

    let reminded = d.clone();
    let err = d
        .remind(deadline - Duration::hours(1), &policy)
        .unwrap_err();
    assert_eq!(
        (err.clone(), err.code()),
        (DomainError::AlreadyReminded, "already_reminded")
    );
    assert_eq!(d, reminded);
}

#[test]
fn a_new_deadline_gets_a_reminder_of_its_own() {
    let policy = DisputePolicy::default();
    let mut d = opened();
    let first = d.respond_by().unwrap();
    d.remind(first - Duration::hours(1), &policy).unwrap();
    d.respond(
        operator(),
        None,
        "checked",
        None,
        first - Duration::minutes(30),
        &policy,
    )
    .unwrap();
    let second = d.respond_by().unwrap();
    assert!(second > first);
    assert!(!d.reminded(), "the reminder was for the old deadline");
    d.remind(second - Duration::hours(2), &policy).unwrap();
    assert_eq!(
        d.timeline()
            .iter()
            .filter(|e| e.kind() == EntryKind::Reminder)
            .count(),
        2
    );
    d.verify().unwrap();
}

#[test]
fn a_policy_without_a_reminder_window_sends_none_and_finals_get_none() {
    let quiet = DisputePolicy::new(Duration::days(3), false, Duration::zero()).unwrap();
    let mut d = opened();
    let deadline = d.respond_by().unwrap();
    assert_eq!(
        d.remind(deadline - Duration::seconds(1), &quiet),
        Err(DomainError::ReminderNotDue)
    );
    d.expire(deadline, &quiet).unwrap();
    assert_eq!(
        d.remind(deadline, &DisputePolicy::default()),
        Err(DomainError::Final(Status::Expired))
    );
}

#[test]
fn a_policy_is_checked_for_sense() {
    let days = Duration::days;
    assert!(DisputePolicy::new(days(7), true, Duration::hours(12)).is_ok());
    assert!(DisputePolicy::new(Duration::seconds(2), false, Duration::seconds(1)).is_ok());
    for (within, before) in [
        (Duration::zero(), Duration::zero()),
        (days(366), Duration::zero()),
        (days(2), days(2)),
        (days(2), Duration::seconds(-1)),
    ] {
        let err = DisputePolicy::new(within, false, before).unwrap_err();
        assert_eq!(err.code(), "validation_failed", "{within} {before}");
    }
    assert_eq!(
        DisputePolicy::default().outcome_on_expiry(),
        Outcome::Denied
    );
    assert_eq!(
        DisputePolicy::new(days(1), true, Duration::zero())
            .unwrap()
            .outcome_on_expiry(),
        Outcome::Granted
    );
}

#[test]
fn expiry_on_a_denying_policy_settles_nothing() {
    let mut d = opened();
    let deadline = d.respond_by().unwrap();
    d.expire(deadline, &DisputePolicy::default()).unwrap();
    let resolution = d.resolution().unwrap();
    assert_eq!(
        (resolution.outcome, resolution.settled_amount),
        (Outcome::Expired, Decimal::ZERO)
    );
    assert_eq!(resolution.by, Actor::system());
    assert_eq!(d.respond_by(), None);
}

#[test]
fn a_proposal_cannot_exceed_the_claim() {
    let mut d = opened();
    let remedy = Remedy {
        amount: Some(dec("1000.51")),
        makegood_window: None,
    };
    assert!(d
        .respond(
            operator(),
            None,
            "",
            Some(remedy),
            t0(),
            &DisputePolicy::default()
        )
        .is_err());
}

#[test]
fn verify_detects_edits_removals_and_swapped_evidence() {
    let mut d = responded();
    d.add_note(operator(), "n", t0()).unwrap();
    d.verify().unwrap();

    let mut edited = d.clone();
    let e = &edited.parts.timeline[1];
    edited.parts.timeline[1] = TimelineEntry::restore(
        e.seq(),
        e.at(),
        e.actor().clone(),
        e.kind(),
        "we never checked".into(),
        e.prev_hash(),
        e.state(),
        e.hash(),
    );
    assert_eq!(edited.verify(), Err(TimelineError::Altered { seq: 2 }));

    let mut removed = d.clone();
    removed.parts.timeline.remove(1);
    assert_eq!(removed.verify(), Err(TimelineError::Broken { seq: 3 }));

    let mut truncated = d.clone();
    truncated.parts.timeline.pop();
    assert_eq!(truncated.verify(), Err(TimelineError::Truncated));

    let mut swapped = d.clone();
    swapped.parts.evidence =
        EvidenceBundle::new(vec![
            EvidenceItem::new(EvidenceKind::ProofPack, "pp-2").unwrap()
        ]);
    assert_eq!(swapped.verify(), Err(TimelineError::EvidenceAltered));
}

#[test]
fn verify_detects_any_fact_edited_after_the_entry_that_sealed_it() {
    let mut d = responded();
    d.add_note(operator(), "n", t0()).unwrap();
    d.verify().unwrap();
    type Edit = fn(&mut DisputeParts);
    let edits: [(&str, Edit); 8] = [
        ("claimed amount", |p| {
            p.claim.quantity =
                Quantity::new(999_999.into(), p.claim.quantity.unit().clone()).unwrap()
        }),
        ("remedy amount", |p| {
            let response = p.response.as_mut().unwrap();
            response.remedy = Some(Remedy {
                amount: Some(Decimal::new(999_999, 0)),
                makegood_window: None,
            });
        }),
        ("response notes", |p| {
            p.response.as_mut().unwrap().notes = "forged".into()
        }),
        ("status", |p| p.status = Status::Resolved),
        ("respond-by", |p| p.respond_by = None),
        ("version", |p| p.version = p.version.next()),
        ("tenant", |p| p.tenant = TenantId::new("other").unwrap()),
        ("an amount's scale", |p| {
            let amount = p.claim.quantity.amount();
            let mut rescaled = amount;
            rescaled.rescale(amount.scale() + 2);
            p.claim.quantity = Quantity::new(rescaled, p.claim.quantity.unit().clone()).unwrap()
        }),
    ];
    for (what, edit) in edits {
        let mut edited = d.clone();
        edit(&mut edited.parts);
        assert_eq!(
            edited.verify(),
            Err(TimelineError::StateAltered),
            "editing the {what} went unnoticed"
        );
    }
}

#[test]
fn settled_amounts_are_sealed_by_the_entry_that_settled() {
    let mut d = responded();
    let policy = DisputePolicy::default();
    d.reply(advertiser(), Decision::Accept, None, "fine", t0(), &policy)
        .unwrap();
    d.settle(operator(), settlement(Outcome::Granted, None), t0())
        .unwrap();
    let resolution = d.parts.resolution.clone().expect("settled");
    d.verify().unwrap();
    let mut edited = d.clone();
    edited.parts.resolution = Some(Resolution {
        settled_amount: resolution.settled_amount + Decimal::ONE,
        ..resolution
    });
    assert_eq!(edited.verify(), Err(TimelineError::StateAltered));
}

#[test]
fn entries_of_format_v1_still_verify_and_a_downgrade_after_them_does_not() {
    // Entries written before states were sealed: the same fields, no state, hashed as v1.
    let d = responded();
    let mut legacy = d.clone();
    let mut prev = legacy.parts.evidence_digest;
    let mut rewritten = Vec::new();
    for e in &legacy.parts.timeline {
        let entry = as_v1(e, prev);
        prev = entry.hash();
        rewritten.push(entry);
    }
    legacy.parts.timeline = rewritten;
    legacy.parts.timeline_head = prev;
    legacy.verify().expect("v1 chains stay valid");

    // A sealed entry on top of them: fine. An unsealed one after a sealed one: a downgrade.
    let mut upgraded = legacy.clone();
    upgraded.add_note(operator(), "n", t0()).unwrap();
    upgraded.verify().unwrap();
    assert!(upgraded.parts.timeline.last().unwrap().state().is_some());
    let mut downgraded = d.clone();
    let last = downgraded.parts.timeline.pop().unwrap();
    let stripped = as_v1(&last, last.prev_hash());
    downgraded.parts.timeline_head = stripped.hash();
    downgraded.parts.timeline.push(stripped);
    assert_eq!(
        downgraded.verify(),
        Err(TimelineError::Broken { seq: last.seq() })
    );
}

/// `e` as an entry of format v1 after `prev`: no state, hashed as v1.
fn as_v1(e: &TimelineEntry, prev: Digest) -> TimelineEntry {
    let restore = |hash| {
        TimelineEntry::restore(
            e.seq(),
            e.at(),
            e.actor().clone(),
            e.kind(),
            e.notes().to_owned(),
            prev,
            None,
            hash,
        )
    };
    restore(v1_hash(&restore(prev)))
}

/// The format v1 hash, written out as `docs/integrity.md` gives it.
fn v1_hash(e: &TimelineEntry) -> Digest {
    let actor = e.actor().id.as_str();
    let text = format!(
        "disputes-timeline/v1\n{}\n{}\n{}\n{}:{actor}\n{}\n{}:{}\n{}\n",
        e.seq(),
        e.at().format("%Y-%m-%dT%H:%M:%S%.6fZ"),
        e.actor().role,
        actor.len(),
        e.kind(),
        e.notes().len(),
        e.notes(),
        e.prev_hash(),
    );
    Digest::of(text.as_bytes())
}

/// Any command a party could send, from any role.
#[derive(Debug, Clone)]
enum Command {
    Respond(Role, Option<i64>),
    Reply(Role, Decision),
    Settle(Role, Outcome, Option<i64>),
    Withdraw(Role),
    Note(Role),
    Expire(i64),
    /// A reminder, this many hours after the command's time.
    Remind(i64),
}

fn role() -> impl Strategy<Value = Role> {
    proptest::sample::select(Role::ALL)
}

fn command() -> impl Strategy<Value = Command> {
    let amount = proptest::option::of(-10i64..2000);
    prop_oneof![
        (role(), amount.clone()).prop_map(|(r, a)| Command::Respond(r, a)),
        (
            role(),
            proptest::sample::select(vec![Decision::Accept, Decision::Reject, Decision::MoreInfo])
        )
            .prop_map(|(r, d)| Command::Reply(r, d)),
        (
            role(),
            proptest::sample::select(vec![
                Outcome::Granted,
                Outcome::PartiallyGranted,
                Outcome::Denied,
                Outcome::Withdrawn,
                Outcome::Expired
            ]),
            amount
        )
            .prop_map(|(r, o, a)| Command::Settle(r, o, a)),
        role().prop_map(Command::Withdraw),
        role().prop_map(Command::Note),
        (0i64..40).prop_map(Command::Expire),
        (0i64..400).prop_map(Command::Remind),
    ]
}

fn apply(d: &mut Dispute, command: &Command, now: Timestamp) -> Result<(), DomainError> {
    let policy = DisputePolicy::default();
    let who = |r: Role| actor("someone", r);
    match command.clone() {
        Command::Respond(r, a) => d.respond(
            who(r),
            None,
            "n",
            Some(Remedy {
                amount: a.map(Decimal::from),
                makegood_window: None,
            }),
            now,
            &policy,
        ),
        Command::Reply(r, decision) => d.reply(who(r), decision, None, "n", now, &policy),
        Command::Settle(r, o, a) => d.settle(
            who(r),
            Settlement {
                outcome: Some(o),
                settled_amount: a.map(Decimal::from),
                ..Settlement::default()
            },
            now,
        ),
        Command::Withdraw(r) => d.withdraw(who(r), "n", now),
        Command::Note(r) => d.add_note(who(r), "n", now),
        Command::Expire(days) => d.expire(now + Duration::days(days), &policy),
        Command::Remind(hours) => d.remind(now + Duration::hours(hours), &policy),
    }
}

/// The invariants of SPEC §1 that must hold after every command, accepted or not.
fn assert_consistent(d: &Dispute) {
    let p = d.parts();
    assert_eq!(
        p.version.get(),
        p.timeline.len() as i64,
        "one entry per version"
    );
    assert_eq!(
        p.status.is_final(),
        p.resolution.is_some(),
        "resolution iff final"
    );
    assert_eq!(
        p.status.is_final(),
        p.respond_by.is_none(),
        "deadline iff open"
    );
    if matches!(
        p.status,
        Status::Responded | Status::Accepted | Status::UnderReview
    ) {
        assert!(p.response.is_some(), "{} without a response", p.status);
    }
    if let Some(r) = &p.resolution {
        assert!(r.settled_amount >= Decimal::ZERO && r.settled_amount <= p.claim.amount());
    }
    let reminders = p
        .timeline
        .iter()
        .filter(|e| e.kind() == EntryKind::Reminder)
        .map(TimelineEntry::notes)
        .collect::<Vec<_>>();
    let distinct = reminders.iter().collect::<std::collections::HashSet<_>>();
    assert_eq!(distinct.len(), reminders.len(), "one reminder per deadline");
    d.verify().expect("the chain stays whole");
}

proptest! {
    #[test]
    fn no_sequence_of_commands_reaches_an_illegal_state(commands in proptest::collection::vec(command(), 0..25)) {
        let mut d = opened();
        let mut now = t0();
        for command in &commands {
            now += Duration::hours(1);
            let before = d.clone();
            let result = apply(&mut d, command, now);
            if result.is_err() {
                prop_assert_eq!(&d, &before, "a refused command changed the dispute");
            }
            if before.status().is_final() {
                prop_assert!(result.is_err(), "a final dispute accepted {:?}", command);
            }
            assert_consistent(&d);
        }
    }
}

/// A bill item dispute as the billing desk opens it: 5 disputed, a credit, by a billing user.
fn billing_opened() -> Dispute {
    let billing = actor("csr-1", Role::Billing);
    let subject =
        crate::BillingSubject::item("item-1", Some("account-1".into()), None, None).unwrap();
    let terms = crate::BillingTerms {
        tax: crate::TaxTreatment::Excluded,
        credit: true,
        reason: Some(ReasonCode::new(34, 1).unwrap()),
        note_status: crate::NoteStatus::Resolved,
        note_amount: Some(dec("-5")),
        effective: None,
        percent: None,
    };
    let quantity = Quantity::new(dec("5"), Unit::new("XXX").unwrap()).unwrap();
    let command = OpenDispute {
        tenant: TenantId::new("acme").unwrap(),
        subject: Subject::Billing(subject),
        claim: Claim::billed(quantity, terms).unwrap(),
        opened_by: billing,
        evidence: EvidenceBundle::new(vec![EvidenceItem::new(
            EvidenceKind::Statement,
            "Customer disagrees with item charges.",
        )
        .unwrap()]),
    };
    Dispute::open(command, t0(), &DisputePolicy::default())
        .unwrap()
        .into_dispute(DisputeId::new(2).unwrap())
}

fn by_amount(amount: &str, reason: Option<ReasonCode>) -> Settlement {
    Settlement {
        settled_amount: Some(dec(amount)),
        reason,
        notes: "settled".into(),
        ..Settlement::default()
    }
}

#[test]
fn a_settlement_by_amount_alone_takes_its_outcome_from_the_amount() {
    assert_eq!(
        Outcome::for_settled_amount(dec("0"), dec("5")),
        Ok(Outcome::Denied)
    );
    assert_eq!(
        Outcome::for_settled_amount(dec("5.00"), dec("5")),
        Ok(Outcome::Granted)
    );
    assert_eq!(
        Outcome::for_settled_amount(dec("4.99"), dec("5")),
        Ok(Outcome::PartiallyGranted)
    );
    for bad in ["-0.01", "5.01"] {
        let err = Outcome::for_settled_amount(dec(bad), dec("5")).unwrap_err();
        assert_eq!(err.code(), "invalid_settlement", "{bad}");
    }

    let billing = actor("csr-1", Role::Billing);
    let reason = Some(ReasonCode::new(35, 2).unwrap());
    for (amount, outcome) in [
        ("0", Outcome::Denied),
        ("2.50", Outcome::PartiallyGranted),
        ("5", Outcome::Granted),
    ] {
        let mut d = billing_opened();
        d.settle(billing.clone(), by_amount(amount, reason), t0())
            .unwrap();
        let resolution = d.resolution().unwrap();
        assert_eq!(resolution.outcome, outcome, "{amount}");
        assert_eq!(resolution.settled_amount, dec(amount));
        assert_eq!(resolution.reason, reason);
        assert_eq!(d.status(), Status::Resolved);
        d.verify().unwrap();
    }

    let mut d = billing_opened();
    let err = d
        .settle(billing.clone(), by_amount("5.01", None), t0())
        .unwrap_err();
    assert_eq!(err.code(), "invalid_settlement");
    assert_eq!(
        d,
        billing_opened(),
        "a refused settlement changed the dispute"
    );
}

#[test]
fn a_settled_billing_dispute_cannot_be_settled_again() {
    let billing = actor("csr-1", Role::Billing);
    let mut d = billing_opened();
    d.settle(billing.clone(), by_amount("1", None), t0())
        .unwrap();
    let settled = d.clone();
    // Finality is checked before the amount: settling again is a conflict, whatever the amount.
    for amount in ["1", "99"] {
        let err = d
            .settle(billing.clone(), by_amount(amount, None), t0())
            .unwrap_err();
        assert_eq!(err, DomainError::Final(Status::Resolved), "{amount}");
    }
    assert_eq!(d, settled);
}

#[test]
fn the_provider_investigates_gathers_evidence_then_responds_under_one_deadline() {
    let policy = DisputePolicy::default();
    let mut d = opened();
    let deadline = d.respond_by();
    d.investigate(operator(), "looking", t0() + Duration::hours(1))
        .unwrap();
    assert_eq!(d.status(), Status::Investigating);
    d.gather_evidence(operator(), "logs pulled", t0() + Duration::hours(2))
        .unwrap();
    assert_eq!(d.status(), Status::EvidenceGathered);
    assert_eq!(d.respond_by(), deadline, "acknowledging buys no time");
    d.respond(
        operator(),
        Some(Stance::Partial),
        "half of it",
        None,
        t0() + Duration::hours(3),
        &policy,
    )
    .unwrap();
    assert_eq!(d.status(), Status::Responded);
    assert_eq!(d.response().unwrap().stance, Some(Stance::Partial));
    d.reply(
        advertiser(),
        Decision::Reject,
        Some(Stance::Partial),
        "not enough",
        t0() + Duration::hours(4),
        &policy,
    )
    .unwrap();
    assert_eq!(d.status(), Status::UnderReview);
    assert_eq!(d.opener_reply().unwrap().stance, Some(Stance::Partial));
    let kinds = d.timeline().iter().map(|e| e.kind()).collect::<Vec<_>>();
    assert_eq!(
        kinds,
        [
            EntryKind::Opened,
            EntryKind::Investigating,
            EntryKind::EvidenceGathered,
            EntryKind::Responded,
            EntryKind::Rejected
        ]
    );
    d.verify().unwrap();
}

#[test]
fn only_the_provider_investigates_and_only_from_the_steps_before_a_response() {
    let mut d = opened();
    assert_eq!(
        d.investigate(advertiser(), "", t0()).unwrap_err().code(),
        "forbidden_role"
    );
    let mut answered = responded();
    assert_eq!(
        answered.investigate(operator(), "", t0()).unwrap_err(),
        DomainError::IllegalTransition {
            from: Status::Responded,
            action: "investigate"
        }
    );
    assert_eq!(
        answered
            .gather_evidence(operator(), "", t0())
            .unwrap_err()
            .code(),
        "illegal_transition"
    );
    d.gather_evidence(operator(), "", t0()).unwrap();
    assert_eq!(
        d.investigate(operator(), "", t0()).unwrap_err().code(),
        "illegal_transition"
    );
}

#[test]
fn a_stance_must_agree_with_the_decision() {
    let mut d = responded();
    let refused = d.reply(
        advertiser(),
        Decision::Accept,
        Some(Stance::Reject),
        "",
        t0(),
        &DisputePolicy::default(),
    );
    assert_eq!(refused.unwrap_err().field(), Some("stance"));
    assert_eq!(d, responded());
}

#[test]
fn either_party_escalates_once_and_mediation_can_return_to_a_response_or_settle() {
    let policy = DisputePolicy::default();
    let later = t0() + Duration::days(3);
    let mut d = opened();
    d.escalate(advertiser(), "no answer", later, &policy)
        .unwrap();
    assert_eq!(d.status(), Status::Escalated);
    assert_eq!(d.respond_by(), Some(later + policy.respond_within));
    assert_eq!(
        d.escalate(operator(), "", later, &policy).unwrap_err(),
        DomainError::IllegalTransition {
            from: Status::Escalated,
            action: "escalate"
        }
    );
    assert_eq!(
        d.escalate(Actor::system(), "", later, &policy)
            .unwrap_err()
            .code(),
        "forbidden_role"
    );
    let mut settled = d.clone();
    settled
        .settle(operator(), settlement(Outcome::Denied, None), later)
        .unwrap();
    assert_eq!(settled.status(), Status::Resolved);
    d.respond(operator(), Some(Stance::Accept), "ok", None, later, &policy)
        .unwrap();
    assert_eq!(d.status(), Status::Responded);
    let mut again = responded();
    again.escalate(operator(), "", later, &policy).unwrap();
    d.verify().unwrap();
}

#[test]
fn a_delivery_dispute_settles_only_after_the_advertiser_answered_or_in_mediation() {
    for mut d in [opened(), responded()] {
        let from = d.status();
        assert_eq!(
            d.settle(operator(), settlement(Outcome::Denied, None), t0()),
            Err(DomainError::IllegalTransition {
                from,
                action: "settle"
            })
        );
    }
    let mut d = accepted();
    d.settle(operator(), settlement(Outcome::Denied, None), t0())
        .unwrap();
    // An invoice desk settles at once.
    let mut invoice = whole_invoice();
    invoice
        .settle(client(), settlement(Outcome::Denied, None), t0())
        .unwrap();
}

#[test]
fn only_the_very_opener_withdraws() {
    let mut d = opened();
    let colleague = actor("adv-other", Role::Advertiser);
    assert_eq!(d.withdraw(colleague, "", t0()), Err(DomainError::NotOpener));
    assert_eq!(d, opened());
    d.withdraw(advertiser(), "", t0()).unwrap();
    assert_eq!(d.status(), Status::Withdrawn);
}

#[test]
fn a_resolution_kind_needs_its_reference_and_decides_the_outcome_when_none_is_given() {
    let kinded = |kind, f: fn(&mut Settlement)| {
        let mut s = Settlement {
            kind: Some(kind),
            ..Settlement::default()
        };
        f(&mut s);
        let mut d = accepted();
        d.settle(operator(), s, t0()).map(|()| d)
    };
    let refused = kinded(ResolutionKind::CreditIssued, |_| {}).unwrap_err();
    assert_eq!(refused.field(), Some("creditNoteId"));
    let refused = kinded(ResolutionKind::MakegoodDelivered, |_| {}).unwrap_err();
    assert_eq!(refused.field(), Some("makegoodCampaignId"));
    let refused = kinded(ResolutionKind::SettlementAdjustment, |_| {}).unwrap_err();
    assert_eq!(refused.field(), Some("adjustments"));
    let refused = kinded(ResolutionKind::Other, |_| {}).unwrap_err();
    assert_eq!(refused.field(), Some("outcome"));
    let refused = kinded(ResolutionKind::NoCredit, |s| {
        s.outcome = Some(Outcome::Granted)
    })
    .unwrap_err();
    assert_eq!(refused.field(), Some("outcome"));

    let credited = kinded(ResolutionKind::CreditIssued, |s| {
        s.credit_note_id = Some("cn_1".into())
    })
    .unwrap();
    assert_eq!(credited.resolution().unwrap().outcome, Outcome::Granted);
    let denied = kinded(ResolutionKind::NoCredit, |_| {}).unwrap();
    assert_eq!(denied.resolution().unwrap().outcome, Outcome::Denied);
    let partial = kinded(ResolutionKind::CreditIssued, |s| {
        s.credit_note_id = Some("cn_1".into());
        s.settled_amount = Some(dec("100"));
    })
    .unwrap();
    assert_eq!(
        partial.resolution().unwrap().outcome,
        Outcome::PartiallyGranted
    );
}

#[test]
fn adjustments_belong_to_a_settlement_adjustment_one_per_party() {
    let adjust = |kind, adjustments: Vec<Adjustment>| {
        let mut d = accepted();
        let s = Settlement {
            kind: Some(kind),
            adjustments,
            credit_note_id: Some("cn".into()),
            ..Settlement::default()
        };
        d.settle(operator(), s, t0()).map(|()| d)
    };
    let venue = Adjustment {
        party: PartyRole::Venue,
        cents: -1250,
    };
    let tenant = Adjustment {
        party: PartyRole::Tenant,
        cents: 1250,
    };
    assert_eq!(
        adjust(ResolutionKind::CreditIssued, vec![venue])
            .unwrap_err()
            .field(),
        Some("adjustments")
    );
    assert_eq!(
        adjust(ResolutionKind::SettlementAdjustment, vec![venue, venue])
            .unwrap_err()
            .field(),
        Some("adjustments")
    );
    let d = adjust(ResolutionKind::SettlementAdjustment, vec![venue, tenant]).unwrap();
    let resolution = d.resolution().unwrap();
    assert_eq!(resolution.adjustments, [venue, tenant]);
    assert_eq!(resolution.kind, Some(ResolutionKind::SettlementAdjustment));
}

#[test]
fn the_original_application_is_the_one_named_or_the_only_one_linked() {
    let d = opened();
    assert_eq!(d.original_application(None), Err(NO_ORIGINAL_APPLICATION));
    assert_eq!(d.original_application(Some("sa_9")), Ok("sa_9".to_owned()));
    let period = Period::new("disputedPeriod", t0(), t0() + Duration::days(7)).unwrap();
    let subject = DeliverySubject::new("camp-2", vec!["scr-1".into()], None, period).unwrap();
    let linked = |ids: &[&str]| {
        let items = ids
            .iter()
            .map(|id| EvidenceItem::new(EvidenceKind::SettlementApplication, *id).unwrap())
            .collect();
        let command = OpenDispute {
            tenant: TenantId::new("acme").unwrap(),
            subject: Subject::Delivery(subject.clone()),
            claim: Claim::new(Quantity::new(dec("10"), Unit::new("EUR").unwrap()).unwrap()),
            opened_by: advertiser(),
            evidence: EvidenceBundle::new(items),
        };
        Dispute::open(command, t0(), &DisputePolicy::default())
            .unwrap()
            .into_dispute(DisputeId::new(2).unwrap())
    };
    assert_eq!(
        linked(&["sa_1"]).original_application(None),
        Ok("sa_1".to_owned())
    );
    assert_eq!(
        linked(&["sa_1", "sa_2"]).original_application(None),
        Err(AMBIGUOUS_ORIGINAL_APPLICATION)
    );
}

/// A stand-in signer: the "signature" is the statement's digest under the key's name.
fn toy_seal(key: &str, statement: &str) -> Seal {
    Seal {
        key_id: key.to_owned(),
        signature: Digest::of(format!("{key}|{statement}").as_bytes())
            .as_bytes()
            .to_vec(),
    }
}

fn toy_check(seal: &Seal, statement: &str, _at: Timestamp) -> Result<(), String> {
    if seal.key_id == "k1" && *seal == toy_seal("k1", statement) {
        Ok(())
    } else {
        Err("not k1's signature".to_owned())
    }
}

#[test]
fn the_head_must_be_sealed_and_every_seal_must_hold() {
    let mut d = responded();
    assert_eq!(
        d.verify_seals(toy_check),
        Err(TimelineError::Unsealed { seq: 2 })
    );
    d.seal_after(0, |statement| toy_seal("k1", statement));
    d.verify_seals(toy_check).unwrap();
    assert!(d.timeline()[0]
        .seal_statement(d.tenant())
        .starts_with("disputes-seal/v1\nacme\n1\n"));

    // A change seals only what it appended; an unsealed head is caught whatever came before.
    d.add_note(operator(), "n", t0()).unwrap();
    assert_eq!(
        d.verify_seals(toy_check),
        Err(TimelineError::Unsealed { seq: 3 })
    );
    let before: Vec<_> = d.timeline()[..2]
        .iter()
        .map(|e| e.seal().cloned())
        .collect();
    d.seal_after(2, |statement| toy_seal("k2", statement));
    let after: Vec<_> = d.timeline()[..2]
        .iter()
        .map(|e| e.seal().cloned())
        .collect();
    assert_eq!(before, after);
    assert_eq!(
        d.verify_seals(toy_check),
        Err(TimelineError::SealRefused {
            seq: 3,
            why: "not k1's signature".to_owned()
        })
    );

    // A seal moved to another entry signs the wrong statement.
    let mut moved = responded();
    moved.seal_after(0, |statement| toy_seal("k1", statement));
    let first = moved.timeline()[0].seal().cloned();
    let head = moved.parts.timeline.pop().unwrap().with_seal(first);
    moved.parts.timeline.push(head);
    assert!(matches!(
        moved.verify_seals(toy_check),
        Err(TimelineError::SealRefused { seq: 2, .. })
    ));
}

/// The fenced block of `docs/integrity.md` that follows the line `<!-- example: {name} -->`.
fn documented(name: &str) -> String {
    let doc = include_str!("../../../../docs/integrity.md");
    let marker = format!("<!-- example: {name} -->\n```text\n");
    let start = doc.find(&marker).map(|i| i + marker.len());
    let block = start.and_then(|start| {
        doc[start..]
            .find("```")
            .map(|end| doc[start..start + end].to_owned())
    });
    block.unwrap_or_else(|| panic!("docs/integrity.md has no example {name}"))
}

#[test]
fn the_worked_example_of_docs_integrity_md_is_what_the_code_computes() {
    let d = opened();
    let entry = &d.timeline()[0];
    let hashes = format!(
        "evidence digest  {}\nstate digest     {}\nentry 1 hash     {}\n",
        d.evidence_digest(),
        d.parts.state_digest(),
        entry.hash()
    );
    let entry_text = format!(
        "disputes-timeline/v2\n1\n{}\nadvertiser\n7:adv-dev\nopened\n0:\n{}\n{}\n",
        entry.at().format("%Y-%m-%dT%H:%M:%S%.6fZ"),
        entry.prev_hash(),
        entry.state().unwrap()
    );
    assert_eq!(documented("evidence"), d.evidence().canonical());
    assert_eq!(documented("state"), d.parts.state_text());
    assert_eq!(documented("entry"), entry_text);
    assert_eq!(documented("digests"), hashes);
    assert_eq!(Digest::of(entry_text.as_bytes()), entry.hash());
}
