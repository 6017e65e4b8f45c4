//! Webhooks on the database: the endpoints' ports (`app::webhooks::ports`), the outbox
//! [`Subscriber`] that turns a domain event into one delivery row and one job per interested
//! endpoint, and the delivery handler ([`deliver`]).
//!
//! An endpoint covers a domain event when it is active, subscribed to its type, its owner is
//! still an unblocked agent or admin, and its scope holds the event: its own `event_id`, or
//! none and the owner organizes the event, or none and the owner is an admin (the platform).
//! The delivery row is unique per (endpoint, domain event) and the job's dedupe key names both,
//! so a fan-out that runs twice writes nothing new.
pub mod deliver;
pub mod target;

use crate::db::{Db, Tx, now};
use crate::error::{StoreError, StoreResult};
use crate::jobs::{self, NewJob};
use crate::outbox::{DomainEvent, Subscriber};
use crate::sql::Sql;
use anyhow::Result;
use app::auth::rules::check_role;
use app::auth::{Role, UserView};
use app::error::{AppError, Problem};
use app::events::EventId;
use app::ssr::internal;
use app::webhooks::ports::{WebhookCommands, WebhookQueries};
use app::webhooks::rules::validate_webhook;
use app::webhooks::{
    CreatedWebhook, DELIVERIES_SHOWN, Delivery, DeliveryId, DeliveryStatus, NewWebhook, Webhook,
    WebhookId,
};
use chrono::{DateTime, TimeDelta, Utc};
use std::sync::Arc;
use std::time::Duration;

pub use deliver::{Deliverer, KIND};

/// The `EVENTHUB_WEBHOOKS_*` settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Targets on loopback and private networks are allowed (`EVENTHUB_WEBHOOKS_ALLOW_PRIVATE`,
    /// false; tests and local development set it).
    pub allow_private: bool,
    /// How long one attempt may take, connecting included (`EVENTHUB_WEBHOOKS_TIMEOUT_SECS`, 10).
    pub timeout: Duration,
    /// Attempts per delivery before it is failed (`EVENTHUB_WEBHOOKS_MAX_ATTEMPTS`, 8: about
    /// half an hour of growing delays).
    pub max_attempts: i64,
    /// Failed deliveries in a row that disable an endpoint (`EVENTHUB_WEBHOOKS_DISABLE_AFTER`, 5).
    pub disable_after: i64,
    /// Endpoints one owner may have (`EVENTHUB_WEBHOOKS_PER_OWNER`, 20).
    pub per_owner: i64,
    /// How long the secret before a rotation keeps signing (`EVENTHUB_WEBHOOKS_ROTATION_HOURS`, 24).
    pub rotation_overlap: TimeDelta,
    /// How long after creation or rotation the page may still show the secret, once
    /// (`EVENTHUB_WEBHOOKS_REVEAL_SECS`, 600).
    pub reveal_window: TimeDelta,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            allow_private: false,
            timeout: Duration::from_secs(10),
            max_attempts: 8,
            disable_after: 5,
            per_owner: 20,
            rotation_overlap: TimeDelta::hours(24),
            reveal_window: TimeDelta::minutes(10),
        }
    }
}

impl Settings {
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let d = Settings::default();
        let number = |name: &str, default: u64| -> Result<u64> {
            match crate::rate::parse_limit(name, var(name).as_deref(), default)? {
                Some(n) if n > 0 => Ok(n),
                _ => anyhow::bail!("{name} must be a positive whole number"),
            }
        };
        let allow_private = match var("EVENTHUB_WEBHOOKS_ALLOW_PRIVATE")
            .as_deref()
            .map(str::trim)
        {
            None => d.allow_private,
            Some(v) if v.eq_ignore_ascii_case("true") || v == "1" => true,
            Some(v) if v.eq_ignore_ascii_case("false") || v == "0" => false,
            Some(v) => {
                anyhow::bail!("EVENTHUB_WEBHOOKS_ALLOW_PRIVATE must be true or false, not {v:?}")
            }
        };
        let signed = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        Ok(Settings {
            allow_private,
            timeout: Duration::from_secs(number("EVENTHUB_WEBHOOKS_TIMEOUT_SECS", 10)?),
            max_attempts: signed(number("EVENTHUB_WEBHOOKS_MAX_ATTEMPTS", 8)?).min(100),
            disable_after: signed(number("EVENTHUB_WEBHOOKS_DISABLE_AFTER", 5)?),
            per_owner: signed(number("EVENTHUB_WEBHOOKS_PER_OWNER", 20)?),
            rotation_overlap: TimeDelta::hours(
                signed(number("EVENTHUB_WEBHOOKS_ROTATION_HOURS", 24)?).min(24 * 365),
            ),
            reveal_window: TimeDelta::seconds(
                signed(number("EVENTHUB_WEBHOOKS_REVEAL_SECS", 600)?).min(86_400),
            ),
        })
    }
}

