//! Accounts and sign-in: registration, sessions, roles, the profile page, and keeping an
//! account (`security`: password reset, verification, changes, sessions).
//! Visitors register and sign in; every signed-in role sees its own profile.
pub mod commands;
#[cfg(feature = "ssr")]
pub mod ports;
pub mod queries;
pub mod rules;
pub mod security;
pub mod ui;

use crate::i18n::{Locale, Msg};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::ids::UserId;

/// A user's role. The order matters: each role may do everything the roles before it may,
/// so guards compare with `>=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Agent,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::User, Role::Agent, Role::Admin];

    /// The name stored in the database and used by the API.
    pub fn code(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Agent => "agent",
            Role::Admin => "admin",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Role::ALL.into_iter().find(|r| r.code() == code)
    }

    /// The role's name for people.
    pub fn label(self) -> Msg {
        match self {
            Role::User => Msg::RoleUser,
            Role::Agent => Msg::RoleAgent,
            Role::Admin => Msg::RoleAdmin,
        }
    }
}

/// A user as the user themself and the UI see them (never the password hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub locale: Locale,
    pub created_at: DateTime<Utc>,
    /// The owner proved the address is theirs (a mailed link).
    #[serde(default)]
    pub email_verified: bool,
    /// Two-factor sign-in (an authenticator app's codes) is on.
    #[serde(default)]
    pub two_factor: bool,
    /// The role the account holds but may not use until it turns two-factor sign-in on (the
    /// platform requires it of that role, `require_2fa_for`); `role` is `User` meanwhile.
    #[serde(default)]
    pub role_held: Option<Role>,
}

/// An authenticator being enrolled: what the owner scans or types.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoFactorSetup {
    /// The shared secret, base32 (what apps accept typed).
    pub secret: String,
    /// `otpauth://totp/EventHub:…?secret=…&issuer=EventHub` (RFC 6238: SHA-1, 6 digits, 30 s).
    pub otpauth_uri: String,
    /// The URI as a QR code (an SVG document).
    pub qr_svg: String,
}

/// One browser an account is signed in with, as its owner sees it on `/me/security`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSession {
    /// Opaque; names the session to sign it out.
    pub id: String,
    /// The browser's own description (its user agent), shortened.
    pub device: String,
    /// The client address it signed in from.
    pub address: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// The session the list was asked from.
    pub current: bool,
}

/// Registration input, before validation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewUser {
    // The bounds and shapes of `rules::check_email` / `check_display_name` / `check_password`.
    #[cfg_attr(
        feature = "ssr",
        schema(
            example = "dana@example.com",
            max_length = 254,
            pattern = "^\\s*[A-Za-z0-9!#$%&'*+/=?^_`{|}~\\u00a1-\\uffff-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\\u00a1-\\uffff-]+)*@[A-Za-z0-9\\u00a1-\\uffff]([A-Za-z0-9\\u00a1-\\uffff-]*[A-Za-z0-9\\u00a1-\\uffff])?(\\.[A-Za-z0-9\\u00a1-\\uffff]([A-Za-z0-9\\u00a1-\\uffff-]*[A-Za-z0-9\\u00a1-\\uffff])?)+\\s*$"
        )
    )]
    pub email: String,
    #[cfg_attr(
        feature = "ssr",
        schema(
            example = "Dana Levi",
            min_length = 1,
            max_length = 80,
            pattern = "\\S"
        )
    )]
    pub display_name: String,
    /// 10 to 128 characters, not a common password nor the email.
    #[cfg_attr(feature = "ssr", schema(min_length = 10, max_length = 128))]
    pub password: String,
}
