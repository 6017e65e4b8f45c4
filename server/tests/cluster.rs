//! Two server processes on one PostgreSQL database, each on its own port, as two machines
//! behind a load balancer run: a session signed in at one is signed in at the other, and so is
//! an access token; failed sign-ins and bookings count together; a booking made through one is visible
//! through the other at once, and a page following the event's seats on one sees the change.
//! A process whose images would go to another folder than theirs is told so, and refused in
//! production.
#[path = "common/mod.rs"]
mod common;

use common::Engine;
use common::process::{self, Server, id_of, json};
use serde_json::{Value, json};
use std::process::Stdio;
use std::time::Duration;

const PASSWORD: &str = "cluster-test-password-1";

/// How long a seat change may take to reach the other process before the test gives up: far
/// more than it takes (the benchmark measures that), so a busy machine does not fail it.
const SEAT_CHANGE_BOUND: Duration = Duration::from_secs(15);

async fn pair(db: &common::TestDb) -> (Server, Server) {
    // Three failed sign-ins and two bookings a minute per account, counted by both together.
    let settings = [
        ("EVENTHUB_SIGNIN_RATE", "3/60"),
        ("EVENTHUB_BOOKING_RATE", "2/60"),
    ];
    let first = process::start_with(db, &settings).await;
    let second = process::start_with(db, &settings).await;
    (first, second)
}

/// The session cookie a sign-in through the page's form sets.
async fn sign_in_cookie(http: &reqwest::Client, base: &str, email: &str) -> String {
    use leptos::server_fn::ServerFn;
    let reply = http
        .post(format!("{base}{}", app::auth::commands::SignIn::PATH))
        .header("accept", "application/json")
        .form(&[("email", email), ("password", PASSWORD)])
        .send()
        .await
        .expect("sign in");
    assert!(reply.status().is_success(), "sign-in: {}", reply.status());
    let prefix = format!("{}=", server::sessions::SESSION_COOKIE);
    reply
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.split(';').next().filter(|pair| pair.starts_with(&prefix)))
        .expect("a session cookie")
        .to_owned()
}

