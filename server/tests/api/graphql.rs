//! GraphQL at `/graphql` through the real router: the committed schema is the code's, paging
//! through a connection while events are added, every mutation × visitor, user, owning
//! organizer, other organizer and admin, who may sign in how, errors' codes and limits, and
//! GraphiQL's page.
use super::TestApp;
use crate::common::Engine;
use crate::on_both_engines;
use app::auth::{Role, UserView};
use app::events::{NewEvent, NewTicketType};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::HashSet;

/// Runs `query` with `variables` as the holder of `auth` (a bearer header) and returns the
/// GraphQL answer (always HTTP 200 once the request was read).
async fn gql(app: &TestApp, auth: Option<&str>, query: &str, variables: Value) -> Value {
    let body = json!({"query": query, "variables": variables});
    let reply = app.call(Method::POST, "/graphql", Some(body), auth).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json()
}

/// The `extensions.code` of the answer's first error, if any.
fn code(answer: &Value) -> Option<&str> {
    answer["errors"][0]["extensions"]["code"].as_str()
}

/// A new event as an organizer enters it, starting `hours` from a fixed point ten days ahead.
fn new_event(title: &str, hours: i64) -> NewEvent {
    let base = (chrono::Utc::now() + chrono::Duration::days(10))
        .date_naive()
        .and_hms_opt(18, 0, 0)
        .expect("a time")
        .and_utc();
    let starts = base + chrono::Duration::hours(hours);
    NewEvent {
        title: title.into(),
        summary: "s".into(),
        description: "d".into(),
        category: "music".into(),
        tags: Vec::new(),
        starts_at: starts.to_rfc3339(),
        ends_at: (starts + chrono::Duration::minutes(90)).to_rfc3339(),
        timezone: "Europe/Warsaw".into(),
        venue: "Hala".into(),
        address: String::new(),
        city: "Kraków".into(),
        capacity: 50,
        max_seats_per_user: None,
        ticket_types: vec![NewTicketType {
            name: "General".into(),
            price_amount: 2000,
            currency: "PLN".into(),
            quantity: 50,
            max_per_registration: 4,
            sales_start: None,
            sales_end: None,
        }],
    }
}

/// Creates (and publishes) an event through the ports, as the pages do; returns its uuid.
async fn make(
    app: &TestApp,
    organizer: &UserView,
    title: &str,
    hours: i64,
    publish: bool,
) -> String {
    let services = &app.state.services;
    let id = services
        .event_commands
        .create_event(organizer, new_event(title, hours))
        .await
        .expect("created");
    if publish {
        services
            .event_commands
            .publish_event(organizer, id)
            .await
            .expect("published");
    }
    services
        .event_queries
        .get_event(Some(organizer), id)
        .await
        .expect("read")
        .item
        .uuid
}

const PAGE: &str = "query($first: Int, $after: String, $last: Int, $before: String) {
  allEvents(first: $first, after: $after, last: $last, before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { uuid title startsAt ticketTypes { name price { amount currency } } organizer { displayName } } }
  }
}";

/// The titles and start times of a connection's nodes, in order.
fn nodes(answer: &Value) -> Vec<(String, String)> {
    assert!(answer["errors"].is_null(), "{answer}");
    answer["data"]["allEvents"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| {
            (
                e["node"]["title"].as_str().expect("title").to_owned(),
                e["node"]["startsAt"].as_str().expect("startsAt").to_owned(),
            )
        })
        .collect()
}

fn time(text: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(text)
        .expect("RFC 3339")
        .to_utc()
}

#[test]
fn the_committed_schema_graphql_is_the_codes_sdl() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema.graphql");
    let sdl = server::graphql::sdl();
    if std::env::var_os("EVENTHUB_WRITE_SCHEMA").is_some() {
        std::fs::write(&path, &sdl).expect("write schema.graphql");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == sdl,
        "schema.graphql differs from the code's schema; run this test with EVENTHUB_WRITE_SCHEMA=1 \
         to write it, and review the difference:\n{}",
        first_difference(&committed, &sdl)
    );
}

/// The first line where two texts differ, with its number.
fn first_difference(committed: &str, code: &str) -> String {
    let (mut a, mut b) = (committed.lines(), code.lines());
    for n in 1.. {
        match (a.next(), b.next()) {
            (None, None) => break,
            (x, y) if x != y => {
                return format!("line {n}: file {x:?}, code {y:?}");
            }
            _ => {}
        }
    }
    String::new()
}

