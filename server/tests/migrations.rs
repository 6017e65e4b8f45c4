//! Migrations cannot drift: `migrations/sqlite` and `migrations/postgres` hold the same
//! migrations (versions and descriptions), and migrating a fresh database of each engine with
//! the server's own `Db::connect` + `Db::migrate` gives the same tables and columns — apart
//! from the few objects listed in [`ONE_ENGINE_ONLY`], each with the reason it differs.
//! Column types are not compared (they differ by design: INTEGER/TEXT vs BIGINT/TIMESTAMPTZ).
//! Like the other PostgreSQL tests, these need `EVENTHUB_TEST_PG_URL` and fail without it.
mod common;

use common::{Engine, TestDb};
use server::db::Db;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Table name → its column names.
type Schema = BTreeMap<String, BTreeSet<String>>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Sqlite,
    Postgres,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Sqlite => "SQLite",
            Side::Postgres => "PostgreSQL",
        }
    }
}

/// A table (`column: None`) or a column that exists on one engine only, on purpose.
struct OneEngineOnly {
    side: Side,
    table: &'static str,
    column: Option<&'static str>,
}

/// What exists on one engine only by design. Each entry must still exist on its engine and
/// not on the other (the test says so when an entry goes stale). Besides these, the schema
/// readers leave out what the engines keep for themselves: `_sqlx_migrations` (sqlx's
/// bookkeeping, on both), SQLite's `sqlite_*` tables (`sqlite_sequence` for AUTOINCREMENT,
/// `sqlite_stat*` from `PRAGMA optimize`) and the shadow tables SQLite makes for a virtual
/// table (`events_fts_data`, `_idx`, `_docsize`, `_config` for FTS5).
const ONE_ENGINE_ONLY: &[OneEngineOnly] = &[
    // 0003_event_search: SQLite's full-text index is the FTS5 virtual table `events_fts` over
    // `events.search_title` / `search_body`, kept by triggers; PostgreSQL has no FTS5 and uses
    // the generated `events.search_vector` below with a GIN index instead.
    OneEngineOnly {
        side: Side::Sqlite,
        table: "events_fts",
        column: None,
    },
    // 0003_event_search: PostgreSQL's full-text index is a generated, weighted tsvector column
    // on `events` (GIN-indexed); SQLite keeps the same index in `events_fts` above instead.
    OneEngineOnly {
        side: Side::Postgres,
        table: "events",
        column: Some("search_vector"),
    },
];

fn migrations_dir(engine: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../migrations")
        .join(engine)
}

/// The `.sql` migrations in `dir` by version (sqlx's naming: `<version>_<description>.sql`),
/// and what is wrong with the folder itself (unparsable names, duplicate versions).
fn migration_files(dir: &Path) -> (BTreeMap<i64, String>, Vec<String>) {
    let mut files = BTreeMap::new();
    let mut problems = Vec::new();
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    for entry in entries {
        let name = entry
            .expect("directory entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if !name.ends_with(".sql") {
            continue;
        }
        let version = name
            .split_once('_')
            .and_then(|(version, _)| version.parse::<i64>().ok());
        match version {
            None => problems.push(format!(
                "{}: `{name}` is not named <version>_<description>.sql",
                dir.display()
            )),
            Some(version) => {
                if let Some(other) = files.insert(version, name.clone()) {
                    problems.push(format!(
                        "{}: version {version} is used twice (`{other}` and `{name}`)",
                        dir.display()
                    ));
                }
            }
        }
    }
    (files, problems)
}

/// Every difference between the migration files of the two folders, one line each.
fn file_differences(sqlite_dir: &Path, postgres_dir: &Path) -> Vec<String> {
    let (sqlite, mut problems) = migration_files(sqlite_dir);
    let (postgres, more) = migration_files(postgres_dir);
    problems.extend(more);
    if sqlite.is_empty() {
        problems.push(format!("{} holds no migrations", sqlite_dir.display()));
    }
    if postgres.is_empty() {
        problems.push(format!("{} holds no migrations", postgres_dir.display()));
    }
    let versions: BTreeSet<i64> = sqlite.keys().chain(postgres.keys()).copied().collect();
    for version in versions {
        match (sqlite.get(&version), postgres.get(&version)) {
            (Some(s), Some(p)) if s != p => problems.push(format!(
                "version {version} is `{s}` in migrations/sqlite but `{p}` in migrations/postgres"
            )),
            (Some(s), None) => problems.push(format!(
                "`{s}` is in migrations/sqlite but missing from migrations/postgres"
            )),
            (None, Some(p)) => problems.push(format!(
                "`{p}` is in migrations/postgres but missing from migrations/sqlite"
            )),
            _ => {}
        }
    }
    problems
}

