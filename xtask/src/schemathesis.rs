//! `cargo xtask schemathesis`: property-based tests of the running server against its own
//! OpenAPI document, with schemathesis (PyPI; `.ci/run` installs the pinned version).
//!
//! Starts `disputes serve` on 127.0.0.1 port 0 on a fresh PostgreSQL schema (the production
//! store; `DISPUTES_SCHEMATHESIS_STORE=sqlite` for a fresh SQLite file), issues credentials for
//! every role a contract has (Bearer keys for the delivery advertiser and operator, a billing
//! login for HTTP Basic, a client login whose credentials the hooks in
//! `xtask/schemathesis/disputes_hooks.py` put into every invoice body), runs schemathesis over
//! each contract's operations (and the operational endpoints, without credentials), and stops
//! the server. Every check is on (`schemathesis/schemathesis.toml` says which refusals of valid
//! requests are expected, and why): a 5xx, an answer that breaks its schema, an undocumented
//! status, a valid request refused or an invalid one accepted fails the run.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{bail, Context};
use xshell::{cmd, Shell};

/// Every check schemathesis has: besides no server error and answers that match the document
/// (schema, status, content type, headers), a schema-valid request must be accepted and a
/// schema-violating one refused, and calls without their credentials too. Where a rule no schema
/// can state refuses a valid request, `schemathesis/schemathesis.toml` says so.
const CHECKS: &str = "all";
/// Examples per operation and phase; the whole run stays within a few minutes on a small machine.
const MAX_EXAMPLES: &str = "40";
/// A fixed seed keeps CI reproducible; `DISPUTES_SCHEMATHESIS_SEED` explores others.
const DEFAULT_SEED: &str = "987654";
const TENANT: &str = "schemathesis";

/// One run of schemathesis: a contract's paths, seen by one caller.
struct Run<'a> {
    name: &'a str,
    path_regex: &'a str,
    auth: Auth,
    /// Which of schemathesis' phases apply: the stateful one follows OpenAPI links, and a
    /// contract without them has none to follow.
    phases: &'a str,
}

const ALL_PHASES: &str = "examples,coverage,fuzzing,stateful";
/// The invoice contract names disputes in the body, which links cannot fill in; the hooks
/// feed remembered ids into its generated calls instead.
const STATELESS_PHASES: &str = "examples,coverage,fuzzing";

enum Auth {
    Bearer(String),
    Basic(String, String),
    /// The invoice contract's body credentials, handed to the hooks.
    Body(String, String),
    /// The operational endpoints take no credentials.
    None,
}

