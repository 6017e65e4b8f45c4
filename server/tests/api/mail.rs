//! Mail through the outbox: a booking's transaction writes its mail job; a worker renders the
//! confirmation in the recipient's language and writes it once to `data_dir/mail`.
use crate::TestApp;
use crate::common::Engine;
use crate::on_both_engines;
use app::auth::Role;
use app::auth::ports::AccountCommands;
use app::i18n::Locale;
use axum::http::StatusCode;
use server::jobs::Handler;
use server::jobs::worker::drain;
use server::mail::Mailer;

/// The `.eml` files written so far, parsed by an independent MIME parser.
pub(crate) fn mail_files(app: &TestApp) -> Vec<(String, Vec<u8>)> {
    let dir = Mailer::folder(&app.state.config.data_dir);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<(String, Vec<u8>)> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    files.sort();
    files
}

pub(crate) struct Read {
    pub(crate) to: String,
    pub(crate) subject: String,
    pub(crate) text: String,
    pub(crate) html: String,
    /// The attachment's file name and text.
    pub(crate) attachment: Option<(String, String)>,
}

/// How many jobs of each kind exist.
async fn jobs_by_kind(app: &TestApp) -> Vec<(String, i64)> {
    server::on_db!(&app.state.db, pool => sqlx::query_as(
        "SELECT kind, CAST(COUNT(*) AS BIGINT) FROM jobs GROUP BY kind ORDER BY kind")
        .fetch_all(pool).await)
    .unwrap()
}

pub(crate) fn read(bytes: &[u8]) -> Read {
    let mail = mailparse::parse_mail(bytes).expect("a MIME message");
    let header = |name: &str| {
        mailparse::MailHeaderMap::get_first_value(&mail.headers[..], name).unwrap_or_default()
    };
    // Every leaf part, however the message nests them (alternative inside mixed).
    let mut leaves = Vec::new();
    let mut stack = vec![&mail];
    while let Some(part) = stack.pop() {
        if part.subparts.is_empty() {
            leaves.push(part);
        }
        stack.extend(part.subparts.iter());
    }
    let part = |mime: &str| {
        leaves
            .iter()
            .find(|p| p.ctype.mimetype == mime)
            .map(|p| p.get_body().unwrap())
            .unwrap_or_default()
    };
    let attachment = leaves
        .iter()
        .find(|p| p.ctype.mimetype == "text/calendar")
        .map(|p| {
            let name = p
                .get_content_disposition()
                .params
                .get("filename")
                .cloned()
                .unwrap_or_default();
            (name, p.get_body().unwrap())
        });
    Read {
        to: header("To"),
        subject: header("Subject"),
        text: part("text/plain"),
        html: part("text/html"),
        attachment,
    }
}

/// The mails written so far whose subject starts with `prefix`.
fn mails_about(app: &TestApp, prefix: &str) -> Vec<Read> {
    mail_files(app)
        .iter()
        .map(|(_, bytes)| read(bytes))
        .filter(|m| m.subject.starts_with(prefix))
        .collect()
}

pub(crate) async fn run_jobs(app: &TestApp) -> usize {
    drain(&app.state.jobs, &app.state.job_handlers, server::db::now())
        .await
        .unwrap()
}

async fn booked(app: &TestApp) -> (app::auth::UserView, String) {
    let (_, agent) = app.bearer(Role::Agent).await;
    let (event, tt) = app
        .published_event(&agent, "Kletka Jazz", 50, 50, 4, 0)
        .await;
    let (user, auth) = app.bearer(Role::User).await;
    app.state
        .accounts
        .set_locale(user.id, Locale::He)
        .await
        .unwrap();
    let (status, body) = app.book(&auth, &event, &tt, 2).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (
        user,
        body["registration"]["id"].as_str().unwrap().to_owned(),
    )
}

