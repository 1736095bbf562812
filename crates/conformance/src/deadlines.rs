//! The deadline conformance suite: tenant policies, the deadline queue and the scheduler on a
//! real store, driven by a [`ManualClock`]. Every store adapter runs it in its own tests:
//!
//! ```text
//! disputes_conformance::deadline_conformance_suite!(my_store::fresh_for_test());
//! ```
//!
//! As with [`repository_conformance_suite!`](crate::repository_conformance_suite), the
//! expression yields a future of `Arc<S>` for a fresh, empty store, here one that also
//! implements [`TenantPolicies`] and [`DeadlineQueue`].

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use disputes_domain::{
    Actor, ActorId, Dispute, DisputeId, DisputePolicy, EntryKind, Outcome, Role, Status, TenantId,
    Timestamp,
};
use rust_decimal::Decimal;

use crate::repository::{delivery, Store};
use disputes_ports::{
    Clock as _, DeadlineQueue, DeadlineScheduler, DisputeService, DueDeadline, ManualClock,
    OpenRequest, Principal, Sink, StoreError, TenantPolicies,
};

/// Runs every deadline case as its own test against the stores `$store` makes.
#[macro_export]
macro_rules! deadline_conformance_suite {
    ($store:expr) => {
        $crate::__deadline_cases!($store;
            policies_are_stored_per_tenant,
            the_queue_finds_due_reminders_and_expiries_across_tenants,
            the_scheduler_reminds_once_then_expires_once_with_the_policy_outcome,
            an_answer_in_time_moves_the_deadline_and_earns_a_new_reminder,
            racing_schedulers_expire_each_dispute_once,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __deadline_cases {
    ($store:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let store = $store.await;
                $crate::deadlines::$case(store).await;
            }
        )*
    };
}

/// What the suite needs of a store.
pub trait DeadlineStore: Store + TenantPolicies + DeadlineQueue {}
impl<T> DeadlineStore for T where T: Store + TenantPolicies + DeadlineQueue {}

fn t0() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

fn tenant(slug: &str) -> TenantId {
    TenantId::new(slug).unwrap()
}

fn advertiser(slug: &str) -> Principal {
    Principal {
        tenant: tenant(slug),
        actor: Actor::new(ActorId::new("adv-dev").unwrap(), Role::Advertiser),
    }
}

fn operator(slug: &str) -> Principal {
    Principal {
        tenant: tenant(slug),
        actor: Actor::new(ActorId::new("op-dev").unwrap(), Role::Operator),
    }
}

/// A tenant that grants on expiry and is reminded a day before a three-day deadline.
fn generous() -> DisputePolicy {
    DisputePolicy::new(Duration::days(3), true, Duration::days(1)).unwrap()
}

async fn with_tenants<S: DeadlineStore>(store: &S, slugs: &[&str]) {
    for slug in slugs {
        store.create_tenant(&tenant(slug), t0()).await.unwrap();
    }
}

/// The use cases and a scheduler over `store`, on one manual clock, queueing webhooks.
fn wired<S: DeadlineStore>(
    store: &Arc<S>,
) -> (DisputeService, DeadlineScheduler, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(t0()));
    let disputes = DisputeService::new(store.clone(), clock.clone(), DisputePolicy::default())
        .with_policies(store.clone())
        .with_sinks([Sink::Webhook]);
    let scheduler = DeadlineScheduler::new(store.clone(), disputes.clone(), clock.clone());
    (disputes, scheduler, clock)
}

async fn open(disputes: &DisputeService, slug: &str, campaign: &str) -> Dispute {
    let command = delivery(slug, campaign, &["s1"], 0, 7);
    let request = OpenRequest {
        subject: command.subject,
        claim: command.claim,
        evidence: command.evidence,
        opened_by: None,
    };
    disputes
        .open(&advertiser(slug), request, None)
        .await
        .unwrap()
}

async fn read<S: DeadlineStore>(store: &S, d: &Dispute) -> Dispute {
    store.get(d.tenant(), d.id()).await.unwrap().unwrap()
}

fn kinds(d: &Dispute) -> Vec<EntryKind> {
    d.timeline().iter().map(|e| e.kind()).collect()
}

/// The kinds of the jobs queued (and not yet delivered) for `d`, by timeline seq.
async fn queued<S: DeadlineStore>(store: &S, d: &Dispute, at: Timestamp) -> Vec<(i64, EntryKind)> {
    let mut jobs = store
        .lease(at, Duration::seconds(1), 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|job| job.dispute == d.id())
        .map(|job| (job.seq, job.kind))
        .collect::<Vec<_>>();
    jobs.sort_by_key(|(seq, _)| *seq);
    jobs
}

