//! End-to-end tests of the billing contract (seed 004, SPEC §4) against the real binary: Oracle
//! Billing Care item disputes and settlements, in JSON and in XML, over HTTP Basic logins.

mod support;

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{store_tests, Server, Store, TextAnswer};

const BASE: &str = "/bcws/webresources/v1.0";
const JSON: &str = "application/json";
const XML: &str = "application/xml";

/// The seed's example request, byte for byte (its leading space and tabs included).
const SEED_BODY: &str = concat!(
    " {\n",
    "\t\"amount\": 5,\n",
    "\t\"notes\": {\n",
    "\t\t\"amount\": -5,\n",
    "\t\t\"domainId\": 34,\n",
    "\t\t\"accountId\": \"0.0.0.1+-account+242856\",\n",
    "\t\t\"billUnitId\": \"0.0.0.1+-billinfo+244392\",\n",
    "\t\t\"reasonId\": \"1\",\n",
    "\t\t\"status\": 101,\n",
    "\t\t\"comments\": [\n",
    "\t\t\t{\n",
    "\t\t\t\t\"comment\": \"Customer disagrees with item charges.\"\n",
    "\t\t\t}\n",
    "\t\t]\n",
    "\t},\n",
    "\t\"includeTax\": false\n",
    "}"
);

/// The seed's request with the same content, as XML: the same field names as elements, the
/// comments as repeated elements.
const SEED_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<itemDispute>
  <amount>5</amount>
  <notes>
    <amount>-5</amount>
    <domainId>34</domainId>
    <accountId>0.0.0.1+-account+242856</accountId>
    <billUnitId>0.0.0.1+-billinfo+244392</billUnitId>
    <reasonId>1</reasonId>
    <status>101</status>
    <comments>
      <comment>Customer disagrees with item charges.</comment>
    </comments>
  </notes>
  <includeTax>false</includeTax>
</itemDispute>"#;

const SEED_ITEM: &str = "0.0.0.1+-item-cycle_forward+268139";
const SEED_ACCOUNT: &str = "0.0.0.1+-account+242856";

/// A server with two tenants, each with a billing user.
struct Desk {
    server: Server,
    password: String,
    other_password: String,
}

const USER: &str = "csr-acme";
const OTHER_USER: &str = "csr-globex";

async fn desk(store: Store) -> Desk {
    let server = Server::start(store).await;
    server.cli(&["tenant", "create", "acme-telco"]);
    server.cli(&["tenant", "create", "globex-telco"]);
    let password = server.login("acme-telco", "billing", USER);
    let other_password = server.login("globex-telco", "billing", OTHER_USER);
    Desk {
        server,
        password,
        other_password,
    }
}

impl Desk {
    fn me(&self) -> Option<(&str, &str)> {
        Some((USER, &self.password))
    }

    /// POSTs `body` with `content_type`, asking for `accept`.
    async fn post(&self, path: &str, content_type: &str, accept: &str, body: &str) -> TextAnswer {
        self.server
            .send(
                Method::POST,
                &format!("{BASE}{path}"),
                self.me(),
                &[("content-type", content_type), ("accept", accept)],
                Some(body.as_bytes().to_vec()),
            )
            .await
    }

    /// POSTs a JSON `body`, asking for JSON.
    async fn post_json(&self, path: &str, body: &str) -> TextAnswer {
        self.post(path, JSON, JSON, body).await
    }

    async fn get(&self, path: &str, accept: &str) -> TextAnswer {
        self.server
            .send(
                Method::GET,
                &format!("{BASE}{path}"),
                self.me(),
                &[("accept", accept)],
                None,
            )
            .await
    }

    /// Opens a JSON dispute on `item` and returns its POID.
    async fn open(&self, item: &str, body: &Value) -> String {
        let answer = self
            .post(
                &format!("/disputes/item/{item}"),
                JSON,
                JSON,
                &body.to_string(),
            )
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
        answer.json()["reference"]["id"]
            .as_str()
            .expect("an id")
            .to_owned()
    }

    async fn settle(&self, dispute: &str, body: &Value) -> TextAnswer {
        self.post(
            &format!("/disputes/settlement/item/{dispute}"),
            JSON,
            JSON,
            &body.to_string(),
        )
        .await
    }

    /// The absolute base the server answers with: this server's address and the base path.
    fn base(&self) -> String {
        format!("{}{BASE}", self.server.base)
    }

    /// Replaces what differs from run to run in `text`: the server's address and the numbers of
    /// POIDs. Plain string replacement, so JSON and XML go through the same function.
    fn redact_text(&self, text: &str) -> String {
        let mut out = text.replace(&self.server.base, "http://[host]");
        for kind in ["+-item-dispute+", "+-item-settlement+"] {
            let mut redacted = String::with_capacity(out.len());
            let mut rest = out.as_str();
            while let Some(at) = rest.find(kind) {
                let (head, tail) = rest.split_at(at + kind.len());
                redacted.push_str(head);
                let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
                redacted.push_str(if digits > 0 { "[N]" } else { "" });
                rest = &tail[digits..];
            }
            redacted.push_str(rest);
            out = redacted;
        }
        // Times and cursors, in XML elements; JSON values are handled by `redact`.
        for element in VOLATILE {
            out = redact_element(&out, element);
        }
        out
    }

    fn redact(&self, value: &Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        let v = if VOLATILE.contains(&k.as_str()) && !v.is_null() {
                            json!(format!("[{k}]"))
                        } else {
                            self.redact(v)
                        };
                        (k.clone(), v)
                    })
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.redact(v)).collect()),
            Value::String(s) => Value::String(self.redact_text(s)),
            other => other.clone(),
        }
    }

    /// The status, content type and redacted body of an answer, for a snapshot: JSON rendered
    /// by serde_json itself (numbers shown as the literal numbers they are), XML as text.
    fn shown(&self, answer: &TextAnswer) -> String {
        let content_type = answer.header("content-type").unwrap_or_default();
        let body = if content_type.starts_with(JSON) {
            serde_json::to_string_pretty(&self.redact(&answer.json())).unwrap()
        } else {
            self.redact_text(&answer.text)
        };
        format!("{} {content_type}\n{body}", answer.status.as_u16())
    }
}

/// Values that change from run to run, by field (JSON) or element (XML) name.
const VOLATILE: [&str; 5] = [
    "createdDate",
    "modifiedDate",
    "settledDate",
    "disputedDate",
    "nextCursor",
];

