//! Typed settings from the environment (`EVENTHUB_*`) with embedded defaults; `.env.example`
//! lists them. Secrets are redacted in `Debug`.
mod ai;

pub use ai::{Ai, AiProvider};

use crate::rate::{parse_flag, parse_limit};
use anyhow::{Context, Result};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Clone)]
pub struct Config {
    /// Where the server listens (`EVENTHUB_ADDR`, default 127.0.0.1:3000).
    pub addr: SocketAddr,
    /// Database file, generated secret, uploads, outgoing mail (`EVENTHUB_DATA_DIR`, ./data).
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…` (`EVENTHUB_DATABASE_URL`; default a SQLite file in data_dir).
    pub database_url: String,
    /// Signs API tokens (`EVENTHUB_SECRET_KEY`; generated into data_dir on first start).
    pub secret_key: Secret,
    /// The built site: `pkg/` with the WASM client and CSS (`EVENTHUB_SITE_ROOT`, target/site).
    pub site_root: PathBuf,
    /// The public URL; `https://…` makes the session cookie `Secure` (`EVENTHUB_PUBLIC_URL`).
    pub public_url: String,
    /// Images go to Cloudinary when `EVENTHUB_CLOUDINARY_URL` (`cloudinary://key:secret@cloud`)
    /// is set; otherwise to `data_dir/media`.
    pub cloudinary: Option<Cloudinary>,
    /// The assistant's language models; `None` leaves the built-in recommender to answer.
    pub ai: Option<Ai>,
    /// Questions one user may ask the assistant per `window` (`EVENTHUB_AI_RATE`, e.g. `20/600`
    /// for twenty per ten minutes).
    pub assistant_rate: Option<crate::rate::Rate>,
    /// When set, `/metrics` asks for `Authorization: Bearer <token>` (`EVENTHUB_METRICS_TOKEN`).
    pub metrics_token: Option<Secret>,
    /// How long a stopping server (SIGTERM) lets requests in flight finish before it exits
    /// (`EVENTHUB_SHUTDOWN_GRACE_SECS`, 10).
    pub shutdown_grace: std::time::Duration,
    /// PostgreSQL: how long a statement waits for a lock, and may run at all, before it fails
    /// (`EVENTHUB_PG_LOCK_TIMEOUT_MS` 5000, `EVENTHUB_PG_STATEMENT_TIMEOUT_MS` 30000; `off`
    /// for none), so one stuck lock cannot stall every booking.
    pub db_limits: crate::db::Limits,
    /// Sign-in, sign-up, booking and hashing limits (`EVENTHUB_SIGNIN_RATE`, …; see
    /// [`crate::rate::RequestLimits`]).
    pub limits: crate::rate::RequestLimits,
    /// Peers whose `X-Forwarded-For` names the client (`EVENTHUB_TRUSTED_PROXIES`: addresses
    /// or networks, comma-separated, e.g. `10.0.0.0/8,127.0.0.1`); from anyone else the header
    /// is ignored and the peer address counts.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Sites whose pages may call the REST API (`/api/v1`) from a browser
    /// (`EVENTHUB_CORS_ORIGINS`: origins, comma-separated, e.g.
    /// `https://a.example,https://b.example`). Empty (unset): no CORS headers at all.
    pub cors_origins: Vec<String>,
    /// How long one request may take before it is answered `503`
    /// (`EVENTHUB_REQUEST_TIMEOUT_SECS`, 30; `off` for none). Streams, image uploads and the
    /// assistant's answers are exempt (see [`crate::guard::limit_time`]).
    pub request_timeout: Option<std::time::Duration>,
    /// Connections and streams: header-read time limit, live-seat streams per client address
    /// (`EVENTHUB_HEADER_TIMEOUT_SECS`, `EVENTHUB_STREAMS_PER_ADDRESS`; see
    /// [`crate::serve::Serving`]).
    pub serving: crate::serve::Serving,
    /// Job workers this server runs beside the site (`EVENTHUB_WORKERS`, 2; `0` or `off` for
    /// none, leaving the jobs to `eventhub worker` processes).
    pub workers: usize,
    /// Mail goes out over SMTP when set (`EVENTHUB_SMTP_URL`, e.g.
    /// `smtp://user:password@mail.example:587?tls=required` for STARTTLS or `smtps://…:465`);
    /// otherwise it is written as `.eml` files into `data_dir/mail`.
    pub smtp_url: Option<Secret>,
    /// A PEM file of extra root certificates trusted for the SMTP server's TLS, for a relay
    /// with a private CA (`EVENTHUB_SMTP_CA_FILE`; the system roots otherwise).
    pub smtp_ca_file: Option<PathBuf>,
    /// The sender of every mail (`EVENTHUB_MAIL_FROM`, `EventHub <no-reply@localhost>`).
    pub mail_from: String,
    /// Webhook deliveries: private targets, timeout, attempts, disabling, limits
    /// (`EVENTHUB_WEBHOOKS_*`; see [`crate::webhooks::Settings`]).
    pub webhooks: crate::webhooks::Settings,
    /// GraphQL's query depth and complexity limits (`EVENTHUB_GRAPHQL_*`; see
    /// [`crate::graphql::Settings`]).
    pub graphql: crate::graphql::Settings,
    /// The job queue: poll interval, how long done jobs are kept, NOTIFY wake-ups
    /// (`EVENTHUB_JOBS_*`; see [`crate::jobs::Settings`]).
    pub jobs: crate::jobs::Settings,
    /// How often reminders are scheduled (`EVENTHUB_REMINDER_INTERVAL_SECS`, 60; `off`; see
    /// [`crate::mail::reminders`]).
    pub reminders: crate::mail::reminders::Settings,
    /// Logs: format, folder, roll-over size and days kept (`EVENTHUB_LOG_*`; see
    /// [`crate::logs::Settings`]).
    pub logs: crate::logs::Settings,
    /// `EVENTHUB_ENV=production` (or `development`, the default): in production the server
    /// refuses to start with unsafe settings (see [`crate::ops::production`]).
    pub production: bool,
    /// Whether the media folder (`data_dir/media`) is one shared mount on every machine
    /// (`EVENTHUB_MEDIA_SHARED`, false): without it (or Cloudinary), a process on another host
    /// serving this database is reported, and refused in production (see
    /// [`crate::ops::instances`]).
    pub media_shared: bool,
    /// Whether `EVENTHUB_SECRET_KEY` was given (production wants it, not a generated key).
    pub secret_given: bool,
    /// Where `eventhub worker` answers `/healthz`, `/readyz` and `/metrics`
    /// (`EVENTHUB_WORKER_ADDR`, 127.0.0.1:3001; `off` for nowhere).
    pub worker_addr: Option<SocketAddr>,
    /// Scheduled backups (`EVENTHUB_BACKUP_EVERY`, `_KEEP`, `_DIR`; see
    /// [`crate::ops::backup::Schedule`]).
    pub backups: crate::ops::backup::Schedule,
}

