//! HTTP tests through the real router: REST, server functions, pages, on both engines.
mod access;
mod accounts;
mod admin;
mod assistant;
mod auth;
mod backup;
mod booking_limits;
mod bookings;
#[path = "../common/mod.rs"]
mod common;
mod door;
#[path = "../eval/mod.rs"]
mod eval;
mod events;
mod graphql;
mod images;
mod logs;
mod mail;
mod ops;
mod pages;
mod reports;
mod sign_in_limits;
mod two_factor;
mod webhooks;

use app::ui::urlencode;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use common::Engine;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

pub struct TestApp {
    pub state: server::AppState,
    router: Router,
    _db: Option<common::TestDb>,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The value of the `name` cookie this reply sets, if any.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| {
                v.split(';')
                    .next()?
                    .trim()
                    .strip_prefix(name)?
                    .strip_prefix('=')
                    .map(str::to_owned)
            })
    }
}

impl TestApp {
    pub async fn new(engine: Engine) -> Self {
        Self::with_config(engine, |_| {}).await
    }

    /// A test app whose configuration `change` adjusts first (e.g. an image service).
    pub async fn with_config(
        engine: Engine,
        change: impl FnOnce(&mut server::config::Config),
    ) -> Self {
        let mut db = common::fresh_db(engine).await;
        change(&mut db.config);
        let state = server::AppState::new(db.config.clone())
            .await
            .expect("state");
        TestApp {
            router: server::router(state.clone()),
            state,
            _db: Some(db),
        }
    }

    /// Another server process on the same database: its own pools and booking writer.
    pub async fn second_process(&self) -> Self {
        let state = server::AppState::new((*self.state.config).clone())
            .await
            .expect("second state");
        TestApp {
            router: server::router(state.clone()),
            state,
            _db: None,
        }
    }

