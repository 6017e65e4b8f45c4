//! Two-factor sign-in and one's own data, on both engines: enrolling an authenticator (its
//! first code confirms it), the code asked for by the token endpoint and the page's second
//! step, a code taken once even by another process, recovery codes used once, a role the
//! platform requires it of held back until it is on; the export holding one's own rows only,
//! deleting an account (the waitlist moves up, the reports keep their numbers, the last admin
//! and an organizer with events to come are refused), the private calendar feed.
use super::TestApp;
use crate::common::Engine;
use crate::on_both_engines;
use app::auth::Role;
use app::auth::commands::{SignIn, SignInCode};
use app::auth::queries::GetCurrentUser;
use app::auth::security::{BeginTwoFactor, ConfirmTwoFactor, MyTwoFactor};
use axum::http::{Method, StatusCode};
use leptos::server_fn::ServerFn;
use serde_json::{Value, json};

const PASSWORD: &str = "granite-lily-42";

/// The authenticator's code `steps` time steps (30 s) from now.
fn code(secret: &str, steps: i64) -> String {
    code_at(secret, chrono::Utc::now().timestamp() / 30 + steps)
}

/// The authenticator's code of time step `step`.
fn code_at(secret: &str, step: i64) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .expect("a base32 secret");
    let totp = totp_rs::TOTP::new_unchecked(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        bytes,
        None,
        "test".into(),
    );
    totp.generate(u64::try_from(step * 30).unwrap())
}

async fn post(app: &TestApp, path: &str, body: Value, auth: &str) -> crate::Reply {
    app.call(Method::POST, path, Some(body), Some(auth)).await
}

