use std::path::PathBuf;

use disputes_ports::StoreError;
use sqlx::error::ErrorKind;
use sqlx::migrate::MigrateError;

/// Why [`SqliteStore::connect`](crate::SqliteStore::connect) or
/// [`SqliteStore::migrate`](crate::SqliteStore::migrate) failed. These reach an operator at
/// startup, never a client.
#[derive(Debug, thiserror::Error)]
pub enum SqliteError {
    /// The URL is not a SQLite URL sqlx understands.
    #[error("invalid SQLite database URL")]
    InvalidUrl(#[source] sqlx::Error),
    /// The directory that should hold a new database file cannot be created.
    #[error("cannot create the database directory {}", path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The database cannot be opened or configured.
    #[error("cannot open the database")]
    Connect(#[source] sqlx::Error),
    /// The embedded migrations cannot be applied.
    #[error("cannot bring the database schema up to date")]
    Migrate(#[source] MigrateError),
}

/// SQLite's primary result codes for "someone else holds the lock"; extended codes keep them in
/// their low byte.
const SQLITE_BUSY: i32 = 5;
const SQLITE_LOCKED: i32 = 6;

/// The one place where sqlx's errors become the port's. The messages name no SQL: they may end
/// up in logs next to a client's request, and the driver's full error is logged here instead.
pub(crate) fn store_error(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) => match db.kind() {
            ErrorKind::UniqueViolation => StoreError::AlreadyExists(unique_subject(db.message())),
            // Every foreign key points at a parent row (a tenant, a dispute): a violation means
            // the parent does not exist.
            ErrorKind::ForeignKeyViolation => StoreError::NotFound,
            _ => {
                let code = db.code().and_then(|c| c.parse::<i32>().ok()).unwrap_or(0);
                if matches!(code & 0xff, SQLITE_BUSY | SQLITE_LOCKED) {
                    StoreError::Unavailable("the database is busy".to_owned())
                } else {
                    tracing::error!(error = %e, "sqlite reported an error");
                    StoreError::Other(format!("database error (code {code})"))
                }
            }
        },
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Io(_) => {
            tracing::warn!(error = %e, "sqlite unavailable");
            StoreError::Unavailable("the database cannot be reached".to_owned())
        }
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnIndexOutOfBounds { .. }
        | sqlx::Error::TypeNotFound { .. } => StoreError::Corrupt(e.to_string()),
        _ => {
            tracing::error!(error = %e, "sqlx failed");
            StoreError::Other("database failure".to_owned())
        }
    }
}

/// True when `e` is a UNIQUE or PRIMARY KEY violation.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.kind() == ErrorKind::UniqueViolation)
}

/// What a unique violation was about, from SQLite's `UNIQUE constraint failed: table.column`.
fn unique_subject(message: &str) -> &'static str {
    let table = message
        .rsplit(": ")
        .next()
        .and_then(|columns| columns.split('.').next())
        .unwrap_or_default();
    disputes_rows::unique_subject(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_violations_name_what_exists() {
        assert_eq!(
            unique_subject("UNIQUE constraint failed: tenants.slug"),
            "tenant"
        );
        assert_eq!(
            unique_subject("UNIQUE constraint failed: api_keys.key_id"),
            "api key"
        );
        assert_eq!(
            unique_subject("UNIQUE constraint failed: disputes.tenant, disputes.invoice"),
            "dispute"
        );
        assert_eq!(unique_subject("something else"), "record");
    }
}
