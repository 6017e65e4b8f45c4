//! E-mail: the jobs that send it ([`MailJob`], enqueued by the commands in their transaction),
//! the handler that renders and sends ([`Mailer`]), and where it goes: SMTP through lettre
//! when `EVENTHUB_SMTP_URL` is set, otherwise an `.eml` file in `data_dir/mail` (what
//! `/admin/mail` and the tests read).
//!
//! Every message is recorded once in `mails` under a key naming what it is about
//! (`registration_confirmed:42`) before it is sent, and marked sent after: a job that runs again
//! finds the mark and sends nothing; one that died between the two sends the recorded message
//! again with the same `Message-ID` (and the same file name), so a reader sees one mail.
pub mod render;

use crate::config::Config;
use crate::db::{Db, now};
use crate::jobs::{Handler, Job, NewJob};
use crate::sql::Sql;
use anyhow::{Context, Result};
use app::i18n::Locale;
use chrono::{DateTime, Utc};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use render::Template;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;

/// The job kind every e-mail goes out as.
pub const KIND: &str = "mail";

/// Mail jobs run before other work of the same age: people wait for them.
const PRIORITY: i64 = 10;

/// What one mail job sends: the payload of a [`KIND`] job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "template", rename_all = "snake_case")]
pub enum MailJob {
    RegistrationConfirmed { registration_id: i64 },
    RegistrationWaitlisted { registration_id: i64, position: i64 },
    WaitlistPromoted { registration_id: i64 },
    RegistrationCancelled { registration_id: i64 },
}

impl MailJob {
    /// What the mail is about, unique per mail: its record's key and (prefixed) its job's
    /// dedupe key, so it is enqueued and sent once.
    pub fn key(&self) -> String {
        let name = match self {
            MailJob::RegistrationConfirmed { .. } => "registration_confirmed",
            MailJob::RegistrationWaitlisted { .. } => "registration_waitlisted",
            MailJob::WaitlistPromoted { .. } => "waitlist_promoted",
            MailJob::RegistrationCancelled { .. } => "registration_cancelled",
        };
        format!("{name}:{}", self.registration_id())
    }

    /// The job to enqueue.
    pub fn job(&self, now: DateTime<Utc>) -> NewJob {
        let payload = serde_json::to_value(self).unwrap_or_default();
        NewJob::new(KIND, payload, now)
            .priority(PRIORITY)
            .dedupe_key(format!("mail:{}", self.key()))
    }

    fn registration_id(&self) -> i64 {
        match *self {
            MailJob::RegistrationConfirmed { registration_id }
            | MailJob::RegistrationWaitlisted {
                registration_id, ..
            }
            | MailJob::WaitlistPromoted { registration_id }
            | MailJob::RegistrationCancelled { registration_id } => registration_id,
        }
    }

    fn template(&self) -> Template {
        match *self {
            MailJob::RegistrationConfirmed { .. } => Template::Confirmed,
            MailJob::RegistrationWaitlisted { position, .. } => Template::Waitlisted { position },
            MailJob::WaitlistPromoted { .. } => Template::Promoted,
            MailJob::RegistrationCancelled { .. } => Template::Cancelled,
        }
    }
}

/// Where messages go.
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// One `<id>.eml` file per message in this folder.
    Files(PathBuf),
}

/// The mail handler: renders a [`MailJob`] in its recipient's language and sends it once.
pub struct Mailer {
    db: Db,
    transport: Transport,
    from: Mailbox,
    public_url: String,
}

/// A recorded message.
#[derive(sqlx::FromRow)]
struct MailRow {
    id: i64,
    message_id: String,
    to_addr: String,
    to_name: String,
    subject: String,
    text_body: String,
    html_body: String,
    sent_at: Option<DateTime<Utc>>,
}

/// What a registration's mail needs, read when the job runs.
#[derive(sqlx::FromRow)]
struct RegistrationMail {
    user_id: i64,
    email: String,
    display_name: String,
    locale: String,
    quantity: i64,
    title: String,
    starts_at: DateTime<Utc>,
    timezone: String,
    venue: String,
    city: String,
    ticket_type: String,
}

