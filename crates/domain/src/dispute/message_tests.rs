//! The message thread and the collection hold of invoice disputes.

use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;

use super::*;
use crate::{ActorId, Attachment, InvoiceSubject, MessageText, Quantity, Unit};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
const PDF: &[u8] = b"%PDF-1.7\n";

fn t0() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 15, 0).unwrap()
}

fn shop() -> Actor {
    Actor::new(ActorId::new("webshop-1").unwrap(), Role::Client)
}

fn customer() -> Actor {
    Actor::new(ActorId::new("webshop-1").unwrap(), Role::Customer)
}

fn command() -> OpenDispute {
    OpenDispute {
        tenant: TenantId::new("webshop").unwrap(),
        subject: Subject::Invoice(
            InvoiceSubject::new(
                "INV-2026-001",
                "Jan de Vries",
                "jan@example.nl",
                "damaged",
                "nl",
            )
            .unwrap(),
        ),
        claim: Claim::new(
            Quantity::new("49.95".parse().unwrap(), Unit::new("EUR").unwrap()).unwrap(),
        ),
        opened_by: shop(),
        evidence: EvidenceBundle::default(),
    }
}

fn message(text: &str, file: Option<(&str, &[u8])>) -> NewMessage {
    NewMessage {
        text: MessageText::new("message", text).unwrap(),
        attachment: file.map(|(name, bytes)| Attachment::inspect(name, bytes).unwrap()),
    }
}

fn opened_with(policy: &DisputePolicy) -> Dispute {
    Dispute::open_with_message(
        command(),
        message("Het pakket was kapot.\nZie foto.", Some(("foto.png", PNG))),
        t0(),
        policy,
    )
    .unwrap()
    .into_dispute(DisputeId::new(1).unwrap())
}

fn opened() -> Dispute {
    opened_with(&DisputePolicy::default())
}

#[test]
fn opening_an_invoice_dispute_holds_collection_for_at_most_fourteen_days() {
    for (respond_within, held) in [(14, 14), (30, 14), (7, 7)] {
        let policy = DisputePolicy {
            respond_within: Duration::days(respond_within),
            ..DisputePolicy::default()
        };
        let d = opened_with(&policy);
        let hold = d.collection_hold().unwrap();
        assert_eq!(hold.until, t0() + Duration::days(held));
        assert_eq!(hold.released_at, None);
        assert!(hold.is_active(t0()));
        // Opening stays one change: the hold is recorded by the opening entry itself.
        assert_eq!(d.version(), Version::FIRST);
        assert_eq!(d.timeline().len(), 1);
        assert_eq!(
            d.timeline()[0].notes(),
            format!(
                "collection on hold until {}",
                (t0() + Duration::days(held)).format("%Y-%m-%dT%H:%M:%S%.6fZ")
            )
        );
        d.verify().unwrap();
    }
}

#[test]
fn only_invoice_disputes_hold_collection() {
    let period = Period::new("p", t0(), t0() + Duration::days(1)).unwrap();
    let delivery = OpenDispute {
        subject: Subject::Delivery(
            crate::DeliverySubject::new("c", vec!["s".into()], None, period).unwrap(),
        ),
        evidence: EvidenceBundle::new(vec![crate::EvidenceItem::new(
            EvidenceKind::ProofPack,
            "pp",
        )
        .unwrap()]),
        ..command()
    };
    let d = Dispute::open(delivery, t0(), &DisputePolicy::default()).unwrap();
    assert_eq!(d.parts().collection_hold, None);
    assert_eq!(d.parts().timeline[0].notes(), "");
}

