//! Evidence is sealed at open and the timeline is hash-chained, each entry sealing the dispute's
//! state as it left it: a dispute edited in the database behind the engine's back fails
//! `verify`, and no contract serves it or changes it.

mod support;

use disputes_domain::{Digest, DisputeId, Quantity, TimelineEntry, TimelineError};
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
        // Neither read nor extended: before, a write on a truncated chain was a bare 500.
        let operator = opened.server.key(TENANT, "operator", "dev_op2");
        let path = format!("/v1/disputes/dispute:{}", opened.id);
        let read = opened
            .server
            .call(Method::GET, &path, Some(&operator), None)
            .await;
        assert_eq!(integrity_refusal(&read), "integrity_violation");
        let note = opened
            .server
            .call(
                Method::POST,
                &format!("{path}/notes"),
                Some(&operator),
                Some(json!({ "notes": "on top" })),
            )
            .await;
        assert_eq!(integrity_refusal(&note), "integrity_violation");
    }
}

/// One direct edit of one column of the newest dispute, in each store's dialect (`{c}` is the
/// column). Amounts are NUMERIC in PostgreSQL and their exact text in SQLite; times TIMESTAMPTZ
/// and fixed-width text.
struct Edit {
    column: &'static str,
    postgres: &'static str,
    sqlite: &'static str,
}

const fn text(column: &'static str) -> Edit {
    Edit {
        column,
        postgres: "{c} || 'x'",
        sqlite: "{c} || 'x'",
    }
}

const fn amount(column: &'static str) -> Edit {
    Edit {
        column,
        postgres: "{c} + 1",
        sqlite: "CAST({c} + 1 AS TEXT)",
    }
}

const fn time(column: &'static str) -> Edit {
    Edit {
        column,
        postgres: "{c} + interval '1 second'",
        sqlite: "strftime('%Y-%m-%dT%H:%M:%S', {c}, '+1 second') || substr({c}, 20)",
    }
}

const fn set(column: &'static str, value: &'static str) -> Edit {
    Edit {
        column,
        postgres: value,
        sqlite: value,
    }
}

impl Edit {
    /// Applies the edit to the newest dispute; it must change exactly that row.
    async fn apply(&self, server: &Server) {
        let expression = match server.store {
            Store::Sqlite => self.sqlite,
            Store::Postgres => self.postgres,
        }
        .replace("{c}", self.column);
        let statement = format!(
            "UPDATE disputes SET {} = {expression} WHERE id = (SELECT MAX(id) FROM disputes)",
            self.column
        );
        assert_eq!(server.sql(&statement).await, Ok(1), "{statement}");
    }
}

/// Every column a resolved delivery dispute fills that the delivery contract shows.
const DELIVERY_EDITS: &[Edit] = &[
    text("campaign_id"),
    text("substrate_id"),
    time("period_start"),
    time("period_end"),
    amount("claim_amount"),
    text("claim_unit"),
    text("opened_by_id"),
    time("opened_at"),
    set("status", "'withdrawn'"),
    set("version", "version + 1"),
    time("updated_at"),
    time("response_at"),
    text("response_by_id"),
    text("response_notes"),
    amount("remedy_amount"),
    time("makegood_start"),
    time("makegood_end"),
    time("reply_at"),
    text("reply_notes"),
    set("reply_decision", "'reject'"),
    set("resolution_outcome", "'denied'"),
    amount("settled_amount"),
    text("credit_note_id"),
    text("makegood_campaign_id"),
    text("settlement_adjustment_id"),
    text("resolved_by_id"),
    time("resolved_at"),
    text("resolution_notes"),
];

