//! Keeping an installation: backups and their schedule, restore, reset, the production-mode
//! checks and the system status the admins' `/admin/system` page shows. The commands of
//! `eventhub backup | restore | reset | check-config` are thin wrappers over these.
pub mod backup;
pub mod instances;
pub mod production;
pub mod reset;
pub mod restore;
pub mod system;

use crate::db::Db;
use anyhow::{Context, Result};
use std::collections::BTreeMap;

/// Rows per table, by name (`users`, …; outside PostgreSQL's `public` schema as
/// `schema.table`, e.g. `tower_sessions.session`).
pub type Counts = BTreeMap<String, i64>;

/// A table as the engine's catalogue names it, and how to name it in a statement.
#[derive(Clone, Debug)]
pub(crate) struct Table {
    pub name: String,
    pub quoted: String,
}

/// The tables holding data: not the migration ledger, not the running processes
/// (`server_instances`, which a restore must not bring back), not SQLite's own tables nor the
/// search index's shadow tables (the index follows `events` through its triggers).
pub(crate) async fn tables(db: &Db) -> Result<Vec<Table>> {
    let found: Vec<(String, String)> = match db {
        Db::Sqlite(pool) => sqlx::query_as(
            "SELECT 'main', name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name NOT IN ('_sqlx_migrations', 'server_instances') \
             ORDER BY name",
        )
        .fetch_all(pool)
        .await,
        Db::Postgres(pool) => {
            sqlx::query_as(
                "SELECT table_schema::text, table_name::text FROM information_schema.tables \
             WHERE table_type = 'BASE TABLE' AND table_catalog = current_database() \
             AND table_schema NOT IN ('pg_catalog', 'information_schema') \
             AND table_name NOT IN ('_sqlx_migrations', 'server_instances') ORDER BY 1, 2",
            )
            .fetch_all(pool)
            .await
        }
    }
    .context("cannot list the database's tables")?;
    Ok(found
        .into_iter()
        .map(|(schema, name)| {
            let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
            if schema == "main" || schema == "public" {
                Table {
                    quoted: quote(&name),
                    name,
                }
            } else {
                Table {
                    quoted: format!("{}.{}", quote(&schema), quote(&name)),
                    name: format!("{schema}.{name}"),
                }
            }
        })
        .collect())
}

/// The rows of every table now.
pub async fn counts(db: &Db) -> Result<Counts> {
    let mut counts = Counts::new();
    for table in tables(db).await? {
        let sql = format!("SELECT COUNT(*) FROM {}", table.quoted);
        let n: i64 = crate::on_db!(db, pool => sqlx::query_scalar(&sql).fetch_one(pool).await)
            .with_context(|| format!("cannot count the rows of {}", table.name))?;
        counts.insert(table.name, n);
    }
    Ok(counts)
}

/// Users and events, or `None` when the schema is not there yet (a database never migrated).
pub(crate) async fn holds_data(db: &Db) -> Result<Option<(i64, i64)>> {
    let names: Vec<String> = tables(db).await?.into_iter().map(|t| t.name).collect();
    if !names.iter().any(|n| n == "users") || !names.iter().any(|n| n == "events") {
        return Ok(None);
    }
    let users = crate::on_db!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await)?;
    let events = crate::on_db!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM events").fetch_one(pool).await)?;
    Ok(Some((users, events)))
}

/// "users 6, events 200, …" for a report line, the tables with rows first by size.
pub fn summary(counts: &Counts) -> String {
    let mut rows: Vec<(&String, &i64)> = counts.iter().filter(|(_, n)| **n > 0).collect();
    rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    if rows.is_empty() {
        return "no rows".into();
    }
    rows.iter()
        .map(|(t, n)| format!("{t} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Files under `dir`, counted through its folders (0 when it does not exist).
pub(crate) fn count_files(dir: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(t) if t.is_dir() => count_files(&entry.path()),
            Ok(t) if t.is_file() => 1,
            _ => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_names_the_biggest_tables_first_and_skips_empty_ones() {
        let counts: Counts = [("users", 6), ("events", 200), ("jobs", 0), ("tickets", 6)]
            .into_iter()
            .map(|(t, n)| (t.to_owned(), n))
            .collect();
        assert_eq!(summary(&counts), "events 200, tickets 6, users 6");
        assert_eq!(summary(&Counts::new()), "no rows");
    }
}
