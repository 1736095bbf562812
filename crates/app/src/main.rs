//! `disputes`: the dispute engine's server and its administration commands.

mod cli;

use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Parser as _;
use disputes_blobs::LocalBlobStore;
use disputes_domain::{ActorId, Agent, DisputePolicy, Role, TenantId};
use disputes_http::AppState;
use disputes_notify::WebhookNotifier;
use disputes_ports::{
    BillingService, BlobStore, Clock, CredentialService, CredentialStore, Dispatcher,
    DisputeRepository, DisputeService, KeyCache, MessageService, Outbox, ReasonCatalog, Sink,
    SystemClock, WebhookRegistry, WebhookService,
};
use disputes_postgres::PgStore;
use disputes_sqlite::SqliteStore;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

use cli::{Cli, Command, DispatchArgs, KeyCommand, TenantCommand, WebhookCommand};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Logs go to stderr: stdout is reserved for what a command prints (a new key, for one).
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            // Attachments never go near a web root: they live where --blob-dir says, and leave
            // it only through the engine.
            let blobs = LocalBlobStore::open(&args.blob_dir).with_context(|| {
                format!("cannot open the blob store at {}", args.blob_dir.display())
            })?;
            let (state, dispatcher) = open_store(&args.database.url)
                .await?
                .into_state(Arc::new(blobs));
            serve(args.listen, state, dispatcher, &args.dispatch).await
        }
        Command::Dispatch { dispatch, database } => {
            let dispatcher = open_store(&database.url).await?.dispatcher();
            announce(&dispatcher);
            dispatcher.run(poll(&dispatch), shutdown_signal()).await;
            tracing::info!("stopped");
            Ok(())
        }
        Command::Webhook(WebhookCommand::Add {
            tenant,
            endpoint,
            database,
        }) => {
            let tenant = TenantId::new(tenant)?;
            let webhook = open_store(&database.url)
                .await?
                .webhooks()
                .add(&tenant, &endpoint)
                .await
                .with_context(|| format!("cannot add a webhook to tenant {tenant}"))?;
            tracing::info!(tenant = %tenant, url = %webhook.url, "webhook added");
            // The only time the secret is shown: printed alone, for scripts to capture.
            println!("{}", webhook.secret);
            Ok(())
        }
        Command::Migrate { database } => {
            // Opening a store brings its schema up to date; nothing else to do.
            open_store(&database.url).await?;
            tracing::info!("the schema is up to date");
            Ok(())
        }
        Command::Tenant(TenantCommand::Create {
            slug,
            owner,
            database,
        }) => {
            let tenant = TenantId::new(slug)?;
            // Checked before anything is stored, so a bad address leaves no tenant behind.
            let owner = owner.agent()?;
            let credentials = open_store(&database.url).await?.credentials();
            credentials.create_tenant(&tenant).await?;
            if let Some(owner) = &owner {
                credentials.assign_owner(&tenant, owner).await?;
            }
            tracing::info!(tenant = %tenant, "tenant created");
            Ok(())
        }
        Command::Tenant(TenantCommand::SetOwner {
            slug,
            name,
            email,
            database,
        }) => {
            let tenant = TenantId::new(slug)?;
            let owner = Agent::new(name, email)?;
            let credentials = open_store(&database.url).await?.credentials();
            credentials
                .assign_owner(&tenant, &owner)
                .await
                .with_context(|| format!("cannot assign an owner to tenant {tenant}"))?;
            tracing::info!(tenant = %tenant, owner = owner.name(), "owner assigned");
            Ok(())
        }
        Command::Key(KeyCommand::Create {
            tenant,
            role,
            developer_id,
            username,
            database,
        }) => {
            let tenant = TenantId::new(tenant)?;
            let credentials = open_store(&database.url).await?.credentials();
            let issued = match (role.uses_login(), username) {
                (true, Some(username)) => {
                    credentials
                        .issue_login(&tenant, role.into(), &username)
                        .await
                }
                (true, None) => anyhow::bail!("the {} role needs --username", Role::from(role)),
                (false, Some(_)) => {
                    anyhow::bail!(
                        "--username is for the client and billing roles; use --developer-id"
                    )
                }
                (false, None) => {
                    let actor = developer_id.map(ActorId::new).transpose()?;
                    credentials.issue_key(&tenant, role.into(), actor).await
                }
            }
            .with_context(|| format!("cannot issue a credential for tenant {tenant}"))?;
            // The only time the secret exists in plaintext: printed alone, for scripts to capture.
            println!("{}", issued.plaintext);
            Ok(())
        }
    }
}

