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
pub mod worker;

pub use worker::{Handler, Handlers, Workers};

use crate::db::{Db, Tx};
use crate::error::StoreResult;
use crate::sql::Sql;
use chrono::{DateTime, TimeDelta, Utc};

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
/// out. Answers how many were written.
pub async fn enqueue(tx: &mut Tx<'_>, jobs: &[NewJob], now: DateTime<Utc>) -> StoreResult<u64> {
    let mut written = 0;
    for chunk in jobs.chunks(500) {
        written += tx.execute(insert(chunk, now)).await?;
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
    sql.push(" ON CONFLICT (dedupe_key) DO NOTHING");
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

/// The queue on the database.
#[derive(Clone, Debug)]
pub struct Jobs {
    db: Db,
    /// How long a claim holds a job (a handler gets three quarters of it).
    pub lease: TimeDelta,
    pub backoff: Backoff,
}

impl Jobs {
    /// The queue with a two-minute lease and the default [`Backoff`].
    pub fn new(db: Db) -> Self {
        Jobs {
            db,
            lease: TimeDelta::minutes(2),
            backoff: Backoff::default(),
        }
    }

    /// Writes `jobs` in a transaction of their own (see [`enqueue`]).
    pub async fn enqueue(&self, jobs: &[NewJob], now: DateTime<Utc>) -> StoreResult<u64> {
        let mut tx = self.db.begin_write().await?;
        let written = enqueue(&mut tx, jobs, now).await?;
        tx.commit().await?;
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

    /// A dead job runs again as soon as a worker is free, with all its attempts. `false` when
    /// there is no dead job with that id.
    pub async fn retry(&self, id: i64, now: DateTime<Utc>) -> StoreResult<bool> {
        let sql = Sql::new(
            "UPDATE jobs SET state = 'pending', attempts = 0, run_at = $2, finished_at = NULL, \
             worker = NULL WHERE id = $1 AND state = 'dead'",
        )
        .arg(id)
        .arg(now);
        Ok(self.db.execute(sql).await? == 1)
    }

    /// Deletes a dead job (its dedupe key is free again). `false` when there is no dead job
    /// with that id.
    pub async fn discard(&self, id: i64) -> StoreResult<bool> {
        let sql = Sql::new("DELETE FROM jobs WHERE id = $1 AND state = 'dead'").arg(id);
        Ok(self.db.execute(sql).await? == 1)
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
             ON CONFLICT (dedupe_key) DO NOTHING"
        );
        assert_eq!(sql.args.len(), 13);
    }
}
