//! `/api/v1/events`: the same event queries and commands the pages use.
use super::auth::ApiUser;
use super::error::{ApiError, ApiJson, ApiQuery, ErrorBody, whole};
use crate::AppState;
use app::auth::Role;
use app::error::{AppError, FieldErrors, Problem};
use app::events::rules::{PAGE_MAX, PER_PAGE_MAX, read_number};
use app::events::{
    Category, EventDetail, EventListItem, EventSearch, EventSort, Money, NewEvent, NewTicketType,
    UpdateEvent,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};

// `EventListItem` with a string id and codes, without the local times and seat totals.
#[derive(Serialize, ToSchema)]
pub struct EventSummary {
    pub id: String,
    /// The stable public id (a UUID) GraphQL and webhook payloads name the event by too.
    #[schema(format = "uuid")]
    pub uuid: String,
    pub title: String,
    pub summary: String,
    /// stand-up · music · theatre · dance · film · talk · kids · festival · other
    pub category: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// IANA time zone of the venue.
    pub timezone: String,
    pub venue: String,
    pub city: String,
    pub image_url: Option<String>,
    /// draft · published · cancelled · completed
    pub status: String,
    pub min_price: Option<Money>,
    pub remaining_seats: i64,
}

impl From<EventListItem> for EventSummary {
    fn from(e: EventListItem) -> Self {
        EventSummary {
            id: e.id.to_string(),
            uuid: e.uuid,
            title: e.title,
            summary: e.summary,
            category: e.category.code().into(),
            starts_at: e.starts_at,
            ends_at: e.ends_at,
            timezone: e.timezone,
            venue: e.venue,
            city: e.city,
            image_url: e.image_url,
            status: e.status.code().into(),
            min_price: e.min_price,
            remaining_seats: e.remaining_seats,
        }
    }
}

// `TicketTypeView` with a string id, without the local sales window.
#[derive(Serialize, ToSchema)]
pub struct TicketTypeDto {
    pub id: String,
    pub name: String,
    pub price: Money,
    pub quantity: i64,
    pub remaining: i64,
    pub max_per_registration: i64,
    pub sales_start: Option<DateTime<Utc>>,
    pub sales_end: Option<DateTime<Utc>>,
}

// `Organizer` with a string id.
#[derive(Serialize, ToSchema)]
pub struct OrganizerDto {
    pub id: String,
    pub display_name: String,
}

// `EventDetail` flattened, without the rendered description and the timestamps.
#[derive(Serialize, ToSchema)]
pub struct EventDto {
    #[serde(flatten)]
    pub summary: EventSummary,
    pub description: String,
    pub tags: Vec<String>,
    pub address: String,
    pub ticket_types: Vec<TicketTypeDto>,
    pub capacity: i64,
    /// The most seats one person may hold for this event; `null`: no cap.
    pub max_seats_per_user: Option<i64>,
    pub confirmed_seats: i64,
    pub waitlisted_seats: i64,
    pub organizer: OrganizerDto,
    pub likes: i64,
    pub saves: i64,
    pub cancel_reason: Option<String>,
}

