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
fn mail_files(app: &TestApp) -> Vec<(String, Vec<u8>)> {
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

struct Read {
    to: String,
    subject: String,
    text: String,
    html: String,
}

fn read(bytes: &[u8]) -> Read {
    let mail = mailparse::parse_mail(bytes).expect("a MIME message");
    let header = |name: &str| {
        mailparse::MailHeaderMap::get_first_value(&mail.headers[..], name).unwrap_or_default()
    };
    let part = |mime: &str| {
        mail.subparts
            .iter()
            .find(|p| p.ctype.mimetype == mime)
            .map(|p| p.get_body().unwrap())
            .unwrap_or_default()
    };
    Read {
        to: header("To"),
        subject: header("Subject"),
        text: part("text/plain"),
        html: part("text/html"),
    }
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
        // Committed with the booking: exactly one job, nothing sent yet.
        let key = format!("mail:registration_confirmed:{registration}");
        assert!(app.state.jobs.find(&key).await.unwrap().is_some());
        assert_eq!(app.state.jobs.counts().await.unwrap().pending, 1);
        assert!(mail_files(&app).is_empty());

        let now = server::db::now();
        assert_eq!(drain(&app.state.jobs, &app.state.job_handlers, now).await.unwrap(), 1);
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
        assert_eq!(app.state.jobs.counts().await.unwrap().done, 1);
    }
}
