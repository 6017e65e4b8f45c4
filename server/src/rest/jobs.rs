//! `/api/v1/admin/jobs` and `/api/v1/admin/mail`: the job queue and the mail record for
//! operators (admins), through the same ports as `/admin/jobs` and `/admin/mail`; and the
//! framed HTML of one mail for the `/admin/mail/:id` page (`/admin/mail/{id}/html`).
use super::admin::{checked, page};
use super::auth::ApiUser;
use super::error::{ApiError, ApiQuery, ErrorBody};
use crate::AppState;
use app::admin::{JobCounts, JobFilter, MailFilter};
use app::auth::Role;
use app::error::{AppError, FieldErrors, Problem};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The longest `kind` and `to` a filter takes.
const KIND_MAX: usize = 100;
const TO_MAX: usize = 254;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobsQuery {
    /// pending · running · done · dead (all when absent or blank)
    #[param(pattern = "^\\s*(pending|running|done|dead)?\\s*$")]
    pub state: Option<String>,
    /// One kind of job (`mail`, `webhook`, `outbox`, …), all when absent or blank.
    #[param(max_length = 100)]
    pub kind: Option<String>,
    /// 1 (default) to 10,000.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 10_000)]
    pub page: Option<String>,
}

// `JobItem` with a string id and the status as `state`.
#[derive(Serialize, ToSchema)]
pub struct JobDto {
    pub id: String,
    pub kind: String,
    /// pending · running · done · dead
    pub state: String,
    /// Higher runs first.
    pub priority: i64,
    pub attempts: i64,
    pub max_attempts: i64,
    /// Not before this time (a failed attempt's backoff moves it).
    pub run_at: DateTime<Utc>,
    pub last_error: Option<String>,
}

// `JobOverview`'s counts and age beside a `JobPage`'s items.
#[derive(Serialize, ToSchema)]
pub struct JobsBody {
    pub counts: JobCounts,
    /// How long the oldest due pending job has waited, in seconds (0 when none waits; jobs
    /// scheduled for later do not count).
    pub oldest_pending_age_seconds: i64,
    /// Pending jobs in run order, running by lease end, done and dead the latest finished
    /// first; all states together newest first. 50 a page.
    pub items: Vec<JobDto>,
}

/// What a retry or discard did.
#[derive(Serialize, ToSchema)]
pub struct JobChanged {
    pub id: String,
    /// pending (after a retry) · discarded
    pub state: String,
}

/// The queue for operators: counts per state, the oldest waiting job's age, a page of jobs
/// (admins).
#[utoipa::path(get, path = "/api/v1/admin/jobs", tag = "operations", params(JobsQuery), security(("bearer" = [])),
    responses((status = 200, body = JobsBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "a parameter that cannot be read, named in `fields`", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiUser,
    ApiQuery(query): ApiQuery<JobsQuery>,
) -> Result<Json<JobsBody>, ApiError> {
    let actor = caller.require(Role::Admin)?;
    let mut errors = FieldErrors::new();
    let page = page(&mut errors, query.page.as_deref());
    if query
        .kind
        .as_ref()
        .is_some_and(|k| k.chars().count() > KIND_MAX)
    {
        errors.insert(
            "kind".into(),
            Problem::Malformed {
                detail: format!("kind must be at most {KIND_MAX} characters"),
            },
        );
    }
    checked(errors)?;
    let filter = JobFilter::parse(
        query.state.as_deref().unwrap_or_default(),
        query.kind.as_deref().unwrap_or_default(),
        page,
    )?;
    let queries = &state.services.job_queries;
    let overview = queries.job_overview(&actor).await?;
    let jobs = queries.jobs(&actor, filter).await?;
    Ok(Json(JobsBody {
        counts: overview.counts,
        oldest_pending_age_seconds: overview.oldest_pending_age_seconds,
        items: jobs
            .items
            .into_iter()
            .map(|j| JobDto {
                id: j.id.to_string(),
                kind: j.kind,
                state: j.status.code().into(),
                priority: j.priority,
                attempts: j.attempts,
                max_attempts: j.max_attempts,
                run_at: j.run_at,
                last_error: j.last_error,
            })
            .collect(),
    }))
}

fn job_id(id: &str) -> Result<i64, ApiError> {
    id.parse().map_err(|_| AppError::NotFound.into())
}

/// Runs a dead job again with all its attempts (admins; in the audit log). `404` when there
/// is no dead job with that id.
#[utoipa::path(post, path = "/api/v1/admin/jobs/{id}/retry", tag = "operations", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = JobChanged), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn retry(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<JobChanged>, ApiError> {
    let actor = caller.require(Role::Admin)?;
    let id = job_id(&id)?;
    state.services.job_commands.retry_job(&actor, id).await?;
    Ok(Json(JobChanged {
        id: id.to_string(),
        state: "pending".into(),
    }))
}