pub fn run(sh: &Shell, binary: &Path) -> anyhow::Result<()> {
    let dir = sh.current_dir().join("target").join("schemathesis");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("cannot clear {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir)?;
    // Dropped when the run ends, however it ends (after the server, which is dropped first).
    let mut _scratch = None;
    let database = match std::env::var("DISPUTES_SCHEMATHESIS_STORE").as_deref() {
        Ok("sqlite") => format!("sqlite://{}", dir.join("disputes.db").display()),
        Ok("postgres") | Err(_) => {
            let schema = ScratchSchema::create(sh)?;
            let url = schema.url();
            _scratch = Some(schema);
            url
        }
        Ok(other) => bail!("DISPUTES_SCHEMATHESIS_STORE is `{other}`; use postgres or sqlite"),
    };

    let cli = |args: &[&str]| -> anyhow::Result<String> {
        let output = cmd!(sh, "{binary} {args...} --database-url {database}")
            .quiet()
            .ignore_stderr()
            .read()?;
        Ok(output.trim().to_owned())
    };
    cli(&["tenant", "create", TENANT])?;
    let key = |role: &str| cli(&["key", "create", "--tenant", TENANT, "--role", role]);
    let login = |role: &str, username: &str| {
        cli(&[
            "key",
            "create",
            "--tenant",
            TENANT,
            "--role",
            role,
            "--username",
            username,
        ])
    };
    let runs = [
        Run {
            name: "delivery (advertiser)",
            path_regex: "^/v1/",
            auth: Auth::Bearer(key("advertiser")?),
            phases: ALL_PHASES,
        },
        Run {
            name: "delivery (operator)",
            path_regex: "^/v1/",
            auth: Auth::Bearer(key("operator")?),
            phases: ALL_PHASES,
        },
        Run {
            name: "invoice",
            path_regex: "^/v2/dispute",
            auth: Auth::Body(
                "schemathesis-client".into(),
                login("client", "schemathesis-client")?,
            ),
            phases: STATELESS_PHASES,
        },
        Run {
            name: "billing",
            path_regex: "^/bcws/",
            auth: Auth::Basic(
                "schemathesis-billing".into(),
                login("billing", "schemathesis-billing")?,
            ),
            phases: ALL_PHASES,
        },
        Run {
            name: "operations",
            path_regex: "^/(healthz|readyz|metrics)$",
            auth: Auth::None,
            phases: STATELESS_PHASES,
        },
    ];

    let server = Server::start(binary, &database, &dir.join("blobs"))?;
    let seed = std::env::var("DISPUTES_SCHEMATHESIS_SEED").unwrap_or_else(|_| DEFAULT_SEED.into());
    let hooks = sh.current_dir().join("xtask").join("schemathesis");
    let mut failed = Vec::new();
    for run in &runs {
        eprintln!("==> schemathesis: {}", run.name);
        let schema = format!("{}/openapi.json", server.base);
        let base = &server.base;
        let regex = run.path_regex;
        let phases = run.phases;
        let config = hooks.join("schemathesis.toml");
        let mut command = cmd!(
            sh,
            "python3 -m schemathesis.cli --config-file {config} run {schema} --url {base} --include-path-regex {regex} --checks {CHECKS} --phases {phases} --max-examples {MAX_EXAMPLES} --seed {seed} --no-color"
        )
        // Quiet: the command line holds this run's secrets.
        .quiet()
        .env("PYTHONPATH", &hooks)
        .env("SCHEMATHESIS_HOOKS", "disputes_hooks");
        // The configuration names every scheme's credentials; a run fills in its own and leaves
        // the others empty (its operations do not use them).
        let (bearer, username, password) = match &run.auth {
            Auth::Bearer(key) => (key.as_str(), "", ""),
            Auth::Basic(user, password) => ("", user.as_str(), password.as_str()),
            Auth::Body(..) | Auth::None => ("", "", ""),
        };
        command = command
            .env("DISPUTES_SCHEMATHESIS_BEARER", bearer)
            .env("DISPUTES_SCHEMATHESIS_USERNAME", username)
            .env("DISPUTES_SCHEMATHESIS_PASSWORD", password);
        if let Auth::Body(user, secret) = &run.auth {
            command = command
                .env("DISPUTES_INVOICE_USERNAME", user)
                .env("DISPUTES_INVOICE_SECRET", secret);
        }
        if command.run().is_err() {
            failed.push(run.name);
        }
    }
    drop(server);
    if !failed.is_empty() {
        bail!(
            "schemathesis found failures in: {}; each is a 5xx, an answer that breaks the document, or an undocumented status. Fix the handler (with a regression test) or the document in crates/adapters/http/src/openapi/, then run `cargo xtask schemathesis` again",
            failed.join(", ")
        );
    }
    Ok(())
}

/// An empty schema of this run's own (`schemathesis_<pid>`) on the tests' PostgreSQL
/// (`DISPUTES_TEST_POSTGRES_URL`, by default the local server), dropped when the run ends, so
/// that two runs on one server never share tables. `psql` comes with the PostgreSQL the tests
/// need.
struct ScratchSchema {
    admin: String,
    name: String,
}

impl ScratchSchema {
    fn create(sh: &Shell) -> anyhow::Result<ScratchSchema> {
        let admin = std::env::var("DISPUTES_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        let name = format!("schemathesis_{}", std::process::id());
        let create = format!("DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}");
        cmd!(sh, "psql {admin} -q -v ON_ERROR_STOP=1 -c {create}")
            .quiet()
            .run()
            .with_context(|| format!("cannot make schema {name} on {admin}: is PostgreSQL up?"))?;
        Ok(ScratchSchema { admin, name })
    }

    /// The database URL with this schema as the server's search path.
    fn url(&self) -> String {
        let separator = if self.admin.contains('?') { '&' } else { '?' };
        format!(
            "{}{separator}options=-c%20search_path%3D{}",
            self.admin, self.name
        )
    }
}

impl Drop for ScratchSchema {
    fn drop(&mut self) {
        // Best effort: a schema left behind holds only this run's test data.
        let _ = Command::new("psql")
            .args([self.admin.as_str(), "-q", "-c"])
            .arg(format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name))
            .output();
    }
}

/// `disputes serve` on 127.0.0.1 port 0, killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(binary: &Path, database: &str, blobs: &Path) -> anyhow::Result<Server> {
        let mut child = Command::new(binary)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--database-url",
                database,
            ])
            .env("DISPUTES_BLOB_DIR", blobs)
            // The signing keys beside the blobs, in the run's own directory, not in the
            // working directory's `data/`.
            .env(
                "DISPUTES_SIGNING_KEY_FILE",
                blobs.with_file_name("signing-keys.json"),
            )
            // No rate limit while schemathesis runs: one key makes over a thousand requests in
            // well under a minute, close to the default's burst, and each 429 would be a
            // documented answer that passes while the call it stands for goes untested. The
            // document still lists 429 `rate_limited` on every authenticated operation (the
            // http crate's tests check it), and the e2e tests exercise the limit itself.
            .env("DISPUTES_RATE_LIMIT_PER_MINUTE", "0")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let stderr = child.stderr.take().context("the server's stderr")?;
        let (address, listening) = mpsc::channel();
        // Reads the log for the address, then keeps draining it so the server never blocks.
        std::thread::spawn(move || {
            let mut address = Some(address);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[server] {line}");
                if let Some(rest) = line.split("listening on ").nth(1) {
                    if let Some(sender) = address.take() {
                        let _ = sender.send(rest.trim().to_owned());
                    }
                }
            }
        });
        let mut server = Server {
            child,
            base: String::new(),
        };
        server.base = listening
            .recv_timeout(Duration::from_secs(60))
            .context("the server did not listen within 60 s")?;
        Ok(server)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The debug build of the server, as `cargo build -p disputes-app --bin disputes` leaves it.
pub fn server_binary(root: &Path) -> PathBuf {
    root.join("target").join("debug").join("disputes")
}