/// A Cloudinary account. `api_base` is `https://api.cloudinary.com` unless
/// `EVENTHUB_CLOUDINARY_API` points elsewhere (a fake server in tests).
#[derive(Clone, Debug)]
pub struct Cloudinary {
    pub cloud_name: String,
    pub api_key: String,
    pub api_secret: Secret,
    pub api_base: String,
}

impl Cloudinary {
    /// Reads `cloudinary://key:secret@cloud`.
    pub fn parse(url: &str, api_base: &str) -> Result<Self> {
        let rest = url
            .strip_prefix("cloudinary://")
            .context("EVENTHUB_CLOUDINARY_URL must look like cloudinary://key:secret@cloud")?;
        let (creds, cloud_name) = rest
            .rsplit_once('@')
            .context("EVENTHUB_CLOUDINARY_URL lacks @cloud")?;
        let (api_key, api_secret) = creds
            .split_once(':')
            .context("EVENTHUB_CLOUDINARY_URL lacks key:secret")?;
        if [cloud_name, api_key, api_secret]
            .iter()
            .any(|p| p.is_empty())
        {
            anyhow::bail!("EVENTHUB_CLOUDINARY_URL has an empty part");
        }
        Ok(Cloudinary {
            cloud_name: cloud_name.trim_end_matches('/').to_owned(),
            api_key: api_key.to_owned(),
            api_secret: Secret(api_secret.to_owned()),
            api_base: api_base.to_owned(),
        })
    }
}

