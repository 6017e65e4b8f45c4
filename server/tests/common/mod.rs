//! Test support: a fresh, migrated database per test on SQLite or PostgreSQL, and the real
//! router in front of it. PostgreSQL tests need `EVENTHUB_TEST_PG_URL` (scripts/test starts a
//! throwaway cluster and sets it); without it they fail rather than pass silently.
#![allow(dead_code, reason = "each test binary uses a different part")]

pub mod process;

use server::AppState;
use server::config::{Config, Secret};
use std::path::PathBuf;

#[derive(Clone, Copy, Debug)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Runs one test body on both engines as two test functions: `name::sqlite`, `name::postgres`.
#[macro_export]
macro_rules! on_both_engines {
    ($(async fn $name:ident($engine:ident: Engine) $body:block)*) => {$(
        mod $name {
            use super::*;
            async fn run($engine: Engine) $body
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() { run(Engine::Sqlite).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() { run(Engine::Postgres).await }
        }
    )*};
}

pub struct TestDb {
    pub config: Config,
    _dir: tempfile::TempDir,
}

fn unique_name() -> String {
    format!("eh_test_{}", server::random_hex(8))
}

/// A fresh database for one test; the PostgreSQL database lives in the throwaway cluster.
pub async fn fresh_db(engine: Engine) -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = match engine {
        Engine::Sqlite => format!("sqlite://{}", dir.path().join("test.db").display()),
        Engine::Postgres => {
            let admin_url = std::env::var("EVENTHUB_TEST_PG_URL").expect(
                "EVENTHUB_TEST_PG_URL is not set: PostgreSQL tests need a server (scripts/test starts one)",
            );
            let name = unique_name();
            let admin = sqlx::PgPool::connect(&admin_url)
                .await
                .expect("connect to the test PostgreSQL");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&admin)
                .await
                .expect("create test database");
            admin.close().await;
            let (base, _) = admin_url.rsplit_once('/').expect("URL has a database part");
            format!("{base}/{name}")
        }
    };
    let mut config = Config::embedded(
        dir.path().to_path_buf(),
        database_url,
        Secret("test-secret-key-that-is-long-enough-0123456789".into()),
    )
    .at(
        "127.0.0.1:0".parse().unwrap(),
        PathBuf::from("../target/site"),
        "http://127.0.0.1".into(),
    );
    // Every test signs up its accounts from one address and books fast: those two limits
    // are off here, and the tests of the limits turn them on.
    config.limits.sign_up = None;
    config.limits.booking = None;
    TestDb { config, _dir: dir }
}

pub async fn state(engine: Engine) -> (AppState, TestDb) {
    let db = fresh_db(engine).await;
    let state = AppState::new(db.config.clone()).await.expect("state");
    (state, db)
}
