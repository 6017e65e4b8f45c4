//! Durable jobs on either database: the outbox a command writes in its own transaction
//! ([`enqueue`]) and the queue workers take it from ([`Jobs`], [`worker`]).
//!
//! A job is `pending` until its `run_at`, then claimed by one statement (PostgreSQL: `UPDATE …
//! WHERE id = (SELECT … FOR UPDATE SKIP LOCKED)`; SQLite: the same atomic `UPDATE … RETURNING`,
//! writers being serialised), higher priority first. A claim is a lease: the job is `running`
//! for one worker until `lease_until`; a worker that dies loses it, and the next claim anywhere
//! puts the job back (counting the lost run as a failed attempt). A failed attempt waits an
//! exponential backoff with jitter ([`Backoff`]); after `max_attempts` the job is `dead`, with
//! its last error, until an operator retries or discards it. A `dedupe_key` is unique: a second
//! enqueue with it does nothing. Every function takes `now`, so tests move time themselves.
//!
//! Runs at least once: a handler may run again after a lost lease or an answer lost on its way
//! back, so every handler is written so that a second run changes nothing visible.
//!
//! For operators: listings by state and kind, the depth by kind × state, the oldest due job's
//! age, the running jobs with their workers; retry and discard of dead jobs (audited); done jobs
//! pruned after [`Settings::keep_done`]. Waking: on PostgreSQL [`enqueue`] sends `NOTIFY
//! eventhub_jobs` (delivered at commit) and each worker process listens ([`worker`]); in one
//! process [`Jobs::enqueue`] also wakes the local workers after its commit. A free [`enqueue`]
//! inside a caller's SQLite transaction cannot see the commit, so SQLite workers find those jobs
//! at their next poll ([`Settings::poll`]).
pub mod ops;
pub mod worker;

pub use worker::{Handler, Handlers, Workers};

use crate::db::{Db, Tx};
use crate::error::StoreResult;
use crate::sql::Sql;
use app::auth::UserId;
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// The PostgreSQL channel [`enqueue`] notifies and workers listen on.
pub const CHANNEL: &str = "eventhub_jobs";

/// Jobs a listing page shows.
pub const PER_PAGE: u32 = 50;

/// Done jobs deleted by one prune statement (a prune runs such batches until none is left).
const PRUNE_BATCH: i64 = 1_000;

/// How often a process prunes (one of its workers, when idle).
const PRUNE_EVERY: TimeDelta = TimeDelta::minutes(10);

/// The queue's settings (`EVENTHUB_JOBS_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// How long an idle worker waits before it looks again when nothing wakes it
    /// (`EVENTHUB_JOBS_POLL_MS`, 1000).
    pub poll: Duration,
    /// Done jobs are deleted this long after they finished (`EVENTHUB_JOBS_KEEP_DONE_DAYS`, 7;
    /// `off` keeps them). Dead jobs stay until an operator retries or discards them.
    pub keep_done: Option<TimeDelta>,
    /// Whether worker processes on PostgreSQL listen for `NOTIFY eventhub_jobs`
    /// (`EVENTHUB_JOBS_LISTEN`, true).
    pub listen: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            poll: Duration::from_secs(1),
            keep_done: Some(TimeDelta::days(7)),
            listen: true,
        }
    }
}

impl Settings {
    /// From `EVENTHUB_JOBS_POLL_MS`, `EVENTHUB_JOBS_KEEP_DONE_DAYS`, `EVENTHUB_JOBS_LISTEN`.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let d = Settings::default();
        let poll = match crate::rate::parse_limit(
            "EVENTHUB_JOBS_POLL_MS",
            var("EVENTHUB_JOBS_POLL_MS").as_deref(),
            1_000,
        )? {
            Some(ms) if (1..=86_400_000).contains(&ms) => Duration::from_millis(ms),
            _ => anyhow::bail!("EVENTHUB_JOBS_POLL_MS must be 1 to 86400000 (milliseconds)"),
        };
        let keep_done = match crate::rate::parse_limit(
            "EVENTHUB_JOBS_KEEP_DONE_DAYS",
            var("EVENTHUB_JOBS_KEEP_DONE_DAYS").as_deref(),
            7,
        )? {
            None => None,
            Some(days) if days <= 36_500 => Some(TimeDelta::days(days as i64)),
            Some(_) => anyhow::bail!("EVENTHUB_JOBS_KEEP_DONE_DAYS must be at most 36500 or `off`"),
        };
        let listen = crate::rate::parse_flag(
            "EVENTHUB_JOBS_LISTEN",
            var("EVENTHUB_JOBS_LISTEN"),
            d.listen,
        )?;
        Ok(Settings {
            poll,
            keep_done,
            listen,
        })
    }
}

