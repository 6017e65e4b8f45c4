//! Job queue benchmark (issue #15), on SQLite and, when `EVENTHUB_BENCH_PG_URL` points at an
//! empty PostgreSQL database, on PostgreSQL:
//! - throughput: 5,000 jobs with a handler that does nothing, run by 1, 2 and 4 workers —
//!   what the queue itself costs (claim, lease, completion);
//! - latency: bookings made one after another at a steady pace with the server's own 2
//!   workers running, and for each the time from the booking's commit to its confirmation
//!   e-mail written to the mail folder (`mails.sent_at` − the registration's `created_at`,
//!   both written by the database's clock), p50 / p99 / max.
//!
//! Results go to `bench-results/jobs.md`. Run: `cargo bench -p server --bench jobs`.
use app::auth::{NewUser, Role};
use app::bookings::NewRegistration;
use app::bookings::ports::BookingCommands;
use app::events::ports::{EventCommands, EventQueries};
use app::i18n::Locale;
use chrono::{DateTime, Utc};
use server::config::{Config, Secret};
use server::jobs::{Handler, Handlers, Job, NewJob, Workers};
use server::{AppState, on_db};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

const JOBS: usize = 5_000;
const BOOKINGS: usize = 300;
/// The pace of the latency run: one booking every this long.
const PACE: Duration = Duration::from_millis(20);

struct Noop;

#[async_trait::async_trait]
impl Handler for Noop {
    async fn run(&self, _job: &Job) -> anyhow::Result<()> {
        Ok(())
    }
}

async fn state(
    database_url: &str,
    dir: &std::path::Path,
    workers: usize,
) -> anyhow::Result<AppState> {
    let mut config = Config::embedded(
        dir.to_path_buf(),
        database_url.replace("{dir}", &dir.display().to_string()),
        Secret("bench-secret-key-that-is-long-enough-000000".into()),
    )
    .at(
        "127.0.0.1:0".parse()?,
        "target/site".into(),
        "http://127.0.0.1".into(),
    );
    config.workers = workers;
    config.limits.booking = None;
    config.reminders.interval = None;
    AppState::new(config).await
}

