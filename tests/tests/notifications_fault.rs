//! End-to-end tests of the notification sinks under faults (SPEC §5): a webhook receiver, a fake
//! Freshdesk and a real SMTP relay (aiosmtpd) that are all down while disputes are opened get
//! every notification exactly once when they come back, from one server or (on PostgreSQL) two
//! sharing the database; and the invoice contract shows the dispute's Freshdesk ticket.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Json;
use base64::Engine as _;
use reqwest::Method;
use serde_json::{json, Value};
use support::smtp::{free_port, Smtp};
use support::wait::{eventually, within};
use support::{store_tests, Server, Store};

const API_KEY: &str = "fd-e2e-key";

/// A ticket the fake desk opened.
#[derive(Debug, Clone)]
struct DeskTicket {
    id: i64,
    email: String,
    subject: String,
    tags: Vec<String>,
    status: i64,
    /// `(file name, bytes)` of each attachment.
    files: Vec<(String, Vec<u8>)>,
}

#[derive(Debug, Default)]
struct DeskState {
    tickets: Vec<DeskTicket>,
    notes: Vec<(i64, String)>,
    /// Requests answered 503 while down.
    refused: usize,
}

/// A fake Freshdesk on 127.0.0.1: keeps tickets in memory, answers 503 while `down`.
#[derive(Debug, Clone)]
struct Desk {
    url: String,
    down: Arc<AtomicBool>,
    state: Arc<Mutex<DeskState>>,
}

impl Desk {
    async fn start(down: bool) -> Desk {
        let desk = Desk {
            url: String::new(),
            down: Arc::new(AtomicBool::new(down)),
            state: Arc::new(Mutex::new(DeskState::default())),
        };
        let app = axum::Router::new()
            .route("/api/v2/tickets", post(create_ticket))
            .route("/api/v2/search/tickets", get(search_tickets))
            .route("/api/v2/tickets/{id}", put(update_ticket))
            .route("/api/v2/tickets/{id}/notes", post(add_note))
            .route("/api/v2/tickets/{id}/conversations", get(conversations))
            .with_state(desk.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Desk { url, ..desk }
    }

    fn tickets(&self) -> Vec<DeskTicket> {
        self.state.lock().unwrap().tickets.clone()
    }

    /// The environment that points a server at this desk, with short dispatch timings.
    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("FRESHDESK_URL", self.url.clone()),
            ("FRESHDESK_API_KEY", API_KEY.to_owned()),
            ("FRESHDESK_TIMEOUT_MS", "5000".to_owned()),
            ("DISPUTES_DISPATCH_POLL_MS", "100".to_owned()),
            ("DISPUTES_DISPATCH_BACKOFF_MAX_MS", "400".to_owned()),
        ]
    }

    /// The answer to give instead of serving a request: 503 while down, 401 without the API key.
    fn refusal(&self, headers: &HeaderMap) -> Option<Response> {
        if self.down.load(Ordering::SeqCst) {
            self.state.lock().unwrap().refused += 1;
            return Some(StatusCode::SERVICE_UNAVAILABLE.into_response());
        }
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{API_KEY}:X"));
        let authorized = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == format!("Basic {basic}"));
        (!authorized).then(|| {
            (
                StatusCode::UNAUTHORIZED,
                Json(json!({"code": "invalid_credentials"})),
            )
                .into_response()
        })
    }
}

/// The fields of a `multipart/form-data` body: (name, file name, bytes).
fn form_fields(content_type: &str, body: &[u8]) -> Vec<(String, Option<String>, Vec<u8>)> {
    let Some(boundary) = content_type.split("boundary=").nth(1) else {
        return Vec::new();
    };
    let delimiter = format!("--{}", boundary.trim_matches('"'));
    let starts: Vec<usize> = body
        .windows(delimiter.len())
        .enumerate()
        .filter(|(_, w)| *w == delimiter.as_bytes())
        .map(|(i, _)| i)
        .collect();
    starts
        .windows(2)
        .map(|pair| {
            let part = &body[pair[0] + delimiter.len() + 2..pair[1] - 2];
            let split = part.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
            let head = String::from_utf8_lossy(&part[..split]).into_owned();
            let value = |key: &str| {
                head.split(&format!("{key}=\""))
                    .nth(1)
                    .and_then(|rest| rest.split('"').next())
                    .map(str::to_owned)
            };
            (
                value("name").unwrap_or_default(),
                value("filename"),
                part[split + 4..].to_vec(),
            )
        })
        .collect()
}

