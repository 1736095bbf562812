//! The report: a description of the machine, Markdown tables against the targets, and the plot.

use std::{fmt::Write as _, fs, path::Path, process::Command};

use serde_json::{json, Value};

/// The plot script, run with the machine's Python (matplotlib comes from PyPI when missing).
const PLOT_PY: &str = include_str!("../plot.py");

/// What the numbers were measured on, read off the machine at the start of the run.
pub fn machine() -> Value {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_default();
    let first_line = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .output()
            .ok()
            .map(|o| {
                let text = String::from_utf8_lossy(&o.stdout).into_owned()
                    + &String::from_utf8_lossy(&o.stderr);
                text.lines().next().unwrap_or_default().trim().to_owned()
            })
            .unwrap_or_default()
    };
    let memory = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| t.lines().next().map(str::to_owned))
        .unwrap_or_default();
    json!({
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map_or(0, usize::from),
        "memory": memory.trim_start_matches("MemTotal:").trim(),
        "kernel": first_line("uname", &["-sr"]),
        "load_average_at_start": fs::read_to_string("/proc/loadavg").unwrap_or_default().trim(),
        "postgres": first_line("/usr/lib/postgresql/15/bin/postgres", &["--version"]),
        "wrk": first_line("wrk", &["--version"]),
        "rustc": first_line("rustc", &["--version"]),
    })
}

/// The level a summary reports: the headline concurrency of the plan.
fn at_level<'a>(levels: &'a Value, level: &Value) -> Option<&'a Value> {
    levels
        .as_array()?
        .iter()
        .find(|l| l["concurrency"] == *level)
}

fn max_rss(levels: &Value) -> f64 {
    levels.as_array().map_or(0.0, |ls| {
        ls.iter()
            .filter_map(|l| l["peak_rss_mb"].as_f64())
            .fold(0.0, f64::max)
    })
}

fn mark(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "**missed**"
    }
}

/// The summary at the headline concurrency, each scenario against its target, then every level.
pub fn markdown(results: &Value) -> String {
    let plan = &results["plan"];
    let headline = &plan["headline"];
    let http = at_level(&results["http_baseline"], headline)
        .cloned()
        .unwrap_or_default();
    let http_rps = http["per_second"].as_f64().unwrap_or(f64::NAN);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Concurrency {headline} (wrk connections, pgbench clients, sqlx tasks), {} s per point, \
         {} disputes in the store (the deep cursor also at {}).\n",
        plan["seconds"], plan["large"], plan["small"]
    );
    let _ = writeln!(
        out,
        "HTTP limit baseline (axum, same body from memory): {http_rps:.0} req/s, p50 {:.2} ms, \
         p99 {:.2} ms, peak RSS {:.1} MB.\n",
        http["p50_ms"].as_f64().unwrap_or(f64::NAN),
        http["p99_ms"].as_f64().unwrap_or(f64::NAN),
        max_rss(&results["http_baseline"]),
    );
    let _ = writeln!(
        out,
        "| store | scenario | req/s | p50 ms | p99 ms | failures | peak RSS MB (all levels) | baseline | ratio | target |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---|---:|---|");
    for (store, data) in results["stores"].as_object().into_iter().flatten() {
        let db = at_level(&data["db_baseline"], headline)
            .cloned()
            .unwrap_or_default();
        let db_rps = db["per_second"].as_f64().unwrap_or(f64::NAN);
        let db_name = if store == "postgres" {
            "pgbench"
        } else {
            "sqlx loop"
        };
        let read = at_level(&data["db_read_baseline"], headline)
            .and_then(|l| l["per_second"].as_f64())
            .unwrap_or(f64::NAN);
        let small_p99 = at_level(&data["scenarios"]["list_deep_small"], headline)
            .and_then(|l| l["p99_ms"].as_f64())
            .unwrap_or(f64::NAN);
        for scenario in ["open", "get", "list_filter", "list_deep_small", "list_deep"] {
            let levels = &data["scenarios"][scenario];
            let Some(point) = at_level(levels, headline) else {
                continue;
            };
            let rps = point["per_second"].as_f64().unwrap_or(f64::NAN);
            let p99 = point["p99_ms"].as_f64().unwrap_or(f64::NAN);
            let rss = max_rss(levels);
            let rss_ok = rss <= 150.0;
            let (baseline, ratio, target) = match scenario {
                "open" => (
                    format!("{db_name} {db_rps:.0} tx/s"),
                    rps / db_rps,
                    format!("≥ 70%: {}", mark(rps / db_rps >= 0.7)),
                ),
                "get" => (
                    format!("HTTP {http_rps:.0}; database read {read:.0}"),
                    rps / http_rps,
                    format!(
                        "≥ 50%: {} (the database alone: {:.0}% of the HTTP limit; this get: {:.0}% of the database's)",
                        mark(rps / http_rps >= 0.5),
                        read / http_rps * 100.0,
                        rps / read * 100.0
                    ),
                ),
                "list_deep" => (
                    format!("HTTP {http_rps:.0}"),
                    rps / http_rps,
                    format!(
                        "p99 ≤ 20 ms: {}; ≤ 2× small ({small_p99:.2} ms): {}",
                        mark(p99 <= 20.0),
                        mark(p99 <= 2.0 * small_p99)
                    ),
                ),
                _ => (
                    format!("HTTP {http_rps:.0}"),
                    rps / http_rps,
                    "—".to_owned(),
                ),
            };
            let _ = writeln!(
                out,
                "| {store} | {scenario} | {rps:.0} | {:.2} | {p99:.2} | {} | {rss:.1} | {baseline} | {:.0}% | {target}; RSS ≤ 150 MB: {} |",
                point["p50_ms"].as_f64().unwrap_or(f64::NAN),
                point["failures"],
                ratio * 100.0,
                mark(rss_ok),
            );
        }
    }
    let _ = writeln!(out, "\nEvery level:\n");
    let _ = writeln!(
        out,
        "| store | scenario | concurrency | req/s | p50 ms | p99 ms | failures | peak RSS MB |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|");
    let mut row = |store: &str, scenario: &str, levels: &Value| {
        for l in levels.as_array().into_iter().flatten() {
            let _ = writeln!(
                out,
                "| {store} | {scenario} | {} | {:.0} | {} | {} | {} | {} |",
                l["concurrency"],
                l["per_second"].as_f64().unwrap_or(f64::NAN),
                number(&l["p50_ms"]),
                number(&l["p99_ms"]),
                l["failures"],
                number(&l["peak_rss_mb"]),
            );
        }
    };
    row("—", "HTTP limit", &results["http_baseline"]);
    for (store, data) in results["stores"].as_object().into_iter().flatten() {
        for (scenario, levels) in data["scenarios"].as_object().into_iter().flatten() {
            row(store, scenario, levels);
        }
        row(store, "db baseline", &data["db_baseline"]);
        row(store, "db read baseline", &data["db_read_baseline"]);
    }
    out
}

