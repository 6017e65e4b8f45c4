//! The organizer's side on both engines: attendee list (search, CSV, mark paid), check-in at
//! the door (first, repeat, another event's ticket, cancelled, two doors at once), the pages
//! behind them, and the live seat stream of the event page.
use super::TestApp;
use crate::common::Engine;
use crate::on_both_engines;
use app::auth::Role;
use axum::http::{Method, StatusCode};
use http_body_util::BodyExt;
use leptos::server_fn::ServerFn;
use serde_json::{Value, json};
use std::sync::Arc;

/// A published event with one ticket type; returns (event id, ticket type id).
async fn event(app: &TestApp, auth: &str, seats: i64, price: i64) -> (String, String) {
    app.published_event(auth, "Door night", seats, seats, 4, price)
        .await
}

async fn book(app: &TestApp, auth: &str, event: &str, tt: &str, quantity: i64) -> Value {
    let (status, body) = app.book(auth, event, tt, quantity).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["registration"].clone()
}

async fn check_in(
    app: &TestApp,
    auth: Option<&str>,
    event: &str,
    code: &str,
) -> (StatusCode, Value) {
    let reply = app
        .call(
            Method::POST,
            &format!("/api/v1/events/{event}/check-in"),
            Some(json!({"code": code})),
            auth,
        )
        .await;
    let body = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
    (reply.status, body)
}

