//! `eventhub restore FILE`: unpacks an archive `backup` wrote, checks it (format, engine, the
//! copy's integrity and its counts against the manifest), refuses to replace a database that
//! holds users or events unless forced, puts the database and the media folder in place,
//! migrates, and counts again. Run it with the server stopped.
use super::backup::{self, MANIFEST, MEDIA, Manifest, PG_ENTRY, PgTool, SQLITE_ENTRY};
use super::{Counts, count_files};
use crate::db::Db;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// What a restore put in place.
#[derive(Clone, Debug)]
pub struct Restored {
    pub manifest: Manifest,
    /// Rows per table after the restore (and its migrations).
    pub counts: Counts,
    pub media_files: u64,
}

pub async fn restore(
    database_url: &str,
    data_dir: &Path,
    archive: &Path,
    force: bool,
) -> Result<Restored> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create the data dir {}", data_dir.display()))?;
    let work = tempfile::Builder::new()
        .prefix(".eventhub-restore-")
        .tempdir_in(data_dir)?;
    let manifest = {
        let (archive, into) = (archive.to_path_buf(), work.path().to_path_buf());
        tokio::task::spawn_blocking(move || unpack(&archive, &into)).await??
    };
    let target = Db::connect(database_url).await?;
    if manifest.engine != target.engine() {
        bail!(
            "the archive holds a {} database, and EVENTHUB_DATABASE_URL names a {} one: \
             an archive restores onto the engine it came from",
            manifest.engine,
            target.engine()
        );
    }
    if let Some((users, events)) = super::holds_data(&target).await?
        && users + events > 0
        && !force
    {
        bail!(
            "the database already holds {users} users and {events} events: restoring would \
             replace them; add --force to do so"
        );
    }
    match target {
        Db::Sqlite(pool) => {
            let copy = work.path().join(SQLITE_ENTRY);
            let (counts, _) = backup::check_sqlite_copy(&copy).await?;
            same_counts(&manifest.counts, &counts, "the archive's database")?;
            pool.close().await;
            let path = sqlite_file(database_url)?;
            for suffix in ["-wal", "-shm"] {
                let mut side = path.as_os_str().to_owned();
                side.push(suffix);
                match std::fs::remove_file(PathBuf::from(side)) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                    _ => {}
                }
            }
            move_into_place(&copy, &path)?;
        }
        Db::Postgres(pool) => {
            let tool = PgTool::find("pg_restore")?;
            pool.close().await;
            let dump = work.path().join(PG_ENTRY);
            if !dump.is_file() {
                bail!("the archive has no {PG_ENTRY}");
            }
            tool.run(
                database_url,
                vec![
                    "--clean".into(),
                    "--if-exists".into(),
                    "--no-owner".into(),
                    "--no-privileges".into(),
                    "--single-transaction".into(),
                    "--exit-on-error".into(),
                    dump.display().to_string(),
                ],
            )
            .await?;
        }
    }
    let media = data_dir.join(MEDIA);
    let unpacked = work.path().join(MEDIA);
    if media.exists() {
        std::fs::remove_dir_all(&media)
            .with_context(|| format!("cannot clear {}", media.display()))?;
    }
    if unpacked.is_dir() {
        move_into_place(&unpacked, &media)?;
    }
    let restored = Db::connect(database_url).await?;
    restored.migrate().await?;
    // A SQLite copy holds the registry of the processes that ran on it: none runs here yet.
    restored
        .execute(crate::sql::Sql::new("DELETE FROM server_instances"))
        .await?;
    let counts = super::counts(&restored).await?;
    same_counts(&manifest.counts, &counts, "the restored database")?;
    crate::on_db!(restored, pool => pool.close().await);
    let media_files = count_files(&media);
    if media_files != manifest.media_files {
        bail!(
            "the archive's manifest lists {} media files, {media_files} were restored",
            manifest.media_files
        );
    }
    Ok(Restored {
        manifest,
        counts,
        media_files,
    })
}

/// Unpacks `archive` into `into` (entries cannot leave it) and reads its manifest.
fn unpack(archive: &Path, into: &Path) -> Result<Manifest> {
    let file = std::fs::File::open(archive)
        .with_context(|| format!("cannot open {}", archive.display()))?;
    tar::Archive::new(flate2::read::GzDecoder::new(file))
        .unpack(into)
        .with_context(|| format!("{} is not an EventHub backup (.tar.gz)", archive.display()))?;
    let json = std::fs::read(into.join(MANIFEST)).with_context(|| {
        format!(
            "{} has no {MANIFEST}: not an EventHub backup",
            archive.display()
        )
    })?;
    let manifest: Manifest = serde_json::from_slice(&json)
        .with_context(|| format!("the {MANIFEST} in {} cannot be read", archive.display()))?;
    if manifest.format != backup::FORMAT {
        bail!(
            "the archive has format {} and this EventHub ({}) reads format {}",
            manifest.format,
            env!("CARGO_PKG_VERSION"),
            backup::FORMAT
        );
    }
    let entry = match manifest.engine.as_str() {
        "sqlite" => SQLITE_ENTRY,
        "postgres" => PG_ENTRY,
        other => bail!("the manifest names an unknown engine {other:?}"),
    };
    if !into.join(entry).is_file() {
        bail!("the archive has no {entry}");
    }
    Ok(manifest)
}

/// Every table the manifest counted has as many rows in `found`.
fn same_counts(expected: &Counts, found: &Counts, what: &str) -> Result<()> {
    let differ: Vec<String> = expected
        .iter()
        .filter(|(table, n)| found.get(*table) != Some(n))
        .map(|(table, n)| {
            let got = found.get(table).map_or("no table".into(), i64::to_string);
            format!("{table}: {n} in the manifest, {got} found")
        })
        .collect();
    if differ.is_empty() {
        Ok(())
    } else {
        bail!("{what} does not match the manifest: {}", differ.join("; "))
    }
}

fn sqlite_file(database_url: &str) -> Result<PathBuf> {
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(database_url)
        .with_context(|| format!("bad SQLite URL {database_url}"))?;
    Ok(options.get_filename().to_path_buf())
}

/// Renames `from` to `to`, copying when they are on different file systems.
fn move_into_place(from: &Path, to: &Path) -> Result<()> {
    if std::fs::rename(from, to).is_ok() {
        return Ok(());
    }
    if from.is_dir() {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            move_into_place(&entry.path(), &to.join(entry.file_name()))?;
        }
    } else {
        std::fs::copy(from, to).with_context(|| format!("cannot write {}", to.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_must_match_table_by_table() {
        let of = |pairs: &[(&str, i64)]| -> Counts {
            pairs.iter().map(|(t, n)| ((*t).to_owned(), *n)).collect()
        };
        let manifest = of(&[("users", 6), ("events", 200)]);
        assert!(
            same_counts(
                &manifest,
                &of(&[("users", 6), ("events", 200), ("new", 1)]),
                "x"
            )
            .is_ok()
        );
        let e = same_counts(&manifest, &of(&[("users", 5)]), "the copy")
            .unwrap_err()
            .to_string();
        assert!(e.contains("users: 6 in the manifest, 5 found"), "{e}");
        assert!(
            e.contains("events: 200 in the manifest, no table found"),
            "{e}"
        );
    }
}
