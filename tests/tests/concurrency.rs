//! Races, on each store and across two server processes sharing one database: of many opens for
//! one subject exactly one wins, and of many changes at one version exactly one lands.

mod support;

use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::json;
use support::{store_tests, Server, Store};

fn opening() -> serde_json::Value {
    json!({
        "disputedPeriod": { "start": "2026-10-01T00:00:00Z", "end": "2026-10-08T00:00:00Z" },
        "affectedSurface": { "campaignId": "cmp_race", "screenIds": ["scr_1"] },
        "claimedShortfall": { "unit": "EUR", "amount": "100.00" },
        "evidenceBundle": { "proofPackIds": ["pp_1"] }
    })
}

async fn concurrent_opens_for_one_subject_admit_exactly_one(store: Store) {
    let first = Server::start(store).await;
    let second = first.second_instance().await;
    let key = first.tenant_with_key("acme-media", "advertiser", "dev_adv");

    let answers = join_all((0..200).map(|i| {
        let server = if i % 2 == 0 { &first } else { &second };
        server.call(Method::POST, "/v1/disputes", Some(&key), Some(opening()))
    }))
    .await;

    let created = answers
        .iter()
        .filter(|a| a.status == StatusCode::CREATED)
        .count();
    let duplicates = answers
        .iter()
        .filter(|a| {
            a.status == StatusCode::CONFLICT && a.body["error"]["code"] == "duplicate_dispute"
        })
        .count();
    let others: Vec<_> = answers
        .iter()
        .filter(|a| a.status != StatusCode::CREATED && a.status != StatusCode::CONFLICT)
        .map(|a| (a.status, a.body.clone()))
        .collect();
    assert_eq!(
        (created, duplicates),
        (1, 199),
        "unexpected answers: {others:?}"
    );

    let list = first
        .call(Method::GET, "/v1/disputes", Some(&key), None)
        .await;
    assert_eq!(list.body["data"]["disputes"].as_array().unwrap().len(), 1);
}

