//! Two-factor sign-in, the platform's requirement of it, and one's own data over REST
//! (`../shared/API.md`, Accounts): the same account commands `/me/security` uses.
use super::auth::ApiUser;
use super::error::{ApiError, ApiJson, ErrorBody};
use crate::AppState;
use app::auth::Role;
use app::error::{AppError, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

// `TwoFactorSetup` without its QR code: programs draw their own from the URI.
#[derive(Serialize, ToSchema)]
pub struct TotpSetup {
    /// The shared secret, base32.
    pub secret: String,
    /// `otpauth://totp/EventHub:…` (SHA-1, 6 digits, 30 s).
    pub otpauth_uri: String,
}

#[derive(Deserialize, ToSchema)]
pub struct TotpCode {
    /// A code from the authenticator app (turning off also takes a recovery code).
    pub code: String,
}

#[derive(Serialize, ToSchema)]
pub struct RecoveryCodes {
    /// Ten single-use codes (`xxxxx-xxxxx`), shown this once.
    pub recovery_codes: Vec<String>,
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct PlatformSettings {
    /// The roles that must use two-factor sign-in: `agent`, `admin` (none by default).
    pub require_2fa_for: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct AccountDeletion {
    /// The account's password, given again.
    pub password: String,
    /// With two-factor sign-in on: a code from the app or a recovery code.
    #[serde(default)]
    pub otp: Option<String>,
}

/// Starts enrolling an authenticator app (replacing an enrolment never confirmed).
#[utoipa::path(post, path = "/api/v1/me/totp", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = TotpSetup),
              (status = 409, description = "two-factor sign-in is on already", body = ErrorBody)))]
pub async fn begin_totp(
    State(state): State<AppState>,
    caller: ApiUser,
) -> Result<Json<TotpSetup>, ApiError> {
    let user = caller.require(Role::User)?;
    let setup = state
        .services
        .account_commands
        .begin_two_factor(user.id)
        .await?;
    Ok(Json(TotpSetup {
        secret: setup.secret,
        otpauth_uri: setup.otpauth_uri,
    }))
}

/// Turns two-factor sign-in on with the app's first code; answers the recovery codes once.
#[utoipa::path(post, path = "/api/v1/me/totp/confirm", tag = "account", request_body = TotpCode, security(("bearer" = [])),
    responses((status = 200, body = RecoveryCodes),
              (status = 401, description = "a wrong or used code (`otp_invalid`)", body = ErrorBody),
              (status = 409, description = "no enrolment started, or it is on already", body = ErrorBody)))]
pub async fn confirm_totp(
    State(state): State<AppState>,
    caller: ApiUser,
    ApiJson(req): ApiJson<TotpCode>,
) -> Result<Json<RecoveryCodes>, ApiError> {
    let user = caller.require(Role::User)?;
    let recovery_codes = state
        .services
        .account_commands
        .confirm_two_factor(user.id, &req.code)
        .await?;
    Ok(Json(RecoveryCodes { recovery_codes }))
}

/// Turns two-factor sign-in off, given a code from the app or a recovery code.
#[utoipa::path(delete, path = "/api/v1/me/totp", tag = "account", request_body = TotpCode, security(("bearer" = [])),
    responses((status = 204, description = "off"),
              (status = 401, description = "a wrong or used code (`otp_invalid`)", body = ErrorBody),
              (status = 409, description = "two-factor sign-in is not on", body = ErrorBody)))]
pub async fn disable_totp(
    State(state): State<AppState>,
    caller: ApiUser,
    ApiJson(req): ApiJson<TotpCode>,
) -> Result<StatusCode, ApiError> {
    let user = caller.require(Role::User)?;
    state
        .services
        .account_commands
        .disable_two_factor(user.id, &req.code)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets which roles must use two-factor sign-in (admins). Accounts of those roles without it
/// keep only a plain user's rights until they turn it on.
#[utoipa::path(patch, path = "/api/v1/admin/settings", tag = "admin", request_body = PlatformSettings, security(("bearer" = [])),
    responses((status = 200, body = PlatformSettings),
              (status = 409, description = "requiring it of admins before using it oneself", body = ErrorBody),
              (status = 422, description = "a role other than `agent` or `admin` (`require_2fa_for`)", body = ErrorBody)))]
