//! Evidence is sealed at open and the timeline is hash-chained: a dispute edited in the database
//! behind the engine's back fails `verify`.

mod support;

use disputes_domain::{DisputeId, TenantId, TimelineError};
use disputes_ports::DisputeRepository;
use disputes_sqlite::SqliteStore;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::Server;

struct Opened {
    server: Server,
    id: DisputeId,
    dispute: Value,
}

async fn opened_with_history() -> Opened {
    let server = Server::start().await;
    let advertiser = server.tenant_with_key("acme-media", "advertiser", "dev_adv");
    let operator = server.key("acme-media", "operator", "dev_op");
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
        id: id.parse().unwrap(),
        dispute: read.body["data"]["dispute"].clone(),
    }
}

async fn stored(store: &SqliteStore, id: DisputeId) -> disputes_domain::Dispute {
    store
        .get(&TenantId::new("acme-media").unwrap(), id)
        .await
        .unwrap()
        .expect("the dispute is stored")
}

#[tokio::test]
async fn the_stored_evidence_matches_its_digest_and_never_changes() {
    let opened = opened_with_history().await;
    let store = SqliteStore::connect(&opened.server.database_url)
        .await
        .unwrap();
    let dispute = stored(&store, opened.id).await;
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

/// Drops the store's append-only guards, as someone with the database file could.
async fn drop_guards(store: &SqliteStore) {
    for trigger in [
        "timeline_entries_are_never_updated",
        "timeline_entries_are_never_deleted",
    ] {
        sqlx::query(&format!("DROP TRIGGER {trigger}"))
            .execute(store.pool())
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn the_store_refuses_edits_of_history() {
    let opened = opened_with_history().await;
    let store = SqliteStore::connect(&opened.server.database_url)
        .await
        .unwrap();
    for edit in [
        "UPDATE timeline_entries SET notes = 'x'",
        "DELETE FROM timeline_entries",
        "UPDATE disputes SET evidence_canonical = 'x', evidence_digest = 'x'",
    ] {
        assert!(
            sqlx::query(edit).execute(store.pool()).await.is_err(),
            "{edit} was allowed"
        );
    }
    stored(&store, opened.id).await.verify().unwrap();
}

#[tokio::test]
async fn an_edited_entry_is_detected() {
    let opened = opened_with_history().await;
    let store = SqliteStore::connect(&opened.server.database_url)
        .await
        .unwrap();
    drop_guards(&store).await;
    sqlx::query(
        "UPDATE timeline_entries SET notes = 'nothing to see' WHERE dispute_id = ? AND seq = 2",
    )
    .bind(opened.id.get())
    .execute(store.pool())
    .await
    .unwrap();
    assert_eq!(
        stored(&store, opened.id).await.verify(),
        Err(TimelineError::Altered { seq: 2 })
    );
}

#[tokio::test]
async fn a_removed_entry_is_detected_in_the_middle_or_at_the_end() {
    for (seq, expected) in [
        (2, TimelineError::Broken { seq: 3 }),
        (3, TimelineError::Truncated),
    ] {
        let opened = opened_with_history().await;
        let store = SqliteStore::connect(&opened.server.database_url)
            .await
            .unwrap();
        drop_guards(&store).await;
        sqlx::query("DELETE FROM timeline_entries WHERE dispute_id = ? AND seq = ?")
            .bind(opened.id.get())
            .bind(seq)
            .execute(store.pool())
            .await
            .unwrap();
        assert_eq!(stored(&store, opened.id).await.verify(), Err(expected));
    }
}
