//! Keeping an account, on both engines: the password reset through the mail folder (the link
//! works once, expires, says nothing about unknown addresses, signs every session and token
//! out), address verification, email and password changes, the session list, signing one
//! browser or all of them out.
use super::TestApp;
use crate::common::Engine;
use crate::mail::{mail_files, read, run_jobs};
use crate::on_both_engines;
use app::auth::commands::SignIn;
use app::auth::queries::GetCurrentUser;
use app::auth::security::MySessions;
use axum::http::{Method, StatusCode};
use leptos::server_fn::ServerFn;
use serde_json::{Value, json};

const PASSWORD: &str = "copper-kettle-88";
const NEW_PASSWORD: &str = "walnut-harbour-61";

/// The mails whose subject starts with `subject` sent to `to`, oldest first.
fn mails_to(app: &TestApp, to: &str, subject: &str) -> Vec<crate::mail::Read> {
    mail_files(app)
        .iter()
        .map(|(_, bytes)| read(bytes))
        .filter(|m| m.to.contains(to) && m.subject.starts_with(subject))
        .collect()
}

/// The token of the link in a mail's text (`…?token=<hex>`).
fn token_in(mail: &crate::mail::Read, page: &str) -> String {
    let marker = format!("{page}?token=");
    let at = mail
        .text
        .find(&marker)
        .unwrap_or_else(|| panic!("no {page} link: {}", mail.text));
    mail.text[at + marker.len()..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect()
}

/// Signs in through the page's server function: the session cookie.
async fn browser(app: &TestApp, email: &str, password: &str) -> String {
    let reply = app
        .server_fn(
            SignIn::PATH,
            &[("email", email), ("password", password)],
            None,
        )
        .await;
    reply
        .cookie(server::sessions::SESSION_COOKIE)
        .unwrap_or_else(|| panic!("signed in: {} {}", reply.status, reply.body))
}

/// Who a session cookie belongs to (null when signed out).
async fn who(app: &TestApp, cookie: &str) -> Value {
    app.server_fn(GetCurrentUser::PATH, &[], Some(cookie))
        .await
        .json()
}

/// A bearer token from the REST token endpoint.
async fn bearer(app: &TestApp, email: &str, password: &str) -> String {
    let reply = app.token(email, password).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    format!("Bearer {}", reply.json()["access_token"].as_str().unwrap())
}

async fn me(app: &TestApp, auth: &str) -> StatusCode {
    app.call(Method::GET, "/api/v1/me", None, Some(auth))
        .await
        .status
}

/// Registers `email` over REST and sends the mails that causes.
async fn registered(app: &TestApp, email: &str) {
    let reply = app.register(email, PASSWORD, "Noa").await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    run_jobs(app).await;
}

async fn ask_reset(app: &TestApp, email: &str) -> crate::Reply {
    app.post_json(
        "/api/v1/auth/password-reset",
        &json!({"email": email}).to_string(),
        &[],
    )
    .await
}

async fn confirm_reset(app: &TestApp, token: &str, password: &str) -> crate::Reply {
    app.post_json(
        "/api/v1/auth/password-reset/confirm",
        &json!({"token": token, "password": password}).to_string(),
        &[],
    )
    .await
}

async fn jobs(app: &TestApp) -> i64 {
    server::on_db!(&app.state.db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM jobs")
        .fetch_one(pool).await)
    .unwrap()
}

on_both_engines! {
    async fn a_password_reset_works_once_and_signs_every_session_and_token_out(engine: Engine) {
        let app = TestApp::new(engine).await;
        registered(&app, "noa@example.com").await;
        let cookie = browser(&app, "noa@example.com", PASSWORD).await;
        let token = bearer(&app, "noa@example.com", PASSWORD).await;

        // An unknown address gets the same answer and no mail is written.
        let before = jobs(&app).await;
        let unknown = ask_reset(&app, "nobody@example.com").await;
        assert_eq!((unknown.status, unknown.body.as_str()), (StatusCode::ACCEPTED, ""));
        assert_eq!(jobs(&app).await, before, "nothing written for an unknown address");

        let asked = ask_reset(&app, "NOA@example.com").await;
        assert_eq!((asked.status, asked.body.as_str()), (StatusCode::ACCEPTED, ""));
        run_jobs(&app).await;
        let mails = mails_to(&app, "noa@example.com", "Set a new EventHub password");
        assert_eq!(mails.len(), 1);
        let link = token_in(&mails[0], "/reset-password");
        assert_eq!(link.len(), 64);
        // Only the hash is stored.
        let stored: i64 = server::on_db!(&app.state.db, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM account_links WHERE token_hash = $1").bind(&link).fetch_one(pool).await).unwrap();
        assert_eq!(stored, 0);

        // A weak password is refused and leaves the link usable.
        let weak = confirm_reset(&app, &link, "short").await;
        assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(weak.json()["error"]["fields"]["password"].is_string(), "{}", weak.body);

        let done = confirm_reset(&app, &link, NEW_PASSWORD).await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
        assert_eq!(done.json()["user"]["email"], "noa@example.com");
        assert!(who(&app, &cookie).await.is_null(), "the old session is signed out");
        assert_eq!(me(&app, &token).await, StatusCode::UNAUTHORIZED, "the old token is revoked");

        let again = confirm_reset(&app, &link, "another-fine-pass-9").await;
        assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(again.json()["error"]["fields"]["token"], "This link is not valid any more: it was used already or it expired. Ask for a new one.");
        assert_eq!(app.token("noa@example.com", PASSWORD).await.status, StatusCode::UNAUTHORIZED);
        let fresh = bearer(&app, "noa@example.com", NEW_PASSWORD).await;
        assert_eq!(me(&app, &fresh).await, StatusCode::OK);
    }

    async fn an_expired_reset_link_is_refused_and_changes_nothing(engine: Engine) {
        let app = TestApp::new(engine).await;
        registered(&app, "ori@example.com").await;
        ask_reset(&app, "ori@example.com").await;
        run_jobs(&app).await;
        let link = token_in(&mails_to(&app, "ori@example.com", "Set a new")[0], "/reset-password");
        let past = chrono::Utc::now() - chrono::TimeDelta::seconds(1);
        server::on_db!(&app.state.db, pool => sqlx::query("UPDATE account_links SET expires_at = $1 WHERE purpose = 'reset_password'")
            .bind(past).execute(pool).await.map(|_| ())).unwrap();
        let late = confirm_reset(&app, &link, NEW_PASSWORD).await;
        assert_eq!(late.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(late.json()["error"]["kind"], "invalid");
        assert_eq!(app.token("ori@example.com", PASSWORD).await.status, StatusCode::OK);
        for bad in ["", "not-a-token", &"f".repeat(64)] {
            assert_eq!(confirm_reset(&app, bad, NEW_PASSWORD).await.status, StatusCode::UNPROCESSABLE_ENTITY);
        }
    }

    async fn reset_mails_per_account_are_limited_without_saying_so(engine: Engine) {
        let app = TestApp::new(engine).await;
        registered(&app, "dan@example.com").await;
        for _ in 0..5 {
            assert_eq!(ask_reset(&app, "dan@example.com").await.status, StatusCode::ACCEPTED);
        }
        run_jobs(&app).await;
        assert_eq!(mails_to(&app, "dan@example.com", "Set a new").len(), 3);
        let bad = ask_reset(&app, "not an address").await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    }

    async fn sign_up_mails_a_verification_link_that_works_once(engine: Engine) {
        let app = TestApp::new(engine).await;
        registered(&app, "gal@example.com").await;
        let token = bearer(&app, "gal@example.com", PASSWORD).await;
        let mine = app.call(Method::GET, "/api/v1/me", None, Some(&token)).await.json();
        assert_eq!(mine["user"]["email_verified"], false);
        let mails = mails_to(&app, "gal@example.com", "Confirm your email address");
        assert_eq!(mails.len(), 1);
        let link = token_in(&mails[0], "/verify-email");
        let verify = |t: String| {
            let app = &app;
            async move { app.post_json("/api/v1/auth/verify-email", &json!({"token": t}).to_string(), &[]).await }
        };
        let done = verify(link.clone()).await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
        assert_eq!(done.json()["user"]["email_verified"], true);
        assert_eq!(verify(link).await.status, StatusCode::UNPROCESSABLE_ENTITY);
        let mine = app.call(Method::GET, "/api/v1/me", None, Some(&token)).await.json();
        assert_eq!(mine["user"]["email_verified"], true);
    }

    async fn an_email_change_takes_effect_once_the_new_address_is_verified(engine: Engine) {
        let app = TestApp::new(engine).await;
        registered(&app, "old@example.com").await;
        registered(&app, "taken@example.com").await;
        let token = bearer(&app, "old@example.com", PASSWORD).await;
        let change = |email: &'static str, password: &'static str| {
            let (app, token) = (&app, token.clone());
            async move {
                app.call(Method::PUT, "/api/v1/me/email", Some(json!({"email": email, "password": password})), Some(&token)).await
            }
        };
        let wrong = change("new@example.com", "not-my-password").await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(wrong.json()["error"]["fields"]["password"].is_string());
        assert_eq!(change("taken@example.com", PASSWORD).await.status, StatusCode::CONFLICT);
        assert_eq!(change("OLD@example.com", PASSWORD).await.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(change("new@example.com", PASSWORD).await.status, StatusCode::ACCEPTED);
        run_jobs(&app).await;
        // Nothing changes until the new address is proved.
        assert_eq!(app.token("old@example.com", PASSWORD).await.status, StatusCode::OK);
        let mails = mails_to(&app, "new@example.com", "Confirm your email address");
        assert_eq!(mails.len(), 1);
        let link = token_in(&mails[0], "/verify-email");
        let done = app.post_json("/api/v1/auth/verify-email", &json!({"token": link}).to_string(), &[]).await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
        assert_eq!(done.json()["user"]["email"], "new@example.com");
        assert_eq!(app.token("new@example.com", PASSWORD).await.status, StatusCode::OK);
        assert_eq!(app.token("old@example.com", PASSWORD).await.status, StatusCode::UNAUTHORIZED);
        run_jobs(&app).await;
        let told = mails_to(&app, "old@example.com", "Your EventHub email address was changed");
        assert_eq!(told.len(), 1);
        assert!(told[0].text.contains("new@example.com"), "{}", told[0].text);
        // The old address's sign-up link died with the change.
        let first = token_in(&mails_to(&app, "old@example.com", "Confirm your email address")[0], "/verify-email");
        let stale = app.post_json("/api/v1/auth/verify-email", &json!({"token": first}).to_string(), &[]).await;
        assert_eq!(stale.status, StatusCode::UNPROCESSABLE_ENTITY);
    }

    async fn sessions_are_listed_and_signed_out_one_by_one_or_everywhere(engine: Engine) {
        let app = TestApp::new(engine).await;
        registered(&app, "eli@example.com").await;
        let first = browser(&app, "eli@example.com", PASSWORD).await;
        let second = browser(&app, "eli@example.com", PASSWORD).await;
        let token = bearer(&app, "eli@example.com", PASSWORD).await;

        let listed = app.server_fn(MySessions::PATH, &[], Some(&second)).await.json();
        let listed = listed.as_array().unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed.iter().filter(|s| s["current"] == true).count(), 1);
        let rest = app.call(Method::GET, "/api/v1/me/sessions", None, Some(&token)).await;
        assert_eq!(rest.status, StatusCode::OK);
        let items = rest.json()["items"].as_array().unwrap().clone();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["address"], "127.0.0.1");

        // The session listed as current from the second browser is the second; sign the
        // first out from the API.
        let other = listed.iter().find(|s| s["current"] == false).unwrap()["id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/me/sessions/{other}");
        assert_eq!(app.call(Method::DELETE, &path, None, Some(&token)).await.status, StatusCode::NO_CONTENT);
        assert_eq!(app.call(Method::DELETE, &path, None, Some(&token)).await.status, StatusCode::NOT_FOUND);
        assert!(who(&app, &first).await.is_null());
        assert_eq!(who(&app, &second).await["email"], "eli@example.com");

        // Another account cannot sign this one's sessions out.
        let (_, stranger) = app.bearer(app::auth::Role::User).await;
        let mine = app.call(Method::GET, "/api/v1/me/sessions", None, Some(&token)).await.json();
        let id = mine["items"][0]["id"].as_str().unwrap().to_owned();
        let foreign = app.call(Method::DELETE, &format!("/api/v1/me/sessions/{id}"), None, Some(&stranger)).await;
        assert_eq!(foreign.status, StatusCode::NOT_FOUND);
        assert_eq!(who(&app, &second).await["email"], "eli@example.com");

        let everywhere = app.call(Method::POST, "/api/v1/me/sign-out-everywhere", None, Some(&token)).await;
        assert_eq!(everywhere.status, StatusCode::NO_CONTENT);
        assert!(who(&app, &second).await.is_null(), "the other browser stops at once");
        assert_eq!(me(&app, &token).await, StatusCode::UNAUTHORIZED, "and the token");
        assert_eq!(me(&app, &bearer(&app, "eli@example.com", PASSWORD).await).await, StatusCode::OK);
    }

    async fn a_password_change_needs_the_current_one_and_signs_the_others_out(engine: Engine) {
        let app = TestApp::new(engine).await;
        registered(&app, "maya@example.com").await;
        let cookie = browser(&app, "maya@example.com", PASSWORD).await;
        let token = bearer(&app, "maya@example.com", PASSWORD).await;
        let change = |current: &'static str, new: &'static str| {
            let (app, token) = (&app, token.clone());
            async move {
                app.call(Method::PUT, "/api/v1/me/password",
                    Some(json!({"current_password": current, "new_password": new})), Some(&token)).await
            }
        };
        let wrong = change("not-my-password", NEW_PASSWORD).await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(wrong.json()["error"]["fields"]["current_password"], "This is not your current password.");
        let weak = change(PASSWORD, "password123").await;
        assert!(weak.json()["error"]["fields"]["new_password"].is_string(), "{}", weak.body);
        assert_eq!(me(&app, &token).await, StatusCode::OK, "refusals change nothing");

        assert_eq!(change(PASSWORD, NEW_PASSWORD).await.status, StatusCode::NO_CONTENT);
        assert!(who(&app, &cookie).await.is_null());
        assert_eq!(me(&app, &token).await, StatusCode::UNAUTHORIZED);
        assert_eq!(app.token("maya@example.com", NEW_PASSWORD).await.status, StatusCode::OK);
    }

    async fn a_session_idle_past_the_stores_limit_is_over_and_not_listed(engine: Engine) {
        let app = TestApp::new(engine).await;
        registered(&app, "idle@example.com").await;
        let idle = browser(&app, "idle@example.com", PASSWORD).await;
        let token = bearer(&app, "idle@example.com", PASSWORD).await;
        let long_ago = chrono::Utc::now() - chrono::TimeDelta::days(15);
        server::on_db!(&app.state.db, pool => sqlx::query("UPDATE account_sessions SET last_seen_at = $1")
            .bind(long_ago).execute(pool).await.map(|_| ())).unwrap();
        let listed = app.call(Method::GET, "/api/v1/me/sessions", None, Some(&token)).await.json();
        assert_eq!(listed["items"], json!([]));
        assert!(who(&app, &idle).await.is_null());
        // The next sign-in clears it away.
        browser(&app, "idle@example.com", PASSWORD).await;
        let rows: i64 = server::on_db!(&app.state.db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM account_sessions")
            .fetch_one(pool).await).unwrap();
        assert_eq!(rows, 1);
    }
}
