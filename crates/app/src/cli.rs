//! The command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use disputes_domain::{Agent, DomainError, Role};
use disputes_ports::Scope;

#[derive(Debug, Parser)]
#[command(
    name = "disputes",
    version,
    about = "One dispute engine, three wire contracts."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Given before or after the subcommand: `disputes --database-url X tenant create acme`
    /// and `disputes tenant create acme --database-url X` are the same.
    #[command(flatten)]
    pub database: Database,
    #[command(flatten)]
    pub signing: Signing,
}

#[derive(Debug, Args)]
pub struct Signing {
    /// The engine's signing keys (Ed25519, JSON, mode 0600), which seal every timeline entry:
    /// keep this file apart from the database (another volume, a secret store), and give every
    /// instance the same one. Without it, `signing-keys.json` beside the SQLite file, or
    /// `data/signing-keys.json` with PostgreSQL; created with a new key on first start.
    #[arg(
        long = "signing-key-file",
        env = "DISPUTES_SIGNING_KEY_FILE",
        global = true
    )]
    pub key_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct Database {
    /// Where disputes are stored: `sqlite://path/to/file.db` (created on first use) or
    /// `postgres://user@host:port/database`.
    #[arg(
        long = "database-url",
        env = "DATABASE_URL",
        default_value = "sqlite://data/disputes.db",
        global = true
    )]
    pub url: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serves every contract over HTTP until Ctrl-C or SIGTERM.
    Serve(ServeArgs),
    /// Brings the database schema up to date, and nothing else (`serve` does it too).
    Migrate,
    /// Manages tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Manages API keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Delivers queued notifications until Ctrl-C or SIGTERM, without serving HTTP (`serve` does
    /// this too); any number may run against one PostgreSQL database.
    Dispatch {
        #[command(flatten)]
        dispatch: DispatchArgs,
        /// The attachments' directory, as `serve` has it (Freshdesk tickets carry the files).
        #[arg(
            long = "blob-dir",
            env = "DISPUTES_BLOB_DIR",
            default_value = "data/blobs"
        )]
        blob_dir: PathBuf,
        #[command(flatten)]
        deadlines: DeadlineArgs,
    },
    /// Manages tenants' webhooks.
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Looks at the notifications that were given up on (dead-lettered), and replays them.
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// Verifies every stored dispute as a read does: its evidence, its hash chain, the state each
    /// entry sealed and every seal. Prints each failure (tenant, dispute, entry, what differs)
    /// and a summary; exits non-zero when any dispute fails. Reads only: it never changes a
    /// dispute, and never creates a signing key. With --export and --keys, checks a saved
    /// signed export offline instead, without the database or the signing keys.
    Verify {
        /// Only this tenant's disputes.
        #[arg(long, conflicts_with = "export")]
        tenant: Option<String>,
        /// Only this dispute (its number); needs --tenant.
        #[arg(long, requires = "tenant")]
        dispute: Option<i64>,
        /// A saved export (`GET /v1/disputes/{id}?export=true`, or another contract's export
        /// call), checked offline; needs --keys.
        #[arg(long, requires = "keys")]
        export: Option<PathBuf>,
        /// The published keys (`GET /v1/runtime-keys`, saved) to check --export with.
        #[arg(long, requires = "export")]
        keys: Option<PathBuf>,
    },
    /// Manages the keys that seal every timeline entry and sign exports.
    #[command(subcommand)]
    SigningKey(SigningKeyCommand),
    /// Prints the OpenAPI 3.1 document of every contract (what `GET /openapi.json` serves and
    /// docs/openapi.json holds), and exits.
    Openapi,
}

#[derive(Debug, Subcommand)]
pub enum SigningKeyCommand {
    /// Lists every key, without its private part: id, validity and revocation.
    List,
    /// Starts a new key that signs from now on. The key that signed until now keeps signing
    /// validly for the overlap, long enough to restart every instance; what it signed stays
    /// valid for good.
    Rotate {
        /// Hours the previous key may still sign.
        #[arg(long = "overlap-hours", default_value_t = 24)]
        overlap_hours: u32,
    },
    /// Marks a key revoked now: what it signed before stays valid, anything it signs from now
    /// on is refused. Rotate first when it is the key that signs now.
    Revoke {
        /// The key's id (`sig_…`), as `signing-key list` shows it.
        key_id: String,
    },
}

