//! Evidence is sealed at open and the timeline is hash-chained: a dispute edited in the database
//! behind the engine's back fails `verify`.

mod support;

use disputes_domain::{DisputeId, TimelineError};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{store_tests, Server, Store};

const TENANT: &str = "acme-media";

struct Opened {
    server: Server,
    id: DisputeId,
    dispute: Value,
}

async fn opened_with_history(store: Store) -> Opened {
    let server = Server::start(store).await;
    let advertiser = server.tenant_with_key(TENANT, "advertiser", "dev_adv");
    let operator = server.key(TENANT, "operator", "dev_op");
    let body = json!({
        "disputedPeriod": { "start": "2026-10-01T00:00:00Z", "end": "2026-10-08T00:00:00Z" },
        "affectedSurface": { "campaignId": "cmp_1", "screenIds": ["scr_1"] },
        "claimedShortfall": { "unit": "plays", "amount": "300" },
        "evidenceBundle": { "proofPackIds": ["pp_1"], "attachmentRefs": ["att_1"] }
    });
    let open = server
        .call(Method::POST, "/v1/disputes", Some(&advertiser), Some(body))
        .await;
    assert_eq!(open.status, StatusCode::CREATED);
    let id = open.body["data"]["dispute"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (path, body) in [
        ("notes", json!({ "notes": "first look" })),
        ("operator-response", json!({ "notes": "delivered in full" })),
    ] {
        let answer = server
            .call(
                Method::POST,
                &format!("/v1/disputes/{id}/{path}"),
                Some(&operator),
                Some(body),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{:#}", answer.body);
    }
    let read = server
        .call(
            Method::GET,
            &format!("/v1/disputes/{id}"),
            Some(&operator),
            None,
        )
        .await;
    Opened {
        server,
        id: support::delivery_id(&id),
        dispute: read.body["data"]["dispute"].clone(),
    }
}

async fn the_stored_evidence_matches_its_digest_and_never_changes(store: Store) {
    let opened = opened_with_history(store).await;
    let dispute = opened.server.stored(TENANT, opened.id).await;
    dispute.verify().expect("an untouched dispute verifies");
    assert_eq!(dispute.evidence().digest(), dispute.evidence_digest());
    assert_eq!(
        opened.dispute["evidenceDigest"],
        json!(dispute.evidence_digest().to_hex()),
        "the wire shows the stored digest"
    );
    // Responses and notes came after the opening; the sealed bundle is as it was sent.
    assert_eq!(
        opened.dispute["evidenceBundle"],
        json!({
            "proofPackIds": ["pp_1"],
            "meteringSnapshotIds": [],
            "settlementApplicationIds": [],
            "attachmentRefs": ["att_1"],
            "auditorReportRef": null
        })
    );
}

async fn the_store_refuses_edits_of_history(store: Store) {
    let opened = opened_with_history(store).await;
    for edit in [
        "UPDATE timeline_entries SET notes = 'x'",
        "DELETE FROM timeline_entries",
        "UPDATE disputes SET evidence_canonical = 'x', evidence_digest = 'x'",
    ] {
        let refused = opened.server.sql(edit).await.expect_err(edit);
        assert!(
            refused.contains("append-only") || refused.contains("sealed"),
            "{edit}: {refused}"
        );
    }
    opened
        .server
        .stored(TENANT, opened.id)
        .await
        .verify()
        .unwrap();
}

async fn an_edited_entry_is_detected(store: Store) {
    let opened = opened_with_history(store).await;
    opened.server.drop_history_guards().await;
    let edit = format!(
        "UPDATE timeline_entries SET notes = 'nothing to see' WHERE dispute_id = {} AND seq = 2",
        opened.id
    );
    assert_eq!(opened.server.sql(&edit).await, Ok(1));
    assert_eq!(
        opened.server.stored(TENANT, opened.id).await.verify(),
        Err(TimelineError::Altered { seq: 2 })
    );
}

async fn a_removed_entry_is_detected_in_the_middle_or_at_the_end(store: Store) {
    for (seq, expected) in [
        (2, TimelineError::Broken { seq: 3 }),
        (3, TimelineError::Truncated),
    ] {
        let opened = opened_with_history(store).await;
        opened.server.drop_history_guards().await;
        let delete = format!(
            "DELETE FROM timeline_entries WHERE dispute_id = {} AND seq = {seq}",
            opened.id
        );
        assert_eq!(opened.server.sql(&delete).await, Ok(1));
        assert_eq!(
            opened.server.stored(TENANT, opened.id).await.verify(),
            Err(expected)
        );
    }
}

store_tests! {
    the_stored_evidence_matches_its_digest_and_never_changes,
    the_store_refuses_edits_of_history,
    an_edited_entry_is_detected,
    a_removed_entry_is_detected_in_the_middle_or_at_the_end,
}