/// How many times a job runs before it is dead, unless its enqueue says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: i64 = 8;

/// The longest error text kept with a job.
const MAX_ERROR_LEN: usize = 2_000;

/// A job to write: built with [`NewJob::new`] and the setters.
#[derive(Clone, Debug, PartialEq)]
pub struct NewJob {
    pub kind: String,
    pub payload: serde_json::Value,
    /// Higher runs first (default 0).
    pub priority: i64,
    /// Not before this time.
    pub run_at: DateTime<Utc>,
    pub max_attempts: i64,
    /// Unique over all jobs: a second enqueue with the same key does nothing.
    pub dedupe_key: Option<String>,
}

impl NewJob {
    /// A job of `kind` due at `now`, priority 0, [`DEFAULT_MAX_ATTEMPTS`], no dedupe key.
    pub fn new(kind: &str, payload: serde_json::Value, now: DateTime<Utc>) -> Self {
        NewJob {
            kind: kind.to_owned(),
            payload,
            priority: 0,
            run_at: now,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            dedupe_key: None,
        }
    }

    pub fn priority(self, priority: i64) -> Self {
        NewJob { priority, ..self }
    }

    pub fn run_at(self, run_at: DateTime<Utc>) -> Self {
        NewJob { run_at, ..self }
    }

    /// At least one.
    pub fn max_attempts(self, max_attempts: i64) -> Self {
        NewJob {
            max_attempts: max_attempts.max(1),
            ..self
        }
    }

    pub fn dedupe_key(self, key: impl Into<String>) -> Self {
        NewJob {
            dedupe_key: Some(key.into()),
            ..self
        }
    }
}

/// Where a job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JobState {
    Pending,
    Running,
    Done,
    /// Failed its last attempt; waits for an operator's retry or discard.
    Dead,
}

impl JobState {
    pub const ALL: [JobState; 4] = [
        JobState::Pending,
        JobState::Running,
        JobState::Done,
        JobState::Dead,
    ];

    pub fn code(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Dead => "dead",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        JobState::ALL.into_iter().find(|s| s.code() == code)
    }
}

impl TryFrom<String> for JobState {
    type Error = String;
    fn try_from(code: String) -> Result<Self, Self::Error> {
        JobState::from_code(&code).ok_or_else(|| format!("unknown job state {code:?}"))
    }
}

/// A job as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    /// JSON text; [`Job::payload`] reads it.
    #[sqlx(rename = "payload")]
    pub payload_json: String,
    pub priority: i64,
    pub run_at: DateTime<Utc>,
    #[sqlx(try_from = "String")]
    pub state: JobState,
    /// Runs started so far (a claim counts one).
    pub attempts: i64,
    pub max_attempts: i64,
    pub lease_until: Option<DateTime<Utc>>,
    pub worker: Option<String>,
    pub last_error: Option<String>,
    pub dedupe_key: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, kind, payload, priority, run_at, state, attempts, max_attempts, \
                       lease_until, worker, last_error, dedupe_key, created_at, finished_at";

impl Job {
    /// The payload as `T`.
    pub fn payload<T: serde::de::DeserializeOwned>(&self) -> serde_json::Result<T> {
        serde_json::from_str(&self.payload_json)
    }
}

/// A claimed job: it is this worker's until `job.lease_until`, and only the holder of the
/// lease (the same worker, the same attempt) may complete or fail it.
#[derive(Clone, Debug)]
pub struct Lease {
    pub job: Job,
    pub worker: String,
}

/// What a failure did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Runs again, not before this time.
    RetryAt(DateTime<Utc>),
    /// That was the last attempt.
    Dead,
    /// The lease had expired and the job was taken back: nothing was changed.
    LeaseLost,
}

