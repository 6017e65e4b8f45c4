//! `/api/v1` registrations: the same booking commands and queries the pages use.
use super::auth::ApiUser;
use super::error::{ApiError, ApiJson, ErrorBody};
use super::events::EventSummary;
use crate::AppState;
use app::auth::Role;
use app::bookings::ports::{BookingCommands, BookingQueries};
use app::bookings::{NewRegistration, Reaction, Registration, TicketStatus};
use app::error::{AppError, Problem};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct TicketDto {
    /// The ticket's secret code with the server's signature (what the QR code holds).
    pub code: String,
    /// valid · cancelled
    pub status: String,
    pub checked_in_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct RegistrationDto {
    pub id: String,
    pub event_id: String,
    pub ticket_type_id: String,
    pub quantity: i64,
    /// confirmed · waitlisted · cancelled
    pub status: String,
    /// 1-based, while waitlisted.
    pub waitlist_position: Option<i64>,
    /// free · unpaid · paid
    pub payment: String,
    pub tickets: Vec<TicketDto>,
    pub created_at: DateTime<Utc>,
}

impl From<Registration> for RegistrationDto {
    fn from(r: Registration) -> Self {
        RegistrationDto {
            id: r.id.to_string(),
            event_id: r.event_id.to_string(),
            ticket_type_id: r.ticket_type_id.to_string(),
            quantity: r.quantity,
            status: r.status.code().into(),
            waitlist_position: r.waitlist_position,
            payment: r.payment.code().into(),
            tickets: r
                .tickets
                .into_iter()
                .map(|t| TicketDto {
                    code: t.token,
                    status: match t.status {
                        TicketStatus::Valid => "valid",
                        TicketStatus::Cancelled => "cancelled",
                    }
                    .into(),
                    checked_in_at: t.checked_in_at,
                })
                .collect(),
            created_at: r.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RegistrationBody {
    pub registration: RegistrationDto,
}

#[derive(Serialize, ToSchema)]
pub struct MyRegistrationDto {
    #[serde(flatten)]
    pub registration: RegistrationDto,
    pub event_summary: EventSummary,
}

#[derive(Serialize, ToSchema)]
pub struct MyRegistrations {
    pub items: Vec<MyRegistrationDto>,
}

/// An id as the API writes it (a string); a bare number is accepted too.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum IdInput {
    Text(String),
    Number(i64),
}

impl IdInput {
    fn parse(&self, field: &str) -> Result<i64, AppError> {
        match self {
            IdInput::Number(n) => Ok(*n),
            IdInput::Text(s) => s
                .trim()
                .parse()
                .map_err(|_| AppError::field(field, Problem::NumberInvalid)),
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct RegisterRequest {
    pub ticket_type_id: IdInput,
    pub quantity: i64,
}

fn id(text: &str) -> Result<i64, ApiError> {
    text.parse().map_err(|_| ApiError(AppError::NotFound))
}

/// Books seats of one ticket type: `201` confirmed with tickets, or `201` waitlisted with a
/// position when sold out or others wait; `409` when the event is not open for booking.
#[utoipa::path(post, path = "/api/v1/events/{id}/registrations", tag = "registrations", params(("id" = String, Path)),
    request_body = RegisterRequest, security(("bearer" = [])),
    responses((status = 201, body = RegistrationBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn register(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(event): Path<String>,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, Json<RegistrationBody>), ApiError> {
    let actor = caller.require(Role::User)?;
    let new = NewRegistration {
        event_id: id(&event)?,
        ticket_type_id: req.ticket_type_id.parse("ticket_type_id")?,
        quantity: req.quantity,
    };
    let registration = state.bookings.register(&actor, new).await?;
    Ok((
        StatusCode::CREATED,
        Json(RegistrationBody {
            registration: registration.into(),
        }),
    ))
}

/// Cancels a registration: its holder before the event starts, the organizer or an admin any
/// time. Freed seats go to waiting groups in arrival order in the same transaction.
#[utoipa::path(delete, path = "/api/v1/registrations/{id}", tag = "registrations", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = RegistrationBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(registration): Path<String>,
) -> Result<Json<RegistrationBody>, ApiError> {
    let actor = caller.require(Role::User)?;
    let registration = state
        .bookings
        .cancel_registration(&actor, id(&registration)?)
        .await?;
    Ok(Json(RegistrationBody {
        registration: registration.into(),
    }))
}

/// One registration: its holder, the event's organizer or an admin.
#[utoipa::path(get, path = "/api/v1/registrations/{id}", tag = "registrations", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = RegistrationBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(registration): Path<String>,
) -> Result<Json<RegistrationBody>, ApiError> {
    let actor = caller.require(Role::User)?;
    let registration = state
        .bookings
        .get_registration(&actor, id(&registration)?)
        .await?;
    Ok(Json(RegistrationBody {
        registration: registration.into(),
    }))
}

/// The caller's registrations with their events, soonest event first.
#[utoipa::path(get, path = "/api/v1/me/registrations", tag = "registrations", security(("bearer" = [])),
    responses((status = 200, body = MyRegistrations), (status = 401, body = ErrorBody)))]
pub async fn mine(
    State(state): State<AppState>,
    caller: ApiUser,
) -> Result<Json<MyRegistrations>, ApiError> {
    let actor = caller.require(Role::User)?;
    let items = state
        .bookings
        .my_registrations(&actor)
        .await?
        .into_iter()
        .map(|m| MyRegistrationDto {
            registration: m.registration.into(),
            event_summary: m.event.into(),
        })
        .collect();
    Ok(Json(MyRegistrations { items }))
}

fn reaction(kind: &str) -> Result<Reaction, ApiError> {
    Reaction::from_code(kind).ok_or(ApiError(AppError::NotFound))
}

/// Likes or saves an event; idempotent. Signed-in users.
#[utoipa::path(put, path = "/api/v1/events/{id}/reactions/{kind}", tag = "reactions",
    params(("id" = String, Path), ("kind" = String, Path, description = "like or save")), security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn react(
    state: State<AppState>,
    caller: ApiUser,
    path: Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    mark(state, caller, path, true).await
}

/// Sets or clears one mark: the body of both reaction handlers.
async fn mark(
    State(state): State<AppState>,
    caller: ApiUser,
    Path((event, kind)): Path<(String, String)>,
    on: bool,
) -> Result<StatusCode, ApiError> {
    let actor = caller.require(Role::User)?;
    state
        .bookings
        .set_reaction(&actor, id(&event)?, reaction(&kind)?, on)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Takes a like or save back; idempotent. Signed-in users.
#[utoipa::path(delete, path = "/api/v1/events/{id}/reactions/{kind}", tag = "reactions",
    params(("id" = String, Path), ("kind" = String, Path, description = "like or save")), security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn unreact(
    state: State<AppState>,
    caller: ApiUser,
    path: Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    mark(state, caller, path, false).await
}

#[derive(Serialize, ToSchema)]
pub struct MyReactionsBody {
    pub likes: Vec<EventSummary>,
    pub saves: Vec<EventSummary>,
}

/// The events the caller liked and saved.
#[utoipa::path(get, path = "/api/v1/me/reactions", tag = "reactions", security(("bearer" = [])),
    responses((status = 200, body = MyReactionsBody), (status = 401, body = ErrorBody)))]
pub async fn my_reactions(
    State(state): State<AppState>,
    caller: ApiUser,
) -> Result<Json<MyReactionsBody>, ApiError> {
    let actor = caller.require(Role::User)?;
    let mine = state.bookings.my_reactions(&actor).await?;
    Ok(Json(MyReactionsBody {
        likes: mine.likes.into_iter().map(Into::into).collect(),
        saves: mine.saves.into_iter().map(Into::into).collect(),
    }))
}
