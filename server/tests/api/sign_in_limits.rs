//! Limits that hold, on both engines: failed sign-ins counted in the database (parallel
//! guesses, two server processes, the owner's own address apart, trusted proxies), sign-ups per
//! address and bookings per user.
use super::{Reply, TestApp};
use crate::common::Engine;
use crate::on_both_engines;
use app::auth::Role;
use axum::http::StatusCode;
use server::rate::Rate;
use std::sync::Arc;

const PASSWORD: &str = "copper-kettle-88";

/// Asks for a token as a client the trusted proxy (the test's loopback peer) forwards for.
async fn token_from(app: &TestApp, email: &str, password: &str, client: &str) -> Reply {
    let body = serde_json::json!({"email": email, "password": password}).to_string();
    app.post_json("/api/v1/auth/token", &body, &[("x-forwarded-for", client)])
        .await
}

/// A test app behind a trusted proxy on loopback.
async fn behind_proxy(engine: Engine) -> TestApp {
    TestApp::with_config(engine, |c| {
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await
}

fn retry_after(reply: &Reply) -> u64 {
    reply.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

on_both_engines! {
    async fn parallel_guesses_across_two_processes_are_held_to_the_limit(engine: Engine) {
        let first = Arc::new(TestApp::new(engine).await);
        let second = Arc::new(first.second_process().await);
        first.register("target@example.com", PASSWORD, "Target").await;
        let mut tasks = Vec::new();
        for i in 0..24 {
            let app = if i % 2 == 0 { first.clone() } else { second.clone() };
            tasks.push(tokio::spawn(async move {
                app.token("target@example.com", &format!("wrong-guess-{i:03}")).await
            }));
        }
        let mut checked = 0;
        for task in tasks {
            let reply = task.await.unwrap();
            match reply.status {
                StatusCode::UNAUTHORIZED => checked += 1,
                StatusCode::TOO_MANY_REQUESTS => assert!((1..=60).contains(&retry_after(&reply))),
                other => panic!("unexpected {other}: {}", reply.body),
            }
        }
        assert_eq!(checked, 5, "exactly five guesses a minute are checked, whichever process takes them");
        // The right password from the same stranger's address is refused too, unchecked.
        assert_eq!(first.token("target@example.com", PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
    }

    async fn a_strangers_guesses_do_not_lock_the_owner_out(engine: Engine) {
        let app = behind_proxy(engine).await;
        app.register("owner@example.com", PASSWORD, "Owner").await;
        let home = "198.51.100.7";
        assert_eq!(token_from(&app, "owner@example.com", PASSWORD, home).await.status, StatusCode::OK);
        for i in 0..5 {
            let guess = token_from(&app, "owner@example.com", &format!("guess-{i}"), "203.0.113.9").await;
            assert_eq!(guess.status, StatusCode::UNAUTHORIZED);
        }
        let stranger = token_from(&app, "owner@example.com", "guess-6", "203.0.113.10").await;
        assert_eq!(stranger.status, StatusCode::TOO_MANY_REQUESTS, "the account's limit holds over addresses");
        let owner = token_from(&app, "owner@example.com", PASSWORD, home).await;
        assert_eq!(owner.status, StatusCode::OK, "the owner's known address is counted apart: {}", owner.body);
        // The owner's own slips have their own five.
        for i in 0..5 {
            assert_eq!(token_from(&app, "owner@example.com", &format!("typo-{i}"), home).await.status, StatusCode::UNAUTHORIZED);
        }
        assert_eq!(token_from(&app, "owner@example.com", PASSWORD, home).await.status, StatusCode::TOO_MANY_REQUESTS);
    }

    async fn a_right_password_gives_its_slot_back_and_addresses_are_limited_too(engine: Engine) {
        let app = behind_proxy(engine).await;
        app.register("fine@example.com", PASSWORD, "Fine").await;
        for _ in 0..4 {
            assert_eq!(app.token("fine@example.com", "wrong-guess-000").await.status, StatusCode::UNAUTHORIZED);
        }
        for _ in 0..8 {
            assert_eq!(app.token("fine@example.com", PASSWORD).await.status, StatusCode::OK);
        }
        // One address guessing many accounts: twenty failures a minute, then refused.
        let sprayer = "192.0.2.99";
        for i in 0..20 {
            let reply = token_from(&app, &format!("nobody{i}@example.com"), "wrong-guess-000", sprayer).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "guess {i}");
        }
        let refused = token_from(&app, "nobody99@example.com", "wrong-guess-000", sprayer).await;
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
        // A forwarded address counts only from a trusted proxy: without one, the header is
        // ignored and every attempt is the peer's.
        let direct = TestApp::new(engine).await;
        for i in 0..20 {
            let reply = token_from(&direct, &format!("x{i}@example.com"), "wrong-guess-000", &format!("192.0.2.{i}")).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        }
        let spoofed = token_from(&direct, "x99@example.com", "wrong-guess-000", "192.0.2.200").await;
        assert_eq!(spoofed.status, StatusCode::TOO_MANY_REQUESTS, "a client cannot choose its address");
    }

    async fn sign_ups_per_address_and_bookings_per_user_are_limited(engine: Engine) {
        let app = TestApp::with_config(engine, |c| {
            c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
            c.limits.sign_up = Some(Rate::new(3, 3600));
            c.limits.booking = Some(Rate::new(3, 60));
        })
        .await;
        let sign_up = |email: String, client: &'static str| {
            let app = &app;
            async move {
                let body = serde_json::json!({"email": email, "password": PASSWORD, "display_name": "N"}).to_string();
                app.post_json("/api/v1/auth/register", &body, &[("x-forwarded-for", client)]).await
            }
        };
        // Refused input costs no sign-up.
        let weak = serde_json::json!({"email": "w@example.com", "password": "123", "display_name": "W"}).to_string();
        assert_eq!(app.post_json("/api/v1/auth/register", &weak, &[("x-forwarded-for", "192.0.2.1")]).await.status, StatusCode::UNPROCESSABLE_ENTITY);
        for i in 0..3 {
            assert_eq!(sign_up(format!("n{i}@example.com"), "192.0.2.1").await.status, StatusCode::CREATED);
        }
        let refused = sign_up("n9@example.com".into(), "192.0.2.1").await;
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.body);
        assert!(retry_after(&refused) > 0);
        assert_eq!(sign_up("m@example.com".into(), "192.0.2.2").await.status, StatusCode::CREATED, "another address");

        let (_, agent) = app.bearer(Role::Agent).await;
        let (event, tt) = app.published_event(&agent, "Limited", 50, 50, 2, 0).await;
        let (_, user) = app.bearer(Role::User).await;
        for _ in 0..3 {
            assert_eq!(app.book(&user, &event, &tt, 1).await.0, StatusCode::CREATED);
        }
        let (status, body) = app.book(&user, &event, &tt, 1).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        let (_, other) = app.bearer(Role::User).await;
        assert_eq!(app.book(&other, &event, &tt, 1).await.0, StatusCode::CREATED, "per user");
    }
}