/// How the notification dispatcher runs.
#[derive(Debug, Args)]
pub struct DispatchArgs {
    /// How often, in milliseconds, an idle dispatcher looks for due notifications.
    #[arg(
        long = "dispatch-poll-ms",
        env = "DISPUTES_DISPATCH_POLL_MS",
        default_value_t = 1000
    )]
    pub poll_ms: u64,
    /// The longest first wait, in milliseconds, before a failed notification is tried again;
    /// each further failure doubles it (with jitter), up to an hour.
    #[arg(
        long = "dispatch-backoff-ms",
        env = "DISPUTES_DISPATCH_BACKOFF_MS",
        default_value_t = 1000
    )]
    pub backoff_ms: u64,
    /// The longest wait, in milliseconds, between two attempts at a notification a sink
    /// refused (the backoff doubles up to it).
    #[arg(
        long = "dispatch-backoff-max-ms",
        env = "DISPUTES_DISPATCH_BACKOFF_MAX_MS",
        default_value_t = 3_600_000
    )]
    pub backoff_max_ms: u64,
    /// The waits before each retry of a webhook delivery, separated by commas (`500ms`, `30s`,
    /// `2m`, `1h`), the last one repeated; the delivery vendor's schedule by default. An
    /// endpoint's `Retry-After` still sets the wait.
    #[arg(
        long = "webhook-retry-schedule",
        env = "DISPUTES_WEBHOOK_RETRY_SCHEDULE",
        value_name = "WAITS",
        value_delimiter = ',',
        value_parser = wait,
        default_value = "30s,2m,10m,1h"
    )]
    pub webhook_retry_schedule: Vec<chrono::Duration>,
    /// The attempts a webhook delivery gets before it is dead-lettered (the vendor's 5).
    #[arg(
        long = "webhook-max-attempts",
        env = "DISPUTES_WEBHOOK_MAX_ATTEMPTS",
        default_value_t = disputes_ports::RetryPolicy::WEBHOOK_MAX_ATTEMPTS,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub webhook_max_attempts: u32,
    /// The attempts a notification mail gets before it is dead-lettered; with the default
    /// backoff 40 span about a day.
    #[arg(
        long = "email-max-attempts",
        env = "DISPUTES_EMAIL_MAX_ATTEMPTS",
        default_value_t = disputes_ports::RetryPolicy::DEFAULT_MAX_ATTEMPTS,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub email_max_attempts: u32,
    /// The attempts a Freshdesk call gets before it is dead-lettered; with the default backoff
    /// 40 span about a day.
    #[arg(
        long = "freshdesk-max-attempts",
        env = "DISPUTES_FRESHDESK_MAX_ATTEMPTS",
        default_value_t = disputes_ports::RetryPolicy::DEFAULT_MAX_ATTEMPTS,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub freshdesk_max_attempts: u32,
    /// Days a delivered notification is kept before it is pruned; fractions allowed.
    /// Dead-lettered and undelivered ones are never pruned.
    #[arg(
        long = "outbox-retention-days",
        env = "DISPUTES_OUTBOX_RETENTION_DAYS",
        value_name = "DAYS",
        value_parser = days,
        default_value = "7"
    )]
    pub outbox_retention: chrono::Duration,
    #[command(flatten)]
    pub email: EmailArgs,
    #[command(flatten)]
    pub freshdesk: FreshdeskArgs,
}

/// Where notification mail goes. Without an SMTP relay no mail is sent (nor queued).
#[derive(Debug, Args)]
pub struct EmailArgs {
    /// The SMTP relay: `smtp://host:port` (plain, for local relays), `smtp://host:port?tls=required`
    /// (STARTTLS) or `smtps://host:port` (TLS), with `user:password@` before the host if the relay
    /// asks for a login.
    #[arg(
        long = "smtp-url",
        env = "SMTP_URL",
        hide_env_values = true,
        requires = "email_from"
    )]
    pub smtp_url: Option<String>,
    /// The sender of notification mail: `disputes@example.com` or
    /// `"Disputes <disputes@example.com>"`.
    #[arg(long = "email-from", env = "EMAIL_FROM")]
    pub email_from: Option<String>,
}

