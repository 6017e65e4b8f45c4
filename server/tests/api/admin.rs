//! Organizer requests and the audit log through REST on both engines: filing, deciding, races
//! between two admins, who may do what, and a log nobody can rewrite.
use super::TestApp;
use crate::common::Engine;
use crate::on_both_engines;
use app::auth::Role;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;

async fn file(app: &TestApp, auth: Option<&str>, organisation: &str) -> (StatusCode, Value) {
    let reply = app
        .call(
            Method::POST,
            "/api/v1/agent-requests",
            Some(json!({
                "organisation": organisation, "message": "We run stand-up nights every Thursday."
            })),
            auth,
        )
        .await;
    let body = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
    (reply.status, body)
}

async fn decide(
    app: &TestApp,
    auth: &str,
    id: &str,
    verdict: &str,
    note: &str,
) -> (StatusCode, Value) {
    let reply = app
        .call(
            Method::POST,
            &format!("/api/v1/admin/agent-requests/{id}/{verdict}"),
            Some(json!({"note": note})),
            Some(auth),
        )
        .await;
    let body = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
    (reply.status, body)
}

on_both_engines! {
    async fn a_user_asks_to_organize_and_an_admin_decides(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, admin) = app.bearer(Role::Admin).await;
        let (_, agent) = app.bearer(Role::Agent).await;
        let (dana, user) = app.bearer(Role::User).await;
        let (_, other) = app.bearer(Role::User).await;

        assert_eq!(file(&app, None, "Basement").await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(file(&app, Some(&agent), "Basement").await.0, StatusCode::CONFLICT);
        let reply = app.call(Method::POST, "/api/v1/agent-requests", Some(json!({"organisation": " ", "message": "hi"})), Some(&user)).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        let fields = reply.json()["error"]["fields"].clone();
        assert!(fields["organisation"].is_string() && fields["message"].is_string(), "{fields}");
        assert_eq!(app.call(Method::GET, "/api/v1/me/agent-request", None, Some(&user)).await.status, StatusCode::NOT_FOUND);

        let (status, filed) = file(&app, Some(&user), "Comedy Basement").await;
        assert_eq!(status, StatusCode::CREATED, "{filed}");
        let id = filed["agent_request"]["id"].as_str().unwrap().to_owned();
        assert_eq!(filed["agent_request"]["status"], "pending");
        assert_eq!(file(&app, Some(&user), "Again").await.0, StatusCode::CONFLICT, "one pending at a time");
        let mine = app.call(Method::GET, "/api/v1/me/agent-request", None, Some(&user)).await.json();
        assert_eq!(mine["agent_request"]["id"], id.as_str());

        for outsider in [&user, &agent] {
            assert_eq!(app.call(Method::GET, "/api/v1/admin/agent-requests", None, Some(outsider)).await.status, StatusCode::FORBIDDEN);
            assert_eq!(decide(&app, outsider, &id, "approve", "").await.0, StatusCode::FORBIDDEN);
        }
        let (_, theirs) = file(&app, Some(&other), "Jazz Cellar").await;
        let pending = app.call(Method::GET, "/api/v1/admin/agent-requests?status=pending", None, Some(&admin)).await.json();
        assert_eq!(pending["items"].as_array().unwrap().len(), 2);
        assert_eq!(pending["items"][0]["id"], id.as_str(), "the oldest first");
        assert_eq!(app.call(Method::GET, "/api/v1/admin/agent-requests?status=maybe", None, Some(&admin)).await.status, StatusCode::UNPROCESSABLE_ENTITY);

        let (status, approved) = decide(&app, &admin, &id, "approve", "Welcome!").await;
        assert_eq!(status, StatusCode::OK, "{approved}");
        assert_eq!(approved["agent_request"]["status"], "approved");
        // The role is read afresh: the same token now acts as an agent.
        let me = app.call(Method::GET, "/api/v1/me", None, Some(&user)).await.json();
        assert_eq!(me["user"]["role"], "agent");
        assert_eq!(decide(&app, &admin, &id, "reject", "").await.0, StatusCode::CONFLICT);
        assert_eq!(decide(&app, &admin, "999999", "approve", "").await.0, StatusCode::NOT_FOUND);
        let long = "x".repeat(1001);
        let theirs_id = theirs["agent_request"]["id"].as_str().unwrap().to_owned();
        assert_eq!(decide(&app, &admin, &theirs_id, "reject", &long).await.0, StatusCode::UNPROCESSABLE_ENTITY);

        let (status, rejected) = decide(&app, &admin, &theirs_id, "reject", "Tell us more about the venue.").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(rejected["agent_request"]["note"], "Tell us more about the venue.");
        let (status, _) = file(&app, Some(&other), "Jazz Cellar").await;
        assert_eq!(status, StatusCode::CREATED, "a rejected user may ask again");

        let notices: Vec<String> = server::on_db!(&app.state.db, pool => sqlx::query_scalar(
            "SELECT kind FROM notices WHERE user_id = $1").bind(dana.id.get()).fetch_all(pool).await).unwrap();
        assert_eq!(notices, vec!["agent_approved".to_owned()]);

        let audit = app.call(Method::GET, "/api/v1/admin/audit?action=agent_request", None, Some(&admin)).await.json();
        let items = audit["items"].as_array().unwrap();
        assert_eq!(items.len(), 2, "{audit}");
        assert_eq!(items[0]["action"], "agent_request.reject");
        assert_eq!(items[1]["action"], "agent_request.approve");
        assert_eq!(items[1]["target"], format!("agent_request:{id}"));
        assert_eq!(items[1]["details"]["role"], json!({"before": "user", "after": "agent"}));
        assert_eq!(app.call(Method::GET, "/api/v1/admin/audit", None, Some(&agent)).await.status, StatusCode::FORBIDDEN);
    }

    async fn two_admins_deciding_one_request_at_once_make_exactly_one_decision(engine: Engine) {
        let app = Arc::new(TestApp::new(engine).await);
        let (_, first_admin) = app.bearer(Role::Admin).await;
        let (_, second_admin) = app.bearer(Role::Admin).await;
        for round in 0..6 {
            let (user, auth) = app.bearer(Role::User).await;
            let (_, filed) = file(&app, Some(&auth), &format!("Org {round}")).await;
            let id = filed["agent_request"]["id"].as_str().unwrap().to_owned();
            let approve = {
                let (app, admin, id) = (app.clone(), first_admin.clone(), id.clone());
                tokio::spawn(async move { decide(&app, &admin, &id, "approve", "").await.0 })
            };
            let reject = {
                let (app, admin, id) = (app.clone(), second_admin.clone(), id.clone());
                tokio::spawn(async move { decide(&app, &admin, &id, "reject", "no").await.0 })
            };
            let (approved, rejected) = (approve.await.unwrap(), reject.await.unwrap());
            let mut statuses = [approved, rejected];
            statuses.sort();
            assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
            let role: String = server::on_db!(&app.state.db, pool => sqlx::query_scalar(
                "SELECT role FROM users WHERE id = $1").bind(user.id.get()).fetch_one(pool).await).unwrap();
            assert_eq!(role == "agent", approved == StatusCode::OK, "the role follows the one decision made");
            let entries: i64 = server::on_db!(&app.state.db, pool => sqlx::query_scalar(
                "SELECT COUNT(*) FROM audit_log WHERE target = $1").bind(format!("agent_request:{id}")).fetch_one(pool).await).unwrap();
            assert_eq!(entries, 1);
        }
    }

    async fn the_audit_log_cannot_be_changed_or_emptied(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, admin) = app.bearer(Role::Admin).await;
        let (_, user) = app.bearer(Role::User).await;
        let (_, filed) = file(&app, Some(&user), "Puppet Theatre").await;
        decide(&app, &admin, filed["agent_request"]["id"].as_str().unwrap(), "approve", "").await;
        let update = server::on_db!(&app.state.db, pool => sqlx::query("UPDATE audit_log SET action = 'nothing'").execute(pool).await.map(|_| ()));
        assert!(update.is_err(), "an update must be refused");
        let delete = server::on_db!(&app.state.db, pool => sqlx::query("DELETE FROM audit_log").execute(pool).await.map(|_| ()));
        assert!(delete.is_err(), "a delete must be refused");
        let kept: i64 = server::on_db!(&app.state.db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM audit_log").fetch_one(pool).await).unwrap();
        assert_eq!(kept, 1);
    }
}

