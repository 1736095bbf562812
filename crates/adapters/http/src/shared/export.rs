//! Signed exports and published keys, in the delivery vendor's own formats so that its published
//! verifier (`enfinitos-sdk-auditor`) checks them: the `export.v1` envelope and the key set of
//! `GET /v1/runtime-keys`. Every contract's export call answers the same envelope, its payload
//! the dispute as that contract shows it plus what anyone needs to re-check it without us: the
//! whole timeline with hashes, states and seals, the canonical evidence and the head.
//!
//! `payloadCanonical` is the payload as JSON with object keys sorted recursively (arrays in
//! order, no spaces), `payloadCanonicalHash` its SHA-256 in hex, and `signature` the Ed25519
//! signature of the UTF-8 bytes of `payloadCanonical + "|" + keyId`, base64url without padding.
//! The payload holds only strings, integers, booleans and nulls: a contract that shows an amount
//! as a JSON number with a fraction (`12.50`) has it in the payload as its text (`"12.50"`), since
//! verifiers that read JSON numbers as binary floats would write it back as `12.5`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::Utc;
use disputes_domain::{canonical_time, Digest, Dispute, Timestamp};
use disputes_ports::{PublicKey, SigningService};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::{json, Value};

/// The envelope's version, as the vendor names it.
pub const ENVELOPE_VERSION: &str = "export.v1";
/// What a dispute export holds.
pub const DISPUTE_EXPORT: &str = "dispute.export.v1";
/// The signature algorithm, as the vendor names it.
const ALGORITHM: &str = "ed25519";
/// What the published keys sign, as the key set says.
const PURPOSE: &str = "export_signing";

/// A signed export: the vendor's `export.v1` envelope.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = SignedExport)]
pub struct Envelope {
    /// What the payload is: `dispute.export.v1`.
    #[schema(example = "dispute.export.v1")]
    pub kind: &'static str,
    #[schema(example = "export.v1")]
    pub envelope_version: &'static str,
    /// The tenant the dispute belongs to.
    pub org_id: String,
    /// When the export was signed; a verifier checks the key's validity at this time.
    #[schema(format = DateTime)]
    pub exported_at: String,
    /// The signing key, as `GET /v1/runtime-keys` publishes it.
    pub key_id: String,
    #[schema(example = "ed25519")]
    pub algorithm: &'static str,
    /// The dispute as the contract shows it, with its whole timeline (`prevHash`, `hash`,
    /// `stateDigest`, `seal`), the canonical evidence and the head.
    #[schema(value_type = Object)]
    pub payload: Value,
    /// The payload as JSON with object keys sorted recursively, arrays in order, no spaces.
    pub payload_canonical: String,
    /// SHA-256 of `payloadCanonical`, lowercase hex.
    pub payload_canonical_hash: String,
    /// Ed25519 over the UTF-8 bytes of `payloadCanonical + "|" + keyId`, base64url without
    /// padding.
    pub signature: String,
}

/// The export of `dispute`, shown by its contract as `shown`, signed now.
pub fn dispute_export(signing: &SigningService, dispute: &Dispute, shown: Value) -> Envelope {
    let state = dispute.parts().state_text();
    let payload = json!({
        "dispute": shown,
        "disputeId": dispute.id().get(),
        "orgId": dispute.tenant().as_str(),
        "evidence": {
            "canonical": dispute.evidence().canonical(),
            "digest": dispute.evidence_digest().to_hex(),
        },
        "timeline": dispute.timeline().iter().map(|entry| json!({
            "seq": entry.seq(),
            "at": time(entry.at()),
            "kind": entry.kind().as_str(),
            "actor": { "id": entry.actor().id.as_str(), "role": entry.actor().role.as_str() },
            "notes": entry.notes(),
            "prevHash": entry.prev_hash().to_hex(),
            "stateDigest": entry.state().map(|state| state.to_hex()),
            "hash": entry.hash().to_hex(),
            "seal": entry.seal().map(|seal| json!({
                "keyId": seal.key_id,
                "statement": entry.seal_statement(dispute.tenant()),
                "signature": URL_SAFE_NO_PAD.encode(&seal.signature),
            })),
        })).collect::<Vec<_>>(),
        "head": {
            "seq": dispute.timeline().last().map(|entry| entry.seq()),
            "hash": dispute.parts().timeline_head.to_hex(),
            "stateDigest": Digest::of(state.as_bytes()).to_hex(),
            "stateText": state,
        },
    });
    sign(
        signing,
        DISPUTE_EXPORT,
        dispute.tenant().as_str(),
        exact_numbers(payload),
    )
}

