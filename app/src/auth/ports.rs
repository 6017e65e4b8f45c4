//! What the account server functions need from the server; `server::accounts` implements it.
use super::{NewUser, UserId, UserView};
use crate::error::AppError;
use crate::i18n::Locale;
use std::net::IpAddr;

/// A user with what guards need beyond the public view.
#[derive(Clone, Debug)]
pub struct UserRecord {
    pub user: UserView,
    pub blocked: bool,
}

/// Reads about accounts.
#[async_trait::async_trait]
pub trait AccountQueries: Send + Sync {
    /// The user with this id, if any (blocked ones included: guards decide).
    async fn get_user(&self, id: UserId) -> Result<Option<UserRecord>, AppError>;
}

/// Changes to accounts; each validates its input and changes nothing when it refuses.
#[async_trait::async_trait]
pub trait AccountCommands: Send + Sync {
    /// Creates a user with role `user`. A taken email (any letter case) is a `Conflict` on `email`;
    /// too many sign-ups from `client` are `RateLimited`.
    async fn register(
        &self,
        new: NewUser,
        locale: Locale,
        client: IpAddr,
    ) -> Result<UserView, AppError>;

    /// Checks credentials, counting the attempt against the per-address and per-account limits
    /// (`RateLimited` over them, before the password is checked).
    /// Wrong credentials are `BadCredentials`; a blocked account is `Blocked`.
    async fn sign_in(
        &self,
        email: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<UserView, AppError>;

    /// Remembers the user's preferred language.
    async fn set_locale(&self, id: UserId, locale: Locale) -> Result<(), AppError>;
}