/// The Freshdesk desk that gets a ticket per dispute; off unless both are given.
#[derive(Debug, Args)]
pub struct FreshdeskArgs {
    /// The desk's base URL, e.g. `https://acme.freshdesk.com`.
    #[arg(
        long = "freshdesk-url",
        env = "FRESHDESK_URL",
        requires = "freshdesk_api_key"
    )]
    pub freshdesk_url: Option<String>,
    /// An agent's API key (HTTP Basic `<key>:X`).
    #[arg(
        long = "freshdesk-api-key",
        env = "FRESHDESK_API_KEY",
        requires = "freshdesk_url",
        hide_env_values = true
    )]
    pub freshdesk_api_key: Option<String>,
    /// How long, in milliseconds, one request to Freshdesk may take.
    #[arg(
        long = "freshdesk-timeout-ms",
        env = "FRESHDESK_TIMEOUT_MS",
        default_value_t = 10_000
    )]
    pub freshdesk_timeout_ms: u64,
}

/// How the deadline scheduler (reminders and expiry) runs.
#[derive(Debug, Args)]
pub struct DeadlineArgs {
    /// How often, in milliseconds, the scheduler looks for disputes whose reminder is due or
    /// whose deadline has passed.
    #[arg(
        id = "deadline_poll_ms",
        long = "deadline-poll-ms",
        env = "DISPUTES_DEADLINE_POLL_MS",
        default_value_t = 30_000
    )]
    pub poll_ms: u64,
}

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Registers a URL that receives the events of the tenant's disputes it subscribes to, and
    /// prints the secret its signatures are made with, alone on stdout.
    Add {
        /// The tenant whose events the endpoint receives (its slug).
        #[arg(long)]
        tenant: String,
        /// An http:// or https:// URL.
        #[arg(long = "url", value_name = "URL")]
        endpoint: String,
        /// The events it receives, separated by commas: `*` for all, or `dispute.<kind>`
        /// (opened, responded, accepted, rejected, settled, withdrawn, expired, note, message,
        /// reminder, investigating, evidence_gathered, escalated).
        #[arg(
            long,
            value_name = "EVENTS",
            value_delimiter = ',',
            default_value = "*"
        )]
        events: Vec<String>,
        /// A name for the endpoint, 1 to 60 characters.
        #[arg(long)]
        label: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// Prints the dead-lettered notifications, one a line: job id, sink, tenant, dispute,
    /// event id, attempts, when it was given up on and the last error.
    List {
        /// Lists the dead-lettered jobs (the only listing there is).
        #[arg(long, required = true)]
        failed: bool,
        /// At most this many, oldest job first.
        #[arg(long, default_value_t = 100)]
        limit: u16,
    },
    /// Puts dead-lettered notifications back in the queue, due now, with their attempts
    /// counted from zero again, and prints how many.
    Retry {
        /// The job's id, as `outbox list --failed` prints it.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        id: Option<i64>,
        /// Every dead-lettered job.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on; port 0 picks a free port (logged at start).
    #[arg(long, env = "DISPUTES_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Where clients reach this server (`https://billing.example.com`, behind a proxy that
    /// terminates TLS): every absolute URL the engine writes starts with it. Without it, the
    /// listen address (`http://127.0.0.1:8080`), or references relative to the server when it
    /// listens on every address; never a request's Host header.
    #[arg(long = "public-url", env = "DISPUTES_PUBLIC_URL", value_parser = public_url)]
    pub public_url: Option<disputes_http::PublicUrl>,
    /// The directory that keeps attachments (created if missing), one file per content hash and
    /// tenant. Keep it out of any web server's document root.
    #[arg(
        long = "blob-dir",
        env = "DISPUTES_BLOB_DIR",
        default_value = "data/blobs"
    )]
    pub blob_dir: PathBuf,
    /// Requests a minute each authenticated caller (API key, billing user, invoice login) may
    /// make, with a burst of as many at once; beyond it a 429 with Retry-After. Counted per
    /// server instance. 0 turns the limit off.
    #[arg(
        long = "rate-limit-per-minute",
        env = "DISPUTES_RATE_LIMIT_PER_MINUTE",
        default_value_t = disputes_http::Operations::DEFAULT_RATE_LIMIT_PER_MINUTE
    )]
    pub rate_limit_per_minute: u32,
    /// Milliseconds a client waits for an answer before a 503; the request itself still runs
    /// to completion.
    #[arg(
        long = "request-timeout-ms",
        env = "DISPUTES_REQUEST_TIMEOUT_MS",
        default_value_t = 30_000,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub request_timeout_ms: u64,
    /// Lets `POST /v1/webhooks` register `http://` URLs of loopback hosts (127.0.0.1, ::1,
    /// localhost), for a receiver without a certificate on the same machine: tests, local
    /// development. Otherwise only `https://` URLs are taken.
    #[arg(long, env = "DISPUTES_WEBHOOKS_ALLOW_LOOPBACK_HTTP")]
    pub webhooks_allow_loopback_http: bool,
    #[command(flatten)]
    pub dispatch: DispatchArgs,
    #[command(flatten)]
    pub deadlines: DeadlineArgs,
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Lists every tenant's slug, one a line.
    List,
    /// Creates a tenant (an org, a merchant account, a billing brand).
    Create {
        /// Lowercase letters, digits and '-'.
        slug: String,
        #[command(flatten)]
        owner: OwnerArgs,
    },
    /// Assigns the agent who handles a tenant's disputes (the invoice contract's `owner`),
    /// replacing any before.
    SetOwner {
        /// The tenant's slug.
        slug: String,
        /// The agent's name.
        #[arg(long)]
        name: String,
        /// The agent's email address.
        #[arg(long)]
        email: String,
    },
    /// Sets a tenant's deadline policy: how long whoever must act has, how long before that
    /// they are reminded, and how a dispute nobody answered in time ends. What is not given
    /// stays as it was (at first: 14 days, 48 hours, denied).
    SetPolicy {
        /// The tenant's slug.
        slug: String,
        /// Days to respond; fractions allowed (0.5 is 12 hours), kept in whole seconds.
        #[arg(long = "respond-within-days", value_name = "DAYS", value_parser = days)]
        respond_within: Option<chrono::Duration>,
        /// How a dispute whose deadline passes ends: denied (settles nothing) or granted (the
        /// full claim).
        #[arg(long = "on-expiry", value_enum)]
        on_expiry: Option<ExpiryOutcome>,
        /// Hours before the deadline that a reminder is recorded (and notified); 0 for none.
        /// Fractions allowed, kept in whole seconds.
        #[arg(long = "remind-before-hours", value_name = "HOURS", value_parser = hours)]
        remind_before: Option<chrono::Duration>,
    },
}

