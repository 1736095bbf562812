//! The dispatcher: leases the outbox's due jobs, hands each to its sink's [`Notifier`], and
//! marks it delivered, due again after the sink's retry schedule, or dead-lettered. A job leaves
//! the queue only when its sink took it or when it is given up on (a permanent refusal, or the
//! sink's last attempt failed), and a dead-lettered job stays in the outbox, listed, until an
//! operator replays it. It may be offered again after a lost acknowledgement, always with the
//! same event id, so sinks drop repeats by that id.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::Duration;
use disputes_domain::{Dispute, EntryKind, TimelineEntry, Timestamp};
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
    /// Which attempt this is, from 1 (again from 1 after a replay).
    pub attempt: u32,
    /// Whether the job was replayed after it was dead-lettered (see [`OutboxJob::replayed`]).
    pub replayed: bool,
}

impl Event {
    /// The timeline entry the event is about.
    pub fn entry(&self) -> Option<&TimelineEntry> {
        self.dispute.timeline().iter().find(|e| e.seq() == self.seq)
    }

    /// Whether an earlier attempt may have reached the sink: this one is not the first, or the
    /// job was replayed after attempts whose count was reset. A sink that creates something
    /// looks for what such an attempt left before creating it again.
    pub fn may_follow_an_attempt(&self) -> bool {
        self.attempt > 1 || self.replayed
    }
}

/// Why a sink did not take an event. A failure is tried again on the sink's [`RetryPolicy`],
/// unless it is permanent or it was the sink's last attempt: then the job is dead-lettered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct NotifyError {
    /// What went wrong, for the outbox's `last_error` and the log.
    pub reason: String,
    /// How long the sink asked to be left alone (`Retry-After`); the schedule otherwise.
    pub retry_after: Option<Duration>,
    /// Whether the receiver refused the event for good (an SMTP 5xx, a webhook's 410 Gone, a
    /// Freshdesk validation error): asking again would get the same answer, so the job is
    /// dead-lettered at once, for an operator to look at and replay.
    pub permanent: bool,
}

impl NotifyError {
    /// A failure to retry on the sink's schedule.
    pub fn retry(reason: impl Into<String>) -> Self {
        NotifyError {
            reason: reason.into(),
            retry_after: None,
            permanent: false,
        }
    }

    /// A failure to retry no sooner than `after`, as the sink asked.
    pub fn retry_after(reason: impl Into<String>, after: Duration) -> Self {
        NotifyError {
            reason: reason.into(),
            retry_after: Some(after),
            permanent: false,
        }
    }

    /// A refusal that no retry will change: the job is dead-lettered at once.
    pub fn permanent(reason: impl Into<String>) -> Self {
        NotifyError {
            reason: reason.into(),
            retry_after: None,
            permanent: true,
        }
    }

    /// The failures of one event at several receivers (a tenant's endpoints, a mail's
    /// recipients) as one, or `None` for none: every reason, the longest wait any receiver
    /// asked for (so none is called back too early), and permanent only when every one was,
    /// since otherwise a retry still has somewhere to go (receivers that took the event are
    /// not offered it again).
    pub fn combine(failures: Vec<NotifyError>) -> Option<NotifyError> {
        if failures.is_empty() {
            return None;
        }
        Some(NotifyError {
            reason: failures
                .iter()
                .map(|f| f.reason.as_str())
                .collect::<Vec<_>>()
                .join("; "),
            retry_after: failures.iter().filter_map(|f| f.retry_after).max(),
            permanent: failures.iter().all(|f| f.permanent),
        })
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
    /// again later with the same id, unless the error is
    /// [`permanent`](NotifyError::permanent) or the sink's attempts are used up. A notifier
    /// SHOULD make a repeat harmless (pass the id on, or look for what the first attempt
    /// created), since an acknowledgement can be lost, and SHOULD call a refusal permanent
    /// only when the receiver said so for good.
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

/// When a sink's failed job is tried again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// Exponential [`Backoff`]: email and Freshdesk.
    Backoff(Backoff),
    /// A fixed wait after each failed attempt (the first after attempt 1), the last one
    /// repeated. Each is lengthened by at most a tenth of itself: enough jitter to spread jobs
    /// that failed together, little enough that a receiver sees the steps it was promised.
    Steps(Vec<Duration>),
}

impl Schedule {
    /// The delivery vendor's webhook schedule (EnfinitOS retries a delivery at about 30 s,
    /// 2 min, 10 min and 1 h), so its clients see the retries they were told of.
    pub fn vendor_webhooks() -> Schedule {
        Schedule::Steps(vec![
            Duration::seconds(30),
            Duration::minutes(2),
            Duration::minutes(10),
            Duration::hours(1),
        ])
    }