/// A secret string that never shows in logs.
#[derive(Clone)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("data_dir", &self.data_dir)
            .field("database_url", &redact_url(&self.database_url))
            .field("secret_key", &self.secret_key)
            .field("site_root", &self.site_root)
            .field("public_url", &self.public_url)
            .field("cloudinary", &self.cloudinary)
            .field("ai", &self.ai)
            .field("assistant_rate", &self.assistant_rate)
            .field("metrics_token", &self.metrics_token)
            .field("shutdown_grace", &self.shutdown_grace)
            .field("db_limits", &self.db_limits)
            .field("cors_origins", &self.cors_origins)
            .field("request_timeout", &self.request_timeout)
            .field("serving", &self.serving)
            .field("workers", &self.workers)
            .field("reminders", &self.reminders)
            .field("logs", &self.logs)
            .field(
                "smtp_url",
                &self.smtp_url.as_ref().map(|s| redact_url(&s.0)),
            )
            .field("smtp_ca_file", &self.smtp_ca_file)
            .field("mail_from", &self.mail_from)
            .field("webhooks", &self.webhooks)
            .field("graphql", &self.graphql)
            .field("jobs", &self.jobs)
            .field("production", &self.production)
            .field("media_shared", &self.media_shared)
            .field("worker_addr", &self.worker_addr)
            .field("backups", &self.backups)
            .field("trusted_proxies", &self.trusted_proxies)
            .finish()
    }
}

/// Hides a password in a connection URL (`postgres://user:***@host/db`).
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

impl Config {
    /// Reads the environment, creating the data dir and the secret key file when missing.
    pub fn from_env() -> Result<Self> {
        Self::from_vars(|name: &str| std::env::var(name).ok())
    }

