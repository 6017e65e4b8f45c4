//! The database: SQLite (embedded default, WAL, durable commits) or PostgreSQL (several server
//! processes). Portable SQL is written once as a [`Sql`] (text + bound arguments) and run on
//! either engine by [`Db`] (the pool) or [`Tx`] (a transaction), which choose the engine per
//! statement; where the engines' SQL differs, a small named helper says so ([`Tx::row_lock`]).
use crate::sql::{Arg, Kind, Sql};
use anyhow::{Context, Result};
use sqlx::Arguments as _;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::time::Duration;

/// Limits on PostgreSQL statements (`None`: no limit), set on every connection of the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// How long a statement waits for a row lock (`lock_timeout`).
    pub lock_timeout: Option<Duration>,
    /// How long a statement may run (`statement_timeout`).
    pub statement_timeout: Option<Duration>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            lock_timeout: Some(Duration::from_secs(5)),
            statement_timeout: Some(Duration::from_secs(30)),
        }
    }
}

impl Limits {
    /// No time limit (benchmarks filling millions of rows in one statement).
    pub fn off() -> Self {
        Limits {
            lock_timeout: None,
            statement_timeout: None,
        }
    }
}

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same code on whichever pool `db` holds: `on_db!(db, pool => query.fetch_one(pool))`.
/// A macro because the body is type-checked once per pool type (sqlx's executors are generic
/// over the engine, and one closure cannot be). The server's own code uses [`Db`] / [`Tx`]
/// with a [`Sql`]; this stays for tests and benchmarks that reach sqlx directly (bulk fills,
/// raw checks of what was stored).
#[macro_export]
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}

/// The current time at the precision both engines keep (microseconds), so what a command
/// returns equals what a later read returns.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}

impl Db {
    /// Connects to `url` (`sqlite://path` or `postgres://…`) with the default [`Limits`].
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, Limits::default()).await
    }

    /// Connects to `url`; on PostgreSQL every connection gets `limits`.
    pub async fn connect_with(url: &str, limits: Limits) -> Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let ms = |d: Option<Duration>| d.map_or(0, |d| d.as_millis()).to_string();
            let options = sqlx::postgres::PgConnectOptions::from_str(url)
                .context("bad PostgreSQL URL")?
                .options([
                    ("lock_timeout", ms(limits.lock_timeout)),
                    ("statement_timeout", ms(limits.statement_timeout)),
                ]);
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .context("cannot connect to PostgreSQL")?;
            Ok(Db::Postgres(pool))
        } else if url.starts_with("sqlite:") {
            // WAL lets readers run beside the writer; synchronous=FULL makes every acknowledged
            // commit survive a crash or power loss.
            let options = SqliteConnectOptions::from_str(url)
                .with_context(|| format!("bad SQLite URL {url}"))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                // Reads through a memory map share the OS page cache between the pool's
                // connections (each has its own small page cache otherwise): searches stop
                // paying a system call per index page.
                .pragma("mmap_size", "268435456")
                .pragma("cache_size", "-16384")
                // Keeps the planner's statistics fresh (search filters rely on them).
                .optimize_on_close(true, None);
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await
                .with_context(|| format!("cannot open SQLite database {url}"))?;
            Ok(Db::Sqlite(pool))
        } else {
            anyhow::bail!("EVENTHUB_DATABASE_URL must start with sqlite:// or postgres://")
        }
    }

    /// Applies the engine's migrations (`migrations/sqlite` or `migrations/postgres`).
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Db::Sqlite(pool) => {
                sqlx::migrate!("../migrations/sqlite").run(pool).await?;
                sqlx::query("PRAGMA optimize=0x10002")
                    .execute(pool)
                    .await
                    .map(|_| ())
                    .map_err(Into::into)
            }
            Db::Postgres(pool) => sqlx::migrate!("../migrations/postgres").run(pool).await,
        }
        .context("database migration failed")
    }

    /// Cheap liveness check for `/readyz`.
    pub async fn ping(&self) -> Result<()> {
        self.execute(Sql::new("SELECT 1")).await?;
        Ok(())
    }

    /// The pool's connections now: (in use, idle).
    pub fn connections(&self) -> (u32, u32) {
        let (size, idle) = on_db!(self, pool => (pool.size(), pool.num_idle()));
        let idle = u32::try_from(idle).unwrap_or(u32::MAX);
        (size.saturating_sub(idle), idle)
    }

    pub fn engine(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }
}

