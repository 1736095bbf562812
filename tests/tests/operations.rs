//! End-to-end tests of what operators rely on (SPEC §6): the request id on every answer and in
//! the log, and `/metrics`.

mod support;

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{store_tests, Server, Store};

fn open_request(campaign: &str) -> Value {
    json!({
        "disputedPeriod": { "start": "2026-10-01T00:00:00Z", "end": "2026-10-08T00:00:00Z" },
        "affectedSurface": {
            "campaignId": campaign,
            "screenIds": ["scr_amsterdam_01"],
            "substrateId": "sub_dooh_nl"
        },
        "claimedShortfall": { "unit": "impressions", "amount": "12500" },
        "evidenceBundle": { "proofPackIds": ["pp_2026_10_a"] }
    })
}

/// Waits until the server has logged a line that contains every one of `needles`.
async fn logged(server: &Server, needles: &[&str]) -> String {
    for _ in 0..100 {
        if let Some(line) = server
            .log_lines()
            .into_iter()
            .find(|line| needles.iter().all(|n| line.contains(n)))
        {
            return line;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "no log line with {needles:?} in:\n{}",
        server.log_lines().join("\n")
    );
}

fn request_id(answer: &support::Answer) -> &str {
    answer
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("an X-Request-Id on every answer")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_a_request_id_and_so_does_every_log_line_of_its_request() {
    let server = Server::start_with_env(
        Store::Sqlite,
        // The per-request "answered" line is at debug level.
        &[("RUST_LOG", "info,disputes_http=debug")],
    )
    .await;
    let key = server.tenant_with_key("acme-media", "advertiser", "dev_adv_42");
    let with_id = |id: &'static str| [("X-Request-Id", id)];

    // A client's sane id comes back, on a success ...
    let opened = server
        .call_with(
            Method::POST,
            "/v1/disputes",
            Some(&key),
            Some(open_request("cmp_1")),
            &with_id("e2e-open-0001"),
        )
        .await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.body);
    assert_eq!(request_id(&opened), "e2e-open-0001");
    // ... and on errors: a contract's own, the fallback's, a body over the limit.
    let unauthorized = server
        .call_with(
            Method::GET,
            "/v1/disputes",
            Some("dk_nope"),
            None,
            &with_id("e2e-401"),
        )
        .await;
    assert_eq!(unauthorized.status, StatusCode::UNAUTHORIZED);
    assert_eq!(request_id(&unauthorized), "e2e-401");
    let unknown = server
        .call_with(Method::GET, "/v1/nowhere", None, None, &with_id("e2e-404"))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(request_id(&unknown), "e2e-404");
    let invoice_unknown = server
        .call_with(
            Method::POST,
            "/v2/dispute/nowhere",
            None,
            None,
            &with_id("e2e-404-invoice"),
        )
        .await;
    assert_eq!(invoice_unknown.body["error"], "route_not_found");
    assert_eq!(request_id(&invoice_unknown), "e2e-404-invoice");

    // Without an id, or with one that is not sane, the server makes one up.
    let health = server.send(Method::GET, "/healthz", None, &[], None).await;
    let made_up = health.header("x-request-id").expect("an id").to_owned();
    assert_eq!(made_up.len(), 32, "{made_up}");
    assert!(made_up.bytes().all(|b| b.is_ascii_hexdigit()));
    let too_long = "x".repeat(129);
    let replaced = server
        .send(
            Method::GET,
            "/healthz",
            None,
            &[("X-Request-Id", &too_long)],
            None,
        )
        .await;
    let replaced = replaced.header("x-request-id").expect("an id");
    assert_eq!(replaced.len(), 32, "{replaced}");
    assert_ne!(replaced, made_up);

    // The handler's own log lines carry it too: the billing desk's first use of a reason seeds
    // the tenant's reason table, and says so, from inside the request's task.
    server.cli(&["tenant", "create", "acme-telco"]);
    let password = server.login("acme-telco", "billing", "csr-1");
    let body = json!({
        "amount": 5,
        "notes": {
            "domainId": 34, "reasonId": "1",
            "accountId": "0.0.0.1+-account+242856", "billUnitId": "0.0.0.1+-billinfo+244392"
        }
    });
    let billed = server
        .send(
            Method::POST,
            "/bcws/webresources/v1.0/disputes/item/0.0.0.1+-item-cycle_forward+1",
            Some(("csr-1", &password)),
            &[
                ("Content-Type", "application/json"),
                ("X-Request-Id", "e2e-billing-0001"),
            ],
            Some(body.to_string().into_bytes()),
        )
        .await;
    assert_eq!(billed.status, StatusCode::CREATED, "{}", billed.text);
    assert_eq!(billed.header("x-request-id"), Some("e2e-billing-0001"));
    logged(
        &server,
        &[
            "request_id=e2e-billing-0001",
            "seeded the default reason table",
        ],
    )
    .await;

    // The log names the request id on the lines of its request.
    let line = logged(
        &server,
        &["request_id=e2e-open-0001", "answered", "status=201"],
    )
    .await;
    assert!(line.contains("POST"), "{line}");
    logged(&server, &["request_id=e2e-404", "status=404"]).await;
    logged(&server, &[&format!("request_id={made_up}"), "/healthz"]).await;
}

store_tests! { metrics_count_requests_by_route_template_and_disputes_by_status }

async fn metrics_count_requests_by_route_template_and_disputes_by_status(store: Store) {
    // The dispatcher looks once at start and then not for an hour, so the jobs that the
    // openings queue stay in the outbox for the count.
    let server = Server::start_with_env(store, &[("DISPUTES_DISPATCH_POLL_MS", "3600000")]).await;
    let key = server.tenant_with_key("acme-media", "advertiser", "dev_adv_42");
    let other = server.tenant_with_key("other-media", "advertiser", "dev_adv_1");
    let mut ids = Vec::new();
    for (key, campaign) in [(&key, "cmp_1"), (&key, "cmp_2"), (&other, "cmp_3")] {
        let opened = server
            .call(
                Method::POST,
                "/v1/disputes",
                Some(key),
                Some(open_request(campaign)),
            )
            .await;
        assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.body);
        ids.push(
            opened.body["data"]["dispute"]["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    let withdrawn = server
        .call(
            Method::POST,
            &format!("/v1/disputes/{}/withdraw", ids[0]),
            Some(&key),
            Some(json!({ "notes": "Found the missing plays." })),
        )
        .await;
    assert_eq!(withdrawn.status, StatusCode::OK, "{}", withdrawn.body);
    for id in &ids[..2] {
        let shown = server
            .call(Method::GET, &format!("/v1/disputes/{id}"), Some(&key), None)
            .await;
        assert_eq!(shown.status, StatusCode::OK);
    }
    let missing = server
        .call(Method::GET, "/v1/disputes/999999", Some(&key), None)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    server
        .call(Method::GET, "/no/such/route/123", None, None)
        .await;

    let response = reqwest::get(format!("{}/metrics", server.base))
        .await
        .expect("metrics answer");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/plain; version=0.0.4")));
    let text = response.text().await.expect("text");
    let has = |line: &str| {
        assert!(
            text.lines().any(|l| l == line),
            "no line {line:?} in /metrics:\n{text}"
        )
    };
    let series = |route: &str, method: &str, status: u16| {
        format!("route=\"{route}\",method=\"{method}\",status=\"{status}\"")
    };
    has(&format!(
        "disputes_http_requests_total{{{}}} 3",
        series("/v1/disputes", "POST", 201)
    ));
    has(&format!(
        "disputes_http_requests_total{{{}}} 2",
        series("/v1/disputes/{id}", "GET", 200)
    ));
    has(&format!(
        "disputes_http_requests_total{{{}}} 1",
        series("/v1/disputes/{id}", "GET", 404)
    ));
    has(&format!(
        "disputes_http_requests_total{{{}}} 1",
        series("/v1/disputes/{id}/withdraw", "POST", 200)
    ));
    has(&format!(
        "disputes_http_requests_total{{{}}} 1",
        series("unmatched", "GET", 404)
    ));
    has(&format!(
        "disputes_http_request_duration_seconds_count{{{}}} 2",
        series("/v1/disputes/{id}", "GET", 200)
    ));
    has(&format!(
        "disputes_http_request_duration_seconds_bucket{{{},le=\"+Inf\"}} 3",
        series("/v1/disputes", "POST", 201)
    ));
    // Route templates only: no series names a dispute id or a raw unknown path.
    for id in &ids {
        assert!(!text.contains(&format!("/v1/disputes/{id}\"")), "{text}");
    }
    assert!(!text.contains("/no/such/route"), "{text}");
    // Disputes by status, across both tenants.
    has("disputes_store_up 1");
    has("disputes_disputes{status=\"open\"} 2");
    has("disputes_disputes{status=\"withdrawn\"} 1");
    has("disputes_disputes{status=\"resolved\"} 0");
    // One webhook job per timeline entry (three openings, one withdrawal), all due, none sent.
    has("disputes_outbox_pending_jobs 4");
    has("disputes_outbox_due_jobs 4");
    has("disputes_outbox_dead_lettered_jobs{sink=\"webhook\"} 0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_answer_is_a_503_but_the_request_still_takes_effect() {
    // A timeout far below what an opening takes (authentication, evidence, a write).
    let server =
        Server::start_with_env(Store::Sqlite, &[("DISPUTES_REQUEST_TIMEOUT_MS", "1")]).await;
    let key = server.tenant_with_key("acme-media", "advertiser", "dev_adv_42");
    let mut attempts = 0;
    let late = loop {
        attempts += 1;
        let answer = server
            .call(
                Method::POST,
                "/v1/disputes",
                Some(&key),
                Some(open_request(&format!("cmp_{attempts}"))),
            )
            .await;
        // Writes take well under a millisecond at times (group commit), so a few openings may
        // all finish in time; up to a page of them (the check below lists one page) may run.
        if answer.status == StatusCode::SERVICE_UNAVAILABLE || attempts == 100 {
            break answer;
        }
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    };
    assert_eq!(
        late.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        late.body
    );
    assert_eq!(late.body["ok"], false);
    assert_eq!(late.body["error"]["code"], "request_timeout");
    assert!(late.headers.get("x-request-id").is_some());
    insta::assert_snapshot!(
        "request_timeout_delivery",
        serde_json::to_string_pretty(&late.body).expect("JSON")
    );

    // Another instance on the same database, without the tight timeout, sees every opening:
    // the late one ran to completion after its client was answered.
    let patient = Server::on(Store::Sqlite, server.database_url.clone(), None).await;
    for _ in 0..100 {
        let listed = patient
            .call(Method::GET, "/v1/disputes?limit=100", Some(&key), None)
            .await;
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
        let count = listed.body["data"]["disputes"]
            .as_array()
            .map_or(0, Vec::len);
        if count == attempts {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the timed-out opening never took effect");
}
