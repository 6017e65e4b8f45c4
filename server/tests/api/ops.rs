//! Operators over the real router on both engines: `/api/v1/admin/jobs` (counts, the oldest
//! waiting job's age, filters, retry and discard with their audit entries, 404s and 422s),
//! `/api/v1/admin/mail` (newest first, the recipient filter, one mail), the pages
//! `/admin/jobs` and `/admin/mail` (+ the sandboxed HTML frame), and `/metrics` after jobs ran.
use crate::TestApp;
use crate::common::Engine;
use crate::on_both_engines;
use app::auth::Role;
use axum::http::{Method, StatusCode, header};
use chrono::TimeDelta;
use server::jobs::worker::drain;
use server::jobs::{Failure, Handler, Handlers, Job, NewJob};
use server::sql::Sql;
use std::sync::Arc;

/// Writes a mail record as the mail handler would (recipient, subject, both bodies), not sent
/// yet; answers its id.
pub async fn record_mail(app: &TestApp, to: &str, subject: &str) -> i64 {
    let now = server::db::now();
    let key = format!("test:{}", server::random_hex(6));
    let sql = Sql::new(
        "INSERT INTO mails (key, message_id, to_addr, locale, subject, text_body, html_body, created_at) \
         VALUES ($1, $2, $3, 'en', $4, $5, $6, $7) RETURNING id",
    )
    .arg(key.as_str())
    .arg(format!("<{key}@test>"))
    .arg(to)
    .arg(subject)
    .arg(format!("Hello {to}"))
    .arg(format!(
        "<!doctype html><p style=\"color: red\">Hello</p><script>parent.document.title='pwned'</script><p>{subject}</p>"
    ))
    .arg(now);
    app.state.db.scalar::<i64>(sql).await.expect("a mail row")
}

/// Succeeds on `ok` jobs, fails on others.
struct Picky;

#[async_trait::async_trait]
impl Handler for Picky {
    async fn run(&self, job: &Job) -> anyhow::Result<()> {
        if job.payload_json.contains("ok") {
            Ok(())
        } else {
            anyhow::bail!("picky refuses {}", job.id)
        }
    }
}

/// A dead job of `kind` (one attempt, failed): its id.
async fn dead_job(app: &TestApp, kind: &str) -> i64 {
    let jobs = &app.state.jobs;
    let now = server::db::now();
    let job = NewJob::new(kind, serde_json::json!({"n": 1}), now).max_attempts(1);
    jobs.enqueue(&[job], now).await.unwrap();
    let lease = jobs.claim("t", &[kind], now).await.unwrap().unwrap();
    assert_eq!(
        jobs.fail(&lease, "broken on purpose", now).await.unwrap(),
        Failure::Dead
    );
    lease.job.id
}

