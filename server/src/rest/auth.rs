//! `/api/v1/auth/*` and `/api/v1/me`: the same account commands the pages use, behind JWTs.
use super::error::{ApiError, ApiJson, ErrorBody};
use crate::AppState;
use app::auth::rules::check_role;
use app::auth::{NewUser, Role, UserView};
use app::error::AppError;
use app::ssr::ClientIp;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
pub struct TokenRequest {
    pub email: String,
    pub password: String,
    /// With two-factor sign-in on: the authenticator's current code, or a recovery code.
    #[serde(default)]
    pub otp: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: i64,
}

// `UserView` with a string id and the role and locale as codes.
#[derive(Serialize, ToSchema)]
pub struct User {
    /// Opaque id.
    pub id: String,
    pub email: String,
    pub display_name: String,
    /// user · agent · admin
    pub role: String,
    /// en · he · pl
    pub locale: String,
    pub created_at: DateTime<Utc>,
    /// The owner confirmed the address (a mailed link).
    pub email_verified: bool,
    /// Two-factor sign-in is on.
    pub two_factor: bool,
    /// `agent` or `admin` when the platform requires two-factor sign-in of that role and it
    /// is not on yet: until it is, `role` is `user`.
    pub role_held: Option<String>,
}

impl From<UserView> for User {
    fn from(u: UserView) -> Self {
        User {
            id: u.id.to_string(),
            email: u.email,
            display_name: u.display_name,
            role: u.role.code().into(),
            locale: u.locale.code().into(),
            created_at: u.created_at,
            email_verified: u.email_verified,
            two_factor: u.two_factor,
            role_held: u.role_held.map(|r| r.code().into()),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct UserBody {
    pub user: User,
}

/// The caller of a REST handler, from `Authorization: Bearer <token>`, with role and blocked
/// flag read from the database on every request.
pub struct ApiUser(pub UserView);

impl ApiUser {
    /// The same role guard as the server functions use.
    pub fn require(self, role: Role) -> Result<UserView, ApiError> {
        check_role(&self.0, role)?;
        Ok(self.0)
    }
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(AppError::Unauthenticated)?;
        let (id, version) = state.tokens.verify(token.trim())?;
        let record = state
            .services
            .account_queries
            .get_user(id.into())
            .await?
            .filter(|r| r.auth_version == version)
            .ok_or(AppError::Unauthenticated)?;
        if record.blocked {
            return Err(AppError::Blocked.into());
        }
        app::ssr::SeenUser::note_in(parts, record.user.id.get());
        Ok(ApiUser(record.user))
    }
}

/// Handlers where signing in is optional: no `Authorization` header means a visitor, but a
/// header that is present must be valid.
impl axum::extract::OptionalFromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        if parts.headers.contains_key(header::AUTHORIZATION) {
            <ApiUser as FromRequestParts<AppState>>::from_request_parts(parts, state)
                .await
                .map(Some)
        } else {
            Ok(None)
        }
    }
}

/// Creates an account with role `user`.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = NewUser,
    responses((status = 201, body = UserBody), (status = 409, description = "email taken", body = ErrorBody),
              (status = 422, description = "invalid field", body = ErrorBody),
              (status = 429, description = "too many sign-ups from this address", body = ErrorBody),
              (status = 503, description = "password hashing busy; retry after Retry-After", body = ErrorBody)))]
pub async fn register(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    ApiJson(new): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<UserBody>), ApiError> {
    let user = state
        .services
        .account_commands
        .register(new, Default::default(), ip)
        .await?;
    Ok((StatusCode::CREATED, Json(UserBody { user: user.into() })))
}

/// Exchanges email and password for a bearer token. Failed attempts are rate-limited.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth", request_body = TokenRequest,
    responses((status = 200, body = TokenResponse),
              (status = 401, description = "wrong credentials (`unauthenticated`); with two-factor sign-in on, no code (`otp_required`) or a wrong or used one (`otp_invalid`)", body = ErrorBody),
              (status = 403, description = "account blocked", body = ErrorBody),
              (status = 429, description = "too many failed attempts", body = ErrorBody),
              (status = 503, description = "password hashing busy; retry after Retry-After", body = ErrorBody)))]
pub async fn token(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    ApiJson(req): ApiJson<TokenRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let signed = state
        .services
        .account_commands
        .sign_in(&req.email, &req.password, req.otp.as_deref(), ip)
        .await?;
    let app::auth::ports::SignIn::Done(user) = signed else {
        return Err(AppError::OtpRequired.into());
    };
    let record = state
        .services
        .account_queries
        .get_user(user.id)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let access_token = state.tokens.issue(&user, record.auth_version)?;
    Ok(Json(TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_in: crate::tokens::TOKEN_TTL_SECS,
    }))
}

/// The caller's own account.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = UserBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn me(caller: ApiUser) -> Result<Json<UserBody>, ApiError> {
    let user = caller.require(Role::User)?;
    Ok(Json(UserBody { user: user.into() }))
}

/// The user of a signed-in browser session, for the downloads pages link to (they carry the
/// session cookie, not a bearer token). Blocked accounts count as signed out.
pub async fn session_user(
    state: &AppState,
    session: &tower_sessions::Session,
) -> Result<UserView, ApiError> {
    app::ssr::signed_in(session, state.services.account_queries.as_ref())
        .await?
        .map(|(record, _)| record.user)
        .ok_or_else(|| AppError::Unauthenticated.into())
}