/// A fresh database of `engine` (the tests' usual one), migrated by the server's own code.
async fn migrated(engine: Engine) -> (Db, TestDb) {
    let test_db = common::fresh_db(engine).await;
    let db = Db::connect(&test_db.config.database_url)
        .await
        .unwrap_or_else(|e| panic!("connect to {engine:?}: {e:#}"));
    db.migrate()
        .await
        .unwrap_or_else(|e| panic!("migrate {engine:?}: {e:#}"));
    (db, test_db)
}

/// The tables (and views) with their columns, without the engine's own tables; and, on SQLite,
/// the virtual-table shadow tables that were left out.
async fn read_schema(db: &Db) -> (Schema, Vec<String>) {
    let (rows, shadows): (Vec<(String, String)>, Vec<String>) = match db {
        Db::Sqlite(pool) => {
            // SQLite names are case-insensitive and PostgreSQL folds unquoted names to lower
            // case, so lower-case them here to compare like with like.
            let rows = sqlx::query_as(
                "SELECT lower(m.name), lower(c.name)
                 FROM sqlite_master AS m, pragma_table_info(m.name) AS c
                 WHERE m.type IN ('table', 'view')
                   AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
                   AND m.name <> '_sqlx_migrations'
                   AND m.name NOT IN
                       (SELECT l.name FROM pragma_table_list AS l
                        WHERE l.schema = 'main' AND l.type = 'shadow')",
            )
            .fetch_all(pool)
            .await
            .expect("read the SQLite schema");
            let shadows = sqlx::query_scalar(
                "SELECT lower(name) FROM pragma_table_list
                 WHERE schema = 'main' AND type = 'shadow' ORDER BY name",
            )
            .fetch_all(pool)
            .await
            .expect("read SQLite's shadow tables");
            (rows, shadows)
        }
        Db::Postgres(pool) => {
            let rows = sqlx::query_as(
                "SELECT table_name::text, column_name::text
                 FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'",
            )
            .fetch_all(pool)
            .await
            .expect("read the PostgreSQL schema");
            (rows, Vec::new())
        }
    };
    let mut schema = Schema::new();
    for (table, column) in rows {
        schema.entry(table).or_default().insert(column);
    }
    (schema, shadows)
}