/// Delays between attempts: after the n-th failure, `d = min(cap, base · 2^(n−1))` and the
/// delay is `d/2 + jitter · d/2` ("equal jitter"): jobs that failed together spread out, and
/// while the doubling stays below the cap a delay is never shorter than the one before (each
/// lies between half its `d` and `d`, and the next `d` is twice this one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub base: TimeDelta,
    pub cap: TimeDelta,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: TimeDelta::seconds(15),
            cap: TimeDelta::hours(1),
        }
    }
}

impl Backoff {
    /// The wait after `failures` failed attempts (at least 1), `jitter` in `0.0..=1.0`.
    pub fn delay(&self, failures: i64, jitter: f64) -> TimeDelta {
        let doublings = u32::try_from(failures.clamp(1, 40) - 1).unwrap_or(0);
        let base_ms = self.base.num_milliseconds().max(1);
        let cap_ms = self.cap.num_milliseconds().max(base_ms);
        let full = base_ms
            .checked_mul(1_i64.checked_shl(doublings).unwrap_or(i64::MAX))
            .map_or(cap_ms, |ms| ms.min(cap_ms));
        let half = full / 2;
        let spread = (half as f64 * jitter.clamp(0.0, 1.0)).round() as i64;
        TimeDelta::milliseconds(full - half + spread)
    }
}

/// Writes `jobs` inside the caller's transaction: they exist if it commits and not if it rolls
/// back. One multi-row statement (per 500 jobs); a job whose dedupe key exists already is left
/// out. Answers how many were written. On PostgreSQL it also sends `NOTIFY eventhub_jobs`,
/// which the database delivers at the commit (and drops on a rollback), waking idle workers.
///
/// `eventhub_jobs_enqueued_total{kind}` counts the rows written here, including those of a
/// transaction that later rolls back (the booking writer's retried batches count twice).
pub async fn enqueue(tx: &mut Tx<'_>, jobs: &[NewJob], now: DateTime<Utc>) -> StoreResult<u64> {
    let mut by_kind: BTreeMap<String, u64> = BTreeMap::new();
    for chunk in jobs.chunks(500) {
        let kinds: Vec<(String,)> = tx.fetch_all(insert(chunk, now)).await?;
        for (kind,) in kinds {
            *by_kind.entry(kind).or_default() += 1;
        }
    }
    let written = by_kind.values().sum();
    if written > 0 && matches!(tx, Tx::Postgres(_)) {
        tx.execute(Sql::new("SELECT pg_notify($1, '')").arg(CHANNEL))
            .await?;
    }
    for (kind, n) in &by_kind {
        crate::metrics::pipeline().jobs_enqueued(kind, *n);
    }
    Ok(written)
}

fn insert(jobs: &[NewJob], now: DateTime<Utc>) -> Sql {
    let mut sql = Sql::new(
        "INSERT INTO jobs (created_at, kind, payload, priority, run_at, max_attempts, dedupe_key) VALUES ",
    );
    sql.args.push(now.into());
    for (i, job) in jobs.iter().enumerate() {
        sql.push(if i == 0 { "($1, " } else { ", ($1, " });
        sql.bind(job.kind.as_str())
            .push(", ")
            .bind(job.payload.to_string())
            .push(", ")
            .bind(job.priority)
            .push(", ")
            .bind(job.run_at)
            .push(", ")
            .bind(job.max_attempts.max(1))
            .push(", ")
            .bind(job.dedupe_key.as_deref())
            .push(")");
    }
    sql.push(" ON CONFLICT (dedupe_key) DO NOTHING RETURNING kind");
    sql
}

/// Counts of jobs per state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub pending: i64,
    pub running: i64,
    pub done: i64,
    pub dead: i64,
}

impl Counts {
    fn add(&mut self, state: JobState, n: i64) {
        match state {
            JobState::Pending => self.pending += n,
            JobState::Running => self.running += n,
            JobState::Done => self.done += n,
            JobState::Dead => self.dead += n,
        }
    }
}

/// Which jobs a listing shows: one state or all, one kind or all, a page (from 1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub state: Option<JobState>,
    pub kind: Option<String>,
    pub page: u32,
}