    pub async fn send(&self, req: Request<Body>) -> Reply {
        let res = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("router answers");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut req = Request::get(path);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req.body(Body::empty()).unwrap()).await
    }

    pub async fn post_json(&self, path: &str, body: &str, headers: &[(&str, &str)]) -> Reply {
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req.body(Body::from(body.to_owned())).unwrap())
            .await
    }

    /// Calls a server function the way the WASM client does (urlencoded in, JSON out).
    pub async fn server_fn(
        &self,
        path: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> Reply {
        let body: String = form
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json");
        if let Some(c) = cookie {
            req = req.header(
                header::COOKIE,
                format!("{}={c}", server::sessions::SESSION_COOKIE),
            );
        }
        self.send(req.body(Body::from(body)).unwrap()).await
    }

    pub async fn register(&self, email: &str, password: &str, name: &str) -> Reply {
        let body = serde_json::json!({"email": email, "password": password, "display_name": name})
            .to_string();
        self.post_json("/api/v1/auth/register", &body, &[]).await
    }

    /// A new account with `role` and a bearer token for it.
    pub async fn bearer(&self, role: app::auth::Role) -> (app::auth::UserView, String) {
        let email = format!("{}-{}@example.com", role.code(), server::random_hex(4));
        let new = app::auth::NewUser {
            email: email.clone(),
            display_name: format!("Test {}", role.code()),
            password: "granite-lily-42".into(),
        };
        let user = self
            .state
            .accounts
            .create(new, role, Default::default())
            .await
            .expect("create user");
        let token = self.state.tokens.issue(&user, 0).expect("token");
        (user, format!("Bearer {token}"))
    }

    /// Sends `method path` with a JSON body (or none) as the holder of `auth`.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        auth: Option<&str>,
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(a) = auth {
            req = req.header(header::AUTHORIZATION, a);
        }
        let body = match body {
            Some(json) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        self.send(req.body(body).unwrap()).await
    }

    /// Sends raw bytes with `content_type` as the holder of `auth`.
    pub async fn send_bytes(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        bytes: Vec<u8>,
        auth: Option<&str>,
    ) -> Reply {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, content_type);
        if let Some(a) = auth {
            req = req.header(header::AUTHORIZATION, a);
        }
        self.send(req.body(Body::from(bytes)).unwrap()).await
    }

    /// A new account with `role`, a bearer token and a signed-in session cookie for it.
    pub async fn signed_in(&self, role: app::auth::Role) -> (app::auth::UserView, String, String) {
        use leptos::server_fn::ServerFn;
        let (user, bearer) = self.bearer(role).await;
        let reply = self
            .server_fn(
                app::auth::commands::SignIn::PATH,
                &[("email", &user.email), ("password", "granite-lily-42")],
                None,
            )
            .await;
        let cookie = reply
            .cookie(server::sessions::SESSION_COOKIE)
            .expect("session cookie");
        (user, bearer, cookie)
    }

    /// A published event with one ticket type, made as the holder of `auth` through the API;
    /// returns (event id, ticket type id).
    pub async fn published_event(
        &self,
        auth: &str,
        title: &str,
        capacity: i64,
        quantity: i64,
        max: i64,
        price: i64,
    ) -> (String, String) {
        let start = chrono::Utc::now() + chrono::Duration::days(5);
        let body = serde_json::json!({
            "title": title, "summary": "s", "description": "d", "category": "music", "tags": [],
            "starts_at": start, "ends_at": start + chrono::Duration::hours(2), "timezone": "Asia/Jerusalem",
            "venue": "Barby", "address": "", "city": "Tel Aviv", "capacity": capacity,
            "ticket_types": [{"name": "General", "price": {"amount": price, "currency": "ILS"}, "quantity": quantity, "max_per_registration": max}]
        });
        let event = self.create_event(auth, body, true).await;
        (
            event["id"].as_str().unwrap().to_owned(),
            event["ticket_types"][0]["id"].as_str().unwrap().to_owned(),
        )
    }

    /// Creates an event from a JSON body as the holder of `auth` (and publishes it when asked);
    /// returns the created event as the API wrote it.
    pub async fn create_event(&self, auth: &str, body: Value, publish: bool) -> Value {
        let created = self
            .call(Method::POST, "/api/v1/events", Some(body), Some(auth))
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let event = created.json()["event"].clone();
        if publish {
            let id = event["id"].as_str().unwrap();
            let published = self
                .call(
                    Method::POST,
                    &format!("/api/v1/events/{id}/publish"),
                    None,
                    Some(auth),
                )
                .await;
            assert_eq!(published.status, StatusCode::OK, "{}", published.body);
        }
        event
    }

    /// Books `quantity` seats of a ticket type as the holder of `auth`: the status and the body.
    pub async fn book(
        &self,
        auth: &str,
        event: &str,
        tt: &str,
        quantity: i64,
    ) -> (StatusCode, Value) {
        let reply = self
            .call(
                Method::POST,
                &format!("/api/v1/events/{event}/registrations"),
                Some(serde_json::json!({"ticket_type_id": tt, "quantity": quantity})),
                Some(auth),
            )
            .await;
        let body = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
        (reply.status, body)
    }

    /// The response of `GET path` with its body still streaming (server-sent events).
    pub async fn open_stream(&self, path: &str) -> axum::response::Response {
        let req = Request::get(path).body(Body::empty()).unwrap();
        self.router.clone().oneshot(req).await.unwrap()
    }

    /// Serves the router on a loopback port for clients that need a socket (WebSockets);
    /// the server runs until the test ends. Returns `127.0.0.1:port`.
    pub async fn serve(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let address = listener.local_addr().expect("its address").to_string();
        let router = self.router.clone();
        tokio::spawn(async move { axum::serve(listener, router).await });
        address
    }

    pub async fn token(&self, email: &str, password: &str) -> Reply {
        let body = serde_json::json!({"email": email, "password": password}).to_string();
        self.post_json("/api/v1/auth/token", &body, &[]).await
    }
}
