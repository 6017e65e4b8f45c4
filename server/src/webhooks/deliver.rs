//! The handler of [`KIND`] jobs: one attempt at one delivery.
//!
//! It loads the delivery and its endpoint (nothing to do when either is gone or the delivery
//! is no longer pending: a second run of a finished job changes nothing), checks the target
//! again and connects to the very address it checked, without following redirects, within
//! the timeout. The body is the one stored at fan-out, signed with the endpoint's secret (and
//! the previous one while it still signs). A 2xx answer delivers it and resets the endpoint's
//! failure count; 410 fails it and disables the endpoint at once; anything else (a timeout, a
//! refused connection) is an `Err`, retried by the queue with growing delays, until the job's
//! last attempt: then the delivery is failed, the endpoint counts a failed delivery, and after
//! `disable_after` in a row it is disabled. Its owner gets a notice on `/me` when that happens.
use super::Settings;
use super::target::{self, Refusal};
use crate::db::{Db, Tx, now};
use crate::error::StoreResult;
use crate::jobs::{Handler, Job, NewJob};
use crate::metrics::pipeline;
use crate::outbox::DomainEvent;
use crate::sql::Sql;
use anyhow::Context;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::sync::Arc;

/// The job kind of one delivery attempt.
pub const KIND: &str = "webhook";

/// Deliveries run after the fan-out and the mail.
const PRIORITY: i64 = 0;

/// The payload of a [`KIND`] job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryJob {
    pub delivery_id: i64,
}

/// The job that attempts `delivery`, unique by `dedupe_key`.
pub fn job(delivery: i64, dedupe_key: String, max_attempts: i64, now: DateTime<Utc>) -> NewJob {
    NewJob::new(
        KIND,
        serde_json::json!(DeliveryJob {
            delivery_id: delivery
        }),
        now,
    )
    .priority(PRIORITY)
    .max_attempts(max_attempts)
    .dedupe_key(dedupe_key)
}

/// The JSON a delivery carries: `{id, type, created_at, data}`, `id` the domain event's (the
/// same on every attempt and every endpoint, so receivers can drop repeats).
pub fn body(event: &DomainEvent) -> String {
    serde_json::json!({
        "id": event.id,
        "type": event.kind.code(),
        "created_at": event.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "data": event.data,
    })
    .to_string()
}

/// `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>` for a `whsec_…` secret.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &str) -> anyhow::Result<String> {
    let key = data_encoding::BASE64
        .decode(secret.trim_start_matches("whsec_").as_bytes())
        .context("a webhook secret that is not base64")?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).context("an HMAC key")?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Ok(format!(
        "v1,{}",
        data_encoding::BASE64.encode(&mac.finalize().into_bytes())
    ))
}

/// Sends webhook deliveries.
pub struct Deliverer {
    db: Db,
    settings: Settings,
}

impl Deliverer {
    pub fn new(db: Db, settings: Settings) -> Arc<Self> {
        Arc::new(Deliverer { db, settings })
    }
}

#[derive(sqlx::FromRow)]
struct Pending {
    id: i64,
    event_key: String,
    body: String,
    status: String,
    endpoint_id: i64,
    owner_id: i64,
    event_id: Option<i64>,
    url: String,
    secret: String,
    previous_secret: Option<String>,
    previous_until: Option<DateTime<Utc>>,
    active: bool,
}

/// What one attempt came to.
enum Attempt {
    /// 2xx.
    Delivered(u16),
    /// 410 Gone: the receiver wants no more.
    Gone,
    /// Another status, a timeout or no connection: worth trying again.
    Failed(Option<u16>, String),
    /// The target is (now) on a network we do not send to.
    Refused(String),
}

#[async_trait::async_trait]
impl Handler for Deliverer {
    async fn run(&self, job: &Job) -> anyhow::Result<()> {
        let payload: DeliveryJob = job.payload().context("not a webhook delivery's payload")?;
        let found: Option<Pending> = self
            .db
            .fetch_optional(
                Sql::new(
                    "SELECT d.id, d.event_key, d.body, d.status, w.id AS endpoint_id, w.owner_id, \
                     w.event_id, w.url, w.secret, w.previous_secret, w.previous_until, w.active \
                     FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id \
                     WHERE d.id = $1",
                )
                .arg(payload.delivery_id),
            )
            .await?;
        let Some(pending) = found.filter(|p| p.status == "pending") else {
            // Deleted with its endpoint, or finished by an earlier run of this job.
            return Ok(());
        };
        if !pending.active {
            self.finish(&pending, "failed", None, None).await?;
            return Ok(());
        }
        let attempt = self.attempt(&pending).await;
        let last = job.attempts >= job.max_attempts;
        match attempt {
            Attempt::Delivered(code) => {
                pipeline().webhook_delivery("delivered");
                self.finish(&pending, "delivered", Some(code), None).await?;
                Ok(())
            }
            Attempt::Gone => {
                pipeline().webhook_delivery("failed");
                self.finish(&pending, "failed", Some(410), Some(Outcome::Gone))
                    .await?;
                Ok(())
            }
            Attempt::Refused(why) => {
                pipeline().webhook_delivery("refused");
                tracing::warn!(delivery = pending.id, endpoint = pending.endpoint_id, %why, "webhook target refused");
                self.finish(&pending, "failed", None, Some(Outcome::Failure))
                    .await?;
                Ok(())
            }
            Attempt::Failed(code, why) if last => {
                pipeline().webhook_delivery("dead");
                self.finish(&pending, "failed", code, Some(Outcome::Failure))
                    .await?;
                tracing::warn!(delivery = pending.id, endpoint = pending.endpoint_id, %why, "webhook delivery failed its last attempt");
                Ok(())
            }
            Attempt::Failed(code, why) => {
                pipeline().webhook_delivery("failed");
                self.record_attempt(&pending, code).await?;
                anyhow::bail!("webhook delivery {} failed: {why}", pending.id)
            }
        }
    }
}

