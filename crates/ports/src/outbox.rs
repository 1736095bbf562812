//! The outbox: notification jobs written in the same transaction as the change that causes them,
//! so that a change is never stored without its notifications, nor a notification queued for a
//! change that was not stored. A dispatcher later leases the due jobs, delivers them and marks
//! them delivered or due again.

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use disputes_domain::{DisputeId, EntryKind, TenantId, TimelineEntry, Timestamp};
use rand::RngCore;

use crate::StoreError;

/// Where a notification goes. Each sink takes each event at most once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sink {
    /// Email over SMTP: the invoice customer, the parties.
    Email,
    /// The Freshdesk ticket of the dispute.
    Freshdesk,
    /// The tenant's registered webhooks.
    Webhook,
}

impl Sink {
    /// Every sink, in declaration order.
    pub const ALL: &'static [Sink] = &[Sink::Email, Sink::Freshdesk, Sink::Webhook];

    /// The stable name a store keeps; never rename one, only add.
    pub fn as_str(self) -> &'static str {
        match self {
            Sink::Email => "email",
            Sink::Freshdesk => "freshdesk",
            Sink::Webhook => "webhook",
        }
    }
}

impl fmt::Display for Sink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Sink {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Sink::ALL
            .iter()
            .copied()
            .find(|sink| sink.as_str() == s)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown sink {s:?}")))
    }
}

/// The id of one event (one timeline entry of one dispute): `evt_` and 32 hex digits. Every
/// sink and every retry sees the same id, so a receiver can drop a repeat.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EventId(String);

impl EventId {
    const PREFIX: &'static str = "evt_";

    /// A fresh, random id.
    pub fn generate() -> Self {
        EventId(format!("{}{}", Self::PREFIX, random_hex::<16>()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for EventId {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.strip_prefix(Self::PREFIX) {
            Some(digits)
                if digits.len() == 32
                    && digits
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) =>
            {
                Ok(EventId(s.to_owned()))
            }
            _ => Err(StoreError::Corrupt(format!("malformed event id {s:?}"))),
        }
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `N` random bytes in lowercase hex.
pub(crate) fn random_hex<const N: usize>() -> String {
    let mut bytes = [0u8; N];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A notification to enqueue together with the change that causes it: the timeline entry
/// `seq` of the dispute being written, for one sink. The entry is append-only, so the
/// dispatcher reads the event's facts from it later, exactly as they were.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub event: EventId,
    pub seq: i64,
    pub kind: EntryKind,
    pub sink: Sink,
    /// When the job is first due: the entry's own time.
    pub due: Timestamp,
}

impl Notification {
    /// One notification per sink for every entry of `timeline` after the first `stored` ones
    /// (a version equals its timeline's length, so for a write based on version `v` these are
    /// the entries after `v.get()`, and for a create all of them, after 0). The sinks of one
    /// entry share its event id.
    pub fn for_entries(timeline: &[TimelineEntry], stored: i64, sinks: &[Sink]) -> Vec<Self> {
        if sinks.is_empty() {
            return Vec::new();
        }
        timeline
            .iter()
            .filter(|entry| entry.seq() > stored)
            .flat_map(|entry| {
                let event = EventId::generate();
                sinks.iter().map(move |&sink| Notification {
                    event: event.clone(),
                    seq: entry.seq(),
                    kind: entry.kind(),
                    sink,
                    due: entry.at(),
                })
            })
            .collect()
    }
}

/// A job of the outbox, as a lease hands it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxJob {
    /// The store's id of the job, for [`Outbox::delivered`] and [`Outbox::retry_at`].
    pub id: i64,
    pub event: EventId,
    pub tenant: TenantId,
    pub dispute: DisputeId,
    /// The timeline entry the event is about.
    pub seq: i64,
    pub kind: EntryKind,
    pub sink: Sink,
    /// How many times the job has been leased, this lease included; a replay (see
    /// [`Outbox::replay`]) starts it again from 0.
    pub attempts: u32,
    /// Whether an operator replayed the job after it was dead-lettered: attempts made before
    /// the count was reset may have reached the sink, so even a first attempt must look for
    /// what they left.
    pub replayed: bool,
}

/// A job the dispatcher gave up on (see [`Outbox::dead_letter`]), as an operator lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The job as it was last leased (its attempts are the ones it failed).
    pub job: OutboxJob,
    /// Why its last attempt failed: the receiver's refusal, or the last of its failures.
    pub last_error: Option<String>,
    pub dead_lettered_at: Timestamp,
}

/// Which dead-lettered jobs an operator puts back in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// The job with this id, if it is dead-lettered.
    Job(i64),
    /// Every dead-lettered job.
    All,
}

/// The jobs the dispute store enqueued, for a dispatcher. Several dispatchers (in one process
/// or in several sharing a database) may work on one outbox.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Outbox: Send + Sync + std::fmt::Debug {
    /// Leases up to `limit` undelivered jobs due at `now`, oldest due first: each one's attempts
    /// go up by one and it is not due again until `now + lease`, so that a dispatcher that dies
    /// mid-delivery only delays its jobs.
    ///
    /// # Errors
    /// Leases MUST be exclusive: of any number of concurrent leases, from any number of
    /// processes, no two hand out the same job while its lease runs.
    async fn lease(
        &self,
        now: Timestamp,
        lease: chrono::Duration,
        limit: u16,
    ) -> Result<Vec<OutboxJob>, StoreError>;

