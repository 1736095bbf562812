//! Runs the real `disputes` binary for end-to-end tests. Each [`Server`] has a database of its
//! own (a SQLite file in a temporary directory, or a fresh PostgreSQL schema), listens on
//! 127.0.0.1 port 0, and is killed when dropped. [`store_tests!`] runs a test once per store.

#![allow(dead_code)] // each test file uses its own part of this module

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use disputes_domain::{Dispute, DisputeId, TenantId};
use disputes_ports::DisputeRepository;
use disputes_postgres::PgStore;
use disputes_sqlite::SqliteStore;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The `disputes` binary of this workspace, built once per test run so it is never stale.
/// The store's id of a delivery dispute, from the id the delivery contract answers
/// (`dispute:42`).
#[allow(dead_code)] // Not every test binary reads delivery ids.
pub fn delivery_id(id: &str) -> DisputeId {
    id.strip_prefix("dispute:")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{id} is not a delivery dispute id"))
}

pub fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args([
                "build",
                "--quiet",
                "-p",
                "disputes-app",
                "--bin",
                "disputes",
            ])
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the disputes binary failed");
        // Test executables live in target/<profile>/deps; the binary one level up.
        let exe = std::env::current_exe().expect("test executable path");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/<profile>");
        let binary = profile_dir.join(format!("disputes{}", std::env::consts::EXE_SUFFIX));
        assert!(binary.exists(), "no binary at {}", binary.display());
        binary
    })
}

fn owned(env: &[(&str, &str)]) -> Vec<(String, String)> {
    env.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Where the billing contract lives.
#[allow(dead_code)]
pub const BILLING_BASE: &str = "/bcws/webresources/v1.0";

/// Which store a server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    Sqlite,
    Postgres,
}

/// Runs each named `async fn name(store: Store)` as two tests, `sqlite::name` and
/// `postgres::name`: one behaviour, checked on both stores, written once.
#[allow(unused_macros)] // outage.rs runs on PostgreSQL only
macro_rules! store_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::Store::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::Store::Postgres).await
                }
            )*
        }
    };
}
#[allow(unused_imports)]
pub(crate) use store_tests;

/// A running server and the database it uses.
#[derive(Debug)]
pub struct Server {
    child: Option<Child>,
    pub store: Store,
    pub base: String,
    pub database_url: String,
    /// Holds the SQLite file's directory for as long as the server lives.
    _dir: Option<TempDir>,
    /// The attachments' directory, shared with a second instance as a shared volume would be.
    blobs: Arc<TempDir>,
    /// The signing keys' directory, shared with a second instance as every instance shares the
    /// keyring. Used on PostgreSQL; on SQLite the server's default, beside the database file.
    keys: Arc<TempDir>,
    /// Extra environment of the server process (sinks, limits), kept for restarts and second
    /// instances.
    env: Vec<(String, String)>,
    client: reqwest::Client,
    /// Every line the server has written to stderr (its log), in order.
    log: Arc<std::sync::Mutex<Vec<String>>>,
}

