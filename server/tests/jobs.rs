//! The job queue on SQLite and PostgreSQL: the outbox follows its transaction, dedupe keys,
//! one run per job under racing workers, lost leases, backoff and dead letters, order.
mod common;

use chrono::{TimeDelta, Utc};
use common::{Engine, state};
use server::jobs::worker::{Outcome, drain, run_one};
use server::jobs::{Failure, Handler, Handlers, Job, JobState, NewJob};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Counts the runs of each job; fails while `failing` is set.
#[derive(Default)]
struct Counting {
    runs: Mutex<HashMap<i64, u32>>,
    order: Mutex<Vec<i64>>,
    failing: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl Handler for Counting {
    async fn run(&self, job: &Job) -> anyhow::Result<()> {
        *self.runs.lock().unwrap().entry(job.id).or_default() += 1;
        self.order.lock().unwrap().push(job.id);
        if self.failing.load(std::sync::atomic::Ordering::SeqCst) {
            anyhow::bail!("the test handler fails on purpose");
        }
        Ok(())
    }
}

fn handlers(counting: &Arc<Counting>) -> Handlers {
    Handlers::new().with("test", counting.clone())
}

fn job(now: chrono::DateTime<Utc>) -> NewJob {
    NewJob::new("test", serde_json::json!({"n": 1}), now)
}

on_both_engines! {
    async fn a_job_exists_only_if_its_transaction_commits(engine: Engine) {
        let (state, _db) = state(engine).await;
        let now = server::db::now();
        let mut tx = state.db.begin_write().await.unwrap();
        assert_eq!(server::jobs::enqueue(&mut tx, &[job(now)], now).await.unwrap(), 1);
        drop(tx);
        assert_eq!(state.jobs.counts().await.unwrap().pending, 0);
        let mut tx = state.db.begin_write().await.unwrap();
        server::jobs::enqueue(&mut tx, &[job(now)], now).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(state.jobs.counts().await.unwrap().pending, 1);
    }

    async fn a_second_enqueue_with_the_same_dedupe_key_does_nothing(engine: Engine) {
        let (state, _db) = state(engine).await;
        let now = server::db::now();
        let first = job(now).dedupe_key("reminder:7");
        assert_eq!(state.jobs.enqueue(&[first.clone(), job(now)], now).await.unwrap(), 2);
        assert_eq!(state.jobs.enqueue(std::slice::from_ref(&first), now).await.unwrap(), 0);
        // Also within one batch, and after the first one is done.
        let counting = Arc::new(Counting::default());
        assert_eq!(drain(&state.jobs, &handlers(&counting), now).await.unwrap(), 2);
        assert_eq!(state.jobs.enqueue(&[first, job(now).dedupe_key("x"), job(now).dedupe_key("x")], now).await.unwrap(), 1);
        assert_eq!(state.jobs.counts().await.unwrap().done, 2);
        assert_eq!(state.jobs.find("reminder:7").await.unwrap().unwrap().state, JobState::Done);
    }

    async fn two_workers_racing_over_a_thousand_jobs_run_each_once(engine: Engine) {
        let (state, _db) = state(engine).await;
        let now = server::db::now();
        let many: Vec<NewJob> = (0..1000).map(|_| job(now)).collect();
        assert_eq!(state.jobs.enqueue(&many, now).await.unwrap(), 1000);
        let counting = Arc::new(Counting::default());
        let handlers = Arc::new(handlers(&counting));
        let racers: Vec<_> = ["a", "b"].into_iter().map(|name| {
            let jobs = state.jobs.clone();
            let handlers = handlers.clone();
            tokio::spawn(async move {
                let mut ran = 0;
                while let Some((_, outcome)) = run_one(&jobs, &handlers, name, server::db::now()).await.unwrap() {
                    assert_eq!(outcome, Outcome::Done);
                    ran += 1;
                }
                ran
            })
        }).collect();
        let mut total = 0;
        for racer in racers {
            total += racer.await.unwrap();
        }
        assert_eq!(total, 1000);
        {
            let runs = counting.runs.lock().unwrap();
            assert_eq!(runs.len(), 1000);
            assert!(runs.values().all(|n| *n == 1));
        }
        assert_eq!(state.jobs.counts().await.unwrap().done, 1000);
    }

    async fn a_job_whose_lease_expires_runs_again_once(engine: Engine) {
        let (state, _db) = state(engine).await;
        let t0 = server::db::now();
        state.jobs.enqueue(&[job(t0)], t0).await.unwrap();
        // Worker A claims it and dies.
        let lost = state.jobs.claim("a", &["test"], t0).await.unwrap().unwrap();
        assert_eq!(lost.job.attempts, 1);
        let counting = Arc::new(Counting::default());
        let handlers = handlers(&counting);
        // Within the lease nobody else gets it.
        let within = t0 + state.jobs.lease - TimeDelta::seconds(1);
        assert!(run_one(&state.jobs, &handlers, "b", within).await.unwrap().is_none());
        // After it, the job is taken back (a failed attempt, with its backoff) and runs once.
        let after = t0 + state.jobs.lease + TimeDelta::seconds(1);
        assert!(run_one(&state.jobs, &handlers, "b", after).await.unwrap().is_none());
        let back = state.jobs.get(lost.job.id).await.unwrap().unwrap();
        assert_eq!(back.state, JobState::Pending);
        assert!(back.last_error.unwrap().contains("lease"));
        let later = back.run_at;
        let (ran, outcome) = run_one(&state.jobs, &handlers, "b", later).await.unwrap().unwrap();
        assert_eq!((ran.id, outcome, ran.attempts), (lost.job.id, Outcome::Done, 2));
        // The dead worker's late answer changes nothing.
        assert!(!state.jobs.complete(&lost, later).await.unwrap());
        assert_eq!(state.jobs.fail(&lost, "late", later).await.unwrap(), Failure::LeaseLost);
        assert!(drain(&state.jobs, &handlers, later + TimeDelta::days(1)).await.unwrap() == 0);
        assert_eq!(*counting.runs.lock().unwrap().get(&lost.job.id).unwrap(), 1);
        assert_eq!(state.jobs.get(lost.job.id).await.unwrap().unwrap().state, JobState::Done);
    }

    async fn retry_delays_grow_then_the_job_is_dead_and_a_retry_runs_it(engine: Engine) {
        let (state, _db) = state(engine).await;
        let mut now = server::db::now();
        let id_job = job(now).max_attempts(5);
        state.jobs.enqueue(&[id_job], now).await.unwrap();
        let counting = Arc::new(Counting::default());
        counting.failing.store(true, std::sync::atomic::Ordering::SeqCst);
        let handlers = handlers(&counting);
        let mut delays = Vec::new();
        let mut id = 0;
        for attempt in 1..=5 {
            let (ran, outcome) = run_one(&state.jobs, &handlers, "w", now).await.unwrap().unwrap();
            id = ran.id;
            assert_eq!(ran.attempts, attempt);
            match outcome {
                Outcome::Failed(Failure::RetryAt(at)) => {
                    assert!(attempt < 5);
                    // Not before its time.
                    assert!(run_one(&state.jobs, &handlers, "w", at - TimeDelta::milliseconds(1)).await.unwrap().is_none());
                    delays.push(at - now);
                    now = at;
                }
                Outcome::Failed(Failure::Dead) => assert_eq!(attempt, 5),
                other => panic!("attempt {attempt}: {other:?}"),
            }
        }
        assert_eq!(delays.len(), 4);
        assert!(delays.windows(2).all(|w| w[1] >= w[0]), "{delays:?}");
        assert!(delays[3] > delays[0], "{delays:?}");
        let dead = state.jobs.get(id).await.unwrap().unwrap();
        assert_eq!(dead.state, JobState::Dead);
        assert!(dead.last_error.unwrap().contains("fails on purpose"));
        assert!(drain(&state.jobs, &handlers, now + TimeDelta::days(30)).await.unwrap() == 0);
        // From the dead letters: it runs again, and this time it works.
        counting.failing.store(false, std::sync::atomic::Ordering::SeqCst);
        assert!(state.jobs.retry(id, now).await.unwrap());
        assert!(!state.jobs.retry(id, now).await.unwrap());
        assert_eq!(drain(&state.jobs, &handlers, now).await.unwrap(), 1);
        assert_eq!(state.jobs.get(id).await.unwrap().unwrap().state, JobState::Done);
        assert_eq!(*counting.runs.lock().unwrap().get(&id).unwrap(), 6);
        // Only dead jobs are discarded.
        assert!(!state.jobs.discard(id).await.unwrap());
    }

    async fn higher_priority_runs_first_and_nothing_runs_before_its_time(engine: Engine) {
        let (state, _db) = state(engine).await;
        let now = server::db::now();
        let later = now + TimeDelta::minutes(10);
        state.jobs.enqueue(&[
            job(now).dedupe_key("low"),
            job(now).priority(5).dedupe_key("high"),
            job(later).priority(100).dedupe_key("delayed"),
            job(now - TimeDelta::seconds(5)).dedupe_key("low-older"),
            NewJob::new("other-kind", serde_json::json!({}), now).priority(1000).dedupe_key("other"),
        ], now).await.unwrap();
        let id = |key: &'static str| {
            let jobs = state.jobs.clone();
            async move { jobs.find(key).await.unwrap().unwrap().id }
        };
        let counting = Arc::new(Counting::default());
        let handlers = handlers(&counting);
        assert_eq!(drain(&state.jobs, &handlers, now).await.unwrap(), 3);
        let expected = vec![id("high").await, id("low-older").await, id("low").await];
        assert_eq!(*counting.order.lock().unwrap(), expected);
        assert_eq!(drain(&state.jobs, &handlers, later).await.unwrap(), 1);
        let delayed = id("delayed").await;
        assert_eq!(counting.order.lock().unwrap().last(), Some(&delayed));
        // A kind without a handler here is left for a worker that has one.
        assert_eq!(state.jobs.find("other").await.unwrap().unwrap().state, JobState::Pending);
    }
}