    /// Reads settings through `read` (the environment, or a table in tests); an empty value
    /// counts as unset.
    pub fn from_vars(read: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let var = |name: &str| read(name).filter(|v| !v.trim().is_empty());
        let addr = var("EVENTHUB_ADDR")
            .unwrap_or_else(|| "127.0.0.1:3000".into())
            .parse()
            .context("EVENTHUB_ADDR must look like 127.0.0.1:3000")?;
        let data_dir = PathBuf::from(var("EVENTHUB_DATA_DIR").unwrap_or_else(|| "data".into()));
        create_private_dir(&data_dir)?;
        let database_url = var("EVENTHUB_DATABASE_URL")
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("eventhub.db").display()));
        let secret_key = choose_secret(
            var("EVENTHUB_SECRET_KEY"),
            &database_url,
            &data_dir.join("secret.key"),
        )?;
        if secret_key.0.len() < 32 {
            anyhow::bail!("EVENTHUB_SECRET_KEY must be at least 32 characters");
        }
        let site_root =
            PathBuf::from(var("EVENTHUB_SITE_ROOT").unwrap_or_else(|| "target/site".into()));
        let public_url = var("EVENTHUB_PUBLIC_URL").unwrap_or_else(|| format!("http://{addr}"));
        let cloudinary_api =
            var("EVENTHUB_CLOUDINARY_API").unwrap_or_else(|| "https://api.cloudinary.com".into());
        let cloudinary = var("EVENTHUB_CLOUDINARY_URL")
            .map(|url| Cloudinary::parse(&url, &cloudinary_api))
            .transpose()?;
        let ai = Ai::from_vars(var)?;
        let assistant_rate = crate::rate::Rate::setting(
            "EVENTHUB_AI_RATE",
            var("EVENTHUB_AI_RATE").as_deref(),
            Some(ASSISTANT_RATE),
        )?;
        let millis = |name: &str, default: u64| -> Result<Option<std::time::Duration>> {
            Ok(parse_limit(name, var(name).as_deref(), default)?
                .map(std::time::Duration::from_millis))
        };
        let db_limits = crate::db::Limits {
            lock_timeout: millis("EVENTHUB_PG_LOCK_TIMEOUT_MS", 5_000)?,
            statement_timeout: millis("EVENTHUB_PG_STATEMENT_TIMEOUT_MS", 30_000)?,
        };
        let shutdown_grace = parse_limit(
            "EVENTHUB_SHUTDOWN_GRACE_SECS",
            var("EVENTHUB_SHUTDOWN_GRACE_SECS").as_deref(),
            10,
        )?
        .map_or(std::time::Duration::MAX, std::time::Duration::from_secs);
        let limits = crate::rate::RequestLimits::from_vars(var)?;
        let trusted_proxies = var("EVENTHUB_TRUSTED_PROXIES")
            .map(|list| parse_networks(&list))
            .transpose()?
            .unwrap_or_default();
        // CORS and the request time limit (guard.rs).
        let cors_origins = var("EVENTHUB_CORS_ORIGINS")
            .map(|list| parse_origins(&list))
            .transpose()?
            .unwrap_or_default();
        let request_timeout = match parse_limit(
            "EVENTHUB_REQUEST_TIMEOUT_SECS",
            var("EVENTHUB_REQUEST_TIMEOUT_SECS").as_deref(),
            30,
        )? {
            Some(0) => anyhow::bail!("EVENTHUB_REQUEST_TIMEOUT_SECS must be positive or `off`"),
            secs => secs.map(std::time::Duration::from_secs),
        };
        // End of CORS and the request time limit.
        let serving = crate::serve::Serving::from_vars(var)?;
        // Jobs and mail (jobs/, mail/).
        let workers =
            parse_limit("EVENTHUB_WORKERS", var("EVENTHUB_WORKERS").as_deref(), 2)?.unwrap_or(0);
        if workers > 64 {
            anyhow::bail!("EVENTHUB_WORKERS must be at most 64, not {workers}");
        }
        let mail_from = var("EVENTHUB_MAIL_FROM").unwrap_or_else(|| DEFAULT_MAIL_FROM.into());
        // End of jobs and mail.
        let webhooks = crate::webhooks::Settings::from_vars(var)?;
        let graphql = crate::graphql::Settings::from_vars(var)?;
        let jobs = crate::jobs::Settings::from_vars(var)?;
        let reminders = crate::mail::reminders::Settings::from_vars(var)?;
        let logs = crate::logs::Settings::from_vars(var, &data_dir)?;
        let production = match var("EVENTHUB_ENV").as_deref().map(str::trim) {
            None | Some("development") => false,
            Some("production") => true,
            Some(other) => {
                anyhow::bail!("EVENTHUB_ENV must be production or development, not {other:?}")
            }
        };
        let worker_addr = match var("EVENTHUB_WORKER_ADDR").as_deref().map(str::trim) {
            Some(off) if off.eq_ignore_ascii_case("off") => None,
            given => Some(given.unwrap_or("127.0.0.1:3001").parse().with_context(
                || "EVENTHUB_WORKER_ADDR must look like 127.0.0.1:3001, or be off",
            )?),
        };
        let backups = crate::ops::backup::Schedule::from_vars(var, &data_dir)?;
        let media_shared =
            parse_flag("EVENTHUB_MEDIA_SHARED", var("EVENTHUB_MEDIA_SHARED"), false)?;
        Ok(Config {
            production,
            media_shared,
            secret_given: var("EVENTHUB_SECRET_KEY").is_some(),
            worker_addr,
            backups,
            reminders,
            logs,
            webhooks,
            graphql,
            jobs,
            workers: usize::try_from(workers).unwrap_or(0),
            smtp_url: var("EVENTHUB_SMTP_URL").map(Secret),
            smtp_ca_file: var("EVENTHUB_SMTP_CA_FILE").map(PathBuf::from),
            mail_from,
            serving,
            limits,
            trusted_proxies,
            cors_origins,
            request_timeout,
            metrics_token: var("EVENTHUB_METRICS_TOKEN").map(Secret),
            ai,
            assistant_rate,
            cloudinary,
            shutdown_grace,
            db_limits,
            ..Config::embedded(data_dir, database_url, secret_key)
        }
        .at(addr, site_root, public_url))
    }

    /// The embedded defaults around a data dir, a database and a key (what tests and
    /// benchmarks start from): no outside services, the default limits.
    pub fn embedded(data_dir: PathBuf, database_url: String, secret_key: Secret) -> Config {
        Config {
            addr: "127.0.0.1:3000".parse().expect("a literal address"),
            database_url,
            secret_key,
            site_root: PathBuf::from("target/site"),
            public_url: "http://127.0.0.1:3000".into(),
            cloudinary: None,
            ai: None,
            assistant_rate: Some(ASSISTANT_RATE),
            metrics_token: None,
            shutdown_grace: std::time::Duration::from_secs(10),
            db_limits: crate::db::Limits::default(),
            limits: crate::rate::RequestLimits::default(),
            trusted_proxies: Vec::new(),
            cors_origins: Vec::new(),
            request_timeout: Some(std::time::Duration::from_secs(30)),
            // Tests and benchmarks run the queue themselves (`jobs::worker::drain`) or ask.
            workers: 0,
            smtp_url: None,
            smtp_ca_file: None,
            mail_from: DEFAULT_MAIL_FROM.into(),
            serving: crate::serve::Serving::default(),
            webhooks: crate::webhooks::Settings::default(),
            graphql: crate::graphql::Settings::default(),
            jobs: crate::jobs::Settings::default(),
            reminders: crate::mail::reminders::Settings::default(),
            logs: crate::logs::Settings::from_vars(|_| None, &data_dir)
                .expect("the default log settings"),
            production: false,
            media_shared: false,
            secret_given: true,
            worker_addr: None,
            backups: crate::ops::backup::Schedule::from_vars(|_| None, &data_dir)
                .expect("the default backup schedule"),
            data_dir,
        }
    }

    /// The same configuration served at `addr` from `site_root`, known as `public_url`.
    pub fn at(self, addr: SocketAddr, site_root: PathBuf, public_url: String) -> Config {
        Config {
            addr,
            site_root,
            public_url,
            ..self
        }
    }

    /// Session cookies carry `Secure` when the site is served over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// The given key; without one, the key file (made on first start) — except on PostgreSQL:
