//! EventHub's server: configuration, state, storage implementations of the app's ports, the
//! REST API and the router that serves pages, server functions and static files.
//! `router(state)` is what both `main` and the tests call.
pub mod access;
pub mod accounts;
pub mod admin;
pub mod assistant;
pub mod audit;
pub mod bookings;
pub mod client;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod events;
pub mod export;
pub mod graphql;
pub mod guard;
pub mod ics;
pub mod images;
pub mod jobs;
pub mod keys;
pub mod limiter;
pub mod live;
pub mod logs;
pub mod mail;
pub mod markdown;
pub mod metrics;
pub mod ops;
pub mod outbox;
pub mod panic;
pub mod posters;
pub mod rate;
pub mod reports;
pub mod rest;
pub mod search;
pub mod serve;
pub mod sessions;
pub mod sql;
pub mod tokens;
pub mod web;
pub mod webhooks;

use accounts::Accounts;
use anyhow::Result;
use app::ssr::Services;
use axum::extract::FromRef;
use axum::routing::{get, post};
use axum::{Router, middleware};
use config::Config;
use db::Db;
use leptos::prelude::LeptosOptions;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::sync::Arc;
use tokens::TokenKeys;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

/// Everything a request may need; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    /// The ports: what server functions and REST handlers call.
    pub services: Services,
    // The storage implementations themselves, for what no port offers: start-up and demo
    // seeding, the assistant's reply stream, benchmarks and tests.
    pub accounts: Arc<Accounts>,
    pub admin: Arc<admin::Admin>,
    pub events: Arc<events::Events>,
    pub bookings: Arc<bookings::Bookings>,
    pub reports: Arc<reports::Reports>,
    pub assistant: Arc<assistant::Assistant>,
    pub metrics: Arc<metrics::Metrics>,
    pub seat_changes: Arc<live::SeatChanges>,
    pub tokens: Arc<TokenKeys>,
    pub sessions: sessions::Store,
    pub leptos: LeptosOptions,
    /// The job queue, the handler of each kind, and this process's workers
    /// (`EVENTHUB_WORKERS`; they stop with [`AppState::shutdown`]).
    pub jobs: jobs::Jobs,
    pub job_handlers: Arc<jobs::Handlers>,
    pub workers: jobs::Workers,
    /// Cancelled when the server begins to stop: streams end, background loops finish.
    pub shutdown: tokio_util::sync::CancellationToken,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

impl AppState {
    /// Connects, migrates and wires the services.
    pub async fn new(config: Config) -> Result<Self> {
        let started_at = db::now();
        let db = Db::connect_with(&config.database_url, config.db_limits).await?;
        db.migrate().await?;
        let sessions = sessions::Store::open(&db).await?;
        let images = images::ImageStore::new(&config.data_dir, config.cloudinary.clone())?;
        let shutdown = tokio_util::sync::CancellationToken::new();
        let seat_changes = live::SeatChanges::start(
            db.clone(),
            config.serving.streams_per_address,
            shutdown.clone(),
        );
        let events = events::Events::new(db.clone(), images, seat_changes.clone());
        let reindexed = events.reindex_missing().await?;
        if reindexed > 0 {
            tracing::info!(reindexed, "filled the search index of older events");
        }
        let leptos = LeptosOptions::builder()
            .output_name("eventhub")
            .site_root(config.site_root.to_string_lossy().to_string())
            .site_pkg_dir("pkg")
            .site_addr(config.addr)
            .build();
        // Counters every process on the database shares (one cleanup task for all of them).
        let shared_limits = rate::SharedLimits::start(db.clone());
        let bookings = bookings::Bookings::start(
            db.clone(),
            &config.secret_key.0,
            events.clone(),
            seat_changes.clone(),
            config
                .limits
                .booking
                .map(|rate| limiter::UseLimit::new(rate, &shared_limits)),
        );
        let metrics = metrics::Metrics::new();
        let assistant = assistant::Assistant::new(
            db.clone(),
            events.clone(),
            bookings.clone(),
            &config,
            metrics.ai.clone(),
            &shared_limits,
        );
        if let Some(ai) = &config.ai {
            tracing::info!(provider = ?ai.provider, models = ?ai.models, "the assistant uses these models");
        }
        let accounts = Accounts::new(
            db.clone(),
            config.limits.clone(),
            shared_limits,
            &keys::Keys::derive(&config.secret_key.0),
            seat_changes.clone(),
        );
        let admin = admin::Admin::new(db.clone());
        let reports = reports::Reports::new(db.clone());
        let jobs = jobs::Jobs::new(db.clone()).with_settings(config.jobs);
        let operators = jobs::ops::Operators::new(jobs.clone());
        let webhooks = webhooks::Webhooks::new(db.clone(), config.webhooks.clone());
        let job_handlers = Arc::new(
            jobs::Handlers::new()
                .with(mail::KIND, mail::Mailer::new(db.clone(), &config)?)
                .with(
                    webhooks::KIND,
                    webhooks::Deliverer::new(db.clone(), config.webhooks.clone()),
                )
                .with(
                    outbox::KIND,
                    outbox::Fanout::new(db.clone(), vec![webhooks.subscriber()]),
                )
                .with(
                    events::creations::KIND,
                    events::creations::CreateEvents::new(events.clone(), accounts.clone()),
                ),
        );
        let workers = jobs::Workers::start(
            &jobs,
            job_handlers.clone(),
            config.workers,
            shutdown.child_token(),
        );
        // Reminders are scheduled where jobs run (dedupe keys keep them once across processes).
        if config.workers > 0 {
            mail::reminders::start(db.clone(), config.reminders, shutdown.child_token());
        }
        let services = Services {
            account_queries: accounts.clone(),
            account_commands: accounts.clone(),
            event_queries: events.clone(),
            event_commands: events.clone(),
            booking_commands: bookings.clone(),
            booking_queries: bookings.clone(),
            admin_commands: admin.clone(),
            admin_queries: admin.clone(),
            report_queries: reports.clone(),
            assistant_commands: assistant.clone(),
            assistant_queries: assistant.clone(),
            webhook_commands: webhooks.clone(),
            webhook_queries: webhooks.clone(),
            job_queries: operators.clone(),
            job_commands: operators.clone(),
            mail_queries: operators,
            system_queries: Arc::new(ops::system::System::new(
                db.clone(),
                jobs.clone(),
                &config,
                started_at,
            )),
        };
        Ok(AppState {
            services,
            assistant,
            metrics,
            bookings,
            seat_changes,
            tokens: Arc::new(TokenKeys::new(&config.secret_key.0)),
            accounts,
            admin,
            reports,
            events,
            config: Arc::new(config),
            db,
            sessions,
            leptos,
            shutdown,
            jobs,
            job_handlers,
            workers,
        })
    }