/// A row type both engines can decode (`#[derive(sqlx::FromRow)]` structs and tuples).
pub trait Row:
    for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin
{
}
impl<T> Row for T where
    T: for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin
{
}

/// A single column value both engines can decode (`i64`, `String`, `bool`, times, options).
pub trait Scalar:
    for<'r> sqlx::Decode<'r, sqlx::Sqlite>
    + sqlx::Type<sqlx::Sqlite>
    + for<'r> sqlx::Decode<'r, sqlx::Postgres>
    + sqlx::Type<sqlx::Postgres>
    + Send
    + Unpin
{
}
impl<T> Scalar for T where
    T: for<'r> sqlx::Decode<'r, sqlx::Sqlite>
        + sqlx::Type<sqlx::Sqlite>
        + for<'r> sqlx::Decode<'r, sqlx::Postgres>
        + sqlx::Type<sqlx::Postgres>
        + Send
        + Unpin
{
}

fn sqlite_args(args: &[Arg]) -> Result<SqliteArguments<'_>, sqlx::Error> {
    let mut out = SqliteArguments::default();
    for arg in args {
        match arg {
            Arg::Int(v) => out.add(*v),
            Arg::Bool(v) => out.add(*v),
            Arg::Text(v) => out.add(v.as_str()),
            Arg::Time(v) => out.add(*v),
            Arg::Null(Kind::Int) => out.add(None::<i64>),
            Arg::Null(Kind::Text) => out.add(None::<&str>),
            Arg::Null(Kind::Time) => out.add(None::<chrono::DateTime<chrono::Utc>>),
        }
        .map_err(sqlx::Error::Encode)?;
    }
    Ok(out)
}

fn pg_args(args: &[Arg]) -> Result<PgArguments, sqlx::Error> {
    let mut out = PgArguments::default();
    for arg in args {
        match arg {
            Arg::Int(v) => out.add(*v),
            Arg::Bool(v) => out.add(*v),
            Arg::Text(v) => out.add(v.as_str()),
            Arg::Time(v) => out.add(*v),
            Arg::Null(Kind::Int) => out.add(None::<i64>),
            Arg::Null(Kind::Text) => out.add(None::<&str>),
            Arg::Null(Kind::Time) => out.add(None::<chrono::DateTime<chrono::Utc>>),
        }
        .map_err(sqlx::Error::Encode)?;
    }
    Ok(out)
}

/// One transaction on either engine. Storage code takes `tx: &mut Tx<'_>` and runs each
/// statement through it; dropping it without [`Tx::commit`] rolls back.
pub enum Tx<'c> {
    Sqlite(sqlx::Transaction<'c, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'c, sqlx::Postgres>),
}

