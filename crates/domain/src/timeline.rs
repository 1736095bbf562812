use crate::{Actor, Digest, Timestamp};

named_enum! {
    /// What happened in a timeline entry.
    pub enum EntryKind in "timeline entry kind" {
        Opened => "opened",
        Responded => "responded",
        Accepted => "accepted",
        Rejected => "rejected",
        Settled => "settled",
        Withdrawn => "withdrawn",
        Expired => "expired",
        Note => "note",
        /// A message posted to the dispute's thread.
        Message => "message",
        /// The engine reminded whoever must act that `respond_by` is near.
        Reminder => "reminder",
        /// The provider started looking into the dispute.
        Investigating => "investigating",
        /// The provider's evidence is gathered.
        EvidenceGathered => "evidence_gathered",
        /// A party took the dispute to mediation.
        Escalated => "escalated",
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
    /// A stored message differs from the timeline entry (or the sealed evidence) that recorded
    /// it, or a recorded message is missing.
    #[error("the message recorded by timeline entry {seq} was altered or removed")]
    MessageAltered { seq: i64 },
    /// The stored collection hold differs from the one the opening entry recorded.
    #[error("the collection hold no longer matches the one recorded at opening")]
    HoldAltered,
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
