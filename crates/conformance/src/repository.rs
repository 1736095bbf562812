//! The repository conformance suite. Every store adapter runs it in its own tests:
//!
//! ```text
//! disputes_conformance::repository_conformance_suite!(my_store::fresh_for_test());
//! ```
//!
//! The expression is evaluated once per case and must yield a future of `Arc<S>` for a fresh,
//! empty store `S` implementing [`DisputeRepository`], [`CredentialStore`], [`ReasonCatalog`],
//! [`Outbox`], [`WebhookRegistry`] and [`OperationsStats`] (for the outbox's counts), and
//! [`SentEmails`](disputes_ports::SentEmails) for the case of sent mail. Each case is its own `#[tokio::test]`, so the cases run in parallel and
//! fail one by one.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use disputes_domain::{
    Actor, ActorId, Adjustment, Agent, Attachment, BillingRecord, BillingSubject,
    BillingTargetKind, BillingTerms, Claim, CommentAuthor, Decision, DeliverySubject, Dispute,
    DisputeId, DisputePolicy, EntryKind, EvidenceBundle, EvidenceItem, EvidenceKind,
    InvoiceSubject, LedgerOutcome, MessageText, NewDispute, NewMessage, NoteStatus, OpenDispute,
    Outcome, PartyRole, Period, Quantity, Reason, ReasonCode, Remedy, ResolutionKind, Role, Seal,
    Settlement, Stance, Status, Subject, SubjectKind, TaxTreatment, TenantId, TimelineEntry,
    Timestamp, Unit, UsageEvents, Version,
};
use rust_decimal::Decimal;

use disputes_ports::{
    default_reasons, ApiKeyRecord, CredentialStore, DisputeRepository, EventId, ListQuery,
    Notification, OperationsStats, Outbox, OutboxDepth, OutboxJob, PageSize, ReasonCatalog,
    Registration, Replay, Scope, Sink, StoreError, UrlPolicy, WebhookEvents, WebhookLabel,
    WebhookRegistry, WebhookUrl, Write,
};

/// Runs every conformance case as its own test against the stores `$store` makes.
#[macro_export]
macro_rules! repository_conformance_suite {
    ($store:expr) => {
        $crate::__conformance_cases!($store;
            create_assigns_increasing_ids_and_round_trips_every_field,
            decimals_and_times_survive_exactly,
            get_and_update_are_scoped_by_tenant,
            updates_are_guarded_by_version_and_append_the_timeline,
            a_second_open_dispute_for_the_same_subject_is_a_duplicate,
            concurrent_opens_for_one_subject_admit_exactly_one,
            concurrent_updates_at_one_version_admit_exactly_one,
            find_open_for_subject_sees_only_open_disputes,
            list_filters_each_field,
            list_pages_by_keyset_without_gaps_or_repeats,
            tenants_and_keys_are_stored,
            ping_answers,
            billing_terms_and_settlement_reasons_round_trip_exactly,
            reason_tables_are_seeded_once_per_tenant,
            reasons_are_added_and_found_per_tenant,
            messages_and_the_collection_hold_round_trip_exactly,
            tenant_owners_are_stored,
            creates_and_updates_enqueue_their_notifications,
            a_refused_write_enqueues_nothing,
            concurrent_updates_enqueue_only_the_winners_notifications,
            leases_are_exclusive_until_they_end,
            delivered_jobs_stay_delivered_and_retries_wait,
            dead_letters_are_listed_counted_and_replayed,
            only_delivered_jobs_are_pruned_a_batch_at_a_time,
            webhooks_are_per_tenant_and_remember_their_deliveries,
            webhooks_get_only_the_events_they_subscribed_to,
            a_response_with_an_empty_remedy_is_told_apart_from_none,
            sent_emails_are_per_tenant_and_once_per_event_and_recipient,
            counts_by_status_follow_the_filters_but_not_the_page,
            billing_disputes_are_found_by_what_they_dispute,
            seals_round_trip_on_created_and_appended_entries,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases {
    ($store:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let store = $store.await;
                $crate::repository::$case(store).await;
            }
        )*
    };
}

/// What the suite needs of a store.
pub trait Store:
    DisputeRepository
    + CredentialStore
    + ReasonCatalog
    + Outbox
    + WebhookRegistry
    + OperationsStats
    + 'static
{
}
impl<T> Store for T where
    T: DisputeRepository
        + CredentialStore
        + ReasonCatalog
        + Outbox
        + WebhookRegistry
        + OperationsStats
        + 'static
{
}

pub(crate) fn t0() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

pub(crate) fn tenant(slug: &str) -> TenantId {
    TenantId::new(slug).unwrap()
}

pub(crate) fn actor(id: &str, role: Role) -> Actor {
    Actor::new(ActorId::new(id).unwrap(), role)
}

pub(crate) async fn with_tenants<S: Store>(store: &S, slugs: &[&str]) {
    for slug in slugs {
        store.create_tenant(&tenant(slug), t0()).await.unwrap();
    }
}

/// A delivery dispute for `campaign` on `screens` during days `[from, to)` after `t0`.
pub fn delivery(
    tenant_slug: &str,
    campaign: &str,
    screens: &[&str],
    from: i64,
    to: i64,
) -> OpenDispute {
    let period = Period::new(
        "disputedPeriod",
        t0() + Duration::days(from),
        t0() + Duration::days(to),
    )
    .unwrap();
    let subject = DeliverySubject::new(
        campaign,
        screens.iter().map(|s| s.to_string()).collect(),
        Some("substrate-9".into()),
        period,
    )
    .unwrap();
    OpenDispute {
        tenant: tenant(tenant_slug),
        subject: Subject::Delivery(subject),
        claim: Claim::new(Quantity::new(dec("1234.5678"), Unit::new("EUR").unwrap()).unwrap()),
        opened_by: actor("adv-dev", Role::Advertiser),
        evidence: EvidenceBundle::new(vec![
            EvidenceItem::new(EvidenceKind::ProofPack, "pp-1").unwrap(),
            EvidenceItem::new(EvidenceKind::MeteringSnapshot, "ms-1").unwrap(),
            EvidenceItem::new(EvidenceKind::AttachmentRef, "att:1").unwrap(),
            EvidenceItem::new(EvidenceKind::AuditorReport, "audit-1").unwrap(),
        ]),
    }
}

/// An invoice dispute.
pub fn invoice(tenant_slug: &str, number: &str) -> OpenDispute {
    OpenDispute {
        tenant: tenant(tenant_slug),
        subject: Subject::Invoice(
            InvoiceSubject::new(number, "Jan de Vries", "jan@example.nl", "damaged", "nl-NL")
                .unwrap(),
        ),
        claim: Claim::new(Quantity::new(dec("49.95"), Unit::new("EUR").unwrap()).unwrap()),
        opened_by: actor("shop", Role::Client),
        evidence: EvidenceBundle::new(vec![EvidenceItem::new(
            EvidenceKind::Statement,
            "Het pakket was kapot.",
        )
        .unwrap()]),
    }
}

/// A bill item dispute on `account`, with every billing term set: a reason, a note status, a
/// note amount with a scale of its own and an effective time with microseconds.
pub fn bill_item(tenant_slug: &str, item: &str, account: &str) -> OpenDispute {
    let subject = BillingSubject::item(
        item,
        Some(account.into()),
        Some("0.0.0.1+-billinfo+244392".into()),
        Some(format!("bill-of-{item}")),
    )
    .unwrap();
    billed(tenant_slug, subject)
}

/// A dispute of the whole bill `bill` of `account`, with every billing term set.
pub fn bill_dispute(tenant_slug: &str, bill: &str, account: &str) -> OpenDispute {
    let subject = BillingSubject::bill(
        bill,
        Some(account.into()),
        Some("0.0.0.1+-billinfo+244392".into()),
    )
    .unwrap();
    billed(tenant_slug, subject)
}

/// A dispute of `account`'s usage `events`, of their total, with every billing term set.
pub fn event_dispute(tenant_slug: &str, account: &str, events: &[&str]) -> OpenDispute {
    let events = UsageEvents::new(events.iter().map(|e| e.to_string()).collect(), false).unwrap();
    let subject = BillingSubject::events(events, account, None, Some("bill-9".into())).unwrap();
    billed(tenant_slug, subject)
}

/// Billing Care's record with every part set, the second comment's author unnamed, and an entry
/// time with microseconds.
fn billing_record() -> BillingRecord {
    let author = CommentAuthor::new(
        [
            Some("csr1".into()),
            Some("Ada".into()),
            Some("Lovelace".into()),
            Some("0.0.0.1+-account+1".into()),
            Some("crm".into()),
            Some("T-1".into()),
        ],
        Some(t0() + Duration::microseconds(123_456)),
    )
    .unwrap();
    BillingRecord::new(
        Some(840),
        Some("0.0.0.1+-service-telco-gsm+1".into()),
        [
            Some("dispute".into()),
            Some("roaming".into()),
            Some("Header: 5 € < 6 €".into()),
        ],
        vec![author, CommentAuthor::default()],
    )
    .unwrap()
}

/// A billing dispute of `subject` with every billing term set.
fn billed(tenant_slug: &str, subject: BillingSubject) -> OpenDispute {
    let terms = BillingTerms {
        tax: TaxTreatment::Excluded,
        credit: true,
        reason: Some(ReasonCode::new(34, 1).unwrap()),
        note_status: NoteStatus::Unresolved,
        note_amount: Some(dec("-12345678901234567.890")),
        effective: Some(t0() + Duration::microseconds(654_321)),
        percent: Some(dec("2.50")),
    };
    let quantity = Quantity::new(dec("12345678901234567.89"), Unit::new("USD").unwrap()).unwrap();
    OpenDispute {
        tenant: tenant(tenant_slug),
        subject: Subject::Billing(subject),
        claim: Claim::billed(quantity, terms)
            .unwrap()
            .with_record(billing_record()),
        opened_by: actor("csr", Role::Billing),
        evidence: EvidenceBundle::new(vec![
            EvidenceItem::new(
                EvidenceKind::Statement,
                "Customer disagrees with item charges.",
            )
            .unwrap(),
            EvidenceItem::new(EvidenceKind::Statement, "Second comment: 5 € < 6 €").unwrap(),
        ]),
    }
}

pub(crate) fn seal(command: OpenDispute, at: Timestamp) -> NewDispute {
    Dispute::open(command, at, &DisputePolicy::default()).unwrap()
}

pub(crate) async fn create<S: Store>(store: &S, command: OpenDispute) -> Dispute {
    store
        .create(seal(command, t0()), &Write::default())
        .await
        .unwrap()
}

pub async fn create_assigns_increasing_ids_and_round_trips_every_field<S: Store>(store: Arc<S>) {
    with_tenants(&*store, &["acme"]).await;
    let a = create(&*store, delivery("acme", "c1", &["s1", "s2"], 0, 7)).await;
    let b = create(&*store, invoice("acme", "INV-1")).await;
    let c = create(
        &*store,
        bill_item("acme", "0.0.0.1+-item-cycle_forward+1", "acct-1"),
    )
    .await;
    assert!(
        a.id() < b.id() && b.id() < c.id(),
        "ids follow the sequence"
    );
    let bill = create(
        &*store,
        bill_dispute("acme", "0.0.0.1+-bill+243368", "acct-1"),
    )
    .await;
    let events = create(&*store, event_dispute("acme", "acct-1", &["e2", "e1"])).await;
    for created in [&a, &b, &c, &bill, &events] {
        let read = store
            .get(created.tenant(), created.id())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&read, created, "what was created reads back unchanged");
        read.verify().unwrap();
    }

    // Every optional part filled in, then read back.
    let mut d = a.clone();
    let now = t0() + Duration::hours(1);
    let policy = DisputePolicy::default();
    let window = Period::new(
        "makegoodWindow",
        t0() + Duration::days(10),
        t0() + Duration::days(11),
    )
    .unwrap();
    d.respond(
        actor("op-dev", Role::Operator),
        Some(Stance::Partial),
        "partial under-delivery confirmed",
        Some(Remedy {
            amount: Some(dec("600.10")),
            makegood_window: Some(window),
        }),
        now,
        &policy,
    )
    .unwrap();
    d.reply(
        actor("adv-dev", Role::Advertiser),
        Decision::Reject,
        None,
        "not enough",
        now,
        &policy,
    )
    .unwrap();
    d.settle(
        actor("op-dev", Role::Operator),
        Settlement {
            outcome: Some(Outcome::PartiallyGranted),
            settled_amount: Some(dec("700.00")),
            credit_note_id: Some("cn-1".into()),
            makegood_campaign_id: Some("mg-1".into()),
            settlement_adjustment_id: Some("sa-1".into()),
            reason: Some(ReasonCode::new(35, 1).unwrap()),
            notes: "settled".into(),
            kind: Some(ResolutionKind::SettlementAdjustment),
            adjustments: vec![
                Adjustment {
                    party: PartyRole::TaxAuthority,
                    cents: -1,
                },
                Adjustment {
                    party: PartyRole::Venue,
                    cents: i64::MAX,
                },
            ],
            original_application_id: Some("app-7".into()),
            ledger: Some(LedgerOutcome::Applied {
                override_id: "sa-1".into(),
            }),
        },
        now,
    )
    .unwrap();
    store
        .update(&d, a.version(), &Write::default())
        .await
        .unwrap();
    let read = store.get(d.tenant(), d.id()).await.unwrap().unwrap();
    assert_eq!(read, d);
    read.verify().unwrap();
}

