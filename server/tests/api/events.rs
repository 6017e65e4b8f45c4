//! Events through REST: every command × visitor, user, owning agent, other agent, admin;
//! validation naming fields; search filters and pages; `.ics`.
use super::TestApp;
use crate::common::Engine;
use crate::on_both_engines;
use app::auth::Role;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

fn future(days: i64, hour: u32) -> String {
    let t = chrono::Utc::now().date_naive() + chrono::Duration::days(days);
    format!("{}T{hour:02}:00:00+02:00", t)
}

fn event_body(title: &str, category: &str, city: &str, price: i64) -> Value {
    json!({
        "title": title,
        "summary": "An evening to remember",
        "description": "Bring friends. Wieczór pełen śmiechu. ערב של צחוק.",
        "category": category,
        "tags": ["comedy", "late"],
        "starts_at": future(10, 20),
        "ends_at": future(10, 22),
        "timezone": "Asia/Jerusalem",
        "venue": "The Basement",
        "address": "12 Allenby St",
        "city": city,
        "capacity": 100,
        "ticket_types": [
            {"name": "General", "price": {"amount": price, "currency": "ILS"}, "quantity": 90, "max_per_registration": 4},
            {"name": "VIP", "price": {"amount": price * 2 + 1000, "currency": "ILS"}, "quantity": 10, "max_per_registration": 2}
        ]
    })
}