/// Deletes a dead job (admins; in the audit log with its payload and error). `404` when
/// there is no dead job with that id.
#[utoipa::path(post, path = "/api/v1/admin/jobs/{id}/discard", tag = "operations", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = JobChanged), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn discard(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<JobChanged>, ApiError> {
    let actor = caller.require(Role::Admin)?;
    let id = job_id(&id)?;
    state.services.job_commands.discard_job(&actor, id).await?;
    Ok(Json(JobChanged {
        id: id.to_string(),
        state: "discarded".into(),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MailQuery {
    /// Part of the recipient's address, any case (all when absent or blank).
    #[param(max_length = 254)]
    pub to: Option<String>,
    /// 1 (default) to 10,000.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 10_000)]
    pub page: Option<String>,
}

// `MailItem` with a string id and without the time it was written.
#[derive(Serialize, ToSchema)]
pub struct MailDto {
    pub id: String,
    pub to: String,
    pub subject: String,
    /// When the transport took it; null while it waits to be sent.
    pub sent_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct MailsBody {
    /// Newest first, 50 a page.
    pub items: Vec<MailDto>,
}

// `MailDetail` as API.md names it.
#[derive(Serialize, ToSchema)]
pub struct MailBody {
    pub to: String,
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part as sent (to be shown sandboxed, never in a trusted page).
    pub html: String,
    pub sent_at: Option<DateTime<Utc>>,
}

/// The record of every e-mail, newest first; `to` finds recipients whose address contains it,
/// in any case (admins).
#[utoipa::path(get, path = "/api/v1/admin/mail", tag = "operations", params(MailQuery), security(("bearer" = [])),
    responses((status = 200, body = MailsBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "a parameter that cannot be read, named in `fields`", body = ErrorBody)))]
pub async fn mails(
    State(state): State<AppState>,
    caller: ApiUser,
    ApiQuery(query): ApiQuery<MailQuery>,
) -> Result<Json<MailsBody>, ApiError> {
    let actor = caller.require(Role::Admin)?;
    let mut errors = FieldErrors::new();
    let page = page(&mut errors, query.page.as_deref());
    let to = query.to.unwrap_or_default();
    if to.chars().count() > TO_MAX {
        errors.insert(
            "to".into(),
            Problem::Malformed {
                detail: format!("to must be at most {TO_MAX} characters"),
            },
        );
    }
    checked(errors)?;
    let list = state
        .services
        .mail_queries
        .mails(&actor, MailFilter { to, page })
        .await?;
    Ok(Json(MailsBody {
        items: list
            .items
            .into_iter()
            .map(|m| MailDto {
                id: m.id.to_string(),
                to: m.to,
                subject: m.subject,
                sent_at: m.sent_at,
            })
            .collect(),
    }))
}

/// One recorded e-mail in full (admins).
#[utoipa::path(get, path = "/api/v1/admin/mail/{id}", tag = "operations", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = MailBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn mail(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<MailBody>, ApiError> {
    let actor = caller.require(Role::Admin)?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let m = state.services.mail_queries.mail(&actor, id).await?;
    Ok(Json(MailBody {
        to: m.to,
        subject: m.subject,
        text: m.text,
        html: m.html,
        sent_at: m.sent_at,
    }))
}

/// What the framed mail may do: nothing but show itself. The CSP `sandbox` gives it an origin
/// of its own and no scripts even when opened on its own; styles inline (mail HTML has them),
/// images only from here or `data:`; framed only by this site's pages.
const MAIL_FRAME_POLICY: &str = "sandbox; default-src 'none'; style-src 'unsafe-inline'; \
                                 img-src 'self' data:; frame-ancestors 'self'; base-uri 'none'; \
                                 form-action 'none'";

/// `/admin/mail/{id}/html` for a signed-in admin: the mail's HTML part as a document of its
/// own, which `/admin/mail/:id` frames in a sandboxed `<iframe>`.
pub async fn mail_html(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let actor = super::auth::session_user(&state, &session).await?;
    let m = state.services.mail_queries.mail(&actor, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, MAIL_FRAME_POLICY),
            (header::X_FRAME_OPTIONS, "SAMEORIGIN"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        m.html,
    )
        .into_response())
}