    /// Records that the sink took the job at `at`; it is never leased again. Marking a
    /// delivered job again changes nothing.
    async fn delivered(&self, job: i64, at: Timestamp) -> Result<(), StoreError>;

    /// Makes an undelivered job due again at `at`, recording why the attempt failed. A job
    /// delivered meanwhile (by whoever leased it after a lease ran out) stays delivered.
    async fn retry_at(&self, job: i64, at: Timestamp, error: &str) -> Result<(), StoreError>;

    /// Gives up on an undelivered job at `at`, recording why: it is never leased again until
    /// it is replayed, and [`dead_letters`](Self::dead_letters) lists it. A job delivered
    /// meanwhile stays delivered.
    async fn dead_letter(&self, job: i64, at: Timestamp, error: &str) -> Result<(), StoreError>;

    /// The undelivered dead-lettered jobs, oldest id first, at most `limit` of them. (A job
    /// is delivered after it was dead-lettered only by a server that knows no dead letters,
    /// during a rolling upgrade; it is no dead letter then.)
    async fn dead_letters(&self, limit: u16) -> Result<Vec<DeadLetter>, StoreError>;

    /// Makes the dead-lettered jobs `which` names due again at `now`, their attempts counted
    /// from 0 again and marked [`replayed`](OutboxJob::replayed); answers how many it put back.
    /// A job that is not dead-lettered (due, leased, delivered or unknown) is left as it is.
    async fn replay(&self, which: Replay, now: Timestamp) -> Result<u64, StoreError>;

    /// Deletes at most `limit` jobs delivered before `before`, answering how many. Undelivered
    /// and dead-lettered jobs are never pruned, whatever their age.
    async fn prune_delivered(&self, before: Timestamp, limit: u16) -> Result<u64, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sinks_round_trip_their_names() {
        for &sink in Sink::ALL {
            assert_eq!(sink.as_str().parse::<Sink>().unwrap(), sink);
        }
        assert!("pager".parse::<Sink>().is_err());
    }

    #[test]
    fn event_ids_are_fresh_and_parse_back() {
        let a = EventId::generate();
        let b = EventId::generate();
        assert_ne!(a, b);
        assert_eq!(a.as_str().parse::<EventId>().unwrap(), a);
        for bad in ["evt_", "evt_XYZ", "0123456789abcdef0123456789abcdef", ""] {
            assert!(bad.parse::<EventId>().is_err(), "{bad}");
        }
    }
}
