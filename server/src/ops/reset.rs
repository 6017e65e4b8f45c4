//! `eventhub reset`: clears every table in one transaction — events, bookings, tickets,
//! accounts, sessions, jobs, mail, logs of the audit — and the uploaded images and written
//! mail files, leaving the schema, the secret key and the backups. With `keep_admins` the
//! admin accounts stay, with their two-factor sign-in and the platform settings they chose;
//! their sessions end. The audit log goes too: its append-only guard holds against the
//! application, not against the operator emptying the installation. Run it with the server
//! stopped.
use super::Counts;
use crate::db::Db;
use anyhow::{Context, Result, bail};
use std::path::Path;

/// Rows that stay with `keep_admins`, by table; users last, as the others ask who is an admin.
const KEPT_WITH_ADMINS: &[(&str, &str)] = &[
    (
        "user_totp",
        "user_id IN (SELECT id FROM users WHERE role = 'admin')",
    ),
    (
        "totp_recovery_codes",
        "user_id IN (SELECT id FROM users WHERE role = 'admin')",
    ),
    ("platform_settings", "TRUE"),
    ("users", "role = 'admin'"),
];

/// What a reset removed.
#[derive(Clone, Debug)]
pub struct Cleared {
    /// Rows removed per table.
    pub removed: Counts,
    /// Admin accounts kept (0 without `keep_admins`).
    pub admins_kept: i64,
    /// Image and mail files removed.
    pub files_removed: u64,
}

pub async fn reset(db: &Db, data_dir: &Path, keep_admins: bool) -> Result<Cleared> {
    let tables = super::tables(db).await?;
    let kept = |name: &str| {
        keep_admins
            .then(|| {
                KEPT_WITH_ADMINS
                    .iter()
                    .find(|(t, _)| *t == name)
                    .map(|(_, c)| *c)
            })
            .flatten()
    };
    let (cleared, later): (Vec<_>, Vec<_>) = tables.iter().partition(|t| kept(&t.name).is_none());
    let mut removed = Counts::new();
    match db {
        Db::Sqlite(pool) => {
            let mut conn = pool.acquire().await?;
            // Foreign keys are checked once at the end instead of row by row in table order.
            sqlx::query("PRAGMA foreign_keys = OFF")
                .execute(&mut *conn)
                .await?;
            let outcome: Result<()> = async {
                sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
                // The triggers that refuse removals (the append-only audit log) step aside
                // inside the transaction and are put back before it commits.
                let guards: Vec<(String, String)> = sqlx::query_as(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' \
                     AND sql LIKE '%BEFORE DELETE%RAISE(%'",
                )
                .fetch_all(&mut *conn)
                .await?;
                for (name, _) in &guards {
                    let sql = format!("DROP TRIGGER \"{}\"", name.replace('"', "\"\""));
                    sqlx::query(&sql).execute(&mut *conn).await?;
                }
                for table in &cleared {
                    let sql = format!("DELETE FROM {}", table.quoted);
                    let done = sqlx::query(&sql).execute(&mut *conn).await?;
                    removed.insert(table.name.clone(), count(done.rows_affected()));
                }
                for (name, keep) in KEPT_WITH_ADMINS.iter().filter(|(t, _)| kept(t).is_some()) {
                    if later.iter().any(|t| t.name == *name) {
                        let sql = format!("DELETE FROM \"{name}\" WHERE NOT ({keep})");
                        let done = sqlx::query(&sql).execute(&mut *conn).await?;
                        removed.insert((*name).to_owned(), count(done.rows_affected()));
                    }
                }
                let dangling: Vec<(String,)> =
                    sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check")
                        .fetch_all(&mut *conn)
                        .await?;
                if let Some((table,)) = dangling.first() {
                    bail!("a reset would leave rows of {table} pointing at removed rows");
                }
                for (_, sql) in &guards {
                    sqlx::query(sql).execute(&mut *conn).await?;
                }
                // Ids start again at 1, as in a new installation (admins keep theirs).
                let restart = if keep_admins {
                    "DELETE FROM sqlite_sequence WHERE name <> 'users'"
                } else {
                    "DELETE FROM sqlite_sequence"
                };
                sqlx::query(restart).execute(&mut *conn).await?;
                sqlx::query("COMMIT").execute(&mut *conn).await?;
                Ok(())
            }
            .await;
            if outcome.is_err() {
                let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            }
            sqlx::query("PRAGMA foreign_keys = ON")
                .execute(&mut *conn)
                .await?;
            outcome?;
        }
        Db::Postgres(pool) => {
            let mut tx = pool.begin().await?;
            for table in tables.iter() {
                let sql = format!("SELECT COUNT(*) FROM {}", table.quoted);
                let n: i64 = sqlx::query_scalar(&sql).fetch_one(&mut *tx).await?;
                removed.insert(table.name.clone(), n);
            }
            if !cleared.is_empty() {
                let list: Vec<&str> = cleared.iter().map(|t| t.quoted.as_str()).collect();
                let sql = format!("TRUNCATE {} RESTART IDENTITY", list.join(", "));
                sqlx::query(&sql)
                    .execute(&mut *tx)
                    .await
                    .context("cannot empty the tables")?;
            }
            for (name, keep) in KEPT_WITH_ADMINS.iter().filter(|(t, _)| kept(t).is_some()) {
                if later.iter().any(|t| t.name == *name) {
                    let sql = format!("DELETE FROM \"{name}\" WHERE NOT ({keep})");
                    let done = sqlx::query(&sql).execute(&mut *tx).await?;
                    removed.insert((*name).to_owned(), count(done.rows_affected()));
                }
            }
            tx.commit().await?;
        }
    }
    let admins_kept = if keep_admins {
        crate::on_db!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await)?
    } else {
        0
    };
    let files_removed = ["media", "mail"]
        .iter()
        .map(|dir| empty_folder(&data_dir.join(dir)))
        .sum::<Result<u64>>()?;
    Ok(Cleared {
        removed,
        admins_kept,
        files_removed,
    })
}

fn count(rows: u64) -> i64 {
    i64::try_from(rows).unwrap_or(i64::MAX)
}

/// Removes what `dir` holds, keeping the folder itself.
fn empty_folder(dir: &Path) -> Result<u64> {
    let files = super::count_files(dir);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(0);
    };
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        }
        .with_context(|| format!("cannot remove {}", path.display()))?;
    }
    Ok(files)
}
