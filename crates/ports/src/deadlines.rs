//! Deadlines that act: the [`DeadlineScheduler`] finds disputes whose reminder is due or whose
//! `respond_by` has passed, across tenants, and has the engine remind or expire them.
//!
//! Every action goes through [`DisputeService::apply_deadline`], the same version-guarded
//! read-apply-write as a user's change, so its timeline entry is hash-chained and its
//! notifications are queued in the same transaction. Any number of schedulers may share one
//! store: of two that act on one dispute, one write wins and the other re-reads and finds that
//! nothing is due any more; a user's change that races a scheduler is never lost either.

use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use disputes_domain::{DisputeId, TenantId, Timestamp};

use crate::{Clock, DeadlineAction, DisputeService, StoreError};

/// A dispute that needs the scheduler's attention.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DueDeadline {
    pub tenant: TenantId,
    pub id: DisputeId,
}

/// The store's index of deadlines, across tenants.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait DeadlineQueue: Send + Sync + std::fmt::Debug {
    /// Up to `limit` non-final disputes of any tenant, earliest `respond_by` first, whose
    /// `respond_by` is at or before `now`, or whose reminder is due at `now` (`respond_by` is
    /// within their tenant's `remind_before`, the default policy's for a tenant without a policy
    /// of its own) and was not recorded yet for that `respond_by`.
    ///
    /// The scheduler lets the domain decide; this only has to be cheap (backed by an index) and
    /// MUST NOT return a dispute whose current deadline was reminded of and has not passed, so
    /// that reminded disputes do not crowd out the ones that are due.
    async fn due_deadlines(
        &self,
        now: Timestamp,
        limit: u16,
    ) -> Result<Vec<DueDeadline>, StoreError>;
}

/// What one round of [`DeadlineScheduler::run_once`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeadlineRound {
    /// Disputes the queue returned.
    pub due: usize,
    pub reminded: usize,
    pub expired: usize,
    /// Disputes whose action failed (logged; tried again next round).
    pub failed: usize,
}

/// Reminds and expires disputes as their deadlines come, in bounded batches.
#[derive(Debug, Clone)]
pub struct DeadlineScheduler {
    queue: Arc<dyn DeadlineQueue>,
    disputes: DisputeService,
    clock: Arc<dyn Clock>,
    batch: u16,
}

impl DeadlineScheduler {
    /// Disputes acted on per round.
    pub const DEFAULT_BATCH: u16 = 100;

    /// A scheduler over `queue` that acts through `disputes` (whose tenant policies and sinks
    /// apply, so its reminders and expiries notify like any change).
    pub fn new(
        queue: Arc<dyn DeadlineQueue>,
        disputes: DisputeService,
        clock: Arc<dyn Clock>,
    ) -> Self {
        DeadlineScheduler {
            queue,
            disputes,
            clock,
            batch: Self::DEFAULT_BATCH,
        }
    }

    pub fn with_batch(mut self, batch: u16) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// Acts on one batch of due deadlines. A dispute whose action fails is logged and left for
    /// the next round.
    ///
    /// # Errors
    /// When the queue cannot be read.
    pub async fn run_once(&self) -> Result<DeadlineRound, StoreError> {
        let due = self
            .queue
            .due_deadlines(self.clock.now(), self.batch)
            .await?;
        let mut round = DeadlineRound {
            due: due.len(),
            ..DeadlineRound::default()
        };
        for DueDeadline { tenant, id } in due {
            match self.disputes.apply_deadline(&tenant, id).await {
                Ok(Some(DeadlineAction::Reminded)) => {
                    tracing::info!(tenant = %tenant, dispute = %id, "deadline near: reminded");
                    round.reminded += 1;
                }
                Ok(Some(DeadlineAction::Expired)) => {
                    tracing::info!(tenant = %tenant, dispute = %id, "deadline passed: expired");
                    round.expired += 1;
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(tenant = %tenant, dispute = %id, error = %e, "cannot act on a deadline; will retry");
                    round.failed += 1;
                }
            }
        }
        Ok(round)
    }

