//! `eventhub backup`: one `.tar.gz` holding `manifest.json` (format, version, engine, time,
//! the rows of every table, the media files), the database and `media/` — taken online,
//! while the server keeps serving and booking:
//! - SQLite: `VACUUM INTO` writes a consistent copy from one read transaction; the copy is
//!   checked (`PRAGMA integrity_check`) and counted, so the manifest describes the copy itself.
//! - PostgreSQL: a `REPEATABLE READ` transaction exports its snapshot, counts the rows in it,
//!   and `pg_dump --snapshot` dumps exactly that snapshot (custom format, for `pg_restore`).
//!
//! `serve` also takes them on a schedule (`EVENTHUB_BACKUP_EVERY`), keeping the newest
//! `EVENTHUB_BACKUP_KEEP` in `EVENTHUB_BACKUP_DIR`.
use super::{Counts, count_files};
use crate::db::Db;
use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The archive layout this version writes and reads.
pub const FORMAT: u32 = 1;
pub(crate) const MANIFEST: &str = "manifest.json";
pub(crate) const SQLITE_ENTRY: &str = "database.sqlite";
pub(crate) const PG_ENTRY: &str = "database.pgdump";
pub(crate) const MEDIA: &str = "media";
/// Where the last backup is recorded in the data dir (for `/admin/system`).
const LAST: &str = "last-backup.json";

/// What an archive holds, written first into it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// The EventHub version that wrote it.
    pub version: String,
    /// `sqlite` or `postgres`: an archive restores onto the engine it came from.
    pub engine: String,
    pub created_at: DateTime<Utc>,
    /// The newest migration the database had.
    pub migration: i64,
    /// Rows per table, counted in the copy (SQLite) or in the dumped snapshot (PostgreSQL).
    pub counts: Counts,
    pub media_files: u64,
}

/// A backup written.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Written {
    pub path: PathBuf,
    pub bytes: u64,
    pub manifest: Manifest,
}

/// Writes a backup of `db` and `data_dir/media` to `to` (a `.partial` file renamed into
/// place once whole, so a file with the final name is always complete), readable by its
/// owner only: it holds password hashes.
pub async fn create(db: &Db, database_url: &str, data_dir: &Path, to: &Path) -> Result<Written> {
    let parent = to
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create the folder {}", parent.display()))?;
    let work = tempfile::Builder::new()
        .prefix(".eventhub-backup-")
        .tempdir_in(parent)
        .with_context(|| format!("cannot write into {}", parent.display()))?;
    let (entry, copy) = match db {
        Db::Sqlite(_) => (SQLITE_ENTRY, work.path().join(SQLITE_ENTRY)),
        Db::Postgres(_) => (PG_ENTRY, work.path().join(PG_ENTRY)),
    };
    let (counts, migration) = match db {
        Db::Sqlite(pool) => {
            sqlx::query("VACUUM INTO ?")
                .bind(copy.to_string_lossy().into_owned())
                .execute(pool)
                .await
                .context("SQLite could not copy the database (VACUUM INTO)")?;
            check_sqlite_copy(&copy).await?
        }
        Db::Postgres(pool) => dump_postgres(pool, database_url, &copy).await?,
    };
    let media = data_dir.join(MEDIA);
    let manifest = Manifest {
        format: FORMAT,
        version: env!("CARGO_PKG_VERSION").into(),
        engine: db.engine().into(),
        created_at: crate::db::now(),
        migration,
        counts,
        media_files: count_files(&media),
    };
    let to = to.to_path_buf();
    let written = {
        let manifest = manifest.clone();
        tokio::task::spawn_blocking(move || pack(&to, &manifest, entry, &copy, &media))
            .await
            .context("the archive writer stopped")??
    };
    drop(work);
    let written = Written {
        path: written.0,
        bytes: written.1,
        manifest,
    };
    if let Err(e) = std::fs::write(data_dir.join(LAST), serde_json::to_vec(&written)?) {
        tracing::warn!("cannot record the last backup in the data dir: {e}");
    }
    Ok(written)
}

