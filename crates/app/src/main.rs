//! `disputes`: the dispute engine's server and its administration commands.

mod cli;
mod email_sink;
mod freshdesk_sink;
mod offline;

use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Parser as _;
use disputes_blobs::LocalBlobStore;
use disputes_domain::{ActorId, Agent, DisputeId, DisputePolicy, Role, TenantId};
use disputes_http::{AppState, Operations, PublicUrl};
use disputes_notify::{FreshdeskNotifier, WebhookNotifier};
use disputes_ports::IdempotencyStore;
use disputes_ports::Keyring;
use disputes_ports::{
    Backoff, BillingService, BlobStore, Clock, CredentialService, CredentialStore, DeadLetter,
    DeadlineQueue, DeadlineScheduler, Dispatcher, DisputeRepository, DisputeService,
    IdempotencyService, InvoiceDesk, KeyCache, OperationsStats, Outbox, PolicyChange,
    PolicyService, ReasonCatalog, Registration, Replay, RetryPolicy, Schedule, SentEmails,
    ServiceError, SigningService, Sink, SystemClock, TenantPolicies, ThreadService, TicketStore,
    UrlPolicy, WebhookEvents, WebhookLabel, WebhookRegistry, WebhookService, WebhookUrl,
};
use disputes_postgres::PgStore;
use disputes_signing::FileKeyring;
use disputes_sqlite::SqliteStore;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

use cli::{
    Cli, Command, DeadlineArgs, DispatchArgs, ExpiryOutcome, KeyCommand, OutboxCommand, Signing,
    SigningKeyCommand, TenantCommand, WebhookCommand,
};