/// Reads server-sent events until one `seats` event has `confirmed` at `want`.
async fn wait_for_confirmed(stream: &mut reqwest::Response, want: i64) -> Value {
    let mut buffer = String::new();
    loop {
        let chunk = stream
            .chunk()
            .await
            .expect("the seat stream")
            .expect("the seat stream ended");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            let Some(data) = event.lines().find_map(|l| l.strip_prefix("data:")) else {
                continue;
            };
            let seats: Value = serde_json::from_str(data.trim()).expect("seat numbers");
            if seats["confirmed"] == want {
                return seats;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_postgresql_share_what_they_serve() {
    let db = common::fresh_db(Engine::Postgres).await;
    process::create_user(
        &db,
        "cluster-agent@example.com",
        "Cluster Agent",
        "agent",
        PASSWORD,
    );
    let (a, b) = pair(&db).await;
    let http = reqwest::Client::new();

    // A token from one process is good at the other: the organizer creates at A, publishes at B.
    let agent = process::token(&http, &a.base, "cluster-agent@example.com", PASSWORD).await;
    let (event, ticket_type) =
        process::published_event(&http, &b.base, &agent, "Cluster night", 10).await;

    // A session signed in at A is the same person at B.
    process::register(&http, &b.base, "cluster-member@example.com", PASSWORD).await;
    let cookie = sign_in_cookie(&http, &a.base, "cluster-member@example.com").await;
    let page = http
        .get(format!("{}/me", b.base))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("/me at the other process");
    assert_eq!(page.status(), 200);
    let page = page.text().await.expect("the page");
    assert!(
        page.contains("cluster-member@example.com"),
        "the other process does not know the session"
    );

    // A page at A follows the seats; the booking is made through B.
    let mut stream = http
        .get(format!("{}/events/{event}/seats", a.base))
        .send()
        .await
        .expect("a seat stream at A");
    assert_eq!(stream.status(), 200);
    let opened = wait_for_confirmed(&mut stream, 0).await;
    assert_eq!(opened["remaining"], 10, "{opened}");
    let member = process::token(&http, &b.base, "cluster-member@example.com", PASSWORD).await;
    let booked = json(
        http.post(format!("{}/api/v1/events/{event}/registrations", b.base))
            .header("authorization", &member)
            .json(&json!({"ticket_type_id": ticket_type, "quantity": 2}))
            .send()
            .await
            .expect("book at B"),
    )
    .await;
    assert_eq!(booked["registration"]["status"], "confirmed", "{booked}");
    let registration = id_of(&booked["registration"]["id"]);

    // Visible through A at once: the registration and the event's numbers.
    let seen = json(
        http.get(format!("{}/api/v1/registrations/{registration}", a.base))
            .header("authorization", &member)
            .send()
            .await
            .expect("the registration at A"),
    )
    .await;
    assert_eq!(seen["registration"]["status"], "confirmed", "{seen}");
    let detail = json(
        http.get(format!("{}/api/v1/events/{event}", a.base))
            .send()
            .await
            .expect("the event at A"),
    )
    .await;
    assert_eq!(detail["event"]["confirmed_seats"], 2, "{detail}");
    let changed = tokio::time::timeout(SEAT_CHANGE_BOUND, wait_for_confirmed(&mut stream, 2))
        .await
        .expect("the seat change made through B never reached the page at A");
    assert_eq!(changed["remaining"], 8, "{changed}");

    // Bookings count together too: the second is taken at A, the third is held at B.
    let book = |base: String| {
        let (http, member, event, ticket_type) = (&http, &member, &event, &ticket_type);
        async move {
            http.post(format!("{base}/api/v1/events/{event}/registrations"))
                .header("authorization", member)
                .json(&json!({"ticket_type_id": ticket_type, "quantity": 1}))
                .send()
                .await
                .expect("a booking")
                .status()
        }
    };
    assert_eq!(book(a.base.clone()).await, 201);
    assert_eq!(
        book(b.base.clone()).await,
        429,
        "the booking at the other process was not counted"
    );

    // Failed sign-ins count together: two at A and one at B use the three; the next is held.
    for base in [&a.base, &a.base, &b.base] {
        let reply = http
            .post(format!("{base}/api/v1/auth/token"))
            .json(&json!({"email": "cluster-member@example.com", "password": "wrong-guess-1"}))
            .send()
            .await
            .expect("a guess");
        assert_eq!(reply.status(), 401);
    }
    let held = http
        .post(format!("{}/api/v1/auth/token", a.base))
        .json(&json!({"email": "cluster-member@example.com", "password": "wrong-guess-2"}))
        .send()
        .await
        .expect("a guess");
    assert_eq!(
        held.status(),
        429,
        "the guesses at the other process were not counted"
    );

    // Signing out at B ends the session at A too.
    use leptos::server_fn::ServerFn;
    let out = http
        .post(format!("{}{}", b.base, app::auth::commands::SignOut::PATH))
        .header("accept", "application/json")
        .header("cookie", &cookie)
        .send()
        .await
        .expect("sign out at B");
    assert!(out.status().is_success(), "sign-out: {}", out.status());
    let page = http
        .get(format!("{}/me", a.base))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("/me at A");
    let page = page.text().await.expect("the page");
    assert!(
        !page.contains("cluster-member@example.com"),
        "the session signed out at B still works at A"
    );

    // A third process with images in another folder: told so, and refused in production.
    let elsewhere = tempfile::tempdir().expect("another data dir");
    let production = [
        ("EVENTHUB_ENV", "production"),
        ("EVENTHUB_PUBLIC_URL", "https://events.example.com"),
        ("EVENTHUB_METRICS_TOKEN", "cluster-metrics-token"),
        ("EVENTHUB_WORKER_ADDR", "off"),
        ("EVENTHUB_ADDR", "127.0.0.1:0"),
    ];
    let refused = process::eventhub(&db)
        .arg("serve")
        .env("EVENTHUB_DATA_DIR", elsewhere.path())
        .envs(production)
        .stderr(Stdio::piped())
        .output()
        .expect("a production server with its own media folder");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "it started: {said}");
    assert!(said.contains("EVENTHUB_MEDIA_SHARED"), "{said}");
    let checked = process::eventhub(&db)
        .arg("check-config")
        .env("EVENTHUB_DATA_DIR", elsewhere.path())
        .stdout(Stdio::piped())
        .output()
        .expect("check-config");
    let said = String::from_utf8_lossy(&checked.stdout);
    assert!(said.contains("EVENTHUB_MEDIA_SHARED"), "{said}");
    // Beside them, in their folder: nothing to say.
    let beside = process::eventhub(&db)
        .arg("check-config")
        .stdout(Stdio::piped())
        .output()
        .expect("check-config");
    let said = String::from_utf8_lossy(&beside.stdout);
    assert!(said.contains("production checks"), "{said}");
    assert!(!said.contains("EVENTHUB_MEDIA_SHARED:"), "{said}");
}