on_both_engines! {
    async fn the_jobs_api_answers_counts_age_and_filtered_pages(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, admin) = app.bearer(Role::Admin).await;
        let now = server::db::now();
        let jobs = &app.state.jobs;
        // Due since a minute, due since a second, one for next week, and a dead one.
        jobs.enqueue(&[
            NewJob::new("alpha", serde_json::json!({}), now - TimeDelta::seconds(60)).dedupe_key("a1"),
            NewJob::new("alpha", serde_json::json!({}), now - TimeDelta::seconds(1)).priority(5).dedupe_key("a2"),
            NewJob::new("beta", serde_json::json!({}), now + TimeDelta::days(7)).dedupe_key("b1"),
        ], now).await.unwrap();
        let dead = dead_job(&app, "gamma").await;
        let reply = app.call(Method::GET, "/api/v1/admin/jobs", None, Some(&admin)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let body = reply.json();
        assert_eq!(body["counts"], serde_json::json!({"pending": 3, "running": 0, "done": 0, "dead": 1}));
        let age = body["oldest_pending_age_seconds"].as_i64().unwrap();
        assert!((60..3600).contains(&age), "{age}");
        // All states: newest first, ids as strings, the dead job's error.
        let items = body["items"].as_array().unwrap();
        assert_eq!(items.len(), 4);
        assert_eq!(items[0]["id"], dead.to_string());
        assert_eq!(items[0]["state"], "dead");
        assert_eq!(items[0]["last_error"], "broken on purpose");
        for key in ["id", "kind", "state", "priority", "attempts", "max_attempts", "run_at", "last_error"] {
            assert!(items[0].get(key).is_some(), "{key}: {}", items[0]);
        }
        // Pending in run order (priority first); one kind.
        let pending = app.call(Method::GET, "/api/v1/admin/jobs?state=pending", None, Some(&admin)).await.json();
        let kinds: Vec<_> = pending["items"].as_array().unwrap().iter().map(|j| (j["kind"].as_str().unwrap().to_owned(), j["priority"].as_i64().unwrap())).collect();
        assert_eq!(kinds, [("alpha".to_owned(), 5), ("alpha".to_owned(), 0), ("beta".to_owned(), 0)]);
        let beta = app.call(Method::GET, "/api/v1/admin/jobs?kind=beta&page=1", None, Some(&admin)).await.json();
        assert_eq!(beta["items"].as_array().unwrap().len(), 1);
        let empty = app.call(Method::GET, "/api/v1/admin/jobs?page=2", None, Some(&admin)).await.json();
        assert_eq!(empty["items"], serde_json::json!([]));
        // Bad values: 422 in the error shape, naming the parameter.
        for (query, field) in [("state=asleep", "state"), ("page=0", "page"), ("page=x", "page"), ("kind=a%00b", "kind")] {
            let reply = app.call(Method::GET, &format!("/api/v1/admin/jobs?{query}"), None, Some(&admin)).await;
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {}", reply.body);
            assert!(reply.json()["error"]["fields"][field].is_string(), "{query}: {}", reply.body);
        }
        let long = "k".repeat(101);
        let reply = app.call(Method::GET, &format!("/api/v1/admin/jobs?kind={long}"), None, Some(&admin)).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
    }

    async fn retry_and_discard_of_dead_jobs_are_audited_and_404_otherwise(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (admin_user, admin) = app.bearer(Role::Admin).await;
        let first = dead_job(&app, "gamma").await;
        let second = dead_job(&app, "gamma").await;
        let post = |path: String| {
            let admin = admin.clone();
            let app = &app;
            async move { app.call(Method::POST, &path, None, Some(&admin)).await }
        };
        let retried = post(format!("/api/v1/admin/jobs/{first}/retry")).await;
        assert_eq!(retried.status, StatusCode::OK, "{}", retried.body);
        assert_eq!(retried.json(), serde_json::json!({"id": first.to_string(), "state": "pending"}));
        let job = app.state.jobs.get(first).await.unwrap().unwrap();
        assert_eq!((job.state, job.attempts), (server::jobs::JobState::Pending, 0));
        // No longer dead: 404, like an unknown or unreadable id.
        for path in [
            format!("/api/v1/admin/jobs/{first}/retry"),
            format!("/api/v1/admin/jobs/{first}/discard"),
            "/api/v1/admin/jobs/999999/retry".into(),
            "/api/v1/admin/jobs/not-a-number/discard".into(),
        ] {
            let reply = post(path.clone()).await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}: {}", reply.body);
            assert_eq!(reply.json()["error"]["kind"], "not_found", "{path}");
        }
        let discarded = post(format!("/api/v1/admin/jobs/{second}/discard")).await;
        assert_eq!(discarded.status, StatusCode::OK, "{}", discarded.body);
        assert!(app.state.jobs.get(second).await.unwrap().is_none());
        // Both in the audit log, by the acting admin, with what the job was.
        let audit = app.call(Method::GET, "/api/v1/admin/audit?action=job", None, Some(&admin)).await.json();
        let entries = audit["items"].as_array().unwrap();
        let find = |action: &str, id: i64| entries.iter().find(|e| e["action"] == action && e["target"] == format!("job:{id}")).cloned();
        let retry = find("job.retry", first).expect("the retry's entry");
        assert_eq!(retry["actor_id"], admin_user.id.to_string());
        assert_eq!(retry["details"]["kind"], "gamma");
        assert_eq!(retry["details"]["last_error"], "broken on purpose");
        let discard = find("job.discard", second).expect("the discard's entry");
        assert_eq!(discard["details"]["payload"], serde_json::json!({"n": 1}));
    }

    async fn the_mail_api_lists_newest_first_filters_by_recipient_and_shows_one(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, admin) = app.bearer(Role::Admin).await;
        let older = record_mail(&app, "Dana@Example.com", "Older").await;
        let newer = record_mail(&app, "eli@example.org", "Newer").await;
        let list = app.call(Method::GET, "/api/v1/admin/mail", None, Some(&admin)).await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.body);
        let items = list.json()["items"].as_array().unwrap().clone();
        let ids: Vec<_> = items.iter().map(|m| m["id"].as_str().unwrap().to_owned()).collect();
        assert_eq!(ids, [newer.to_string(), older.to_string()]);
        assert_eq!(items[0]["sent_at"], serde_json::Value::Null);
        assert_eq!(items[0]["subject"], "Newer");
        // A part of the address, any case; LIKE's own characters are literal.
        for (to, expected) in [("dana@", vec![older]), ("EXAMPLE.", vec![newer, older]), ("%", vec![]), ("_", vec![])] {
            let reply = app.call(Method::GET, &format!("/api/v1/admin/mail?to={}", app::ui::urlencode(to)), None, Some(&admin)).await.json();
            let got: Vec<i64> = reply["items"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().parse().unwrap()).collect();
            assert_eq!(got, expected, "{to}");
        }
        let page2 = app.call(Method::GET, "/api/v1/admin/mail?page=2", None, Some(&admin)).await.json();
        assert_eq!(page2["items"], serde_json::json!([]));
        for query in ["page=-1", "to=a%00b"] {
            let bad = app.call(Method::GET, &format!("/api/v1/admin/mail?{query}"), None, Some(&admin)).await;
            assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {}", bad.body);
        }
        let one = app.call(Method::GET, &format!("/api/v1/admin/mail/{older}"), None, Some(&admin)).await;
        assert_eq!(one.status, StatusCode::OK, "{}", one.body);
        let one = one.json();
        assert_eq!(one["to"], "Dana@Example.com");
        assert_eq!(one["subject"], "Older");
        assert_eq!(one["text"], "Hello Dana@Example.com");
        assert!(one["html"].as_str().unwrap().contains("<p>Older</p>"));
        assert_eq!(one["sent_at"], serde_json::Value::Null);
        for path in ["/api/v1/admin/mail/999999", "/api/v1/admin/mail/abc"] {
            let reply = app.call(Method::GET, path, None, Some(&admin)).await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
            assert_eq!(reply.json()["error"]["kind"], "not_found");
        }
    }

    async fn the_operator_pages_show_the_queue_and_frame_mail_html_sandboxed(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, _, cookie) = app.signed_in(Role::Admin).await;
        let cookie = format!("{}={cookie}", server::sessions::SESSION_COOKIE);
        let dead = dead_job(&app, "gamma").await;
        let jobs = app.get("/admin/jobs?state=dead", &[("cookie", &cookie)]).await;
        assert_eq!(jobs.status, StatusCode::OK);
        assert!(jobs.body.contains(&format!("data-job=\"{dead}\"")), "{}", jobs.body);
        assert!(jobs.body.contains("broken on purpose"));
        assert!(jobs.body.contains(">Retry<") && jobs.body.contains(">Discard<"));
        assert!(jobs.body.contains("data-kind=\"gamma\""));
        // A plain form post (no script): the job runs again, the page says so.
        let form = format!("id={dead}");
        let req = axum::http::Request::post(<app::admin::commands::RetryJob as leptos::server_fn::ServerFn>::PATH)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "text/html")
            .header(header::COOKIE, &cookie)
            .header(header::REFERER, "http://127.0.0.1/admin/jobs")
            .body(axum::body::Body::from(form))
            .unwrap();
        let posted = app.send(req).await;
        assert_eq!(posted.status, StatusCode::FOUND, "{}", posted.body);
        let back = posted.headers[header::LOCATION].to_str().unwrap().to_owned();
        assert_eq!(back, format!("/admin/jobs?state=dead&retried={dead}"));
        let after = app.get(&back, &[("cookie", &cookie)]).await;
        assert!(after.body.contains(&format!("Job {dead} will run again.")), "{}", after.body);
        // Mail: the list, one mail, its HTML only in a sandboxed frame.
        let id = record_mail(&app, "noa@example.com", "Your tickets").await;
        let list = app.get("/admin/mail?to=NOA", &[("cookie", &cookie)]).await;
        assert!(list.body.contains(&format!("href=\"/admin/mail/{id}\"")), "{}", list.body);
        let page = app.get(&format!("/admin/mail/{id}"), &[("cookie", &cookie), ("accept-language", "he")]).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("dir=\"rtl\""));
        assert!(page.body.contains(&format!("src=\"/admin/mail/{id}/html\"")), "{}", page.body);
        assert!(page.body.contains("sandbox=\"\""));
        assert!(page.body.contains("טרם נשלח"), "not sent yet, in Hebrew");
        assert!(!page.body.contains("pwned"), "the mail's HTML is not in the page");
        let frame = app.get(&format!("/admin/mail/{id}/html"), &[("cookie", &cookie)]).await;
        assert_eq!(frame.status, StatusCode::OK);
        let csp = frame.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.starts_with("sandbox;") && csp.contains("default-src 'none'"), "{csp}");
        assert!(!csp.contains("script-src"), "{csp}");
        assert_eq!(frame.headers[header::X_FRAME_OPTIONS], "SAMEORIGIN");
        assert!(frame.body.contains("<p>Your tickets</p>"));
        let anonymous = app.get(&format!("/admin/mail/{id}/html"), &[]).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    }

    async fn metrics_count_enqueued_and_processed_jobs_and_read_the_queue(engine: Engine) {
        let app = TestApp::new(engine).await;
        let now = server::db::now();
        let kind = format!("metric{}", server::random_hex(3));
        let kind: &'static str = Box::leak(kind.into_boxed_str());
        let jobs = &app.state.jobs;
        jobs.enqueue(&[
            NewJob::new(kind, serde_json::json!({"ok": true}), now),
            NewJob::new(kind, serde_json::json!({"ok": true}), now),
            NewJob::new(kind, serde_json::json!({}), now).max_attempts(1),
            NewJob::new(kind, serde_json::json!({}), now).max_attempts(2),
            NewJob::new(kind, serde_json::json!({"ok": true}), now + TimeDelta::days(1)),
        ], now).await.unwrap();
        let handlers = Handlers::new().with(kind, Arc::new(Picky));
        assert_eq!(drain(jobs, &handlers, now).await.unwrap(), 4);
        let reply = app.get("/metrics", &[]).await;
        assert_eq!(reply.status, StatusCode::OK);
        let text = reply.body;
        let value = |line: &str| -> f64 {
            text.lines()
                .find_map(|l| l.strip_prefix(line).and_then(|rest| rest.trim().parse().ok()))
                .unwrap_or_else(|| panic!("no {line} in\n{text}"))
        };
        assert_eq!(value(&format!("eventhub_jobs_enqueued_total{{kind=\"{kind}\"}}")), 5.0);
        assert_eq!(value(&format!("eventhub_jobs_processed_total{{kind=\"{kind}\",outcome=\"done\"}}")), 2.0);
        assert_eq!(value(&format!("eventhub_jobs_processed_total{{kind=\"{kind}\",outcome=\"dead\"}}")), 1.0);
        assert_eq!(value(&format!("eventhub_jobs_processed_total{{kind=\"{kind}\",outcome=\"retry\"}}")), 1.0);
        assert_eq!(value(&format!("eventhub_job_duration_seconds_count{{kind=\"{kind}\"}}")), 4.0);
        // From the database at the scrape: one pending (retry later) + one tomorrow, one dead.
        assert_eq!(value("eventhub_jobs_queue_depth{state=\"pending\"}"), 2.0);
        assert_eq!(value("eventhub_jobs_queue_depth{state=\"done\"}"), 2.0);
        assert_eq!(value("eventhub_jobs_queue_depth{state=\"dead\"}"), 1.0);
        assert_eq!(value("eventhub_jobs_queue_depth{state=\"running\"}"), 0.0);
        assert_eq!(value("eventhub_jobs_oldest_pending_age_seconds"), 0.0);
        // A job due a minute ago and not run: the age shows it.
        jobs.enqueue(&[NewJob::new("nobody", serde_json::json!({}), now - TimeDelta::seconds(90))], now).await.unwrap();
        let text = app.get("/metrics", &[]).await.body;
        let age: f64 = text.lines().find_map(|l| l.strip_prefix("eventhub_jobs_oldest_pending_age_seconds ")).unwrap().trim().parse().unwrap();
        assert!((90.0..3600.0).contains(&age), "{age}");
        assert!(text.contains("# TYPE eventhub_job_duration_seconds histogram"), "{text}");
    }
}