/// An answer: its status, headers and JSON body.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Server {
    /// A server on a new, empty database of `store`.
    pub async fn start(store: Store) -> Server {
        Server::start_with_env(store, &[]).await
    }

    /// A server on a new, empty database of `store`, with `env` added to its environment
    /// (`SMTP_URL`, `FRESHDESK_URL`, limits, ...).
    pub async fn start_with_env(store: Store, env: &[(&str, &str)]) -> Server {
        let (database_url, dir) = match store {
            Store::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                // A nested path: the server must create the directories of a new database.
                let path = dir.path().join("data").join("disputes.db");
                (format!("sqlite://{}", path.display()), Some(dir))
            }
            Store::Postgres => (
                disputes_postgres::testing::fresh_schema_url("e2e").await,
                None,
            ),
        };
        let blobs = Arc::new(tempfile::tempdir().expect("temp dir"));
        let keys = Arc::new(tempfile::tempdir().expect("temp dir"));
        Server::on_with_blobs(store, database_url, dir, blobs, keys, owned(env)).await
    }

    /// Another server process on this server's database, as a second instance behind a load
    /// balancer would be.
    pub async fn second_instance(&self) -> Server {
        Server::on_with_blobs(
            self.store,
            self.database_url.clone(),
            None,
            self.blobs.clone(),
            self.keys.clone(),
            self.env.clone(),
        )
        .await
    }

    /// A server on the database at `database_url`.
    pub async fn on(store: Store, database_url: String, dir: Option<TempDir>) -> Server {
        let blobs = Arc::new(tempfile::tempdir().expect("temp dir"));
        let keys = Arc::new(tempfile::tempdir().expect("temp dir"));
        Server::on_with_blobs(store, database_url, dir, blobs, keys, Vec::new()).await
    }

    /// A server on the database at `database_url` that keeps attachments in `blobs`.
    async fn on_with_blobs(
        store: Store,
        database_url: String,
        dir: Option<TempDir>,
        blobs: Arc<TempDir>,
        keys: Arc<TempDir>,
        mut env: Vec<(String, String)>,
    ) -> Server {
        if store == Store::Postgres {
            let file = keys.path().join("signing-keys.json");
            env.push((
                "DISPUTES_SIGNING_KEY_FILE".to_owned(),
                file.display().to_string(),
            ));
        }
        let mut server = Server {
            child: None,
            store,
            base: String::new(),
            database_url,
            _dir: dir,
            blobs,
            keys,
            env,
            client: reqwest::Client::new(),
            log: Arc::default(),
        };
        server.launch().await;
        server
    }

    async fn launch(&mut self) {
        let mut child = Command::new(binary())
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--database-url",
                &self.database_url,
            ])
            .env("RUST_LOG", "info")
            .env("DISPUTES_BLOB_DIR", self.blobs.path())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the server starts");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let log = self.log.clone();
        let keep = move |line: &str| {
            if let Ok(mut log) = log.lock() {
                log.push(line.to_owned());
            }
        };
        let find_address = async {
            while let Some(line) = lines.next_line().await.expect("read stderr") {
                eprintln!("[server] {line}");
                keep(&line);
                if let Some(rest) = line.split("listening on ").nth(1) {
                    return rest.trim().to_owned();
                }
            }
            panic!("the server exited before listening");
        };
        let base = tokio::time::timeout(Duration::from_secs(60), find_address)
            .await
            .expect("the server listens within 60 s");
        // Keep draining the log so the server never blocks on a full pipe.
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                eprintln!("[server] {line}");
                keep(&line);
            }
        });
        self.base = base;
        self.child = Some(child);
    }

    /// Stops the server (SIGKILL, as a crash would) and starts it again on the same database.
    pub async fn restart(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.expect("kill");
        }
        self.launch().await;
    }

    /// The dispute as the store holds it, read past the server.
    pub async fn stored(&self, tenant: &str, id: DisputeId) -> Dispute {
        let tenant = TenantId::new(tenant).expect("tenant slug");
        let read = match self.store {
            Store::Sqlite => {
                let store = SqliteStore::connect(&self.database_url)
                    .await
                    .expect("open sqlite");
                store.get(&tenant, id).await
            }
            Store::Postgres => {
                let store = PgStore::connect(&self.database_url)
                    .await
                    .expect("open postgres");
                store.get(&tenant, id).await
            }
        };
        read.expect("the store answers")
            .expect("the dispute is stored")
    }

    /// Runs one SQL statement on the server's database, behind the server's back; returns the
    /// rows it affected, or the database's refusal.
    pub async fn sql(&self, statement: &str) -> Result<u64, String> {
        let result = match self.store {
            Store::Sqlite => {
                let store = SqliteStore::connect(&self.database_url)
                    .await
                    .expect("open sqlite");
                sqlx::query(statement)
                    .execute(store.pool())
                    .await
                    .map(|r| r.rows_affected())
            }
            Store::Postgres => {
                let store = PgStore::connect(&self.database_url)
                    .await
                    .expect("open postgres");
                sqlx::query(statement)
                    .execute(store.pool())
                    .await
                    .map(|r| r.rows_affected())
            }
        };
        result.map_err(|e| e.to_string())
    }

    /// Drops the store's append-only guards on the timeline, as someone with full access to the
    /// database could.
    pub async fn drop_history_guards(&self) {
        for trigger in [
            "timeline_entries_are_never_updated",
            "timeline_entries_are_never_deleted",
        ] {
            let statement = match self.store {
                Store::Sqlite => format!("DROP TRIGGER {trigger}"),
                Store::Postgres => format!("DROP TRIGGER {trigger} ON timeline_entries"),
            };
            self.sql(&statement).await.expect("drop trigger");
        }
    }

    /// Runs an administration command against this server's database; returns its stdout.
    pub fn cli(&self, args: &[&str]) -> String {
        let output = std::process::Command::new(binary())
            .args(args)
            .args(["--database-url", &self.database_url])
            .envs(self.signing_env())
            .output()
            .expect("the cli runs");
        assert!(
            output.status.success(),
            "disputes {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("utf-8")
    }

    /// Opens a delivery dispute of `amount` plays on `campaign` with `key`; its id.
    pub async fn open_delivery(&self, key: &str, campaign: &str, amount: &str) -> String {
        let body = json!({
            "disputedPeriod": { "start": "2026-10-01T00:00:00Z", "end": "2026-10-08T00:00:00Z" },
            "affectedSurface": { "campaignId": campaign, "screenIds": ["scr_1"] },
            "claimedShortfall": { "unit": "plays", "amount": amount },
            "evidenceBundle": { "proofPackIds": ["pp_1"] }
        });
        let open = self
            .call(Method::POST, "/v1/disputes", Some(key), Some(body))
            .await;
        assert_eq!(open.status, StatusCode::CREATED, "{:#}", open.body);
        open.body["data"]["dispute"]["id"]
            .as_str()
            .expect("an id")
            .to_owned()
    }

    /// Opens an invoice dispute of `invoice` as the client login `username` (`billink_id` its
    /// password); the answer's body.
    pub async fn open_invoice(&self, username: &str, billink_id: &str, invoice: &str) -> Value {
        let body = json!({
            "billinkUsername": username, "billinkId": billink_id,
            "category": "damaged_goods", "customerEmail": "jan@example.nl",
            "customerName": "Jan de Vries", "invoice": invoice, "locale": "nl-NL",
            "message": "Beschadigd."
        });
        let opened = self
            .call(Method::POST, "/v2/dispute", None, Some(body))
            .await;
        assert_eq!(opened.status, StatusCode::OK, "{:#}", opened.body);
        opened.body
    }

    /// Opens a JSON billing dispute of 12.50 on `item` of `account` as the billing user
    /// `login` (name, password); its POID.
    pub async fn open_billing_item(
        &self,
        login: (&str, &str),
        item: &str,
        account: &str,
    ) -> String {
        let body = json!({
            "amount": 12.50,
            "notes": { "domainId": 34, "accountId": account, "reasonId": "2", "status": 102 }
        });
        let opened = self
            .send(
                Method::POST,
                &format!("{BILLING_BASE}/disputes/item/{item}"),
                Some(login),
                &[
                    ("content-type", "application/json"),
                    ("accept", "application/json"),
                ],
                Some(body.to_string().into_bytes()),
            )
            .await;
        assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.text);
        opened.json()["reference"]["id"]
            .as_str()
            .expect("a POID")
            .to_owned()
    }

    /// The environment that names this server's signing keys, for a command that uses them.
    pub fn signing_env(&self) -> impl Iterator<Item = (&str, &str)> {
        self.env
            .iter()
            .filter(|(name, _)| name == "DISPUTES_SIGNING_KEY_FILE")
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// Creates a tenant and returns a key for `role` acting as `developer`.
    pub fn tenant_with_key(&self, tenant: &str, role: &str, developer: &str) -> String {
        self.cli(&["tenant", "create", tenant]);
        self.key(tenant, role, developer)
    }

    pub fn key(&self, tenant: &str, role: &str, developer: &str) -> String {
        let out = self.cli(&[
            "key",
            "create",
            "--tenant",
            tenant,
            "--role",
            role,
            "--developer-id",
            developer,
        ]);
        let key = out.trim().to_owned();
        assert_eq!(out, format!("{key}\n"), "the key alone on stdout");
        key
    }

    /// Sends a request with an optional bearer key and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        self.call_with(method, path, key, body, &[]).await
    }

    /// Like [`call`](Self::call), with extra headers.
    pub async fn call_with(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Self::answer(request).await
    }

    /// Sends raw bytes with the given content type.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Answer {
        let mut request = self
            .client
            .request(method, format!("{}{}", self.base, path))
            .header("content-type", content_type)
            .body(body);
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        Self::answer(request).await
    }

    async fn answer(request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                panic!("not JSON ({status}): {}", String::from_utf8_lossy(&bytes))
            })
        };
        Answer {
            status,
            headers,
            body,
        }
    }
}