/// Replaces the text of every `<name>...</name>` with `[name]`.
fn redact_element(xml: &str, name: &str) -> String {
    let (open, close) = (format!("<{name}>"), format!("</{name}>"));
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let (head, tail) = rest.split_at(start + open.len());
        out.push_str(head);
        let end = tail.find(&close).expect("a closed element");
        out.push_str(&format!("[{name}]"));
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

macro_rules! snapshot {
    ($desk:expr, $name:expr, $answer:expr) => {
        insta::assert_snapshot!($name, $desk.shown(&$answer))
    };
}

/// A request for `account` that conflicts with no other item's.
fn request(account: &str, amount: Value) -> Value {
    json!({
        "amount": amount,
        "notes": {
            "domainId": 34,
            "accountId": account,
            "reasonId": "2",
            "status": 102,
            "comments": [{ "comment": "Roaming charged twice." }, { "comment": "See the bill." }]
        }
    })
}

fn error_code(answer: &TextAnswer) -> String {
    let body = answer.json();
    assert_eq!(body["status"], answer.status.as_u16(), "{body:#}");
    assert!(body["type"].is_string() && body["title"].is_string() && body["detail"].is_string());
    body["o:errorCode"]
        .as_str()
        .expect("an error code")
        .to_owned()
}

async fn the_seed_request_opens_a_dispute_as_json(store: Store) {
    let desk = desk(store).await;
    let answer = desk
        .post(
            &format!("/disputes/item/{SEED_ITEM}"),
            JSON,
            JSON,
            SEED_BODY,
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["extension"], Value::Null);
    let id = body["reference"]["id"].as_str().unwrap();
    assert!(id.starts_with("0.0.0.1+-item-dispute+"), "{id}");
    let uri = body["reference"]["uri"].as_str().unwrap();
    assert_eq!(uri, format!("{}/disputes/{id}", desk.base()));
    assert_eq!(answer.header("location"), Some(uri));
    snapshot!(desk, "open_json", answer);

    // The uri resolves, and shows what was sent.
    let read = desk
        .server
        .send(
            Method::GET,
            &uri.replace(&desk.server.base, ""),
            desk.me(),
            &[],
            None,
        )
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    let dispute = read.json();
    assert_eq!(dispute["id"], id);
    assert_eq!(dispute["itemId"], SEED_ITEM);
    assert_eq!(dispute["accountId"], SEED_ACCOUNT);
    assert_eq!(dispute["billUnitId"], "0.0.0.1+-billinfo+244392");
    assert_eq!(dispute["amount"], json!(5));
    assert_eq!(dispute["includeTax"], false);
    assert_eq!(dispute["amountIsCredit"], true);
    assert_eq!(dispute["notes"]["amount"], json!(-5));
    assert_eq!(dispute["notes"]["domainId"], json!(34));
    assert_eq!(dispute["notes"]["reasonId"], "1");
    assert_eq!(dispute["notes"]["status"], json!(101));
    assert_eq!(
        dispute["notes"]["comments"],
        json!([{ "comment": "Customer disagrees with item charges." }])
    );
    assert_eq!(dispute["status"], "open");
    assert_eq!(dispute["settlement"], Value::Null);
    snapshot!(desk, "get_json", read);

    let as_xml = desk.get(&format!("/disputes/{id}"), XML).await;
    assert_eq!(as_xml.status, StatusCode::OK);
    snapshot!(desk, "get_xml", as_xml);
}

async fn the_seed_request_opens_a_dispute_as_xml(store: Store) {
    let desk = desk(store).await;
    let answer = desk
        .post(&format!("/disputes/item/{SEED_ITEM}"), XML, XML, SEED_XML)
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    assert_eq!(answer.header("content-type"), Some(XML));
    snapshot!(desk, "open_xml", answer);
    let uri = answer.header("location").unwrap().to_owned();
    assert!(
        answer.text.contains(&format!("<uri>{uri}</uri>")),
        "{}",
        answer.text
    );

    // The same dispute as the JSON request makes.
    let read = desk
        .server
        .send(
            Method::GET,
            &uri.replace(&desk.server.base, ""),
            desk.me(),
            &[],
            None,
        )
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    let dispute = read.json();
    assert_eq!(dispute["itemId"], SEED_ITEM);
    assert_eq!(dispute["amount"], json!(5));
    assert_eq!(dispute["includeTax"], false);
    assert_eq!(dispute["notes"]["amount"], json!(-5));
    assert_eq!(dispute["notes"]["domainId"], json!(34));
    assert_eq!(dispute["notes"]["reasonId"], "1");
    assert_eq!(dispute["notes"]["status"], json!(101));
    assert_eq!(
        dispute["notes"]["comments"],
        json!([{ "comment": "Customer disagrees with item charges." }])
    );

    // A second open dispute for the same item is a conflict, in XML too.
    let again = desk
        .post(
            &format!("/disputes/item/{SEED_ITEM}"),
            "text/xml",
            XML,
            SEED_XML,
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(
        again
            .text
            .contains("<o:errorCode>duplicate_dispute</o:errorCode>"),
        "{}",
        again.text
    );
    snapshot!(desk, "duplicate_xml", again);
}

async fn json_numbers_stay_exact(store: Store) {
    let desk = desk(store).await;
    let body = r#"{"amount": 12345678901234567.89, "amountIsCredit": false,
        "notes": {"accountId": "acct-exact", "amount": 12345678901234567.89}}"#;
    let answer = desk
        .post("/disputes/item/item-exact", JSON, JSON, body)
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let id = answer.json()["reference"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let read = desk.get(&format!("/disputes/{id}"), JSON).await;
    assert!(
        read.text.contains(r#""amount":12345678901234567.89"#),
        "{}",
        read.text
    );
    assert_eq!(read.json()["amountIsCredit"], false);

    let small = desk
        .open("item-small", &request("acct-exact", json!(19.99)))
        .await;
    let read = desk.get(&format!("/disputes/{small}"), JSON).await;
    assert!(read.text.contains(r#""amount":19.99"#), "{}", read.text);

    let settled = desk.settle(&id, &json!({ "amount": 0.01 })).await;
    assert_eq!(settled.status, StatusCode::CREATED, "{}", settled.text);
    let report = desk.get(&format!("/disputes/settlement/{id}"), JSON).await;
    assert!(
        report
            .text
            .contains(r#""amountDueAfterSettlement":12345678901234567.88"#),
        "{}",
        report.text
    );
    let xml = desk.get(&format!("/disputes/settlement/{id}"), XML).await;
    assert!(
        xml.text
            .contains("<disputedAmount>12345678901234567.89</disputedAmount>"),
        "{}",
        xml.text
    );
}

async fn disputes_are_listed_by_account(store: Store) {
    let desk = desk(store).await;
    let first = desk.open("item-1", &request("acct-1", json!(5))).await;
    let mut on_a_bill = request("acct-1", json!("7.50"));
    on_a_bill["notes"]["billId"] = json!("0.0.0.1+-bill+77");
    on_a_bill["amountIsCredit"] = json!(false);
    let second = desk.open("item-2", &on_a_bill).await;
    let settled = desk.open("item-4", &request("acct-1", json!(2))).await;
    let answer = desk.settle(&settled, &json!({ "amount": 2 })).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    desk.open("item-3", &request("acct-2", json!(1))).await;

    // Billing Care's listing: the open disputes, newest first, as A/R actions.
    let listed = desk.get("/disputes/account/acct-1", JSON).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let actions = listed.json();
    let ids: Vec<_> = actions
        .as_array()
        .expect("a bare array")
        .iter()
        .map(|a| a["arActionRef"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        ids,
        [second.clone(), first.clone()],
        "open ones, newest first"
    );
    assert_eq!(actions[0]["arActionType"], 6);
    assert_eq!(actions[0]["arActionAmount"].to_string(), "7.50", "a debit");
    assert_eq!(actions[1]["arActionAmount"].to_string(), "-5", "a credit");
    assert_eq!(actions[0]["billID"], "0.0.0.1+-bill+77");
    assert_eq!(actions[0]["billingStatus"], 1);
    assert_eq!(actions[1]["billingStatus"], 2);
    snapshot!(desk, "list_json", listed);
    snapshot!(
        desk,
        "list_xml",
        desk.get("/disputes/account/acct-1", XML).await
    );
    let expanded = desk
        .get("/disputes/account/acct-1?expand=childonly", JSON)
        .await;
    assert_eq!(expanded.json(), actions);
    let bad = desk.get("/disputes/account/acct-1?expand=some", JSON).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let by_bill = desk.get("/disputes/bill/0.0.0.1+-bill+77", JSON).await;
    assert_eq!(by_bill.status, StatusCode::OK, "{}", by_bill.text);
    assert_eq!(by_bill.json(), json!([actions[0].clone()]));
    let no_bill = desk.get("/disputes/bill/0.0.0.1+-bill+78", JSON).await;
    assert_eq!(no_bill.json(), json!([]));
    // The disputed bill's notes: those of its newest dispute.
    let notes = desk.get("/disputes/notes/0.0.0.1+-bill+77", JSON).await;
    assert_eq!(notes.status, StatusCode::OK, "{}", notes.text);
    assert_eq!(notes.json()["notes"]["id"], json!(second));
    assert_eq!(notes.json()["notes"]["status"], 102);
    snapshot!(desk, "bill_notes_json", notes);
    let no_notes = desk.get("/disputes/notes/0.0.0.1+-bill+78", JSON).await;
    assert_eq!(no_notes.status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&no_notes), "not_found");

    // Ours: every dispute, settled ones too, a page at a time.
    let all = desk
        .get("/disputes/account/acct-1?limit=20", JSON)
        .await
        .json();
    assert_eq!(all["disputes"].as_array().unwrap().len(), 3);

    // A page at a time.
    let page = desk
        .get("/disputes/account/acct-1?limit=2", JSON)
        .await
        .json();
    assert_eq!(page["disputes"][0]["id"], settled);
    assert_eq!(page["disputes"][1]["id"], second);
    let cursor = page["nextCursor"].as_str().expect("a cursor").to_owned();
    let next = desk
        .get(
            &format!("/disputes/account/acct-1?limit=2&cursor={cursor}"),
            JSON,
        )
        .await
        .json();
    assert_eq!(next["disputes"][0]["id"], first);
    assert_eq!(next["nextCursor"], Value::Null);

    let empty = desk.get("/disputes/account/acct-none", JSON).await;
    assert_eq!(empty.json(), json!([]));
    let bad = desk.get("/disputes/account/acct-1?limit=0", JSON).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&bad), "validation_failed");
    // An account id no account can have (a NUL, a control character, blank) is refused, on
    // every store, before any store is asked.
    for not_an_id in ["acct%00one", "acct%01", "%20"] {
        let refused = desk
            .get(&format!("/disputes/account/{not_an_id}"), JSON)
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{not_an_id}");
        assert_eq!(error_code(&refused), "validation_failed", "{not_an_id}");
    }
}

async fn settle_in_full_in_part_or_deny_and_report(store: Store) {
    let desk = desk(store).await;
    let full = desk.open("item-full", &request("acct-1", json!(5))).await;
    let part = desk
        .open("item-part", &request("acct-1", json!("5.00")))
        .await;
    let deny = desk.open("item-deny", &request("acct-1", json!(5))).await;

    let settlement = json!({
        "amount": 5,
        "notes": { "domainId": 35, "reasonId": "1", "comments": [{ "comment": "Credited in full." }] }
    });
    let answer = desk.settle(&full, &settlement).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let reference = answer.json()["reference"].clone();
    let settlement_id = full.replace("item-dispute", "item-settlement");
    assert_eq!(reference["id"], settlement_id);
    assert_eq!(
        reference["uri"],
        format!("{}/disputes/settlement/{settlement_id}", desk.base())
    );
    snapshot!(desk, "settle_json", answer);

    let report = desk
        .get(&format!("/disputes/settlement/{settlement_id}"), JSON)
        .await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text);
    let shown = report.json();
    assert_eq!(shown["disputedAmount"], json!(5));
    assert_eq!(shown["settledAmount"], json!(5));
    assert_eq!(shown["amountDueAfterSettlement"], json!(0));
    snapshot!(desk, "settlement_json", report);
    let by_dispute = desk
        .get(&format!("/disputes/settlement/{full}"), JSON)
        .await;
    assert_eq!(
        by_dispute.json(),
        shown,
        "the dispute's POID names its settlement too"
    );

    let dispute = desk.get(&format!("/disputes/{full}"), JSON).await;
    assert_eq!(dispute.json()["status"], "resolved");
    assert_eq!(dispute.json()["settlement"]["outcome"], "granted");
    snapshot!(desk, "get_settled_json", dispute);

    // In part, asked in XML and answered in XML.
    let partial = r#"<settlement><amount>2.5</amount><notes><domainId>35</domainId>
        <reasonId>2</reasonId><comments><comment>Half of the roaming.</comment></comments>
        <comments><comment>Goodwill.</comment></comments></notes></settlement>"#;
    let answer = desk
        .post(
            &format!("/disputes/settlement/item/{part}"),
            XML,
            XML,
            partial,
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    snapshot!(desk, "settle_xml", answer);
    let report = desk.get(&format!("/disputes/settlement/{part}"), XML).await;
    assert!(
        report.text.contains("<settledAmount>2.5</settledAmount>"),
        "{}",
        report.text
    );
    assert!(
        report
            .text
            .contains("<amountDueAfterSettlement>2.50</amountDueAfterSettlement>"),
        "{}",
        report.text
    );
    snapshot!(desk, "settlement_xml", report);
    let dispute = desk.get(&format!("/disputes/{part}"), JSON).await.json();
    assert_eq!(dispute["settlement"]["outcome"], "partially_granted");
    assert_eq!(
        dispute["settlement"]["notes"]["comments"],
        json!([{ "comment": "Half of the roaming." }, { "comment": "Goodwill." }])
    );
    snapshot!(
        desk,
        "get_settled_xml",
        desk.get(&format!("/disputes/{part}"), XML).await
    );

    // Denied: nothing granted, everything still due.
    let answer = desk.settle(&deny, &json!({ "amount": 0 })).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let report = desk
        .get(&format!("/disputes/settlement/{deny}"), JSON)
        .await
        .json();
    assert_eq!(report["settledAmount"], json!(0));
    assert_eq!(report["amountDueAfterSettlement"], json!(5));
    let dispute = desk.get(&format!("/disputes/{deny}"), JSON).await.json();
    assert_eq!(dispute["settlement"]["outcome"], "denied");
}

async fn settling_twice_or_beyond_the_disputed_amount_is_rejected(store: Store) {
    let desk = desk(store).await;
    let id = desk.open("item-1", &request("acct-1", json!(5))).await;

    let none_yet = desk.get(&format!("/disputes/settlement/{id}"), JSON).await;
    assert_eq!(none_yet.status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&none_yet), "settlement_not_found");
    snapshot!(desk, "settlement_not_found_json", none_yet);

    let over = desk.settle(&id, &json!({ "amount": "5.01" })).await;
    assert_eq!(over.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&over), "invalid_settlement");
    snapshot!(desk, "settle_over_json", over);
    let negative = desk.settle(&id, &json!({ "amount": -1 })).await;
    assert_eq!(error_code(&negative), "invalid_settlement");
    let unknown = desk
        .settle(
            &id,
            &json!({ "amount": 1, "notes": { "domainId": 35, "reasonId": 99 } }),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&unknown), "unknown_reason");
    let missing = desk.settle(&id, &json!({ "notes": {} })).await;
    assert_eq!(error_code(&missing), "validation_failed");
    let dispute = desk.get(&format!("/disputes/{id}"), JSON).await.json();
    assert_eq!(
        dispute["status"], "open",
        "a refused settlement changes nothing"
    );

    let ok = desk.settle(&id, &json!({ "amount": 1 })).await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text);
    let again = desk.settle(&id, &json!({ "amount": 1 })).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(error_code(&again), "dispute_final");
    snapshot!(desk, "settle_twice_json", again);
    let again_xml = desk
        .post(
            &format!("/disputes/settlement/item/{id}"),
            XML,
            XML,
            "<settlement><amount>1</amount></settlement>",
        )
        .await;
    assert_eq!(again_xml.status, StatusCode::CONFLICT);
    snapshot!(desk, "settle_twice_xml", again_xml);
    let report = desk
        .get(&format!("/disputes/settlement/{id}"), JSON)
        .await
        .json();
    assert_eq!(
        report["settledAmount"],
        json!(1),
        "the first settlement stands"
    );

    let unknown = desk
        .settle("0.0.0.1+-item-dispute+999999", &json!({ "amount": 1 }))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    // Billing Care names the disputed item in the path: the item's dispute is settled, once.
    let by_item = desk.open("item-9", &request("acct-1", json!(5))).await;
    let settled = desk.settle("item-9", &json!({ "amount": 2 })).await;
    assert_eq!(settled.status, StatusCode::CREATED, "{}", settled.text);
    let report = desk
        .get(&format!("/disputes/settlement/{by_item}"), JSON)
        .await
        .json();
    assert_eq!(report["settledAmount"], json!(2));
    let twice = desk.settle("item-9", &json!({ "amount": 2 })).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert_eq!(error_code(&twice), "dispute_final");
    let no_item = desk.settle("item-none", &json!({ "amount": 1 })).await;
    assert_eq!(no_item.status, StatusCode::NOT_FOUND);
    let not_an_id = desk.settle("item%00", &json!({ "amount": 1 })).await;
    assert_eq!(not_an_id.status, StatusCode::BAD_REQUEST);
}

