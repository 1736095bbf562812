//! End-to-end tests of deadlines that act (SPEC §1 deadlines, `Expired`): `disputes tenant
//! set-policy` sets a tenant's policy, and the server's scheduler reminds and then expires a
//! dispute nobody answered, with that policy's outcome.

mod support;

use std::time::{Duration, Instant};

use chrono::DateTime;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{binary, store_tests, Server, Store};

/// A delivery dispute as the seed opens it.
fn request() -> Value {
    json!({
        "disputedPeriod": { "start": "2026-10-01T00:00:00Z", "end": "2026-10-08T00:00:00Z" },
        "affectedSurface": {
            "campaignId": "cmp_autumn_sale",
            "screenIds": ["scr_amsterdam_01"],
            "substrateId": "sub_dooh_nl"
        },
        "claimedShortfall": { "unit": "impressions", "amount": "12500" },
        "evidenceBundle": { "proofPackIds": ["pp_2026_10_a"] }
    })
}

/// Runs `disputes` with `args` against `server`'s database, expecting it to fail; its stderr.
fn cli_fails(server: &Server, args: &[&str]) -> String {
    let output = std::process::Command::new(binary())
        .args(args)
        .args(["--database-url", &server.database_url])
        .output()
        .expect("the cli runs");
    assert!(!output.status.success(), "disputes {args:?} succeeded");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn time(value: &Value) -> DateTime<chrono::FixedOffset> {
    DateTime::parse_from_rfc3339(value.as_str().expect("a time")).expect("RFC 3339")
}

fn kinds(dispute: &Value) -> Vec<&str> {
    dispute["timeline"]
        .as_array()
        .expect("a timeline")
        .iter()
        .map(|e| e["kind"].as_str().expect("a kind"))
        .collect()
}

/// Reads the dispute until `done` holds, for at most 30 s (the scheduler polls every 100 ms).
async fn poll_until(
    server: &Server,
    key: &str,
    id: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let answer = server
            .call(Method::GET, &format!("/v1/disputes/{id}"), Some(key), None)
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{:#}", answer.body);
        let dispute = answer.body["data"]["dispute"].clone();
        if done(&dispute) {
            return dispute;
        }
        assert!(Instant::now() < deadline, "never {what}: {dispute:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Replaces what differs from run to run (ids, times, hashes, the deadline a reminder names).
fn redact(value: &Value) -> Value {
    const VOLATILE: [&str; 8] = [
        "id",
        "createdAt",
        "updatedAt",
        "openedAt",
        "respondBy",
        "at",
        "resolvedAt",
        "hash",
    ];
    match value {
        Value::Object(map) => {
            let reminder = map.get("kind") == Some(&json!("reminder"));
            Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        let v = if (VOLATILE.contains(&k.as_str()) && !v.is_null())
                            || (reminder && k == "notes")
                        {
                            json!(format!("[{k}]"))
                        } else {
                            redact(v)
                        };
                        (k.clone(), v)
                    })
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

async fn a_tenant_policy_reminds_then_expires_an_unanswered_dispute(store: Store) {
    let server = Server::start_with_env(store, &[("DISPUTES_DEADLINE_POLL_MS", "100")]).await;
    let advertiser = server.tenant_with_key("acme-media", "advertiser", "dev_adv_42");
    // Six seconds to respond (0.00007 days, to the second), a reminder four seconds before,
    // the full claim on expiry.
    server.cli(&[
        "tenant",
        "set-policy",
        "acme-media",
        "--respond-within-days",
        "0.00007",
        "--remind-before-hours",
        "0.00111",
        "--on-expiry",
        "granted",
    ]);

    let opened = server
        .call(
            Method::POST,
            "/v1/disputes",
            Some(&advertiser),
            Some(request()),
        )
        .await;
    assert_eq!(opened.status, StatusCode::CREATED, "{:#}", opened.body);
    let dispute = &opened.body["data"]["dispute"];
    let id = dispute["id"].as_str().unwrap().to_owned();
    assert_eq!(
        time(&dispute["respondBy"]) - time(&dispute["openedAt"]),
        chrono::Duration::seconds(6),
        "the tenant's policy set the deadline"
    );

    let reminded = poll_until(&server, &advertiser, &id, "reminded", |d| {
        kinds(d).contains(&"reminder")
    })
    .await;
    assert_eq!(kinds(&reminded)[..2], ["opened", "reminder"]);
    let reminder = &reminded["timeline"][1];
    assert_eq!(reminder["actor"], json!("disputes-engine"));
    assert!(
        time(&reminder["at"]) >= time(&reminded["respondBy"]) - chrono::Duration::seconds(4),
        "reminded before the window: {reminded:#}"
    );

    let expired = poll_until(&server, &advertiser, &id, "expired", |d| {
        d["status"] == json!("expired")
    })
    .await;
    assert_eq!(kinds(&expired), ["opened", "reminder", "expired"]);
    assert_eq!(expired["resolution"]["outcome"], json!("expired"));
    assert_eq!(expired["resolution"]["settledAmount"], json!("12500"));
    assert!(time(&expired["resolution"]["resolvedAt"]) >= time(&dispute["respondBy"]));
    insta::assert_snapshot!(
        "expired_by_policy",
        serde_json::to_string_pretty(&redact(&expired)).unwrap()
    );

    // A final dispute stays as it is: the scheduler never acts on it again.
    let answer = server
        .call(
            Method::POST,
            &format!("/v1/disputes/{id}/withdraw"),
            Some(&advertiser),
            Some(json!({ "notes": "too late" })),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{:#}", answer.body);
}

async fn set_policy_refuses_what_makes_no_sense(store: Store) {
    let server = Server::start(store).await;
    server.cli(&["tenant", "create", "acme-media"]);
    let err = cli_fails(
        &server,
        &["tenant", "set-policy", "nobody", "--on-expiry", "granted"],
    );
    assert!(
        err.contains("cannot set the deadline policy of tenant nobody"),
        "{err}"
    );
    // The default deadline is 14 days: a reminder 14 days before it would come at once.
    let err = cli_fails(
        &server,
        &[
            "tenant",
            "set-policy",
            "acme-media",
            "--remind-before-hours",
            "336",
        ],
    );
    assert!(err.contains("remind_before"), "{err}");
    let err = cli_fails(
        &server,
        &[
            "tenant",
            "set-policy",
            "acme-media",
            "--respond-within-days=-1",
        ],
    );
    assert!(err.contains("out of range"), "{err}");
    let err = cli_fails(
        &server,
        &["tenant", "set-policy", "acme-media", "--on-expiry", "maybe"],
    );
    assert!(err.contains("maybe"), "{err}");
    // What is not given stays as it was.
    server.cli(&[
        "tenant",
        "set-policy",
        "acme-media",
        "--respond-within-days",
        "7",
    ]);
    server.cli(&[
        "tenant",
        "set-policy",
        "acme-media",
        "--on-expiry",
        "granted",
    ]);
    let key = server.key("acme-media", "advertiser", "dev_adv_42");
    let opened = server
        .call(Method::POST, "/v1/disputes", Some(&key), Some(request()))
        .await;
    assert_eq!(opened.status, StatusCode::CREATED, "{:#}", opened.body);
    let dispute = &opened.body["data"]["dispute"];
    assert_eq!(
        time(&dispute["respondBy"]) - time(&dispute["openedAt"]),
        chrono::Duration::days(7)
    );
}

store_tests!(
    a_tenant_policy_reminds_then_expires_an_unanswered_dispute,
    set_policy_refuses_what_makes_no_sense,
);