pub async fn decimals_and_times_survive_exactly<S: Store>(store: Arc<S>) {
    with_tenants(&*store, &["acme"]).await;
    for (i, amount) in [
        "5",
        "5.00",
        "1234.5678",
        "0.0000000001",
        "12345678901234567.89",
    ]
    .into_iter()
    .enumerate()
    {
        let mut command = invoice("acme", &format!("INV-{i}"));
        command.claim = Claim::new(Quantity::new(dec(amount), Unit::new("EUR").unwrap()).unwrap());
        let odd_time = t0() + Duration::microseconds(123_457);
        let created = store
            .create(seal(command, odd_time), &Write::default())
            .await
            .unwrap();
        let read = store
            .get(created.tenant(), created.id())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            read.claim().amount().to_string(),
            amount,
            "digits or scale lost"
        );
        assert_eq!(read.opened_at(), odd_time);
    }
}

pub async fn get_and_update_are_scoped_by_tenant<S: Store>(store: Arc<S>) {
    with_tenants(&*store, &["acme", "globex"]).await;
    let d = create(&*store, invoice("acme", "INV-1")).await;
    assert_eq!(store.get(&tenant("globex"), d.id()).await.unwrap(), None);

    // The same dispute, claimed by another tenant, must not be writable.
    let mut parts = d.parts().clone();
    parts.tenant = tenant("globex");
    let mut foreign = Dispute::restore(d.id(), parts);
    foreign
        .add_note(actor("x", Role::Client), "hijack", t0())
        .unwrap();
    assert!(matches!(
        store
            .update(&foreign, Version::FIRST, &Write::default())
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.get(d.tenant(), d.id()).await.unwrap().unwrap(), d);

    let page = store
        .list(&tenant("globex"), &ListQuery::default())
        .await
        .unwrap();
    assert!(page.disputes.is_empty());
}

/// A seal made of the statement's bytes under `key`: the store keeps seals, it never checks them.
fn seal_of(key: &str, statement: &str) -> Seal {
    Seal {
        key_id: key.to_owned(),
        signature: statement
            .as_bytes()
            .iter()
            .rev()
            .copied()
            .take(64)
            .collect(),
    }
}

pub async fn seals_round_trip_on_created_and_appended_entries<S: Store>(store: Arc<S>) {
    with_tenants(&*store, &["acme"]).await;
    let mut command = seal(invoice("acme", "INV-S"), t0());
    command.seal_with(|statement| seal_of("key-1", statement));
    let created = store.create(command, &Write::default()).await.unwrap();
    let read = store
        .get(created.tenant(), created.id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read, created, "the opening entry's seal reads back");
    assert_eq!(
        read.timeline()[0].seal().map(|s| s.key_id.as_str()),
        Some("key-1")
    );

    // A change seals what it appends under a newer key; the older seal stays as it was.
    let mut changed = read.clone();
    changed
        .add_note(actor("shop", Role::Client), "sealed note", t0())
        .unwrap();
    changed.seal_after(1, |statement| seal_of("key-2", statement));
    store
        .update(&changed, read.version(), &Write::default())
        .await
        .unwrap();
    let read = store
        .get(created.tenant(), created.id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read, changed);
    let keys: Vec<_> = read
        .timeline()
        .iter()
        .map(|e| e.seal().map(|s| s.key_id.clone()))
        .collect();
    assert_eq!(keys, [Some("key-1".to_owned()), Some("key-2".to_owned())]);
    read.verify().unwrap();
}

pub async fn updates_are_guarded_by_version_and_append_the_timeline<S: Store>(store: Arc<S>) {
    with_tenants(&*store, &["acme"]).await;
    let d = create(&*store, invoice("acme", "INV-1")).await;
    let mut first = d.clone();
    first
        .add_note(actor("shop", Role::Client), "one", t0())
        .unwrap();
    store
        .update(&first, Version::FIRST, &Write::default())
        .await
        .unwrap();

    let mut stale = d.clone();
    stale
        .add_note(actor("shop", Role::Client), "lost", t0())
        .unwrap();
    assert!(matches!(
        store
            .update(&stale, Version::FIRST, &Write::default())
            .await,
        Err(StoreError::VersionConflict)
    ));
    let read = store.get(d.tenant(), d.id()).await.unwrap().unwrap();
    assert_eq!(read, first, "a refused update wrote nothing");
    assert_eq!(read.timeline().len(), 2);

    let mut unknown = Dispute::restore(DisputeId::new(999_999).unwrap(), first.parts().clone());
    unknown
        .add_note(actor("shop", Role::Client), "x", t0())
        .unwrap();
    assert!(matches!(
        store
            .update(&unknown, first.version(), &Write::default())
            .await,
        Err(StoreError::NotFound)
    ));
}

pub async fn a_second_open_dispute_for_the_same_subject_is_a_duplicate<S: Store>(store: Arc<S>) {
    with_tenants(&*store, &["acme", "globex"]).await;
    let first = create(&*store, delivery("acme", "c1", &["s1", "s2"], 0, 7)).await;
    let dup = store
        .create(
            seal(delivery("acme", "c1", &["s2", "s3"], 6, 9), t0()),
            &Write::default(),
        )
        .await;
    assert!(matches!(dup, Err(StoreError::Duplicate { existing }) if existing == first.id()));
    // Not the same subject: another campaign, no common screen, adjacent period, other tenant.
    create(&*store, delivery("acme", "c2", &["s1"], 0, 7)).await;
    create(&*store, delivery("acme", "c1", &["s9"], 0, 7)).await;
    create(&*store, delivery("acme", "c1", &["s1"], 7, 9)).await;
    create(&*store, delivery("globex", "c1", &["s1"], 0, 7)).await;

    let inv = create(&*store, invoice("acme", "INV-1")).await;
    assert!(matches!(
        store.create(seal(invoice("acme", "INV-1"), t0()), &Write::default()).await,
        Err(StoreError::Duplicate { existing }) if existing == inv.id()
    ));
    let item = create(&*store, bill_item("acme", "item-1", "acct-1")).await;
    assert!(matches!(
        store.create(seal(bill_item("acme", "item-1", "acct-2"), t0()), &Write::default()).await,
        Err(StoreError::Duplicate { existing }) if existing == item.id()
    ));
    // A bill is disputed once at a time, apart from its items (`bill-of-item-1` has one).
    let bill = create(&*store, bill_dispute("acme", "bill-of-item-1", "acct-1")).await;
    assert!(matches!(
        store.create(seal(bill_dispute("acme", "bill-of-item-1", "acct-2"), t0()), &Write::default()).await,
        Err(StoreError::Duplicate { existing }) if existing == bill.id()
    ));
    create(&*store, bill_dispute("globex", "bill-of-item-1", "acct-1")).await;
    // Usage events: one in common on the same account is a duplicate; another account's is not.
    let events = create(&*store, event_dispute("acme", "acct-1", &["e1", "e2"])).await;
    assert!(matches!(
        store.create(seal(event_dispute("acme", "acct-1", &["e3", "e2"]), t0()), &Write::default()).await,
        Err(StoreError::Duplicate { existing }) if existing == events.id()
    ));
    create(&*store, event_dispute("acme", "acct-1", &["e3"])).await;
    create(&*store, event_dispute("acme", "acct-2", &["e1"])).await;

    // Once final, the subject is free again.
    let mut withdrawn = inv.clone();
    withdrawn
        .withdraw(actor("shop", Role::Client), "", t0())
        .unwrap();
    store
        .update(&withdrawn, inv.version(), &Write::default())
        .await
        .unwrap();
    create(&*store, invoice("acme", "INV-1")).await;
}

pub async fn concurrent_opens_for_one_subject_admit_exactly_one<S: Store>(store: Arc<S>) {
    with_tenants(&*store, &["acme"]).await;
    let tasks: Vec<_> = (0..24)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                // Different screens lists that all share s1, so every pair conflicts.
                let screens = ["s1".to_owned(), format!("x{i}")];
                let screens: Vec<&str> = screens.iter().map(String::as_str).collect();
                store
                    .create(
                        seal(delivery("acme", "c1", &screens, 0, 7), t0()),
                        &Write::default(),
                    )
                    .await
            })
        })
        .collect();
    let results = futures::future::join_all(tasks).await;
    let won = results.iter().filter(|r| matches!(r, Ok(Ok(_)))).count();
    let duplicates = results
        .iter()
        .filter(|r| matches!(r, Ok(Err(StoreError::Duplicate { .. }))))
        .count();
    assert_eq!((won, duplicates), (1, 23), "{results:?}");
}

