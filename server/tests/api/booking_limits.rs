//! Limits on booking, on both engines: idempotent retries (`Idempotency-Key`, and the booking
//! form's one-time token) and the organizer's cap on seats per person.
use super::TestApp;
use crate::common::Engine;
use crate::on_both_engines;
use app::auth::Role;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use leptos::server_fn::ServerFn;
use serde_json::{Value, json};
use server::sql::Sql;
use std::sync::Arc;

/// Books with an `Idempotency-Key` header: the status and the body.
async fn book_with_key(
    app: &TestApp,
    auth: &str,
    event: &str,
    tt: &str,
    quantity: i64,
    key: &str,
) -> (StatusCode, Value) {
    let request = Request::post(format!("/api/v1/events/{event}/registrations"))
        .header(header::AUTHORIZATION, auth)
        .header(header::CONTENT_TYPE, "application/json")
        .header("Idempotency-Key", key)
        .body(Body::from(
            json!({"ticket_type_id": tt, "quantity": quantity}).to_string(),
        ))
        .unwrap();
    let reply = app.send(request).await;
    let body = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
    (reply.status, body)
}

/// How many registrations an event has, whatever their status.
async fn registrations(app: &TestApp, event: &str) -> i64 {
    let event: i64 = event.parse().unwrap();
    app.state
        .db
        .scalar(Sql::new("SELECT COUNT(*) FROM registrations WHERE event_id = $1").arg(event))
        .await
        .unwrap()
}

