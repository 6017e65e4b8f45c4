//! The storage error: what `?` gives storage code. A refusal the caller should see travels as
//! the app's [`AppError`]; a database failure keeps its cause and the place (file:line) where
//! `?` met it, and is logged once, where it becomes the wire's `Internal` (the port boundary).
use app::error::AppError;
use std::panic::Location;

#[derive(Debug)]
pub enum StoreError {
    /// A refusal decided by the rules (not found, invalid, conflict …): nothing was written.
    App(AppError),
    /// The database failed; `at` is where the storage code met it.
    Db {
        source: sqlx::Error,
        at: &'static Location<'static>,
    },
}

pub type StoreResult<T> = Result<T, StoreError>;

impl From<sqlx::Error> for StoreError {
    #[track_caller]
    fn from(source: sqlx::Error) -> Self {
        StoreError::Db {
            source,
            at: Location::caller(),
        }
    }
}

impl From<AppError> for StoreError {
    fn from(e: AppError) -> Self {
        StoreError::App(e)
    }
}

impl StoreError {
    /// Whether running the whole transaction again may succeed: SQLite busy or locked (codes
    /// 5, 6 and their extended forms), PostgreSQL's serialization failure (40001), deadlock
    /// (40P01), lock timeout (55P03), a connection lost or refused (class 08, 57P01 admin
    /// shutdown, I/O errors, pool timeouts). Only for a transaction that did not reach its
    /// commit: a commit whose answer was lost may have happened.
    pub fn transient(&self) -> bool {
        match self {
            StoreError::Db { source, .. } => match source {
                sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => true,
                sqlx::Error::Database(e) => {
                    let code = e.code().unwrap_or_default();
                    if e.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                        // Primary result code in the low byte: SQLITE_BUSY 5, SQLITE_LOCKED 6.
                        code.parse::<i32>().is_ok_and(|n| matches!(n & 0xff, 5 | 6))
                    } else {
                        matches!(code.as_ref(), "40001" | "40P01" | "55P03" | "57P01")
                            || code.starts_with("08")
                    }
                }
                _ => false,
            },
            StoreError::App(_) => false,
        }
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::App(e) => write!(f, "{e}"),
            StoreError::Db { source, at } => write!(f, "{source} (at {at})"),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::App(e) => Some(e),
            StoreError::Db { source, .. } => Some(source),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::App(e) => e,
            StoreError::Db { source, at } => {
                tracing::error!(error = %source, at = %at, "database error");
                AppError::Internal
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_place_where_a_database_error_met_the_code_is_kept() {
        fn fails() -> StoreResult<()> {
            Err(sqlx::Error::RowNotFound)?;
            Ok(())
        }
        let StoreError::Db { at, .. } = fails().unwrap_err() else {
            panic!("a database error")
        };
        assert_eq!(at.file(), file!());
        assert!(!fails().unwrap_err().transient());
        assert!(StoreError::from(sqlx::Error::PoolTimedOut).transient());
        assert!(!StoreError::from(AppError::NotFound).transient());
    }
}
