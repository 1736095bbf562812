//! End-to-end test of graceful shutdown (SPEC §6): on SIGTERM the server stops taking
//! connections, finishes the requests it took, and exits 0.

mod support;

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{store_tests, Server, Store};
use tokio::sync::Notify;

/// How many openings are in the air when the server is told to stop.
const BURST: usize = 200;

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

store_tests! { sigterm_finishes_requests_in_flight_and_exits_0 }

async fn sigterm_finishes_requests_in_flight_and_exits_0(store: Store) {
    let mut server = Server::start(store).await;
    let key = server.tenant_with_key("acme-media", "advertiser", "dev_adv_42");
    let url = format!("{}/v1/disputes", server.base);
    let client = reqwest::Client::new();
    let first_answer = Arc::new(Notify::new());

    let mut burst = Vec::with_capacity(BURST);
    for n in 0..BURST {
        let (client, url, key) = (client.clone(), url.clone(), key.clone());
        let first_answer = first_answer.clone();
        burst.push(tokio::spawn(async move {
            let sent = client
                .post(url)
                .bearer_auth(key)
                .json(&open_request(&format!("cmp_{n}")))
                .send()
                .await;
            first_answer.notify_one();
            match sent {
                Ok(response) => {
                    let status = response.status();
                    let body: Value = response.json().await.unwrap_or(Value::Null);
                    Ok((status, body))
                }
                Err(e) => Err(e),
            }
        }));
    }
    // Stop the server while the burst is under way: once the first answer is in.
    first_answer.notified().await;
    server.terminate();

    let mut opened = Vec::new();
    let mut refused = 0;
    for request in burst {
        match request.await.expect("the request task") {
            Ok((status, body)) => {
                assert!(
                    status.is_success(),
                    "an accepted request is finished, not failed: {status} {body}"
                );
                assert_eq!(status, StatusCode::CREATED, "{body}");
                let id = body["data"]["dispute"]["id"]
                    .as_str()
                    .map(support::delivery_id)
                    .expect("the new dispute's id");
                opened.push(id);
            }
            // Not taken: the connection was refused or closed before a request was read.
            Err(e) => {
                assert!(
                    e.is_connect() || e.is_request(),
                    "a refusal is a connection error: {e:?}"
                );
                refused += 1;
            }
        }
    }
    let exit = server.exit_status().await;
    assert!(exit.success(), "the server exits 0 on SIGTERM: {exit}");
    assert!(
        !opened.is_empty(),
        "some openings were answered before the stop"
    );
    eprintln!("{} opened, {refused} refused", opened.len());

    // Every dispute the server said it opened is in the store.
    for id in opened {
        let stored = server.stored("acme-media", id).await;
        assert_eq!(stored.id(), id);
    }
}