pub async fn concurrent_updates_at_one_version_admit_exactly_one<S: Store>(store: Arc<S>) {
    with_tenants(&*store, &["acme"]).await;
    let d = create(&*store, invoice("acme", "INV-1")).await;
    let tasks: Vec<_> = (0..24)
        .map(|i| {
            let store = store.clone();
            let mut mine = d.clone();
            tokio::spawn(async move {
                mine.add_note(actor("shop", Role::Client), &format!("note {i}"), t0())
                    .unwrap();
                store.update(&mine, Version::FIRST, &Write::default()).await
            })
        })
        .collect();
    let results = futures::future::join_all(tasks).await;
    let won = results.iter().filter(|r| matches!(r, Ok(Ok(())))).count();
    let conflicts = results
        .iter()
        .filter(|r| matches!(r, Ok(Err(StoreError::VersionConflict))))
        .count();
    assert_eq!((won, conflicts), (1, 23), "{results:?}");
    let read = store.get(d.tenant(), d.id()).await.unwrap().unwrap();
    assert_eq!(read.timeline().len(), 2, "exactly one entry was appended");
    read.verify().unwrap();
}

pub async fn find_open_for_subject_sees_only_open_disputes<S: Store>(store: Arc<S>) {
    with_tenants(&*store, &["acme", "globex"]).await;
    let d = create(&*store, delivery("acme", "c1", &["s1"], 0, 7)).await;
    let probe = delivery("acme", "c1", &["s1", "s5"], 3, 4).subject;
    assert_eq!(
        store
            .find_open_for_subject(&tenant("acme"), &probe)
            .await
            .unwrap(),
        Some(d.id())
    );
    assert_eq!(
        store
            .find_open_for_subject(&tenant("globex"), &probe)
            .await
            .unwrap(),
        None
    );
    let mut resolved = d.clone();
    resolved
        .withdraw(actor("adv-dev", Role::Advertiser), "", t0())
        .unwrap();
    store
        .update(&resolved, d.version(), &Write::default())
        .await
        .unwrap();
    assert_eq!(
        store
            .find_open_for_subject(&tenant("acme"), &probe)
            .await
            .unwrap(),
        None
    );
}

