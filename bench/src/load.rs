//! The load generator: wrk, in a process of its own, on 127.0.0.1.

use std::{path::Path, process::Command, time::Duration};

use anyhow::{bail, Context};

/// What one wrk run measured.
#[derive(Debug, Clone, Default)]
pub struct LoadResult {
    pub requests: u64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Responses outside 2xx/3xx and socket errors: a scenario with any is suspect.
    pub failures: u64,
}

impl LoadResult {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "requests": self.requests,
            "per_second": self.per_second,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "failures": self.failures,
        })
    }
}

/// Installs wrk from Debian's packages when it is missing, and only then.
pub fn ensure_wrk() -> anyhow::Result<()> {
    if Command::new("wrk").arg("--version").output().is_ok() {
        return Ok(());
    }
    eprintln!("==> wrk is missing; installing it with apt-get");
    let installed = Command::new("apt-get")
        .args(["install", "-y", "wrk"])
        .status()?
        .success()
        || (Command::new("apt-get").arg("update").status()?.success()
            && Command::new("apt-get")
                .args(["install", "-y", "wrk"])
                .status()?
                .success());
    if !installed {
        bail!("could not install wrk (apt-get install -y wrk)");
    }
    Ok(())
}

/// Runs wrk at `connections` for `length` with `script` against `url`.
pub fn wrk(
    url: &str,
    script: &Path,
    connections: usize,
    length: Duration,
) -> anyhow::Result<LoadResult> {
    let threads = connections.clamp(1, 2);
    let output = Command::new("wrk")
        .arg(format!("-t{threads}"))
        .arg(format!("-c{connections}"))
        .arg(format!("-d{}s", length.as_secs()))
        .arg("--timeout")
        .arg("5s")
        .arg("--latency")
        .arg("-s")
        .arg(script)
        .arg(url)
        .output()
        .context("running wrk")?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "wrk failed: {}{}",
            text,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    parse_wrk(&text).with_context(|| format!("reading wrk's output:\n{text}"))
}

fn parse_wrk(text: &str) -> anyhow::Result<LoadResult> {
    let mut result = LoadResult::default();
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["50%", value] => result.p50_ms = millis(value)?,
            ["99%", value] => result.p99_ms = millis(value)?,
            ["Requests/sec:", value] => result.per_second = value.parse()?,
            [count, "requests", "in", ..] => result.requests = count.parse()?,
            ["Non-2xx", "or", "3xx", "responses:", count] => {
                result.failures += count.parse::<u64>()?
            }
            ["Socket", "errors:", rest @ ..] => {
                // "connect 0, read 0, write 0, timeout 0"
                for number in rest.iter().skip(1).step_by(2) {
                    result.failures += number.trim_end_matches(',').parse::<u64>()?;
                }
            }
            _ => {}
        }
    }
    Ok(result)
}

/// wrk prints durations as `812.00us`, `1.23ms` or `2.01s`.
fn millis(value: &str) -> anyhow::Result<f64> {
    let (number, scale) = if let Some(n) = value.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = value.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = value.strip_suffix('s') {
        (n, 1000.0)
    } else {
        bail!("unexpected duration `{value}`");
    };
    Ok(number.parse::<f64>()? * scale)
}

/// A wrk script: the key on every request, and `request` from `body` (Lua code).
pub fn script(key: &str, body: &str) -> String {
    format!(
        "wrk.headers[\"Authorization\"] = \"Bearer {key}\"\n\
         wrk.headers[\"Content-Type\"] = \"application/json\"\n\
         local threads = 0\n\
         function setup(thread)\n  threads = threads + 1\n  thread:set(\"tid\", threads)\nend\n\
         {body}\n"
    )
}

/// Opens a dispute per request, each for a campaign no other request names: `template_body`
/// is the JSON with `__CAMPAIGN__` where the campaign goes.
pub fn open_script(key: &str, run: &str, template_body: &str) -> String {
    script(
        key,
        &format!(
            "local template = [==[{template_body}]==]\n\
             local counter = 0\n\
             function request()\n  counter = counter + 1\n  \
             local campaign = \"cmp_{run}_\" .. tostring(tid) .. \"_\" .. counter\n  \
             local body = (string.gsub(template, \"__CAMPAIGN__\", campaign))\n  \
             return wrk.format(\"POST\", \"/v1/disputes\", nil, body)\nend"
        ),
    )
}

/// Reads a dispute chosen at random among ids `low..=high`.
pub fn get_script(key: &str, low: i64, high: i64) -> String {
    script(
        key,
        &format!(
            "function init(args)\n  math.randomseed(os.time() * 7 + (tid or 0))\nend\n\
             function request()\n  \
             return wrk.format(\"GET\", \"/v1/disputes/\" .. math.random({low}, {high}))\nend"
        ),
    )
}

/// The same path every request (the URL given to wrk).
pub fn fixed_script(key: &str) -> String {
    script(key, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrk_output() {
        let text = "Running 2s test @ http://127.0.0.1:1/\n  Latency Distribution\n     50%  812.00us\n     75%    1.10ms\n     99%    2.50ms\n  1234 requests in 2.00s, 1.00MB read\n  Non-2xx or 3xx responses: 3\n  Socket errors: connect 0, read 1, write 0, timeout 2\nRequests/sec:    617.00\n";
        let result = parse_wrk(text).unwrap();
        assert_eq!(result.requests, 1234);
        assert!((result.p50_ms - 0.812).abs() < 1e-9);
        assert!((result.p99_ms - 2.5).abs() < 1e-9);
        assert!((result.per_second - 617.0).abs() < 1e-9);
        assert_eq!(result.failures, 6);
    }
}
