//! Prometheus metrics, served as text at `/metrics`: calls, failures and latency per AI model,
//! and how often the built-in recommender had to answer; the pipeline's jobs (enqueued,
//! processed by outcome, run time per kind), mail and webhook deliveries; and the queue's depth
//! per state and its oldest due job's age, read from the database at each scrape; HTTP
//! requests by route and status, and their latency ([`crate::access`]).
use axum::http::header;
use axum::response::IntoResponse;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ModelLabel {
    pub model: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindOutcomeLabel {
    pub kind: String,
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabel {
    pub method: String,
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabel {
    pub method: String,
    pub route: String,
}

/// Requests answered, by method, matched route (`unmatched` for none, so a scan of random
/// paths adds no series) and status; time to the answer's head, by method and route.
#[derive(Clone)]
pub struct HttpMetrics {
    requests: Family<RequestLabel, Counter>,
    duration: Family<RouteLabel, Histogram, fn() -> Histogram>,
}

fn request_duration_histogram() -> Histogram {
    // 1 ms … ~16 s
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

impl HttpMetrics {
    fn new(registry: &mut Registry) -> Self {
        let http = HttpMetrics {
            requests: Family::default(),
            duration: Family::new_with_constructor(request_duration_histogram),
        };
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, matched route and status",
            http.requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to the head of the answer, by method and matched route",
            http.duration.clone(),
        );
        http
    }

    pub fn answered(&self, method: &str, route: &str, status: u16, took: Duration) {
        self.requests
            .get_or_create(&RequestLabel {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.duration
            .get_or_create(&RouteLabel {
                method: method.to_owned(),
                route: route.to_owned(),
            })
            .observe(took.as_secs_f64());
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabel {
    pub state: &'static str,
}

/// What the pipeline records (jobs, mail, webhook deliveries): one set per process, reached
/// through [`pipeline`] from the queue and the handlers, registered by every [`Metrics`]
/// (clones share the counts).
#[derive(Clone)]
pub struct PipelineMetrics {
    mail_sent: Family<OutcomeLabel, Counter>,
    webhook_deliveries: Family<OutcomeLabel, Counter>,
    jobs_enqueued: Family<KindLabel, Counter>,
    jobs_processed: Family<KindOutcomeLabel, Counter>,
    job_duration: Family<KindLabel, Histogram, fn() -> Histogram>,
}

fn job_duration_histogram() -> Histogram {
    // 1 ms … ~65 s
    Histogram::new(exponential_buckets(0.001, 4.0, 9))
}

impl Default for PipelineMetrics {
    fn default() -> Self {
        PipelineMetrics {
            mail_sent: Family::default(),
            webhook_deliveries: Family::default(),
            jobs_enqueued: Family::default(),
            jobs_processed: Family::default(),
            job_duration: Family::new_with_constructor(job_duration_histogram),
        }
    }
}

impl PipelineMetrics {
    /// `n` jobs of `kind` written by an enqueue.
    pub fn jobs_enqueued(&self, kind: &str, n: u64) {
        self.jobs_enqueued
            .get_or_create(&KindLabel {
                kind: kind.to_owned(),
            })
            .inc_by(n);
    }

    /// A job of `kind` ran for `took` and came to `outcome`: `done`, `retry` (fails, runs
    /// again later), `dead` (that was its last attempt) or `lease_lost` (its lease had ended).
    pub fn job_processed(&self, kind: &str, outcome: &'static str, took: Duration) {
        self.jobs_processed
            .get_or_create(&KindOutcomeLabel {
                kind: kind.to_owned(),
                outcome,
            })
            .inc();
        self.job_duration
            .get_or_create(&KindLabel {
                kind: kind.to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    /// A mail sent (`sent`) or refused by its transport (`failed`).
    pub fn mail_sent(&self, outcome: &'static str) {
        self.mail_sent
            .get_or_create(&OutcomeLabel { outcome })
            .inc();
    }

    /// A webhook delivery attempt: `delivered`, `failed` (to be retried), `dead` (given up),
    /// `refused` (its target is not allowed).
    pub fn webhook_delivery(&self, outcome: &'static str) {
        self.webhook_deliveries
            .get_or_create(&OutcomeLabel { outcome })
            .inc();
    }

    fn register(&self, registry: &mut Registry) {
        registry.register(
            "mail_sent",
            "Mail handed to its transport (outcome sent) or refused by it (failed)",
            self.mail_sent.clone(),
        );
        registry.register(
            "webhook_deliveries",
            "Webhook delivery attempts by outcome",
            self.webhook_deliveries.clone(),
        );
        registry.register(
            "jobs_enqueued",
            "Jobs written to the queue, by kind (rows written, dedupe-key duplicates left out)",
            self.jobs_enqueued.clone(),
        );
        registry.register(
            "jobs_processed",
            "Job runs by kind and outcome (done, retry, dead, lease_lost)",
            self.jobs_processed.clone(),
        );
        registry.register(
            "job_duration_seconds",
            "Time a job's handler ran, by kind",
            self.job_duration.clone(),
        );
    }
}

/// The queue as the database holds it, set at each scrape ([`QueueGauges::set`], by the `/metrics` route).
#[derive(Clone, Default)]
pub struct QueueGauges {
    depth: Family<StateLabel, Gauge>,
    oldest_pending_age: Gauge<f64, std::sync::atomic::AtomicU64>,
}

impl QueueGauges {
    fn register(&self, registry: &mut Registry) {
        registry.register(
            "jobs_queue_depth",
            "Jobs in the queue by state (all processes, from the database)",
            self.depth.clone(),
        );
        registry.register(
            "jobs_oldest_pending_age_seconds",
            "How long the oldest due pending job has waited (0 when none)",
            self.oldest_pending_age.clone(),
        );
    }

    /// Sets the depth per state and the oldest due job's age, as read from the database.
    pub fn set(&self, depth: &[(&'static str, i64)], oldest_pending_age_seconds: f64) {
        for &(state, n) in depth {
            self.depth.get_or_create(&StateLabel { state }).set(n);
        }
        self.oldest_pending_age.set(oldest_pending_age_seconds);
    }
}

/// What the booking writer records (one set per process, through [`bookings`]): requests by
/// outcome, the requests each transaction carried, and how many wait for the writer now.
#[derive(Clone)]
pub struct BookingMetrics {
    outcomes: Family<OutcomeLabel, Counter>,
    batch_size: Histogram,
    queue_length: Gauge,
}

impl Default for BookingMetrics {
    fn default() -> Self {
        BookingMetrics {
            outcomes: Family::default(),
            // 1 … 256 (the writer's largest batch)
            batch_size: Histogram::new(exponential_buckets(1.0, 2.0, 9)),
            queue_length: Gauge::default(),
        }
    }
}

impl BookingMetrics {
    /// A booking request answered: `confirmed`, `waitlisted`, `refused` (its input, the rules,
    /// no seats and no waitlist) or `failed` (the database).
    pub fn booked(&self, outcome: &'static str) {
        self.outcomes.get_or_create(&OutcomeLabel { outcome }).inc();
    }

    /// One request handed to the writer.
    pub fn queued(&self) {
        self.queue_length.inc();
    }

    /// The writer took `n` requests into one transaction.
    pub fn batch(&self, n: usize) {
        self.queue_length.dec_by(n as i64);
        self.batch_size.observe(n as f64);
    }

    fn register(&self, registry: &mut Registry) {
        registry.register(
            "bookings",
            "Booking requests by outcome (confirmed, waitlisted, refused, failed)",
            self.outcomes.clone(),
        );
        registry.register(
            "booking_batch_size",
            "Requests one booking transaction carried",
            self.batch_size.clone(),
        );
        registry.register(
            "booking_queue_length",
            "Requests waiting for this process's booking writer",
            self.queue_length.clone(),
        );
    }
}

static BOOKINGS: std::sync::LazyLock<BookingMetrics> =
    std::sync::LazyLock::new(BookingMetrics::default);

pub fn bookings() -> &'static BookingMetrics {
    &BOOKINGS
}

/// Read at each scrape: the database pool, the live-seat streams, the data folder's disk.
#[derive(Clone, Default)]
pub struct ScrapeGauges {
    db_pool: Family<StateLabel, Gauge>,
    live_streams: Gauge,
    data_free: Gauge,
    data_size: Gauge,
}

impl ScrapeGauges {
    fn register(&self, registry: &mut Registry) {
        registry.register(
            "db_pool_connections",
            "Database connections of this process's pool, by state (in_use, idle)",
            self.db_pool.clone(),
        );
        registry.register(
            "live_streams",
            "Live-seat streams open on this process (server-sent events and GraphQL subscriptions)",
            self.live_streams.clone(),
        );
        registry.register(
            "data_disk_free_bytes",
            "Free space for EventHub on the disk of its data folder",
            self.data_free.clone(),
        );
        registry.register(
            "data_disk_size_bytes",
            "Size of the disk of the data folder",
            self.data_size.clone(),
        );
    }

    pub fn set(&self, (in_use, idle): (u32, u32), live_streams: usize, data_dir: &std::path::Path) {
        let pool = |state| self.db_pool.get_or_create(&StateLabel { state });
        pool("in_use").set(i64::from(in_use));
        pool("idle").set(i64::from(idle));
        self.live_streams.set(live_streams as i64);
        match rustix::fs::statvfs(data_dir) {
            Ok(fs) => {
                let block = fs.f_frsize as i64;
                self.data_free.set(fs.f_bavail as i64 * block);
                self.data_size.set(fs.f_blocks as i64 * block);
            }
            Err(e) => tracing::warn!("cannot read the data folder's disk: {e}"),
        }
    }
}

/// The standard `process_*` series (CPU, memory, open files, threads, start time), read from
/// `/proc` at each scrape, as every Prometheus client library reports them.
#[derive(Debug)]
struct ProcessCollector;

impl prometheus_client::collector::Collector for ProcessCollector {
    fn encode(
        &self,
        mut encoder: prometheus_client::encoding::DescriptorEncoder,
    ) -> Result<(), std::fmt::Error> {
        use prometheus_client::encoding::EncodeMetric;
        use prometheus_client::metrics::counter::ConstCounter;
        use prometheus_client::metrics::gauge::ConstGauge;
        #[cfg(target_os = "linux")]
        {
            let Ok(me) = procfs::process::Process::myself() else {
                return Ok(());
            };
            let Ok(stat) = me.stat() else {
                return Ok(());
            };
            let ticks = procfs::ticks_per_second() as f64;
            let cpu = ConstCounter::new((stat.utime + stat.stime) as f64 / ticks);
            cpu.encode(encoder.encode_descriptor(
                "process_cpu_seconds",
                "Total user and system CPU time spent in seconds",
                None,
                cpu.metric_type(),
            )?)?;
            let mut gauge = |name: &str, help: &str, value: f64| -> Result<(), std::fmt::Error> {
                let g = ConstGauge::new(value);
                g.encode(encoder.encode_descriptor(name, help, None, g.metric_type())?)
            };
            gauge(
                "process_resident_memory_bytes",
                "Resident memory size in bytes",
                (stat.rss * procfs::page_size()) as f64,
            )?;
            gauge(
                "process_virtual_memory_bytes",
                "Virtual memory size in bytes",
                stat.vsize as f64,
            )?;
            gauge(
                "process_threads",
                "Number of OS threads in the process",
                stat.num_threads as f64,
            )?;
            if let Ok(fds) = me.fd_count() {
                gauge(
                    "process_open_fds",
                    "Number of open file descriptors",
                    fds as f64,
                )?;
            }
            if let Ok(limits) = me.limits()
                && let procfs::process::LimitValue::Value(max) = limits.max_open_files.soft_limit
            {
                gauge(
                    "process_max_fds",
                    "Maximum number of open file descriptors",
                    max as f64,
                )?;
            }
            if let Ok(boot) = procfs::boot_time_secs() {
                gauge(
                    "process_start_time_seconds",
                    "Start time of the process since the Unix epoch in seconds",
                    boot as f64 + stat.starttime as f64 / ticks,
                )?;
            }
        }
        Ok(())
    }
}

static PIPELINE: std::sync::LazyLock<PipelineMetrics> =
    std::sync::LazyLock::new(PipelineMetrics::default);

/// This process's pipeline metrics.
pub fn pipeline() -> &'static PipelineMetrics {
    &PIPELINE
}

/// The metrics of one server process.
pub struct Metrics {
    registry: Registry,
    pub ai: AiMetrics,
    pub queue: QueueGauges,
    pub http: HttpMetrics,
    pub scrape: ScrapeGauges,
}

/// What the assistant's model chain records.
#[derive(Clone)]
pub struct AiMetrics {
    calls: Family<ModelLabel, Counter>,
    failures: Family<ModelLabel, Counter>,
    latency: Family<ModelLabel, Histogram, fn() -> Histogram>,
    fallbacks: Counter,
    busy: Counter,
}

fn latency_histogram() -> Histogram {
    // 0.1 s … ~51 s
    Histogram::new(exponential_buckets(0.1, 2.0, 10))
}

impl AiMetrics {
    fn label(model: &str) -> ModelLabel {
        ModelLabel {
            model: model.to_owned(),
        }
    }

    /// A call to `model` that answered after `took`.
    pub fn answered(&self, model: &str, took: Duration) {
        self.called(&Self::label(model), took);
    }

    /// A call to `model` that failed (error, timeout, empty answer).
    pub fn failed(&self, model: &str, took: Duration) {
        let label = Self::label(model);
        self.called(&label, took);
        self.failures.get_or_create(&label).inc();
    }

    fn called(&self, label: &ModelLabel, took: Duration) {
        self.calls.get_or_create(label).inc();
        self.latency
            .get_or_create(label)
            .observe(took.as_secs_f64());
    }

    /// The built-in recommender answered because no model did (or none is configured).
    /// A model's answer that was not used (it named none of the candidates).
    pub fn rejected(&self, model: &str) {
        self.failures.get_or_create(&Self::label(model)).inc();
    }

    pub fn fell_back(&self) {
        self.fallbacks.inc();
    }

    /// A question that found every place for a model call taken (`EVENTHUB_AI_CONCURRENCY`).
    pub fn busy(&self) {
        self.busy.inc();
    }
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        let mut root = Registry::default();
        root.register_collector(Box::new(ProcessCollector));
        let registry = root.sub_registry_with_prefix("eventhub");
        let ai = AiMetrics {
            calls: Family::default(),
            failures: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            fallbacks: Counter::default(),
            busy: Counter::default(),
        };
        registry.register("ai_calls", "Calls to each AI model", ai.calls.clone());
        registry.register(
            "ai_failures",
            "Failed calls to each AI model (errors, timeouts, empty answers)",
            ai.failures.clone(),
        );
        registry.register(
            "ai_latency_seconds",
            "Time each AI model call took",
            ai.latency.clone(),
        );
        registry.register(
            "assistant_fallbacks",
            "Answers the built-in recommender gave because no model answered",
            ai.fallbacks.clone(),
        );
        registry.register(
            "ai_busy",
            "Questions that found every place for a model call taken (EVENTHUB_AI_CONCURRENCY)",
            ai.busy.clone(),
        );
        pipeline().register(registry);
        bookings().register(registry);
        let queue = QueueGauges::default();
        queue.register(registry);
        let http = HttpMetrics::new(registry);
        let scrape = ScrapeGauges::default();
        scrape.register(registry);
        Arc::new(Metrics {
            registry: root,
            ai,
            queue,
            http,
            scrape,
        })
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(err) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!("metrics could not be written: {err}");
        }
        out
    }
}

/// Compares a presented secret with the expected one in time that does not depend on where
/// they differ: both are hashed first, and the digests compared byte by byte without an early
/// exit.
fn same_secret(given: &str, expected: &str) -> bool {
    use sha2::{Digest, Sha256};
    let (a, b) = (Sha256::digest(given), Sha256::digest(expected));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// With `EVENTHUB_METRICS_TOKEN` set, `/metrics` is only for its bearer: the refusal otherwise.
pub fn refuse(
    token: Option<&str>,
    headers: &axum::http::HeaderMap,
) -> Option<axum::response::Response> {
    let token = token?;
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if given.is_some_and(|given| same_secret(given, token)) {
        return None;
    }
    Some(
        (
            axum::http::StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
        )
            .into_response(),
    )
}

/// The text exposition of `metrics`, as `/metrics` answers it.
/// `/metrics`: OpenMetrics for a scraper that asks for it (Prometheus does), else the classic
/// text format (what `promtool check metrics` and older tools read).
pub fn page(metrics: &Metrics, accept: &str) -> axum::response::Response {
    if accept.contains("application/openmetrics-text") {
        (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            metrics.render(),
        )
            .into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            classic(&metrics.render()),
        )
            .into_response()
    }
}

/// OpenMetrics text as the classic format: a counter's family is named like its `_total`
/// sample, and there are no `# UNIT` or `# EOF` lines.
fn classic(open_metrics: &str) -> String {
    let counters: std::collections::HashSet<&str> = open_metrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE ")?.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(open_metrics.len());
    for line in open_metrics.lines() {
        if line.starts_with("# UNIT ") || line == "# EOF" {
            continue;
        }
        let meta = ["# HELP ", "# TYPE "]
            .into_iter()
            .find_map(|p| line.strip_prefix(p).map(|rest| (p, rest)));
        match meta.and_then(|(p, rest)| {
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(name)
                .then(|| format!("{p}{name}_total {tail}"))
        }) {
            Some(renamed) => out.push_str(&renamed),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}
