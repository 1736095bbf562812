//! End-to-end tests of the limits every contract enforces (SPEC §6), each answered in the
//! contract's own error shape: the body size (also for a chunked body, which announces no
//! length), the page size of list calls and the per-caller rate limit with `Retry-After`.
//!
//! These limits live in the HTTP layer, before any store is asked, so they run on SQLite only.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{Server, Store, TextAnswer};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const MIB: usize = 1024 * 1024;
const BILLING: &str = "/bcws/webresources/v1.0";

/// An answer as a snapshot shows it: the status, the headers a client acts on, and the body.
fn shown(status: u16, content_type: &str, retry_after: Option<&str>, body: &str) -> String {
    let body = match serde_json::from_str::<Value>(body) {
        Ok(json) => serde_json::to_string_pretty(&json).expect("JSON"),
        Err(_) => body.to_owned(),
    };
    let retry_after = retry_after.map_or(String::new(), |_| "retry-after: [seconds]\n".to_owned());
    format!("{status}\ncontent-type: {content_type}\n{retry_after}\n{body}")
}

/// A raw answer read off the socket.
#[derive(Debug)]
struct RawAnswer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl RawAnswer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// POSTs `size` bytes of spaces to `path` with `Transfer-Encoding: chunked` and no
/// `Content-Length`, so the server only learns the size by reading, and reads the answer.
async fn post_chunked(
    server: &Server,
    path: &str,
    headers: &[(&str, &str)],
    size: usize,
) -> RawAnswer {
    let mut stream = TcpStream::connect(server.address()).await.expect("connect");
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n",
        server.address()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("write head");
    let chunk = vec![b' '; 64 * 1024];
    let mut sent = 0;
    while sent < size {
        let n = chunk.len().min(size - sent);
        let mut frame = format!("{n:x}\r\n").into_bytes();
        frame.extend_from_slice(&chunk[..n]);
        frame.extend_from_slice(b"\r\n");
        // The server may answer and stop reading as soon as it has seen too much.
        if stream.write_all(&frame).await.is_err() {
            break;
        }
        sent += n;
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut raw = Vec::new();
    // A reset after the answer is fine: what arrived before it is kept.
    let mut buffer = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => raw.extend_from_slice(&buffer[..n]),
        }
    }
    let text = String::from_utf8(raw).expect("a UTF-8 answer");
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    RawAnswer {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// A case of an oversized body: its snapshot's name, the path, the headers and the limit.
type Oversized<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, usize);

