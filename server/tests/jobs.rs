//! The job queue on SQLite and PostgreSQL: the outbox follows its transaction, dedupe keys,
//! one run per job under racing workers (tasks, and two `eventhub worker` processes on one
//! PostgreSQL), lost leases, backoff and dead letters, order; what operators read (listings,
//! depth, the oldest due job's age under a moved clock), audited retry and discard, pruning,
//! and workers woken before their poll (locally, and by NOTIFY on PostgreSQL).
mod common;

use chrono::{TimeDelta, Utc};
use common::{Engine, state};
use server::jobs::worker::{Outcome, drain, run_one};
use server::jobs::{Failure, Filter, Handler, Handlers, Job, JobState, NewJob, Settings, Workers};
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

/// An admin account, the actor of retries and discards.
async fn admin(state: &server::AppState) -> app::auth::UserView {
    let new = app::auth::NewUser {
        email: format!("admin-{}@example.com", server::random_hex(4)),
        display_name: "Operator".into(),
        password: "granite-lily-42".into(),
    };
    state
        .accounts
        .create(new, app::auth::Role::Admin, Default::default())
        .await
        .expect("an admin")
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
        let admin = admin(&state).await;
        assert!(state.jobs.retry(admin.id, id, now).await.unwrap());
        assert!(!state.jobs.retry(admin.id, id, now).await.unwrap());
        assert_eq!(drain(&state.jobs, &handlers, now).await.unwrap(), 1);
        assert_eq!(state.jobs.get(id).await.unwrap().unwrap().state, JobState::Done);
        assert_eq!(*counting.runs.lock().unwrap().get(&id).unwrap(), 6);
        // Only dead jobs are discarded.
        assert!(!state.jobs.discard(admin.id, id).await.unwrap());
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

    async fn listings_filter_by_state_and_kind_and_the_oldest_age_counts_due_jobs_only(engine: Engine) {
        let (state, _db) = state(engine).await;
        let jobs = &state.jobs;
        let t0 = server::db::now();
        let other = |at| NewJob::new("other", serde_json::json!({}), at);
        jobs.enqueue(&[
            job(t0).dedupe_key("p-low"),
            job(t0 + TimeDelta::seconds(30)).priority(9).dedupe_key("p-high-later"),
            job(t0 + TimeDelta::days(7)).dedupe_key("next-week"),
            other(t0).max_attempts(1).dedupe_key("o-dead"),
            other(t0).dedupe_key("o-running"),
        ], t0).await.unwrap();
        let id = |key: &'static str| async move { jobs.find(key).await.unwrap().unwrap().id };
        // One dead, one running (held by worker w until its lease ends).
        let dead = jobs.claim("w", &["other"], t0).await.unwrap().unwrap();
        assert_eq!(dead.job.id, id("o-dead").await);
        assert_eq!(jobs.fail(&dead, "no", t0).await.unwrap(), Failure::Dead);
        let running = jobs.claim("w", &["other"], t0).await.unwrap().unwrap();
        // At t0 only p-low is due (nothing has waited yet); a minute on, it waited 60 s, and the
        // job due at t0+30 s counts from then; next week's job never counts.
        assert_eq!(jobs.oldest_pending_age(t0).await.unwrap(), TimeDelta::zero());
        let t1 = t0 + TimeDelta::seconds(60);
        let depth = jobs.depth(t1).await.unwrap();
        assert_eq!(depth.oldest_pending_age, TimeDelta::seconds(60));
        assert_eq!((depth.counts.pending, depth.counts.running, depth.counts.done, depth.counts.dead), (3, 1, 0, 1));
        let by_kind: Vec<_> = depth.by_kind.iter().map(|(k, c)| (k.as_str(), c.pending, c.running, c.dead)).collect();
        assert_eq!(by_kind, [("other", 0, 1, 1), ("test", 3, 0, 0)]);
        // Pending in run order: priority first, then run_at.
        let (pending, more) = jobs.list(&Filter { state: Some(JobState::Pending), kind: None, page: 1 }).await.unwrap();
        assert!(!more);
        let order: Vec<_> = pending.iter().map(|j| j.dedupe_key.clone().unwrap()).collect();
        assert_eq!(order, ["p-high-later", "p-low", "next-week"]);
        let (of_kind, _) = jobs.list(&Filter { state: None, kind: Some("other".into()), page: 1 }).await.unwrap();
        assert_eq!(of_kind.iter().map(|j| j.id).collect::<Vec<_>>(), [id("o-running").await, id("o-dead").await]);
        let (dead_list, _) = jobs.list(&Filter { state: Some(JobState::Dead), kind: None, page: 1 }).await.unwrap();
        assert_eq!(dead_list.len(), 1);
        assert_eq!(dead_list[0].last_error.as_deref(), Some("no"));
        let (nothing, _) = jobs.list(&Filter { state: Some(JobState::Done), kind: Some("test".into()), page: 1 }).await.unwrap();
        assert!(nothing.is_empty());
        // The running job names its worker and lease.
        let held = jobs.running().await.unwrap();
        assert_eq!(held.len(), 1);
        assert_eq!((held[0].id, held[0].worker.as_deref()), (running.job.id, Some("w")));
        assert_eq!(held[0].lease_until, Some(t0 + jobs.lease));
        // Pages of 50, newest first overall.
        let many: Vec<NewJob> = (0..60).map(|_| job(t0)).collect();
        jobs.enqueue(&many, t0).await.unwrap();
        let (first, more) = jobs.list(&Filter { page: 1, ..Filter::default() }).await.unwrap();
        assert!(more && first.len() == 50 && first.windows(2).all(|w| w[0].id > w[1].id));
        let (second, more) = jobs.list(&Filter { page: 2, ..Filter::default() }).await.unwrap();
        assert!(!more);
        assert_eq!(second.len(), 15);
    }

    async fn retry_and_discard_write_the_admins_audit_entries_in_their_transaction(engine: Engine) {
        let (state, _db) = state(engine).await;
        let admin = admin(&state).await;
        let now = server::db::now();
        state.jobs.enqueue(&[job(now).max_attempts(1), job(now).max_attempts(1)], now).await.unwrap();
        let mut ids = Vec::new();
        for _ in 0..2 {
            let lease = state.jobs.claim("w", &["test"], now).await.unwrap().unwrap();
            assert_eq!(state.jobs.fail(&lease, "gone wrong", now).await.unwrap(), Failure::Dead);
            ids.push(lease.job.id);
        }
        let count = |action: &'static str, id: i64| {
            let db = state.db.clone();
            let actor = admin.id;
            async move {
                db.scalar::<i64>(server::sql::Sql::new(
                    "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE action = $1 AND target = $2 AND actor_id = $3",
                ).arg(action).arg(format!("job:{id}")).arg(actor)).await.unwrap()
            }
        };
        assert!(state.jobs.retry(admin.id, ids[0], now).await.unwrap());
        assert!(state.jobs.discard(admin.id, ids[1]).await.unwrap());
        assert_eq!(count("job.retry", ids[0]).await, 1);
        assert_eq!(count("job.discard", ids[1]).await, 1);
        // Nothing done, nothing written: a refused retry or discard leaves no entry.
        assert!(!state.jobs.retry(admin.id, ids[1], now).await.unwrap());
        assert!(!state.jobs.discard(admin.id, ids[0]).await.unwrap());
        assert_eq!(count("job.retry", ids[1]).await, 0);
        assert_eq!(count("job.discard", ids[0]).await, 0);
        let details: String = state.db.scalar(server::sql::Sql::new(
            "SELECT details FROM audit_log WHERE action = 'job.discard'",
        )).await.unwrap();
        let details: serde_json::Value = serde_json::from_str(&details).unwrap();
        assert_eq!(details["kind"], "test");
        assert_eq!(details["payload"], serde_json::json!({"n": 1}));
        assert_eq!(details["last_error"], "gone wrong");
    }

    async fn done_jobs_are_pruned_after_their_keep_in_batches_and_nothing_else(engine: Engine) {
        let (state, _db) = state(engine).await;
        let jobs = &state.jobs;
        let t0 = server::db::now();
        let many: Vec<NewJob> = (0..25).map(|_| job(t0)).collect();
        jobs.enqueue(&many, t0).await.unwrap();
        jobs.enqueue(&[job(t0).dedupe_key("old"), job(t0 + TimeDelta::days(30)).dedupe_key("later")], t0).await.unwrap();
        let counting = Arc::new(Counting::default());
        assert_eq!(drain(jobs, &handlers(&counting), t0).await.unwrap(), 26);
        // Four more done eight days later, and one dead.
        let t1 = t0 + TimeDelta::days(8);
        let fresh: Vec<NewJob> = (0..4).map(|_| job(t1)).collect();
        jobs.enqueue(&fresh, t1).await.unwrap();
        assert_eq!(drain(jobs, &handlers(&counting), t1).await.unwrap(), 4);
        counting.failing.store(true, std::sync::atomic::Ordering::SeqCst);
        jobs.enqueue(&[job(t1).max_attempts(1)], t1).await.unwrap();
        assert_eq!(drain(jobs, &handlers(&counting), t1).await.unwrap(), 1);
        counting.failing.store(false, std::sync::atomic::Ordering::SeqCst);
        // Keep 7 days at t1: the 26 old done jobs go, in batches of 10; the rest stay.
        assert_eq!(jobs.prune(t1 - TimeDelta::days(7), 10).await.unwrap(), 26);
        let counts = jobs.counts().await.unwrap();
        assert_eq!((counts.done, counts.dead, counts.pending), (4, 1, 1));
        // A pruned job's dedupe key is free again.
        assert_eq!(jobs.enqueue(&[job(t0).dedupe_key("old")], t0).await.unwrap(), 1);
        assert_eq!(drain(jobs, &handlers(&counting), t0).await.unwrap(), 1);
        // Through the workers' own check (Settings::keep_done, 7 days): once per turn.
        let t2 = t1 + TimeDelta::days(8);
        assert_eq!(jobs.prune_if_due(t2).await.unwrap(), 5);
        jobs.enqueue(&[job(t0)], t0).await.unwrap();
        assert_eq!(drain(jobs, &handlers(&counting), t0).await.unwrap(), 1);
        assert_eq!(jobs.prune_if_due(t2 + TimeDelta::minutes(1)).await.unwrap(), 0, "not its turn yet");
        let off = server::jobs::Jobs::new(state.db.clone()).with_settings(Settings { keep_done: None, ..Settings::default() });
        assert_eq!(off.prune_if_due(t2 + TimeDelta::minutes(11)).await.unwrap(), 0, "pruning is off");
        assert_eq!(jobs.prune_if_due(t2 + TimeDelta::minutes(11)).await.unwrap(), 1);
        let counts = jobs.counts().await.unwrap();
        assert_eq!((counts.done, counts.dead, counts.pending), (0, 1, 1));
    }

    async fn a_local_enqueue_wakes_an_idle_worker_long_before_its_poll(engine: Engine) {
        let (state, _db) = state(engine).await;
        let jobs = state.jobs.clone().with_settings(Settings { poll: std::time::Duration::from_secs(3600), listen: false, ..Settings::default() });
        let counting = Arc::new(Counting::default());
        let stop = tokio_util::sync::CancellationToken::new();
        let workers = Workers::start(&jobs, Arc::new(handlers(&counting)), 1, stop.clone());
        let now = server::db::now();
        for round in 0..2 {
            until(|| jobs.idle_workers() == 1, "the worker goes idle").await;
            jobs.enqueue(&[job(now)], now).await.unwrap();
            let done = round + 1;
            let probe = jobs.clone();
            until_async(move || { let probe = probe.clone(); async move { probe.counts().await.unwrap().done == done } }, "the job runs").await;
        }
        workers.stop().await;
        assert_eq!(counting.runs.lock().unwrap().len(), 2);
    }
}

