//! Project automation, run as `cargo xtask <command>`.
//!
//! One small binary in the spirit of rust-analyzer's xtask: no build scripts, no
//! Makefiles, only `cargo` driven through `xshell`. Every command runs from the
//! workspace root, whatever directory it was started in.

use std::{
    env,
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::{bail, Context};
use xshell::{cmd, Shell};

mod prerequisites;
mod quickstart;
mod schemathesis;

const HELP: &str = "\
cargo xtask — project automation for the dispute engine

USAGE:
    cargo xtask <COMMAND>

COMMANDS:
    bench   Build release and run the benchmark harness (bench/): every
            scenario on PostgreSQL and SQLite against its baselines, with
            wrk on 127.0.0.1; writes target/bench/ and updates
            docs/benchmarks.md and docs/benchmarks.png (about 15 min).
            `bench --quick`: a smoke run of seconds per scenario on a
            small store, results in target/bench/ only. Not part of `ci`.
    ci      What CI runs, stopping at the first failure: the
            prerequisites (Debian's python3-aiosmtpd and schemathesis
            4.32.5 from PyPI, installed when missing if run as root,
            else the command to install them is printed), fmt check,
            clippy -D warnings, build of the `disputes` binary,
            docs/openapi.json up to date, the README's quickstart,
            the whole test suite with
            snapshots checked (missing or changed insta snapshots fail,
            nothing is written), and schemathesis against the server
    fmt     Format the whole workspace (cargo fmt --all)
    lint    Run clippy over every target with warnings denied
    openapi Write the OpenAPI document of every contract to
            docs/openapi.json (`disputes openapi`).
            `openapi --check`: fail if docs/openapi.json differs from
            what the code generates
    quickstart
            Build the `disputes` binary and run the README's quickstart
            blocks as one script against a fresh server on a free port
            (scratch in target/quickstart): any failing command fails
    schemathesis
            Build the server, start it on a fresh PostgreSQL schema and run
            schemathesis (4.32.5, installed as for `ci`) over every
            contract with every check on, seed 987654: no 5xx, no answer
            that breaks the document, no undocumented status, no valid
            request refused nor invalid one accepted beyond what
            xtask/schemathesis/schemathesis.toml expects
    test    Install missing prerequisites (as `ci`), build the
            `disputes` binary and run the whole test suite;
            new or changed snapshots are written as .snap.new for review
            (`cargo insta review`)

OPTIONS:
    -h, --help  Print this help
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
    let Some(command) = Command::from_args(env::args().skip(1))? else {
        print!("{HELP}");
        return Ok(());
    };

    let sh = Shell::new()?;
    sh.change_dir(project_root());
    let steps = command.steps();
    for step in &steps {
        // Announce every step first, so a failure in a long log is easy to place.
        eprintln!("==> xtask {}: {}", command.name(), step.name);
        (step.run)(&sh).with_context(|| {
            format!(
                "xtask {} failed at step `{}`; fix it and run `cargo xtask {}` again",
                command.name(),
                step.name,
                command.name()
            )
        })?;
    }
    eprintln!("==> xtask {}: ok ({} steps)", command.name(), steps.len());
    Ok(())
}

/// A subcommand of `cargo xtask`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    Bench { quick: bool },
    Ci,
    Fmt,
    Lint,
    Openapi { check: bool },
    Quickstart,
    Schemathesis,
    Test,
}

impl Command {
    /// Parses the arguments after the binary name; `None` means help was asked for.
    fn from_args(mut args: impl Iterator<Item = String>) -> anyhow::Result<Option<Command>> {
        let Some(first) = args.next() else {
            bail!("no command given\n\n{HELP}");
        };
        let command = match first.as_str() {
            "-h" | "--help" | "help" => return Ok(None),
            "bench" => Command::Bench { quick: false },
            "ci" => Command::Ci,
            "fmt" => Command::Fmt,
            "lint" => Command::Lint,
            "openapi" => Command::Openapi { check: false },
            "quickstart" => Command::Quickstart,
            "schemathesis" => Command::Schemathesis,
            "test" => Command::Test,
            other => bail!("unknown command `{other}`\n\n{HELP}"),
        };
        let rest: Vec<String> = args.collect();
        if rest.iter().any(|arg| arg == "-h" || arg == "--help") {
            return Ok(None);
        }
        if let (Command::Bench { .. }, [only]) = (command, rest.as_slice()) {
            if only == "--quick" {
                return Ok(Some(Command::Bench { quick: true }));
            }
        }
        if let (Command::Openapi { .. }, [only]) = (command, rest.as_slice()) {
            if only == "--check" {
                return Ok(Some(Command::Openapi { check: true }));
            }
        }
        if !rest.is_empty() {
            bail!(
                "`cargo xtask {}` takes no arguments, got `{}`",
                command.name(),
                rest.join(" ")
            );
        }
        Ok(Some(command))
    }

