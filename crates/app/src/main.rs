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
use disputes_ports::{
    BillingService, BlobStore, Clock, CredentialService, CredentialStore, DisputeRepository,
    DisputeService, MessageService, ReasonCatalog, SystemClock,
};
use disputes_postgres::PgStore;
use disputes_sqlite::SqliteStore;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

use cli::{Cli, Command, KeyCommand, TenantCommand};

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
            let state = open_store(&args.database.url)
                .await?
                .into_state(Arc::new(blobs));
            serve(args.listen, state).await
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
    /// Wires the use cases to this store and to `blobs` for attachments.
    fn into_state(self, blobs: Arc<dyn BlobStore>) -> AppState {
        match self {
            Store::Sqlite(store) => state_over(Arc::new(store), blobs),
            Store::Postgres(store) => state_over(Arc::new(store), blobs),
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

fn state_over<S>(store: Arc<S>, blobs: Arc<dyn BlobStore>) -> AppState
where
    S: DisputeRepository + CredentialStore + ReasonCatalog + 'static,
{
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let disputes = DisputeService::new(store.clone(), clock.clone(), DisputePolicy::default());
    AppState {
        billing: BillingService::new(disputes.clone(), store.clone()),
        messages: MessageService::new(disputes.clone(), blobs),
        disputes,
        credentials: CredentialService::new(store.clone(), clock),
        store,
    }
}

async fn serve(listen: SocketAddr, state: AppState) -> anyhow::Result<()> {
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let address = listener.local_addr()?;
    tracing::info!("listening on http://{address}");
    axum::serve(listener, disputes_http::router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
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