on_both_engines! {
    async fn a_booking_sends_one_confirmation_in_the_recipients_language(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (user, registration) = booked(&app).await;
        // Committed with the booking: exactly one mail job and one domain event (beside the
        // event's publication), nothing sent yet.
        let key = format!("mail:registration_confirmed:{registration}");
        assert!(app.state.jobs.find(&key).await.unwrap().is_some());
        assert_eq!(jobs_by_kind(&app).await, vec![("domain_event".into(), 2), ("mail".into(), 1)]);
        assert!(mail_files(&app).is_empty());

        let now = server::db::now();
        assert_eq!(drain(&app.state.jobs, &app.state.job_handlers, now).await.unwrap(), 3);
        let files = mail_files(&app);
        assert_eq!(files.len(), 1, "{files:?}");
        let mail = read(&files[0].1);
        assert!(mail.to.contains(&user.email), "{}", mail.to);
        assert_eq!(mail.subject, "ההזמנה אושרה: Kletka Jazz");
        assert!(mail.text.contains("2 × General"), "{}", mail.text);
        assert!(mail.text.contains("שלום Test user"), "{}", mail.text);
        let link = format!("http://127.0.0.1/tickets/{registration}");
        assert!(mail.text.contains(&link), "{}", mail.text);
        assert!(mail.html.contains("dir=\"rtl\""), "{}", mail.html);
        assert!(mail.html.contains(&format!("href=\"{link}\"")), "{}", mail.html);

        // The job running again (a lost answer, a lost lease) sends nothing more.
        let job = app.state.jobs.find(&key).await.unwrap().unwrap();
        let mailer = Mailer::new(app.state.db.clone(), &app.state.config).unwrap();
        mailer.run(&job).await.unwrap();
        assert_eq!(mail_files(&app).len(), 1);
        let recorded: i64 = server::on_db!(&app.state.db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM mails")
            .fetch_one(pool).await).unwrap();
        assert_eq!(recorded, 1);
    }

    async fn the_servers_own_workers_deliver_the_mail(engine: Engine) {
        let app = TestApp::with_config(engine, |c| c.workers = 2).await;
        assert_eq!(app.state.workers.count(), 2);
        let (_, registration) = booked(&app).await;
        let mut files = Vec::new();
        for _ in 0..100 {
            files = mail_files(&app);
            if !files.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(files.len(), 1);
        assert!(read(&files[0].1).text.contains(&format!("/tickets/{registration}")));
        app.state.workers.stop().await;
        // The mail, and the fan-out of the publication and of the booking.
        assert_eq!(app.state.jobs.counts().await.unwrap().done, 3);
    }
}

/// An organizer's published event and two people booked on it (one reads Hebrew, one
/// English), their mails sent: (organizer, event id, ticket type id, [(user, auth, registration)]).
async fn two_booked(
    app: &TestApp,
) -> (
    app::auth::UserView,
    String,
    String,
    Vec<(app::auth::UserView, String, String)>,
) {
    let (agent, agent_auth) = app.bearer(Role::Agent).await;
    let (event, tt) = app
        .published_event(&agent_auth, "Kletka Jazz", 50, 50, 4, 0)
        .await;
    let mut people = Vec::new();
    for locale in [Locale::He, Locale::En] {
        let (user, auth) = app.bearer(Role::User).await;
        app.state
            .accounts
            .set_locale(user.id, locale)
            .await
            .unwrap();
        let (status, body) = app.book(&auth, &event, &tt, 1).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let registration = body["registration"]["id"].as_str().unwrap().to_owned();
        people.push((user, auth, registration));
    }
    run_jobs(app).await;
    (agent, event, tt, people)
}

on_both_engines! {
    async fn a_confirmation_carries_the_tickets_and_a_calendar_file(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, registration) = booked(&app).await;
        run_jobs(&app).await;
        let files = mail_files(&app);
        let mail = read(&files[0].1);
        let codes: Vec<(String,)> = server::on_db!(&app.state.db, pool => sqlx::query_as(
            "SELECT code FROM tickets WHERE registration_id = CAST($1 AS BIGINT) ORDER BY id")
            .bind(&registration).fetch_all(pool).await).unwrap();
        assert_eq!(codes.len(), 2);
        for (code,) in &codes {
            assert!(mail.text.contains(code.as_str()), "{}", mail.text);
            assert!(mail.html.contains(code.as_str()), "{}", mail.html);
        }
        let (name, calendar) = mail.attachment.expect("a calendar attachment");
        assert!(name.starts_with("eventhub-") && name.ends_with(".ics"), "{name}");
        // Read by an independent iCalendar parser.
        let parsed = ical::IcalParser::new(calendar.as_bytes()).next().unwrap().unwrap();
        let event = &parsed.events[0];
        let value = |name: &str| {
            event.properties.iter().find(|p| p.name == name).and_then(|p| p.value.clone()).unwrap_or_default()
        };
        assert_eq!(value("SUMMARY"), "Kletka Jazz");
        assert_eq!(value("STATUS"), "CONFIRMED");
        assert!(value("LOCATION").contains("Barby"), "{}", value("LOCATION"));
    }

    async fn an_event_cancelled_tells_each_holder_once_in_their_language(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (agent, event, tt, people) = two_booked(&app).await;
        // A third had cancelled already: not a holder any more.
        let (gone, gone_auth) = app.bearer(Role::User).await;
        let (_, body) = app.book(&gone_auth, &event, &tt, 1).await;
        let reg = body["registration"]["id"].as_str().unwrap().to_owned();
        let cancelled = app.call(axum::http::Method::DELETE, &format!("/api/v1/registrations/{reg}"), None, Some(&gone_auth)).await;
        assert!(cancelled.status.is_success(), "{}", cancelled.body);
        run_jobs(&app).await;

        use app::events::ports::EventCommands;
        let id: app::ids::EventId = event.parse().unwrap();
        app.state.events.cancel_event(&agent, id, "The band is ill".into()).await.unwrap();
        // In the cancellation's transaction: one mail per holder, and the domain event.
        let keys: Vec<(String,)> = server::on_db!(&app.state.db, pool => sqlx::query_as(
            "SELECT dedupe_key FROM jobs WHERE dedupe_key LIKE 'mail:event_cancelled:%' ORDER BY dedupe_key")
            .fetch_all(pool).await).unwrap();
        assert_eq!(keys.len(), 2, "{keys:?}");
        run_jobs(&app).await;
        let he = mails_about(&app, "האירוע בוטל: Kletka Jazz");
        let en = mails_about(&app, "Event cancelled: Kletka Jazz");
        assert_eq!((he.len(), en.len()), (1, 1));
        assert!(he[0].to.contains(&people[0].0.email), "{}", he[0].to);
        assert!(en[0].to.contains(&people[1].0.email), "{}", en[0].to);
        assert!(en[0].text.contains("Reason: The band is ill"), "{}", en[0].text);
        assert!(en[0].text.contains(&format!("/events/{event}")), "{}", en[0].text);
        let calendar = &en[0].attachment.as_ref().expect("the calendar entry, cancelled").1;
        assert!(calendar.contains("STATUS:CANCELLED"), "{calendar}");
        assert!(
            mails_about(&app, "Event cancelled").iter().all(|m| !m.to.contains(&gone.email)),
            "who cancelled before is not told again"
        );
    }

    async fn a_new_time_tells_each_holder_what_it_was_and_a_new_title_does_not(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (agent, event, _, people) = two_booked(&app).await;
        use app::events::ports::{EventCommands, EventQueries};
        let id: app::ids::EventId = event.parse().unwrap();
        let before = app.state.events.get_event(None, id).await.unwrap().item;
        // A new title: the domain event, no mail.
        let retitled = app::events::UpdateEvent { title: Some("Kletka Jazz Trio".into()), ..Default::default() };
        app.state.events.update_event(&agent, id, retitled).await.unwrap();
        run_jobs(&app).await;
        assert!(mails_about(&app, "Changed:").is_empty());
        // An hour later: each holder hears of it once.
        let later = before.starts_at + chrono::Duration::hours(1);
        let moved = app::events::UpdateEvent {
            starts_at: Some(later.to_rfc3339()),
            ends_at: Some((later + chrono::Duration::hours(2)).to_rfc3339()),
            ..Default::default()
        };
        app.state.events.update_event(&agent, id, moved).await.unwrap();
        run_jobs(&app).await;
        let en = mails_about(&app, "Changed: Kletka Jazz Trio");
        assert_eq!(en.len(), 1);
        assert!(en[0].to.contains(&people[1].0.email));
        assert!(en[0].text.contains("Before: "), "{}", en[0].text);
        assert_eq!(mails_about(&app, "שינוי: Kletka Jazz Trio").len(), 1);
        let events: Vec<(String,)> = server::on_db!(&app.state.db, pool => sqlx::query_as(
            "SELECT payload FROM jobs WHERE kind = 'domain_event' ORDER BY id")
            .fetch_all(pool).await).unwrap();
        let changed: Vec<serde_json::Value> = events.iter()
            .map(|(p,)| serde_json::from_str::<serde_json::Value>(p).unwrap())
            .filter(|e| e["type"] == "event.changed")
            .collect();
        assert_eq!(changed.len(), 2);
        assert_eq!(changed[0]["data"]["time_or_place_changed"], false);
        assert_eq!(changed[1]["data"]["time_or_place_changed"], true);
    }

    async fn a_decided_organizer_request_is_mailed_to_the_requester(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (user, _) = app.bearer(Role::User).await;
        let (admin, _) = app.bearer(Role::Admin).await;
        use app::admin::ports::AdminCommands;
        let request = app.state.admin.request_agent(&user, app::admin::NewAgentRequest {
            organisation: "Barby Club".into(),
            message: "We run concerts every week".into(),
        }).await.unwrap();
        run_jobs(&app).await;
        assert!(mail_files(&app).is_empty(), "nothing decided yet");
        app.state.admin.decide_agent_request(&admin, request.id, true, "Welcome aboard").await.unwrap();
        run_jobs(&app).await;
        let mails = mails_about(&app, "You are now an organizer");
        assert_eq!(mails.len(), 1);
        assert!(mails[0].to.contains(&user.email));
        assert!(mails[0].text.contains("“Barby Club”"), "{}", mails[0].text);
        assert!(mails[0].text.contains("Welcome aboard"), "{}", mails[0].text);
        assert!(mails[0].text.contains("/agent"), "{}", mails[0].text);
    }

    async fn reminders_go_out_once_the_day_before_even_from_two_processes(engine: Engine) {
        use server::mail::reminders::schedule;
        let app = TestApp::new(engine).await;
        let (_, event, tt, people) = two_booked(&app).await;
        // The second holder cancels: no reminder for them.
        let cancelled = app.call(axum::http::Method::DELETE, &format!("/api/v1/registrations/{}", people[1].2), None, Some(&people[1].1)).await;
        assert!(cancelled.status.is_success(), "{}", cancelled.body);
        run_jobs(&app).await;
        use app::events::ports::EventQueries;
        let id: app::ids::EventId = event.parse().unwrap();
        let starts_at = app.state.events.get_event(None, id).await.unwrap().item.starts_at;
        // Two days before: nothing is due.
        assert_eq!(schedule(&app.state.db, starts_at - chrono::Duration::hours(48)).await.unwrap(), 0);
        // 23 hours before (Jerusalem has no clock change then): one, and the other process
        // scheduling at the same time adds none.
        let due = starts_at - chrono::Duration::hours(23);
        let other = app.second_process().await;
        let (a, b) = tokio::join!(schedule(&app.state.db, due), schedule(&other.state.db, due));
        assert_eq!(a.unwrap() + b.unwrap(), 1);
        assert_eq!(schedule(&app.state.db, due + chrono::Duration::minutes(1)).await.unwrap(), 0);
        let _ = tt;
        // The reminder job was enqueued at the moved clock; run it then.
        drain(&app.state.jobs, &app.state.job_handlers, due + chrono::Duration::minutes(3)).await.unwrap();
        drain(&other.state.jobs, &other.state.job_handlers, due + chrono::Duration::minutes(3)).await.unwrap();
        let reminders = mails_about(&app, "תזכורת: Kletka Jazz");
        assert_eq!(reminders.len(), 1);
        assert!(reminders[0].to.contains(&people[0].0.email));
        assert!(mails_about(&app, "Reminder:").is_empty());
    }
}

