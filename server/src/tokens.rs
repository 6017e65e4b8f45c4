//! API bearer tokens: HS256 JWTs with `sub`, `role`, `iat`, `exp`, `jti` and `ver`. The role in
//! a token is informative only; every request reads the role and the blocked flag from the
//! database, and the account's `auth_version`: a token whose `ver` is behind it (issued before a
//! password reset or "sign out everywhere") is refused.
use app::auth::UserView;
use app::error::AppError;
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

/// Tokens live one hour.
pub const TOKEN_TTL_SECS: i64 = 3600;

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    /// The account's `auth_version` when the token was issued.
    #[serde(default)]
    pub ver: i64,
}

pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl TokenKeys {
    /// Keys from the API-token key derived from the secret ([`crate::keys::Keys`]). Tokens
    /// signed with the bare secret before (they live an hour) are no longer accepted.
    pub fn new(secret: &str) -> Self {
        let key = crate::keys::Keys::derive(secret).api_tokens;
        TokenKeys {
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
        }
    }

    /// A token for `user`, under the account's current `auth_version`.
    pub fn issue(&self, user: &UserView, auth_version: i64) -> Result<String, AppError> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user.id.to_string(),
            role: user.role.code().to_owned(),
            iat: now,
            exp: now + TOKEN_TTL_SECS,
            jti: crate::random_hex(16),
            ver: auth_version,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(app::ssr::internal)
    }

    /// The user id and auth version in a valid, unexpired token; anything else is
    /// `Unauthenticated`.
    pub fn verify(&self, token: &str) -> Result<(i64, i64), AppError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub", "iat"]);
        let data = decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|_| AppError::Unauthenticated)?;
        let id = data
            .claims
            .sub
            .parse()
            .map_err(|_| AppError::Unauthenticated)?;
        Ok((id, data.claims.ver))
    }
}
