//! The dispatcher: leases the outbox's due jobs, hands each to its sink's [`Notifier`], and
//! marks it delivered or due again after a backoff. A job leaves the outbox only when its sink
//! took it, so a notification is never lost while a sink is down; it may be offered again after
//! a lost acknowledgement, always with the same event id, so sinks drop repeats by that id.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::Duration;
use disputes_domain::{Dispute, EntryKind, TimelineEntry};
use futures::future::join_all;
use rand::Rng;

use crate::{Clock, DisputeRepository, EventId, Outbox, OutboxJob, Sink, StoreError};

/// One event as a sink receives it: what happened (a timeline entry) to which dispute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The same on every retry and for every sink.
    pub id: EventId,
    pub kind: EntryKind,
    /// The timeline entry the event is about.
    pub seq: i64,
    /// The dispute as it is when the event is delivered; the entry itself never changes.
    pub dispute: Dispute,
    /// Which attempt this is, from 1.
    pub attempt: u32,
}

impl Event {
    /// The timeline entry the event is about.
    pub fn entry(&self) -> Option<&TimelineEntry> {
        self.dispute.timeline().iter().find(|e| e.seq() == self.seq)
    }
}

/// Why a sink did not take an event. Every failure is retried: a notification is never given up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct NotifyError {
    /// What went wrong, for the outbox's `last_error` and the log.
    pub reason: String,
    /// How long the sink asked to be left alone (`Retry-After`); the backoff otherwise.
    pub retry_after: Option<Duration>,
}

impl NotifyError {
    /// A failure to retry after the usual backoff.
    pub fn retry(reason: impl Into<String>) -> Self {
        NotifyError {
            reason: reason.into(),
            retry_after: None,
        }
    }

    /// A failure to retry no sooner than `after`, as the sink asked.
    pub fn retry_after(reason: impl Into<String>, after: Duration) -> Self {
        NotifyError {
            reason: reason.into(),
            retry_after: Some(after),
        }
    }
}

/// A sink: email, a ticket desk, webhooks.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Notifier: Send + Sync + std::fmt::Debug {
    /// Delivers `event`; `Ok` means the sink took it, and it is never offered again.
    ///
    /// # Errors
    /// [`NotifyError`] when the sink did not (or may not have) taken it; the event is offered
    /// again later with the same id. A notifier SHOULD make a repeat harmless (pass the id on,
    /// or look for what the first attempt created), since an acknowledgement can be lost.
    async fn deliver(&self, event: &Event) -> Result<(), NotifyError>;
}

/// Exponential backoff with jitter: attempt `n` waits between half of and the whole of
/// `base * 2^(n-1)`, capped at `max`. The jitter spreads the retries of many jobs that failed
/// together (a sink that was down) so they do not all return at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::seconds(1),
            max: Duration::hours(1),
        }
    }
}

impl Backoff {
    /// The wait after failed attempt `attempt` (from 1), with `jitter` in `[0, 1]` picking a
    /// point between half of the exponential delay and all of it.
    pub fn delay(&self, attempt: u32, jitter: f64) -> Duration {
        let doublings = attempt.saturating_sub(1).min(30);
        let full = self
            .base
            .checked_mul(1 << doublings)
            .map_or(self.max, |d| d.min(self.max));
        let half = full / 2;
        let extra = (half.num_milliseconds() as f64 * jitter.clamp(0.0, 1.0)) as i64;
        half + Duration::milliseconds(extra)
    }
}

/// What one round of [`Dispatcher::run_once`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub leased: usize,
    pub delivered: usize,
    pub retried: usize,
}

/// Delivers the outbox's jobs to the sinks' notifiers. Any number of dispatchers may share one
/// outbox: leases are exclusive while their lease runs.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    outbox: Arc<dyn Outbox>,
    disputes: Arc<dyn DisputeRepository>,
    clock: Arc<dyn Clock>,
    notifiers: HashMap<Sink, Arc<dyn Notifier>>,
    backoff: Backoff,
    lease: Duration,
    batch: u16,
}

impl Dispatcher {
    /// How long a leased job is kept from other dispatchers. It must outlast a round's
    /// deliveries (each notifier bounds its own with a timeout well below this), or a slow round
    /// would see its jobs leased and sent a second time.
    pub const DEFAULT_LEASE: Duration = Duration::minutes(5);
    /// Jobs leased per round.
    pub const DEFAULT_BATCH: u16 = 32;

    pub fn new(
        outbox: Arc<dyn Outbox>,
        disputes: Arc<dyn DisputeRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Dispatcher {
            outbox,
            disputes,
            clock,
            notifiers: HashMap::new(),
            backoff: Backoff::default(),
            lease: Self::DEFAULT_LEASE,
            batch: Self::DEFAULT_BATCH,
        }
    }

