//! End-to-end tests of `Idempotency-Key` (SPEC §6) on the POSTs of the delivery and billing
//! contracts: a replay answers the first answer and has no second effect, another request with
//! the key is a 422, concurrent requests with one key make one dispute, and keys are per tenant.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{store_tests, Answer, Server, Store, TextAnswer};

const BILLING: &str = "/bcws/webresources/v1.0";
const JSON: &str = "application/json";
const XML: &str = "application/xml";

/// A delivery opening for `campaign`, which conflicts with no other campaign's.
fn opening(campaign: &str) -> Value {
    json!({
        "disputedPeriod": { "start": "2026-10-01T00:00:00Z", "end": "2026-10-08T00:00:00Z" },
        "affectedSurface": {
            "campaignId": campaign,
            "screenIds": ["scr_amsterdam_01"],
            "substrateId": "sub_dooh_nl"
        },
        "claimedShortfall": { "unit": "impressions", "amount": "12500" },
        "evidenceBundle": { "proofPackIds": ["pp_1"] }
    })
}

/// A billing opening on `account`.
fn item_dispute(account: &str) -> String {
    json!({
        "amount": 5,
        "notes": {
            "domainId": 34,
            "accountId": account,
            "reasonId": "2",
            "status": 102,
            "comments": [{ "comment": "Roaming charged twice." }]
        }
    })
    .to_string()
}

fn item_dispute_xml(account: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<itemDispute>
  <amount>5</amount>
  <notes>
    <domainId>34</domainId>
    <accountId>{account}</accountId>
    <reasonId>2</reasonId>
    <status>102</status>
    <comments><comment>Roaming charged twice.</comment></comments>
  </notes>
</itemDispute>"#
    )
}

/// The status and pretty body of a delivery answer, for a snapshot.
fn shown(answer: &Answer) -> String {
    format!(
        "{}\n{}",
        answer.status.as_u16(),
        serde_json::to_string_pretty(&answer.body).unwrap()
    )
}

/// The status, content type and body of a billing answer, for a snapshot.
fn shown_text(answer: &TextAnswer) -> String {
    format!(
        "{} {}\n{}",
        answer.status.as_u16(),
        answer.header("content-type").unwrap_or_default(),
        answer.text
    )
}

async fn open(server: &Server, key: &str, idempotency_key: &str, body: Value) -> Answer {
    server
        .call_with(
            Method::POST,
            "/v1/disputes",
            Some(key),
            Some(body),
            &[("idempotency-key", idempotency_key)],
        )
        .await
}

