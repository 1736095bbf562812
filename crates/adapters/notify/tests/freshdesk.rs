//! Contract tests of the Freshdesk sink against a fake desk (wiremock) that keeps the tickets it
//! was asked to open: what each call sends, how each answer is taken, and that retries after a
//! lost answer never open a second ticket nor add a note twice.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use chrono::{TimeZone, Utc};
use disputes_domain::{
    Actor, ActorId, Agent, Attachment, Claim, DeliverySubject, Dispute, DisputeId, DisputePolicy,
    EntryKind, EvidenceBundle, EvidenceItem, EvidenceKind, InvoiceSubject, MessageText, NewMessage,
    OpenDispute, Period, Quantity, Role, Subject, TenantId, Timestamp, Unit,
};
use disputes_notify::{FreshdeskClient, FreshdeskConfig, FreshdeskNotifier};
use disputes_ports::{
    DeadLetter, Dispatcher, Event, EventId, ManualClock, MockBlobStore, MockCredentialStore,
    MockDisputeRepository, Notifier, Outbox, OutboxJob, Replay, Sink, StoreError, Ticket,
    TicketStatus, TicketStore,
};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const API_KEY: &str = "fd-test-key";
const PDF: &[u8] = b"%PDF-1.4 the customer's proof";

fn t0() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap()
}

fn acme() -> TenantId {
    TenantId::new("acme").unwrap()
}

/// An invoice dispute opened with a message and a PDF; `extra` more messages follow.
fn invoice_dispute(extra: usize) -> Dispute {
    let client = Actor::new(ActorId::new("billink-user").unwrap(), Role::Client);
    let command = OpenDispute {
        tenant: acme(),
        subject: Subject::Invoice(
            InvoiceSubject::new(
                "INV-2026-7",
                "Jane <Doe>",
                "jane@example.com",
                "billing",
                "nl",
            )
            .unwrap(),
        ),
        claim: Claim::new(Quantity::new(125.into(), Unit::new("EUR").unwrap()).unwrap()),
        opened_by: client.clone(),
        evidence: EvidenceBundle::default(),
    };
    let message = NewMessage {
        text: MessageText::new("message", "I was charged twice & want it back.").unwrap(),
        attachment: Some(Attachment::inspect("proof.pdf", PDF).unwrap()),
    };
    let mut dispute = Dispute::open_with_message(command, message, t0(), &DisputePolicy::default())
        .unwrap()
        .into_dispute(DisputeId::new(7).unwrap());
    for i in 0..extra {
        let message = NewMessage {
            text: MessageText::new("message", format!("Follow-up {i}")).unwrap(),
            attachment: None,
        };
        dispute.post_message(client.clone(), message, t0()).unwrap();
    }
    dispute
}

/// A delivery dispute: it has no customer, so its ticket is the tenant owner's.
fn delivery_dispute() -> Dispute {
    let start = Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap();
    let period = Period::new("p", start, start + chrono::Duration::days(7)).unwrap();
    let command = OpenDispute {
        tenant: acme(),
        subject: Subject::Delivery(
            DeliverySubject::new("cmp_autumn", vec!["scr_1".into()], None, period).unwrap(),
        ),
        claim: Claim::new(Quantity::new(12500.into(), Unit::new("impressions").unwrap()).unwrap()),
        opened_by: Actor::new(ActorId::new("dev_adv").unwrap(), Role::Advertiser),
        evidence: EvidenceBundle::new(vec![
            EvidenceItem::new(EvidenceKind::ProofPack, "pp_1").unwrap()
        ]),
    };
    Dispute::open(command, t0(), &DisputePolicy::default())
        .unwrap()
        .into_dispute(DisputeId::new(8).unwrap())
}

fn event(dispute: &Dispute, seq: i64, attempt: u32, id: &EventId) -> Event {
    let kind = dispute
        .timeline()
        .iter()
        .find(|e| e.seq() == seq)
        .unwrap()
        .kind();
    Event {
        id: id.clone(),
        kind,
        seq,
        dispute: dispute.clone(),
        attempt,
        replayed: false,
    }
}

/// The tickets the sink recorded, in memory.
#[derive(Debug, Default)]
struct Tickets(Mutex<HashMap<(String, i64), Ticket>>);

