//! Scratch schemas for tests on a shared PostgreSQL (feature `testing`).
//!
//! Each test gets a schema of its own in one database, so tests run in parallel without seeing
//! each other's rows and without needing to create databases:
//!
//! ```no_run
//! # async fn example() {
//! let url = disputes_postgres::testing::fresh_schema_url("e2e").await;
//! let store = disputes_postgres::PgStore::connect(&url).await.unwrap();
//! // The same URL works as the server's DATABASE_URL.
//! # }
//! ```

use std::collections::HashSet;
use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, Executor};
use tokio::sync::Mutex;

/// The variable naming the server and database tests use, as an admin URL (allowed to create
/// and drop schemas).
pub const URL_VAR: &str = "DISPUTES_TEST_POSTGRES_URL";

/// The admin URL when [`URL_VAR`] is not set: the local server, trust authentication.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Longer than any sane connect, shorter than a test runner's patience.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The prefixes whose leftovers this process has dropped already.
static CLEANED: Mutex<Option<HashSet<String>>> = Mutex::const_new(None);

/// Numbers this process's schemas.
static NEXT: AtomicU32 = AtomicU32::new(0);

/// Creates an empty schema `{prefix}_{pid}_{n}` and returns the admin URL with that schema as
/// the search path, as an `options` parameter that sqlx (and libpq) honour. Hand it to
/// [`PgStore::connect`](crate::PgStore::connect), or to the server as `DATABASE_URL`: the
/// migrations then create every table there.
///
/// The first call for a prefix in a process drops the schemas that earlier runs with that prefix
/// left behind: those named `{prefix}_{pid}_{n}` whose process is gone, judged by `/proc` where
/// there is one (elsewhere, every other `{prefix}_` schema counts as left over). Schemas of test
/// processes still running, and of other prefixes, are kept.
///
/// `prefix` is lowercase ASCII letters, digits and `_`, so the schema needs no quoting.
///
/// # Panics
/// When `prefix` is malformed, or the database at [`URL_VAR`] (default [`DEFAULT_URL`]) cannot be
/// reached or refuses: a test without its database must fail, never pass by skipping.
pub async fn fresh_schema_url(prefix: &str) -> String {
    assert!(
        !prefix.is_empty()
            && prefix
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
        "schema prefix {prefix:?} must be lowercase ASCII letters, digits and '_'"
    );
    let admin_url = std::env::var(URL_VAR).unwrap_or_else(|_| DEFAULT_URL.to_owned());
    let mut admin = connect_admin(&admin_url).await;

    {
        // Held while dropping, so no schema of this prefix is created before the old ones are
        // gone. A tokio mutex works across the runtimes of different tests.
        let mut cleaned = CLEANED.lock().await;
        let cleaned = cleaned.get_or_insert_with(HashSet::new);
        if !cleaned.contains(prefix) {
            drop_leftovers(&mut admin, prefix).await;
            cleaned.insert(prefix.to_owned());
        }
    }

    let schema = format!(
        "{prefix}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    admin
        .execute(format!("CREATE SCHEMA \"{schema}\"").as_str())
        .await
        .unwrap_or_else(|e| panic!("cannot create the test schema {schema}: {e}"));
    // Closing politely matters little, but it frees the server's slot now.
    let _ = admin.close().await;
    with_search_path(&admin_url, &schema)
}

/// One admin connection. Not a pool: each test runs its own tokio runtime, and a pooled
/// connection made on one cannot be used from another.
async fn connect_admin(url: &str) -> PgConnection {
    let options = PgConnectOptions::from_str(url)
        .unwrap_or_else(|e| panic!("{URL_VAR} is not a PostgreSQL URL: {e}"));
    let target = format!(
        "{}:{} (database {:?})",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or_default()
    );
    match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&options)).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => panic!(
            "cannot reach the test PostgreSQL at {target}: {e}. Start it, or point {URL_VAR} \
             at one."
        ),
        Err(_) => panic!(
            "the test PostgreSQL at {target} did not answer within {CONNECT_TIMEOUT:?}. Start \
             it, or point {URL_VAR} at one."
        ),
    }
}

/// Drops the schemas of `prefix` that no running process owns.
async fn drop_leftovers(admin: &mut PgConnection, prefix: &str) {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT nspname::TEXT FROM pg_namespace WHERE starts_with(nspname, $1)")
            .bind(format!("{prefix}_"))
            .fetch_all(&mut *admin)
            .await
            .unwrap_or_else(|e| panic!("cannot list the test schemas: {e}"));
    for name in names.iter().filter(|name| is_left_over(prefix, name)) {
        // IF EXISTS: another process may be dropping the same leftovers right now.
        admin
            .execute(format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE").as_str())
            .await
            .unwrap_or_else(|e| panic!("cannot drop the old test schema {name}: {e}"));
    }
}

/// Whether `schema` is `{prefix}_{pid}_{n}` of a process that no longer runs. This process has
/// made no schema of `prefix` yet when it asks, so one with its own pid is from an earlier
/// process that had the same pid.
fn is_left_over(prefix: &str, schema: &str) -> bool {
    let Some((pid, n)) = schema
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .and_then(|rest| rest.split_once('_'))
    else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    pid == std::process::id() || !process_runs(pid)
}

/// Whether a process with this pid runs on this machine, where `/proc` tells; without `/proc`,
/// every other process counts as gone.
fn process_runs(pid: u32) -> bool {
    let proc = Path::new("/proc");
    proc.join("self").exists() && proc.join(pid.to_string()).exists()
}

/// `url` with `options=-c search_path=<schema>` added as a query parameter, percent-encoded.
fn with_search_path(url: &str, schema: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    let options = percent_encode(&format!("-c search_path={schema}"));
    format!("{url}{separator}options={options}")
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_path_rides_in_the_options_parameter() {
        let url = with_search_path("postgres://postgres@127.0.0.1:5432/test", "e2e_12_3");
        assert_eq!(
            url,
            "postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3De2e_12_3"
        );
        // sqlx decodes it back into the startup `options` PostgreSQL applies.
        let options = PgConnectOptions::from_str(&url).unwrap();
        assert_eq!(options.get_options(), Some("-c search_path=e2e_12_3"));
        assert_eq!(
            with_search_path("postgres://h/db?sslmode=disable", "s"),
            "postgres://h/db?sslmode=disable&options=-c%20search_path%3Ds"
        );
    }

    #[test]
    fn only_schemas_of_the_prefix_whose_process_is_gone_are_left_over() {
        let me = std::process::id();
        // pid 0 is never a user process.
        assert!(is_left_over("conformance", "conformance_0_1"));
        assert!(is_left_over("conformance", &format!("conformance_{me}_0")));
        // A running process keeps its schemas: the test runner that started this one runs.
        #[cfg(unix)]
        if Path::new("/proc/self").exists() {
            let parent = std::os::unix::process::parent_id();
            assert!(!is_left_over("e2e", &format!("e2e_{parent}_0")));
        }
        for other in [
            "conformance_x_1",
            "conformance_0",
            "conformance_0_",
            "conformance_0_1a",
            "conformancex_0_1",
            "e2e_http_0_1",
        ] {
            assert!(!is_left_over(
                if other.starts_with("e2e") {
                    "e2e"
                } else {
                    "conformance"
                },
                other
            ));
        }
    }
}