on_both_engines! {
    async fn a_retried_booking_with_its_key_books_once(engine: Engine) {
        let app = Arc::new(TestApp::new(engine).await);
        let (_, agent) = app.bearer(Role::Agent).await;
        let (event, tt) = app.published_event(&agent, "Retry night", 50, 50, 4, 0).await;
        let (_, user) = app.bearer(Role::User).await;

        let (status, first) = book_with_key(&app, &user, &event, &tt, 2, "order-7f3a").await;
        assert_eq!(status, StatusCode::CREATED, "{first}");
        let (status, again) = book_with_key(&app, &user, &event, &tt, 2, "order-7f3a").await;
        assert_eq!(status, StatusCode::CREATED, "{again}");
        assert_eq!(again, first, "a retry answers the first registration as it was");
        assert_eq!(registrations(&app, &event).await, 1);

        // Racing retries of one key (one batch, or several): still one booking.
        let mut tasks = Vec::new();
        for _ in 0..12 {
            let (app, user, event, tt) = (app.clone(), user.clone(), event.clone(), tt.clone());
            tasks.push(tokio::spawn(async move {
                book_with_key(&app, &user, &event, &tt, 1, "order-race").await
            }));
        }
        let mut ids = Vec::new();
        for task in tasks {
            let (status, body) = task.await.unwrap();
            assert_eq!(status, StatusCode::CREATED, "{body}");
            ids.push(body["registration"]["id"].clone());
        }
        ids.dedup();
        assert_eq!(ids.len(), 1, "every racing retry answers the same registration: {ids:?}");
        assert_eq!(registrations(&app, &event).await, 2);

        // The same key for another booking is refused and books nothing.
        let (status, body) = book_with_key(&app, &user, &event, &tt, 3, "order-7f3a").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body["error"]["fields"]["Idempotency-Key"].is_string(), "{body}");
        // Keys are the caller's own: another user's identical key is another booking.
        let (_, other) = app.bearer(Role::User).await;
        let (status, body) = book_with_key(&app, &other, &event, &tt, 2, "order-7f3a").await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_ne!(body["registration"]["id"], first["registration"]["id"]);
        assert_eq!(registrations(&app, &event).await, 3);

        // A refused booking gives its key back: the corrected request books.
        let (status, body) = book_with_key(&app, &user, &event, &tt, 9, "order-fixed").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let (status, body) = book_with_key(&app, &user, &event, &tt, 1, "order-fixed").await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(registrations(&app, &event).await, 4);

        // Keys that are not 1–255 visible ASCII characters are refused before anything happens.
        for bad in ["", "has space", &"k".repeat(256), "naïve"] {
            let (status, body) = book_with_key(&app, &user, &event, &tt, 1, bad).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}: {body}");
            assert!(body["error"]["fields"]["Idempotency-Key"].is_string(), "{body}");
        }
        assert_eq!(registrations(&app, &event).await, 4);
    }

    async fn the_booking_form_posted_twice_books_once(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, agent) = app.bearer(Role::Agent).await;
        let (event, tt) = app.published_event(&agent, "Form night", 50, 50, 4, 0).await;
        let (_, _, cookie) = app.signed_in(Role::User).await;
        let token = app
            .server_fn(app::bookings::queries::NewBookingToken::PATH, &[], Some(&cookie))
            .await
            .json();
        let token = token.as_str().expect("a token");
        let form = [
            ("event_id", event.as_str()),
            ("ticket_type_id", tt.as_str()),
            ("quantity", "2"),
            ("form_token", token),
        ];
        let path = app::bookings::commands::BookSeats::PATH;
        let first = app.server_fn(path, &form, Some(&cookie)).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.body);
        let second = app.server_fn(path, &form, Some(&cookie)).await;
        assert_eq!(second.status, StatusCode::OK, "{}", second.body);
        assert_eq!(first.json(), second.json(), "the second post answers the first registration");
        assert_eq!(registrations(&app, &event).await, 1);
        // A new token (the page asks for one after each booking) books again, on purpose.
        let fresh = app
            .server_fn(app::bookings::queries::NewBookingToken::PATH, &[], Some(&cookie))
            .await
            .json();
        assert_ne!(fresh.as_str(), Some(token));
        let form = [form[0], form[1], form[2], ("form_token", fresh.as_str().unwrap())];
        let third = app.server_fn(path, &form, Some(&cookie)).await;
        assert_eq!(third.status, StatusCode::OK, "{}", third.body);
        assert_eq!(registrations(&app, &event).await, 2);
    }

    async fn an_organizer_caps_the_seats_one_person_holds(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, agent) = app.bearer(Role::Agent).await;
        let start = chrono::Utc::now() + chrono::Duration::days(5);
        let body = json!({
            "title": "Capped", "summary": "s", "description": "d", "category": "music", "tags": [],
            "starts_at": start, "ends_at": start + chrono::Duration::hours(2), "timezone": "Asia/Jerusalem",
            "venue": "Barby", "address": "", "city": "Tel Aviv", "capacity": 40, "max_seats_per_user": 3,
            "ticket_types": [{"name": "General", "price": {"amount": 0, "currency": "ILS"}, "quantity": 40, "max_per_registration": 4}]
        });
        let event = app.create_event(&agent, body, true).await;
        assert_eq!(event["max_seats_per_user"], 3);
        let (id, tt) = (
            event["id"].as_str().unwrap().to_owned(),
            event["ticket_types"][0]["id"].as_str().unwrap().to_owned(),
        );
        let (_, user) = app.bearer(Role::User).await;
        let (status, body) = app.book(&user, &id, &tt, 2).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        // Two more would make four: refused, naming the quantity, and nothing changes.
        let (status, body) = app.book(&user, &id, &tt, 2).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let message = body["error"]["fields"]["quantity"].as_str().unwrap();
        assert!(message.contains('3') && message.contains('2'), "{message}");
        assert_eq!(registrations(&app, &id).await, 1);
        let (status, body) = app.book(&user, &id, &tt, 1).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        // The cap is per person: someone else books their own three.
        let (_, other) = app.bearer(Role::User).await;
        let (status, body) = app.book(&other, &id, &tt, 3).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        // A cancelled registration no longer counts.
        let first: i64 = app.state.db.scalar(
            Sql::new("SELECT MIN(id) FROM registrations WHERE event_id = $1").arg(id.parse::<i64>().unwrap()),
        ).await.unwrap();
        let cancelled = app.call(Method::DELETE, &format!("/api/v1/registrations/{first}"), None, Some(&user)).await;
        assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
        let (status, body) = app.book(&user, &id, &tt, 2).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");

        // Out of bounds is refused naming the field; null removes the cap.
        let path = format!("/api/v1/events/{id}");
        let bad = app.call(Method::PATCH, &path, Some(json!({"max_seats_per_user": 0})), Some(&agent)).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
        assert!(bad.json()["error"]["fields"]["max_seats_per_user"].is_string(), "{}", bad.body);
        let kept = app.call(Method::PATCH, &path, Some(json!({"title": "Capped still"})), Some(&agent)).await;
        assert_eq!(kept.json()["event"]["max_seats_per_user"], 3, "absent leaves the cap");
        let lifted = app.call(Method::PATCH, &path, Some(json!({"max_seats_per_user": null})), Some(&agent)).await;
        assert_eq!(lifted.status, StatusCode::OK, "{}", lifted.body);
        assert_eq!(lifted.json()["event"]["max_seats_per_user"], Value::Null);
        let (status, body) = app.book(&user, &id, &tt, 4).await;
        assert_eq!(status, StatusCode::CREATED, "no cap any more: {body}");
    }
}