on_both_engines! {
    async fn a_booking_made_inside_the_last_day_gets_no_reminder(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, agent) = app.bearer(Role::Agent).await;
        let start = chrono::Utc::now() + chrono::Duration::hours(20);
        let body = serde_json::json!({
            "title": "Late show", "summary": "s", "description": "d", "category": "music", "tags": [],
            "starts_at": start, "ends_at": start + chrono::Duration::hours(2), "timezone": "Asia/Jerusalem",
            "venue": "Barby", "address": "", "city": "Tel Aviv", "capacity": 10,
            "ticket_types": [{"name": "General", "price": {"amount": 0, "currency": "ILS"}, "quantity": 10, "max_per_registration": 2}]
        });
        let event = app.create_event(&agent, body, true).await;
        let (_, auth) = app.bearer(Role::User).await;
        let id = event["id"].as_str().unwrap();
        let tt = event["ticket_types"][0]["id"].as_str().unwrap();
        let (status, body) = app.book(&auth, id, tt, 1).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        // Its reminder time (4 hours ago) came before the booking: the confirmation says it all.
        let now = server::db::now();
        assert_eq!(server::mail::reminders::schedule(&app.state.db, now).await.unwrap(), 0);
    }
}

/// An SMTP server that is not ours (aiosmtpd, Python, from `scripts/setup --test`): STARTTLS
/// required before AUTH, AUTH before MAIL, a certificate for 127.0.0.1 from a throwaway CA whose
/// PEM it writes to `ca_file`. Each accepted message arrives as one JSON line.
struct FakeSmtp {
    child: std::process::Child,
    port: u16,
    messages: std::sync::mpsc::Receiver<serde_json::Value>,
    _dir: tempfile::TempDir,
    ca_file: std::path::PathBuf,
}

