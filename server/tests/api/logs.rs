//! The log lines a request leaves, as the server's JSON format writes them (captured in
//! memory through the same layer the file gets): whole JSON lines, the request's id on its
//! answer line and on every line inside it, the caller's id, and no password, token or email
//! address anywhere. nextest runs each test in its own process, so each installs the capture.
use crate::TestApp;
use crate::common::Engine;
use crate::on_both_engines;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

/// Every line logged in this process from the first call on, at `info` and above.
fn capture() -> Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE
        .get_or_init(|| {
            let capture = Capture::default();
            tracing_subscriber::registry()
                .with(tracing_subscriber::filter::LevelFilter::INFO)
                .with(server::logs::json_layer(capture.clone()))
                .init();
            capture
        })
        .clone()
}

fn lines(capture: &Capture) -> (String, Vec<Value>) {
    let text = String::from_utf8(capture.0.lock().unwrap().clone()).expect("UTF-8 logs");
    let parsed = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    (text, parsed)
}

fn request_id(reply: &crate::Reply) -> String {
    reply
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("every answer names its request")
        .to_owned()
}

fn in_request(line: &Value, id: &str) -> bool {
    line["spans"]
        .as_array()
        .is_some_and(|spans| spans.iter().any(|s| s["request_id"] == id))
}

on_both_engines! {
    async fn every_line_is_json_and_carries_the_request_id_and_no_secret(engine: Engine) {
        let logs = capture();
        let app = TestApp::new(engine).await;
        let email = "lena.logs@example.com";
        let password = "granite-lily-42";
        let registered = app.register(email, password, "Lena Logs").await;
        assert_eq!(registered.status, StatusCode::CREATED, "{}", registered.body);
        let token = app
            .post_json("/api/v1/auth/token", &json!({"email": email, "password": password}).to_string(), &[])
            .await;
        assert_eq!(token.status, StatusCode::OK, "{}", token.body);
        let bearer = token.json()["access_token"].as_str().expect("a token").to_owned();
        let auth = format!("Bearer {bearer}");
        let me = app.call(Method::GET, "/api/v1/me", None, Some(&auth)).await.json();

        // An id sent by a client that is no trusted proxy is replaced.
        let mut req = axum::http::Request::builder()
            .method(Method::PUT)
            .uri("/api/v1/me/password")
            .header("authorization", &auth)
            .header("content-type", "application/json")
            .header("x-request-id", "chosen-by-the-client");
        req = req.header("accept", "application/json");
        let new_password = "basalt-fern-77";
        let body = json!({"current_password": password, "new_password": new_password}).to_string();
        let changed = app.send(req.body(axum::body::Body::from(body)).unwrap()).await;
        assert!(changed.status.is_success(), "{}", changed.body);
        let id = request_id(&changed);
        assert_ne!(id, "chosen-by-the-client");
        assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
        let asked = app.post_json("/api/v1/auth/password-reset", &json!({"email": email}).to_string(), &[]).await;
        assert!(asked.status.is_success(), "{}", asked.body);

        let (text, lines) = lines(&logs);
        let answered = lines
            .iter()
            .find(|l| l["message"] == "answered" && l["request_id"] == id.as_str())
            .unwrap_or_else(|| panic!("the answer's line: {text}"));
        assert_eq!(answered["method"], "PUT");
        assert_eq!(answered["route"], "/api/v1/me/password");
        assert_eq!(answered["status"], changed.status.as_u16());
        assert!(answered["latency_ms"].as_f64().is_some(), "{answered}");
        let user = answered["user"].as_i64().map(|u| u.to_string());
        assert_eq!(user.as_deref(), me["user"]["id"].as_str(), "{answered}");
        assert!(
            lines.iter().any(|l| l["message"] == "password changed" && in_request(l, &id)),
            "a line inside the request names it: {text}"
        );
        for secret in [password, new_password, bearer.as_str(), email, "lena.logs"] {
            assert!(!text.contains(secret), "{secret:?} logged: {text}");
        }
    }

    async fn an_id_from_a_trusted_proxy_is_kept(engine: Engine) {
        let app = TestApp::with_config(engine, |c| {
            c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        })
        .await;
        let kept = app.get("/api/v1/events", &[("x-request-id", "edge-4f2a9c")]).await;
        assert_eq!(kept.status, StatusCode::OK);
        assert_eq!(request_id(&kept), "edge-4f2a9c");
        // Not an id a log could carry safely: a fresh one instead.
        let odd = app.get("/api/v1/events", &[("x-request-id", "a b\"c")]).await;
        assert_ne!(request_id(&odd), "a b\"c");
    }
}

/// Each model that fails leaves `model X failed: reason`, and the fallback `all AI models
/// failed`, without the question's text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_models_and_the_fallback_are_logged() {
    let logs = capture();
    // A port nothing listens on: every call is refused at once.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let app = TestApp::with_config(Engine::Sqlite, move |config| {
        let models = vec!["first-model".into(), "second-model".into()];
        config.ai = Some(server::config::Ai {
            timeout: std::time::Duration::from_secs(1),
            deadline: Some(std::time::Duration::from_secs(5)),
            ..server::config::Ai::new(
                server::config::AiProvider::Ollama,
                &format!("http://{dead}"),
                models,
            )
        });
    })
    .await;
    let (_, user) = app.bearer(app::auth::Role::User).await;
    let question = "quiet jazz for my grandmother";
    let reply = app
        .call(
            Method::POST,
            "/api/v1/assistant/chat",
            Some(json!({ "message": question })),
            Some(&user),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["fallback"], json!(true));
    let (text, lines) = lines(&logs);
    for model in ["first-model", "second-model"] {
        let failed = format!("model {model} failed: ");
        assert!(
            lines.iter().any(|l| l["message"]
                .as_str()
                .is_some_and(|m| m.starts_with(&failed))
                && l["model"] == model),
            "{failed}…\n{text}"
        );
    }
    assert!(
        lines.iter().any(|l| l["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("all AI models failed"))),
        "{text}"
    );
    assert!(
        !text.contains(question),
        "the question is the user's: {text}"
    );
}
