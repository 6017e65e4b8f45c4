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