/// How an expired dispute ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExpiryOutcome {
    Denied,
    Granted,
}

/// A number of days, fractions allowed, to the nearest second.
fn days(text: &str) -> Result<chrono::Duration, String> {
    seconds_of(text, 86_400.0)
}

/// A number of hours, fractions allowed, to the nearest second.
fn hours(text: &str) -> Result<chrono::Duration, String> {
    seconds_of(text, 3_600.0)
}

/// A wait such as `500ms`, `30s`, `2m` or `1h`: a whole number and its unit.
fn wait(text: &str) -> Result<chrono::Duration, String> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let n: i64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a wait such as 30s, 2m or 1h"))?;
    // A day of milliseconds bounds every unit well inside chrono's range.
    let limit = 86_400_000;
    let millis = match unit {
        "ms" => Some(n),
        "s" => n.checked_mul(1_000),
        "m" => n.checked_mul(60_000),
        "h" => n.checked_mul(3_600_000),
        _ => return Err(format!("{text:?}: the unit is ms, s, m or h")),
    };
    match millis {
        Some(ms) if ms <= limit => Ok(chrono::Duration::milliseconds(ms)),
        _ => Err(format!("{text:?} is longer than a day")),
    }
}

/// `text` (a non-negative number) times `unit` seconds, rounded to whole seconds; the policy
/// itself checks the range.
fn seconds_of(text: &str, unit: f64) -> Result<chrono::Duration, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    // Ten years of seconds bound it well inside i64, whatever was typed.
    if !value.is_finite() || value < 0.0 || value * unit > 10.0 * 365.0 * 86_400.0 {
        return Err(format!("{text:?} is out of range"));
    }
    Ok(chrono::Duration::seconds((value * unit).round() as i64))
}

