//! End-to-end tests of the invoice contract (seed 003, SPEC §3) against the real binary.

mod support;

use std::collections::BTreeSet;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::Duration;
use chrono_tz::Europe::Amsterdam;
use disputes_domain::{Digest, DisputeId, EntryKind, Outcome};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{store_tests, Answer, Server, Store};

const TENANT: &str = "webshop-nl";
const USERNAME: &str = "webshop-api";

/// Files whose first bytes are what their type requires, and a little more.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0";
const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n";
const JPEG: &[u8] = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0";
const DOC: &[u8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0\0\0\0\0\0\0\0";
const DOCX: &[u8] = b"PK\x03\x04\x14\0\x06\0\x08\0\0\0!\0";
const HEIC: &[u8] = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic\0\0\0\0";
const ELF: &[u8] = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0";
const EXE: &[u8] = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0";

fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// The seed's request fields with real values (no credentials; [`Desk::post`] adds them).
fn seed_request() -> Value {
    json!({
        "category": "damaged_goods",
        "customerEmail": "jan.devries@example.nl",
        "customerName": "Jan de Vries",
        "invoice": "INV-2026-0042",
        "locale": "nl-NL",
        "message": "De klant meldt dat de lamp beschadigd is aangekomen.\nFoto volgt."
    })
}

fn request_for(invoice: &str) -> Value {
    let mut body = seed_request();
    body["invoice"] = json!(invoice);
    body
}

fn with_file(mut body: Value, name: &str, bytes: &[u8]) -> Value {
    body["file"] = json!(b64(bytes));
    body["fileName"] = json!(name);
    body
}

/// Replaces what differs from run to run (local times, numeric ids, cursors) with placeholders,
/// so that a snapshot shows the shape and every stable value. A `null` stays `null`.
fn redact(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = match (k.as_str(), v) {
                        (_, Value::Null) => Value::Null,
                        ("date" | "nextCursor", _) => json!(format!("[{k}]")),
                        ("id", Value::Number(_)) => json!("[id]"),
                        _ => redact(v),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

/// Snapshots the status and the redacted body, rendered by serde_json itself so that numbers
/// parsed with `arbitrary_precision` show as the numbers they are.
macro_rules! snapshot {
    ($name:expr, $answer:expr) => {{
        let shown = json!({ "status": $answer.status.as_u16(), "body": redact(&$answer.body) });
        insta::assert_snapshot!($name, serde_json::to_string_pretty(&shown).unwrap())
    }};
}

/// A server with one merchant tenant, its owner, and its client login.
struct Desk {
    server: Server,
    billink_id: String,
}

async fn desk(store: Store) -> Desk {
    let server = Server::start(store).await;
    server.tenant_with_owner(TENANT, "Sanne Bakker", "sanne.bakker@billink.example");
    let billink_id = server.login(TENANT, "client", USERNAME);
    Desk { server, billink_id }
}

impl Desk {
    /// A POST with this desk's credentials added to `body`.
    async fn post(&self, path: &str, body: Value) -> Answer {
        self.post_as(USERNAME, &self.billink_id, path, body).await
    }

    async fn post_as(
        &self,
        username: &str,
        billink_id: &str,
        path: &str,
        mut body: Value,
    ) -> Answer {
        body["billinkUsername"] = json!(username);
        body["billinkId"] = json!(billink_id);
        self.server.call(Method::POST, path, None, Some(body)).await
    }

    /// [`post`](Self::post), with the answer as the server wrote it (key order and all).
    async fn post_text(&self, path: &str, mut body: Value) -> String {
        body["billinkUsername"] = json!(USERNAME);
        body["billinkId"] = json!(self.billink_id);
        let answer = self
            .server
            .send(
                Method::POST,
                path,
                None,
                &[("content-type", "application/json")],
                Some(body.to_string().into_bytes()),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        answer.text
    }

    async fn open(&self, body: Value) -> i64 {
        let answer = self.post("/v2/dispute", body).await;
        assert_eq!(answer.status, StatusCode::OK, "{:#}", answer.body);
        answer.body["id"].as_i64().expect("a numeric id")
    }

    async fn info(&self, id: i64) -> Value {
        let answer = self.post("/v2/dispute/info", json!({ "id": id })).await;
        assert_eq!(answer.status, StatusCode::OK, "{:#}", answer.body);
        answer.body
    }

    async fn count(&self) -> usize {
        let answer = self.post("/v2/dispute/list", json!({ "limit": 100 })).await;
        assert_eq!(answer.status, StatusCode::OK, "{:#}", answer.body);
        answer.body["disputes"].as_array().unwrap().len()
    }

    /// Every file in the blob directory.
    fn blobs(&self) -> Vec<std::path::PathBuf> {
        let mut files = Vec::new();
        let mut dirs = vec![self.server.blob_dir().to_path_buf()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    files.push(path);
                }
            }
        }
        files
    }
}

fn error_name(answer: &Answer) -> &str {
    let body = &answer.body;
    let keys: BTreeSet<_> = body
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect();
    assert_eq!(
        keys,
        ["code", "error", "message"].map(String::from).into(),
        "{body:#}"
    );
    let name = body["error"].as_str().expect("an error name");
    let code = body["code"].as_u64().expect("a numeric code");
    assert_eq!(
        code / 100,
        u64::from(answer.status.as_u16()),
        "{name}: the code starts with its status"
    );
    name
}

fn step_names(steps: &Value) -> Vec<&str> {
    steps
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect()
}

fn step_statuses(dispute: &Value) -> Vec<&str> {
    dispute["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect()
}

async fn the_seed_fields_open_a_dispute(store: Store) {
    let desk = desk(store).await;
    let answer = desk.post("/v2/dispute", seed_request()).await;
    assert_eq!(answer.status, StatusCode::OK, "{:#}", answer.body);
    let d = &answer.body;
    let keys: BTreeSet<&str> = d.as_object().unwrap().keys().map(String::as_str).collect();
    let seed: BTreeSet<&str> = [
        "category",
        "client",
        "createdAt",
        "currentStep",
        "customer",
        "disputeContent",
        "emails",
        "freshDeskTicket",
        "id",
        "notificationMode",
        "owner",
        "resolved",
        "resolvedAt",
        "status",
        "steps",
    ]
    .into();
    assert_eq!(keys, seed, "exactly the seed's attributes");
    assert!(d["id"].is_u64(), "id is a number");
    assert_eq!(d["status"], "open");
    assert_eq!(d["resolved"], false);
    assert_eq!(d["resolvedAt"], Value::Null);
    assert_eq!(d["category"], "damaged_goods");
    assert_eq!(d["emails"], json!([]));
    assert_eq!(d["freshDeskTicket"], Value::Null);
    assert_eq!(d["notificationMode"], "email");
    assert_eq!(
        d["customer"],
        json!({
            "name": "Jan de Vries",
            "email": "jan.devries@example.nl",
            "locale": "nl-NL",
            "invoice": "INV-2026-0042"
        })
    );
    assert_eq!(d["client"], json!({ "id": TENANT, "username": USERNAME }));
    assert_eq!(
        d["owner"],
        json!({ "name": "Sanne Bakker", "email": "sanne.bakker@billink.example" })
    );
    assert_eq!(
        step_names(&d["steps"]),
        [
            "registered",
            "collection_on_hold",
            "awaiting_client",
            "awaiting_customer",
            "resolved"
        ]
    );
    assert_eq!(
        step_statuses(d),
        ["done", "done", "current", "pending", "pending"]
    );
    assert_eq!(d["currentStep"]["name"], "awaiting_client");
    let content = d["disputeContent"].as_array().unwrap();
    assert_eq!(content.len(), 1);
    assert_eq!(content[0]["author"], "client");
    assert_eq!(content[0]["text"], seed_request()["message"]);
    assert_eq!(content[0]["attachment"], Value::Null);

    // createdAt is the opening instant as a PHP DateTime in Amsterdam local time.
    let id = DisputeId::new(d["id"].as_i64().unwrap()).unwrap();
    let stored = desk.server.stored(TENANT, id).await;
    let local = stored
        .opened_at()
        .with_timezone(&Amsterdam)
        .format("%Y-%m-%d %H:%M:%S%.6f")
        .to_string();
    assert_eq!(
        d["createdAt"],
        json!({ "date": local, "timezone_type": 3, "timezone": "Europe/Amsterdam" })
    );
    // Opening held the invoice's collection for 14 days, recorded by the opening entry.
    let hold = stored.collection_hold().expect("a collection hold");
    assert_eq!(hold.until, stored.opened_at() + Duration::days(14));
    assert_eq!(stored.timeline().len(), 1);
    assert!(stored.timeline()[0]
        .notes()
        .starts_with("collection on hold until "));
    stored.verify().unwrap();
    snapshot!("open", answer);

    let info = desk
        .post("/v2/dispute/info", json!({ "id": d["id"] }))
        .await;
    assert_eq!(info.status, StatusCode::OK);
    assert_eq!(&info.body, d, "info shows what opening returned");
    // PHP clients send ids as strings too.
    let as_text = desk
        .post("/v2/dispute/info", json!({ "id": d["id"].to_string() }))
        .await;
    assert_eq!(&as_text.body, d);
    snapshot!("info", info);

    // The owner is tenant configuration, and every answer shows the current one.
    desk.server.cli(&[
        "tenant",
        "set-owner",
        TENANT,
        "--name",
        "Joost de Wit",
        "--email",
        "joost@billink.example",
    ]);
    let reassigned = desk.info(d["id"].as_i64().unwrap()).await;
    assert_eq!(
        reassigned["owner"],
        json!({ "name": "Joost de Wit", "email": "joost@billink.example" })
    );

    let duplicate = desk.post("/v2/dispute", seed_request()).await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    assert_eq!(error_name(&duplicate), "duplicate_dispute");
    snapshot!("error_duplicate_dispute", duplicate);
}

async fn a_file_is_kept_by_its_hash_and_served_only_to_its_tenant(store: Store) {
    let mut desk = desk(store).await;
    let answer = desk
        .post("/v2/dispute", with_file(seed_request(), "lamp.png", PNG))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{:#}", answer.body);
    let sha256 = Digest::of(PNG).to_hex();
    assert_eq!(
        answer.body["disputeContent"][0]["attachment"],
        json!({ "name": "lamp.png", "type": "image/png", "size": PNG.len(), "sha256": sha256 })
    );
    snapshot!("open_with_file", answer);
    let id = answer.body["id"].as_i64().unwrap();

    // Content-addressed under the tenant, and nowhere else.
    assert_eq!(
        desk.blobs(),
        [desk.server.blob_dir().join(TENANT).join(&sha256)]
    );
    // The file is sealed with the evidence the dispute was opened with.
    let stored = desk
        .server
        .stored(TENANT, DisputeId::new(id).unwrap())
        .await;
    assert!(stored
        .evidence()
        .values(disputes_domain::EvidenceKind::Attachment)
        .any(|v| v == format!("sha256:{sha256}")));

    let fetched = desk
        .post(
            "/v2/dispute/attachment",
            json!({ "id": id, "sha256": sha256 }),
        )
        .await;
    assert_eq!(fetched.status, StatusCode::OK, "{:#}", fetched.body);
    assert_eq!(fetched.body["file"], b64(PNG));
    assert_eq!(fetched.body["name"], "lamp.png");
    assert_eq!(fetched.body["type"], "image/png");
    snapshot!("attachment", fetched);

    // Another merchant knows the id and the digest, and gets nothing.
    desk.server.cli(&["tenant", "create", "other-shop"]);
    let other_id = desk.server.login("other-shop", "client", "other-api");
    let foreign = desk
        .post_as(
            "other-api",
            &other_id,
            "/v2/dispute/attachment",
            json!({ "id": id, "sha256": sha256 }),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    assert_eq!(error_name(&foreign), "dispute_not_found");
    // Nor through a dispute of its own that has no such file.
    let own = desk
        .post_as(
            "other-api",
            &other_id,
            "/v2/dispute",
            request_for("OTHER-1"),
        )
        .await;
    let own_id = own.body["id"].as_i64().unwrap();
    assert_eq!(
        own.body["owner"],
        Value::Null,
        "a tenant without an owner shows none"
    );
    let not_theirs = desk
        .post_as(
            "other-api",
            &other_id,
            "/v2/dispute/attachment",
            json!({ "id": own_id, "sha256": sha256 }),
        )
        .await;
    assert_eq!(not_theirs.status, StatusCode::NOT_FOUND);
    assert_eq!(error_name(&not_theirs), "attachment_not_found");
    snapshot!("error_attachment_not_found", not_theirs);

    // Every accepted type, any case of extension; a file of exactly 10 MiB fits the body limit.
    let mut ten_mib = PDF.to_vec();
    ten_mib.resize(10 * 1024 * 1024, b' ');
    for (i, (name, bytes, media_type)) in [
        ("FOTO.JPG", JPEG, "image/jpeg"),
        ("foto.jpeg", JPEG, "image/jpeg"),
        ("brief.doc", DOC, "application/msword"),
        (
            "brief.docx",
            DOCX,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("IMG_0001.HEIC", HEIC, "image/heic"),
        ("bon.pdf", &ten_mib[..], "application/pdf"),
    ]
    .into_iter()
    .enumerate()
    {
        let body = with_file(request_for(&format!("INV-T{i}")), name, bytes);
        let answer = desk.post("/v2/dispute", body).await;
        assert_eq!(answer.status, StatusCode::OK, "{name}: {:#}", answer.body);
        let attachment = &answer.body["disputeContent"][0]["attachment"];
        assert_eq!(attachment["type"], media_type, "{name}");
        assert_eq!(attachment["size"], bytes.len(), "{name}");
    }

    // Files outlive the process.
    desk.server.restart().await;
    let again = desk
        .post(
            "/v2/dispute/attachment",
            json!({ "id": id, "sha256": sha256 }),
        )
        .await;
    assert_eq!(again.body, fetched.body);
}

async fn messages_from_the_client_and_the_customer_advance_the_steps(store: Store) {
    let desk = desk(store).await;
    let id = desk.open(seed_request()).await;

    let from_client = desk
        .post(
            "/v2/dispute/message",
            json!({ "id": id, "author": "client", "message": "Kunt u een foto van de schade sturen?" }),
        )
        .await;
    assert_eq!(from_client.status, StatusCode::OK, "{:#}", from_client.body);
    assert_eq!(from_client.body["currentStep"]["name"], "awaiting_customer");
    assert_eq!(
        step_statuses(&from_client.body),
        ["done", "done", "done", "current", "pending"]
    );
    snapshot!("message_from_client", from_client);

    let from_customer = desk
        .post(
            "/v2/dispute/message",
            with_file(
                json!({ "id": id, "author": "customer", "message": "Hierbij de foto en de pakbon." }),
                "pakbon.pdf",
                PDF,
            ),
        )
        .await;
    assert_eq!(
        from_customer.status,
        StatusCode::OK,
        "{:#}",
        from_customer.body
    );
    let d = &from_customer.body;
    assert_eq!(d["currentStep"]["name"], "awaiting_client");
    assert_eq!(
        step_statuses(d),
        ["done", "done", "current", "pending", "pending"]
    );
    let content = d["disputeContent"].as_array().unwrap();
    let authors: Vec<_> = content
        .iter()
        .map(|m| m["author"].as_str().unwrap())
        .collect();
    assert_eq!(authors, ["client", "client", "customer"]);
    assert_eq!(content[2]["attachment"]["name"], "pakbon.pdf");
    assert_eq!(content[2]["attachment"]["sha256"], Digest::of(PDF).to_hex());
    assert_eq!(d["status"], "open", "messages move no status");
    snapshot!("message_from_customer", from_customer);

    // Each message is one change, recorded in the timeline; the history verifies.
    let stored = desk
        .server
        .stored(TENANT, DisputeId::new(id).unwrap())
        .await;
    assert_eq!(stored.version().get(), 3);
    let kinds: Vec<_> = stored.timeline().iter().map(|e| e.kind()).collect();
    assert_eq!(
        kinds,
        [EntryKind::Opened, EntryKind::Message, EntryKind::Message]
    );
    stored.verify().unwrap();
    assert_eq!(desk.info(id).await, from_customer.body);

    // The thread is history: the store refuses to edit or remove a message.
    for statement in [
        "UPDATE dispute_messages SET text = 'Alles is in orde.'",
        "DELETE FROM dispute_messages",
    ] {
        let refused = desk.server.sql(statement).await.unwrap_err();
        assert!(refused.contains("append-only"), "{statement}: {refused}");
    }

    // The customer's file is served like any other.
    let fetched = desk
        .post(
            "/v2/dispute/attachment",
            json!({ "id": id, "sha256": Digest::of(PDF).to_hex() }),
        )
        .await;
    assert_eq!(fetched.body["file"], b64(PDF));
}

async fn resolving_sets_resolved_and_releases_the_hold(store: Store) {
    let desk = desk(store).await;
    let id = desk.open(seed_request()).await;
    let answer = desk
        .post(
            "/v2/dispute/resolve",
            json!({ "id": id, "outcome": "granted", "message": "De factuur is volledig gecrediteerd." }),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{:#}", answer.body);
    let d = &answer.body;
    assert_eq!(d["resolved"], true);
    assert_eq!(d["status"], "resolved");
    assert_eq!(d["resolvedAt"]["timezone"], "Europe/Amsterdam");
    assert_eq!(d["currentStep"]["name"], "resolved");
    // Resolved before the client ever wrote to the customer: nobody waited on the customer.
    assert_eq!(
        step_statuses(d),
        ["done", "done", "done", "skipped", "done"]
    );
    assert_eq!(d["steps"][3]["at"], Value::Null);
    let content = d["disputeContent"].as_array().unwrap();
    assert_eq!(
        content.last().unwrap()["text"],
        "De factuur is volledig gecrediteerd."
    );
    snapshot!("resolve_granted", answer);

    let stored = desk
        .server
        .stored(TENANT, DisputeId::new(id).unwrap())
        .await;
    let resolution = stored.resolution().unwrap();
    assert_eq!(resolution.outcome, Outcome::Granted);
    let local = resolution
        .at
        .with_timezone(&Amsterdam)
        .format("%Y-%m-%d %H:%M:%S%.6f")
        .to_string();
    assert_eq!(d["resolvedAt"]["date"], local);
    assert_eq!(
        stored.collection_hold().unwrap().released_at,
        Some(resolution.at),
        "resolving released the hold"
    );
    let last = stored.timeline().last().unwrap();
    assert_eq!(last.kind(), EntryKind::Settled);
    assert!(last.notes().ends_with("collection hold released"));
    stored.verify().unwrap();

    // A resolved dispute is final.
    let late = desk
        .post(
            "/v2/dispute/message",
            json!({ "id": id, "author": "customer", "message": "Dank u." }),
        )
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    assert_eq!(error_name(&late), "dispute_final");
    snapshot!("error_dispute_final", late);
    let again = desk
        .post(
            "/v2/dispute/resolve",
            json!({ "id": id, "outcome": "denied", "message": "Toch niet." }),
        )
        .await;
    assert_eq!(error_name(&again), "dispute_final");
    assert_eq!(desk.info(id).await, answer.body, "nothing changed");

    // The invoice is free for a new dispute.
    desk.open(seed_request()).await;
}

async fn a_partial_credit_is_exact_and_a_whole_invoice_records_the_credit_stated(store: Store) {
    let desk = desk(store).await;
    let mut body = request_for("INV-AMOUNT");
    body["amount"] = json!("149.95");
    let id = desk.open(body).await;
    let too_much = desk
        .post(
            "/v2/dispute/resolve",
            json!({ "id": id, "outcome": "partially_granted", "creditAmount": "150", "message": "x" }),
        )
        .await;
    assert_eq!(too_much.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_name(&too_much), "invalid_credit_amount");
    let partial = desk
        .post(
            "/v2/dispute/resolve",
            json!({ "id": id, "outcome": "partially_granted", "creditAmount": 49.95, "message": "Eén lamp gecrediteerd." }),
        )
        .await;
    assert_eq!(partial.status, StatusCode::OK, "{:#}", partial.body);
    snapshot!("resolve_partially_granted", partial);
    let stored = desk
        .server
        .stored(TENANT, DisputeId::new(id).unwrap())
        .await;
    let resolution = stored.resolution().unwrap();
    assert_eq!(resolution.outcome, Outcome::PartiallyGranted);
    assert_eq!(resolution.settled_amount.to_string(), "49.95");
    assert_eq!(stored.claim().amount().to_string(), "149.95");

    // A client written to the seed never sends `amount`: the dispute is about the whole
    // invoice, and the credit it states is recorded as given, in the invoice's currency.
    for (invoice, outcome, credit, recorded) in [
        ("INV-WHOLE-PART", "partially_granted", json!("10"), "10"),
        ("INV-WHOLE-FULL", "granted", json!(149.95), "149.95"),
    ] {
        let whole = desk.open(request_for(invoice)).await;
        let credited = desk
            .post(
                "/v2/dispute/resolve",
                json!({ "id": whole, "outcome": outcome, "creditAmount": credit, "message": "Gecrediteerd." }),
            )
            .await;
        assert_eq!(credited.status, StatusCode::OK, "{:#}", credited.body);
        assert_eq!(credited.body["resolved"], true);
        let stored = desk
            .server
            .stored(TENANT, DisputeId::new(whole).unwrap())
            .await;
        let resolution = stored.resolution().unwrap();
        assert_eq!(resolution.outcome.as_str(), outcome);
        assert_eq!(resolution.settled_amount.to_string(), recorded);
        assert!(stored.claim().is_whole_invoice(), "the claim is unchanged");
        stored.verify().unwrap();
    }
    let whole = desk.open(request_for("INV-WHOLE")).await;
    let zero = desk
        .post(
            "/v2/dispute/resolve",
            json!({ "id": whole, "outcome": "granted", "creditAmount": "0", "message": "x" }),
        )
        .await;
    assert_eq!(zero.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_name(&zero), "invalid_credit_amount");
    let denied = desk
        .post(
            "/v2/dispute/resolve",
            json!({ "id": whole, "outcome": "denied", "message": "Geen schade gevonden." }),
        )
        .await;
    assert_eq!(denied.status, StatusCode::OK);
    snapshot!("resolve_denied", denied);
}

async fn a_listed_dispute_is_written_exactly_as_info_writes_it(store: Store) {
    let desk = desk(store).await;
    let id = desk.open(seed_request()).await;
    desk.post(
        "/v2/dispute/message",
        json!({ "id": id, "author": "client", "message": "Wij sturen een nieuwe lamp." }),
    )
    .await;
    let info = desk
        .post_text("/v2/dispute/info", json!({ "id": id }))
        .await;
    let list = desk.post_text("/v2/dispute/list", json!({})).await;
    // Byte for byte: the same keys in the same order, a PHP DateTime as date, timezone_type,
    // timezone everywhere.
    assert_eq!(
        list,
        format!(r#"{{"disputes":[{info}],"nextCursor":null}}"#)
    );
    assert!(
        info.contains(r#"{"date":""#)
            && info.contains(r#"","timezone_type":3,"timezone":"Europe/Amsterdam"}"#),
        "{info}"
    );
}

async fn list_pages_by_cursor_and_filters_resolved(store: Store) {
    let desk = desk(store).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(desk.open(request_for(&format!("INV-L{i}"))).await);
    }
    for id in &ids[..2] {
        let answer = desk
            .post(
                "/v2/dispute/resolve",
                json!({ "id": id, "outcome": "denied", "message": "Afgewezen." }),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK);
    }
    ids.reverse();

    let mut seen = Vec::new();
    let mut cursor = Value::Null;
    let mut pages = 0;
    loop {
        let answer = desk
            .post("/v2/dispute/list", json!({ "limit": 2, "cursor": cursor }))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{:#}", answer.body);
        if pages == 0 {
            snapshot!("list_first_page", answer);
        }
        pages += 1;
        let page = answer.body["disputes"].as_array().unwrap();
        assert!(page.len() <= 2);
        seen.extend(page.iter().map(|d| d["id"].as_i64().unwrap()));
        cursor = answer.body["nextCursor"].clone();
        if cursor.is_null() {
            break;
        }
    }
    assert_eq!(seen, ids, "newest first, each once");
    assert_eq!(pages, 3);

    let resolved = |flag: bool| {
        let desk = &desk;
        async move {
            desk.post("/v2/dispute/list", json!({ "resolved": flag }))
                .await
                .body["disputes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["id"].as_i64().unwrap())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(resolved(true).await, ids[3..]);
    assert_eq!(resolved(false).await, ids[..3]);

    for (body, name) in [
        (json!({ "limit": 0 }), "invalid_limit"),
        (json!({ "limit": 101 }), "invalid_limit"),
        (json!({ "limit": "lots" }), "invalid_limit"),
        (json!({ "cursor": "not-ours" }), "invalid_cursor"),
        (json!({ "resolved": "yes" }), "invalid_body"),
    ] {
        let answer = desk.post("/v2/dispute/list", body.clone()).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error_name(&answer), name, "{body}");
    }
}

async fn another_clients_credentials_see_404(store: Store) {
    let desk = desk(store).await;
    let id = desk
        .post("/v2/dispute", with_file(seed_request(), "lamp.png", PNG))
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let before = desk.info(id).await;
    desk.server.cli(&["tenant", "create", "other-shop"]);
    let other = desk.server.login("other-shop", "client", "other-api");

    for (path, body) in [
        ("/v2/dispute/info", json!({ "id": id })),
        (
            "/v2/dispute/message",
            json!({ "id": id, "author": "customer", "message": "hijack" }),
        ),
        (
            "/v2/dispute/resolve",
            json!({ "id": id, "outcome": "granted", "message": "hijack" }),
        ),
        (
            "/v2/dispute/attachment",
            json!({ "id": id, "sha256": Digest::of(PNG).to_hex() }),
        ),
    ] {
        let answer = desk.post_as("other-api", &other, path, body).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(error_name(&answer), "dispute_not_found", "{path}");
        if path == "/v2/dispute/info" {
            snapshot!("error_dispute_not_found", answer);
        }
    }
    let listed = desk
        .post_as("other-api", &other, "/v2/dispute/list", json!({}))
        .await;
    assert_eq!(listed.body, json!({ "disputes": [], "nextCursor": null }));
    assert_eq!(desk.info(id).await, before, "nothing changed");

    // An id that exists nowhere is the same 404.
    let answer = desk
        .post("/v2/dispute/info", json!({ "id": 999_999 }))
        .await;
    assert_eq!(error_name(&answer), "dispute_not_found");
}

/// A change to a valid request that makes it invalid.
type Mutation = fn(&mut Value);

fn remove(body: &mut Value, field: &str) {
    body.as_object_mut().unwrap().remove(field);
}

fn file_of(body: &mut Value, name: &str, bytes: &[u8]) {
    body["file"] = json!(b64(bytes));
    body["fileName"] = json!(name);
}

async fn bad_input_is_refused_with_its_own_error_and_stores_nothing(store: Store) {
    let desk = desk(store).await;
    let mut snapshotted = BTreeSet::new();

    let cases: Vec<(&str, Mutation, StatusCode, &str)> = vec![
        (
            "no billinkUsername",
            |b| remove(b, "billinkUsername"),
            StatusCode::BAD_REQUEST,
            "missing_billink_username",
        ),
        (
            "no billinkId",
            |b| remove(b, "billinkId"),
            StatusCode::BAD_REQUEST,
            "missing_billink_id",
        ),
        (
            "blank billinkId",
            |b| b["billinkId"] = json!(""),
            StatusCode::BAD_REQUEST,
            "missing_billink_id",
        ),
        (
            "no category",
            |b| remove(b, "category"),
            StatusCode::BAD_REQUEST,
            "missing_category",
        ),
        (
            "no customerEmail",
            |b| remove(b, "customerEmail"),
            StatusCode::BAD_REQUEST,
            "missing_customer_email",
        ),
        (
            "no customerName",
            |b| remove(b, "customerName"),
            StatusCode::BAD_REQUEST,
            "missing_customer_name",
        ),
        (
            "no invoice",
            |b| remove(b, "invoice"),
            StatusCode::BAD_REQUEST,
            "missing_invoice",
        ),
        (
            "no locale",
            |b| remove(b, "locale"),
            StatusCode::BAD_REQUEST,
            "missing_locale",
        ),
        (
            "no message",
            |b| remove(b, "message"),
            StatusCode::BAD_REQUEST,
            "missing_message",
        ),
        (
            "null category",
            |b| b["category"] = Value::Null,
            StatusCode::BAD_REQUEST,
            "missing_category",
        ),
        (
            "blank customerName",
            |b| b["customerName"] = json!("  "),
            StatusCode::BAD_REQUEST,
            "missing_customer_name",
        ),
        (
            "email without domain",
            |b| b["customerEmail"] = json!("jan@"),
            StatusCode::BAD_REQUEST,
            "invalid_email",
        ),
        (
            "email without @",
            |b| b["customerEmail"] = json!("jan.devries.example.nl"),
            StatusCode::BAD_REQUEST,
            "invalid_email",
        ),
        (
            "email without tld",
            |b| b["customerEmail"] = json!("jan@example"),
            StatusCode::BAD_REQUEST,
            "invalid_email",
        ),
        (
            "email with space",
            |b| b["customerEmail"] = json!("jan de vries@example.nl"),
            StatusCode::BAD_REQUEST,
            "invalid_email",
        ),
        (
            "unknown locale",
            |b| b["locale"] = json!("es"),
            StatusCode::BAD_REQUEST,
            "unsupported_locale",
        ),
        (
            "unknown region form",
            |b| b["locale"] = json!("nl-NLD"),
            StatusCode::BAD_REQUEST,
            "unsupported_locale",
        ),
        (
            "base64 with garbage",
            |b| {
                b["file"] = json!("not base64!!");
                b["fileName"] = json!("a.png");
            },
            StatusCode::BAD_REQUEST,
            "invalid_base64",
        ),
        (
            "base64 with whitespace",
            |b| {
                b["file"] = json!("iVBO Rw0K GgoA");
                b["fileName"] = json!("a.png");
            },
            StatusCode::BAD_REQUEST,
            "invalid_base64",
        ),
        (
            "base64 with a line break",
            |b| {
                b["file"] = json!(format!("{}\n", b64(PNG)));
                b["fileName"] = json!("a.png");
            },
            StatusCode::BAD_REQUEST,
            "invalid_base64",
        ),
        (
            "base64 without padding",
            |b| {
                b["file"] = json!(b64(PNG).trim_end_matches('='));
                b["fileName"] = json!("a.png");
            },
            StatusCode::BAD_REQUEST,
            "invalid_base64",
        ),
        (
            "file without fileName",
            |b| b["file"] = json!(b64(PNG)),
            StatusCode::BAD_REQUEST,
            "missing_file_name",
        ),
        (
            "fileName without file",
            |b| b["fileName"] = json!("lamp.png"),
            StatusCode::BAD_REQUEST,
            "missing_file",
        ),
        (
            "blank file with fileName",
            |b| {
                b["file"] = json!("");
                b["fileName"] = json!("lamp.png");
            },
            StatusCode::BAD_REQUEST,
            "missing_file",
        ),
        (
            ".exe",
            |b| file_of(b, "setup.exe", EXE),
            StatusCode::BAD_REQUEST,
            "unsupported_file_type",
        ),
        (
            ".gif",
            |b| file_of(b, "lamp.gif", b"GIF89a\x01\0\x01\0"),
            StatusCode::BAD_REQUEST,
            "unsupported_file_type",
        ),
        (
            ".txt",
            |b| file_of(b, "note.txt", b"hello"),
            StatusCode::BAD_REQUEST,
            "unsupported_file_type",
        ),
        (
            ".zip",
            |b| file_of(b, "photos.zip", DOCX),
            StatusCode::BAD_REQUEST,
            "unsupported_file_type",
        ),
        (
            ".svg",
            |b| file_of(b, "logo.svg", b"<svg/>"),
            StatusCode::BAD_REQUEST,
            "unsupported_file_type",
        ),
        (
            ".html",
            |b| file_of(b, "page.html", b"<html>"),
            StatusCode::BAD_REQUEST,
            "unsupported_file_type",
        ),
        (
            ".pdf.exe",
            |b| file_of(b, "bon.pdf.exe", EXE),
            StatusCode::BAD_REQUEST,
            "unsupported_file_type",
        ),
        (
            "no extension",
            |b| file_of(b, "lamp", PNG),
            StatusCode::BAD_REQUEST,
            "unsupported_file_type",
        ),
        (
            "a path as name",
            |b| file_of(b, "../../etc/lamp.png", PNG),
            StatusCode::BAD_REQUEST,
            "invalid_file_name",
        ),
        (
            "PNG named .pdf",
            |b| file_of(b, "bon.pdf", PNG),
            StatusCode::BAD_REQUEST,
            "file_type_mismatch",
        ),
        (
            "ELF named .jpg",
            |b| file_of(b, "lamp.jpg", ELF),
            StatusCode::BAD_REQUEST,
            "file_type_mismatch",
        ),
        (
            "EXE named .pdf",
            |b| file_of(b, "bon.pdf", EXE),
            StatusCode::BAD_REQUEST,
            "file_type_mismatch",
        ),
        (
            "PDF named .png",
            |b| file_of(b, "lamp.png", PDF),
            StatusCode::BAD_REQUEST,
            "file_type_mismatch",
        ),
        (
            "DOC named .docx",
            |b| file_of(b, "brief.docx", DOC),
            StatusCode::BAD_REQUEST,
            "file_type_mismatch",
        ),
        (
            "ZIP named .doc",
            |b| file_of(b, "brief.doc", DOCX),
            StatusCode::BAD_REQUEST,
            "file_type_mismatch",
        ),
        (
            "MP4 named .heic",
            |b| file_of(b, "clip.heic", b"\0\0\0\x18ftypmp42\0\0\0\0isom"),
            StatusCode::BAD_REQUEST,
            "file_type_mismatch",
        ),
        (
            "over 10 MiB decoded",
            |b| {
                let mut big = PDF.to_vec();
                big.resize(10 * 1024 * 1024 + 1, b' ');
                file_of(b, "big.pdf", &big);
            },
            StatusCode::BAD_REQUEST,
            "file_too_large",
        ),
        (
            "message too long",
            |b| b["message"] = json!("x".repeat(10_001)),
            StatusCode::BAD_REQUEST,
            "invalid_field",
        ),
        (
            "amount not a number",
            |b| b["amount"] = json!("veel"),
            StatusCode::BAD_REQUEST,
            "invalid_amount",
        ),
        (
            "negative amount",
            |b| b["amount"] = json!(-5),
            StatusCode::BAD_REQUEST,
            "invalid_amount",
        ),
        (
            "category neither a name nor an id",
            |b| b["category"] = json!(true),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            "billinkId not text",
            |b| b["billinkId"] = json!(5),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            "wrong billinkId",
            |b| b["billinkId"] = json!("guessed"),
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        ),
        (
            "unknown billinkUsername",
            |b| b["billinkUsername"] = json!("nobody"),
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        ),
        (
            "wrong credentials and bad fields",
            |b| {
                b["billinkId"] = json!("guessed");
                remove(b, "category");
            },
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        ),
    ];
    for (case, mutate, status, name) in cases {
        let mut body = seed_request();
        body["billinkUsername"] = json!(USERNAME);
        body["billinkId"] = json!(desk.billink_id);
        mutate(&mut body);
        let answer = desk
            .server
            .call(Method::POST, "/v2/dispute", None, Some(body))
            .await;
        assert_eq!(answer.status, status, "{case}: {:#}", answer.body);
        assert_eq!(error_name(&answer), name, "{case}");
        if snapshotted.insert(name) {
            snapshot!(format!("error_{name}"), answer);
        }
    }

    // What is wrong with the body as a whole, before any field is read.
    let raw = |content_type: &'static str, body: Vec<u8>| {
        let server = &desk.server;
        async move {
            server
                .raw(Method::POST, "/v2/dispute", None, content_type, body)
                .await
        }
    };
    for (case, answer, status, name) in [
        (
            "malformed JSON",
            raw("application/json", b"{\"invoice\": ".to_vec()).await,
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "not an object",
            raw("application/json", b"[1, 2]".to_vec()).await,
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            "not JSON",
            raw("text/plain", b"{}".to_vec()).await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "over 16 MiB",
            raw("application/json", vec![b' '; 16 * 1024 * 1024 + 1]).await,
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
    ] {
        assert_eq!(answer.status, status, "{case}: {:#}", answer.body);
        assert_eq!(error_name(&answer), name, "{case}");
        if snapshotted.insert(name) {
            snapshot!(format!("error_{name}"), answer);
        }
    }

    assert_eq!(desk.count().await, 0, "no refused opening stored a dispute");
    assert!(desk.blobs().is_empty(), "no refused opening stored a file");

    // The other calls, on an existing dispute: refused, and the dispute is unchanged.
    let id = desk.open(seed_request()).await;
    let before = desk.info(id).await;
    let calls: Vec<(&str, Value, &str)> = vec![
        ("info", json!({}), "missing_id"),
        ("info", json!({ "id": "abc" }), "invalid_id"),
        ("info", json!({ "id": 0 }), "invalid_id"),
        ("info", json!({ "id": 1.5 }), "invalid_id"),
        (
            "message",
            json!({ "id": id, "message": "x" }),
            "missing_author",
        ),
        (
            "message",
            json!({ "id": id, "author": "client" }),
            "missing_message",
        ),
        (
            "message",
            json!({ "author": "client", "message": "x" }),
            "missing_id",
        ),
        (
            "message",
            json!({ "id": id, "author": "merchant", "message": "x" }),
            "invalid_author",
        ),
        (
            "message",
            json!({ "id": id, "author": "customer", "message": "x", "file": b64(ELF), "fileName": "a.jpg" }),
            "file_type_mismatch",
        ),
        (
            "message",
            json!({ "id": id, "author": "customer", "message": "x", "file": b64(PNG) }),
            "missing_file_name",
        ),
        (
            "resolve",
            json!({ "id": id, "message": "x" }),
            "missing_outcome",
        ),
        (
            "resolve",
            json!({ "id": id, "outcome": "granted" }),
            "missing_message",
        ),
        (
            "resolve",
            json!({ "id": id, "outcome": "maybe", "message": "x" }),
            "invalid_outcome",
        ),
        (
            "resolve",
            json!({ "id": id, "outcome": "partially_granted", "message": "x" }),
            "missing_credit_amount",
        ),
        (
            "resolve",
            json!({ "id": id, "outcome": "partially_granted", "creditAmount": "12,50", "message": "x" }),
            "invalid_credit_amount",
        ),
        ("attachment", json!({ "id": id }), "missing_sha256"),
        (
            "attachment",
            json!({ "id": id, "sha256": "xyz" }),
            "invalid_sha256",
        ),
    ];
    for (call, body, name) in calls {
        let answer = desk
            .post(&format!("/v2/dispute/{call}"), body.clone())
            .await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{call} {body}: {:#}",
            answer.body
        );
        assert_eq!(error_name(&answer), name, "{call} {body}");
        if snapshotted.insert(name) {
            snapshot!(format!("error_{name}"), answer);
        }
    }
    assert_eq!(
        desk.info(id).await,
        before,
        "no refused call changed the dispute"
    );
    assert!(desk.blobs().is_empty(), "no refused message stored a file");
}

async fn unknown_routes_and_methods_answer_in_this_contracts_shape(store: Store) {
    let desk = desk(store).await;
    let route = desk.post("/v2/dispute/nope", json!({})).await;
    assert_eq!(route.status, StatusCode::NOT_FOUND);
    assert_eq!(error_name(&route), "route_not_found");
    snapshot!("error_route_not_found", route);

    let method = desk
        .server
        .call(Method::GET, "/v2/dispute", None, None)
        .await;
    assert_eq!(method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(error_name(&method), "method_not_allowed");
    snapshot!("error_method_not_allowed", method);
}

/// What Billink's other pages say and its clients send: the secret as `billinkID` (every other v2
/// call spells it so) and `category` as an id from the categories list.
async fn billinks_other_spellings_are_taken(store: Store) {
    let desk = desk(store).await;
    let mut body = request_for("INV-2026-ALIAS");
    body["billinkUsername"] = json!(USERNAME);
    body["billinkID"] = json!(desk.billink_id);
    body["category"] = json!(7);
    let opened = desk
        .server
        .call(Method::POST, "/v2/dispute", None, Some(body))
        .await;
    assert_eq!(opened.status, StatusCode::OK, "{:#}", opened.body);
    assert_eq!(opened.body["category"], "7");
    // `billinkId` comes first when a body has both; a wrong alias is still wrong credentials.
    let mut both = json!({ "id": opened.body["id"] });
    both["billinkUsername"] = json!(USERNAME);
    both["billinkId"] = json!(desk.billink_id);
    both["billinkID"] = json!("not-the-secret");
    let info = desk
        .server
        .call(Method::POST, "/v2/dispute/info", None, Some(both))
        .await;
    assert_eq!(info.status, StatusCode::OK, "{:#}", info.body);
    let wrong =
        json!({ "id": opened.body["id"], "billinkUsername": USERNAME, "billinkID": "nope" });
    let refused = desk
        .server
        .call(Method::POST, "/v2/dispute/info", None, Some(wrong))
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    // A category that is neither a name nor a whole number is the body's wrong shape.
    let mut odd = request_for("INV-2026-ODD");
    odd["category"] = json!(7.5);
    let answer = desk.post("/v2/dispute", odd).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.body["error"], "invalid_body");
}

store_tests! {
    billinks_other_spellings_are_taken,
    the_seed_fields_open_a_dispute,
    a_file_is_kept_by_its_hash_and_served_only_to_its_tenant,
    messages_from_the_client_and_the_customer_advance_the_steps,
    resolving_sets_resolved_and_releases_the_hold,
    a_partial_credit_is_exact_and_a_whole_invoice_records_the_credit_stated,
    list_pages_by_cursor_and_filters_resolved,
    a_listed_dispute_is_written_exactly_as_info_writes_it,
    another_clients_credentials_see_404,
    bad_input_is_refused_with_its_own_error_and_stores_nothing,
    unknown_routes_and_methods_answer_in_this_contracts_shape,
}