on_both_engines! {
    async fn paging_forward_and_back_through_250_events_while_others_are_added_misses_and_repeats_none(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (organizer, _) = app.bearer(Role::Agent).await;
        // Five events share each start time, so ties are broken by the order's last column.
        for i in 0..250 {
            make(&app, &organizer, &format!("orig-{i:03}"), i / 5, true).await;
        }

        // Forward, 7 at a time; after each page one event is added before the cursor (never
        // shown), one at the cursor's own time (after it: shown) and one at the end (shown).
        let mut seen = Vec::new();
        let mut expected_late = HashSet::new();
        let mut after: Option<String> = None;
        let mut pages = 0;
        loop {
            let answer = gql(&app, None, PAGE, json!({"first": 7, "after": after})).await;
            let page = nodes(&answer);
            assert!(page.len() <= 7);
            let info = &answer["data"]["allEvents"]["pageInfo"];
            assert_eq!(info["hasPreviousPage"], json!(after.is_some()), "{info}");
            seen.extend(page.iter().cloned());
            if info["hasNextPage"] == json!(false) {
                break;
            }
            assert_eq!(page.len(), 7, "a page short of its size says it is the last");
            after = Some(info["endCursor"].as_str().expect("endCursor").to_owned());
            let (_, last_start) = page.last().expect("a page").clone();
            let last_hour = (time(&last_start) - time(&seen[0].1)).num_hours();
            pages += 1;
            if pages <= 10 {
                make(&app, &organizer, &format!("early-{pages}"), -1, true).await;
                make(&app, &organizer, &format!("tie-{pages}"), last_hour, true).await;
                make(&app, &organizer, &format!("late-{pages}"), 60 + pages, true).await;
                expected_late.insert(format!("tie-{pages}"));
                expected_late.insert(format!("late-{pages}"));
            }
        }
        let titles: Vec<&str> = seen.iter().map(|(t, _)| t.as_str()).collect();
        let unique: HashSet<&str> = titles.iter().copied().collect();
        assert_eq!(unique.len(), titles.len(), "no event twice: {titles:?}");
        for i in 0..250 {
            assert!(unique.contains(format!("orig-{i:03}").as_str()), "orig-{i:03} missing");
        }
        for title in &expected_late {
            assert!(unique.contains(title.as_str()), "{title} was added after the cursor");
        }
        assert!(!titles.iter().any(|t| t.starts_with("early-")), "{titles:?}");
        assert_eq!(titles.len(), 250 + expected_late.len());
        assert!(seen.windows(2).all(|w| time(&w[0].1) <= time(&w[1].1)), "in order");

        // Backward from the end, 9 at a time; after each page one event is added at the end
        // (behind the cursor: never shown) and one at the very start (shown).
        let total_now = 250 + 30;
        let mut back = Vec::new();
        let mut expected_early = HashSet::from(["early-1".to_owned()]);
        for n in 2..=10 {
            expected_early.insert(format!("early-{n}"));
        }
        let mut before: Option<String> = None;
        let mut pages = 0;
        loop {
            let answer = gql(&app, None, PAGE, json!({"last": 9, "before": before})).await;
            let page = nodes(&answer);
            let info = &answer["data"]["allEvents"]["pageInfo"];
            assert_eq!(info["hasNextPage"], json!(before.is_some()), "{info}");
            back.splice(0..0, page.iter().cloned());
            if info["hasPreviousPage"] == json!(false) {
                break;
            }
            assert_eq!(page.len(), 9);
            before = Some(info["startCursor"].as_str().expect("startCursor").to_owned());
            pages += 1;
            if pages <= 5 {
                make(&app, &organizer, &format!("after-end-{pages}"), 200 + pages, true).await;
                make(&app, &organizer, &format!("first-{pages}"), -5 - pages, true).await;
                expected_early.insert(format!("first-{pages}"));
            }
        }
        let titles: Vec<&str> = back.iter().map(|(t, _)| t.as_str()).collect();
        let unique: HashSet<&str> = titles.iter().copied().collect();
        assert_eq!(unique.len(), titles.len(), "no event twice: {titles:?}");
        assert_eq!(titles.len(), total_now + 5, "{titles:?}");
        for title in &expected_early {
            assert!(unique.contains(title.as_str()), "{title} was added before the cursor");
        }
        assert!(!titles.iter().any(|t| t.starts_with("after-end-")), "{titles:?}");
        assert!(back.windows(2).all(|w| time(&w[0].1) <= time(&w[1].1)), "in order");

        // Every node came with its ticket types and organizer; the count is of all matches.
        let answer = gql(&app, None, PAGE, json!({"first": 100})).await;
        let connection = &answer["data"]["allEvents"];
        assert_eq!(connection["totalCount"], json!(total_now + 10));
        let edge = &connection["edges"][0]["node"];
        assert_eq!(edge["ticketTypes"], json!([{"name": "General", "price": {"amount": 2000, "currency": "PLN"}}]));
        assert_eq!(edge["organizer"]["displayName"], json!(organizer.display_name));
    }

    async fn every_mutation_answers_each_role_as_the_rules_say(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (owner, owner_auth) = app.bearer(Role::Agent).await;
        let (_, other_auth) = app.bearer(Role::Agent).await;
        let (_, admin_auth) = app.bearer(Role::Admin).await;
        let (_, user_auth) = app.bearer(Role::User).await;
        let (holder, _) = app.bearer(Role::User).await;
        let roles: [(&str, Option<&str>); 5] = [
            ("visitor", None),
            ("user", Some(&user_auth)),
            ("owning organizer", Some(&owner_auth)),
            ("other organizer", Some(&other_auth)),
            ("admin", Some(&admin_auth)),
        ];
        const OK: Option<&str> = None;
        const UNAUTHENTICATED: Option<&str> = Some("UNAUTHENTICATED");
        const FORBIDDEN: Option<&str> = Some("FORBIDDEN");
        const NOT_FOUND: Option<&str> = Some("NOT_FOUND");
        // What each mutation answers visitor, user, owner, other organizer, admin: a code, or
        // success (and then the field it answers must be there).
        let table: [(&str, [Option<&str>; 5]); 8] = [
            ("createEvent", [UNAUTHENTICATED, FORBIDDEN, OK, OK, OK]),
            ("createEventAsync", [UNAUTHENTICATED, FORBIDDEN, OK, OK, OK]),
            ("updateEvent", [UNAUTHENTICATED, FORBIDDEN, OK, NOT_FOUND, OK]),
            ("publishEvent", [UNAUTHENTICATED, FORBIDDEN, OK, NOT_FOUND, OK]),
            ("cancelEvent", [UNAUTHENTICATED, FORBIDDEN, OK, NOT_FOUND, OK]),
            ("deleteEvent", [UNAUTHENTICATED, FORBIDDEN, OK, NOT_FOUND, OK]),
            ("register", [UNAUTHENTICATED, OK, OK, OK, OK]),
            // The user is not the holder: to them the registration does not exist.
            ("cancelRegistration", [UNAUTHENTICATED, NOT_FOUND, OK, NOT_FOUND, OK]),
        ];
        let published = make(&app, &owner, "shared", 1, true).await;
        let ticket_type = app
            .state
            .services
            .event_queries
            .get_event_entry(None, &published)
            .await
            .expect("published")
            .item
            .id;
        let ticket_type = app
            .state
            .services
            .event_queries
            .list_ticket_types(&[ticket_type])
            .await
            .expect("types")[0]
            .1
            .id
            .to_string();
        for (mutation, expected) in table {
            for ((who, auth), expected) in roles.iter().zip(expected) {
                // A fresh subject for each call, so one role's success does not change the next.
                let (query, variables, answers) = match mutation {
                    "createEvent" => (
                        "mutation($input: NewEventInput!) { createEvent(input: $input) { event { uuid status title } } }",
                        json!({"input": {
                            "title": "New night", "category": "THEATRE", "startsAt": "2031-05-01T19:00:00Z",
                            "endsAt": "2031-05-01T21:00:00Z", "timezone": "Europe/Warsaw", "venue": "Scena",
                            "city": "Łódź", "capacity": 40,
                            "ticketTypes": [{"name": "G", "price": {"amount": 0, "currency": "PLN"}, "quantity": 40, "maxPerRegistration": 2}]
                        }}),
                        "event",
                    ),
                    "createEventAsync" => (
                        "mutation($input: NewEventInput!) { createEventAsync(input: $input) { event { uuid status title } } }",
                        json!({"input": {
                            "title": "Queued night", "category": "THEATRE", "startsAt": "2031-05-01T19:00:00Z",
                            "endsAt": "2031-05-01T21:00:00Z", "timezone": "Europe/Warsaw", "venue": "Scena",
                            "city": "Łódź", "capacity": 40,
                            "ticketTypes": [{"name": "G", "price": {"amount": 0, "currency": "PLN"}, "quantity": 40, "maxPerRegistration": 2}]
                        }}),
                        "event",
                    ),
                    "updateEvent" => (
                        "mutation($uuid: UUID!) { updateEvent(uuid: $uuid, input: {title: \"Renamed\", maxSeatsPerUser: null}) { event { title } } }",
                        json!({"uuid": published}),
                        "event",
                    ),
                    "publishEvent" => (
                        "mutation($uuid: UUID!) { publishEvent(uuid: $uuid) { event { status } } }",
                        json!({"uuid": make(&app, &owner, "draft", 2, false).await}),
                        "event",
                    ),
                    "cancelEvent" => (
                        "mutation($uuid: UUID!) { cancelEvent(uuid: $uuid, reason: \"The band is ill\") { event { status } } }",
                        json!({"uuid": make(&app, &owner, "to cancel", 3, true).await}),
                        "event",
                    ),
                    "deleteEvent" => (
                        "mutation($uuid: UUID!) { deleteEvent(uuid: $uuid) { success } }",
                        json!({"uuid": make(&app, &owner, "to delete", 4, false).await}),
                        "success",
                    ),
                    "register" => (
                        "mutation($uuid: UUID!, $tt: ID!) { register(eventUuid: $uuid, ticketTypeId: $tt, quantity: 1) { registration { status quantity tickets { code } } } }",
                        json!({"uuid": published, "tt": ticket_type}),
                        "registration",
                    ),
                    _ => {
                        let registration = app
                            .state
                            .services
                            .booking_commands
                            .register(&holder, app::bookings::NewRegistration {
                                event_id: app.state.services.event_queries.get_event_entry(None, &published).await.expect("event").item.id,
                                ticket_type_id: ticket_type.parse::<i64>().expect("a number").into(),
                                quantity: 1,
                                idempotency_key: None,
                            })
                            .await
                            .expect("booked");
                        (
                            "mutation($id: ID!) { cancelRegistration(id: $id) { registration { status } } }",
                            json!({"id": registration.id.to_string()}),
                            "registration",
                        )
                    }
                };
                let answer = gql(&app, *auth, query, variables).await;
                assert_eq!(code(&answer), expected, "{mutation} by {who}: {answer}");
                let field = &answer["data"][mutation];
                match expected {
                    None => {
                        assert!(field[answers].is_object() || field[answers] == json!(true), "{mutation} by {who}: {answer}");
                    }
                    Some(_) => assert!(field.is_null(), "{mutation} by {who}: {answer}"),
                }
                let status = &field["event"]["status"];
                match (mutation, expected) {
                    ("createEvent", None) => assert_eq!(*status, json!("DRAFT")),
                    ("publishEvent", None) => assert_eq!(*status, json!("PUBLISHED")),
                    ("cancelEvent", None) => assert_eq!(*status, json!("CANCELLED")),
                    ("cancelRegistration", None) => {
                        assert_eq!(field["registration"]["status"], json!("CANCELLED"));
                    }
                    _ => {}
                }
            }
        }
        // What the mutations did is what the other doors show.
        let rest = app.get("/api/v1/events", &[]).await.json();
        let shared = rest["items"].as_array().expect("items").iter().find(|e| e["uuid"] == json!(published));
        assert_eq!(shared.expect("listed by REST")["title"], json!("Renamed"));
    }

    async fn the_session_signs_in_same_site_json_posts_only(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (user, bearer, cookie) = app.signed_in(Role::User).await;
        let me = json!({"query": "{ me { email role } }"}).to_string();
        let cookie = format!("{}={cookie}", server::sessions::SESSION_COOKIE);
        let answer = app.post_json("/graphql", &me, &[("cookie", &cookie)]).await.json();
        assert_eq!(answer["data"]["me"], json!({"email": user.email, "role": "USER"}));
        let answer = app.post_json("/graphql", &me, &[("authorization", &bearer)]).await.json();
        assert_eq!(answer["data"]["me"]["email"], json!(user.email));
        // A visitor is nobody, not an error.
        let answer = app.post_json("/graphql", &me, &[]).await.json();
        assert_eq!(answer["data"]["me"], Value::Null);
        // Another site's page may not use the cookie (the guard refuses its writes).
        let reply = app.post_json("/graphql", &me, &[("cookie", &cookie), ("origin", "https://evil.example")]).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
        // A form post (what a cross-site page could send without asking) is not read at all.
        let form = axum::http::Request::post("/graphql")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", &cookie)
            .body(axum::body::Body::from("query=%7B%20me%20%7B%20email%20%7D%20%7D"))
            .unwrap();
        let reply = app.send(form).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
        assert!(!reply.body.contains(&user.email));
        assert_eq!(code(&reply.json()), Some("INVALID"));
        // Queries are POSTs: a GET is GraphiQL's page, never an answer.
        let reply = app.get("/graphql?query=%7B%20me%20%7B%20email%20%7D%20%7D", &[("cookie", &cookie)]).await;
        assert!(!reply.body.contains(&user.email));
        // A token that is not ours is refused, not taken for a visitor.
        let reply = app.post_json("/graphql", &me, &[("authorization", "Bearer nonsense")]).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(code(&reply.json()), Some("UNAUTHENTICATED"));
    }

    async fn bad_input_and_limits_answer_invalid(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (organizer, auth) = app.bearer(Role::Agent).await;
        let draft = make(&app, &organizer, "draft", 1, false).await;
        for (query, variables, field) in [
            ("{ allEvents(first: 101) { totalCount } }", json!({}), Some("first")),
            ("{ allEvents(last: 0) { totalCount } }", json!({}), Some("last")),
            ("{ allEvents(first: 2, last: 2) { totalCount } }", json!({}), Some("last")),
            ("{ allEvents(after: \"not-ours\") { totalCount } }", json!({}), Some("after")),
            ("{ allEvents { nope } }", json!({}), None),
            ("{ allEvents(", json!({}), None),
            ("query($u: UUID!) { event(uuid: $u) { title } }", json!({"u": "not-a-uuid"}), None),
        ] {
            let answer = gql(&app, None, query, variables).await;
            assert_eq!(code(&answer), Some("INVALID"), "{query}: {answer}");
            if let Some(field) = field {
                assert!(answer["errors"][0]["extensions"]["fields"][field].is_string(), "{query}: {answer}");
            }
        }
        // A draft is not found by visitors, found by its organizer.
        let query = "query($u: UUID!) { event(uuid: $u) { title status } }";
        let answer = gql(&app, None, query, json!({"u": draft})).await;
        assert_eq!(code(&answer), Some("NOT_FOUND"), "{answer}");
        let answer = gql(&app, Some(&auth), query, json!({"u": draft})).await;
        assert_eq!(answer["data"]["event"], json!({"title": "draft", "status": "DRAFT"}));
        // Validation names the input's fields as GraphQL spells them.
        let answer = gql(&app, Some(&auth), "mutation($u: UUID!) { updateEvent(uuid: $u, input: {capacity: 0, startsAt: \"2020-01-01T00:00:00Z\"}) { event { title } } }", json!({"u": draft})).await;
        assert_eq!(code(&answer), Some("INVALID"), "{answer}");
        assert!(answer["errors"][0]["extensions"]["fields"]["capacity"].is_string(), "{answer}");
        // Deep or costly queries are refused before they run.
        let deep = format!("{{ __schema {{ types {{ {} name {} }} }} }}", "ofType { ".repeat(16), "}".repeat(16));
        let answer = gql(&app, None, &deep, json!({})).await;
        assert_eq!(code(&answer), Some("INVALID"), "{answer}");
        assert!(answer["errors"][0]["message"].as_str().unwrap_or_default().contains("deep"), "{answer}");
        let one = "allEvents(first: 100) { edges { node { title ticketTypes { name price { amount } } organizer { displayName } } } }";
        let costly: String = (0..6).map(|i| format!("a{i}: {one} ")).collect();
        let answer = gql(&app, None, &format!("{{ {costly} }}"), json!({})).await;
        assert_eq!(code(&answer), Some("INVALID"), "{answer}");
        assert!(answer["errors"][0]["message"].as_str().unwrap_or_default().contains("complex"), "{answer}");
    }

    async fn the_uuid_is_the_same_through_every_door(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (organizer, auth) = app.bearer(Role::Agent).await;
        let uuid = make(&app, &organizer, "doors", 1, true).await;
        assert!(uuid::Uuid::parse_str(&uuid).is_ok_and(|u| u.get_version_num() == 4), "{uuid}");
        let rest = app.get("/api/v1/events", &[]).await.json();
        let item = &rest["items"][0];
        assert_eq!(item["uuid"], json!(uuid));
        let id = item["id"].as_str().expect("id");
        let detail = app.call(Method::GET, &format!("/api/v1/events/{id}"), None, Some(&auth)).await.json();
        assert_eq!(detail["event"]["uuid"], json!(uuid));
        let answer = gql(&app, None, "query($u: UUID!) { event(uuid: $u) { uuid title } }", json!({"u": uuid})).await;
        assert_eq!(answer["data"]["event"], json!({"uuid": uuid, "title": "doors"}));
        // The database keeps it: no statement may change it.
        let changed = app
            .state
            .db
            .execute(server::sql::Sql::new("UPDATE events SET uuid = $1").arg("00000000-0000-4000-8000-000000000000"))
            .await;
        assert!(changed.is_err(), "a uuid never changes");
    }
}