#[tokio::main]
async fn main() -> ExitCode {
    // Logs go to stderr: stdout is reserved for what a command prints (a new key, for one).
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // The cause chain on one line, whatever RUST_BACKTRACE says: a person reads this,
            // and a backtrace of our own frames tells them nothing they can act on.
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the command `cli` names.
async fn run(cli: Cli) -> anyhow::Result<()> {
    let database = cli.database;
    let signing = cli.signing;
    match cli.command {
        Command::Openapi => {
            print!("{}", disputes_http::openapi_json());
            Ok(())
        }
        Command::Serve(args) => {
            // Attachments never go near a web root: they live where --blob-dir says, and leave
            // it only through the engine.
            let blobs = LocalBlobStore::open(&args.blob_dir).with_context(|| {
                format!("cannot open the blob store at {}", args.blob_dir.display())
            })?;
            let store = open_store(&database.url).await?;
            let keyring = open_keyring(&signing, &database.url)?;
            let operations = Operations {
                rate_limit_per_minute: args.rate_limit_per_minute,
                request_timeout: std::time::Duration::from_millis(args.request_timeout_ms),
                stats: Some(store.stats()),
            };
            let (mut state, dispatcher, deadlines) =
                store.into_state(Arc::new(blobs), keyring, &args.dispatch)?;
            state.webhooks = state
                .webhooks
                .allowing_loopback_http(args.webhooks_allow_loopback_http);
            let deadlines = run_deadlines(deadlines, &args.deadlines);
            let public_url = args.public_url.clone();
            serve(
                args.listen,
                public_url,
                state,
                dispatcher,
                &args.dispatch,
                operations,
            )
            .await?;
            deadlines.stop().await
        }
        Command::Dispatch {
            dispatch,
            deadlines,
            blob_dir,
        } => {
            // Tickets carry the disputes' files, so the dispatcher reads the blob store too.
            let blobs = LocalBlobStore::open(&blob_dir)
                .with_context(|| format!("cannot open the blob store at {}", blob_dir.display()))?;
            let keyring = open_keyring(&signing, &database.url)?;
            let (dispatcher, scheduler) =
                open_store(&database.url)
                    .await?
                    .background(Arc::new(blobs), keyring, &dispatch)?;
            announce(&dispatcher);
            let deadlines = run_deadlines(scheduler, &deadlines);
            dispatcher.run(poll(&dispatch), shutdown_signal()).await;
            deadlines.stop().await?;
            tracing::info!("stopped");
            Ok(())
        }
        Command::Webhook(WebhookCommand::Add {
            tenant,
            endpoint,
            events,
            label,
        }) => {
            let tenant = TenantId::new(tenant)?;
            let registration = Registration {
                // The operator's own command may name any http(s) endpoint, a local one too.
                url: WebhookUrl::new(&endpoint, UrlPolicy::AnyHttp)?,
                events: WebhookEvents::new(&events)?,
                label: label.map(WebhookLabel::new).transpose()?,
                developer: None,
            };
            let webhook = open_store(&database.url)
                .await?
                .webhooks()
                .register(&tenant, &registration, None)
                .await
                .map_err(|e| match e {
                    // The store's only way to say the tenant is unknown.
                    ServiceError::NotFound => anyhow::anyhow!(
                        "no tenant named {tenant}: create it first with `disputes tenant create {tenant}`"
                    ),
                    other => anyhow::Error::new(other)
                        .context(format!("cannot add a webhook to tenant {tenant}")),
                })?;
            tracing::info!(tenant = %tenant, url = webhook.url.as_str(), "webhook added");
            // The only time the secret is shown: printed alone, for scripts to capture.
            println!("{}", webhook.secret);
            Ok(())
        }
        Command::Outbox(OutboxCommand::List { failed: _, limit }) => {
            let dead = open_store(&database.url)
                .await?
                .outbox()
                .dead_letters(limit)
                .await
                .context("cannot list the dead-lettered notifications")?;
            tracing::info!(listed = dead.len(), "dead-lettered notifications");
            print!("{}", dead_letter_table(&dead));
            Ok(())
        }
        Command::Outbox(OutboxCommand::Retry { id, all }) => {
            let which = match (id, all) {
                (Some(id), false) => Replay::Job(id),
                // clap takes an id or --all, never both nor neither.
                _ => Replay::All,
            };
            let replayed = open_store(&database.url)
                .await?
                .outbox()
                .replay(which, SystemClock.now())
                .await
                .context("cannot replay the dead-lettered notifications")?;
            if let (Replay::Job(id), 0) = (which, replayed) {
                anyhow::bail!(
                    "job {id} is not dead-lettered (unknown, delivered or still retried); \
                     `disputes outbox list --failed` lists those that are"
                );
            }
            tracing::info!(replayed, "dead-lettered notifications due again");
            println!("{replayed}");
            Ok(())
        }
        Command::SigningKey(command) => signing_key(command, &key_file(&signing, &database.url)),
        Command::Verify {
            export: Some(export),
            keys: Some(keys),
            ..
        } => offline::verify_files(&export, &keys),
        Command::Verify {
            tenant, dispute, ..
        } => {
            let path = key_file(&signing, &database.url);
            let keyring = FileKeyring::open(&path)
                .with_context(|| format!("cannot read the signing keys at {}", path.display()))?;
            let (disputes, credentials) =
                open_store(&database.url).await?.verifier(Arc::new(keyring));
            let tenants = match tenant {
                Some(slug) => vec![TenantId::new(slug)?],
                None => credentials.tenants().await?,
            };
            verify(
                &disputes,
                &tenants,
                dispute.map(DisputeId::new).transpose()?,
            )
            .await
        }
        Command::Tenant(TenantCommand::List) => {
            for tenant in open_store(&database.url)
                .await?
                .credentials()
                .tenants()
                .await?
            {
                println!("{tenant}");
            }
            Ok(())
        }
        Command::Migrate => {
            // Opening a store brings its schema up to date; nothing else to do.
            open_store(&database.url).await?;
            tracing::info!("the schema is up to date");
            Ok(())
        }
        Command::Tenant(TenantCommand::Create { slug, owner }) => {
            let tenant = TenantId::new(slug)?;
            // Checked before anything is stored, so a bad address leaves no tenant behind.
            let owner = owner.agent()?;
            let credentials = open_store(&database.url).await?.credentials();
            credentials
                .create_tenant(&tenant)
                .await
                .with_context(|| format!("cannot create the tenant {tenant}"))?;
            if let Some(owner) = &owner {
                credentials.assign_owner(&tenant, owner).await?;
            }
            tracing::info!(tenant = %tenant, "tenant created");
            Ok(())
        }
        Command::Tenant(TenantCommand::SetOwner { slug, name, email }) => {
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
        Command::Tenant(TenantCommand::SetPolicy {
            slug,
            respond_within,
            on_expiry,
            remind_before,
        }) => {
            let tenant = TenantId::new(slug)?;
            let change = PolicyChange {
                respond_within,
                grant_on_expiry: on_expiry.map(|o| o == ExpiryOutcome::Granted),
                remind_before,
            };
            let policy = open_store(&database.url)
                .await?
                .policies()
                .change(&tenant, change)
                .await
                .with_context(|| format!("cannot set the deadline policy of tenant {tenant}"))?;
            tracing::info!(
                tenant = %tenant,
                respond_within_secs = policy.respond_within.num_seconds(),
                remind_before_secs = policy.remind_before.num_seconds(),
                on_expiry = %policy.outcome_on_expiry(),
                "deadline policy set"
            );
            Ok(())
        }
        Command::Key(KeyCommand::Create {
            tenant,
            role,
            developer_id,
            username,
            scopes,
        }) => {
            let tenant = TenantId::new(tenant)?;
            if role.uses_login() && !scopes.is_empty() {
                anyhow::bail!(
                    "--scope is for the Bearer keys of the advertiser and operator roles"
                );
            }
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
                    let scopes = if scopes.is_empty() {
                        role.default_scopes().to_vec()
                    } else {
                        scopes
                    };
                    credentials
                        .issue_key(&tenant, role.into(), actor, &scopes)
                        .await
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
    tracing::info!(store = %store_name(url), "store open");
    Ok(store)
}

/// `disputes verify`: every dispute of `tenants` (or the one `only`), verified as a read
/// verifies it, each failure printed, a progress line on stderr now and then.
async fn verify(
    disputes: &DisputeService,
    tenants: &[TenantId],
    only: Option<DisputeId>,
) -> anyhow::Result<()> {
    const PROGRESS_EVERY: u64 = 10_000;
    let mut failed = 0_u64;
    let mut verified = 0_u64;
    let started = std::time::Instant::now();
    for tenant in tenants {
        let mut report = |dispute: &disputes_domain::Dispute, verdict: Result<(), _>| {
            verified += 1;
            if let Err(why) = verdict {
                failed += 1;
                let why: disputes_domain::TimelineError = why;
                println!(
                    "FAILED\ttenant {tenant}\tdispute {}\tentry {}\t{why}",
                    dispute.id(),
                    why.entry(dispute)
                );
            }
            if verified % PROGRESS_EVERY == 0 {
                eprintln!(
                    "verified {verified} disputes, {failed} failed, {:.0?}",
                    started.elapsed()
                );
            }
        };
        match only {
            Some(id) => {
                let (dispute, verdict) = disputes
                    .audit_one(tenant, id)
                    .await
                    .with_context(|| format!("cannot read dispute {id} of {tenant}"))?;
                report(&dispute, verdict);
            }
            None => {
                disputes
                    .audit(tenant, report)
                    .await
                    .with_context(|| format!("cannot read every dispute of {tenant}"))?;
            }
        }
    }
    println!(
        "verified {verified} disputes of {} tenants in {:.1?}: {failed} failed",
        tenants.len(),
        started.elapsed()
    );
    if failed > 0 {
        anyhow::bail!("{failed} of {verified} disputes failed verification");
    }
    Ok(())
}

/// `disputes signing-key …`: works on the key file alone, never on the database.
fn signing_key(command: SigningKeyCommand, path: &Path) -> anyhow::Result<()> {
    let now = SystemClock.now();
    let shown = |key: &disputes_ports::PublicKey| {
        let time = |t: Option<disputes_domain::Timestamp>| {
            t.map_or_else(|| "-".to_owned(), |t| t.to_rfc3339())
        };
        format!(
            "{}\tnot before {}\tnot after {}\trevoked {}",
            key.key_id,
            key.not_before.to_rfc3339(),
            time(key.not_after),
            time(key.revoked_at)
        )
    };
    let context = || format!("the signing keys at {}", path.display());
    match command {
        SigningKeyCommand::List => {
            for key in FileKeyring::list(path).with_context(context)? {
                println!("{}", shown(&key));
            }
        }
        SigningKeyCommand::Rotate { overlap_hours } => {
            let overlap = chrono::Duration::hours(i64::from(overlap_hours));
            let key = FileKeyring::rotate(path, now, overlap).with_context(context)?;
            tracing::info!(key = %key.key_id, overlap_hours, "a new signing key signs from now on; restart every instance within the overlap");
            println!("{}", shown(&key));
        }
        SigningKeyCommand::Revoke { key_id } => {
            let key = FileKeyring::revoke(path, &key_id, now).with_context(context)?;
            tracing::warn!(key = %key.key_id, "signing key revoked: seals it makes from now on are refused");
            println!("{}", shown(&key));
        }
    }
    Ok(())
}

/// The signing keys: the file `signing` names, else `signing-keys.json` beside the SQLite file
/// or `data/signing-keys.json` with PostgreSQL, created with a new key when it does not exist.
fn open_keyring(signing: &Signing, database_url: &str) -> anyhow::Result<Arc<dyn Keyring>> {
    let path = key_file(signing, database_url);
    let (keyring, created) = FileKeyring::open_or_create(&path)
        .with_context(|| format!("cannot open the signing keys at {}", path.display()))?;
    if created {
        tracing::warn!(
            path = %path.display(),
            "created a new signing key; in production keep this file apart from the database (--signing-key-file) and give every instance the same one"
        );
    }
    Ok(Arc::new(keyring))
}

/// Where the signing keys are: `signing`'s file, or the default beside the data.
fn key_file(signing: &Signing, database_url: &str) -> PathBuf {
    if let Some(path) = &signing.key_file {
        return path.clone();
    }
    let sqlite_file = database_url
        .starts_with("sqlite:")
        .then(|| disputes_sqlite::database_file(database_url))
        .flatten();
    match sqlite_file {
        Some(file) => file.with_file_name("signing-keys.json"),
        None => PathBuf::from("data/signing-keys.json"),
    }
}

/// What `url` names, for the log, without its credentials: the SQLite file, or the PostgreSQL
/// host, port and database. Everything before an `@` is user and password; the query holds
/// options, which may carry a password too.
fn store_name(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let place = rest.rsplit_once('@').map_or(rest, |(_, place)| place);
    let place = place.split_once('?').map_or(place, |(place, _)| place);
    match scheme {
        "sqlite" => format!("SQLite file {place}"),
        _ => format!("PostgreSQL at {place}"),
    }
}

impl Store {
    /// Wires the use cases to this store and to `blobs` for attachments, with the dispatcher
    /// that delivers the notifications they queue and the scheduler that acts on deadlines.
    fn into_state(
        self,
        blobs: Arc<dyn BlobStore>,
        keyring: Arc<dyn Keyring>,
        sinks: &DispatchArgs,
    ) -> anyhow::Result<(AppState, Dispatcher, DeadlineScheduler)> {
        match self {
            Store::Sqlite(store) => state_over(Arc::new(store), blobs, keyring, sinks),
            Store::Postgres(store) => state_over(Arc::new(store), blobs, keyring, sinks),
        }
    }

    /// The notification dispatcher and the deadline scheduler, without HTTP, for
    /// `disputes dispatch`.
    fn background(
        self,
        blobs: Arc<dyn BlobStore>,
        keyring: Arc<dyn Keyring>,
        sinks: &DispatchArgs,
    ) -> anyhow::Result<(Dispatcher, DeadlineScheduler)> {
        match self {
            Store::Sqlite(store) => background_over(Arc::new(store), blobs, keyring, sinks),
            Store::Postgres(store) => background_over(Arc::new(store), blobs, keyring, sinks),
        }
    }

    /// Tenants' deadline policies, for the administration commands.
    fn policies(self) -> PolicyService {
        let default = DisputePolicy::default();
        match self {
            Store::Sqlite(store) => PolicyService::new(Arc::new(store), default),
            Store::Postgres(store) => PolicyService::new(Arc::new(store), default),
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

    /// The counts `/metrics` shows (disputes by status, outbox depth), over the whole store.
    fn stats(&self) -> Arc<dyn OperationsStats> {
        match self {
            Store::Sqlite(store) => Arc::new(store.clone()),
            Store::Postgres(store) => Arc::new(store.clone()),
        }
    }

    /// The outbox only, for `disputes outbox`.
    fn outbox(self) -> Arc<dyn Outbox> {
        match self {
            Store::Sqlite(store) => Arc::new(store),
            Store::Postgres(store) => Arc::new(store),
        }
    }

    /// What `disputes verify` reads: the disputes, checked with `keyring`, and the tenants.
    fn verifier(self, keyring: Arc<dyn Keyring>) -> (DisputeService, CredentialService) {
        match self {
            Store::Sqlite(store) => verifier_over(Arc::new(store), keyring),
            Store::Postgres(store) => verifier_over(Arc::new(store), keyring),
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

fn verifier_over<S>(store: Arc<S>, keyring: Arc<dyn Keyring>) -> (DisputeService, CredentialService)
where
    S: DisputeRepository + CredentialStore + 'static,
{
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let disputes = DisputeService::new(store.clone(), clock.clone(), DisputePolicy::default())
        .with_keyring(keyring);
    (disputes, CredentialService::new(store, clock))
}

fn state_over<S>(
    store: Arc<S>,
    blobs: Arc<dyn BlobStore>,
    keyring: Arc<dyn Keyring>,
    sinks: &DispatchArgs,
) -> anyhow::Result<(AppState, Dispatcher, DeadlineScheduler)>
where
    S: DisputeRepository
        + CredentialStore
        + ReasonCatalog
        + Outbox
        + WebhookRegistry
        + SentEmails
        + TicketStore
        + TenantPolicies
        + DeadlineQueue
        + IdempotencyStore
        + 'static,
{
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let (dispatcher, deadlines) =
        background_over(store.clone(), blobs.clone(), keyring.clone(), sinks)?;
    let disputes = disputes_over(store.clone(), clock.clone(), keyring.clone(), &dispatcher);
    // Every request authenticates; remembering verified keys briefly saves a database round
    // trip each time (see KeyCache for what that means for revocation).
    let credentials = CredentialService::new(
        Arc::new(KeyCache::new(
            store.clone(),
            clock.clone(),
            KeyCache::DEFAULT_TTL,
        )),
        clock.clone(),
    );
    let state = AppState {
        billing: BillingService::new(disputes.clone(), store.clone()),
        invoices: InvoiceDesk::new(
            disputes.clone(),
            ThreadService::new(disputes.clone(), blobs),
            credentials.clone(),
            store.clone(),
            store.clone(),
        ),
        disputes,
        credentials,
        webhooks: WebhookService::new(store.clone(), clock.clone()),
        signing: SigningService::new(keyring.clone()),
        idempotency: IdempotencyService::new(store, clock),
        // Known once the server listens (see `serve`).
        public_url: None,
    };
    Ok((state, dispatcher, deadlines))
}

/// The use cases over `store`, each tenant's deadline policy applied, every entry sealed with
/// `keyring` and every seal read checked. Changes queue notifications for exactly the sinks
/// `dispatcher` delivers to.
fn disputes_over<S>(
    store: Arc<S>,
    clock: Arc<dyn Clock>,
    keyring: Arc<dyn Keyring>,
    dispatcher: &Dispatcher,
) -> DisputeService
where
    S: DisputeRepository + TenantPolicies + 'static,
{
    DisputeService::new(store.clone(), clock, DisputePolicy::default())
        .with_policies(store)
        .with_sinks(dispatcher.sinks())
        .with_keyring(keyring)
}

/// The dispatcher and the deadline scheduler over `store`; the scheduler's reminders and
/// expiries queue notifications like any change.
fn background_over<S>(
    store: Arc<S>,
    blobs: Arc<dyn BlobStore>,
    keyring: Arc<dyn Keyring>,
    sinks: &DispatchArgs,
) -> anyhow::Result<(Dispatcher, DeadlineScheduler)>
where
    S: DisputeRepository
        + CredentialStore
        + Outbox
        + WebhookRegistry
        + SentEmails
        + TicketStore
        + TenantPolicies
        + DeadlineQueue
        + 'static,
{
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let dispatcher = dispatcher_over(store.clone(), blobs, sinks)?;
    let disputes = disputes_over(store.clone(), clock.clone(), keyring, &dispatcher);
    let deadlines = DeadlineScheduler::new(store, disputes, clock);
    Ok((dispatcher, deadlines))
}

/// The deadline scheduler running on a task of its own, until [`stop`](Self::stop).
struct RunningDeadlines {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningDeadlines {
    /// Lets the current round finish and waits for it.
    async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.task.await?;
        Ok(())
    }
}

fn run_deadlines(scheduler: DeadlineScheduler, args: &DeadlineArgs) -> RunningDeadlines {
    let poll = std::time::Duration::from_millis(args.poll_ms.max(1));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        scheduler
            .run(poll, async {
                let _ = stopped.await;
            })
            .await;
    });
    tracing::info!(
        poll_ms = poll.as_millis() as u64,
        "deadlines: reminders and expiry by tenant policy"
    );
    RunningDeadlines { stop, task }
}

/// The dispatcher over `store`'s outbox, with every sink this build has that is configured.
fn dispatcher_over<S>(
    store: Arc<S>,
    blobs: Arc<dyn BlobStore>,
    sinks: &DispatchArgs,
) -> anyhow::Result<Dispatcher>
where
    S: DisputeRepository
        + CredentialStore
        + Outbox
        + WebhookRegistry
        + SentEmails
        + TicketStore
        + 'static,
{
    let mut dispatcher = Dispatcher::new(store.clone(), store.clone(), Arc::new(SystemClock))
        .with_notifier(Sink::Webhook, Arc::new(WebhookNotifier::new(store.clone())));
    if let Some(email) = email_sink::email_notifier(&sinks.email, store.clone(), store.clone())? {
        dispatcher = dispatcher.with_notifier(Sink::Email, Arc::new(email));
    }
    if let Some(client) = freshdesk_sink::freshdesk_client(&sinks.freshdesk)? {
        let tickets = FreshdeskNotifier::new(client, store.clone(), blobs, store);
        dispatcher = dispatcher.with_notifier(Sink::Freshdesk, Arc::new(tickets));
    }
    // The first wait is at most the longest one, which the delays never pass anyway.
    let max_ms = sinks.backoff_max_ms.max(1);
    let millis = |ms: u64| chrono::Duration::milliseconds(i64::try_from(ms).unwrap_or(i64::MAX));
    let backoff = Backoff {
        base: millis(sinks.backoff_ms.clamp(1, max_ms)),
        max: millis(max_ms),
    };
    let webhooks = RetryPolicy {
        schedule: Schedule::Steps(sinks.webhook_retry_schedule.clone()),
        max_attempts: sinks.webhook_max_attempts,
    };
    Ok(dispatcher
        .with_backoff(backoff)
        .with_retry_policy(Sink::Webhook, webhooks)
        .with_retry_policy(
            Sink::Email,
            RetryPolicy::backoff(backoff, sinks.email_max_attempts),
        )
        .with_retry_policy(
            Sink::Freshdesk,
            RetryPolicy::backoff(backoff, sinks.freshdesk_max_attempts),
        )
        .with_retention(sinks.outbox_retention))
}

/// The dead letters as `disputes outbox list --failed` prints them: a header and a line each,
/// in aligned columns, the last error last (it is the long one, and kept on its line).
fn dead_letter_table(dead: &[DeadLetter]) -> String {
    if dead.is_empty() {
        return String::new();
    }
    let header = [
        "ID",
        "SINK",
        "TENANT",
        "DISPUTE",
        "EVENT",
        "ATTEMPTS",
        "DEAD-LETTERED AT",
        "LAST ERROR",
    ]
    .map(str::to_owned);
    let rows = std::iter::once(header)
        .chain(dead.iter().map(|d| {
            [
                d.job.id.to_string(),
                d.job.sink.to_string(),
                d.job.tenant.to_string(),
                d.job.dispute.to_string(),
                d.job.event.to_string(),
                d.job.attempts.to_string(),
                d.dead_lettered_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                d.last_error
                    .as_deref()
                    .unwrap_or("-")
                    .replace(['\n', '\r'], " "),
            ]
        }))
        .collect::<Vec<_>>();
    // The last column is not padded.
    let widths: Vec<usize> = (0..rows[0].len() - 1)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        let (last, aligned) = row.split_last().expect("eight columns");
        for (cell, width) in aligned.iter().zip(&widths) {
            out.push_str(&format!("{cell:<width$}  "));
        }
        out.push_str(last);
        out.push('\n');
    }
    out
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
    let attempts = |sink| dispatcher.retry_policy(sink).max_attempts;
    tracing::info!(
        webhook_max_attempts = attempts(Sink::Webhook),
        email_max_attempts = attempts(Sink::Email),
        freshdesk_max_attempts = attempts(Sink::Freshdesk),
        retention_hours = dispatcher.retention().num_hours(),
        "notifications: dead-lettered when refused for good or after their sink's last attempt \
         (`disputes outbox list --failed`); delivered ones pruned after the retention"
    );
}

fn poll(args: &DispatchArgs) -> std::time::Duration {
    std::time::Duration::from_millis(args.poll_ms.max(1))
}

async fn serve(
    listen: SocketAddr,
    public_url: Option<PublicUrl>,
    mut state: AppState,
    dispatcher: Dispatcher,
    dispatch: &DispatchArgs,
    operations: Operations,
) -> anyhow::Result<()> {
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let address = listener.local_addr()?;
    // The listen address names this server only when it is one address; on every address
    // (0.0.0.0) references are relative instead.
    state.public_url = public_url.or_else(|| {
        (!address.ip().is_unspecified())
            .then(|| PublicUrl::new(&format!("http://{address}")).ok())
            .flatten()
    });
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
    axum::serve(
        listener,
        disputes_http::router_with_operations(state, operations),
    )
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

#[cfg(test)]
mod tests {
    use super::{dead_letter_table, store_name};
    use chrono::TimeZone as _;
    use disputes_domain::{DisputeId, EntryKind, TenantId};
    use disputes_ports::{DeadLetter, EventId, OutboxJob, Sink};

    #[test]
    fn dead_letters_are_listed_in_aligned_columns() {
        assert_eq!(dead_letter_table(&[]), "", "nothing at all for none");
        let event: EventId = "evt_0123456789abcdef0123456789abcdef".parse().unwrap();
        let dead = DeadLetter {
            job: OutboxJob {
                id: 12,
                event,
                tenant: TenantId::new("acme").unwrap(),
                dispute: DisputeId::new(7).unwrap(),
                seq: 1,
                kind: EntryKind::Opened,
                sink: Sink::Webhook,
                attempts: 5,
                replayed: false,
            },
            last_error: Some("http://127.0.0.1:9/hook: 410 Gone\nmore".to_owned()),
            dead_lettered_at: chrono::Utc.with_ymd_and_hms(2026, 12, 7, 9, 30, 0).unwrap(),
        };
        let table = dead_letter_table(&[dead]);
        let lines = table.lines().collect::<Vec<_>>();
        assert_eq!(lines.len(), 2, "{table}");
        assert!(
            lines[0].starts_with("ID  SINK     TENANT  DISPUTE  EVENT"),
            "{table}"
        );
        assert_eq!(
            lines[1],
            format!(
                "12  webhook  acme    {:<7}  evt_0123456789abcdef0123456789abcdef  5         \
                 2026-12-07T09:30:00Z  http://127.0.0.1:9/hook: 410 Gone more",
                DisputeId::new(7).unwrap().to_string()
            )
        );
    }

    #[test]
    fn a_store_is_named_without_its_credentials() {
        assert_eq!(
            store_name(
                "postgres://app:s3cret@db.internal:5432/disputes?sslmode=require&password=x"
            ),
            "PostgreSQL at db.internal:5432/disputes"
        );
        assert_eq!(
            store_name("sqlite://data/disputes.db"),
            "SQLite file data/disputes.db"
        );
        assert_eq!(
            store_name("sqlite:///tmp/x.db?mode=rwc"),
            "SQLite file /tmp/x.db"
        );
    }
}