/// A PostgreSQL cluster of a test's own, on a free port, so the test may stop and start it
/// without disturbing anyone else's database. Stopped and removed when dropped.
#[derive(Debug)]
pub struct PrivatePostgres {
    dir: TempDir,
    pub port: u16,
}

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

impl PrivatePostgres {
    /// Creates and starts a cluster. PostgreSQL refuses to run as root, so under root (as CI
    /// runs) its tools run as the `postgres` user.
    pub fn start() -> PrivatePostgres {
        let dir = tempfile::tempdir().expect("temp dir");
        if running_as_root() {
            let status = std::process::Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown runs");
            assert!(status.success(), "chown the cluster directory to postgres");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let cluster = PrivatePostgres { dir, port };
        cluster.pg(&[
            "initdb",
            "-D",
            &cluster.data(),
            "-A",
            "trust",
            "-U",
            "postgres",
        ]);
        cluster.up();
        cluster
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the cluster and waits until it accepts connections.
    pub fn up(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log").display().to_string();
        self.pg(&[
            "pg_ctl",
            "start",
            "-w",
            "-t",
            "60",
            "-D",
            &self.data(),
            "-l",
            &log,
            "-o",
            &options,
        ]);
    }

    /// Stops the cluster at once, as a crash or an operator would: open connections are cut.
    pub fn down(&self) {
        self.pg(&[
            "pg_ctl",
            "stop",
            "-w",
            "-m",
            "immediate",
            "-D",
            &self.data(),
        ]);
    }

    fn pg(&self, args: &[&str]) {
        let output = pg_command(args)
            .stdin(Stdio::null())
            .output()
            .expect("a PostgreSQL tool runs");
        assert!(
            output.status.success(),
            "{args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        // Best effort: the cluster may already be down.
        let _ = pg_command(&["pg_ctl", "stop", "-m", "immediate", "-D", &self.data()]).output();
    }
}

/// A PostgreSQL tool from `PG_BIN`, run as `postgres` when we are root.
fn pg_command(args: &[&str]) -> std::process::Command {
    let program = format!("{PG_BIN}/{}", args[0]);
    let mut command = if running_as_root() {
        let mut c = std::process::Command::new("runuser");
        c.args(["-u", "postgres", "--", &program]);
        c
    } else {
        std::process::Command::new(&program)
    };
    command.args(&args[1..]);
    command
}

fn running_as_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// An answer read as text, whatever its format (the billing contract answers in JSON or XML).
#[derive(Debug)]
pub struct TextAnswer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl TextAnswer {
    /// The body as JSON; panics with the body when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|_| panic!("not JSON ({}): {}", self.status, self.text))
    }

    /// The value of a response header, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Server {
    /// Issues a username login for `role` in `tenant` and returns its password (the Basic
    /// password of the billing contract, the `billinkId` of the invoice contract).
    pub fn login(&self, tenant: &str, role: &str, username: &str) -> String {
        let out = self.cli(&[
            "key",
            "create",
            "--tenant",
            tenant,
            "--role",
            role,
            "--username",
            username,
        ]);
        let password = out.trim().to_owned();
        assert_eq!(out, format!("{password}\n"), "the password alone on stdout");
        password
    }

    /// Sends a request with optional HTTP Basic credentials, any headers and any body bytes, and
    /// reads the answer as text.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        basic: Option<(&str, &str)>,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> TextAnswer {
        let mut request = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some((username, password)) = basic {
            request = request.basic_auth(username, Some(password));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a text body");
        TextAnswer {
            status,
            headers,
            text,
        }
    }
}

impl Server {
    /// The directory this server keeps attachments in.
    pub fn blob_dir(&self) -> &Path {
        self.blobs.path()
    }

    /// Creates a tenant whose disputes `name` <`email`> handles (the invoice contract's owner).
    pub fn tenant_with_owner(&self, tenant: &str, name: &str, email: &str) {
        self.cli(&[
            "tenant",
            "create",
            tenant,
            "--owner-name",
            name,
            "--owner-email",
            email,
        ]);
    }
}

impl Server {
    /// The lines the server has logged so far.
    pub fn log_lines(&self) -> Vec<String> {
        self.log.lock().map(|log| log.clone()).unwrap_or_default()
    }

    /// The server process's id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    /// Sends the server SIGTERM, as an orchestrator stopping it would.
    pub fn terminate(&self) {
        let pid = self.pid().expect("the server runs");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -TERM {pid}");
    }

    /// Waits for the server process to exit (after [`terminate`](Self::terminate)) and returns
    /// how it exited.
    pub async fn exit_status(&mut self) -> std::process::ExitStatus {
        let child = self.child.as_mut().expect("the server was started");
        tokio::time::timeout(Duration::from_secs(60), child.wait())
            .await
            .expect("the server exits within 60 s")
            .expect("wait for the server")
    }

    /// The `host:port` the server listens on.
    pub fn address(&self) -> &str {
        self.base.trim_start_matches("http://")
    }
}

/// Placeholders for what differs from run to run in a snapshot.
pub mod redact;
/// A real SMTP relay (aiosmtpd) for the email tests.
pub mod smtp;
/// Polling with a time limit, and counting rows in a server's database.
pub mod wait;
