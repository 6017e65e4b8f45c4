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
    /// Whether retrying the whole transaction may succeed: PostgreSQL's deadlock (40P01) and
    /// serialization failure (40001).
    pub fn transient(&self) -> bool {
        match self {
            StoreError::Db { source, .. } => source
                .as_database_error()
                .and_then(|e| e.code())
                .is_some_and(|code| code == "40P01" || code == "40001"),
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
