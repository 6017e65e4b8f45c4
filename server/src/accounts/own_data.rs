//! What an account's owner takes away or ends: everything stored about them as one JSON
//! document, the private calendar feed of their bookings, and deleting the account.
//!
//! The feed's address carries `id.version.mac` (an HMAC of the id and `users.calendar_feed`),
//! so nothing secret is stored and a new address (the version moves on) stops the old one.
//!
//! Deleting an account keeps the reports exact: future bookings are cancelled the way the
//! holder would cancel them (seats back, the waitlist promoted, webhooks told), past ones stay
//! as anonymous rows; the user row stays too, with nothing personal left in it, because
//! registrations, events and the audit log point to it.
use super::{Accounts, verify_password};
use crate::db::Tx;
use crate::error::{StoreError, StoreResult};
use crate::sql::Sql;
use app::auth::{Role, UserId};
use app::error::{AppError, Problem};
use app::events::EventId;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

/// What a deleted account is called where its past bookings are still listed.
pub const DELETED_NAME: &str = "Deleted account";

/// Bytes of the feed address's MAC (128 bits).
const MAC_BYTES: usize = 16;

#[derive(sqlx::FromRow, Serialize)]
struct ProfileRow {
    id: i64,
    email: String,
    display_name: String,
    role: String,
    locale: String,
    created_at: DateTime<Utc>,
    email_verified_at: Option<DateTime<Utc>>,
    two_factor: bool,
}

#[derive(sqlx::FromRow, Serialize)]
struct RegistrationRow {
    id: i64,
    event_id: i64,
    event_uuid: String,
    event_title: String,
    event_starts_at: DateTime<Utc>,
    ticket_type: String,
    quantity: i64,
    status: String,
    payment: String,
    created_at: DateTime<Utc>,
    confirmed_at: Option<DateTime<Utc>>,
    cancelled_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow, Serialize)]
struct TicketRow {
    id: i64,
    registration_id: i64,
    event_id: i64,
    code: String,
    status: String,
    checked_in_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow, Serialize)]
struct ReactionRow {
    event_id: i64,
    event_title: String,
    kind: String,
    created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow, Serialize)]
struct RequestRow {
    id: i64,
    organisation: String,
    message: String,
    status: String,
    note: String,
    created_at: DateTime<Utc>,
    decided_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow, Serialize)]
struct NoticeRow {
    id: i64,
    event_id: Option<i64>,
    kind: String,
    detail: String,
    created_at: DateTime<Utc>,
    read_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct MessageRow {
    conversation_id: i64,
    title: String,
    conversation_created_at: DateTime<Utc>,
    role: String,
    content: String,
    created_at: DateTime<Utc>,
}

#[derive(Serialize)]
struct Conversation {
    id: i64,
    title: String,
    created_at: DateTime<Utc>,
    messages: Vec<Message>,
}

#[derive(Serialize)]
struct Message {
    role: String,
    content: String,
    created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow, Serialize)]
struct SessionRow {
    device: String,
    address: String,
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow, Serialize)]
struct AddressRow {
    address: String,
    last_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow, Serialize)]
struct WebhookRow {
    id: i64,
    url: String,
    event_types: String,
    active: bool,
    created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow, Serialize)]
struct MailRow {
    to_addr: String,
    subject: String,
    created_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
}

/// The export document (field names are the contract of `GET /api/v1/me/export`).
#[derive(Serialize)]
struct Export {
    exported_at: DateTime<Utc>,
    profile: ProfileRow,
    registrations: Vec<RegistrationRow>,
    tickets: Vec<TicketRow>,
    reactions: Vec<ReactionRow>,
    organizer_requests: Vec<RequestRow>,
    notices: Vec<NoticeRow>,
    conversations: Vec<Conversation>,
    sessions: Vec<SessionRow>,
    sign_in_addresses: Vec<AddressRow>,
    webhooks: Vec<WebhookRow>,
    mails: Vec<MailRow>,
}

