//! Signed exports and published keys in the delivery vendor's formats, checked by the vendor's
//! own published verifier (`enfinitos-sdk-auditor`, pinned): VALID for what we sign, INVALID
//! once any byte of the payload changes, and through a key rotation and a revocation.

mod support;

use enfinitos_auditor::{verify_signed_export, AuditStepStatus, KeyDirectory, SignedExport};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{store_tests, Server, Store};

const TENANT: &str = "acme-media";

/// A delivery dispute with a response and a note, and the operator's key.
async fn opened(server: &Server) -> (String, String) {
    let advertiser = server.tenant_with_key(TENANT, "advertiser", "dev_adv");
    let operator = server.key(TENANT, "operator", "dev_op");
    let id = server.open_delivery(&advertiser, "cmp_1", "300.50").await;
    let respond = server
        .call(
            Method::POST,
            &format!("/v1/disputes/{id}/operator-response"),
            Some(&operator),
            Some(json!({ "notes": "Delivered; see the logs.", "proposedRemedy": { "amount": "10.25" } })),
        )
        .await;
    assert_eq!(respond.status, StatusCode::OK, "{:#}", respond.body);
    (id, operator)
}

/// The published keys, as the vendor's verifier reads them: fetched without credentials.
async fn published_keys(server: &Server) -> KeyDirectory {
    let keys = server
        .send(Method::GET, "/v1/runtime-keys", None, &[], None)
        .await;
    assert_eq!(keys.status, StatusCode::OK, "{}", keys.text);
    KeyDirectory::from_runtime_keys_json(&keys.text).expect("the vendor reads our key set")
}