impl FakeSmtp {
    const LOGIN: &str = "eventhub";
    const PASSWORD: &str = "smtp-pass-1";

    fn start() -> Self {
        use std::io::BufRead;
        let python = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../target/schemathesis-venv/bin/python3"
        );
        assert!(
            std::path::Path::new(python).exists(),
            "{python} is missing: run scripts/setup --test (it installs aiosmtpd and trustme, \
             the SMTP server this test delivers to)"
        );
        let dir = tempfile::tempdir().unwrap();
        let ca_file = dir.path().join("ca.pem");
        let mut child = std::process::Command::new(python)
            .args(["-c", include_str!("fake_smtp.py")])
            .arg(&ca_file)
            .args([Self::LOGIN, Self::PASSWORD])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("python runs");
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let port = lines
            .next()
            .and_then(Result::ok)
            .and_then(|l| l.trim().parse().ok())
            .expect("the fake SMTP server prints its port (are aiosmtpd and trustme installed?)");
        let (tx, messages) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let _ = tx.send(serde_json::from_str(&line).expect("a JSON line"));
            }
        });
        FakeSmtp {
            child,
            port,
            messages,
            _dir: dir,
            ca_file,
        }
    }

    fn url(&self, password: &str) -> String {
        format!(
            "smtp://{}:{password}@127.0.0.1:{}?tls=required",
            Self::LOGIN,
            self.port
        )
    }
}