#[derive(sqlx::FromRow)]
struct FeedRow {
    event_id: i64,
    title: String,
    summary: String,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    venue: String,
    address: String,
    city: String,
    event_status: String,
}

impl Accounts {
    pub(super) async fn export_of(&self, user: UserId) -> Result<String, AppError> {
        let by_user = |sql: &str| Sql::new(sql).arg(user);
        let profile: ProfileRow = self
            .db
            .fetch_optional(by_user(
                "SELECT u.id, u.email, u.display_name, u.role, u.locale, u.created_at, \
                 u.email_verified_at, EXISTS (SELECT 1 FROM user_totp t WHERE t.user_id = u.id \
                 AND t.confirmed_at IS NOT NULL) AS two_factor \
                 FROM users u WHERE u.id = $1 AND u.deleted_at IS NULL",
            ))
            .await
            .map_err(StoreError::from)?
            .ok_or(AppError::NotFound)?;
        let registrations = self
            .db
            .fetch_all(by_user(
                "SELECT r.id, r.event_id, e.uuid AS event_uuid, e.title AS event_title, \
                 e.starts_at AS event_starts_at, tt.name AS ticket_type, r.quantity, r.status, \
                 r.payment, r.created_at, r.confirmed_at, r.cancelled_at \
                 FROM registrations r JOIN events e ON e.id = r.event_id \
                 JOIN ticket_types tt ON tt.id = r.ticket_type_id \
                 WHERE r.user_id = $1 ORDER BY r.created_at, r.id",
            ))
            .await
            .map_err(StoreError::from)?;
        let tickets = self
            .db
            .fetch_all(by_user(
                "SELECT t.id, t.registration_id, t.event_id, t.code, t.status, t.checked_in_at \
                 FROM tickets t JOIN registrations r ON r.id = t.registration_id \
                 WHERE r.user_id = $1 ORDER BY t.id",
            ))
            .await
            .map_err(StoreError::from)?;
        let reactions = self
            .db
            .fetch_all(by_user(
                "SELECT x.event_id, e.title AS event_title, x.kind, x.created_at \
                 FROM reactions x JOIN events e ON e.id = x.event_id \
                 WHERE x.user_id = $1 ORDER BY x.created_at, x.event_id",
            ))
            .await
            .map_err(StoreError::from)?;
        let organizer_requests = self
            .db
            .fetch_all(by_user(
                "SELECT id, organisation, message, status, note, created_at, decided_at \
                 FROM agent_requests WHERE user_id = $1 ORDER BY id",
            ))
            .await
            .map_err(StoreError::from)?;
        let notices = self
            .db
            .fetch_all(by_user(
                "SELECT id, event_id, kind, detail, created_at, read_at FROM notices \
                 WHERE user_id = $1 ORDER BY id",
            ))
            .await
            .map_err(StoreError::from)?;
        let messages: Vec<MessageRow> = self
            .db
            .fetch_all(by_user(
                "SELECT c.id AS conversation_id, c.title, c.created_at AS conversation_created_at, \
                 m.role, m.content, m.created_at \
                 FROM assistant_conversations c JOIN assistant_messages m ON m.conversation_id = c.id \
                 WHERE c.user_id = $1 ORDER BY c.id, m.id",
            ))
            .await
            .map_err(StoreError::from)?;
        let mut conversations: Vec<Conversation> = Vec::new();
        for m in messages {
            if conversations
                .last()
                .is_none_or(|c| c.id != m.conversation_id)
            {
                conversations.push(Conversation {
                    id: m.conversation_id,
                    title: m.title,
                    created_at: m.conversation_created_at,
                    messages: Vec::new(),
                });
            }
            if let Some(c) = conversations.last_mut() {
                c.messages.push(Message {
                    role: m.role,
                    content: m.content,
                    created_at: m.created_at,
                });
            }
        }
        let sessions = self
            .db
            .fetch_all(by_user(
                "SELECT device, address, created_at, last_seen_at FROM account_sessions \
                 WHERE user_id = $1 ORDER BY created_at",
            ))
            .await
            .map_err(StoreError::from)?;
        let sign_in_addresses = self
            .db
            .fetch_all(by_user(
                "SELECT address, last_at FROM sign_in_addresses WHERE user_id = $1 ORDER BY last_at",
            ))
            .await
            .map_err(StoreError::from)?;
        let webhooks = self
            .db
            .fetch_all(by_user(
                "SELECT id, url, event_types, active, created_at FROM webhook_endpoints \
                 WHERE owner_id = $1 ORDER BY id",
            ))
            .await
            .map_err(StoreError::from)?;
        let mails = self
            .db
            .fetch_all(by_user(
                "SELECT to_addr, subject, created_at, sent_at FROM mails WHERE user_id = $1 ORDER BY id",
            ))
            .await
            .map_err(StoreError::from)?;
        let export = Export {
            exported_at: crate::db::now(),
            profile,
            registrations,
            tickets,
            reactions,
            organizer_requests,
            notices,
            conversations,
            sessions,
            sign_in_addresses,
            webhooks,
            mails,
        };
        serde_json::to_string_pretty(&export).map_err(app::ssr::internal)
    }

