//! The server processes on one database (`eventhub serve` and `eventhub worker`, on one
//! machine or several). Each registers at start — an id, its host, where it keeps images —
//! and renews its row every [`BEAT`]; a row not renewed for [`GONE_AFTER`] belongs to a process
//! that is gone and is deleted. A process that stops deletes its own row.
//!
//! What this is for: images kept in a local folder are seen only by the processes that share
//! the folder. When a process on another host (or with another folder, or with Cloudinary)
//! serves the same database, the images one stores are missing from the other's pages. The
//! server says so — at start, and when such a process appears — and production mode refuses
//! to start, unless Cloudinary holds the images or the operator declared the folder shared
//! between the machines (`EVENTHUB_MEDIA_SHARED=true`, e.g. one NFS export mounted by all).
use crate::config::Config;
use crate::db::Db;
use crate::sql::Sql;
use anyhow::Result;
use std::collections::HashSet;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often a process renews its row.
pub const BEAT: Duration = Duration::from_secs(30);
/// A row not renewed for this long is a process that is gone.
pub const GONE_AFTER: Duration = Duration::from_secs(90);

/// One process as the others see it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Instance {
    pub id: String,
    pub host: String,
    /// Where it keeps images: `cloudinary:<cloud>`, `shared`, or `local:<host>:<folder>`.
    pub media: String,
}

impl Instance {
    /// This process, from its settings.
    pub fn this(config: &Config) -> Self {
        let host = host_name();
        Instance {
            id: crate::random_hex(8),
            media: media_place(config, &host),
            host,
        }
    }

    /// Whether an image this process stores may be missing at `other`, or the reverse.
    pub fn images_differ_from(&self, other: &Instance) -> bool {
        self.media != other.media && (is_local(&self.media) || is_local(&other.media))
    }
}

fn is_local(media: &str) -> bool {
    media.starts_with("local:")
}

/// Where images go with these settings (see [`Instance::media`]).
fn media_place(config: &Config, host: &str) -> String {
    if let Some(cloudinary) = &config.cloudinary {
        format!("cloudinary:{}", cloudinary.cloud_name)
    } else if config.media_shared {
        "shared".to_owned()
    } else {
        let folder = config.data_dir.join("media");
        let folder = std::fs::canonicalize(&folder).unwrap_or(folder);
        format!("local:{host}:{}", folder.display())
    }
}

/// The kernel's host name (what `hostname` prints), or `unknown`.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The processes alive on this database other than `me` (deleting those that are gone).
pub async fn others(db: &Db, me: &Instance) -> Result<Vec<Instance>> {
    let now = chrono::Utc::now().timestamp();
    db.execute(
        Sql::new("DELETE FROM server_instances WHERE seen_at < $1")
            .arg(now - GONE_AFTER.as_secs() as i64),
    )
    .await?;
    let found = db
        .fetch_all(
            Sql::new("SELECT id, host, media FROM server_instances WHERE id <> $1 ORDER BY id")
                .arg(me.id.clone()),
        )
        .await?;
    Ok(found)
}

/// Writes (or renews) this process's row.
async fn beat(db: &Db, me: &Instance) -> Result<()> {
    let now = chrono::Utc::now().timestamp();
    db.execute(
        Sql::new(
            "INSERT INTO server_instances (id, host, media, started_at, seen_at) \
             VALUES ($1, $2, $3, $4, $4) \
             ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
        )
        .arg(me.id.clone())
        .arg(me.host.clone())
        .arg(me.media.clone())
        .arg(now),
    )
    .await?;
    Ok(())
}

/// The processes alive now whose images this process would not see (or they its).
pub async fn media_conflicts(me: &Instance, db: &Db) -> Result<Vec<Instance>> {
    Ok(others(db, me)
        .await?
        .into_iter()
        .filter(|other| me.images_differ_from(other))
        .collect())
}

/// What the log and the production check say about those processes.
pub fn conflict_message(me: &Instance, conflicts: &[Instance]) -> String {
    let hosts: Vec<String> = conflicts
        .iter()
        .map(|c| format!("{} ({})", c.host, c.media))
        .collect();
    format!(
        "images are kept at {}, which {} on this database cannot see: set \
         EVENTHUB_CLOUDINARY_URL on every machine, or EVENTHUB_MEDIA_SHARED=true when the \
         folder is one shared mount on all of them",
        me.media,
        hosts.join(", ")
    )
}

/// Registers this process and keeps its row fresh until `stop`, then deletes it. Logs a
/// warning when a process appears whose images differ (once per process).
pub fn spawn(db: Db, me: Instance, stop: CancellationToken) {
    tokio::spawn(async move {
        let mut warned: HashSet<String> = HashSet::new();
        let mut ticks = tokio::time::interval(BEAT);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                () = stop.cancelled() => break,
            }
            if let Err(error) = beat(&db, &me).await {
                tracing::warn!(%error, "cannot renew this server's row in server_instances");
                continue;
            }
            match others(&db, &me).await {
                Ok(others) => {
                    let new: Vec<Instance> = others
                        .into_iter()
                        .filter(|o| me.images_differ_from(o) && warned.insert(o.id.clone()))
                        .collect();
                    if !new.is_empty() {
                        tracing::warn!("{}", conflict_message(&me, &new));
                    }
                }
                Err(error) => tracing::warn!(%error, "cannot read the other servers"),
            }
        }
        let gone = Sql::new("DELETE FROM server_instances WHERE id = $1").arg(me.id.clone());
        if let Err(error) = db.execute(gone).await {
            tracing::warn!(%error, "cannot remove this server's row from server_instances");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(media: &str) -> Instance {
        Instance {
            id: crate::random_hex(4),
            host: "h".into(),
            media: media.into(),
        }
    }

    #[test]
    fn only_a_local_folder_on_one_side_makes_images_differ() {
        let here = at("local:a:/srv/eventhub/media");
        assert!(!here.images_differ_from(&at("local:a:/srv/eventhub/media")));
        assert!(here.images_differ_from(&at("local:b:/srv/eventhub/media")));
        assert!(here.images_differ_from(&at("local:a:/other/media")));
        assert!(here.images_differ_from(&at("cloudinary:demo")));
        assert!(at("shared").images_differ_from(&here));
        assert!(!at("shared").images_differ_from(&at("shared")));
        assert!(!at("cloudinary:demo").images_differ_from(&at("shared")));
    }
}