    /// The ports server functions reach through the reactive context.
    pub fn services(&self) -> Services {
        self.services.clone()
    }
}

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(app::App);
    let context = web::leptos_context(&state);
    let shell = {
        let options = state.leptos.clone();
        move || app::shell(options.clone())
    };
    let pkg = static_files(
        state.config.site_root.join("pkg"),
        "public, max-age=300, must-revalidate",
    );
    // Stored image names are random and never reused, so browsers may keep them for a year.
    let media = static_files(
        state.config.data_dir.join("media"),
        "public, max-age=31536000, immutable",
    );
    // CORS on the REST API only, for the origins EVENTHUB_CORS_ORIGINS lists (none: no headers).
    let api = match guard::cors(&state.config.cors_origins) {
        Some(cors) => rest::router().layer(cors),
        None => rest::router(),
    };
    Router::new()
        .route("/healthz", get(web::healthz))
        .route("/readyz", get(web::readyz))
        .route("/lang", post(web::switch_language))
        .route("/metrics", get(metrics_page))
        .route("/assistant/replies/{id}", get(assistant::stream::replies))
        .route("/events/{id}/calendar.ics", get(ics::event_calendar))
        .route("/events/{id}/seats", get(live::seats_stream))
        .route(
            "/agent/events/{id}/attendees.csv",
            get(rest::bookings::attendees_csv_page),
        )
        .route("/admin/reports/{file}", get(rest::reports::admin_csv))
        .route("/admin/mail/{id}/html", get(rest::jobs::mail_html))
        .route("/agent/reports/{file}", get(rest::reports::agent_csv))
        .route("/me/data", get(rest::own_account::my_data_page))
        .route("/feeds/{file}", get(rest::own_account::calendar_feed))
        .nest("/api/v1", api)
        .merge(graphql::router(state.config.graphql))
        .nest_service("/pkg", pkg)
        .nest_service(images::LOCAL_PREFIX, media)
        .leptos_routes_with_context(&state, routes, context.clone(), shell)
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, app::shell))
        // Layers, innermost first (a request meets the last one first). The time limit sits
        // inside the panic catcher and both inside the guard, so the limit's 503 and a panic's
        // 500 get the guard's headers too.
        .layer(
            state
                .sessions
                .clone()
                .layer(state.config.secure_cookies(), &state.config.secret_key.0),
        )
        .layer(middleware::from_fn_with_state(
            state.config.request_timeout,
            guard::limit_time,
        ))
        .layer(panic::layer())
        .layer(middleware::from_fn_with_state(state.clone(), guard::defend))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            client::client_ip,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            access::observe,
        ))
        .with_state(state)
}

/// What `eventhub worker` answers on `EVENTHUB_WORKER_ADDR`: liveness, readiness (the
/// database answers) and its metrics (the jobs it ran, its process), for the scraper and the
/// orchestrator's health checks.
pub fn worker_router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(web::healthz))
        .route("/readyz", get(web::readyz))
        .route("/metrics", get(metrics_page))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            access::observe,
        ))
        .with_state(state)
}

/// Files from `dir` with a `Cache-Control` header.
fn static_files(
    dir: std::path::PathBuf,
    cache_control: &'static str,
) -> tower_http::set_header::SetResponseHeader<ServeDir, http::HeaderValue> {
    use tower::Layer;
    SetResponseHeaderLayer::overriding(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static(cache_control),
    )
    .layer(ServeDir::new(dir))
}

/// Random bytes as lower-case hex (secrets, token ids).
pub fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// `GET /metrics` (with `EVENTHUB_METRICS_TOKEN` set, only for its bearer): the queue's gauges
/// read from the database first.
async fn metrics_page(
    axum::extract::State(state): axum::extract::State<AppState>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    if let Some(refusal) = metrics::refuse(
        state.config.metrics_token.as_ref().map(|t| t.0.as_str()),
        &headers,
    ) {
        return refusal;
    }
    state.jobs.report(&state.metrics.queue).await;
    state.metrics.scrape.set(
        state.db.connections(),
        state.seat_changes.open_streams(),
        &state.config.data_dir,
    );
    let accept = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    metrics::page(&state.metrics, accept)
}
