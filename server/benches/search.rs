//! Search benchmark (issue #3): fills a database with 100,000 events and measures the query
//! behind `/events` for typical searches, p50 and p99 server time, on SQLite and — when
//! `EVENTHUB_BENCH_PG_URL` points at a PostgreSQL database it may fill — on PostgreSQL.
//! Results go to `bench-results/search.md`. Run: `cargo bench -p server --bench search`
//! (`EVENTHUB_BENCH_DB=/some/file.db` keeps the filled SQLite database for the next run).
use app::events::ports::EventQueries;
use app::events::{Category, EventSearch, EventSort};
use chrono::{Duration, Utc};
use server::config::{Config, Secret};
use server::{AppState, on_db};
use std::fmt::Write as _;
use std::time::Instant;

const EVENTS: usize = 100_000;
const RUNS: usize = 100;

const WORDS: &[&str] = &[
    "jazz",
    "comedy",
    "night",
    "theatre",
    "festival",
    "dance",
    "poetry",
    "wieczór",
    "koncert",
    "ערב",
    "סטנדאפ",
    "kids",
    "film",
    "talk",
    "rock",
    "acoustic",
    "tango",
    "science",
    "opera",
    "puppet",
];
const CITIES: &[&str] = &[
    "Tel Aviv",
    "Jerusalem",
    "Haifa",
    "Kraków",
    "Warszawa",
    "Gdańsk",
    "Łódź",
    "Eilat",
];

/// A vocabulary of 400 words: the real ones above and made-up ones from syllables, so that a
/// typical word appears in about 6% of events, as words do in real listings. One "broad" word
/// ("show") sits in 60% of descriptions to measure a query that matches most events.
fn vocabulary() -> Vec<String> {
    const SYLLABLES: &[&str] = &[
        "ka", "lo", "mi", "ren", "sa", "to", "vel", "dor", "ni", "pra", "zu", "bel", "ta", "rim",
        "os", "qua", "le", "fen", "gi", "mar",
    ];
    let mut words: Vec<String> = WORDS.iter().map(|w| (*w).to_owned()).collect();
    let mut i = 0;
    while words.len() < 400 {
        words.push(format!(
            "{}{}{}",
            SYLLABLES[i % 20],
            SYLLABLES[(i / 20) % 20],
            SYLLABLES[(i * 7 + 3) % 20]
        ));
        i += 1;
    }
    words
}

async fn fill(state: &AppState) -> anyhow::Result<()> {
    let vocabulary = vocabulary();
    let new = app::auth::NewUser {
        email: "bench@example.com".into(),
        display_name: "Bench".into(),
        password: "bench-password-1".into(),
    };
    let agent = state
        .accounts
        .create(new, app::auth::Role::Agent, Default::default())
        .await?;
    let now = Utc::now();
    let mut seed = 42u64;
    let mut next = |n: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) % n as u64) as usize
    };
    on_db!(&state.db, pool => async {
        let mut tx = pool.begin().await?;
        for i in 0..EVENTS {
            let n = vocabulary.len();
            let title = format!("{} {} #{i}", vocabulary[next(n)], vocabulary[next(n)]);
            let summary = format!("{} and {}", vocabulary[next(n)], vocabulary[next(n)]);
            let mut description = (0..20).map(|_| vocabulary[next(n)].as_str()).collect::<Vec<_>>().join(" ");
            if next(10) < 6 {
                description.push_str(" show");
            }
            let city = CITIES[next(CITIES.len())];
            let category = Category::ALL[next(Category::ALL.len())].code();
            let starts = now + Duration::hours(1 + next(24 * 365) as i64);
            let (st, sb) = server::search::documents(&title, &summary, &description, "Venue", city, category);
            let price = [0i64, 3500, 6000, 9000][next(4)];
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO events (organizer_id, title, slug, summary, description, category, tags, starts_at, ends_at, \
                 timezone, venue, address, city, capacity, status, created_at, updated_at, search_title, search_body, \
                 min_price, min_currency, has_free) \
                 VALUES ($1, $2, 'bench', $3, $4, $5, $5, $6, $7, 'UTC', 'Venue', '', $8, $9, 'published', $10, $10, $11, $12, \
                 $13, 'ILS', $14) RETURNING id")
                .bind(agent.id.get()).bind(&title).bind(&summary).bind(&description).bind(category).bind(starts)
                .bind(starts + Duration::hours(2)).bind(city).bind(50 + next(500) as i64).bind(now).bind(st).bind(sb)
                .bind(price).bind(price == 0)
                .fetch_one(&mut *tx).await?;
            sqlx::query("INSERT INTO ticket_types (event_id, position, name, price_amount, currency, quantity, max_per_registration) \
                         VALUES ($1, 0, 'General', $2, 'ILS', 100, 4)")
                .bind(id).bind(price).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok::<_, sqlx::Error>(())
    }.await)?;
    // What `PRAGMA optimize` / autovacuum do for a running server.
    on_db!(&state.db, pool => sqlx::query("ANALYZE").execute(pool).await.map(|_| ()))?;
    Ok(())
}