/// The delivery contract's export of `id`: the envelope inside `{ok, data, contractVersion}`.
async fn delivery_export(server: &Server, id: &str, key: &str) -> Value {
    let answer = server
        .call(
            Method::GET,
            &format!("/v1/disputes/{id}?export=true"),
            Some(key),
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{:#}", answer.body);
    assert_eq!(answer.body["ok"], true);
    answer.body["data"].clone()
}

/// The vendor's Python verifier (PyPI `enfinitos-sdk-auditor` 0.0.4, which `cargo xtask ci`
/// installs): its verdict on `envelope`, the keys fetched from the server as it fetches them.
fn python_verdict(server: &Server, envelope: &Value) -> String {
    const SCRIPT: &str = "import json, sys\n\
from enfinitos_auditor import load_key_directory, verify_signed_export\n\
keys = load_key_directory(source='platform', platform_keys_url=sys.argv[1])\n\
report = verify_signed_export(json.load(open(sys.argv[2])), keys)\n\
print(getattr(report.status, 'value', report.status))\n";
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.json");
    std::fs::write(&file, envelope.to_string()).unwrap();
    let output = std::process::Command::new("python3")
        .args(["-c", SCRIPT, &format!("{}/v1/runtime-keys", server.base)])
        .arg(&file)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "the Python verifier is missing or failed (cargo xtask ci installs it: pip install enfinitos-sdk-auditor==0.0.4): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn verdict(envelope: &Value, keys: &KeyDirectory) -> AuditStepStatus {
    let export: SignedExport =
        serde_json::from_value(envelope.clone()).expect("the vendor reads our envelope");
    let report = verify_signed_export(&export, keys);
    if report.status != AuditStepStatus::Valid {
        eprintln!("{:#?}", report.steps);
    }
    report.status
}

/// `envelope` with one byte of its payload changed, as the verifier would receive it.
fn tampered(envelope: &Value) -> Value {
    let mut changed = envelope.clone();
    let amount = &mut changed["payload"]["dispute"]["claimedShortfall"]["amount"];
    assert_eq!(*amount, "300.50");
    *amount = json!("300.51");
    changed
}

async fn the_vendors_verifier_accepts_our_exports_and_refuses_a_changed_byte(store: Store) {
    let server = Server::start(store).await;
    let (id, operator) = opened(&server).await;
    let keys = published_keys(&server).await;
    let envelope = delivery_export(&server, &id, &operator).await;
    assert_eq!(envelope["kind"], "dispute.export.v1");
    assert_eq!(envelope["envelopeVersion"], "export.v1");
    assert_eq!(envelope["orgId"], TENANT);
    assert_eq!(verdict(&envelope, &keys), AuditStepStatus::Valid);
    assert_eq!(
        verdict(&tampered(&envelope), &keys),
        AuditStepStatus::Invalid
    );

    // What an auditor needs to re-check the dispute without us is in the signed payload.
    let payload = &envelope["payload"];
    let timeline = payload["timeline"].as_array().unwrap();
    assert_eq!(timeline.len(), 2);
    assert_eq!(timeline[1]["prevHash"], timeline[0]["hash"]);
    assert_eq!(
        timeline[1]["actor"],
        json!({ "id": "dev_op", "role": "operator" })
    );
    assert!(timeline
        .iter()
        .all(|entry| entry["seal"]["signature"].is_string()));
    assert_eq!(payload["head"]["hash"], timeline[1]["hash"]);
    assert_eq!(
        payload["evidence"]["canonical"],
        "disputes-evidence/v1\nproof_pack:4:pp_1\n"
    );
    assert_eq!(payload["dispute"]["id"], json!(id));

    // The invoice and billing contracts export in their own calls, the same envelope.
    server.tenant_with_owner("shop", "Sanne Bakker", "sanne@shop.example");
    let billink_id = server.login("shop", "client", "shop-api");
    let opened = server.open_invoice("shop-api", &billink_id, "INV-1").await;
    let ask = json!({ "id": opened["id"], "billinkUsername": "shop-api", "billinkId": billink_id });
    let invoice = server
        .call(Method::POST, "/v2/dispute/export", None, Some(ask))
        .await;
    assert_eq!(invoice.status, StatusCode::OK, "{:#}", invoice.body);
    assert_eq!(invoice.body["orgId"], "shop");
    assert_eq!(verdict(&invoice.body, &keys), AuditStepStatus::Valid);
    assert_eq!(python_verdict(&server, &invoice.body), "VALID");

    server.cli(&["tenant", "create", "telco"]);
    let password = server.login("telco", "billing", "csr");
    let base = support::BILLING_BASE;
    let dispute = server
        .open_billing_item(("csr", &password), "item-1", "acct-1")
        .await;
    let billing = server
        .send(
            Method::GET,
            &format!("{base}/disputes/{dispute}/export"),
            Some(("csr", &password)),
            &[("accept", "application/json")],
            None,
        )
        .await;
    assert_eq!(billing.status, StatusCode::OK, "{}", billing.text);
    let billing = billing.json();
    assert_eq!(billing["orgId"], "telco");
    assert_eq!(verdict(&billing, &keys), AuditStepStatus::Valid);
    assert_eq!(python_verdict(&server, &billing), "VALID");

    // Another tenant's key exports nothing of ours: 404, as every read.
    let stranger = server.tenant_with_key("globex", "operator", "dev_x");
    let answer = server
        .call(
            Method::GET,
            &format!("/v1/disputes/{id}?export=true"),
            Some(&stranger),
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND, "{:#}", answer.body);
}

async fn exports_verify_across_a_rotation_and_a_revoked_key_signs_nothing_later(store: Store) {
    let mut server = Server::start(store).await;
    let (id, operator) = opened(&server).await;
    let before = delivery_export(&server, &id, &operator).await;
    let old_key = before["keyId"].as_str().unwrap().to_owned();

    server.cli(&["signing-key", "rotate", "--overlap-hours", "0"]);
    server.restart().await;
    let after = delivery_export(&server, &id, &operator).await;
    assert_ne!(after["keyId"], json!(old_key), "signed with the new key");
    let keys = published_keys(&server).await;
    assert_eq!(
        verdict(&before, &keys),
        AuditStepStatus::Valid,
        "signed before the rotation"
    );
    assert_eq!(
        verdict(&after, &keys),
        AuditStepStatus::Valid,
        "signed after it"
    );

    // Once the old key is revoked, what it signed before stays valid; a signature it would
    // make later (its export dated after the revocation) is refused by the vendor's verifier.
    server.cli(&["signing-key", "revoke", &old_key]);
    let keys = published_keys(&server).await;
    assert_eq!(verdict(&before, &keys), AuditStepStatus::Valid);
    let mut later = before.clone();
    later["exportedAt"] = json!(chrono::Utc::now()
        .checked_add_signed(chrono::Duration::seconds(5))
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string());
    assert_eq!(verdict(&later, &keys), AuditStepStatus::Invalid);
}

/// `disputes verify --export --keys` on `envelope` and `keys`, saved: success, and stdout.
fn verify_offline(envelope: &Value, keys: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export.json");
    let key_set = dir.path().join("keys.json");
    std::fs::write(&export, envelope.to_string()).unwrap();
    std::fs::write(&key_set, keys).unwrap();
    // No database and no signing key: the check needs neither.
    let output = std::process::Command::new(support::binary())
        .arg("verify")
        .arg("--export")
        .arg(&export)
        .arg("--keys")
        .arg(&key_set)
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

async fn a_saved_export_is_checked_offline_by_our_own_verify(store: Store) {
    let server = Server::start(store).await;
    let (id, operator) = opened(&server).await;
    let envelope = delivery_export(&server, &id, &operator).await;
    let keys = server
        .send(Method::GET, "/v1/runtime-keys", None, &[], None)
        .await
        .text;
    let (ok, out) = verify_offline(&envelope, &keys);
    assert!(ok, "{out}");
    for check in [
        "ok\tthe signature is key",
        "ok\tentry 2's hash covers its fields",
        "ok\tentry 2's seal is key",
        "ok\tthe state text is the state the head sealed",
        "the export holds",
    ] {
        assert!(out.contains(check), "{check}: {out}");
    }

    let (ok, out) = verify_offline(&tampered(&envelope), &keys);
    assert!(!ok, "{out}");
    assert!(
        out.contains("FAILED\tpayloadCanonical is the payload with its keys sorted"),
        "{out}"
    );
    // A forger who also rewrites the canonical text and its hash still lacks the key.
    let mut forged = tampered(&envelope);
    let canonical = forgers_canonical(&forged["payload"]);
    forged["payloadCanonicalHash"] =
        json!(disputes_domain::Digest::of(canonical.as_bytes()).to_hex());
    forged["payloadCanonical"] = json!(canonical);
    let (ok, out) = verify_offline(&forged, &keys);
    assert!(!ok, "{out}");
    assert!(out.contains("FAILED\tthe signature is key"), "{out}");
}

/// The payload's canonical text as `docs/integrity.md` describes it: keys sorted at every
/// depth, no spaces (what a forger computes, with any JSON library).
fn forgers_canonical(value: &Value) -> String {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let ordered: std::collections::BTreeMap<_, _> =
                    map.iter().map(|(k, v)| (k.clone(), sorted(v))).collect();
                serde_json::to_value(ordered).unwrap()
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    serde_json::to_string(&sorted(value)).unwrap()
}

store_tests! {
    a_saved_export_is_checked_offline_by_our_own_verify,
    the_vendors_verifier_accepts_our_exports_and_refuses_a_changed_byte,
    exports_verify_across_a_rotation_and_a_revoked_key_signs_nothing_later,
}