/// Waits (bounded, checking often) until `ready` holds.
async fn until(ready: impl Fn() -> bool, what: &str) {
    for _ in 0..3000 {
        if ready() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("timed out waiting until {what}");
}

async fn until_async<F: std::future::Future<Output = bool>>(ready: impl Fn() -> F, what: &str) {
    for _ in 0..3000 {
        if ready().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("timed out waiting until {what}");
}

/// PostgreSQL: a job written by a free `enqueue` inside a transaction (no local wake-up)
/// reaches an idle worker through `NOTIFY eventhub_jobs` at the commit, though its poll is an
/// hour. Round one also outlasts the wake-up every (re)connection of the listener sends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_notify_wakes_an_idle_worker_long_before_its_poll() {
    let (state, _db) = state(Engine::Postgres).await;
    let jobs = state.jobs.clone().with_settings(Settings {
        poll: std::time::Duration::from_secs(3600),
        ..Settings::default()
    });
    let counting = Arc::new(Counting::default());
    let stop = tokio_util::sync::CancellationToken::new();
    let workers = Workers::start(&jobs, Arc::new(handlers(&counting)), 1, stop.clone());
    until(|| jobs.listening(), "the listener listens").await;
    // Another pool: nothing of this process's queue object is involved in the enqueue.
    let other = server::db::Db::connect(&state.config.database_url)
        .await
        .unwrap();
    for round in 0..2i64 {
        until(|| jobs.idle_workers() == 1, "the worker goes idle").await;
        let now = server::db::now();
        let mut tx = other.begin_write().await.unwrap();
        assert_eq!(
            server::jobs::enqueue(&mut tx, &[job(now)], now)
                .await
                .unwrap(),
            1
        );
        tx.commit().await.unwrap();
        let probe = jobs.clone();
        until_async(
            move || {
                let probe = probe.clone();
                async move { probe.counts().await.unwrap().done == round + 1 }
            },
            "the notified job runs",
        )
        .await;
    }
    workers.stop().await;
    assert_eq!(counting.runs.lock().unwrap().len(), 2);
}

/// PostgreSQL: two `eventhub worker` processes (two workers each) on one database race over
/// 1,000 jobs written at once: every job runs once (claimed once: one attempt, done), and
/// both processes take part. Each answers `/healthz` and `/metrics` on its own address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_worker_processes_on_one_postgresql_run_each_of_a_thousand_jobs_once() {
    use std::io::BufRead;
    let db = common::fresh_db(Engine::Postgres).await;
    let state = server::AppState::new(db.config.clone())
        .await
        .expect("state");
    let spawn = || {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_eventhub"))
            .arg("worker")
            .arg("--count")
            .arg("2")
            .env("EVENTHUB_DATA_DIR", &db.config.data_dir)
            .env("EVENTHUB_DATABASE_URL", &db.config.database_url)
            .env("EVENTHUB_SECRET_KEY", &db.config.secret_key.0)
            .env("RUST_LOG", "warn")
            .env("EVENTHUB_WORKER_ADDR", "127.0.0.1:0")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("start a worker process");
        // It prints its line once its workers run; the rest of its output is drained.
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        while !line.contains("job workers") {
            line.clear();
            assert!(
                out.read_line(&mut line).unwrap() > 0,
                "the worker process ended"
            );
        }
        std::thread::spawn(move || for _ in out.lines() {});
        let probes = line
            .trim()
            .rsplit_once("health and metrics on ")
            .map(|(_, url)| url.to_owned())
            .unwrap_or_else(|| panic!("the worker names its address: {line}"));
        (KillOnDrop(child), probes)
    };
    let (a, a_probes) = spawn();
    let (b, b_probes) = spawn();
    let now = server::db::now();
    let event = server::outbox::DomainEvent::new(
        server::outbox::EventType::EventPublished,
        app::events::EventId::from(1),
        serde_json::json!({}),
        now,
    );
    let payload = serde_json::to_value(&event).unwrap();
    let many: Vec<NewJob> = (0..1000)
        .map(|_| NewJob::new(server::outbox::KIND, payload.clone(), now))
        .collect();
    let mut tx = state.db.begin_write().await.unwrap();
    assert_eq!(
        server::jobs::enqueue(&mut tx, &many, now).await.unwrap(),
        1000
    );
    tx.commit().await.unwrap();
    let probe = state.jobs.clone();
    for _ in 0..1200 {
        if probe.counts().await.unwrap().done == 1000 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let rows: Vec<(i64, String, i64, Option<String>)> = state
        .db
        .fetch_all(server::sql::Sql::new(
            "SELECT id, state, attempts, worker FROM jobs",
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1000);
    assert!(
        rows.iter()
            .all(|(_, s, attempts, _)| s == "done" && *attempts == 1),
        "some job ran more than once or not at all"
    );
    let processes: std::collections::BTreeSet<String> = rows
        .iter()
        .filter_map(|(_, _, _, w)| w.as_deref()?.split('-').next().map(str::to_owned))
        .collect();
    let pids: std::collections::BTreeSet<String> =
        [&a, &b].iter().map(|c| c.0.id().to_string()).collect();
    assert_eq!(processes, pids, "both processes took jobs");
    for probes in [a_probes, b_probes] {
        let health = reqwest::get(format!("{probes}/healthz")).await.unwrap();
        assert_eq!(health.status(), 200);
        let metrics = reqwest::get(format!("{probes}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            metrics.contains("eventhub_jobs_processed_total{"),
            "{metrics}"
        );
        assert!(
            metrics.contains("process_resident_memory_bytes"),
            "{metrics}"
        );
    }
    drop((a, b));
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
