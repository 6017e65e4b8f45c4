//! `/api/v1/webhooks`: an organizer's (or admin's) own endpoints and their delivery logs, the
//! same ports the `/agent/webhooks` pages call. Another's endpoint answers `404`.
use super::auth::ApiUser;
use super::bookings::IdInput;
use super::error::{ApiError, ApiJson, ErrorBody};
use crate::AppState;
use app::auth::Role;
use app::error::AppError;
use app::webhooks::{Delivery, NewWebhook, Webhook};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The event types an endpoint may subscribe to.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
pub enum EventTypeName {
    #[serde(rename = "registration.confirmed")]
    RegistrationConfirmed,
    #[serde(rename = "registration.waitlisted")]
    RegistrationWaitlisted,
    #[serde(rename = "registration.cancelled")]
    RegistrationCancelled,
    #[serde(rename = "waitlist.promoted")]
    WaitlistPromoted,
    #[serde(rename = "event.published")]
    EventPublished,
    #[serde(rename = "event.changed")]
    EventChanged,
    #[serde(rename = "event.cancelled")]
    EventCancelled,
    #[serde(rename = "ticket.checked_in")]
    TicketCheckedIn,
}

impl EventTypeName {
    fn code(self) -> &'static str {
        let index = self as usize;
        app::webhooks::EVENT_TYPES[index]
    }
}

// `NewWebhook` with the types checked by serde and the event id as text or a number.
#[derive(Deserialize, ToSchema)]
pub struct WebhookInput {
    /// `http://` or `https://`, on a public address (private networks are refused unless the
    /// server allows them).
    #[schema(min_length = 1, max_length = 2000)]
    pub url: String,
    /// At least one.
    #[schema(min_items = 1)]
    pub events: Vec<EventTypeName>,
    /// One of the caller's events; absent or null = all of them (for an admin: the platform).
    #[serde(default)]
    pub event_id: Option<IdInput>,
}

// `Webhook` with string ids, as the API writes ids.
#[derive(Serialize, ToSchema)]
pub struct WebhookDto {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub event_id: Option<String>,
    pub active: bool,
    /// `gone` (the endpoint answered 410) · `failures` (too many failed deliveries in a row)
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<Webhook> for WebhookDto {
    fn from(w: Webhook) -> Self {
        WebhookDto {
            id: w.id.to_string(),
            url: w.url,
            events: w.events,
            event_id: w.event_id.map(|e| e.to_string()),
            active: w.active,
            disabled_reason: w.disabled_reason,
            created_at: w.created_at,
        }
    }
}

// The new endpoint with its secret, the only answer that carries it.
#[derive(Serialize, ToSchema)]
pub struct CreatedWebhookDto {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub event_id: Option<String>,
    pub active: bool,
    /// `whsec_` and the base64 of the HMAC key's bytes; shown only here.
    pub secret: String,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedWebhookBody {
    pub webhook: CreatedWebhookDto,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookBody {
    pub webhook: WebhookDto,
}

#[derive(Serialize, ToSchema)]
pub struct Webhooks {
    pub items: Vec<WebhookDto>,
}

#[derive(Serialize, ToSchema)]
pub struct SecretBody {
    /// The new secret; the previous one keeps signing beside it for a day.
    pub secret: String,
}

// `Delivery` with a string id and `type`.
#[derive(Serialize, ToSchema)]
pub struct DeliveryDto {
    pub id: String,
    /// The domain event's id, sent as `webhook-id`.
    pub webhook_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    /// pending · delivered · failed
    pub status: String,
    pub attempts: i64,
    pub response_code: Option<i64>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<Delivery> for DeliveryDto {
    fn from(d: Delivery) -> Self {
        DeliveryDto {
            id: d.id.to_string(),
            webhook_id: d.event_key,
            event_type: d.event_type,
            status: d.status.code().into(),
            attempts: d.attempts,
            response_code: d.response_code,
            last_attempt_at: d.last_attempt_at,
            created_at: d.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Deliveries {
    pub items: Vec<DeliveryDto>,
}

fn path_id(id: &str) -> Result<i64, AppError> {
    id.trim().parse().map_err(|_| AppError::NotFound)
}

/// Adds an endpoint (agents for their events, admins for any or the platform); the answer
/// carries the secret, shown only here.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = WebhookInput,
    security(("bearer" = [])),
    responses((status = 201, body = CreatedWebhookBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: ApiUser,
    ApiJson(input): ApiJson<WebhookInput>,
) -> Result<(StatusCode, Json<CreatedWebhookBody>), ApiError> {
    let actor = caller.require(Role::Agent)?;
    let event_id = input
        .event_id
        .as_ref()
        .map(|id| id.parse("event_id"))
        .transpose()?
        .map(app::events::EventId::from);
    let new = NewWebhook {
        url: input.url,
        events: input.events.iter().map(|t| t.code().to_owned()).collect(),
        event_id,
    };
    let created = state
        .services
        .webhook_commands
        .create_webhook(&actor, new)
        .await?;
    let w = created.webhook;
    Ok((
        StatusCode::CREATED,
        Json(CreatedWebhookBody {
            webhook: CreatedWebhookDto {
                id: w.id.to_string(),
                url: w.url,
                events: w.events,
                event_id: w.event_id.map(|e| e.to_string()),
                active: w.active,
                secret: created.secret,
            },
        }),
    ))
}

/// The caller's endpoints, without secrets.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, body = Webhooks), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiUser,
) -> Result<Json<Webhooks>, ApiError> {
    let actor = caller.require(Role::Agent)?;
    let items = state.services.webhook_queries.list_webhooks(&actor).await?;
    Ok(Json(Webhooks {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// Removes one of the caller's endpoints and its delivery log.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let actor = caller.require(Role::Agent)?;
    state
        .services
        .webhook_commands
        .delete_webhook(&actor, path_id(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new secret for one of the caller's endpoints; the previous one keeps signing beside it
/// for a day (both signatures are sent).
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/secret", tag = "webhooks", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = SecretBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn rotate(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<SecretBody>, ApiError> {
    let actor = caller.require(Role::Agent)?;
    let secret = state
        .services
        .webhook_commands
        .rotate_secret(&actor, path_id(&id)?)
        .await?;
    Ok(Json(SecretBody { secret }))
}

/// Turns a disabled endpoint of the caller's back on.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/enable", tag = "webhooks", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = WebhookBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn enable(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<WebhookBody>, ApiError> {
    let actor = caller.require(Role::Agent)?;
    let webhook = state
        .services
        .webhook_commands
        .enable_webhook(&actor, path_id(&id)?)
        .await?;
    Ok(Json(WebhookBody {
        webhook: webhook.into(),
    }))
}

/// The newest deliveries (at most 100) of one of the caller's endpoints, newest first.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = Deliveries), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn deliveries(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Deliveries>, ApiError> {
    let actor = caller.require(Role::Agent)?;
    let items = state
        .services
        .webhook_queries
        .list_deliveries(&actor, path_id(&id)?)
        .await?;
    Ok(Json(Deliveries {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// Sends a delivered or failed delivery again (`409` while it is pending or the endpoint is
/// disabled).
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{delivery_id}/retry", tag = "webhooks",
    params(("id" = String, Path), ("delivery_id" = String, Path)), security(("bearer" = [])),
    responses((status = 202), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn retry(
    State(state): State<AppState>,
    caller: ApiUser,
    Path((id, delivery)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let actor = caller.require(Role::Agent)?;
    state
        .services
        .webhook_commands
        .retry_delivery(&actor, path_id(&id)?, path_id(&delivery)?)
        .await?;
    Ok(StatusCode::ACCEPTED)
}