/// The last backup this data dir wrote, if any.
pub fn last(data_dir: &Path) -> Option<Written> {
    let bytes = std::fs::read(data_dir.join(LAST)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Opens a SQLite copy read-only: it must pass `PRAGMA integrity_check`; answers its rows
/// per table and its newest migration.
pub(crate) async fn check_sqlite_copy(path: &Path) -> Result<(Counts, i64)> {
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .read_only(true);
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .with_context(|| format!("cannot open the copy {}", path.display()))?;
    let verdict: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&pool)
        .await?;
    if verdict != ["ok"] {
        bail!("the database copy is damaged: {}", verdict.join("; "));
    }
    let broken: Vec<(String,)> = sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check")
        .fetch_all(&pool)
        .await?;
    if !broken.is_empty() {
        bail!(
            "the database copy has rows pointing at missing rows in {}",
            broken
                .iter()
                .map(|b| b.0.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let copy = Db::Sqlite(pool);
    let counts = super::counts(&copy).await?;
    let migration = newest_migration(&copy).await?;
    if let Db::Sqlite(pool) = copy {
        pool.close().await;
    }
    Ok((counts, migration))
}

pub(crate) async fn newest_migration(db: &Db) -> Result<i64> {
    let sql = "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success";
    crate::on_db!(db, pool => sqlx::query_scalar(sql).fetch_one(pool).await)
        .context("cannot read the migration ledger")
}

/// Counts the rows in an exported snapshot and has `pg_dump` dump that same snapshot.
async fn dump_postgres(
    pool: &sqlx::PgPool,
    database_url: &str,
    to: &Path,
) -> Result<(Counts, i64)> {
    let tool = PgTool::find("pg_dump")?;
    let tables = super::tables(&Db::Postgres(pool.clone())).await?;
    let mut conn = pool.acquire().await?;
    sqlx::query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *conn)
        .await?;
    let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
        .fetch_one(&mut *conn)
        .await?;
    let mut counts = Counts::new();
    for table in tables {
        let sql = format!("SELECT COUNT(*) FROM {}", table.quoted);
        counts.insert(
            table.name,
            sqlx::query_scalar(&sql).fetch_one(&mut *conn).await?,
        );
    }
    let migration: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success")
            .fetch_one(&mut *conn)
            .await?;
    let args = vec![
        "--format=custom".to_owned(),
        format!("--snapshot={snapshot}"),
        format!("--file={}", to.display()),
    ];
    let dumped = tool.run(database_url, args).await;
    // The snapshot must outlive the dump; only then may the transaction end.
    sqlx::query("COMMIT").execute(&mut *conn).await?;
    dumped?;
    Ok((counts, migration))
}

/// One of PostgreSQL's client programs (`pg_dump`, `pg_restore`), found on `PATH`.
pub(crate) struct PgTool(&'static str);

impl PgTool {
    pub(crate) fn find(name: &'static str) -> Result<Self> {
        match std::process::Command::new(name)
            .arg("--version")
            .stdout(std::process::Stdio::null())
            .status()
        {
            Ok(_) => Ok(PgTool(name)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
                "{name} was not found on PATH: PostgreSQL databases are backed up and restored \
                 with PostgreSQL's client programs (Debian: apt install postgresql-client)"
            ),
            Err(e) => bail!("cannot run {name}: {e}"),
        }
    }

    /// Runs it against `database_url` with `args`; the password travels in `PGPASSWORD`,
    /// not on the command line where other users could read it.
    pub(crate) async fn run(&self, database_url: &str, mut args: Vec<String>) -> Result<()> {
        let (url, password) = split_password(database_url)?;
        args.push(format!("--dbname={url}"));
        let name = self.0;
        let output = tokio::task::spawn_blocking(move || {
            let mut command = std::process::Command::new(name);
            command.args(&args);
            if let Some(password) = password {
                command.env("PGPASSWORD", password);
            }
            command.output()
        })
        .await?
        .with_context(|| format!("cannot run {name}"))?;
        if !output.status.success() {
            bail!(
                "{name} failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(())
    }
}

/// The URL without its password, and the password.
fn split_password(database_url: &str) -> Result<(String, Option<String>)> {
    let mut url = url::Url::parse(database_url).context("bad PostgreSQL URL")?;
    let password = url.password().map(|p| {
        percent_encoding::percent_decode_str(p)
            .decode_utf8_lossy()
            .into_owned()
    });
    url.set_password(None)
        .map_err(|()| anyhow::anyhow!("bad PostgreSQL URL"))?;
    Ok((url.to_string(), password))
}

/// Writes the archive: the manifest, the database, the media folder.
fn pack(
    to: &Path,
    manifest: &Manifest,
    entry: &str,
    database: &Path,
    media: &Path,
) -> Result<(PathBuf, u64)> {
    let mut partial = to.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let file = private_file(&partial)?;
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        file,
        flate2::Compression::default(),
    ));
    let json = serde_json::to_vec_pretty(manifest)?;
    let mut header = tar::Header::new_gnu();
    header.set_size(json.len() as u64);
    header.set_mode(0o600);
    header.set_mtime(u64::try_from(manifest.created_at.timestamp()).unwrap_or(0));
    header.set_cksum();
    tar.append_data(&mut header, MANIFEST, json.as_slice())?;
    tar.append_path_with_name(database, entry)?;
    if media.is_dir() {
        tar.append_dir_all(MEDIA, media)?;
    }
    let file = tar.into_inner()?.finish()?;
    file.sync_all()?;
    let bytes = file.metadata()?.len();
    std::fs::rename(&partial, to)
        .with_context(|| format!("cannot move the archive to {}", to.display()))?;
    Ok((to.to_path_buf(), bytes))
}

fn private_file(path: &Path) -> Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))
}

/// Scheduled backups (`serve` only).
#[derive(Clone, Debug)]
pub struct Schedule {
    /// How often (`EVENTHUB_BACKUP_EVERY`, e.g. `6h`, `1day`; `off`, the default: never).
    pub every: Option<Duration>,
    /// How many scheduled archives are kept, the newest (`EVENTHUB_BACKUP_KEEP`, 7; `off`: all).
    pub keep: Option<usize>,
    /// Where they go (`EVENTHUB_BACKUP_DIR`, `data_dir/backups`).
    pub dir: PathBuf,
}

impl Schedule {
    pub fn from_vars(var: impl Fn(&str) -> Option<String>, data_dir: &Path) -> Result<Self> {
        let every = match var("EVENTHUB_BACKUP_EVERY") {
            None => None,
            Some(v) if v.trim().eq_ignore_ascii_case("off") => None,
            Some(v) => {
                let every = humantime::parse_duration(v.trim()).map_err(|e| {
                    anyhow::anyhow!(
                        "EVENTHUB_BACKUP_EVERY must be a duration like 6h or 1day, or off ({e})"
                    )
                })?;
                if every < Duration::from_secs(60) {
                    bail!("EVENTHUB_BACKUP_EVERY must be at least a minute, not {v}");
                }
                Some(every)
            }
        };
        let keep = crate::rate::parse_limit(
            "EVENTHUB_BACKUP_KEEP",
            var("EVENTHUB_BACKUP_KEEP").as_deref(),
            7,
        )?;
        if keep == Some(0) {
            bail!("EVENTHUB_BACKUP_KEEP must be at least 1, or off to keep them all");
        }
        Ok(Schedule {
            every,
            keep: keep.map(|k| usize::try_from(k).unwrap_or(usize::MAX)),
            dir: var("EVENTHUB_BACKUP_DIR").map_or_else(|| data_dir.join("backups"), PathBuf::from),
        })
    }
}

/// `eventhub-20261207T120000Z.tar.gz`: sorted by name is sorted by time.
pub fn archive_name(at: DateTime<Utc>) -> String {
    format!("eventhub-{}.tar.gz", at.format("%Y%m%dT%H%M%SZ"))
}

/// The scheduled archives in `dir`, newest first.
pub fn scheduled(dir: &Path) -> Vec<(DateTime<Utc>, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<(DateTime<Utc>, PathBuf)> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let stamp = name.strip_prefix("eventhub-")?.strip_suffix(".tar.gz")?;
            let at = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ").ok()?;
            Some((at.and_utc(), entry.path()))
        })
        .collect();
    found.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    found
}

