use std::fmt;
use std::str::FromStr;

use crate::{Actor, Digest, DomainError, Timestamp};

/// What happened in a timeline entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    Opened,
    Responded,
    Accepted,
    Rejected,
    Settled,
    Withdrawn,
    Expired,
    Note,
}

impl EntryKind {
    const ALL: [EntryKind; 8] = [
        EntryKind::Opened,
        EntryKind::Responded,
        EntryKind::Accepted,
        EntryKind::Rejected,
        EntryKind::Settled,
        EntryKind::Withdrawn,
        EntryKind::Expired,
        EntryKind::Note,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Opened => "opened",
            EntryKind::Responded => "responded",
            EntryKind::Accepted => "accepted",
            EntryKind::Rejected => "rejected",
            EntryKind::Settled => "settled",
            EntryKind::Withdrawn => "withdrawn",
            EntryKind::Expired => "expired",
            EntryKind::Note => "note",
        }
    }
}

impl fmt::Display for EntryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EntryKind {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EntryKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| DomainError::invalid("timeline", format!("unknown entry kind {s:?}")))
    }
}

/// One append-only entry of a dispute's history. `hash` covers every other field, including
/// `prev_hash`, so editing, reordering or removing an entry breaks the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    seq: i64,
    at: Timestamp,
    actor: Actor,
    kind: EntryKind,
    notes: String,
    prev_hash: Digest,
    hash: Digest,
}

impl TimelineEntry {
    /// Appends after `prev_hash`, sealing the new entry with its own hash.
    pub(crate) fn chained(
        prev_hash: Digest,
        seq: i64,
        at: Timestamp,
        actor: Actor,
        kind: EntryKind,
        notes: String,
    ) -> Self {
        let hash = entry_hash(prev_hash, seq, at, &actor, kind, &notes);
        TimelineEntry {
            seq,
            at,
            actor,
            kind,
            notes,
            prev_hash,
            hash,
        }
    }

    /// Rebuilds an entry as a store kept it. Nothing is checked here; [`verify`] does that.
    pub fn restore(
        seq: i64,
        at: Timestamp,
        actor: Actor,
        kind: EntryKind,
        notes: String,
        prev_hash: Digest,
        hash: Digest,
    ) -> Self {
        TimelineEntry {
            seq,
            at,
            actor,
            kind,
            notes,
            prev_hash,
            hash,
        }
    }

    pub fn seq(&self) -> i64 {
        self.seq
    }

    pub fn at(&self) -> Timestamp {
        self.at
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    pub fn kind(&self) -> EntryKind {
        self.kind
    }

    pub fn notes(&self) -> &str {
        &self.notes
    }

    pub fn prev_hash(&self) -> Digest {
        self.prev_hash
    }

    pub fn hash(&self) -> Digest {
        self.hash
    }
}

/// The hash of an entry: SHA-256 over a length-prefixed text of all its fields, so that no field
/// value can forge a boundary with its neighbour.
fn entry_hash(
    prev_hash: Digest,
    seq: i64,
    at: Timestamp,
    actor: &Actor,
    kind: EntryKind,
    notes: &str,
) -> Digest {
    let actor_id = actor.id.as_str();
    let text = format!(
        "disputes-timeline/v1\n{seq}\n{at}\n{role}\n{}:{actor_id}\n{kind}\n{}:{notes}\n{prev_hash}\n",
        actor_id.len(),
        notes.len(),
        at = at.format("%Y-%m-%dT%H:%M:%S%.6fZ"),
        role = actor.role,
    );
    Digest::of(text.as_bytes())
}

/// Where a timeline's hash chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimelineError {
    #[error("timeline entry {seq} was altered: its content no longer matches its hash")]
    Altered { seq: i64 },
    #[error(
        "timeline entry {seq} does not follow the entry before it (one was removed or reordered)"
    )]
    Broken { seq: i64 },
    #[error("the timeline does not end at the recorded head (its last entries were removed)")]
    Truncated,
    #[error("the evidence no longer matches its sealed digest")]
    EvidenceAltered,
}

/// Recomputes the chain from `anchor` (the evidence digest) and checks it ends at `head`.
pub(crate) fn verify(
    entries: &[TimelineEntry],
    anchor: Digest,
    head: Digest,
) -> Result<(), TimelineError> {
    let mut prev = anchor;
    for (expected_seq, entry) in (1..).zip(entries) {
        if entry.seq != expected_seq || entry.prev_hash != prev {
            return Err(TimelineError::Broken { seq: entry.seq });
        }
        let recomputed = entry_hash(
            entry.prev_hash,
            entry.seq,
            entry.at,
            &entry.actor,
            entry.kind,
            &entry.notes,
        );
        if recomputed != entry.hash {
            return Err(TimelineError::Altered { seq: entry.seq });
        }
        prev = entry.hash;
    }
    if prev != head {
        return Err(TimelineError::Truncated);
    }
    Ok(())
}