async fn another_tenant_sees_nothing(store: Store) {
    let desk = desk(store).await;
    let id = desk.open("item-1", &request("acct-1", json!(5))).await;
    let them = Some((OTHER_USER, desk.other_password.as_str()));
    let send = |method: Method, path: String, body: Option<String>| {
        let server = &desk.server;
        async move {
            server
                .send(
                    method,
                    &format!("{BASE}{path}"),
                    them,
                    &[("content-type", JSON)],
                    body.map(String::into_bytes),
                )
                .await
        }
    };
    let read = send(Method::GET, format!("/disputes/{id}"), None).await;
    assert_eq!(read.status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&read), "not_found");
    snapshot!(desk, "not_found_json", read);
    let settle = send(
        Method::POST,
        format!("/disputes/settlement/item/{id}"),
        Some(r#"{"amount": 1}"#.to_owned()),
    )
    .await;
    assert_eq!(settle.status, StatusCode::NOT_FOUND);
    let report = send(Method::GET, format!("/disputes/settlement/{id}"), None).await;
    assert_eq!(report.status, StatusCode::NOT_FOUND);
    let listed = send(Method::GET, "/disputes/account/acct-1".into(), None).await;
    assert_eq!(listed.json(), json!([]));
    // Their own dispute on the same item is theirs alone.
    let own = send(
        Method::POST,
        "/disputes/item/item-1".into(),
        Some(request("acct-1", json!(5)).to_string()),
    )
    .await;
    assert_eq!(own.status, StatusCode::CREATED, "{}", own.text);

    let xml = desk
        .get("/disputes/0.0.0.1+-item-dispute+999999", XML)
        .await;
    assert_eq!(xml.status, StatusCode::NOT_FOUND);
    snapshot!(desk, "not_found_xml", xml);
    let not_ours = desk
        .get("/disputes/0.0.0.1+-item-cycle_forward+1", JSON)
        .await;
    assert_eq!(not_ours.status, StatusCode::NOT_FOUND);
}