pub async fn list_filters_each_field<S: Store>(store: Arc<S>) {
    with_tenants(&*store, &["acme", "globex"]).await;
    let early = store
        .create(
            seal(delivery("acme", "c1", &["s1"], 0, 7), t0()),
            &Write::default(),
        )
        .await
        .unwrap();
    let late = store
        .create(
            seal(
                delivery("acme", "c2", &["s1"], 0, 7),
                t0() + Duration::days(2),
            ),
            &Write::default(),
        )
        .await
        .unwrap();
    let inv = create(&*store, invoice("acme", "INV-1")).await;
    let item = create(&*store, bill_item("acme", "item-1", "acct-7")).await;
    create(&*store, delivery("globex", "c1", &["s1"], 0, 7)).await;
    let mut resolved = inv.clone();
    resolved
        .withdraw(actor("shop", Role::Client), "", t0())
        .unwrap();
    store
        .update(&resolved, inv.version(), &Write::default())
        .await
        .unwrap();

    let ids = |q: ListQuery| {
        let store = store.clone();
        async move {
            store
                .list(&tenant("acme"), &q)
                .await
                .unwrap()
                .disputes
                .iter()
                .map(|d| d.id())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        ids(ListQuery::default()).await,
        vec![item.id(), inv.id(), late.id(), early.id()],
        "newest first, own tenant only"
    );
    assert_eq!(
        ids(ListQuery {
            kind: Some(SubjectKind::Delivery),
            ..Default::default()
        })
        .await,
        vec![late.id(), early.id()]
    );
    assert_eq!(
        ids(ListQuery {
            campaign_id: Some("c1".into()),
            ..Default::default()
        })
        .await,
        vec![early.id()]
    );
    assert_eq!(
        ids(ListQuery {
            account_id: Some("acct-7".into()),
            ..Default::default()
        })
        .await,
        vec![item.id()]
    );
    assert_eq!(
        ids(ListQuery {
            item_id: Some("item-1".into()),
            ..Default::default()
        })
        .await,
        vec![item.id()]
    );
    assert!(ids(ListQuery {
        item_id: Some("item-2".into()),
        ..Default::default()
    })
    .await
    .is_empty());
    assert_eq!(
        ids(ListQuery {
            bill_id: Some("bill-of-item-1".into()),
            ..Default::default()
        })
        .await,
        vec![item.id()]
    );
    assert!(ids(ListQuery {
        bill_id: Some("bill-of-item-2".into()),
        ..Default::default()
    })
    .await
    .is_empty());
    assert_eq!(
        ids(ListQuery {
            statuses: vec![Status::Withdrawn],
            ..Default::default()
        })
        .await,
        vec![inv.id()]
    );
    assert_eq!(
        ids(ListQuery {
            resolved: Some(true),
            ..Default::default()
        })
        .await,
        vec![inv.id()]
    );
    assert_eq!(
        ids(ListQuery {
            resolved: Some(false),
            kind: Some(SubjectKind::Billing),
            ..Default::default()
        })
        .await,
        vec![item.id()]
    );
    assert_eq!(
        ids(ListQuery {
            kind: Some(SubjectKind::Delivery),
            opened_after: Some(t0() + Duration::days(1)),
            ..Default::default()
        })
        .await,
        vec![late.id()]
    );
    assert_eq!(
        ids(ListQuery {
            kind: Some(SubjectKind::Delivery),
            opened_before: Some(t0() + Duration::days(2)),
            ..Default::default()
        })
        .await,
        vec![early.id()],
        "openedBefore is exclusive"
    );
}

/// A settlement finds its dispute by the disputed item, bill or event: the bill filter sees
/// every dispute on the bill, the target filter only those of the whole bill, and the event
/// filter the event disputes that name the event.
pub async fn billing_disputes_are_found_by_what_they_dispute<S: Store>(store: Arc<S>) {
    with_tenants(&*store, &["acme", "globex"]).await;
    // `bill_item` names `bill-of-<item>` as the item's bill.
    let item = create(&*store, bill_item("acme", "i1", "acct-1")).await;
    let bill = create(&*store, bill_dispute("acme", "bill-of-i1", "acct-1")).await;
    let events = create(&*store, event_dispute("acme", "acct-1", &["e1", "e2"])).await;
    let other = create(&*store, event_dispute("acme", "acct-1", &["e3"])).await;
    create(&*store, event_dispute("globex", "acct-1", &["e1"])).await;
    let ids = |q: ListQuery| {
        let store = store.clone();
        async move {
            let page = store.list(&tenant("acme"), &q).await.unwrap();
            page.disputes.iter().map(|d| d.id()).collect::<Vec<_>>()
        }
    };
    let on_bill = |target| ListQuery {
        bill_id: Some("bill-of-i1".into()),
        billing_target: target,
        ..Default::default()
    };
    assert_eq!(ids(on_bill(None)).await, vec![bill.id(), item.id()]);
    assert_eq!(
        ids(on_bill(Some(BillingTargetKind::Bill))).await,
        vec![bill.id()]
    );
    assert_eq!(
        ids(ListQuery {
            billing_target: Some(BillingTargetKind::Events),
            ..Default::default()
        })
        .await,
        vec![other.id(), events.id()]
    );
    for (event, found) in [
        ("e2", vec![events.id()]),
        ("e3", vec![other.id()]),
        ("e9", vec![]),
    ] {
        let query = ListQuery {
            event_id: Some(event.into()),
            ..Default::default()
        };
        assert_eq!(ids(query).await, found, "{event}");
    }
    // The item filter passes no bill or event dispute.
    assert_eq!(
        ids(ListQuery {
            item_id: Some("i1".into()),
            ..Default::default()
        })
        .await,
        vec![item.id()]
    );
}

pub async fn counts_by_status_follow_the_filters_but_not_the_page<S: Store>(store: Arc<S>) {
    with_tenants(&*store, &["acme", "globex"]).await;
    let first = create(&*store, delivery("acme", "c1", &["s1"], 0, 7)).await;
    let second = create(&*store, delivery("acme", "c2", &["s1"], 0, 7)).await;
    let third = create(&*store, delivery("acme", "c3", &["s1"], 0, 7)).await;
    create(&*store, delivery("globex", "c1", &["s1"], 0, 7)).await;
    create(&*store, invoice("acme", "INV-1")).await;
    let mut escalated = second.clone();
    escalated
        .escalate(
            actor("adv-dev", Role::Advertiser),
            "",
            t0(),
            &DisputePolicy::default(),
        )
        .unwrap();
    store
        .update(&escalated, second.version(), &Write::default())
        .await
        .unwrap();

    let counts = |q: ListQuery| {
        let store = store.clone();
        async move {
            let mut counts = store.count_by_status(&tenant("acme"), &q).await.unwrap();
            counts.sort_by_key(|(status, _)| status.as_str());
            counts
        }
    };
    let deliveries = ListQuery {
        kind: Some(SubjectKind::Delivery),
        statuses: vec![Status::Escalated],
        limit: PageSize::new(1).unwrap(),
        after: Some(third.id()),
        ..Default::default()
    };
    assert_eq!(
        counts(deliveries.clone()).await,
        vec![(Status::Escalated, 1), (Status::Open, 2)],
        "own tenant and kind only; the statuses and the page are not applied"
    );
    assert_eq!(
        counts(ListQuery {
            campaign_id: Some("c1".into()),
            ..deliveries.clone()
        })
        .await,
        vec![(Status::Open, 1)]
    );
    let listed = store
        .list(
            &tenant("acme"),
            &ListQuery {
                statuses: vec![Status::Open, Status::Escalated],
                limit: PageSize::default(),
                after: None,
                ..deliveries
            },
        )
        .await
        .unwrap()
        .disputes
        .iter()
        .map(|d| d.id())
        .collect::<Vec<_>>();
    assert_eq!(listed, vec![third.id(), second.id(), first.id()]);
}

pub async fn list_pages_by_keyset_without_gaps_or_repeats<S: Store>(store: Arc<S>) {
    with_tenants(&*store, &["acme"]).await;
    let mut all = Vec::new();
    for i in 0..7 {
        all.push(
            create(&*store, invoice("acme", &format!("INV-{i}")))
                .await
                .id(),
        );
    }
    all.reverse();
    let mut seen = Vec::new();
    let mut query = ListQuery {
        limit: PageSize::new(3).unwrap(),
        ..Default::default()
    };
    loop {
        let page = store.list(&tenant("acme"), &query).await.unwrap();
        assert!(page.disputes.len() <= 3);
        seen.extend(page.disputes.iter().map(|d| d.id()));
        // A dispute opened between pages lands before the cursor and never shifts later pages.
        if seen.len() == 3 {
            create(&*store, invoice("acme", "INV-new")).await;
        }
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, all);
}

pub async fn tenants_and_keys_are_stored<S: Store>(store: Arc<S>) {
    let acme = tenant("acme");
    assert!(!store.tenant_exists(&acme).await.unwrap());
    store.create_tenant(&acme, t0()).await.unwrap();
    assert!(store.tenant_exists(&acme).await.unwrap());
    store.create_tenant(&tenant("a-first"), t0()).await.unwrap();
    assert_eq!(
        store.tenants().await.unwrap(),
        [tenant("a-first"), acme.clone()],
        "every tenant, by slug"
    );
    assert!(matches!(
        store.create_tenant(&acme, t0()).await,
        Err(StoreError::AlreadyExists(_))
    ));
    let key = ApiKeyRecord {
        key_id: "0123456789abcdef".into(),
        tenant: acme.clone(),
        role: Role::Operator,
        actor: ActorId::new("dev-7").unwrap(),
        secret_hash: disputes_domain::Digest::of(b"secret"),
        created_at: t0(),
        scopes: vec![Scope::AuditRead, Scope::All],
    };
    store.add_key(&key).await.unwrap();
    assert_eq!(
        store.find_key(&key.key_id).await.unwrap(),
        Some(key.clone())
    );
    // A login has no scopes, and reads back with none.
    let login = ApiKeyRecord {
        key_id: "user:csr-7".into(),
        scopes: vec![],
        ..key.clone()
    };
    store.add_key(&login).await.unwrap();
    assert_eq!(store.find_key("user:csr-7").await.unwrap(), Some(login));
    assert_eq!(store.find_key("fedcba9876543210").await.unwrap(), None);
    assert!(matches!(
        store.add_key(&key).await,
        Err(StoreError::AlreadyExists(_))
    ));
    let orphan = ApiKeyRecord {
        key_id: "1111111111111111".into(),
        tenant: tenant("nobody"),
        ..key
    };
    assert!(matches!(
        store.add_key(&orphan).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn ping_answers<S: Store>(store: Arc<S>) {
    store.ping().await.unwrap();
}

pub async fn billing_terms_and_settlement_reasons_round_trip_exactly<S: Store>(store: Arc<S>) {
    with_tenants(&*store, &["acme"]).await;
    let opened = create(&*store, bill_item("acme", "item-1", "acct-1")).await;
    let read = store
        .get(opened.tenant(), opened.id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read, opened);
    let terms = read.claim().billing.unwrap();
    assert_eq!(
        terms.note_amount.unwrap().to_string(),
        "-12345678901234567.890",
        "the note amount keeps its digits and scale"
    );
    assert_eq!(
        terms.effective,
        Some(t0() + Duration::microseconds(654_321))
    );

    // The fewest terms: no reason, no note amount, no effective time, the default status.
    let mut bare = bill_item("acme", "item-2", "acct-1");
    bare.claim = Claim::billed(
        Quantity::new(dec("5"), Unit::new("XXX").unwrap()).unwrap(),
        BillingTerms {
            tax: TaxTreatment::Included,
            credit: false,
            reason: None,
            note_status: NoteStatus::NotSet,
            note_amount: None,
            effective: None,
            percent: None,
        },
    )
    .unwrap();
    let bare = create(&*store, bare).await;
    assert_eq!(
        store.get(bare.tenant(), bare.id()).await.unwrap().unwrap(),
        bare
    );

    // A settlement by amount with a reason, read back.
    let mut settled = opened.clone();
    settled
        .settle(
            actor("csr", Role::Billing),
            Settlement {
                settled_amount: Some(dec("0.01")),
                reason: Some(ReasonCode::new(35, 2).unwrap()),
                notes: "Partly credited.".into(),
                ..Settlement::default()
            },
            t0() + Duration::hours(2),
        )
        .unwrap();
    store
        .update(&settled, opened.version(), &Write::default())
        .await
        .unwrap();
    let read = store
        .get(settled.tenant(), settled.id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read, settled);
    assert_eq!(
        read.resolution().unwrap().reason,
        Some(ReasonCode::new(35, 2).unwrap())
    );
    read.verify().unwrap();
}

pub async fn reason_tables_are_seeded_once_per_tenant<S: Store>(store: Arc<S>) {
    with_tenants(&*store, &["acme", "globex"]).await;
    let acme = tenant("acme");
    assert!(store.reasons(&acme).await.unwrap().is_empty());
    assert!(matches!(
        store
            .seed_reasons(&tenant("nobody"), &default_reasons())
            .await,
        Err(StoreError::NotFound)
    ));

    // Of concurrent first uses, exactly one seeds.
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .seed_reasons(&tenant("acme"), &default_reasons())
                    .await
            })
        })
        .collect();
    let results = futures::future::join_all(tasks).await;
    let seeded = results.iter().filter(|r| matches!(r, Ok(Ok(true)))).count();
    let skipped = results
        .iter()
        .filter(|r| matches!(r, Ok(Ok(false))))
        .count();
    assert_eq!((seeded, skipped), (1, 7), "{results:?}");
    assert_eq!(store.reasons(&acme).await.unwrap(), default_reasons());

    // Once seeded, never again, not even with other defaults.
    let other = vec![Reason::new(ReasonCode::new(99, 1).unwrap(), "other").unwrap()];
    assert!(!store.seed_reasons(&acme, &other).await.unwrap());
    assert_eq!(store.reasons(&acme).await.unwrap(), default_reasons());

    // Another tenant's table is its own.
    assert!(store.reasons(&tenant("globex")).await.unwrap().is_empty());
    assert!(store.seed_reasons(&tenant("globex"), &other).await.unwrap());
    assert_eq!(store.reasons(&tenant("globex")).await.unwrap(), other);
}