/// A new secret: `whsec_` and the base64 of 32 random bytes (the HMAC key is those bytes).
pub fn new_secret() -> String {
    use rand::RngCore;
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    format!("whsec_{}", data_encoding::BASE64.encode(&key))
}

/// The webhook ports on the database.
pub struct Webhooks {
    db: Db,
    settings: Settings,
}

impl Webhooks {
    pub fn new(db: Db, settings: Settings) -> Arc<Self> {
        Arc::new(Webhooks { db, settings })
    }

    /// The outbox subscriber of these endpoints.
    pub fn subscriber(&self) -> Arc<WebhookSubscriber> {
        Arc::new(WebhookSubscriber {
            max_attempts: self.settings.max_attempts,
        })
    }
}

const ENDPOINT_SELECT: &str = "SELECT w.id, w.url, w.event_types, w.event_id, e.title AS event_title, \
    w.active, w.disabled_reason, w.consecutive_failures, w.previous_until, w.created_at \
    FROM webhook_endpoints w LEFT JOIN events e ON e.id = w.event_id";

#[derive(sqlx::FromRow)]
struct EndpointRow {
    id: i64,
    url: String,
    event_types: String,
    event_id: Option<i64>,
    event_title: Option<String>,
    active: bool,
    disabled_reason: Option<String>,
    consecutive_failures: i64,
    previous_until: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl EndpointRow {
    fn into_webhook(self, now: DateTime<Utc>) -> Webhook {
        Webhook {
            id: self.id,
            url: self.url,
            events: self
                .event_types
                .split(',')
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
            event_id: self.event_id.map(EventId::from),
            event_title: self.event_title,
            active: self.active,
            disabled_reason: self.disabled_reason,
            consecutive_failures: self.consecutive_failures,
            previous_secret_until: self.previous_until.filter(|until| *until > now),
            created_at: self.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: i64,
    event_key: String,
    event_type: String,
    status: String,
    attempts: i64,
    response_code: Option<i64>,
    last_attempt_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl DeliveryRow {
    fn into_delivery(self) -> Result<Delivery, AppError> {
        Ok(Delivery {
            id: self.id,
            event_key: self.event_key,
            event_type: self.event_type,
            status: DeliveryStatus::from_code(&self.status)
                .ok_or_else(|| internal("unknown delivery status"))?,
            attempts: self.attempts,
            response_code: self.response_code,
            last_attempt_at: self.last_attempt_at,
            created_at: self.created_at,
        })
    }
}

fn url_refused(refusal: &target::Refusal) -> AppError {
    AppError::field(
        "url",
        Problem::Malformed {
            detail: refusal.text(),
        },
    )
}

impl Webhooks {
    async fn endpoint(&self, actor: &UserView, id: WebhookId) -> StoreResult<Webhook> {
        let sql = format!("{ENDPOINT_SELECT} WHERE w.id = $1 AND w.owner_id = $2");
        let row: Option<EndpointRow> = self
            .db
            .fetch_optional(Sql::new(&sql).arg(id).arg(actor.id))
            .await?;
        Ok(row.ok_or(AppError::NotFound)?.into_webhook(now()))
    }

    /// Checks that the actor may scope an endpoint to `event`: its organizer, or an admin.
    async fn check_scope(
        &self,
        tx: &mut Tx<'_>,
        actor: &UserView,
        event: EventId,
    ) -> StoreResult<()> {
        let organizer: Option<i64> = tx
            .scalar_optional(Sql::new("SELECT organizer_id FROM events WHERE id = $1").arg(event))
            .await?;
        match organizer {
            Some(organizer) if actor.role >= Role::Admin || organizer == actor.id.get() => Ok(()),
            _ => Err(AppError::field(
                "event_id",
                Problem::Malformed {
                    detail: "not one of your events".into(),
                },
            )
            .into()),
        }
    }
}

#[async_trait::async_trait]
impl WebhookCommands for Webhooks {
    #[tracing::instrument(skip_all, fields(actor = actor.id.get()))]
    async fn create_webhook(
        &self,
        actor: &UserView,
        new: NewWebhook,
    ) -> Result<CreatedWebhook, AppError> {
        check_role(actor, Role::Agent)?;
        let new = validate_webhook(&new).map_err(AppError::Invalid)?;
        target::check(&new.url, self.settings.allow_private)
            .await
            .map_err(|r| url_refused(&r))?;
        let secret = new_secret();
        let at = now();
        let id = async {
            let mut tx = self.db.begin_write().await?;
            if let Some(event) = new.event_id {
                self.check_scope(&mut tx, actor, event).await?;
            }
            let held: i64 = tx
                .scalar(
                    Sql::new("SELECT COUNT(*) FROM webhook_endpoints WHERE owner_id = $1")
                        .arg(actor.id),
                )
                .await?;
            if held >= self.settings.per_owner {
                return Err(StoreError::from(AppError::field(
                    "url",
                    Problem::TooMany {
                        max: usize::try_from(self.settings.per_owner).unwrap_or(usize::MAX),
                    },
                )));
            }
            let id: i64 = tx
                .scalar(
                    Sql::new(
                        "INSERT INTO webhook_endpoints (owner_id, event_id, url, event_types, secret, \
                         reveal_until, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                    )
                    .arg(actor.id)
                    .arg(new.event_id)
                    .arg(new.url.as_str())
                    .arg(new.events.join(","))
                    .arg(secret.as_str())
                    .arg(at + self.settings.reveal_window)
                    .arg(at),
                )
                .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(id)
        }
        .await?;
        let webhook = self.endpoint(actor, id).await?;
        Ok(CreatedWebhook { webhook, secret })
    }

    #[tracing::instrument(skip_all, fields(actor = actor.id.get(), webhook = id))]
    async fn rotate_secret(&self, actor: &UserView, id: WebhookId) -> Result<String, AppError> {
        check_role(actor, Role::Agent)?;
        let secret = new_secret();
        let at = now();
        let changed = self
            .db
            .execute(
                Sql::new(
                    "UPDATE webhook_endpoints SET previous_secret = secret, previous_until = $3, \
                     secret = $4, reveal_until = $5 WHERE id = $1 AND owner_id = $2",
                )
                .arg(id)
                .arg(actor.id)
                .arg(at + self.settings.rotation_overlap)
                .arg(secret.as_str())
                .arg(at + self.settings.reveal_window),
            )
            .await
            .map_err(StoreError::from)?;
        if changed == 0 {
            return Err(AppError::NotFound);
        }
        Ok(secret)
    }

    #[tracing::instrument(skip_all, fields(actor = actor.id.get(), webhook = id))]
    async fn reveal_secret(
        &self,
        actor: &UserView,
        id: WebhookId,
    ) -> Result<Option<String>, AppError> {
        check_role(actor, Role::Agent)?;
        let secret: Option<String> = self
            .db
            .scalar_optional(
                Sql::new(
                    "UPDATE webhook_endpoints SET reveal_until = NULL \
                     WHERE id = $1 AND owner_id = $2 AND reveal_until > $3 RETURNING secret",
                )
                .arg(id)
                .arg(actor.id)
                .arg(now()),
            )
            .await
            .map_err(StoreError::from)?;
        if secret.is_none() {
            // Another's endpoint (or none) is not found; one's own just has nothing to show.
            self.endpoint(actor, id).await?;
        }
        Ok(secret)
    }

    #[tracing::instrument(skip_all, fields(actor = actor.id.get(), webhook = id))]
    async fn delete_webhook(&self, actor: &UserView, id: WebhookId) -> Result<(), AppError> {
        check_role(actor, Role::Agent)?;
        async {
            let mut tx = self.db.begin_write().await?;
            let deleted = tx
                .execute(
                    Sql::new("DELETE FROM webhook_endpoints WHERE id = $1 AND owner_id = $2")
                        .arg(id)
                        .arg(actor.id),
                )
                .await?;
            if deleted == 0 {
                return Err(StoreError::from(AppError::NotFound));
            }
            tx.execute(Sql::new("DELETE FROM webhook_deliveries WHERE endpoint_id = $1").arg(id))
                .await?;
            tx.commit().await?;
            Ok(())
        }
        .await
        .map_err(AppError::from)
    }

    #[tracing::instrument(skip_all, fields(actor = actor.id.get(), webhook = id))]
    async fn enable_webhook(&self, actor: &UserView, id: WebhookId) -> Result<Webhook, AppError> {
        check_role(actor, Role::Agent)?;
        let changed = self
            .db
            .execute(
                Sql::new(
                    "UPDATE webhook_endpoints SET active = TRUE, disabled_reason = NULL, \
                     consecutive_failures = 0 WHERE id = $1 AND owner_id = $2",
                )
                .arg(id)
                .arg(actor.id),
            )
            .await
            .map_err(StoreError::from)?;
        if changed == 0 {
            return Err(AppError::NotFound);
        }
        Ok(self.endpoint(actor, id).await?)
    }

    #[tracing::instrument(skip_all, fields(actor = actor.id.get(), webhook = id, delivery))]
    async fn retry_delivery(
        &self,
        actor: &UserView,
        id: WebhookId,
        delivery: DeliveryId,
    ) -> Result<(), AppError> {
        check_role(actor, Role::Agent)?;
        let at = now();
        async {
            let mut tx = self.db.begin_write().await?;
            let found: Option<(String, String, bool)> = tx
                .fetch_optional(
                    Sql::new(
                        "SELECT d.status, d.event_key, w.active FROM webhook_deliveries d \
                         JOIN webhook_endpoints w ON w.id = d.endpoint_id \
                         WHERE d.id = $1 AND d.endpoint_id = $2 AND w.owner_id = $3",
                    )
                    .arg(delivery)
                    .arg(id)
                    .arg(actor.id),
                )
                .await?;
            let (status, event_key, active) = found.ok_or(AppError::NotFound)?;
            if !active {
                return Err(StoreError::from(AppError::Conflict {
                    field: "active".into(),
                    problem: Problem::WrongStatus {
                        status: "disabled".into(),
                    },
                }));
            }
            if status == DeliveryStatus::Pending.code() {
                return Err(StoreError::from(AppError::Conflict {
                    field: "status".into(),
                    problem: Problem::WrongStatus { status },
                }));
            }
            tx.execute(
                Sql::new("UPDATE webhook_deliveries SET status = 'pending' WHERE id = $1")
                    .arg(delivery),
            )
            .await?;
            let job = deliver::job(
                delivery,
                format!("webhook:{id}:{event_key}:again:{}", crate::random_hex(8)),
                self.settings.max_attempts,
                at,
            );
            jobs::enqueue(&mut tx, &[job], at).await?;
            tx.commit().await?;
            Ok(())
        }
        .await
        .map_err(AppError::from)
    }
}

#[async_trait::async_trait]
impl WebhookQueries for Webhooks {
    #[tracing::instrument(skip_all, fields(actor = actor.id.get()))]
    async fn list_webhooks(&self, actor: &UserView) -> Result<Vec<Webhook>, AppError> {
        check_role(actor, Role::Agent)?;
        let sql = format!("{ENDPOINT_SELECT} WHERE w.owner_id = $1 ORDER BY w.id");
        let rows: Vec<EndpointRow> = self
            .db
            .fetch_all(Sql::new(&sql).arg(actor.id))
            .await
            .map_err(StoreError::from)?;
        let at = now();
        Ok(rows.into_iter().map(|r| r.into_webhook(at)).collect())
    }

    #[tracing::instrument(skip_all, fields(actor = actor.id.get(), webhook = id))]
    async fn get_webhook(&self, actor: &UserView, id: WebhookId) -> Result<Webhook, AppError> {
        check_role(actor, Role::Agent)?;
        Ok(self.endpoint(actor, id).await?)
    }

    #[tracing::instrument(skip_all, fields(actor = actor.id.get(), webhook = id))]
    async fn list_deliveries(
        &self,
        actor: &UserView,
        id: WebhookId,
    ) -> Result<Vec<Delivery>, AppError> {
        check_role(actor, Role::Agent)?;
        self.endpoint(actor, id).await?;
        let rows: Vec<DeliveryRow> = self
            .db
            .fetch_all(
                Sql::new(
                    "SELECT id, event_key, event_type, status, attempts, response_code, \
                     last_attempt_at, created_at FROM webhook_deliveries \
                     WHERE endpoint_id = $1 ORDER BY id DESC LIMIT $2",
                )
                .arg(id)
                .arg(DELIVERIES_SHOWN),
            )
            .await
            .map_err(StoreError::from)?;
        rows.into_iter().map(DeliveryRow::into_delivery).collect()
    }
}

/// The outbox consumer: one delivery row and one job per endpoint that covers the event.
pub struct WebhookSubscriber {
    max_attempts: i64,
}

#[async_trait::async_trait]
impl Subscriber for WebhookSubscriber {
    fn name(&self) -> &'static str {
        "webhooks"
    }

    async fn jobs_for(
        &self,
        tx: &mut Tx<'_>,
        event: &DomainEvent,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<NewJob>> {
        let code = event.kind.code();
        let endpoints: Vec<(i64,)> = tx
            .fetch_all(
                Sql::new(
                    "SELECT w.id FROM webhook_endpoints w JOIN users u ON u.id = w.owner_id \
                     WHERE w.active AND ',' || w.event_types || ',' LIKE $1 \
                     AND u.role IN ('agent', 'admin') AND NOT u.blocked \
                     AND (w.event_id = $2 OR (w.event_id IS NULL AND (u.role = 'admin' \
                          OR w.owner_id = (SELECT organizer_id FROM events WHERE id = $2)))) \
                     ORDER BY w.id",
                )
                .arg(format!("%,{code},%"))
                .arg(event.event_id),
            )
            .await?;
        if endpoints.is_empty() {
            return Ok(Vec::new());
        }
        // Payloads name the event by its public uuid too (stable, so reading it now gives what
        // it was when the event happened), unless the event is gone by now.
        let uuid: Option<String> = tx
            .scalar_optional(
                Sql::new("SELECT uuid FROM events WHERE id = $1 AND uuid IS NOT NULL")
                    .arg(event.event_id),
            )
            .await?;
        let mut event = event.clone();
        if let (Some(uuid), Some(data)) = (uuid, event.data.as_object_mut()) {
            data.insert("event_uuid".into(), serde_json::Value::String(uuid));
        }
        let body = deliver::body(&event);
        let mut jobs = Vec::with_capacity(endpoints.len());
        for (endpoint,) in endpoints {
            let inserted: Option<i64> = tx
                .scalar_optional(
                    Sql::new(
                        "INSERT INTO webhook_deliveries (endpoint_id, event_key, event_type, body, created_at) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (endpoint_id, event_key) DO NOTHING RETURNING id",
                    )
                    .arg(endpoint)
                    .arg(event.id.as_str())
                    .arg(code)
                    .arg(body.as_str())
                    .arg(now),
                )
                .await?;
            let delivery = match inserted {
                Some(id) => id,
                // Fanned out before: the job exists too (its dedupe key drops this one).
                None => {
                    tx.scalar(
                        Sql::new(
                            "SELECT id FROM webhook_deliveries WHERE endpoint_id = $1 AND event_key = $2",
                        )
                        .arg(endpoint)
                        .arg(event.id.as_str()),
                    )
                    .await?
                }
            };
            jobs.push(deliver::job(
                delivery,
                format!("webhook:{endpoint}:{}", event.id),
                self.max_attempts,
                now,
            ));
        }
        Ok(jobs)
    }
}