/// several processes share it, and a key made here would differ from the others', so their
/// sessions, tokens and tickets would not verify here.
fn choose_secret(given: Option<String>, database_url: &str, key_file: &Path) -> Result<Secret> {
    match given {
        Some(key) => Ok(Secret(key)),
        None if is_postgres(database_url) => anyhow::bail!(
            "EVENTHUB_SECRET_KEY must be set with PostgreSQL: every server process on one \
             database needs the same key (e.g. the output of `openssl rand -hex 32`)"
        ),
        None => load_or_create_secret(key_file),
    }
}

/// The sender of mail when `EVENTHUB_MAIL_FROM` is not set.
const DEFAULT_MAIL_FROM: &str = "EventHub <no-reply@localhost>";

/// Questions one user may ask the assistant: twenty per ten minutes.
const ASSISTANT_RATE: crate::rate::Rate = crate::rate::Rate::new(20, 600);

/// `10.0.0.0/8, 127.0.0.1, ::1`: networks, a bare address meaning only itself.
fn parse_networks(list: &str) -> Result<Vec<ipnet::IpNet>> {
    list.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse::<ipnet::IpNet>()
                .or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .with_context(|| {
                    format!("EVENTHUB_TRUSTED_PROXIES: {item:?} is not an address or network (e.g. 10.0.0.0/8)")
                })
        })
        .collect()
}

/// `https://a.example, http://localhost:8080`: origins as browsers send them in `Origin` —
/// scheme (http or https), host and an optional port, nothing else. Each comes back in that
/// form (lower case, a default port dropped) so a plain comparison matches.
fn parse_origins(list: &str) -> Result<Vec<String>> {
    list.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            parse_origin(item).with_context(|| {
                format!(
                    "EVENTHUB_CORS_ORIGINS: {item:?} is not an origin like https://app.example \
                     or http://localhost:8080 (scheme, host and port only, no path)"
                )
            })
        })
        .collect()
}

fn parse_origin(item: &str) -> Option<String> {
    let lower = item.to_ascii_lowercase();
    let (scheme, authority) = lower.split_once("://")?;
    let default_port = match scheme {
        "http" => "80",
        "https" => "443",
        _ => return None,
    };
    let (host, port) = match authority.rsplit_once(':') {
        // An IPv6 address without a port ends in `]`: its colons are not a port.
        Some((host, port)) if !port.contains(']') => (host, Some(port)),
        _ => (authority, None),
    };
    let bracketed_ipv6 = host.len() > 2
        && host.starts_with('[')
        && host.ends_with(']')
        && host[1..host.len() - 1]
            .parse::<std::net::Ipv6Addr>()
            .is_ok();
    let name = !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if !(bracketed_ipv6 || name) {
        return None;
    }
    match port {
        None => Some(format!("{scheme}://{host}")),
        Some(port) if port.parse::<u16>().is_ok_and(|p| p > 0) && !port.starts_with('0') => {
            Some(if port == default_port {
                format!("{scheme}://{host}")
            } else {
                format!("{scheme}://{host}:{port}")
            })
        }
        Some(_) => None,
    }
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The data dir, readable by its owner only (it holds the secret key and the database).
fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .with_context(|| format!("cannot create data dir {}", dir.display()))
}