/// `value` with every number that is not an integer as its decimal text, exactly as written.
fn exact_numbers(value: Value) -> Value {
    match value {
        Value::Number(n) if n.as_i64().is_none() && n.as_u64().is_none() => {
            Value::String(n.to_string())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(exact_numbers).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| (key, exact_numbers(value)))
                .collect(),
        ),
        other => other,
    }
}

/// `payload` in the envelope, signed now with the key that signs now.
fn sign(signing: &SigningService, kind: &'static str, org: &str, payload: Value) -> Envelope {
    let canonical = canonical(&payload);
    let seal = signing.sign(&|key_id| format!("{canonical}|{key_id}"));
    Envelope {
        kind,
        envelope_version: ENVELOPE_VERSION,
        org_id: org.to_owned(),
        exported_at: Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        key_id: seal.key_id,
        algorithm: ALGORITHM,
        payload_canonical_hash: Digest::of(canonical.as_bytes()).to_hex(),
        payload_canonical: canonical,
        payload,
        signature: URL_SAFE_NO_PAD.encode(&seal.signature),
    }
}

/// `value` as JSON with object keys sorted recursively (by their UTF-8 bytes), arrays in order,
/// no spaces. Sorted as it is written, so the result does not depend on how `serde_json` orders
/// a map.
pub fn canonical(value: &Value) -> String {
    serde_json::to_string(&Sorted(value)).expect("a JSON value serialises")
}

struct Sorted<'v>(&'v Value);

impl Serialize for Sorted<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                let mut out = serializer.serialize_map(Some(keys.len()))?;
                for key in keys {
                    out.serialize_entry(key, &Sorted(&map[key]))?;
                }
                out.end()
            }
            Value::Array(items) => {
                let mut out = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    out.serialize_element(&Sorted(item))?;
                }
                out.end()
            }
            scalar => scalar.serialize(serializer),
        }
    }
}

/// The key set of `GET /v1/runtime-keys`: every key, retired and revoked ones too.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RuntimeKeys)]
pub struct KeySet {
    #[schema(format = DateTime)]
    issued_at: String,
    /// Names this set of keys: it changes whenever a key is added or revoked.
    snapshot_id: String,
    keys: Vec<KeyOut>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RuntimeKey)]
struct KeyOut {
    key_id: String,
    #[schema(example = "ed25519")]
    algorithm: &'static str,
    /// The 32 raw bytes of the Ed25519 public key, base64url without padding.
    public_key: String,
    #[schema(format = DateTime)]
    not_before: String,
    #[schema(format = DateTime, required = true)]
    not_after: Option<String>,
    #[schema(format = DateTime, required = true)]
    revoked_at: Option<String>,
    #[schema(example = "export_signing")]
    purpose: &'static str,
}

impl KeySet {
    pub fn of(keys: &[PublicKey]) -> KeySet {
        let described: String = keys
            .iter()
            .map(|key| format!("{}:{:?}:{:?}\n", key.key_id, key.not_after, key.revoked_at))
            .collect();
        KeySet {
            issued_at: Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            snapshot_id: format!("keys_{}", &Digest::of(described.as_bytes()).to_hex()[..16]),
            keys: keys
                .iter()
                .map(|key| KeyOut {
                    key_id: key.key_id.clone(),
                    algorithm: ALGORITHM,
                    public_key: URL_SAFE_NO_PAD.encode(&key.public_key),
                    not_before: time(key.not_before),
                    not_after: key.not_after.map(time),
                    revoked_at: key.revoked_at.map(time),
                    purpose: PURPOSE,
                })
                .collect(),
        }
    }
}

fn time(at: Timestamp) -> String {
    canonical_time(at).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_with_fractions_are_carried_as_their_text() {
        let value: Value = serde_json::from_str(r#"{"a": 12.50, "n": [7, -3, 0.1]}"#).unwrap();
        assert_eq!(
            canonical(&exact_numbers(value)),
            r#"{"a":"12.50","n":[7,-3,"0.1"]}"#
        );
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_depth_and_keeps_arrays_in_order() {
        let value = json!({ "b": [ { "z": 1, "a": "x\n\"y\"" }, 2 ], "a": null, "é": true });
        assert_eq!(
            canonical(&value),
            r#"{"a":null,"b":[{"a":"x\n\"y\"","z":1},2],"é":true}"#
        );
    }
}
