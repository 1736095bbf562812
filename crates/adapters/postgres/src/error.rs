use disputes_ports::StoreError;
use disputes_rows::unique_subject;
use sqlx::error::DatabaseError;
use sqlx::migrate::MigrateError;
use sqlx::postgres::PgDatabaseError;

/// Why [`PgStore::connect`](crate::PgStore::connect) or [`PgStore::migrate`](crate::PgStore::migrate)
/// failed. These reach an operator at startup, never a client.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// The URL is not a PostgreSQL URL sqlx understands.
    #[error("invalid PostgreSQL database URL")]
    InvalidUrl(#[source] sqlx::Error),
    /// The database cannot be reached or refuses the connection.
    #[error("cannot connect to the database")]
    Connect(#[source] sqlx::Error),
    /// The embedded migrations cannot be applied.
    #[error("cannot bring the database schema up to date")]
    Migrate(#[source] MigrateError),
}

/// SQLSTATE `unique_violation`.
const UNIQUE_VIOLATION: &str = "23505";
/// SQLSTATE `foreign_key_violation`.
const FOREIGN_KEY_VIOLATION: &str = "23503";

/// The one place where sqlx's errors become the port's. The messages name no SQL: they may end
/// up in logs next to a client's request, and the driver's full error is logged here instead.
pub(crate) fn store_error(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            match &*code {
                UNIQUE_VIOLATION => StoreError::AlreadyExists(unique_subject(table_of(&**db))),
                // Every foreign key points at a parent row (a tenant, a dispute): a violation
                // means the parent does not exist.
                FOREIGN_KEY_VIOLATION => StoreError::NotFound,
                code if is_transient(code) => {
                    tracing::warn!(error = %e, "postgres unavailable");
                    StoreError::Unavailable("the database cannot serve requests now".to_owned())
                }
                code => {
                    tracing::error!(error = %e, "postgres reported an error");
                    StoreError::Other(format!("database error (SQLSTATE {code})"))
                }
            }
        }
        // No answer, or no connection to ask on: PostgreSQL is down, restarting or unreachable,
        // or the pool waited its acquire timeout for a connection. The pool replaces broken
        // connections by itself, so a later request may well succeed.
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => {
            tracing::warn!(error = %e, "postgres unavailable");
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

/// Whether a SQLSTATE means "not now" rather than "never": a lost or refused connection (class
/// 08), the server shutting down, crashing or starting up (57P01..57P03), or out of a resource
/// such as connection slots or disk (class 53). A retry later may succeed.
fn is_transient(code: &str) -> bool {
    code.starts_with("08") || code.starts_with("53") || matches!(code, "57P01" | "57P02" | "57P03")
}

/// True when `e` is a unique violation: in `create`, one of the one-open-dispute indexes.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some(UNIQUE_VIOLATION))
}

/// The table a constraint violation was reported on, when PostgreSQL says.
fn table_of(db: &dyn DatabaseError) -> &str {
    db.try_downcast_ref::<PgDatabaseError>()
        .and_then(PgDatabaseError::table)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_and_shutdown_states_are_transient() {
        for code in [
            "08000", "08001", "08006", "57P01", "57P02", "57P03", "53300",
        ] {
            assert!(is_transient(code), "{code}");
        }
        for code in ["23505", "42P01", "57014", "P0001", "40001"] {
            assert!(!is_transient(code), "{code}");
        }
    }

    #[test]
    fn pool_and_io_failures_are_unavailable() {
        for e in [
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
            sqlx::Error::Io(std::io::ErrorKind::ConnectionRefused.into()),
        ] {
            assert!(matches!(store_error(e), StoreError::Unavailable(_)));
        }
        assert!(matches!(
            store_error(sqlx::Error::ColumnNotFound("x".into())),
            StoreError::Corrupt(_)
        ));
    }
}
