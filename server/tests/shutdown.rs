//! SIGTERM during a booking load, against the real binary on both engines: the server stops
//! accepting, ends its live-seat streams, finishes what it answered, and exits within the grace;
//! after a restart on the same database every booking it confirmed is there.
#[path = "common/mod.rs"]
mod common;

use common::Engine;
use common::process::{self, Server, id_of, json};
use serde_json::{Value, json};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The grace the server is given; streams end at once, so it exits well before.
const GRACE_SECS: u64 = 8;
const USERS: usize = 12;
const PASSWORD: &str = "shutdown-test-password-1";

async fn start(db: &common::TestDb) -> Server {
    start_with(db, &[]).await
}

async fn start_with(db: &common::TestDb, settings: &[(&str, &str)]) -> Server {
    let grace = GRACE_SECS.to_string();
    let mut all = vec![("EVENTHUB_SHUTDOWN_GRACE_SECS", grace.as_str())];
    all.extend_from_slice(settings);
    process::start_with(db, &all).await
}

async fn token(http: &reqwest::Client, base: &str, email: &str) -> String {
    process::token(http, base, email, PASSWORD).await
}

/// Bookings answered `201`, as (registration id, the holder's token).
type Answered = Arc<Mutex<Vec<(String, String)>>>;

async fn sigterm_during_a_booking_load(engine: Engine) {
    let db = common::fresh_db(engine).await;
    process::create_user(
        &db,
        "stop-agent@example.com",
        "Stop Agent",
        "agent",
        PASSWORD,
    );

    let mut server = start(&db).await;
    let base = server.base.clone();
    let http = reqwest::Client::new();
    let agent = token(&http, &base, "stop-agent@example.com").await;
    let (event, ticket_type) =
        process::published_event(&http, &base, &agent, "Shutdown night", 100_000).await;
    let mut users = Vec::new();
    for i in 0..USERS {
        let email = format!("stop{i}@example.com");
        process::register(&http, &base, &email, PASSWORD).await;
        users.push(token(&http, &base, &email).await);
    }

    // Pages following the seats: the server must end these streams itself to stop in time.
    let mut streams = Vec::new();
    for _ in 0..3 {
        let mut stream = http
            .get(format!("{base}/events/{event}/seats"))
            .send()
            .await
            .expect("a seat stream");
        assert_eq!(stream.status(), 200);
        let first = stream.chunk().await.expect("the first numbers");
        assert!(first.is_some_and(|c| String::from_utf8_lossy(&c).contains("seats")));
        streams.push(stream);
    }

    let answered: Answered = Arc::default();
    let load: Vec<_> = users
        .iter()
        .map(|auth| {
            let (http, base, event, ticket_type, auth, answered) = (
                http.clone(),
                base.clone(),
                event.clone(),
                ticket_type.clone(),
                auth.clone(),
                answered.clone(),
            );
            tokio::spawn(async move {
                loop {
                    let reply = http
                        .post(format!("{base}/api/v1/events/{event}/registrations"))
                        .header("authorization", &auth)
                        .json(&json!({"ticket_type_id": ticket_type, "quantity": 1}))
                        .send()
                        .await;
                    // Refused connections: the server stopped accepting.
                    let Ok(reply) = reply else { return };
                    let status = reply.status();
                    let Ok(body) = reply.json::<Value>().await else {
                        return;
                    };
                    match status.as_u16() {
                        201 => {
                            let id = id_of(&body["registration"]["id"]);
                            answered.lock().unwrap().push((id, auth.clone()));
                        }
                        // Answered while stopping (a time limit or the like): not confirmed,
                        // so nothing to find later. Anything else is a failure.
                        503 => {}
                        other => panic!("a booking answered {other}: {body}"),
                    }
                }
            })
        })
        .collect();
    while answered.lock().unwrap().len() < 60 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let signalled = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = loop {
        if let Some(status) = server.child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(GRACE_SECS + 5),
            "the server did not exit within its grace of {GRACE_SECS} s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let took = signalled.elapsed();
    assert!(status.success(), "the server exited with {status}");
    assert!(
        took < Duration::from_secs(GRACE_SECS),
        "open streams held the stop for {took:?}: they must end when it begins"
    );
    for worker in load {
        worker.await.expect("a load task");
    }
    for mut stream in streams {
        // Ended by the server: the rest of the stream reads to its end (no error, no hang).
        let rest = tokio::time::timeout(Duration::from_secs(2), async {
            while let Some(_chunk) = stream.chunk().await? {}
            Ok::<_, reqwest::Error>(())
        })
        .await;
        assert!(
            matches!(rest, Ok(Ok(()))),
            "a seat stream did not end: {rest:?}"
        );
    }

    let answered = answered.lock().unwrap().clone();
    let server = start(&db).await;
    for (id, auth) in &answered {
        let reply = http
            .get(format!("{}/api/v1/registrations/{id}", server.base))
            .header("authorization", auth)
            .send()
            .await
            .expect("a registration");
        assert_eq!(
            reply.status(),
            200,
            "registration {id} was answered but is gone"
        );
        let body: Value = reply.json().await.expect("JSON");
        assert_eq!(body["registration"]["status"], "confirmed", "{body}");
    }
    let detail = json(
        http.get(format!("{}/api/v1/events/{event}", server.base))
            .send()
            .await
            .expect("the event"),
    )
    .await;
    let seats = detail["event"]["confirmed_seats"].as_i64().expect("seats");
    assert!(
        seats >= answered.len() as i64,
        "{seats} seats confirmed, {} bookings answered",
        answered.len()
    );
    println!(
        "{engine:?}: {} bookings answered before SIGTERM; exited {took:?} after it",
        answered.len()
    );
}

/// A client that sends half a request head and stops is cut off after the header time limit;
/// others are served meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_trickling_its_headers_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let db = common::fresh_db(Engine::Sqlite).await;
    let server = start_with(&db, &[("EVENTHUB_HEADER_TIMEOUT_SECS", "1")]).await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut slow = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .await
        .expect("half a head");
    let healthy = reqwest::get(format!("{}/healthz", server.base))
        .await
        .expect("healthz");
    assert_eq!(healthy.status(), 200);
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut rest)).await;
    assert!(
        closed.is_ok(),
        "the connection stayed open past the header time limit"
    );
    let answer = String::from_utf8_lossy(&rest);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_booking_load_sqlite() {
    sigterm_during_a_booking_load(Engine::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_booking_load_postgres() {
    sigterm_during_a_booking_load(Engine::Postgres).await
}
