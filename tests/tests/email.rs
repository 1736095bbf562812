//! End-to-end tests of email (SPEC §5) against a real SMTP server: Debian's aiosmtpd, started by
//! each test on 127.0.0.1, writing what it receives to a Maildir. The invoice customer hears of
//! their dispute in its language, the tenant's owner of every change, each mail once, even when
//! the relay was down when the dispute opened; and the invoice contract lists what was sent.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::smtp::{free_port, to, Smtp};
use support::wait::eventually;
use support::{store_tests, Server, Store};

const TENANT: &str = "webshop-de";
const USERNAME: &str = "webshop-api";
const OWNER: &str = "sanne.bakker@billink.example";
const FROM: &str = "Billink disputes <disputes@billink.example>";

const UNDELIVERED_MAIL_JOBS: &str =
    "SELECT COUNT(*) FROM outbox_jobs WHERE sink = 'email' AND delivered_at IS NULL";

/// A server that mails through `smtp_port`, retrying soon, with a merchant tenant and its
/// client login (and its owner, when `owner`).
struct Desk {
    server: Server,
    billink_id: String,
}

impl Desk {
    async fn start(store: Store, smtp_port: Option<u16>, owner: bool) -> Desk {
        let url = smtp_port.map(Smtp::url);
        let mut env = vec![
            ("DISPUTES_DISPATCH_POLL_MS", "100"),
            ("DISPUTES_DISPATCH_BACKOFF_MS", "100"),
        ];
        if let Some(url) = &url {
            env.push(("SMTP_URL", url));
            env.push(("EMAIL_FROM", FROM));
        }
        let server = Server::start_with_env(store, &env).await;
        if owner {
            server.tenant_with_owner(TENANT, "Sanne Bakker", OWNER);
        } else {
            server.cli(&["tenant", "create", TENANT]);
        }
        let billink_id = server.login(TENANT, "client", USERNAME);
        Desk { server, billink_id }
    }

    async fn post(&self, path: &str, mut body: Value) -> Value {
        body["billinkUsername"] = json!(USERNAME);
        body["billinkId"] = json!(self.billink_id);
        let answer = self.server.call(Method::POST, path, None, Some(body)).await;
        assert_eq!(answer.status, StatusCode::OK, "{:#}", answer.body);
        answer.body
    }

    async fn open(
        &self,
        invoice: &str,
        customer: &str,
        email: &str,
        locale: &str,
        amount: &str,
    ) -> i64 {
        let body = json!({
            "category": "damaged_goods",
            "customerEmail": email,
            "customerName": customer,
            "invoice": invoice,
            "locale": locale,
            "amount": amount,
            "message": "Die Lampe kam beschädigt an."
        });
        self.post("/v2/dispute", body).await["id"]
            .as_i64()
            .expect("a numeric id")
    }

    async fn emails(&self, id: i64) -> Vec<Value> {
        self.post("/v2/dispute/info", json!({ "id": id })).await["emails"]
            .as_array()
            .expect("emails is a list")
            .clone()
    }
}