/// The store a database URL names: SQLite for `sqlite:`, PostgreSQL for `postgres:` and
/// `postgresql:`. Opening either migrates its schema.
enum Store {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

async fn open_store(url: &str) -> anyhow::Result<Store> {
    let scheme = url.split(':').next().unwrap_or_default();
    let store = match scheme {
        "sqlite" => Store::Sqlite(SqliteStore::connect(url).await.context("cannot open the SQLite store")?),
        "postgres" | "postgresql" => {
            Store::Postgres(PgStore::connect(url).await.context("cannot open the PostgreSQL store")?)
        }
        _ => anyhow::bail!(
            "unsupported database URL scheme {scheme:?}: use sqlite://path/to/file.db or postgres://user@host/db"
        ),
    };
    Ok(store)
}

impl Store {
    /// Wires the use cases to this store and to `blobs` for attachments, with the dispatcher
    /// that delivers the notifications they queue.
    fn into_state(self, blobs: Arc<dyn BlobStore>) -> (AppState, Dispatcher) {
        match self {
            Store::Sqlite(store) => state_over(Arc::new(store), blobs),
            Store::Postgres(store) => state_over(Arc::new(store), blobs),
        }
    }

    /// The notification dispatcher alone, for `disputes dispatch`.
    fn dispatcher(self) -> Dispatcher {
        match self {
            Store::Sqlite(store) => dispatcher_over(Arc::new(store)),
            Store::Postgres(store) => dispatcher_over(Arc::new(store)),
        }
    }

    /// Webhook registrations only, for the administration commands.
    fn webhooks(self) -> WebhookService {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        match self {
            Store::Sqlite(store) => WebhookService::new(Arc::new(store), clock),
            Store::Postgres(store) => WebhookService::new(Arc::new(store), clock),
        }
    }

    /// Tenants and credentials only, for the administration commands.
    fn credentials(self) -> CredentialService {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        match self {
            Store::Sqlite(store) => CredentialService::new(Arc::new(store), clock),
            Store::Postgres(store) => CredentialService::new(Arc::new(store), clock),
        }
    }
}

fn state_over<S>(store: Arc<S>, blobs: Arc<dyn BlobStore>) -> (AppState, Dispatcher)
where
    S: DisputeRepository + CredentialStore + ReasonCatalog + Outbox + WebhookRegistry + 'static,
{
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let dispatcher = dispatcher_over(store.clone());
    // Changes queue notifications for exactly the sinks a dispatcher delivers to.
    let disputes = DisputeService::new(store.clone(), clock.clone(), DisputePolicy::default())
        .with_sinks(dispatcher.sinks());
    let state = AppState {
        billing: BillingService::new(disputes.clone(), store.clone()),
        messages: MessageService::new(disputes.clone(), blobs),
        disputes,
        // Every request authenticates; remembering verified keys briefly saves a database round
        // trip each time (see KeyCache for what that means for revocation).
        credentials: CredentialService::new(
            Arc::new(KeyCache::new(
                store.clone(),
                clock.clone(),
                KeyCache::DEFAULT_TTL,
            )),
            clock,
        ),
        store,
    };
    (state, dispatcher)
}

/// The dispatcher over `store`'s outbox, with every sink this build has.
fn dispatcher_over<S>(store: Arc<S>) -> Dispatcher
where
    S: DisputeRepository + Outbox + WebhookRegistry + 'static,
{
    Dispatcher::new(store.clone(), store.clone(), Arc::new(SystemClock))
        .with_notifier(Sink::Webhook, Arc::new(WebhookNotifier::new(store)))
}

/// Says once which notifications are sent, and which are not.
fn announce(dispatcher: &Dispatcher) {
    let on = dispatcher.sinks();
    let off = Sink::ALL
        .iter()
        .filter(|sink| !on.contains(sink))
        .map(|sink| sink.as_str())
        .collect::<Vec<_>>();
    let on = on.iter().map(|sink| sink.as_str()).collect::<Vec<_>>();
    tracing::info!(
        on = %on.join(", "),
        off = %off.join(", "),
        "notifications: only the sinks that are on are queued and delivered"
    );
}

fn poll(args: &DispatchArgs) -> std::time::Duration {
    std::time::Duration::from_millis(args.poll_ms.max(1))
}

async fn serve(
    listen: SocketAddr,
    state: AppState,
    dispatcher: Dispatcher,
    dispatch: &DispatchArgs,
) -> anyhow::Result<()> {
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let address = listener.local_addr()?;
    announce(&dispatcher);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let poll = poll(dispatch);
    let dispatching = tokio::spawn(async move {
        dispatcher
            .run(poll, async {
                let _ = stopped.await;
            })
            .await;
    });
    tracing::info!("listening on http://{address}");
    axum::serve(listener, disputes_http::router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    // The dispatcher finishes its round; what it has not delivered stays queued.
    let _ = stop.send(());
    dispatching.await?;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM; requests in flight are finished before the server exits.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