fn dispute_id(answer: &Answer) -> &str {
    answer.body["data"]["dispute"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a dispute in {:#}", answer.body))
}

/// How many delivery disputes the key's tenant has.
async fn delivery_disputes(server: &Server, key: &str) -> usize {
    let list = server
        .call(Method::GET, "/v1/disputes?limit=100", Some(key), None)
        .await;
    assert_eq!(list.status, StatusCode::OK, "{:#}", list.body);
    list.body["data"]["disputes"].as_array().unwrap().len()
}

async fn a_replayed_open_answers_the_first_answer_and_opens_once(store: Store) {
    let server = Server::start(store).await;
    let key = server.tenant_with_key("acme-media", "advertiser", "dev_adv_42");

    let first = open(&server, &key, "open-1", opening("cmp_1")).await;
    assert_eq!(first.status, StatusCode::CREATED, "{:#}", first.body);
    assert_eq!(first.headers.get("idempotent-replayed"), None);
    let again = open(&server, &key, "open-1", opening("cmp_1")).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.body, first.body);
    assert_eq!(dispute_id(&again), dispute_id(&first));
    assert_eq!(again.headers.get("etag"), first.headers.get("etag"));
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(delivery_disputes(&server, &key).await, 1);

    // Without a replay, the same body is a second open of the same subject: refused.
    let unkeyed = server
        .call(
            Method::POST,
            "/v1/disputes",
            Some(&key),
            Some(opening("cmp_1")),
        )
        .await;
    assert_eq!(unkeyed.status, StatusCode::CONFLICT);
    // A refusal is an answer too, and is replayed as it was.
    let refused = open(&server, &key, "open-2", opening("cmp_1")).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(
        open(&server, &key, "open-2", opening("cmp_1")).await.body,
        refused.body
    );
    assert_eq!(delivery_disputes(&server, &key).await, 1);
}

async fn a_key_reused_for_another_request_is_refused(store: Store) {
    let server = Server::start(store).await;
    let key = server.tenant_with_key("acme-media", "advertiser", "dev_adv_42");
    let first = open(&server, &key, "open-1", opening("cmp_1")).await;
    assert_eq!(first.status, StatusCode::CREATED);

    let other = open(&server, &key, "open-1", opening("cmp_2")).await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(other.body["error"]["code"], "idempotency_key_reused");
    insta::assert_snapshot!("delivery_key_reused", shown(&other));
    assert_eq!(delivery_disputes(&server, &key).await, 1);
}

async fn malformed_keys_are_refused_in_the_contracts_shape(store: Store) {
    let server = Server::start(store).await;
    let key = server.tenant_with_key("acme-media", "advertiser", "dev_adv_42");
    let too_long = "k".repeat(256);
    for bad in ["", too_long.as_str(), "two words", "a\tb"] {
        let answer = open(&server, &key, bad, opening("cmp_1")).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{bad:?}: {:#}",
            answer.body
        );
        assert_eq!(
            answer.body["error"]["details"][0]["field"],
            "Idempotency-Key"
        );
    }
    insta::assert_snapshot!(
        "delivery_key_malformed",
        shown(&open(&server, &key, "two words", opening("cmp_1")).await)
    );
    // The longest key is fine.
    let longest = "k".repeat(255);
    let answer = open(&server, &key, &longest, opening("cmp_1")).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{:#}", answer.body);
    assert_eq!(delivery_disputes(&server, &key).await, 1);
}

async fn a_replayed_note_appends_one_entry(store: Store) {
    let server = Server::start(store).await;
    let key = server.tenant_with_key("acme-media", "advertiser", "dev_adv_42");
    let opened = open(&server, &key, "open-1", opening("cmp_1")).await;
    let id = dispute_id(&opened).to_owned();
    let note = || async {
        server
            .call_with(
                Method::POST,
                &format!("/v1/disputes/{id}/notes"),
                Some(&key),
                Some(json!({ "notes": "the screen was dark on Tuesday" })),
                &[("idempotency-key", "note-1")],
            )
            .await
    };
    let first = note().await;
    assert_eq!(first.status, StatusCode::OK, "{:#}", first.body);
    let again = note().await;
    assert_eq!(again.body, first.body);
    assert_eq!(again.headers["etag"], "\"2\"");

    let stored = server.stored("acme-media", support::delivery_id(&id)).await;
    assert_eq!(stored.timeline().len(), 2, "one opening, one note");
}

async fn keys_are_independent_per_tenant(store: Store) {
    let server = Server::start(store).await;
    let acme = server.tenant_with_key("acme-media", "advertiser", "dev_adv_42");
    let globex = server.tenant_with_key("globex-media", "advertiser", "dev_adv_42");

    let a = open(&server, &acme, "shared-key", opening("cmp_1")).await;
    let b = open(&server, &globex, "shared-key", opening("cmp_1")).await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(b.status, StatusCode::CREATED, "{:#}", b.body);
    assert_eq!(b.headers.get("idempotent-replayed"), None);
    assert_ne!(dispute_id(&a), dispute_id(&b));
    // Another request under the same key is fine in another tenant, too.
    let c = open(&server, &globex, "other-key", opening("cmp_2")).await;
    let d = open(&server, &acme, "other-key", opening("cmp_3")).await;
    assert_eq!(
        (c.status, d.status),
        (StatusCode::CREATED, StatusCode::CREATED)
    );
    assert_eq!(delivery_disputes(&server, &acme).await, 2);
    assert_eq!(delivery_disputes(&server, &globex).await, 2);
}

async fn concurrent_opens_with_one_key_make_one_dispute(store: Store) {
    let server = Server::start(store).await;
    let key = server.tenant_with_key("acme-media", "advertiser", "dev_adv_42");
    // On PostgreSQL, two instances share the database, as behind a load balancer.
    let second = match store {
        Store::Postgres => Some(server.second_instance().await),
        Store::Sqlite => None,
    };
    let servers = [Some(&server), second.as_ref()];
    let answers = futures::future::join_all((0..50).map(|i| {
        let target = servers[i % 2].unwrap_or(&server);
        open(target, &key, "one-key", opening("cmp_1"))
    }))
    .await;

    let mut created = Vec::new();
    for answer in &answers {
        match answer.status {
            StatusCode::CREATED => created.push(dispute_id(answer).to_owned()),
            StatusCode::CONFLICT => {
                assert_eq!(answer.body["error"]["code"], "idempotency_key_in_flight")
            }
            other => panic!("unexpected {other}: {:#}", answer.body),
        }
    }
    assert!(!created.is_empty());
    assert!(created.iter().all(|id| id == &created[0]), "{created:?}");
    assert_eq!(delivery_disputes(&server, &key).await, 1);
}

async fn a_lost_answer_is_answered_from_the_dispute(store: Store) {
    let server = Server::start(store).await;
    let key = server.tenant_with_key("acme-media", "advertiser", "dev_adv_42");
    let first = open(&server, &key, "open-1", opening("cmp_1")).await;
    assert_eq!(first.status, StatusCode::CREATED);
    // As if the process stopped after the open committed and before its answer was stored, and
    // the lease has ended since.
    let forgotten = server
        .sql("UPDATE idempotency_keys SET answer = NULL, lease_until = created_at")
        .await
        .unwrap();
    assert_eq!(forgotten, 1);

    let again = open(&server, &key, "open-1", opening("cmp_1")).await;
    assert_eq!(again.status, StatusCode::CREATED, "{:#}", again.body);
    assert_eq!(again.body, first.body);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(delivery_disputes(&server, &key).await, 1);
}

/// Makes the key's first request look as if it were still running: no answer, a lease that
/// has not ended.
async fn put_back_in_flight(server: &Server) {
    let held = server
        .sql(
            "UPDATE idempotency_keys SET answer = NULL, \
             lease_until = '9999-12-31T23:59:59.000000Z'",
        )
        .await
        .unwrap();
    assert_eq!(held, 1);
}

async fn a_request_in_flight_is_answered_409(store: Store) {
    let server = Server::start(store).await;
    let key = server.tenant_with_key("acme-media", "advertiser", "dev_adv_42");
    let first = open(&server, &key, "open-1", opening("cmp_1")).await;
    assert_eq!(first.status, StatusCode::CREATED);
    put_back_in_flight(&server).await;

    let again = open(&server, &key, "open-1", opening("cmp_1")).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.headers["retry-after"], "1");
    insta::assert_snapshot!("delivery_key_in_flight", shown(&again));
    assert_eq!(delivery_disputes(&server, &key).await, 1);
}

/// A billing server with one tenant and one billing user; returns the user's password.
async fn billing_desk(store: Store) -> (Server, String) {
    let server = Server::start(store).await;
    server.cli(&["tenant", "create", "acme-telco"]);
    let password = server.login("acme-telco", "billing", "csr-acme");
    (server, password)
}

async fn billing_post(
    server: &Server,
    password: &str,
    path: &str,
    format: &str,
    idempotency_key: &str,
    body: String,
) -> TextAnswer {
    server
        .send(
            Method::POST,
            &format!("{BILLING}{path}"),
            Some(("csr-acme", password)),
            &[
                ("content-type", format),
                ("accept", format),
                ("idempotency-key", idempotency_key),
            ],
            Some(body.into_bytes()),
        )
        .await
}

async fn billing_disputes(server: &Server, password: &str, account: &str) -> usize {
    let list = server
        .send(
            Method::GET,
            &format!("{BILLING}/disputes/account/{account}?limit=100"),
            Some(("csr-acme", password)),
            &[("accept", JSON)],
            None,
        )
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    list.json()["disputes"].as_array().unwrap().len()
}

async fn billing_replays_in_json_and_xml(store: Store) {
    let (server, password) = billing_desk(store).await;
    for (format, item, body) in [
        (JSON, "item-1", item_dispute("acct-1")),
        (XML, "item-2", item_dispute_xml("acct-2")),
    ] {
        let path = format!("/disputes/item/{item}");
        let first = billing_post(&server, &password, &path, format, item, body.clone()).await;
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
        let again = billing_post(&server, &password, &path, format, item, body.clone()).await;
        assert_eq!(again.status, StatusCode::CREATED);
        assert_eq!(again.text, first.text);
        assert_eq!(again.header("location"), first.header("location"));
        assert_eq!(again.header("content-type"), first.header("content-type"));
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
    }
    assert_eq!(billing_disputes(&server, &password, "acct-1").await, 1);
    assert_eq!(billing_disputes(&server, &password, "acct-2").await, 1);

    // A settlement replayed settles once.
    let opened = billing_post(
        &server,
        &password,
        "/disputes/item/item-1",
        JSON,
        "item-1",
        item_dispute("acct-1"),
    )
    .await;
    let dispute = opened.json()["reference"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let settlement_path = format!("/disputes/settlement/item/{dispute}");
    let settle = || {
        billing_post(
            &server,
            &password,
            &settlement_path,
            JSON,
            "settle-1",
            json!({ "amount": 5 }).to_string(),
        )
    };
    let first = settle().await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let again = settle().await;
    assert_eq!((again.status, &again.text), (first.status, &first.text));
}

async fn billing_refuses_a_key_reused_for_another_request(store: Store) {
    let (server, password) = billing_desk(store).await;
    let path = "/disputes/item/item-1";
    let first = billing_post(&server, &password, path, JSON, "k", item_dispute("acct-1")).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);

    let other = billing_post(&server, &password, path, JSON, "k", item_dispute("acct-9")).await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(other.json()["o:errorCode"], "idempotency_key_reused");
    insta::assert_snapshot!("billing_key_reused_json", shown_text(&other));
    let as_xml = billing_post(
        &server,
        &password,
        path,
        XML,
        "k",
        item_dispute_xml("acct-1"),
    )
    .await;
    assert_eq!(as_xml.status, StatusCode::UNPROCESSABLE_ENTITY);
    insta::assert_snapshot!("billing_key_reused_xml", shown_text(&as_xml));
    put_back_in_flight(&server).await;
    let in_flight = billing_post(&server, &password, path, JSON, "k", item_dispute("acct-1")).await;
    assert_eq!(in_flight.status, StatusCode::CONFLICT);
    insta::assert_snapshot!("billing_key_in_flight", shown_text(&in_flight));
    let malformed = billing_post(&server, &password, path, JSON, "", item_dispute("acct-1")).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    insta::assert_snapshot!("billing_key_malformed", shown_text(&malformed));
    assert_eq!(billing_disputes(&server, &password, "acct-1").await, 1);
    assert_eq!(billing_disputes(&server, &password, "acct-9").await, 0);
}

store_tests! {
    a_replayed_open_answers_the_first_answer_and_opens_once,
    a_key_reused_for_another_request_is_refused,
    malformed_keys_are_refused_in_the_contracts_shape,
    a_replayed_note_appends_one_entry,
    keys_are_independent_per_tenant,
    concurrent_opens_with_one_key_make_one_dispute,
    a_lost_answer_is_answered_from_the_dispute,
    a_request_in_flight_is_answered_409,
    billing_replays_in_json_and_xml,
    billing_refuses_a_key_reused_for_another_request,
}