    /// The wait after failed attempt `attempt` (from 1), with `jitter` in `[0, 1]`.
    pub fn delay(&self, attempt: u32, jitter: f64) -> Duration {
        match self {
            Schedule::Backoff(backoff) => backoff.delay(attempt, jitter),
            Schedule::Steps(steps) => {
                let index = usize::try_from(attempt.saturating_sub(1)).unwrap_or(usize::MAX);
                let step = steps
                    .get(index)
                    .or(steps.last())
                    .copied()
                    .unwrap_or_else(Duration::zero);
                let tenth = step.num_milliseconds() as f64 / 10.0;
                step + Duration::milliseconds((tenth * jitter.clamp(0.0, 1.0)) as i64)
            }
        }
    }
}

/// How a sink's failed jobs are retried and when they are given up on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    pub schedule: Schedule,
    /// The attempts a job gets; when the last one fails, the job is dead-lettered.
    pub max_attempts: u32,
}

impl RetryPolicy {
    /// The delivery vendor dead-letters a webhook delivery after its fifth failed attempt.
    pub const WEBHOOK_MAX_ATTEMPTS: u32 = 5;
    /// Email and Freshdesk: with the default backoff (1 s doubling to 1 h), 40 attempts span
    /// about a day (15 to 29 hours), long enough to ride out a relay's or a desk's outage.
    pub const DEFAULT_MAX_ATTEMPTS: u32 = 40;

    /// The vendor's webhook schedule, dead-lettered after the fifth failed attempt.
    pub fn webhooks() -> RetryPolicy {
        RetryPolicy {
            schedule: Schedule::vendor_webhooks(),
            max_attempts: Self::WEBHOOK_MAX_ATTEMPTS,
        }
    }

    /// Exponential `backoff`, dead-lettered after `max_attempts` failed attempts.
    pub fn backoff(backoff: Backoff, max_attempts: u32) -> RetryPolicy {
        RetryPolicy {
            schedule: Schedule::Backoff(backoff),
            max_attempts,
        }
    }
}

/// What one round of [`Dispatcher::run_once`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub leased: usize,
    pub delivered: usize,
    pub retried: usize,
    pub dead_lettered: usize,
}

/// Delivers the outbox's jobs to the sinks' notifiers. Any number of dispatchers may share one
/// outbox: leases are exclusive while their lease runs.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    outbox: Arc<dyn Outbox>,
    disputes: Arc<dyn DisputeRepository>,
    clock: Arc<dyn Clock>,
    notifiers: HashMap<Sink, Arc<dyn Notifier>>,
    policies: HashMap<Sink, RetryPolicy>,
    /// The exponential sinks' backoff; its `max` is also how long a job waits for a sink that
    /// is not configured, or for its dispute.
    backoff: Backoff,
    lease: Duration,
    batch: u16,
    retention: Duration,
}

impl Dispatcher {
    /// How long a leased job is kept from other dispatchers. It must outlast a round's
    /// deliveries (each notifier bounds its own with a timeout well below this), or a slow round
    /// would see its jobs leased and sent a second time.
    pub const DEFAULT_LEASE: Duration = Duration::minutes(5);
    /// Jobs leased per round.
    pub const DEFAULT_BATCH: u16 = 32;
    /// How long a delivered job is kept (for an operator's questions) before it is pruned.
    pub const DEFAULT_RETENTION: Duration = Duration::days(7);
    /// Delivered jobs deleted per prune: small enough that a large backlog never holds a
    /// lock (SQLite's write lock above all) for long.
    pub const PRUNE_BATCH: u16 = 500;
    /// How often [`run`](Self::run) prunes when the last prune left nothing behind.
    pub const PRUNE_EVERY: Duration = Duration::minutes(10);