/// Who a bad request claims to be.
enum Auth {
    /// The desk's own billing user.
    Desk,
    Nobody,
    Basic(&'static str, String),
    /// An `Authorization` header as is.
    Header(String),
}

/// One bad request: how it is sent, and what must come back.
struct Bad {
    name: &'static str,
    content_type: &'static str,
    accept: &'static str,
    body: String,
    auth: Auth,
    status: StatusCode,
    code: &'static str,
}

fn bad(name: &'static str, body: impl Into<String>, status: StatusCode, code: &'static str) -> Bad {
    Bad {
        name,
        content_type: JSON,
        accept: JSON,
        body: body.into(),
        auth: Auth::Desk,
        status,
        code,
    }
}

fn seed_with(change: impl FnOnce(&mut Value)) -> String {
    let mut body: Value = serde_json::from_str(SEED_BODY).unwrap();
    change(&mut body);
    body.to_string()
}

/// Billion laughs: ten levels of ten, a billion `lol`s if anything expanded it.
fn entity_bomb() -> String {
    let mut doc =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n");
    for level in 1..=9 {
        let previous = if level == 1 {
            "lol".to_owned()
        } else {
            format!("lol{}", level - 1)
        };
        let refs = format!("&{previous};").repeat(10);
        doc.push_str(&format!(" <!ENTITY lol{level} \"{refs}\">\n"));
    }
    doc.push_str("]>\n<itemDispute><amount>&lol9;</amount></itemDispute>");
    doc
}

async fn bad_input_is_refused_in_the_contracts_shape_and_stores_nothing(store: Store) {
    let desk = desk(store).await;
    let delivery_key = desk.server.key("acme-telco", "operator", "dev-op");
    let client_password = desk.server.login("acme-telco", "client", "shop-1");
    let no_amount = seed_with(|b| {
        b.as_object_mut().unwrap().remove("amount");
    });
    let cases = vec![
        bad(
            "missing_amount",
            no_amount.clone(),
            StatusCode::BAD_REQUEST,
            "validation_failed",
        ),
        bad(
            "missing_account",
            seed_with(|b| {
                b["notes"].as_object_mut().unwrap().remove("accountId");
            }),
            StatusCode::BAD_REQUEST,
            "validation_failed",
        ),
        bad(
            "amount_zero",
            seed_with(|b| b["amount"] = json!(0)),
            StatusCode::BAD_REQUEST,
            "invalid_amount",
        ),
        bad(
            "amount_negative",
            seed_with(|b| b["amount"] = json!(-5)),
            StatusCode::BAD_REQUEST,
            "invalid_amount",
        ),
        bad(
            "amount_not_a_number",
            seed_with(|b| b["amount"] = json!("five")),
            StatusCode::BAD_REQUEST,
            "validation_failed",
        ),
        bad(
            "unknown_note_status",
            seed_with(|b| b["notes"]["status"] = json!(103)),
            StatusCode::BAD_REQUEST,
            "validation_failed",
        ),
        bad(
            "unknown_reason",
            seed_with(|b| b["notes"]["reasonId"] = json!("99")),
            StatusCode::BAD_REQUEST,
            "unknown_reason",
        ),
        bad(
            "unknown_reason_domain",
            seed_with(|b| b["notes"]["domainId"] = json!(77)),
            StatusCode::BAD_REQUEST,
            "unknown_reason",
        ),
        bad(
            "malformed_json",
            r#"{"amount": 5,"#,
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        bad(
            "json_not_an_object",
            "[1, 2]",
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        Bad {
            content_type: XML,
            accept: XML,
            ..bad(
                "malformed_xml",
                "<itemDispute><amount>5</amount></notes>",
                StatusCode::BAD_REQUEST,
                "malformed_xml",
            )
        },
        Bad {
            content_type: XML,
            accept: XML,
            ..bad(
                "xml_entity_bomb",
                entity_bomb(),
                StatusCode::BAD_REQUEST,
                "xml_doctype_refused",
            )
        },
        // A second document after the first is refused, not ignored.
        Bad {
            content_type: XML,
            accept: XML,
            ..bad(
                "xml_two_roots",
                format!("{SEED_XML}<itemDispute><amount>7</amount></itemDispute>"),
                StatusCode::BAD_REQUEST,
                "malformed_xml",
            )
        },
        Bad {
            content_type: XML,
            ..bad(
                "xml_too_deep",
                format!("{}{}", "<a>".repeat(40), "</a>".repeat(40)),
                StatusCode::BAD_REQUEST,
                "xml_too_deep",
            )
        },
        Bad {
            content_type: XML,
            accept: XML,
            ..bad(
                "xml_missing_amount",
                SEED_XML.replace("<amount>5</amount>", ""),
                StatusCode::BAD_REQUEST,
                "validation_failed",
            )
        },
        Bad {
            content_type: XML,
            ..bad(
                "xml_amount_not_a_number",
                SEED_XML.replace("<amount>5</amount>", "<amount>5,00</amount>"),
                StatusCode::BAD_REQUEST,
                "validation_failed",
            )
        },
        Bad {
            content_type: "text/plain",
            ..bad(
                "wrong_content_type",
                SEED_BODY,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
            )
        },
        bad(
            "too_large",
            format!(r#"{{"amount": 5, "pad": "{}"}}"#, "x".repeat(1024 * 1024)),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        Bad {
            auth: Auth::Nobody,
            ..bad(
                "no_credentials",
                SEED_BODY,
                StatusCode::UNAUTHORIZED,
                "unauthorized",
            )
        },
        Bad {
            auth: Auth::Basic(USER, "wrong-password".into()),
            accept: XML,
            ..bad(
                "wrong_password",
                SEED_BODY,
                StatusCode::UNAUTHORIZED,
                "unauthorized",
            )
        },
        Bad {
            auth: Auth::Basic("nobody", "x".into()),
            ..bad(
                "unknown_user",
                SEED_BODY,
                StatusCode::UNAUTHORIZED,
                "unauthorized",
            )
        },
        Bad {
            auth: Auth::Header(format!("Bearer {delivery_key}")),
            ..bad(
                "bearer_key",
                SEED_BODY,
                StatusCode::UNAUTHORIZED,
                "unauthorized",
            )
        },
        Bad {
            auth: Auth::Header("Basic not-base64!".into()),
            ..bad(
                "garbled_basic",
                SEED_BODY,
                StatusCode::UNAUTHORIZED,
                "unauthorized",
            )
        },
        Bad {
            auth: Auth::Basic("shop-1", client_password),
            ..bad(
                "not_a_billing_user",
                SEED_BODY,
                StatusCode::FORBIDDEN,
                "forbidden_role",
            )
        },
    ];
    for case in cases {
        let mut headers = vec![("content-type", case.content_type), ("accept", case.accept)];
        let basic = match &case.auth {
            Auth::Desk => desk.me(),
            Auth::Basic(username, password) => Some((*username, password.as_str())),
            Auth::Nobody => None,
            Auth::Header(header) => {
                headers.push(("authorization", header.as_str()));
                None
            }
        };
        let started = Instant::now();
        let answer = desk
            .server
            .send(
                Method::POST,
                &format!("{BASE}/disputes/item/{SEED_ITEM}"),
                basic,
                &headers,
                Some(case.body.clone().into_bytes()),
            )
            .await;
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{} was slow",
            case.name
        );
        assert_eq!(answer.status, case.status, "{}: {}", case.name, answer.text);
        if case.accept == XML {
            assert_eq!(answer.header("content-type"), Some(XML), "{}", case.name);
            assert!(
                answer
                    .text
                    .contains(&format!("<o:errorCode>{}</o:errorCode>", case.code)),
                "{}: {}",
                case.name,
                answer.text
            );
        } else {
            assert_eq!(error_code(&answer), case.code, "{}", case.name);
        }
        if case.status == StatusCode::UNAUTHORIZED {
            assert_eq!(
                answer.header("www-authenticate"),
                Some(r#"Basic realm="disputes""#),
                "{}",
                case.name
            );
        }
        snapshot!(desk, format!("bad_{}", case.name), answer);
    }

    // Nothing of it was stored: the seed's account has no dispute, and the seed request itself
    // still opens one.
    let listed = desk
        .get(&format!("/disputes/account/{SEED_ACCOUNT}?limit=100"), JSON)
        .await;
    assert_eq!(listed.json()["disputes"], json!([]));
    let answer = desk
        .post(
            &format!("/disputes/item/{SEED_ITEM}"),
            JSON,
            JSON,
            SEED_BODY,
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
}

async fn unknown_routes_and_methods_answer_in_the_contracts_shape(store: Store) {
    let desk = desk(store).await;
    let unknown = desk.get("/nowhere", JSON).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&unknown), "route_not_found");
    snapshot!(desk, "route_not_found_json", unknown);
    let unknown_xml = desk.get("/nowhere", XML).await;
    assert_eq!(unknown_xml.header("content-type"), Some(XML));
    snapshot!(desk, "route_not_found_xml", unknown_xml);
    let method = desk
        .server
        .send(
            Method::DELETE,
            &format!("{BASE}/disputes/item/{SEED_ITEM}"),
            desk.me(),
            &[],
            None,
        )
        .await;
    assert_eq!(method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(error_code(&method), "method_not_allowed");
    snapshot!(desk, "method_not_allowed_json", method);
}

/// Billing Care needs only the amount to open a dispute, and takes a note amount of either sign.
async fn an_amount_alone_opens_and_a_note_amount_is_kept_as_sent(store: Store) {
    let desk = desk(store).await;
    let id = desk
        .open("0.0.0.1+-item-cycle_forward+1", &json!({ "amount": 5 }))
        .await;
    let read = desk.get(&format!("/disputes/{id}"), JSON).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    let dispute = read.json();
    assert_eq!(dispute["accountId"], Value::Null);
    assert_eq!(dispute["amountIsCredit"], true);
    assert_eq!(dispute["includeTax"], true);
    assert_eq!(
        dispute["notes"]["status"],
        json!(102),
        "unresolved by default"
    );
    snapshot!(desk, "get_amount_alone_json", read);

    let mut positive: Value = serde_json::from_str(SEED_BODY).unwrap();
    positive["notes"]["amount"] = json!(5);
    let id = desk.open("0.0.0.1+-item-cycle_forward+2", &positive).await;
    let read = desk.get(&format!("/disputes/{id}"), JSON).await;
    assert_eq!(read.json()["notes"]["amount"], json!(5));

    // Notes, once sent, name their account.
    let answer = desk
        .post(
            "/disputes/item/0.0.0.1+-item-cycle_forward+3",
            JSON,
            JSON,
            r#"{"amount": 5, "notes": {"status": 102}}"#,
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text);
    assert!(answer.text.contains("notes.accountId"), "{}", answer.text);
}

const SEED_BILL: &str = "0.0.0.1+-bill+243368";
const EVENT_1: &str = "0.0.0.1+-event-session-telco-gsm+295437";
const EVENT_2: &str = "0.0.0.1+-event-session-telco-gsm+295438";
const EVENT_3: &str = "0.0.0.1+-event-session-telco-gsm+295439";

/// Billing Care's event dispute body: the account, the events, and the terms of an opening.
fn event_request(events: &[&str]) -> Value {
    json!({
        "accountRef": { "id": SEED_ACCOUNT, "uri": format!("{BASE}/accounts/{SEED_ACCOUNT}") },
        "amount": 2.5,
        "events": { "eventRef": events.iter().map(|id| json!({ "id": id })).collect::<Vec<_>>() },
        "appliesToTotalOfAllEvents": false,
        "percent": 5,
        "taxType": 9,
        "resourceId": 840,
        "actionAffectsRef": { "id": "0.0.0.1+-service-telco-gsm+1" },
        "notes": {
            "accountId": SEED_ACCOUNT,
            "domainId": 34,
            "reasonId": "1",
            "type": "dispute",
            "subType": "roaming",
            "header": "Roaming in March",
            "comments": [{
                "comment": "Roaming sessions charged twice.",
                "csrLoginId": "csr1",
                "csrFirstName": "Ada",
                "csrLastName": "Lovelace",
                "externalUser": "crm",
                "trackingId": "T-1",
                "entryDate": 1613523331000_i64
            }]
        }
    })
}

/// A Billing Care client disputes a whole bill and some usage events, finds them in the A/R
/// listing, and settles each through its own settlement call: by the bill's id and by one of
/// the events' ids.
async fn bills_and_events_are_disputed_listed_and_settled(store: Store) {
    let desk = desk(store).await;
    // A bill dispute: the item body, on the bill.
    let mut bill_body: Value = serde_json::from_str(SEED_BODY).unwrap();
    bill_body["amount"] = json!(10);
    let opened = desk
        .post_json(
            &format!("/disputes/bill/{SEED_BILL}"),
            &bill_body.to_string(),
        )
        .await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.text);
    snapshot!(desk, "open_bill_json", opened);
    let bill = reference(&opened);
    let shown = desk.get(&format!("/disputes/{bill}"), JSON).await;
    assert_eq!(shown.json()["disputeType"], "bill");
    assert_eq!(shown.json()["billId"], SEED_BILL);
    assert_eq!(shown.json()["itemId"], Value::Null);
    snapshot!(desk, "get_bill_json", shown);
    let again = desk
        .post_json(
            &format!("/disputes/bill/{SEED_BILL}"),
            &bill_body.to_string(),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    assert_eq!(error_code(&again), "duplicate_dispute");
    assert!(again.text.contains("this bill"), "{}", again.text);
    // An item of the bill is disputed apart from it.
    let mut item_on_bill = request(SEED_ACCOUNT, json!(1));
    item_on_bill["notes"]["billId"] = json!(SEED_BILL);
    let item = desk.open(SEED_ITEM, &item_on_bill).await;

    // An event dispute, in JSON and in XML.
    let opened = desk
        .post_json(
            "/disputes/event",
            &event_request(&[EVENT_1, EVENT_2]).to_string(),
        )
        .await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.text);
    let events = reference(&opened);
    let shown = desk.get(&format!("/disputes/{events}"), JSON).await;
    let dispute = shown.json();
    assert_eq!(dispute["disputeType"], "event");
    assert_eq!(
        dispute["events"],
        json!({ "eventRef": [{ "id": EVENT_1 }, { "id": EVENT_2 }] })
    );
    assert_eq!(dispute["appliesToTotalOfAllEvents"], false);
    assert_eq!(dispute["percent"], json!(5));
    assert_eq!(dispute["taxType"], 9);
    assert_eq!(dispute["includeTax"], false);
    assert_eq!(dispute["accountId"], SEED_ACCOUNT);
    // What Billing Care records beyond the terms comes back as it was sent.
    assert_eq!(dispute["resourceId"], 840);
    assert_eq!(
        dispute["actionAffectsRef"]["id"],
        "0.0.0.1+-service-telco-gsm+1"
    );
    assert_eq!(dispute["notes"]["type"], "dispute");
    assert_eq!(dispute["notes"]["subType"], "roaming");
    assert_eq!(dispute["notes"]["header"], "Roaming in March");
    let comment = &dispute["notes"]["comments"][0];
    assert_eq!(comment["csrLoginId"], "csr1");
    assert_eq!(comment["csrLastName"], "Lovelace");
    assert_eq!(comment["csrAccountId"], Value::Null);
    assert_eq!(comment["entryDate"], "2021-02-17T00:55:31Z");
    snapshot!(desk, "get_event_json", shown);
    let xml = format!(
        r#"<eventDispute><accountRef><id>{SEED_ACCOUNT}</id></accountRef><amount>1.25</amount>
        <events><eventRef><id>{EVENT_3}</id></eventRef></events>
        <notes><accountId>{SEED_ACCOUNT}</accountId><comments><comment>One.</comment></comments>
        <comments><comment>Two.</comment></comments></notes></eventDispute>"#
    );
    let opened = desk.post("/disputes/event", XML, XML, &xml).await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.text);
    let third = desk
        .get(
            &format!("/disputes/{}", desk_reference_xml(&opened.text)),
            JSON,
        )
        .await
        .json();
    assert_eq!(third["events"]["eventRef"], json!([{ "id": EVENT_3 }]));
    assert_eq!(third["appliesToTotalOfAllEvents"], true, "the default");
    assert_eq!(
        third["notes"]["comments"],
        json!([{ "comment": "One." }, { "comment": "Two." }])
    );
    // An event already disputed on the account is a duplicate.
    let again = desk
        .post_json(
            "/disputes/event",
            &event_request(&[EVENT_3, "another"]).to_string(),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);

    // The account's A/R listing: 9 open event disputes, 6 an open item dispute, 11 the bill.
    let listed = desk
        .get(&format!("/disputes/account/{SEED_ACCOUNT}"), JSON)
        .await
        .json();
    let types: Vec<_> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["arActionType"].clone())
        .collect();
    assert_eq!(types, [json!(9), json!(9), json!(6), json!(11)]);
    snapshot!(
        desk,
        "list_every_kind_json",
        desk.get(&format!("/disputes/account/{SEED_ACCOUNT}"), JSON)
            .await
    );
    snapshot!(
        desk,
        "get_event_xml",
        desk.get(&format!("/disputes/{events}"), XML).await
    );
    let on_bill = desk.get(&format!("/disputes/bill/{SEED_BILL}"), JSON).await;
    let refs: Vec<_> = on_bill
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["arActionRef"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        refs,
        [item.clone(), bill.clone()],
        "the bill's open disputes"
    );

    // Settled by the bill's id: 4 of 10 granted.
    let settled = desk
        .post_json(
            &format!("/disputes/settlement/bill/{SEED_BILL}"),
            r#"{"amount": 4, "notes": {"domainId": 35, "reasonId": "2"}}"#,
        )
        .await;
    assert_eq!(settled.status, StatusCode::CREATED, "{}", settled.text);
    let settlement = reference(&settled);
    assert_eq!(settlement, bill.replace("item-dispute", "item-settlement"));
    let report = desk
        .get(&format!("/disputes/settlement/{settlement}"), JSON)
        .await
        .json();
    assert_eq!(report["settlementAmount"], json!(4));
    assert_eq!(report["due"], json!(6));
    assert_eq!(report["billId"], SEED_BILL);
    assert_eq!(report["eventsCount"], Value::Null);
    let twice = desk
        .post_json(
            &format!("/disputes/settlement/bill/{SEED_BILL}"),
            r#"{"amount": 1}"#,
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.text);
    assert_eq!(error_code(&twice), "dispute_final");

    // Settled by one of its events: denied.
    let settled = desk
        .post_json(
            &format!("/disputes/settlement/event/{EVENT_2}"),
            r#"{"amount": 0}"#,
        )
        .await;
    assert_eq!(settled.status, StatusCode::CREATED, "{}", settled.text);
    let report = desk
        .get(&format!("/disputes/settlement/{events}"), JSON)
        .await;
    assert_eq!(report.json()["eventsCount"], "2");
    assert_eq!(report.json()["itemId"], Value::Null);
    snapshot!(desk, "event_settlement_json", report);
    let nothing = desk
        .post_json(
            "/disputes/settlement/event/never-disputed",
            r#"{"amount": 0}"#,
        )
        .await;
    assert_eq!(nothing.status, StatusCode::NOT_FOUND, "{}", nothing.text);
    assert_eq!(error_code(&nothing), "not_found");
    let nothing = desk
        .post_json(
            "/disputes/settlement/bill/never-disputed",
            r#"{"amount": 0}"#,
        )
        .await;
    assert_eq!(nothing.status, StatusCode::NOT_FOUND, "{}", nothing.text);

    // Now only the item and the third event dispute are open.
    let listed = desk
        .get(&format!("/disputes/account/{SEED_ACCOUNT}"), JSON)
        .await
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 2);