on_both_engines! {
    async fn metrics_cover_requests_bookings_the_pool_streams_and_the_process(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, agent) = app.bearer(Role::Agent).await;
        let (_, user) = app.bearer(Role::User).await;
        let (event, tt) = app.published_event(&agent, "Counted", 1, 1, 1, 0).await;
        assert!(app.book(&user, &event, &tt, 1).await.0.is_success());
        assert!(app.book(&user, &event, &tt, 1).await.0.is_success(), "waitlisted");
        assert_eq!(app.get("/events", &[]).await.status, StatusCode::OK);
        let text = app.get("/metrics", &[]).await.body;
        for family in [
            "eventhub_http_requests_total{method=\"GET\",route=\"/events\",status=\"200\"} 1",
            "eventhub_http_request_duration_seconds_bucket{le=\"+Inf\",method=\"GET\",route=\"/events\"} 1",
            "eventhub_http_requests_total{method=\"POST\",route=\"/api/v1/events/{id}/registrations\",status=\"",
            "eventhub_bookings_total{outcome=\"confirmed\"} 1",
            "eventhub_bookings_total{outcome=\"waitlisted\"} 1",
            "eventhub_booking_batch_size_count ",
            "eventhub_booking_queue_length ",
            "eventhub_db_pool_connections{state=\"in_use\"} ",
            "eventhub_db_pool_connections{state=\"idle\"} ",
            "eventhub_live_streams 0",
            "eventhub_data_disk_free_bytes ",
            "eventhub_jobs_queue_depth{",
            "process_resident_memory_bytes ",
            "process_open_fds ",
        ] {
            assert!(text.contains(family), "{family} missing:\n{text}");
        }
    }
}