    fn feed_mac(&self, user: i64, version: i64) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.calendar_key)
            .expect("HMAC takes a key of any length");
        mac.update(format!("{user}.{version}").as_bytes());
        let bytes = mac.finalize().into_bytes();
        data_encoding::BASE32_NOPAD
            .encode(&bytes[..MAC_BYTES])
            .to_ascii_lowercase()
    }

    fn feed_token_of(&self, user: i64, version: i64) -> String {
        format!("{user}.{version}.{}", self.feed_mac(user, version))
    }

    async fn feed_version(&self, user: i64) -> StoreResult<Option<i64>> {
        Ok(self
            .db
            .fetch_optional::<(Option<i64>,)>(
                Sql::new("SELECT calendar_feed FROM users WHERE id = $1 AND deleted_at IS NULL")
                    .arg(user),
            )
            .await?
            .and_then(|(v,)| v)
            .filter(|v| *v > 0))
    }

    pub(super) async fn feed_token(&self, user: UserId) -> StoreResult<Option<String>> {
        Ok(self
            .feed_version(user.get())
            .await?
            .map(|v| self.feed_token_of(user.get(), v)))
    }

    pub(super) async fn feed_owner(&self, token: &str) -> StoreResult<Option<UserId>> {
        let mut parts = token.splitn(3, '.');
        let (Some(user), Some(version), Some(mac)) = (parts.next(), parts.next(), parts.next())
        else {
            return Ok(None);
        };
        let (Ok(user), Ok(version)) = (user.parse::<i64>(), version.parse::<i64>()) else {
            return Ok(None);
        };
        let expected = self.feed_mac(user, version);
        if !super::two_factor::constant_time_eq(expected.as_bytes(), mac.as_bytes()) {
            return Ok(None);
        }
        // Blocked accounts' feeds stop too.
        let current: Option<(Option<i64>, bool)> = self
            .db
            .fetch_optional(
                Sql::new(
                    "SELECT calendar_feed, blocked FROM users WHERE id = $1 AND deleted_at IS NULL",
                )
                .arg(user),
            )
            .await?;
        Ok(match current {
            Some((Some(v), false)) if v == version && v > 0 => Some(user.into()),
            _ => None,
        })
    }

    pub(super) async fn renew_feed(&self, user: UserId) -> Result<String, AppError> {
        let version: Option<i64> = self
            .db
            .fetch_optional::<(i64,)>(
                Sql::new(
                    "UPDATE users SET calendar_feed = abs(COALESCE(calendar_feed, 0)) + 1 \
                     WHERE id = $1 AND deleted_at IS NULL RETURNING calendar_feed",
                )
                .arg(user),
            )
            .await
            .map_err(StoreError::from)?
            .map(|(v,)| v);
        let version = version.ok_or(AppError::NotFound)?;
        tracing::info!(user = %user, "calendar feed address renewed");
        Ok(self.feed_token_of(user.get(), version))
    }

    pub(super) async fn stop_feed(&self, user: UserId) -> Result<(), AppError> {
        // A stopped feed keeps its version, negated: no address works, and a later renewal
        // gives a version never used before (an old address must not come back to life).
        self.db
            .execute(
                Sql::new("UPDATE users SET calendar_feed = -abs(calendar_feed) WHERE id = $1")
                    .arg(user),
            )
            .await
            .map_err(StoreError::from)?;
        Ok(())
    }

    /// The feed of `user`'s bookings (confirmed and waiting; cancelled ones and events
    /// cancelled show as cancelled for a month so calendars remove them), newest last.
    pub async fn feed_calendar(&self, user: UserId, base_url: &str) -> StoreResult<String> {
        let now = crate::db::now();
        let rows: Vec<FeedRow> = self
            .db
            .fetch_all(
                Sql::new(
                    "SELECT e.id AS event_id, e.title, e.summary, e.starts_at, e.ends_at, e.venue, \
                     e.address, e.city, \
                     CASE WHEN e.status = 'cancelled' OR NOT EXISTS (SELECT 1 FROM registrations a \
                       WHERE a.event_id = e.id AND a.user_id = $1 AND a.status <> 'cancelled') \
                       THEN 'cancelled' ELSE 'booked' END AS event_status \
                     FROM events e WHERE e.id IN (SELECT r.event_id FROM registrations r \
                       WHERE r.user_id = $1 AND (r.status <> 'cancelled' OR r.cancelled_at >= $2)) \
                     AND e.ends_at >= $3 ORDER BY e.starts_at, e.id LIMIT 500",
                )
                .arg(user)
                .arg(now - chrono::TimeDelta::days(30))
                .arg(now - chrono::TimeDelta::days(90)),
            )
            .await?;
        let locations: Vec<[&str; 3]> = rows
            .iter()
            .map(|r| [r.venue.as_str(), r.address.as_str(), r.city.as_str()])
            .collect();
        let entries: Vec<crate::ics::Entry<'_>> = rows
            .iter()
            .zip(&locations)
            .map(|(r, location)| crate::ics::Entry {
                event_id: r.event_id,
                title: &r.title,
                description: &r.summary,
                starts_at: r.starts_at,
                ends_at: r.ends_at,
                location,
                cancelled: r.event_status == "cancelled",
            })
            .collect();
        Ok(crate::ics::feed(&entries, "EventHub", base_url, now))
    }

    pub(super) async fn delete(
        &self,
        user: UserId,
        password: &str,
        otp: Option<&str>,
    ) -> Result<(), AppError> {
        let row = self.row(user).await?.ok_or(AppError::NotFound)?;
        let hash = row.password_hash.clone();
        let password_owned = password.to_owned();
        let right = super::blocking(self.limits.hash_wait, move || {
            verify_password(&password_owned, &hash)
        })
        .await?;
        if !right {
            return Err(AppError::field("password", Problem::PasswordWrong));
        }
        if self.two_factor_on(user).await? {
            match otp.map(str::trim).filter(|c| !c.is_empty()) {
                None => return Err(AppError::OtpRequired),
                Some(code) if !self.take_code(user, code, false).await? => {
                    return Err(AppError::OtpInvalid);
                }
                Some(_) => {}
            }
        }
        let (record, _) = row.into_record()?;
        let now = crate::db::now();
        let mut tx = self.db.begin_write().await.map_err(StoreError::from)?;
        let touched = match erase(&mut tx, user, record.user, now).await {
            Ok(touched) => touched,
            Err(e) => {
                drop(tx);
                return Err(e.into());
            }
        };
        tx.commit().await.map_err(StoreError::from)?;
        self.seat_changes.changed(&touched);
        tracing::info!(user = %user, "account deleted");
        Ok(())
    }
}

