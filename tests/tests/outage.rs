//! PostgreSQL stops while the server runs: calls fail fast with 503 in the contract's shape,
//! `/readyz` says not ready, and once PostgreSQL is back the same server serves again with
//! nothing lost or half-written.

mod support;

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::{PrivatePostgres, Server, Store};

fn opening(campaign: &str) -> serde_json::Value {
    json!({
        "disputedPeriod": { "start": "2026-10-01T00:00:00Z", "end": "2026-10-08T00:00:00Z" },
        "affectedSurface": { "campaignId": campaign, "screenIds": ["scr_1"] },
        "claimedShortfall": { "unit": "EUR", "amount": "100.00" },
        "evidenceBundle": { "proofPackIds": ["pp_1"] }
    })
}

/// No call may hang while the database is away: a generous bound, far above the pool's
/// acquire timeout, that only a hang would reach.
const NO_HANG: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_survives_postgresql_going_away_and_coming_back() {
    let postgres = PrivatePostgres::start();
    let server = Server::on(Store::Postgres, postgres.url(), None).await;
    let key = server.tenant_with_key("acme-media", "advertiser", "dev_adv");
    let open = server
        .call(
            Method::POST,
            "/v1/disputes",
            Some(&key),
            Some(opening("cmp_before")),
        )
        .await;
    assert_eq!(open.status, StatusCode::CREATED);
    let before = open.body["data"]["dispute"].clone();
    let id = before["id"].as_str().unwrap().to_owned();
    let client = reqwest::Client::new();
    let ready = || async {
        let answer = client
            .get(format!("{}/readyz", server.base))
            .send()
            .await
            .unwrap();
        answer.status()
    };
    assert_eq!(ready().await, StatusCode::OK);

    postgres.down();

    for (method, path, body) in [
        (Method::GET, format!("/v1/disputes/{id}"), None),
        (
            Method::POST,
            "/v1/disputes".to_owned(),
            Some(opening("cmp_during")),
        ),
        (
            Method::POST,
            format!("/v1/disputes/{id}/notes"),
            Some(json!({ "notes": "lost?" })),
        ),
    ] {
        let answer = tokio::time::timeout(
            NO_HANG,
            server.call(method.clone(), &path, Some(&key), body),
        )
        .await
        .unwrap_or_else(|_| panic!("{method} {path} hung while PostgreSQL was down"));
        assert_eq!(
            answer.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{method} {path}: {:#}",
            answer.body
        );
        assert_eq!(answer.body["ok"], false);
        assert_eq!(answer.body["error"]["code"], "service_unavailable");
        assert_eq!(answer.body["contractVersion"], "v1.0");
    }
    let not_ready = tokio::time::timeout(NO_HANG, ready())
        .await
        .expect("readyz answers");
    assert_eq!(not_ready, StatusCode::SERVICE_UNAVAILABLE);

    postgres.up();

    // The same server process recovers by itself once the database is back.
    let mut recovered = false;
    for _ in 0..60 {
        if ready().await == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(recovered, "the server did not become ready again");
    let read = server
        .call(Method::GET, &format!("/v1/disputes/{id}"), Some(&key), None)
        .await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(
        read.body["data"]["dispute"], before,
        "nothing was lost or half-written"
    );
    let after = server
        .call(
            Method::POST,
            "/v1/disputes",
            Some(&key),
            Some(opening("cmp_after")),
        )
        .await;
    assert_eq!(after.status, StatusCode::CREATED, "{:#}", after.body);
    let list = server
        .call(Method::GET, "/v1/disputes", Some(&key), None)
        .await;
    let campaigns: Vec<_> = list.body["data"]["disputes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["affectedSurface"]["campaignId"].clone())
        .collect();
    assert_eq!(
        campaigns,
        vec![json!("cmp_after"), json!("cmp_before")],
        "the opening refused during the outage left nothing behind"
    );
}