fn list(names: &BTreeSet<String>) -> String {
    names
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every difference between the two migrated schemas (after [`ONE_ENGINE_ONLY`]), one line
/// each; also a line for each exception that no longer holds.
async fn schema_differences(sqlite_db: &Db, postgres_db: &Db) -> Vec<String> {
    let (mut sqlite, shadows) = read_schema(sqlite_db).await;
    let (mut postgres, _) = read_schema(postgres_db).await;
    for (side, schema) in [(Side::Sqlite, &sqlite), (Side::Postgres, &postgres)] {
        // A reader that sees nothing would make every comparison pass.
        assert!(
            schema.get("users").is_some_and(|c| c.contains("email")),
            "the {} schema read back has no users.email: the reader is broken ({schema:?})",
            side.name()
        );
    }
    let mut problems = Vec::new();

    // Shadow tables are only left out for a virtual table this list explains.
    for shadow in &shadows {
        let explained = ONE_ENGINE_ONLY.iter().any(|e| {
            e.side == Side::Sqlite
                && e.column.is_none()
                && shadow.starts_with(&format!("{}_", e.table))
        });
        if !explained {
            problems.push(format!(
                "SQLite shadow table `{shadow}` belongs to no virtual table in ONE_ENGINE_ONLY"
            ));
        }
    }

    // Check every exception against the schemas as read, then take them out.
    for e in ONE_ENGINE_ONLY {
        let (own, other) = match e.side {
            Side::Sqlite => (&sqlite, &postgres),
            Side::Postgres => (&postgres, &sqlite),
        };
        let (what, here, there) = match e.column {
            None => (
                format!("table `{}`", e.table),
                own.contains_key(e.table),
                other.contains_key(e.table),
            ),
            Some(column) => (
                format!("column `{}.{column}`", e.table),
                own.get(e.table).is_some_and(|c| c.contains(column)),
                other.get(e.table).is_some_and(|c| c.contains(column)),
            ),
        };
        if !here {
            problems.push(format!(
                "ONE_ENGINE_ONLY lists {what} as {}-only, but {} has no such thing: remove the entry",
                e.side.name(),
                e.side.name()
            ));
        }
        if there {
            problems.push(format!(
                "ONE_ENGINE_ONLY lists {what} as {}-only, but the other engine has it too: remove the entry",
                e.side.name()
            ));
        }
    }
    for e in ONE_ENGINE_ONLY {
        let own = match e.side {
            Side::Sqlite => &mut sqlite,
            Side::Postgres => &mut postgres,
        };
        match e.column {
            None => {
                own.remove(e.table);
            }
            Some(column) => {
                if let Some(columns) = own.get_mut(e.table) {
                    columns.remove(column);
                }
            }
        }
    }

    let tables: BTreeSet<&String> = sqlite.keys().chain(postgres.keys()).collect();
    for table in tables {
        match (sqlite.get(table), postgres.get(table)) {
            (Some(columns), None) => problems.push(format!(
                "table `{table}` exists only on SQLite (columns: {})",
                list(columns)
            )),
            (None, Some(columns)) => problems.push(format!(
                "table `{table}` exists only on PostgreSQL (columns: {})",
                list(columns)
            )),
            (Some(s), Some(p)) => {
                let only_sqlite: BTreeSet<String> = s.difference(p).cloned().collect();
                let only_postgres: BTreeSet<String> = p.difference(s).cloned().collect();
                if !only_sqlite.is_empty() {
                    problems.push(format!(
                        "table `{table}`: column(s) only on SQLite: {}",
                        list(&only_sqlite)
                    ));
                }
                if !only_postgres.is_empty() {
                    problems.push(format!(
                        "table `{table}`: column(s) only on PostgreSQL: {}",
                        list(&only_postgres)
                    ));
                }
            }
            (None, None) => unreachable!(),
        }
    }
    problems
}

fn report(problems: &[String]) -> String {
    problems
        .iter()
        .map(|p| format!("\n  - {p}"))
        .collect::<String>()
}

/// The lines `after` has that `before` has not (checking it kept all of `before`), so the
/// self-tests below see only the drift they made, whatever the real folders hold.
fn added(before: &[String], after: &[String]) -> Vec<String> {
    for line in before {
        assert!(
            after.contains(line),
            "`{line}` is no longer reported: {after:?}"
        );
    }
    after
        .iter()
        .filter(|line| !before.contains(line))
        .cloned()
        .collect()
}

mod migrations_cannot_drift {
    use super::*;

    #[test]
    fn both_folders_hold_the_same_migrations() {
        let problems = file_differences(&migrations_dir("sqlite"), &migrations_dir("postgres"));
        assert!(
            problems.is_empty(),
            "migrations/sqlite and migrations/postgres must hold the same migrations \
             (same versions and descriptions):{}",
            report(&problems)
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn both_engines_end_with_the_same_tables_and_columns() {
        let (sqlite, _sqlite_dir) = migrated(Engine::Sqlite).await;
        let (postgres, _postgres_dir) = migrated(Engine::Postgres).await;
        let problems = schema_differences(&sqlite, &postgres).await;
        assert!(
            problems.is_empty(),
            "after migrating, SQLite and PostgreSQL must have the same tables and columns \
             (fix migrations/sqlite or migrations/postgres; a deliberate difference goes in \
             ONE_ENGINE_ONLY with its reason):{}",
            report(&problems)
        );
    }

    /// The check itself: a migration added to one folder only is reported by name.
    #[test]
    fn a_migration_in_one_folder_only_is_reported() {
        let copy = tempfile::tempdir().expect("temp dir");
        for engine in ["sqlite", "postgres"] {
            let to = copy.path().join(engine);
            std::fs::create_dir(&to).expect("create dir");
            for entry in std::fs::read_dir(migrations_dir(engine)).expect("read migrations") {
                let entry = entry.expect("entry");
                std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
            }
        }
        std::fs::write(copy.path().join("sqlite/9990_drift_probe.sql"), "SELECT 1;").unwrap();
        std::fs::write(copy.path().join("sqlite/9991_a.sql"), "SELECT 1;").unwrap();
        std::fs::write(copy.path().join("postgres/9991_b.sql"), "SELECT 1;").unwrap();
        let before = file_differences(&migrations_dir("sqlite"), &migrations_dir("postgres"));
        let after = file_differences(&copy.path().join("sqlite"), &copy.path().join("postgres"));
        assert_eq!(
            added(&before, &after),
            [
                "`9990_drift_probe.sql` is in migrations/sqlite but missing from migrations/postgres",
                "version 9991 is `9991_a.sql` in migrations/sqlite but `9991_b.sql` in migrations/postgres",
            ]
        );
    }

    /// The check itself: what a migration in one folder only would leave behind is reported
    /// precisely (a column on one side, a table on the other).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_column_or_table_on_one_engine_only_is_reported() {
        let (sqlite, _sqlite_dir) = migrated(Engine::Sqlite).await;
        let (postgres, _postgres_dir) = migrated(Engine::Postgres).await;
        let before = schema_differences(&sqlite, &postgres).await;
        let Db::Sqlite(pool) = &sqlite else {
            unreachable!()
        };
        sqlx::query("ALTER TABLE events ADD COLUMN drift_probe TEXT")
            .execute(pool)
            .await
            .unwrap();
        let Db::Postgres(pool) = &postgres else {
            unreachable!()
        };
        sqlx::query("CREATE TABLE drift_probe (id BIGINT, note TEXT)")
            .execute(pool)
            .await
            .unwrap();
        let after = schema_differences(&sqlite, &postgres).await;
        assert_eq!(
            added(&before, &after),
            [
                "table `drift_probe` exists only on PostgreSQL (columns: id, note)",
                "table `events`: column(s) only on SQLite: drift_probe",
            ]
        );
    }
}
