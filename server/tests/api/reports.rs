//! Reports and the admin events table on both engines: numbers checked against a fixture
//! worked out by hand, agent scoping, filters, CSV equal to the page's tables, and the event
//! status and featuring changes with their rules.
use super::TestApp;
use crate::common::Engine;
use crate::on_both_engines;
use app::auth::Role;
use app::i18n::Locale;
use app::reports::ports::ReportQueries;
use app::reports::{ReportFilter, ReportScope};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

/// An event `days` from now with one ticket type; returns (event id, ticket type id).
#[allow(clippy::too_many_arguments)]
async fn event(
    app: &TestApp,
    auth: &str,
    title: &str,
    category: &str,
    capacity: i64,
    (price, currency): (i64, &str),
    days: i64,
    publish: bool,
) -> (String, String) {
    let start = chrono::Utc::now() + chrono::Duration::days(days);
    let body = json!({
        "title": title, "summary": "s", "description": "d", "category": category, "tags": [],
        "starts_at": start, "ends_at": start + chrono::Duration::hours(2), "timezone": "Europe/Warsaw",
        "venue": "Hall", "address": "", "city": "Kraków", "capacity": capacity,
        "ticket_types": [{"name": "General", "price": {"amount": price, "currency": currency},
                          "quantity": capacity, "max_per_registration": 5}]
    });
    let e = app.create_event(auth, body, publish).await;
    (
        e["id"].as_str().unwrap().to_owned(),
        e["ticket_types"][0]["id"].as_str().unwrap().to_owned(),
    )
}

async fn booked(app: &TestApp, auth: &str, event: &str, tt: &str, quantity: i64) -> String {
    let (status, body) = app.book(auth, event, tt, quantity).await;
    assert!(status.is_success(), "{status} {body}");
    body["registration"]["id"].as_str().unwrap().to_owned()
}

