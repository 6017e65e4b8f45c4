//! `/api/v1` registrations: the same booking commands and queries the pages use.
use super::auth::ApiUser;
use super::error::{ApiError, ApiJson, ApiQuery, ErrorBody};
use super::events::EventSummary;
use crate::AppState;
use app::auth::Role;
use app::bookings::{
    Attendee, AttendeePage, AttendeeSearch, AttendeeTicket, CheckIn, IdempotencyKey,
    NewRegistration, Reaction, Registration, ScannedTicket, TicketStatus,
};
use app::error::{AppError, Problem};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

// `Ticket` with its token as `code`, without the bare code and the QR drawing.
#[derive(Serialize, ToSchema)]
pub struct TicketDto {
    /// The ticket's secret code with the server's signature (what the QR code holds).
    pub code: String,
    /// valid · cancelled
    pub status: String,
    pub checked_in_at: Option<DateTime<Utc>>,
}

// `Registration` with string ids and status codes, without the holder and the type's name.
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
                    status: ticket_status(t.status),
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

// `MyRegistration` flattened, its event as the API's `EventSummary`.
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
    Number(#[serde(deserialize_with = "super::error::whole::number")] i64),
}

impl IdInput {
    pub fn parse(&self, field: &str) -> Result<i64, AppError> {
        match self {
            IdInput::Number(n) => Ok(*n),
            IdInput::Text(s) => s
                .trim()
                .parse()
                .map_err(|_| AppError::field(field, Problem::NumberInvalid)),
        }
    }
}

// `NewRegistration` without the event (in the path); the ticket type's id may be a number.
#[derive(Deserialize, ToSchema)]
pub struct RegisterRequest {
    pub ticket_type_id: IdInput,
    /// Seats, 1 to the ticket type's `max_per_registration` (at most 100).
    #[serde(deserialize_with = "super::error::whole::number")]
    #[schema(minimum = 1, maximum = 100)]
    pub quantity: i64,
}

/// The `Idempotency-Key` header, checked; absent is `None`.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| AppError::field("Idempotency-Key", Problem::IdempotencyKeyInvalid))?;
    Ok(Some(IdempotencyKey::try_from(text.to_owned())?))
}

fn id(text: &str) -> Result<i64, ApiError> {
    text.parse().map_err(|_| ApiError(AppError::NotFound))
}

/// Books seats of one ticket type: `201` confirmed with tickets, or `201` waitlisted with a
/// position when sold out or others wait; `409` when the event is not open for booking.
/// With an `Idempotency-Key` header, a retry (same key, same caller, same body, within 24
/// hours) answers `201` with the registration the first request made instead of booking again;
/// the same key with another body answers `422`.
#[utoipa::path(post, path = "/api/v1/events/{id}/registrations", tag = "registrations",
    params(("id" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "1–255 visible ASCII characters naming this booking attempt; a retry with the same key books nothing new and answers the first registration")),
    request_body = RegisterRequest, security(("bearer" = [])),
    responses((status = 201, body = RegistrationBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, description = "too many bookings by this user (EVENTHUB_BOOKING_RATE)", body = ErrorBody)))]
