//! What the account server functions need from the server; `server::accounts` implements it.
use super::{AccountSession, NewUser, Role, TwoFactorSetup, UserId, UserView};
use crate::error::AppError;
use crate::i18n::Locale;
use std::net::IpAddr;

/// A user with what guards need beyond the public view.
#[derive(Clone, Debug)]
pub struct UserRecord {
    pub user: UserView,
    pub blocked: bool,
    /// Bumped by a password reset and by "sign out everywhere": bearer tokens issued under an
    /// older version stop working.
    pub auth_version: i64,
}

/// Where a sign-in comes from: what the owner sees in their session list.
#[derive(Clone, Debug)]
pub struct Client {
    pub address: IpAddr,
    /// The user agent, as the browser sent it.
    pub device: String,
}

/// What a right password leads to.
#[derive(Clone, Debug)]
pub enum SignIn {
    /// Signed in.
    Done(UserView),
    /// The account uses two-factor sign-in and no code came with the password: ask for one
    /// ([`AccountCommands::second_factor`]) before anything is signed in.
    CodeNeeded(UserId),
}

/// Reads about accounts.
#[async_trait::async_trait]
pub trait AccountQueries: Send + Sync {
    /// The user with this id, if any (blocked ones included: guards decide).
    async fn get_user(&self, id: UserId) -> Result<Option<UserRecord>, AppError>;

    /// The user a browser session (the id [`AccountCommands::open_session`] gave) belongs to,
    /// if the session is still open; notes that it was seen.
    async fn session_user(&self, session: &str) -> Result<Option<UserRecord>, AppError>;

    /// The account's open browser sessions, the latest seen first; `current` marks `session`.
    async fn list_sessions(
        &self,
        user: UserId,
        current: Option<&str>,
    ) -> Result<Vec<AccountSession>, AppError>;

    /// The authenticator waiting for its first code, if enrolment was started and not
    /// confirmed (what the owner scans).
    async fn pending_two_factor(&self, user: UserId) -> Result<Option<TwoFactorSetup>, AppError>;

    /// How many unused recovery codes the account has (0 without two-factor sign-in).
    async fn recovery_codes_left(&self, user: UserId) -> Result<i64, AppError>;

    /// The roles the platform requires two-factor sign-in of (none by default).
    async fn two_factor_required_for(&self) -> Result<Vec<Role>, AppError>;

    /// Everything stored about `user`'s account, as one JSON document: profile, registrations
    /// and their tickets, likes and saves, organizer requests, notices, assistant conversations.
    async fn export(&self, user: UserId) -> Result<String, AppError>;

    /// The user whose private calendar feed `token` opens, if it is the current one.
    async fn calendar_owner(&self, token: &str) -> Result<Option<UserId>, AppError>;

    /// The current token of `user`'s calendar feed, if there is one.
    async fn calendar_token(&self, user: UserId) -> Result<Option<String>, AppError>;
}

/// Changes to accounts; each validates its input and changes nothing when it refuses.
#[async_trait::async_trait]
pub trait AccountCommands: Send + Sync {
    /// Creates a user with role `user` and mails them a link to verify the address. A taken
    /// email (any letter case) is a `Conflict` on `email`; too many sign-ups from `client` are
    /// `RateLimited`.
    async fn register(
        &self,
        new: NewUser,
        locale: Locale,
        client: IpAddr,
    ) -> Result<UserView, AppError>;

    /// Checks credentials, counting the attempt against the per-address and per-account limits
    /// (`RateLimited` over them, before the password is checked).
    /// Wrong credentials are `BadCredentials`; a blocked account is `Blocked`. With two-factor
    /// sign-in on, `otp` (a code from the app or a recovery code) is checked too: a wrong or
    /// replayed one is `OtpInvalid` (and counts as a failed attempt); without one the answer
    /// is [`SignIn::CodeNeeded`].
    async fn sign_in(
        &self,
        email: &str,
        password: &str,
        otp: Option<&str>,
        client: IpAddr,
    ) -> Result<SignIn, AppError>;

