//! Registrations through REST on both engines: booking, waitlist, cancellation with promotion,
//! who may do what, and races of many concurrent bookings that must never oversell.
use super::TestApp;
use crate::common::Engine;
use crate::on_both_engines;
use app::auth::Role;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;

/// A published event with one ticket type; returns (event id, ticket type id).
async fn published_event(
    app: &TestApp,
    auth: &str,
    capacity: i64,
    quantity: i64,
    max: i64,
    price: i64,
) -> (String, String) {
    app.published_event(auth, "Race night", capacity, quantity, max, price)
        .await
}

async fn book(
    app: &TestApp,
    auth: &str,
    event: &str,
    tt: &str,
    quantity: i64,
) -> (StatusCode, Value) {
    app.book(auth, event, tt, quantity).await
}

async fn registration(app: &TestApp, auth: &str, id: &str) -> Value {
    let reply = app
        .call(
            Method::GET,
            &format!("/api/v1/registrations/{id}"),
            None,
            Some(auth),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json()["registration"].clone()
}

/// (id, quantity, status, waitlist position) of every registration of an event, in booking order.
async fn ledger(app: &TestApp, event: &str) -> Vec<(i64, i64, String, Option<i64>)> {
    let event: i64 = event.parse().unwrap();
    server::on_db!(&app.state.db, pool => sqlx::query_as::<_, (i64, i64, String, Option<i64>)>(
        "SELECT r.id, r.quantity, r.status, CASE WHEN r.waitlist_seq IS NULL THEN NULL ELSE \
         (SELECT COUNT(*) FROM registrations w WHERE w.event_id = r.event_id AND w.waitlist_seq <= r.waitlist_seq) END \
         FROM registrations r WHERE r.event_id = $1 ORDER BY COALESCE(r.waitlist_seq, 0), r.id")
        .bind(event).fetch_all(pool).await).unwrap()
}

/// Seat counters and tickets agree with the registrations, and nothing is oversold.
async fn assert_consistent(app: &TestApp, event: &str, capacity: i64) -> i64 {
    let event: i64 = event.parse().unwrap();
    let (counter, waiting_counter, confirmed, waiting, tickets): (i64, i64, i64, i64, i64) = server::on_db!(&app.state.db, pool => sqlx::query_as(
        "SELECT e.seats_confirmed, e.seats_waitlisted, \
           (SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) FROM registrations WHERE event_id = e.id AND status = 'confirmed'), \
           (SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) FROM registrations WHERE event_id = e.id AND status = 'waitlisted'), \
           (SELECT COUNT(*) FROM tickets WHERE event_id = e.id AND status = 'valid') \
         FROM events e WHERE e.id = $1")
        .bind(event).fetch_one(pool).await).unwrap();
    assert!(confirmed <= capacity, "oversold: {confirmed} > {capacity}");
    assert_eq!(counter, confirmed, "event counter");
    assert_eq!(waiting_counter, waiting, "waitlist counter");
    assert_eq!(tickets, confirmed, "one valid ticket per confirmed seat");
    confirmed
}

/// Positions of the waiting groups are 1..n in waiting order, without gaps or repeats.
fn assert_positions(ledger: &[(i64, i64, String, Option<i64>)]) {
    let positions: Vec<i64> = ledger
        .iter()
        .filter(|r| r.2 == "waitlisted")
        .map(|r| r.3.unwrap())
        .collect();
    assert_eq!(positions, (1..=positions.len() as i64).collect::<Vec<_>>());
}

on_both_engines! {
    async fn a_user_books_gets_tickets_and_the_sold_out_rest_waits_in_order(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, agent) = app.bearer(Role::Agent).await;
        let (_, ann) = app.bearer(Role::User).await;
        let (_, ben) = app.bearer(Role::User).await;
        let (event, tt) = published_event(&app, &agent, 3, 3, 2, 4500).await;

        let (status, body) = book(&app, &ann, &event, &tt, 2).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let reg = &body["registration"];
        assert_eq!(reg["status"], "confirmed");
        assert_eq!(reg["payment"], "unpaid");
        assert_eq!(reg["waitlist_position"], Value::Null);
        let tickets = reg["tickets"].as_array().unwrap();
        assert_eq!(tickets.len(), 2);
        let code = tickets[0]["code"].as_str().unwrap();
        let (secret, signature) = code.split_once('.').unwrap();
        assert_eq!(secret.len(), 26, "128 bits in base32");
        assert!(!signature.is_empty());
        assert_ne!(tickets[0]["code"], tickets[1]["code"]);
        assert_eq!(app.state.bookings.keys().verify(event.parse().unwrap(), code).as_deref(), Some(secret));

        // One seat left: a group of two waits; so does a later group of one (no overtaking).
        let (status, first_waiting) = book(&app, &ben, &event, &tt, 2).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(first_waiting["registration"]["status"], "waitlisted");
        assert_eq!(first_waiting["registration"]["waitlist_position"], 1);
        assert!(first_waiting["registration"]["tickets"].as_array().unwrap().is_empty());
        let (_, second_waiting) = book(&app, &ann, &event, &tt, 1).await;
        assert_eq!(second_waiting["registration"]["status"], "waitlisted");
        assert_eq!(second_waiting["registration"]["waitlist_position"], 2);

        let detail = app.get(&format!("/api/v1/events/{event}"), &[]).await.json();
        assert_eq!(detail["event"]["remaining_seats"], 1);
        assert_eq!(detail["event"]["confirmed_seats"], 2);
        assert_eq!(detail["event"]["waitlisted_seats"], 3);
        assert_eq!(detail["event"]["ticket_types"][0]["remaining"], 1);

        // Ann cancels her confirmed pair: Ben's pair is confirmed in the same transaction, the
        // single seat left goes to Ann's waiting group, now first.
        let first_id = body["registration"]["id"].as_str().unwrap();
        let cancelled = app.call(Method::DELETE, &format!("/api/v1/registrations/{first_id}"), None, Some(&ann)).await;
        assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
        assert_eq!(cancelled.json()["registration"]["status"], "cancelled");
        assert!(cancelled.json()["registration"]["tickets"].as_array().unwrap().iter().all(|t| t["status"] == "cancelled"));
        let ben_reg = registration(&app, &ben, first_waiting["registration"]["id"].as_str().unwrap()).await;
        assert_eq!(ben_reg["status"], "confirmed");
        assert_eq!(ben_reg["tickets"].as_array().unwrap().len(), 2);
        let ann_reg = registration(&app, &ann, second_waiting["registration"]["id"].as_str().unwrap()).await;
        assert_eq!(ann_reg["status"], "confirmed");
        assert_eq!(assert_consistent(&app, &event, 3).await, 3);

        // Cancelling twice changes nothing.
        let again = app.call(Method::DELETE, &format!("/api/v1/registrations/{first_id}"), None, Some(&ann)).await;
        assert_eq!(again.status, StatusCode::OK);
        assert_eq!(assert_consistent(&app, &event, 3).await, 3);

        let mine = app.call(Method::GET, "/api/v1/me/registrations", None, Some(&ann)).await.json();
        let items = mine["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["event_summary"]["title"], "Race night");
        assert!(items.iter().any(|i| i["status"] == "confirmed"));
    }

    async fn bad_bookings_are_refused_and_change_nothing(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, agent) = app.bearer(Role::Agent).await;
        let (_, user) = app.bearer(Role::User).await;
        let (event, tt) = published_event(&app, &agent, 10, 10, 2, 0).await;

        let (status, body) = book(&app, &user, &event, &tt, 3).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["error"]["fields"]["quantity"], "Must be at most 2.");
        let (status, _) = book(&app, &user, &event, &tt, 0).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let (status, body) = book(&app, &user, &event, "not-a-number", 1).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let (status, _) = book(&app, &user, "999999", &tt, 1).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let anonymous = app.call(Method::POST, &format!("/api/v1/events/{event}/registrations"), Some(json!({"ticket_type_id": tt, "quantity": 1})), None).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
        let malformed = app.call(Method::POST, &format!("/api/v1/events/{event}/registrations"), Some(json!({"quantity": "two"})), Some(&user)).await;
        assert_eq!(malformed.status, StatusCode::UNPROCESSABLE_ENTITY);

        // A ticket type of another event is not this event's.
        let (other_event, other_tt) = published_event(&app, &agent, 10, 10, 2, 0).await;
        let (status, body) = book(&app, &user, &event, &other_tt, 1).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body["error"]["fields"]["ticket_type_id"].is_string());

        // A cancelled event is closed for booking.
        let cancel = app.call(Method::POST, &format!("/api/v1/events/{other_event}/cancel"), Some(json!({"reason": "Flood"})), Some(&agent)).await;
        assert_eq!(cancel.status, StatusCode::OK, "{}", cancel.body);
        let (status, body) = book(&app, &user, &other_event, &other_tt, 1).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["error"]["kind"], "conflict");

        assert!(ledger(&app, &event).await.is_empty());
        assert_eq!(assert_consistent(&app, &event, 10).await, 0);
        let (_, free) = book(&app, &user, &event, &tt, 1).await;
        assert_eq!(free["registration"]["payment"], "free");
    }

    async fn every_registration_command_by_every_role(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, owner) = app.bearer(Role::Agent).await;
        let (_, other_agent) = app.bearer(Role::Agent).await;
        let (_, admin) = app.bearer(Role::Admin).await;
        let (_, holder) = app.bearer(Role::User).await;
        let (_, stranger) = app.bearer(Role::User).await;
        let (event, tt) = published_event(&app, &owner, 20, 20, 4, 0).await;

        // Drafts cannot be booked by anyone but their organizer's side: they do not exist.
        let start = chrono::Utc::now() + chrono::Duration::days(5);
        let draft = app.call(Method::POST, "/api/v1/events", Some(json!({
            "title": "Draft night", "summary": "s", "description": "d", "category": "talk", "tags": [],
            "starts_at": start, "ends_at": start + chrono::Duration::hours(1), "timezone": "UTC",
            "venue": "v", "address": "", "city": "c", "capacity": 5,
            "ticket_types": [{"name": "G", "price": {"amount": 0, "currency": "EUR"}, "quantity": 5, "max_per_registration": 1}]
        })), Some(&owner)).await.json();
        let draft_id = draft["event"]["id"].as_str().unwrap();
        let draft_tt = draft["event"]["ticket_types"][0]["id"].as_str().unwrap();
        assert_eq!(book(&app, &holder, draft_id, draft_tt, 1).await.0, StatusCode::NOT_FOUND);
        assert_eq!(book(&app, &owner, draft_id, draft_tt, 1).await.0, StatusCode::CONFLICT);

        let mut ids = Vec::new();
        for _ in 0..4 {
            let (status, body) = book(&app, &holder, &event, &tt, 1).await;
            assert_eq!(status, StatusCode::CREATED);
            ids.push(body["registration"]["id"].as_str().unwrap().to_owned());
        }
        let path = |id: &str| format!("/api/v1/registrations/{id}");
        // Reading: holder, organizer, admin yes; a stranger and another agent learn nothing.
        for (who, expected) in [(&holder, StatusCode::OK), (&owner, StatusCode::OK), (&admin, StatusCode::OK),
                                (&stranger, StatusCode::NOT_FOUND), (&other_agent, StatusCode::NOT_FOUND)] {
            assert_eq!(app.call(Method::GET, &path(&ids[0]), None, Some(who)).await.status, expected);
        }
        assert_eq!(app.call(Method::GET, &path(&ids[0]), None, None).await.status, StatusCode::UNAUTHORIZED);
        // Cancelling.
        assert_eq!(app.call(Method::DELETE, &path(&ids[0]), None, None).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(app.call(Method::DELETE, &path(&ids[0]), None, Some(&stranger)).await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.call(Method::DELETE, &path(&ids[0]), None, Some(&other_agent)).await.status, StatusCode::NOT_FOUND);
        assert_eq!(registration(&app, &holder, &ids[0]).await["status"], "confirmed");
        for (id, who) in [(&ids[0], &holder), (&ids[1], &owner), (&ids[2], &admin)] {
            let reply = app.call(Method::DELETE, &path(id), None, Some(who)).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
            assert_eq!(reply.json()["registration"]["status"], "cancelled");
        }
        assert_eq!(assert_consistent(&app, &event, 20).await, 1);
    }

    async fn one_hostile_or_failing_request_never_fails_the_others_in_its_batch(engine: Engine) {
        let app = Arc::new(TestApp::new(engine).await);
        let (_, agent) = app.bearer(Role::Agent).await;
        let (event, tt) = published_event(&app, &agent, 100, 100, 4, 0).await;
        let mut honest = Vec::new();
        for _ in 0..30 {
            honest.push(app.bearer(Role::User).await.1);
        }
        let (_, hostile) = app.bearer(Role::User).await;
        // A database error for one request only: a trigger refuses this user's registrations.
        let (poisoned_user, poisoned) = app.bearer(Role::User).await;
        let poison = match engine {
            Engine::Sqlite => vec![format!(
                "CREATE TRIGGER poison BEFORE INSERT ON registrations WHEN NEW.user_id = {} \
                 BEGIN SELECT RAISE(ABORT, 'poisoned'); END",
                poisoned_user.id
            )],
            Engine::Postgres => vec![
                format!(
                    "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                     IF NEW.user_id = {} THEN RAISE EXCEPTION 'poisoned'; END IF; RETURN NEW; END $$",
                    poisoned_user.id
                ),
                "CREATE TRIGGER poison BEFORE INSERT ON registrations FOR EACH ROW EXECUTE FUNCTION poison()".into(),
            ],
        };
        for statement in poison {
            app.state.db.execute(server::sql::Sql::new(&statement)).await.unwrap();
        }
        let mut tasks = Vec::new();
        for (i, auth) in honest.iter().enumerate() {
            let (a, auth, e, t) = (app.clone(), auth.clone(), event.clone(), tt.clone());
            tasks.push((i, tokio::spawn(async move { book(&a, &auth, &e, &t, 1).await })));
            if i % 10 == 0 {
                for quantity in [-1_000_000, i64::MAX, 0, 101] {
                    let (app, auth, event, tt) = (app.clone(), hostile.clone(), event.clone(), tt.clone());
                    tasks.push((usize::MAX, tokio::spawn(async move { book(&app, &auth, &event, &tt, quantity).await })));
                }
                let (app, auth, event, tt) = (app.clone(), poisoned.clone(), event.clone(), tt.clone());
                tasks.push((usize::MAX - 1, tokio::spawn(async move { book(&app, &auth, &event, &tt, 1).await })));
            }
        }
        for (who, task) in tasks {
            let (status, body) = task.await.unwrap();
            match who {
                usize::MAX => {
                    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
                    assert!(body["error"]["fields"]["quantity"].is_string(), "{body}");
                }
                n if n == usize::MAX - 1 => assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}"),
                _ => {
                    assert_eq!(status, StatusCode::CREATED, "{body}");
                    assert_eq!(body["registration"]["status"], "confirmed", "{body}");
                }
            }
        }
        assert_eq!(assert_consistent(&app, &event, 100).await, 30);
    }

    async fn two_hundred_concurrent_bookings_never_oversell_and_promote_in_order(engine: Engine) {
        let app = Arc::new(TestApp::new(engine).await);
        let (_, agent) = app.bearer(Role::Agent).await;
        let (event, tt) = published_event(&app, &agent, 50, 50, 3, 0).await;
        let mut users = Vec::new();
        for _ in 0..10 {
            users.push(app.bearer(Role::User).await.1);
        }
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                let (app, auth, event, tt) = (app.clone(), users[i % users.len()].clone(), event.clone(), tt.clone());
                tokio::spawn(async move { book(&app, &auth, &event, &tt, 1 + (i as i64 * 7) % 3).await })
            })
            .collect();
        for task in tasks {
            let (status, body) = task.await.unwrap();
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
        check_race_outcome(&app, &event, 50, 200).await;

        // Concurrent cancellations of a dozen confirmed groups by their holders' organizer.
        let confirmed: Vec<i64> = ledger(&app, &event).await.iter().filter(|r| r.2 == "confirmed").map(|r| r.0).take(12).collect();
        let tasks: Vec<_> = confirmed
            .iter()
            .map(|id| {
                let (app, agent, id) = (app.clone(), agent.clone(), *id);
                tokio::spawn(async move { app.call(Method::DELETE, &format!("/api/v1/registrations/{id}"), None, Some(&agent)).await.status })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap(), StatusCode::OK);
        }
        check_promotions(&app, &event, 50).await;
    }
}

