//! E-mail: the jobs that send it ([`MailJob`], enqueued by the commands in their transaction),
//! the handler that renders and sends ([`Mailer`]), and where it goes: SMTP through lettre
//! when `EVENTHUB_SMTP_URL` is set, otherwise an `.eml` file in `data_dir/mail` (what
//! `/admin/mail` and the tests read).
//!
//! Every message is recorded once in `mails` under a key naming what it is about
//! (`registration_confirmed:42`) before it is sent, and marked sent after: a job that runs again
//! finds the mark and sends nothing; one that died between the two sends the recorded message
//! again with the same `Message-ID` (and the same file name), so a reader sees one mail.
pub mod reminders;
pub mod render;
mod transport;

use crate::config::Config;
use crate::db::{Db, now};
use crate::jobs::{Handler, Job, NewJob};
use crate::sql::Sql;
use anyhow::{Context, Result};
use app::i18n::Locale;
use chrono::{DateTime, Utc};
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;
use transport::Transport;

/// The job kind every e-mail goes out as.
pub const KIND: &str = "mail";

/// Mail jobs run before other work of the same age: people wait for them.
const PRIORITY: i64 = 10;

/// What one mail job sends: the payload of a [`KIND`] job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "template", rename_all = "snake_case")]
pub enum MailJob {
    RegistrationConfirmed {
        registration_id: i64,
    },
    RegistrationWaitlisted {
        registration_id: i64,
        position: i64,
    },
    WaitlistPromoted {
        registration_id: i64,
    },
    RegistrationCancelled {
        registration_id: i64,
    },
    /// The day before: sent only while the registration is confirmed and the event ahead.
    Reminder {
        registration_id: i64,
    },
    /// To each holder of a booking the event's cancellation ended.
    EventCancelled {
        event_id: i64,
        user_id: i64,
    },
    /// To each holder of a booking, after a change of time or place; `revision` tells one
    /// change from the next (the change's time in milliseconds), `before` is what it was.
    EventChanged {
        event_id: i64,
        user_id: i64,
        revision: i64,
        before: PlaceWas,
    },
    /// To the requester, once an admin decided.
    AgentRequestDecided {
        request_id: i64,
    },
    /// The link proving an address (`account_links`), to the address it names. The token is
    /// the link's secret: the job and the recorded mail hold it, the link row only its hash.
    VerifyEmail {
        link_id: i64,
        token: String,
    },
    /// The link setting a new password, to the account's address.
    PasswordReset {
        link_id: i64,
        token: String,
    },
    /// To the address an account had before the verified change `link_id` made.
    EmailChanged {
        link_id: i64,
        old_email: String,
    },
}

/// When and where an event was before a change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaceWas {
    pub starts_at: DateTime<Utc>,
    pub timezone: String,
    pub venue: String,
    pub city: String,
}

impl MailJob {
    /// What the mail is about, unique per mail: its record's key and (prefixed) its job's
    /// dedupe key, so it is enqueued and sent once.
    pub fn key(&self) -> String {
        match self {
            MailJob::RegistrationConfirmed { registration_id } => {
                format!("registration_confirmed:{registration_id}")
            }
            MailJob::RegistrationWaitlisted {
                registration_id, ..
            } => format!("registration_waitlisted:{registration_id}"),
            MailJob::WaitlistPromoted { registration_id } => {
                format!("waitlist_promoted:{registration_id}")
            }
            MailJob::RegistrationCancelled { registration_id } => {
                format!("registration_cancelled:{registration_id}")
            }
            MailJob::Reminder { registration_id } => format!("reminder:{registration_id}"),
            MailJob::EventCancelled { event_id, user_id } => {
                format!("event_cancelled:{event_id}:{user_id}")
            }
            MailJob::EventChanged {
                event_id,
                user_id,
                revision,
                ..
            } => format!("event_changed:{event_id}:{user_id}:{revision}"),
            MailJob::AgentRequestDecided { request_id } => {
                format!("agent_request_decided:{request_id}")
            }
            MailJob::VerifyEmail { link_id, .. } => format!("verify_email:{link_id}"),
            MailJob::PasswordReset { link_id, .. } => format!("password_reset:{link_id}"),
            MailJob::EmailChanged { link_id, .. } => format!("email_changed:{link_id}"),
        }
    }

    /// The job to enqueue.
    pub fn job(&self, now: DateTime<Utc>) -> NewJob {
        let payload = serde_json::to_value(self).unwrap_or_default();
        NewJob::new(KIND, payload, now)
            .priority(PRIORITY)
            .dedupe_key(format!("mail:{}", self.key()))
    }
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
    attachment_name: Option<String>,
    attachment: Option<String>,
    sent_at: Option<DateTime<Utc>>,
}