on_both_engines! {
    async fn admins_find_users_change_roles_and_blocks_act_at_once(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (me, admin) = app.bearer(Role::Admin).await;
        let (_, agent) = app.bearer(Role::Agent).await;
        let (dana, user, cookie) = app.signed_in(Role::User).await;
        let patch = |id: i64, body: Value, auth: String| {
            let app = &app;
            async move {
                let reply = app.call(Method::PATCH, &format!("/api/v1/admin/users/{id}"), Some(body), Some(&auth)).await;
                (reply.status, serde_json::from_str::<Value>(&reply.body).unwrap_or(Value::Null))
            }
        };

        let found = app.call(Method::GET, &format!("/api/v1/admin/users?q={}", &dana.email[..8].to_uppercase()), None, Some(&admin)).await.json();
        assert_eq!(found["items"][0]["email"], dana.email.as_str());
        let agents = app.call(Method::GET, "/api/v1/admin/users?role=agent", None, Some(&admin)).await.json();
        assert_eq!(agents["total"], 1);
        assert_eq!(app.call(Method::GET, "/api/v1/admin/users", None, Some(&agent)).await.status, StatusCode::FORBIDDEN);
        assert_eq!(patch(dana.id.into(), json!({"role": "agent"}), agent.clone()).await.0, StatusCode::FORBIDDEN);
        assert_eq!(patch(dana.id.into(), json!({"role": "boss"}), admin.clone()).await.0, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(patch(999_999, json!({"blocked": true}), admin.clone()).await.0, StatusCode::NOT_FOUND);

        let (status, changed) = patch(dana.id.into(), json!({"role": "agent"}), admin.clone()).await;
        assert_eq!(status, StatusCode::OK, "{changed}");
        assert_eq!(changed["user"]["role"], "agent");
        assert_eq!(app.call(Method::GET, "/api/v1/me", None, Some(&user)).await.json()["user"]["role"], "agent");

        // A block acts at once on the token and on the browser session.
        let session = format!("{}={cookie}", server::sessions::SESSION_COOKIE);
        assert_eq!(app.get("/me", &[("accept", "text/html"), ("cookie", session.as_str())]).await.status, StatusCode::OK);
        let (status, blocked) = patch(dana.id.into(), json!({"blocked": true}), admin.clone()).await;
        assert_eq!((status, blocked["user"]["blocked"].clone()), (StatusCode::OK, json!(true)));
        assert_eq!(app.call(Method::GET, "/api/v1/me", None, Some(&user)).await.status, StatusCode::FORBIDDEN);
        let page = app.get("/me", &[("accept", "text/html"), ("cookie", session.as_str())]).await;
        assert_eq!(page.status, StatusCode::FOUND, "signed out");
        assert_eq!(patch(dana.id.into(), json!({"blocked": false}), admin.clone()).await.0, StatusCode::OK);
        assert_eq!(app.call(Method::GET, "/api/v1/me", None, Some(&user)).await.status, StatusCode::OK);

        // The last admin stays an admin, and nobody blocks themself.
        let (status, body) = patch(me.id.into(), json!({"role": "user"}), admin.clone()).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(body["error"]["fields"]["role"], "The last admin cannot lose the role or be blocked.");
        let (status, body) = patch(me.id.into(), json!({"blocked": true}), admin.clone()).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(body["error"]["fields"]["blocked"], "You cannot block your own account.");
        let (other, _) = app.bearer(Role::Admin).await;
        assert_eq!(patch(other.id.into(), json!({"blocked": true}), admin.clone()).await.0, StatusCode::OK);
        assert_eq!(patch(me.id.into(), json!({"role": "agent"}), admin.clone()).await.0, StatusCode::CONFLICT, "a blocked admin does not count");

        let audit = app.call(Method::GET, "/api/v1/admin/audit?action=user", None, Some(&admin)).await.json();
        let actions: Vec<&str> = audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, vec!["user.block", "user.unblock", "user.block", "user.role"]);
        assert_eq!(audit["items"][3]["details"]["role"], json!({"before": "user", "after": "agent"}));
    }

    async fn two_admins_demoting_each_other_at_once_leave_one_admin(engine: Engine) {
        let app = Arc::new(TestApp::new(engine).await);
        for _ in 0..4 {
            let (first, first_auth) = app.bearer(Role::Admin).await;
            let (second, second_auth) = app.bearer(Role::Admin).await;
            // Only these two are active admins: everyone else made admin earlier is demoted.
            server::on_db!(&app.state.db, pool => sqlx::query("UPDATE users SET role = 'user' WHERE role = 'admin' AND id NOT IN ($1, $2)")
                .bind(first.id.get()).bind(second.id.get()).execute(pool).await.map(|_| ())).unwrap();
            let demote = |auth: String, id: i64| {
                let app = app.clone();
                tokio::spawn(async move {
                    app.call(Method::PATCH, &format!("/api/v1/admin/users/{id}"), Some(json!({"role": "user"})), Some(&auth)).await.status
                })
            };
            let (a, b) = (demote(first_auth, second.id.into()), demote(second_auth, first.id.into()));
            let statuses = [a.await.unwrap(), b.await.unwrap()];
            assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{statuses:?}");
            let admins: i64 = server::on_db!(&app.state.db, pool => sqlx::query_scalar(
                "SELECT COUNT(*) FROM users WHERE role = 'admin' AND NOT blocked").fetch_one(pool).await).unwrap();
            assert_eq!(admins, 1);
        }
    }
}