/// The queue at a glance: counts per state, per kind × state, and how long the oldest due job
/// has waited (zero when none is waiting).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Depth {
    pub counts: Counts,
    pub by_kind: Vec<(String, Counts)>,
    pub oldest_pending_age: TimeDelta,
}

/// The queue on the database.
#[derive(Clone, Debug)]
pub struct Jobs {
    db: Db,
    /// How long a claim holds a job (a handler gets three quarters of it).
    pub lease: TimeDelta,
    pub backoff: Backoff,
    pub settings: Settings,
    /// Wakes this process's idle workers (after a local enqueue, or a NOTIFY on PostgreSQL).
    wake: Arc<tokio::sync::Notify>,
    /// When this process prunes next (Unix milliseconds; 0: at the first idle moment).
    next_prune: Arc<AtomicI64>,
    /// PostgreSQL: whether this process's listener is listening for `NOTIFY eventhub_jobs`.
    pub(crate) listening: Arc<std::sync::atomic::AtomicBool>,
    /// How many of this process's workers wait for work now.
    pub(crate) idle: Arc<std::sync::atomic::AtomicUsize>,
}

/// One wake-up per process, shared by every [`Jobs`] in it, so code that enqueues inside its
/// own transaction (the booking writer, the fan-out) can wake the local workers after its
/// commit with [`wake_local`].
static LOCAL_WAKE: std::sync::LazyLock<Arc<tokio::sync::Notify>> =
    std::sync::LazyLock::new(|| Arc::new(tokio::sync::Notify::new()));

/// Wakes this process's idle workers: call after committing a transaction that enqueued jobs
/// with [`enqueue`] (on PostgreSQL the NOTIFY reaches other processes as well).
pub fn wake_local() {
    LOCAL_WAKE.notify_waiters();
}

impl Jobs {
    /// The queue with a two-minute lease, the default [`Backoff`] and [`Settings`].
    pub fn new(db: Db) -> Self {
        Jobs {
            db,
            lease: TimeDelta::minutes(2),
            backoff: Backoff::default(),
            settings: Settings::default(),
            wake: LOCAL_WAKE.clone(),
            next_prune: Arc::new(AtomicI64::new(0)),
            listening: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            idle: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
        }
    }

    /// How many of this process's workers wait for work now (their wake-up armed).
    pub fn idle_workers(&self) -> usize {
        self.idle.load(Ordering::SeqCst)
    }

    /// PostgreSQL: whether this process's workers hear `NOTIFY eventhub_jobs` now.
    pub fn listening(&self) -> bool {
        self.listening.load(Ordering::SeqCst)
    }

    /// The same queue with `settings`.
    pub fn with_settings(self, settings: Settings) -> Self {
        Jobs { settings, ..self }
    }

    /// The database the queue is on.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// What idle workers of this process wait on besides their poll.
    pub(crate) fn waker(&self) -> &Arc<tokio::sync::Notify> {
        &self.wake
    }

    /// Wakes this process's idle workers: call after committing a transaction that enqueued
    /// (PostgreSQL's NOTIFY does it for every process; on SQLite this is the only prompt way).
    pub fn wake(&self) {
        self.wake.notify_waiters();
    }

    /// Writes `jobs` in a transaction of their own (see [`enqueue`]) and wakes the local
    /// workers after the commit.
    pub async fn enqueue(&self, jobs: &[NewJob], now: DateTime<Utc>) -> StoreResult<u64> {
        let mut tx = self.db.begin_write().await?;
        let written = enqueue(&mut tx, jobs, now).await?;
        tx.commit().await?;
        if written > 0 {
            self.wake();
        }
        Ok(written)
    }

