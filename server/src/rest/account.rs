//! Keeping an account over REST (`../shared/API.md`, Accounts): password reset, address
//! verification, password and email changes, sessions. The same account commands the pages use.
use super::auth::{ApiUser, UserBody};
use super::error::{ApiError, ApiJson, ErrorBody};
use crate::AppState;
use app::auth::Role;
use app::ssr::ClientIp;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
pub struct ResetRequest {
    pub email: String,
}

#[derive(Deserialize, ToSchema)]
pub struct ResetConfirm {
    /// The token of the mailed link (`/reset-password?token=…`).
    pub token: String,
    /// 10 to 128 characters, not a common password nor the email.
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
pub struct VerifyRequest {
    /// The token of the mailed link (`/verify-email?token=…`).
    pub token: String,
}

#[derive(Deserialize, ToSchema)]
pub struct EmailChange {
    pub email: String,
    /// The account's current password.
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

// `AccountSession` without `created_at`, in the contract's names.
#[derive(Serialize, ToSchema)]
pub struct Session {
    /// Opaque; `DELETE /api/v1/me/sessions/{id}` signs it out.
    pub id: String,
    /// The browser's user agent, shortened.
    pub device: String,
    pub address: String,
    pub signed_in_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Always false over REST: a bearer token is no browser session.
    pub current: bool,
}

#[derive(Serialize, ToSchema)]
pub struct Sessions {
    pub items: Vec<Session>,
}

/// Mails a link to set a new password if the address has an account. Always `202` with an
/// empty body: nothing is revealed about who has an account.
#[utoipa::path(post, path = "/api/v1/auth/password-reset", tag = "account", request_body = ResetRequest,
    responses((status = 202, description = "accepted (whether or not the address has an account)"),
              (status = 422, description = "not an email address", body = ErrorBody),
              (status = 429, description = "too many requests from this address", body = ErrorBody)))]
pub async fn request_reset(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    ApiJson(req): ApiJson<ResetRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .account_commands
        .request_password_reset(&req.email, ip)
        .await?;
    Ok(StatusCode::ACCEPTED)
}

/// Sets a new password with a reset link's token. Every session and bearer token of the
/// account stops; sign in again for a new token.
#[utoipa::path(post, path = "/api/v1/auth/password-reset/confirm", tag = "account", request_body = ResetConfirm,
    responses((status = 200, body = UserBody),
              (status = 422, description = "the link was used or expired (`token`), or the password is weak", body = ErrorBody)))]
pub async fn confirm_reset(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<ResetConfirm>,
) -> Result<Json<UserBody>, ApiError> {
    let user = state
        .services
        .account_commands
        .reset_password(&req.token, &req.password)
        .await?;
    Ok(Json(UserBody { user: user.into() }))
}

/// Confirms the address a verification link was mailed to (after an email change, it becomes
/// the account's address).
#[utoipa::path(post, path = "/api/v1/auth/verify-email", tag = "account", request_body = VerifyRequest,
    responses((status = 200, body = UserBody),
              (status = 409, description = "the new address was taken meanwhile", body = ErrorBody),
              (status = 422, description = "the link was used or expired", body = ErrorBody)))]
pub async fn verify_email(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<VerifyRequest>,
) -> Result<Json<UserBody>, ApiError> {
    let user = state
        .services
        .account_commands
        .verify_email(&req.token)
        .await?;
    Ok(Json(UserBody { user: user.into() }))
}

/// Starts an email change: a link goes to the new address, which replaces the old one once the
/// link is used.
#[utoipa::path(put, path = "/api/v1/me/email", tag = "account", request_body = EmailChange, security(("bearer" = [])),
    responses((status = 202, description = "the link to the new address is on its way"),
              (status = 409, description = "the address has an account", body = ErrorBody),
              (status = 422, description = "not an address, the same address, or a wrong password", body = ErrorBody),
              (status = 429, description = "too many links asked", body = ErrorBody)))]
pub async fn change_email(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    caller: ApiUser,
    ApiJson(req): ApiJson<EmailChange>,
) -> Result<StatusCode, ApiError> {
    let user = caller.require(Role::User)?;
    state
        .services
        .account_commands
        .change_email(user.id, &req.email, &req.password, ip)
        .await?;
    Ok(StatusCode::ACCEPTED)
}

/// Changes the password. Every browser session and every bearer token of the account (this one
/// too) stops; sign in again for a new token.
#[utoipa::path(put, path = "/api/v1/me/password", tag = "account", request_body = PasswordChange, security(("bearer" = [])),
    responses((status = 204, description = "changed"),
              (status = 422, description = "the current password is wrong, or the new one is weak", body = ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    caller: ApiUser,
    ApiJson(req): ApiJson<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    let user = caller.require(Role::User)?;
    state
        .services
        .account_commands
        .change_password(user.id, &req.current_password, &req.new_password, None)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The browsers the account is signed in with, the latest seen first.
#[utoipa::path(get, path = "/api/v1/me/sessions", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = Sessions)))]
pub async fn sessions(
    State(state): State<AppState>,
    caller: ApiUser,
) -> Result<Json<Sessions>, ApiError> {
    let user = caller.require(Role::User)?;
    let items = state
        .services
        .account_queries
        .list_sessions(user.id, None)
        .await?
        .into_iter()
        .map(|s| Session {
            id: s.id,
            device: s.device,
            address: s.address,
            signed_in_at: s.created_at,
            last_seen: s.last_seen_at,
            current: s.current,
        })
        .collect();
    Ok(Json(Sessions { items }))
}

/// Signs one browser session out.
#[utoipa::path(delete, path = "/api/v1/me/sessions/{id}", tag = "account", security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")),
    responses((status = 204, description = "signed out"), (status = 404, body = ErrorBody)))]
pub async fn close_session(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let user = caller.require(Role::User)?;
    state
        .services
        .account_commands
        .close_session(user.id, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Signs out every browser session and revokes every bearer token of the account, this one
/// included.
#[utoipa::path(post, path = "/api/v1/me/sign-out-everywhere", tag = "account", security(("bearer" = [])),
    responses((status = 204, description = "every session and token stopped")))]
pub async fn sign_out_everywhere(
    State(state): State<AppState>,
    caller: ApiUser,
) -> Result<StatusCode, ApiError> {
    let user = caller.require(Role::User)?;
    state
        .services
        .account_commands
        .sign_out_everywhere(user.id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