impl From<EventDetail> for EventDto {
    fn from(e: EventDetail) -> Self {
        EventDto {
            description: e.description,
            tags: e.tags,
            address: e.address,
            ticket_types: e
                .ticket_types
                .into_iter()
                .map(|t| TicketTypeDto {
                    id: t.id.to_string(),
                    name: t.name,
                    price: t.price,
                    quantity: t.quantity,
                    remaining: t.remaining,
                    max_per_registration: t.max_per_registration,
                    sales_start: t.sales_start,
                    sales_end: t.sales_end,
                })
                .collect(),
            capacity: e.capacity,
            max_seats_per_user: e.max_seats_per_user,
            confirmed_seats: e.confirmed_seats,
            waitlisted_seats: e.waitlisted_seats,
            organizer: OrganizerDto {
                id: e.organizer.id.to_string(),
                display_name: e.organizer.display_name,
            },
            likes: e.likes,
            saves: e.saves,
            cancel_reason: e.cancel_reason,
            summary: e.item.into(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct EventBody {
    pub event: EventDto,
}

// `ResultPage<EventListItem>` with the events as `EventSummary`.
#[derive(Serialize, ToSchema)]
pub struct EventList {
    pub items: Vec<EventSummary>,
    /// Matches counted, up to 10,000; past that `total_exact` is false.
    pub total: i64,
    pub total_exact: bool,
    pub page: i64,
    pub per_page: i64,
}

// `Money` as a body gives it: the amount a whole number (`5.0` too).
#[derive(Deserialize, ToSchema)]
pub struct MoneyInput {
    /// Minor units, 0 to 100,000,000.
    #[serde(deserialize_with = "whole::number")]
    #[schema(minimum = 0, maximum = 100_000_000)]
    pub amount: i64,
    /// An active ISO 4217 code (any case).
    #[schema(pattern = "^\\s*[A-Za-z]{3}\\s*$")]
    pub currency: String,
}

// `NewTicketType` with the price nested as `MoneyInput` and the sales window optional.
#[derive(Deserialize, ToSchema)]
pub struct TicketTypeInput {
    /// 1 to 60 characters (trimmed).
    #[schema(min_length = 1, max_length = 60, pattern = "\\S")]
    pub name: String,
    pub price: MoneyInput,
    #[serde(deserialize_with = "whole::number")]
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub quantity: i64,
    #[serde(deserialize_with = "whole::number")]
    #[schema(minimum = 1, maximum = 100)]
    pub max_per_registration: i64,
    #[serde(default)]
    pub sales_start: Option<String>,
    #[serde(default)]
    pub sales_end: Option<String>,
}

impl From<TicketTypeInput> for NewTicketType {
    fn from(t: TicketTypeInput) -> Self {
        NewTicketType {
            name: t.name,
            price_amount: t.price.amount,
            currency: t.price.currency,
            quantity: t.quantity,
            max_per_registration: t.max_per_registration,
            sales_start: t.sales_start,
            sales_end: t.sales_end,
        }
    }
}

// `NewEvent` with optional texts and tags, ticket types as `TicketTypeInput`.
#[derive(Deserialize, ToSchema)]
pub struct CreateEventRequest {
    pub title: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub description: String,
    pub category: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// RFC 3339 with offset, e.g. 2026-12-31T20:00:00+02:00.
    pub starts_at: String,
    pub ends_at: String,
    /// IANA time zone, e.g. Asia/Jerusalem.
    pub timezone: String,
    pub venue: String,
    #[serde(default)]
    pub address: String,
    pub city: String,
    #[serde(deserialize_with = "whole::number")]
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub capacity: i64,
    /// The most seats one person may hold for this event (all their registrations together);
    /// absent or `null`: no cap.
    #[serde(default, deserialize_with = "whole::option")]
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub max_seats_per_user: Option<i64>,
    pub ticket_types: Vec<TicketTypeInput>,
}

// `UpdateEvent` refusing unknown fields, ticket types as `TicketTypeInput`.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct PatchEventRequest {
    pub title: Option<String>,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub category: Option<String>,
    pub tags: Option<Vec<String>>,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    pub timezone: Option<String>,
    pub venue: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    #[serde(default, deserialize_with = "whole::option")]
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub capacity: Option<i64>,
    /// A number sets the cap on seats per person, `null` removes it, absent leaves it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 1_000_000)]
    pub max_seats_per_user: Option<Option<i64>>,
    pub ticket_types: Option<Vec<TicketTypeInput>>,
}

/// A field that is present, `null` or not: `Some(None)` for `null`, `None` (by `default`)
/// when absent.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    whole::option(d).map(Some)
}

#[derive(Deserialize, ToSchema)]
pub struct CancelRequest {
    /// 1 to 500 characters (trimmed).
    #[schema(min_length = 1, max_length = 500, pattern = "\\S")]
    pub reason: String,
}

/// Query parameters of the event search (all optional).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(
    dead_code,
    reason = "documents the parameters; parsing goes through parse_search for precise errors"
)]
pub struct SearchParams {
    q: Option<String>,
    /// A category code; blank for every category.
    #[param(pattern = "^\\s*(stand-up|music|theatre|dance|film|talk|kids|festival|other)?\\s*$")]
    category: Option<String>,
    city: Option<String>,
    /// Date (YYYY-MM-DD, years 0001 to 9999) or RFC 3339 time; blank for none.
    #[param(
        pattern = "^\\s*([1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])([Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))?)?\\s*$"
    )]
    from: Option<String>,
    /// As `from`; a day counts to its end.
    #[param(
        pattern = "^\\s*([1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])([Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))?)?\\s*$"
    )]
    to: Option<String>,
    /// Minor units.
    price_max: Option<i64>,
    /// true · false · 1 · 0 (blank: false)
    #[param(pattern = "^\\s*(true|false|1|0)?\\s*$")]
    free: Option<String>,
    /// true · false · 1 · 0 (blank: false)
    #[param(pattern = "^\\s*(true|false|1|0)?\\s*$")]
    available: Option<String>,
    /// starts_at (default) · -created_at · popularity · price · relevance (with q)
    #[param(
        pattern = "^\\s*(starts_at|soonest|-created_at|newest|popularity|price|relevance)?\\s*$"
    )]
    sort: Option<String>,
    /// 1 (default) to 10,000.
    #[param(minimum = 1, maximum = 10_000)]
    page: Option<i64>,
    /// 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<i64>,
}