/// Reads the key file, or creates it — with mode 0600 from the first byte, and only if no
/// other process created it meanwhile (then theirs is read).
fn load_or_create_secret(path: &Path) -> Result<Secret> {
    use std::io::Write;
    if let Ok(existing) = std::fs::read_to_string(path) {
        return Ok(Secret(existing.trim().to_owned()));
    }
    let key = crate::random_hex(32);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(key.as_bytes())
                .and_then(|()| file.sync_all())
                .with_context(|| format!("cannot write {}", path.display()))?;
            Ok(Secret(key))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let existing = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Ok(Secret(existing.trim().to_owned()))
        }
        Err(e) => Err(e).with_context(|| format!("cannot write {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let proxies = parse_networks("10.0.0.0/8, 127.0.0.1 ,::1").unwrap();
        assert!(proxies[0].contains(&"10.1.2.3".parse::<std::net::IpAddr>().unwrap()));
        assert!(proxies[1].contains(&"127.0.0.1".parse::<std::net::IpAddr>().unwrap()));
        assert!(!proxies[1].contains(&"127.0.0.2".parse::<std::net::IpAddr>().unwrap()));
        assert_eq!(proxies.len(), 3);
        let err = parse_networks("10.0.0.0/8,proxy.local").unwrap_err();
        assert!(
            err.to_string()
                .contains("\"proxy.local\" is not an address"),
            "{err}"
        );
    }

    #[test]
    fn cors_origins_are_scheme_host_and_port_only() {
        assert_eq!(
            parse_origins(
                " https://A.example , http://localhost:8080,https://b.example:443,http://[::1]:3000"
            )
            .unwrap(),
            [
                "https://a.example",
                "http://localhost:8080",
                "https://b.example",
                "http://[::1]:3000"
            ]
        );
        for bad in [
            "a.example",
            "https://a.example/",
            "https://a.example/app",
            "https://a.example?x",
            "https://user@a.example",
            "ftp://a.example",
            "https://",
            "https://a..example",
            "https://a.example:0",
            "https://a.example:99999",
            "https://a.example:",
            "*",
        ] {
            let err = parse_origins(&format!("https://ok.example,{bad}")).unwrap_err();
            assert!(
                err.to_string().starts_with("EVENTHUB_CORS_ORIGINS: "),
                "{bad}: {err}"
            );
        }
        assert!(parse_origins(" , ").unwrap().is_empty());
    }

    #[test]
    fn passwords_in_database_urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://eh:hunter2@127.0.0.1:5432/eh"),
            "postgres://eh:***@127.0.0.1:5432/eh"
        );
        assert_eq!(
            redact_url("sqlite://data/eventhub.db"),
            "sqlite://data/eventhub.db"
        );
    }

    #[test]
    fn cloudinary_urls_are_read_and_their_secret_hidden() {
        let c = Cloudinary::parse("cloudinary://123:s3cr3t@demo", "https://api.cloudinary.com")
            .unwrap();
        assert_eq!((c.api_key.as_str(), c.cloud_name.as_str()), ("123", "demo"));
        assert!(!format!("{c:?}").contains("s3cr3t"));
        assert!(Cloudinary::parse("https://x", "").is_err());
        assert!(Cloudinary::parse("cloudinary://123@demo", "").is_err());
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        assert_eq!(format!("{:?}", Secret("top-secret".into())), "Secret(***)");
    }

    #[cfg(unix)]
    #[test]
    fn the_secret_and_the_data_dir_are_the_owners_only() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data");
        create_private_dir(&dir).unwrap();
        let key = load_or_create_secret(&dir.join("secret.key")).unwrap();
        assert_eq!(key.0.len(), 64);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("secret.key")), 0o600);
        // A second start reads the same key.
        assert_eq!(
            load_or_create_secret(&dir.join("secret.key")).unwrap().0,
            key.0
        );
        // PostgreSQL (several processes) needs the key given; SQLite makes one.
        let pg = choose_secret(None, "postgres://db/eventhub", &dir.join("other.key"));
        assert!(
            pg.unwrap_err()
                .to_string()
                .contains("EVENTHUB_SECRET_KEY must be set")
        );
        assert!(!dir.join("other.key").exists());
        assert_eq!(
            choose_secret(None, "sqlite://x.db", &dir.join("secret.key"))
                .unwrap()
                .0,
            key.0
        );
    }

    #[test]
    fn limits_read_numbers_or_off() {
        assert_eq!(parse_limit("X", None, 7).unwrap(), Some(7));
        assert_eq!(parse_limit("X", Some("250"), 7).unwrap(), Some(250));
        assert_eq!(parse_limit("X", Some("OFF"), 7).unwrap(), None);
        let err = parse_limit("EVENTHUB_X", Some("soon"), 7).unwrap_err();
        assert!(
            err.to_string()
                .contains("EVENTHUB_X must be a whole number or `off`")
        );
    }
}