impl Tx<'_> {
    /// Runs a statement; answers how many rows it changed.
    pub async fn execute(&mut self, sql: Sql) -> Result<u64, sqlx::Error> {
        Ok(match self {
            Tx::Sqlite(tx) => {
                let args = sqlite_args(&sql.args)?;
                sqlx::query_with(&sql.text, args)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected()
            }
            Tx::Postgres(tx) => {
                let args = pg_args(&sql.args)?;
                sqlx::query_with(&sql.text, args)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected()
            }
        })
    }

    pub async fn fetch_optional<T: Row>(&mut self, sql: Sql) -> Result<Option<T>, sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => {
                let args = sqlite_args(&sql.args)?;
                sqlx::query_as_with(&sql.text, args)
                    .fetch_optional(&mut **tx)
                    .await
            }
            Tx::Postgres(tx) => {
                let args = pg_args(&sql.args)?;
                sqlx::query_as_with(&sql.text, args)
                    .fetch_optional(&mut **tx)
                    .await
            }
        }
    }

    pub async fn fetch_one<T: Row>(&mut self, sql: Sql) -> Result<T, sqlx::Error> {
        self.fetch_optional(sql)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }

    pub async fn fetch_all<T: Row>(&mut self, sql: Sql) -> Result<Vec<T>, sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => {
                let args = sqlite_args(&sql.args)?;
                sqlx::query_as_with(&sql.text, args)
                    .fetch_all(&mut **tx)
                    .await
            }
            Tx::Postgres(tx) => {
                let args = pg_args(&sql.args)?;
                sqlx::query_as_with(&sql.text, args)
                    .fetch_all(&mut **tx)
                    .await
            }
        }
    }

    /// The first column of the one row a statement returns (`RETURNING id`, `COUNT(*)`).
    pub async fn scalar<T: Scalar>(&mut self, sql: Sql) -> Result<T, sqlx::Error> {
        Ok(self.fetch_one::<(T,)>(sql).await?.0)
    }

    /// The first column of the row a statement returns, if it returns one.
    pub async fn scalar_optional<T: Scalar>(&mut self, sql: Sql) -> Result<Option<T>, sqlx::Error> {
        Ok(self.fetch_optional::<(T,)>(sql).await?.map(|(v,)| v))
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
    }

    /// What follows a `SELECT` that locks the rows it reads until the commit: `FOR UPDATE` on
    /// PostgreSQL; nothing on SQLite, whose write transaction already holds the database.
    pub fn row_lock(&self) -> &'static str {
        match self {
            Tx::Sqlite(_) => "",
            Tx::Postgres(_) => " FOR UPDATE",
        }
    }
}

/// The same five ways of running a [`Sql`] on the pool, each statement on its own.
impl Db {
    /// A transaction (every one here writes): on SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so it never fails half-way for a lock another writer took first —
    /// a deferred one that read first gets `database is locked` at its first write, whatever
    /// the busy timeout, when another connection wrote in between.
    pub async fn begin_write(&self) -> Result<Tx<'static>, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    pub async fn execute(&self, sql: Sql) -> Result<u64, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(pool) => {
                let args = sqlite_args(&sql.args)?;
                sqlx::query_with(&sql.text, args)
                    .execute(pool)
                    .await?
                    .rows_affected()
            }
            Db::Postgres(pool) => {
                let args = pg_args(&sql.args)?;
                sqlx::query_with(&sql.text, args)
                    .execute(pool)
                    .await?
                    .rows_affected()
            }
        })
    }

    pub async fn fetch_optional<T: Row>(&self, sql: Sql) -> Result<Option<T>, sqlx::Error> {
        match self {
            Db::Sqlite(pool) => {
                let args = sqlite_args(&sql.args)?;
                sqlx::query_as_with(&sql.text, args)
                    .fetch_optional(pool)
                    .await
            }
            Db::Postgres(pool) => {
                let args = pg_args(&sql.args)?;
                sqlx::query_as_with(&sql.text, args)
                    .fetch_optional(pool)
                    .await
            }
        }
    }

    pub async fn fetch_one<T: Row>(&self, sql: Sql) -> Result<T, sqlx::Error> {
        self.fetch_optional(sql)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }

    pub async fn fetch_all<T: Row>(&self, sql: Sql) -> Result<Vec<T>, sqlx::Error> {
        match self {
            Db::Sqlite(pool) => {
                let args = sqlite_args(&sql.args)?;
                sqlx::query_as_with(&sql.text, args).fetch_all(pool).await
            }
            Db::Postgres(pool) => {
                let args = pg_args(&sql.args)?;
                sqlx::query_as_with(&sql.text, args).fetch_all(pool).await
            }
        }
    }

    pub async fn scalar<T: Scalar>(&self, sql: Sql) -> Result<T, sqlx::Error> {
        Ok(self.fetch_one::<(T,)>(sql).await?.0)
    }

    pub async fn scalar_optional<T: Scalar>(&self, sql: Sql) -> Result<Option<T>, sqlx::Error> {
        Ok(self.fetch_optional::<(T,)>(sql).await?.map(|(v,)| v))
    }
}