impl Tickets {
    fn of(&self, dispute: &Dispute) -> Option<Ticket> {
        self.0
            .lock()
            .unwrap()
            .get(&(dispute.tenant().to_string(), dispute.id().get()))
            .cloned()
    }
}

#[async_trait]
impl TicketStore for Tickets {
    async fn ticket(&self, tenant: &TenantId, id: DisputeId) -> Result<Option<Ticket>, StoreError> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .get(&(tenant.to_string(), id.get()))
            .cloned())
    }

    async fn tickets(
        &self,
        tenant: &TenantId,
        ids: &[DisputeId],
    ) -> Result<Vec<Ticket>, StoreError> {
        let mut found = Vec::new();
        for id in ids {
            found.extend(self.ticket(tenant, *id).await?);
        }
        Ok(found)
    }

    async fn save_ticket(&self, ticket: &Ticket) -> Result<(), StoreError> {
        self.0.lock().unwrap().insert(
            (ticket.tenant.to_string(), ticket.dispute.get()),
            ticket.clone(),
        );
        Ok(())
    }
}

/// The desk's state: the tickets it opened (id, tags) and the notes it took.
#[derive(Debug, Default)]
struct DeskState {
    tickets: Vec<(i64, Vec<String>)>,
    notes: Vec<(i64, String)>,
}

/// A fake Freshdesk that really keeps what it is sent, so a search finds what a lost answer
/// opened.
#[derive(Debug, Clone, Default)]
struct Desk {
    state: Arc<Mutex<DeskState>>,
    /// Answers to hand out before taking a request (a 429, a 503, a slow answer); each request
    /// takes the next one, and with none left the desk takes it.
    faults: Arc<Mutex<VecDeque<Fault>>>,
}

#[derive(Debug, Clone)]
enum Fault {
    /// Refuse with this answer; nothing is kept.
    Refuse(ResponseTemplate),
    /// Keep the request, but answer only after this delay (longer than the client waits).
    Slow(Duration),
}

impl Desk {
    fn ticket_count(&self) -> usize {
        self.state.lock().unwrap().tickets.len()
    }

    fn notes(&self) -> Vec<(i64, String)> {
        self.state.lock().unwrap().notes.clone()
    }

    fn take_fault(&self) -> Option<Fault> {
        self.faults.lock().unwrap().pop_front()
    }
}

struct CreateTicket(Desk);

impl Respond for CreateTicket {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let delay = match self.0.take_fault() {
            Some(Fault::Refuse(answer)) => return answer,
            Some(Fault::Slow(delay)) => delay,
            None => Duration::ZERO,
        };
        let tags = match body_of(request) {
            Body::Json(json) => json["tags"]
                .as_array()
                .map(|tags| {
                    tags.iter()
                        .filter_map(|t| t.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            Body::Form(fields) => fields
                .iter()
                .filter(|f| f.name == "tags[]")
                .map(|f| f.text())
                .collect(),
        };
        let mut state = self.0.state.lock().unwrap();
        let id = 1000 + state.tickets.len() as i64;
        state.tickets.push((id, tags));
        ResponseTemplate::new(201)
            .set_body_json(json!({"id": id, "status": 2, "priority": 2}))
            .set_delay(delay)
    }
}

struct SearchTickets(Desk);

impl Respond for SearchTickets {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        if let Some(Fault::Refuse(answer)) = self.0.take_fault() {
            return answer;
        }
        let query = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "query")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        // "tag:'a' AND tag:'b'": every quoted tag must be on the ticket.
        let wanted: Vec<String> = query
            .split('\'')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect();
        let state = self.0.state.lock().unwrap();
        let results: Vec<Value> = state
            .tickets
            .iter()
            .filter(|(_, tags)| !wanted.is_empty() && wanted.iter().all(|w| tags.contains(w)))
            .map(|(id, _)| json!({"id": id, "status": 2}))
            .collect();
        ResponseTemplate::new(200)
            .set_body_json(json!({"results": results, "total": results.len()}))
    }
}

struct AddNote(Desk);