/// The agent who handles the new tenant's disputes, if known already.
#[derive(Debug, Args)]
pub struct OwnerArgs {
    /// The agent's name; with --owner-email.
    #[arg(long = "owner-name", requires = "owner_email")]
    pub owner_name: Option<String>,
    /// The agent's email address; with --owner-name.
    #[arg(long = "owner-email", requires = "owner_name")]
    pub owner_email: Option<String>,
}

impl OwnerArgs {
    /// The agent named, if one was.
    pub fn agent(self) -> Result<Option<Agent>, DomainError> {
        match (self.owner_name, self.owner_email) {
            (Some(name), Some(email)) => Agent::new(name, email).map(Some),
            // clap requires the two together.
            _ => Ok(None),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Issues a credential and prints its secret alone on stdout: a Bearer key for the delivery
    /// roles (advertiser, operator); for `client` (invoice contract) and `billing` (billing
    /// contract) a login whose secret is the `billinkId` or the Basic password. It is shown once
    /// and stored hashed.
    Create {
        /// The tenant the key or login belongs to (its slug).
        #[arg(long)]
        tenant: String,
        /// Who the credential speaks for: a Bearer key for advertiser and operator (the
        /// delivery contract; also by the vendor's names tenant_admin, tenant_operator,
        /// tenant_brand, tenant_reviewer, tenant_auditor), a login for client (invoice) and
        /// billing (billing).
        #[arg(long, value_enum)]
        role: KeyRole,
        /// Who acts with a Bearer key (the delivery contract's developerId); `key-<key id>` if
        /// not given.
        #[arg(long, conflicts_with = "username")]
        developer_id: Option<String>,
        /// The login's username (`billinkUsername`, or the Basic user), unique across tenants;
        /// required for the client and billing roles.
        #[arg(long)]
        username: Option<String>,
        /// What a Bearer key may do, in the delivery vendor's names: `audit:read` (read
        /// disputes), `settlement:write` (change them), `*` (everything), `settlement:read`,
        /// `challenges:write`; repeat it for several. Without it: audit:read and
        /// settlement:write.
        #[arg(long = "scope", value_name = "SCOPE", value_parser = scope)]
        scopes: Vec<Scope>,
    },
}

fn public_url(text: &str) -> Result<disputes_http::PublicUrl, String> {
    disputes_http::PublicUrl::new(text)
}

fn scope(text: &str) -> Result<Scope, String> {
    text.parse()
}

/// The roles a credential can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyRole {
    Advertiser,
    Operator,
    Client,
    Billing,
    /// The delivery vendor's role names, for keys its clients expect: an operator key with `*`.
    #[value(name = "tenant_admin")]
    TenantAdmin,
    /// An operator key.
    #[value(name = "tenant_operator")]
    TenantOperator,
    /// An advertiser key: for disputes the brand is the advertiser, who opens and answers them.
    #[value(name = "tenant_brand")]
    TenantBrand,
    /// A read-only operator key (`audit:read`).
    #[value(name = "tenant_reviewer")]
    TenantReviewer,
    /// A read-only operator key (`audit:read`).
    #[value(name = "tenant_auditor")]
    TenantAuditor,
}

impl KeyRole {
    /// The invoice and billing contracts authenticate with a username and a secret.
    pub fn uses_login(self) -> bool {
        matches!(self, KeyRole::Client | KeyRole::Billing)
    }