/// Everything deleting `user` changes, in `tx`: the refusals first, then the cancellations,
/// then the personal data. Answers the events whose seats changed.
async fn erase(
    tx: &mut Tx<'_>,
    user: UserId,
    mut view: app::auth::UserView,
    now: DateTime<Utc>,
) -> StoreResult<Vec<EventId>> {
    // Serialise with role changes that could remove the last admin (as admin.rs does).
    if let Tx::Postgres(_) = tx {
        tx.execute(Sql::new(
            "SELECT id FROM users WHERE role = 'admin' AND NOT blocked ORDER BY id FOR UPDATE",
        ))
        .await?;
    }
    let (role, blocked): (String, bool) = tx
        .fetch_optional(
            Sql::new("SELECT role, blocked FROM users WHERE id = $1 AND deleted_at IS NULL")
                .arg(user),
        )
        .await?
        .ok_or(AppError::NotFound)?;
    if role == Role::Admin.code() && !blocked {
        let others: i64 = tx
            .scalar(
                Sql::new(
                    "SELECT COUNT(*) FROM users WHERE role = 'admin' AND NOT blocked AND id <> $1",
                )
                .arg(user),
            )
            .await?;
        if others == 0 {
            return Err(AppError::Conflict {
                field: "account".into(),
                problem: Problem::LastAdminAccount,
            }
            .into());
        }
    }
    let upcoming: i64 = tx
        .scalar(
            Sql::new(
                "SELECT COUNT(*) FROM events WHERE organizer_id = $1 AND status = 'published' \
                 AND starts_at > $2",
            )
            .arg(user)
            .arg(now),
        )
        .await?;
    if upcoming > 0 {
        return Err(AppError::Conflict {
            field: "account".into(),
            problem: Problem::HasFutureEvents { count: upcoming },
        }
        .into());
    }
    // Cancelled as the holder would: seats back, the waitlist moves up, webhooks are told.
    let future: Vec<(i64,)> = tx
        .fetch_all(
            Sql::new(
                "SELECT r.id FROM registrations r JOIN events e ON e.id = r.event_id \
                 WHERE r.user_id = $1 AND r.status <> 'cancelled' AND e.starts_at > $2 ORDER BY r.id",
            )
            .arg(user)
            .arg(now),
        )
        .await?;
    // The holder's own rights (a held-back role changes nothing for their own bookings).
    view.role = Role::User;
    let mut touched = Vec::new();
    for (id,) in future {
        if let Some(event) = crate::bookings::commands::cancel(tx, &view, id.into(), now).await? {
            touched.push(event);
        }
    }
    for sql in [
        "DELETE FROM account_sessions WHERE user_id = $1",
        "DELETE FROM account_links WHERE user_id = $1",
        "DELETE FROM totp_recovery_codes WHERE user_id = $1",
        "DELETE FROM user_totp WHERE user_id = $1",
        "DELETE FROM reactions WHERE user_id = $1",
        "DELETE FROM notices WHERE user_id = $1",
        "DELETE FROM assistant_conversations WHERE user_id = $1",
        "DELETE FROM sign_in_addresses WHERE user_id = $1",
        "DELETE FROM idempotency_keys WHERE user_id = $1",
        "DELETE FROM mails WHERE user_id = $1",
        "DELETE FROM webhook_endpoints WHERE owner_id = $1",
        "UPDATE agent_requests SET organisation = '', message = '' WHERE user_id = $1",
    ] {
        tx.execute(Sql::new(sql).arg(user)).await?;
    }
    tx.execute(
        Sql::new(
            "UPDATE users SET email = $2, display_name = $3, password_hash = '!', blocked = TRUE, \
             email_verified_at = NULL, calendar_feed = NULL, auth_version = auth_version + 1, \
             deleted_at = $4, updated_at = $4 WHERE id = $1",
        )
        .arg(user)
        .arg(format!("deleted-{user}@deleted.invalid"))
        .arg(DELETED_NAME)
        .arg(now),
    )
    .await?;
    crate::audit::record(
        tx,
        user,
        "account.deleted",
        format!("user:{user}"),
        serde_json::json!({ "cancelled_registrations": touched.len() }),
    )
    .await?;
    Ok(touched)
}