impl Respond for AddNote {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let delay = match self.0.take_fault() {
            Some(Fault::Refuse(answer)) => return answer,
            Some(Fault::Slow(delay)) => delay,
            None => Duration::ZERO,
        };
        let ticket: i64 = request
            .url
            .path()
            .split('/')
            .nth(4)
            .unwrap()
            .parse()
            .unwrap();
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        self.0
            .state
            .lock()
            .unwrap()
            .notes
            .push((ticket, body["body"].as_str().unwrap().to_owned()));
        ResponseTemplate::new(201)
            .set_body_json(json!({"id": 1, "body": body["body"]}))
            .set_delay(delay)
    }
}

struct Conversations(Desk);

impl Respond for Conversations {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let ticket: i64 = request
            .url
            .path()
            .split('/')
            .nth(4)
            .unwrap()
            .parse()
            .unwrap();
        let notes: Vec<Value> = self
            .0
            .notes()
            .into_iter()
            .filter(|(t, _)| *t == ticket)
            .map(|(_, body)| json!({"body": body, "private": true}))
            .collect();
        ResponseTemplate::new(200).set_body_json(notes)
    }
}

/// A desk on its own port, with a sink pointed at it whose requests give up after `timeout`.
async fn desk(timeout: Duration) -> (MockServer, Desk, FreshdeskNotifier, Arc<Tickets>) {
    desk_with_files(timeout, vec![PDF.to_vec()]).await
}

