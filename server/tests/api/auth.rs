//! Registration, tokens, sign-in, sessions, blocks and rate limits.
use super::TestApp;
use crate::common::Engine;
use crate::on_both_engines;
use app::auth::commands::{SignIn, SignOut};
use app::auth::queries::GetCurrentUser;
use axum::http::StatusCode;
use leptos::server_fn::ServerFn;

const PASSWORD: &str = "copper-kettle-88";

async fn block(app: &TestApp, email: &str) {
    server::on_db!(&app.state.db, pool => sqlx::query("UPDATE users SET blocked = TRUE WHERE email = $1")
        .bind(email).execute(pool).await.map(|_| ())).unwrap();
}

on_both_engines! {
    async fn register_answers_201_with_the_user(engine: Engine) {
        let app = TestApp::new(engine).await;
        let reply = app.register("Rina@Example.com", PASSWORD, "Rina").await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let user = &reply.json()["user"];
        assert_eq!(user["email"], "rina@example.com");
        assert_eq!(user["role"], "user");
        assert!(user["id"].is_string());
        assert!(user.get("password_hash").is_none());
    }

    async fn a_duplicate_email_is_a_409_conflict(engine: Engine) {
        let app = TestApp::new(engine).await;
        app.register("tom@example.com", PASSWORD, "Tom").await;
        let reply = app.register("TOM@example.com", PASSWORD, "Tom again").await;
        assert_eq!(reply.status, StatusCode::CONFLICT);
        let error = &reply.json()["error"];
        assert_eq!(error["kind"], "conflict");
        assert_eq!(error["fields"]["email"], "An account with this email already exists.");
    }

    async fn a_weak_password_is_a_422_naming_the_field(engine: Engine) {
        let app = TestApp::new(engine).await;
        for weak in ["short", "password123"] {
            let reply = app.register("weak@example.com", weak, "Weak").await;
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
            let error = &reply.json()["error"];
            assert_eq!(error["kind"], "invalid");
            assert!(error["fields"]["password"].is_string(), "{error}");
        }
        assert_eq!(app.state.accounts.count_users().await.unwrap(), 0);
    }

    async fn malformed_json_is_refused_in_the_error_shape_never_500(engine: Engine) {
        let app = TestApp::new(engine).await;
        for body in ["{not json", r#"{"email": 5, "password": [], "display_name": null}"#, r#"{"email": "a@b.co"}"#, ""] {
            let reply = app.post_json("/api/v1/auth/register", body, &[]).await;
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", reply.body);
            assert_eq!(reply.json()["error"]["kind"], "invalid");
        }
        let reply = app.post_json("/api/v1/auth/token", &"x".repeat(2 * 1024 * 1024), &[]).await;
        assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(reply.json()["error"]["kind"], "payload_too_large");
    }

    async fn a_token_opens_me_and_a_wrong_password_is_401(engine: Engine) {
        let app = TestApp::new(engine).await;
        app.register("ivy@example.com", PASSWORD, "Ivy").await;
        let wrong = app.token("ivy@example.com", "not-my-password").await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert_eq!(wrong.json()["error"]["kind"], "unauthenticated");

        let reply = app.token("IVY@example.com", PASSWORD).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let body = reply.json();
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 3600);
        let token = body["access_token"].as_str().unwrap();
        let me = app.get("/api/v1/me", &[("authorization", &format!("Bearer {token}"))]).await;
        assert_eq!(me.status, StatusCode::OK);
        assert_eq!(me.json()["user"]["display_name"], "Ivy");

        assert_eq!(app.get("/api/v1/me", &[]).await.status, StatusCode::UNAUTHORIZED);
        let forged = app.get("/api/v1/me", &[("authorization", "Bearer a.b.c")]).await;
        assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
        assert_eq!(forged.json()["error"]["kind"], "unauthenticated");
    }

    async fn a_blocked_user_is_refused_and_their_tokens_stop_at_once(engine: Engine) {
        let app = TestApp::new(engine).await;
        app.register("bo@example.com", PASSWORD, "Bo").await;
        let token = app.token("bo@example.com", PASSWORD).await.json()["access_token"].as_str().unwrap().to_owned();
        block(&app, "bo@example.com").await;
        let me = app.get("/api/v1/me", &[("authorization", &format!("Bearer {token}"))]).await;
        assert_eq!(me.status, StatusCode::FORBIDDEN);
        let again = app.token("bo@example.com", PASSWORD).await;
        assert_eq!(again.status, StatusCode::FORBIDDEN);
        assert_eq!(again.json()["error"]["message"], "This account has been blocked. Contact the organizers of EventHub.");
        let page_sign_in = app.server_fn(SignIn::PATH, &[("email", "bo@example.com"), ("password", PASSWORD)], None).await;
        assert_eq!(page_sign_in.status, StatusCode::FORBIDDEN);
    }

    async fn the_sixth_failed_attempt_in_a_minute_is_429_with_retry_after(engine: Engine) {
        let app = TestApp::new(engine).await;
        app.register("rl@example.com", PASSWORD, "Rate").await;
        for _ in 0..5 {
            assert_eq!(app.token("rl@example.com", "wrong-guess-000").await.status, StatusCode::UNAUTHORIZED);
        }
        let limited = app.token("rl@example.com", PASSWORD).await;
        assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(limited.json()["error"]["kind"], "rate_limited");
        let retry: u64 = limited.headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
        assert!(limited.json()["error"]["message"].as_str().unwrap().contains(&format!("{retry} s")));
    }

    async fn signing_in_renews_the_session_id_and_signing_out_destroys_it(engine: Engine) {
        let app = TestApp::new(engine).await;
        app.register("sid@example.com", PASSWORD, "Sid").await;
        let creds = [("email", "sid@example.com"), ("password", PASSWORD), ("next", "/me")];
        let first = app.server_fn(SignIn::PATH, &creds, None).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.body);
        let first_id = first.cookie(server::sessions::SESSION_COOKIE).expect("session cookie");
        let set_cookie = first.headers.get("set-cookie").unwrap().to_str().unwrap().to_owned();
        assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"), "{set_cookie}");

        let second = app.server_fn(SignIn::PATH, &creds, Some(&first_id)).await;
        let second_id = second.cookie(server::sessions::SESSION_COOKIE).expect("renewed cookie");
        assert_ne!(first_id, second_id, "the session id must change at sign-in");

        let app = &app;
        let who = |id: String| async move { app.server_fn(GetCurrentUser::PATH, &[], Some(&id)).await.json() };
        assert!(who(first_id).await.is_null(), "the old session id no longer works");
        assert_eq!(who(second_id.clone()).await["display_name"], "Sid");

        app.server_fn(SignOut::PATH, &[], Some(&second_id)).await;
        assert!(who(second_id).await.is_null());
    }

    async fn server_functions_answer_with_the_error_kind_and_status(engine: Engine) {
        let app = TestApp::new(engine).await;
        let reply = app.server_fn(
            app::auth::commands::RegisterUser::PATH,
            &[("email", "x@example.com"), ("display_name", "X"), ("password", "short")],
            None,
        ).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(reply.json()["Invalid"]["password"]["problem"], "too_short");
    }
}