    /// Delivers `sink`'s jobs with `notifier`.
    pub fn with_notifier(mut self, sink: Sink, notifier: Arc<dyn Notifier>) -> Self {
        self.notifiers.insert(sink, notifier);
        self
    }

    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// The sinks this dispatcher delivers to, in [`Sink::ALL`] order: what the use cases should
    /// queue for.
    pub fn sinks(&self) -> Vec<Sink> {
        Sink::ALL
            .iter()
            .copied()
            .filter(|sink| self.notifiers.contains_key(sink))
            .collect()
    }

    /// Leases one batch of due jobs and delivers each: a delivered one is marked so, a failed
    /// one is due again after the sink's `Retry-After` or the backoff.
    ///
    /// # Errors
    /// When the outbox cannot be read or marked; a job left unmarked is offered again once its
    /// lease ends.
    pub async fn run_once(&self) -> Result<Round, StoreError> {
        let jobs = self
            .outbox
            .lease(self.clock.now(), self.lease, self.batch)
            .await?;
        let mut round = Round {
            leased: jobs.len(),
            ..Round::default()
        };
        // Concurrently, so a round lasts about as long as its slowest delivery, well within
        // the lease, however many jobs it leased.
        let outcomes = join_all(jobs.iter().map(|job| self.deliver(job))).await;
        for (job, outcome) in jobs.iter().zip(outcomes) {
            match outcome {
                Ok(()) => {
                    self.outbox.delivered(job.id, self.clock.now()).await?;
                    round.delivered += 1;
                }
                Err(failure) => {
                    let wait = failure.retry_after.unwrap_or_else(|| {
                        self.backoff
                            .delay(job.attempts, rand::thread_rng().gen_range(0.0..=1.0))
                    });
                    tracing::warn!(
                        job = job.id, event = %job.event, sink = %job.sink,
                        dispute = %job.dispute, attempt = job.attempts,
                        retry_in_ms = wait.num_milliseconds(), error = %failure,
                        "notification not delivered; will retry"
                    );
                    self.outbox
                        .retry_at(job.id, self.clock.now() + wait, &failure.reason)
                        .await?;
                    round.retried += 1;
                }
            }
        }
        Ok(round)
    }

    async fn deliver(&self, job: &OutboxJob) -> Result<(), NotifyError> {
        // A job of a sink that is no longer configured stays queued, for when it is again.
        let notifier = self.notifiers.get(&job.sink).ok_or_else(|| {
            NotifyError::retry_after(
                format!("no {} sink is configured", job.sink),
                self.backoff.max,
            )
        })?;
        let dispute = self
            .disputes
            .get(&job.tenant, job.dispute)
            .await
            .map_err(|e| NotifyError::retry(format!("reading the dispute: {e}")))?
            .ok_or_else(|| NotifyError::retry_after("the dispute is missing", self.backoff.max))?;
        let event = Event {
            id: job.event.clone(),
            kind: job.kind,
            seq: job.seq,
            dispute,
            attempt: job.attempts,
        };
        notifier.deliver(&event).await
    }