/// Jobs per second with `workers` workers over `JOBS` trivial jobs.
async fn throughput(state: &AppState, workers: usize) -> anyhow::Result<f64> {
    let now = server::db::now();
    let jobs: Vec<NewJob> = (0..JOBS)
        .map(|i| NewJob::new("bench.noop", serde_json::json!({"i": i}), now))
        .collect();
    state.jobs.enqueue(&jobs, now).await?;
    let handlers = Arc::new(Handlers::new().with("bench.noop", Arc::new(Noop)));
    let started = Instant::now();
    let running = Workers::start(
        &state.jobs,
        handlers,
        workers,
        tokio_util::sync::CancellationToken::new(),
    );
    loop {
        let counts = state.jobs.counts().await?;
        if counts.pending + counts.running == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let took = started.elapsed().as_secs_f64();
    running.stop().await;
    Ok(JOBS as f64 / took)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Commit → mail file, in milliseconds, for `BOOKINGS` bookings made at [`PACE`].
async fn latency(state: &AppState) -> anyhow::Result<Vec<f64>> {
    let user = |email: &str| NewUser {
        email: email.into(),
        password: "bench-password-2026".into(),
        display_name: "Bench".into(),
    };
    let agent = state
        .accounts
        .create(user("agent@bench.test"), Role::Agent, Locale::En)
        .await?;
    let guest = state
        .accounts
        .create(user("guest@bench.test"), Role::User, Locale::En)
        .await?;
    let (_, mut event) = server::demo::demo_events(1).remove(0);
    event.starts_at = (Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    event.ends_at =
        (Utc::now() + chrono::Duration::days(30) + chrono::Duration::hours(2)).to_rfc3339();
    event.capacity = 10_000;
    event.max_seats_per_user = None;
    for tt in &mut event.ticket_types {
        tt.quantity = 10_000;
    }
    let id = state.events.create_event(&agent, event).await?;
    state.events.publish_event(&agent, id).await?;
    let ticket_type_id = state.events.get_event(None, id).await?.ticket_types[0].id;
    let mut next = Instant::now();
    for _ in 0..BOOKINGS {
        tokio::time::sleep_until(next.into()).await;
        next += PACE;
        let new = NewRegistration {
            event_id: id,
            ticket_type_id,
            quantity: 1,
            idempotency_key: None,
        };
        state.bookings.register(&guest, new).await?;
    }
    // Every confirmation written (bounded: a minute at most).
    let deadline = Instant::now() + Duration::from_secs(60);
    let rows: Vec<(DateTime<Utc>, DateTime<Utc>)> = loop {
        let rows: Vec<(DateTime<Utc>, DateTime<Utc>)> = on_db!(&state.db, pool => sqlx::query_as(
            "SELECT r.created_at, m.sent_at FROM registrations r \
             JOIN mails m ON m.key = 'registration_confirmed:' || CAST(r.id AS TEXT) \
             WHERE m.sent_at IS NOT NULL")
            .fetch_all(pool).await)?;
        if rows.len() >= BOOKINGS || Instant::now() > deadline {
            break rows;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    anyhow::ensure!(
        rows.len() == BOOKINGS,
        "only {} of {BOOKINGS} mails were sent",
        rows.len()
    );
    let mut ms: Vec<f64> = rows
        .iter()
        .map(|(booked, sent)| (*sent - *booked).num_microseconds().unwrap_or(0) as f64 / 1000.0)
        .collect();
    ms.sort_by(f64::total_cmp);
    Ok(ms)
}

async fn run(engine: &str, url: &str, report: &mut String) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let bench = state(url, dir.path(), 0).await?;
    writeln!(report, "\n## {engine}\n\n| workers | jobs/s |\n|---:|---:|")?;
    for workers in [1, 2, 4] {
        let rate = throughput(&bench, workers).await?;
        println!("{engine}: {workers} workers: {rate:.0} jobs/s");
        writeln!(report, "| {workers} | {rate:.0} |")?;
    }
    drop(bench);
    // The latency run: the server's own workers, as `serve` runs them (on SQLite a fresh
    // database; on PostgreSQL the same one, its throughput jobs done and out of the way).
    let fresh = tempfile::tempdir()?;
    let live = state(url, fresh.path(), 2).await?;
    let ms = latency(&live).await?;
    let line = format!(
        "p50 {:.0} ms · p99 {:.0} ms · max {:.0} ms",
        percentile(&ms, 0.5),
        percentile(&ms, 0.99),
        ms.last().copied().unwrap_or(0.0)
    );
    println!("{engine}: booking commit → mail file: {line}");
    writeln!(
        report,
        "\nBooking commit → confirmation mail file ({BOOKINGS} bookings, one every {} ms, the \
         server's 2 workers): {line}.",
        PACE.as_millis()
    )?;
    live.workers.stop().await;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut report = format!(
        "# Job queue benchmark\n\nRun at {} on {} cores (release build). Throughput: {JOBS} jobs \
         whose handler does nothing, so the numbers are the queue's own cost: one claim \
         statement, one completion statement per job. Latency: see below.\n",
        Utc::now().format("%Y-%m-%d %H:%M UTC"),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    run("SQLite", "sqlite://{dir}/bench.db", &mut report).await?;
    match std::env::var("EVENTHUB_BENCH_PG_URL") {
        Ok(url) => run("PostgreSQL", &url, &mut report).await?,
        Err(_) => report.push_str(
            "\n## PostgreSQL\n\nNOT RUN: set EVENTHUB_BENCH_PG_URL to an empty database to include it.\n",
        ),
    }
    std::fs::create_dir_all("../bench-results")?;
    std::fs::write("../bench-results/jobs.md", &report)?;
    println!("{report}\nwritten to bench-results/jobs.md");
    Ok(())
}
