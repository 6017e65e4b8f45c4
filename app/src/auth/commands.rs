//! Account changes: register, sign in, sign out.
use crate::error::AppError;
use leptos::prelude::*;

pub use super::rules::safe_next;

/// Creates an account (role `user`) and signs it in. Visitors only need this; anyone may call it.
#[server]
pub async fn register_user(
    email: String,
    display_name: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    use crate::ssr;
    ssr::with_status(
        async {
            let locale = use_context::<crate::i18n::Locale>().unwrap_or_default();
            let new = super::NewUser {
                email,
                display_name,
                password,
            };
            let user = ssr::services()?
                .account_commands
                .register(new, locale, ssr::client_ip())
                .await?;
            start_session(user.id).await?;
            leptos_axum::redirect(&safe_next(next.as_deref()));
            Ok(())
        }
        .await,
    )
}

/// Signs in with email and password. Attempts are limited per address and per account.
#[server]
pub async fn sign_in(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    use crate::ssr;
    ssr::with_status(
        async {
            let user = ssr::services()?
                .account_commands
                .sign_in(&email, &password, ssr::client_ip())
                .await?;
            start_session(user.id).await?;
            leptos_axum::redirect(&safe_next(next.as_deref()));
            Ok(())
        }
        .await,
    )
}

/// Ends the session (destroying it in the store). Harmless for visitors.
#[server]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::ssr;
    ssr::with_status(
        async {
            ssr::session().await?.flush().await.map_err(ssr::internal)?;
            leptos_axum::redirect("/");
            Ok(())
        }
        .await,
    )
}

/// Renews the session id (no fixation) and binds it to the user.
#[cfg(feature = "ssr")]
async fn start_session(user_id: super::UserId) -> Result<(), AppError> {
    use crate::ssr;
    let session = ssr::session().await?;
    session.cycle_id().await.map_err(ssr::internal)?;
    session
        .insert(ssr::SESSION_USER_KEY, user_id)
        .await
        .map_err(ssr::internal)
}