    /// The second step of a sign-in that answered [`SignIn::CodeNeeded`]: `OtpInvalid` for a
    /// wrong, old or replayed code (each counted against the sign-in limits).
    async fn second_factor(
        &self,
        user: UserId,
        code: &str,
        client: IpAddr,
    ) -> Result<UserView, AppError>;

    /// Starts enrolling an authenticator (a new secret, not in force until confirmed); a
    /// confirmed one is a `Conflict` (`TwoFactorOn`).
    async fn begin_two_factor(&self, user: UserId) -> Result<TwoFactorSetup, AppError>;

    /// Turns two-factor sign-in on with the app's first code (`OtpInvalid` otherwise) and
    /// answers ten single-use recovery codes, shown this once.
    async fn confirm_two_factor(&self, user: UserId, code: &str) -> Result<Vec<String>, AppError>;

    /// Turns two-factor sign-in off, a current code or a recovery code given.
    async fn disable_two_factor(&self, user: UserId, code: &str) -> Result<(), AppError>;

    /// Sets the roles that must use two-factor sign-in (`admin`, `agent`; `user` is refused).
    /// An admin who requires it of admins must use it themself (`TwoFactorSelf`).
    async fn require_two_factor_for(
        &self,
        actor: &UserView,
        roles: Vec<Role>,
    ) -> Result<Vec<Role>, AppError>;

    /// Makes a new private calendar feed address (the old one stops) and answers its token.
    async fn renew_calendar(&self, user: UserId) -> Result<String, AppError>;

    /// Stops the calendar feed.
    async fn stop_calendar(&self, user: UserId) -> Result<(), AppError>;

    /// Deletes the account, its password (and with two-factor sign-in on, a code) given
    /// again: future registrations are cancelled (the waitlist moves up), personal data
    /// removed, past registrations kept anonymous so reports stay exact. Refused (`Conflict`)
    /// for the last active admin and for an organizer with published events to come.
    async fn delete_account(
        &self,
        user: UserId,
        password: &str,
        otp: Option<&str>,
    ) -> Result<(), AppError>;

    /// Remembers the user's preferred language.
    async fn set_locale(&self, id: UserId, locale: Locale) -> Result<(), AppError>;

    /// Records a browser session for `user` signed in from `client`; its id goes into the
    /// session cookie's record.
    async fn open_session(&self, user: UserId, client: Client) -> Result<String, AppError>;

    /// Signs one of `user`'s sessions out (`NotFound` for a session that is not theirs).
    async fn close_session(&self, user: UserId, session: &str) -> Result<(), AppError>;

    /// Signs every session of `user` out and revokes every bearer token issued so far.
    async fn sign_out_everywhere(&self, user: UserId) -> Result<(), AppError>;

    /// Mails a single-use link to set a new password, valid 30 minutes, if `email` names an
    /// account (and it has not asked too often); answers the same either way. Too many
    /// requests from `client` are `RateLimited`.
    async fn request_password_reset(&self, email: &str, client: IpAddr) -> Result<(), AppError>;

    /// Sets a new password with a reset link's token: every session and bearer token of the
    /// account stops. A used, expired or unknown token is `Invalid` on `token`.
    async fn reset_password(&self, token: &str, password: &str) -> Result<UserView, AppError>;

    /// Marks the address a verification link was sent to as verified (after an email change,
    /// it becomes the account's address and the old one is told). A used, expired or unknown
    /// token is `Invalid` on `token`.
    async fn verify_email(&self, token: &str) -> Result<UserView, AppError>;

    /// Mails `user` a new verification link (nothing when the address is verified already).
    async fn resend_verification(&self, user: UserId, client: IpAddr) -> Result<(), AppError>;

    /// Changes the password, the current one given again (`Invalid` on `current_password`
    /// otherwise). Every other session and every bearer token stop; `keep` stays signed in.
    async fn change_password(
        &self,
        user: UserId,
        current_password: &str,
        new_password: &str,
        keep: Option<&str>,
    ) -> Result<(), AppError>;

    /// Starts a change of address: a verification link goes to `new_email`; the account keeps
    /// its address until the link is used. The password is asked again.
    async fn change_email(
        &self,
        user: UserId,
        new_email: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<(), AppError>;
}