/// What a finished delivery does to its endpoint.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// 410: disabled at once.
    Gone,
    /// One more failed delivery in a row.
    Failure,
}

impl Deliverer {
    async fn attempt(&self, pending: &Pending) -> Attempt {
        let target = match target::check(&pending.url, self.settings.allow_private).await {
            Ok(target) => target,
            Err(Refusal::Unresolvable) => {
                return Attempt::Failed(None, "the host could not be resolved".into());
            }
            Err(refusal) => return Attempt::Refused(refusal.text()),
        };
        let at = now();
        let timestamp = at.timestamp();
        let mut signatures = Vec::with_capacity(2);
        let mut secrets = vec![pending.secret.as_str()];
        if let (Some(previous), Some(until)) = (&pending.previous_secret, pending.previous_until)
            && until > at
        {
            secrets.push(previous);
        }
        for secret in secrets {
            match signature(secret, &pending.event_key, timestamp, &pending.body) {
                Ok(s) => signatures.push(s),
                Err(e) => return Attempt::Failed(None, format!("{e:#}")),
            }
        }
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(self.settings.timeout)
            .user_agent("EventHub-Webhooks/1");
        if let Some(domain) = &target.domain {
            // Connect to the address just checked, not to a second look-up's answer.
            builder = builder.resolve(domain, target.addr);
        }
        let client = match builder.build() {
            Ok(client) => client,
            Err(e) => return Attempt::Failed(None, format!("no HTTP client: {e}")),
        };
        let sent = client
            .post(target.url)
            .header("content-type", "application/json")
            .header("webhook-id", &pending.event_key)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signatures.join(" "))
            .body(pending.body.clone())
            .send()
            .await;
        match sent {
            Ok(res) => {
                let code = res.status().as_u16();
                match code {
                    200..=299 => Attempt::Delivered(code),
                    410 => Attempt::Gone,
                    _ => Attempt::Failed(Some(code), format!("answered {code}")),
                }
            }
            Err(e) if e.is_timeout() => Attempt::Failed(None, "timed out".into()),
            Err(e) => Attempt::Failed(None, format!("{e}")),
        }
    }

    /// A failed attempt that will be tried again.
    async fn record_attempt(&self, pending: &Pending, code: Option<u16>) -> StoreResult<()> {
        self.db
            .execute(
                Sql::new(
                    "UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = $2, \
                     response_code = $3 WHERE id = $1 AND status = 'pending'",
                )
                .arg(pending.id)
                .arg(now())
                .arg(code.map(i64::from)),
            )
            .await?;
        Ok(())
    }

    /// The delivery's last attempt: its status, and what it does to the endpoint.
    async fn finish(
        &self,
        pending: &Pending,
        status: &str,
        code: Option<u16>,
        outcome: Option<Outcome>,
    ) -> StoreResult<()> {
        let at = now();
        let mut tx = self.db.begin_write().await?;
        let attempted = code.is_some() || outcome.is_some();
        let changed = tx
            .execute(
                Sql::new(
                    "UPDATE webhook_deliveries SET status = $2, attempts = attempts + $3, \
                     last_attempt_at = COALESCE($4, last_attempt_at), response_code = COALESCE($5, response_code) \
                     WHERE id = $1 AND status = 'pending'",
                )
                .arg(pending.id)
                .arg(status)
                .arg(i64::from(attempted))
                .arg(attempted.then_some(at))
                .arg(code.map(i64::from)),
            )
            .await?;
        if changed == 0 {
            // Another run finished it first.
            return Ok(());
        }
        match (status, outcome) {
            ("delivered", _) => {
                tx.execute(
                    Sql::new(
                        "UPDATE webhook_endpoints SET consecutive_failures = 0 WHERE id = $1 \
                         AND consecutive_failures <> 0",
                    )
                    .arg(pending.endpoint_id),
                )
                .await?;
            }
            (_, Some(Outcome::Gone)) => disable(&mut tx, pending, "gone", at).await?,
            (_, Some(Outcome::Failure)) => {
                let failures: i64 = tx
                    .scalar(
                        Sql::new(
                            "UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1 \
                             WHERE id = $1 RETURNING consecutive_failures",
                        )
                        .arg(pending.endpoint_id),
                    )
                    .await?;
                if failures >= self.settings.disable_after {
                    disable(&mut tx, pending, "failures", at).await?;
                }
            }
            _ => {}
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Disables the endpoint for `reason` (`gone` · `failures`) and tells its owner, once.
async fn disable(
    tx: &mut Tx<'_>,
    pending: &Pending,
    reason: &str,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let changed = tx
        .execute(
            Sql::new(
                "UPDATE webhook_endpoints SET active = FALSE, disabled_reason = $2 \
                 WHERE id = $1 AND active",
            )
            .arg(pending.endpoint_id)
            .arg(reason),
        )
        .await?;
    if changed == 1 {
        tracing::warn!(
            endpoint = pending.endpoint_id,
            reason,
            "webhook endpoint disabled"
        );
        tx.execute(
            Sql::new(
                "INSERT INTO notices (user_id, event_id, kind, detail, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .arg(pending.owner_id)
            .arg(pending.event_id)
            .arg(format!("webhook_{reason}"))
            .arg(pending.url.as_str())
            .arg(at),
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_standard_webhooks_one() {
        // The example of the Standard Webhooks specification.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = r#"{"test": 2432232314}"#;
        let sig = signature(secret, id, 1614265330, body).unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
