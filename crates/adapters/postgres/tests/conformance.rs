//! The repository conformance suite against PostgreSQL, plus what only this store promises: data
//! survives reconnecting, edits made behind the store's back are refused or caught by
//! `Dispute::verify`, creates stay exclusive across processes, and a lost connection is reported
//! as unavailable and then replaced.
//!
//! Every test runs in a schema of its own on the server at `DISPUTES_TEST_POSTGRES_URL`
//! (default `postgres://postgres@127.0.0.1:5432/test`); without one, the tests fail.

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use disputes_conformance::{delivery, invoice};
use disputes_domain::{
    Actor, ActorId, Dispute, DisputePolicy, NewDispute, OpenDispute, Role, TenantId, TimelineError,
    Timestamp, Version,
};
use disputes_ports::{CredentialStore, DisputeRepository, StoreError, Write};
use disputes_postgres::testing::fresh_schema_url;
use disputes_postgres::{PgError, PgStore};
use sqlx::postgres::{PgConnectOptions, PgPool};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// A small pool: the suite runs many stores at once against a server with 100 connections.
const TEST_POOL_SIZE: u32 = 4;

async fn connect(url: &str) -> PgStore {
    PgStore::connect_with(url, PgStore::pool_options().max_connections(TEST_POOL_SIZE))
        .await
        .unwrap()
}

/// A store on a fresh, empty schema.
async fn fresh_store() -> Arc<PgStore> {
    Arc::new(connect(&fresh_schema_url("conformance").await).await)
}

disputes_conformance::repository_conformance_suite!(fresh_store());
disputes_conformance::idempotency_conformance_suite!(fresh_store());
disputes_conformance::ticket_store_conformance_suite!(fresh_store());

fn now() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

fn acme() -> TenantId {
    TenantId::new("acme").unwrap()
}

fn seal(command: OpenDispute) -> NewDispute {
    Dispute::open(command, now(), &DisputePolicy::default()).unwrap()
}

#[tokio::test]
async fn data_survives_reconnecting() {
    let url = fresh_schema_url("conformance").await;
    let store = connect(&url).await;
    store.create_tenant(&acme(), now()).await.unwrap();
    let created = store
        .create(seal(invoice("acme", "INV-1")), &Write::default())
        .await
        .unwrap();
    store.pool().close().await;
    drop(store);

    // Connecting again runs the migrations again, which must find nothing to do.
    let reconnected = connect(&url).await;
    assert!(reconnected.tenant_exists(&acme()).await.unwrap());
    let read = reconnected.get(&acme(), created.id()).await.unwrap();
    assert_eq!(read.as_ref(), Some(&created));
    // The sequence continues where it stopped, and the duplicate rule still holds.
    let next = reconnected
        .create(seal(invoice("acme", "INV-2")), &Write::default())
        .await
        .unwrap();
    assert!(next.id() > created.id());
    assert!(matches!(
        reconnected.create(seal(invoice("acme", "INV-1")), &Write::default()).await,
        Err(StoreError::Duplicate { existing }) if existing == created.id()
    ));
}

