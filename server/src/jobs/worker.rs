//! Workers: tasks that claim jobs, run the handler registered for their kind, and record the
//! outcome. The server runs `EVENTHUB_WORKERS` of them; `eventhub worker` runs them as a
//! process of its own. A worker claims only the kinds it has a handler for, finishes the job
//! it holds when told to stop, and when nothing is due waits for its poll
//! ([`super::Settings::poll`], a second), a wake-up ([`super::Jobs::wake`]; on PostgreSQL a
//! `NOTIFY eventhub_jobs` relayed by one listener per process) or the stop. Idle workers also
//! prune the done jobs now and then ([`super::Jobs::prune_if_due`]).
use super::{Failure, Job, Jobs, Lease};
use crate::db::now;
use crate::error::StoreResult;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Does the work of one kind of job. It may run more than once for one job (a lost lease, a
/// lost answer), so a second run must change nothing visible (record what was done, check
/// first).
#[async_trait::async_trait]
pub trait Handler: Send + Sync {
    async fn run(&self, job: &Job) -> anyhow::Result<()>;
}

/// The handler of each kind.
#[derive(Clone, Default)]
pub struct Handlers {
    by_kind: BTreeMap<&'static str, Arc<dyn Handler>>,
}

impl Handlers {
    pub fn new() -> Self {
        Handlers::default()
    }

    /// Runs jobs of `kind` with `handler`.
    pub fn with(mut self, kind: &'static str, handler: Arc<dyn Handler>) -> Self {
        self.by_kind.insert(kind, handler);
        self
    }

    pub fn kinds(&self) -> Vec<&'static str> {
        self.by_kind.keys().copied().collect()
    }
}

/// What one run of a job came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Failed(Failure),
    /// Done, but the lease had expired meanwhile: the job was taken back and runs again.
    LeaseLost,
}