pub async fn patch_settings(
    State(state): State<AppState>,
    caller: ApiUser,
    ApiJson(req): ApiJson<PlatformSettings>,
) -> Result<Json<PlatformSettings>, ApiError> {
    let actor = caller.require(Role::Admin)?;
    let roles = req
        .require_2fa_for
        .iter()
        .map(|code| {
            Role::from_code(code).ok_or_else(|| {
                AppError::field(
                    "require_2fa_for",
                    Problem::Malformed {
                        detail: "each role must be agent or admin".into(),
                    },
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let set = state
        .services
        .account_commands
        .require_two_factor_for(&actor, roles)
        .await?;
    Ok(Json(PlatformSettings {
        require_2fa_for: set.into_iter().map(|r| r.code().to_owned()).collect(),
    }))
}

/// Everything EventHub keeps about the caller's account, as one JSON document.
#[utoipa::path(get, path = "/api/v1/me/export", tag = "account", security(("bearer" = [])),
    responses((status = 200, description = "profile, registrations, tickets, reactions, organizer requests, notices, conversations, sessions, sign-in addresses, webhooks and mails", content_type = "application/json", body = Object)))]
pub async fn export(State(state): State<AppState>, caller: ApiUser) -> Result<Response, ApiError> {
    let user = caller.require(Role::User)?;
    Ok(export_response(&state, user.id).await?)
}

/// The export as a download (the page link `/me/data` and the REST route share it).
pub(crate) async fn export_response(
    state: &AppState,
    user: app::auth::UserId,
) -> Result<Response, AppError> {
    let body = state.services.account_queries.export(user).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"eventhub-my-data.json\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response())
}

/// Deletes the caller's account: bookings to come are cancelled (the waitlist moves up),
/// personal data removed, past bookings kept without a name so reports stay exact.
#[utoipa::path(delete, path = "/api/v1/me", tag = "account", request_body = AccountDeletion, security(("bearer" = [])),
    responses((status = 204, description = "deleted; every session and token stopped"),
              (status = 401, description = "two-factor sign-in is on and no code (`otp_required`) or a wrong one (`otp_invalid`)", body = ErrorBody),
              (status = 409, description = "the last admin, or an organizer with published events to come", body = ErrorBody),
              (status = 422, description = "a wrong password (`password`)", body = ErrorBody)))]
pub async fn delete_me(
    State(state): State<AppState>,
    caller: ApiUser,
    ApiJson(req): ApiJson<AccountDeletion>,
) -> Result<StatusCode, ApiError> {
    let user = caller.require(Role::User)?;
    state
        .services
        .account_commands
        .delete_account(user.id, &req.password, req.otp.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /me/data`: the export for the signed-in browser (the link on `/me/security`).
pub async fn my_data_page(
    State(state): State<AppState>,
    session: tower_sessions::Session,
) -> Result<Response, ApiError> {
    let user = super::auth::session_user(&state, &session).await?;
    Ok(export_response(&state, user.id).await?)
}

/// `GET /feeds/{token}.ics`: a private calendar feed of someone's bookings, for calendar apps
/// (they carry no cookie: the address is the key). A renewed, stopped or unknown address is
/// `404`, the same answer for each.
pub async fn calendar_feed(
    State(state): State<AppState>,
    axum::extract::Path(file): axum::extract::Path<String>,
) -> Result<Response, ApiError> {
    let token = file.strip_suffix(".ics").ok_or(AppError::NotFound)?;
    let owner = state
        .services
        .account_queries
        .calendar_owner(token)
        .await?
        .ok_or(AppError::NotFound)?;
    let body = state
        .accounts
        .feed_calendar(owner, &state.config.public_url)
        .await
        .map_err(AppError::from)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        body,
    )
        .into_response())
}