    /// Runs rounds until `shutdown` completes: at once while there is a backlog, every `poll`
    /// otherwise. A failing store is logged and tried again at the next poll.
    pub async fn run(&self, poll: std::time::Duration, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let busy = match self.run_once().await {
                Ok(round) => round.leased == usize::from(self.batch),
                Err(e) => {
                    tracing::error!(error = %e, "the outbox cannot be read; retrying");
                    false
                }
            };
            if busy {
                continue;
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(poll) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ManualClock, MockDisputeRepository, MockOutbox};
    use chrono::{TimeZone, Utc};
    use disputes_domain::{
        Actor, ActorId, DeliverySubject, DisputeId, DisputePolicy, EvidenceBundle, EvidenceItem,
        EvidenceKind, OpenDispute, Period, Quantity, Role, Subject, TenantId, Unit,
    };
    use std::sync::Mutex;

    fn t0() -> disputes_domain::Timestamp {
        Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap()
    }

    fn dispute() -> Dispute {
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let period = Period::new("p", start, start + Duration::days(1)).unwrap();
        let command = OpenDispute {
            tenant: TenantId::new("acme").unwrap(),
            subject: Subject::Delivery(
                DeliverySubject::new("c", vec!["s".into()], None, period).unwrap(),
            ),
            claim: disputes_domain::Claim::new(
                Quantity::new(5.into(), Unit::new("plays").unwrap()).unwrap(),
            ),
            opened_by: Actor::new(ActorId::new("dev").unwrap(), Role::Advertiser),
            evidence: EvidenceBundle::new(vec![
                EvidenceItem::new(EvidenceKind::ProofPack, "p").unwrap()
            ]),
        };
        Dispute::open(command, t0(), &DisputePolicy::default())
            .unwrap()
            .into_dispute(DisputeId::new(7).unwrap())
    }

    fn job(id: i64, sink: Sink, attempts: u32) -> OutboxJob {
        OutboxJob {
            id,
            event: EventId::generate(),
            tenant: TenantId::new("acme").unwrap(),
            dispute: DisputeId::new(7).unwrap(),
            seq: 1,
            kind: EntryKind::Opened,
            sink,
            attempts,
        }
    }

    fn repo() -> Arc<MockDisputeRepository> {
        let mut repo = MockDisputeRepository::new();
        repo.expect_get().returning(|_, _| Ok(Some(dispute())));
        Arc::new(repo)
    }

    #[test]
    fn backoff_doubles_within_its_jitter_band_up_to_the_cap() {
        let b = Backoff::default();
        assert_eq!(b.delay(1, 0.0), Duration::milliseconds(500));
        assert_eq!(b.delay(1, 1.0), Duration::seconds(1));
        assert_eq!(b.delay(4, 0.0), Duration::seconds(4));
        assert_eq!(b.delay(4, 1.0), Duration::seconds(8));
        assert_eq!(b.delay(40, 1.0), Duration::hours(1));
        assert_eq!(b.delay(u32::MAX, 0.0), Duration::minutes(30));
    }

    #[tokio::test]
    async fn a_taken_event_is_marked_delivered_with_its_facts() {
        let mut outbox = MockOutbox::new();
        let leased = job(1, Sink::Webhook, 1);
        let event = leased.event.clone();
        outbox
            .expect_lease()
            .withf(|now, lease, _| (*now, *lease) == (t0(), Dispatcher::DEFAULT_LEASE))
            .returning(move |_, _, _| Ok(vec![leased.clone()]));
        outbox
            .expect_delivered()
            .withf(|id, at| (*id, *at) == (1, t0()))
            .times(1)
            .returning(|_, _| Ok(()));
        outbox.expect_retry_at().never();
        let mut notifier = MockNotifier::new();
        notifier
            .expect_deliver()
            .withf(move |e| e.id == event && e.entry().map(|x| x.kind()) == Some(EntryKind::Opened))
            .times(1)
            .returning(|_| Ok(()));
        let clock = Arc::new(ManualClock::new(t0()));
        let round = Dispatcher::new(Arc::new(outbox), repo(), clock)
            .with_notifier(Sink::Webhook, Arc::new(notifier))
            .run_once()
            .await
            .unwrap();
        assert_eq!(
            round,
            Round {
                leased: 1,
                delivered: 1,
                retried: 0
            }
        );
    }

    #[tokio::test]
    async fn a_failure_waits_for_retry_after_or_the_backoff() {
        let mut outbox = MockOutbox::new();
        outbox
            .expect_lease()
            .returning(|_, _, _| Ok(vec![job(1, Sink::Freshdesk, 1), job(2, Sink::Email, 3)]));
        let retries = Arc::new(Mutex::new(Vec::new()));
        let seen = retries.clone();
        outbox.expect_retry_at().returning(move |id, at, why| {
            seen.lock().unwrap().push((id, at, why.to_owned()));
            Ok(())
        });
        outbox.expect_delivered().never();
        let mut desk = MockNotifier::new();
        desk.expect_deliver()
            .returning(|_| Err(NotifyError::retry_after("429", Duration::seconds(2))));
        let mut mail = MockNotifier::new();
        mail.expect_deliver()
            .returning(|_| Err(NotifyError::retry("connection refused")));
        let clock = Arc::new(ManualClock::new(t0()));
        let round = Dispatcher::new(Arc::new(outbox), repo(), clock)
            .with_notifier(Sink::Freshdesk, Arc::new(desk))
            .with_notifier(Sink::Email, Arc::new(mail))
            .run_once()
            .await
            .unwrap();
        assert_eq!(round.retried, 2);
        let retries = retries.lock().unwrap();
        assert_eq!(retries[0], (1, t0() + Duration::seconds(2), "429".into()));
        let (id, at, why) = &retries[1];
        assert_eq!((*id, why.as_str()), (2, "connection refused"));
        // Third attempt: between 2 s and 4 s.
        assert!(
            (t0() + Duration::seconds(2)..=t0() + Duration::seconds(4)).contains(at),
            "{at}"
        );
    }

    #[tokio::test]
    async fn a_job_of_an_unconfigured_sink_stays_queued() {
        let mut outbox = MockOutbox::new();
        outbox
            .expect_lease()
            .returning(|_, _, _| Ok(vec![job(1, Sink::Email, 1)]));
        outbox
            .expect_retry_at()
            .withf(|id, at, _| (*id, *at) == (1, t0() + Duration::hours(1)))
            .times(1)
            .returning(|_, _, _| Ok(()));
        let clock = Arc::new(ManualClock::new(t0()));
        let dispatcher = Dispatcher::new(Arc::new(outbox), repo(), clock);
        assert_eq!(dispatcher.sinks(), Vec::new());
        assert_eq!(dispatcher.run_once().await.unwrap().retried, 1);
    }
}