/// Exactly the groups that fitted, in commit order, are confirmed; the first that did not fit
/// and everyone after it wait, at positions 1..n.
async fn check_race_outcome(app: &TestApp, event: &str, capacity: i64, groups: usize) {
    let rows = ledger(app, event).await;
    assert_eq!(rows.len(), groups);
    let confirmed = assert_consistent(app, event, capacity).await;
    // `ledger` lists confirmed groups, then the waiting ones in waitlist order.
    let first_waiting = rows
        .iter()
        .position(|r| r.2 == "waitlisted")
        .expect("some groups wait");
    assert!(
        confirmed + rows[first_waiting].1 > capacity,
        "the head of the waitlist could have been seated"
    );
    // One process: ids follow commit order, so nobody confirmed booked after anyone waiting.
    let last_confirmed = rows[..first_waiting].iter().map(|r| r.0).max().unwrap();
    let first_waiting_id = rows[first_waiting..].iter().map(|r| r.0).min().unwrap();
    assert!(
        last_confirmed < first_waiting_id,
        "a later group overtook a waiting one"
    );
    assert_positions(&rows);
}

/// After cancellations: the groups promoted are the head of the waitlist, in order; the group
/// now first does not fit what is left.
async fn check_promotions(app: &TestApp, event: &str, capacity: i64) {
    let confirmed = assert_consistent(app, event, capacity).await;
    let rows = ledger(app, event).await;
    assert_positions(&rows);
    if let Some(head) = rows.iter().find(|r| r.2 == "waitlisted") {
        assert!(
            confirmed + head.1 > capacity,
            "the head ({} seats) fits {} free seats",
            head.1,
            capacity - confirmed
        );
    }
}

