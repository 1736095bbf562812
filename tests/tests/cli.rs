//! The `disputes` command line as a newcomer meets it: shared options before or after the
//! subcommand, errors as one line of causes, and a start-up log that names the store without
//! its password.

mod support;

use std::process::{Command, Output};

use support::binary;

fn disputes(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(binary())
        .args(args)
        .envs(env.iter().copied())
        .env_remove("DATABASE_URL")
        .output()
        .expect("the cli runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_database_url_goes_before_or_after_the_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("cli.db").display());
    let before = disputes(&["--database-url", &url, "tenant", "create", "acme"], &[]);
    assert!(before.status.success(), "{}", text(&before.stderr));
    // The tenant is in the database the option named: creating it again there is refused.
    let again = disputes(&["tenant", "create", "acme", "--database-url", &url], &[]);
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("acme"),
        "{}",
        text(&again.stderr)
    );
}

#[test]
fn an_error_is_its_causes_on_one_line_without_a_backtrace() {
    let failed = disputes(
        &["--database-url", "mysql://db/x", "migrate"],
        &[("RUST_BACKTRACE", "1")],
    );
    assert!(!failed.status.success());
    let stderr = text(&failed.stderr);
    assert!(
        stderr.contains("error: unsupported database URL scheme \"mysql\""),
        "{stderr}"
    );
    assert!(!stderr.contains("Stack backtrace"), "{stderr}");
    assert!(!stderr.contains("backtrace"), "{stderr}");
    assert!(stderr.trim().lines().count() <= 2, "{stderr}");
}

#[tokio::test]
async fn the_start_up_log_names_the_store_without_its_password() {
    let url = disputes_postgres::testing::fresh_schema_url("cli").await;
    let (user_part, place) = url
        .split_once("://")
        .and_then(|(_, rest)| rest.rsplit_once('@'))
        .expect("a postgres URL with a user");
    let user = user_part.split(':').next().unwrap();
    // The local server trusts its users, so a made-up password is accepted and must not show.
    let with_password = format!("postgres://{user}:not-for-logs@{place}");
    let migrated = disputes(&["migrate", "--database-url", &with_password], &[]);
    let stderr = text(&migrated.stderr);
    assert!(migrated.status.success(), "{stderr}");
    let place = place.split('?').next().unwrap();
    assert!(
        stderr.contains(&format!("PostgreSQL at {place}")),
        "{stderr}"
    );
    assert!(!stderr.contains("not-for-logs"), "{stderr}");
    assert!(!stderr.contains("already exists, skipping"), "{stderr}");
}
