//! Runs the real `disputes` binary for end-to-end tests: each [`Server`] has its own SQLite file
//! in a temporary directory, listens on 127.0.0.1 port 0, and is killed when dropped.

#![allow(dead_code)] // each test file uses its own part of this module

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The `disputes` binary of this workspace, built once per test run so it is never stale.
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

/// A running server and the database it owns.
#[derive(Debug)]
pub struct Server {
    child: Option<Child>,
    pub base: String,
    pub database_url: String,
    pub db_path: PathBuf,
    _dir: TempDir,
    client: reqwest::Client,
}

/// An answer: its status, headers and JSON body.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Server {
    pub async fn start() -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        // A nested path: the server must create the directories of a new database itself.
        let db_path = dir.path().join("data").join("disputes.db");
        let database_url = format!("sqlite://{}", db_path.display());
        let mut server = Server {
            child: None,
            base: String::new(),
            database_url,
            db_path,
            _dir: dir,
            client: reqwest::Client::new(),
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
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the server starts");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let find_address = async {
            while let Some(line) = lines.next_line().await.expect("read stderr") {
                eprintln!("[server] {line}");
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

    /// Runs an administration command against this server's database; returns its stdout.
    pub fn cli(&self, args: &[&str]) -> String {
        let output = std::process::Command::new(binary())
            .args(args)
            .args(["--database-url", &self.database_url])
            .output()
            .expect("the cli runs");
        assert!(
            output.status.success(),
            "disputes {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("utf-8")
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
        let mut request = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(&body);
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
