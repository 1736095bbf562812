//! What the test suite needs beyond Rust, installed when it is missing: a fresh machine runs
//! `cargo xtask ci` as it is, and a machine where we may not install says at once what to run.

use anyhow::bail;
use xshell::{cmd, Shell};

/// One thing the tests need: how to tell it is there, and how to install it.
struct Prerequisite {
    what: &'static str,
    /// A Python statement that fails when the prerequisite is missing.
    probe: (&'static str, &'static str),
    install: &'static [&'static str],
}

const PREREQUISITES: [Prerequisite; 3] = [
    Prerequisite {
        // The email tests run a real SMTP relay with Debian's interpreter.
        what: "Debian's python3-aiosmtpd (for the email tests)",
        probe: ("/usr/bin/python3", "import aiosmtpd"),
        install: &[
            "apt-get update -qq",
            "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-aiosmtpd",
        ],
    },
    // Pinned: a new release may check more, and CI must not turn red by itself.
    Prerequisite {
        what: "schemathesis 4.32.5 from PyPI (for `cargo xtask schemathesis`)",
        probe: (
            "python3",
            "import importlib.metadata as m; assert m.version('schemathesis') == '4.32.5'",
        ),
        install: &["python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore 'schemathesis==4.32.5'"],
    },
    // The delivery vendor's published verifier, in its Python release (the exports tests run
    // it beside the Rust crate of the same version), pinned like schemathesis.
    Prerequisite {
        what: "enfinitos-sdk-auditor 0.0.4 from PyPI (for the exports tests)",
        probe: (
            "python3",
            "import importlib.metadata as m; assert m.version('enfinitos-sdk-auditor') == '0.0.4'",
        ),
        install: &["python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore 'enfinitos-sdk-auditor==0.0.4'"],
    },
];

/// Installs every missing prerequisite when this process may (it runs as root, as CI does), or
/// fails naming the commands that would.
pub fn ensure(sh: &Shell) -> anyhow::Result<()> {
    for prerequisite in &PREREQUISITES {
        if present(sh, prerequisite) {
            continue;
        }
        let commands = prerequisite.install.join(" && ");
        if !is_root(sh) {
            bail!(
                "{} is missing; install it with:\n    sudo sh -c \"{}\"",
                prerequisite.what,
                commands.replace('"', "\\\"")
            );
        }
        eprintln!("==> installing {}", prerequisite.what);
        cmd!(sh, "sh -c {commands}").run()?;
        if !present(sh, prerequisite) {
            bail!("{} is still missing after `{commands}`", prerequisite.what);
        }
    }
    Ok(())
}

fn present(sh: &Shell, prerequisite: &Prerequisite) -> bool {
    let (python, statement) = prerequisite.probe;
    cmd!(sh, "{python} -c {statement}")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .is_ok()
}

fn is_root(sh: &Shell) -> bool {
    cmd!(sh, "id -u")
        .quiet()
        .read()
        .is_ok_and(|uid| uid.trim() == "0")
}
