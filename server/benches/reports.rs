//! Reports benchmark (issue #5): fills a database with 1,000,000 registrations over 10,000
//! events (50 organizers, 950 customers, a year of bookings) and measures the report summary —
//! everything an admin sees, with filters, and one agent's own — p50 and p99, on SQLite and,
//! when `EVENTHUB_BENCH_PG_URL` points at an empty PostgreSQL database, on PostgreSQL.
//! Results go to `bench-results/reports.md`. Run: `cargo bench -p server --bench reports`.
//!
//! Rows are generated inside the database (one statement each for users, events, ticket types
//! and registrations), so the triggers that keep the report rollups run for every registration
//! exactly as they do when people book.
use app::auth::{Role, UserView};
use app::events::Category;
use app::reports::ports::ReportQueries;
use app::reports::{ReportFilter, ReportScope};
use chrono::Utc;
use server::config::{Config, Secret};
use server::{AppState, on_db};
use std::fmt::Write as _;
use std::time::Instant;

const EVENTS: i64 = 10_000;
const REGISTRATIONS: i64 = 1_000_000;
const RUNS: usize = 50;

/// One engine's way of writing the generated inserts.
struct Dialect {
    /// `WITH … n(i)` rows 0..$count-1, then the statement's body uses `n.i`.
    series: &'static str,
    /// A timestamp `expr` days from now, as the engine stores it.
    days_from_now: fn(&str) -> String,
}

const SQLITE: Dialect = Dialect {
    series: "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < {count}) ",
    days_from_now: |expr| {
        format!("strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', ({expr}) || ' days')")
    },
};

const POSTGRES: Dialect = Dialect {
    series: "WITH n(i) AS (SELECT generate_series(0, {count} - 1)) ",
    days_from_now: |expr| format!("(now() + ({expr}) * interval '1 day')"),
};

const CATEGORY: &str = "CASE n.i % 9 WHEN 0 THEN 'stand-up' WHEN 1 THEN 'music' WHEN 2 THEN 'theatre' \
    WHEN 3 THEN 'dance' WHEN 4 THEN 'film' WHEN 5 THEN 'talk' WHEN 6 THEN 'kids' WHEN 7 THEN 'festival' ELSE 'other' END";
const PRICE: &str = "CASE n.i % 4 WHEN 0 THEN 0 WHEN 1 THEN 3500 WHEN 2 THEN 6000 ELSE 9000 END";