    pub fn new(
        outbox: Arc<dyn Outbox>,
        disputes: Arc<dyn DisputeRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let backoff = Backoff::default();
        let policies = Sink::ALL
            .iter()
            .map(|&sink| {
                let policy = match sink {
                    Sink::Webhook => RetryPolicy::webhooks(),
                    Sink::Email | Sink::Freshdesk => {
                        RetryPolicy::backoff(backoff, RetryPolicy::DEFAULT_MAX_ATTEMPTS)
                    }
                };
                (sink, policy)
            })
            .collect();
        Dispatcher {
            outbox,
            disputes,
            clock,
            notifiers: HashMap::new(),
            policies,
            backoff,
            lease: Self::DEFAULT_LEASE,
            batch: Self::DEFAULT_BATCH,
            retention: Self::DEFAULT_RETENTION,
        }
    }

    /// Delivers `sink`'s jobs with `notifier`.
    pub fn with_notifier(mut self, sink: Sink, notifier: Arc<dyn Notifier>) -> Self {
        self.notifiers.insert(sink, notifier);
        self
    }

    /// Retries `sink`'s failed jobs on `policy` (by default: webhooks on the vendor's
    /// schedule, 5 attempts; email and Freshdesk on the backoff, 40 attempts).
    pub fn with_retry_policy(mut self, sink: Sink, policy: RetryPolicy) -> Self {
        self.policies.insert(sink, policy);
        self
    }

