//! The real binary as a child process: started on a free loopback port over a test database,
//! waited for until ready, killed when dropped; and the few REST calls the process tests share.
use super::TestDb;
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `eventhub` over the test database, with the test's secret and the limits a test does not
/// measure turned off.
pub fn eventhub(db: &TestDb) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_eventhub"));
    command
        .env("EVENTHUB_DATA_DIR", &db.config.data_dir)
        .env("EVENTHUB_DATABASE_URL", &db.config.database_url)
        .env("EVENTHUB_SECRET_KEY", &db.config.secret_key.0)
        .env("EVENTHUB_SITE_ROOT", &db.config.site_root)
        .env("EVENTHUB_SIGNUP_RATE", "off")
        .env("EVENTHUB_BOOKING_RATE", "off")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    command
}

/// `eventhub serve` with these settings on a free port, once `/readyz` answers.
pub async fn start_with(db: &TestDb, settings: &[(&str, &str)]) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let server = Server {
        child: eventhub(db)
            .arg("serve")
            .env("EVENTHUB_ADDR", format!("127.0.0.1:{port}"))
            .envs(settings.iter().copied())
            .spawn()
            .expect("start the server"),
        base: format!("http://127.0.0.1:{port}"),
    };
    let http = reqwest::Client::new();
    for _ in 0..300 {
        if http
            .get(format!("{}/readyz", server.base))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not become ready");
}

/// `eventhub create-user` with the password on standard input.
pub fn create_user(db: &TestDb, email: &str, name: &str, role: &str, password: &str) {
    let mut create = eventhub(db)
        .args(["create-user", "--email", email, "--name", name])
        .args(["--role", role, "--password-file", "-"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("create-user");
    {
        use std::io::Write;
        let mut stdin = create.stdin.take().expect("stdin");
        writeln!(stdin, "{password}").expect("password");
    }
    assert!(create.wait().expect("create-user").success());
}

/// The body of a successful answer as JSON (a failure shows its status and body).
pub async fn json(reply: reqwest::Response) -> Value {
    let status = reply.status();
    let body = reply.text().await.expect("a body");
    assert!(status.is_success(), "{status}: {body}");
    serde_json::from_str(&body).expect("JSON")
}

/// An `Authorization` header value for this account.
pub async fn token(http: &reqwest::Client, base: &str, email: &str, password: &str) -> String {
    let body = json(
        http.post(format!("{base}/api/v1/auth/token"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .expect("token"),
    )
    .await;
    format!("Bearer {}", body["access_token"].as_str().expect("a token"))
}

/// Registers a member through the API.
pub async fn register(http: &reqwest::Client, base: &str, email: &str, password: &str) {
    json(
        http.post(format!("{base}/api/v1/auth/register"))
            .json(&json!({"email": email, "password": password, "display_name": email}))
            .send()
            .await
            .expect("register"),
    )
    .await;
}

/// An id as the API writes it (a string or a number).
pub fn id_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => panic!("not an id: {other}"),
    }
}

/// Creates and publishes a free event of `seats` seats, 20 days ahead, as the agent;
/// returns (event id, ticket type id).
pub async fn published_event(
    http: &reqwest::Client,
    base: &str,
    agent: &str,
    title: &str,
    seats: u32,
) -> (String, String) {
    let starts = chrono::Utc::now() + chrono::Duration::days(20);
    let created = json(
        http.post(format!("{base}/api/v1/events"))
            .header("authorization", agent)
            .json(&json!({
                "title": title, "summary": "s", "description": "d", "category": "music",
                "tags": [], "starts_at": starts, "ends_at": starts + chrono::Duration::hours(2),
                "timezone": "UTC", "venue": "Hall", "address": "", "city": "Haifa", "capacity": seats,
                "ticket_types": [{"name": "General", "price": {"amount": 0, "currency": "ILS"},
                                  "quantity": seats, "max_per_registration": 2}]
            }))
            .send()
            .await
            .expect("create"),
    )
    .await;
    let event = id_of(&created["event"]["id"]);
    let ticket_type = id_of(&created["event"]["ticket_types"][0]["id"]);
    json(
        http.post(format!("{base}/api/v1/events/{event}/publish"))
            .header("authorization", agent)
            .send()
            .await
            .expect("publish"),
    )
    .await;
    (event, ticket_type)
}