pub async fn reasons_are_added_and_found_per_tenant<S: Store>(store: Arc<S>) {
    with_tenants(&*store, &["acme", "globex"]).await;
    let acme = tenant("acme");
    let code = ReasonCode::new(i64::from(i32::MAX), 7).unwrap();
    let reason = Reason::new(code, "Roaming charge disputed: 5 € < 6 €").unwrap();
    store.add_reason(&acme, &reason).await.unwrap();
    assert_eq!(
        store.find_reason(&acme, code).await.unwrap(),
        Some(reason.clone())
    );
    assert_eq!(
        store.find_reason(&tenant("globex"), code).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .find_reason(&acme, ReasonCode::new(34, 1).unwrap())
            .await
            .unwrap(),
        None
    );
    assert!(matches!(
        store.add_reason(&acme, &reason).await,
        Err(StoreError::AlreadyExists(_))
    ));
    assert!(matches!(
        store.add_reason(&tenant("nobody"), &reason).await,
        Err(StoreError::NotFound)
    ));

    // Seeding keeps what the table holds and adds the rest, in code order.
    let clash = Reason::new(ReasonCode::new(34, 1).unwrap(), "Our own wording").unwrap();
    store.add_reason(&acme, &clash).await.unwrap();
    assert!(store.seed_reasons(&acme, &default_reasons()).await.unwrap());
    let reasons = store.reasons(&acme).await.unwrap();
    assert_eq!(reasons.len(), default_reasons().len() + 1);
    assert_eq!(reasons[0], clash);
    assert_eq!(reasons.last(), Some(&reason));
    let codes: Vec<_> = reasons.iter().map(Reason::code).collect();
    let mut sorted = codes.clone();
    sorted.sort();
    assert_eq!(codes, sorted);
}

/// Files of the kinds the invoice contract accepts, as small as their magic numbers allow.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
const PDF: &[u8] = b"%PDF-1.7\n";
const HEIC: &[u8] = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";

fn new_message(text: &str, file: Option<(&str, &[u8])>) -> NewMessage {
    NewMessage {
        text: MessageText::new("message", text).unwrap(),
        attachment: file.map(|(name, bytes)| Attachment::inspect(name, bytes).unwrap()),
    }
}

