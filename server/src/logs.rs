//! Logs: JSON lines (or text, `EVENTHUB_LOG_FORMAT`) on standard output, and for the long-lived
//! processes (`serve`, `worker`) the same events as JSON lines in a file of their own in
//! `EVENTHUB_LOG_DIR` (`data_dir/logs`) that rolls over at `EVENTHUB_LOG_MAX_MB` (10), keeps
//! `EVENTHUB_LOG_KEEP_DAYS` days (10) and gzips the files it rolled over. One-off commands
//! (`backup`, `create-user`, …) log to standard error only. `RUST_LOG` filters both.
//!
//! The file is written by a background thread (tracing-appender) that never drops a line: a
//! full buffer makes the logging call wait instead. Each line's fields sit at its top level;
//! the spans it happened in (the request's `request_id`, `method`, `route`, `user`) follow
//! in `spans`, outermost first.
use anyhow::{Context, Result};
use file_rotate::compression::Compression;
use file_rotate::suffix::{AppendTimestamp, FileLimit};
use file_rotate::{ContentLimit, FileRotate};
use std::path::{Path, PathBuf};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, fmt};

/// What goes to standard output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Text,
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub format: Format,
    pub dir: PathBuf,
    /// Roll the file over past this many bytes (`None`: never by size).
    pub max_bytes: Option<usize>,
    /// Delete rolled-over files older than this many days (`None`: keep them all).
    pub keep_days: Option<u32>,
    /// The file's name in `dir` (`EVENTHUB_LOG_FILE`), for a second process sharing the
    /// folder; by default `eventhub.log` for `serve` and `worker.log` for `worker`.
    pub file: Option<String>,
}

/// The filter when `RUST_LOG` is not set.
const DEFAULT_FILTER: &str = "info,sqlx=warn,tower_sessions=warn";

impl Settings {
    /// From `EVENTHUB_LOG_FORMAT`, `EVENTHUB_LOG_DIR`, `EVENTHUB_LOG_MAX_MB` and
    /// `EVENTHUB_LOG_KEEP_DAYS` (`off` for no limit), `data_dir` giving the default folder.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>, data_dir: &Path) -> Result<Self> {
        let format = match var("EVENTHUB_LOG_FORMAT").as_deref().map(str::trim) {
            None => Format::Json,
            Some(v) if v.eq_ignore_ascii_case("json") => Format::Json,
            Some(v) if v.eq_ignore_ascii_case("text") => Format::Text,
            Some(v) => anyhow::bail!("EVENTHUB_LOG_FORMAT must be json or text, not {v:?}"),
        };
        let dir = var("EVENTHUB_LOG_DIR").map_or_else(|| data_dir.join("logs"), PathBuf::from);
        let max_bytes = match var("EVENTHUB_LOG_MAX_MB").as_deref().map(str::trim) {
            None => Some(10 * 1024 * 1024),
            Some(v) if v.eq_ignore_ascii_case("off") => None,
            Some(v) => match v.parse::<f64>() {
                Ok(mb) if mb > 0.0 && mb <= 1_048_576.0 => Some((mb * 1024.0 * 1024.0) as usize),
                _ => anyhow::bail!(
                    "EVENTHUB_LOG_MAX_MB must be a size in megabytes above 0 (e.g. 10 or 0.5) or `off`, not {v:?}"
                ),
            },
        };
        let keep_days = match crate::rate::parse_limit(
            "EVENTHUB_LOG_KEEP_DAYS",
            var("EVENTHUB_LOG_KEEP_DAYS").as_deref(),
            10,
        )? {
            None => None,
            Some(days) if (1..=36_500).contains(&days) => Some(days as u32),
            Some(_) => anyhow::bail!("EVENTHUB_LOG_KEEP_DAYS must be 1 to 36500 or `off`"),
        };
        let file = match var("EVENTHUB_LOG_FILE").map(|v| v.trim().to_owned()) {
            None => None,
            Some(name)
                if !name.is_empty()
                    && !name.starts_with('.')
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) =>
            {
                Some(name)
            }
            Some(name) => anyhow::bail!(
                "EVENTHUB_LOG_FILE must be a plain file name (letters, digits, - _ .), not {name:?}"
            ),
        };
        Ok(Settings {
            format,
            dir,
            max_bytes,
            keep_days,
            file,
        })
    }
}

/// Keeps the file's writer thread alive; dropping it writes out what is buffered.
#[must_use = "logs buffered for the file are lost unless the guard lives until exit"]
pub struct Guard(
    #[allow(dead_code, reason = "held for its drop")]
    Option<tracing_appender::non_blocking::WorkerGuard>,
);