on_both_engines! {
    async fn event_status_changes_are_in_the_audit_log(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, admin) = app.bearer(Role::Admin).await;
        let (organizer, agent) = app.bearer(Role::Agent).await;
        let start = chrono::Utc::now() + chrono::Duration::days(4);
        let body = json!({
            "title": "Audited night", "summary": "s", "description": "d", "category": "music", "tags": [],
            "starts_at": start, "ends_at": start + chrono::Duration::hours(2), "timezone": "UTC",
            "venue": "v", "address": "", "city": "c", "capacity": 5,
            "ticket_types": [{"name": "G", "price": {"amount": 0, "currency": "EUR"}, "quantity": 5, "max_per_registration": 1}]
        });
        let id = app.call(Method::POST, "/api/v1/events", Some(body.clone()), Some(&agent)).await.json()["event"]["id"].as_str().unwrap().to_owned();
        assert_eq!(app.call(Method::POST, &format!("/api/v1/events/{id}/publish"), None, Some(&agent)).await.status, StatusCode::OK);
        let cancelled = app.call(Method::POST, &format!("/api/v1/events/{id}/cancel"), Some(json!({"reason": "Storm"})), Some(&admin)).await;
        assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
        let draft = app.call(Method::POST, "/api/v1/events", Some(body), Some(&agent)).await.json()["event"]["id"].as_str().unwrap().to_owned();
        assert_eq!(app.call(Method::DELETE, &format!("/api/v1/events/{draft}"), None, Some(&agent)).await.status, StatusCode::NO_CONTENT);

        let log = app.call(Method::GET, "/api/v1/admin/audit?action=event", None, Some(&admin)).await.json();
        let items = log["items"].as_array().unwrap();
        let actions: Vec<&str> = items.iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, vec!["event.delete", "event.cancel", "event.publish"]);
        assert_eq!(items[1]["details"]["status"], json!({"before": "published", "after": "cancelled"}));
        assert_eq!(items[1]["details"]["reason"], "Storm");
        assert_eq!(items[2]["actor_id"], organizer.id.to_string());
        let by_agent = app.call(Method::GET, &format!("/api/v1/admin/audit?actor={}", app::ui::urlencode(&organizer.email)), None, Some(&admin)).await.json();
        assert_eq!(by_agent["items"].as_array().unwrap().len(), 2);
    }
}