pub async fn messages_and_the_collection_hold_round_trip_exactly<S: Store>(store: Arc<S>) {
    with_tenants(&*store, &["acme", "globex"]).await;
    let opened_at = t0() + Duration::microseconds(123_457);
    let sealed = Dispute::open_with_message(
        invoice("acme", "INV-1"),
        new_message("Het pakket was kapot.\nZie foto.", Some(("foto.png", PNG))),
        opened_at,
        &DisputePolicy::default(),
    )
    .unwrap();
    let opened = store.create(sealed, &Write::default()).await.unwrap();
    let read = store
        .get(opened.tenant(), opened.id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read, opened, "the opening message and the hold read back");
    assert_eq!(read.messages().len(), 1);
    assert_eq!(
        read.collection_hold().map(|h| h.until),
        Some(opened_at + Duration::days(14))
    );
    read.verify().unwrap();

    // Messages of both sides, with and without files; the second update appends two at once.
    let shop = actor("shop", Role::Client);
    let customer = actor("shop", Role::Customer);
    let mut d = opened.clone();
    d.post_message(
        shop.clone(),
        new_message("Kunt u een foto sturen?", None),
        opened_at + Duration::hours(1),
    )
    .unwrap();
    store
        .update(&d, opened.version(), &Write::default())
        .await
        .unwrap();
    let before = d.version();
    d.post_message(
        customer,
        new_message("Hier\tis\r\nde foto.", Some(("IMG_0001.HEIC", HEIC))),
        opened_at + Duration::hours(2),
    )
    .unwrap();
    d.post_message(
        shop.clone(),
        new_message("Dank u, zie de creditnota.", Some(("creditnota.pdf", PDF))),
        opened_at + Duration::hours(3),
    )
    .unwrap();
    store.update(&d, before, &Write::default()).await.unwrap();
    let read = store.get(d.tenant(), d.id()).await.unwrap().unwrap();
    assert_eq!(read, d);
    assert_eq!(read.messages().len(), 4);
    read.verify().unwrap();

    // Settling releases the hold, and the release reads back.
    let released_at = opened_at + Duration::days(2);
    let before = d.version();
    d.settle(
        shop,
        Settlement {
            outcome: Some(Outcome::Granted),
            notes: "Gecrediteerd.".into(),
            ..Settlement::default()
        },
        released_at,
    )
    .unwrap();
    store.update(&d, before, &Write::default()).await.unwrap();
    let read = store.get(d.tenant(), d.id()).await.unwrap().unwrap();
    assert_eq!(read, d);
    assert_eq!(
        read.collection_hold().and_then(|h| h.released_at),
        Some(released_at)
    );
    read.verify().unwrap();

    // Lists carry the thread too, and another tenant sees none of it.
    let page = store
        .list(
            &tenant("acme"),
            &ListQuery {
                kind: Some(SubjectKind::Invoice),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.disputes, vec![d.clone()]);
    assert_eq!(store.get(&tenant("globex"), d.id()).await.unwrap(), None);
}

pub async fn tenant_owners_are_stored<S: Store>(store: Arc<S>) {
    with_tenants(&*store, &["acme", "globex"]).await;
    let acme = tenant("acme");
    assert_eq!(store.tenant_owner(&acme).await.unwrap(), None);
    let sanne = Agent::new("Sanne Bakker", "sanne@billink.example").unwrap();
    store.assign_owner(&acme, &sanne).await.unwrap();
    assert_eq!(store.tenant_owner(&acme).await.unwrap(), Some(sanne));
    let joost = Agent::new("Joost de Wit", "joost@billink.example").unwrap();
    store.assign_owner(&acme, &joost).await.unwrap();
    assert_eq!(
        store.tenant_owner(&acme).await.unwrap(),
        Some(joost.clone())
    );
    assert_eq!(store.tenant_owner(&tenant("globex")).await.unwrap(), None);
    assert!(matches!(
        store.assign_owner(&tenant("nobody"), &joost).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.tenant_owner(&tenant("nobody")).await.unwrap(), None);
}

/// The notifications a write appends for `timeline` after `stored` entries, for every sink.
fn notifications(timeline: &[TimelineEntry], stored: i64) -> Vec<Notification> {
    Notification::for_entries(timeline, stored, Sink::ALL)
}

/// Everything due within a day of `t0`, claimed with a lease that outlasts the test.
async fn lease_all<S: Store>(store: &S) -> Vec<OutboxJob> {
    store
        .lease(t0() + Duration::days(1), Duration::days(1), 1000)
        .await
        .unwrap()
}

pub async fn creates_and_updates_enqueue_their_notifications<S: Store>(store: Arc<S>) {
    with_tenants(&*store, &["acme"]).await;
    let new = seal(invoice("acme", "INV-1"), t0());
    let opening = notifications(&new.parts().timeline, 0);
    let d = store
        .create(new, &Write::notifying(opening.clone()))
        .await
        .unwrap();
    let mut noted = d.clone();
    noted
        .add_note(
            actor("shop", Role::Client),
            "one",
            t0() + Duration::minutes(1),
        )
        .unwrap();
    let note = notifications(&noted.parts().timeline, 1);
    assert_eq!(note.len(), Sink::ALL.len());
    store
        .update(&noted, d.version(), &Write::notifying(note.clone()))
        .await
        .unwrap();

    let jobs = lease_all(&*store).await;
    assert_eq!(jobs.len(), 2 * Sink::ALL.len(), "{jobs:?}");
    for (job, sent) in jobs.iter().zip(opening.iter().chain(&note)) {
        assert_eq!(
            (&job.event, job.seq, job.kind, job.sink),
            (&sent.event, sent.seq, sent.kind, sent.sink)
        );
        assert_eq!(
            (&job.tenant, job.dispute, job.attempts),
            (d.tenant(), d.id(), 1)
        );
    }
    assert_eq!(jobs[0].kind, EntryKind::Opened);
    assert_eq!(jobs[Sink::ALL.len()].kind, EntryKind::Note);
    let events = jobs.iter().map(|j| &j.event).collect::<HashSet<_>>();
    assert_eq!(
        events.len(),
        2,
        "one event id per entry, shared by its sinks"
    );
}

pub async fn a_refused_write_enqueues_nothing<S: Store>(store: Arc<S>) {
    with_tenants(&*store, &["acme", "globex"]).await;
    let d = create(&*store, invoice("acme", "INV-1")).await;

    let duplicate = seal(invoice("acme", "INV-1"), t0());
    let outbox = notifications(&duplicate.parts().timeline, 0);
    assert!(matches!(
        store
            .create(duplicate, &Write::notifying(outbox.clone()))
            .await,
        Err(StoreError::Duplicate { .. })
    ));

    let mut first = d.clone();
    first
        .add_note(actor("shop", Role::Client), "one", t0())
        .unwrap();
    store
        .update(&first, d.version(), &Write::default())
        .await
        .unwrap();
    let mut stale = d.clone();
    stale
        .add_note(actor("shop", Role::Client), "lost", t0())
        .unwrap();
    let outbox = notifications(&stale.parts().timeline, 1);
    assert!(matches!(
        store
            .update(&stale, d.version(), &Write::notifying(outbox.clone()))
            .await,
        Err(StoreError::VersionConflict)
    ));

    let mut foreign = Dispute::restore(d.id(), first.parts().clone());
    foreign
        .add_note(actor("shop", Role::Client), "x", t0())
        .unwrap();
    let mut parts = foreign.parts().clone();
    parts.tenant = tenant("globex");
    let foreign = Dispute::restore(d.id(), parts);
    let outbox = notifications(&foreign.parts().timeline, 2);
    assert!(matches!(
        store
            .update(&foreign, first.version(), &Write::notifying(outbox.clone()))
            .await,
        Err(StoreError::NotFound)
    ));

    assert_eq!(lease_all(&*store).await, Vec::new());
}

pub async fn concurrent_updates_enqueue_only_the_winners_notifications<S: Store>(store: Arc<S>) {
    with_tenants(&*store, &["acme"]).await;
    let d = create(&*store, invoice("acme", "INV-1")).await;
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let store = store.clone();
            let mut mine = d.clone();
            tokio::spawn(async move {
                mine.add_note(actor("shop", Role::Client), &format!("note {i}"), t0())
                    .unwrap();
                let outbox = notifications(&mine.parts().timeline, 1);
                store
                    .update(&mine, Version::FIRST, &Write::notifying(outbox.clone()))
                    .await
                    .map(|()| outbox)
            })
        })
        .collect();
    let won = futures::future::join_all(tasks)
        .await
        .into_iter()
        .filter_map(|r| r.unwrap().ok())
        .collect::<Vec<_>>();
    assert_eq!(won.len(), 1);
    let events = lease_all(&*store)
        .await
        .into_iter()
        .map(|job| job.event)
        .collect::<Vec<_>>();
    let winners = won[0].iter().map(|n| n.event.clone()).collect::<Vec<_>>();
    assert_eq!(events, winners);
}