async fn the_customer_is_written_to_in_the_dispute_language_and_the_owner_of_every_change(
    store: Store,
) {
    let smtp = Smtp::start().await;
    let desk = Desk::start(store, Some(smtp.port), true).await;
    let de = desk
        .open(
            "RE-2026-0815",
            "Lena Schmidt",
            "lena.schmidt@example.de",
            "de",
            "149.95",
        )
        .await;
    let mails = smtp.until(2).await;
    let lena = to(&mails, "lena.schmidt@example.de");
    assert_eq!(lena.len(), 1, "{mails:#?}");
    let opened = lena[0];
    assert_eq!(
        opened.subject,
        format!("Ihre Beanstandung der Rechnung RE-2026-0815 wurde registriert (Vorgang {de})")
    );
    for fact in [
        "Guten Tag Lena Schmidt,".to_owned(),
        "Rechnung: RE-2026-0815".to_owned(),
        "Beanstandeter Betrag: 149,95 €".to_owned(),
        format!("Vorgangsnummer: {de}"),
        "ruht der Forderungseinzug für diese Rechnung, längstens bis zum".to_owned(),
    ] {
        assert!(opened.body.contains(&fact), "{fact:?} in {}", opened.body);
    }
    assert_eq!(opened.language, "de");
    assert!(
        opened.message_id.starts_with("<evt_") && opened.message_id.ends_with("@billink.example>"),
        "{}",
        opened.message_id
    );
    let notice = to(&mails, OWNER);
    assert_eq!(notice.len(), 1, "{mails:#?}");
    assert_eq!(notice[0].subject, format!("Dispute {de}: opened"));
    assert!(
        notice[0]
            .body
            .contains("invoice RE-2026-0815 of Lena Schmidt"),
        "{}",
        notice[0].body
    );
    assert_ne!(notice[0].message_id, opened.message_id);

    // A region variant is written in its language.
    let nl = desk
        .open(
            "INV-2026-0042",
            "Jan de Vries",
            "jan.devries@example.nl",
            "nl-NL",
            "49.95",
        )
        .await;
    let mails = smtp.until(4).await;
    let jan = to(&mails, "jan.devries@example.nl");
    assert_eq!(jan.len(), 1, "{mails:#?}");
    assert_eq!(
        jan[0].subject,
        format!("Uw geschil over factuur INV-2026-0042 is geregistreerd (geschil {nl})")
    );
    assert!(
        jan[0].body.contains("Betwist bedrag: € 49,95"),
        "{}",
        jan[0].body
    );
    assert!(
        jan[0].body.contains(&format!("Geschilnummer: {nl}")),
        "{}",
        jan[0].body
    );
    assert_eq!(jan[0].language, "nl");

    // The invoice contract lists each dispute's own mail.
    let emails = desk.emails(de).await;
    assert_eq!(emails.len(), 2, "{emails:#?}");
    let customer = emails
        .iter()
        .find(|e| e["to"] == "lena.schmidt@example.de")
        .expect("the customer's mail is listed");
    assert_eq!(customer["subject"], json!(opened.subject));
    assert_eq!(customer["template"], "customer_opened.de");
    assert_eq!(customer["sentAt"]["timezone_type"], 3);
    assert_eq!(customer["sentAt"]["timezone"], "Europe/Amsterdam");
    assert!(
        customer["sentAt"]["date"]
            .as_str()
            .is_some_and(|d| d.len() == 26),
        "{customer}"
    );
    let owner = emails
        .iter()
        .find(|e| e["to"] == OWNER)
        .expect("the notice is listed");
    assert_eq!(owner["template"], "party_notice");
    let nl_emails = desk.emails(nl).await;
    assert_eq!(nl_emails.len(), 2, "{nl_emails:#?}");
    assert!(nl_emails
        .iter()
        .all(|e| e["to"] != "lena.schmidt@example.de"));
    let listed = desk.post("/v2/dispute/list", json!({})).await;
    for d in listed["disputes"].as_array().expect("disputes") {
        assert_eq!(d["emails"].as_array().map(Vec::len), Some(2), "{d:#}");
    }

    // The seller's message reaches the customer; the customer's own only the owner.
    desk.post(
        "/v2/dispute/message",
        json!({ "id": de, "author": "client", "message": "Wir schicken Ihnen eine neue Lampe." }),
    )
    .await;
    desk.post(
        "/v2/dispute/message",
        json!({ "id": de, "author": "customer", "message": "Danke!" }),
    )
    .await;
    eventually("every mail job is delivered", || async {
        desk.server.count(UNDELIVERED_MAIL_JOBS).await == 0
    })
    .await;
    let mails = smtp.mails();
    assert_eq!(mails.len(), 7, "{mails:#?}");
    let lena = to(&mails, "lena.schmidt@example.de");
    assert_eq!(lena.len(), 2, "{lena:#?}");
    let message = lena
        .iter()
        .find(|m| m.subject.starts_with("Neue Nachricht"))
        .expect("the seller's message is mailed");
    assert_eq!(
        message.subject,
        format!("Neue Nachricht zu Ihrer Beanstandung {de} (Rechnung RE-2026-0815)")
    );
    assert!(
        message.body.contains("Wir schicken Ihnen eine neue Lampe."),
        "{}",
        message.body
    );
    assert_eq!(
        to(&mails, OWNER).len(),
        4,
        "an opening, two messages, and the other opening"
    );
    assert_eq!(desk.emails(de).await.len(), 5);

    // The end, with the credit and the seller's explanation, in the customer's language.
    desk.post(
        "/v2/dispute/resolve",
        json!({ "id": nl, "outcome": "partially_granted", "creditAmount": "10.5",
                "message": "De verzendkosten vergoeden wij." }),
    )
    .await;
    let mails = smtp.until(9).await;
    let jan = to(&mails, "jan.devries@example.nl");
    let resolved = jan
        .iter()
        .find(|m| m.subject.contains("gedeeltelijk toegekend"))
        .unwrap_or_else(|| panic!("the resolution is mailed: {jan:#?}"));
    assert_eq!(
        resolved.subject,
        format!("Uw geschil {nl} over factuur INV-2026-0042 is gedeeltelijk toegekend")
    );
    for fact in [
        "Betwist bedrag: € 49,95",
        "Gecrediteerd bedrag: € 10,50",
        "Toelichting van de verkoper:\nDe verzendkosten vergoeden wij.",
    ] {
        assert!(
            resolved.body.contains(fact),
            "{fact:?} in {}",
            resolved.body
        );
    }
    let templates: Vec<Value> = desk
        .emails(nl)
        .await
        .iter()
        .map(|e| e["template"].clone())
        .collect();
    assert_eq!(
        templates,
        [
            json!("customer_opened.nl"),
            json!("party_notice"),
            json!("customer_partially_granted.nl"),
            json!("party_notice"),
        ]
    );
}