on_both_engines! {
    async fn admin_list_pages_are_bounded_and_refused_naming_the_field(engine: Engine) {
        use leptos::server_fn::ServerFn;
        let app = TestApp::new(engine).await;
        let (_, admin, cookie) = app.signed_in(Role::Admin).await;
        for list in ["/api/v1/admin/users", "/api/v1/admin/audit", "/api/v1/admin/events"] {
            for page in ["0", "-1", "10001", "4294967296", "99999999999999999999", "abc", "1.5"] {
                let path = format!("{list}?page={page}");
                let reply = app.call(Method::GET, &path, None, Some(&admin)).await;
                assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {}", reply.body);
                assert!(reply.json()["error"]["fields"]["page"].is_string(), "{path}: {}", reply.body);
            }
            for page in ["", "1", "%202%20", "10000"] {
                let path = format!("{list}?page={page}");
                let reply = app.call(Method::GET, &path, None, Some(&admin)).await;
                assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
            }
        }
        for (query, field) in [("from=yesterday", "from"), ("to=2026-13-01T00:00:00Z", "to")] {
            let path = format!("/api/v1/admin/audit?{query}");
            let reply = app.call(Method::GET, &path, None, Some(&admin)).await;
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {}", reply.body);
            assert!(reply.json()["error"]["fields"][field].is_string(), "{path}: {}", reply.body);
        }
        let path = "/api/v1/admin/events?from=10000-01-01";
        let reply = app.call(Method::GET, path, None, Some(&admin)).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
        assert!(reply.json()["error"]["fields"]["from"].is_string(), "{}", reply.body);
        // The server functions behind the admin pages keep the same bound.
        let users = <app::admin::queries::ListUsers as ServerFn>::PATH;
        let reply = app.server_fn(users, &[("q", ""), ("role", ""), ("page", "10001")], Some(&cookie)).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
        assert!(reply.body.contains("page"), "{}", reply.body);
        let events = <app::admin::queries::ListAllEvents as ServerFn>::PATH;
        let form = [("status", ""), ("organizer", ""), ("from", ""), ("to", ""), ("page", "0")];
        let reply = app.server_fn(events, &form, Some(&cookie)).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
        assert!(reply.body.contains("page"), "{}", reply.body);
    }
}