/// Turns two-factor sign-in on for the holder of `auth`: (secret, recovery codes).
async fn enrolled(app: &TestApp, auth: &str) -> (String, Vec<String>) {
    let begun = app
        .call(Method::POST, "/api/v1/me/totp", None, Some(auth))
        .await;
    assert_eq!(begun.status, StatusCode::OK, "{}", begun.body);
    let secret = begun.json()["secret"].as_str().unwrap().to_owned();
    assert!(
        begun.json()["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/EventHub:")
    );
    let confirmed = post(
        app,
        "/api/v1/me/totp/confirm",
        json!({"code": code(&secret, 0)}),
        auth,
    )
    .await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    let codes: Vec<String> = confirmed.json()["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    (secret, codes)
}

async fn token_with(app: &TestApp, email: &str, otp: Option<&str>) -> crate::Reply {
    let mut body = json!({"email": email, "password": PASSWORD});
    if let Some(otp) = otp {
        body["otp"] = json!(otp);
    }
    app.post_json("/api/v1/auth/token", &body.to_string(), &[])
        .await
}

fn kind(reply: &crate::Reply) -> String {
    reply.json()["error"]["kind"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn me(app: &TestApp, auth: &str) -> Value {
    let reply = app.call(Method::GET, "/api/v1/me", None, Some(auth)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json()["user"].clone()
}

async fn count(app: &TestApp, sql: &'static str, id: i64) -> i64 {
    server::on_db!(&app.state.db, pool => sqlx::query_scalar(sql).bind(id).fetch_one(pool).await)
        .unwrap()
}

on_both_engines! {
    async fn a_code_is_asked_for_taken_once_even_by_another_process_and_recovery_codes_work_once(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (user, auth) = app.bearer(Role::User).await;

        // A wrong first code confirms nothing.
        let begun = app.call(Method::POST, "/api/v1/me/totp", None, Some(&auth)).await;
        let secret = begun.json()["secret"].as_str().unwrap().to_owned();
        let wrong = post(&app, "/api/v1/me/totp/confirm", json!({"code": "12345"}), &auth).await;
        assert_eq!((wrong.status, kind(&wrong).as_str()), (StatusCode::UNAUTHORIZED, "otp_invalid"));
        assert_eq!(me(&app, &auth).await["two_factor"], false);
        assert_eq!(token_with(&app, &user.email, None).await.status, StatusCode::OK, "still off");

        // Starting again replaces the enrolment never confirmed: the old secret's codes stop.
        let (secret2, recovery) = enrolled(&app, &auth).await;
        assert_ne!(secret, secret2);
        assert_eq!(recovery.len(), 10);
        assert_eq!(me(&app, &auth).await["two_factor"], true);
        let again = app.call(Method::POST, "/api/v1/me/totp", None, Some(&auth)).await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);

        // The password alone is not enough; the next step's code is (the confirming one is spent).
        let bare = token_with(&app, &user.email, None).await;
        assert_eq!((bare.status, kind(&bare).as_str()), (StatusCode::UNAUTHORIZED, "otp_required"));
        let last: i64 = count(&app, "SELECT last_step FROM user_totp WHERE user_id = $1", user.id.get()).await;
        let spent = token_with(&app, &user.email, Some(&code_at(&secret2, last))).await;
        assert_eq!(kind(&spent), "otp_invalid", "the code that confirmed is used");
        let next = code_at(&secret2, last + 1);
        let signed = token_with(&app, &user.email, Some(&next)).await;
        assert_eq!(signed.status, StatusCode::OK, "{}", signed.body);
        // The same code again, even at another server process on the same database: refused.
        let other = app.second_process().await;
        let replay = token_with(&other, &user.email, Some(&next)).await;
        assert_eq!((replay.status, kind(&replay).as_str()), (StatusCode::UNAUTHORIZED, "otp_invalid"));

        // A recovery code signs in once, typed in any case.
        let upper = recovery[0].to_uppercase();
        assert_eq!(token_with(&app, &user.email, Some(&upper)).await.status, StatusCode::OK);
        assert_eq!(kind(&token_with(&app, &user.email, Some(&recovery[0])).await), "otp_invalid");
        let left = app.state.services.account_queries.recovery_codes_left(user.id).await.unwrap();
        assert_eq!(left, 9);

        // Turning it off takes a code too; a recovery code does.
        let off = app.call(Method::DELETE, "/api/v1/me/totp", Some(json!({"code": "00000-00000"})), Some(&auth)).await;
        assert_eq!(kind(&off), "otp_invalid");
        let off = app.call(Method::DELETE, "/api/v1/me/totp", Some(json!({"code": recovery[1]})), Some(&auth)).await;
        assert_eq!(off.status, StatusCode::NO_CONTENT, "{}", off.body);
        assert_eq!(token_with(&app, &user.email, None).await.status, StatusCode::OK);
        assert_eq!(count(&app, "SELECT COUNT(*) FROM totp_recovery_codes WHERE user_id = $1", user.id.get()).await, 0);
    }

    async fn the_security_page_shows_the_recovery_codes_once_after_turning_it_on(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (user, _) = app.bearer(Role::User).await;
        let signed = app.server_fn(SignIn::PATH, &[("email", &user.email), ("password", PASSWORD)], None).await;
        assert_eq!(signed.status, StatusCode::OK, "{}", signed.body);
        let cookie = signed.cookie(server::sessions::SESSION_COOKIE).expect("a session");
        let begun = app.server_fn(BeginTwoFactor::PATH, &[], Some(&cookie)).await;
        assert!(begun.status.is_success(), "{}", begun.body);
        let state = app.server_fn(MyTwoFactor::PATH, &[], Some(&cookie)).await.json();
        let secret = state["pending"]["secret"].as_str().expect("a secret").to_owned();
        let wrong = app.server_fn(ConfirmTwoFactor::PATH, &[("code", "12345")], Some(&cookie)).await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", wrong.body);
        let on = app.server_fn(ConfirmTwoFactor::PATH, &[("code", &code(&secret, 0))], Some(&cookie)).await;
        assert!(on.status.is_success(), "{}", on.body);
        assert_eq!(on.json().as_array().map(Vec::len), Some(10), "{}", on.body);
        let cookie = on.cookie(server::sessions::SESSION_COOKIE).unwrap_or(cookie);
        // The page itself lists them (every resource on it made once, however often the view
        // is drawn: a second fetch would find the session's copy handed out already).
        let jar = format!("{}={cookie}", server::sessions::SESSION_COOKIE);
        let page = app.get("/me/security", &[("cookie", &jar)]).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains(r#"data-testid="two-factor-on""#), "{}", page.body);
        assert!(page.body.contains(r#"data-testid="recovery-codes""#), "{}", page.body);
        for code in on.json().as_array().expect("codes") {
            let code = code.as_str().expect("a code");
            assert!(page.body.contains(&format!("<li><code>{code}</code></li>")), "{code} listed");
        }
        let again = app.get("/me/security", &[("cookie", &jar)]).await;
        assert!(!again.body.contains(r#"data-testid="recovery-codes""#), "shown once");
        let state = app.server_fn(MyTwoFactor::PATH, &[], Some(&cookie)).await.json();
        assert_eq!((&state["on"], &state["fresh_codes"]), (&json!(true), &json!([])), "{state}");
    }

    async fn the_sign_in_page_asks_for_the_code_in_a_second_step(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (user, auth) = app.bearer(Role::User).await;
        let (secret, _) = enrolled(&app, &auth).await;

        let first = app.server_fn(SignIn::PATH, &[("email", &user.email), ("password", PASSWORD)], None).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.body);
        let cookie = first.cookie(server::sessions::SESSION_COOKIE).expect("a session for the second step");
        let who = app.server_fn(GetCurrentUser::PATH, &[], Some(&cookie)).await.json();
        assert!(who.is_null(), "not signed in before the code: {who}");

        let wrong = app.server_fn(SignInCode::PATH, &[("code", "12345")], Some(&cookie)).await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", wrong.body);
        assert!(wrong.body.contains("code"), "{}", wrong.body);
        let right = app.server_fn(SignInCode::PATH, &[("code", &code(&secret, 1))], Some(&cookie)).await;
        assert_eq!(right.status, StatusCode::OK, "{}", right.body);
        let cookie = right.cookie(server::sessions::SESSION_COOKIE).unwrap_or(cookie);
        let who = app.server_fn(GetCurrentUser::PATH, &[], Some(&cookie)).await.json();
        assert_eq!(who["email"], user.email.as_str(), "{who}");

        // Without a password right a moment ago, the second step signs no one in.
        let stray = app.server_fn(SignInCode::PATH, &[("code", &code(&secret, 1))], None).await;
        assert_eq!(stray.status, StatusCode::OK, "{}", stray.body);
        if let Some(c) = stray.cookie(server::sessions::SESSION_COOKIE) {
            let who = app.server_fn(GetCurrentUser::PATH, &[], Some(&c)).await.json();
            assert!(who.is_null(), "{who}");
        }
    }

    async fn a_role_that_requires_two_factor_sign_in_is_held_back_until_it_is_on(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, admin) = app.bearer(Role::Admin).await;
        let (_, agent) = app.bearer(Role::Agent).await;
        let settings = |roles: Value| {
            let app = &app;
            let admin = admin.clone();
            async move {
                app.call(Method::PATCH, "/api/v1/admin/settings", Some(json!({"require_2fa_for": roles})), Some(&admin)).await
            }
        };
        // A role that is not one, and requiring it of admins before using it oneself: refused.
        let bad = settings(json!(["agent", "owner"])).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
        let user_role = settings(json!(["user"])).await;
        assert_eq!(user_role.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", user_role.body);
        let selfless = settings(json!(["admin"])).await;
        assert_eq!(selfless.status, StatusCode::CONFLICT, "{}", selfless.body);

        let set = settings(json!(["agent"])).await;
        assert_eq!(set.status, StatusCode::OK, "{}", set.body);
        assert_eq!(set.json()["require_2fa_for"], json!(["agent"]));
        let held = me(&app, &agent).await;
        assert_eq!((held["role"].as_str(), held["role_held"].as_str()), (Some("user"), Some("agent")));
        let start = chrono::Utc::now() + chrono::Duration::days(3);
        let event = json!({"title": "Held", "summary": "s", "description": "d", "category": "music", "tags": [],
            "starts_at": start, "ends_at": start + chrono::Duration::hours(1), "timezone": "UTC",
            "venue": "V", "address": "", "city": "C", "capacity": 10,
            "ticket_types": [{"name": "G", "price": {"amount": 0, "currency": "ILS"}, "quantity": 10, "max_per_registration": 2}]});
        let refused = app.call(Method::POST, "/api/v1/events", Some(event.clone()), Some(&agent)).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);

        enrolled(&app, &agent).await;
        let back = me(&app, &agent).await;
        assert_eq!((back["role"].as_str(), &back["role_held"]), (Some("agent"), &Value::Null));
        let made = app.call(Method::POST, "/api/v1/events", Some(event), Some(&agent)).await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);

        // Nothing required again: the setting is off.
        assert_eq!(settings(json!([])).await.json()["require_2fa_for"], json!([]));
    }

    async fn the_export_holds_ones_own_rows_and_no_secrets(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, organizer) = app.bearer(Role::Agent).await;
        let (event, tt) = app.published_event(&organizer, "Export night", 10, 10, 4, 0).await;
        let (me_user, mine) = app.bearer(Role::User).await;
        let (other_user, theirs) = app.bearer(Role::User).await;
        let (_, my_booking) = app.book(&mine, &event, &tt, 1).await;
        let (_, their_booking) = app.book(&theirs, &event, &tt, 2).await;
        enrolled(&app, &mine).await;

        let reply = app.call(Method::GET, "/api/v1/me/export", None, Some(&mine)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert!(reply.headers["content-disposition"].to_str().unwrap().contains("attachment"));
        let export = reply.json();
        assert_eq!(export["profile"]["email"], me_user.email.as_str());
        let text = reply.body.clone();
        assert!(text.contains(my_booking["registration"]["id"].as_str().unwrap()) || text.contains(&my_booking["registration"]["id"].to_string()));
        let their_id = their_booking["registration"]["id"].as_str().unwrap();
        assert!(!text.contains(&format!("\"{their_id}\"")), "another's registration leaked");
        assert!(!text.contains(&other_user.email), "another's address leaked");
        for secret in ["password_hash", "argon2", "code_hash", "secret"] {
            assert!(!text.contains(secret), "{secret} in the export");
        }
    }

    async fn deleting_an_account_moves_the_waitlist_up_and_keeps_the_reports_exact(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, admin) = app.bearer(Role::Admin).await;
        let (organizer_view, organizer) = app.bearer(Role::Agent).await;
        let (event, tt) = app.published_event(&organizer, "One seat", 1, 1, 1, 0).await;
        let (leaver, leaving) = app.bearer(Role::User).await;
        let (_, waiting) = app.bearer(Role::User).await;
        let (_, held) = app.book(&leaving, &event, &tt, 1).await;
        assert_eq!(held["registration"]["status"], "confirmed");
        let (_, queued) = app.book(&waiting, &event, &tt, 1).await;
        assert_eq!(queued["registration"]["status"], "waitlisted");
        let before = app.call(Method::GET, "/api/v1/reports/summary", None, Some(&admin)).await.json();

        let delete = |auth: String, body: Value| {
            let app = &app;
            async move { app.call(Method::DELETE, "/api/v1/me", Some(body), Some(&auth)).await }
        };
        let wrong = delete(leaving.clone(), json!({"password": "not-it"})).await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", wrong.body);
        let done = delete(leaving.clone(), json!({"password": PASSWORD})).await;
        assert_eq!(done.status, StatusCode::NO_CONTENT, "{}", done.body);

        let promoted = app.call(Method::GET, &format!("/api/v1/registrations/{}", queued["registration"]["id"].as_str().unwrap()), None, Some(&waiting)).await;
        assert_eq!(promoted.json()["registration"]["status"], "confirmed", "{}", promoted.body);
        assert_eq!(app.call(Method::GET, "/api/v1/me", None, Some(&leaving)).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(app.token(&leaver.email, PASSWORD).await.status, StatusCode::UNAUTHORIZED);
        let name: String = server::on_db!(&app.state.db, pool => sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
            .bind(leaver.id.get()).fetch_one(pool).await).unwrap();
        assert!(name.ends_with("@deleted.invalid"), "{name}");
        assert_eq!(count(&app, "SELECT COUNT(*) FROM registrations WHERE user_id = $1", leaver.id.get()).await, 1,
            "the cancelled registration stays, without a name");
        // The seat changed hands: one confirmed still, the waitlist empty, one cancellation.
        let after = app.call(Method::GET, "/api/v1/reports/summary", None, Some(&admin)).await.json();
        let totals = |s: &Value| {
            let t = &s["totals"];
            (t["registrations_confirmed"].as_i64(), t["registrations_waitlisted"].as_i64(), t["registrations_cancelled"].as_i64())
        };
        assert_eq!(totals(&before), (Some(1), Some(1), Some(0)), "{before}");
        assert_eq!(totals(&after), (Some(1), Some(0), Some(1)), "{after}");

        // The organizer has a published event to come; the only admin is the last one.
        let refused = delete(organizer.clone(), json!({"password": PASSWORD})).await;
        assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
        assert_eq!(me(&app, &organizer).await["id"], organizer_view.id.to_string());
        let last = delete(admin.clone(), json!({"password": PASSWORD})).await;
        assert_eq!(last.status, StatusCode::CONFLICT, "{}", last.body);
    }

    async fn with_two_factor_on_deleting_takes_a_code(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (user, auth) = app.bearer(Role::User).await;
        let (_, recovery) = enrolled(&app, &auth).await;
        let without = app.call(Method::DELETE, "/api/v1/me", Some(json!({"password": PASSWORD})), Some(&auth)).await;
        assert_eq!((without.status, kind(&without).as_str()), (StatusCode::UNAUTHORIZED, "otp_required"));
        let with = app.call(Method::DELETE, "/api/v1/me", Some(json!({"password": PASSWORD, "otp": recovery[0]})), Some(&auth)).await;
        assert_eq!(with.status, StatusCode::NO_CONTENT, "{}", with.body);
        assert_eq!(count(&app, "SELECT COUNT(*) FROM user_totp WHERE user_id = $1", user.id.get()).await, 0);
    }

    async fn the_calendar_feed_lists_ones_bookings_and_a_renewed_address_stops_the_old(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, organizer) = app.bearer(Role::Agent).await;
        let (event, tt) = app.published_event(&organizer, "Feed night", 10, 10, 2, 0).await;
        let (user, auth) = app.bearer(Role::User).await;
        app.book(&auth, &event, &tt, 1).await;
        let commands = &app.state.services.account_commands;
        let queries = &app.state.services.account_queries;
        assert_eq!(queries.calendar_token(user.id).await.unwrap(), None);

        let first = commands.renew_calendar(user.id).await.unwrap();
        let feed = app.get(&format!("/feeds/{first}.ics"), &[]).await;
        assert_eq!(feed.status, StatusCode::OK, "{}", feed.body);
        assert!(feed.headers["content-type"].to_str().unwrap().starts_with("text/calendar"));
        assert!(feed.body.contains("SUMMARY:Feed night"), "{}", feed.body);

        let second = commands.renew_calendar(user.id).await.unwrap();
        assert_ne!(first, second);
        assert_eq!(app.get(&format!("/feeds/{first}.ics"), &[]).await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.get(&format!("/feeds/{second}.ics"), &[]).await.status, StatusCode::OK);
        let forged = second.replace('.', "x");
        assert_eq!(app.get(&format!("/feeds/{forged}.ics"), &[]).await.status, StatusCode::NOT_FOUND);

        commands.stop_calendar(user.id).await.unwrap();
        assert_eq!(app.get(&format!("/feeds/{second}.ics"), &[]).await.status, StatusCode::NOT_FOUND);
        assert_eq!(queries.calendar_token(user.id).await.unwrap(), None);
    }
}