async fn create_ticket(State(desk): State<Desk>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refusal) = desk.refusal(&headers) {
        return refusal;
    }
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut ticket = DeskTicket {
        id: 0,
        email: String::new(),
        subject: String::new(),
        tags: Vec::new(),
        status: 0,
        files: Vec::new(),
    };
    if content_type.starts_with("multipart/form-data") {
        for (name, file_name, bytes) in form_fields(content_type, &body) {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            match name.as_str() {
                "email" => ticket.email = text,
                "subject" => ticket.subject = text,
                "status" => ticket.status = text.parse().unwrap_or(0),
                "tags[]" => ticket.tags.push(text),
                "attachments[]" => ticket.files.push((file_name.unwrap_or_default(), bytes)),
                _ => {}
            }
        }
    } else {
        let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        ticket.email = json["email"].as_str().unwrap_or_default().to_owned();
        ticket.subject = json["subject"].as_str().unwrap_or_default().to_owned();
        ticket.status = json["status"].as_i64().unwrap_or(0);
        ticket.tags = json["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect();
    }
    if ticket.email.is_empty() || ticket.subject.is_empty() || ticket.status != 2 {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"description": "Validation failed"})),
        )
            .into_response();
    }
    let mut state = desk.state.lock().unwrap();
    ticket.id = 501 + state.tickets.len() as i64;
    let answer = json!({"id": ticket.id, "status": 2});
    state.tickets.push(ticket);
    (StatusCode::CREATED, Json(answer)).into_response()
}

async fn search_tickets(
    State(desk): State<Desk>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    if let Some(refusal) = desk.refusal(&headers) {
        return refusal;
    }
    let query = query.unwrap_or_default();
    let query = reqwest::Url::parse(&format!("http://x/?{query}"))
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "query")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let wanted: Vec<&str> = query.split('\'').skip(1).step_by(2).collect();
    let state = desk.state.lock().unwrap();
    let results: Vec<Value> = state
        .tickets
        .iter()
        .filter(|t| !wanted.is_empty() && wanted.iter().all(|w| t.tags.iter().any(|t| t == w)))
        .map(|t| json!({"id": t.id, "status": t.status}))
        .collect();
    Json(json!({"total": results.len(), "results": results})).into_response()
}