pub async fn register(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(event): Path<String>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, Json<RegistrationBody>), ApiError> {
    let actor = caller.require(Role::User)?;
    let new = NewRegistration {
        event_id: id(&event)?.into(),
        ticket_type_id: req.ticket_type_id.parse("ticket_type_id")?.into(),
        quantity: req.quantity,
        idempotency_key: idempotency_key(&headers)?,
    };
    let registration = state
        .services
        .booking_commands
        .register(&actor, new)
        .await?;
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
        .services
        .booking_commands
        .cancel_registration(&actor, id(&registration)?.into())
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
        .services
        .booking_queries
        .get_registration(&actor, id(&registration)?.into())
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
        .services
        .booking_queries
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
        .services
        .booking_commands
        .set_reaction(&actor, id(&event)?.into(), reaction(&kind)?, on)
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

// `MyReactions` with the events as the API's `EventSummary`.
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
    let mine = state.services.booking_queries.my_reactions(&actor).await?;
    Ok(Json(MyReactionsBody {
        likes: mine.likes.into_iter().map(Into::into).collect(),
        saves: mine.saves.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct AttendeeUser {
    pub id: String,
    pub display_name: String,
    pub email: String,
}

// `Attendee` with string ids, the holder nested as `user` and status codes.
#[derive(Serialize, ToSchema)]
pub struct AttendeeDto {
    pub registration_id: String,
    pub user: AttendeeUser,
    pub ticket_type: String,
    pub quantity: i64,
    /// confirmed · waitlisted · cancelled
    pub status: String,
    pub waitlist_position: Option<i64>,
    /// free · unpaid · paid
    pub payment: String,
    pub tickets: Vec<AttendeeTicket>,
    pub created_at: DateTime<Utc>,
}

// `AttendeePage` without paging, the door numbers beside the rows.
#[derive(Serialize, ToSchema)]
pub struct AttendeesBody {
    pub items: Vec<AttendeeDto>,
    pub total: i64,
    /// Valid tickets of the event and how many are checked in.
    pub tickets: i64,
    pub checked_in: i64,
}

fn ticket_status(status: TicketStatus) -> String {
    match status {
        TicketStatus::Valid => "valid",
        TicketStatus::Cancelled => "cancelled",
    }
    .into()
}

impl From<Attendee> for AttendeeDto {
    fn from(a: Attendee) -> Self {
        AttendeeDto {
            registration_id: a.registration_id.to_string(),
            user: AttendeeUser {
                id: a.user_id.to_string(),
                display_name: a.name,
                email: a.email,
            },
            ticket_type: a.ticket_type_name,
            quantity: a.quantity,
            status: a.status.code().into(),
            waitlist_position: a.waitlist_position,
            payment: a.payment.code().into(),
            tickets: a.tickets,
            created_at: a.created_at,
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AttendeesQuery {
    /// A name, an email or a ticket code.
    pub q: Option<String>,
    /// `json` (default) or `csv`.
    #[param(pattern = "^(json|csv)$")]
    pub format: Option<String>,
}

/// The attendee list as a CSV download.
fn csv_response(page: &AttendeePage) -> Result<Response, ApiError> {
    let body = crate::export::attendees_csv(page)?;
    let name = format!(
        "attachment; filename=\"attendees-{}.csv\"",
        page.door.event_id
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, name),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response())
}

/// An event's registrations with their holders and tickets (its organizer, admin);
/// `?format=csv` gives the same rows as CSV.
#[utoipa::path(get, path = "/api/v1/events/{id}/attendees", tag = "registrations",
    params(("id" = String, Path), AttendeesQuery), security(("bearer" = [])),
    responses((status = 200, content((AttendeesBody = "application/json"), (String = "text/csv"))),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn attendees(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(event): Path<String>,
    ApiQuery(query): ApiQuery<AttendeesQuery>,
) -> Result<Response, ApiError> {
    let actor = caller.require(Role::Agent)?;
    let search = AttendeeSearch {
        q: query.q.unwrap_or_default(),
        page: None,
    };
    let page = state
        .services
        .booking_queries
        .attendees(&actor, id(&event)?.into(), search)
        .await?;
    match query.format.as_deref() {
        None | Some("json") => Ok(Json(AttendeesBody {
            total: page.total,
            tickets: page.door.tickets,
            checked_in: page.door.checked_in,
            items: page.items.into_iter().map(Into::into).collect(),
        })
        .into_response()),
        Some("csv") => csv_response(&page),
        Some(_) => Err(AppError::field(
            "format",
            Problem::Malformed {
                detail: "format must be json or csv".into(),
            },
        )
        .into()),
    }
}

/// `/agent/events/{id}/attendees.csv`: the download link of the attendee page, for a signed-in
/// session (the page has no bearer token).
pub async fn attendees_csv_page(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    Path(event): Path<String>,
    ApiQuery(query): ApiQuery<AttendeesQuery>,
) -> Result<Response, ApiError> {
    let actor = super::auth::session_user(&state, &session).await?;
    app::auth::rules::check_role(&actor, Role::Agent)?;
    let search = AttendeeSearch {
        q: query.q.unwrap_or_default(),
        page: None,
    };
    let page = state
        .services
        .booking_queries
        .attendees(&actor, id(&event)?.into(), search)
        .await?;
    csv_response(&page)
}

#[derive(Deserialize, ToSchema)]
pub struct CheckInRequest {
    /// What the QR code holds (`CODE.SIGNATURE`) or the code typed by hand.
    pub code: String,
}

// The ticket part of `ScannedTicket`, with a string registration id.
#[derive(Serialize, ToSchema)]
pub struct CheckedTicket {
    pub code: String,
    pub registration_id: String,
    pub ticket_type: String,
    pub checked_in_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct CheckInBody {
    pub ticket: CheckedTicket,
    pub attendee: AttendeeUser,
}

#[derive(Serialize, ToSchema)]
pub struct RepeatCheckIn {
    pub error: super::error::ErrorDetail,
    pub first_checked_in_at: Option<DateTime<Utc>>,
    /// Who checked the ticket in the first time.
    pub first_checked_in_by: Option<String>,
    pub attendee: AttendeeUser,
}

fn refusal(status: StatusCode, kind: &str, message: &str) -> Response {
    (
        status,
        Json(ErrorBody {
            error: super::error::ErrorDetail {
                kind: kind.into(),
                message: message.into(),
                fields: Default::default(),
            },
        }),
    )
        .into_response()
}

/// Checks a ticket in at the door (its organizer, admin): `200` the first time; `409` with
/// the first scan's time on a repeat or for a cancelled ticket; `404` for a code of another
/// event or no ticket at all. Of two doors scanning the same code at once exactly one gets 200.
#[utoipa::path(post, path = "/api/v1/events/{id}/check-in", tag = "registrations", params(("id" = String, Path)),
    request_body = CheckInRequest, security(("bearer" = [])),
    responses((status = 200, body = CheckInBody),
        (status = 409, description = "a repeat scan, or a cancelled ticket", body = RepeatCheckIn),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn check_in(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(event): Path<String>,
    ApiJson(req): ApiJson<CheckInRequest>,
) -> Result<Response, ApiError> {
    let actor = caller.require(Role::Agent)?;
    let attendee = |t: &ScannedTicket| AttendeeUser {
        id: t.attendee_id.to_string(),
        display_name: t.attendee_name.clone(),
        email: t.attendee_email.clone(),
    };
    let repeat = |t: &ScannedTicket, message: &str| {
        (
            StatusCode::CONFLICT,
            Json(RepeatCheckIn {
                error: super::error::ErrorDetail {
                    kind: "conflict".into(),
                    message: message.into(),
                    fields: Default::default(),
                },
                attendee: attendee(t),
                first_checked_in_at: t.checked_in_at,
                first_checked_in_by: t.checked_in_by.clone(),
            }),
        )
            .into_response()
    };
    Ok(
        match state
            .services
            .booking_commands
            .check_in(&actor, id(&event)?.into(), &req.code)
            .await?
        {
            CheckIn::Admitted(t) => Json(CheckInBody {
                attendee: attendee(&t),
                ticket: CheckedTicket {
                    code: t.code,
                    registration_id: t.registration_id.to_string(),
                    ticket_type: t.ticket_type_name,
                    checked_in_at: t.checked_in_at,
                },
            })
            .into_response(),
            CheckIn::AlreadyCheckedIn(t) => repeat(&t, "this ticket was already checked in"),
            // The same shape as a repeat: who holds it, and when it was checked in, if it was.
            CheckIn::Cancelled(t) => repeat(&t, "this ticket was cancelled"),
            CheckIn::OtherEvent => refusal(
                StatusCode::NOT_FOUND,
                "not_found",
                "this ticket is for another event",
            ),
            CheckIn::Unknown => refusal(StatusCode::NOT_FOUND, "not_found", "no such ticket"),
        },
    )
}

/// Marks a confirmed registration of a paid ticket type paid at the venue (the event's
/// organizer, admin); idempotent.
#[utoipa::path(post, path = "/api/v1/registrations/{id}/paid", tag = "registrations", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = RegistrationBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn mark_paid(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(registration): Path<String>,
) -> Result<Json<RegistrationBody>, ApiError> {
    let actor = caller.require(Role::Agent)?;
    let id = id(&registration)?;
    state
        .services
        .booking_commands
        .mark_paid(&actor, id.into())
        .await?;
    let registration = state
        .services
        .booking_queries
        .get_registration(&actor, id.into())
        .await?;
    Ok(Json(RegistrationBody {
        registration: registration.into(),
    }))
}