async fn concurrent_responses_at_one_version_admit_exactly_one(store: Store) {
    let first = Server::start(store).await;
    let second = first.second_instance().await;
    let advertiser = first.tenant_with_key("acme-media", "advertiser", "dev_adv");
    let operator = first.key("acme-media", "operator", "dev_op");
    let open = first
        .call(
            Method::POST,
            "/v1/disputes",
            Some(&advertiser),
            Some(opening()),
        )
        .await;
    let id = open.body["data"]["dispute"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(open.headers["etag"], "\"1\"");

    let path = format!("/v1/disputes/{id}/operator-response");
    let answers = join_all((0..100).map(|i| {
        let server = if i % 2 == 0 { &first } else { &second };
        let body = json!({ "notes": format!("response {i}") });
        server.call_with(
            Method::POST,
            &path,
            Some(&operator),
            Some(body),
            &[("if-match", "\"1\"")],
        )
    }))
    .await;

    let won: Vec<_> = answers
        .iter()
        .filter(|a| a.status == StatusCode::OK)
        .collect();
    let lost = answers
        .iter()
        .filter(|a| {
            let code = a.body["error"]["code"].as_str().unwrap_or_default();
            (a.status == StatusCode::PRECONDITION_FAILED && code == "version_mismatch")
                || (a.status == StatusCode::CONFLICT && code == "concurrent_update")
        })
        .count();
    assert_eq!(
        (won.len(), lost),
        (1, 99),
        "every loser gets a clear conflict error"
    );
    assert_eq!(won[0].headers["etag"], "\"2\"");

    let read = first
        .call(
            Method::GET,
            &format!("/v1/disputes/{id}"),
            Some(&operator),
            None,
        )
        .await;
    let dispute = &read.body["data"]["dispute"];
    assert_eq!(dispute["version"], 2);
    assert_eq!(
        dispute["timeline"].as_array().unwrap().len(),
        2,
        "exactly one entry was added"
    );
    assert_eq!(
        dispute["operatorResponse"]["notes"],
        won[0].body["data"]["dispute"]["operatorResponse"]["notes"]
    );
    first
        .stored("acme-media", support::delivery_id(&id))
        .await
        .verify()
        .unwrap();
}

async fn a_stale_if_match_is_a_412_and_a_malformed_one_a_400(store: Store) {
    let server = Server::start(store).await;
    let advertiser = server.tenant_with_key("acme-media", "advertiser", "dev_adv");
    let open = server
        .call(
            Method::POST,
            "/v1/disputes",
            Some(&advertiser),
            Some(opening()),
        )
        .await;
    let id = open.body["data"]["dispute"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/disputes/{id}/notes");
    let note = || Some(json!({ "notes": "n" }));

    let fresh = server
        .call_with(
            Method::POST,
            &path,
            Some(&advertiser),
            note(),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(fresh.status, StatusCode::OK);
    let stale = server
        .call_with(
            Method::POST,
            &path,
            Some(&advertiser),
            note(),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(stale.body["error"]["code"], "version_mismatch");
    let malformed = server
        .call_with(
            Method::POST,
            &path,
            Some(&advertiser),
            note(),
            &[("if-match", "v2")],
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.body["error"]["details"][0]["field"], "If-Match");
    let any = server
        .call_with(
            Method::POST,
            &path,
            Some(&advertiser),
            note(),
            &[("if-match", "*")],
        )
        .await;
    assert_eq!(any.status, StatusCode::OK);
    assert_eq!(any.body["data"]["dispute"]["version"], 3);
    // Only what an ETag of ours looks like is a version: no sign, no leading zero.
    for not_ours in ["\"03\"", "\"+3\"", "W/W/\"3\"", "\"1234567890123456789\""] {
        let refused = server
            .call_with(
                Method::POST,
                &path,
                Some(&advertiser),
                note(),
                &[("if-match", not_ours)],
            )
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{not_ours}");
    }
    // Empty, it names no version: none matches, and nothing is written.
    let none = server
        .call_with(
            Method::POST,
            &path,
            Some(&advertiser),
            note(),
            &[("if-match", "")],
        )
        .await;
    assert_eq!(none.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(none.body["error"]["code"], "version_mismatch");
    let unknown = server
        .call_with(
            Method::POST,
            "/v1/disputes/999999/notes",
            Some(&advertiser),
            note(),
            &[("if-match", "")],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let read = server
        .call(
            Method::GET,
            &format!("/v1/disputes/{id}"),
            Some(&advertiser),
            None,
        )
        .await;
    assert_eq!(read.body["data"]["dispute"]["version"], 3);
}

async fn abandoned_requests_leave_the_store_healthy(store: Store) {
    let server = Server::start(store).await;
    let key = server.tenant_with_key("acme-media", "advertiser", "dev_adv");
    let open = server
        .call(Method::POST, "/v1/disputes", Some(&key), Some(opening()))
        .await;
    let id = open.body["data"]["dispute"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Clients that give up halfway: each request is cut off within a millisecond, mostly while
    // the server is inside a database transaction for it.
    let impatient = reqwest::Client::builder()
        .timeout(std::time::Duration::from_micros(700))
        .build()
        .unwrap();
    let abandoned = (0..300).map(|i| {
        let url = if i % 2 == 0 {
            format!("{}/v1/disputes/{id}", server.base)
        } else {
            format!("{}/v1/disputes?limit=5", server.base)
        };
        impatient.get(url).bearer_auth(&key).send()
    });
    join_all(abandoned).await;

    // Every connection the server pooled must still be clean: reads and writes all succeed.
    for i in 0..40 {
        let mut body = opening();
        body["affectedSurface"]["campaignId"] = json!(format!("cmp_after_{i}"));
        let answer = server
            .call(Method::POST, "/v1/disputes", Some(&key), Some(body))
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{:#}", answer.body);
        let read = server
            .call(Method::GET, &format!("/v1/disputes/{id}"), Some(&key), None)
            .await;
        assert_eq!(read.status, StatusCode::OK, "{:#}", read.body);
    }
}

store_tests! {
    abandoned_requests_leave_the_store_healthy,
    concurrent_opens_for_one_subject_admit_exactly_one,
    concurrent_responses_at_one_version_admit_exactly_one,
    a_stale_if_match_is_a_412_and_a_malformed_one_a_400,
}
