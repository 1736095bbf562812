//! The idempotency-key conformance cases. A store that implements
//! [`IdempotencyStore`] runs them beside the repository suite:
//!
//! ```text
//! disputes_conformance::idempotency_conformance_suite!(my_store::fresh_for_test());
//! ```

use std::sync::Arc;

use chrono::Duration;
use disputes_domain::{EntryKind, Role, Version};

use crate::repository::{actor, create, hook, invoice, seal, t0, tenant, with_tenants, Store};
use disputes_ports::idempotency::{
    Fingerprint, IdempotencyStore, KeyState, KeyedRequest, Reservation, StoredAnswer, LEASE,
    RETENTION,
};
use disputes_ports::{EventId, IdempotencyKey, StoreError, Write};

/// Runs every idempotency conformance case as its own test against the stores `$store` makes.
#[macro_export]
macro_rules! idempotency_conformance_suite {
    ($store:expr) => {
        $crate::__idempotency_cases!($store;
            a_key_is_reserved_once_and_replays_its_answer,
            keys_are_scoped_by_tenant_and_principal,
            a_keyed_write_records_its_effect,
            a_refused_write_records_nothing,
            a_write_after_its_key_was_taken_over_is_refused,
            a_keyed_registration_records_its_webhook,
            released_and_expired_keys_run_again,
            concurrent_reserves_of_one_key_admit_exactly_one,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __idempotency_cases {
    ($store:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let store = $store.await;
                $crate::idempotency::$case(store).await;
            }
        )*
    };
}

/// What the cases need of a store.
pub trait KeyStore: Store + IdempotencyStore {}

impl<S: Store + IdempotencyStore> KeyStore for S {}

fn request(tenant_slug: &str, principal: &str, key: &str, body: &str) -> KeyedRequest {
    KeyedRequest {
        tenant: tenant(tenant_slug),
        principal: principal.to_owned(),
        key: IdempotencyKey::new(key).unwrap(),
        fingerprint: Fingerprint::of([b"POST".as_slice(), b"/v1/disputes", body.as_bytes()]),
    }
}

async fn reserve<S: KeyStore>(
    store: &S,
    request: &KeyedRequest,
    at: chrono::DateTime<chrono::Utc>,
) -> Reservation {
    match store.reserve(request, at).await.unwrap() {
        KeyState::Reserved(reservation) => reservation,
        other => panic!("expected the key to be reserved, got {other:?}"),
    }
}

fn answer(body: &str) -> StoredAnswer {
    StoredAnswer::new(body.as_bytes().to_vec())
}

/// A write that records its effect on `reservation`'s key.
fn keyed(reservation: &Reservation) -> Write {
    Write {
        notifications: Vec::new(),
        key: Some(reservation.clone()),
    }
}

pub async fn a_key_is_reserved_once_and_replays_its_answer<S: KeyStore>(store: Arc<S>) {
    let first = request("acme", "advertiser:ads", "k-1", "{}");
    let reservation = reserve(&*store, &first, t0()).await;
    assert_eq!(reservation.key.as_str(), "k-1");
    assert_eq!(
        store.reserve(&first, t0()).await.unwrap(),
        KeyState::InFlight
    );
    let other = request("acme", "advertiser:ads", "k-1", "{\"x\":1}");
    assert_eq!(
        store.reserve(&other, t0()).await.unwrap(),
        KeyState::Mismatch
    );

    store
        .complete(&reservation, &answer("{\"ok\":true}"))
        .await
        .unwrap();
    let later = t0() + LEASE + Duration::hours(1);
    assert_eq!(
        store.reserve(&first, later).await.unwrap(),
        KeyState::Answered(answer("{\"ok\":true}"))
    );
    assert_eq!(
        store.reserve(&other, later).await.unwrap(),
        KeyState::Mismatch
    );
}

pub async fn keys_are_scoped_by_tenant_and_principal<S: KeyStore>(store: Arc<S>) {
    reserve(&*store, &request("acme", "advertiser:ads", "k", "{}"), t0()).await;
    reserve(
        &*store,
        &request("globex", "advertiser:ads", "k", "{}"),
        t0(),
    )
    .await;
    reserve(&*store, &request("acme", "operator:ops", "k", "{}"), t0()).await;
    assert_eq!(
        store
            .reserve(&request("acme", "advertiser:ads", "k", "{}"), t0())
            .await
            .unwrap(),
        KeyState::InFlight
    );
}

pub async fn a_keyed_write_records_its_effect<S: KeyStore>(store: Arc<S>) {
    with_tenants(&*store, &["acme"]).await;
    let opening = request("acme", "client:shop", "open", "{}");
    let reservation = reserve(&*store, &opening, t0()).await;
    let created = store
        .create(seal(invoice("acme", "INV-1"), t0()), &keyed(&reservation))
        .await
        .unwrap();
    // Its answer never stored (the process stopped): after the lease, a replay learns what
    // the first request did instead of doing it again.
    let later = t0() + LEASE + Duration::seconds(1);
    assert_eq!(
        store.reserve(&opening, later).await.unwrap(),
        KeyState::Effected {
            dispute: created.id(),
            version: Version::FIRST
        }
    );

    let noting = request("acme", "client:shop", "note", "{}");
    let reservation = reserve(&*store, &noting, t0()).await;
    let mut noted = created.clone();
    noted
        .add_note(actor("shop", Role::Client), "the parcel was opened", t0())
        .unwrap();
    store
        .update(&noted, created.version(), &keyed(&reservation))
        .await
        .unwrap();
    assert_eq!(
        store.reserve(&noting, later).await.unwrap(),
        KeyState::Effected {
            dispute: created.id(),
            version: noted.version()
        }
    );
    // A write without a key records nothing anywhere: the effect stays the note's.
    let mut unkeyed = noted.clone();
    unkeyed
        .add_note(actor("shop", Role::Client), "and it was resealed", t0())
        .unwrap();
    store
        .update(&unkeyed, noted.version(), &Write::default())
        .await
        .unwrap();
    assert_eq!(
        store.reserve(&noting, later).await.unwrap(),
        KeyState::Effected {
            dispute: created.id(),
            version: noted.version()
        }
    );
    create(&*store, invoice("acme", "INV-2")).await;
}

pub async fn a_refused_write_records_nothing<S: KeyStore>(store: Arc<S>) {
    with_tenants(&*store, &["acme"]).await;
    create(&*store, invoice("acme", "INV-1")).await;
    let opening = request("acme", "client:shop", "open", "{}");
    let reservation = reserve(&*store, &opening, t0()).await;
    let duplicate = store
        .create(seal(invoice("acme", "INV-1"), t0()), &keyed(&reservation))
        .await;
    assert!(matches!(duplicate, Err(StoreError::Duplicate { .. })));
    // Abandoned without an effect: once the lease ends, a retry takes the key over.
    let later = t0() + LEASE + Duration::seconds(1);
    reserve(&*store, &opening, later).await;
}

pub async fn a_write_after_its_key_was_taken_over_is_refused<S: KeyStore>(store: Arc<S>) {
    with_tenants(&*store, &["acme"]).await;
    let opening = request("acme", "client:shop", "open", "{}");
    let slow = reserve(&*store, &opening, t0()).await;
    let retry = reserve(&*store, &opening, t0() + LEASE + Duration::seconds(1)).await;
    assert_ne!(slow.token, retry.token);

    let refused = store
        .create(seal(invoice("acme", "INV-1"), t0()), &keyed(&slow))
        .await;
    assert!(matches!(refused, Err(StoreError::KeyTakenOver)));
    let subject = invoice("acme", "INV-1").subject;
    assert_eq!(
        store
            .find_open_for_subject(&tenant("acme"), &subject)
            .await
            .unwrap(),
        None,
        "the refused create must roll back"
    );
    let created = store
        .create(seal(invoice("acme", "INV-1"), t0()), &keyed(&retry))
        .await
        .unwrap();

    // The same for an update: the slow request's note is refused whole, the dispute unchanged.
    let noting = request("acme", "client:shop", "note", "{}");
    let slow = reserve(&*store, &noting, t0()).await;
    reserve(&*store, &noting, t0() + LEASE + Duration::seconds(1)).await;
    let mut noted = created.clone();
    noted
        .add_note(actor("shop", Role::Client), "late", t0())
        .unwrap();
    assert!(matches!(
        store.update(&noted, created.version(), &keyed(&slow)).await,
        Err(StoreError::KeyTakenOver)
    ));
    let stored = store
        .get(&tenant("acme"), created.id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.version(),
        created.version(),
        "the refused update must roll back"
    );
}

/// A webhook registered under a key is recorded on it in the registration's transaction: a
/// retry after the answer was lost learns which webhook it made, a registration whose key was
/// taken over stores nothing, and a key that made a webhook is never released.
pub async fn a_keyed_registration_records_its_webhook<S: KeyStore>(store: Arc<S>) {
    with_tenants(&*store, &["acme"]).await;
    let registering = request("acme", "operator:dev", "hook", "{}");
    let reservation = reserve(&*store, &registering, t0()).await;
    let registration = hook("https://a.example/in", &["*"], None);
    let webhook = store
        .add_webhook(
            &tenant("acme"),
            &registration,
            "whsec_a",
            t0(),
            Some(reservation.clone()),
        )
        .await
        .unwrap();
    store.release(&reservation).await.unwrap();
    let later = t0() + LEASE + Duration::seconds(1);
    assert_eq!(
        store.reserve(&registering, later).await.unwrap(),
        KeyState::Subscribed {
            webhook: webhook.id
        }
    );
    assert_eq!(
        store.webhook(&tenant("acme"), webhook.id).await.unwrap(),
        Some(webhook.clone()),
        "the replay reads the webhook back, secret and all"
    );
    assert_eq!(
        store.webhook(&tenant("globex"), webhook.id).await.unwrap(),
        None
    );

    // A registration whose key a retry took over is refused whole.
    let other = request("acme", "operator:dev", "hook-2", "{}");
    let slow = reserve(&*store, &other, t0()).await;
    let retry = reserve(&*store, &other, later).await;
    let refused = store
        .add_webhook(&tenant("acme"), &registration, "whsec_b", t0(), Some(slow))
        .await;
    assert!(matches!(refused, Err(StoreError::KeyTakenOver)));
    let next = store
        .add_webhook(&tenant("acme"), &registration, "whsec_c", t0(), Some(retry))
        .await
        .unwrap();
    let event = EventId::generate();
    let registered: Vec<i64> = store
        .webhooks_pending(&tenant("acme"), &event, EntryKind::Opened)
        .await
        .unwrap()
        .iter()
        .map(|w| w.id)
        .collect();
    assert_eq!(
        registered,
        [webhook.id, next.id],
        "the refused registration left no webhook behind"
    );
}

pub async fn released_and_expired_keys_run_again<S: KeyStore>(store: Arc<S>) {
    let failed = request("acme", "advertiser:ads", "k", "{}");
    let reservation = reserve(&*store, &failed, t0()).await;
    store.release(&reservation).await.unwrap();
    let again = reserve(&*store, &failed, t0()).await;
    store.complete(&again, &answer("{}")).await.unwrap();

    // Kept for a day, then forgotten: even another request may use the key.
    let another = request("acme", "advertiser:ads", "k", "{\"other\":true}");
    let almost = t0() + RETENTION - Duration::seconds(1);
    assert_eq!(
        store.reserve(&another, almost).await.unwrap(),
        KeyState::Mismatch
    );
    reserve(&*store, &another, t0() + RETENTION).await;
}

pub async fn concurrent_reserves_of_one_key_admit_exactly_one<S: KeyStore>(store: Arc<S>) {
    let shared = request("acme", "advertiser:ads", "k", "{}");
    let attempts = (0..20).map(|_| {
        let store = store.clone();
        let shared = shared.clone();
        tokio::spawn(async move { store.reserve(&shared, t0()).await })
    });
    let claims = futures::future::join_all(attempts).await;
    let mut reserved = 0;
    for claim in claims {
        match claim.unwrap().unwrap() {
            KeyState::Reserved(_) => reserved += 1,
            KeyState::InFlight => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(reserved, 1);
}