/// Creates and optionally publishes an event as `auth`; returns its id.
async fn make(app: &TestApp, auth: &str, body: Value, publish: bool) -> String {
    app.create_event(auth, body, publish).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

on_both_engines! {
    async fn an_agent_creates_a_draft_and_publishes_it(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (agent, auth) = app.bearer(Role::Agent).await;
        let reply = app.call(Method::POST, "/api/v1/events", Some(event_body("Late Laughs", "stand-up", "Tel Aviv", 4500)), Some(&auth)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let event = &reply.json()["event"];
        assert_eq!(event["status"], "draft");
        assert_eq!(event["organizer"]["display_name"], agent.display_name);
        assert_eq!(event["ticket_types"].as_array().unwrap().len(), 2);
        assert_eq!(event["min_price"], json!({"amount": 4500, "currency": "ILS"}));
        assert_eq!(event["remaining_seats"], 100);
        assert_eq!(event["starts_at"], json!(chrono::DateTime::parse_from_rfc3339(&future(10, 20)).unwrap().with_timezone(&chrono::Utc)));
        let id = event["id"].as_str().unwrap();

        // A draft is invisible to visitors and to the search.
        assert_eq!(app.get(&format!("/api/v1/events/{id}"), &[]).await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.get("/api/v1/events", &[]).await.json()["total"], 0);

        let published = app.call(Method::POST, &format!("/api/v1/events/{id}/publish"), None, Some(&auth)).await;
        assert_eq!(published.status, StatusCode::OK);
        assert_eq!(published.json()["event"]["status"], "published");
        assert_eq!(app.get(&format!("/api/v1/events/{id}"), &[]).await.status, StatusCode::OK);
        let list = app.get("/api/v1/events", &[]).await.json();
        assert_eq!(list["total"], 1);
        assert_eq!(list["items"][0]["id"], id);

        let again = app.call(Method::POST, &format!("/api/v1/events/{id}/publish"), None, Some(&auth)).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
    }

    async fn every_event_command_answers_each_role_as_the_rules_say(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, owner) = app.bearer(Role::Agent).await;
        let (_, other_agent) = app.bearer(Role::Agent).await;
        let (_, user) = app.bearer(Role::User).await;
        let (_, admin) = app.bearer(Role::Admin).await;
        let body = event_body("Matrix Night", "music", "Haifa", 0);

        // create: visitor 401, user 403, agents and admins 201
        assert_eq!(app.call(Method::POST, "/api/v1/events", Some(body.clone()), None).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(app.call(Method::POST, "/api/v1/events", Some(body.clone()), Some(&user)).await.status, StatusCode::FORBIDDEN);
        assert_eq!(app.call(Method::POST, "/api/v1/events", Some(body.clone()), Some(&admin)).await.status, StatusCode::CREATED);
        let id = make(&app, &owner, body.clone(), false).await;

        let patch = json!({"title": "Matrix Night, Revised"});
        let path = format!("/api/v1/events/{id}");
        // Another agent's event looks exactly like a missing one.
        for (who, expected) in [(None, StatusCode::UNAUTHORIZED), (Some(&user), StatusCode::FORBIDDEN), (Some(&other_agent), StatusCode::NOT_FOUND)] {
            assert_eq!(app.call(Method::PATCH, &path, Some(patch.clone()), who.map(String::as_str)).await.status, expected);
            assert_eq!(app.call(Method::POST, &format!("{path}/publish"), None, who.map(String::as_str)).await.status, expected);
            assert_eq!(app.call(Method::POST, &format!("{path}/cancel"), Some(json!({"reason": "x"})), who.map(String::as_str)).await.status, expected);
            assert_eq!(app.call(Method::DELETE, &path, None, who.map(String::as_str)).await.status, expected);
        }
        let foreign = app.call(Method::GET, &path, None, Some(&other_agent)).await;
        assert_eq!(foreign.status, StatusCode::NOT_FOUND, "another agent cannot see a draft");
        assert_eq!(foreign.json()["error"]["kind"], "not_found");

        let patched = app.call(Method::PATCH, &path, Some(patch.clone()), Some(&owner)).await;
        assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
        assert_eq!(patched.json()["event"]["title"], "Matrix Night, Revised");
        assert_eq!(app.call(Method::PATCH, &path, Some(json!({"capacity": 50})), Some(&admin)).await.status, StatusCode::OK);

        assert_eq!(app.call(Method::POST, &format!("{path}/publish"), None, Some(&admin)).await.status, StatusCode::OK);
        // Published: the organizer may no longer delete it; an admin may.
        assert_eq!(app.call(Method::DELETE, &path, None, Some(&owner)).await.status, StatusCode::CONFLICT);
        let cancelled = app.call(Method::POST, &format!("{path}/cancel"), Some(json!({"reason": "Venue flooded"})), Some(&owner)).await;
        assert_eq!(cancelled.status, StatusCode::OK);
        assert_eq!(cancelled.json()["event"]["cancel_reason"], "Venue flooded");
        assert_eq!(app.get(&path, &[]).await.json()["event"]["status"], "cancelled");
        assert_eq!(app.call(Method::PATCH, &path, Some(patch), Some(&owner)).await.status, StatusCode::CONFLICT);
        assert_eq!(app.call(Method::DELETE, &path, None, Some(&admin)).await.status, StatusCode::NO_CONTENT);
        assert_eq!(app.get(&path, &[]).await.status, StatusCode::NOT_FOUND);

        // An owner deletes their own draft.
        let draft = make(&app, &owner, body, false).await;
        assert_eq!(app.call(Method::DELETE, &format!("/api/v1/events/{draft}"), None, Some(&owner)).await.status, StatusCode::NO_CONTENT);
    }

    async fn invalid_events_are_refused_field_by_field_and_nothing_is_stored(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, auth) = app.bearer(Role::Agent).await;
        let mut body = event_body("ab", "opera", "Tel Aviv", -5);
        body["ends_at"] = json!(future(10, 19));
        body["capacity"] = json!(0);
        body["timezone"] = json!("Mars/Base");
        body["ticket_types"][0]["price"]["currency"] = json!("SHEKEL");
        let reply = app.call(Method::POST, "/api/v1/events", Some(body), Some(&auth)).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
        let fields = reply.json()["error"]["fields"].clone();
        for field in ["title", "category", "capacity", "timezone", "ticket_types[0].price_amount", "ticket_types[0].currency"] {
            assert!(fields[field].is_string(), "{field} not reported: {fields}");
        }
        assert_eq!(fields["title"], "Must be at least 3 characters.");

        let mut backwards = event_body("Backwards", "music", "Haifa", 100);
        backwards["ends_at"] = json!(future(10, 19));
        let reply = app.call(Method::POST, "/api/v1/events", Some(backwards), Some(&auth)).await;
        assert_eq!(reply.json()["error"]["fields"]["ends_at"], "Must be after the start.");

        let mut past = event_body("Yesterday", "music", "Haifa", 100);
        past["starts_at"] = json!(future(-2, 20));
        past["ends_at"] = json!(future(-2, 22));
        let id = make(&app, &auth, past, false).await;
        let publish = app.call(Method::POST, &format!("/api/v1/events/{id}/publish"), None, Some(&auth)).await;
        assert_eq!(publish.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(publish.json()["error"]["fields"]["starts_at"], "The event must start in the future.");

        let wrong_types = app.call(Method::POST, "/api/v1/events", Some(json!({"title": 5})), Some(&auth)).await;
        assert_eq!(wrong_types.status, StatusCode::UNPROCESSABLE_ENTITY);
        let count: i64 = server::on_db!(&app.state.db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM events").fetch_one(pool).await).unwrap();
        assert_eq!(count, 1, "only the valid draft was stored");
    }

    async fn search_filters_sorts_and_pages(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, auth) = app.bearer(Role::Agent).await;
        make(&app, &auth, event_body("Jazz by the Sea", "music", "Haifa", 8000), true).await;
        make(&app, &auth, event_body("Free Comedy Hour", "stand-up", "Tel Aviv", 0), true).await;
        let mut polish = event_body("Wieczór poezji", "talk", "Kraków", 3000);
        polish["description"] = json!("Spotkanie z poetą. Zażółć gęślą jaźń.");
        make(&app, &auth, polish, true).await;
        make(&app, &auth, event_body("Secret Draft", "music", "Haifa", 100), false).await;

        let titles = |v: Value| v["items"].as_array().unwrap().iter().map(|i| i["title"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
        let app = &app;
        let search = |q: &'static str| async move { app.get(&format!("/api/v1/events?{q}"), &[]).await };

        assert_eq!(search("").await.json()["total"], 3);
        assert_eq!(titles(search("q=jazz").await.json()), ["Jazz by the Sea"]);
        assert_eq!(titles(search("q=g%C4%99%C5%9Bl%C4%85").await.json()), ["Wieczór poezji"], "Polish diacritics are found");
        assert_eq!(titles(search("category=stand-up").await.json()), ["Free Comedy Hour"]);
        assert_eq!(titles(search("city=haifa").await.json()), ["Jazz by the Sea"]);
        assert_eq!(titles(search("free=true").await.json()), ["Free Comedy Hour"]);
        assert_eq!(search("price_max=3000").await.json()["total"], 2);
        assert_eq!(titles(search("sort=price").await.json())[0], "Free Comedy Hour");
        assert_eq!(search("q=nothing-like-this").await.json()["total"], 0);
        assert_eq!(titles(search("q=zazolc%20gesla").await.json()), ["Wieczór poezji"], "found without diacritics");
        assert_eq!(titles(search("q=POEZ").await.json()), ["Wieczór poezji"], "the last word is a prefix");
        assert_eq!(search("q=jazz%20zazolc").await.json()["total"], 0, "every word must match");

        let page = search("per_page=2&page=2").await.json();
        assert_eq!((page["total"].as_i64(), page["page"].as_i64(), page["items"].as_array().unwrap().len()), (Some(3), Some(2), 1));
        assert_eq!(search("per_page=2&page=9").await.json()["items"], json!([]));

        for bad in ["per_page=500", "page=0", "category=opera", "from=yesterday", "sort=loudest", "price_max=cheap", "free=maybe"] {
            let reply = search(bad).await;
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {}", reply.body);
        }
    }

    async fn relevance_puts_title_matches_first(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, auth) = app.bearer(Role::Agent).await;
        let mut mentions = event_body("Evening of Songs", "music", "Haifa", 100);
        mentions["description"] = json!("Later there will be a little tango as well.");
        make(&app, &auth, mentions, true).await;
        let mut titled = event_body("Tango Night", "dance", "Haifa", 100);
        titled["starts_at"] = json!(future(20, 20));
        titled["ends_at"] = json!(future(20, 23));
        make(&app, &auth, titled, true).await;
        let by_date = app.get("/api/v1/events?q=tango", &[]).await.json();
        assert_eq!(by_date["items"][0]["title"], "Evening of Songs", "default order is by date");
        let best = app.get("/api/v1/events?q=tango&sort=relevance", &[]).await.json();
        assert_eq!(best["items"][0]["title"], "Tango Night");
        assert_eq!(best["total"], 2);
    }

    async fn an_event_downloads_as_a_valid_icalendar_file(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, auth) = app.bearer(Role::Agent).await;
        let mut body = event_body("Night, with; commas", "theatre", "Jerusalem", 5000);
        body["summary"] = json!("A very long summary that certainly needs folding because RFC 5545 content lines stop at seventy-five octets");
        let id = make(&app, &auth, body, true).await;
        let reply = app.get(&format!("/events/{id}/calendar.ics"), &[]).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(reply.headers["content-type"].to_str().unwrap().starts_with("text/calendar"));
        let ics = &reply.body;
        assert!(ics.contains("\r\n") && !ics.replace("\r\n", "").contains('\n'), "lines end with CRLF");
        assert!(ics.lines().all(|l| l.len() <= 75));
        let parsed = ical::IcalParser::new(ics.as_bytes()).next().expect("one calendar").expect("parses");
        let event = &parsed.events[0];
        let prop = |name: &str| event.properties.iter().find(|p| p.name == name).and_then(|p| p.value.clone()).unwrap();
        assert_eq!(prop("SUMMARY").replace('\\', ""), "Night, with; commas");
        assert!(prop("DTSTART").ends_with('Z'));
        assert!(prop("UID").starts_with(&format!("event-{id}@")));
        assert!(prop("URL").ends_with(&format!("/events/{id}")));
        assert_eq!(app.get("/events/999999/calendar.ics", &[]).await.status, StatusCode::NOT_FOUND);
    }

    async fn event_pages_render_with_details_and_404_for_drafts(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, auth) = app.bearer(Role::Agent).await;
        let id = make(&app, &auth, event_body("Rooftop Jazz", "music", "Tel Aviv", 7000), true).await;
        let draft = make(&app, &auth, event_body("Hidden Plans", "music", "Tel Aviv", 7000), false).await;
        let page = app.get(&format!("/events/{id}"), &[]).await;
        assert_eq!(page.status, StatusCode::OK);
        for text in ["Rooftop Jazz", "The Basement", "General", "70.00 ILS", "calendar.ics", "Asia/Jerusalem"] {
            assert!(page.body.contains(text), "{text} missing");
        }
        assert_eq!(app.get(&format!("/events/{draft}"), &[]).await.status, StatusCode::NOT_FOUND);
        let list = app.get("/events?q=rooftop", &[]).await;
        assert!(list.body.contains("Rooftop Jazz") && !list.body.contains("Hidden Plans"));
        assert!(app.get("/events?q=zzzz", &[]).await.body.contains("No events match this search"));
    }
}

on_both_engines! {
    async fn descriptions_render_as_safe_markdown_and_pages_carry_json_ld(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, auth) = app.bearer(Role::Agent).await;
        let mut body = event_body("Markdown Night", "talk", "Haifa", 2500);
        body["description"] = json!("**Bold** claims\n\n<script>alert('x')</script><img src=x onerror=alert(1)>\n\n[site](javascript:alert(2))");
        let id = make(&app, &auth, body, true).await;
        let page = app.get(&format!("/events/{id}"), &[]).await.body;
        assert!(page.contains("<strong>Bold</strong>"));
        // The rendered description (the Markdown source also travels, escaped, in the hydration data).
        let start = page.find(r#"class="description""#).expect("description rendered");
        let rendered = &page[start..start + page[start..].find("</div>").unwrap()];
        assert!(!rendered.contains("<script") && !rendered.contains("onerror") && !rendered.contains("javascript:"), "unsafe HTML leaked: {rendered}");
        assert!(!page.contains("<script>alert"), "no live script anywhere in the page");
        let start = page.find(r#"<script type="application/ld+json">"#).expect("JSON-LD present") + 35;
        let end = start + page[start..].find("</script>").unwrap();
        let data: Value = serde_json::from_str(&page[start..end]).expect("JSON-LD parses");
        assert_eq!(data["@type"], "Event");
        assert_eq!(data["name"], "Markdown Night");
        assert_eq!(data["offers"][0]["price"], "25.00");
        assert_eq!(data["location"]["address"]["addressLocality"], "Haifa");
    }
}

on_both_engines! {
    async fn the_calendar_shows_a_month_of_events_by_the_venue_date(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, auth) = app.bearer(Role::Agent).await;
        let mut body = event_body("Calendar Gala", "festival", "Tel Aviv", 0);
        // 00:30 on 1 March in Jerusalem is still 28 February in UTC: the venue's date decides.
        body["starts_at"] = json!("2031-03-01T00:30");
        body["ends_at"] = json!("2031-03-01T02:00");
        make(&app, &auth, body, true).await;
        let march = app.get("/calendar?month=2031-03", &[]).await;
        assert_eq!(march.status, StatusCode::OK);
        assert!(march.body.contains("Calendar Gala"), "listed on its local date");
        assert!(march.body.contains("March 2031"));
        let feb = app.get("/calendar?month=2031-02", &[]).await;
        assert!(!feb.body.contains("Calendar Gala"), "not on the UTC date");
        assert!(feb.body.contains(r#"href="/calendar?month=2031-03""#), "next-month link");
    }
}

on_both_engines! {
    async fn the_home_page_counts_categories_and_charts_this_month(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, auth) = app.bearer(Role::Agent).await;
        let soon = chrono::Utc::now() + chrono::Duration::hours(2);
        let mut body = event_body("Tonight's Film", "film", "Haifa", 0);
        body["starts_at"] = json!(soon.to_rfc3339());
        body["ends_at"] = json!((soon + chrono::Duration::hours(2)).to_rfc3339());
        let same_month = chrono::Datelike::month(&soon) == chrono::Datelike::month(&chrono::Utc::now());
        make(&app, &auth, body, true).await;
        let home = app.get("/", &[]).await.body;
        assert!(home.contains("<svg"), "the chart is drawn on the server");
        assert!(home.contains("Events by category"));
        let film_row = format!(r#"<th scope="row"><span dir="auto">Film</span></th><td class="num">{}</td>"#, if same_month { 1 } else { 0 });
        assert!(home.contains(&film_row), "the table under the chart holds the count");
        assert!(home.contains(r#"<span class="category-count">1</span>"#), "category tiles count upcoming events");
        let hebrew = app.get("/", &[("accept-language", "he")]).await.body;
        assert!(hebrew.contains("אירועים לפי קטגוריה"));
    }
}

on_both_engines! {
    async fn a_common_word_pages_and_counts_the_same_as_a_rare_one(engine: Engine) {
        // Over 2,000 matches (here ~2,400) SQLite walks events in time order instead of sorting all matches;
        // the page and the total must be what sorting everything gives.
        use app::events::ports::EventQueries;
        let app = TestApp::new(engine).await;
        let (agent, _) = app.bearer(Role::Agent).await;
        let now = chrono::Utc::now();
        server::on_db!(&app.state.db, pool => async {
            let mut tx = pool.begin().await.unwrap();
            for i in 0..3_000i64 {
                let starts = now + chrono::Duration::minutes(60 + (i * 7919) % 100_000);
                // A few that must not show: drafts, ended, another word.
                let status = if i % 97 == 0 { "draft" } else { "published" };
                let (starts, word) = if i % 89 == 0 { (now - chrono::Duration::days(3), "jazz") } else if i % 5 == 0 { (starts, "tango") } else { (starts, "jazz") };
                sqlx::query(
                    "INSERT INTO events (organizer_id, title, slug, summary, description, category, tags, starts_at, ends_at, \
                     timezone, venue, address, city, capacity, status, created_at, updated_at, search_title, search_body, \
                     min_price, min_currency, has_free) \
                     VALUES ($1, $2, 's', '', '', $3, '', $4, $5, 'UTC', 'V', '', $6, 10, $7, $8, $8, $2, '', 0, 'ILS', TRUE)")
                    .bind(agent.id.get()).bind(format!("{word} {i}")).bind(if i % 2 == 0 { "music" } else { "talk" })
                    .bind(starts).bind(starts + chrono::Duration::hours(2)).bind(if i % 3 == 0 { "Haifa" } else { "Tel Aviv" })
                    .bind(status).bind(now)
                    .execute(&mut *tx).await.unwrap();
            }
            tx.commit().await.unwrap();
        }.await);
        let expected: Vec<i64> = server::on_db!(&app.state.db, pool => sqlx::query_scalar(
            "SELECT id FROM events WHERE status = 'published' AND ends_at > $1 AND search_title LIKE 'jazz%' \
             AND category = 'music' ORDER BY starts_at, id")
            .bind(now).fetch_all(pool).await).unwrap();
        assert!(expected.len() > 900, "{}", expected.len());
        for page in [1, 2, 40] {
            let search = app::events::EventSearch {
                q: Some("jazz".into()),
                category: Some(app::events::Category::Music),
                page,
                per_page: 25,
                ..Default::default()
            };
            let found = app.state.events.list_events(&search).await.unwrap();
            let ids: Vec<i64> = found.items.iter().map(|e| e.id.get()).collect();
            let start = ((page - 1) * 25) as usize;
            let want: Vec<i64> = expected.iter().skip(start).take(25).copied().collect();
            assert_eq!(ids, want, "page {page}");
            assert_eq!(found.total, expected.len() as i64);
            assert!(found.total_exact);
        }
    }
}

on_both_engines! {
    async fn calendar_months_and_search_pages_out_of_bounds_are_refused_by_field(engine: Engine) {
        use leptos::server_fn::ServerFn;
        let app = TestApp::new(engine).await;
        let months = <app::events::queries::ListMonthEvents as ServerFn>::PATH;
        let refused = [("10000", "1", "year"), ("0", "6", "year"), ("2026", "13", "month"), ("2026", "0", "month")];
        for (year, month, field) in refused {
            let reply = app.server_fn(months, &[("year", year), ("month", month)], None).await;
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{year}-{month}: {}", reply.body);
            assert!(reply.body.contains(field), "{year}-{month} names {field}: {}", reply.body);
        }
        // The page says what is wrong instead of panicking on the month after the last one.
        for month in ["10000-01", "262143-12", "99999999999-01", "2026-13", "2026-00"] {
            let page = app.get(&format!("/calendar?month={month}"), &[]).await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "/calendar?month={month}");
            assert!(page.body.contains("calendar-error"), "a message for {month}");
        }
        for month in ["9999-12", "0001-01", "nonsense"] {
            let page = app.get(&format!("/calendar?month={month}"), &[]).await;
            assert_eq!(page.status, StatusCode::OK, "/calendar?month={month}");
            assert!(page.body.contains("calendar-grid"), "the grid for {month}");
        }
        // The search: REST and the server function refuse the same pages.
        for (query, field) in [("page=10001", "page"), ("page=0", "page"), ("per_page=101", "per_page"), ("per_page=0", "per_page"), ("to=10000-01-01", "to")] {
            let reply = app.get(&format!("/api/v1/events?{query}"), &[]).await;
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {}", reply.body);
            assert!(reply.json()["error"]["fields"][field].is_string(), "{query}: {}", reply.body);
        }
        let search = <app::events::queries::ListEvents as ServerFn>::PATH;
        let form = [("search[sort]", "starts_at"), ("search[page]", "10001"), ("search[per_page]", "12"),
            ("search[free]", "false"), ("search[available]", "false")];
        let reply = app.server_fn(search, &form, None).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
        assert!(reply.body.contains("page"), "{}", reply.body);
    }
}