    /// The backoff of every sink whose schedule is exponential, and the wait of a job whose
    /// sink is not configured (its `max`).
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        for policy in self.policies.values_mut() {
            if let Schedule::Backoff(b) = &mut policy.schedule {
                *b = backoff;
            }
        }
        self
    }

    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How long delivered jobs are kept before [`prune_once`](Self::prune_once) deletes them.
    pub fn with_retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// How long delivered jobs are kept.
    pub fn retention(&self) -> Duration {
        self.retention
    }

    /// How `sink`'s failed jobs are retried.
    pub fn retry_policy(&self, sink: Sink) -> &RetryPolicy {
        &self.policies[&sink]
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

    /// Leases one batch of due jobs and delivers each: a delivered one is marked so; a failed
    /// one is due again after the sink's `Retry-After` or its schedule, or dead-lettered when
    /// the refusal is permanent or its sink's last attempt failed.
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
                    if self.gives_up(job, &failure) {
                        self.dead_letter(job, &failure).await?;
                        round.dead_lettered += 1;
                    } else {
                        self.retry(job, &failure).await?;
                        round.retried += 1;
                    }
                }
            }
        }
        Ok(round)
    }

    /// Whether `job` is given up on after `failure`. A job whose sink is not configured is
    /// not: nothing refused it, it waits for the sink to be configured again.
    fn gives_up(&self, job: &OutboxJob, failure: &NotifyError) -> bool {
        self.notifiers.contains_key(&job.sink)
            && (failure.permanent || job.attempts >= self.retry_policy(job.sink).max_attempts)
    }

    async fn retry(&self, job: &OutboxJob, failure: &NotifyError) -> Result<(), StoreError> {
        let wait = failure.retry_after.unwrap_or_else(|| {
            self.retry_policy(job.sink)
                .schedule
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
            .await
    }

    async fn dead_letter(&self, job: &OutboxJob, failure: &NotifyError) -> Result<(), StoreError> {
        let why = if failure.permanent {
            "the receiver refused it for good"
        } else {
            "its last attempt failed"
        };
        // Loud on purpose: nothing retries this job any more, so someone has to look.
        tracing::error!(
            job = job.id, event = %job.event, sink = %job.sink, tenant = %job.tenant,
            dispute = %job.dispute, attempts = job.attempts, reason = %failure,
            "notification dead-lettered ({why}); `disputes outbox retry {}` replays it",
            job.id
        );
        self.outbox
            .dead_letter(job.id, self.clock.now(), &failure.reason)
            .await
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
            replayed: job.replayed,
        };
        notifier.deliver(&event).await
    }

    /// Deletes one batch ([`PRUNE_BATCH`](Self::PRUNE_BATCH)) of the jobs delivered longer
    /// than the retention ago; answers how many.
    ///
    /// # Errors
    /// When the outbox cannot be written.
    pub async fn prune_once(&self) -> Result<u64, StoreError> {
        let before: Timestamp = self.clock.now() - self.retention;
        self.outbox.prune_delivered(before, Self::PRUNE_BATCH).await
    }

    /// Runs rounds until `shutdown` completes: at once while there is a backlog, every `poll`
    /// otherwise; prunes delivered jobs every [`PRUNE_EVERY`](Self::PRUNE_EVERY), or at every
    /// poll while a prune still finds a full batch. A failing store is logged and tried again
    /// at the next poll.
    pub async fn run(&self, poll: std::time::Duration, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut next_prune = self.clock.now();
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
            if self.clock.now() >= next_prune {
                next_prune = match self.prune_once().await {
                    Ok(pruned) if pruned == u64::from(Self::PRUNE_BATCH) => self.clock.now(),
                    Ok(pruned) => {
                        if pruned > 0 {
                            tracing::info!(pruned, "delivered notifications pruned");
                        }
                        self.clock.now() + Self::PRUNE_EVERY
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "delivered notifications cannot be pruned");
                        self.clock.now() + Self::PRUNE_EVERY
                    }
                };
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
            replayed: false,
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

    #[test]
    fn webhooks_follow_the_vendors_steps_with_a_little_jitter() {
        let webhooks = RetryPolicy::webhooks();
        assert_eq!(webhooks.max_attempts, 5);
        let steps = [
            Duration::seconds(30),
            Duration::minutes(2),
            Duration::minutes(10),
            Duration::hours(1),
        ];
        for (attempt, step) in (1..).zip(steps) {
            assert_eq!(webhooks.schedule.delay(attempt, 0.0), step, "{attempt}");
            assert_eq!(
                webhooks.schedule.delay(attempt, 1.0),
                step + step / 10,
                "at most a tenth later: {attempt}"
            );
        }
        assert_eq!(webhooks.schedule.delay(9, 0.0), Duration::hours(1));
        assert_eq!(Schedule::Steps(Vec::new()).delay(1, 1.0), Duration::zero());
    }

    /// A dispatcher over `outbox` with a notifier for `sink` that fails every event with
    /// `failure`, at `t0`.
    fn failing(outbox: MockOutbox, sink: Sink, failure: NotifyError) -> Dispatcher {
        let mut notifier = MockNotifier::new();
        notifier
            .expect_deliver()
            .returning(move |_| Err(failure.clone()));
        Dispatcher::new(Arc::new(outbox), repo(), Arc::new(ManualClock::new(t0())))
            .with_notifier(sink, Arc::new(notifier))
    }

    #[tokio::test]
    async fn a_webhook_is_retried_on_the_vendors_steps_and_dead_lettered_after_the_fifth() {
        let waits = Arc::new(Mutex::new(Vec::new()));
        for attempt in 1..=5 {
            let mut outbox = MockOutbox::new();
            outbox
                .expect_lease()
                .returning(move |_, _, _| Ok(vec![job(1, Sink::Webhook, attempt)]));
            let seen = waits.clone();
            outbox.expect_retry_at().returning(move |_, at, _| {
                seen.lock().unwrap().push(at - t0());
                Ok(())
            });
            let given_up = attempt == 5;
            outbox
                .expect_dead_letter()
                .withf(|id, at, why| (*id, *at, why) == (1, t0(), "http://x/hook: 500"))
                .times(usize::from(given_up))
                .returning(|_, _, _| Ok(()));
            let round = failing(
                outbox,
                Sink::Webhook,
                NotifyError::retry("http://x/hook: 500"),
            )
            .run_once()
            .await
            .unwrap();
            assert_eq!(
                (round.retried, round.dead_lettered),
                if given_up { (0, 1) } else { (1, 0) },
                "attempt {attempt}"
            );
        }
        let waits = waits.lock().unwrap();
        let steps = [30, 120, 600, 3600].map(Duration::seconds);
        assert_eq!(waits.len(), 4, "{waits:?}");
        for (wait, step) in waits.iter().zip(steps) {
            assert!(
                (step..=step + step / 10).contains(wait),
                "{wait} for {step}"
            );
        }
    }

    #[tokio::test]
    async fn retry_after_still_sets_a_webhooks_wait() {
        let mut outbox = MockOutbox::new();
        outbox
            .expect_lease()
            .returning(|_, _, _| Ok(vec![job(1, Sink::Webhook, 1)]));
        outbox
            .expect_retry_at()
            .withf(|id, at, _| (*id, *at) == (1, t0() + Duration::seconds(7)))
            .times(1)
            .returning(|_, _, _| Ok(()));
        let failure = NotifyError::retry_after("429", Duration::seconds(7));
        let round = failing(outbox, Sink::Webhook, failure)
            .run_once()
            .await
            .unwrap();
        assert_eq!(round.retried, 1);
    }

    #[tokio::test]
    async fn a_permanent_refusal_is_dead_lettered_at_once() {
        let mut outbox = MockOutbox::new();
        outbox
            .expect_lease()
            .returning(|_, _, _| Ok(vec![job(1, Sink::Webhook, 1), job(2, Sink::Webhook, 1)]));
        outbox.expect_retry_at().never();
        let dead = Arc::new(Mutex::new(Vec::new()));
        let seen = dead.clone();
        outbox.expect_dead_letter().returning(move |id, at, why| {
            seen.lock().unwrap().push((id, at, why.to_owned()));
            Ok(())
        });
        let round = failing(outbox, Sink::Webhook, NotifyError::permanent("410 Gone"))
            .run_once()
            .await
            .unwrap();
        assert_eq!((round.leased, round.dead_lettered), (2, 2));
        assert_eq!(
            *dead.lock().unwrap(),
            [(1, t0(), "410 Gone".into()), (2, t0(), "410 Gone".into())]
        );
    }

    #[tokio::test]
    async fn other_sinks_back_off_until_their_own_last_attempt() {
        let mut outbox = MockOutbox::new();
        let last = RetryPolicy::DEFAULT_MAX_ATTEMPTS;
        outbox.expect_lease().returning(move |_, _, _| {
            Ok(vec![
                job(1, Sink::Email, last - 1),
                job(2, Sink::Email, last),
            ])
        });
        outbox
            .expect_retry_at()
            .withf(|id, _, _| *id == 1)
            .times(1)
            .returning(|_, _, _| Ok(()));
        outbox
            .expect_dead_letter()
            .withf(|id, _, _| *id == 2)
            .times(1)
            .returning(|_, _, _| Ok(()));
        let round = failing(outbox, Sink::Email, NotifyError::retry("relay down"))
            .run_once()
            .await
            .unwrap();
        assert_eq!((round.retried, round.dead_lettered), (1, 1));
    }

    #[tokio::test]
    async fn a_configured_limit_replaces_the_default() {
        let mut outbox = MockOutbox::new();
        outbox
            .expect_lease()
            .returning(|_, _, _| Ok(vec![job(1, Sink::Webhook, 2)]));
        outbox
            .expect_dead_letter()
            .times(1)
            .returning(|_, _, _| Ok(()));
        let policy = RetryPolicy {
            max_attempts: 2,
            ..RetryPolicy::webhooks()
        };
        let round = failing(outbox, Sink::Webhook, NotifyError::retry("500"))
            .with_retry_policy(Sink::Webhook, policy)
            .run_once()
            .await
            .unwrap();
        assert_eq!(round.dead_lettered, 1);
    }

    #[tokio::test]
    async fn delivered_jobs_are_pruned_after_the_retention_in_bounded_batches() {
        let mut outbox = MockOutbox::new();
        outbox
            .expect_prune_delivered()
            .withf(|before, limit| {
                (*before, *limit) == (t0() - Duration::days(2), Dispatcher::PRUNE_BATCH)
            })
            .times(1)
            .returning(|_, _| Ok(3));
        let dispatcher =
            Dispatcher::new(Arc::new(outbox), repo(), Arc::new(ManualClock::new(t0())))
                .with_retention(Duration::days(2));
        assert_eq!(dispatcher.prune_once().await.unwrap(), 3);
    }

    #[test]
    fn failures_at_several_receivers_are_permanent_only_when_all_are() {
        assert_eq!(NotifyError::combine(Vec::new()), None);
        let gone = NotifyError::permanent("a: 410 Gone");
        let busy = NotifyError::retry_after("b: 503", Duration::seconds(9));
        let both = NotifyError::combine(vec![gone.clone(), busy]).unwrap();
        assert_eq!(both.reason, "a: 410 Gone; b: 503");
        assert_eq!(both.retry_after, Some(Duration::seconds(9)));
        assert!(!both.permanent, "b may still take it");
        let all_gone = NotifyError::combine(vec![gone.clone(), gone]).unwrap();
        assert!(all_gone.permanent);
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
                retried: 0,
                dead_lettered: 0,
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
        // However often it was tried: nothing refused it.
        outbox
            .expect_lease()
            .returning(|_, _, _| Ok(vec![job(1, Sink::Email, 1000)]));
        outbox.expect_dead_letter().never();
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
