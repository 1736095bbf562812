//! `disputes`: the dispute engine's server and its administration commands.

mod cli;

use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Parser as _;
use disputes_domain::{ActorId, DisputePolicy, TenantId};
use disputes_http::AppState;
use disputes_ports::{Clock, CredentialService, DisputeService, SystemClock};
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
        Command::Serve(args) => serve(args.listen, &args.database.url).await,
        Command::Tenant(TenantCommand::Create { slug, database }) => {
            let tenant = TenantId::new(slug)?;
            credentials(&database.url)
                .await?
                .create_tenant(&tenant)
                .await?;
            tracing::info!(tenant = %tenant, "tenant created");
            Ok(())
        }
        Command::Key(KeyCommand::Create {
            tenant,
            role,
            developer_id,
            database,
        }) => {
            let tenant = TenantId::new(tenant)?;
            let actor = developer_id.map(ActorId::new).transpose()?;
            let issued = credentials(&database.url)
                .await?
                .issue_key(&tenant, role.into(), actor)
                .await
                .with_context(|| format!("cannot issue a key for tenant {tenant}"))?;
            // The only time the key exists in plaintext: printed alone, for scripts to capture.
            println!("{}", issued.plaintext);
            Ok(())
        }
    }
}

async fn open_store(url: &str) -> anyhow::Result<SqliteStore> {
    SqliteStore::connect(url)
        .await
        .with_context(|| format!("cannot open the store at {url}"))
}

async fn credentials(url: &str) -> anyhow::Result<CredentialService> {
    let store = Arc::new(open_store(url).await?);
    Ok(CredentialService::new(store, Arc::new(SystemClock)))
}

async fn serve(listen: SocketAddr, url: &str) -> anyhow::Result<()> {
    let store = Arc::new(open_store(url).await?);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let state = AppState {
        disputes: DisputeService::new(store.clone(), clock.clone(), DisputePolicy::default()),
        credentials: CredentialService::new(store.clone(), clock),
        store,
    };
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
