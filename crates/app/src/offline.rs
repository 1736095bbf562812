//! `disputes verify --export FILE --keys FILE`: a saved signed export checked offline, with the
//! published keys alone: no database, no signing key, nothing of the server's but its formats.
//! Our own check (the vendor's verifier checks us in the tests): the envelope's signature, and
//! for a dispute export everything its payload carries: the evidence against its digest, every
//! entry's hash, the chain, every seal, and the state the head sealed.

use std::path::Path;

use anyhow::{bail, Context as _};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use disputes_domain::{Actor, ActorId, Digest, EntryKind, Role, TenantId, TimelineEntry};
use serde_json::Value;

/// The findings of one check: what was checked, and what failed.
#[derive(Debug, Default)]
struct Findings {
    checked: Vec<String>,
    failed: Vec<String>,
}

impl Findings {
    fn check(&mut self, what: impl Into<String>, holds: bool) {
        let what = what.into();
        if holds {
            self.checked.push(what);
        } else {
            self.failed.push(what);
        }
    }
}

pub fn verify_files(export: &Path, keys: &Path) -> anyhow::Result<()> {
    let read = |path: &Path| -> anyhow::Result<Value> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
    };
    let envelope = inner(read(export)?);
    let keys = inner(read(keys)?);
    let mut findings = Findings::default();
    check_envelope(&envelope, &keys, &mut findings)?;
    if envelope["kind"] == "dispute.export.v1" {
        check_dispute(&envelope, &keys, &mut findings)?;
    }
    for what in &findings.checked {
        println!("ok\t{what}");
    }
    for what in &findings.failed {
        println!("FAILED\t{what}");
    }
    if !findings.failed.is_empty() {
        bail!(
            "the export failed {} of {} checks",
            findings.failed.len(),
            findings.failed.len() + findings.checked.len()
        );
    }
    println!("the export holds: {} checks", findings.checked.len());
    Ok(())
}

/// The `data` of a delivery answer (`{ok, data, contractVersion}`), or the value itself.
fn inner(value: Value) -> Value {
    match value.get("data") {
        Some(data) if value.get("ok").is_some() => data.clone(),
        _ => value,
    }
}

fn text<'v>(value: &'v Value, field: &str) -> anyhow::Result<&'v str> {
    value[field]
        .as_str()
        .with_context(|| format!("`{field}` is missing or not a string"))
}

fn time(value: &Value, field: &str) -> anyhow::Result<DateTime<Utc>> {
    let text = text(value, field)?;
    Ok(DateTime::parse_from_rfc3339(text)
        .with_context(|| format!("`{field}` is not an RFC 3339 time"))?
        .with_timezone(&Utc))
}

/// The key `key_id` of the key set, and whether it could sign at `at` (the vendor's rule:
/// within `notBefore ..= notAfter`, not after `revokedAt`).
fn key_at(keys: &Value, key_id: &str, at: DateTime<Utc>) -> anyhow::Result<Option<Vec<u8>>> {
    let Some(key) = keys["keys"]
        .as_array()
        .context("the key set has no `keys`")?
        .iter()
        .find(|key| key["keyId"] == key_id)
    else {
        return Ok(None);
    };
    let optional = |field: &str| -> anyhow::Result<Option<DateTime<Utc>>> {
        match key[field] {
            Value::Null => Ok(None),
            _ => time(key, field).map(Some),
        }
    };
    let valid = time(key, "notBefore")? <= at
        && optional("notAfter")?.is_none_or(|end| at <= end)
        && optional("revokedAt")?.is_none_or(|revoked| at <= revoked);
    if !valid || key["algorithm"] != "ed25519" {
        return Ok(None);
    }
    Ok(URL_SAFE_NO_PAD.decode(text(key, "publicKey")?).ok())
}

