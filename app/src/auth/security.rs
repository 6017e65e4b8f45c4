//! Keeping an account: forgotten passwords, address verification, password and email changes,
//! the browser sessions an account is signed in with. Forms post here with or without scripts;
//! each answer that is no error redirects to the page that says what happened.
use super::AccountSession;
use crate::error::AppError;
use leptos::prelude::*;

/// Mails a link to set a new password when the address has an account; the same answer either
/// way (nothing is revealed about who has an account).
#[server]
pub async fn request_password_reset(email: String) -> Result<(), AppError> {
    use crate::ssr;
    ssr::with_status(
        async {
            ssr::services()?
                .account_commands
                .request_password_reset(&email, ssr::client_ip())
                .await?;
            leptos_axum::redirect("/forgot-password?sent=1");
            Ok(())
        }
        .await,
    )
}

/// Sets a new password with the mailed link's token, signs out every browser and token, and
/// signs this browser in.
#[server]
pub async fn reset_password(token: String, password: String) -> Result<(), AppError> {
    use crate::ssr;
    ssr::with_status(
        async {
            let user = ssr::services()?
                .account_commands
                .reset_password(&token, &password)
                .await?;
            super::commands::start_session(user.id).await?;
            leptos_axum::redirect("/me/security?done=password");
            Ok(())
        }
        .await,
    )
}

/// Confirms an address with the mailed link's token (posted from `/verify-email`, so that a
/// mail scanner fetching the link changes nothing).
#[server]
pub async fn verify_email(token: String) -> Result<(), AppError> {
    use crate::ssr;
    ssr::with_status(
        async {
            ssr::services()?
                .account_commands
                .verify_email(&token)
                .await?;
            leptos_axum::redirect("/verify-email?done=1");
            Ok(())
        }
        .await,
    )
}

/// Mails the signed-in user a new verification link.
#[server]
pub async fn resend_verification() -> Result<(), AppError> {
    use crate::ssr;
    ssr::with_status(
        async {
            let user = ssr::require(super::Role::User).await?;
            ssr::services()?
                .account_commands
                .resend_verification(user.id, ssr::client_ip())
                .await?;
            leptos_axum::redirect("/me/security?done=verification");
            Ok(())
        }
        .await,
    )
}

/// Changes the password (the current one asked again); every other browser and every token is
/// signed out, this one stays.
#[server]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    use crate::ssr;
    ssr::with_status(
        async {
            let user = ssr::require(super::Role::User).await?;
            let keep = ssr::session_id().await?;
            ssr::services()?
                .account_commands
                .change_password(user.id, &current_password, &new_password, keep.as_deref())
                .await?;
            leptos_axum::redirect("/me/security?done=password");
            Ok(())
        }
        .await,
    )
}

/// Starts an email change: the new address gets a link; nothing changes until it is used.
#[server]
pub async fn change_email(email: String, password: String) -> Result<(), AppError> {
    use crate::ssr;
    ssr::with_status(
        async {
            let user = ssr::require(super::Role::User).await?;
            ssr::services()?
                .account_commands
                .change_email(user.id, &email, &password, ssr::client_ip())
                .await?;
            leptos_axum::redirect("/me/security?done=email");
            Ok(())
        }
        .await,
    )
}

/// The signed-in user's browser sessions, this one marked.
#[server]
pub async fn my_sessions() -> Result<Vec<AccountSession>, AppError> {
    use crate::ssr;
    ssr::with_status(
        async {
            let user = ssr::require(super::Role::User).await?;
            let current = ssr::session_id().await?;
            ssr::services()?
                .account_queries
                .list_sessions(user.id, current.as_deref())
                .await
        }
        .await,
    )
}

/// Signs one of the user's other browsers out.
#[server]
pub async fn close_session(id: String) -> Result<(), AppError> {
    use crate::ssr;
    ssr::with_status(
        async {
            let user = ssr::require(super::Role::User).await?;
            ssr::services()?
                .account_commands
                .close_session(user.id, &id)
                .await?;
            leptos_axum::redirect("/me/security?done=session");
            Ok(())
        }
        .await,
    )
}

/// Signs every browser (this one too) and every bearer token of the account out.
#[server]
pub async fn sign_out_everywhere() -> Result<(), AppError> {
    use crate::ssr;
    ssr::with_status(
        async {
            let user = ssr::require(super::Role::User).await?;
            ssr::services()?
                .account_commands
                .sign_out_everywhere(user.id)
                .await?;
            ssr::session().await?.flush().await.map_err(ssr::internal)?;
            leptos_axum::redirect("/login");
            Ok(())
        }
        .await,
    )
}

/// Two-factor sign-in as `/me/security` shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TwoFactorState {
    pub on: bool,
    /// Enrolment started: what to scan, until the first code confirms it.
    pub pending: Option<super::TwoFactorSetup>,
    pub recovery_left: i64,
    /// The recovery codes made a moment ago, shown this once.
    pub fresh_codes: Vec<String>,
    /// The platform requires it of the account's role.
    pub required: bool,
}

/// The session key of recovery codes waiting to be shown once.
#[cfg(feature = "ssr")]
const FRESH_CODES_KEY: &str = "fresh_recovery_codes";

/// The signed-in user's two-factor sign-in; fresh recovery codes are handed out once.
#[server]
pub async fn my_two_factor() -> Result<TwoFactorState, AppError> {
    use crate::ssr;
    ssr::with_status(
        async {
            let user = ssr::require(super::Role::User).await?;
            let services = ssr::services()?;
            let queries = &services.account_queries;
            let fresh_codes = ssr::session()
                .await?
                .remove::<Vec<String>>(FRESH_CODES_KEY)
                .await
                .map_err(ssr::internal)?
                .unwrap_or_default();
            Ok(TwoFactorState {
                on: user.two_factor,
                pending: if user.two_factor {
                    None
                } else {
                    queries.pending_two_factor(user.id).await?
                },
                recovery_left: queries.recovery_codes_left(user.id).await?,
                fresh_codes,
                required: user.role_held.is_some(),
            })
        }
        .await,
    )
}

