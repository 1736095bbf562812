//! The benchmark harness behind `cargo xtask bench` (issue #8).
//!
//! One binary with four commands:
//! - `run [--quick] [--publish]`: the driver. It starts the release `disputes` server on each store, seeds
//!   it in bulk, loads it with wrk from a second process, measures the baselines that bound it in
//!   the same run, and writes the results (JSON, a Markdown table and a PNG plot); `--publish`
//!   also puts the table into docs/benchmarks.md and the plot at docs/benchmarks.png;
//!   `--only sqlite:open` runs one scenario of one store (with its database baseline for
//!   `open`, its database read baseline for `get`), for before/after comparisons.
//! - `http-baseline --listen ADDR --body FILE`: the HTTP limit, a minimal axum server that
//!   answers every request with the same JSON body from memory.
//! - `sqlite-baseline --url URL --template ID --concurrency N --seconds S`: the SQLite limit, the
//!   statements of opening a dispute through sqlx in a tight loop.
//! - `seed --url URL --template ID --count N`: copies one dispute N times straight into the
//!   schema (the driver copies a thousand templates in turn).
//! - `seal-cost`: what integrity costs per dispute (state digest, chain, seal, seal check).
//!
//! The driver runs the baselines and the seeder in-process or as child processes of itself, so
//! `cargo xtask bench` needs nothing but this binary, the server, wrk and pgbench.

mod driver;
mod load;
mod report;
mod seals;
mod store;

use std::{net::SocketAddr, path::PathBuf, process::ExitCode, time::Duration};

use anyhow::{bail, Context};

const HELP: &str = "\
disputes-bench — load, baselines and report for `cargo xtask bench`

USAGE:
    disputes-bench run [--quick] [--publish] [--only STORE:SCENARIO] [--server PATH] [--out DIR]
    disputes-bench http-baseline --listen ADDR --body FILE
    disputes-bench sqlite-baseline --url URL --template ID --concurrency N --seconds S
    disputes-bench seed --url URL --template ID --count N
    disputes-bench seal-cost
";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let mut args = Args(std::env::args().skip(1).collect());
    let Some(command) = args.command() else {
        print!("{HELP}");
        return Ok(());
    };
    let runtime = tokio::runtime::Runtime::new()?;
    match command.as_str() {
        "run" => {
            let options = driver::Options {
                quick: args.flag("--quick"),
                only: args
                    .value("--only")
                    .map(|o| driver::Only::parse(&o))
                    .transpose()?,
                publish: args.flag("--publish"),
                server: args
                    .value("--server")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| PathBuf::from("target/release/disputes")),
                out: args
                    .value("--out")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| PathBuf::from("target/bench")),
            };
            args.done()?;
            anyhow::ensure!(
                !(options.publish && options.only.is_some()),
                "--only measures a part of the run, which is not published"
            );
            runtime.block_on(driver::run(options))
        }
        "http-baseline" => {
            let listen: SocketAddr = args.required("--listen")?.parse()?;
            let body = std::fs::read(args.required("--body")?)?;
            args.done()?;
            runtime.block_on(http_baseline(listen, body))
        }
        "sqlite-baseline" => {
            let url = args.required("--url")?;
            let template: i64 = args.required("--template")?.parse()?;
            let concurrency: usize = args.required("--concurrency")?.parse()?;
            let seconds: u64 = args.required("--seconds")?.parse()?;
            args.done()?;
            let result = runtime.block_on(async {
                let db = store::Db::connect(&url).await?;
                store::sqlite_baseline(&db, template, concurrency, Duration::from_secs(seconds))
                    .await
            })?;
            println!("{}", serde_json::to_string(&result.to_json())?);
            Ok(())
        }
        "seed" => {
            let url = args.required("--url")?;
            let template: i64 = args.required("--template")?.parse()?;
            let count: i64 = args.required("--count")?.parse()?;
            args.done()?;
            runtime.block_on(async {
                let db = store::Db::connect(&url).await?;
                store::seed(&db, (template, template), count).await
            })
        }
        "seal-cost" => {
            args.done()?;
            seals::run()
        }
        other => bail!("unknown command `{other}`\n\n{HELP}"),
    }
}

/// The HTTP limit: no routing, no auth, no store, one body from memory for every request.
async fn http_baseline(listen: SocketAddr, body: Vec<u8>) -> anyhow::Result<()> {
    let body = axum::body::Bytes::from(body);
    let app = axum::Router::new().fallback(move || {
        let body = body.clone();
        async move {
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                body,
            )
        }
    });
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    axum::serve(listener, app).await?;
    Ok(())
}

/// Hand-rolled flags, as in xtask: four commands do not need a parser library.
#[derive(Debug)]
struct Args(Vec<String>);

impl Args {
    fn command(&mut self) -> Option<String> {
        if self.0.is_empty() || self.0.iter().any(|a| a == "-h" || a == "--help") {
            return None;
        }
        Some(self.0.remove(0))
    }

    fn flag(&mut self, name: &str) -> bool {
        let before = self.0.len();
        self.0.retain(|a| a != name);
        self.0.len() != before
    }

    fn value(&mut self, name: &str) -> Option<String> {
        let at = self.0.iter().position(|a| a == name)?;
        if at + 1 >= self.0.len() {
            return None;
        }
        let value = self.0.remove(at + 1);
        self.0.remove(at);
        Some(value)
    }

    fn required(&mut self, name: &str) -> anyhow::Result<String> {
        self.value(name)
            .with_context(|| format!("{name} is required\n\n{HELP}"))
    }

    fn done(&self) -> anyhow::Result<()> {
        if !self.0.is_empty() {
            bail!("unexpected arguments `{}`\n\n{HELP}", self.0.join(" "));
        }
        Ok(())
    }
}