fn check_envelope(envelope: &Value, keys: &Value, findings: &mut Findings) -> anyhow::Result<()> {
    findings.check(
        "envelopeVersion is export.v1, algorithm ed25519",
        envelope["envelopeVersion"] == "export.v1" && envelope["algorithm"] == "ed25519",
    );
    let canonical = text(envelope, "payloadCanonical")?;
    findings.check(
        "payloadCanonical is the payload with its keys sorted",
        disputes_http::canonical_json(&envelope["payload"]) == canonical,
    );
    findings.check(
        "payloadCanonicalHash is the SHA-256 of payloadCanonical",
        Digest::of(canonical.as_bytes()).to_hex() == text(envelope, "payloadCanonicalHash")?,
    );
    let key_id = text(envelope, "keyId")?;
    let key = key_at(keys, key_id, time(envelope, "exportedAt")?)?;
    findings.check(
        format!("key {key_id} is published and could sign at exportedAt"),
        key.is_some(),
    );
    let signature = URL_SAFE_NO_PAD
        .decode(text(envelope, "signature")?)
        .unwrap_or_default();
    let message = format!("{canonical}|{key_id}");
    findings.check(
        format!("the signature is key {key_id}'s over payloadCanonical|keyId"),
        key.is_some_and(|key| {
            disputes_signing::signature_holds(&key, message.as_bytes(), &signature)
        }),
    );
    Ok(())
}

fn check_dispute(envelope: &Value, keys: &Value, findings: &mut Findings) -> anyhow::Result<()> {
    let payload = &envelope["payload"];
    let tenant = TenantId::new(text(payload, "orgId")?)?;
    let evidence = &payload["evidence"];
    let anchor = text(evidence, "digest")?;
    findings.check(
        "the evidence is its digest's",
        Digest::of(text(evidence, "canonical")?.as_bytes()).to_hex() == anchor,
    );
    let mut prev = anchor.to_owned();
    let mut last_state = None;
    let entries = payload["timeline"]
        .as_array()
        .context("the payload has no timeline")?;
    for entry in entries {
        let seq = entry["seq"].as_i64().context("an entry without `seq`")?;
        let restored = restore(entry)?;
        findings.check(
            format!("entry {seq} follows the one before it"),
            restored.prev_hash().to_hex() == prev,
        );
        let hash = text(entry, "hash")?;
        findings.check(
            format!("entry {seq}'s hash covers its fields"),
            restored.computed_hash().to_hex() == hash,
        );
        match &entry["seal"] {
            Value::Null => findings.check(format!("entry {seq} is sealed"), false),
            seal => {
                let statement = restored.seal_statement(&tenant);
                let key_id = text(seal, "keyId")?;
                let key = key_at(keys, key_id, restored.at())?;
                let signature = URL_SAFE_NO_PAD
                    .decode(text(seal, "signature")?)
                    .unwrap_or_default();
                findings.check(
                    format!("entry {seq}'s seal is key {key_id}'s, valid at the entry's time"),
                    key.is_some_and(|key| {
                        disputes_signing::signature_holds(&key, statement.as_bytes(), &signature)
                    }),
                );
            }
        }
        prev = hash.to_owned();
        last_state = restored.state();
    }
    let head = &payload["head"];
    findings.check("the head is the last entry", text(head, "hash")? == prev);
    let state = Digest::of(text(head, "stateText")?.as_bytes());
    findings.check(
        "the state text is the state the head sealed",
        Some(state) == last_state && state.to_hex() == text(head, "stateDigest")?,
    );
    Ok(())
}

/// A timeline entry of the payload, as the domain hashes it.
fn restore(entry: &Value) -> anyhow::Result<TimelineEntry> {
    let digest = |field: &str| -> anyhow::Result<Digest> {
        text(entry, field)?
            .parse()
            .with_context(|| format!("`{field}` is not a digest"))
    };
    let actor = &entry["actor"];
    let role: Role = text(actor, "role")?.parse()?;
    let kind: EntryKind = text(entry, "kind")?.parse()?;
    let state = match entry["stateDigest"] {
        Value::Null => None,
        _ => Some(digest("stateDigest")?),
    };
    Ok(TimelineEntry::restore(
        entry["seq"].as_i64().context("an entry without `seq`")?,
        time(entry, "at")?,
        Actor::new(ActorId::new(text(actor, "id")?)?, role),
        kind,
        text(entry, "notes")?.to_owned(),
        digest("prevHash")?,
        state,
        digest("hash")?,
    ))
}