async fn summary(app: &TestApp, auth: &str, query: &str) -> Value {
    let reply = app
        .call(
            Method::GET,
            &format!("/api/v1/reports/summary{query}"),
            None,
            Some(auth),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json()
}

fn this_month() -> String {
    chrono::Utc::now().format("%Y-%m").to_string()
}

/// (status, registrations, seats)
type StatusCounts = Vec<(String, i64, i64)>;

/// The rollups the triggers keep equal a count of the registrations themselves.
async fn assert_rollups_match(app: &TestApp) {
    let (rolled, counted): (StatusCounts, StatusCounts) = server::on_db!(&app.state.db, pool => async {
        let rolled = sqlx::query_as("SELECT status, CAST(SUM(registrations) AS BIGINT), CAST(SUM(seats) AS BIGINT) \
            FROM registration_totals GROUP BY status HAVING SUM(registrations) > 0 ORDER BY status")
            .fetch_all(pool).await.unwrap();
        let counted = sqlx::query_as("SELECT status, COUNT(*), CAST(SUM(quantity) AS BIGINT) FROM registrations \
            GROUP BY status ORDER BY status")
            .fetch_all(pool).await.unwrap();
        (rolled, counted)
    }.await);
    assert_eq!(rolled, counted);
}

on_both_engines! {
    async fn reports_count_exactly_what_the_database_holds(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (admin_view, admin, admin_cookie) = app.signed_in(Role::Admin).await;
        let (_, x, x_cookie) = app.signed_in(Role::Agent).await;
        let session = |value: &str| format!("{}={value}", server::sessions::SESSION_COOKIE);
        let (admin_cookie, x_cookie) = (session(&admin_cookie), session(&x_cookie));
        let (_, y) = app.bearer(Role::Agent).await;
        let (_, u1) = app.bearer(Role::User).await;
        let (_, u2) = app.bearer(Role::User).await;
        let (_, u3) = app.bearer(Role::User).await;

        // X: a music night (10 × 50.00 ILS), a free stand-up show (4 seats), a theatre draft.
        // Y: a music night (6 × 20.00 EUR), the latest to start.
        let (e1, t1) = event(&app, &x, "Jazz Night", "music", 10, (5000, "ILS"), 5, true).await;
        let (e2, t2) = event(&app, &x, "Open Mic", "stand-up", 4, (0, "ILS"), 6, true).await;
        let (e3, t3) = event(&app, &y, "Tango Evening", "music", 6, (2000, "EUR"), 7, true).await;
        event(&app, &x, "Hamlet Rehearsal", "theatre", 100, (1000, "ILS"), 8, false).await;

        let r1 = booked(&app, &u1, &e1, &t1, 3).await;
        booked(&app, &u2, &e1, &t1, 2).await;
        let r3 = booked(&app, &u3, &e2, &t2, 4).await;
        booked(&app, &u1, &e2, &t2, 1).await; // waitlisted: the show is full
        booked(&app, &u2, &e3, &t3, 2).await;
        let r6 = booked(&app, &u3, &e3, &t3, 1).await;
        assert_eq!(app.call(Method::DELETE, &format!("/api/v1/registrations/{r6}"), None, Some(&u3)).await.status, StatusCode::OK);
        let paid = app.call(Method::POST, &format!("/api/v1/registrations/{r1}/paid"), None, Some(&x)).await;
        assert_eq!(paid.status, StatusCode::OK, "{}", paid.body);
        assert_rollups_match(&app).await;

        // Everything, as the admin sees it.
        let all = summary(&app, &admin, "").await;
        let t = &all["totals"];
        assert_eq!((t["events"].as_i64(), t["published_events"].as_i64()), (Some(4), Some(3)));
        assert_eq!((t["users"].as_i64(), t["agents"].as_i64(), t["admins"].as_i64()), (Some(6), Some(2), Some(1)));
        assert_eq!(t["registrations_confirmed"], 4);
        assert_eq!(t["registrations_waitlisted"], 1);
        assert_eq!(t["registrations_cancelled"], 1);
        assert_eq!(t["seats_confirmed"], 11);
        assert_eq!(t["revenue"], json!([{"amount": 4000, "currency": "EUR"}, {"amount": 25000, "currency": "ILS"}]));
        assert_eq!(t["revenue_paid"], json!([{"amount": 15000, "currency": "ILS"}]));
        assert_eq!(all["by_category"], json!([
            {"category": "stand-up", "events": 1, "seats": 4},
            {"category": "music", "events": 2, "seats": 7},
        ]));
        assert_eq!(all["utilisation"].as_f64(), Some(11.0 / 20.0));
        let by_event: Vec<(String, i64, i64)> = all["by_event"].as_array().unwrap().iter()
            .map(|e| (e["event_id"].as_str().unwrap().to_owned(), e["capacity"].as_i64().unwrap(), e["seats_confirmed"].as_i64().unwrap()))
            .collect();
        assert_eq!(by_event, [(e3.clone(), 6, 2), (e2.clone(), 4, 4), (e1.clone(), 10, 5)], "latest start first, no drafts");
        assert_eq!(all["by_event"][1]["utilisation"].as_f64(), Some(1.0));
        let months = all["by_month"].as_array().unwrap();
        assert_eq!(months.len(), 12);
        assert_eq!(months[11], json!({"month": this_month(), "registrations": 6, "seats": 11, "events": 4}));
        assert!(months[..11].iter().all(|m| m["registrations"] == 0 && m["events"] == 0));

        // X's own events only: nothing of Y's.
        let own = summary(&app, &x, "").await;
        let t = &own["totals"];
        assert_eq!((t["events"].as_i64(), t["published_events"].as_i64()), (Some(3), Some(2)));
        assert_eq!(t["users"], 3, "the people who booked X's events");
        assert_eq!((t["agents"].as_i64(), t["admins"].as_i64()), (Some(0), Some(0)));
        assert_eq!((t["registrations_confirmed"].as_i64(), t["registrations_waitlisted"].as_i64(), t["registrations_cancelled"].as_i64()), (Some(3), Some(1), Some(0)));
        assert_eq!(t["seats_confirmed"], 9);
        assert_eq!(t["revenue"], json!([{"amount": 25000, "currency": "ILS"}]));
        assert_eq!(own["by_category"], json!([
            {"category": "stand-up", "events": 1, "seats": 4},
            {"category": "music", "events": 1, "seats": 5},
        ]));
        assert_eq!(own["utilisation"].as_f64(), Some(9.0 / 14.0));
        assert!(!own.to_string().contains("Tango"), "another agent's event leaked: {own}");
        assert_eq!(own["by_month"][11], json!({"month": this_month(), "registrations": 4, "seats": 9, "events": 3}));
        let theirs = summary(&app, &y, "").await;
        assert_eq!(theirs["totals"]["seats_confirmed"], 2);
        assert_eq!(theirs["totals"]["registrations_cancelled"], 1);

        // Filters: a category, and the day the Tango evening starts.
        let music = summary(&app, &admin, "?category=music").await;
        assert_eq!(music["totals"]["events"], 2);
        assert_eq!(music["totals"]["seats_confirmed"], 7);
        assert_eq!(music["totals"]["registrations_cancelled"], 1);
        let day = (chrono::Utc::now() + chrono::Duration::days(7)).format("%Y-%m-%d").to_string();
        let one_day = summary(&app, &admin, &format!("?from={day}&to={day}")).await;
        assert_eq!(one_day["totals"]["events"], 1);
        assert_eq!(one_day["by_event"][0]["event_id"], e3.as_str());
        let bad = app.call(Method::GET, "/api/v1/reports/summary?from=2026-13-01&category=opera", None, Some(&admin)).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        let fields = &bad.json()["error"]["fields"];
        assert!(fields["from"].is_string() && fields["category"].is_string(), "{fields}");

        // Who may ask.
        assert_eq!(app.call(Method::GET, "/api/v1/reports/summary", None, None).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(app.call(Method::GET, "/api/v1/reports/summary", None, Some(&u1)).await.status, StatusCode::FORBIDDEN);
        let page = app.get("/admin/reports", &[("accept", "text/html"), ("cookie", x_cookie.as_str())]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "an agent cannot open the admin report");

        // A cancellation and the waitlist promotion it causes move the numbers too.
        assert_eq!(app.call(Method::DELETE, &format!("/api/v1/registrations/{r3}"), None, Some(&u3)).await.status, StatusCode::OK);
        assert_rollups_match(&app).await;
        let after = summary(&app, &admin, "").await;
        let t = &after["totals"];
        assert_eq!((t["registrations_confirmed"].as_i64(), t["registrations_waitlisted"].as_i64(), t["registrations_cancelled"].as_i64()), (Some(4), Some(0), Some(2)));
        assert_eq!(t["seats_confirmed"], 8);
        assert_eq!(after["by_month"][11]["seats"], 8);

        // The pages: every chart is an SVG beside its table, and each CSV is that table.
        let html = app.get("/admin/reports", &[("accept", "text/html"), ("cookie", admin_cookie.as_str())]).await;
        assert_eq!(html.status, StatusCode::OK);
        let report = app.state.reports.summary(&admin_view, ReportScope::All, &ReportFilter::default()).await.unwrap();
        let charts = app::reports::charts::report_charts(&report, Locale::En).unwrap();
        for chart in &charts {
            assert!(html.body.contains(&format!("data-chart=\"{}\"", chart.id)), "{} missing", chart.id);
            let csv = app.get(&format!("/admin/reports/{}.csv", chart.id), &[("cookie", admin_cookie.as_str()), ("accept-language", "en")]).await;
            assert_eq!(csv.status, StatusCode::OK, "{}", chart.id);
            assert_eq!(csv.body, server::rest::reports::chart_csv(chart).unwrap());
            assert_eq!(csv.body.lines().count(), chart.rows.len() + 1);
            for row in &chart.rows {
                let cells: String = row.values.iter().map(|v| format!(r#"<td class="num">{v}</td>"#)).collect();
                let markup = format!(r#"<th scope="row"><span dir="auto">{}</span></th>{cells}"#, row.label);
                assert!(html.body.contains(&markup), "the {} table lacks {markup}", chart.id);
            }
        }
        assert!(html.body.matches("<svg").count() >= charts.len());
        let categories = app.get("/admin/reports/by-category.csv", &[("cookie", admin_cookie.as_str()), ("accept-language", "en")]).await;
        assert_eq!(categories.body, "Category,Events\nStand-up,1\nMusic,2\n");
        let own_csv = app.get("/agent/reports/by-event.csv", &[("cookie", x_cookie.as_str()), ("accept-language", "en")]).await;
        assert_eq!(own_csv.status, StatusCode::OK);
        assert!(own_csv.body.contains("Jazz Night") && !own_csv.body.contains("Tango"), "{}", own_csv.body);
        assert_eq!(app.get("/admin/reports/by-event.csv", &[("cookie", x_cookie.as_str())]).await.status, StatusCode::FORBIDDEN);
        assert_eq!(app.get("/admin/reports/by-event.csv", &[]).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(app.get("/admin/reports/nothing.csv", &[("cookie", admin_cookie.as_str())]).await.status, StatusCode::NOT_FOUND);
        let he = app.get("/agent/reports", &[("accept", "text/html"), ("cookie", x_cookie.as_str()), ("accept-language", "he")]).await;
        assert_eq!(he.status, StatusCode::OK);
        assert!(he.body.contains("dir=\"rtl\"") && he.body.contains("data-chart=\"by-event\""));
    }

    async fn admins_unpublish_cancel_and_feature_events(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, admin) = app.bearer(Role::Admin).await;
        let (agent_user, agent) = app.bearer(Role::Agent).await;
        let (_, user) = app.bearer(Role::User).await;
        let (booked_event, tt) = event(&app, &agent, "Cellar Blues", "music", 10, (3000, "ILS"), 3, true).await;
        let (quiet, _) = event(&app, &agent, "Quiet Poetry", "talk", 10, (0, "ILS"), 4, true).await;
        let (draft, _) = event(&app, &agent, "Draft Dance", "dance", 10, (0, "ILS"), 5, false).await;
        booked(&app, &user, &booked_event, &tt, 2).await;
        let patch = |id: &str, body: Value, auth: &str| {
            let (app, path, auth) = (&app, format!("/api/v1/admin/events/{id}"), auth.to_owned());
            async move { app.call(Method::PATCH, &path, Some(body), Some(&auth)).await }
        };

        // The list: everything, by status, by organizer, by days.
        let list = |query: &'static str| {
            let app = &app;
            let admin = admin.clone();
            async move { app.call(Method::GET, &format!("/api/v1/admin/events{query}"), None, Some(&admin)).await.json() }
        };
        assert_eq!(list("").await["total"], 3);
        assert_eq!(list("?status=draft").await["items"][0]["id"], draft.as_str());
        let by_organizer = app.call(Method::GET, &format!("/api/v1/admin/events?organizer={}", agent_user.email), None, Some(&admin)).await.json();
        assert_eq!(by_organizer["total"], 3);
        assert_eq!(by_organizer["items"][0]["organizer"]["email"], agent_user.email.as_str());
        assert_eq!(list("?organizer=nobody-here").await["total"], 0);
        assert_eq!(app.call(Method::GET, "/api/v1/admin/events?status=sold", None, Some(&admin)).await.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.call(Method::GET, "/api/v1/admin/events", None, Some(&agent)).await.status, StatusCode::FORBIDDEN);
        assert_eq!(app.call(Method::GET, "/api/v1/admin/events", None, Some(&user)).await.status, StatusCode::FORBIDDEN);
        assert_eq!(app.call(Method::GET, "/api/v1/admin/events", None, None).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(patch(&quiet, json!({"featured": true}), &user).await.status, StatusCode::FORBIDDEN);

        // Featuring: published events only; the home page shows them.
        assert_eq!(patch(&quiet, json!({"featured": true}), &agent).await.status, StatusCode::FORBIDDEN);
        let featured = patch(&quiet, json!({"featured": true}), &admin).await;
        assert_eq!(featured.status, StatusCode::OK, "{}", featured.body);
        assert_eq!(featured.json()["featured"], true);
        assert_eq!(patch(&quiet, json!({"featured": true}), &admin).await.status, StatusCode::OK, "idempotent");
        assert_eq!(patch(&draft, json!({"featured": true}), &admin).await.status, StatusCode::CONFLICT);
        let home = app.get("/", &[("accept", "text/html")]).await;
        let featured_part = home.body.split("data-testid=\"featured\"").nth(1).expect("a featured section");
        assert!(featured_part.split("</section>").next().unwrap().contains("Quiet Poetry"));

        // Unpublish: only without bookings; the event goes back to draft and off the home page.
        let refused = patch(&booked_event, json!({"status": "draft"}), &admin).await;
        assert_eq!(refused.status, StatusCode::CONFLICT);
        assert!(refused.body.contains("status"), "{}", refused.body);
        let unpublished = patch(&quiet, json!({"status": "draft"}), &admin).await;
        assert_eq!(unpublished.status, StatusCode::OK, "{}", unpublished.body);
        assert_eq!((unpublished.json()["status"].as_str(), unpublished.json()["featured"].as_bool()), (Some("draft"), Some(false)));
        assert!(!app.get("/", &[("accept", "text/html")]).await.body.contains("data-testid=\"featured\""));
        assert_eq!(patch(&quiet, json!({"status": "published"}), &admin).await.json()["status"], "published");

        // Cancel needs a reason; then bookings end with the event.
        assert_eq!(patch(&booked_event, json!({"status": "cancelled"}), &admin).await.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(patch(&booked_event, json!({"status": "completed"}), &admin).await.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(patch(&booked_event, json!({}), &admin).await.status, StatusCode::UNPROCESSABLE_ENTITY);
        let cancelled = patch(&booked_event, json!({"status": "cancelled", "reason": "Venue flooded"}), &admin).await;
        assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
        assert_eq!(cancelled.json()["status"], "cancelled");
        assert_rollups_match(&app).await;
        assert_eq!(summary(&app, &admin, "").await["totals"]["registrations_cancelled"], 1);
        assert_eq!(patch("999999", json!({"featured": false}), &admin).await.status, StatusCode::NOT_FOUND);

        // Each change is in the audit log with before and after.
        let audit = app.call(Method::GET, "/api/v1/admin/audit?action=event", None, Some(&admin)).await.json();
        let actions: Vec<&str> = audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        for action in ["event.feature", "event.unpublish", "event.cancel"] {
            assert!(actions.contains(&action), "{action} missing from {actions:?}");
        }
    }
}

on_both_engines! {
    async fn report_days_past_the_year_bounds_are_refused_naming_the_field(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, admin, cookie) = app.signed_in(Role::Admin).await;
        let cookie = format!("{}={cookie}", server::sessions::SESSION_COOKIE);
        // Before the bound a far year reached month arithmetic that panicked (a 500).
        let refused = [
            ("to=%2B262142-12-31", "to"),
            ("to=-262143-01-01", "to"),
            ("from=10000-01-01", "from"),
            ("to=0000-06-01", "to"),
            ("from=2026-02-01&to=2026-01-01", "to"),
            ("category=opera", "category"),
        ];
        for (query, field) in refused {
            let path = format!("/api/v1/reports/summary?{query}");
            let reply = app.call(Method::GET, &path, None, Some(&admin)).await;
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {}", reply.body);
            assert!(reply.json()["error"]["fields"][field].is_string(), "{path}: {}", reply.body);
            let page = app.get(&format!("/admin/reports?{query}"), &[("cookie", &cookie)]).await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "the page for {query}");
            assert!(page.body.contains("report-error"), "the page says why for {query}");
            let csv = app.get(&format!("/admin/reports/by-month.csv?{query}"), &[("cookie", &cookie)]).await;
            assert_eq!(csv.status, StatusCode::UNPROCESSABLE_ENTITY, "the CSV for {query}");
        }
        // The first and the last days of the bounds are served.
        let path = "/api/v1/reports/summary?from=0001-01-01&to=9999-12-31";
        let reply = app.call(Method::GET, path, None, Some(&admin)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.json()["by_month"][11]["month"], "9999-12");
        // A query string that does not fit is a 422 in the error shape too, not a bare 400.
        let path = "/api/v1/reports/summary?from=2026-01-01&from=2026-02-01";
        let reply = app.call(Method::GET, path, None, Some(&admin)).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
        assert!(reply.json()["error"]["fields"]["query"].is_string(), "{}", reply.body);
    }
}