async fn fill(state: &AppState, d: &Dialect) -> anyhow::Result<()> {
    let series = |count: i64| d.series.replace("{count}", &count.to_string());
    let users = format!(
        "{}INSERT INTO users (email, display_name, password_hash, role, created_at, updated_at) \
         SELECT 'bench' || n.i || '@example.com', 'Bench ' || n.i, 'x', \
         CASE WHEN n.i < 50 THEN 'agent' ELSE 'user' END, {now}, {now} FROM n",
        series(1000),
        now = (d.days_from_now)("0"),
    );
    let events = format!(
        "{}INSERT INTO events (organizer_id, title, slug, summary, description, category, tags, starts_at, \
         ends_at, timezone, venue, address, city, capacity, status, created_at, updated_at, published_at, \
         min_price, min_currency, has_free) \
         SELECT CAST($1 AS BIGINT) + n.i % 50, 'Bench event ' || n.i, 'bench', 's', 'd', {CATEGORY}, '', {starts}, {ends}, 'UTC', \
         'Venue', '', 'Tel Aviv', 500, 'published', {created}, {created}, {created}, {PRICE}, 'ILS', {PRICE} = 0 FROM n",
        series(EVENTS),
        starts = (d.days_from_now)("n.i % 400 - 200"),
        ends = (d.days_from_now)("n.i % 400 - 199"),
        created = (d.days_from_now)("-(n.i % 365)"),
    );
    let ticket_types = "INSERT INTO ticket_types (event_id, position, name, price_amount, currency, quantity, max_per_registration) \
        SELECT id, 0, 'General', min_price, 'ILS', 500, 4 FROM events WHERE slug = 'bench' ORDER BY id";
    // Event k gets registrations k, k + 10,000, …: seven in ten confirmed, two waitlisted, one
    // cancelled; 1–3 seats; a quarter free, a third of the paid ones paid.
    let registrations = format!(
        "{}INSERT INTO registrations (event_id, ticket_type_id, user_id, quantity, status, waitlist_seq, payment, created_at) \
         SELECT CAST($1 AS BIGINT) + n.i % {EVENTS}, CAST($2 AS BIGINT) + n.i % {EVENTS}, CAST($3 AS BIGINT) + 50 + n.i % 950, 1 + n.i % 3, \
         CASE WHEN (n.i / {EVENTS}) % 10 < 7 THEN 'confirmed' WHEN (n.i / {EVENTS}) % 10 < 9 THEN 'waitlisted' ELSE 'cancelled' END, \
         CASE WHEN (n.i / {EVENTS}) % 10 IN (7, 8) THEN n.i END, \
         CASE WHEN n.i % 4 = 0 THEN 'free' WHEN (n.i / {EVENTS}) % 10 < 7 AND n.i % 3 = 0 THEN 'paid' ELSE 'unpaid' END, \
         {created} FROM n",
        series(REGISTRATIONS),
        created = (d.days_from_now)("-(n.i % 360)"),
    );
    let counters = [
        "UPDATE events SET seats_confirmed = (SELECT COALESCE(SUM(r.quantity), 0) FROM registrations r \
           WHERE r.event_id = events.id AND r.status = 'confirmed'), \
           seats_waitlisted = (SELECT COALESCE(SUM(r.quantity), 0) FROM registrations r \
           WHERE r.event_id = events.id AND r.status = 'waitlisted')",
        "UPDATE ticket_types SET seats_confirmed = (SELECT COALESCE(SUM(r.quantity), 0) FROM registrations r \
           WHERE r.event_id = ticket_types.event_id AND r.ticket_type_id = ticket_types.id AND r.status = 'confirmed')",
        "ANALYZE",
    ];
    on_db!(&state.db, pool => async {
        let t = Instant::now();
        sqlx::query(&users).execute(pool).await?;
        let first_user: i64 = sqlx::query_scalar("SELECT MIN(id) FROM users WHERE email LIKE 'bench%'").fetch_one(pool).await?;
        sqlx::query(&events).bind(first_user).execute(pool).await?;
        sqlx::query(ticket_types).execute(pool).await?;
        let first_event: i64 = sqlx::query_scalar("SELECT MIN(id) FROM events WHERE slug = 'bench'").fetch_one(pool).await?;
        let first_type: i64 = sqlx::query_scalar("SELECT MIN(t.id) FROM ticket_types t JOIN events e ON e.id = t.event_id WHERE e.slug = 'bench'")
            .fetch_one(pool).await?;
        println!("  users, events, ticket types: {:.1} s", t.elapsed().as_secs_f64());
        let t = Instant::now();
        sqlx::query(&registrations).bind(first_event).bind(first_type).bind(first_user).execute(pool).await?;
        println!("  1,000,000 registrations (with their rollups): {:.1} s", t.elapsed().as_secs_f64());
        for sql in counters {
            sqlx::query(sql).execute(pool).await?;
        }
        Ok::<_, sqlx::Error>(())
    }.await)?;
    if let server::db::Db::Postgres(pool) = &state.db {
        // The fill is one statement, so every rollup row keeps all its million versions until
        // it commits: 77 MB for 37,500 rows. Bookings in their own transactions never leave
        // that (each page is pruned as it is updated, and autovacuum follows); compact it.
        sqlx::query("VACUUM FULL ANALYZE registration_totals, registration_months")
            .execute(pool)
            .await?;
        // What autovacuum does after a million inserts, so as not to wait for it: mark the
        // pages all-visible (index-only scans then skip the table).
        sqlx::query("VACUUM ANALYZE registrations")
            .execute(pool)
            .await?;
    }
    Ok(())
}