fn number(value: &Value) -> String {
    value
        .as_f64()
        .map_or_else(|| "—".to_owned(), |v| format!("{v:.2}"))
}

/// Draws latency against load from the results; a missing matplotlib is installed from PyPI.
/// A plot that cannot be drawn is reported, not fatal: the numbers are already on disk.
pub fn plot(results: &Path, png: &Path) {
    let script = results.with_file_name("plot.py");
    if let Err(e) = fs::write(&script, PLOT_PY) {
        eprintln!("    plot skipped: {e}");
        return;
    }
    let has_matplotlib = Command::new("python3")
        .args(["-c", "import matplotlib"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_matplotlib {
        eprintln!("==> matplotlib is missing; installing it with pip");
        let _ = Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "matplotlib"])
            .status();
    }
    match Command::new("python3")
        .arg(&script)
        .arg(results)
        .arg(png)
        .status()
    {
        Ok(s) if s.success() => eprintln!("    plot: {}", png.display()),
        other => eprintln!("    plot failed: {other:?}"),
    }
}

const START: &str = "<!-- bench:results:start -->";
const END: &str = "<!-- bench:results:end -->";

/// Replaces the generated part of docs/benchmarks.md (between its markers; the prose around
/// it is written by hand) and copies the plot to docs/benchmarks.png.
pub fn publish(table: &str, png: &Path) -> anyhow::Result<()> {
    let doc_path = Path::new("docs/benchmarks.md");
    let doc = fs::read_to_string(doc_path)?;
    let (Some(start), Some(end)) = (doc.find(START), doc.find(END)) else {
        anyhow::bail!("docs/benchmarks.md lacks the {START} / {END} markers");
    };
    let updated = format!("{}{START}\n{table}\n{}", &doc[..start], &doc[end..]);
    fs::write(doc_path, updated)?;
    if png.exists() {
        fs::copy(png, "docs/benchmarks.png")?;
    }
    Ok(())
}
