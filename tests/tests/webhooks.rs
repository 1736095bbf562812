//! End-to-end tests of webhooks (SPEC §5): events of a tenant's disputes reach every endpoint it
//! registered for them, signed, once per endpoint that took them, retried with the same event
//! id; endpoints registered through the delivery contract (`POST /v1/webhooks`) get the delivery
//! vendor's `Enfinitos-Signature` too. An endpoint that refuses for good (410 Gone) gets its
//! job dead-lettered, listed by `disputes outbox list --failed` and replayed by `disputes
//! outbox retry`.

mod support;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::Sha256;
use support::{store_tests, Server, Store};

/// One request an endpoint received.
#[derive(Debug, Clone)]
struct Received {
    event_id: String,
    /// Whether `X-Signature` is the HMAC of `X-Timestamp.body` with the endpoint's secret.
    verified: bool,
    /// Whether `Enfinitos-Signature` verifies as the vendor documents it; `None` without one.
    vendor_verified: Option<bool>,
    accepted: bool,
    body: Value,
}

#[derive(Debug, Default)]
struct Endpoint {
    secret: String,
    /// Refuse (401) any request whose `Enfinitos-Signature` does not verify, as a client of the
    /// vendor does.
    vendor_client: bool,
    /// How many requests to refuse (503, `Retry-After: 1`) before taking any.
    refuse: usize,
    /// Answer 410 Gone, as an endpoint that was removed does.
    gone: bool,
    received: Vec<Received>,
}

type Shared = Arc<Mutex<Endpoint>>;

/// The delivery vendor's check (docs.enfinitos.com, "Create a webhook subscription"): the header
/// is `t=<unix seconds>,v1=<hex HMAC-SHA256>`, the HMAC keyed with the `whsec_…` secret over
/// `<t>.<raw body>`, compared in constant time.
fn verify_enfinitos(secret: &str, header: &str, raw_body: &[u8]) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = Some(value),
            Some(("v1", value)) => v1 = Some(value),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let Ok(signature) = hex::decode(v1) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(raw_body);
    mac.verify_slice(&signature).is_ok()
}