/// Starts enrolling an authenticator app: `/me/security` then shows what to scan.
#[server]
pub async fn begin_two_factor() -> Result<(), AppError> {
    use crate::ssr;
    ssr::with_status(
        async {
            let user = ssr::require(super::Role::User).await?;
            ssr::services()?
                .account_commands
                .begin_two_factor(user.id)
                .await?;
            leptos_axum::redirect("/me/security#two-factor");
            Ok(())
        }
        .await,
    )
}

/// Turns two-factor sign-in on with the app's first code and answers the recovery codes (kept
/// in the session too, for the page without scripts: shown once).
#[server]
pub async fn confirm_two_factor(code: String) -> Result<Vec<String>, AppError> {
    use crate::ssr;
    ssr::with_status(
        async {
            let user = ssr::require(super::Role::User).await?;
            let codes = ssr::services()?
                .account_commands
                .confirm_two_factor(user.id, &code)
                .await
                .map_err(code_field)?;
            ssr::session()
                .await?
                .insert(FRESH_CODES_KEY, &codes)
                .await
                .map_err(ssr::internal)?;
            leptos_axum::redirect("/me/security#two-factor");
            Ok(codes)
        }
        .await,
    )
}

/// Turns two-factor sign-in off, a code from the app or a recovery code given.
#[server]
pub async fn disable_two_factor(code: String) -> Result<(), AppError> {
    use crate::ssr;
    ssr::with_status(
        async {
            let user = ssr::require(super::Role::User).await?;
            ssr::services()?
                .account_commands
                .disable_two_factor(user.id, &code)
                .await
                .map_err(code_field)?;
            leptos_axum::redirect("/me/security?done=two-factor-off#two-factor");
            Ok(())
        }
        .await,
    )
}

/// A wrong code, as the form's `code` field shows it.
#[cfg(feature = "ssr")]
fn code_field(e: AppError) -> AppError {
    match e {
        AppError::OtpInvalid | AppError::OtpRequired => {
            AppError::field("code", crate::error::Problem::CodeInvalid)
        }
        other => other,
    }
}

/// The signed-in user's private calendar feed address, if they made one.
#[server]
pub async fn my_calendar_feed() -> Result<Option<String>, AppError> {
    use crate::ssr;
    ssr::with_status(
        async {
            let user = ssr::require(super::Role::User).await?;
            let token = ssr::services()?
                .account_queries
                .calendar_token(user.id)
                .await?;
            Ok(token.map(|t| format!("{}/feeds/{t}.ics", ssr::public_url())))
        }
        .await,
    )
}

/// Makes a new calendar feed address (the old one stops working).
#[server]
pub async fn renew_calendar_feed() -> Result<(), AppError> {
    use crate::ssr;
    ssr::with_status(
        async {
            let user = ssr::require(super::Role::User).await?;
            ssr::services()?
                .account_commands
                .renew_calendar(user.id)
                .await?;
            leptos_axum::redirect("/me#calendar-feed");
            Ok(())
        }
        .await,
    )
}

/// Stops the calendar feed.
#[server]
pub async fn stop_calendar_feed() -> Result<(), AppError> {
    use crate::ssr;
    ssr::with_status(
        async {
            let user = ssr::require(super::Role::User).await?;
            ssr::services()?
                .account_commands
                .stop_calendar(user.id)
                .await?;
            leptos_axum::redirect("/me#calendar-feed");
            Ok(())
        }
        .await,
    )
}

/// Deletes the signed-in account (its password, and with two-factor sign-in on a code, given
/// again) and signs this browser out.
#[server]
pub async fn delete_account(password: String, otp: Option<String>) -> Result<(), AppError> {
    use crate::ssr;
    ssr::with_status(
        async {
            let user = ssr::require(super::Role::User).await?;
            ssr::services()?
                .account_commands
                .delete_account(user.id, &password, otp.as_deref())
                .await
                .map_err(|e| match e {
                    AppError::OtpInvalid | AppError::OtpRequired => {
                        AppError::field("otp", crate::error::Problem::CodeInvalid)
                    }
                    other => other,
                })?;
            ssr::session().await?.flush().await.map_err(ssr::internal)?;
            leptos_axum::redirect("/login?deleted=1");
            Ok(())
        }
        .await,
    )
}

/// The roles the platform requires two-factor sign-in of (admins only).
#[server]
pub async fn get_two_factor_requirement() -> Result<Vec<super::Role>, AppError> {
    use crate::ssr;
    ssr::with_status(
        async {
            ssr::require(super::Role::Admin).await?;
            ssr::services()?
                .account_queries
                .two_factor_required_for()
                .await
        }
        .await,
    )
}

/// Sets which roles must use two-factor sign-in (a checkbox per role: `agent`, `admin`).
#[server]
pub async fn set_two_factor_requirement(
    agent: Option<String>,
    admin: Option<String>,
) -> Result<(), AppError> {
    use crate::ssr;
    ssr::with_status(
        async {
            let actor = ssr::require(super::Role::Admin).await?;
            let roles = [(super::Role::Agent, agent), (super::Role::Admin, admin)]
                .into_iter()
                .filter_map(|(role, on)| on.map(|_| role))
                .collect();
            ssr::services()?
                .account_commands
                .require_two_factor_for(&actor, roles)
                .await?;
            leptos_axum::redirect("/admin?done=settings#settings");
            Ok(())
        }
        .await,
    )
}