/// [`desk`], with a blob store that holds `files`.
async fn desk_with_files(
    timeout: Duration,
    files: Vec<Vec<u8>>,
) -> (MockServer, Desk, FreshdeskNotifier, Arc<Tickets>) {
    let server = MockServer::start().await;
    let desk = Desk::default();
    Mock::given(method("POST"))
        .and(path("/api/v2/tickets"))
        .respond_with(CreateTicket(desk.clone()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/search/tickets"))
        .respond_with(SearchTickets(desk.clone()))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(wiremock::matchers::path_regex(
            r"^/api/v2/tickets/\d+/notes$",
        ))
        .respond_with(AddNote(desk.clone()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex(
            r"^/api/v2/tickets/\d+/conversations$",
        ))
        .respond_with(Conversations(desk.clone()))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(wiremock::matchers::path_regex(r"^/api/v2/tickets/\d+$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 1, "status": 4})))
        .mount(&server)
        .await;
    let config = FreshdeskConfig::new(server.uri(), API_KEY).with_timeout(timeout);
    let client = FreshdeskClient::new(config).unwrap();
    let tickets = Arc::new(Tickets::default());
    let mut blobs = MockBlobStore::new();
    let files: Vec<_> = files
        .into_iter()
        .map(|bytes| (disputes_domain::Digest::of(&bytes), bytes))
        .collect();
    blobs.expect_get().returning(move |_, digest| {
        Ok(files
            .iter()
            .find(|(stored, _)| *stored == digest)
            .map(|(_, bytes)| bytes.clone()))
    });
    let mut owners = MockCredentialStore::new();
    owners
        .expect_tenant_owner()
        .returning(|_| Ok(Some(Agent::new("Olga Owner", "olga@acme.example").unwrap())));
    let notifier =
        FreshdeskNotifier::new(client, tickets.clone(), Arc::new(blobs), Arc::new(owners));
    (server, desk, notifier, tickets)
}

async fn requests_to(server: &MockServer, verb: &str, route: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() == verb && r.url.path() == route)
        .collect()
}

enum Body {
    Json(Value),
    Form(Vec<Field>),
}

struct Field {
    name: String,
    file_name: Option<String>,
    content_type: Option<String>,
    bytes: Vec<u8>,
}

impl Field {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// A request's JSON body, or its `multipart/form-data` fields.
fn body_of(request: &Request) -> Body {
    let content_type = request
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let Some(boundary) = content_type.split("boundary=").nth(1) else {
        return Body::Json(serde_json::from_slice(&request.body).unwrap());
    };
    let delimiter = format!("--{}", boundary.trim_matches('"'));
    let body = &request.body;
    let mut fields = Vec::new();
    let positions: Vec<usize> = body
        .windows(delimiter.len())
        .enumerate()
        .filter(|(_, w)| *w == delimiter.as_bytes())
        .map(|(i, _)| i)
        .collect();
    for pair in positions.windows(2) {
        let part = &body[pair[0] + delimiter.len() + 2..pair[1] - 2];
        let split = part.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8_lossy(&part[..split]).into_owned();
        let value = |key: &str| {
            head.split(&format!("{key}=\""))
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .map(str::to_owned)
        };
        fields.push(Field {
            name: value("name").unwrap(),
            file_name: value("filename"),
            content_type: head
                .lines()
                .find_map(|l| {
                    l.strip_prefix("content-type: ")
                        .or(l.strip_prefix("Content-Type: "))
                })
                .map(str::to_owned),
            bytes: part[split + 4..].to_vec(),
        });
    }
    Body::Form(fields)
}

#[tokio::test]
async fn an_opened_invoice_dispute_gets_a_ticket_with_its_facts_and_file() {
    let (server, desk, notifier, tickets) = desk(Duration::from_secs(5)).await;
    let dispute = invoice_dispute(0);
    notifier
        .deliver(&event(&dispute, 1, 1, &EventId::generate()))
        .await
        .unwrap();

    let posts = requests_to(&server, "POST", "/api/v2/tickets").await;
    assert_eq!(posts.len(), 1);
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{API_KEY}:X"));
    assert_eq!(
        posts[0]
            .headers
            .get("authorization")
            .unwrap()
            .to_str()
            .unwrap(),
        format!("Basic {basic}")
    );
    let Body::Form(fields) = body_of(&posts[0]) else {
        panic!("a ticket with a file is sent as multipart/form-data");
    };
    let text = |name: &str| -> Vec<String> {
        fields
            .iter()
            .filter(|f| f.name == name)
            .map(Field::text)
            .collect()
    };
    assert_eq!(
        text("subject"),
        ["Dispute 7: invoice INV-2026-7 (Jane <Doe>)"]
    );
    assert_eq!(text("status"), ["2"]);
    assert_eq!(text("priority"), ["2"]);
    assert_eq!(text("email"), ["jane@example.com"]);
    assert_eq!(text("tags[]"), ["dispute", "7"]);
    let description = &text("description")[0];
    assert!(
        description.contains("Jane &lt;Doe&gt;"),
        "facts are escaped: {description}"
    );
    assert!(description.contains("I was charged twice &amp; want it back."));
    assert!(description.contains("125 EUR"));
    let files: Vec<&Field> = fields
        .iter()
        .filter(|f| f.name == "attachments[]")
        .collect();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].file_name.as_deref(), Some("proof.pdf"));
    assert_eq!(files[0].content_type.as_deref(), Some("application/pdf"));
    assert_eq!(files[0].bytes, PDF);

    let ticket = tickets.of(&dispute).expect("the ticket is recorded");
    assert_eq!(ticket.id, 1000);
    assert_eq!(ticket.url, format!("{}/a/tickets/1000", server.uri()));
    assert_eq!(ticket.status, TicketStatus::Open);
    assert_eq!(desk.ticket_count(), 1);
}

#[tokio::test]
async fn a_dispute_without_a_customer_is_filed_by_the_tenant_owner_as_json() {
    let (server, _desk, notifier, tickets) = desk(Duration::from_secs(5)).await;
    let dispute = delivery_dispute();
    notifier
        .deliver(&event(&dispute, 1, 1, &EventId::generate()))
        .await
        .unwrap();
    let posts = requests_to(&server, "POST", "/api/v2/tickets").await;
    assert_eq!(posts.len(), 1);
    let Body::Json(body) = body_of(&posts[0]) else {
        panic!("a ticket without files is JSON");
    };
    assert_eq!(body["email"], "olga@acme.example");
    assert_eq!(body["status"], 2);
    assert_eq!(body["tags"], json!(["dispute", "8"]));
    assert_eq!(body["subject"], "Dispute 8: campaign cmp_autumn");
    assert!(tickets.of(&dispute).is_some());
}

#[tokio::test]
async fn without_a_requester_no_ticket_is_opened() {
    let server = MockServer::start().await;
    let client = FreshdeskClient::new(FreshdeskConfig::new(server.uri(), API_KEY)).unwrap();
    let mut owners = MockCredentialStore::new();
    owners.expect_tenant_owner().returning(|_| Ok(None));
    let tickets = Arc::new(Tickets::default());
    let notifier = FreshdeskNotifier::new(
        client,
        tickets.clone(),
        Arc::new(MockBlobStore::new()),
        Arc::new(owners),
    );
    let dispute = delivery_dispute();
    notifier
        .deliver(&event(&dispute, 1, 1, &EventId::generate()))
        .await
        .expect("skipped, not failed");
    assert!(server.received_requests().await.unwrap().is_empty());
    assert!(tickets.of(&dispute).is_none());
}

#[tokio::test]
async fn a_validation_error_is_permanent_and_keeps_freshdesks_error_text() {
    let (_server, desk, notifier, tickets) = desk(Duration::from_secs(5)).await;
    desk.faults.lock().unwrap().push_back(Fault::Refuse(
        ResponseTemplate::new(400).set_body_json(json!({
            "description": "Validation failed",
            "errors": [{"field": "email", "message": "It should be a valid email address", "code": "invalid_value"}]
        })),
    ));
    let dispute = invoice_dispute(0);
    let failure = notifier
        .deliver(&event(&dispute, 1, 1, &EventId::generate()))
        .await
        .unwrap_err();
    assert!(failure.reason.contains("400"), "{failure:?}");
    assert!(
        failure
            .reason
            .contains("It should be a valid email address"),
        "{failure:?}"
    );
    assert!(
        failure.permanent,
        "the same ticket would fail again: dead-lettered"
    );
    assert!(tickets.of(&dispute).is_none());
    assert_eq!(desk.ticket_count(), 0);
}

#[tokio::test]
async fn an_unauthorized_key_is_retried() {
    let (_server, desk, notifier, tickets) = desk(Duration::from_secs(5)).await;
    desk.faults.lock().unwrap().push_back(Fault::Refuse(
        ResponseTemplate::new(401)
            .set_body_json(json!({"code": "invalid_credentials", "message": "You have to be logged in to perform this action."})),
    ));
    let dispute = invoice_dispute(0);
    let failure = notifier
        .deliver(&event(&dispute, 1, 1, &EventId::generate()))
        .await
        .unwrap_err();
    assert!(failure.reason.contains("401"), "{failure:?}");
    assert!(
        failure.reason.contains("invalid_credentials"),
        "{failure:?}"
    );
    assert!(!failure.reason.contains(API_KEY), "the key is never shown");
    assert!(!failure.permanent, "fixing the key lets it through");
    assert!(tickets.of(&dispute).is_none());
}

/// One job in memory, for a dispatcher to claim.
#[derive(Debug)]
struct OneJob {
    job: OutboxJob,
    due: Mutex<Timestamp>,
    attempts: Mutex<u32>,
    delivered: Mutex<bool>,
}

#[async_trait]
impl Outbox for OneJob {
    async fn lease(
        &self,
        now: Timestamp,
        lease: chrono::Duration,
        _limit: u16,
    ) -> Result<Vec<OutboxJob>, StoreError> {
        let mut due = self.due.lock().unwrap();
        if *self.delivered.lock().unwrap() || *due > now {
            return Ok(Vec::new());
        }
        *due = now + lease;
        let mut attempts = self.attempts.lock().unwrap();
        *attempts += 1;
        Ok(vec![OutboxJob {
            attempts: *attempts,
            ..self.job.clone()
        }])
    }

    async fn delivered(&self, _job: i64, _at: Timestamp) -> Result<(), StoreError> {
        *self.delivered.lock().unwrap() = true;
        Ok(())
    }

    async fn retry_at(&self, _job: i64, at: Timestamp, _error: &str) -> Result<(), StoreError> {
        *self.due.lock().unwrap() = at;
        Ok(())
    }

    async fn dead_letter(&self, _job: i64, _at: Timestamp, error: &str) -> Result<(), StoreError> {
        panic!("no job here is given up on: {error}")
    }

    async fn dead_letters(&self, _limit: u16) -> Result<Vec<DeadLetter>, StoreError> {
        Ok(Vec::new())
    }

    async fn replay(&self, _which: Replay, _now: Timestamp) -> Result<u64, StoreError> {
        Ok(0)
    }

    async fn prune_delivered(&self, _before: Timestamp, _limit: u16) -> Result<u64, StoreError> {
        Ok(0)
    }
}

#[tokio::test]
async fn a_429_is_retried_no_sooner_than_retry_after() {
    let (server, desk, notifier, tickets) = desk(Duration::from_secs(5)).await;
    desk.faults.lock().unwrap().push_back(Fault::Refuse(
        ResponseTemplate::new(429).insert_header("Retry-After", "2"),
    ));
    let dispute = invoice_dispute(0);
    let failure = notifier
        .deliver(&event(&dispute, 1, 1, &EventId::generate()))
        .await
        .unwrap_err();
    assert_eq!(failure.retry_after, Some(chrono::Duration::seconds(2)));
    desk.faults.lock().unwrap().push_back(Fault::Refuse(
        ResponseTemplate::new(429).insert_header("Retry-After", "2"),
    ));

    // The same through a dispatcher whose time only moves when the test says.
    let outbox = Arc::new(OneJob {
        job: OutboxJob {
            id: 1,
            event: EventId::generate(),
            tenant: acme(),
            dispute: dispute.id(),
            seq: 1,
            kind: EntryKind::Opened,
            sink: Sink::Freshdesk,
            attempts: 0,
            replayed: false,
        },
        due: Mutex::new(t0()),
        attempts: Mutex::new(0),
        delivered: Mutex::new(false),
    });
    let mut repo = MockDisputeRepository::new();
    let stored = dispute.clone();
    repo.expect_get()
        .returning(move |_, _| Ok(Some(stored.clone())));
    let clock = Arc::new(ManualClock::new(t0()));
    let dispatcher = Dispatcher::new(outbox.clone(), Arc::new(repo), clock.clone())
        .with_notifier(Sink::Freshdesk, Arc::new(notifier));
    let round = dispatcher.run_once().await.unwrap();
    assert_eq!((round.leased, round.retried), (1, 1));
    assert_eq!(
        *outbox.due.lock().unwrap(),
        t0() + chrono::Duration::seconds(2)
    );
    clock.advance(chrono::Duration::milliseconds(1999));
    assert_eq!(
        dispatcher.run_once().await.unwrap().leased,
        0,
        "not before 2 s"
    );
    clock.advance(chrono::Duration::milliseconds(1));
    let round = dispatcher.run_once().await.unwrap();
    assert_eq!((round.leased, round.delivered), (1, 1));
    assert_eq!(desk.ticket_count(), 1);
    assert!(tickets.of(&dispute).is_some());
    // Two refusals, then the one ticket.
    assert_eq!(
        requests_to(&server, "POST", "/api/v2/tickets").await.len(),
        3
    );
}

#[tokio::test]
async fn a_server_error_is_retried_then_the_ticket_opens_once() {
    let (server, desk, notifier, tickets) = desk(Duration::from_secs(5)).await;
    desk.faults
        .lock()
        .unwrap()
        .push_back(Fault::Refuse(ResponseTemplate::new(503)));
    let dispute = invoice_dispute(0);
    let id = EventId::generate();
    let failure = notifier
        .deliver(&event(&dispute, 1, 1, &id))
        .await
        .unwrap_err();
    assert!(failure.reason.contains("503"), "{failure:?}");
    assert_eq!(failure.retry_after, None);
    notifier.deliver(&event(&dispute, 1, 2, &id)).await.unwrap();
    assert_eq!(desk.ticket_count(), 1);
    assert_eq!(
        requests_to(&server, "POST", "/api/v2/tickets").await.len(),
        2
    );
    assert_eq!(tickets.of(&dispute).unwrap().id, 1000);
}

#[tokio::test]
async fn a_lost_answer_then_a_retry_leaves_exactly_one_ticket() {
    let (server, desk, notifier, tickets) = desk(Duration::from_millis(300)).await;
    // The desk opens the ticket but answers after the client gave up.
    desk.faults
        .lock()
        .unwrap()
        .push_back(Fault::Slow(Duration::from_secs(3)));
    let dispute = invoice_dispute(0);
    let id = EventId::generate();
    let failure = notifier
        .deliver(&event(&dispute, 1, 1, &id))
        .await
        .unwrap_err();
    assert!(failure.reason.contains("did not answer"), "{failure:?}");
    assert!(tickets.of(&dispute).is_none());
    assert_eq!(desk.ticket_count(), 1, "the desk did open it");

    notifier.deliver(&event(&dispute, 1, 2, &id)).await.unwrap();
    assert_eq!(desk.ticket_count(), 1, "exactly one ticket");
    assert_eq!(
        requests_to(&server, "POST", "/api/v2/tickets").await.len(),
        1,
        "the retry found the ticket instead of opening another"
    );
    assert_eq!(
        requests_to(&server, "GET", "/api/v2/search/tickets")
            .await
            .len(),
        1
    );
    assert_eq!(
        tickets.of(&dispute).unwrap().id,
        1000,
        "the retry adopted it"
    );
}

#[tokio::test]
async fn a_replayed_opening_looks_for_the_ticket_an_attempt_before_the_replay_opened() {
    let (server, desk, notifier, tickets) = desk(Duration::from_millis(300)).await;
    desk.faults
        .lock()
        .unwrap()
        .push_back(Fault::Slow(Duration::from_secs(3)));
    let dispute = invoice_dispute(0);
    let id = EventId::generate();
    assert!(notifier.deliver(&event(&dispute, 1, 1, &id)).await.is_err());
    assert_eq!(desk.ticket_count(), 1, "the desk did open it");

    // Dead-lettered, then replayed: its attempts count from 1 again.
    let replayed = Event {
        replayed: true,
        ..event(&dispute, 1, 1, &id)
    };
    notifier.deliver(&replayed).await.unwrap();
    assert_eq!(desk.ticket_count(), 1, "exactly one ticket");
    assert_eq!(
        requests_to(&server, "POST", "/api/v2/tickets").await.len(),
        1
    );
    assert_eq!(tickets.of(&dispute).unwrap().id, 1000, "adopted");
}

#[tokio::test]
async fn a_message_becomes_one_note_even_after_a_lost_answer() {
    let (server, desk, notifier, tickets) = desk(Duration::from_millis(300)).await;
    let dispute = invoice_dispute(1);
    notifier
        .deliver(&event(&dispute, 1, 1, &EventId::generate()))
        .await
        .unwrap();
    let ticket = tickets.of(&dispute).unwrap().id;
    let message = EventId::generate();
    desk.faults
        .lock()
        .unwrap()
        .push_back(Fault::Slow(Duration::from_secs(3)));
    let seq = dispute.timeline().last().unwrap().seq();
    assert!(notifier
        .deliver(&event(&dispute, seq, 1, &message))
        .await
        .is_err());
    notifier
        .deliver(&event(&dispute, seq, 2, &message))
        .await
        .unwrap();
    let notes = desk.notes();
    assert_eq!(notes.len(), 1, "{notes:#?}");
    assert_eq!(notes[0].0, ticket);
    assert!(notes[0].1.contains("Follow-up 0"));
    assert!(notes[0].1.contains(message.as_str()));
    let path = format!("/api/v2/tickets/{ticket}/notes");
    assert_eq!(requests_to(&server, "POST", &path).await.len(), 1);
}

#[tokio::test]
async fn a_message_waits_for_the_ticket_and_a_withdrawal_resolves_it() {
    let (server, _desk, notifier, tickets) = desk(Duration::from_secs(5)).await;
    let mut dispute = invoice_dispute(1);
    let seq = dispute.timeline().last().unwrap().seq();
    let early = notifier
        .deliver(&event(&dispute, seq, 1, &EventId::generate()))
        .await
        .unwrap_err();
    assert!(early.reason.contains("not open yet"), "{early:?}");
    assert!(server.received_requests().await.unwrap().is_empty());

    notifier
        .deliver(&event(&dispute, 1, 1, &EventId::generate()))
        .await
        .unwrap();
    let opener = dispute.opened_by().clone();
    dispute.withdraw(opener, "Paid after all.", t0()).unwrap();
    let last = dispute.timeline().last().unwrap().seq();
    notifier
        .deliver(&event(&dispute, last, 1, &EventId::generate()))
        .await
        .unwrap();
    let ticket = tickets.of(&dispute).unwrap();
    let puts = requests_to(&server, "PUT", &format!("/api/v2/tickets/{}", ticket.id)).await;
    assert_eq!(puts.len(), 1);
    let body: Value = serde_json::from_slice(&puts[0].body).unwrap();
    assert_eq!(body, json!({"status": 4}));
    assert_eq!(ticket.status, TicketStatus::Resolved);
}

#[tokio::test]
async fn files_beyond_20_mb_stay_behind_and_the_description_says_so() {
    // Three files of 8 MB: the first two fit Freshdesk's 20 MB, the third does not.
    let files: Vec<Vec<u8>> = (0..3u8)
        .map(|i| {
            let mut bytes = b"%PDF-1.4 ".to_vec();
            bytes.resize(8 * 1000 * 1000, i);
            bytes
        })
        .collect();
    let mut stored = files.clone();
    stored.push(PDF.to_vec());
    let (server, _desk, notifier, _tickets) =
        desk_with_files(Duration::from_secs(30), stored).await;
    let client = Actor::new(ActorId::new("billink-user").unwrap(), Role::Client);
    let mut dispute = invoice_dispute(0);
    for (i, bytes) in files.iter().enumerate() {
        let message = NewMessage {
            text: MessageText::new("message", format!("Scan {i}")).unwrap(),
            attachment: Some(Attachment::inspect(format!("scan-{i}.pdf"), bytes).unwrap()),
        };
        dispute.post_message(client.clone(), message, t0()).unwrap();
    }
    notifier
        .deliver(&event(&dispute, 1, 1, &EventId::generate()))
        .await
        .unwrap();
    let posts = requests_to(&server, "POST", "/api/v2/tickets").await;
    let Body::Form(fields) = body_of(&posts[0]) else {
        panic!("files go as multipart/form-data");
    };
    let attached: Vec<(String, usize)> = fields
        .iter()
        .filter(|f| f.name == "attachments[]")
        .map(|f| (f.file_name.clone().unwrap(), f.bytes.len()))
        .collect();
    assert_eq!(
        attached,
        [
            ("proof.pdf".to_owned(), PDF.len()),
            ("scan-0.pdf".to_owned(), 8_000_000),
            ("scan-1.pdf".to_owned(), 8_000_000),
        ]
    );
    let description = fields
        .iter()
        .find(|f| f.name == "description")
        .unwrap()
        .text();
    assert!(
        description
            .contains("Not attached, over Freshdesk's 20 MB limit: scan-2.pdf (8000000 bytes)"),
        "{description}"
    );
}

#[tokio::test]
async fn a_later_event_opens_the_ticket_of_a_dispute_opened_before_freshdesk() {
    let (server, desk, notifier, tickets) = desk(Duration::from_secs(5)).await;
    let dispute = invoice_dispute(1);
    let seq = dispute.timeline().last().unwrap().seq();
    let message = EventId::generate();
    let attempt = disputes_notify::ATTEMPTS_BEFORE_OPENING + 1;
    notifier
        .deliver(&event(&dispute, seq, attempt, &message))
        .await
        .unwrap();
    assert_eq!(desk.ticket_count(), 1);
    let ticket = tickets.of(&dispute).expect("the message opened the ticket");
    assert_eq!(
        requests_to(&server, "GET", "/api/v2/search/tickets")
            .await
            .len(),
        1,
        "it looked for one first"
    );
    let notes = desk.notes();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].0, ticket.id);
}

#[tokio::test]
async fn the_opening_and_a_later_event_racing_open_one_ticket() {
    let (_server, desk, notifier, tickets) = desk(Duration::from_secs(5)).await;
    let dispute = invoice_dispute(1);
    let seq = dispute.timeline().last().unwrap().seq();
    let opening = event(&dispute, 1, 1, &EventId::generate());
    let later = event(
        &dispute,
        seq,
        disputes_notify::ATTEMPTS_BEFORE_OPENING + 1,
        &EventId::generate(),
    );
    // The later event first: its search goes out before the opening event's ticket exists.
    let (b, a) = tokio::join!(notifier.deliver(&later), notifier.deliver(&opening));
    a.unwrap();
    b.unwrap();
    assert_eq!(desk.ticket_count(), 1, "one ticket, whoever came first");
    assert_eq!(desk.notes().len(), 1);
    assert_eq!(tickets.of(&dispute).unwrap().id, desk.notes()[0].0);
}
