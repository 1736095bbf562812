use crate::{Actor, Digest, TenantId, Timestamp};

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
/// `prev_hash`, so editing, reordering or removing an entry breaks the chain, and `state`, so
/// editing a fact of the dispute after the entry that left it so breaks it too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    seq: i64,
    at: Timestamp,
    actor: Actor,
    kind: EntryKind,
    notes: String,
    prev_hash: Digest,
    /// The digest of the dispute's state as this entry left it
    /// ([`DisputeParts::state_digest`](crate::DisputeParts::state_digest)); `None` on entries
    /// written before states were sealed (format v1).
    state: Option<Digest>,
    hash: Digest,
    /// The engine's signature of the entry; outside `hash`, which it signs.
    seal: Option<Seal>,
}

/// The engine's signature of one timeline entry: the id of the key that made it and the
/// signature over the entry's [seal statement](TimelineEntry::seal_statement). The domain says
/// what is signed and which entries must be; the signing adapter makes and checks signatures
/// (Ed25519, `docs/integrity.md`), with a key the store never holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seal {
    pub key_id: String,
    pub signature: Vec<u8>,
}

impl TimelineEntry {
    /// Appends after `prev_hash`, sealing the new entry and the dispute's `state` after it
    /// with the entry's own hash.
    pub(crate) fn chained(
        prev_hash: Digest,
        seq: i64,
        at: Timestamp,
        actor: Actor,
        kind: EntryKind,
        notes: String,
        state: Digest,
    ) -> Self {
        let mut entry = TimelineEntry {
            seq,
            at,
            actor,
            kind,
            notes,
            prev_hash,
            state: Some(state),
            hash: prev_hash,
            seal: None,
        };
        entry.hash = entry.computed_hash();
        entry
    }

    /// Rebuilds an entry as a store kept it. Nothing is checked here; [`verify`] does that.
    #[allow(clippy::too_many_arguments)] // One per stored column, as the store reads them.
    pub fn restore(
        seq: i64,
        at: Timestamp,
        actor: Actor,
        kind: EntryKind,
        notes: String,
        prev_hash: Digest,
        state: Option<Digest>,
        hash: Digest,
    ) -> Self {
        TimelineEntry {
            seq,
            at,
            actor,
            kind,
            notes,
            prev_hash,
            state,
            hash,
            seal: None,
        }
    }

    pub(crate) fn set_seal(&mut self, seal: Seal) {
        self.seal = Some(seal);
    }

    /// The entry with the seal a store kept for it (`None`: it has none).
    pub fn with_seal(mut self, seal: Option<Seal>) -> Self {
        self.seal = seal;
        self
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

    /// The digest of the dispute's state as this entry left it; `None` on an entry of format
    /// v1, written before states were sealed.
    pub fn state(&self) -> Option<Digest> {
        self.state
    }

    pub fn hash(&self) -> Digest {
        self.hash
    }

    pub fn seal(&self) -> Option<&Seal> {
        self.seal.as_ref()
    }

    /// What the engine signs for this entry of a dispute of `tenant`: the entry's hash, which
    /// covers the chain before it and the dispute's state after it, bound to the tenant and the
    /// entry's place. `"disputes-seal/v1" LF tenant LF seq LF hash LF`.
    pub fn seal_statement(&self, tenant: &TenantId) -> String {
        format!(
            "disputes-seal/v1\n{tenant}\n{seq}\n{hash}\n",
            tenant = tenant.as_str(),
            seq = self.seq,
            hash = self.hash
        )
    }

    /// The hash of an entry: SHA-256 over a length-prefixed text of all its fields, so that no
    /// field value can forge a boundary with its neighbour. Format v2 ends in the state's
    /// digest; v1, without one, is how entries written before it are checked. What an entry
    /// read from elsewhere (an export) must match in its `hash`.
    pub fn computed_hash(&self) -> Digest {
        let actor_id = self.actor.id.as_str();
        let notes = &self.notes;
        let version = if self.state.is_some() { 2 } else { 1 };
        let mut text = format!(
            "disputes-timeline/v{version}\n{seq}\n{at}\n{role}\n{}:{actor_id}\n{kind}\n{}:{notes}\n{prev_hash}\n",
            actor_id.len(),
            notes.len(),
            seq = self.seq,
            at = crate::period::canonical_time(self.at),
            role = self.actor.role,
            kind = self.kind,
            prev_hash = self.prev_hash,
        );
        if let Some(state) = self.state {
            text.push_str(&state.to_hex());
            text.push('\n');
        }
        Digest::of(text.as_bytes())
    }
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
    /// A fact of the dispute differs from the state its last timeline entry sealed.
    #[error("the dispute's state no longer matches the state its last timeline entry sealed")]
    StateAltered,
    #[error("the evidence no longer matches its sealed digest")]
    EvidenceAltered,
    /// A stored message differs from the timeline entry (or the sealed evidence) that recorded
    /// it, or a recorded message is missing.
    #[error("the message recorded by timeline entry {seq} was altered or removed")]
    MessageAltered { seq: i64 },
    /// The dispute's last entry carries no seal: its head could have been recomputed by anyone
    /// who can write to the store.
    #[error("timeline entry {seq}, the dispute's head, is not sealed")]
    Unsealed { seq: i64 },
    /// An entry's seal is not a valid signature by a key that could sign it then.
    #[error("the seal of timeline entry {seq} is not valid: {why}")]
    SealRefused { seq: i64, why: String },
    /// The stored collection hold differs from the one the opening entry recorded.
    #[error("the collection hold no longer matches the one recorded at opening")]
    HoldAltered,
}

impl TimelineError {
    /// The timeline entry (its `seq`) where `dispute` breaks: the one named, or for a state or
    /// evidence that no longer matches, the entry that sealed it.
    pub fn entry(&self, dispute: &crate::Dispute) -> i64 {
        match self {
            TimelineError::Altered { seq }
            | TimelineError::Broken { seq }
            | TimelineError::MessageAltered { seq }
            | TimelineError::Unsealed { seq }
            | TimelineError::SealRefused { seq, .. } => *seq,
            TimelineError::EvidenceAltered | TimelineError::HoldAltered => 1,
            TimelineError::Truncated | TimelineError::StateAltered => {
                dispute.timeline().last().map_or(0, TimelineEntry::seq)
            }
        }
    }
}

/// Recomputes the chain from `anchor` (the evidence digest) and checks it ends at `head`.
pub(crate) fn verify(
    entries: &[TimelineEntry],
    anchor: Digest,
    head: Digest,
) -> Result<(), TimelineError> {
    let mut prev = anchor;
    let mut sealed = false;
    for (expected_seq, entry) in (1..).zip(entries) {
        if entry.seq != expected_seq || entry.prev_hash != prev {
            return Err(TimelineError::Broken { seq: entry.seq });
        }
        // Once states are sealed, every later entry seals one: an entry without is a downgrade.
        if sealed && entry.state.is_none() {
            return Err(TimelineError::Broken { seq: entry.seq });
        }
        sealed = entry.state.is_some();
        if entry.computed_hash() != entry.hash {
            return Err(TimelineError::Altered { seq: entry.seq });
        }
        prev = entry.hash;
    }
    if prev != head {
        return Err(TimelineError::Truncated);
    }
    Ok(())
}