/// Removes all but the newest `keep` scheduled archives; answers what it removed.
pub fn prune(dir: &Path, keep: usize) -> Vec<PathBuf> {
    scheduled(dir)
        .into_iter()
        .skip(keep)
        .filter_map(|(_, path)| match std::fs::remove_file(&path) {
            Ok(()) => Some(path),
            Err(e) => {
                tracing::warn!(path = %path.display(), "cannot remove an old backup: {e}");
                None
            }
        })
        .collect()
}

/// When the next scheduled backup is due: `every` after the newest, or a minute after start
/// when there is none yet (so turning the schedule on soon shows it works).
pub fn next_due(
    newest: Option<DateTime<Utc>>,
    every: Duration,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let every = chrono::Duration::from_std(every).unwrap_or(chrono::Duration::MAX);
    match newest {
        Some(at) => (at + every).max(now),
        None => now + chrono::Duration::minutes(1).min(every),
    }
}

/// Runs the schedule until `stop`: back up, prune, sleep until the next is due.
pub fn spawn(
    schedule: Schedule,
    db: Db,
    database_url: String,
    data_dir: PathBuf,
    stop: tokio_util::sync::CancellationToken,
) {
    let Some(every) = schedule.every else {
        return;
    };
    tokio::spawn(async move {
        loop {
            let newest = scheduled(&schedule.dir).first().map(|(at, _)| *at);
            let due = next_due(newest, every, Utc::now());
            let wait = (due - Utc::now()).to_std().unwrap_or_default();
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
            }
            let to = schedule.dir.join(archive_name(Utc::now()));
            match create(&db, &database_url, &data_dir, &to).await {
                Ok(written) => tracing::info!(
                    path = %written.path.display(),
                    bytes = written.bytes,
                    "backup written: {}",
                    super::summary(&written.manifest.counts)
                ),
                Err(e) => {
                    tracing::error!("scheduled backup failed: {e:#}");
                    // Not at once again: the next try waits a while whatever the failure.
                    tokio::select! {
                        () = stop.cancelled() => return,
                        () = tokio::time::sleep(Duration::from_secs(300).min(every)) => {}
                    }
                    continue;
                }
            }
            if let Some(keep) = schedule.keep {
                for removed in prune(&schedule.dir, keep) {
                    tracing::info!(path = %removed.display(), "old backup removed");
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn archive_names_sort_by_time_and_only_they_are_pruned() {
        let dir = tempfile::tempdir().unwrap();
        for day in 1..=5 {
            let name = archive_name(at(&format!("2026-12-0{day}T03:00:00Z")));
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        std::fs::write(dir.path().join("mine.tar.gz"), b"x").unwrap();
        let removed = prune(dir.path(), 2);
        assert_eq!(removed.len(), 3);
        let left: Vec<DateTime<Utc>> = scheduled(dir.path()).into_iter().map(|(t, _)| t).collect();
        assert_eq!(
            left,
            [at("2026-12-05T03:00:00Z"), at("2026-12-04T03:00:00Z")]
        );
        assert!(dir.path().join("mine.tar.gz").exists(), "other files stay");
    }

    #[test]
    fn the_next_backup_follows_the_newest_or_comes_soon_after_start() {
        let now = at("2026-12-07T12:00:00Z");
        let day = Duration::from_secs(86_400);
        assert_eq!(
            next_due(Some(at("2026-12-07T03:00:00Z")), day, now),
            at("2026-12-08T03:00:00Z")
        );
        assert_eq!(next_due(Some(at("2026-12-01T03:00:00Z")), day, now), now);
        assert_eq!(next_due(None, day, now), at("2026-12-07T12:01:00Z"));
    }

    #[test]
    fn the_schedule_reads_durations_counts_and_off() {
        let data = Path::new("data");
        let read = |pairs: &'static [(&'static str, &'static str)]| {
            Schedule::from_vars(
                |n| {
                    pairs
                        .iter()
                        .find(|(k, _)| *k == n)
                        .map(|(_, v)| (*v).to_owned())
                },
                data,
            )
        };
        let default = read(&[]).unwrap();
        assert_eq!((default.every, default.keep), (None, Some(7)));
        assert_eq!(default.dir, data.join("backups"));
        let set = read(&[
            ("EVENTHUB_BACKUP_EVERY", "6h"),
            ("EVENTHUB_BACKUP_KEEP", "off"),
        ])
        .unwrap();
        assert_eq!(
            (set.every, set.keep),
            (Some(Duration::from_secs(6 * 3600)), None)
        );
        for bad in [
            &[("EVENTHUB_BACKUP_EVERY", "often")][..],
            &[("EVENTHUB_BACKUP_EVERY", "5s")],
            &[("EVENTHUB_BACKUP_KEEP", "0")],
        ] {
            let e = read(bad).unwrap_err().to_string();
            assert!(e.contains(bad[0].0), "{e}");
        }
    }

    #[test]
    fn the_password_leaves_the_url_for_the_environment() {
        let (url, password) =
            split_password("postgres://eh:s%40cret@127.0.0.1:5432/eventhub").unwrap();
        assert_eq!(url, "postgres://eh@127.0.0.1:5432/eventhub");
        assert_eq!(password.as_deref(), Some("s@cret"));
    }
}
