//! The command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use disputes_domain::{Agent, DomainError, Role};

#[derive(Debug, Parser)]
#[command(
    name = "disputes",
    version,
    about = "One dispute engine, three wire contracts."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Database {
    /// Where disputes are stored: `sqlite://path/to/file.db` (created on first use) or
    /// `postgres://user@host:port/database`.
    #[arg(
        long = "database-url",
        env = "DATABASE_URL",
        default_value = "sqlite://data/disputes.db"
    )]
    pub url: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serves every contract over HTTP until Ctrl-C or SIGTERM.
    Serve(ServeArgs),
    /// Brings the database schema up to date, and nothing else (`serve` does it too).
    Migrate {
        #[command(flatten)]
        database: Database,
    },
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
        #[command(flatten)]
        database: Database,
    },
    /// Manages tenants' webhooks.
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Prints the OpenAPI 3.1 document of every contract (what `GET /openapi.json` serves and
    /// docs/openapi.json holds), and exits.
    Openapi,
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
}

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Registers a URL that receives every event of the tenant's disputes, and prints the
    /// secret its signatures are made with, alone on stdout.
    Add {
        #[arg(long)]
        tenant: String,
        /// An http:// or https:// URL.
        #[arg(long = "url", value_name = "URL")]
        endpoint: String,
        #[command(flatten)]
        database: Database,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on; port 0 picks a free port (logged at start).
    #[arg(long, env = "DISPUTES_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The directory that keeps attachments (created if missing), one file per content hash and
    /// tenant. Keep it out of any web server's document root.
    #[arg(
        long = "blob-dir",
        env = "DISPUTES_BLOB_DIR",
        default_value = "data/blobs"
    )]
    pub blob_dir: PathBuf,
    #[command(flatten)]
    pub dispatch: DispatchArgs,
    #[command(flatten)]
    pub database: Database,
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Creates a tenant (an org, a merchant account, a billing brand).
    Create {
        /// Lowercase letters, digits and '-'.
        slug: String,
        #[command(flatten)]
        owner: OwnerArgs,
        #[command(flatten)]
        database: Database,
    },
    /// Assigns the agent who handles a tenant's disputes (the invoice contract's `owner`),
    /// replacing any before.
    SetOwner {
        slug: String,
        /// The agent's name.
        #[arg(long)]
        name: String,
        /// The agent's email address.
        #[arg(long)]
        email: String,
        #[command(flatten)]
        database: Database,
    },
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
        #[arg(long)]
        tenant: String,
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
        #[command(flatten)]
        database: Database,
    },
}

/// The roles a credential can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyRole {
    Advertiser,
    Operator,
    Client,
    Billing,
}

impl KeyRole {
    /// The invoice and billing contracts authenticate with a username and a secret.
    pub fn uses_login(self) -> bool {
        matches!(self, KeyRole::Client | KeyRole::Billing)
    }
}

impl From<KeyRole> for Role {
    fn from(role: KeyRole) -> Self {
        match role {
            KeyRole::Advertiser => Role::Advertiser,
            KeyRole::Operator => Role::Operator,
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
}