/// A time as the search takes it: RFC 3339, or a day (`YYYY-MM-DD`, within the years the
/// filters allow) from its start or to its end.
fn parse_time(value: &str, end_of_day: bool) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Some(t.with_timezone(&Utc));
    }
    let date = app::events::rules::read_day(value)?;
    let time = if end_of_day {
        date.and_hms_opt(23, 59, 59)?
    } else {
        date.and_hms_opt(0, 0, 0)?
    };
    Some(Utc.from_utc_datetime(&time))
}

/// Reads the query string strictly: a bad value is a 422 naming the parameter.
fn parse_search(params: &HashMap<String, String>) -> Result<EventSearch, AppError> {
    let mut errors = FieldErrors::new();
    let get = |k: &str| params.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let int = |k: &str, errors: &mut FieldErrors| {
        get(k).and_then(|v| match v.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.insert(
                    k.into(),
                    Problem::Malformed {
                        detail: format!("{k} must be a whole number"),
                    },
                );
                None
            }
        })
    };
    let flag = |k: &str, errors: &mut FieldErrors| match get(k) {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") => true,
        Some(_) => {
            errors.insert(
                k.into(),
                Problem::Malformed {
                    detail: format!("{k} must be true or false"),
                },
            );
            false
        }
    };
    let category = get("category").and_then(|c| {
        let found = Category::from_code(c);
        if found.is_none() {
            errors.insert("category".into(), Problem::CategoryUnknown);
        }
        found
    });
    let time = |k: &str, end: bool, errors: &mut FieldErrors| {
        get(k).and_then(|v| {
            let t = parse_time(v, end);
            if t.is_none() {
                errors.insert(k.into(), Problem::TimeInvalid);
            }
            t
        })
    };
    let from = time("from", false, &mut errors);
    let to = time("to", true, &mut errors);
    let sort = match get("sort") {
        None => EventSort::StartsAt,
        Some(s) => EventSort::from_code(s).unwrap_or_else(|| {
            let detail = format!(
                "sort must be starts_at, -created_at, popularity, price or relevance (got {s:?})"
            );
            errors.insert("sort".into(), Problem::Malformed { detail });
            EventSort::StartsAt
        }),
    };
    let price_max = int("price_max", &mut errors);
    let page = read_number(&mut errors, "page", get("page"), 1, (1, PAGE_MAX));
    let per_page = read_number(
        &mut errors,
        "per_page",
        get("per_page"),
        20,
        (1, PER_PAGE_MAX),
    );
    let search = EventSearch {
        q: get("q").map(str::to_owned),
        category,
        city: get("city").map(str::to_owned),
        from,
        to,
        price_max,
        free: flag("free", &mut errors),
        available: flag("available", &mut errors),
        sort,
        page,
        per_page,
    };
    if errors.is_empty() {
        Ok(search)
    } else {
        Err(AppError::Invalid(errors))
    }
}

/// Ids are opaque strings; anything that is not one of ours is simply not found.
fn event_id(id: &str) -> Result<i64, ApiError> {
    id.parse().map_err(|_| ApiError(AppError::NotFound))
}

/// Searches published, upcoming events.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(SearchParams),
    responses((status = 200, body = EventList), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<HashMap<String, String>>,
) -> Result<Json<EventList>, ApiError> {
    let search = parse_search(&params)?;
    let page = state.services.event_queries.list_events(&search).await?;
    Ok(Json(EventList {
        items: page.items.into_iter().map(Into::into).collect(),
        total: page.total,
        total_exact: page.total_exact,
        page: page.page,
        per_page: page.per_page,
    }))
}