async fn mail_held_back_by_a_relay_that_is_down_arrives_once_it_is_up(store: Store) {
    let port = free_port();
    let desk = Desk::start(store, Some(port), false).await;
    let id = desk
        .open(
            "INV-2026-0100",
            "Jan de Vries",
            "jan.devries@example.nl",
            "nl",
            "20",
        )
        .await;
    eventually("the relay is tried and found down, twice", || async {
        desk.server
            .count(
                "SELECT COUNT(*) FROM outbox_jobs WHERE sink = 'email' AND delivered_at IS NULL \
             AND attempts >= 2 AND last_error IS NOT NULL",
            )
            .await
            == 1
    })
    .await;
    assert_eq!(desk.emails(id).await, Vec::<Value>::new());

    let smtp = Smtp::start_on(port).await;
    let mails = smtp.until(1).await;
    assert!(mails[0].subject.contains("INV-2026-0100"), "{mails:#?}");
    assert!(
        mails[0].body.contains("Betwist bedrag: € 20,00"),
        "{}",
        mails[0].body
    );
    eventually("the mail job is delivered", || async {
        desk.server.count(UNDELIVERED_MAIL_JOBS).await == 0
    })
    .await;
    // Delivered means never offered again: exactly one mail, and one recorded.
    assert_eq!(smtp.mails().len(), 1);
    assert_eq!(desk.emails(id).await.len(), 1);
}

async fn without_a_relay_no_mail_is_queued(store: Store) {
    let desk = Desk::start(store, None, true).await;
    let id = desk
        .open(
            "INV-2026-0200",
            "Jan de Vries",
            "jan.devries@example.nl",
            "nl",
            "20",
        )
        .await;
    assert_eq!(
        desk.server
            .count("SELECT COUNT(*) FROM outbox_jobs WHERE sink = 'email'")
            .await,
        0
    );
    // The webhook sink is always on: the opening did queue its job.
    assert_eq!(
        desk.server
            .count("SELECT COUNT(*) FROM outbox_jobs WHERE sink = 'webhook'")
            .await,
        1
    );
    assert_eq!(desk.emails(id).await, Vec::<Value>::new());
}

store_tests!(
    the_customer_is_written_to_in_the_dispute_language_and_the_owner_of_every_change,
    mail_held_back_by_a_relay_that_is_down_arrives_once_it_is_up,
    without_a_relay_no_mail_is_queued,
);
