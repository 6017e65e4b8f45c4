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
            use super::ports::SignIn;
            let signed = ssr::services()?
                .account_commands
                .sign_in(&email, &password, None, ssr::client_ip())
                .await?;
            let next = safe_next(next.as_deref());
            match signed {
                SignIn::Done(user) => {
                    start_session(user.id).await?;
                    leptos_axum::redirect(&next);
                }
                SignIn::CodeNeeded(user) => {
                    // Nothing is signed in yet: the session remembers whose code to ask for.
                    let session = ssr::session().await?;
                    session.cycle_id().await.map_err(ssr::internal)?;
                    session
                        .insert(
                            PENDING_KEY,
                            Pending {
                                user,
                                at: chrono::Utc::now(),
                            },
                        )
                        .await
                        .map_err(ssr::internal)?;
                    leptos_axum::redirect(&format!(
                        "/login/code?next={}",
                        crate::ui::urlencode(&next)
                    ));
                }
            }
            Ok(())
        }
        .await,
    )
}

/// The second step of signing in with two-factor sign-in on: a code from the app (or a
/// recovery code) for the account whose password was right a moment ago in this browser.
#[server]
pub async fn sign_in_code(code: String, next: Option<String>) -> Result<(), AppError> {
    use crate::ssr;
    ssr::with_status(
        async {
            let session = ssr::session().await?;
            let pending: Option<Pending> = session.get(PENDING_KEY).await.map_err(ssr::internal)?;
            let Some(pending) = pending
                .filter(|p| chrono::Utc::now() - p.at < chrono::TimeDelta::seconds(PENDING_SECS))
            else {
                session
                    .remove::<Pending>(PENDING_KEY)
                    .await
                    .map_err(ssr::internal)?;
                leptos_axum::redirect("/login?expired=1");
                return Ok(());
            };
            let user = ssr::services()?
                .account_commands
                .second_factor(pending.user, &code, ssr::client_ip())
                .await
                .map_err(|e| match e {
                    AppError::OtpInvalid | AppError::OtpRequired => {
                        AppError::field("code", crate::error::Problem::CodeInvalid)
                    }
                    other => other,
                })?;
            session
                .remove::<Pending>(PENDING_KEY)
                .await
                .map_err(ssr::internal)?;
            start_session(user.id).await?;
            leptos_axum::redirect(&safe_next(next.as_deref()));
            Ok(())
        }
        .await,
    )
}

/// The session key of a sign-in waiting for its second step.
#[cfg(feature = "ssr")]
const PENDING_KEY: &str = "pending_second_factor";

/// How long the second step may take.
#[cfg(feature = "ssr")]
const PENDING_SECS: i64 = 300;

/// A sign-in whose password was right, waiting for its code.
#[cfg(feature = "ssr")]
#[derive(serde::Serialize, serde::Deserialize)]
struct Pending {
    user: super::UserId,
    at: chrono::DateTime<chrono::Utc>,
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