fn basic(username: &str, password: &str) -> String {
    use base64::Engine as _;
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    format!("Basic {encoded}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_body_over_the_limit_is_413_in_each_contracts_shape() {
    let server = Server::start(Store::Sqlite).await;
    let key = server.tenant_with_key("acme-media", "advertiser", "dev_adv_42");
    let bearer = format!("Bearer {key}");
    server.cli(&["tenant", "create", "acme-telco"]);
    let password = server.login("acme-telco", "billing", "csr-1");
    let billing_auth = basic("csr-1", &password);
    let billing_path = format!("{BILLING}/disputes/item/0.0.0.1+-item-cycle_forward+1");

    let cases: [Oversized; 4] = [
        (
            "chunked_too_large_delivery",
            "/v1/disputes",
            vec![
                ("Authorization", &bearer),
                ("Content-Type", "application/json"),
            ],
            MIB,
        ),
        (
            "chunked_too_large_invoice",
            "/v2/dispute",
            vec![("Content-Type", "application/json")],
            16 * MIB,
        ),
        (
            "chunked_too_large_billing_json",
            &billing_path,
            vec![
                ("Authorization", &billing_auth),
                ("Content-Type", "application/json"),
            ],
            MIB,
        ),
        (
            "chunked_too_large_billing_xml",
            &billing_path,
            vec![
                ("Authorization", &billing_auth),
                ("Content-Type", "application/xml"),
                ("Accept", "application/xml"),
            ],
            MIB,
        ),
    ];
    for (name, path, headers, limit) in cases {
        // One byte more than the limit: the contract's limit exactly, not a rounder one.
        let answer = post_chunked(&server, path, &headers, limit + 1).await;
        assert_eq!(answer.status, 413, "{name}: {}", answer.body);
        assert!(answer.header("x-request-id").is_some(), "{name}");
        let content_type = answer.header("content-type").unwrap_or_default().to_owned();
        insta::assert_snapshot!(name, shown(413, &content_type, None, &answer.body));
    }

    // At the limit, a chunked body is read whole: the delivery contract gets to validate it.
    let answer = post_chunked(
        &server,
        "/v1/disputes",
        &[
            ("Authorization", &bearer),
            ("Content-Type", "application/json"),
        ],
        MIB,
    )
    .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_size_beyond_100_or_not_a_number_is_400_in_each_contracts_shape() {
    let server = Server::start(Store::Sqlite).await;
    let key = server.tenant_with_key("acme-media", "advertiser", "dev_adv_42");
    server.tenant_with_owner("webshop-nl", "Sanne Bakker", "sanne@billink.example");
    let billink_id = server.login("webshop-nl", "client", "webshop-api");
    server.cli(&["tenant", "create", "acme-telco"]);
    let password = server.login("acme-telco", "billing", "csr-1");

    for limit in ["101", "1000", "0", "-1", "ten", "1.5"] {
        let delivery = server
            .call(
                Method::GET,
                &format!("/v1/disputes?limit={limit}"),
                Some(&key),
                None,
            )
            .await;
        assert_eq!(delivery.status, StatusCode::BAD_REQUEST, "delivery {limit}");
        assert_eq!(delivery.body["ok"], false);
        assert_eq!(delivery.body["error"]["details"][0]["field"], "limit");

        let billing = server
            .send(
                Method::GET,
                &format!("{BILLING}/disputes/account/acct-1?limit={limit}"),
                Some(("csr-1", &password)),
                &[],
                None,
            )
            .await;
        assert_eq!(billing.status, StatusCode::BAD_REQUEST, "billing {limit}");
        assert_eq!(billing.json()["status"], 400);
        assert!(billing.json()["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("limit"));

        let number = serde_json::from_str::<Value>(limit).unwrap_or(json!(limit));
        for sent in [number, json!(limit)] {
            let invoice = server
                .call(
                    Method::POST,
                    "/v2/dispute/list",
                    None,
                    Some(json!({
                        "billinkUsername": "webshop-api",
                        "billinkId": billink_id,
                        "limit": sent,
                    })),
                )
                .await;
            assert_eq!(invoice.status, StatusCode::BAD_REQUEST, "invoice {sent}");
            assert_eq!(invoice.body["error"], "invalid_limit", "invoice {sent}");
            assert_eq!(invoice.body["code"], 40035);
        }
    }

    // 100 is the largest page each contract serves.
    let delivery = server
        .call(Method::GET, "/v1/disputes?limit=100", Some(&key), None)
        .await;
    assert_eq!(delivery.status, StatusCode::OK);
    let billing = server
        .send(
            Method::GET,
            &format!("{BILLING}/disputes/account/acct-1?limit=100"),
            Some(("csr-1", &password)),
            &[],
            None,
        )
        .await;
    assert_eq!(billing.status, StatusCode::OK, "{}", billing.text);
    let invoice = server
        .call(
            Method::POST,
            "/v2/dispute/list",
            None,
            Some(
                json!({ "billinkUsername": "webshop-api", "billinkId": billink_id, "limit": 100 }),
            ),
        )
        .await;
    assert_eq!(invoice.status, StatusCode::OK);
}

/// Asserts a 429 with a `Retry-After` of whole seconds no longer than the refill of one request.
fn assert_limited(answer: &TextAnswer, name: &str, refill_seconds: u64) {
    assert_eq!(
        answer.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{name}: {}",
        answer.text
    );
    let retry_after: u64 = answer
        .header("retry-after")
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{name}: Retry-After in whole seconds"));
    assert!(
        (1..=refill_seconds).contains(&retry_after),
        "{name}: Retry-After {retry_after}"
    );
    assert!(answer.header("x-request-id").is_some(), "{name}");
    insta::assert_snapshot!(
        name,
        shown(
            answer.status.as_u16(),
            answer.header("content-type").unwrap_or_default(),
            answer.header("retry-after"),
            &answer.text,
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_call_beyond_the_rate_limit_is_429_with_retry_after_and_other_callers_go_on() {
    // Two a minute: a burst of two, then one every 30 s.
    let server =
        Server::start_with_env(Store::Sqlite, &[("DISPUTES_RATE_LIMIT_PER_MINUTE", "2")]).await;
    let refill = 30;
    let key_a = server.tenant_with_key("acme-media", "advertiser", "dev_adv_42");
    let key_b = server.key("acme-media", "advertiser", "dev_adv_43");
    server.tenant_with_owner("webshop-nl", "Sanne Bakker", "sanne@billink.example");
    let shop_a = server.login("webshop-nl", "client", "webshop-api");
    let shop_b = server.login("webshop-nl", "client", "webshop-backoffice");
    server.cli(&["tenant", "create", "acme-telco"]);
    let csr_a = server.login("acme-telco", "billing", "csr-1");
    let csr_b = server.login("acme-telco", "billing", "csr-2");

    // Delivery: per API key.
    let delivery = |key: String| {
        let server = &server;
        async move {
            server
                .send(
                    Method::GET,
                    "/v1/disputes",
                    None,
                    &[("Authorization", &format!("Bearer {key}"))],
                    None,
                )
                .await
        }
    };
    for _ in 0..2 {
        assert_eq!(delivery(key_a.clone()).await.status, StatusCode::OK);
    }
    assert_limited(
        &delivery(key_a.clone()).await,
        "rate_limited_delivery",
        refill,
    );
    assert_eq!(
        delivery(key_b.clone()).await.status,
        StatusCode::OK,
        "another key"
    );
    // A caller who cannot authenticate is refused as ever, not counted against anyone.
    let stranger = server
        .send(
            Method::GET,
            "/v1/disputes",
            None,
            &[("Authorization", "Bearer dk_0123456789abcdef_nope")],
            None,
        )
        .await;
    assert_eq!(stranger.status, StatusCode::UNAUTHORIZED);

    // Invoice: per login (billinkUsername).
    let invoice = |username: &'static str, secret: String| {
        let server = &server;
        async move {
            let body = json!({ "billinkUsername": username, "billinkId": secret });
            server
                .send(
                    Method::POST,
                    "/v2/dispute/list",
                    None,
                    &[("Content-Type", "application/json")],
                    Some(body.to_string().into_bytes()),
                )
                .await
        }
    };
    for _ in 0..2 {
        assert_eq!(
            invoice("webshop-api", shop_a.clone()).await.status,
            StatusCode::OK
        );
    }
    assert_limited(
        &invoice("webshop-api", shop_a.clone()).await,
        "rate_limited_invoice",
        refill,
    );
    assert_eq!(
        invoice("webshop-backoffice", shop_b.clone()).await.status,
        StatusCode::OK,
        "another login"
    );

    // Billing: per billing user, the 429 in JSON or XML as Accept asks.
    let billing = |username: &'static str, password: String, accept: &'static str| {
        let server = &server;
        async move {
            server
                .send(
                    Method::GET,
                    &format!("{BILLING}/disputes/account/acct-1"),
                    Some((username, &password)),
                    &[("Accept", accept)],
                    None,
                )
                .await
        }
    };
    for _ in 0..2 {
        let answer = billing("csr-1", csr_a.clone(), "application/json").await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    }
    assert_limited(
        &billing("csr-1", csr_a.clone(), "application/json").await,
        "rate_limited_billing_json",
        refill,
    );
    assert_limited(
        &billing("csr-1", csr_a.clone(), "application/xml").await,
        "rate_limited_billing_xml",
        refill,
    );
    assert_eq!(
        billing("csr-2", csr_b.clone(), "application/json")
            .await
            .status,
        StatusCode::OK,
        "another billing user"
    );
}

/// A keyed POST is authenticated once, so it takes one token of the caller's allowance, not
/// one for the idempotency guard and another for the handler: at a limit of N a minute, N keyed
/// POSTs go through and the next is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyed_posts_take_one_token_each() {
    const LIMIT: usize = 4;
    let server = Server::start_with_env(
        Store::Sqlite,
        &[("DISPUTES_RATE_LIMIT_PER_MINUTE", &LIMIT.to_string())],
    )
    .await;
    let key = server.tenant_with_key("acme-media", "advertiser", "dev_adv_42");
    server.cli(&["tenant", "create", "acme-telco"]);
    let csr = server.login("acme-telco", "billing", "csr-1");

    let open = |n: usize| {
        let server = &server;
        let key = key.clone();
        async move {
            let body = json!({
                "disputedPeriod": { "start": "2026-10-01T00:00:00Z", "end": "2026-10-08T00:00:00Z" },
                "affectedSurface": { "campaignId": format!("cmp_{n}"), "screenIds": ["scr_1"] },
                "claimedShortfall": { "unit": "impressions", "amount": "12500" },
                "evidenceBundle": { "proofPackIds": ["pp_1"] }
            });
            server
                .send(
                    Method::POST,
                    "/v1/disputes",
                    None,
                    &[
                        ("Authorization", &format!("Bearer {key}")),
                        ("Content-Type", "application/json"),
                        ("Idempotency-Key", &format!("open-{n}")),
                    ],
                    Some(body.to_string().into_bytes()),
                )
                .await
        }
    };
    for n in 0..LIMIT {
        let answer = open(n).await;
        assert_eq!(
            answer.status,
            StatusCode::CREATED,
            "open {n}: {}",
            answer.text
        );
    }
    let refused = open(LIMIT).await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.text
    );
    assert!(refused.header("retry-after").is_some());

    let billing_open = |n: usize| {
        let server = &server;
        let csr = csr.clone();
        async move {
            let body = json!({ "amount": 5, "notes": { "accountId": "acct-1" } });
            server
                .send(
                    Method::POST,
                    &format!("{BILLING}/disputes/item/item-{n}"),
                    Some(("csr-1", &csr)),
                    &[
                        ("Content-Type", "application/json"),
                        ("Idempotency-Key", &format!("item-{n}")),
                    ],
                    Some(body.to_string().into_bytes()),
                )
                .await
        }
    };
    for n in 0..LIMIT {
        let answer = billing_open(n).await;
        assert_eq!(
            answer.status,
            StatusCode::CREATED,
            "billing {n}: {}",
            answer.text
        );
    }
    let refused = billing_open(LIMIT).await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.text
    );
}

/// More digits than a `Decimal` holds are refused in each contract, never rounded: a billing
/// settlement a hair above the disputed 5 is not taken as a full grant, and nothing changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amounts_beyond_what_a_decimal_holds_are_refused_not_rounded() {
    let server = Server::start(Store::Sqlite).await;
    let advertiser = server.tenant_with_key("acme", "advertiser", "dev_adv");
    let body = json!({
        "disputedPeriod": { "start": "2026-10-01T00:00:00Z", "end": "2026-10-08T00:00:00Z" },
        "affectedSurface": { "campaignId": "cmp_1", "screenIds": ["scr_1"] },
        "claimedShortfall": { "unit": "plays", "amount": "1.99999999999999999999999999999999999999" },
        "evidenceBundle": { "proofPackIds": ["pp_1"] }
    });
    let open = server
        .call(Method::POST, "/v1/disputes", Some(&advertiser), Some(body))
        .await;
    assert_eq!(open.status, StatusCode::BAD_REQUEST, "{:#}", open.body);
    let message = open.body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("more digits"), "{message}");

    server.cli(&["tenant", "create", "telco"]);
    let password = server.login("telco", "billing", "csr");
    let login = ("csr", password.as_str());
    let dispute = server.open_billing_item(login, "item-1", "acct-1").await;
    let refused = settle(
        &server,
        login,
        r#"{"amount": 12.50000000000000000000000000001}"#,
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(refused.text.contains("more digits"), "{}", refused.text);
    // Nothing was settled: the exact full amount still settles it, once.
    let settled = settle(&server, login, r#"{"amount": 12.50}"#).await;
    assert_eq!(
        settled.status,
        StatusCode::CREATED,
        "{dispute}: {}",
        settled.text
    );
}

/// A JSON settlement of the billing contract's item `item-1` with `body`.
async fn settle(server: &Server, login: (&str, &str), body: &str) -> TextAnswer {
    server
        .send(
            Method::POST,
            &format!("{}/disputes/settlement/item/item-1", support::BILLING_BASE),
            Some(login),
            &[
                ("content-type", "application/json"),
                ("accept", "application/json"),
            ],
            Some(body.as_bytes().to_vec()),
        )
        .await
}
