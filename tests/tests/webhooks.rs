//! End-to-end tests of webhooks (SPEC §5): events of a tenant's disputes reach every endpoint it
//! registered, signed, once per endpoint that took them, retried with the same event id.

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
    accepted: bool,
    body: Value,
}

#[derive(Debug, Default)]
struct Endpoint {
    secret: String,
    /// How many requests to refuse (503, `Retry-After: 1`) before taking any.
    refuse: usize,
    received: Vec<Received>,
}

type Shared = Arc<Mutex<Endpoint>>;

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
    let accepted = endpoint.refuse == 0;
    endpoint.refuse = endpoint.refuse.saturating_sub(1);
    endpoint.received.push(Received {
        event_id: header("x-event-id"),
        verified,
        accepted,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    if accepted {
        StatusCode::NO_CONTENT.into_response()
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
    let id = opened.body["data"]["dispute"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (path, key, body) in [
        (
            "operator-response",
            &operator,
            json!({"notes": "Two screens were dark."}),
        ),
        ("notes", &advertiser, json!({"notes": "Photos follow."})),
    ] {
        let answer = server
            .call(
                Method::POST,
                &format!("/v1/disputes/{id}/{path}"),
                Some(key),
                Some(body),
            )
            .await;
        assert_eq!(answer.status, reqwest::StatusCode::OK, "{:#}", answer.body);
    }

    until_accepted(&steady, 3).await;
    until_accepted(&flaky, 3).await;
    // Time for a stray repeat to show up, were there one.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let steady_events = steady.lock().unwrap().received.clone();
    let flaky_events = flaky.lock().unwrap().received.clone();
    for r in steady_events.iter().chain(&flaky_events) {
        assert!(r.verified, "a request with a bad signature: {r:#?}");
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
    let first = Server::start(store).await;
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
}

store_tests!(
    every_event_arrives_signed_once_at_each_endpoint,
    two_instances_send_each_event_once,
    nothing_is_lost_while_the_endpoint_is_down,
    a_bad_webhook_url_is_refused
);
