//! Storage tests: accounts and sessions on SQLite and on PostgreSQL.
mod common;

use app::auth::ports::{AccountCommands, AccountQueries};
use app::auth::{NewUser, Role, UserId};
use app::error::{AppError, Problem};
use app::i18n::Locale;
use common::{Engine, state};
use std::net::{IpAddr, Ipv4Addr};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::SessionStore;

const IP: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));

fn new_user(email: &str) -> NewUser {
    NewUser {
        email: email.into(),
        display_name: "Test Person".into(),
        password: "sturdy-otter-512".into(),
    }
}

on_both_engines! {
    async fn a_registered_user_can_be_read_back_with_a_normalised_email(engine: Engine) {
        let (state, _db) = state(engine).await;
        let user = state.accounts.register(new_user("  Maya@Example.COM "), Locale::He, IP).await.unwrap();
        assert_eq!(user.email, "maya@example.com");
        assert_eq!(user.role, Role::User);
        let record = state.accounts.get_user(user.id).await.unwrap().unwrap();
        assert_eq!(record.user, user);
        assert!(!record.blocked);
        assert!(state.accounts.get_user(UserId::new(user.id.get() + 1000)).await.unwrap().is_none());
    }

    async fn emails_are_unique_whatever_their_case(engine: Engine) {
        let (state, _db) = state(engine).await;
        state.accounts.register(new_user("kai@example.com"), Locale::En, IP).await.unwrap();
        let err = state.accounts.register(new_user("KAI@example.com"), Locale::En, IP).await.unwrap_err();
        assert_eq!(err, AppError::Conflict { field: "email".into(), problem: Problem::EmailTaken });
        assert_eq!(state.accounts.count_users().await.unwrap(), 1);
    }

    async fn invalid_registrations_change_nothing(engine: Engine) {
        let (state, _db) = state(engine).await;
        let bad = NewUser { email: "nope".into(), display_name: "".into(), password: "123".into() };
        let AppError::Invalid(fields) = state.accounts.register(bad, Locale::En, IP).await.unwrap_err() else {
            panic!("expected Invalid");
        };
        assert_eq!(fields.keys().collect::<Vec<_>>(), ["display_name", "email", "password"]);
        assert_eq!(state.accounts.count_users().await.unwrap(), 0);
    }

    async fn passwords_are_stored_as_argon2id_hashes_and_verified(engine: Engine) {
        let (state, _db) = state(engine).await;
        state.accounts.register(new_user("lee@example.com"), Locale::En, IP).await.unwrap();
        let hash: String = server::on_db!(&state.db, pool => sqlx::query_scalar("SELECT password_hash FROM users")
            .fetch_one(pool).await).unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(state.accounts.sign_in("LEE@example.com", "sturdy-otter-512", None, IP).await.is_ok());
        assert_eq!(state.accounts.sign_in("lee@example.com", "wrong-password", None, IP).await.unwrap_err(), AppError::BadCredentials);
        assert_eq!(state.accounts.sign_in("who@example.com", "sturdy-otter-512", None, IP).await.unwrap_err(), AppError::BadCredentials);
    }

    async fn the_preferred_language_is_remembered(engine: Engine) {
        let (state, _db) = state(engine).await;
        let user = state.accounts.register(new_user("ana@example.com"), Locale::En, IP).await.unwrap();
        state.accounts.set_locale(user.id, Locale::Pl).await.unwrap();
        assert_eq!(state.accounts.get_user(user.id).await.unwrap().unwrap().user.locale, Locale::Pl);
    }

    async fn sessions_survive_a_restart(engine: Engine) {
        let (state, db) = state(engine).await;
        let mut record = Record {
            id: Id::default(),
            data: [("user_id".to_owned(), serde_json::json!(7))].into_iter().collect(),
            expiry_date: tower_sessions::cookie::time::OffsetDateTime::now_utc() + tower_sessions::cookie::time::Duration::hours(1),
        };
        state.sessions.create(&mut record).await.unwrap();
        drop(state);
        let restarted = server::AppState::new(db.config.clone()).await.unwrap();
        let loaded = restarted.sessions.load(&record.id).await.unwrap().expect("session kept");
        assert_eq!(loaded.data["user_id"], serde_json::json!(7));
        restarted.sessions.delete(&record.id).await.unwrap();
        assert!(restarted.sessions.load(&record.id).await.unwrap().is_none());
    }
}

/// Every PostgreSQL connection carries the configured lock and statement timeouts, so one
/// stuck lock cannot stall every booking; `off` leaves them unlimited.
#[tokio::test]
async fn postgresql_connections_carry_the_lock_and_statement_timeouts() {
    let db = common::fresh_db(Engine::Postgres).await;
    let show = |db: server::db::Db| async move {
        let lock: String = db
            .scalar(server::sql::Sql::new("SHOW lock_timeout"))
            .await
            .unwrap();
        let statement: String = db
            .scalar(server::sql::Sql::new("SHOW statement_timeout"))
            .await
            .unwrap();
        (lock, statement)
    };
    let limits = server::db::Limits {
        lock_timeout: Some(std::time::Duration::from_millis(1500)),
        statement_timeout: Some(std::time::Duration::from_secs(20)),
    };
    let configured = server::db::Db::connect_with(&db.config.database_url, limits)
        .await
        .unwrap();
    assert_eq!(show(configured).await, ("1500ms".into(), "20s".into()));
    let off = server::db::Limits {
        lock_timeout: None,
        statement_timeout: None,
    };
    let unlimited = server::db::Db::connect_with(&db.config.database_url, off)
        .await
        .unwrap();
    assert_eq!(show(unlimited).await, ("0".into(), "0".into()));
}