fn queries() -> Vec<(&'static str, EventSearch)> {
    let base = || EventSearch {
        per_page: 12,
        page: 1,
        ..Default::default()
    };
    vec![
        ("browse, soonest", base()),
        (
            "text: jazz",
            EventSearch {
                q: Some("jazz".into()),
                ..base()
            },
        ),
        (
            "text + category",
            EventSearch {
                q: Some("comedy night".into()),
                category: Some(Category::StandUp),
                ..base()
            },
        ),
        (
            "text + city, relevance",
            EventSearch {
                q: Some("tango".into()),
                city: Some("Kraków".into()),
                sort: EventSort::Relevance,
                ..base()
            },
        ),
        (
            "text prefix (typing)",
            EventSearch {
                q: Some("wiecz".into()),
                ..base()
            },
        ),
        (
            "free + category",
            EventSearch {
                free: true,
                category: Some(Category::Music),
                ..base()
            },
        ),
        (
            "broad word (in 60% of events)",
            EventSearch {
                q: Some("show".into()),
                ..base()
            },
        ),
        (
            "price ≤ 60, page 5",
            EventSearch {
                price_max: Some(6000),
                page: 5,
                ..base()
            },
        ),
    ]
}

async fn measure(state: &AppState, report: &mut String) -> anyhow::Result<()> {
    writeln!(
        report,
        "| query | results | p50 ms | p99 ms |\n|---|---|---|---|"
    )?;
    for (name, search) in queries() {
        let mut times = Vec::with_capacity(RUNS);
        let mut total = String::new();
        // One unmeasured run first: a running server has the query's pages in memory.
        state.events.list_events(&search).await?;
        for _ in 0..RUNS {
            let t = Instant::now();
            let page = state.events.list_events(&search).await?;
            total = format!("{}{}", page.total, if page.total_exact { "" } else { "+" });
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        let p = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
        writeln!(
            report,
            "| {name} | {total} | {:.2} | {:.2} |",
            p(0.5),
            p(0.99)
        )?;
    }
    Ok(())
}

async fn run(engine: &str, database_url: String, report: &mut String) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    // A filled SQLite file may be kept between runs (`EVENTHUB_BENCH_DB=path`): filling takes
    // minutes, measuring seconds.
    let kept = (engine == "SQLite")
        .then(|| std::env::var("EVENTHUB_BENCH_DB").ok())
        .flatten();
    let reuse = kept
        .as_deref()
        .is_some_and(|p| std::path::Path::new(p).exists());
    let database_url = match &kept {
        Some(path) => format!("sqlite://{path}"),
        None => database_url,
    };
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
    if !reuse {
        let t = Instant::now();
        fill(&state).await?;
        println!(
            "{engine}: {EVENTS} events loaded in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    writeln!(
        report,
        "\n## {engine} ({EVENTS} events, {RUNS} runs per query)\n"
    )?;
    measure(&state, report).await
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut report = format!(
        "# Search benchmark\n\nRun at {} on {} cores. Target: p99 < 20 ms on SQLite.\nCorpus: 100,000 published events, a 400-word vocabulary (a typical word is in ~6% of events), one broad word in 60%. Times are for the whole `list_events` call: the page of 12 and the total (counted up to 10,000), after one unmeasured warm-up run per query.\n",
        Utc::now().format("%Y-%m-%d %H:%M UTC"),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    run("SQLite", "sqlite://{dir}/bench.db".into(), &mut report).await?;
    match std::env::var("EVENTHUB_BENCH_PG_URL") {
        Ok(url) => run("PostgreSQL", url, &mut report).await?,
        Err(_) => report.push_str("\n## PostgreSQL\n\nNOT RUN: set EVENTHUB_BENCH_PG_URL to an empty database to include it.\n"),
    }
    std::fs::create_dir_all("../bench-results")?;
    std::fs::write("../bench-results/search.md", &report)?;
    println!("{report}\nwritten to bench-results/search.md");
    Ok(())
}