    /// Claims the most urgent due job of one of `kinds` for `worker` (higher priority first,
    /// then the earliest `run_at`), after taking back expired leases. `None` when nothing is due.
    pub async fn claim(
        &self,
        worker: &str,
        kinds: &[&str],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Lease>> {
        if kinds.is_empty() {
            return Ok(None);
        }
        self.expire_leases(now).await?;
        let mut pick =
            Sql::new("SELECT id FROM jobs WHERE state = 'pending' AND run_at <= $1 AND kind IN (");
        pick.args.push(now.into());
        for (i, kind) in kinds.iter().enumerate() {
            if i > 0 {
                pick.push(", ");
            }
            pick.bind(*kind);
        }
        pick.push(") ORDER BY priority DESC, run_at, id LIMIT 1");
        pick.push(self.skip_locked());
        let mut claim = Sql::new(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, worker = $1, \
             lease_until = $2 WHERE id = (",
        )
        .arg(worker)
        .arg(now + self.lease);
        claim.append(&pick);
        claim.push(&format!(") AND state = 'pending' RETURNING {COLUMNS}"));
        let job: Option<Job> = self.db.fetch_optional(claim).await?;
        Ok(job.map(|job| Lease {
            job,
            worker: worker.to_owned(),
        }))
    }

    /// PostgreSQL: rows another claim has locked are passed over, not waited for.
    fn skip_locked(&self) -> &'static str {
        match self.db {
            Db::Sqlite(_) => "",
            Db::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// The job is done. `false` when the lease was lost (another worker holds the job now).
    pub async fn complete(&self, lease: &Lease, now: DateTime<Utc>) -> StoreResult<bool> {
        let sql = Sql::new(
            "UPDATE jobs SET state = 'done', finished_at = $4, lease_until = NULL, last_error = NULL \
             WHERE id = $1 AND state = 'running' AND worker = $2 AND attempts = $3",
        )
        .arg(lease.job.id)
        .arg(lease.worker.as_str())
        .arg(lease.job.attempts)
        .arg(now);
        Ok(self.db.execute(sql).await? == 1)
    }

    /// The attempt failed with `error`: the job waits its backoff, or is dead after its last
    /// attempt.
    pub async fn fail(
        &self,
        lease: &Lease,
        error: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Failure> {
        let job = &lease.job;
        let (mut sql, failure) = self.failed(job.id, job.attempts, job.max_attempts, error, now);
        sql.push(" AND worker = ").bind(lease.worker.as_str());
        if self.db.execute(sql).await? == 1 {
            Ok(failure)
        } else {
            Ok(Failure::LeaseLost)
        }
    }

    /// The statement recording a failed attempt of a running job (guarded by the attempt
    /// number), and what it does.
    fn failed(
        &self,
        id: i64,
        attempts: i64,
        max_attempts: i64,
        error: &str,
        now: DateTime<Utc>,
    ) -> (Sql, Failure) {
        let error = truncate(error);
        let guard = " WHERE id = $1 AND state = 'running' AND attempts = $2";
        if attempts >= max_attempts {
            let sql = Sql::new(&format!(
                "UPDATE jobs SET state = 'dead', lease_until = NULL, last_error = $3, finished_at = $4{guard}"
            ))
            .arg(id)
            .arg(attempts)
            .arg(error)
            .arg(now);
            (sql, Failure::Dead)
        } else {
            let at = now + self.backoff.delay(attempts, rand::random::<f64>());
            let sql = Sql::new(&format!(
                "UPDATE jobs SET state = 'pending', lease_until = NULL, worker = NULL, last_error = $3, \
                 run_at = $4{guard}"
            ))
            .arg(id)
            .arg(attempts)
            .arg(error)
            .arg(at);
            (sql, Failure::RetryAt(at))
        }
    }

    /// Takes back the jobs whose lease ended before `now` (their worker died or stalled): each
    /// counts as a failed attempt. One read when there are none (the common case). Answers
    /// how many were taken back.
    pub async fn expire_leases(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        let expired: Vec<(i64, i64, i64, Option<String>)> = self
            .db
            .fetch_all(
                Sql::new(
                    "SELECT id, attempts, max_attempts, worker FROM jobs \
                     WHERE state = 'running' AND lease_until < $1 ORDER BY lease_until LIMIT 100",
                )
                .arg(now),
            )
            .await?;
        let mut taken = 0;
        for (id, attempts, max_attempts, worker) in expired {
            let error = format!(
                "the lease of worker {} expired before the job finished",
                worker.as_deref().unwrap_or("?")
            );
            let (mut sql, _) = self.failed(id, attempts, max_attempts, &error, now);
            // Guarded by the attempt: a concurrent take-back or a late completion wins once.
            sql.push(" AND lease_until < ").bind(now);
            taken += self.db.execute(sql).await?;
        }
        if taken > 0 {
            tracing::warn!(taken, "jobs taken back from workers whose lease expired");
        }
        Ok(taken)
    }

    /// A dead job runs again as soon as a worker is free, with all its attempts; `actor`'s
    /// audit entry (`job.retry`) is written in the same transaction. `false` when there is no
    /// dead job with that id.
    pub async fn retry(&self, actor: UserId, id: i64, now: DateTime<Utc>) -> StoreResult<bool> {
        let mut tx = self.db.begin_write().await?;
        let Some(dead) = dead_job(&mut tx, id).await? else {
            return Ok(false);
        };
        let sql = Sql::new(
            "UPDATE jobs SET state = 'pending', attempts = 0, run_at = $2, finished_at = NULL, \
             worker = NULL WHERE id = $1 AND state = 'dead'",
        )
        .arg(id)
        .arg(now);
        if tx.execute(sql).await? != 1 {
            return Ok(false);
        }
        crate::audit::record(&mut tx, actor, "job.retry", format!("job:{id}"), dead).await?;
        tx.commit().await?;
        self.wake();
        Ok(true)
    }

    /// Deletes a dead job (its dedupe key is free again); `actor`'s audit entry (`job.discard`,
    /// with the job's kind, payload and error) is written in the same transaction. `false`
    /// when there is no dead job with that id.
    pub async fn discard(&self, actor: UserId, id: i64) -> StoreResult<bool> {
        let mut tx = self.db.begin_write().await?;
        let Some(dead) = dead_job(&mut tx, id).await? else {
            return Ok(false);
        };
        let sql = Sql::new("DELETE FROM jobs WHERE id = $1 AND state = 'dead'").arg(id);
        if tx.execute(sql).await? != 1 {
            return Ok(false);
        }
        crate::audit::record(&mut tx, actor, "job.discard", format!("job:{id}"), dead).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A page of jobs: pending ones in the order they run, running ones by the end of their
    /// lease, done and dead ones the latest finished first, all states together newest first.
    /// Answers the page and whether another follows.
    pub async fn list(&self, filter: &Filter) -> StoreResult<(Vec<Job>, bool)> {
        let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM jobs WHERE 1 = 1"));
        if let Some(state) = filter.state {
            sql.push(" AND state = ").bind(state.code());
        }
        if let Some(kind) = &filter.kind {
            sql.push(" AND kind = ").bind(kind.as_str());
        }
        sql.push(match filter.state {
            Some(JobState::Pending) => " ORDER BY priority DESC, run_at, id",
            Some(JobState::Running) => " ORDER BY lease_until, id",
            Some(JobState::Done | JobState::Dead) => " ORDER BY finished_at DESC, id DESC",
            None => " ORDER BY id DESC",
        });
        let per_page = i64::from(PER_PAGE);
        let page = i64::from(filter.page.max(1));
        sql.push(" LIMIT ")
            .bind(per_page + 1)
            .push(" OFFSET ")
            .bind((page - 1) * per_page);
        let mut jobs: Vec<Job> = self.db.fetch_all(sql).await?;
        let more = jobs.len() > PER_PAGE as usize;
        jobs.truncate(PER_PAGE as usize);
        Ok((jobs, more))
    }

    /// Counts per kind × state and per state, and the oldest due pending job's age at `now`
    /// (jobs scheduled later are not waiting yet). Two statements over the indexes.
    pub async fn depth(&self, now: DateTime<Utc>) -> StoreResult<Depth> {
        let rows: Vec<(String, String, i64)> = self
            .db
            .fetch_all(Sql::new(
                "SELECT kind, state, CAST(COUNT(*) AS BIGINT) FROM jobs GROUP BY kind, state \
                 ORDER BY kind",
            ))
            .await?;
        let mut depth = Depth::default();
        for (kind, state, n) in rows {
            let Some(state) = JobState::from_code(&state) else {
                continue;
            };
            depth.counts.add(state, n);
            match depth.by_kind.last_mut() {
                Some((k, counts)) if *k == kind => counts.add(state, n),
                _ => {
                    let mut counts = Counts::default();
                    counts.add(state, n);
                    depth.by_kind.push((kind, counts));
                }
            }
        }
        depth.oldest_pending_age = self.oldest_pending_age(now).await?;
        Ok(depth)
    }

    /// How long the oldest due pending job has waited at `now` (since its `run_at`); zero
    /// when none is due.
    pub async fn oldest_pending_age(&self, now: DateTime<Utc>) -> StoreResult<TimeDelta> {
        let oldest: Option<DateTime<Utc>> = self
            .db
            .scalar_optional(
                Sql::new(
                    "SELECT run_at FROM jobs WHERE state = 'pending' AND run_at <= $1 \
                     ORDER BY run_at LIMIT 1",
                )
                .arg(now),
            )
            .await?;
        Ok(oldest.map_or(TimeDelta::zero(), |at| (now - at).max(TimeDelta::zero())))
    }

    /// The running jobs (at most 100), the soonest lease end first, with their workers.
    pub async fn running(&self) -> StoreResult<Vec<Job>> {
        let sql = Sql::new(&format!(
            "SELECT {COLUMNS} FROM jobs WHERE state = 'running' ORDER BY lease_until, id LIMIT 100"
        ));
        Ok(self.db.fetch_all(sql).await?)
    }

    /// Deletes the done jobs that finished before `before`, in batches of at most `batch`
    /// rows, until none is left; answers how many. Their dedupe keys are free again (the
    /// mails keep their own record, so a mail is still sent once).
    pub async fn prune(&self, before: DateTime<Utc>, batch: i64) -> StoreResult<u64> {
        let mut deleted = 0;
        loop {
            let sql = Sql::new(
                "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE state = 'done' \
                 AND finished_at < $1 ORDER BY id LIMIT $2)",
            )
            .arg(before)
            .arg(batch.max(1));
            let n = self.db.execute(sql).await?;
            deleted += n;
            if n < batch.max(1) as u64 {
                return Ok(deleted);
            }
            tokio::task::yield_now().await;
        }
    }

    /// Prunes ([`Jobs::prune`], [`Settings::keep_done`]) when this process's turn has come
    /// (every ten minutes, one idle worker); answers how many were deleted.
    pub async fn prune_if_due(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        let Some(keep) = self.settings.keep_done else {
            return Ok(0);
        };
        let due = self.next_prune.load(Ordering::Relaxed);
        let at = now.timestamp_millis();
        if at < due {
            return Ok(0);
        }
        let next = at + PRUNE_EVERY.num_milliseconds();
        if self
            .next_prune
            .compare_exchange(due, next, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return Ok(0);
        }
        let deleted = self.prune(now - keep, PRUNE_BATCH).await?;
        if deleted > 0 {
            tracing::info!(deleted, "done jobs pruned");
        }
        Ok(deleted)
    }

    pub async fn get(&self, id: i64) -> StoreResult<Option<Job>> {
        let sql = Sql::new(&format!("SELECT {COLUMNS} FROM jobs WHERE id = $1")).arg(id);
        Ok(self.db.fetch_optional(sql).await?)
    }

    /// The job with this dedupe key.
    pub async fn find(&self, dedupe_key: &str) -> StoreResult<Option<Job>> {
        let sql =
            Sql::new(&format!("SELECT {COLUMNS} FROM jobs WHERE dedupe_key = $1")).arg(dedupe_key);
        Ok(self.db.fetch_optional(sql).await?)
    }

    /// Sets `gauges` from the queue as the database holds it (two cheap statements); on a
    /// database error the last values stay and the error is logged.
    pub async fn report(&self, gauges: &crate::metrics::QueueGauges) {
        let counts = match self.counts().await {
            Ok(counts) => counts,
            Err(error) => {
                tracing::warn!(%error, "the job queue's depth could not be read for /metrics");
                return;
            }
        };
        let age = match self.oldest_pending_age(crate::db::now()).await {
            Ok(age) => age.num_milliseconds() as f64 / 1000.0,
            Err(error) => {
                tracing::warn!(%error, "the oldest job's age could not be read for /metrics");
                return;
            }
        };
        let depth = [
            ("pending", counts.pending),
            ("running", counts.running),
            ("done", counts.done),
            ("dead", counts.dead),
        ];
        gauges.set(&depth, age);
    }

    pub async fn counts(&self) -> StoreResult<Counts> {
        let rows: Vec<(String, i64)> = self
            .db
            .fetch_all(Sql::new(
                "SELECT state, CAST(COUNT(*) AS BIGINT) FROM jobs GROUP BY state",
            ))
            .await?;
        let mut counts = Counts::default();
        for (state, n) in rows {
            match JobState::from_code(&state) {
                Some(JobState::Pending) => counts.pending = n,
                Some(JobState::Running) => counts.running = n,
                Some(JobState::Done) => counts.done = n,
                Some(JobState::Dead) => counts.dead = n,
                None => {}
            }
        }
        Ok(counts)
    }
}

/// What an audit entry keeps of a dead job: its kind, payload and last error (the row locked
/// on PostgreSQL until the commit). `None` when there is no dead job with that id.
async fn dead_job(tx: &mut Tx<'_>, id: i64) -> StoreResult<Option<serde_json::Value>> {
    let sql = Sql::new(&format!(
        "SELECT kind, payload, attempts, last_error FROM jobs WHERE id = $1 AND state = 'dead'{}",
        tx.row_lock()
    ))
    .arg(id);
    let row: Option<(String, String, i64, Option<String>)> = tx.fetch_optional(sql).await?;
    Ok(row.map(|(kind, payload, attempts, last_error)| {
        serde_json::json!({
            "kind": kind,
            "payload": serde_json::from_str::<serde_json::Value>(&payload).unwrap_or(serde_json::Value::String(payload)),
            "attempts": attempts,
            "last_error": last_error,
        })
    }))
}

/// At most [`MAX_ERROR_LEN`] bytes, cut at a character boundary.
fn truncate(error: &str) -> &str {
    if error.len() <= MAX_ERROR_LEN {
        return error;
    }
    let mut end = MAX_ERROR_LEN;
    while !error.is_char_boundary(end) {
        end -= 1;
    }
    &error[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_its_jitter_and_stops_at_the_cap() {
        let b = Backoff {
            base: TimeDelta::seconds(10),
            cap: TimeDelta::seconds(100),
        };
        assert_eq!(b.delay(1, 0.0), TimeDelta::seconds(5));
        assert_eq!(b.delay(1, 1.0), TimeDelta::seconds(10));
        assert_eq!(b.delay(2, 0.0), TimeDelta::seconds(10));
        assert_eq!(b.delay(3, 0.5), TimeDelta::seconds(30));
        assert_eq!(b.delay(5, 1.0), TimeDelta::seconds(100));
        assert_eq!(b.delay(40, 0.0), TimeDelta::seconds(50));
        assert_eq!(b.delay(i64::MAX, 1.0), TimeDelta::seconds(100));
        // Below the cap, whatever the jitter, a delay is never shorter than the one before.
        for n in 1..4 {
            assert!(b.delay(n + 1, 0.0) >= b.delay(n, 1.0), "{n}");
        }
    }

    #[test]
    fn long_errors_are_cut_at_a_character_boundary() {
        let long = "ł".repeat(MAX_ERROR_LEN);
        let cut = truncate(&long);
        assert!(cut.len() <= MAX_ERROR_LEN && cut.len() >= MAX_ERROR_LEN - 1);
        assert_eq!(truncate("short"), "short");
    }

    #[test]
    fn a_batch_is_one_insert_sharing_its_time() {
        let now = chrono::Utc::now();
        let jobs = [
            NewJob::new("mail", serde_json::json!({"a": 1}), now),
            NewJob::new("mail", serde_json::json!({"a": 2}), now).dedupe_key("k"),
        ];
        let sql = insert(&jobs, now);
        assert_eq!(
            sql.text,
            "INSERT INTO jobs (created_at, kind, payload, priority, run_at, max_attempts, dedupe_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7), ($1, $8, $9, $10, $11, $12, $13) \
             ON CONFLICT (dedupe_key) DO NOTHING RETURNING kind"
        );
        assert_eq!(sql.args.len(), 13);
    }
}