    /// The scopes a Bearer key of this role gets when `--scope` names none: the vendor's roles
    /// say what their keys may do; ours may read and change disputes.
    pub fn default_scopes(self) -> &'static [Scope] {
        match self {
            KeyRole::TenantAdmin => &[Scope::All],
            KeyRole::TenantReviewer | KeyRole::TenantAuditor => &[Scope::AuditRead],
            _ => Scope::DEFAULT,
        }
    }
}

impl From<KeyRole> for Role {
    fn from(role: KeyRole) -> Self {
        match role {
            KeyRole::Advertiser | KeyRole::TenantBrand => Role::Advertiser,
            KeyRole::Operator
            | KeyRole::TenantAdmin
            | KeyRole::TenantOperator
            | KeyRole::TenantReviewer
            | KeyRole::TenantAuditor => Role::Operator,
            KeyRole::Client => Role::Client,
            KeyRole::Billing => Role::Billing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn policy_durations_take_fractions_to_the_second() {
        assert_eq!(days("14"), Ok(chrono::Duration::days(14)));
        assert_eq!(days("0.5"), Ok(chrono::Duration::hours(12)));
        assert_eq!(days("0.00003"), Ok(chrono::Duration::seconds(3)));
        assert_eq!(hours("1.1"), Ok(chrono::Duration::seconds(3960)));
        assert_eq!(hours("0"), Ok(chrono::Duration::zero()));
        for bad in ["", "x", "-1", "NaN", "inf", "1e30"] {
            assert!(days(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn retry_waits_take_a_unit() {
        assert_eq!(wait("30s"), Ok(chrono::Duration::seconds(30)));
        assert_eq!(wait("2m"), Ok(chrono::Duration::minutes(2)));
        assert_eq!(wait("1h"), Ok(chrono::Duration::hours(1)));
        assert_eq!(wait("250ms"), Ok(chrono::Duration::milliseconds(250)));
        for bad in ["", "30", "s", "-1s", "1d", "25h", "99999999999999999999s"] {
            assert!(wait(bad).is_err(), "{bad}");
        }
        let cli = Cli::try_parse_from(["disputes", "serve"]).unwrap();
        let Command::Serve(serve) = cli.command else {
            panic!("serve");
        };
        assert_eq!(
            serve.dispatch.webhook_retry_schedule,
            [30, 120, 600, 3600].map(chrono::Duration::seconds),
            "the vendor's schedule by default"
        );
        assert_eq!(serve.dispatch.outbox_retention, chrono::Duration::days(7));
    }

    #[test]
    fn outbox_retry_takes_an_id_or_all_but_not_both() {
        for args in [&["outbox", "retry"][..], &["outbox", "retry", "7", "--all"]] {
            let args = std::iter::once("disputes").chain(args.iter().copied());
            assert!(Cli::try_parse_from(args).is_err());
        }
        assert!(Cli::try_parse_from(["disputes", "outbox", "retry", "7"]).is_ok());
        assert!(Cli::try_parse_from(["disputes", "outbox", "retry", "--all"]).is_ok());
        assert!(Cli::try_parse_from(["disputes", "outbox", "list"]).is_err());
    }

    /// Every subcommand says what it does and every option what it means, in `--help`.
    #[test]
    fn every_command_and_option_has_a_help_line() {
        fn check(command: &clap::Command, path: &str) {
            assert!(
                path == "disputes" || command.get_about().is_some(),
                "`{path}` has no help line"
            );
            for arg in command.get_arguments() {
                let built_in = matches!(arg.get_id().as_str(), "help" | "version");
                assert!(
                    built_in || arg.get_help().is_some() || arg.get_long_help().is_some(),
                    "`{path}`: {} has no help line",
                    arg.get_id()
                );
            }
            for sub in command.get_subcommands() {
                check(sub, &format!("{path} {}", sub.get_name()));
            }
        }
        let cli = Cli::command();
        cli.clone().debug_assert();
        check(&cli, "disputes");
    }
}