/// Claims one due job for `worker` and runs it, at `now`. `None` when nothing was due.
pub async fn run_one(
    jobs: &Jobs,
    handlers: &Handlers,
    worker: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<(Job, Outcome)>> {
    let kinds = handlers.kinds();
    let Some(lease) = jobs.claim(worker, &kinds, now).await? else {
        return Ok(None);
    };
    let started = std::time::Instant::now();
    let result = run_handler(jobs, handlers, &lease).await;
    let took = started.elapsed();
    let outcome = finish(jobs, &lease, result, now).await?;
    let label = match &outcome {
        Outcome::Done => "done",
        Outcome::Failed(Failure::RetryAt(_)) => "retry",
        Outcome::Failed(Failure::Dead) => "dead",
        Outcome::Failed(Failure::LeaseLost) | Outcome::LeaseLost => "lease_lost",
    };
    crate::metrics::pipeline().job_processed(&lease.job.kind, label, took);
    Ok(Some((lease.job, outcome)))
}

/// Runs due jobs one after another until none is left at `now`; answers how many ran (tests
/// and one-off drains; a job that fails waits its backoff, so this ends).
pub async fn drain(jobs: &Jobs, handlers: &Handlers, now: DateTime<Utc>) -> StoreResult<usize> {
    let mut ran = 0;
    while run_one(jobs, handlers, "drain", now).await?.is_some() {
        ran += 1;
    }
    Ok(ran)
}

/// The handler's run, within three quarters of the lease (so it ends before the lease does).
async fn run_handler(jobs: &Jobs, handlers: &Handlers, lease: &Lease) -> anyhow::Result<()> {
    let Some(handler) = handlers.by_kind.get(lease.job.kind.as_str()) else {
        anyhow::bail!("no handler for jobs of kind {:?}", lease.job.kind);
    };
    let limit = (jobs.lease * 3 / 4)
        .to_std()
        .unwrap_or(Duration::from_secs(1));
    match tokio::time::timeout(limit, handler.run(&lease.job)).await {
        Ok(result) => result,
        Err(_) => anyhow::bail!("the handler took longer than {limit:?}"),
    }
}

async fn finish(
    jobs: &Jobs,
    lease: &Lease,
    result: anyhow::Result<()>,
    now: DateTime<Utc>,
) -> StoreResult<Outcome> {
    let job = &lease.job;
    match result {
        Ok(()) => {
            if jobs.complete(lease, now).await? {
                Ok(Outcome::Done)
            } else {
                tracing::warn!(job = job.id, kind = %job.kind, "a job finished after its lease expired");
                Ok(Outcome::LeaseLost)
            }
        }
        Err(error) => {
            let text = format!("{error:#}");
            let failure = jobs.fail(lease, &text, now).await?;
            match failure {
                Failure::Dead => {
                    tracing::error!(job = job.id, kind = %job.kind, attempts = job.attempts, error = %text, "a job failed its last attempt: dead");
                }
                Failure::RetryAt(at) => {
                    tracing::warn!(job = job.id, kind = %job.kind, attempts = job.attempts, error = %text, %at, "a job failed; it runs again later");
                }
                Failure::LeaseLost => {
                    tracing::warn!(job = job.id, kind = %job.kind, error = %text, "a job failed after its lease expired");
                }
            }
            Ok(Outcome::Failed(failure))
        }
    }
}

/// Runs jobs until `stop` is cancelled: claims, runs, records; when nothing is due (or the
/// database fails) prunes if its turn has come, then waits for the poll, a wake-up or the
/// stop. The wake-up is armed before the claim, so one that comes while the worker looks is
/// not lost. A job being run when `stop` is cancelled is finished first.
pub async fn work(jobs: Jobs, handlers: Arc<Handlers>, name: String, stop: CancellationToken) {
    tracing::debug!(worker = %name, kinds = ?handlers.kinds(), "worker started");
    let waker = jobs.waker().clone();
    while !stop.is_cancelled() {
        let woken = waker.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let idle = match run_one(&jobs, &handlers, &name, now()).await {
            Ok(Some(_)) => false,
            Ok(None) => true,
            Err(error) => {
                tracing::warn!(worker = %name, %error, "the job queue could not be read");
                true
            }
        };
        if idle {
            if let Err(error) = jobs.prune_if_due(now()).await {
                tracing::warn!(worker = %name, %error, "done jobs could not be pruned");
            }
            jobs.idle.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::select! {
                () = tokio::time::sleep(jobs.settings.poll) => {}
                () = &mut woken => {}
                () = stop.cancelled() => {}
            }
            jobs.idle.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        }
    }
    tracing::debug!(worker = %name, "worker stopped");
}

/// PostgreSQL: relays `NOTIFY eventhub_jobs` from any process to this process's idle workers,
/// until `stop`. Reconnects after an error (waiting a little more each time, at most 30 s) and
/// wakes the workers on every (re)connection, since a notification may have been missed
/// meanwhile; never fails the workers, which keep polling.
async fn listen(pool: sqlx::PgPool, jobs: Jobs, stop: CancellationToken) {
    let mut delay = Duration::from_millis(500);
    while !stop.is_cancelled() {
        let connected = async {
            let mut listener = sqlx::postgres::PgListener::connect_with(&pool).await?;
            listener.listen(super::CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        let mut listener = tokio::select! {
            result = connected => match result {
                Ok(listener) => listener,
                Err(error) => {
                    tracing::warn!(%error, ?delay, "the job listener cannot LISTEN; retrying");
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        () = stop.cancelled() => return,
                    }
                    delay = (delay * 2).min(Duration::from_secs(30));
                    continue;
                }
            },
            () = stop.cancelled() => return,
        };
        delay = Duration::from_millis(500);
        jobs.listening
            .store(true, std::sync::atomic::Ordering::SeqCst);
        jobs.wake();
        loop {
            tokio::select! {
                note = listener.recv() => match note {
                    Ok(_) => jobs.wake(),
                    Err(error) => {
                        tracing::warn!(%error, "the job listener stopped; reconnecting");
                        break;
                    }
                },
                () = stop.cancelled() => break,
            }
        }
        jobs.listening
            .store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Workers running in this process; cheap to clone. They stop when their token is cancelled
/// (the server's shutdown) or [`Workers::stop`] is called, which also waits until each has
/// finished the job it holds.
#[derive(Clone)]
pub struct Workers {
    stop: CancellationToken,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
    /// PostgreSQL: the task relaying `NOTIFY eventhub_jobs` to the workers.
    listener: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl Workers {
    /// Starts `count` workers (none for 0) over `jobs` with `handlers`, until `stop` is
    /// cancelled.
    pub fn start(
        jobs: &Jobs,
        handlers: Arc<Handlers>,
        count: usize,
        stop: CancellationToken,
    ) -> Self {
        let prefix = format!("{}-{}", std::process::id(), crate::random_hex(3));
        let mut listener = None;
        let tasks: Vec<JoinHandle<()>> = (0..count)
            .map(|i| {
                tokio::spawn(work(
                    jobs.clone(),
                    handlers.clone(),
                    format!("{prefix}-{i}"),
                    stop.clone(),
                ))
            })
            .collect();
        if count > 0 {
            if let (crate::db::Db::Postgres(pool), true) = (jobs.db(), jobs.settings.listen) {
                listener = Some(tokio::spawn(listen(
                    pool.clone(),
                    jobs.clone(),
                    stop.clone(),
                )));
            }
            tracing::info!(count, kinds = ?handlers.kinds(), "job workers started");
        }
        Workers {
            stop,
            tasks: Arc::new(Mutex::new(tasks)),
            listener: Arc::new(Mutex::new(listener)),
        }
    }

    /// How many workers run.
    pub fn count(&self) -> usize {
        self.tasks.lock().map_or(0, |t| t.len())
    }

    /// Tells every worker to stop and waits for them.
    pub async fn stop(&self) {
        self.stop.cancel();
        let mut tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|e| e.into_inner()));
        tasks.extend(
            self.listener
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take(),
        );
        for task in tasks {
            if let Err(error) = task.await {
                tracing::error!(%error, "a job worker ended abnormally");
            }
        }
    }
}