async fn measure(state: &AppState, report: &mut String) -> anyhow::Result<()> {
    let admin = state
        .accounts
        .create(
            app::auth::NewUser {
                email: "bench-admin@example.com".into(),
                display_name: "Bench Admin".into(),
                password: "bench-password-1".into(),
            },
            Role::Admin,
            Default::default(),
        )
        .await?;
    let agent: UserView = {
        let id: i64 = on_db!(&state.db, pool => sqlx::query_scalar("SELECT MIN(id) FROM users WHERE role = 'agent'")
            .fetch_one(pool).await)?;
        UserView {
            id: id.into(),
            role: Role::Agent,
            ..admin.clone()
        }
    };
    let today = Utc::now().date_naive();
    let cases: Vec<(&str, &UserView, ReportScope, ReportFilter)> = vec![
        (
            "admin, everything",
            &admin,
            ReportScope::All,
            ReportFilter::default(),
        ),
        (
            "admin, one category",
            &admin,
            ReportScope::All,
            ReportFilter {
                category: Some(Category::Music),
                ..Default::default()
            },
        ),
        (
            "admin, events of the next 30 days",
            &admin,
            ReportScope::All,
            ReportFilter {
                from: Some(today),
                to: today.checked_add_days(chrono::Days::new(30)),
                category: None,
            },
        ),
        (
            "agent, own events (200)",
            &agent,
            ReportScope::Own,
            ReportFilter::default(),
        ),
    ];
    writeln!(
        report,
        "| report | registrations counted | p50 ms | p99 ms |\n|---|---|---|---|"
    )?;
    for (name, actor, scope, filter) in cases {
        // One unmeasured run first: a running server has the pages in memory.
        state.reports.summary(actor, scope, &filter).await?;
        let mut times = Vec::with_capacity(RUNS);
        let mut counted = 0;
        for _ in 0..RUNS {
            let t = Instant::now();
            let s = state.reports.summary(actor, scope, &filter).await?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            counted = s.totals.registrations_confirmed
                + s.totals.registrations_waitlisted
                + s.totals.registrations_cancelled;
        }
        times.sort_by(f64::total_cmp);
        let p = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
        writeln!(
            report,
            "| {name} | {counted} | {:.1} | {:.1} |",
            p(0.5),
            p(0.99)
        )?;
    }
    Ok(())
}

async fn run(
    engine: &str,
    database_url: String,
    d: &Dialect,
    report: &mut String,
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = Config::embedded(
        dir.path().to_path_buf(),
        database_url.replace("{dir}", &dir.path().display().to_string()),
        Secret("bench-secret-key-that-is-long-enough-000000".into()),
    )
    .at(
        "127.0.0.1:0".parse()?,
        "target/site".into(),
        "http://127.0.0.1".into(),
    );
    // One statement fills a million rows: past PostgreSQL's statement time limit.
    config.db_limits = server::db::Limits::off();
    let state = AppState::new(config).await?;
    println!("{engine}: filling");
    let t = Instant::now();
    fill(&state, d).await?;
    let filled = t.elapsed().as_secs_f64();
    writeln!(
        report,
        "\n## {engine}\n\nFilled in {filled:.0} s. {RUNS} runs per report after one warm-up.\n"
    )?;
    measure(&state, report).await
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut report = format!(
        "# Reports benchmark\n\nRun at {} on {} cores. Targets: the admin summary and \
         an agent's own report under 100 ms p99 on both engines, an agent's costing in \
         proportion to the agent's own events.\n\
         Data: {REGISTRATIONS} registrations over {EVENTS} published events of 50 organizers, made \
         over the last 360 days (7 in 10 confirmed, 2 waitlisted, 1 cancelled). A summary is the \
         whole `ReportQueries::summary` call: totals, 12 months, categories, the latest 20 events \
         and utilisation (six statements over the rollups the registration triggers keep, run \
         at once on six connections). On PostgreSQL the rollup tables are compacted after the \
         fill (`VACUUM FULL`): filling them in one statement leaves every row's million \
         versions behind, which bookings in their own transactions never do; and \
         `registrations` is vacuumed as autovacuum would after a million inserts.\n",
        Utc::now().format("%Y-%m-%d %H:%M UTC"),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    run(
        "SQLite",
        "sqlite://{dir}/bench.db".into(),
        &SQLITE,
        &mut report,
    )
    .await?;
    match std::env::var("EVENTHUB_BENCH_PG_URL") {
        Ok(url) => run("PostgreSQL", url, &POSTGRES, &mut report).await?,
        Err(_) => report.push_str(
            "\n## PostgreSQL\n\nNOT RUN: set EVENTHUB_BENCH_PG_URL to an empty database to include it.\n",
        ),
    }
    std::fs::create_dir_all("../bench-results")?;
    std::fs::write("../bench-results/reports.md", &report)?;
    println!("{report}\nwritten to bench-results/reports.md");
    Ok(())
}