    fn name(self) -> &'static str {
        match self {
            Command::Bench { .. } => "bench",
            Command::Ci => "ci",
            Command::Fmt => "fmt",
            Command::Lint => "lint",
            Command::Openapi { .. } => "openapi",
            Command::Quickstart => "quickstart",
            Command::Schemathesis => "schemathesis",
            Command::Test => "test",
        }
    }

    fn steps(self) -> Vec<Step> {
        match self {
            Command::Bench { quick: false } => vec![BUILD_RELEASE, BENCH],
            Command::Bench { quick: true } => vec![BUILD_RELEASE, BENCH_QUICK],
            Command::Ci => vec![
                PREREQUISITES,
                FMT_CHECK,
                CLIPPY,
                BUILD_SERVER,
                OPENAPI_CHECK,
                QUICKSTART,
                TEST_CHECKED,
                SCHEMATHESIS,
            ],
            Command::Fmt => vec![FMT],
            Command::Lint => vec![CLIPPY],
            Command::Openapi { check: false } => vec![BUILD_SERVER, OPENAPI_WRITE],
            Command::Openapi { check: true } => vec![BUILD_SERVER, OPENAPI_CHECK],
            Command::Quickstart => vec![BUILD_SERVER, QUICKSTART],
            Command::Schemathesis => vec![PREREQUISITES, BUILD_SERVER, SCHEMATHESIS],
            Command::Test => vec![PREREQUISITES, BUILD_SERVER, TEST_REVIEW],
        }
    }
}

/// One named command in a pipeline; the name is what a failure message points at.
#[derive(Debug, Clone, Copy)]
struct Step {
    name: &'static str,
    run: fn(&Shell) -> anyhow::Result<()>,
}

/// What the tests need beyond Rust (see `prerequisites.rs`): installed when missing.
const PREREQUISITES: Step = Step {
    name: "prerequisites",
    run: prerequisites::ensure,
};

const FMT: Step = Step {
    name: "fmt",
    run: |sh| {
        let cargo = cargo();
        cmd!(sh, "{cargo} fmt --all").run()?;
        Ok(())
    },
};

const FMT_CHECK: Step = Step {
    name: "fmt --check",
    run: |sh| {
        let cargo = cargo();
        cmd!(sh, "{cargo} fmt --all -- --check")
            .run()
            .context("code is not formatted; run `cargo xtask fmt`")?;
        Ok(())
    },
};

const CLIPPY: Step = Step {
    name: "clippy",
    run: |sh| {
        let cargo = cargo();
        cmd!(
            sh,
            "{cargo} clippy --workspace --all-targets -- -D warnings"
        )
        .run()?;
        Ok(())
    },
};

/// The end-to-end tests start the real `disputes` binary, so it must exist before they run.
const BUILD_SERVER: Step = Step {
    name: "build disputes",
    run: |sh| {
        let cargo = cargo();
        cmd!(sh, "{cargo} build -p disputes-app --bin disputes").run()?;
        Ok(())
    },
};

/// Where the OpenAPI document is checked in.
const OPENAPI_DOCUMENT: &str = "docs/openapi.json";

/// The document as the code generates it: `disputes openapi` (xtask depends on none of our
/// crates, so it asks the binary).
fn generated_openapi(sh: &Shell) -> anyhow::Result<String> {
    let binary = schemathesis::server_binary(&project_root());
    let mut document = cmd!(sh, "{binary} openapi").quiet().read()?;
    document.push('\n');
    Ok(document)
}

const OPENAPI_WRITE: Step = Step {
    name: "openapi",
    run: |sh| {
        sh.write_file(OPENAPI_DOCUMENT, generated_openapi(sh)?)?;
        eprintln!("wrote {OPENAPI_DOCUMENT}");
        Ok(())
    },
};

const OPENAPI_CHECK: Step = Step {
    name: "openapi --check",
    run: |sh| {
        let checked_in = sh.read_file(OPENAPI_DOCUMENT).unwrap_or_default();
        if checked_in != generated_openapi(sh)? {
            bail!(
                "{OPENAPI_DOCUMENT} is not what the code generates; run `cargo xtask openapi` and commit the result"
            );
        }
        Ok(())
    },
};

/// The README's quickstart, pasted as a newcomer would (see `quickstart.rs`).
const QUICKSTART: Step = Step {
    name: "quickstart",
    run: |_| quickstart::run(&project_root()),
};

