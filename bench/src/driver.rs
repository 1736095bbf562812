//! The whole run: every store, every scenario, every baseline, one report.

use std::{
    fs,
    io::ErrorKind,
    net::{SocketAddr, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{bail, Context};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use serde_json::{json, Value};

use crate::{
    load::{self, LoadResult},
    report,
    store::{self, Db, OpenStatements},
};

const SERVER_ADDR: &str = "127.0.0.1:18080";
const BASELINE_ADDR: &str = "127.0.0.1:18081";
const TENANT: &str = "bench";
/// PostgreSQL as the machine provides it; the bench lives in a schema of its own, dropped and
/// recreated every run.
const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3Dbench";
const PGBENCH: &str = "/usr/lib/postgresql/15/bin/pgbench";

#[derive(Debug)]
pub struct Options {
    pub quick: bool,
    /// Update docs/benchmarks.md (between its result markers) and docs/benchmarks.png.
    pub publish: bool,
    pub server: PathBuf,
    pub out: PathBuf,
    /// `STORE:SCENARIO` (e.g. `sqlite:open`): run that scenario of that store alone, with the
    /// store's database baseline when the scenario is `open` and its database read baseline when
    /// it is `get`, for a quick before/after
    /// comparison. Writes results.json only: no table, no plot, nothing published.
    pub only: Option<Only>,
}

/// One scenario of one store (`--only`).
#[derive(Debug, Clone)]
pub struct Only {
    pub store: String,
    pub scenario: String,
}

impl Only {
    const STORES: [&'static str; 2] = ["postgres", "sqlite"];
    const SCENARIOS: [&'static str; 5] =
        ["list_deep_small", "get", "list_filter", "list_deep", "open"];

    pub fn parse(text: &str) -> anyhow::Result<Only> {
        let (store, scenario) = text
            .split_once(':')
            .context("--only takes STORE:SCENARIO, e.g. sqlite:open")?;
        anyhow::ensure!(
            Self::STORES.contains(&store),
            "unknown store `{store}` (one of {:?})",
            Self::STORES
        );
        anyhow::ensure!(
            Self::SCENARIOS.contains(&scenario),
            "unknown scenario `{scenario}` (one of {:?})",
            Self::SCENARIOS
        );
        Ok(Only {
            store: store.to_owned(),
            scenario: scenario.to_owned(),
        })
    }
}

/// Whether `--only` (if given) lets `scenario` run.
fn selected(options: &Options, scenario: &str) -> bool {
    options
        .only
        .as_ref()
        .is_none_or(|only| only.scenario == scenario)
}

/// How big and how long.
#[derive(Debug, Clone)]
pub struct Plan {
    pub levels: Vec<usize>,
    pub seconds: u64,
    /// The small table the deep cursor is compared against.
    pub small: i64,
    /// The table every scenario runs on.
    pub large: i64,
    /// The concurrency the summary table reports.
    pub headline: usize,
}

impl Plan {
    fn new(quick: bool) -> Plan {
        if quick {
            Plan {
                levels: vec![4, 16],
                seconds: 3,
                small: 1_000,
                large: 10_000,
                headline: 16,
            }
        } else {
            Plan {
                levels: vec![1, 4, 16, 64],
                seconds: 8,
                small: 10_000,
                large: 1_000_000,
                headline: 16,
            }
        }
    }
}

/// How many disputes the seeder copies from, each of its own campaign.
const SEED_TEMPLATES: i64 = 1000;

/// The delivery contract's seed request, with a placeholder for the campaign.
const OPEN_BODY: &str = r#"{"disputedPeriod":{"start":"2026-10-01T00:00:00Z","end":"2026-10-08T00:00:00Z"},"affectedSurface":{"campaignId":"__CAMPAIGN__","screenIds":["scr_amsterdam_01","scr_rotterdam_07"],"substrateId":"sub_dooh_nl"},"claimedShortfall":{"unit":"impressions","amount":"12500"},"openedBy":"dev_adv_42","evidenceBundle":{"proofPackIds":["pp_2026_10_a"],"meteringSnapshotIds":["ms_2026_10_08"],"settlementApplicationIds":[],"attachmentRefs":["att_screenshot_1"],"auditorReportRef":"audit_2026_q4"}}"#;

pub async fn run(options: Options) -> anyhow::Result<()> {
    let plan = Plan::new(options.quick);
    anyhow::ensure!(
        options.server.exists(),
        "{} not found; build it with `cargo build --release -p disputes-app`",
        options.server.display()
    );
    load::ensure_wrk()?;
    let work = options.out.join("work");
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work)?;
    let started = Instant::now();

    let mut results = json!({
        "preliminary": true,
        "quick": options.quick,
        "machine": report::machine(),
        "plan": {
            "levels": plan.levels, "seconds": plan.seconds, "small": plan.small,
            "large": plan.large, "headline": plan.headline,
        },
        "stores": {},
    });

    let mut get_body = None;
    for store in ["postgres", "sqlite"] {
        if options
            .only
            .as_ref()
            .is_some_and(|only| only.store != store)
        {
            continue;
        }
        eprintln!("==> bench: {store}");
        let (store_results, body) = bench_store(store, &options, &plan, &work).await?;
        results["stores"][store] = store_results;
        get_body.get_or_insert(body);
    }

    if options.only.is_some() {
        results["seconds_total"] = json!(started.elapsed().as_secs());
        fs::write(
            options.out.join("results.json"),
            serde_json::to_string_pretty(&results)?,
        )?;
        eprintln!(
            "==> bench: done in {}s; results in {}",
            started.elapsed().as_secs(),
            options.out.join("results.json").display()
        );
        return Ok(());
    }
    eprintln!("==> bench: HTTP limit baseline");
    let body = get_body.context("no store ran")?;
    results["http_baseline"] = http_baseline(&work, &plan, &body)?;
    results["seconds_total"] = json!(started.elapsed().as_secs());

    fs::write(
        options.out.join("results.json"),
        serde_json::to_string_pretty(&results)?,
    )?;
    let table = report::markdown(&results);
    fs::write(options.out.join("results.md"), &table)?;
    println!("{table}");
    let png = options.out.join("latency.png");
    report::plot(&options.out.join("results.json"), &png);
    if options.publish {
        report::publish(&table, &png)?;
    }
    eprintln!(
        "==> bench: done in {}s; results in {}",
        started.elapsed().as_secs(),
        options.out.display()
    );
    Ok(())
}

/// Every scenario on one store, and its database baseline.
async fn bench_store(
    store: &str,
    options: &Options,
    plan: &Plan,
    work: &Path,
) -> anyhow::Result<(Value, Vec<u8>)> {
    let url = match store {
        "postgres" => {
            let admin = Db::connect(PG_ADMIN_URL).await?;
            admin
                .execute("DROP SCHEMA IF EXISTS bench CASCADE; CREATE SCHEMA bench;")
                .await?;
            PG_URL.to_owned()
        }
        _ => format!("sqlite://{}", work.join("bench.db").display()),
    };
    let disputes = |args: &[&str]| -> anyhow::Result<String> {
        let output = Command::new(&options.server)
            .args(args)
            .args(["--database-url", &url])
            .output()?;
        if !output.status.success() {
            bail!(
                "disputes {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(String::from_utf8(output.stdout)?.trim().to_owned())
    };
    disputes(&["migrate"])?;
    disputes(&["tenant", "create", TENANT])?;
    let key = disputes(&["key", "create", "--tenant", TENANT, "--role", "advertiser"])?;

    let server = Server::start(&options.server, &url, work, store)?;
    let http = reqwest::Client::new();
    let base = format!("http://{SERVER_ADDR}");
    let opened = http
        .post(format!("{base}/v1/disputes"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(OPEN_BODY.replace("__CAMPAIGN__", "cmp_template"))
        .send()
        .await?;
    anyhow::ensure!(
        opened.status().is_success(),
        "opening the template failed: {} {}",
        opened.status(),
        opened.text().await?
    );
    let opened: Value = opened.json().await?;
    let template: i64 = opened["data"]["dispute"]["id"]
        .as_str()
        .context("the dispute has an id")?
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .parse()?;
    // More templates, each its own campaign: the seeder copies each alike, so a campaign holds
    // a thousandth of the store rather than all of it (PostgreSQL's generic plan for the
    // duplicate check of a new campaign picks its index then, as with real campaigns).
    for n in 1..SEED_TEMPLATES {
        let more = http
            .post(format!("{base}/v1/disputes"))
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .body(OPEN_BODY.replace("__CAMPAIGN__", &format!("cmp_template_{n}")))
            .send()
            .await?;
        anyhow::ensure!(more.status().is_success(), "opening template {n} failed");
    }
    let templates = (template, template + SEED_TEMPLATES - 1);
    let db = Db::connect(&url).await?;
    anyhow::ensure!(
        db.int("SELECT MAX(id) FROM disputes").await? == templates.1,
        "the templates' ids are not {} to {}",
        templates.0,
        templates.1
    );
    let status = opened["data"]["dispute"]["status"]
        .as_str()
        .context("the dispute has a status")?
        .to_owned();
    let got = http
        .get(format!("{base}/v1/disputes/{template}"))
        .bearer_auth(&key)
        .send()
        .await?;
    anyhow::ensure!(got.status().is_success(), "reading the template failed");
    let get_body = got.bytes().await?.to_vec();

    let mut scenarios = json!({});
    let fixed = write(work, "fixed.lua", &load::fixed_script(&key))?;
    // The page 100 disputes above the oldest: every newer one lies before it.
    let deep = URL_SAFE_NO_PAD.encode(format!("v1:{}", template + 100));
    let deep_url = format!("{base}/v1/disputes?limit=20&cursor={deep}");

    store::seed(&db, templates, plan.small - SEED_TEMPLATES).await?;
    if selected(options, "list_deep_small") {
        check_page(&http, &deep_url, &key).await?;
        scenarios["list_deep_small"] = sweep(&server, plan, &deep_url, &fixed)?;
    }

    store::seed(&db, templates, plan.large - plan.small).await?;
    let high = db.int("SELECT MAX(id) FROM disputes").await?;
    let get = write(work, "get.lua", &load::get_script(&key, template, high))?;
    if selected(options, "get") {
        scenarios["get"] = sweep(&server, plan, &format!("{base}/"), &get)?;
    }
    if selected(options, "list_filter") {
        let filter_url = format!("{base}/v1/disputes?status={status}&limit=20");
        check_page(&http, &filter_url, &key).await?;
        scenarios["list_filter"] = sweep(&server, plan, &filter_url, &fixed)?;
    }
    if selected(options, "list_deep") {
        check_page(&http, &deep_url, &key).await?;
        scenarios["list_deep"] = sweep(&server, plan, &deep_url, &fixed)?;
    }
    let mut results = json!({});
    if selected(options, "open") {
        results["db_baseline"] = open_and_its_baseline(
            &db,
            store,
            work,
            plan,
            (&server, &base, &key),
            template,
            &mut scenarios,
        )
        .await?;
    }
    drop(server);
    if selected(options, "get") {
        eprintln!("    {store}: database read baseline");
        results["db_read_baseline"] = read_baseline(&db, store, work, plan, template, high).await?;
    }
    results["scenarios"] = scenarios;
    Ok((results, get_body))
}

/// The open scenario (each request a new campaign) at every level, then, with the server
/// stopped, its database baseline.
async fn open_and_its_baseline(
    db: &Db,
    store: &str,
    work: &Path,
    plan: &Plan,
    (server, base, key): (&Server, &str, &str),
    template: i64,
    scenarios: &mut Value,
) -> anyhow::Result<Value> {
    let mut open = Vec::new();
    for &level in &plan.levels {
        let script = write(
            work,
            "open.lua",
            &load::open_script(key, &format!("c{level}"), OPEN_BODY),
        )?;
        open.push(measure(server, plan, level, &format!("{base}/"), &script)?);
    }
    scenarios["open"] = Value::Array(open);

    eprintln!("    {store}: database baseline");
    Ok(match store {
        "postgres" => {
            let statements = OpenStatements::of(
                db,
                template,
                "'pgb_' || :client_id::TEXT || '_' || :n::TEXT",
                ":id",
            )
            .await?;
            let script = write(work, "open.pgbench", &statements.pgbench_script())?;
            let mut levels = Vec::new();
            for &level in &plan.levels {
                levels.push(pgbench(&script, level, plan.seconds, Protocol::Simple)?);
            }
            levels
        }
        _ => {
            let mut levels = Vec::new();
            for &level in &plan.levels {
                let result =
                    store::sqlite_baseline(db, template, level, Duration::from_secs(plan.seconds))
                        .await?;
                eprintln!(
                    "    c={level:<3} {:>9.0} tx/s   p50 {:>7.2} ms  p99 {:>7.2} ms  (sqlx loop)",
                    result.per_second, result.p50_ms, result.p99_ms
                );
                let mut value = result.to_json();
                value["concurrency"] = json!(level);
                levels.push(value);
            }
            levels
        }
    }
    .into())
}

/// What the database alone serves of the get scenario: the store's own get statement for a
/// random seeded id, at every concurrency level, with no HTTP, authentication or rendering
/// (PostgreSQL: pgbench with prepared statements, as the server's are; SQLite: sqlx tasks).
async fn read_baseline(
    db: &Db,
    store: &str,
    work: &Path,
    plan: &Plan,
    template: i64,
    high: i64,
) -> anyhow::Result<Value> {
    let mut levels = Vec::new();
    if store == "postgres" {
        let statement = store::get_statement(db, template, ":id").await?;
        let script = write(
            work,
            "get.pgbench",
            &store::pgbench_get_script(&statement, template, high),
        )?;
        for &level in &plan.levels {
            levels.push(pgbench(&script, level, plan.seconds, Protocol::Prepared)?);
        }
    } else {
        for &level in &plan.levels {
            let result = store::sqlite_read_baseline(
                db,
                template,
                (template, high),
                level,
                Duration::from_secs(plan.seconds),
            )
            .await?;
            let mut value = result.to_json();
            value["concurrency"] = json!(level);
            eprintln!("    sqlx read c={level:<3} {value}");
            levels.push(value);
        }
    }
    Ok(Value::Array(levels))
}

/// Fails early, with the server's answer, when a scenario's request does not succeed.
async fn check_page(http: &reqwest::Client, url: &str, key: &str) -> anyhow::Result<()> {
    let answer = http.get(url).bearer_auth(key).send().await?;
    let status = answer.status();
    let body: Value = answer.json().await?;
    anyhow::ensure!(status.is_success(), "{url}: {status} {body}");
    let count = body["data"]["disputes"].as_array().map_or(0, Vec::len);
    anyhow::ensure!(count == 20, "{url}: expected a full page, got {count}");
    Ok(())
}

/// One scenario at every concurrency level.
fn sweep(server: &Server, plan: &Plan, url: &str, script: &Path) -> anyhow::Result<Value> {
    let mut levels = Vec::new();
    for &level in &plan.levels {
        levels.push(measure(server, plan, level, url, script)?);
    }
    Ok(Value::Array(levels))
}

/// One wrk run, with the server's peak RSS during it.
fn measure(
    server: &Server,
    plan: &Plan,
    level: usize,
    url: &str,
    script: &Path,
) -> anyhow::Result<Value> {
    server.reset_peak_rss();
    let result: LoadResult = load::wrk(url, script, level, Duration::from_secs(plan.seconds))?;
    let mut value = result.to_json();
    value["concurrency"] = json!(level);
    value["peak_rss_mb"] = json!(server.peak_rss_mb()?);
    eprintln!(
        "    c={level:<3} {:>9.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  failures {}",
        result.per_second, result.p50_ms, result.p99_ms, result.failures
    );
    Ok(value)
}

/// The HTTP limit at every level: the same body the get scenario returns, from memory.
fn http_baseline(work: &Path, plan: &Plan, body: &[u8]) -> anyhow::Result<Value> {
    let body_file = write(work, "body.json", &String::from_utf8_lossy(body))?;
    let exe = std::env::current_exe()?;
    let mut child = Command::new(exe)
        .args(["http-baseline", "--listen", BASELINE_ADDR, "--body"])
        .arg(&body_file)
        .stdout(Stdio::null())
        .spawn()?;
    let server = Server {
        pid: child.id(),
        child: None,
    };
    let waited = wait_for(BASELINE_ADDR);
    let script = write(work, "plain.lua", &load::fixed_script("none"))?;
    let measured = waited.and_then(|()| {
        sweep(
            &server,
            plan,
            &format!("http://{BASELINE_ADDR}/v1/disputes/1"),
            &script,
        )
    });
    let _ = child.kill();
    let _ = child.wait();
    measured
}

/// pgbench's query protocol (`-M`).
#[derive(Debug, Clone, Copy)]
enum Protocol {
    /// The open script's literals contain text such as `:00` that the prepared mode would take
    /// for variables.
    Simple,
    /// Parsed once per connection, as the server's sqlx statements are.
    Prepared,
}

fn pgbench(script: &Path, level: usize, seconds: u64, protocol: Protocol) -> anyhow::Result<Value> {
    // Per-transaction latencies (`-l`), for the percentiles pgbench's summary does not print.
    let stem = script
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let logs = script.with_file_name(format!("pgbench-{stem}-c{level}"));
    let mode = match protocol {
        Protocol::Simple => "simple",
        Protocol::Prepared => "prepared",
    };
    let output = Command::new(PGBENCH)
        .args(["-n", "-M", mode, "-h", "127.0.0.1", "-U", "postgres"])
        .arg(format!("-c{level}"))
        .arg(format!("-j{}", level.clamp(1, 2)))
        .arg(format!("-T{seconds}"))
        .arg("-l")
        .arg(format!("--log-prefix={}", logs.display()))
        .arg("-f")
        .arg(script)
        .arg("test")
        .env("PGOPTIONS", "-c search_path=bench")
        .output()
        .context("running pgbench")?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "pgbench failed: {text}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let mut value = json!({ "concurrency": level });
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("tps = ") {
            value["per_second"] = json!(rest
                .split_whitespace()
                .next()
                .unwrap_or("0")
                .parse::<f64>()?);
        } else if let Some(rest) = line.strip_prefix("latency average = ") {
            value["avg_ms"] = json!(rest
                .split_whitespace()
                .next()
                .unwrap_or("0")
                .parse::<f64>()?);
        } else if let Some(rest) = line.strip_prefix("number of transactions actually processed: ")
        {
            value["transactions"] = json!(rest.trim().parse::<u64>()?);
        } else if let Some(rest) = line.strip_prefix("number of failed transactions: ") {
            value["failures"] = json!(rest
                .split_whitespace()
                .next()
                .unwrap_or("0")
                .parse::<u64>()?);
        }
    }
    let mut latencies = pgbench_latencies(&logs)?;
    latencies.sort_by(f64::total_cmp);
    if !latencies.is_empty() {
        let pick =
            |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
        value["p50_ms"] = json!(pick(0.50));
        value["p99_ms"] = json!(pick(0.99));
    }
    eprintln!("    pgbench c={level:<3} {value}");
    Ok(value)
}

/// Every transaction's latency in ms from pgbench's logs (`<prefix>.<pid>[.<thread>]`, the
/// third field in microseconds).
fn pgbench_latencies(prefix: &Path) -> anyhow::Result<Vec<f64>> {
    let dir = prefix.parent().context("the log prefix has a directory")?;
    let stem = format!(
        "{}.",
        prefix
            .file_name()
            .context("the log prefix")?
            .to_string_lossy()
    );
    let mut latencies = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if !entry.file_name().to_string_lossy().starts_with(&stem) {
            continue;
        }
        for line in fs::read_to_string(entry.path())?.lines() {
            if let Some(micros) = line.split_whitespace().nth(2) {
                latencies.push(micros.parse::<f64>()? / 1000.0);
            }
        }
    }
    Ok(latencies)
}

fn write(dir: &Path, name: &str, text: &str) -> anyhow::Result<PathBuf> {
    let path = dir.join(name);
    fs::write(&path, text)?;
    Ok(path)
}

fn wait_for(addr: &str) -> anyhow::Result<()> {
    let addr: SocketAddr = addr.parse()?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() > deadline => {
                return Err(e).with_context(|| format!("nothing listens on {addr}"))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// A server under test, stopped when dropped.
#[derive(Debug)]
struct Server {
    pid: u32,
    child: Option<Child>,
}

impl Server {
    fn start(binary: &Path, url: &str, work: &Path, store: &str) -> anyhow::Result<Server> {
        let log = fs::File::create(work.join(format!("server-{store}.log")))?;
        let child = Command::new(binary)
            .args(["serve", "--listen", SERVER_ADDR, "--database-url", url])
            .arg("--blob-dir")
            .arg(work.join(format!("blobs-{store}")))
            // Signing is on, as in production: every entry is sealed and every read checked.
            .arg("--signing-key-file")
            .arg(work.join(format!("signing-keys-{store}.json")))
            // The load comes from a handful of keys far beyond any per-key limit: measure the
            // engine, not the rate limit.
            .args(["--rate-limit-per-minute", "0"])
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting the server")?;
        let server = Server {
            pid: child.id(),
            child: Some(child),
        };
        wait_for(SERVER_ADDR)?;
        Ok(server)
    }

    /// Resets VmHWM so the next reading is the peak of one scenario alone (Linux's
    /// `clear_refs` value 5). Where that is refused, the peak is the process's whole life.
    fn reset_peak_rss(&self) {
        if let Err(e) = fs::write(format!("/proc/{}/clear_refs", self.pid), "5") {
            if e.kind() != ErrorKind::NotFound {
                eprintln!("    (cannot reset the peak RSS: {e})");
            }
        }
    }

    fn peak_rss_mb(&self) -> anyhow::Result<f64> {
        let status = fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .context("VmHWM missing")?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()?;
        Ok(kb / 1024.0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