/// The recipient of a mail.
#[derive(sqlx::FromRow)]
struct Recipient {
    user_id: i64,
    email: String,
    display_name: String,
    locale: String,
    /// The account was deleted: nothing more is sent to it.
    deleted: bool,
}

/// An event as a mail tells it.
#[derive(sqlx::FromRow)]
struct EventRow {
    event_id: i64,
    title: String,
    summary: String,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    timezone: String,
    venue: String,
    address: String,
    city: String,
    event_status: String,
    cancel_reason: Option<String>,
}

/// A registration as a mail tells it.
#[derive(sqlx::FromRow)]
struct RegistrationRow {
    #[sqlx(flatten)]
    to: Recipient,
    #[sqlx(flatten)]
    event: EventRow,
    status: String,
    quantity: i64,
    ticket_type: String,
}

/// An organizer request as its decision's mail tells it.
#[derive(sqlx::FromRow)]
struct RequestRow {
    #[sqlx(flatten)]
    to: Recipient,
    organisation: String,
    status: String,
    note: String,
}

const EVENT_COLUMNS: &str = "e.id AS event_id, e.title, e.summary, e.starts_at, e.ends_at, \
                             e.timezone, e.venue, e.address, e.city, e.status AS event_status, \
                             e.cancel_reason";
const RECIPIENT_COLUMNS: &str =
    "u.id AS user_id, u.email, u.display_name, u.locale, u.deleted_at IS NOT NULL AS deleted";

/// A mail ready to record: to whom, in which language, what it says, what it carries.
struct Composed {
    to: Recipient,
    locale: Locale,
    rendered: render::Rendered,
    /// A calendar file: its name and text.
    attachment: Option<(String, String)>,
}

impl EventRow {
    fn facts(&self) -> render::EventFacts {
        render::EventFacts {
            title: self.title.clone(),
            place: render::Place {
                starts_at: self.starts_at,
                timezone: self.timezone.clone(),
                venue: self.venue.clone(),
                city: self.city.clone(),
            },
        }
    }

    /// The event as a calendar file (`eventhub-<id>.ics`).
    fn calendar(&self, public_url: &str) -> (String, String) {
        let entry = crate::ics::Entry {
            event_id: self.event_id,
            title: &self.title,
            description: &self.summary,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            location: &[&self.venue, &self.address, &self.city],
            cancelled: self.event_status == "cancelled",
        };
        (
            format!("eventhub-{}.ics", self.event_id),
            crate::ics::calendar(&entry, public_url, now()),
        )
    }
}