#[test]
fn the_opening_message_starts_the_thread_and_is_sealed_with_the_evidence() {
    let d = opened();
    let first = &d.messages()[0];
    assert_eq!(d.messages().len(), 1);
    assert_eq!(first.seq(), 1);
    assert_eq!(first.at(), t0());
    assert_eq!(first.author(), &shop());
    assert_eq!(first.text(), "Het pakket was kapot.\nZie foto.");
    let attachment = first.attachment().unwrap();
    assert_eq!(attachment.sha256(), crate::Digest::of(PNG));
    let evidence = d.evidence();
    assert_eq!(
        evidence.values(EvidenceKind::Statement).collect::<Vec<_>>(),
        ["Het pakket was kapot.\nZie foto."]
    );
    assert_eq!(
        evidence
            .values(EvidenceKind::Attachment)
            .collect::<Vec<_>>(),
        [attachment.evidence_ref()]
    );
    d.verify().unwrap();
}

#[test]
fn each_message_is_one_change_and_moves_no_status() {
    let mut d = opened();
    d.post_message(
        shop(),
        message("We sturen een nieuwe.", None),
        t0() + Duration::hours(1),
    )
    .unwrap();
    d.post_message(
        customer(),
        message("Hier is de factuur.", Some(("factuur.PDF", PDF))),
        t0() + Duration::hours(2),
    )
    .unwrap();
    assert_eq!(d.version().get(), 3);
    assert_eq!(d.timeline().len(), 3);
    assert_eq!(d.status(), Status::Open);
    let kinds: Vec<_> = d.timeline().iter().map(|e| e.kind()).collect();
    assert_eq!(
        kinds,
        [EntryKind::Opened, EntryKind::Message, EntryKind::Message]
    );
    let seqs: Vec<_> = d.messages().iter().map(|m| m.seq()).collect();
    assert_eq!(seqs, [1, 2, 3]);
    assert_eq!(d.messages()[2].author().role, Role::Customer);
    assert_eq!(d.messages()[2].attachment().unwrap().name(), "factuur.PDF");
    d.verify().unwrap();
}

#[test]
fn only_the_client_and_the_customer_post_and_never_on_a_final_dispute() {
    let mut d = opened();
    for role in [
        Role::Operator,
        Role::Advertiser,
        Role::Billing,
        Role::System,
    ] {
        let by = Actor::new(ActorId::new("x").unwrap(), role);
        assert_eq!(
            d.post_message(by, message("hi", None), t0())
                .unwrap_err()
                .code(),
            "forbidden_role"
        );
    }
    d.settle(
        shop(),
        Settlement {
            outcome: Some(Outcome::Denied),
            ..Settlement::default()
        },
        t0(),
    )
    .unwrap();
    let before = d.clone();
    assert_eq!(
        d.post_message(customer(), message("too late", None), t0()),
        Err(DomainError::Final(Status::Resolved))
    );
    assert_eq!(d, before, "a refused message changed the dispute");
}

#[test]
fn settling_or_withdrawing_releases_the_hold_in_the_same_entry() {
    let later = t0() + Duration::days(3);
    let mut settled = opened();
    settled
        .settle(
            shop(),
            Settlement {
                outcome: Some(Outcome::Granted),
                notes: "Gecrediteerd.".into(),
                ..Settlement::default()
            },
            later,
        )
        .unwrap();
    assert_eq!(settled.collection_hold().unwrap().released_at, Some(later));
    assert_eq!(settled.version().get(), 2);
    let last = settled.timeline().last().unwrap();
    assert_eq!(last.kind(), EntryKind::Settled);
    assert_eq!(last.notes(), "Gecrediteerd.\n\ncollection hold released");
    assert_eq!(settled.resolution().unwrap().notes, "Gecrediteerd.");
    settled.verify().unwrap();

    let mut withdrawn = opened();
    withdrawn.withdraw(shop(), "", later).unwrap();
    assert_eq!(
        withdrawn.collection_hold().unwrap().released_at,
        Some(later)
    );
    assert_eq!(
        withdrawn.timeline().last().unwrap().notes(),
        "collection hold released"
    );
}

#[test]
fn a_hold_that_ran_out_is_not_released_again() {
    let mut d = opened();
    let after = t0() + Duration::days(20);
    d.settle(
        shop(),
        Settlement {
            outcome: Some(Outcome::Denied),
            notes: "n".into(),
            ..Settlement::default()
        },
        after,
    )
    .unwrap();
    assert_eq!(d.collection_hold().unwrap().released_at, None);
    assert_eq!(d.timeline().last().unwrap().notes(), "n");
}

