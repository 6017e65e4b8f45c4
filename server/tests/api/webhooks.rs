//! Webhooks end to end on both engines: a local receiver (axum on 127.0.0.1) records what
//! arrives; bookings fan out to deliveries, signed the Standard Webhooks way and checked by
//! the reference library (`standardwebhooks`, Python, installed by `scripts/setup --test`);
//! failures retried with growing delays, then failed, then the endpoint disabled and its owner
//! told; 410 disables at once; rotation sends both signatures; private targets refused; each
//! endpoint sees only its scope; a second fan-out writes nothing; the REST shapes.
use crate::TestApp;
use crate::common::Engine;
use crate::on_both_engines;
use app::auth::Role;
use axum::http::{HeaderMap, Method, StatusCode};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};
use server::jobs::worker::drain;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    headers: HeaderMap,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
}

/// A webhook receiver on 127.0.0.1 that answers `status` and records every request.
struct Receiver {
    addr: SocketAddr,
    status: Arc<AtomicU16>,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start(status: u16) -> Self {
        let status = Arc::new(AtomicU16::new(status));
        let got = Arc::new(Mutex::new(Vec::new()));
        let (answer, log) = (status.clone(), got.clone());
        let router = axum::Router::new().fallback(move |headers: HeaderMap, body: String| {
            let (answer, log) = (answer.clone(), log.clone());
            async move {
                log.lock().unwrap().push(Received { headers, body });
                StatusCode::from_u16(answer.load(Ordering::SeqCst)).unwrap()
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Receiver { addr, status, got }
    }

    fn url(&self) -> String {
        format!("http://{}/hooks/eventhub", self.addr)
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }
}

/// Checks `request` with the reference Standard Webhooks library (Python). Fails loudly when
/// the library is missing: the check must not be skipped.
fn verified_by_reference(secret: &str, request: &Received) -> bool {
    let python = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../target/schemathesis-venv/bin/python3"
    );
    assert!(
        std::path::Path::new(python).exists(),
        "{python} is missing: run scripts/setup --test (it installs the reference library \
         `standardwebhooks` the webhook tests verify signatures with)"
    );
    let headers = json!({
        "webhook-id": request.header("webhook-id"),
        "webhook-timestamp": request.header("webhook-timestamp"),
        "webhook-signature": request.header("webhook-signature"),
    });
    let script = "import sys, json\n\
        from standardwebhooks import Webhook, WebhookVerificationError\n\
        try:\n    Webhook(sys.argv[1]).verify(sys.stdin.read(), json.loads(sys.argv[2]))\n\
        except WebhookVerificationError as e:\n    print(e); sys.exit(3)\n";
    let mut child = std::process::Command::new(python)
        .args(["-c", script, secret, &headers.to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python runs");
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(request.body.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    match out.status.code() {
        Some(0) => true,
        Some(3) => false,
        _ => panic!(
            "the reference library failed to run (is standardwebhooks installed? run scripts/setup --test): {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

async fn app_allowing_private(
    engine: Engine,
    change: impl FnOnce(&mut server::webhooks::Settings),
) -> TestApp {
    TestApp::with_config(engine, |c| {
        c.webhooks.allow_private = true;
        change(&mut c.webhooks);
    })
    .await
}

/// Adds a webhook as the holder of `auth`: (id, secret).
async fn add_webhook(
    app: &TestApp,
    auth: &str,
    url: &str,
    events: &[&str],
    event_id: Option<&str>,
) -> (String, String) {
    let reply = app
        .call(
            Method::POST,
            "/api/v1/webhooks",
            Some(json!({"url": url, "events": events, "event_id": event_id})),
            Some(auth),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let webhook = &reply.json()["webhook"];
    (
        webhook["id"].as_str().unwrap().to_owned(),
        webhook["secret"].as_str().unwrap().to_owned(),
    )
}

async fn deliveries(app: &TestApp, auth: &str, webhook: &str) -> Vec<Value> {
    let reply = app
        .call(
            Method::GET,
            &format!("/api/v1/webhooks/{webhook}/deliveries"),
            None,
            Some(auth),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json()["items"].as_array().unwrap().clone()
}

async fn webhook(app: &TestApp, auth: &str, id: &str) -> Value {
    let reply = app
        .call(Method::GET, "/api/v1/webhooks", None, Some(auth))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == id)
        .cloned()
        .expect("the webhook is listed")
}

/// Runs every job due at `at` (or now, if later), those the run itself causes included (a
/// fan-out writes its deliveries' jobs due at the moment it runs).
async fn run_jobs(app: &TestApp, at: DateTime<Utc>) -> usize {
    let mut total = 0;
    loop {
        let ran = drain(
            &app.state.jobs,
            &app.state.job_handlers,
            at.max(server::db::now()),
        )
        .await
        .unwrap();
        if ran == 0 {
            return total;
        }
        total += ran;
    }
}

/// An agent with a published event, and a user who books one seat of it per call.
struct Stage {
    agent: app::auth::UserView,
    agent_auth: String,
    event: String,
    ticket_type: String,
    user_auth: String,
}

impl Stage {
    async fn new(app: &TestApp) -> Self {
        let (agent, agent_auth) = app.bearer(Role::Agent).await;
        let (event, ticket_type) = app
            .published_event(&agent_auth, "Hook night", 100, 100, 4, 0)
            .await;
        let (_, user_auth) = app.bearer(Role::User).await;
        Stage {
            agent,
            agent_auth,
            event,
            ticket_type,
            user_auth,
        }
    }

    async fn book(&self, app: &TestApp) -> Value {
        let (status, body) = app
            .book(&self.user_auth, &self.event, &self.ticket_type, 1)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }
}

async fn notices(app: &TestApp, user: i64) -> Vec<(String, String)> {
    server::on_db!(&app.state.db, pool => sqlx::query_as::<_, (String, String)>(
        "SELECT kind, detail FROM notices WHERE user_id = $1 ORDER BY id")
        .bind(user).fetch_all(pool).await)
    .unwrap()
}

/// The delivery job of the endpoint for the domain event `evt`.
async fn delivery_job(app: &TestApp, webhook: &str, evt: &str) -> server::jobs::Job {
    app.state
        .jobs
        .find(&format!("webhook:{webhook}:{evt}"))
        .await
        .unwrap()
        .expect("a delivery job")
}

on_both_engines! {
    async fn a_booking_is_delivered_to_the_webhook_signed_and_verified_by_the_reference_library(engine: Engine) {
        let app = app_allowing_private(engine, |_| {}).await;
        let receiver = Receiver::start(200).await;
        let stage = Stage::new(&app).await;
        let (id, secret) = add_webhook(&app, &stage.agent_auth, &receiver.url(), &["registration.confirmed"], None).await;
        assert!(secret.starts_with("whsec_"), "{secret}");
        let key = data_encoding::BASE64.decode(&secret.as_bytes()["whsec_".len()..]).unwrap();
        assert!(key.len() >= 24);

        let booking = stage.book(&app).await;
        assert!(receiver.received().is_empty(), "nothing is sent inside the booking");
        run_jobs(&app, server::db::now()).await;

        let got = receiver.received();
        assert_eq!(got.len(), 1, "{got:?}");
        let request = &got[0];
        assert_eq!(request.header("content-type"), "application/json");
        let body = request.json();
        assert_eq!(body["type"], "registration.confirmed");
        assert!(body["id"].as_str().unwrap().starts_with("evt_"), "{body}");
        assert_eq!(request.header("webhook-id"), body["id"].as_str().unwrap());
        assert_eq!(body["data"]["event_id"].to_string(), stage.event, "{body}");
        assert!(body["created_at"].is_string());
        let registration = booking["registration"]["id"].as_str().unwrap();
        assert!(request.body.contains(registration), "{}", request.body);
        let timestamp: i64 = request.header("webhook-timestamp").parse().unwrap();
        assert!((Utc::now().timestamp() - timestamp).abs() < 60);
        let signature = request.header("webhook-signature");
        assert!(signature.starts_with("v1,") && !signature.contains(' '), "{signature}");
        assert!(verified_by_reference(&secret, request), "the reference library accepts our signature");
        let mut tampered = request.clone();
        tampered.body = tampered.body.replace("registration.confirmed", "registration.cancelled");
        assert!(!verified_by_reference(&secret, &tampered), "and refuses a changed body");

        let log = deliveries(&app, &stage.agent_auth, &id).await;
        assert_eq!(log.len(), 1);
        assert_eq!(log[0]["status"], "delivered");
        assert_eq!(log[0]["type"], "registration.confirmed");
        assert_eq!(log[0]["attempts"], 1);
        assert_eq!(log[0]["response_code"], 200);
        assert!(log[0]["last_attempt_at"].is_string());
        assert!(log[0]["id"].is_string());

        // The job running again changes nothing; "send again" sends the same event once more.
        let job = delivery_job(&app, &id, body["id"].as_str().unwrap()).await;
        use server::jobs::Handler;
        let deliverer = server::webhooks::Deliverer::new(app.state.db.clone(), app.state.config.webhooks.clone());
        deliverer.run(&job).await.unwrap();
        assert_eq!(receiver.received().len(), 1);
        let delivery = log[0]["id"].as_str().unwrap();
        let retry = format!("/api/v1/webhooks/{id}/deliveries/{delivery}/retry");
        let again = app.call(Method::POST, &retry, None, Some(&stage.agent_auth)).await;
        assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.body);
        let pending = app.call(Method::POST, &retry, None, Some(&stage.agent_auth)).await;
        assert_eq!(pending.status, StatusCode::CONFLICT, "{}", pending.body);
        run_jobs(&app, server::db::now()).await;
        let got = receiver.received();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].header("webhook-id"), got[0].header("webhook-id"));
        assert_eq!(got[1].body, got[0].body);
        let log = deliveries(&app, &stage.agent_auth, &id).await;
        assert_eq!((log[0]["status"].as_str(), log[0]["attempts"].as_i64()), (Some("delivered"), Some(2)));
    }

    async fn a_failing_endpoint_is_retried_with_growing_delays_then_disabled_and_its_owner_told(engine: Engine) {
        let app = app_allowing_private(engine, |s| {
            s.max_attempts = 4;
            s.disable_after = 2;
        })
        .await;
        let receiver = Receiver::start(500).await;
        let stage = Stage::new(&app).await;
        let (id, _) = add_webhook(&app, &stage.agent_auth, &receiver.url(), &["registration.confirmed"], None).await;

        let mut at = server::db::now();
        for round in 1..=2 {
            stage.book(&app).await;
            at = at.max(server::db::now());
            run_jobs(&app, at).await;
            let evt = receiver.received().last().unwrap().header("webhook-id");
            let mut delays = Vec::new();
            for attempt in 1..4 {
                let job = delivery_job(&app, &id, &evt).await;
                assert_eq!(job.attempts, attempt);
                assert_eq!(job.state, server::jobs::JobState::Pending, "{job:?}");
                delays.push(job.run_at - at);
                // Not before its time…
                assert_eq!(run_jobs(&app, job.run_at - TimeDelta::seconds(1)).await, 0);
                at = job.run_at;
                run_jobs(&app, at).await;
            }
            assert!(delays.windows(2).all(|d| d[1] >= d[0]), "delays grow: {delays:?}");
            assert!(delays[0] > TimeDelta::zero());
            let job = delivery_job(&app, &id, &evt).await;
            assert_eq!((job.state, job.attempts), (server::jobs::JobState::Done, 4));
            let log = deliveries(&app, &stage.agent_auth, &id).await;
            assert_eq!(log[0]["status"], "failed");
            assert_eq!(log[0]["attempts"], 4);
            assert_eq!(log[0]["response_code"], 500);
            assert_eq!(receiver.received().len(), 4 * round);
            let endpoint = webhook(&app, &stage.agent_auth, &id).await;
            if round == 1 {
                assert_eq!(endpoint["active"], true, "{endpoint}");
                assert!(notices(&app, stage.agent.id.get()).await.is_empty());
            } else {
                assert_eq!(endpoint["active"], false, "{endpoint}");
                assert_eq!(endpoint["disabled_reason"], "failures");
            }
        }
        assert_eq!(
            notices(&app, stage.agent.id.get()).await,
            [("webhook_failures".to_owned(), receiver.url())]
        );
        // Disabled: a new booking is not delivered, nor can a delivery be sent again.
        stage.book(&app).await;
        at = at.max(server::db::now());
        run_jobs(&app, at).await;
        assert_eq!(receiver.received().len(), 8);
        let delivery = deliveries(&app, &stage.agent_auth, &id).await[0]["id"].as_str().unwrap().to_owned();
        let retry = format!("/api/v1/webhooks/{id}/deliveries/{delivery}/retry");
        assert_eq!(app.call(Method::POST, &retry, None, Some(&stage.agent_auth)).await.status, StatusCode::CONFLICT);
        // Re-enabled, it works again and its failure count starts over.
        receiver.answer(204);
        let enabled = app.call(Method::POST, &format!("/api/v1/webhooks/{id}/enable"), None, Some(&stage.agent_auth)).await;
        assert_eq!(enabled.status, StatusCode::OK, "{}", enabled.body);
        assert_eq!(enabled.json()["webhook"]["active"], true);
        assert_eq!(app.call(Method::POST, &retry, None, Some(&stage.agent_auth)).await.status, StatusCode::ACCEPTED);
        run_jobs(&app, at).await;
        let log = deliveries(&app, &stage.agent_auth, &id).await;
        assert_eq!((log[0]["status"].as_str(), log[0]["response_code"].as_i64()), (Some("delivered"), Some(204)));
    }

    async fn an_endpoint_answering_410_is_disabled_at_once(engine: Engine) {
        let app = app_allowing_private(engine, |_| {}).await;
        let receiver = Receiver::start(410).await;
        let stage = Stage::new(&app).await;
        let (id, _) = add_webhook(&app, &stage.agent_auth, &receiver.url(), &["registration.confirmed"], None).await;
        stage.book(&app).await;
        run_jobs(&app, server::db::now()).await;
        assert_eq!(receiver.received().len(), 1, "no retries after 410");
        let endpoint = webhook(&app, &stage.agent_auth, &id).await;
        assert_eq!((endpoint["active"].as_bool(), endpoint["disabled_reason"].as_str()), (Some(false), Some("gone")));
        let log = deliveries(&app, &stage.agent_auth, &id).await;
        assert_eq!((log[0]["status"].as_str(), log[0]["response_code"].as_i64()), (Some("failed"), Some(410)));
        assert_eq!(notices(&app, stage.agent.id.get()).await, [("webhook_gone".to_owned(), receiver.url())]);
    }

    async fn a_rotated_secret_signs_beside_the_new_one_and_both_verify(engine: Engine) {
        let app = app_allowing_private(engine, |_| {}).await;
        let receiver = Receiver::start(200).await;
        let stage = Stage::new(&app).await;
        let (id, old) = add_webhook(&app, &stage.agent_auth, &receiver.url(), &["registration.confirmed"], None).await;
        let rotated = app.call(Method::POST, &format!("/api/v1/webhooks/{id}/secret"), None, Some(&stage.agent_auth)).await;
        assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
        let new = rotated.json()["secret"].as_str().unwrap().to_owned();
        assert!(new.starts_with("whsec_") && new != old);
        stage.book(&app).await;
        run_jobs(&app, server::db::now()).await;
        let got = receiver.received();
        let signatures = got[0].header("webhook-signature");
        let parts: Vec<&str> = signatures.split(' ').collect();
        assert_eq!(parts.len(), 2, "{signatures}");
        assert!(parts.iter().all(|p| p.starts_with("v1,")));
        assert!(verified_by_reference(&new, &got[0]));
        assert!(verified_by_reference(&old, &got[0]));
        assert!(!verified_by_reference(&server::webhooks::new_secret(), &got[0]));
        let other_owner = app.bearer(Role::Agent).await.1;
        let foreign = app.call(Method::POST, &format!("/api/v1/webhooks/{id}/secret"), None, Some(&other_owner)).await;
        assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    }

    async fn private_targets_are_refused_unless_allowed(engine: Engine) {
        let app = TestApp::new(engine).await;
        assert!(!app.state.config.webhooks.allow_private);
        let (_, agent) = app.bearer(Role::Agent).await;
        for url in ["http://127.0.0.1:9/in", "http://localhost:9/in", "http://10.0.0.7/in", "http://[::1]/in",
                    "http://169.254.169.254/latest", "http://[::ffff:192.168.0.1]/", "http://100.64.1.1/"] {
            let reply = app
                .call(Method::POST, "/api/v1/webhooks", Some(json!({"url": url, "events": ["event.published"]})), Some(&agent))
                .await;
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {}", reply.body);
            let body = reply.json();
            assert_eq!(body["error"]["kind"], "invalid");
            assert!(body["error"]["fields"]["url"].is_string(), "{body}");
        }
        for (body, field) in [
            (json!({"url": "ftp://example.com/", "events": ["event.published"]}), "url"),
            (json!({"url": "https://example.com/", "events": []}), "events"),
        ] {
            let reply = app.call(Method::POST, "/api/v1/webhooks", Some(body), Some(&agent)).await;
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
            assert!(reply.json()["error"]["fields"][field].is_string(), "{}", reply.body);
        }
        let unknown = app
            .call(Method::POST, "/api/v1/webhooks", Some(json!({"url": "https://example.com/", "events": ["registration.booked"]})), Some(&agent))
            .await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", unknown.body);
    }

    async fn a_private_target_is_refused_at_delivery_too(engine: Engine) {
        let app = app_allowing_private(engine, |_| {}).await;
        let receiver = Receiver::start(200).await;
        let stage = Stage::new(&app).await;
        let (id, _) = add_webhook(&app, &stage.agent_auth, &receiver.url(), &["registration.confirmed"], None).await;
        stage.book(&app).await;
        // The same database served by a process that does not allow private targets.
        let mut settings = app.state.config.webhooks.clone();
        settings.allow_private = false;
        let handlers = server::jobs::Handlers::new()
            .with(server::webhooks::KIND, server::webhooks::Deliverer::new(app.state.db.clone(), settings))
            .with(
                server::outbox::KIND,
                server::outbox::Fanout::new(
                    app.state.db.clone(),
                    vec![server::webhooks::Webhooks::new(app.state.db.clone(), app.state.config.webhooks.clone()).subscriber()],
                ),
            );
        drain(&app.state.jobs, &handlers, server::db::now()).await.unwrap();
        drain(&app.state.jobs, &handlers, server::db::now()).await.unwrap();
        assert!(receiver.received().is_empty());
        let log = deliveries(&app, &stage.agent_auth, &id).await;
        assert_eq!(log[0]["status"], "failed");
    }

    async fn an_endpoint_sees_only_the_events_of_its_scope(engine: Engine) {
        let app = app_allowing_private(engine, |_| {}).await;
        let a = Stage::new(&app).await;
        let b = Stage::new(&app).await;
        let (_, admin) = app.bearer(Role::Admin).await;
        let (ra, rb, radmin, rone) = (Receiver::start(200).await, Receiver::start(200).await, Receiver::start(200).await, Receiver::start(200).await);
        let all = ["registration.confirmed", "registration.cancelled"];
        add_webhook(&app, &a.agent_auth, &ra.url(), &all, None).await;
        add_webhook(&app, &b.agent_auth, &rb.url(), &all, None).await;
        add_webhook(&app, &admin, &radmin.url(), &all, None).await;
        // One event of A's: its organizer may, another organizer may not, an admin may.
        add_webhook(&app, &a.agent_auth, &rone.url(), &["registration.confirmed"], Some(&a.event)).await;
        let foreign = app
            .call(Method::POST, "/api/v1/webhooks", Some(json!({"url": rb.url(), "events": all, "event_id": a.event})), Some(&b.agent_auth))
            .await;
        assert_eq!(foreign.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", foreign.body);
        assert!(foreign.json()["error"]["fields"]["event_id"].is_string());

        a.book(&app).await;
        run_jobs(&app, server::db::now()).await;
        assert_eq!(ra.received().len(), 1);
        assert_eq!(rone.received().len(), 1);
        assert_eq!(radmin.received().len(), 1, "the admin's endpoint covers the platform");
        assert!(rb.received().is_empty(), "B never gets A's events");

        // A second event of A's: the endpoint of A's first event stays quiet.
        let (event2, tt2) = app.published_event(&a.agent_auth, "Second", 10, 10, 2, 0).await;
        let (status, _) = app.book(&a.user_auth, &event2, &tt2, 1).await;
        assert_eq!(status, StatusCode::CREATED);
        b.book(&app).await;
        run_jobs(&app, server::db::now()).await;
        assert_eq!(ra.received().len(), 2);
        assert_eq!(rone.received().len(), 1);
        assert_eq!(rb.received().len(), 1);
        assert_eq!(radmin.received().len(), 3);
        assert!(rb.received()[0].body.contains(&format!("\"event_id\":{}", b.event)));
    }

    async fn a_fan_out_that_runs_twice_writes_one_delivery(engine: Engine) {
        use server::outbox::{DomainEvent, EventType, Subscriber};
        let app = app_allowing_private(engine, |_| {}).await;
        let receiver = Receiver::start(200).await;
        let stage = Stage::new(&app).await;
        // What publishing the event caused is fanned out before the endpoint exists.
        run_jobs(&app, server::db::now()).await;
        let (id, _) = add_webhook(&app, &stage.agent_auth, &receiver.url(), &["event.published"], None).await;
        let event = DomainEvent::new(
            EventType::EventPublished,
            stage.event.parse::<app::events::EventId>().unwrap(),
            json!({"title": "Hook night"}),
            server::db::now(),
        );
        let webhooks = server::webhooks::Webhooks::new(app.state.db.clone(), app.state.config.webhooks.clone());
        let subscriber = webhooks.subscriber();
        let mut written = 0;
        for _ in 0..2 {
            let now = server::db::now();
            let mut tx = app.state.db.begin_write().await.unwrap();
            let jobs = subscriber.jobs_for(&mut tx, &event, now).await.unwrap();
            assert_eq!(jobs.len(), 1);
            written += server::jobs::enqueue(&mut tx, &jobs, now).await.unwrap();
            tx.commit().await.unwrap();
        }
        assert_eq!(written, 1, "the second fan-out's job is a duplicate");
        assert_eq!(deliveries(&app, &stage.agent_auth, &id).await.len(), 1);
        run_jobs(&app, server::db::now()).await;
        assert_eq!(receiver.received().len(), 1);
        assert_eq!(receiver.received()[0].header("webhook-id"), event.id);
        // Not subscribed to this type: nothing.
        let other = DomainEvent::new(EventType::TicketCheckedIn, event.event_id, json!({}), server::db::now());
        let mut tx = app.state.db.begin_write().await.unwrap();
        assert!(subscriber.jobs_for(&mut tx, &other, server::db::now()).await.unwrap().is_empty());
        tx.commit().await.unwrap();
    }

    async fn the_webhook_api_answers_its_shapes_and_hides_anothers_endpoints(engine: Engine) {
        let app = app_allowing_private(engine, |_| {}).await;
        let receiver = Receiver::start(200).await;
        let (_, owner) = app.bearer(Role::Agent).await;
        let (_, other) = app.bearer(Role::Agent).await;
        let (_, admin) = app.bearer(Role::Admin).await;
        let (_, user) = app.bearer(Role::User).await;
        let created = app
            .call(Method::POST, "/api/v1/webhooks", Some(json!({"url": receiver.url(), "events": ["waitlist.promoted", "registration.confirmed"]})), Some(&owner))
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let webhook = created.json()["webhook"].clone();
        let mut keys: Vec<&str> = webhook.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["active", "event_id", "events", "id", "secret", "url"]);
        assert_eq!(webhook["events"], json!(["registration.confirmed", "waitlist.promoted"]));
        assert_eq!(webhook["event_id"], Value::Null);
        assert_eq!(webhook["active"], true);
        let id = webhook["id"].as_str().unwrap();

        let list = app.call(Method::GET, "/api/v1/webhooks", None, Some(&owner)).await;
        assert_eq!(list.status, StatusCode::OK);
        let items = list.json()["items"].clone();
        assert_eq!(items.as_array().unwrap().len(), 1);
        assert!(items[0].get("secret").is_none(), "no secrets in the list: {items}");
        assert!(!list.body.contains("whsec_"));
        for auth in [&other, &admin] {
            let theirs = app.call(Method::GET, "/api/v1/webhooks", None, Some(auth)).await;
            assert_eq!(theirs.json()["items"], json!([]));
            for (method, path) in [
                (Method::GET, format!("/api/v1/webhooks/{id}/deliveries")),
                (Method::DELETE, format!("/api/v1/webhooks/{id}")),
                (Method::POST, format!("/api/v1/webhooks/{id}/secret")),
                (Method::POST, format!("/api/v1/webhooks/{id}/enable")),
                (Method::POST, format!("/api/v1/webhooks/{id}/deliveries/1/retry")),
            ] {
                let reply = app.call(method.clone(), &path, None, Some(auth)).await;
                assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {path}: {}", reply.body);
                assert_eq!(reply.json()["error"]["kind"], "not_found");
            }
        }
        let refused = app.call(Method::GET, "/api/v1/webhooks", None, Some(&user)).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert_eq!(app.call(Method::GET, "/api/v1/webhooks", None, None).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(app.call(Method::GET, "/api/v1/webhooks/x/deliveries", None, Some(&owner)).await.status, StatusCode::NOT_FOUND);

        let deleted = app.call(Method::DELETE, &format!("/api/v1/webhooks/{id}"), None, Some(&owner)).await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
        assert_eq!(app.call(Method::GET, "/api/v1/webhooks", None, Some(&owner)).await.json()["items"], json!([]));
        assert_eq!(app.call(Method::DELETE, &format!("/api/v1/webhooks/{id}"), None, Some(&owner)).await.status, StatusCode::NOT_FOUND);

        let doc = app.get("/api/v1/openapi.json", &[]).await.json();
        for path in ["/api/v1/webhooks", "/api/v1/webhooks/{id}", "/api/v1/webhooks/{id}/deliveries",
                     "/api/v1/webhooks/{id}/deliveries/{delivery_id}/retry", "/api/v1/webhooks/{id}/secret"] {
            assert!(doc["paths"][path].is_object(), "{path} documented");
        }
    }
    async fn a_plain_form_adds_a_webhook_and_the_page_shows_its_secret_once(engine: Engine) {
        use leptos::server_fn::ServerFn;
        let app = app_allowing_private(engine, |_| {}).await;
        let receiver = Receiver::start(200).await;
        let (_, _, cookie) = app.signed_in(Role::Agent).await;
        let session = format!("{}={cookie}", server::sessions::SESSION_COOKIE);
        // Checkboxes named by their place in the list: unchecked ones leave gaps.
        let form = format!(
            "url={}&events%5B1%5D=registration.waitlisted&events%5B4%5D=event.published&event_id=",
            app::ui::urlencode(&receiver.url())
        );
        let req = axum::http::Request::post(app::webhooks::commands::CreateWebhook::PATH)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "text/html")
            .header("referer", "http://127.0.0.1/agent/webhooks")
            .header("cookie", &session)
            .body(axum::body::Body::from(form))
            .unwrap();
        let reply = app.send(req).await;
        assert!(reply.status.is_redirection(), "{} {}", reply.status, reply.body);
        let location = reply.headers["location"].to_str().unwrap().to_owned();
        assert!(location.starts_with("/agent/webhooks?secret="), "{location}");
        let html = [("accept", "text/html"), ("cookie", session.as_str())];
        let page = app.get(&location, &html).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("data-testid=\"webhook-secret\">whsec_"), "the secret is shown");
        assert!(page.body.contains(&receiver.url()));
        assert!(page.body.contains("Registration waitlisted, Event published"), "both types kept");
        let again = app.get(&location, &html).await;
        assert!(!again.body.contains("whsec_"), "and only once");
        // The delivery log page of it, and a stranger's view of it.
        let id = location.rsplit('=').next().unwrap();
        let log = app.get(&format!("/agent/webhooks/{id}"), &html).await;
        assert_eq!(log.status, StatusCode::OK);
        assert!(log.body.contains("No deliveries yet."), "{}", log.body);
        let (_, _, other) = app.signed_in(Role::Agent).await;
        let other = format!("{}={other}", server::sessions::SESSION_COOKIE);
        let foreign = app.get(&format!("/agent/webhooks/{id}"), &[("accept", "text/html"), ("cookie", other.as_str())]).await;
        assert_eq!(foreign.status, StatusCode::NOT_FOUND);
        // A refused URL comes back to the form with the error on the field.
        let req = axum::http::Request::post(app::webhooks::commands::CreateWebhook::PATH)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .header("cookie", &session)
            .body(axum::body::Body::from("url=ftp%3A%2F%2Fexample.com&events%5B0%5D=event.published"))
            .unwrap();
        let refused = app.send(req).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    }
}