pub async fn leases_are_exclusive_until_they_end<S: Store>(store: Arc<S>) {
    with_tenants(&*store, &["acme"]).await;
    for i in 0..10 {
        let new = seal(invoice("acme", &format!("INV-{i}")), t0());
        let outbox = notifications(&new.parts().timeline, 0);
        store
            .create(new, &Write::notifying(outbox.clone()))
            .await
            .unwrap();
    }
    let total = 10 * Sink::ALL.len();
    let lease = Duration::minutes(5);
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let jobs = store.lease(t0(), lease, 4).await.unwrap();
                    if jobs.is_empty() {
                        return mine;
                    }
                    mine.extend(jobs.into_iter().map(|job| job.id));
                }
            })
        })
        .collect();
    let mut claimed = Vec::new();
    for task in futures::future::join_all(tasks).await {
        claimed.extend(task.unwrap());
    }
    let distinct = claimed.iter().collect::<HashSet<_>>();
    assert_eq!(
        (claimed.len(), distinct.len()),
        (total, total),
        "{claimed:?}"
    );

    let almost = t0() + lease - Duration::microseconds(1);
    assert_eq!(store.lease(almost, lease, 100).await.unwrap(), Vec::new());
    let again = store.lease(t0() + lease, lease, 100).await.unwrap();
    assert_eq!(
        again.len(),
        total,
        "a lapsed lease makes every job due again"
    );
    assert!(again.iter().all(|job| job.attempts == 2), "{again:?}");
}

pub async fn delivered_jobs_stay_delivered_and_retries_wait<S: Store>(store: Arc<S>) {
    with_tenants(&*store, &["acme"]).await;
    let new = seal(invoice("acme", "INV-1"), t0());
    let outbox = notifications(&new.parts().timeline, 0);
    store
        .create(new, &Write::notifying(outbox.clone()))
        .await
        .unwrap();
    let lease = Duration::minutes(1);
    let jobs = store.lease(t0(), lease, 100).await.unwrap();
    let [email, freshdesk, webhook] = &jobs[..] else {
        panic!("one job per sink: {jobs:?}");
    };
    store.delivered(email.id, t0()).await.unwrap();
    let later = t0() + Duration::hours(1);
    store
        .retry_at(freshdesk.id, later, "503 Service Unavailable")
        .await
        .unwrap();
    // A late failure report of a job that was delivered meanwhile changes nothing.
    store.delivered(webhook.id, t0()).await.unwrap();
    store.retry_at(webhook.id, t0(), "timed out").await.unwrap();
    store.delivered(email.id, later).await.unwrap();

    let after_lease = t0() + lease;
    assert_eq!(
        store.lease(after_lease, lease, 100).await.unwrap(),
        Vec::new()
    );
    let retried = store.lease(later, lease, 100).await.unwrap();
    assert_eq!(retried.len(), 1, "{retried:?}");
    assert_eq!((retried[0].id, retried[0].attempts), (freshdesk.id, 2));
    store.delivered(freshdesk.id, later).await.unwrap();
    assert_eq!(lease_all(&*store).await, Vec::new());
}

/// Two invoice disputes of `acme`, each with its opening's job for every sink.
async fn open_two_invoices_notifying_every_sink<S: Store>(store: &S) {
    with_tenants(store, &["acme"]).await;
    for number in ["INV-1", "INV-2"] {
        let new = seal(invoice("acme", number), t0());
        let outbox = notifications(&new.parts().timeline, 0);
        store.create(new, &Write::notifying(outbox)).await.unwrap();
    }
}

pub async fn dead_letters_are_listed_counted_and_replayed<S: Store>(store: Arc<S>) {
    open_two_invoices_notifying_every_sink(&*store).await;
    let lease = Duration::minutes(1);
    let jobs = store.lease(t0(), lease, 100).await.unwrap();
    let [email, freshdesk, webhook, email_2, _, webhook_2] = &jobs[..] else {
        panic!("one job per sink and dispute: {jobs:?}");
    };
    assert!(jobs.iter().all(|job| !job.replayed), "{jobs:?}");
    let given_up = t0() + Duration::seconds(5);
    store
        .dead_letter(webhook.id, given_up, "http://hooks.example/in: 410 Gone")
        .await
        .unwrap();
    store
        .dead_letter(webhook_2.id, given_up, "http://hooks.example/in: 500")
        .await
        .unwrap();
    store
        .dead_letter(email_2.id, given_up, "mail to a@b.example: 550")
        .await
        .unwrap();
    // A job delivered meanwhile (by whoever leased it after this lease ran out) stays so.
    store.delivered(email.id, t0()).await.unwrap();
    store.dead_letter(email.id, given_up, "late").await.unwrap();
    store.retry_at(freshdesk.id, t0(), "503").await.unwrap();

    let dead = store.dead_letters(100).await.unwrap();
    let ids = dead.iter().map(|d| d.job.id).collect::<Vec<_>>();
    assert_eq!(
        ids,
        [webhook.id, email_2.id, webhook_2.id],
        "oldest id first"
    );
    assert_eq!(dead[0].job, *webhook, "the job as it was leased");
    assert_eq!(
        (dead[0].last_error.as_deref(), dead[0].dead_lettered_at),
        (Some("http://hooks.example/in: 410 Gone"), given_up)
    );
    assert_eq!(store.dead_letters(1).await.unwrap().len(), 1, "the limit");
    let mut counts = store.dead_letters_by_sink().await.unwrap();
    counts.sort_by_key(|(sink, _)| sink.as_str());
    assert_eq!(counts, [(Sink::Email, 1), (Sink::Webhook, 2)]);
    assert_eq!(
        store.outbox_depth(t0()).await.unwrap(),
        OutboxDepth { pending: 2, due: 1 },
        "dead letters are not pending: the retried job and the one still leased are"
    );

    // Never leased again, however late, until replayed.
    let later = t0() + Duration::days(30);
    let leased = store.lease(later, lease, 100).await.unwrap();
    assert_eq!(
        leased.len(),
        2,
        "only the retried and the lapsed: {leased:?}"
    );
    assert!(
        leased.iter().all(|job| !ids.contains(&job.id)),
        "{leased:?}"
    );
    for job in &leased {
        store.delivered(job.id, later).await.unwrap();
    }

    let replayed_at = later + Duration::hours(1);
    assert_eq!(
        store
            .replay(Replay::Job(email.id), replayed_at)
            .await
            .unwrap(),
        0,
        "delivered"
    );
    assert_eq!(
        store
            .replay(Replay::Job(i64::MAX), replayed_at)
            .await
            .unwrap(),
        0,
        "unknown"
    );
    assert_eq!(
        store
            .replay(Replay::Job(webhook.id), replayed_at)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .replay(Replay::Job(webhook.id), replayed_at)
            .await
            .unwrap(),
        0,
        "once"
    );
    let back = store.lease(replayed_at, lease, 100).await.unwrap();
    assert_eq!(back.len(), 1, "{back:?}");
    assert_eq!(
        (
            back[0].id,
            back[0].attempts,
            back[0].replayed,
            &back[0].event
        ),
        (webhook.id, 1, true, &webhook.event),
        "due at once, attempts counted from 0 again, the same event"
    );
    assert_eq!(
        store.replay(Replay::All, replayed_at).await.unwrap(),
        2,
        "the leased one is no dead letter any more"
    );
    assert_eq!(store.dead_letters(100).await.unwrap(), Vec::new());
    assert_eq!(store.dead_letters_by_sink().await.unwrap(), Vec::new());
    let rest = store.lease(replayed_at, lease, 100).await.unwrap();
    let rest_ids = rest.iter().map(|job| job.id).collect::<Vec<_>>();
    assert_eq!(rest_ids, [email_2.id, webhook_2.id]);
    assert!(
        rest.iter().all(|job| job.attempts == 1 && job.replayed),
        "{rest:?}"
    );
}

pub async fn only_delivered_jobs_are_pruned_a_batch_at_a_time<S: Store>(store: Arc<S>) {
    open_two_invoices_notifying_every_sink(&*store).await;
    let jobs = store.lease(t0(), Duration::minutes(1), 100).await.unwrap();
    assert_eq!(jobs.len(), 2 * Sink::ALL.len());
    let week = Duration::days(7);
    // Three delivered long ago, one recently; one dead-lettered long ago; one left leased.
    for job in &jobs[..3] {
        store.delivered(job.id, t0()).await.unwrap();
    }
    store.delivered(jobs[3].id, t0() + week).await.unwrap();
    store.dead_letter(jobs[4].id, t0(), "550").await.unwrap();

    let cutoff = t0() + week;
    assert_eq!(
        store.prune_delivered(cutoff, 2).await.unwrap(),
        2,
        "a bounded batch"
    );
    assert_eq!(store.prune_delivered(cutoff, 2).await.unwrap(), 1);
    assert_eq!(
        store.prune_delivered(cutoff, 2).await.unwrap(),
        0,
        "the recent one stays"
    );
    let dead = store.dead_letters(100).await.unwrap();
    assert_eq!(dead.len(), 1, "a dead letter is never pruned");
    assert_eq!(dead[0].job.id, jobs[4].id);
    let lapsed = store
        .lease(t0() + Duration::days(30), Duration::minutes(1), 100)
        .await
        .unwrap();
    assert_eq!(
        lapsed.iter().map(|job| job.id).collect::<Vec<_>>(),
        [jobs[5].id],
        "an undelivered job is never pruned"
    );
    assert_eq!(
        store
            .prune_delivered(t0() + Duration::days(365), 100)
            .await
            .unwrap(),
        1,
        "the recent one, once it is old enough"
    );
}