/// One event. Drafts are visible only to their organizer and admins.
#[utoipa::path(get, path = "/api/v1/events/{id}", tag = "events", params(("id" = String, Path)),
    responses((status = 200, body = EventBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Option<ApiUser>,
    Path(id): Path<String>,
) -> Result<Json<EventBody>, ApiError> {
    let viewer = caller.map(|c| c.0);
    let event = state
        .services
        .event_queries
        .get_event(viewer.as_ref(), event_id(&id)?.into())
        .await?;
    Ok(Json(EventBody {
        event: event.into(),
    }))
}

async fn respond(
    state: &AppState,
    actor: &app::auth::UserView,
    id: i64,
) -> Result<Json<EventBody>, ApiError> {
    let event = state
        .services
        .event_queries
        .get_event(Some(actor), id.into())
        .await?;
    Ok(Json(EventBody {
        event: event.into(),
    }))
}

/// Creates a draft event. Agents and admins.
#[utoipa::path(post, path = "/api/v1/events", tag = "events", request_body = CreateEventRequest, security(("bearer" = [])),
    responses((status = 201, body = EventBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: ApiUser,
    ApiJson(req): ApiJson<CreateEventRequest>,
) -> Result<(StatusCode, Json<EventBody>), ApiError> {
    let actor = caller.require(Role::Agent)?;
    let new = NewEvent {
        title: req.title,
        summary: req.summary,
        description: req.description,
        category: req.category,
        tags: req.tags,
        starts_at: req.starts_at,
        ends_at: req.ends_at,
        timezone: req.timezone,
        venue: req.venue,
        address: req.address,
        city: req.city,
        capacity: req.capacity,
        max_seats_per_user: req.max_seats_per_user,
        ticket_types: req.ticket_types.into_iter().map(Into::into).collect(),
    };
    let id = state
        .services
        .event_commands
        .create_event(&actor, new)
        .await?;
    Ok((
        StatusCode::CREATED,
        respond(&state, &actor, id.into()).await?,
    ))
}

/// Changes some fields of an event. Its organizer or an admin.
#[utoipa::path(patch, path = "/api/v1/events/{id}", tag = "events", params(("id" = String, Path)), request_body = PatchEventRequest,
    security(("bearer" = [])), responses((status = 200, body = EventBody), (status = 404, body = ErrorBody),
        (status = 409, description = "the event's status allows no change (cancelled, completed)", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn patch(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<PatchEventRequest>,
) -> Result<Json<EventBody>, ApiError> {
    let actor = caller.require(Role::Agent)?;
    let id = event_id(&id)?;
    let changes = UpdateEvent {
        title: req.title,
        summary: req.summary,
        description: req.description,
        category: req.category,
        tags: req.tags,
        starts_at: req.starts_at,
        ends_at: req.ends_at,
        timezone: req.timezone,
        venue: req.venue,
        address: req.address,
        city: req.city,
        capacity: req.capacity,
        max_seats_per_user: req.max_seats_per_user,
        ticket_types: req
            .ticket_types
            .map(|t| t.into_iter().map(Into::into).collect()),
    };
    state
        .services
        .event_commands
        .update_event(&actor, id.into(), changes)
        .await?;
    respond(&state, &actor, id).await
}

/// Publishes a draft. Its organizer or an admin.
#[utoipa::path(post, path = "/api/v1/events/{id}/publish", tag = "events", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = EventBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn publish(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<EventBody>, ApiError> {
    let actor = caller.require(Role::Agent)?;
    let id = event_id(&id)?;
    state
        .services
        .event_commands
        .publish_event(&actor, id.into())
        .await?;
    respond(&state, &actor, id).await
}

/// Cancels an event with a reason. Its organizer or an admin.
#[utoipa::path(post, path = "/api/v1/events/{id}/cancel", tag = "events", params(("id" = String, Path)), request_body = CancelRequest,
    security(("bearer" = [])), responses((status = 200, body = EventBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<CancelRequest>,
) -> Result<Json<EventBody>, ApiError> {
    let actor = caller.require(Role::Agent)?;
    let id = event_id(&id)?;
    state
        .services
        .event_commands
        .cancel_event(&actor, id.into(), req.reason)
        .await?;
    respond(&state, &actor, id).await
}

/// Deletes a draft (its organizer) or any event (admin).
#[utoipa::path(delete, path = "/api/v1/events/{id}", tag = "events", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let actor = caller.require(Role::Agent)?;
    state
        .services
        .event_commands
        .delete_event(&actor, event_id(&id)?.into())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct ImageBody {
    pub image_url: String,
}

/// Replaces the event's image. The body is the image itself (JPEG, PNG or WebP, at most 5 MB);
/// its type is judged by its bytes, not by `Content-Type`. Its organizer or an admin.
#[utoipa::path(put, path = "/api/v1/events/{id}/image", tag = "events", params(("id" = String, Path)),
    request_body(content = Vec<u8>, content_type = "image/jpeg"), security(("bearer" = [])),
    responses((status = 200, body = ImageBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn put_image(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    body: axum::body::Body,
) -> Result<Json<ImageBody>, ApiError> {
    let actor = caller.require(Role::Agent)?;
    let id = event_id(&id)?;
    let bytes = axum::body::to_bytes(body, crate::images::MAX_BYTES)
        .await
        .map_err(|_| AppError::PayloadTooLarge)?;
    let image_url = state
        .services
        .event_commands
        .set_event_image(&actor, id.into(), bytes.to_vec())
        .await?;
    Ok(Json(ImageBody { image_url }))
}