#[tokio::test]
async fn an_edited_timeline_row_fails_verification() {
    let url = fresh_schema_url("conformance").await;
    let store = connect(&url).await;
    store.create_tenant(&acme(), now()).await.unwrap();
    let mut dispute = store
        .create(seal(invoice("acme", "INV-1")), &Write::default())
        .await
        .unwrap();
    let shop = Actor::new(ActorId::new("shop").unwrap(), Role::Client);
    dispute
        .add_note(shop, "the parcel was opened", now())
        .unwrap();
    store
        .update(&dispute, Version::FIRST, &Write::default())
        .await
        .unwrap();
    store
        .get(&acme(), dispute.id())
        .await
        .unwrap()
        .unwrap()
        .verify()
        .unwrap();

    // A casual edit is refused outright: the timeline and the evidence are append-only.
    let tamperer = PgPool::connect(&url).await.unwrap();
    for casual in [
        "UPDATE timeline_entries SET notes = 'x'",
        "DELETE FROM timeline_entries",
        "TRUNCATE timeline_entries",
        "UPDATE disputes SET evidence_canonical = 'x'",
        "UPDATE disputes SET evidence_digest = 'x'",
    ] {
        let refused = sqlx::query(casual).execute(&tamperer).await.unwrap_err();
        assert!(
            refused.to_string().contains("sealed") || refused.to_string().contains("append-only"),
            "{casual}: {refused}"
        );
    }

    // Someone determined drops the guard and rewrites history; verify still catches it.
    sqlx::query("DROP TRIGGER timeline_entries_are_never_updated ON timeline_entries")
        .execute(&tamperer)
        .await
        .unwrap();
    let edited = sqlx::query(
        "UPDATE timeline_entries SET notes = 'the parcel was fine' \
         WHERE dispute_id = $1 AND seq = 2",
    )
    .bind(dispute.id().get())
    .execute(&tamperer)
    .await
    .unwrap();
    assert_eq!(edited.rows_affected(), 1);
    tamperer.close().await;

    let read = store.get(&acme(), dispute.id()).await.unwrap().unwrap();
    assert_eq!(read.timeline()[1].notes(), "the parcel was fine");
    assert_eq!(read.verify(), Err(TimelineError::Altered { seq: 2 }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_racing_from_two_processes_admit_exactly_one() {
    // Two stores with pools of their own: to the database, two server processes.
    let url = fresh_schema_url("conformance").await;
    let (first, second) = (connect(&url).await, connect(&url).await);
    first.create_tenant(&acme(), now()).await.unwrap();

    let mut racers = JoinSet::new();
    for i in 0..100 {
        let store = if i % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        racers.spawn(async move {
            // Every pair conflicts through s1, though no two requests are identical.
            let screens = ["s1".to_owned(), format!("x{i}")];
            let screens: Vec<&str> = screens.iter().map(String::as_str).collect();
            store
                .create(
                    seal(delivery("acme", "c1", &screens, 0, 7)),
                    &Write::default(),
                )
                .await
        });
    }
    let results = racers.join_all().await;
    let won: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(won.len(), 1, "{results:?}");
    let winner = won[0].id();
    assert!(
        results.iter().all(|r| match r {
            Ok(_) => true,
            Err(StoreError::Duplicate { existing }) => *existing == winner,
            Err(_) => false,
        }),
        "every loser is told which dispute won: {results:?}"
    );
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM disputes")
        .fetch_one(first.pool())
        .await
        .unwrap();
    assert_eq!(stored, 1);
}

#[tokio::test]
async fn a_killed_connection_is_unavailable_and_then_replaced() {
    let url = fresh_schema_url("conformance").await;
    let store = connect(&url).await;
    store.create_tenant(&acme(), now()).await.unwrap();

    // Hold the tenant row so that the create's foreign-key check waits, then end the waiting
    // session the way a PostgreSQL shutdown does (SQLSTATE 57P01, admin shutdown).
    let admin = PgPool::connect(&url).await.unwrap();
    let mut holder = admin.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM tenants WHERE slug = 'acme' FOR UPDATE")
        .execute(&mut *holder)
        .await
        .unwrap();
    let holder_pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut *holder)
        .await
        .unwrap();
    let waiting = tokio::spawn({
        let store = store.clone();
        async move {
            store
                .create(seal(invoice("acme", "INV-1")), &Write::default())
                .await
        }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        // Only the session this holder blocks: other tests share the server. MATERIALIZED, so
        // the planner cannot try the termination on rows before the filter.
        let killed: i64 = sqlx::query_scalar(
            "WITH blocked AS MATERIALIZED (SELECT pid FROM pg_stat_activity \
             WHERE $1 = ANY (pg_blocking_pids(pid))) \
             SELECT count(*) FROM blocked WHERE pg_terminate_backend(pid)",
        )
        .bind(holder_pid)
        .fetch_one(&admin)
        .await
        .unwrap();
        if killed > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the create never waited");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let result = waiting.await.unwrap();
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
    holder.rollback().await.unwrap();
    admin.close().await;

    // The pool drops the dead connection and carries on with a new one.
    let created = store
        .create(seal(invoice("acme", "INV-1")), &Write::default())
        .await
        .unwrap();
    assert_eq!(
        store.get(&acme(), created.id()).await.unwrap(),
        Some(created)
    );
}

#[tokio::test]
async fn an_unreachable_database_fails_fast() {
    // Nothing listens on port 1: the connect is refused at once, retried until the acquire
    // timeout, then reported.
    let started = Instant::now();
    let result = PgStore::connect("postgres://postgres@127.0.0.1:1/test").await;
    assert!(matches!(result, Err(PgError::Connect(_))), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_is_reported_fast_and_survived() {
    // PostgreSQL "stops" and "starts" as a proxy in front of it that drops every connection and
    // stops listening, then listens again: the server itself is shared with other tests.
    let url = fresh_schema_url("conformance").await;
    let options = PgConnectOptions::from_str(&url).unwrap();
    let upstream = tokio::net::lookup_host((options.get_host(), options.get_port()))
        .await
        .unwrap()
        .next()
        .unwrap();
    let proxy = Proxy::start(0, upstream);
    let port = proxy.port;
    let store = connect(&via(&url, port)).await;
    store.create_tenant(&acme(), now()).await.unwrap();
    let created = store
        .create(seal(invoice("acme", "INV-1")), &Write::default())
        .await
        .unwrap();

    proxy.stop().await;
    // The pooled connections are dead and new ones refused: each call gives up after the
    // acquire timeout (3 s) instead of hanging.
    let started = Instant::now();
    let result = store.get(&acme(), created.id()).await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
    assert!(matches!(
        store.ping().await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );

    let proxy = Proxy::start(port, upstream);
    store.ping().await.unwrap();
    assert_eq!(
        store.get(&acme(), created.id()).await.unwrap(),
        Some(created)
    );
    proxy.stop().await;
}

/// `url` with its host and port replaced by `127.0.0.1:port`.
fn via(url: &str, port: u16) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let user = authority
        .rsplit_once('@')
        .map(|(user, _)| format!("{user}@"));
    format!(
        "{scheme}://{}127.0.0.1:{port}{path}",
        user.unwrap_or_default()
    )
}

/// A TCP proxy to PostgreSQL that can be cut, connections and listener alike.
struct Proxy {
    port: u16,
    task: JoinHandle<()>,
}

impl Proxy {
    /// Listens on `port` (0: any free one) and forwards every connection to `upstream`.
    fn start(port: u16, upstream: SocketAddr) -> Proxy {
        let socket = TcpSocket::new_v4().unwrap();
        // The port was just in use: its closed connections may linger in TIME_WAIT.
        socket.set_reuseaddr(true).unwrap();
        socket
            .bind(SocketAddr::from(([127, 0, 0, 1], port)))
            .unwrap();
        let listener = socket.listen(64).unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            // Owned by this task, so aborting it drops (closes) every forwarded connection.
            let mut connections = JoinSet::new();
            loop {
                let (mut client, _) = listener.accept().await.unwrap();
                connections.spawn(async move {
                    let mut server = TcpStream::connect(upstream).await.unwrap();
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                });
            }
        });
        Proxy { port, task }
    }

    async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}