pub async fn policies_are_stored_per_tenant<S: DeadlineStore>(store: Arc<S>) {
    with_tenants(&*store, &["acme", "globex"]).await;
    assert_eq!(store.policy(&tenant("acme")).await.unwrap(), None);
    store
        .set_policy(&tenant("acme"), &generous())
        .await
        .unwrap();
    assert_eq!(
        store.policy(&tenant("acme")).await.unwrap(),
        Some(generous())
    );
    assert_eq!(store.policy(&tenant("globex")).await.unwrap(), None);

    let strict = DisputePolicy::new(Duration::seconds(90), false, Duration::zero()).unwrap();
    store.set_policy(&tenant("acme"), &strict).await.unwrap();
    assert_eq!(store.policy(&tenant("acme")).await.unwrap(), Some(strict));

    assert!(matches!(
        store.set_policy(&tenant("nobody"), &strict).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn the_queue_finds_due_reminders_and_expiries_across_tenants<S: DeadlineStore>(
    store: Arc<S>,
) {
    with_tenants(&*store, &["acme", "globex"]).await;
    store
        .set_policy(&tenant("globex"), &generous())
        .await
        .unwrap();
    let (disputes, _, clock) = wired(&store);
    // acme: the default policy, due in 14 days, reminded from day 12. globex: due in 3 days,
    // reminded from day 2.
    let a = open(&disputes, "acme", "c1").await;
    let g = open(&disputes, "globex", "c1").await;
    let settled = open(&disputes, "acme", "c2").await;
    disputes
        .withdraw(
            &advertiser("acme"),
            settled.id(),
            settled.subject().kind(),
            disputes_ports::Conditions::default(),
            "",
        )
        .await
        .unwrap();
    assert_eq!(g.respond_by(), Some(t0() + Duration::days(3)));
    let due = |d: &Dispute| DueDeadline {
        tenant: d.tenant().clone(),
        id: d.id(),
    };

    let at = |days: i64| t0() + Duration::days(days);
    assert_eq!(store.due_deadlines(t0(), 100).await.unwrap(), vec![]);
    assert_eq!(
        store
            .due_deadlines(at(2) - Duration::microseconds(1), 100)
            .await
            .unwrap(),
        vec![]
    );
    assert_eq!(
        store.due_deadlines(at(2), 100).await.unwrap(),
        vec![due(&g)]
    );
    // Earliest deadline first, the final dispute never, and no more than asked for.
    assert_eq!(
        store.due_deadlines(at(12), 100).await.unwrap(),
        vec![due(&g), due(&a)]
    );
    assert_eq!(store.due_deadlines(at(12), 1).await.unwrap(), vec![due(&g)]);

    // Once reminded, a dispute is due again only when its deadline passes.
    clock.advance(Duration::days(2));
    disputes
        .apply_deadline(g.tenant(), g.id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(store.due_deadlines(at(2), 100).await.unwrap(), vec![]);
    assert_eq!(
        store
            .due_deadlines(at(3) - Duration::microseconds(1), 100)
            .await
            .unwrap(),
        vec![]
    );
    assert_eq!(
        store.due_deadlines(at(3), 100).await.unwrap(),
        vec![due(&g)]
    );
}

pub async fn the_scheduler_reminds_once_then_expires_once_with_the_policy_outcome<
    S: DeadlineStore,
>(
    store: Arc<S>,
) {
    with_tenants(&*store, &["acme", "globex"]).await;
    store
        .set_policy(&tenant("globex"), &generous())
        .await
        .unwrap();
    let (disputes, scheduler, clock) = wired(&store);
    let denied = open(&disputes, "acme", "c1").await;
    let granted = open(&disputes, "globex", "c1").await;
    let deadline = denied.respond_by().unwrap();
    assert_eq!(deadline, t0() + Duration::days(14));

    // Before the window: nothing happens.
    clock.advance(Duration::days(1));
    let round = scheduler.run_once().await.unwrap();
    assert_eq!((round.due, round.reminded, round.expired), (0, 0, 0));
    assert_eq!(read(&*store, &denied).await.version().get(), 1);

    // globex's window opens on day 2: its reminder, and the reminder's notification.
    clock.advance(Duration::days(1));
    let round = scheduler.run_once().await.unwrap();
    assert_eq!((round.reminded, round.expired), (1, 0));
    let g = read(&*store, &granted).await;
    assert_eq!(kinds(&g), [EntryKind::Opened, EntryKind::Reminder]);
    assert_eq!(g.status(), Status::Open);
    g.verify().unwrap();
    assert_eq!(
        queued(&*store, &g, clock.now()).await,
        [(1, EntryKind::Opened), (2, EntryKind::Reminder)]
    );

    // acme's at respond_by - 48 h exactly, and exactly once however often the scheduler runs.
    clock.advance(deadline - Duration::hours(48) - clock.now());
    let round = scheduler.run_once().await.unwrap();
    assert_eq!(
        (round.reminded, round.expired),
        (1, 1),
        "globex expired meanwhile"
    );
    for _ in 0..2 {
        let round = scheduler.run_once().await.unwrap();
        assert_eq!((round.due, round.reminded, round.expired), (0, 0, 0));
    }
    let d = read(&*store, &denied).await;
    assert_eq!(kinds(&d), [EntryKind::Opened, EntryKind::Reminder]);
    let reminder = &d.timeline()[1];
    assert_eq!(reminder.actor(), &Actor::system());
    assert_eq!(reminder.at(), deadline - Duration::hours(48));

    // The deadline passes: expired with the policy's outcome, once.
    clock.advance(Duration::hours(48));
    let round = scheduler.run_once().await.unwrap();
    assert_eq!((round.reminded, round.expired), (0, 1));
    let round = scheduler.run_once().await.unwrap();
    assert_eq!(round.due, 0, "an expired dispute is never due again");

    let d = read(&*store, &denied).await;
    assert_eq!(d.status(), Status::Expired);
    assert_eq!(
        kinds(&d),
        [EntryKind::Opened, EntryKind::Reminder, EntryKind::Expired]
    );
    let resolution = d.resolution().unwrap();
    assert_eq!(
        (resolution.outcome, resolution.settled_amount),
        (Outcome::Expired, Decimal::ZERO)
    );
    d.verify().unwrap();

    let g = read(&*store, &granted).await;
    assert_eq!(g.status(), Status::Expired);
    assert_eq!(
        g.resolution().unwrap().settled_amount,
        g.claim().amount(),
        "globex grants the full claim on expiry"
    );
    assert_eq!(
        kinds(&g),
        [EntryKind::Opened, EntryKind::Reminder, EntryKind::Expired]
    );
}

pub async fn an_answer_in_time_moves_the_deadline_and_earns_a_new_reminder<S: DeadlineStore>(
    store: Arc<S>,
) {
    with_tenants(&*store, &["acme"]).await;
    let (disputes, scheduler, clock) = wired(&store);
    let d = open(&disputes, "acme", "c1").await;
    let first = d.respond_by().unwrap();

    clock.advance(Duration::days(12));
    assert_eq!(scheduler.run_once().await.unwrap().reminded, 1);
    clock.advance(Duration::days(1));
    let answered = disputes
        .respond(
            &operator("acme"),
            d.id(),
            d.subject().kind(),
            disputes_ports::Conditions::default(),
            None,
            "checked",
            None,
        )
        .await
        .unwrap();
    let second = answered.respond_by().unwrap();
    assert_eq!(second, t0() + Duration::days(27));

    // Past the first deadline: nothing expires, and the new deadline's window is still ahead.
    clock.advance(first - clock.now() + Duration::days(1));
    let round = scheduler.run_once().await.unwrap();
    assert_eq!((round.due, round.reminded, round.expired), (0, 0, 0));
    assert_eq!(read(&*store, &d).await.status(), Status::Responded);

    clock.advance(second - Duration::hours(48) - clock.now());
    assert_eq!(scheduler.run_once().await.unwrap().reminded, 1);
    let read_back = read(&*store, &d).await;
    assert_eq!(
        kinds(&read_back),
        [
            EntryKind::Opened,
            EntryKind::Reminder,
            EntryKind::Responded,
            EntryKind::Reminder
        ]
    );
    assert_eq!(read_back.status(), Status::Responded);
    read_back.verify().unwrap();
}

pub async fn racing_schedulers_expire_each_dispute_once<S: DeadlineStore>(store: Arc<S>) {
    with_tenants(&*store, &["acme"]).await;
    let (disputes, _, clock) = wired(&store);
    let mut opened = Vec::new();
    for i in 0..12 {
        opened.push(open(&disputes, "acme", &format!("c{i}")).await);
    }
    clock.advance(Duration::days(15));
    // Each with its own service over the shared store, as separate processes would be.
    let tasks = (0..3)
        .map(|_| {
            let scheduler = DeadlineScheduler::new(
                store.clone(),
                DisputeService::new(store.clone(), clock.clone(), DisputePolicy::default())
                    .with_policies(store.clone()),
                clock.clone(),
            )
            .with_batch(5);
            tokio::spawn(async move {
                let mut expired = 0;
                loop {
                    let round = scheduler.run_once().await.unwrap();
                    expired += round.expired;
                    if round.due == 0 {
                        return expired;
                    }
                }
            })
        })
        .collect::<Vec<_>>();
    let mut expired = 0;
    for task in futures::future::join_all(tasks).await {
        expired += task.unwrap();
    }
    assert_eq!(
        expired,
        opened.len(),
        "each dispute expired by exactly one scheduler"
    );
    let mut ids = HashSet::<DisputeId>::new();
    for d in &opened {
        let d = read(&*store, d).await;
        assert_eq!(d.status(), Status::Expired);
        let closing = kinds(&d)
            .into_iter()
            .filter(|k| *k == EntryKind::Expired)
            .count();
        assert_eq!(closing, 1, "{d:?}");
        ids.insert(d.id());
    }
    assert_eq!(ids.len(), opened.len());
}