/// The same race against one PostgreSQL database from two server processes (two independent
/// states with their own pools and booking writers).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_processes_on_one_postgresql_never_oversell() {
    let first = Arc::new(TestApp::new(Engine::Postgres).await);
    let second = Arc::new(first.second_process().await);
    let (_, agent) = first.bearer(Role::Agent).await;
    let (event, tt) = published_event(&first, &agent, 50, 50, 3, 0).await;
    let mut users = Vec::new();
    for _ in 0..10 {
        users.push(first.bearer(Role::User).await.1);
    }
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let app = if i % 2 == 0 {
                first.clone()
            } else {
                second.clone()
            };
            let (auth, event, tt) = (users[i % users.len()].clone(), event.clone(), tt.clone());
            tokio::spawn(
                async move { book(&app, &auth, &event, &tt, 1 + (i as i64 * 5) % 3).await },
            )
        })
        .collect();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let confirmed = assert_consistent(&first, &event, 50).await;
    let rows = ledger(&first, &event).await;
    assert_eq!(rows.len(), 200);
    assert_positions(&rows);
    let head = rows
        .iter()
        .find(|r| r.2 == "waitlisted")
        .expect("some wait");
    assert!(confirmed + head.1 > 50);

    // Both processes cancel at once; promotions stay in order.
    let confirmed_ids: Vec<i64> = rows
        .iter()
        .filter(|r| r.2 == "confirmed")
        .map(|r| r.0)
        .take(10)
        .collect();
    let tasks: Vec<_> = confirmed_ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let app = if i % 2 == 0 {
                first.clone()
            } else {
                second.clone()
            };
            let (agent, id) = (agent.clone(), *id);
            tokio::spawn(async move {
                app.call(
                    Method::DELETE,
                    &format!("/api/v1/registrations/{id}"),
                    None,
                    Some(&agent),
                )
                .await
                .status
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::OK);
    }
    check_promotions(&first, &event, 50).await;
}