#[test]
fn verify_detects_edited_removed_or_swapped_messages_and_holds() {
    let mut d = opened();
    d.post_message(customer(), message("Klopt.", Some(("a.pdf", PDF))), t0())
        .unwrap();
    d.verify().unwrap();
    let edit = |change: &dyn Fn(&mut DisputeParts)| {
        let mut parts = d.parts().clone();
        change(&mut parts);
        Dispute::restore(d.id(), parts).verify()
    };
    let rebuilt = |m: &Message, text: &str, attachment: Option<Attachment>| {
        Message::restore(m.seq(), m.at(), m.author().clone(), text.into(), attachment)
    };
    assert_eq!(
        edit(&|p| p.messages[1] = rebuilt(
            &p.messages[1],
            "Klopt niet.",
            p.messages[1].attachment().cloned()
        )),
        Err(TimelineError::MessageAltered { seq: 2 })
    );
    assert_eq!(
        edit(&|p| p.messages[1] = rebuilt(&p.messages[1], "Klopt.", None)),
        Err(TimelineError::MessageAltered { seq: 2 })
    );
    assert_eq!(
        edit(&|p| p.messages[0] = rebuilt(
            &p.messages[0],
            "Alles goed.",
            p.messages[0].attachment().cloned()
        )),
        Err(TimelineError::MessageAltered { seq: 1 })
    );
    let swapped = Attachment::inspect("foto.png", b"\x89PNG\r\n\x1a\nother").unwrap();
    assert_eq!(
        edit(&|p| p.messages[0] =
            rebuilt(&p.messages[0], p.messages[0].text(), Some(swapped.clone()))),
        Err(TimelineError::MessageAltered { seq: 1 })
    );
    assert_eq!(
        edit(&|p| {
            p.messages.pop();
        }),
        Err(TimelineError::MessageAltered { seq: 2 })
    );
    assert_eq!(
        edit(&|p| {
            p.messages.swap(0, 1);
        }),
        Err(TimelineError::MessageAltered { seq: 1 })
    );
    assert_eq!(
        edit(&|p| p.messages[1] = Message::restore(
            2,
            t0(),
            shop(),
            "Klopt.".into(),
            p.messages[1].attachment().cloned()
        )),
        Err(TimelineError::MessageAltered { seq: 2 })
    );
    assert_eq!(
        edit(&|p| p.collection_hold.as_mut().unwrap().until += Duration::days(30)),
        Err(TimelineError::HoldAltered)
    );
}

/// A message command for the property test: who posts, and whether with a file.
#[derive(Debug, Clone)]
enum Step {
    Post { customer: bool, file: bool },
    Settle,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (any::<bool>(), any::<bool>()).prop_map(|(customer, file)| Step::Post { customer, file }),
        1 => Just(Step::Settle),
    ]
}

proptest! {
    #[test]
    fn any_thread_keeps_one_entry_per_change_and_verifies(steps in proptest::collection::vec(step(), 0..12)) {
        let mut d = opened();
        for (i, step) in steps.iter().enumerate() {
            let now = t0() + Duration::minutes(i as i64);
            let before = d.clone();
            let result = match step {
                Step::Post { customer: c, file } => {
                    let by = if *c { customer() } else { shop() };
                    let file = file.then_some(("f.pdf", PDF));
                    d.post_message(by, message(&format!("bericht {i}"), file), now)
                }
                Step::Settle => d.settle(
                    shop(),
                    Settlement { outcome: Some(Outcome::Denied), ..Settlement::default() },
                    now,
                ),
            };
            match result {
                Ok(()) => prop_assert_eq!(d.version().get(), before.version().get() + 1),
                Err(_) => prop_assert_eq!(&d, &before),
            }
            prop_assert_eq!(usize::try_from(d.version().get()).unwrap(), d.timeline().len());
            d.verify().unwrap();
        }
    }
}