async fn update_ticket(
    State(desk): State<Desk>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(refusal) = desk.refusal(&headers) {
        return refusal;
    }
    let mut state = desk.state.lock().unwrap();
    let Some(ticket) = state.tickets.iter_mut().find(|t| t.id == id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if let Some(status) = body["status"].as_i64() {
        ticket.status = status;
    }
    Json(json!({"id": id, "status": ticket.status})).into_response()
}

async fn add_note(
    State(desk): State<Desk>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(refusal) = desk.refusal(&headers) {
        return refusal;
    }
    let text = body["body"].as_str().unwrap_or_default().to_owned();
    desk.state.lock().unwrap().notes.push((id, text.clone()));
    (StatusCode::CREATED, Json(json!({"id": 1, "body": text}))).into_response()
}

async fn conversations(
    State(desk): State<Desk>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Response {
    if let Some(refusal) = desk.refusal(&headers) {
        return refusal;
    }
    let state = desk.state.lock().unwrap();
    let notes: Vec<Value> = state
        .notes
        .iter()
        .filter(|(ticket, _)| *ticket == id)
        .map(|(_, body)| json!({"body": body, "private": true}))
        .collect();
    Json(Value::Array(notes)).into_response()
}

/// A webhook receiver that answers 503 while `down` and records the event ids it took.
#[derive(Debug, Clone, Default)]
struct Hook {
    down: Arc<AtomicBool>,
    taken: Arc<Mutex<Vec<String>>>,
}

async fn receive(State(hook): State<Hook>, headers: HeaderMap) -> StatusCode {
    if hook.down.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let id = headers
        .get("x-event-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    hook.taken.lock().unwrap().push(id);
    StatusCode::NO_CONTENT
}

async fn hook(down: bool) -> (String, Hook) {
    let hook = Hook::default();
    hook.down.store(down, Ordering::SeqCst);
    let app = axum::Router::new()
        .route("/hook", post(receive))
        .with_state(hook.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, hook)
}

fn delivery_request(campaign: &str) -> Value {
    json!({
        "disputedPeriod": { "start": "2026-10-01T00:00:00Z", "end": "2026-10-08T00:00:00Z" },
        "affectedSurface": { "campaignId": campaign, "screenIds": ["scr_amsterdam_01"] },
        "claimedShortfall": { "unit": "impressions", "amount": "12500" },
        "evidenceBundle": { "proofPackIds": ["pp_2026_10_a"] }
    })
}

/// The webhook endpoint, the desk and the mail relay are all down while `DISPUTES` disputes are
/// opened, and every notification is tried and refused; then all three come back. Each sink must
/// then have every notification exactly once: a webhook event per opening (by `X-Event-Id`), a
/// ticket per dispute, a mail to the owner per opening (by `Message-ID`). On PostgreSQL two
/// server instances, so two dispatchers, share the outbox and take turns opening the disputes.
async fn nothing_is_lost_while_all_three_sinks_are_down(store: Store) {
    const DISPUTES: usize = 100;
    const OWNER: &str = "olga@acme.example";
    let desk = Desk::start(true).await;
    let (hook_url, hook) = hook(true).await;
    // Nothing listens on the relay's port until the outage ends: every send is refused.
    let relay_port = free_port();
    let relay_url = Smtp::url(relay_port);
    let mut env = desk.env();
    env.extend([
        ("DISPUTES_DISPATCH_BACKOFF_MS", "100".to_owned()),
        // The outage outlasts any sink's attempts at these timings; this test is about nothing
        // being lost or sent twice, so none is given up, and webhooks retry as fast as the rest.
        (
            "DISPUTES_WEBHOOK_RETRY_SCHEDULE",
            "100ms,200ms,400ms".to_owned(),
        ),
        ("DISPUTES_WEBHOOK_MAX_ATTEMPTS", "100000".to_owned()),
        ("DISPUTES_EMAIL_MAX_ATTEMPTS", "100000".to_owned()),
        ("DISPUTES_FRESHDESK_MAX_ATTEMPTS", "100000".to_owned()),
        ("SMTP_URL", relay_url),
        (
            "EMAIL_FROM",
            "Acme disputes <disputes@acme.example>".to_owned(),
        ),
    ]);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut first = Server::start_with_env(store, &env).await;
    // On PostgreSQL a second instance, and so a second dispatcher, shares the outbox.
    let mut second = match store {
        Store::Postgres => Some(first.second_instance().await),
        Store::Sqlite => None,
    };
    first.tenant_with_owner("acme", "Olga Owner", OWNER);
    let advertiser = first.key("acme", "advertiser", "dev_adv");
    first.cli(&["webhook", "add", "--tenant", "acme", "--url", &hook_url]);

    let mut opened = BTreeSet::new();
    for i in 0..DISPUTES {
        let server = match (&second, i % 2) {
            (Some(second), 1) => second,
            _ => &first,
        };
        let answer = server
            .call(
                Method::POST,
                "/v1/disputes",
                Some(&advertiser),
                Some(delivery_request(&format!("cmp_{i}"))),
            )
            .await;
        assert_eq!(
            answer.status,
            reqwest::StatusCode::CREATED,
            "{:#}",
            answer.body
        );
        opened.insert(
            answer.body["data"]["dispute"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    // A ticket, a mail and a webhook event are tagged with the dispute's number, whatever prefix
    // the contract's id has.
    let numbers: BTreeSet<String> = opened
        .iter()
        .map(|id| {
            id.trim_start_matches(|c: char| !c.is_ascii_digit())
                .to_owned()
        })
        .collect();
    assert_eq!(numbers.len(), DISPUTES);

    // The outage lasts until every sink has refused every one of its notifications at least once.
    for sink in ["webhook", "freshdesk", "email"] {
        let queued = first
            .count(&format!(
                "SELECT COUNT(*) FROM outbox_jobs WHERE sink = '{sink}'"
            ))
            .await;
        assert_eq!(queued, DISPUTES as i64, "one {sink} job per opening");
    }
    let all_refused = within(Duration::from_secs(30), || async {
        first
            .count(
                "SELECT COUNT(*) FROM outbox_jobs \
                 WHERE attempts > 0 AND last_error IS NOT NULL AND delivered_at IS NULL",
            )
            .await
            == 3 * DISPUTES as i64
    })
    .await;
    assert!(
        all_refused,
        "not every job was tried while the sinks were down"
    );
    assert!(desk.state.lock().unwrap().refused > 0);
    assert!(desk.tickets().is_empty() && hook.taken.lock().unwrap().is_empty());

    desk.down.store(false, Ordering::SeqCst);
    hook.down.store(false, Ordering::SeqCst);
    let relay = Smtp::start_on(relay_port).await;
    let all_delivered = within(Duration::from_secs(60), || async {
        first
            .count("SELECT COUNT(*) FROM outbox_jobs WHERE delivered_at IS NULL")
            .await
            == 0
    })
    .await;
    assert!(
        all_delivered,
        "after the outage only {} tickets, {} webhook events and {} mails of {DISPUTES} arrived",
        desk.tickets().len(),
        hook.taken.lock().unwrap().len(),
        relay.mails().len()
    );
    // Once the servers have exited nothing more can arrive: what the sinks hold now is all
    // they will ever get, so a repeat would show in the counts below.
    for server in std::iter::once(&mut first).chain(second.as_mut()) {
        server.terminate();
        server.exit_status().await;
    }

    let tickets = desk.tickets();
    let mut per_dispute: BTreeMap<String, usize> = BTreeMap::new();
    for ticket in &tickets {
        assert_eq!(ticket.tags[0], "dispute");
        assert_eq!(ticket.email, OWNER);
        *per_dispute.entry(ticket.tags[1].clone()).or_default() += 1;
    }
    assert_eq!(
        tickets.len(),
        DISPUTES,
        "one ticket per dispute, none twice"
    );
    assert_eq!(
        per_dispute.keys().cloned().collect::<BTreeSet<_>>(),
        numbers,
        "every opened dispute has its ticket"
    );

    let taken = hook.taken.lock().unwrap().clone();
    let events: BTreeSet<String> = taken.iter().cloned().collect();
    assert_eq!(
        (taken.len(), events.len()),
        (DISPUTES, DISPUTES),
        "each webhook event taken exactly once"
    );

    let mails = relay.mails();
    let message_ids: BTreeSet<&str> = mails.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(
        (mails.len(), message_ids.len()),
        (DISPUTES, DISPUTES),
        "each opening mailed to the owner exactly once"
    );
    assert!(mails.iter().all(|m| m.to.contains(OWNER)), "{mails:#?}");
    // A mail's Message-ID starts with its event's id: the mail and the webhook event are
    // the same notifications.
    let mailed_events: BTreeSet<String> = mails
        .iter()
        .map(|m| {
            let id = m.message_id.trim_start_matches('<');
            id.split('.').next().unwrap_or_default().to_owned()
        })
        .collect();
    assert_eq!(mailed_events, events, "the mails are of the opening events");
    let mailed_disputes: BTreeSet<String> = mails
        .iter()
        .map(|m| {
            m.subject
                .trim_start_matches("Dispute ")
                .trim_end_matches(": opened")
                .to_owned()
        })
        .collect();
    assert_eq!(mailed_disputes, numbers, "every opened dispute is mailed");
}

async fn the_invoice_contract_shows_the_ticket(store: Store) {
    const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n";
    let desk = Desk::start(false).await;
    let env = desk.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = Server::start_with_env(store, &env).await;
    server.tenant_with_owner("webshop-nl", "Sanne Bakker", "sanne@billink.example");
    let billink_id = server.login("webshop-nl", "client", "webshop-api");
    let post = |path: &'static str, mut body: Value| {
        body["billinkUsername"] = json!("webshop-api");
        body["billinkId"] = json!(billink_id);
        server.call(Method::POST, path, None, Some(body))
    };
    let opened = post(
        "/v2/dispute",
        json!({
            "category": "damaged_goods",
            "customerEmail": "jan.devries@example.nl",
            "customerName": "Jan <de Vries>",
            "invoice": "INV-2026-0042",
            "locale": "nl-NL",
            "message": "De lamp is beschadigd aangekomen.",
            "file": base64::engine::general_purpose::STANDARD.encode(PDF),
            "fileName": "foto.pdf"
        }),
    )
    .await;
    assert_eq!(opened.status, reqwest::StatusCode::OK, "{:#}", opened.body);
    let id = opened.body["id"].as_i64().unwrap();

    eventually("a ticket is opened", || async {
        !desk.tickets().is_empty()
    })
    .await;
    let ticket = desk.tickets()[0].clone();
    assert_eq!(ticket.email, "jan.devries@example.nl", "the customer asks");
    assert_eq!(ticket.tags, ["dispute".to_owned(), id.to_string()]);
    assert_eq!(ticket.files, [("foto.pdf".to_owned(), PDF.to_vec())]);
    let shown = json!({
        "id": ticket.id,
        "url": format!("{}/a/tickets/{}", desk.url, ticket.id),
        "status": "open",
    });
    // The ticket is recorded just after the desk answered; poll the contract for it.
    let mut info = Value::Null;
    for _ in 0..100 {
        info = post("/v2/dispute/info", json!({"id": id})).await.body;
        if !info["freshDeskTicket"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(info["freshDeskTicket"], shown);
    let list = post("/v2/dispute/list", json!({"limit": 10})).await.body;
    assert_eq!(list["disputes"][0]["freshDeskTicket"], shown);

    let message = post(
        "/v2/dispute/message",
        json!({"id": id, "author": "customer", "message": "Hier is <b>nog</b> een foto."}),
    )
    .await;
    assert_eq!(
        message.status,
        reqwest::StatusCode::OK,
        "{:#}",
        message.body
    );
    let resolved = post(
        "/v2/dispute/resolve",
        json!({"id": id, "outcome": "granted", "message": "Gecrediteerd."}),
    )
    .await;
    assert_eq!(
        resolved.status,
        reqwest::StatusCode::OK,
        "{:#}",
        resolved.body
    );
    let mut info = Value::Null;
    for _ in 0..100 {
        info = post("/v2/dispute/info", json!({"id": id})).await.body;
        if info["freshDeskTicket"]["status"] == "resolved" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(info["freshDeskTicket"]["status"], "resolved", "{info:#}");
    assert_eq!(desk.tickets()[0].status, 4);
    let notes = desk.state.lock().unwrap().notes.clone();
    assert_eq!(notes.len(), 1, "{notes:#?}");
    assert_eq!(notes[0].0, ticket.id);
    assert!(
        notes[0]
            .1
            .contains("Hier is &lt;b&gt;nog&lt;/b&gt; een foto."),
        "escaped: {}",
        notes[0].1
    );
    assert_eq!(desk.tickets().len(), 1);
}

async fn without_freshdesk_nothing_is_queued_for_it(store: Store) {
    let server = Server::start(store).await;
    server.tenant_with_owner("acme", "Olga Owner", "olga@acme.example");
    let advertiser = server.key("acme", "advertiser", "dev_adv");
    let answer = server
        .call(
            Method::POST,
            "/v1/disputes",
            Some(&advertiser),
            Some(delivery_request("cmp_quiet")),
        )
        .await;
    assert_eq!(
        answer.status,
        reqwest::StatusCode::CREATED,
        "{:#}",
        answer.body
    );
    let queued = server
        .sql("UPDATE outbox_jobs SET attempts = attempts WHERE sink = 'freshdesk'")
        .await
        .unwrap();
    assert_eq!(queued, 0, "no Freshdesk job without Freshdesk");
    let webhook_jobs = server
        .sql("UPDATE outbox_jobs SET attempts = attempts WHERE sink = 'webhook'")
        .await
        .unwrap();
    assert_eq!(webhook_jobs, 1, "the other sinks still queue");
}

async fn a_webhook_for_an_unknown_tenant_is_refused_clearly(store: Store) {
    let server = Server::start(store).await;
    let output = std::process::Command::new(support::binary())
        .args([
            "webhook",
            "add",
            "--tenant",
            "nobody",
            "--url",
            "https://example.com/in",
        ])
        .args(["--database-url", &server.database_url])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("no tenant named nobody"), "{stderr}");
    assert!(output.stdout.is_empty(), "no secret is printed");
}

store_tests!(
    nothing_is_lost_while_all_three_sinks_are_down,
    the_invoice_contract_shows_the_ticket,
    without_freshdesk_nothing_is_queued_for_it,
    a_webhook_for_an_unknown_tenant_is_refused_clearly
);
