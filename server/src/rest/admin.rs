//! `/api/v1` organizer requests and administration: the same commands the pages use.
use super::auth::ApiUser;
use super::error::{ApiError, ApiJson, ApiQuery, ErrorBody};
use crate::AppState;
use app::admin::{AgentRequest, AgentRequestStatus, AuditFilter, NewAgentRequest};
use app::auth::Role;
use app::error::{AppError, FieldErrors, Problem};
use app::events::rules::{PAGE_MAX, read_number};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

// `AgentRequest` with string ids and the requester nested as `user`.
#[derive(Serialize, ToSchema)]
pub struct AgentRequestDto {
    pub id: String,
    pub user: RequestUser,
    pub organisation: String,
    pub message: String,
    /// pending · approved · rejected
    pub status: String,
    pub note: String,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RequestUser {
    pub id: String,
    pub display_name: String,
    pub email: String,
}

impl From<AgentRequest> for AgentRequestDto {
    fn from(r: AgentRequest) -> Self {
        AgentRequestDto {
            id: r.id.to_string(),
            user: RequestUser {
                id: r.user_id.to_string(),
                display_name: r.user_name,
                email: r.user_email,
            },
            organisation: r.organisation,
            message: r.message,
            status: r.status.code().into(),
            note: r.note,
            created_at: r.created_at,
            decided_at: r.decided_at,
            decided_by: r.decided_by,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AgentRequestBody {
    pub agent_request: AgentRequestDto,
}

#[derive(Serialize, ToSchema)]
pub struct AgentRequests {
    pub items: Vec<AgentRequestDto>,
}

#[derive(Deserialize, ToSchema)]
pub struct DecisionInput {
    /// Shown to the user (optional, ≤ 1000 characters).
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub note: String,
}

/// Asks to become an organizer; one pending request at a time (`409` otherwise).
#[utoipa::path(post, path = "/api/v1/agent-requests", tag = "administration", request_body = NewAgentRequest,
    security(("bearer" = [])),
    responses((status = 201, body = AgentRequestBody), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn file(
    State(state): State<AppState>,
    caller: ApiUser,
    ApiJson(new): ApiJson<NewAgentRequest>,
) -> Result<(StatusCode, Json<AgentRequestBody>), ApiError> {
    let actor = caller.require(Role::User)?;
    let request = state
        .services
        .admin_commands
        .request_agent(&actor, new)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(AgentRequestBody {
            agent_request: request.into(),
        }),
    ))
}

/// The caller's latest organizer request, or `404`.
#[utoipa::path(get, path = "/api/v1/me/agent-request", tag = "administration", security(("bearer" = [])),
    responses((status = 200, body = AgentRequestBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn mine(
    State(state): State<AppState>,
    caller: ApiUser,
) -> Result<Json<AgentRequestBody>, ApiError> {
    let actor = caller.require(Role::User)?;
    let request = state
        .services
        .admin_queries
        .my_agent_request(&actor)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(AgentRequestBody {
        agent_request: request.into(),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatusQuery {
    /// pending · approved · rejected (all when absent or blank)
    #[param(pattern = "^(pending|approved|rejected)?$")]
    pub status: Option<String>,
}

/// Organizer requests, pending first (admins).
#[utoipa::path(get, path = "/api/v1/admin/agent-requests", tag = "administration", params(StatusQuery),
    security(("bearer" = [])),
    responses((status = 200, body = AgentRequests), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiUser,
    ApiQuery(query): ApiQuery<StatusQuery>,
) -> Result<Json<AgentRequests>, ApiError> {
    let actor = caller.require(Role::Admin)?;
    let status = match query.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(code) => Some(AgentRequestStatus::from_code(code).ok_or_else(|| {
            AppError::field(
                "status",
                Problem::Malformed {
                    detail: "status must be pending, approved or rejected".into(),
                },
            )
        })?),
    };
    let items = state
        .services
        .admin_queries
        .agent_requests(&actor, status)
        .await?;
    Ok(Json(AgentRequests {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

async fn decide(
    state: AppState,
    caller: ApiUser,
    id: String,
    approve: bool,
    note: String,
) -> Result<Json<AgentRequestBody>, ApiError> {
    let actor = caller.require(Role::Admin)?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let request = state
        .services
        .admin_commands
        .decide_agent_request(&actor, id, approve, &note)
        .await?;
    Ok(Json(AgentRequestBody {
        agent_request: request.into(),
    }))
}

/// Approves a pending request: the user becomes an agent in the same transaction (admins).
/// `409` when the request was already decided.
#[utoipa::path(post, path = "/api/v1/admin/agent-requests/{id}/approve", tag = "administration",
    params(("id" = String, Path)), request_body = DecisionInput, security(("bearer" = [])),
    responses((status = 200, body = AgentRequestBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn approve(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<DecisionInput>,
) -> Result<Json<AgentRequestBody>, ApiError> {
    decide(state, caller, id, true, req.note).await
}

/// Rejects a pending request with a note the user sees (admins). `409` when already decided.
#[utoipa::path(post, path = "/api/v1/admin/agent-requests/{id}/reject", tag = "administration",
    params(("id" = String, Path)), request_body = DecisionInput, security(("bearer" = [])),
    responses((status = 200, body = AgentRequestBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn reject(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<DecisionInput>,
) -> Result<Json<AgentRequestBody>, ApiError> {
    decide(state, caller, id, false, req.note).await
}

// `AuditEntry` with a string actor id and the details as JSON, not as text.
#[derive(Serialize, ToSchema)]
pub struct AuditItem {
    pub at: DateTime<Utc>,
    /// The acting user's display name.
    pub actor: Option<String>,
    pub actor_id: Option<String>,
    pub action: String,
    pub target: String,
    /// The facts of the change, `{before, after}` where something changed.
    pub details: serde_json::Value,
}

// `AuditPage` with its entries as `AuditItem`.
#[derive(Serialize, ToSchema)]
pub struct AuditBody {
    pub items: Vec<AuditItem>,
    pub page: u32,
    pub more: bool,
}

/// A page number from a query string: 1 when absent or blank, else 1 to [`PAGE_MAX`]; what is
/// not goes into `errors` under `page`.
pub(super) fn page(errors: &mut FieldErrors, text: Option<&str>) -> u32 {
    let page = read_number(errors, "page", text, 1, (1, PAGE_MAX));
    u32::try_from(page).unwrap_or(1)
}

/// Refuses with every problem found, by field.
pub(super) fn checked(errors: FieldErrors) -> Result<(), ApiError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(errors).into())
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// 1 (default) to 10,000.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 10_000)]
    pub page: Option<String>,
    /// Email or name (part of it).
    pub actor: Option<String>,
    /// A full action (`event.cancel`) or its prefix (`event`).
    pub action: Option<String>,
    /// Entries at or after this time (RFC 3339).
    #[param(
        pattern = "^\\s*([1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))?\\s*$"
    )]
    pub from: Option<String>,
    /// Entries at or before this time (RFC 3339).
    #[param(
        pattern = "^\\s*([1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))?\\s*$"
    )]
    pub to: Option<String>,
}

/// An RFC 3339 time from a query string (absent or blank: none); what is not one goes into
/// `errors` under `field`.
fn time(errors: &mut FieldErrors, field: &str, text: Option<&str>) -> Option<DateTime<Utc>> {
    let text = text.map(str::trim).filter(|t| !t.is_empty())?;
    match DateTime::parse_from_rfc3339(text) {
        Ok(t) => Some(t.with_timezone(&Utc)),
        Err(_) => {
            errors.insert(field.into(), Problem::TimeInvalid);
            None
        }
    }
}

/// The audit log, newest first (admins). Append-only: no endpoint changes it.
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "administration", params(AuditQuery), security(("bearer" = [])),
    responses((status = 200, body = AuditBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "a parameter that cannot be read, named in `fields`", body = ErrorBody)))]
pub async fn audit(
    State(state): State<AppState>,
    caller: ApiUser,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<AuditBody>, ApiError> {
    let actor = caller.require(Role::Admin)?;
    let mut errors = FieldErrors::new();
    let from = time(&mut errors, "from", query.from.as_deref());
    let to = time(&mut errors, "to", query.to.as_deref());
    let page = page(&mut errors, query.page.as_deref());
    checked(errors)?;
    let page = state
        .services
        .admin_queries
        .audit_log(
            &actor,
            AuditFilter {
                actor: query.actor,
                action: query.action,
                from,
                to,
                page,
            },
        )
        .await?;
    Ok(Json(AuditBody {
        page: page.page,
        more: page.more,
        items: page
            .items
            .into_iter()
            .map(|e| AuditItem {
                at: e.at,
                actor: e.actor,
                actor_id: e.actor_id.map(|id| id.to_string()),
                action: e.action,
                target: e.target,
                details: serde_json::from_str(&e.details).unwrap_or(serde_json::Value::Null),
            })
            .collect(),
    }))
}

// `AdminUser` flattened, the account as the API's `User`.
#[derive(Serialize, ToSchema)]
pub struct AdminUserDto {
    #[serde(flatten)]
    pub user: super::auth::User,
    pub blocked: bool,
}

impl From<app::admin::AdminUser> for AdminUserDto {
    fn from(u: app::admin::AdminUser) -> Self {
        AdminUserDto {
            user: u.user.into(),
            blocked: u.blocked,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AdminUserBody {
    pub user: AdminUserDto,
}

// `UserPage` with its users as `AdminUserDto`.
#[derive(Serialize, ToSchema)]
pub struct AdminUsers {
    pub items: Vec<AdminUserDto>,
    pub total: i64,
    pub page: u32,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsersQuery {
    /// Part of a name or email.
    pub q: Option<String>,
    /// user · agent · admin (all when absent or blank)
    #[param(pattern = "^(user|agent|admin)?$")]
    pub role: Option<String>,
    /// 1 (default) to 10,000.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 10_000)]
    pub page: Option<String>,
}

fn role(code: &str) -> Result<Role, ApiError> {
    Role::from_code(code).ok_or_else(|| {
        AppError::field(
            "role",
            Problem::Malformed {
                detail: "role must be user, agent or admin".into(),
            },
        )
        .into()
    })
}

/// Users, newest first, by name or email and role (admins).
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "administration", params(UsersQuery), security(("bearer" = [])),
    responses((status = 200, body = AdminUsers), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "a parameter that cannot be read, named in `fields`", body = ErrorBody)))]
pub async fn users(
    State(state): State<AppState>,
    caller: ApiUser,
    ApiQuery(query): ApiQuery<UsersQuery>,
) -> Result<Json<AdminUsers>, ApiError> {
    let actor = caller.require(Role::Admin)?;
    let mut errors = FieldErrors::new();
    let page = page(&mut errors, query.page.as_deref());
    checked(errors)?;
    let filter = app::admin::UserFilter {
        q: query.q.unwrap_or_default(),
        role: query
            .role
            .as_deref()
            .filter(|r| !r.is_empty())
            .map(role)
            .transpose()?,
        page,
    };
    let page = state.services.admin_queries.users(&actor, filter).await?;
    Ok(Json(AdminUsers {
        total: page.total,
        page: page.page,
        items: page.items.into_iter().map(Into::into).collect(),
    }))
}

// `UserChange` with the role as a code, refused as a field error on `role` when unknown.
#[derive(Deserialize, ToSchema)]
pub struct UserPatch {
    /// user · agent · admin
    pub role: Option<String>,
    pub blocked: Option<bool>,
}

/// Changes a user's role and / or blocked flag (admins). `409` for the last admin or for
/// blocking oneself. A block acts at once on the user's sessions and tokens.
#[utoipa::path(patch, path = "/api/v1/admin/users/{id}", tag = "administration", params(("id" = String, Path)),
    request_body = UserPatch, security(("bearer" = [])),
    responses((status = 200, body = AdminUserBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_user(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UserPatch>,
) -> Result<Json<AdminUserBody>, ApiError> {
    let actor = caller.require(Role::Admin)?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let change = app::admin::UserChange {
        role: req.role.as_deref().map(role).transpose()?,
        blocked: req.blocked,
    };
    let user = state
        .services
        .admin_commands
        .update_user(&actor, id, change)
        .await?;
    Ok(Json(AdminUserBody { user: user.into() }))
}

// `ManagedEvent` flattened, the event as `EventSummary` and the organizer nested.
#[derive(Serialize, ToSchema)]
pub struct AdminEventDto {
    #[serde(flatten)]
    pub event: super::events::EventSummary,
    pub organizer: RequestUser,
    pub featured: bool,
}

impl From<app::events::ManagedEvent> for AdminEventDto {
    fn from(e: app::events::ManagedEvent) -> Self {
        AdminEventDto {
            organizer: RequestUser {
                id: e.organizer_id.to_string(),
                display_name: e.organizer_name,
                email: e.organizer_email,
            },
            featured: e.featured,
            event: e.item.into(),
        }
    }
}

// `ManagedEventPage` with its events as `AdminEventDto`.
#[derive(Serialize, ToSchema)]
pub struct AdminEvents {
    pub items: Vec<AdminEventDto>,
    pub total: i64,
    pub page: u32,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// draft · published · cancelled · completed (all when blank)
    #[param(pattern = "^\\s*(draft|published|cancelled|completed)?\\s*$")]
    pub status: Option<String>,
    /// Part of the organizer's name or email.
    pub organizer: Option<String>,
    /// First start day (`YYYY-MM-DD`, UTC), inclusive.
    #[param(pattern = "^\\s*([1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8]))?\\s*$")]
    pub from: Option<String>,
    /// Last start day (`YYYY-MM-DD`, UTC), inclusive.
    #[param(pattern = "^\\s*([1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8]))?\\s*$")]
    pub to: Option<String>,
    /// 1 (default) to 10,000.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 10_000)]
    pub page: Option<String>,
}

/// Every organizer's events, the latest starting first (admins).
#[utoipa::path(get, path = "/api/v1/admin/events", tag = "administration", params(EventsQuery), security(("bearer" = [])),
    responses((status = 200, body = AdminEvents), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    caller: ApiUser,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> Result<Json<AdminEvents>, ApiError> {
    let actor = caller.require(Role::Admin)?;
    let text = |v: Option<String>| v.unwrap_or_default();
    let mut errors = FieldErrors::new();
    let page = page(&mut errors, query.page.as_deref());
    checked(errors)?;
    let filter = app::events::EventFilter::parse(
        &text(query.status),
        &text(query.organizer),
        &text(query.from),
        &text(query.to),
        page,
    )?;
    let page = state
        .services
        .event_queries
        .all_events(&actor, filter)
        .await?;
    Ok(Json(AdminEvents {
        total: page.total,
        page: page.page,
        items: page.items.into_iter().map(Into::into).collect(),
    }))
}

// `EventChange` with the status as a code and the reason optional.
#[derive(Deserialize, ToSchema)]
pub struct EventPatch {
    /// published · draft (unpublish: only without bookings) · cancelled (needs `reason`)
    pub status: Option<String>,
    /// Featured on the home page (published events only).
    pub featured: Option<bool>,
    #[serde(default)]
    pub reason: String,
}

/// Changes an event's status and / or featuring (admins), through the organizer commands;
/// answers the event as the admin table lists it.
#[utoipa::path(patch, path = "/api/v1/admin/events/{id}", tag = "administration", params(("id" = String, Path)),
    request_body = EventPatch, security(("bearer" = [])),
    responses((status = 200, body = AdminEventDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_event(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<EventPatch>,
) -> Result<Json<AdminEventDto>, ApiError> {
    let actor = caller.require(Role::Admin)?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let change = app::events::EventChange {
        status: app::events::EventStatus::parse_field(req.status.as_deref().unwrap_or(""))?,
        featured: req.featured,
        reason: req.reason,
    };
    let services = &state.services;
    app::events::ports::change_event(services.event_commands.as_ref(), &actor, id.into(), change)
        .await?;
    let event = services
        .event_queries
        .managed_event(&actor, id.into())
        .await?;
    Ok(Json(event.into()))
}