impl Mailer {
    /// SMTP when `config.smtp_url` is set (`smtp://…` with STARTTLS via `?tls=required`,
    /// `smtps://…` for TLS, credentials in the URL), otherwise files in `data_dir/mail`.
    pub fn new(db: Db, config: &Config) -> Result<Arc<Self>> {
        let transport = match &config.smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(&url.0)
                    .context("EVENTHUB_SMTP_URL is not a valid smtp:// or smtps:// URL")?
                    .build(),
            ),
            None => Transport::Files(Self::folder(&config.data_dir)),
        };
        let from = config.mail_from.parse().with_context(|| {
            format!(
                "EVENTHUB_MAIL_FROM is not an address: {:?}",
                config.mail_from
            )
        })?;
        Ok(Arc::new(Mailer {
            db,
            transport,
            from,
            public_url: config.public_url.trim_end_matches('/').to_owned(),
        }))
    }

    /// The folder messages are written to when no SMTP server is set.
    pub fn folder(data_dir: &std::path::Path) -> PathBuf {
        data_dir.join("mail")
    }

    /// Sends the mail `job` describes, unless its record says it was sent.
    async fn send(&self, job: MailJob) -> Result<()> {
        let key = job.key();
        let row = match self.recorded(&key).await? {
            Some(row) => row,
            None => {
                self.record(&key, job).await?;
                self.recorded(&key)
                    .await?
                    .context("the mail record just written is missing")?
            }
        };
        if row.sent_at.is_some() {
            tracing::debug!(%key, "mail already sent");
            return Ok(());
        }
        let to = Mailbox::new(
            Some(row.to_name.clone()),
            row.to_addr
                .parse()
                .with_context(|| format!("the recipient {:?} is not an address", row.to_addr))?,
        );
        let message = Message::builder()
            .message_id(Some(row.message_id.clone()))
            .from(self.from.clone())
            .to(to)
            .subject(row.subject.clone())
            .multipart(MultiPart::alternative_plain_html(
                row.text_body.clone(),
                row.html_body.clone(),
            ))
            .context("cannot build the message")?;
        let sent = match &self.transport {
            Transport::Smtp(smtp) => smtp
                .send(message)
                .await
                .map(drop)
                .context("the SMTP server refused the message"),
            Transport::Files(dir) => write_file(dir, row.id, &message.formatted()).await,
        };
        crate::metrics::pipeline().mail_sent(if sent.is_ok() { "sent" } else { "failed" });
        sent?;
        self.db
            .execute(
                Sql::new("UPDATE mails SET sent_at = $2 WHERE id = $1 AND sent_at IS NULL")
                    .arg(row.id)
                    .arg(now()),
            )
            .await?;
        tracing::info!(%key, mail = row.id, "mail sent");
        Ok(())
    }

    async fn recorded(&self, key: &str) -> Result<Option<MailRow>> {
        Ok(self
            .db
            .fetch_optional(
                Sql::new(
                    "SELECT m.id, m.message_id, m.to_addr, COALESCE(u.display_name, '') AS to_name, \
                     m.subject, m.text_body, m.html_body, m.sent_at \
                     FROM mails m LEFT JOIN users u ON u.id = m.user_id WHERE m.key = $1",
                )
                .arg(key),
            )
            .await?)
    }

    /// Renders the mail and records it (a concurrent run's record wins: nothing changes).
    async fn record(&self, key: &str, job: MailJob) -> Result<()> {
        let id = job.registration_id();
        let data: RegistrationMail = self
            .db
            .fetch_optional(
                Sql::new(
                    "SELECT u.id AS user_id, u.email, u.display_name, u.locale, r.quantity, e.title, \
                     e.starts_at, e.timezone, e.venue, e.city, t.name AS ticket_type \
                     FROM registrations r JOIN users u ON u.id = r.user_id \
                     JOIN events e ON e.id = r.event_id JOIN ticket_types t ON t.id = r.ticket_type_id \
                     WHERE r.id = $1",
                )
                .arg(id),
            )
            .await?
            .with_context(|| format!("registration {id} does not exist"))?;
        let locale = Locale::from_tag(&data.locale).unwrap_or_default();
        let rendered = render::booking(
            job.template(),
            locale,
            &render::Booking {
                name: data.display_name,
                event: data.title,
                starts_at: data.starts_at,
                timezone: data.timezone,
                venue: data.venue,
                city: data.city,
                ticket_type: data.ticket_type,
                quantity: data.quantity,
                link: format!("{}/tickets/{id}", self.public_url),
            },
        );
        let message_id = format!("<{}@{}>", crate::random_hex(16), self.from.email.domain());
        self.db
            .execute(
                Sql::new(
                    "INSERT INTO mails (key, message_id, to_addr, user_id, locale, subject, text_body, \
                     html_body, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                     ON CONFLICT (key) DO NOTHING",
                )
                .arg(key)
                .arg(message_id)
                .arg(data.email)
                .arg(data.user_id)
                .arg(locale.code())
                .arg(rendered.subject)
                .arg(rendered.text)
                .arg(rendered.html)
                .arg(now()),
            )
            .await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl Handler for Mailer {
    async fn run(&self, job: &Job) -> Result<()> {
        let mail: MailJob = job.payload().context("not a mail job's payload")?;
        self.send(mail).await
    }
}

/// Writes `<id>.eml` whole or not at all (a temporary file renamed into place), so a reader
/// never sees half a message and a second write of the same message replaces the first.
async fn write_file(dir: &std::path::Path, id: i64, bytes: &[u8]) -> Result<()> {
    tokio::fs::create_dir_all(dir)
        .await
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(format!("{id}.eml"));
    let partial = dir.join(format!(".{id}.eml.partial"));
    tokio::fs::write(&partial, bytes)
        .await
        .with_context(|| format!("cannot write {}", partial.display()))?;
    tokio::fs::rename(&partial, &path)
        .await
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mail_has_one_key_and_its_job_is_deduplicated_by_it() {
        let now = chrono::Utc::now();
        let job = MailJob::RegistrationWaitlisted {
            registration_id: 7,
            position: 2,
        };
        assert_eq!(job.key(), "registration_waitlisted:7");
        let new = job.job(now);
        assert_eq!(new.kind, KIND);
        assert_eq!(
            new.dedupe_key.as_deref(),
            Some("mail:registration_waitlisted:7")
        );
        assert_eq!(
            new.payload,
            serde_json::json!({"template": "registration_waitlisted", "registration_id": 7, "position": 2})
        );
        let back: MailJob = serde_json::from_value(new.payload).unwrap();
        assert_eq!(back, job);
    }
}