on_both_engines! {
    async fn popular_and_trending_events_follow_bookings(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, agent) = app.bearer(Role::Agent).await;
        let (_, user) = app.bearer(Role::User).await;
        let (quiet, _) = published_event(&app, &agent, 10, 10, 4, 0).await;
        let (busy, busy_tt) = published_event(&app, &agent, 10, 10, 4, 0).await;
        for _ in 0..3 {
            assert_eq!(book(&app, &user, &busy, &busy_tt, 2).await.0, StatusCode::CREATED);
        }
        let popular = app.get("/api/v1/events?sort=popularity", &[]).await.json();
        assert_eq!(popular["items"][0]["id"], busy.as_str());
        assert_eq!(popular["items"][0]["remaining_seats"], 4);
        assert_eq!(popular["items"][1]["id"], quiet.as_str());
        let bad = app.get("/api/v1/events?sort=loudest", &[]).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

        let home = app.get("/", &[]).await;
        assert!(home.body.contains("Trending this week"), "{}", home.body);
        let trending = home.body.split("Trending this week").nth(1).unwrap();
        assert!(trending.contains(&format!("/events/{busy}")));
        assert!(!trending.split("categories-title").next().unwrap().contains(&format!("/events/{quiet}\"")));
    }
}

on_both_engines! {
    async fn likes_and_saves_are_idempotent_toggles(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, agent) = app.bearer(Role::Agent).await;
        let (_, user) = app.bearer(Role::User).await;
        let (_, other) = app.bearer(Role::User).await;
        let (event, _) = published_event(&app, &agent, 10, 10, 4, 0).await;
        let mark = |method: Method, kind: &'static str, auth: Option<String>| {
            let path = format!("/api/v1/events/{event}/reactions/{kind}");
            let app = &app;
            async move { app.call(method, &path, None, auth.as_deref()).await.status }
        };
        assert_eq!(mark(Method::PUT, "like", None).await, StatusCode::UNAUTHORIZED);
        assert_eq!(mark(Method::PUT, "like", Some(user.clone())).await, StatusCode::NO_CONTENT);
        assert_eq!(mark(Method::PUT, "like", Some(user.clone())).await, StatusCode::NO_CONTENT);
        assert_eq!(mark(Method::PUT, "like", Some(other.clone())).await, StatusCode::NO_CONTENT);
        assert_eq!(mark(Method::PUT, "save", Some(user.clone())).await, StatusCode::NO_CONTENT);
        assert_eq!(mark(Method::PUT, "cheer", Some(user.clone())).await, StatusCode::NOT_FOUND);
        let detail = app.get(&format!("/api/v1/events/{event}"), &[]).await.json();
        assert_eq!((detail["event"]["likes"].clone(), detail["event"]["saves"].clone()), (json!(2), json!(1)));

        assert_eq!(mark(Method::DELETE, "like", Some(other.clone())).await, StatusCode::NO_CONTENT);
        assert_eq!(mark(Method::DELETE, "like", Some(other.clone())).await, StatusCode::NO_CONTENT);
        let detail = app.get(&format!("/api/v1/events/{event}"), &[]).await.json();
        assert_eq!(detail["event"]["likes"], 1);

        let mine = app.call(Method::GET, "/api/v1/me/reactions", None, Some(&user)).await.json();
        assert_eq!(mine["likes"][0]["id"], event.as_str());
        assert_eq!(mine["saves"][0]["id"], event.as_str());
        let theirs = app.call(Method::GET, "/api/v1/me/reactions", None, Some(&other)).await.json();
        assert!(theirs["likes"].as_array().unwrap().is_empty());

        // Another agent's draft cannot be marked: it does not exist for this user.
        let start = chrono::Utc::now() + chrono::Duration::days(5);
        let draft = app.call(Method::POST, "/api/v1/events", Some(json!({
            "title": "Secret", "summary": "s", "description": "d", "category": "talk", "tags": [],
            "starts_at": start, "ends_at": start + chrono::Duration::hours(1), "timezone": "UTC",
            "venue": "v", "address": "", "city": "c", "capacity": 5,
            "ticket_types": [{"name": "G", "price": {"amount": 0, "currency": "EUR"}, "quantity": 5, "max_per_registration": 1}]
        })), Some(&agent)).await.json();
        let draft_id = draft["event"]["id"].as_str().unwrap();
        let reply = app.call(Method::PUT, &format!("/api/v1/events/{draft_id}/reactions/like"), None, Some(&user)).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
    }
}