/// A queued creation's input (`startsAt` `days` ahead), as GraphQL takes it.
fn queued_input(title: &str, days: i64) -> Value {
    let starts = chrono::Utc::now() + chrono::Duration::days(days);
    json!({"input": {
        "title": title, "category": "MUSIC", "startsAt": starts, "endsAt": starts + chrono::Duration::hours(2),
        "timezone": "Europe/Warsaw", "venue": "Hala", "city": "Kraków", "capacity": 30,
        "ticketTypes": [{"name": "G", "price": {"amount": 1500, "currency": "PLN"}, "quantity": 30, "maxPerRegistration": 2}]
    }})
}

const QUEUE: &str = "mutation($input: NewEventInput!) { createEventAsync(input: $input) { event { uuid status title remainingSeats } } }";
const SHOW: &str =
    "query($u: UUID!) { event(uuid: $u) { uuid status title failureReason ticketTypes { name } } }";

on_both_engines! {
    async fn create_event_async_is_checked_at_once_and_created_by_a_worker_under_its_uuid(engine: Engine) {
        let app = TestApp::with_config(engine, |c| c.workers = 0).await;
        let (_, auth) = app.bearer(Role::Agent).await;
        let (_, other) = app.bearer(Role::Agent).await;
        let jobs = |app: &TestApp| {
            let db = app.state.db.clone();
            async move {
                let (n,): (i64,) = db.fetch_one(server::sql::Sql::new("SELECT COUNT(*) FROM jobs WHERE kind = 'event.create'")).await.unwrap();
                n
            }
        };

        // Bad input is an error now, and nothing is queued.
        let mut bad = queued_input("Bad", 5);
        bad["input"]["capacity"] = json!(0);
        bad["input"]["timezone"] = json!("Mars/Olympus");
        let refused = gql(&app, Some(&auth), QUEUE, bad).await;
        assert_eq!(code(&refused), Some("INVALID"), "{refused}");
        let fields = &refused["errors"][0]["extensions"]["fields"];
        assert!(fields["capacity"].is_string() && fields["timezone"].is_string(), "{refused}");
        assert_eq!(jobs(&app).await, 0);

        let queued = gql(&app, Some(&auth), QUEUE, queued_input("Queued gig", 5)).await;
        assert!(queued["errors"].is_null(), "{queued}");
        let event = &queued["data"]["createEventAsync"]["event"];
        assert_eq!((event["status"].as_str(), event["title"].as_str()), (Some("PENDING"), Some("Queued gig")));
        let uuid = event["uuid"].as_str().unwrap().to_owned();
        assert_eq!(jobs(&app).await, 1);

        // Pending: its organizer sees it; nobody else, and no list shows it.
        let shown = gql(&app, Some(&auth), SHOW, json!({"u": uuid})).await;
        assert_eq!(shown["data"]["event"]["status"], "PENDING", "{shown}");
        assert_eq!(code(&gql(&app, Some(&other), SHOW, json!({"u": uuid})).await), Some("NOT_FOUND"));
        assert_eq!(code(&gql(&app, None, SHOW, json!({"u": uuid})).await), Some("NOT_FOUND"));
        let events_with = |uuid: String| {
            let db = app.state.db.clone();
            async move {
                let (n,): (i64,) = db.fetch_one(server::sql::Sql::new("SELECT COUNT(*) FROM events WHERE uuid = $1").arg(uuid)).await.unwrap();
                n
            }
        };
        assert_eq!(events_with(uuid.clone()).await, 0, "not an event yet");

        // The worker creates it, a draft under the promised uuid; a second run changes nothing.
        server::jobs::worker::drain(&app.state.jobs, &app.state.job_handlers, server::db::now()).await.unwrap();
        let made = gql(&app, Some(&auth), SHOW, json!({"u": uuid})).await;
        assert_eq!(made["data"]["event"]["status"], "DRAFT", "{made}");
        assert_eq!(made["data"]["event"]["ticketTypes"], json!([{"name": "G"}]));
        let now = server::db::now();
        let again = server::jobs::NewJob::new("event.create", json!({"uuid": uuid}), now);
        app.state.jobs.enqueue(&[again], now).await.unwrap();
        assert_eq!(server::jobs::worker::drain(&app.state.jobs, &app.state.job_handlers, server::db::now()).await.unwrap(), 1);
        assert_eq!(events_with(uuid.clone()).await, 1, "a second run is harmless");
    }

    async fn a_refused_queued_creation_is_failed_with_the_reason_for_its_organizer(engine: Engine) {
        let app = TestApp::with_config(engine, |c| c.workers = 0).await;
        let (organizer, auth) = app.bearer(Role::Agent).await;
        let (_, admin) = app.bearer(Role::Admin).await;
        let queued = gql(&app, Some(&auth), QUEUE, queued_input("Too late", 5)).await;
        let uuid = queued["data"]["createEventAsync"]["event"]["uuid"].as_str().unwrap().to_owned();
        // Before the worker comes, the organizer loses the role.
        let demoted = app.call(Method::PATCH, &format!("/api/v1/admin/users/{}", organizer.id), Some(json!({"role": "user"})), Some(&admin)).await;
        assert_eq!(demoted.status, StatusCode::OK, "{}", demoted.body);
        server::jobs::worker::drain(&app.state.jobs, &app.state.job_handlers, server::db::now()).await.unwrap();
        let shown = gql(&app, Some(&auth), SHOW, json!({"u": uuid})).await;
        let event = &shown["data"]["event"];
        assert_eq!(event["status"], "FAILED", "{shown}");
        assert!(!event["failureReason"].as_str().unwrap_or_default().is_empty(), "{shown}");
        // An admin sees it too; it never became an event.
        assert_eq!(gql(&app, Some(&admin), SHOW, json!({"u": uuid})).await["data"]["event"]["status"], "FAILED");
        let (count,): (i64,) = app.state.db.fetch_one(server::sql::Sql::new("SELECT COUNT(*) FROM events WHERE uuid = $1").arg(uuid.as_str())).await.unwrap();
        assert_eq!(count, 0);
    }

    async fn my_registrations_pages_through_ones_own_bookings_newest_first(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (organizer, _) = app.bearer(Role::Agent).await;
        let (_, mine) = app.bearer(Role::User).await;
        let (_, theirs) = app.bearer(Role::User).await;
        let mut booked = Vec::new();
        for i in 0..5 {
            let uuid = make(&app, &organizer, &format!("night {i}"), i, true).await;
            let entry = app.state.services.event_queries.get_event_entry(None, &uuid).await.unwrap();
            let tt = app.state.services.event_queries.list_ticket_types(&[entry.item.id]).await.unwrap()[0].1.id.to_string();
            let (status, body) = app.book(&mine, &entry.item.id.to_string(), &tt, 1).await;
            assert!(status.is_success(), "{body}");
            booked.push(body["registration"]["id"].as_str().unwrap().to_owned());
            if i == 0 {
                app.book(&theirs, &entry.item.id.to_string(), &tt, 1).await;
            }
        }
        let page = "query($first: Int, $after: String, $last: Int, $before: String) { myRegistrations(first: $first, after: $after, last: $last, before: $before) {
            totalCount pageInfo { hasNextPage hasPreviousPage endCursor startCursor }
            edges { cursor node { registration { id status quantity } event { uuid title } } } } }";
        let ids = |answer: &Value| -> Vec<String> {
            assert!(answer["errors"].is_null(), "{answer}");
            answer["data"]["myRegistrations"]["edges"].as_array().unwrap().iter()
                .map(|e| e["node"]["registration"]["id"].as_str().unwrap().to_owned()).collect()
        };
        let first = gql(&app, Some(&mine), page, json!({"first": 2})).await;
        assert_eq!(first["data"]["myRegistrations"]["totalCount"], 5);
        assert_eq!(first["data"]["myRegistrations"]["pageInfo"]["hasNextPage"], true);
        let mut seen = ids(&first);
        let mut after = first["data"]["myRegistrations"]["pageInfo"]["endCursor"].as_str().unwrap().to_owned();
        loop {
            let next = gql(&app, Some(&mine), page, json!({"first": 2, "after": after})).await;
            seen.extend(ids(&next));
            let info = &next["data"]["myRegistrations"]["pageInfo"];
            if info["hasNextPage"] == json!(false) {
                break;
            }
            after = info["endCursor"].as_str().unwrap().to_owned();
        }
        let newest_first: Vec<String> = booked.iter().rev().cloned().collect();
        assert_eq!(seen, newest_first, "each once, newest first, only one's own");
        let last = gql(&app, Some(&mine), page, json!({"last": 2})).await;
        assert_eq!(ids(&last), newest_first[3..].to_vec());
        assert_eq!(code(&gql(&app, None, page, json!({})).await), Some("UNAUTHENTICATED"));
        assert_eq!(code(&gql(&app, Some(&mine), page, json!({"first": 101})).await), Some("INVALID"));
        assert_eq!(code(&gql(&app, Some(&mine), page, json!({"after": "not-ours"})).await), Some("INVALID"));
    }
}