async fn receive(
    State(endpoint): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let mut endpoint = endpoint.lock().unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(endpoint.secret.as_bytes()).unwrap();
    mac.update(header("x-timestamp").as_bytes());
    mac.update(b".");
    mac.update(&body);
    let verified = header("x-signature")
        .strip_prefix("sha256=")
        .and_then(|sig| hex::decode(sig).ok())
        .is_some_and(|sig| mac.verify_slice(&sig).is_ok());
    let vendor_verified = headers
        .get("enfinitos-signature")
        .map(|h| verify_enfinitos(&endpoint.secret, h.to_str().unwrap_or_default(), &body));
    if endpoint.vendor_client && vendor_verified != Some(true) {
        endpoint.received.push(Received {
            event_id: header("x-event-id"),
            verified,
            vendor_verified,
            accepted: false,
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        });
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let accepted = endpoint.refuse == 0 && !endpoint.gone;
    endpoint.refuse = endpoint.refuse.saturating_sub(1);
    endpoint.received.push(Received {
        event_id: header("x-event-id"),
        verified,
        vendor_verified,
        accepted,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    if accepted {
        StatusCode::NO_CONTENT.into_response()
    } else if endpoint.gone {
        StatusCode::GONE.into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, [("retry-after", "1")]).into_response()
    }
}

/// A webhook receiver on 127.0.0.1, port 0, that refuses its first `refuse` requests.
async fn endpoint(refuse: usize) -> (String, Shared) {
    let shared: Shared = Arc::new(Mutex::new(Endpoint {
        refuse,
        ..Endpoint::default()
    }));
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, shared)
}

/// Registers `url` for `tenant` and hands the printed secret to the endpoint.
fn register(server: &Server, tenant: &str, url: &str, endpoint: &Shared) {
    let out = server.cli(&["webhook", "add", "--tenant", tenant, "--url", url]);
    let secret = out.trim().to_owned();
    assert_eq!(out, format!("{secret}\n"), "the secret alone on stdout");
    assert!(secret.starts_with("whsec_"), "{secret}");
    endpoint.lock().unwrap().secret = secret;
}

fn accepted(endpoint: &Shared) -> Vec<Received> {
    let endpoint = endpoint.lock().unwrap();
    endpoint
        .received
        .iter()
        .filter(|r| r.accepted)
        .cloned()
        .collect()
}

/// Waits until `endpoint` has taken `n` events.
async fn until_accepted(endpoint: &Shared, n: usize) {
    until_accepted_within(endpoint, n, Duration::from_secs(30)).await;
}

async fn until_accepted_within(endpoint: &Shared, n: usize, limit: Duration) {
    let polls = limit.as_millis() / 100;
    for _ in 0..polls {
        if accepted(endpoint).len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "only {} of {n} events arrived: {:#?}",
        accepted(endpoint).len(),
        endpoint.lock().unwrap().received
    );
}

fn dispute_request() -> Value {
    json!({
        "disputedPeriod": { "start": "2026-10-01T00:00:00Z", "end": "2026-10-08T00:00:00Z" },
        "affectedSurface": { "campaignId": "cmp_autumn_sale", "screenIds": ["scr_amsterdam_01"] },
        "claimedShortfall": { "unit": "impressions", "amount": "12500" },
        "evidenceBundle": { "proofPackIds": ["pp_2026_10_a"] }
    })
}

async fn every_event_arrives_signed_once_at_each_endpoint(store: Store) {
    let server = Server::start(store).await;
    let advertiser = server.tenant_with_key("acme", "advertiser", "dev_adv");
    let operator = server.key("acme", "operator", "dev_op");
    let (steady_url, steady) = endpoint(0).await;
    let (flaky_url, flaky) = endpoint(2).await;
    register(&server, "acme", &steady_url, &steady);
    register(&server, "acme", &flaky_url, &flaky);
    // Another tenant's endpoint must hear nothing of acme's disputes.
    server.cli(&["tenant", "create", "globex"]);
    let (other_url, other) = endpoint(0).await;
    register(&server, "globex", &other_url, &other);

    // Opened, responded, noted: three events.
    walk(&server, &advertiser, &operator, 2).await;

    until_accepted(&steady, 3).await;
    until_accepted(&flaky, 3).await;
    // Time for a stray repeat to show up, were there one.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let steady_events = steady.lock().unwrap().received.clone();
    let flaky_events = flaky.lock().unwrap().received.clone();
    for r in steady_events.iter().chain(&flaky_events) {
        assert!(r.verified, "a request with a bad signature: {r:#?}");
        // Delivery disputes: signed the vendor's way too, for the vendor's clients.
        assert_eq!(r.vendor_verified, Some(true), "{r:#?}");
    }
    assert_eq!(
        steady_events.len(),
        3,
        "taken events are never sent again: {steady_events:#?}"
    );
    assert_eq!(
        flaky_events.len(),
        5,
        "two refusals, then each event once: {flaky_events:#?}"
    );
    assert!(
        other.lock().unwrap().received.is_empty(),
        "no event crosses tenants"
    );

    let ids = |events: &[Received]| -> BTreeSet<String> {
        events
            .iter()
            .filter(|r| r.accepted)
            .map(|r| r.event_id.clone())
            .collect()
    };
    assert_eq!(ids(&steady_events).len(), 3, "one id per event");
    assert_eq!(
        ids(&steady_events),
        ids(&flaky_events),
        "every endpoint sees the same ids"
    );
    for refused in flaky_events.iter().filter(|r| !r.accepted) {
        assert!(
            ids(&flaky_events).contains(&refused.event_id),
            "a retry keeps its event id"
        );
    }

    let by_type = steady_events
        .iter()
        .map(|r| (r.body["type"].as_str().unwrap().to_owned(), r.body.clone()))
        .collect::<HashMap<_, _>>();
    let types = by_type.keys().cloned().collect::<BTreeSet<_>>();
    let expected = ["dispute.note", "dispute.opened", "dispute.responded"];
    assert_eq!(types, expected.iter().map(|t| t.to_string()).collect());
    for body in by_type.values() {
        assert_eq!(body["id"], json!(body["id"].as_str().unwrap()));
        assert_eq!(body["tenant"], "acme");
        assert_eq!(body["data"]["dispute"]["kind"], "delivery");
    }
    let opened = &by_type["dispute.opened"];
    assert_eq!(opened["data"]["entry"]["seq"], 1);
    assert_eq!(opened["data"]["entry"]["actor"]["id"], "dev_adv");
    let responded = &by_type["dispute.responded"];
    assert_eq!(
        responded["data"]["entry"]["notes"],
        "Two screens were dark."
    );
    assert_eq!(responded["data"]["entry"]["actor"]["role"], "operator");
}

/// Opens `n` disputes of different campaigns, alternately on `first` and `second`.
async fn open_on_both(first: &Server, second: &Server, key: &str, n: usize) {
    for i in 0..n {
        let server = if i % 2 == 0 { first } else { second };
        let mut body = dispute_request();
        body["affectedSurface"]["campaignId"] = json!(format!("cmp_{i}"));
        let opened = server
            .call(Method::POST, "/v1/disputes", Some(key), Some(body))
            .await;
        assert_eq!(
            opened.status,
            reqwest::StatusCode::CREATED,
            "{:#}",
            opened.body
        );
    }
}

async fn two_instances_send_each_event_once(store: Store) {
    let first = Server::start(store).await;
    let second = first.second_instance().await;
    let advertiser = first.tenant_with_key("acme", "advertiser", "dev_adv");
    let (url, hook) = endpoint(0).await;
    register(&first, "acme", &url, &hook);
    // Each instance's dispatcher polls the one outbox; every event must still arrive once.
    open_on_both(&first, &second, &advertiser, 20).await;
    until_accepted(&hook, 20).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let received = hook.lock().unwrap().received.clone();
    let ids = received
        .iter()
        .map(|r| r.event_id.clone())
        .collect::<BTreeSet<_>>();
    assert_eq!((received.len(), ids.len()), (20, 20), "{received:#?}");
    assert!(received.iter().all(|r| r.verified));
}

async fn nothing_is_lost_while_the_endpoint_is_down(store: Store) {
    // Every refusal asks to be called back in a second, so while 100 disputes are opened a job
    // is tried more often than the vendor's five attempts: the limit is raised, so this test
    // is about nothing being lost or sent twice, not about giving up.
    let first = Server::start_with_env(store, &[("DISPUTES_WEBHOOK_MAX_ATTEMPTS", "1000")]).await;
    let second = first.second_instance().await;
    let advertiser = first.tenant_with_key("acme", "advertiser", "dev_adv");
    // Down: every request is refused until it comes back.
    let (url, hook) = endpoint(usize::MAX).await;
    register(&first, "acme", &url, &hook);
    open_on_both(&first, &second, &advertiser, 100).await;
    assert!(accepted(&hook).is_empty());
    hook.lock().unwrap().refuse = 0;

    until_accepted_within(&hook, 100, Duration::from_secs(90)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let taken = accepted(&hook);
    let ids = taken
        .iter()
        .map(|r| r.event_id.clone())
        .collect::<BTreeSet<_>>();
    assert_eq!(
        (taken.len(), ids.len()),
        (100, 100),
        "each event taken exactly once"
    );
    let received = hook.lock().unwrap().received.clone();
    assert!(
        received.iter().all(|r| r.verified),
        "every attempt is signed"
    );
    for refused in received.iter().filter(|r| !r.accepted) {
        assert!(
            ids.contains(&refused.event_id),
            "a retry keeps its event id"
        );
    }
}

async fn a_bad_webhook_url_is_refused(store: Store) {
    let server = Server::start(store).await;
    server.cli(&["tenant", "create", "acme"]);
    let output = std::process::Command::new(support::binary())
        .args([
            "webhook",
            "add",
            "--tenant",
            "acme",
            "--url",
            "ftp://example.com/in",
        ])
        .args(["--database-url", &server.database_url])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("http:// or https://"), "{stderr}");
    assert!(output.stdout.is_empty(), "no secret is printed");

    // The subscription and the label are checked as the contract checks them.
    for (flag, value, says) in [
        (
            "--events",
            "dispute.opened,dispute.nope",
            "unknown event \"dispute.nope\"",
        ),
        ("--label", &"x".repeat(61), "label: must be 1-60 characters"),
    ] {
        let output = std::process::Command::new(support::binary())
            .args([
                "webhook",
                "add",
                "--tenant",
                "acme",
                "--url",
                "https://hooks.example/in",
            ])
            .args([flag, value])
            .args(["--database-url", &server.database_url])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{flag}");
        assert!(stderr.contains(says), "{flag}: {stderr}");
        assert!(output.stdout.is_empty(), "no secret is printed");
    }
}

/// The environment that lets `POST /v1/webhooks` take a receiver on 127.0.0.1 over http.
const LOOPBACK_HTTP: (&str, &str) = ("DISPUTES_WEBHOOKS_ALLOW_LOOPBACK_HTTP", "true");

/// Registers `url` through the delivery contract with `operator`'s key and hands the secret to
/// the endpoint; returns the answer.
async fn subscribe(
    server: &Server,
    operator: &str,
    body: Value,
    idempotency_key: &str,
) -> support::Answer {
    server
        .call_with(
            Method::POST,
            "/v1/webhooks",
            Some(operator),
            Some(body),
            &[("Idempotency-Key", idempotency_key)],
        )
        .await
}

/// Replaces what differs from run to run (ids, times, the secret, the receiver's port).
fn redact(value: &Value) -> Value {
    support::redact::redact_keys(
        value,
        &[
            "subscriptionId",
            "createdAt",
            "secretLastRotatedAt",
            "signingSecret",
            "url",
        ],
    )
}

macro_rules! snapshot {
    ($name:expr, $answer:expr) => {{
        let shown = json!({ "status": $answer.status.as_u16(), "body": redact(&$answer.body) });
        insta::assert_snapshot!($name, serde_json::to_string_pretty(&shown).unwrap())
    }};
}

/// Opens a delivery dispute as `advertiser` and takes it through the first `steps` of: the
/// operator's response, a note, the advertiser's acceptance, the resolution.
async fn walk(server: &Server, advertiser: &str, operator: &str, steps: usize) {
    let opened = server
        .call(
            Method::POST,
            "/v1/disputes",
            Some(advertiser),
            Some(dispute_request()),
        )
        .await;
    assert_eq!(
        opened.status,
        reqwest::StatusCode::CREATED,
        "{:#}",
        opened.body
    );
    let id = opened.body["data"]["dispute"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (path, key, body) in [
        (
            "operator-response",
            operator,
            json!({"notes": "Two screens were dark."}),
        ),
        ("notes", advertiser, json!({"notes": "Photos follow."})),
        (
            "advertiser-response",
            advertiser,
            json!({"decision": "accept", "notes": "Fine."}),
        ),
        (
            "resolve",
            operator,
            json!({"outcome": "granted", "notes": "Credited."}),
        ),
    ]
    .into_iter()
    .take(steps)
    {
        let answer = server
            .call(
                Method::POST,
                &format!("/v1/disputes/{id}/{path}"),
                Some(key),
                Some(body),
            )
            .await;
        assert_eq!(
            answer.status,
            reqwest::StatusCode::OK,
            "{path}: {:#}",
            answer.body
        );
    }
}

async fn an_api_subscription_gets_only_its_events_signed_the_vendors_way(store: Store) {
    let server = Server::start_with_env(store, &[LOOPBACK_HTTP]).await;
    let advertiser = server.tenant_with_key("acme", "advertiser", "dev_adv");
    let operator = server.key("acme", "operator", "dev_op");
    let (vendor_url, vendor) = endpoint(0).await;
    vendor.lock().unwrap().vendor_client = true;

    let body = json!({
        "url": vendor_url,
        "events": ["dispute.settled", "dispute.opened"],
        "label": "Ledger sync"
    });
    let created = subscribe(&server, &operator, body.clone(), "hook-1").await;
    assert_eq!(
        created.status,
        reqwest::StatusCode::CREATED,
        "{:#}",
        created.body
    );
    let secret = created.body["data"]["signingSecret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        secret.starts_with("whsec_") && secret.len() == 70,
        "{secret}"
    );
    let subscription = &created.body["data"]["subscription"];
    assert_eq!(subscription["url"], json!(vendor_url));
    assert_eq!(subscription["developerId"], "dev_op");
    assert_eq!(
        subscription["createdAt"],
        subscription["secretLastRotatedAt"]
    );
    assert!(
        subscription.get("signingSecret").is_none(),
        "{subscription:#}"
    );
    vendor.lock().unwrap().secret = secret;
    snapshot!("registered", created);

    // The same key and request: the stored answer, and no second subscription (which would
    // show below as every event twice).
    let replayed = subscribe(&server, &operator, body, "hook-1").await;
    assert_eq!(
        replayed
            .headers
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    assert_eq!(replayed.body, created.body);

    // One from the command line, for notes only.
    let (notes_url, notes) = endpoint(0).await;
    let out = server.cli(&[
        "webhook",
        "add",
        "--tenant",
        "acme",
        "--url",
        &notes_url,
        "--events",
        "dispute.note",
        "--label",
        "Notes only",
    ]);
    notes.lock().unwrap().secret = out.trim().to_owned();

    // Opened, responded, noted, accepted, settled.
    walk(&server, &advertiser, &operator, 4).await;
    until_accepted(&vendor, 2).await;
    until_accepted(&notes, 1).await;
    // Time for an event it did not subscribe to to show up, were it sent.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let received = vendor.lock().unwrap().received.clone();
    let types = received
        .iter()
        .map(|r| r.body["type"].as_str().unwrap().to_owned())
        .collect::<BTreeSet<_>>();
    assert_eq!(
        received.len(),
        2,
        "each subscribed event once: {received:#?}"
    );
    assert_eq!(
        types,
        BTreeSet::from(["dispute.opened".to_owned(), "dispute.settled".to_owned()])
    );
    assert!(
        received
            .iter()
            .all(|r| r.accepted && r.verified && r.vendor_verified == Some(true)),
        "the vendor's client took every delivery: {received:#?}"
    );
    let settled = received
        .iter()
        .find(|r| r.body["type"] == "dispute.settled")
        .unwrap();
    assert_eq!(settled.body["data"]["resolution"]["outcome"], "granted");
    assert_eq!(
        settled.body["data"]["resolution"]["overrideApplied"],
        Value::Null
    );
    let noted = notes.lock().unwrap().received.clone();
    assert_eq!(noted.len(), 1, "{noted:#?}");
    assert_eq!(noted[0].body["type"], "dispute.note");
    assert!(noted[0].verified);
}

async fn registrations_are_checked_and_answered_in_the_envelope(store: Store) {
    let server = Server::start_with_env(store, &[LOOPBACK_HTTP]).await;
    let advertiser = server.tenant_with_key("acme", "advertiser", "dev_adv");
    let operator = server.key("acme", "operator", "dev_op");
    let valid = json!({"url": "https://hooks.example/in", "events": ["*"], "label": "All"});

    let forbidden = subscribe(&server, &advertiser, valid.clone(), "a-1").await;
    assert_eq!(forbidden.status, reqwest::StatusCode::FORBIDDEN);
    snapshot!("error_forbidden_role", forbidden);

    let missing = subscribe(&server, &operator, json!({}), "o-1").await;
    assert_eq!(missing.status, reqwest::StatusCode::BAD_REQUEST);
    snapshot!("error_missing_fields", missing);

    let bad = json!({
        "url": "http://hooks.example/in",
        "events": ["dispute.opened", "dispute.exploded"],
        "label": "x".repeat(61)
    });
    let refused = subscribe(&server, &operator, bad, "o-2").await;
    assert_eq!(refused.status, reqwest::StatusCode::BAD_REQUEST);
    snapshot!("error_bad_fields", refused);

    let none = json!({"url": "https://hooks.example/in", "events": [], "label": "None"});
    let empty = subscribe(&server, &operator, none, "o-3").await;
    assert_eq!(empty.status, reqwest::StatusCode::BAD_REQUEST);
    snapshot!("error_no_events", empty);

    let typed = json!({"url": "https://hooks.example/in", "events": "*", "label": "All"});
    let wrong_type = subscribe(&server, &operator, typed, "o-4").await;
    assert_eq!(wrong_type.status, reqwest::StatusCode::BAD_REQUEST);
    assert_eq!(wrong_type.body["error"]["code"], "invalid_body");

    // The vendor's names are taken, for its clients, and "*" with them.
    let vendor = json!({"url": "https://hooks.example/in", "events": ["challenge.opened", "key.rotated"], "label": "Vendor"});
    let taken = subscribe(&server, &operator, vendor, "o-5").await;
    assert_eq!(
        taken.status,
        reqwest::StatusCode::CREATED,
        "{:#}",
        taken.body
    );
    assert_eq!(
        taken.body["data"]["subscription"]["events"],
        json!(["challenge.opened", "key.rotated"])
    );

    // Without the switch, a loopback receiver over http is refused like any other http URL.
    let strict = Server::start(store).await;
    let strict_operator = strict.tenant_with_key("acme", "operator", "dev_op");
    let local = json!({"url": "http://127.0.0.1:9/in", "events": ["*"], "label": "Local"});
    let refused = subscribe(&strict, &strict_operator, local.clone(), "s-1").await;
    assert_eq!(refused.status, reqwest::StatusCode::BAD_REQUEST);
    assert_eq!(refused.body["error"]["details"][0]["field"], "url");
    let allowed = subscribe(&server, &operator, local, "o-6").await;
    assert_eq!(
        allowed.status,
        reqwest::StatusCode::CREATED,
        "{:#}",
        allowed.body
    );
}

/// The rows `disputes outbox list --failed` prints, each split into its columns (the last
/// error is the rest of the line); none when nothing is listed.
fn failed_jobs(server: &Server) -> Vec<Vec<String>> {
    let listed = server.cli(&["outbox", "list", "--failed"]);
    let mut lines = listed.lines();
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    assert!(header.starts_with("ID "), "{listed}");
    lines
        .map(|line| {
            let mut cells = line.split_whitespace().map(str::to_owned);
            let mut row: Vec<String> = cells.by_ref().take(7).collect();
            row.push(cells.collect::<Vec<_>>().join(" "));
            row
        })
        .collect()
}

/// An endpoint that answers 410 Gone refuses for good: the job is dead-lettered at its first
/// attempt (not tried again), listed with why, and counted in `/metrics`; once the endpoint
/// takes events again, `disputes outbox retry ID` delivers it, with the same event id, once.
async fn a_gone_endpoint_has_its_job_dead_lettered_until_it_is_replayed(store: Store) {
    let server = Server::start_with_env(store, &[("DISPUTES_DISPATCH_POLL_MS", "100")]).await;
    let advertiser = server.tenant_with_key("acme", "advertiser", "dev_adv");
    let (url, hook) = endpoint(0).await;
    hook.lock().unwrap().gone = true;
    register(&server, "acme", &url, &hook);
    let opened = server
        .call(
            Method::POST,
            "/v1/disputes",
            Some(&advertiser),
            Some(dispute_request()),
        )
        .await;
    assert_eq!(
        opened.status,
        reqwest::StatusCode::CREATED,
        "{:#}",
        opened.body
    );

    support::wait::eventually("the job is dead-lettered", || async {
        server
            .count("SELECT COUNT(*) FROM outbox_jobs WHERE dead_lettered_at IS NOT NULL")
            .await
            == 1
    })
    .await;
    let refused = hook.lock().unwrap().received.clone();
    assert_eq!(refused.len(), 1, "a permanent refusal is not retried");
    let event = refused[0].event_id.clone();
    let failed = failed_jobs(&server);
    assert_eq!(failed.len(), 1, "{failed:?}");
    let row = &failed[0];
    assert_eq!(
        (
            row[1].as_str(),
            row[2].as_str(),
            row[4].as_str(),
            row[5].as_str()
        ),
        ("webhook", "acme", event.as_str(), "1"),
        "{row:?}"
    );
    assert_eq!(row[7], format!("{url}: 410 Gone"), "{row:?}");
    let secret = hook.lock().unwrap().secret.clone();
    assert!(!row.iter().any(|cell| cell.contains(&secret)), "no secret");
    let metrics = reqwest::get(format!("{}/metrics", server.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "disputes_outbox_dead_lettered_jobs{sink=\"webhook\"} 1",
        "disputes_outbox_pending_jobs 0",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "no {line} in\n{metrics}"
        );
    }
    let logged = server
        .log_lines()
        .into_iter()
        .find(|l| l.contains("notification dead-lettered"));
    let logged = logged.expect("dead-lettering is logged");
    for part in [
        "ERROR",
        event.as_str(),
        "410 Gone",
        "sink=webhook",
        "attempts=1",
    ] {
        assert!(logged.contains(part), "no {part} in {logged}");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        hook.lock().unwrap().received.len(),
        1,
        "a dead letter is not leased"
    );

    hook.lock().unwrap().gone = false;
    let id = row[0].clone();
    assert_eq!(server.cli(&["outbox", "retry", &id]), "1\n");
    until_accepted(&hook, 1).await;
    assert_eq!(accepted(&hook)[0].event_id, event, "the same event");
    assert!(accepted(&hook)[0].verified);
    support::wait::eventually("the job is delivered", || async {
        server
            .count("SELECT COUNT(*) FROM outbox_jobs WHERE delivered_at IS NOT NULL")
            .await
            == 1
    })
    .await;
    assert_eq!(failed_jobs(&server), Vec::<Vec<String>>::new());
    assert_eq!(server.cli(&["outbox", "retry", "--all"]), "0\n");
    let again = std::process::Command::new(support::binary())
        .args([
            "outbox",
            "retry",
            &id,
            "--database-url",
            &server.database_url,
        ])
        .output()
        .unwrap();
    assert!(!again.status.success(), "a delivered job is not replayed");
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(
        said.contains(&format!("job {id} is not dead-lettered")),
        "{said}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(accepted(&hook).len(), 1, "delivered once");
}

store_tests!(
    every_event_arrives_signed_once_at_each_endpoint,
    a_gone_endpoint_has_its_job_dead_lettered_until_it_is_replayed,
    two_instances_send_each_event_once,
    nothing_is_lost_while_the_endpoint_is_down,
    a_bad_webhook_url_is_refused,
    an_api_subscription_gets_only_its_events_signed_the_vendors_way,
    registrations_are_checked_and_answered_in_the_envelope
);