on_both_engines! {
    async fn the_system_page_shows_admins_the_installation_and_no_one_else(engine: Engine) {
        let app = TestApp::new(engine).await;
        let config = app.state.config.clone();
        let dead = dead_job(&app, "gamma").await;
        let archive = config.data_dir.join("backups").join("eventhub-20261207T030000Z.tar.gz");
        server::ops::backup::create(&app.state.db, &config.database_url, &config.data_dir, &archive)
            .await
            .unwrap();
        let (_, _, cookie) = app.signed_in(Role::Admin).await;
        let cookie = format!("{}={cookie}", server::sessions::SESSION_COOKIE);
        let page = app.get("/admin/system", &[("cookie", &cookie)]).await;
        assert_eq!(page.status, StatusCode::OK);
        let body = &page.body;
        assert!(body.contains(&format!("data-testid=\"system-version\">{}<", env!("CARGO_PKG_VERSION"))), "{body}");
        let engine_name = match engine { Engine::Sqlite => "SQLite", Engine::Postgres => "PostgreSQL" };
        assert!(body.contains(&format!("data-testid=\"system-engine\">{engine_name}<")), "{body}");
        assert!(body.contains("eventhub-20261207T030000Z.tar.gz"), "the last backup: {body}");
        assert!(body.contains("dead letters: 1") && body.contains("href=\"/admin/jobs?state=dead#list\""), "{body}");
        assert!(!body.contains(&format!("data-job=\"{dead}\"")));
        let bytes: i64 = body
            .split("data-testid=\"system-database\" data-bytes=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .and_then(|n| n.parse().ok())
            .expect("the database size");
        assert!(bytes > 0, "{bytes}");
        assert!(body.contains("free of"), "the disk: {body}");
        // The overview links to it.
        let overview = app.get("/admin", &[("cookie", &cookie)]).await;
        assert!(overview.body.contains("href=\"/admin/system\""));
        // Users, organizers and visitors get the admin-only refusal, not the facts.
        for role in [Role::User, Role::Agent] {
            let (_, _, other) = app.signed_in(role).await;
            let other = format!("{}={other}", server::sessions::SESSION_COOKIE);
            let page = app.get("/admin/system", &[("cookie", &other)]).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{role:?}");
            assert!(page.body.contains("Only admins can open this page."), "{role:?}");
            assert!(!page.body.contains("system-version"), "{role:?}");
        }
        let visitor = app.get("/admin/system", &[]).await;
        assert!(!visitor.body.contains("system-version"));
        assert_ne!(visitor.status, StatusCode::OK);
    }
}