on_both_engines! {
    async fn sales_windows_and_booked_limits_are_kept(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, agent) = app.bearer(Role::Agent).await;
        let (_, user) = app.bearer(Role::User).await;
        let start = chrono::Utc::now() + chrono::Duration::days(9);
        let created = app.call(Method::POST, "/api/v1/events", Some(json!({
            "title": "Windowed", "summary": "s", "description": "d", "category": "music", "tags": [],
            "starts_at": start, "ends_at": start + chrono::Duration::hours(2), "timezone": "Europe/Warsaw",
            "venue": "v", "address": "", "city": "Kraków", "capacity": 10,
            "ticket_types": [
                {"name": "Early", "price": {"amount": 0, "currency": "PLN"}, "quantity": 5, "max_per_registration": 4,
                 "sales_end": chrono::Utc::now() - chrono::Duration::minutes(1)},
                {"name": "Later", "price": {"amount": 0, "currency": "PLN"}, "quantity": 5, "max_per_registration": 4,
                 "sales_start": chrono::Utc::now() + chrono::Duration::days(2)},
                {"name": "Now", "price": {"amount": 0, "currency": "PLN"}, "quantity": 5, "max_per_registration": 4}
            ]
        })), Some(&agent)).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let event = created.json()["event"].clone();
        let id = event["id"].as_str().unwrap();
        let tt = |i: usize| event["ticket_types"][i]["id"].as_str().unwrap().to_owned();
        app.call(Method::POST, &format!("/api/v1/events/{id}/publish"), None, Some(&agent)).await;

        let (status, body) = book(&app, &user, id, &tt(0), 1).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(body["error"]["message"], "Sales of this ticket type have ended.");
        let (status, body) = book(&app, &user, id, &tt(1), 1).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(body["error"]["message"], "Tickets of this type are not on sale yet.");
        let (status, _) = book(&app, &user, id, &tt(2), 4).await;
        assert_eq!(status, StatusCode::CREATED);

        // Booked seats bound what the organizer may change; the bookings keep their ticket type.
        let types = |now_quantity: i64| json!({"ticket_types": [
            {"name": "Early", "price": {"amount": 0, "currency": "PLN"}, "quantity": 5, "max_per_registration": 4},
            {"name": "Later", "price": {"amount": 0, "currency": "PLN"}, "quantity": 5, "max_per_registration": 4},
            {"name": "Now (renamed)", "price": {"amount": 0, "currency": "PLN"}, "quantity": now_quantity, "max_per_registration": 4}
        ]});
        let refused = app.call(Method::PATCH, &format!("/api/v1/events/{id}"), Some(types(3)), Some(&agent)).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
        assert_eq!(refused.json()["error"]["fields"]["ticket_types[2].quantity"], "Must be at least 4.");
        let small = app.call(Method::PATCH, &format!("/api/v1/events/{id}"), Some(json!({"capacity": 3})), Some(&agent)).await;
        assert_eq!(small.status, StatusCode::UNPROCESSABLE_ENTITY);
        let dropped = app.call(Method::PATCH, &format!("/api/v1/events/{id}"), Some(json!({"ticket_types": [
            {"name": "Early", "price": {"amount": 0, "currency": "PLN"}, "quantity": 5, "max_per_registration": 4}
        ]})), Some(&agent)).await;
        assert_eq!(dropped.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", dropped.body);
        let renamed = app.call(Method::PATCH, &format!("/api/v1/events/{id}"), Some(types(8)), Some(&agent)).await;
        assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
        let after = renamed.json()["event"].clone();
        assert_eq!(after["ticket_types"][2]["id"].as_str().unwrap(), tt(2));
        assert_eq!(after["ticket_types"][2]["remaining"], 4);
        assert_eq!(assert_consistent(&app, id, 10).await, 4);
    }
}
