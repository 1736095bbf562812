use super::*;
use chrono::{Duration, TimeZone, Utc};
use disputes_domain::{
    Actor, ActorId, Claim, DisputeId, DisputePolicy, EvidenceBundle, MessageText, NewMessage,
    OpenDispute, Quantity, Settlement, TenantId, Unit,
};
use disputes_ports::EventId;

fn opened_at() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 15, 0).unwrap()
}

fn client() -> Actor {
    Actor::new(ActorId::new("shop-login").unwrap(), Role::Client)
}

/// An invoice dispute of 1234.50 EUR (or of the whole invoice, without `amount`), opened by
/// the seller in `locale`.
fn dispute(locale: &str, amount: Option<&str>) -> Dispute {
    let quantity = match amount {
        Some(a) => Quantity::new(a.parse().unwrap(), Unit::new("EUR").unwrap()),
        None => Ok(Quantity::whole_invoice()),
    }
    .unwrap();
    let command = OpenDispute {
        tenant: TenantId::new("acme").unwrap(),
        subject: Subject::Invoice(
            InvoiceSubject::new(
                "INV-2026-0042",
                "Anna de Vries",
                "anna@example.nl",
                "damaged",
                locale,
            )
            .unwrap(),
        ),
        claim: Claim::new(quantity),
        opened_by: client(),
        evidence: EvidenceBundle::default(),
    };
    let message = NewMessage {
        text: MessageText::new("message", "Het pakket kwam beschadigd aan.").unwrap(),
        attachment: None,
    };
    Dispute::open_with_message(command, message, opened_at(), &DisputePolicy::default())
        .unwrap()
        .into_dispute(DisputeId::new(42).unwrap())
}

/// The event of the dispute's last entry.
fn event(d: Dispute) -> Event {
    let last = d.timeline().last().unwrap();
    Event {
        id: EventId::generate(),
        kind: last.kind(),
        seq: last.seq(),
        dispute: d,
        attempt: 1,
        replayed: false,
    }
}

fn later(days: i64) -> Timestamp {
    opened_at() + Duration::days(days)
}

fn post(mut d: Dispute, by: Role, text: &str) -> Dispute {
    let author = Actor::new(ActorId::new("someone").unwrap(), by);
    let message = NewMessage {
        text: MessageText::new("message", text).unwrap(),
        attachment: None,
    };
    d.post_message(author, message, later(2)).unwrap();
    d
}

fn settled(mut d: Dispute, outcome: Outcome, amount: Option<&str>, notes: &str) -> Dispute {
    let settlement = Settlement {
        outcome: Some(outcome),
        settled_amount: amount.map(|a| a.parse().unwrap()),
        notes: notes.to_owned(),
        ..Settlement::default()
    };
    d.settle(client(), settlement, later(5)).unwrap();
    d
}