on_both_engines! {
    async fn webhook_payloads_name_the_event_by_its_uuid(engine: Engine) {
        let app = TestApp::with_config(engine, |c| {
            c.webhooks.allow_private = true;
            c.workers = 0;
        })
        .await;
        let (organizer, auth) = app.bearer(Role::Agent).await;
        let body = json!({"url": "http://127.0.0.1:9/hook", "events": ["event.published"]});
        let reply = app.call(Method::POST, "/api/v1/webhooks", Some(body), Some(&auth)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let uuid = make(&app, &organizer, "hooked", 1, true).await;
        // The fan-out (and a first, failing attempt at the delivery) run here.
        server::jobs::worker::drain(&app.state.jobs, &app.state.job_handlers, server::db::now())
            .await
            .expect("jobs ran");
        let bodies: Vec<(String,)> = app
            .state
            .db
            .fetch_all(server::sql::Sql::new("SELECT body FROM webhook_deliveries"))
            .await
            .expect("deliveries");
        assert_eq!(bodies.len(), 1);
        let payload: Value = serde_json::from_str(&bodies[0].0).expect("JSON");
        assert_eq!(payload["type"], json!("event.published"));
        assert_eq!(payload["data"]["event_uuid"], json!(uuid), "{payload}");
        assert!(payload["data"]["event_id"].is_number(), "{payload}");
    }
}

/// A graphql-ws client: one socket to `/graphql`, acknowledged.
struct Subscriber {
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl Subscriber {
    async fn connect(address: &str) -> Self {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = format!("ws://{address}/graphql")
            .into_client_request()
            .expect("a request");
        request.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().expect("a header"),
        );
        let (socket, answer) = tokio_tungstenite::connect_async(request)
            .await
            .expect("the socket opens");
        assert_eq!(
            answer.headers()["sec-websocket-protocol"],
            "graphql-transport-ws"
        );
        let mut subscriber = Subscriber { socket };
        subscriber.send(json!({"type": "connection_init"})).await;
        assert_eq!(subscriber.next().await["type"], "connection_ack");
        subscriber
    }

    async fn send(&mut self, message: Value) {
        use futures_util::SinkExt;
        let text = tokio_tungstenite::tungstenite::Message::text(message.to_string());
        self.socket.send(text).await.expect("sent");
    }

    /// The next message (pings answered on the way), or a panic after ten seconds.
    async fn next(&mut self) -> Value {
        use futures_util::StreamExt;
        loop {
            let message =
                tokio::time::timeout(std::time::Duration::from_secs(10), self.socket.next())
                    .await
                    .expect("a message in time")
                    .expect("the socket is open")
                    .expect("a frame");
            if let tokio_tungstenite::tungstenite::Message::Text(text) = message {
                let value: Value = serde_json::from_str(&text).expect("JSON");
                if value["type"] == "ping" {
                    self.send(json!({"type": "pong"})).await;
                    continue;
                }
                return value;
            }
        }
    }

    /// Subscribes `id` to the seats of `uuid`.
    async fn seats(&mut self, id: &str, uuid: &str) {
        let query = "subscription($uuid: UUID!) { seats(eventUuid: $uuid) { eventUuid remaining confirmed waitlisted ticketTypes { id remaining } } }";
        self.send(json!({"id": id, "type": "subscribe", "payload": {"query": query, "variables": {"uuid": uuid}}})).await;
    }
}

on_both_engines! {
    async fn a_seats_subscription_hears_each_booking_over_graphql_ws(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (organizer, _) = app.bearer(Role::Agent).await;
        let (_, auth) = app.bearer(Role::User).await;
        let uuid = make(&app, &organizer, "live", 1, true).await;
        let draft = make(&app, &organizer, "hidden", 2, false).await;
        let address = app.serve().await;
        let mut subscriber = Subscriber::connect(&address).await;

        subscriber.seats("1", &uuid).await;
        let now = subscriber.next().await;
        assert_eq!(now["type"], "next", "{now}");
        assert_eq!(now["id"], "1");
        let seats = &now["payload"]["data"]["seats"];
        assert_eq!((seats["eventUuid"].as_str(), &seats["remaining"], &seats["confirmed"]), (Some(uuid.as_str()), &json!(50), &json!(0)));
        let ticket_type = seats["ticketTypes"][0]["id"].as_str().expect("a ticket type").to_owned();

        // Someone books through another door: the subscriber hears it.
        let booked = gql(&app, Some(&auth), "mutation($uuid: UUID!, $tt: ID!) { register(eventUuid: $uuid, ticketTypeId: $tt, quantity: 3) { registration { status } } }", json!({"uuid": uuid, "tt": ticket_type})).await;
        assert_eq!(booked["data"]["register"]["registration"]["status"], "CONFIRMED", "{booked}");
        let after = subscriber.next().await;
        let seats = &after["payload"]["data"]["seats"];
        assert_eq!((&seats["remaining"], &seats["confirmed"], &seats["ticketTypes"][0]["remaining"]), (&json!(47), &json!(3), &json!(47)), "{after}");

        // A draft has no live seats for anyone; an unknown event neither.
        for (id, missing) in [("2", draft.as_str()), ("3", "00000000-0000-4000-8000-000000000000")] {
            subscriber.seats(id, missing).await;
            let refused = subscriber.next().await;
            assert_eq!((&refused["id"], &refused["type"]), (&json!(id), &json!("next")), "{refused}");
            assert_eq!(refused["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND", "{refused}");
            let done = subscriber.next().await;
            assert_eq!((&done["id"], &done["type"]), (&json!(id), &json!("complete")), "{done}");
        }

        // Completing the subscription frees its place in the address's share.
        assert_eq!(app.state.seat_changes.open_streams(), 1);
        subscriber.send(json!({"id": "1", "type": "complete"})).await;
        for _ in 0..100 {
            if app.state.seat_changes.open_streams() == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(app.state.seat_changes.open_streams(), 0);
    }
}

#[tokio::test]
async fn a_websocket_without_a_graphql_protocol_is_refused_with_a_reason() {
    let app = TestApp::new(Engine::Sqlite).await;
    let reply = app
        .get(
            "/graphql",
            &[
                ("connection", "upgrade"),
                ("upgrade", "websocket"),
                ("sec-websocket-version", "13"),
                ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.body.contains("graphql-transport-ws"),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn graphiql_is_served_from_our_own_files_under_the_page_policy() {
    let app = TestApp::new(Engine::Sqlite).await;
    let reply = app.get("/graphql", &[]).await;
    assert_eq!(reply.status, StatusCode::OK);
    let policy = reply
        .headers
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .expect("a policy")
        .to_owned();
    assert!(policy.contains("script-src 'self' 'nonce-"), "{policy}");
    assert!(!reply.body.contains("<script>"), "no inline script");
    assert!(!reply.body.contains("style="), "no inline style");
    let public = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../public");
    let mut assets = 0;
    for part in reply.body.split(['"', '\'']) {
        if let Some(file) = part.strip_prefix("/graphiql/") {
            assert!(
                public.join("graphiql").join(file).is_file(),
                "{file} is vendored"
            );
            assets += 1;
        }
        assert!(
            !part.starts_with("http"),
            "nothing from another site: {part}"
        );
    }
    assert_eq!(assets, 6, "{}", reply.body);
    // Fonts too are files of ours: the policy allows no data: fonts.
    let css = std::fs::read_to_string(public.join("graphiql/graphiql.min.css")).expect("the sheet");
    assert!(!css.contains("data:font"));
    for font in css.split("url(fonts/").skip(1) {
        let name = font.split(')').next().unwrap_or_default();
        assert!(public.join("graphiql/fonts").join(name).is_file(), "{name}");
    }
}
