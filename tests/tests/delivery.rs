//! End-to-end tests of the delivery contract (seed 000, SPEC §2) against the real binary.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{store_tests, Answer, Server, Store};

/// The seed's request with real values.
fn seed_request() -> Value {
    json!({
        "disputedPeriod": { "start": "2026-10-01T00:00:00Z", "end": "2026-10-08T00:00:00Z" },
        "affectedSurface": {
            "campaignId": "cmp_autumn_sale",
            "screenIds": ["scr_amsterdam_01", "scr_rotterdam_07"],
            "substrateId": "sub_dooh_nl"
        },
        "claimedShortfall": { "unit": "impressions", "amount": "12500" },
        "openedBy": "dev_adv_42",
        "evidenceBundle": {
            "proofPackIds": ["pp_2026_10_a"],
            "meteringSnapshotIds": ["ms_2026_10_08"],
            "settlementApplicationIds": [],
            "attachmentRefs": ["att_screenshot_1"],
            "auditorReportRef": "audit_2026_q4"
        }
    })
}

/// A request for `campaign` that conflicts with no other campaign's.
fn request_for(campaign: &str) -> Value {
    let mut body = seed_request();
    body["affectedSurface"]["campaignId"] = json!(campaign);
    body
}

/// Replaces what differs from run to run (ids, times, hashes, cursors) with placeholders, so a
/// snapshot shows the shape and every stable value. A `null` stays `null`.
fn redact(value: &Value) -> Value {
    const VOLATILE: [&str; 9] = [
        "id",
        "createdAt",
        "updatedAt",
        "openedAt",
        "respondBy",
        "at",
        "resolvedAt",
        "hash",
        "nextCursor",
    ];
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if VOLATILE.contains(&k.as_str()) && !v.is_null() {
                        json!(format!("[{k}]"))
                    } else {
                        redact(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

/// Snapshots the status and the redacted body. The JSON is rendered by serde_json itself: numbers
/// parsed with `arbitrary_precision` are shown as the numbers they are.
macro_rules! snapshot {
    ($name:expr, $answer:expr) => {{
        let shown = json!({ "status": $answer.status.as_u16(), "body": redact(&$answer.body) });
        insta::assert_snapshot!($name, serde_json::to_string_pretty(&shown).unwrap())
    }};
}

/// A change to a valid request that makes it invalid.
type Mutation = fn(&mut Value);

struct Desk {
    server: Server,
    advertiser: String,
    operator: String,
}

/// A server with one tenant, `acme-media`, and an advertiser and an operator key.
async fn desk(store: Store) -> Desk {
    let server = Server::start(store).await;
    let advertiser = server.tenant_with_key("acme-media", "advertiser", "dev_adv_42");
    let operator = server.key("acme-media", "operator", "dev_op_7");
    Desk {
        server,
        advertiser,
        operator,
    }
}

impl Desk {
    async fn post(&self, path: &str, key: &str, body: Value) -> Answer {
        self.server
            .call(Method::POST, path, Some(key), Some(body))
            .await
    }

    async fn get(&self, path: &str, key: &str) -> Answer {
        self.server.call(Method::GET, path, Some(key), None).await
    }

    async fn open(&self, body: Value) -> String {
        let answer = self.post("/v1/disputes", &self.advertiser, body).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{:#}", answer.body);
        answer.body["data"]["dispute"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Moves the dispute to where the operator may resolve it: responded and accepted.
    async fn accepted(&self, id: &str) {
        let path = format!("/v1/disputes/{id}/operator-response");
        let answer = self
            .post(&path, &self.operator, json!({ "notes": "seen" }))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{:#}", answer.body);
        let path = format!("/v1/disputes/{id}/advertiser-response");
        let answer = self
            .post(&path, &self.advertiser, json!({ "decision": "accept" }))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{:#}", answer.body);
    }

    async fn dispute(&self, id: &str) -> Value {
        let answer = self
            .get(&format!("/v1/disputes/{id}"), &self.advertiser)
            .await;
        assert_eq!(answer.status, StatusCode::OK);
        answer.body["data"]["dispute"].clone()
    }
}

fn error_code(answer: &Answer) -> &str {
    assert_eq!(answer.body["ok"], json!(false), "{:#}", answer.body);
    assert_eq!(answer.body["contractVersion"], json!("v1.0"));
    answer.body["error"]["code"]
        .as_str()
        .expect("an error code")
}

async fn the_seed_request_opens_a_dispute(store: Store) {
    let desk = desk(store).await;
    let answer = desk
        .post("/v1/disputes", &desk.advertiser, seed_request())
        .await;
    assert_eq!(answer.status, StatusCode::CREATED);
    let dispute = &answer.body["data"]["dispute"];
    assert_eq!(dispute["status"], "open");
    assert_eq!(dispute["version"], 1);
    assert_eq!(dispute["orgId"], "acme-media");
    assert_eq!(dispute["claimedShortfall"]["amount"], "12500");
    assert_eq!(dispute["disputedPeriod"]["start"], "2026-10-01T00:00:00Z");
    snapshot!("open", answer);

    let id = dispute["id"].as_str().unwrap();
    let read = desk
        .get(&format!("/v1/disputes/{id}"), &desk.operator)
        .await;
    assert_eq!(
        read.body["data"]["dispute"], *dispute,
        "get shows what open returned"
    );
    snapshot!("get", read);
}

async fn opened_by_defaults_to_the_keys_developer_and_amounts_stay_exact(store: Store) {
    let desk = desk(store).await;
    let mut body = seed_request();
    body.as_object_mut().unwrap().remove("openedBy");
    body["claimedShortfall"] = json!({ "unit": "EUR", "amount": 1234.5678 });
    let id = desk.open(body).await;
    let dispute = desk.dispute(&id).await;
    assert_eq!(dispute["openedBy"], "dev_adv_42");
    assert_eq!(dispute["claimedShortfall"]["amount"], "1234.5678");

    desk.accepted(&id).await;
    let body = json!({ "outcome": "partially_granted", "settledAmount": "0.0001", "notes": "n" });
    let resolved = desk
        .post(&format!("/v1/disputes/{id}/resolve"), &desk.operator, body)
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{:#}", resolved.body);
    assert_eq!(
        resolved.body["data"]["dispute"]["resolution"]["settledAmount"],
        "0.0001"
    );
}

async fn respond_accept_and_resolve_in_full(store: Store) {
    let desk = desk(store).await;
    let id = desk.open(seed_request()).await;
    let response = json!({
        "notes": "Two screens were dark for a day.",
        "proposedRemedy": {
            "amount": "8000",
            "makegoodWindow": { "start": "2026-11-01T00:00:00Z", "end": "2026-11-08T00:00:00Z" }
        }
    });
    let answer = desk
        .post(
            &format!("/v1/disputes/{id}/operator-response"),
            &desk.operator,
            response,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{:#}", answer.body);
    assert_eq!(answer.body["data"]["dispute"]["status"], "responded");
    snapshot!("operator_response", answer);

    let reply = json!({ "notes": "Agreed.", "decision": "accept" });
    let answer = desk
        .post(
            &format!("/v1/disputes/{id}/advertiser-response"),
            &desk.advertiser,
            reply,
        )
        .await;
    assert_eq!(answer.body["data"]["dispute"]["status"], "accepted");
    snapshot!("advertiser_response_accept", answer);

    let resolve = json!({
        "outcome": "granted",
        "creditNoteId": "cn_1001",
        "makegoodCampaignId": "cmp_makegood_1",
        "settlementAdjustmentId": "adj_77",
        "notes": "Credited in full."
    });
    let answer = desk
        .post(
            &format!("/v1/disputes/{id}/resolve"),
            &desk.operator,
            resolve,
        )
        .await;
    let dispute = &answer.body["data"]["dispute"];
    assert_eq!(dispute["status"], "resolved");
    assert_eq!(dispute["resolution"]["settledAmount"], "12500");
    assert_eq!(dispute["version"], 4);
    assert_eq!(dispute["respondBy"], Value::Null);
    snapshot!("resolve_granted", answer);
}

async fn reject_goes_under_review_and_settles_in_part(store: Store) {
    let desk = desk(store).await;
    let id = desk.open(seed_request()).await;
    desk.post(
        &format!("/v1/disputes/{id}/operator-response"),
        &desk.operator,
        json!({ "notes": "Delivered." }),
    )
    .await;
    let answer = desk
        .post(
            &format!("/v1/disputes/{id}/advertiser-response"),
            &desk.advertiser,
            json!({ "notes": "Logs say otherwise.", "decision": "reject" }),
        )
        .await;
    assert_eq!(answer.body["data"]["dispute"]["status"], "under_review");
    snapshot!("advertiser_response_reject", answer);
    let answer = desk
        .post(
            &format!("/v1/disputes/{id}/resolve"),
            &desk.operator,
            json!({ "outcome": "partially_granted", "settledAmount": "4000.50", "notes": "Half." }),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{:#}", answer.body);
    let resolution = &answer.body["data"]["dispute"]["resolution"];
    assert_eq!(resolution["outcome"], "partially_granted");
    assert_eq!(resolution["settledAmount"], "4000.50");
    snapshot!("resolve_partially_granted", answer);
}

async fn withdraw_is_final_and_notes_append_to_the_timeline(store: Store) {
    let desk = desk(store).await;
    let id = desk.open(seed_request()).await;
    let answer = desk
        .post(
            &format!("/v1/disputes/{id}/notes"),
            &desk.operator,
            json!({ "notes": "Looking into it." }),
        )
        .await;
    let dispute = &answer.body["data"]["dispute"];
    assert_eq!(dispute["status"], "open");
    assert_eq!(dispute["version"], 2);
    assert_eq!(dispute["timeline"][1]["notes"], "Looking into it.");
    assert_eq!(dispute["timeline"][1]["actor"], "dev_op_7");
    snapshot!("note", answer);

    let answer = desk
        .post(
            &format!("/v1/disputes/{id}/withdraw"),
            &desk.operator,
            json!({ "notes": "x" }),
        )
        .await;
    assert_eq!(
        answer.status,
        StatusCode::FORBIDDEN,
        "only the opener's side withdraws"
    );

    let answer = desk
        .post(
            &format!("/v1/disputes/{id}/withdraw"),
            &desk.advertiser,
            json!({ "notes": "Found the logs." }),
        )
        .await;
    assert_eq!(answer.body["data"]["dispute"]["status"], "withdrawn");
    assert_eq!(
        answer.body["data"]["dispute"]["resolution"]["outcome"],
        "withdrawn"
    );
    snapshot!("withdraw", answer);

    let again = desk
        .post(
            &format!("/v1/disputes/{id}/notes"),
            &desk.advertiser,
            json!({ "notes": "late" }),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(error_code(&again), "dispute_final");
    snapshot!("error_dispute_final", again);
}

async fn an_illegal_transition_is_a_409_with_a_stable_code_and_changes_nothing(store: Store) {
    let desk = desk(store).await;
    let id = desk.open(seed_request()).await;
    let before = desk.dispute(&id).await;
    let answer = desk
        .post(
            &format!("/v1/disputes/{id}/advertiser-response"),
            &desk.advertiser,
            json!({ "notes": "", "decision": "accept" }),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
    assert_eq!(error_code(&answer), "illegal_transition");
    snapshot!("error_illegal_transition", answer);
    assert_eq!(desk.dispute(&id).await, before);
}

async fn a_second_open_dispute_for_the_same_subject_is_refused(store: Store) {
    let desk = desk(store).await;
    let first = desk.open(seed_request()).await;
    let mut overlapping = seed_request();
    overlapping["affectedSurface"]["screenIds"] = json!(["scr_rotterdam_07"]);
    overlapping["disputedPeriod"]["start"] = json!("2026-10-05T00:00:00Z");
    overlapping["disputedPeriod"]["end"] = json!("2026-10-20T00:00:00Z");
    let answer = desk
        .post("/v1/disputes", &desk.advertiser, overlapping)
        .await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
    assert_eq!(error_code(&answer), "duplicate_dispute");
    assert_eq!(answer.body["error"]["details"][0]["issue"], json!(first));
    snapshot!("error_duplicate_dispute", answer);
}

async fn list_filters_and_pages_by_cursor(store: Store) {
    let desk = desk(store).await;
    // A campaign id no campaign can have is refused, on every store, before any store is asked.
    for not_an_id in ["cmp%00", "%07x", "%20%20"] {
        let refused = desk
            .get(
                &format!("/v1/disputes?campaignId={not_an_id}"),
                &desk.operator,
            )
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{not_an_id}");
        assert_eq!(
            refused.body["error"]["details"][0]["field"], "campaignId",
            "{not_an_id}"
        );
    }
    let mut ids = Vec::new();
    for i in 0..25 {
        ids.push(desk.open(request_for(&format!("cmp_{i:02}"))).await);
    }
    desk.post(
        &format!("/v1/disputes/{}/withdraw", ids[3]),
        &desk.advertiser,
        json!({ "notes": "" }),
    )
    .await;

    let mut seen = Vec::new();
    let mut path = "/v1/disputes?limit=10".to_owned();
    let mut pages = 0;
    loop {
        let answer = desk.get(&path, &desk.operator).await;
        assert_eq!(answer.status, StatusCode::OK, "{:#}", answer.body);
        pages += 1;
        if pages == 1 {
            let data = &answer.body["data"];
            let shape = json!({
                "status": answer.status.as_u16(),
                "ok": answer.body["ok"],
                "contractVersion": answer.body["contractVersion"],
                "pageLength": data["disputes"].as_array().unwrap().len(),
                "nextCursor": data["nextCursor"],
                "first": data["disputes"][0],
            });
            insta::assert_snapshot!(
                "list_first_page",
                serde_json::to_string_pretty(&redact(&shape)).unwrap()
            );
            // A dispute opened while paging lands before the cursor and shifts nothing.
            desk.open(request_for("cmp_late")).await;
        }
        let page = answer.body["data"]["disputes"].as_array().unwrap().clone();
        seen.extend(page.iter().map(|d| d["id"].as_str().unwrap().to_owned()));
        match answer.body["data"]["nextCursor"].as_str() {
            Some(cursor) => path = format!("/v1/disputes?limit=10&cursor={cursor}"),
            None => break,
        }
    }
    ids.reverse();
    assert_eq!(seen, ids, "every dispute once, newest first");
    assert_eq!(pages, 3);

    let withdrawn = desk
        .get("/v1/disputes?status=withdrawn", &desk.operator)
        .await;
    let only: Vec<_> = withdrawn.body["data"]["disputes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].clone())
        .collect();
    assert_eq!(only, vec![json!(ids[21])]);
    let by_campaign = desk
        .get("/v1/disputes?campaignId=cmp_07", &desk.operator)
        .await;
    assert_eq!(
        by_campaign.body["data"]["disputes"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let future = desk
        .get(
            "/v1/disputes?openedAfter=2999-01-01T00:00:00Z",
            &desk.operator,
        )
        .await;
    assert_eq!(future.body["data"]["disputes"], json!([]));
    assert_eq!(future.body["data"]["nextCursor"], Value::Null);
    let past = desk
        .get(
            "/v1/disputes?openedBefore=2000-01-01T00:00:00Z",
            &desk.operator,
        )
        .await;
    assert_eq!(past.body["data"]["disputes"], json!([]));

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("status=lost", "status"),
        ("cursor=not-a-cursor", "cursor"),
        ("openedAfter=yesterday", "openedAfter"),
    ] {
        let answer = desk
            .get(&format!("/v1/disputes?{query}"), &desk.operator)
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(error_code(&answer), "validation_failed", "{query}");
        assert_eq!(
            answer.body["error"]["details"][0]["field"], field,
            "{query}"
        );
    }
}

async fn another_tenant_sees_nothing_and_changes_nothing(store: Store) {
    let desk = desk(store).await;
    let id = desk.open(seed_request()).await;
    let before = desk.dispute(&id).await;
    let intruder = desk.server.tenant_with_key("globex", "operator", "dev_x");
    let read = desk.get(&format!("/v1/disputes/{id}"), &intruder).await;
    assert_eq!(read.status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&read), "not_found");
    snapshot!("error_not_found", read);
    for action in ["operator-response", "resolve", "notes"] {
        let body = json!({ "notes": "mine now", "outcome": "denied" });
        let answer = desk
            .post(&format!("/v1/disputes/{id}/{action}"), &intruder, body)
            .await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{action}");
    }
    let list = desk.get("/v1/disputes", &intruder).await;
    assert_eq!(list.body["data"]["disputes"], json!([]));
    assert_eq!(desk.dispute(&id).await, before);
}

async fn roles_and_keys_are_enforced(store: Store) {
    let desk = desk(store).await;
    let id = desk.open(seed_request()).await;
    let before = desk.dispute(&id).await;

    let wrong_role = desk
        .post(
            &format!("/v1/disputes/{id}/operator-response"),
            &desk.advertiser,
            json!({ "notes": "" }),
        )
        .await;
    assert_eq!(wrong_role.status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&wrong_role), "forbidden_role");
    snapshot!("error_forbidden_role", wrong_role);

    let resolve = desk
        .post(
            &format!("/v1/disputes/{id}/resolve"),
            &desk.advertiser,
            json!({ "outcome": "granted" }),
        )
        .await;
    assert_eq!(resolve.status, StatusCode::FORBIDDEN);

    let mut as_advertiser = request_for("cmp_other");
    as_advertiser["openedByRole"] = json!("advertiser");
    let answer = desk
        .post("/v1/disputes", &desk.operator, as_advertiser)
        .await;
    assert_eq!(
        answer.status,
        StatusCode::FORBIDDEN,
        "the claimed role must be the key's"
    );

    let no_key = desk
        .server
        .call(Method::GET, &format!("/v1/disputes/{id}"), None, None)
        .await;
    assert_eq!(no_key.status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&no_key), "unauthorized");
    assert_eq!(no_key.headers["www-authenticate"], "Bearer");
    snapshot!("error_unauthorized", no_key);

    let forged = format!("{}x", &desk.advertiser);
    let bad_key = desk.get(&format!("/v1/disputes/{id}"), &forged).await;
    assert_eq!(bad_key.status, StatusCode::UNAUTHORIZED);
    let no_key_post = desk
        .server
        .call(Method::POST, "/v1/disputes", None, Some(seed_request()))
        .await;
    assert_eq!(no_key_post.status, StatusCode::UNAUTHORIZED);

    // Scopes, as the vendor's keys have them: `audit:read` reads, `settlement:write` changes.
    assert!(desk.operator.starts_with("sk_live_"), "{}", desk.operator);
    let issue = |role: &str, scopes: &[&str]| {
        let mut args = vec!["key", "create", "--tenant", "acme-media", "--role", role];
        for scope in scopes {
            args.extend(["--scope", scope]);
        }
        desk.server.cli(&args).trim().to_owned()
    };
    let scoped = |scopes: &[&str]| issue("operator", scopes);
    let reader = scoped(&["audit:read"]);
    assert_eq!(
        desk.get(&format!("/v1/disputes/{id}"), &reader)
            .await
            .status,
        StatusCode::OK
    );
    let note = json!({ "notes": "looked at it" });
    let refused = desk
        .post(&format!("/v1/disputes/{id}/notes"), &reader, note.clone())
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&refused), "insufficient_scope");
    snapshot!("error_insufficient_scope", refused);
    let writer = scoped(&["settlement:write"]);
    let unread = desk.get("/v1/disputes", &writer).await;
    assert_eq!(unread.status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&unread), "insufficient_scope");
    let everything = scoped(&["*"]);
    assert_eq!(
        desk.get("/v1/disputes", &everything).await.status,
        StatusCode::OK
    );
    // The vendor's role names: a reviewer reads only, an admin does everything.
    let reviewer = issue("tenant_reviewer", &[]);
    assert_eq!(
        desk.get("/v1/disputes", &reviewer).await.status,
        StatusCode::OK
    );
    let refused = desk
        .post(&format!("/v1/disputes/{id}/notes"), &reviewer, note.clone())
        .await;
    assert_eq!(error_code(&refused), "insufficient_scope");
    let admin = issue("tenant_admin", &[]);
    assert_eq!(
        desk.get("/v1/disputes", &admin).await.status,
        StatusCode::OK
    );
    // A key from before `sk_live_` (`dk_…`) still works.
    let old_style = desk.operator.replacen("sk_live_", "dk_", 1);
    assert_eq!(
        desk.get(&format!("/v1/disputes/{id}"), &old_style)
            .await
            .status,
        StatusCode::OK
    );

    assert_eq!(desk.dispute(&id).await, before);
}

async fn an_operator_may_open_as_operator_but_not_answer_itself(store: Store) {
    let desk = desk(store).await;
    let mut body = request_for("cmp_op");
    body["openedByRole"] = json!("operator");
    let answer = desk.post("/v1/disputes", &desk.operator, body).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{:#}", answer.body);
    assert_eq!(answer.body["data"]["dispute"]["openedByRole"], "operator");
    let id = answer.body["data"]["dispute"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let respond = desk
        .post(
            &format!("/v1/disputes/{id}/operator-response"),
            &desk.operator,
            json!({ "notes": "" }),
        )
        .await;
    assert_eq!(respond.status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&respond), "opener_cannot_respond");
    snapshot!("error_opener_cannot_respond", respond);
}

async fn bad_requests_are_answered_in_the_envelope_and_store_nothing(store: Store) {
    let desk = desk(store).await;
    let count = || async {
        desk.get("/v1/disputes?limit=100", &desk.advertiser)
            .await
            .body["data"]["disputes"]
            .as_array()
            .unwrap()
            .len()
    };

    let malformed = desk
        .server
        .raw(
            Method::POST,
            "/v1/disputes",
            Some(&desk.advertiser),
            "application/json",
            b"{\"disputedPeriod\": ".to_vec(),
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&malformed), "malformed_json");
    snapshot!("error_malformed_json", malformed);

    let wrong_type = desk
        .server
        .raw(
            Method::POST,
            "/v1/disputes",
            Some(&desk.advertiser),
            "text/plain",
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(wrong_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(error_code(&wrong_type), "unsupported_media_type");
    snapshot!("error_unsupported_media_type", wrong_type);

    let wrong_shape = desk
        .post(
            "/v1/disputes",
            &desk.advertiser,
            json!({ "affectedSurface": { "screenIds": "scr_1" } }),
        )
        .await;
    assert_eq!(wrong_shape.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&wrong_shape), "invalid_body");
    snapshot!("error_invalid_body", wrong_shape);

    let empty = desk.post("/v1/disputes", &desk.advertiser, json!({})).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&empty), "validation_failed");
    let fields: Vec<_> = empty.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].clone())
        .collect();
    assert_eq!(
        fields,
        vec![
            json!("disputedPeriod"),
            json!("affectedSurface"),
            json!("claimedShortfall")
        ]
    );
    snapshot!("error_validation_failed", empty);

    let mut no_evidence = seed_request();
    no_evidence["evidenceBundle"] = json!({ "attachmentRefs": ["att_1"], "proofPackIds": [] });
    let answer = desk
        .post("/v1/disputes", &desk.advertiser, no_evidence)
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&answer), "evidence_required");
    snapshot!("error_evidence_required", answer);
    let mut no_bundle = seed_request();
    no_bundle.as_object_mut().unwrap().remove("evidenceBundle");
    let answer = desk.post("/v1/disputes", &desk.advertiser, no_bundle).await;
    assert_eq!(error_code(&answer), "evidence_required");

    let cases: [(&str, Mutation, &str); 10] = [
        (
            "inverted period",
            |b| b["disputedPeriod"]["end"] = json!("2026-09-01T00:00:00Z"),
            "invalid_period",
        ),
        (
            "empty period",
            |b| b["disputedPeriod"]["end"] = b["disputedPeriod"]["start"].clone(),
            "invalid_period",
        ),
        (
            "bad time",
            |b| b["disputedPeriod"]["start"] = json!("1 October"),
            "validation_failed",
        ),
        (
            "no screens",
            |b| b["affectedSurface"]["screenIds"] = json!([]),
            "validation_failed",
        ),
        (
            "a screen twice",
            |b| b["affectedSurface"]["screenIds"] = json!(["scr_1", "scr_2", "scr_1"]),
            "validation_failed",
        ),
        (
            "zero amount",
            |b| b["claimedShortfall"]["amount"] = json!("0"),
            "invalid_amount",
        ),
        (
            "negative amount",
            |b| b["claimedShortfall"]["amount"] = json!(-5),
            "invalid_amount",
        ),
        (
            "text amount",
            |b| b["claimedShortfall"]["amount"] = json!("lots"),
            "validation_failed",
        ),
        (
            "bad unit",
            |b| b["claimedShortfall"]["unit"] = json!("Euro's"),
            "validation_failed",
        ),
        (
            "no campaign",
            |b| b["affectedSurface"]["campaignId"] = json!(""),
            "validation_failed",
        ),
    ];
    for (name, mutate, code) in cases {
        let mut body = seed_request();
        mutate(&mut body);
        let answer = desk.post("/v1/disputes", &desk.advertiser, body).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{name}: {:#}",
            answer.body
        );
        assert_eq!(error_code(&answer), code, "{name}");
    }

    let too_large = desk
        .server
        .raw(
            Method::POST,
            "/v1/disputes",
            Some(&desk.advertiser),
            "application/json",
            vec![b' '; 1024 * 1024 + 1],
        )
        .await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(&too_large), "payload_too_large");
    snapshot!("error_payload_too_large", too_large);

    assert_eq!(count().await, 0, "no rejected opening stored anything");

    // Rejected changes to an existing dispute store nothing either.
    let id = desk.open(seed_request()).await;
    let before = desk.dispute(&id).await;
    for (path, key, body) in [
        (
            "resolve",
            &desk.operator,
            json!({ "outcome": "partially_granted", "settledAmount": "99999" }),
        ),
        ("resolve", &desk.operator, json!({ "outcome": "maybe" })),
        (
            "operator-response",
            &desk.operator,
            json!({ "proposedRemedy": { "amount": "-1" } }),
        ),
        (
            "operator-response",
            &desk.operator,
            json!({ "proposedRemedy": {} }),
        ),
        (
            "advertiser-response",
            &desk.advertiser,
            json!({ "decision": "perhaps" }),
        ),
        ("notes", &desk.advertiser, json!({ "notes": "" })),
    ] {
        let answer = desk
            .post(&format!("/v1/disputes/{id}/{path}"), key, body.clone())
            .await;
        assert!(
            answer.status.is_client_error(),
            "{path} {body}: {}",
            answer.status
        );
        assert_eq!(answer.body["ok"], json!(false));
    }
    assert_eq!(desk.dispute(&id).await, before);
    assert_eq!(count().await, 1);
}

async fn unknown_routes_methods_and_ids_are_answered_in_the_envelope(store: Store) {
    let desk = desk(store).await;
    let route = desk.get("/v1/nothing-here", &desk.advertiser).await;
    assert_eq!(route.status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&route), "route_not_found");
    snapshot!("error_route_not_found", route);

    let method = desk
        .server
        .call(Method::DELETE, "/v1/disputes", Some(&desk.advertiser), None)
        .await;
    assert_eq!(method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(error_code(&method), "method_not_allowed");
    snapshot!("error_method_not_allowed", method);

    for id in ["999999", "abc", "-1", "0"] {
        let answer = desk
            .get(&format!("/v1/disputes/{id}"), &desk.advertiser)
            .await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{id}");
        assert_eq!(error_code(&answer), "not_found");
    }
}

async fn disputes_survive_a_restart(store: Store) {
    let mut desk = desk(store).await;
    let id = desk.open(seed_request()).await;
    desk.post(
        &format!("/v1/disputes/{id}/notes"),
        &desk.operator,
        json!({ "notes": "kept" }),
    )
    .await;
    let before = desk.dispute(&id).await;
    desk.server.restart().await;
    assert_eq!(desk.dispute(&id).await, before);
}

async fn health_and_readiness_answer(store: Store) {
    let server = Server::start(store).await;
    let client = reqwest::Client::new();
    for path in ["/healthz", "/readyz"] {
        let answer = client
            .get(format!("{}{path}", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::OK, "{path}");
    }
}

/// Moves `id` along the transition route as `key`, asserting it lands in `state`.
async fn transition(desk: &Desk, id: &str, key: &str, body: Value, state: &str) -> Answer {
    let answer = desk
        .post(&format!("/v1/disputes/{id}/transition"), key, body)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{:#}", answer.body);
    assert_eq!(answer.body["data"]["dispute"]["state"], state);
    answer
}

async fn the_vendors_walk_goes_from_opened_to_resolved(store: Store) {
    let desk = desk(store).await;
    let id = desk.open(seed_request()).await;
    assert!(id.starts_with("dispute:"), "{id}");
    assert_eq!(desk.dispute(&id).await["state"], "OPENED");
    let (adv, op) = (&desk.advertiser, &desk.operator);
    transition(
        &desk,
        &id,
        op,
        json!({ "toState": "INVESTIGATING", "notes": "Looking." }),
        "INVESTIGATING",
    )
    .await;
    transition(
        &desk,
        &id,
        op,
        json!({ "toState": "EVIDENCE_GATHERED" }),
        "EVIDENCE_GATHERED",
    )
    .await;
    let responded = transition(
        &desk,
        &id,
        op,
        json!({
            "toState": "OPERATOR_RESPONDED",
            "operatorResponse": {
                "stance": "PARTIAL",
                "proposedRemedy": { "amount": "6000" },
                "notes": "Two screens were dark on 3 October."
            }
        }),
        "OPERATOR_RESPONDED",
    )
    .await;
    snapshot!("transition_operator_responded", responded);
    let answered = transition(
        &desk,
        &id,
        adv,
        json!({
            "toState": "ADVERTISER_RESPONDED",
            "advertiserResponse": { "stance": "ACCEPT", "notes": "Fine." },
            "actor": "jane@acme-media"
        }),
        "ADVERTISER_RESPONDED",
    )
    .await;
    let dispute = &answered.body["data"]["dispute"];
    assert_eq!(dispute["status"], "accepted");
    assert_eq!(dispute["advertiserResponse"]["by"], "jane@acme-media");
    assert_eq!(dispute["advertiserResponse"]["decision"], "accept");
    let resolved = desk
        .post(
            &format!("/v1/disputes/{id}/resolve"),
            op,
            json!({ "outcome": "partially_granted", "settledAmount": "6000" }),
        )
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{:#}", resolved.body);
    assert_eq!(resolved.body["data"]["dispute"]["state"], "RESOLVED");
    let kinds = resolved.body["data"]["dispute"]["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    assert_eq!(
        kinds,
        [
            "opened",
            "investigating",
            "evidence_gathered",
            "responded",
            "accepted",
            "settled"
        ]
    );

    // The list filters to one state and counts every state of the rest of its filters.
    desk.open(request_for("cmp_other")).await;
    let listed = desk.get("/v1/disputes?state=RESOLVED", op).await;
    assert_eq!(listed.status, StatusCode::OK, "{:#}", listed.body);
    let data = &listed.body["data"];
    assert_eq!(data["disputes"].as_array().unwrap().len(), 1);
    assert_eq!(data["disputes"][0]["id"], json!(id));
    assert_eq!(data["total"], 1);
    insta::assert_snapshot!(
        "list_counts",
        serde_json::to_string_pretty(&json!({ "total": data["total"], "counts": data["counts"] }))
            .unwrap()
    );
    let all = desk.get("/v1/disputes?limit=1", op).await;
    assert_eq!(all.body["data"]["total"], 2, "over every page");
    let both = desk.get("/v1/disputes?state=OPENED&status=open", op).await;
    assert_eq!(both.body["data"]["total"], 1, "{:#}", both.body);
    let neither = desk
        .get("/v1/disputes?state=RESOLVED&status=open", op)
        .await;
    assert_eq!(neither.status, StatusCode::OK);
    assert_eq!(
        neither.body["data"]["total"], 0,
        "a status outside the state"
    );
    assert_eq!(neither.body["data"]["disputes"], json!([]));
    assert_eq!(neither.body["data"]["counts"]["RESOLVED"], 1);
    let lower = desk.get("/v1/disputes?state=opened", op).await;
    assert_eq!(lower.status, StatusCode::BAD_REQUEST);
    // The bare number this contract answered before still names the dispute.
    let bare = id.trim_start_matches("dispute:");
    assert_eq!(desk.dispute(bare).await["id"], json!(id));
}

async fn an_escalated_dispute_returns_to_negotiation_or_resolves(store: Store) {
    let desk = desk(store).await;
    let (adv, op) = (&desk.advertiser, &desk.operator);
    let id = desk.open(seed_request()).await;
    let escalate = |key: &str| {
        let path = format!("/v1/disputes/{id}/escalate");
        let key = key.to_owned();
        let desk = &desk;
        async move {
            desk.post(&path, &key, json!({ "notes": "To mediation." }))
                .await
        }
    };
    let escalated = escalate(adv).await;
    assert_eq!(escalated.status, StatusCode::OK, "{:#}", escalated.body);
    assert_eq!(escalated.body["data"]["dispute"]["state"], "ESCALATED");
    snapshot!("escalate", escalated);
    let twice = escalate(op).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert_eq!(error_code(&twice), "illegal_transition");

    // Back to negotiation: a fresh operator response.
    transition(
        &desk,
        &id,
        op,
        json!({
            "toState": "OPERATOR_RESPONDED",
            "operatorResponse": { "stance": "REJECT", "proposedRemedy": { "amount": "0" } }
        }),
        "OPERATOR_RESPONDED",
    )
    .await;
    let again = escalate(op).await;
    assert_eq!(again.body["data"]["dispute"]["state"], "ESCALATED");
    let resolved = desk
        .post(
            &format!("/v1/disputes/{id}/resolve"),
            op,
            json!({ "outcome": "denied", "notes": "Mediator sided with the operator." }),
        )
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{:#}", resolved.body);
    assert_eq!(resolved.body["data"]["dispute"]["state"], "RESOLVED");
    let final_ = escalate(adv).await;
    assert_eq!(final_.status, StatusCode::CONFLICT);
    assert_eq!(error_code(&final_), "dispute_final");
}

async fn transitions_the_state_does_not_allow_are_refused_and_change_nothing(store: Store) {
    let desk = desk(store).await;
    let (adv, op) = (&desk.advertiser, &desk.operator);
    let id = desk.open(seed_request()).await;
    let before = desk.dispute(&id).await;
    let path = format!("/v1/disputes/{id}/transition");
    let cases: [(&str, &String, Value, StatusCode, &str); 9] = [
        (
            "advertiser before a response",
            adv,
            json!({ "toState": "ADVERTISER_RESPONDED", "advertiserResponse": { "stance": "ACCEPT" } }),
            StatusCode::CONFLICT,
            "illegal_transition",
        ),
        (
            "a terminal state",
            op,
            json!({ "toState": "RESOLVED" }),
            StatusCode::CONFLICT,
            "illegal_transition",
        ),
        (
            "back to the start",
            op,
            json!({ "toState": "OPENED" }),
            StatusCode::CONFLICT,
            "illegal_transition",
        ),
        (
            "no such state",
            op,
            json!({ "toState": "DONE" }),
            StatusCode::BAD_REQUEST,
            "validation_failed",
        ),
        (
            "no state",
            op,
            json!({}),
            StatusCode::BAD_REQUEST,
            "validation_failed",
        ),
        (
            "no response",
            op,
            json!({ "toState": "OPERATOR_RESPONDED" }),
            StatusCode::BAD_REQUEST,
            "validation_failed",
        ),
        (
            "no remedy",
            op,
            json!({ "toState": "OPERATOR_RESPONDED", "operatorResponse": { "stance": "ACCEPT" } }),
            StatusCode::BAD_REQUEST,
            "validation_failed",
        ),
        (
            "no such stance",
            op,
            json!({ "toState": "OPERATOR_RESPONDED", "operatorResponse": { "stance": "MAYBE", "proposedRemedy": { "amount": "1" } } }),
            StatusCode::BAD_REQUEST,
            "validation_failed",
        ),
        (
            "the operator's leg by the advertiser",
            adv,
            json!({ "toState": "INVESTIGATING" }),
            StatusCode::FORBIDDEN,
            "forbidden_role",
        ),
    ];
    for (case, key, body, status, code) in cases {
        let answer = desk.post(&path, key, body).await;
        assert_eq!(answer.status, status, "{case}: {:#}", answer.body);
        assert_eq!(error_code(&answer), code, "{case}");
        if case == "a terminal state" {
            snapshot!("error_transition_to_resolved", answer);
        }
    }
    let resolve = desk
        .post(
            &format!("/v1/disputes/{id}/resolve"),
            op,
            json!({ "outcome": "denied" }),
        )
        .await;
    assert_eq!(
        resolve.status,
        StatusCode::CONFLICT,
        "resolve needs an advertiser's answer"
    );
    assert_eq!(error_code(&resolve), "illegal_transition");
    assert_eq!(desk.dispute(&id).await, before);
}

async fn only_the_opener_withdraws(store: Store) {
    let desk = desk(store).await;
    let id = desk.open(seed_request()).await;
    let path = format!("/v1/disputes/{id}/withdraw");
    let before = desk.dispute(&id).await;
    let other = desk
        .post(&path, &desk.advertiser, json!({ "actor": "dev_adv_99" }))
        .await;
    assert_eq!(
        other.status,
        StatusCode::PRECONDITION_FAILED,
        "{:#}",
        other.body
    );
    assert_eq!(error_code(&other), "not_opener");
    snapshot!("error_not_opener", other);
    let colleague = desk.server.key("acme-media", "advertiser", "dev_adv_43");
    let by_colleague = desk.post(&path, &colleague, json!({})).await;
    assert_eq!(by_colleague.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(desk.dispute(&id).await, before);
    let own = desk
        .post(
            &path,
            &desk.advertiser,
            json!({ "actor": "dev_adv_42", "notes": "Sorted." }),
        )
        .await;
    assert_eq!(own.status, StatusCode::OK, "{:#}", own.body);
    assert_eq!(own.body["data"]["dispute"]["state"], "WITHDRAWN");
}

async fn the_vendors_resolution_kinds_settle_and_adjust_by_party(store: Store) {
    let desk = desk(store).await;
    let op = &desk.operator;
    let mut linked = request_for("cmp_adjusted");
    linked["evidenceBundle"]["settlementApplicationIds"] = json!(["sa_2026_10"]);
    let id = desk.open(linked).await;
    desk.accepted(&id).await;
    let path = format!("/v1/disputes/{id}/resolve");
    let before = desk.dispute(&id).await;
    let refusals = [
        (json!({ "kind": "CREDIT_ISSUED" }), "creditNoteId"),
        (
            json!({ "kind": "MAKEGOOD_DELIVERED" }),
            "makegoodCampaignId",
        ),
        (json!({ "kind": "SETTLEMENT_ADJUSTMENT" }), "adjustments"),
        (
            json!({ "kind": "SETTLEMENT_ADJUSTMENT", "adjustments": {} }),
            "adjustments",
        ),
        (
            json!({ "kind": "SETTLEMENT_ADJUSTMENT", "adjustments": { "NOBODY": 1 } }),
            "adjustments.NOBODY",
        ),
        (
            json!({ "kind": "SETTLEMENT_ADJUSTMENT", "adjustments": { "VENUE": 1.5 } }),
            "adjustments.VENUE",
        ),
        (
            json!({ "kind": "NO_CREDIT", "adjustments": { "VENUE": 1 } }),
            "adjustments",
        ),
        (json!({ "kind": "OTHER" }), "outcome"),
        (
            json!({ "kind": "NO_CREDIT", "outcome": "granted" }),
            "outcome",
        ),
        (json!({ "kind": "credit_issued" }), "kind"),
        (json!({}), "outcome"),
    ];
    for (body, field) in refusals {
        let answer = desk.post(&path, op, body.clone()).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{body}: {:#}",
            answer.body
        );
        assert_eq!(answer.body["error"]["details"][0]["field"], field, "{body}");
    }
    assert_eq!(
        desk.dispute(&id).await,
        before,
        "a refused resolve changes nothing"
    );

    let adjusted = desk
        .post(
            &path,
            op,
            json!({
                "kind": "SETTLEMENT_ADJUSTMENT",
                "adjustments": { "VENUE": -125000, "TENANT": 125000 },
                "notes": "Two screens were dark.",
                "actor": "ops@acme-media"
            }),
        )
        .await;
    assert_eq!(adjusted.status, StatusCode::OK, "{:#}", adjusted.body);
    let resolution = &adjusted.body["data"]["dispute"]["resolution"];
    assert_eq!(resolution["outcome"], "granted");
    assert_eq!(resolution["resolvedBy"], "ops@acme-media");
    assert_eq!(resolution["overrideApplied"], false);
    assert_eq!(resolution["overrideSkipped"], "no_settlement_ledger");
    assert_eq!(resolution["originalApplicationId"], "sa_2026_10");
    snapshot!("resolve_settlement_adjustment", adjusted);
    assert_eq!(
        desk.dispute(&id).await["resolution"],
        *resolution,
        "as stored"
    );

    let other = desk.open(request_for("cmp_no_credit")).await;
    desk.accepted(&other).await;
    let denied = desk
        .post(
            &format!("/v1/disputes/{other}/resolve"),
            op,
            json!({ "kind": "NO_CREDIT" }),
        )
        .await;
    let resolution = &denied.body["data"]["dispute"]["resolution"];
    assert_eq!(resolution["outcome"], "denied", "{:#}", denied.body);
    assert_eq!(resolution["settledAmount"], "0");
    assert_eq!(resolution["kind"], "NO_CREDIT");
    assert_eq!(resolution["overrideApplied"], Value::Null);
}

store_tests! {
    the_seed_request_opens_a_dispute,
    opened_by_defaults_to_the_keys_developer_and_amounts_stay_exact,
    respond_accept_and_resolve_in_full,
    reject_goes_under_review_and_settles_in_part,
    withdraw_is_final_and_notes_append_to_the_timeline,
    an_illegal_transition_is_a_409_with_a_stable_code_and_changes_nothing,
    a_second_open_dispute_for_the_same_subject_is_refused,
    list_filters_and_pages_by_cursor,
    another_tenant_sees_nothing_and_changes_nothing,
    roles_and_keys_are_enforced,
    an_operator_may_open_as_operator_but_not_answer_itself,
    bad_requests_are_answered_in_the_envelope_and_store_nothing,
    unknown_routes_methods_and_ids_are_answered_in_the_envelope,
    disputes_survive_a_restart,
    health_and_readiness_answer,
    the_vendors_walk_goes_from_opened_to_resolved,
    an_escalated_dispute_returns_to_negotiation_or_resolves,
    transitions_the_state_does_not_allow_are_refused_and_change_nothing,
    only_the_opener_withdraws,
    the_vendors_resolution_kinds_settle_and_adjust_by_party,
}