    // Another tenant finds none of them.
    let them = Some((OTHER_USER, desk.other_password.as_str()));
    let theirs = desk
        .server
        .send(
            Method::POST,
            &format!("{BASE}/disputes/settlement/event/{EVENT_3}"),
            them,
            &[("content-type", JSON)],
            Some(br#"{"amount": 0}"#.to_vec()),
        )
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "{}", theirs.text);
}

/// The POID in a JSON creation answer.
fn reference(answer: &TextAnswer) -> String {
    answer.json()["reference"]["id"]
        .as_str()
        .expect("a reference")
        .to_owned()
}

/// The POID in an XML creation answer.
fn desk_reference_xml(text: &str) -> String {
    let start = text.find("<id>").expect("an id") + "<id>".len();
    let end = text[start..].find("</id>").expect("a closed id") + start;
    text[start..end].to_owned()
}

/// Every bad part of a bill or event dispute is named, and nothing is stored.
async fn bad_bill_and_event_disputes_are_refused(store: Store) {
    let desk = desk(store).await;
    let with = |change: fn(&mut Value)| {
        let mut body = event_request(&[EVENT_1]);
        change(&mut body);
        body.to_string()
    };
    let cases: [(&str, String, &str); 13] = [
        (
            "a resource that is not a number",
            with(|b| b["resourceId"] = json!("USD")),
            "resourceId",
        ),
        (
            "a control character in a CSR's login",
            with(|b| b["notes"]["comments"][0]["csrLoginId"] = json!("a\u{1}")),
            "notes.comments[0].csrLoginId",
        ),
        (
            "an entry date that is not a time",
            with(|b| b["notes"]["comments"][0]["entryDate"] = json!("yesterday")),
            "notes.comments[0].entryDate",
        ),
        (
            "no account",
            with(|b| drop(b.as_object_mut().unwrap().remove("accountRef"))),
            "accountRef",
        ),
        (
            "no account id",
            with(|b| b["accountRef"] = json!({})),
            "accountRef.id",
        ),
        (
            "no events",
            with(|b| drop(b.as_object_mut().unwrap().remove("events"))),
            "events",
        ),
        (
            "no event refs",
            with(|b| b["events"] = json!({})),
            "events.eventRef",
        ),
        (
            "no event id",
            with(|b| b["events"]["eventRef"] = json!([{}])),
            "events.eventRef[0].id",
        ),
        (
            "an event twice",
            with(|b| b["events"]["eventRef"] = json!([{"id": "e"}, {"id": "e"}])),
            "events.eventRef",
        ),
        (
            "empty events",
            with(|b| b["events"]["eventRef"] = json!([])),
            "events.eventRef",
        ),
        (
            "a tax type BRM lacks",
            with(|b| b["taxType"] = json!(7)),
            "taxType",
        ),
        ("no percent", with(|b| b["percent"] = json!(0)), "percent"),
        (
            "another account's notes",
            with(|b| b["notes"]["accountId"] = json!("acct-other")),
            "notes.accountId",
        ),
    ];
    for (name, body, field) in cases {
        let answer = desk.post_json("/disputes/event", &body).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{name}: {}",
            answer.text
        );
        assert_eq!(error_code(&answer), "validation_failed", "{name}");
        assert!(answer.text.contains(field), "{name}: {}", answer.text);
    }
    // The notes may name the disputed bill, or no bill; another bill is refused.
    let answer = desk
        .post_json(
            &format!("/disputes/bill/{SEED_BILL}"),
            r#"{"amount": 5, "notes": {"accountId": "a", "billId": "0.0.0.1+-bill+1"}}"#,
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text);
    assert!(answer.text.contains("notes.billId"), "{}", answer.text);
    let listed = desk
        .get(&format!("/disputes/account/{SEED_ACCOUNT}"), JSON)
        .await;
    assert_eq!(listed.json(), json!([]), "nothing was stored");
}