/// schemathesis against the running server, over every contract.
const SCHEMATHESIS: Step = Step {
    name: "schemathesis",
    run: |sh| schemathesis::run(sh, &schemathesis::server_binary(&project_root())),
};

/// The bench measures the optimised server, and its own harness, built together.
const BUILD_RELEASE: Step = Step {
    name: "build release",
    run: |sh| {
        let cargo = cargo();
        cmd!(
            sh,
            "{cargo} build --release -p disputes-app -p disputes-bench --bin disputes --bin disputes-bench"
        )
        .run()?;
        Ok(())
    },
};

/// The whole benchmark; the harness publishes into docs/ itself.
const BENCH: Step = Step {
    name: "bench",
    run: |sh| {
        cmd!(sh, "target/release/disputes-bench run --publish").run()?;
        Ok(())
    },
};

/// A smoke run of the same harness, small and short; nothing in docs/ changes.
const BENCH_QUICK: Step = Step {
    name: "bench --quick",
    run: |sh| {
        cmd!(sh, "target/release/disputes-bench run --quick").run()?;
        Ok(())
    },
};

/// Our stand-in for `cargo insta test --check`: with updates off and `CI` set, a missing
/// or changed snapshot fails its test and nothing is written to disk.
const TEST_CHECKED: Step = Step {
    name: "test (snapshots checked)",
    run: |sh| {
        let cargo = cargo();
        cmd!(sh, "{cargo} test --workspace")
            .env("INSTA_UPDATE", "no")
            .env("CI", "true")
            .run()?;
        Ok(())
    },
};

/// Same suite for local work: new or changed snapshots still fail, but are written as
/// `.snap.new` files so they can be reviewed and accepted.
const TEST_REVIEW: Step = Step {
    name: "test",
    run: |sh| {
        let cargo = cargo();
        cmd!(sh, "{cargo} test --workspace")
            .env("INSTA_UPDATE", "new")
            .env_remove("CI")
            .run()?;
        Ok(())
    },
};

/// The cargo that launched us (`cargo xtask` sets `CARGO`), so every step uses one toolchain.
fn cargo() -> String {
    env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> anyhow::Result<Option<Command>> {
        Command::from_args(args.iter().map(|arg| arg.to_string()))
    }

    #[test]
    fn parses_each_command() {
        assert_eq!(parse(&["ci"]).unwrap(), Some(Command::Ci));
        assert_eq!(parse(&["fmt"]).unwrap(), Some(Command::Fmt));
        assert_eq!(parse(&["lint"]).unwrap(), Some(Command::Lint));
        assert_eq!(parse(&["test"]).unwrap(), Some(Command::Test));
        assert_eq!(
            parse(&["openapi"]).unwrap(),
            Some(Command::Openapi { check: false })
        );
        assert_eq!(
            parse(&["openapi", "--check"]).unwrap(),
            Some(Command::Openapi { check: true })
        );
        assert_eq!(parse(&["quickstart"]).unwrap(), Some(Command::Quickstart));
        assert_eq!(
            parse(&["schemathesis"]).unwrap(),
            Some(Command::Schemathesis)
        );
        assert_eq!(
            parse(&["bench"]).unwrap(),
            Some(Command::Bench { quick: false })
        );
        assert_eq!(
            parse(&["bench", "--quick"]).unwrap(),
            Some(Command::Bench { quick: true })
        );
        assert_eq!(parse(&["--help"]).unwrap(), None);
        assert_eq!(parse(&["ci", "-h"]).unwrap(), None);
    }

    #[test]
    fn rejects_unknown_commands_and_stray_arguments() {
        assert!(parse(&[]).is_err());
        assert!(parse(&["tidy"]).is_err());
        assert!(parse(&["ci", "--fast"]).is_err());
        assert!(parse(&["ci", "--quick"]).is_err());
        assert!(parse(&["bench", "--fast"]).is_err());
        assert!(parse(&["openapi", "--quick"]).is_err());
        assert!(parse(&["schemathesis", "--check"]).is_err());
        assert!(parse(&["quickstart", "--quick"]).is_err());
    }

    #[test]
    fn ci_checks_before_it_tests() {
        let names: Vec<_> = Command::Ci.steps().iter().map(|step| step.name).collect();
        assert_eq!(
            names,
            [
                "prerequisites",
                "fmt --check",
                "clippy",
                "build disputes",
                "openapi --check",
                "quickstart",
                "test (snapshots checked)",
                "schemathesis"
            ]
        );
    }
}
