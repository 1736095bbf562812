//! The command line.

use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand, ValueEnum};
use disputes_domain::Role;

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
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on; port 0 picks a free port (logged at start).
    #[arg(long, env = "DISPUTES_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
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
        database: Database,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Issues an API key and prints it alone on stdout. It is shown once and stored hashed.
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long, value_enum)]
        role: KeyRole,
        /// Who acts with this key (the delivery contract's developerId); `key-<key id>` if
        /// not given.
        #[arg(long)]
        developer_id: Option<String>,
        #[command(flatten)]
        database: Database,
    },
}

/// The roles a key can carry.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KeyRole {
    Advertiser,
    Operator,
}

impl From<KeyRole> for Role {
    fn from(role: KeyRole) -> Self {
        match role {
            KeyRole::Advertiser => Role::Advertiser,
            KeyRole::Operator => Role::Operator,
        }
    }
}