/// Every mail the customer of a dispute in `locale` can get, written out.
fn every_customer_mail(locale: &str) -> String {
    let base = || dispute(locale, Some("1234.50"));
    let mut withdrawn = base();
    withdrawn.withdraw(client(), "", later(3)).unwrap();
    let mut expired = base();
    expired
        .expire(later(14), &DisputePolicy::default())
        .unwrap();
    let events = [
        base(),
        post(
            base(),
            Role::Client,
            "Wij hebben een nieuw exemplaar verstuurd.\nKlopt dat?",
        ),
        settled(base(), Outcome::Granted, None, "Excuses voor het ongemak."),
        settled(base(), Outcome::PartiallyGranted, Some("200.25"), ""),
        settled(
            base(),
            Outcome::Denied,
            None,
            "De schade is door de vervoerder veroorzaakt.",
        ),
        withdrawn,
        expired,
    ];
    events
        .into_iter()
        .map(|d| {
            let mail = customer_mail(&event(d)).expect("the customer hears of this");
            format!(
                "=== {}\nSubject: {}\n\n{}",
                mail.template, mail.subject, mail.body
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn dutch_mails() {
    insta::assert_snapshot!(every_customer_mail("nl"));
}

#[test]
fn english_mails() {
    insta::assert_snapshot!(every_customer_mail("en"));
}

#[test]
fn german_mails() {
    insta::assert_snapshot!(every_customer_mail("de"));
}

#[test]
fn french_mails() {
    insta::assert_snapshot!(every_customer_mail("fr"));
}

#[test]
fn every_text_uses_only_known_placeholders() {
    let known = [
        "customer",
        "invoice",
        "dispute",
        "amount",
        "opened",
        "hold_until",
        "resolved",
        "credit",
        "message",
        "seller_note",
    ];
    for lang in LANGUAGES {
        for t in [
            lang.opened,
            lang.message,
            lang.granted,
            lang.partially_granted,
            lang.denied,
            lang.withdrawn,
            lang.expired,
        ] {
            for text in [t.subject, t.body] {
                let left = fill(text, |name| known.contains(&name).then_some(""));
                assert!(
                    !left.contains('{') && !left.contains('}'),
                    "{}: {left}",
                    lang.code
                );
            }
            // Every mail names the invoice and the dispute.
            assert!(t.subject.contains("{invoice}") && t.subject.contains("{dispute}"));
            assert!(t.body.contains("{invoice}") && t.body.contains("{dispute}"));
            assert!(t.body.contains("{amount}"));
        }
    }
}

#[test]
fn a_region_variant_is_written_in_its_language() {
    let mail = customer_mail(&event(dispute("nl-NL", Some("49.95")))).unwrap();
    assert_eq!(mail.template, "customer_opened.nl");
    assert!(
        mail.body.contains("Betwist bedrag: € 49,95"),
        "{}",
        mail.body
    );
    assert!(
        mail.body.contains("tot uiterlijk 6 december 2026"),
        "{}",
        mail.body
    );
    assert_eq!(language("fr-BE").code, "fr");
    assert_eq!(language("DE").code, "de");
}

#[test]
fn a_dispute_about_a_whole_invoice_says_so_instead_of_an_amount() {
    let mail = customer_mail(&event(dispute("de", None))).unwrap();
    assert!(
        mail.body
            .contains("Beanstandeter Betrag: gesamter Rechnungsbetrag"),
        "{}",
        mail.body
    );
}

#[test]
fn a_credit_on_a_whole_invoice_is_written_as_money() {
    let credited = |outcome, credit: Option<&str>| {
        let d = settled(dispute("nl", None), outcome, credit, "");
        customer_mail(&event(d)).unwrap().body
    };
    let granted = credited(Outcome::Granted, Some("149.95"));
    assert!(
        granted.contains("Betwist bedrag: het volledige factuurbedrag\n"),
        "{granted}"
    );
    assert!(
        granted.contains("Gecrediteerd bedrag: € 149,95\n"),
        "{granted}"
    );
    let partial = credited(Outcome::PartiallyGranted, Some("10"));
    assert!(
        partial.contains("Gecrediteerd bedrag: € 10,00\n"),
        "{partial}"
    );
    // Granted without a credit: the whole invoice, as before.
    let whole = credited(Outcome::Granted, None);
    assert!(
        whole.contains("Gecrediteerd bedrag: het volledige factuurbedrag\n"),
        "{whole}"
    );
}

#[test]
fn the_customer_hears_only_of_what_concerns_them() {
    // Their own message, a response and a note are not news to them.
    let own = post(dispute("en", Some("10")), Role::Customer, "Any news?");
    assert_eq!(customer_mail(&event(own)), None);
    let mut responded = dispute("en", Some("10"));
    let operator = Actor::new(ActorId::new("desk").unwrap(), Role::Operator);
    // Only a provider of another role than the opener may respond; an invoice dispute never
    // gets a response in practice, but the rule is by kind.
    responded
        .respond(
            operator,
            None,
            "looking",
            None,
            later(1),
            &DisputePolicy::default(),
        )
        .unwrap();
    assert_eq!(customer_mail(&event(responded)), None);
    let mut noted = dispute("en", Some("10"));
    noted.add_note(client(), "internal", later(1)).unwrap();
    assert_eq!(customer_mail(&event(noted)), None);
}

#[test]
fn values_are_not_read_as_placeholders() {
    let filled = fill("Dear {customer}, {unknown} {", |name| {
        (name == "customer").then_some("{customer} {invoice}")
    });
    assert_eq!(filled, "Dear {customer} {invoice}, {unknown} {");
}

#[test]
fn money_and_dates_are_written_as_each_language_does() {
    let amount: Decimal = "1234567.5".parse().unwrap();
    let cases = [
        (&nl::NL, "€ 1.234.567,50", "1 maart 2026"),
        (&en::EN, "€1,234,567.50", "1 March 2026"),
        (&de::DE, "1.234.567,50 €", "1. März 2026"),
        (&fr::FR, "1\u{202f}234\u{202f}567,50 €", "1er mars 2026"),
    ];
    // Midnight in Amsterdam on 1 March is still February in UTC.
    let first_of_march = Utc.with_ymd_and_hms(2026, 2, 28, 23, 30, 0).unwrap();
    for (lang, money, date) in cases {
        assert_eq!(format_money(lang, amount, "EUR"), money);
        assert_eq!(format_date(lang, first_of_march), date);
    }
    assert_eq!(
        format_money(&en::EN, "12".parse().unwrap(), "USD"),
        "USD 12.00"
    );
    assert_eq!(
        format_money(&de::DE, "0.125".parse().unwrap(), "EUR"),
        "0,125 €"
    );
    assert_eq!(
        format_money(&nl::NL, "999".parse().unwrap(), "EUR"),
        "€ 999,00"
    );
}

#[test]
fn the_owner_gets_a_plain_notice_of_every_entry() {
    let owner = Agent::new("Sanne Bakker", "sanne@billink.example").unwrap();
    let d = settled(
        dispute("de", Some("1234.50")),
        Outcome::PartiallyGranted,
        Some("200.25"),
        "Teilweise erstattet.",
    );
    let mail = owner_notice(&event(d), &owner).unwrap();
    assert_eq!(mail.template, PARTY_NOTICE);
    insta::assert_snapshot!(format!("Subject: {}\n\n{}", mail.subject, mail.body));
    let own = post(dispute("en", Some("10")), Role::Customer, "Any news?");
    let notice = owner_notice(&event(own), &owner).unwrap();
    assert_eq!(notice.subject, "Dispute 42: new message");
    assert!(notice.body.contains("\nAny news?\n"), "{}", notice.body);
}

#[test]
fn the_customer_and_the_owner_are_each_written_to_once() {
    use crate::email::outgoing;
    let owner = Agent::new("Sanne Bakker", "sanne@billink.example").unwrap();
    let opened = event(dispute("fr-BE", Some("10")));
    let both = outgoing(&opened, Some(&owner));
    let to: Vec<_> = both
        .iter()
        .map(|o| (o.address.as_str(), o.language, o.mail.template.as_str()))
        .collect();
    assert_eq!(
        to,
        [
            ("anna@example.nl", "fr", "customer_opened.fr"),
            ("sanne@billink.example", "en", PARTY_NOTICE),
        ]
    );
    // Without an owner, only the customer; of what is no news to the customer, only the owner.
    assert_eq!(outgoing(&opened, None).len(), 1);
    let own = event(post(dispute("fr", Some("10")), Role::Customer, "Alors ?"));
    let only_owner = outgoing(&own, Some(&owner));
    assert_eq!(only_owner.len(), 1);
    assert_eq!(only_owner[0].address.as_str(), "sanne@billink.example");
    assert_eq!(outgoing(&own, None), Vec::new());
    // An owner who is the customer too gets one mail, the customer's.
    let same = Agent::new("Anna", "ANNA@example.nl").unwrap();
    let one = outgoing(&opened, Some(&same));
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].mail.template, "customer_opened.fr");
}