/// Opens a delivery dispute for `campaign` and takes it through a response with a remedy, an
/// acceptance and a resolution, so that every column of its row is filled.
async fn resolved_delivery(
    server: &Server,
    advertiser: &str,
    operator: &str,
    campaign: &str,
) -> String {
    let body = json!({
        "disputedPeriod": { "start": "2026-10-01T00:00:00Z", "end": "2026-10-08T00:00:00Z" },
        "affectedSurface": { "campaignId": campaign, "screenIds": ["scr_1"], "substrateId": "sub_1" },
        "claimedShortfall": { "unit": "plays", "amount": "300" },
        "evidenceBundle": { "proofPackIds": ["pp_1"] }
    });
    let open = server
        .call(Method::POST, "/v1/disputes", Some(advertiser), Some(body))
        .await;
    assert_eq!(open.status, StatusCode::CREATED, "{:#}", open.body);
    let id = open.body["data"]["dispute"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (key, path, body) in [
        (
            operator,
            "operator-response",
            json!({
                "notes": "Two screens were dark.",
                "proposedRemedy": {
                    "amount": "200",
                    "makegoodWindow": { "start": "2026-11-01T00:00:00Z", "end": "2026-11-08T00:00:00Z" }
                }
            }),
        ),
        (
            advertiser,
            "advertiser-response",
            json!({ "notes": "Agreed.", "decision": "accept" }),
        ),
        (
            operator,
            "resolve",
            json!({
                "outcome": "granted",
                "creditNoteId": "cn_1",
                "makegoodCampaignId": "cmp_mg_1",
                "settlementAdjustmentId": "adj_1",
                "notes": "Credited."
            }),
        ),
    ] {
        let answer = server
            .call(
                Method::POST,
                &format!("/v1/disputes/{id}/{path}"),
                Some(key),
                Some(body),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {:#}", answer.body);
    }
    id
}

/// The delivery contract's error code of `answer`, which must be a 500.
fn integrity_refusal(answer: &support::Answer) -> &str {
    assert_eq!(
        answer.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{:#}",
        answer.body
    );
    answer.body["error"]["code"].as_str().unwrap_or_default()
}

async fn every_fact_edited_alone_is_refused_by_reads_writes_and_lists(store: Store) {
    let server = Server::start(store).await;
    let advertiser = server.tenant_with_key(TENANT, "advertiser", "dev_adv");
    let operator = server.key(TENANT, "operator", "dev_op");
    for (n, edit) in DELIVERY_EDITS.iter().enumerate() {
        let id = resolved_delivery(&server, &advertiser, &operator, &format!("cmp_{n}")).await;
        let before = server.stored(TENANT, support::delivery_id(&id)).await;
        before.verify().expect("an untouched dispute verifies");
        edit.apply(&server).await;
        let stored = server.stored(TENANT, support::delivery_id(&id)).await;
        assert_eq!(
            stored.verify(),
            Err(TimelineError::StateAltered),
            "editing {} went unnoticed by verify",
            edit.column
        );
        let read = server
            .call(
                Method::GET,
                &format!("/v1/disputes/{id}"),
                Some(&operator),
                None,
            )
            .await;
        assert_eq!(
            integrity_refusal(&read),
            "integrity_violation",
            "GET after editing {}",
            edit.column
        );
        if n == 0 {
            // A page holding it is refused, not served without it: the store is damaged.
            let list = server
                .call(Method::GET, "/v1/disputes?limit=100", Some(&operator), None)
                .await;
            assert_eq!(integrity_refusal(&list), "integrity_violation");
        }
        // A change on top of it would seal the forgery: refused, and nothing appended.
        let note = server
            .call(
                Method::POST,
                &format!("/v1/disputes/{id}/notes"),
                Some(&operator),
                Some(json!({ "notes": "on top of a forgery" })),
            )
            .await;
        assert_eq!(
            integrity_refusal(&note),
            "integrity_violation",
            "a note after editing {}",
            edit.column
        );
        let after = server.stored(TENANT, support::delivery_id(&id)).await;
        assert_eq!(
            after.timeline().len(),
            before.timeline().len(),
            "{}",
            edit.column
        );
    }
    let metrics = server.send(Method::GET, "/metrics", None, &[], None).await;
    let counted = metrics
        .text
        .lines()
        .find_map(|line| line.strip_prefix("disputes_errors_total{code=\"integrity_violation\"} "))
        .and_then(|n| n.parse::<usize>().ok());
    let refusals = 2 * DELIVERY_EDITS.len() + 1;
    assert_eq!(counted, Some(refusals), "{}", metrics.text);
    let logged = server
        .log_lines()
        .iter()
        .filter(|line| line.contains("dispute failed integrity verification"))
        .count();
    assert!(logged >= refusals, "{logged} log lines");
}

async fn invoice_and_billing_facts_are_sealed_and_refused_in_their_own_shapes(store: Store) {
    let server = Server::start(store).await;
    server.tenant_with_owner("billink-shop", "Sanne Bakker", "sanne@shop.example");
    let billink_id = server.login("billink-shop", "client", "shop-api");
    server.cli(&["tenant", "create", "acme-telco"]);
    let password = server.login("acme-telco", "billing", "csr-acme");
    let billing = support::BILLING_BASE;
    for (n, edit) in [
        text("invoice"),
        text("customer_name"),
        text("customer_email"),
        time("hold_until"),
    ]
    .iter()
    .enumerate()
    {
        let opened = server
            .open_invoice("shop-api", &billink_id, &format!("INV-{n}"))
            .await;
        edit.apply(&server).await;
        let info =
            json!({ "id": opened["id"], "billinkUsername": "shop-api", "billinkId": billink_id });
        let read = server
            .call(Method::POST, "/v2/dispute/info", None, Some(info))
            .await;
        assert_eq!(
            read.status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{}: {:#}",
            edit.column,
            read.body
        );
        assert_eq!(read.body["error"], "integrity_violation", "{}", edit.column);
        assert_eq!(read.body["code"], 50002);
    }
    for (n, edit) in [text("item_id"), text("account_id"), amount("claim_amount")]
        .iter()
        .enumerate()
    {
        let id = server
            .open_billing_item(
                ("csr-acme", &password),
                &format!("item-{n}"),
                &format!("acct-{n}"),
            )
            .await;
        edit.apply(&server).await;
        let read = server
            .send(
                Method::GET,
                &format!("{billing}/disputes/{id}"),
                Some(("csr-acme", &password)),
                &[("accept", "application/json")],
                None,
            )
            .await;
        assert_eq!(
            read.status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{}: {}",
            edit.column,
            read.text
        );
        assert_eq!(
            read.json()["o:errorCode"],
            "integrity_violation",
            "{}",
            edit.column
        );
    }
}

/// The hash of `entry` in format v2 with `state`, written out as `docs/integrity.md` gives it:
/// what anyone can recompute, the attacker too.
fn v2_hash(entry: &TimelineEntry, state: Digest) -> Digest {
    let actor = entry.actor().id.as_str();
    let text = format!(
        "disputes-timeline/v2\n{}\n{}\n{}\n{}:{actor}\n{}\n{}:{}\n{}\n{state}\n",
        entry.seq(),
        entry.at().format("%Y-%m-%dT%H:%M:%S%.6fZ"),
        entry.actor().role,
        actor.len(),
        entry.kind(),
        entry.notes().len(),
        entry.notes(),
        entry.prev_hash(),
    );
    Digest::of(text.as_bytes())
}

async fn a_chain_recomputed_without_the_signing_key_is_detected(store: Store) {
    let opened = opened_with_history(store).await;
    let server = &opened.server;
    server.drop_history_guards().await;
    // The forgery of someone who can write to the store: a larger claim, the last entry's state
    // and hash recomputed, the head moved to it. The chain alone cannot tell.
    let stored = server.stored(TENANT, opened.id).await;
    let mut parts = stored.parts().clone();
    let unit = parts.claim.quantity.unit().clone();
    parts.claim.quantity = Quantity::new(999_999.into(), unit).unwrap();
    let state = parts.state_digest();
    let head = parts.timeline.last().unwrap().clone();
    let hash = v2_hash(&head, state);
    for statement in [
        format!(
            "UPDATE disputes SET claim_amount = '999999', timeline_head = '{hash}' WHERE id = {}",
            opened.id
        ),
        format!(
            "UPDATE timeline_entries SET state_digest = '{state}', hash = '{hash}' \
             WHERE dispute_id = {} AND seq = {}",
            opened.id,
            head.seq()
        ),
    ] {
        assert_eq!(server.sql(&statement).await, Ok(1), "{statement}");
    }
    let forged = server.stored(TENANT, opened.id).await;
    assert_eq!(
        forged.verify(),
        Ok(()),
        "the chain alone is consistent again"
    );
    assert_eq!(forged.claim().quantity.amount().to_string(), "999999");

    // Its seal signs the old hash, and no one without the key can make a new one.
    let operator = server.key(TENANT, "operator", "dev_op2");
    let path = format!("/v1/disputes/dispute:{}", opened.id);
    let read = server.call(Method::GET, &path, Some(&operator), None).await;
    assert_eq!(integrity_refusal(&read), "integrity_violation");
    let said = |what: &str| {
        server.log_lines().iter().any(|line| {
            line.contains("dispute failed integrity verification") && line.contains(what)
        })
    };
    assert!(said(&format!(
        "the seal of timeline entry {} is not valid",
        head.seq()
    )));

    // Without a seal, the head is refused as unsealed.
    let strip = format!(
        "UPDATE timeline_entries SET seal_key_id = NULL, seal_signature = NULL WHERE dispute_id = {}",
        opened.id
    );
    assert_eq!(server.sql(&strip).await, Ok(3));
    let read = server.call(Method::GET, &path, Some(&operator), None).await;
    assert_eq!(integrity_refusal(&read), "integrity_violation");
    assert!(said(&format!(
        "timeline entry {}, the dispute's head, is not sealed",
        head.seq()
    )));
}

async fn seals_survive_a_key_rotation_and_a_revocation_of_the_old_key(store: Store) {
    let mut opened = opened_with_history(store).await;
    let before = opened.server.stored(TENANT, opened.id).await;
    let old_key = before.timeline()[0].seal().expect("sealed").key_id.clone();
    let rotated = opened
        .server
        .cli(&["signing-key", "rotate", "--overlap-hours", "0"]);
    assert!(
        rotated.starts_with("sig_") && !rotated.starts_with(&old_key),
        "{rotated}"
    );
    opened.server.restart().await;

    let operator = opened.server.key(TENANT, "operator", "dev_op2");
    let path = format!("/v1/disputes/dispute:{}", opened.id);
    let note = opened
        .server
        .call(
            Method::POST,
            &format!("{path}/notes"),
            Some(&operator),
            Some(json!({ "notes": "after the rotation" })),
        )
        .await;
    assert_eq!(note.status, StatusCode::OK, "{:#}", note.body);
    let after = opened.server.stored(TENANT, opened.id).await;
    let keys: Vec<_> = after
        .timeline()
        .iter()
        .map(|e| e.seal().unwrap().key_id.clone())
        .collect();
    let new_key = keys.last().unwrap().clone();
    assert_ne!(new_key, old_key, "the new entry is sealed with the new key");
    assert!(keys[..keys.len() - 1].iter().all(|k| *k == old_key));

    // Revoking the old key leaves what it sealed before valid.
    let revoked = opened.server.cli(&["signing-key", "revoke", &old_key]);
    assert!(revoked.contains("revoked 2"), "{revoked}");
    let read = opened
        .server
        .call(Method::GET, &path, Some(&operator), None)
        .await;
    assert_eq!(read.status, StatusCode::OK, "{:#}", read.body);
    let listed = opened.server.cli(&["signing-key", "list"]);
    assert_eq!(listed.lines().count(), 2, "{listed}");
    // The key that signs now cannot be revoked before a successor exists.
    let refused = std::process::Command::new(support::binary())
        .args([
            "signing-key",
            "revoke",
            &new_key,
            "--database-url",
            &opened.server.database_url,
        ])
        .envs(opened.server.signing_env())
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("rotate first"));
}

/// Runs `disputes verify` with `args` on `server`'s database: whether it succeeded, and stdout.
fn verify(server: &Server, args: &[&str]) -> (bool, String) {
    let output = std::process::Command::new(support::binary())
        .arg("verify")
        .args(args)
        .args(["--database-url", &server.database_url])
        .envs(server.signing_env())
        .output()
        .expect("the cli runs");
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    (output.status.success(), stdout)
}

async fn verify_walks_every_tenant_and_names_each_failure(store: Store) {
    let opened = opened_with_history(store).await;
    let server = &opened.server;
    let other = server.tenant_with_key("other-media", "advertiser", "dev_other");
    server.open_delivery(&other, "cmp_other", "5").await;

    let (ok, out) = verify(server, &[]);
    assert!(ok, "{out}");
    assert!(out.contains("verified 2 disputes of 2 tenants"), "{out}");
    assert!(out.contains(": 0 failed"), "{out}");

    let edit = format!(
        "UPDATE disputes SET response_notes = 'we never said that' WHERE id = {}",
        opened.id
    );
    assert_eq!(server.sql(&edit).await, Ok(1));
    let (ok, out) = verify(server, &[]);
    assert!(!ok, "a failure exits non-zero: {out}");
    let failure = format!(
        "FAILED\ttenant {TENANT}\tdispute {}\tentry 3\tthe dispute's state no longer matches",
        opened.id
    );
    assert!(out.contains(&failure), "{out}");
    assert!(out.contains("verified 2 disputes of 2 tenants"), "{out}");
    assert!(out.contains(": 1 failed"), "{out}");

    let (ok, out) = verify(server, &["--tenant", "other-media"]);
    assert!(ok, "{out}");
    let id = opened.id.to_string();
    let (ok, out) = verify(server, &["--tenant", TENANT, "--dispute", &id]);
    assert!(!ok && out.contains(&failure), "{out}");
}

store_tests! {
    verify_walks_every_tenant_and_names_each_failure,
    a_chain_recomputed_without_the_signing_key_is_detected,
    seals_survive_a_key_rotation_and_a_revocation_of_the_old_key,
    every_fact_edited_alone_is_refused_by_reads_writes_and_lists,
    invoice_and_billing_facts_are_sealed_and_refused_in_their_own_shapes,
    the_stored_evidence_matches_its_digest_and_never_changes,
    the_store_refuses_edits_of_history,
    an_edited_entry_is_detected,
    a_removed_entry_is_detected_in_the_middle_or_at_the_end,
}