impl Drop for FakeSmtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The mail row of a registration's confirmation: was it sent?
async fn confirmation_sent(app: &TestApp, registration: &str) -> bool {
    let key = format!("registration_confirmed:{registration}");
    let sent: i64 = server::on_db!(&app.state.db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM mails WHERE key = $1 AND sent_at IS NOT NULL")
        .bind(&key).fetch_one(pool).await)
    .unwrap();
    sent == 1
}

on_both_engines! {
    async fn mail_goes_out_over_smtp_with_starttls_and_auth(engine: Engine) {
        let smtp = FakeSmtp::start();
        let app = TestApp::with_config(engine, |c| {
            c.smtp_url = Some(server::config::Secret(smtp.url(FakeSmtp::PASSWORD)));
            c.smtp_ca_file = Some(smtp.ca_file.clone());
        })
        .await;
        let (user, registration) = booked(&app).await;
        run_jobs(&app).await;
        let got = smtp
            .messages
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("the SMTP server received the confirmation");
        assert_eq!(got["login"], FakeSmtp::LOGIN);
        assert_eq!(got["rcpt_tos"], serde_json::json!([user.email]));
        assert_eq!(got["mail_from"], "no-reply@localhost");
        let mail = read(got["data"].as_str().unwrap().as_bytes());
        assert_eq!(mail.subject, "ההזמנה אושרה: Kletka Jazz");
        assert!(mail.text.contains(&format!("/tickets/{registration}")), "{}", mail.text);
        assert!(confirmation_sent(&app, &registration).await);
        assert!(mail_files(&app).is_empty(), "SMTP configured, no files written");
    }

    async fn a_refused_smtp_delivery_keeps_the_mail_for_the_retry(engine: Engine) {
        let smtp = FakeSmtp::start();
        // A wrong password, and a server whose certificate the sender does not trust: each
        // attempt fails, the mail stays unsent and its job waits for the next attempt.
        for (password, trust) in [("wrong-pass", true), (FakeSmtp::PASSWORD, false)] {
            let app = TestApp::with_config(engine, |c| {
                c.smtp_url = Some(server::config::Secret(smtp.url(password)));
                c.smtp_ca_file = trust.then(|| smtp.ca_file.clone());
            })
            .await;
            let (_, registration) = booked(&app).await;
            run_jobs(&app).await;
            assert!(!confirmation_sent(&app, &registration).await, "{password} {trust}");
            let key = format!("mail:registration_confirmed:{registration}");
            let job = app.state.jobs.find(&key).await.unwrap().unwrap();
            assert_eq!(job.state, server::jobs::JobState::Pending, "{password} {trust}");
            assert_eq!(job.attempts, 1);
            let error = job.last_error.unwrap_or_default();
            assert!(error.contains("SMTP"), "{password} {trust}: {error}");
        }
        assert!(smtp.messages.try_recv().is_err(), "nothing was delivered");
    }
}