/// The process's log file `name` in the settings' folder, rolling over as they say.
pub fn file_writer(settings: &Settings, name: &str) -> Result<FileRotate<AppendTimestamp>> {
    std::fs::create_dir_all(&settings.dir)
        .with_context(|| format!("cannot create the log folder {}", settings.dir.display()))?;
    let limit = match settings.keep_days {
        Some(days) => FileLimit::Age(chrono::Duration::days(i64::from(days))),
        None => FileLimit::Unlimited,
    };
    let content = match settings.max_bytes {
        Some(bytes) => ContentLimit::BytesSurpassed(bytes),
        None => ContentLimit::None,
    };
    Ok(FileRotate::new(
        settings.dir.join(name),
        AppendTimestamp::default(limit),
        content,
        Compression::OnRotate(0),
        Some(private_file()),
    ))
}

/// Log files readable by their owner and group only (they name users and addresses).
fn private_file() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.read(true).create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o640);
    options
}

/// The JSON line format of the file (and of standard output unless text is asked for).
pub fn json_layer<S, W>(writer: W) -> impl Layer<S> + Send + Sync + 'static
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    W: for<'w> fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(true)
        .with_writer(writer)
}

/// Installs the process's logging: standard output, and the file (`EVENTHUB_LOG_FILE`, else
/// `file`: `serve`, `worker`), or standard error alone (`None`: one-off commands).
pub fn init(settings: &Settings, file: Option<&str>) -> Result<Guard> {
    let file = file.map(|default| settings.file.as_deref().unwrap_or(default));
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| DEFAULT_FILTER.into());
    let registry = tracing_subscriber::registry();
    let (file_layer, guard) = match file {
        Some(name) => {
            let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
                .lossy(false)
                .thread_name("eventhub-log")
                .finish(file_writer(settings, name)?);
            (Some(json_layer(writer).with_filter(filter())), Some(guard))
        }
        None => (None, None),
    };
    let console = match (file, settings.format) {
        (Some(_), Format::Json) => json_layer(std::io::stdout).boxed(),
        (Some(_), Format::Text) => fmt::layer().with_writer(std::io::stdout).boxed(),
        (None, Format::Json) => json_layer(std::io::stderr).boxed(),
        (None, Format::Text) => fmt::layer().with_writer(std::io::stderr).boxed(),
    };
    registry
        .with(console.with_filter(filter()))
        .with(file_layer)
        .try_init()
        .context("logging was set up already")?;
    Ok(Guard(guard))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn settings(dir: &Path, vars: &[(&str, &str)]) -> Result<Settings> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_vars(
            |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
            dir,
        )
    }

    #[test]
    fn the_defaults_are_json_ten_megabytes_and_ten_days_in_the_data_folder() {
        let s = settings(Path::new("data"), &[]).unwrap();
        assert_eq!(s.format, Format::Json);
        assert_eq!(s.dir, Path::new("data").join("logs"));
        assert_eq!(s.max_bytes, Some(10 * 1024 * 1024));
        assert_eq!(s.keep_days, Some(10));
        let off = settings(
            Path::new("data"),
            &[
                ("EVENTHUB_LOG_MAX_MB", "off"),
                ("EVENTHUB_LOG_KEEP_DAYS", "off"),
            ],
        )
        .unwrap();
        assert_eq!((off.max_bytes, off.keep_days), (None, None));
    }

    #[test]
    fn bad_settings_are_refused_by_name() {
        for (name, value) in [
            ("EVENTHUB_LOG_FORMAT", "xml"),
            ("EVENTHUB_LOG_MAX_MB", "0"),
            ("EVENTHUB_LOG_MAX_MB", "ten"),
            ("EVENTHUB_LOG_KEEP_DAYS", "0"),
            ("EVENTHUB_LOG_FILE", "../server.log"),
        ] {
            let err = settings(Path::new("data"), &[(name, value)]).unwrap_err();
            assert!(err.to_string().contains(name), "{name}={value}: {err}");
        }
    }

    #[test]
    fn the_file_rolls_over_past_its_size_and_the_old_part_is_gzipped() {
        let dir = tempfile::tempdir().unwrap();
        let s = settings(dir.path(), &[("EVENTHUB_LOG_MAX_MB", "0.001")]).unwrap();
        let mut log = file_writer(&s, "eventhub.log").unwrap();
        let line = format!("{{\"message\":\"{}\"}}\n", "x".repeat(200));
        for _ in 0..12 {
            log.write_all(line.as_bytes()).unwrap();
        }
        log.flush().unwrap();
        let names: Vec<String> = std::fs::read_dir(s.dir.as_path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        let rolled: Vec<&String> = names.iter().filter(|n| n.ends_with(".gz")).collect();
        assert!(names.contains(&"eventhub.log".to_owned()), "{names:?}");
        assert!(!rolled.is_empty(), "rolled over and compressed: {names:?}");
        assert!(
            names
                .iter()
                .all(|n| n == "eventhub.log" || n.ends_with(".gz")),
            "every older part compressed: {names:?}"
        );
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(s.dir.join(rolled[0])).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        assert!(text.lines().count() >= 5, "{text}");
        for l in text.lines() {
            serde_json::from_str::<serde_json::Value>(l).expect("whole JSON lines");
        }
    }
}