fn code(registration: &Value, i: usize) -> String {
    registration["tickets"][i]["code"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The next numbers a live-seat stream sends (within 10 s).
async fn next_seats(body: &mut axum::body::Body) -> Value {
    loop {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(10), body.frame())
            .await
            .expect("an update within 10 s")
            .expect("stream open")
            .unwrap();
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let text = String::from_utf8(data.to_vec()).unwrap();
        if let Some(line) = text.lines().find_map(|l| l.strip_prefix("data: ")) {
            assert!(text.contains("event: seats"), "{text}");
            return serde_json::from_str(line).unwrap();
        }
    }
}

on_both_engines! {
    async fn organizers_list_search_export_and_mark_attendees_paid(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, owner) = app.bearer(Role::Agent).await;
        let (_, other_agent) = app.bearer(Role::Agent).await;
        let (_, admin) = app.bearer(Role::Admin).await;
        let (_, dana) = app.bearer(Role::User).await;
        // A name that would run as a spreadsheet formula.
        let sly = app.state.accounts.create(app::auth::NewUser {
            email: "sly@example.com".into(), display_name: "=HYPERLINK(\"http://x\")".into(), password: "granite-lily-42".into(),
        }, Role::User, Default::default()).await.unwrap();
        let sly = format!("Bearer {}", app.state.tokens.issue(&sly, 0).unwrap());
        let (id, tt) = event(&app, &owner, 3, 4500).await;
        let first = book(&app, &dana, &id, &tt, 2).await;
        let waiting = book(&app, &sly, &id, &tt, 2).await;
        assert_eq!(waiting["status"], "waitlisted");

        let path = format!("/api/v1/events/{id}/attendees");
        assert_eq!(app.call(Method::GET, &path, None, None).await.status, StatusCode::UNAUTHORIZED);
        // A user is refused by role; another organizer learns nothing.
        for (outsider, refused) in [(&dana, StatusCode::FORBIDDEN), (&other_agent, StatusCode::NOT_FOUND)] {
            assert_eq!(app.call(Method::GET, &path, None, Some(outsider)).await.status, refused);
        }
        for manager in [&owner, &admin] {
            let list = app.call(Method::GET, &path, None, Some(manager)).await;
            assert_eq!(list.status, StatusCode::OK, "{}", list.body);
            let list = list.json();
            assert_eq!(list["total"], 2);
            assert_eq!((list["tickets"].clone(), list["checked_in"].clone()), (json!(2), json!(0)));
            assert_eq!(list["items"][0]["status"], "confirmed");
            assert_eq!(list["items"][0]["payment"], "unpaid");
            assert_eq!(list["items"][0]["tickets"].as_array().unwrap().len(), 2);
            assert_eq!(list["items"][1]["status"], "waitlisted");
            assert_eq!(list["items"][1]["waitlist_position"], 1);
        }

        // Search by email, by name and by the code a ticket carries (signature and all).
        let found = |q: String| {
            let (app, owner, path) = (&app, owner.clone(), path.clone());
            async move { app.call(Method::GET, &format!("{path}?q={}", app::ui::urlencode(&q)), None, Some(&owner)).await.json() }
        };
        assert_eq!(found("SLY@example".into()).await["items"][0]["registration_id"], waiting["id"]);
        assert_eq!(found("hyperlink".into()).await["total"], 1);
        assert_eq!(found(code(&first, 1)).await["items"][0]["registration_id"], first["id"]);
        assert_eq!(found("100%_".into()).await["total"], 0);

        let csv = app.call(Method::GET, &format!("{path}?format=csv"), None, Some(&owner)).await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
        let lines: Vec<&str> = csv.body.lines().collect();
        assert_eq!(lines.len(), 3, "{}", csv.body);
        assert!(lines[0].starts_with("registration_id,name,email,ticket_type,quantity,status"));
        assert!(lines[1].contains(",confirmed,,unpaid,0,"), "{}", lines[1]);
        assert!(lines[2].contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "formula defused: {}", lines[2]);
        let bad = app.call(Method::GET, &format!("{path}?format=xml"), None, Some(&owner)).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

        // Paid at the venue: the organizer marks it, twice is harmless; nobody else can.
        let first_id = first["id"].as_str().unwrap();
        let paid = format!("/api/v1/registrations/{first_id}/paid");
        for (outsider, refused) in [(&dana, StatusCode::FORBIDDEN), (&other_agent, StatusCode::NOT_FOUND)] {
            assert_eq!(app.call(Method::POST, &paid, None, Some(outsider)).await.status, refused);
        }
        for _ in 0..2 {
            let reply = app.call(Method::POST, &paid, None, Some(&owner)).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
            assert_eq!(reply.json()["registration"]["payment"], "paid");
        }
        let waiting_paid = app.call(Method::POST, &format!("/api/v1/registrations/{}/paid", waiting["id"].as_str().unwrap()), None, Some(&owner)).await;
        assert_eq!(waiting_paid.status, StatusCode::CONFLICT, "{}", waiting_paid.body);
        let (free_id, free_tt) = event(&app, &owner, 5, 0).await;
        let free = book(&app, &dana, &free_id, &free_tt, 1).await;
        let free_paid = app.call(Method::POST, &format!("/api/v1/registrations/{}/paid", free["id"].as_str().unwrap()), None, Some(&admin)).await;
        assert_eq!(free_paid.status, StatusCode::CONFLICT);
    }

    async fn the_door_admits_a_ticket_once_and_says_why_it_refuses(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (door_keeper, owner) = app.bearer(Role::Agent).await;
        let (_, other_agent) = app.bearer(Role::Agent).await;
        let (_, admin) = app.bearer(Role::Admin).await;
        let (holder, user) = app.bearer(Role::User).await;
        let (id, tt) = event(&app, &owner, 10, 0).await;
        let (elsewhere, elsewhere_tt) = event(&app, &owner, 10, 0).await;
        let group = book(&app, &user, &id, &tt, 3).await;
        let foreign = book(&app, &user, &elsewhere, &elsewhere_tt, 1).await;

        let (status, first) = check_in(&app, Some(&owner), &id, &code(&group, 0)).await;
        assert_eq!(status, StatusCode::OK, "{first}");
        assert_eq!(first["attendee"]["display_name"], holder.display_name.as_str());
        assert_eq!(first["ticket"]["ticket_type"], "General");
        let (status, again) = check_in(&app, Some(&admin), &id, &code(&group, 0)).await;
        assert_eq!(status, StatusCode::CONFLICT, "{again}");
        assert_eq!(again["error"]["kind"], "conflict");
        assert_eq!(again["first_checked_in_at"], first["ticket"]["checked_in_at"]);
        assert_eq!(again["first_checked_in_by"], door_keeper.display_name.as_str());

        // The code typed by hand: no signature, any case, with the dashes people add.
        let typed = code(&group, 1).split('.').next().unwrap().to_lowercase();
        let typed = format!("{}-{}", &typed[..13], &typed[13..]);
        assert_eq!(check_in(&app, Some(&owner), &id, &typed).await.0, StatusCode::OK);

        let (status, body) = check_in(&app, Some(&owner), &id, &code(&foreign, 0)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error"]["message"], "this ticket is for another event");
        let (status, body) = check_in(&app, Some(&owner), &id, "NOT-A-TICKET").await;
        assert_eq!((status, body["error"]["message"].clone()), (StatusCode::NOT_FOUND, json!("no such ticket")));
        let forged = format!("{}.AAAAAAAAAAAAAAAA", code(&group, 2).split('.').next().unwrap());
        assert_eq!(check_in(&app, Some(&owner), &id, &forged).await.0, StatusCode::NOT_FOUND);
        let (status, body) = check_in(&app, Some(&owner), &id, "  ").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body["error"]["fields"]["code"].is_string());

        let cancelled = book(&app, &user, &id, &tt, 1).await;
        let reply = app.call(Method::DELETE, &format!("/api/v1/registrations/{}", cancelled["id"].as_str().unwrap()), None, Some(&user)).await;
        assert_eq!(reply.status, StatusCode::OK);
        let (status, body) = check_in(&app, Some(&owner), &id, &code(&cancelled, 0)).await;
        assert_eq!((status, body["error"]["message"].clone()), (StatusCode::CONFLICT, json!("this ticket was cancelled")));

        // Only the event's organizer and admins run its door; the ticket is untouched by others.
        assert_eq!(check_in(&app, None, &id, &code(&group, 2)).await.0, StatusCode::UNAUTHORIZED);
        for (outsider, refused) in [(&user, StatusCode::FORBIDDEN), (&other_agent, StatusCode::NOT_FOUND)] {
            assert_eq!(check_in(&app, Some(outsider), &id, &code(&group, 2)).await.0, refused);
        }
        assert_eq!(check_in(&app, Some(&admin), &id, &code(&group, 2)).await.0, StatusCode::OK);

        let list = app.call(Method::GET, &format!("/api/v1/events/{id}/attendees"), None, Some(&owner)).await.json();
        assert_eq!((list["tickets"].clone(), list["checked_in"].clone()), (json!(3), json!(3)));
        let mine = app.call(Method::GET, &format!("/api/v1/registrations/{}", group["id"].as_str().unwrap()), None, Some(&user)).await.json();
        assert!(mine["registration"]["tickets"][0]["checked_in_at"].is_string());
    }

    async fn two_doors_scanning_the_same_code_at_once_admit_exactly_one(engine: Engine) {
        let app = Arc::new(TestApp::new(engine).await);
        let (_, owner) = app.bearer(Role::Agent).await;
        let (_, admin) = app.bearer(Role::Admin).await;
        let (_, user) = app.bearer(Role::User).await;
        let (id, tt) = event(&app, &owner, 10, 0).await;
        let group = book(&app, &user, &id, &tt, 4).await;
        for i in 0..4 {
            let tasks: Vec<_> = (0..8)
                .map(|door| {
                    let (app, id, code) = (app.clone(), id.clone(), code(&group, i));
                    let auth = if door % 2 == 0 { owner.clone() } else { admin.clone() };
                    tokio::spawn(async move { check_in(&app, Some(&auth), &id, &code).await.0 })
                })
                .collect();
            let mut statuses = Vec::new();
            for task in tasks {
                statuses.push(task.await.unwrap());
            }
            assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{statuses:?}");
            assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count(), 7, "{statuses:?}");
        }
    }

    async fn the_attendee_and_check_in_pages_work_without_scripts(engine: Engine) {
        use app::bookings::commands::{CheckInTicket, MarkPaid};
        let app = TestApp::new(engine).await;
        let (_, owner, cookie) = app.signed_in(Role::Agent).await;
        let (_, _, stranger_cookie) = app.signed_in(Role::Agent).await;
        let (holder, user) = app.bearer(Role::User).await;
        let (id, tt) = event(&app, &owner, 10, 3000).await;
        let group = book(&app, &user, &id, &tt, 2).await;
        let session = format!("{}={cookie}", server::sessions::SESSION_COOKIE);
        let html = [("accept", "text/html"), ("cookie", session.as_str())];

        let page = app.get(&format!("/agent/events/{id}/attendees"), &html).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains(&holder.email));
        assert!(page.body.contains("0 of 2 tickets checked in"), "{}", page.body);
        let stranger = format!("{}={stranger_cookie}", server::sessions::SESSION_COOKIE);
        let refused = app.get(&format!("/agent/events/{id}/attendees"), &[("accept", "text/html"), ("cookie", stranger.as_str())]).await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND);

        let csv = app.get(&format!("/agent/events/{id}/attendees.csv"), &[("cookie", session.as_str())]).await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(csv.body.contains(&holder.email));
        assert_eq!(app.get(&format!("/agent/events/{id}/attendees.csv"), &[]).await.status, StatusCode::UNAUTHORIZED);

        // A plain form post (no script): the server answers with a redirect to the outcome.
        let post = |path: &'static str, form: String| {
            let app = &app;
            let session = session.clone();
            async move {
                app.send(axum::http::Request::post(path)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("accept", "text/html")
                    .header("referer", "http://127.0.0.1/agent")
                    .header("cookie", session)
                    .body(axum::body::Body::from(form)).unwrap()).await
            }
        };
        let ticket = code(&group, 0);
        let form = format!("event_id={id}&code={}", app::ui::urlencode(&ticket));
        let first = post(CheckInTicket::PATH, form.clone()).await;
        assert_eq!(first.status, StatusCode::FOUND, "{}", first.body);
        let location = first.headers["location"].to_str().unwrap().to_owned();
        assert!(location.starts_with(&format!("/agent/events/{id}/check-in?result=admitted&code=")), "{location}");
        let shown = app.get(&location, &html).await;
        assert!(shown.body.contains(&format!("Welcome, {}!", holder.display_name)), "{}", shown.body);
        let again = post(CheckInTicket::PATH, form).await;
        let location = again.headers["location"].to_str().unwrap().to_owned();
        assert!(location.contains("result=repeat"), "{location}");
        let shown = app.get(&location, &html).await;
        assert!(shown.body.contains("was already checked in at"), "{}", shown.body);

        let paid = post(MarkPaid::PATH, format!("id={}", group["id"].as_str().unwrap())).await;
        assert_eq!(paid.status, StatusCode::FOUND, "{}", paid.body);
        let list = app.call(Method::GET, &format!("/api/v1/events/{id}/attendees"), None, Some(&owner)).await.json();
        assert_eq!(list["items"][0]["payment"], "paid");
        assert_eq!(list["checked_in"], 1);
    }

    async fn open_event_pages_hear_about_seat_changes(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, owner) = app.bearer(Role::Agent).await;
        let (_, user) = app.bearer(Role::User).await;
        let (id, tt) = event(&app, &owner, 5, 0).await;
        let res = app.open_stream(&format!("/events/{id}/seats")).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "text/event-stream");
        let mut body = res.into_body();
        let now = next_seats(&mut body).await;
        assert_eq!((now["remaining"].clone(), now["confirmed"].clone()), (json!(5), json!(0)));
        book(&app, &user, &id, &tt, 2).await;
        let after = next_seats(&mut body).await;
        assert_eq!((after["remaining"].clone(), after["confirmed"].clone()), (json!(3), json!(2)));
        assert_eq!(after["types"][0][1], 3);
        book(&app, &user, &id, &tt, 4).await;
        let waiting = next_seats(&mut body).await;
        assert_eq!(waiting["waitlisted"], 4);
        // Cancelling the event frees everything, and open pages hear it too.
        let cancelled = app.call(Method::POST, &format!("/api/v1/events/{id}/cancel"), Some(json!({"reason": "Flood"})), Some(&owner)).await;
        assert_eq!(cancelled.status, StatusCode::OK);
        let after_cancel = next_seats(&mut body).await;
        assert_eq!((after_cancel["confirmed"].clone(), after_cancel["waitlisted"].clone()), (json!(0), json!(0)));

        let start = chrono::Utc::now() + chrono::Duration::days(3);
        let draft = app.call(Method::POST, "/api/v1/events", Some(json!({
            "title": "Hidden", "summary": "s", "description": "d", "category": "talk", "tags": [],
            "starts_at": start, "ends_at": start + chrono::Duration::hours(1), "timezone": "UTC",
            "venue": "v", "address": "", "city": "c", "capacity": 5,
            "ticket_types": [{"name": "G", "price": {"amount": 0, "currency": "EUR"}, "quantity": 5, "max_per_registration": 1}]
        })), Some(&owner)).await.json();
        let hidden = app.get(&format!("/events/{}/seats", draft["event"]["id"].as_str().unwrap()), &[]).await;
        assert_eq!(hidden.status, StatusCode::NOT_FOUND);
        assert_eq!(app.get("/events/nope/seats", &[]).await.status, StatusCode::NOT_FOUND);
    }

    async fn many_pages_cost_one_read_per_change_each_address_holds_a_share_and_a_stop_ends_them(engine: Engine) {
        let app = TestApp::with_config(engine, |c| c.serving.streams_per_address = Some(12)).await;
        let (_, owner) = app.bearer(Role::Agent).await;
        let (_, user) = app.bearer(Role::User).await;
        let (id, tt) = event(&app, &owner, 50, 0).await;
        let path = format!("/events/{id}/seats");
        let mut pages = Vec::new();
        for _ in 0..12 {
            let res = app.open_stream(&path).await;
            assert_eq!(res.status(), StatusCode::OK);
            pages.push(res.into_body());
        }
        let refused = app.open_stream(&path).await;
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(refused.headers().contains_key("retry-after"));
        let body = refused.into_body().collect().await.unwrap().to_bytes();
        assert!(String::from_utf8_lossy(&body).contains("\"error\""), "the error shape");
        // Every page reads its first numbers, then one booking reaches all twelve.
        for page in &mut pages {
            assert_eq!(next_seats(page).await["remaining"], 50);
        }
        // The publish before the pages opened may still be settling (250 ms): let it pass, so
        // the count below is the booking's alone.
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        let reads = app.state.seat_changes.reads();
        book(&app, &user, &id, &tt, 3).await;
        for page in &mut pages {
            while next_seats(page).await["remaining"] != 47 {}
        }
        assert_eq!(app.state.seat_changes.reads() - reads, 1, "one read for twelve pages");
        // A page that goes away frees its place.
        pages.pop();
        let again = app.open_stream(&path).await;
        assert_eq!(again.status(), StatusCode::OK);
        pages.push(again.into_body());
        // The server stopping ends every stream.
        app.state.shutdown.cancel();
        for mut page in pages {
            let end = tokio::time::timeout(std::time::Duration::from_secs(5), async {
                loop {
                    match page.frame().await {
                        None => return,
                        Some(frame) => drop(frame.unwrap()),
                    }
                }
            })
            .await;
            assert!(end.is_ok(), "a stream outlived the stop");
        }
        assert_eq!(app.state.seat_changes.open_streams(), 0);
    }

    async fn event_cards_carry_like_and_save_toggles_for_signed_in_visitors(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, owner) = app.bearer(Role::Agent).await;
        let (_, user, cookie) = app.signed_in(Role::User).await;
        let (id, _) = event(&app, &owner, 5, 0).await;
        app.call(Method::PUT, &format!("/api/v1/events/{id}/reactions/save"), None, Some(&user)).await;
        let session = format!("{}={cookie}", server::sessions::SESSION_COOKIE);
        let page = app.get("/events", &[("accept", "text/html"), ("cookie", session.as_str())]).await;
        assert_eq!(page.status, StatusCode::OK);
        let card = page.body.split("event-card ").nth(1).expect("a card");
        assert!(card.contains("aria-pressed=\"true\" data-reaction=\"save\""), "{card}");
        assert!(card.contains("aria-pressed=\"false\" data-reaction=\"like\""), "{card}");
        let visitor = app.get("/events", &[("accept", "text/html")]).await;
        assert!(!visitor.body.contains("data-reaction=\"like\""));
    }
}