/// The references the contract writes start with the server's public URL, never with a Host
/// header a client chose: the listen address by default, `--public-url` when it is set.
async fn references_name_the_public_url_never_the_hosts(store: Store) {
    let desk = desk(store).await;
    let answer = desk
        .server
        .send(
            Method::POST,
            &format!("{BASE}/disputes/item/item-1"),
            desk.me(),
            &[("content-type", JSON), ("host", "evil.example")],
            Some(request("acct-1", json!(5)).to_string().into_bytes()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let uri = answer.json()["reference"]["uri"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(uri.starts_with(&desk.base()), "{uri}");
    assert!(!answer.text.contains("evil.example"), "{}", answer.text);
    assert_eq!(answer.header("location"), Some(uri.as_str()));

    let behind_a_proxy = Server::start_with_env(
        store,
        &[("DISPUTES_PUBLIC_URL", "https://billing.example.com/")],
    )
    .await;
    behind_a_proxy.cli(&["tenant", "create", "acme-telco"]);
    let password = behind_a_proxy.login("acme-telco", "billing", "csr-proxy");
    let answer = behind_a_proxy
        .send(
            Method::POST,
            &format!("{BASE}/disputes/item/item-1"),
            Some(("csr-proxy", password.as_str())),
            &[("content-type", JSON)],
            Some(r#"{"amount": 5}"#.as_bytes().to_vec()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let uri = answer.json()["reference"]["uri"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        uri.starts_with("https://billing.example.com/bcws/webresources/v1.0/disputes/"),
        "{uri}"
    );
}

store_tests!(
    references_name_the_public_url_never_the_hosts,
    bills_and_events_are_disputed_listed_and_settled,
    bad_bill_and_event_disputes_are_refused,
    an_amount_alone_opens_and_a_note_amount_is_kept_as_sent,
    the_seed_request_opens_a_dispute_as_json,
    the_seed_request_opens_a_dispute_as_xml,
    json_numbers_stay_exact,
    disputes_are_listed_by_account,
    settle_in_full_in_part_or_deny_and_report,
    settling_twice_or_beyond_the_disputed_amount_is_rejected,
    another_tenant_sees_nothing,
    bad_input_is_refused_in_the_contracts_shape_and_stores_nothing,
    unknown_routes_and_methods_answer_in_the_contracts_shape,
);