    /// Runs rounds until `shutdown` completes: at once while a full batch was acted on, every
    /// `poll` otherwise. A failing store is logged and tried again at the next poll.
    pub async fn run(&self, poll: std::time::Duration, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let busy = match self.run_once().await {
                // A full batch that made progress may have more behind it; one that made none
                // would only be read again, so it waits for the poll like an idle one.
                Ok(round) => {
                    round.due == usize::from(self.batch) && round.reminded + round.expired > 0
                }
                Err(e) => {
                    tracing::error!(error = %e, "the deadlines cannot be read; retrying");
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
    use crate::{ManualClock, MockDisputeRepository, Sink};
    use chrono::{Duration, TimeZone, Utc};
    use disputes_domain::{
        Actor, ActorId, Claim, DeliverySubject, Dispute, DisputePolicy, EntryKind, EvidenceBundle,
        EvidenceItem, EvidenceKind, OpenDispute, Period, Quantity, Role, Status, Subject, Unit,
        Version,
    };

    fn t0() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap()
    }

    fn acme() -> TenantId {
        TenantId::new("acme").unwrap()
    }

    fn id() -> DisputeId {
        DisputeId::new(7).unwrap()
    }

    fn stored() -> Dispute {
        let period = Period::new("p", t0(), t0() + Duration::days(1)).unwrap();
        let command = OpenDispute {
            tenant: acme(),
            subject: Subject::Delivery(
                DeliverySubject::new("c", vec!["s".into()], None, period).unwrap(),
            ),
            claim: Claim::new(Quantity::new(5.into(), Unit::new("plays").unwrap()).unwrap()),
            opened_by: Actor::new(ActorId::new("dev").unwrap(), Role::Advertiser),
            evidence: EvidenceBundle::new(vec![
                EvidenceItem::new(EvidenceKind::ProofPack, "p").unwrap()
            ]),
        };
        Dispute::open(command, t0(), &DisputePolicy::default())
            .unwrap()
            .into_dispute(id())
    }

    fn queue_of(due: Vec<DueDeadline>) -> MockDeadlineQueue {
        let mut queue = MockDeadlineQueue::new();
        queue
            .expect_due_deadlines()
            .returning(move |_, _| Ok(due.clone()));
        queue
    }

    fn scheduler(
        repo: MockDisputeRepository,
        queue: MockDeadlineQueue,
        at: Duration,
    ) -> DeadlineScheduler {
        let clock = Arc::new(ManualClock::new(t0() + at));
        let disputes = DisputeService::new(Arc::new(repo), clock.clone(), DisputePolicy::default())
            .with_sinks([Sink::Webhook]);
        DeadlineScheduler::new(Arc::new(queue), disputes, clock)
    }

    fn due() -> Vec<DueDeadline> {
        vec![DueDeadline {
            tenant: acme(),
            id: id(),
        }]
    }

    #[tokio::test]
    async fn an_overdue_dispute_is_expired_with_its_notification() {
        let mut repo = MockDisputeRepository::new();
        repo.expect_get().returning(|_, _| Ok(Some(stored())));
        repo.expect_update()
            .withf(|d, expected, write| {
                d.status() == Status::Expired
                    && *expected == Version::FIRST
                    && write.notifications.len() == 1
                    && write.notifications[0].kind == EntryKind::Expired
            })
            .times(1)
            .returning(|_, _, _| Ok(()));
        let round = scheduler(repo, queue_of(due()), Duration::days(14))
            .run_once()
            .await
            .unwrap();
        assert_eq!((round.due, round.expired, round.reminded), (1, 1, 0));
    }

    #[tokio::test]
    async fn a_near_deadline_is_reminded_and_nothing_is_written_before_the_window() {
        let mut repo = MockDisputeRepository::new();
        repo.expect_get().returning(|_, _| Ok(Some(stored())));
        repo.expect_update()
            .withf(|d, _, write| {
                d.status() == Status::Open
                    && write.notifications.len() == 1
                    && write.notifications[0].kind == EntryKind::Reminder
            })
            .times(1)
            .returning(|_, _, _| Ok(()));
        let round = scheduler(repo, queue_of(due()), Duration::days(12))
            .run_once()
            .await
            .unwrap();
        assert_eq!((round.reminded, round.expired), (1, 0));

        let mut repo = MockDisputeRepository::new();
        repo.expect_get().returning(|_, _| Ok(Some(stored())));
        repo.expect_update().never();
        let round = scheduler(repo, queue_of(due()), Duration::days(11))
            .run_once()
            .await
            .unwrap();
        assert_eq!((round.due, round.reminded, round.expired), (1, 0, 0));
    }

    #[tokio::test]
    async fn a_lost_race_re_reads_and_finds_nothing_left_to_do() {
        let mut repo = MockDisputeRepository::new();
        let mut reads = 0;
        repo.expect_get().times(2).returning(move |_, _| {
            reads += 1;
            let mut d = stored();
            if reads > 1 {
                // The other scheduler's expiry is what the second read sees.
                d.expire(t0() + Duration::days(14), &DisputePolicy::default())
                    .unwrap();
            }
            Ok(Some(d))
        });
        repo.expect_update()
            .times(1)
            .returning(|_, _, _| Err(StoreError::VersionConflict));
        let round = scheduler(repo, queue_of(due()), Duration::days(15))
            .run_once()
            .await
            .unwrap();
        assert_eq!((round.expired, round.failed), (0, 0));
    }

    #[tokio::test]
    async fn a_failing_dispute_does_not_stop_the_round() {
        let mut repo = MockDisputeRepository::new();
        repo.expect_get()
            .returning(|_, _| Err(StoreError::Unavailable("down".into())));
        let mut twice = due();
        twice.extend(due());
        let round = scheduler(repo, queue_of(twice), Duration::days(15))
            .run_once()
            .await
            .unwrap();
        assert_eq!((round.due, round.failed), (2, 2));
    }
}