on_both_engines! {
    async fn the_printable_ticket_page_is_for_the_holder_and_the_organizer(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, owner, owner_cookie) = app.signed_in(Role::Agent).await;
        let (_, user, cookie) = app.signed_in(Role::User).await;
        let (_, _, stranger) = app.signed_in(Role::User).await;
        let (id, tt) = event(&app, &owner, 10, 0).await;
        let group = book(&app, &user, &id, &tt, 2).await;
        let path = format!("/tickets/{}", group["id"].as_str().unwrap());
        let page = |cookie: String| {
            let (app, path) = (&app, path.clone());
            async move {
                let session = format!("{}={cookie}", server::sessions::SESSION_COOKIE);
                app.get(&path, &[("accept", "text/html"), ("cookie", session.as_str())]).await
            }
        };
        for who in [cookie.clone(), owner_cookie] {
            let shown = page(who).await;
            assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
            assert!(shown.body.contains("Door night"));
            assert_eq!(shown.body.matches("class=\"qr\"").count(), 2, "one QR code per seat");
            assert_eq!(shown.body.matches("<svg xmlns").count(), 2, "each QR code drawn");
            assert!(shown.body.contains(code(&group, 1).split('.').next().unwrap()));
        }
        // The holder's /me draws the same codes; the API answers carry the token text only.
        let session = format!("{}={cookie}", server::sessions::SESSION_COOKIE);
        let me = app.get("/me", &[("accept", "text/html"), ("cookie", session.as_str())]).await;
        assert_eq!(me.status, StatusCode::OK, "{}", me.body);
        assert_eq!(me.body.matches("class=\"qr\"").count(), 2, "one QR code per seat on /me");
        assert!(me.body.matches("<svg xmlns").count() >= 2, "the QR codes drawn on /me");
        let api_path = format!("/api/v1/registrations/{}", group["id"].as_str().unwrap());
        let api = app.call(Method::GET, &api_path, None, Some(&user)).await;
        assert_eq!(api.status, StatusCode::OK, "{}", api.body);
        assert!(!api.body.contains("svg"), "{}", api.body);
        assert_eq!(api.json()["registration"]["tickets"][0]["code"], group["tickets"][0]["code"]);
        assert_eq!(page(stranger).await.status, StatusCode::NOT_FOUND);
        let visitor = app.get(&path, &[("accept", "text/html")]).await;
        assert_eq!(visitor.status, StatusCode::FOUND);
    }
}