/// A registration of `url` for `events`, labelled `label`, from the command line.
pub(crate) fn hook(url: &str, events: &[&str], label: Option<&str>) -> Registration {
    Registration {
        url: WebhookUrl::new(url, UrlPolicy::AnyHttp).unwrap(),
        events: WebhookEvents::new(events).unwrap(),
        label: label.map(|l| WebhookLabel::new(l).unwrap()),
        developer: None,
    }
}

pub async fn webhooks_are_per_tenant_and_remember_their_deliveries<S: Store>(store: Arc<S>) {
    with_tenants(&*store, &["acme", "globex"]).await;
    let a = store
        .add_webhook(
            &tenant("acme"),
            &hook("https://a.example/in", &["*"], None),
            "whsec_a",
            t0(),
            None,
        )
        .await
        .unwrap();
    let b = store
        .add_webhook(
            &tenant("acme"),
            &hook("http://127.0.0.1:9/in", &["*"], None),
            "whsec_b",
            t0(),
            None,
        )
        .await
        .unwrap();
    store
        .add_webhook(
            &tenant("globex"),
            &hook("https://g.example/in", &["*"], None),
            "whsec_g",
            t0(),
            None,
        )
        .await
        .unwrap();
    assert!(store
        .add_webhook(
            &tenant("nobody"),
            &hook("https://n.example", &["*"], None),
            "s",
            t0(),
            None
        )
        .await
        .is_err());

    let event = EventId::generate();
    let opened = EntryKind::Opened;
    let pending = store
        .webhooks_pending(&tenant("acme"), &event, opened)
        .await
        .unwrap();
    assert_eq!(pending, vec![a.clone(), b.clone()]);
    assert_eq!(
        (a.url.as_str(), a.secret.as_str()),
        ("https://a.example/in", "whsec_a")
    );

    store.webhook_delivered(a.id, &event, t0()).await.unwrap();
    store.webhook_delivered(a.id, &event, t0()).await.unwrap();
    let pending = store
        .webhooks_pending(&tenant("acme"), &event, opened)
        .await
        .unwrap();
    assert_eq!(pending, vec![b.clone()]);
    let other = EventId::generate();
    assert_eq!(
        store
            .webhooks_pending(&tenant("acme"), &other, opened)
            .await
            .unwrap()
            .len(),
        2
    );
}

/// A webhook hears only of the events it subscribed to, and its subscription, label and
/// developer come back as they were registered.
pub async fn webhooks_get_only_the_events_they_subscribed_to<S: Store>(store: Arc<S>) {
    with_tenants(&*store, &["acme"]).await;
    let all = store
        .add_webhook(
            &tenant("acme"),
            &hook("https://all.example/in", &["*"], None),
            "whsec_1",
            t0(),
            None,
        )
        .await
        .unwrap();
    let mut some = hook(
        "https://some.example/in",
        &["dispute.settled", "dispute.opened"],
        Some("Ledger sync ✓"),
    );
    some.developer = Some(ActorId::new("dev_op").unwrap());
    let some = store
        .add_webhook(&tenant("acme"), &some, "whsec_2", t0(), None)
        .await
        .unwrap();
    // The vendor's own names are accepted, and nothing here is one of them.
    let vendor = store
        .add_webhook(
            &tenant("acme"),
            &hook(
                "https://vendor.example/in",
                &["challenge.opened", "key.rotated"],
                None,
            ),
            "whsec_3",
            t0(),
            None,
        )
        .await
        .unwrap();

    let pending = |kind| {
        let store = store.clone();
        async move {
            store
                .webhooks_pending(&tenant("acme"), &EventId::generate(), kind)
                .await
                .unwrap()
        }
    };
    assert_eq!(
        pending(EntryKind::Opened).await,
        vec![all.clone(), some.clone()]
    );
    assert_eq!(
        pending(EntryKind::Settled).await,
        vec![all.clone(), some.clone()]
    );
    for kind in [
        EntryKind::Note,
        EntryKind::Responded,
        EntryKind::Message,
        EntryKind::Reminder,
    ] {
        assert_eq!(pending(kind).await, vec![all.clone()], "{kind}");
    }
    assert!(EntryKind::ALL.iter().all(|k| !vendor.events.covers(*k)));

    let read = pending(EntryKind::Opened).await.remove(1);
    assert_eq!(read, some);
    assert_eq!(
        read.events.names().collect::<Vec<_>>(),
        ["dispute.opened", "dispute.settled"]
    );
    assert_eq!(
        read.label.as_ref().map(WebhookLabel::as_str),
        Some("Ledger sync ✓")
    );
    assert_eq!(read.developer.as_ref().map(ActorId::as_str), Some("dev_op"));
    assert_eq!(read.created_at, t0());
    assert_eq!((all.label, all.developer), (None, None));
}

/// `remedy_proposed` is what tells "a remedy with nothing in it" from "no remedy": both have NULL
/// amount and window.
pub async fn a_response_with_an_empty_remedy_is_told_apart_from_none<S: Store>(store: Arc<S>) {
    with_tenants(&*store, &["acme"]).await;
    let created = create(&*store, invoice("acme", "INV-1")).await;
    let merchant = actor("merchant", Role::Operator);
    let empty = Remedy {
        amount: None,
        makegood_window: None,
    };
    let mut responded = created.clone();
    responded
        .respond(
            merchant,
            None,
            "looking into it",
            Some(empty),
            t0(),
            &DisputePolicy::default(),
        )
        .unwrap();
    store
        .update(&responded, created.version(), &Write::default())
        .await
        .unwrap();
    let read = store
        .get(&tenant("acme"), created.id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read, responded);
    assert!(read.response().unwrap().remedy.is_some());
}

pub async fn sent_emails_are_per_tenant_and_once_per_event_and_recipient<S>(store: Arc<S>)
where
    S: Store + disputes_ports::SentEmails,
{
    use disputes_ports::SentEmail;
    with_tenants(&*store, &["acme", "globex"]).await;
    let ours = create(&*store, invoice("acme", "INV-1")).await;
    let theirs = create(&*store, invoice("globex", "INV-1")).await;
    let event = EventId::generate();
    let sent = |dispute: &Dispute, recipient: &str, at: Timestamp| SentEmail {
        tenant: dispute.tenant().clone(),
        dispute: dispute.id(),
        event: event.clone(),
        recipient: recipient.to_owned(),
        subject: format!("Uw geschil {}", dispute.id()),
        template: "customer_opened.nl".to_owned(),
        sent_at: at,
    };
    // Microseconds survive; the listing is by time, not by insertion.
    let owner = sent(
        &ours,
        "sanne@billink.example",
        t0() + Duration::microseconds(2_000_001),
    );
    let customer = sent(
        &ours,
        "jan@example.nl",
        t0() + Duration::microseconds(1_000_001),
    );
    store.record_sent(&owner).await.unwrap();
    store.record_sent(&customer).await.unwrap();
    // A second record of the same event and recipient changes nothing.
    let again = SentEmail {
        subject: "changed".to_owned(),
        ..customer.clone()
    };
    store.record_sent(&again).await.unwrap();
    // Every event is of one dispute, so of one tenant.
    let theirs_sent = SentEmail {
        event: EventId::generate(),
        ..sent(&theirs, "jan@example.nl", t0())
    };
    store.record_sent(&theirs_sent).await.unwrap();

    let listed = store
        .sent_for(&tenant("acme"), &[ours.id(), theirs.id()])
        .await
        .unwrap();
    assert_eq!(listed, vec![customer, owner]);
    // Another tenant's mail is not there, whatever ids are asked for.
    assert_eq!(
        store
            .sent_for(&tenant("globex"), &[ours.id()])
            .await
            .unwrap(),
        Vec::new()
    );
    assert_eq!(
        store
            .sent_for(&tenant("globex"), &[theirs.id()])
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store.sent_for(&tenant("acme"), &[]).await.unwrap(),
        Vec::new()
    );
}
