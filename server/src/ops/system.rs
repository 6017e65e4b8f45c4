//! The installation at a glance for admins (`/admin/system`): version, engine, uptime, the
//! database's size, the job queue, the last backup and the data folder's disk.
use crate::db::Db;
use crate::jobs::Jobs;
use crate::sql::Sql;
use app::admin::ports::SystemQueries;
use app::admin::{BackupInfo, SystemStatus};
use app::auth::{Role, UserView};
use app::error::AppError;
use chrono::{DateTime, Utc};
use std::path::PathBuf;
use std::str::FromStr;

pub struct System {
    db: Db,
    jobs: Jobs,
    data_dir: PathBuf,
    /// The SQLite database's file (none on PostgreSQL).
    sqlite_file: Option<PathBuf>,
    started_at: DateTime<Utc>,
    backup_every: Option<std::time::Duration>,
}

impl System {
    pub fn new(
        db: Db,
        jobs: Jobs,
        config: &crate::config::Config,
        started_at: DateTime<Utc>,
    ) -> Self {
        System {
            db,
            jobs,
            data_dir: config.data_dir.clone(),
            sqlite_file: sqlx::sqlite::SqliteConnectOptions::from_str(&config.database_url)
                .ok()
                .filter(|_| config.database_url.starts_with("sqlite:"))
                .map(|o| o.get_filename().to_path_buf()),
            started_at,
            backup_every: config.backups.every,
        }
    }

    /// SQLite: the file and its write-ahead log; PostgreSQL: `pg_database_size`.
    async fn database_bytes(&self) -> Result<i64, AppError> {
        match (&self.db, &self.sqlite_file) {
            (Db::Sqlite(_), Some(path)) => {
                let mut wal = path.as_os_str().to_owned();
                wal.push("-wal");
                Ok([path.clone(), PathBuf::from(wal)]
                    .iter()
                    .filter_map(|p| std::fs::metadata(p).ok())
                    .map(|m| i64::try_from(m.len()).unwrap_or(i64::MAX))
                    .sum())
            }
            (Db::Sqlite(_), None) => Ok(0),
            (Db::Postgres(_), _) => Ok(self
                .db
                .scalar(Sql::new("SELECT pg_database_size(current_database())"))
                .await
                .map_err(crate::error::StoreError::from)?),
        }
    }
}

#[async_trait::async_trait]
impl SystemQueries for System {
    #[tracing::instrument(skip_all, fields(actor = %actor.id))]
    async fn system_status(&self, actor: &UserView) -> Result<SystemStatus, AppError> {
        app::auth::rules::check_role(actor, Role::Admin)?;
        let now = crate::db::now();
        let depth = self.jobs.depth(now).await?;
        let (disk_free_bytes, disk_total_bytes) = match rustix::fs::statvfs(&self.data_dir) {
            Ok(fs) => {
                let block = fs.f_frsize;
                let bytes = |blocks: u64| i64::try_from(blocks.saturating_mul(block)).ok();
                (bytes(fs.f_bavail), bytes(fs.f_blocks))
            }
            Err(_) => (None, None),
        };
        let last_backup = super::backup::last(&self.data_dir).map(|w| BackupInfo {
            file: w
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            created_at: w.manifest.created_at,
            bytes: i64::try_from(w.bytes).unwrap_or(i64::MAX),
        });
        Ok(SystemStatus {
            version: env!("CARGO_PKG_VERSION").into(),
            engine: self.db.engine().into(),
            started_at: self.started_at,
            uptime_seconds: (now - self.started_at).num_seconds().max(0),
            database_bytes: self.database_bytes().await?,
            jobs_pending: depth.counts.pending,
            jobs_running: depth.counts.running,
            jobs_dead: depth.counts.dead,
            oldest_pending_age_seconds: depth.oldest_pending_age.num_seconds(),
            last_backup,
            backup_every_seconds: self
                .backup_every
                .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
            disk_free_bytes,
            disk_total_bytes,
        })
    }
}
