//! `cargo xtask quickstart`: the README's quickstart, run as the newcomer would paste it.
//!
//! Every ```` ```sh ```` block between `## Quickstart` and the next `## ` heading is joined, in
//! order, into one bash script, and run from the repository root with a fresh temporary
//! directory as `TMPDIR` and a free port as `DISPUTES_LISTEN` (the blocks read both, so a
//! server someone left on 8080 cannot interfere). The script sets `-euo pipefail` itself, so
//! any command that fails fails the step; a trap stops the server it started, whatever
//! happened, and the whole run is bounded in time.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// Where the quickstart lives.
const README: &str = "README.md";
const SECTION: &str = "## Quickstart";
/// Far more than the quickstart needs with the binary built (a few seconds), far less than CI's
/// patience; a block that waits forever (a server that never became ready) ends here.
const TIME_LIMIT: Duration = Duration::from_secs(300);

/// Stops the server the first block started, whether the script got to its last block or not.
const STOP_SERVER: &str =
    "trap 'if [ -n \"${SERVER:-}\" ]; then kill \"$SERVER\" 2>/dev/null || true; fi' EXIT\n";

pub fn run(root: &Path) -> anyhow::Result<()> {
    let readme = std::fs::read_to_string(root.join(README))
        .with_context(|| format!("cannot read {README}"))?;
    let blocks = shell_blocks(&readme)?;
    let script = format!("{STOP_SERVER}{}", blocks.join("\n"));

    let scratch = root.join("target").join("quickstart");
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch)
            .with_context(|| format!("cannot clear {}", scratch.display()))?;
    }
    std::fs::create_dir_all(&scratch)?;
    let listen = format!("127.0.0.1:{}", free_port()?);
    eprintln!(
        "quickstart: {} blocks from {README}, server on {listen}, scratch in {}",
        blocks.len(),
        scratch.display()
    );

    let mut child = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(root)
        .env("TMPDIR", &scratch)
        .env("DISPUTES_LISTEN", &listen)
        .env_remove("DATABASE_URL")
        .env_remove("DISPUTES_BLOB_DIR")
        .env_remove("DISPUTES_SIGNING_KEY_FILE")
        .stdin(Stdio::null())
        .spawn()
        .context("cannot start bash")?;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > TIME_LIMIT {
            // The script's own trap stops its server when bash is killed by TERM.
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let _ = child.wait();
            bail!(
                "the quickstart did not finish within {} s",
                TIME_LIMIT.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    if !status.success() {
        bail!("a command of the README's quickstart failed ({status}); its output is above");
    }
    eprintln!(
        "quickstart: every command succeeded in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The bodies of the ```` ```sh ```` blocks in the quickstart section, in order.
fn shell_blocks(readme: &str) -> anyhow::Result<Vec<String>> {
    let Some((_, section)) = readme.split_once(&format!("\n{SECTION}\n")) else {
        bail!("{README} has no `{SECTION}` section");
    };
    let section = section.split("\n## ").next().unwrap_or(section);
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in section.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```sh") => current = Some(String::new()),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    if current.is_some() {
        bail!("a ```sh block of {README}'s quickstart is not closed");
    }
    if blocks.is_empty() {
        bail!("{README}'s `{SECTION}` section has no ```sh block");
    }
    Ok(blocks)
}

/// A port nothing listens on now; the server binds it a moment later.
fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_sh_blocks_of_the_quickstart_section_only() {
        let readme =
            "# T\n\n```sh\nbefore\n```\n\n## Quickstart\n\ntext\n\n```sh\none\ntwo\n```\n\n\
                      ```json\n{}\n```\n\n```sh\nthree\n```\n\n## Next\n\n```sh\nafter\n```\n";
        assert_eq!(shell_blocks(readme).unwrap(), ["one\ntwo\n", "three\n"]);
    }

    #[test]
    fn refuses_a_readme_without_a_quickstart() {
        assert!(shell_blocks("# T\n\n```sh\nx\n```\n").is_err());
        assert!(shell_blocks("## Quickstart\n\nno code\n").is_err());
        assert!(shell_blocks("x\n## Quickstart\n\n```sh\nopen\n").is_err());
    }

    #[test]
    fn the_readme_has_a_quickstart_that_reads_the_port_and_the_scratch_directory() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let readme = std::fs::read_to_string(root.join(README)).unwrap();
        let script = shell_blocks(&readme).unwrap().join("\n");
        assert!(script.contains("DISPUTES_LISTEN"), "{script}");
        assert!(script.contains("TMPDIR"), "{script}");
        assert!(script.contains("SERVER=$!"), "{script}");
    }
}
