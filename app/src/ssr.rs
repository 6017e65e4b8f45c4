//! Server-only helpers every server function uses: the services, the caller and the role guard.
use crate::admin::ports::{AdminCommands, AdminQueries};
use crate::auth::ports::{AccountCommands, AccountQueries};
use crate::auth::{Role, UserView};
use crate::bookings::ports::{BookingCommands, BookingQueries};
use crate::error::AppError;
use crate::events::ports::{EventCommands, EventQueries};
use http::header::ACCEPT;
use http::request::Parts;
use leptos::prelude::*;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use tower_sessions::Session;

/// The session key holding the id of the signed-in account's session row (`account_sessions`):
/// what a signed-in session holds (besides, briefly, a sign-in waiting for its code and
/// recovery codes to show once). Deleting the row signs the browser out.
pub const SESSION_KEY: &str = "account_session";

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
    pub system_queries: Arc<dyn crate::admin::ports::SystemQueries>,
}

/// The address people reach the site at (`EVENTHUB_PUBLIC_URL`), for links copied elsewhere
/// (a calendar feed); put into each request's context by the server.
#[derive(Clone, Debug, Default)]
pub struct PublicUrl(pub String);

/// The site's public address without a trailing `/`.
pub fn public_url() -> String {
    use_context::<PublicUrl>()
        .map(|p| p.0.trim_end_matches('/').to_owned())
        .unwrap_or_default()
}

/// The client's address, put into each request by the server (for rate limits).
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub IpAddr);

/// Whom a request acted for, noted by whatever identified the caller (a session, a token),
/// for the request's log line; one slot per request, shared by the clones of its parts.
#[derive(Clone, Debug, Default)]
pub struct SeenUser(Arc<std::sync::OnceLock<i64>>);

impl SeenUser {
    /// Notes the caller in `parts`' slot, if the server put one there.
    pub fn note_in(parts: &Parts, user: i64) {
        if let Some(seen) = parts.extensions.get::<SeenUser>() {
            seen.note(user);
        }
    }

    /// The first caller noted stays.
    pub fn note(&self, user: i64) {
        let _ = self.0.set(user);
    }

    pub fn get(&self) -> Option<i64> {
        self.0.get().copied()
    }
}

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

/// The signed-in user, read afresh from the database on every call, so a role change, a block
/// or a signed-out session acts at once. A session that no longer names an open, unblocked
/// account is destroyed.
pub async fn current_user() -> Result<Option<UserView>, AppError> {
    let session = session().await?;
    let user = signed_in(&session, services()?.account_queries.as_ref())
        .await?
        .map(|(record, _)| record.user);
    if let (Some(user), Some(parts)) = (&user, use_context::<Parts>()) {
        SeenUser::note_in(&parts, user.id.get());
    }
    Ok(user)
}

/// The account a browser `session` is signed in to, and the session row's id: what pages,
/// downloads and the language switch all ask. A session whose row is gone (signed out
/// elsewhere, a password reset) or whose account is blocked is destroyed.
pub async fn signed_in(
    session: &Session,
    accounts: &dyn AccountQueries,
) -> Result<Option<(crate::auth::ports::UserRecord, String)>, AppError> {
    let Some(id) = session.get::<String>(SESSION_KEY).await.map_err(internal)? else {
        return Ok(None);
    };
    match accounts.session_user(&id).await? {
        Some(record) if !record.blocked => Ok(Some((record, id))),
        _ => {
            session.flush().await.map_err(internal)?;
            Ok(None)
        }
    }
}

/// The id of the current browser session's row, when signed in.
pub async fn session_id() -> Result<Option<String>, AppError> {
    session()
        .await?
        .get::<String>(SESSION_KEY)
        .await
        .map_err(internal)
}

/// Where the request comes from, for the session list: the address and the user agent.
pub fn client() -> crate::auth::ports::Client {
    let device = use_context::<Parts>()
        .and_then(|p| {
            p.headers
                .get(http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_default();
    crate::auth::ports::Client {
        address: client_ip(),
        device,
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
