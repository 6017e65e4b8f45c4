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

/// Ends the session (its row and the stored session). Harmless for visitors.
#[server]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::ssr;
    ssr::with_status(
        async {
            let session = ssr::session().await?;
            let services = ssr::services()?;
            if let Some((record, id)) =
                ssr::signed_in(&session, services.account_queries.as_ref()).await?
            {
                services
                    .account_commands
                    .close_session(record.user.id, &id)
                    .await?;
            }
            session.flush().await.map_err(ssr::internal)?;
            leptos_axum::redirect("/");
            Ok(())
        }
        .await,
    )
}

/// Renews the session id (no fixation), records the sign-in (device, address) and binds the
/// browser to that record.
#[cfg(feature = "ssr")]
pub(crate) async fn start_session(user_id: super::UserId) -> Result<(), AppError> {
    use crate::ssr;
    let id = ssr::services()?
        .account_commands
        .open_session(user_id, ssr::client())
        .await?;
    let session = ssr::session().await?;
    session.cycle_id().await.map_err(ssr::internal)?;
    session
        .insert(ssr::SESSION_KEY, id)
        .await
        .map_err(ssr::internal)
}
