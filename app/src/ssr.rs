//! Server-only helpers every server function uses: the services, the caller and the role guard.
use crate::admin::ports::{AdminCommands, AdminQueries};
use crate::auth::ports::{AccountCommands, AccountQueries};
use crate::auth::{Role, UserId, UserView};
use crate::bookings::ports::{BookingCommands, BookingQueries};
use crate::error::AppError;
use crate::events::ports::{EventCommands, EventQueries};
use http::header::ACCEPT;
use http::request::Parts;
use leptos::prelude::*;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use tower_sessions::Session;

/// The session key holding the signed-in user's id (the only thing the session holds).
pub const SESSION_USER_KEY: &str = "user_id";

/// The ports the server provides to every request: server functions reach them through the
/// reactive context, REST handlers through the server's state.
#[derive(Clone)]
pub struct Services {
    pub account_queries: Arc<dyn AccountQueries>,
    pub account_commands: Arc<dyn AccountCommands>,
    pub event_queries: Arc<dyn EventQueries>,
    pub event_commands: Arc<dyn EventCommands>,
    pub booking_commands: Arc<dyn BookingCommands>,
    pub booking_queries: Arc<dyn BookingQueries>,
    pub admin_commands: Arc<dyn AdminCommands>,
    pub admin_queries: Arc<dyn AdminQueries>,
    pub report_queries: Arc<dyn crate::reports::ports::ReportQueries>,
    pub assistant_commands: Arc<dyn crate::assistant::ports::AssistantCommands>,
    pub assistant_queries: Arc<dyn crate::assistant::ports::AssistantQueries>,
    pub webhook_commands: Arc<dyn crate::webhooks::ports::WebhookCommands>,
    pub webhook_queries: Arc<dyn crate::webhooks::ports::WebhookQueries>,
    pub job_queries: Arc<dyn crate::admin::ports::JobQueries>,
    pub job_commands: Arc<dyn crate::admin::ports::JobCommands>,
    pub mail_queries: Arc<dyn crate::admin::ports::MailQueries>,
}

/// The client's address, put into each request by the server (for rate limits).
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub IpAddr);

pub fn services() -> Result<Services, AppError> {
    use_context::<Services>().ok_or_else(|| {
        tracing::error!("Services missing from the request context");
        AppError::Internal
    })
}

pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        tracing::error!("session unavailable: {e}");
        AppError::Internal
    })
}

pub fn client_ip() -> IpAddr {
    use_context::<Parts>()
        .and_then(|p| p.extensions.get::<ClientIp>().copied())
        .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |c| c.0)
}

/// The signed-in user, read afresh from the database on every call, so a role change or a block
/// acts at once. A blocked user's session is destroyed.
pub async fn current_user() -> Result<Option<UserView>, AppError> {
    let session = session().await?;
    let Some(id) = session
        .get::<UserId>(SESSION_USER_KEY)
        .await
        .map_err(internal)?
    else {
        return Ok(None);
    };
    match services()?.account_queries.get_user(id).await? {
        Some(record) if !record.blocked => Ok(Some(record.user)),
        _ => {
            session.flush().await.map_err(internal)?;
            Ok(None)
        }
    }
}

/// The coarse role gate: the first line of every server function that needs a signed-in caller.
pub async fn require(role: Role) -> Result<UserView, AppError> {
    let user = current_user().await?.ok_or(AppError::Unauthenticated)?;
    crate::auth::rules::check_role(&user, role)?;
    Ok(user)
}

/// Gives an error its HTTP status for script callers. Plain form posts keep the redirect that
/// carries the error back to the form (server_fn's form-redirects).
pub fn with_status<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(err) = &result
        && !plain_form()
        && let (Some(res), Ok(status)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            http::StatusCode::from_u16(err.status()),
        )
    {
        res.set_status(status);
        if let Some(secs) = err.retry_after() {
            res.insert_header(http::header::RETRY_AFTER, http::HeaderValue::from(secs));
        }
    }
    result
}

/// The request is a form posted by the browser itself (no script): it asks for HTML.
pub fn plain_form() -> bool {
    use_context::<Parts>()
        .and_then(|p| {
            p.headers
                .get(ACCEPT)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.contains("text/html"))
        })
        .unwrap_or(false)
}

/// Logs an infrastructure error with its cause and hides it from the client.
pub fn internal(err: impl std::fmt::Display) -> AppError {
    tracing::error!("internal error: {err}");
    AppError::Internal
}