impl Mailer {
    /// SMTP when `config.smtp_url` is set (`smtp://…` with STARTTLS via `?tls=required`,
    /// `smtps://…` for TLS, credentials in the URL), otherwise files in `data_dir/mail`.
    pub fn new(db: Db, config: &Config) -> Result<Arc<Self>> {
        let transport = Transport::new(config, Self::folder(&config.data_dir))?;
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
                if !self.record(&key, &job).await? {
                    return Ok(());
                }
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
            .multipart(body(&row))
            .context("cannot build the message")?;
        let sent = self.transport.send(row.id, message).await;
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
                     m.subject, m.text_body, m.html_body, m.attachment_name, m.attachment, m.sent_at \
                     FROM mails m LEFT JOIN users u ON u.id = m.user_id WHERE m.key = $1",
                )
                .arg(key),
            )
            .await?)
    }

    /// Renders the mail and records it (a concurrent run's record wins: nothing changes).
    /// `false` when there is nothing to send any more (a reminder for a booking cancelled since).
    async fn record(&self, key: &str, job: &MailJob) -> Result<bool> {
        let Some(mail) = self.compose(job).await? else {
            return Ok(false);
        };
        if mail.to.deleted {
            tracing::debug!(key, "no mail: the account was deleted");
            return Ok(false);
        }
        let message_id = format!("<{}@{}>", crate::random_hex(16), self.from.email.domain());
        let (attachment_name, attachment) = mail.attachment.unzip();
        self.db
            .execute(
                Sql::new(
                    "INSERT INTO mails (key, message_id, to_addr, user_id, locale, subject, text_body, \
                     html_body, attachment_name, attachment, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (key) DO NOTHING",
                )
                .arg(key)
                .arg(message_id)
                .arg(mail.to.email)
                .arg(mail.to.user_id)
                .arg(mail.locale.code())
                .arg(mail.rendered.subject)
                .arg(mail.rendered.text)
                .arg(mail.rendered.html)
                .arg(attachment_name)
                .arg(attachment)
                .arg(now()),
            )
            .await?;
        Ok(true)
    }

    /// Reads what `job` is about and renders it in its recipient's language; `None` when it
    /// should not be sent.
    async fn compose(&self, job: &MailJob) -> Result<Option<Composed>> {
        use render::Template;
        let url = &self.public_url;
        match job {
            MailJob::RegistrationConfirmed {
                registration_id: id,
            }
            | MailJob::RegistrationWaitlisted {
                registration_id: id,
                ..
            }
            | MailJob::WaitlistPromoted {
                registration_id: id,
            }
            | MailJob::RegistrationCancelled {
                registration_id: id,
            }
            | MailJob::Reminder {
                registration_id: id,
            } => {
                let reg = self.registration(*id).await?;
                let (template, with_tickets) = match job {
                    MailJob::RegistrationWaitlisted { position, .. } => (
                        Template::Waitlisted {
                            position: *position,
                        },
                        false,
                    ),
                    MailJob::WaitlistPromoted { .. } => (Template::Promoted, true),
                    MailJob::RegistrationCancelled { .. } => (Template::Cancelled, false),
                    MailJob::Reminder { .. } => {
                        let due = reg.status == "confirmed"
                            && reg.event.event_status == "published"
                            && reg.event.starts_at > now();
                        if !due {
                            tracing::debug!(
                                registration = id,
                                "no reminder: the booking or the event changed"
                            );
                            return Ok(None);
                        }
                        (Template::Reminder, true)
                    }
                    _ => (Template::Confirmed, true),
                };
                let codes = if with_tickets {
                    self.ticket_codes(*id).await?
                } else {
                    Vec::new()
                };
                let attachment = matches!(template, Template::Confirmed | Template::Promoted)
                    .then(|| reg.event.calendar(url));
                let letter = render::Letter {
                    name: reg.to.display_name.clone(),
                    event: Some(reg.event.facts()),
                    seats: Some(render::Seats {
                        ticket_type: reg.ticket_type,
                        quantity: reg.quantity,
                        codes,
                    }),
                    link: format!("{url}/tickets/{id}"),
                };
                Ok(Some(Self::composed(reg.to, &template, &letter, attachment)))
            }
            MailJob::EventCancelled { event_id, user_id }
            | MailJob::EventChanged {
                event_id, user_id, ..
            } => {
                let (to, event) = self.event_for(*user_id, *event_id).await?;
                let template = match job {
                    MailJob::EventChanged { before, .. } => Template::EventChanged {
                        before: render::Place {
                            starts_at: before.starts_at,
                            timezone: before.timezone.clone(),
                            venue: before.venue.clone(),
                            city: before.city.clone(),
                        },
                    },
                    _ => Template::EventCancelled {
                        reason: event.cancel_reason.clone().unwrap_or_default(),
                    },
                };
                let letter = render::Letter {
                    name: to.display_name.clone(),
                    event: Some(event.facts()),
                    seats: None,
                    link: format!("{url}/events/{event_id}"),
                };
                // The calendar entry is updated (or, cancelled, removed) by the same UID.
                let attachment = Some(event.calendar(url));
                Ok(Some(Self::composed(to, &template, &letter, attachment)))
            }
            MailJob::AgentRequestDecided { request_id } => {
                let request: RequestRow = self
                    .db
                    .fetch_optional(
                        Sql::new(&format!(
                            "SELECT {RECIPIENT_COLUMNS}, a.organisation, a.status, a.note \
                             FROM agent_requests a JOIN users u ON u.id = a.user_id WHERE a.id = $1"
                        ))
                        .arg(*request_id),
                    )
                    .await?
                    .with_context(|| format!("organizer request {request_id} does not exist"))?;
                let approved = match request.status.as_str() {
                    "approved" => true,
                    "rejected" => false,
                    _ => anyhow::bail!("organizer request {request_id} is not decided"),
                };
                let letter = render::Letter {
                    name: request.to.display_name.clone(),
                    event: None,
                    seats: None,
                    link: format!("{url}/{}", if approved { "agent" } else { "me" }),
                };
                let template = Template::RequestDecided {
                    approved,
                    organisation: request.organisation,
                    note: request.note,
                };
                Ok(Some(Self::composed(request.to, &template, &letter, None)))
            }
            MailJob::VerifyEmail { link_id, token } | MailJob::PasswordReset { link_id, token } => {
                // To the address the link was made for (a new one, for an email change).
                let to = self.link_recipient(*link_id).await?;
                let (template, page) = match job {
                    MailJob::VerifyEmail { .. } => (Template::VerifyEmail, "verify-email"),
                    _ => (Template::PasswordReset, "reset-password"),
                };
                let letter = render::Letter {
                    name: to.display_name.clone(),
                    event: None,
                    seats: None,
                    link: format!("{url}/{page}?token={token}"),
                };
                Ok(Some(Self::composed(to, &template, &letter, None)))
            }
            MailJob::EmailChanged { link_id, old_email } => {
                let mut to = self.link_recipient(*link_id).await?;
                let template = Template::EmailChanged {
                    new_email: std::mem::replace(&mut to.email, old_email.clone()),
                };
                let letter = render::Letter {
                    name: to.display_name.clone(),
                    event: None,
                    seats: None,
                    link: format!("{url}/me/security"),
                };
                Ok(Some(Self::composed(to, &template, &letter, None)))
            }
        }
    }

    /// The owner of an account link, at the address the link was sent to.
    async fn link_recipient(&self, link_id: i64) -> Result<Recipient> {
        self.db
            .fetch_optional(
                Sql::new(
                    "SELECT u.id AS user_id, l.email, u.display_name, u.locale, \
                     u.deleted_at IS NOT NULL AS deleted \
                     FROM account_links l JOIN users u ON u.id = l.user_id WHERE l.id = $1",
                )
                .arg(link_id),
            )
            .await?
            .with_context(|| format!("account link {link_id} does not exist"))
    }

    fn composed(
        to: Recipient,
        template: &render::Template,
        letter: &render::Letter,
        attachment: Option<(String, String)>,
    ) -> Composed {
        let locale = Locale::from_tag(&to.locale).unwrap_or_default();
        Composed {
            rendered: render::render(template, locale, letter),
            to,
            locale,
            attachment,
        }
    }

    async fn registration(&self, id: i64) -> Result<RegistrationRow> {
        self.db
            .fetch_optional(
                Sql::new(&format!(
                    "SELECT {RECIPIENT_COLUMNS}, {EVENT_COLUMNS}, r.status, r.quantity, t.name AS ticket_type \
                     FROM registrations r JOIN users u ON u.id = r.user_id \
                     JOIN events e ON e.id = r.event_id JOIN ticket_types t ON t.id = r.ticket_type_id \
                     WHERE r.id = $1"
                ))
                .arg(id),
            )
            .await?
            .with_context(|| format!("registration {id} does not exist"))
    }

    async fn event_for(&self, user_id: i64, event_id: i64) -> Result<(Recipient, EventRow)> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            to: Recipient,
            #[sqlx(flatten)]
            event: EventRow,
        }
        let row: Row = self
            .db
            .fetch_optional(
                Sql::new(&format!(
                    "SELECT {RECIPIENT_COLUMNS}, {EVENT_COLUMNS} FROM users u CROSS JOIN events e \
                     WHERE u.id = $1 AND e.id = $2"
                ))
                .arg(user_id)
                .arg(event_id),
            )
            .await?
            .with_context(|| format!("user {user_id} or event {event_id} does not exist"))?;
        Ok((row.to, row.event))
    }

    /// The registration's valid tickets, in the order they were issued.
    async fn ticket_codes(&self, registration_id: i64) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = self
            .db
            .fetch_all(
                Sql::new(
                    "SELECT code FROM tickets WHERE registration_id = $1 AND status = 'valid' ORDER BY id",
                )
                .arg(registration_id),
            )
            .await?;
        Ok(rows.into_iter().map(|(code,)| code).collect())
    }
}

/// The message body: text and HTML as alternatives, with the calendar file beside them.
fn body(row: &MailRow) -> MultiPart {
    let alternative =
        MultiPart::alternative_plain_html(row.text_body.clone(), row.html_body.clone());
    match (&row.attachment_name, &row.attachment) {
        (Some(name), Some(calendar)) => MultiPart::mixed().multipart(alternative).singlepart(
            Attachment::new(name.clone()).body(
                calendar.clone(),
                ContentType::parse("text/calendar; charset=utf-8; method=PUBLISH")
                    .expect("a valid content type"),
            ),
        ),
        _ => alternative,
    }
}

#[async_trait::async_trait]
impl Handler for Mailer {
    async fn run(&self, job: &Job) -> Result<()> {
        let mail: MailJob = job.payload().context("not a mail job's payload")?;
        self.send(mail).await
    }
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
