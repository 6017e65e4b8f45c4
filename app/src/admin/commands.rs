//! Administration server functions for the pages (the REST API calls the same ports).
use super::AgentRequestId;
use crate::error::AppError;
use leptos::prelude::*;

/// Asks to become an organizer (from `/me`).
#[server]
pub async fn request_agent(organisation: String, message: String) -> Result<(), AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::User).await?;
            ssr::services()?
                .admin_commands
                .request_agent(
                    &actor,
                    super::NewAgentRequest {
                        organisation,
                        message,
                    },
                )
                .await?;
            Ok(())
        }
        .await,
    )
}

/// Approves or rejects an organizer request with a note (admins).
#[server]
pub async fn decide_agent_request(
    id: AgentRequestId,
    approve: bool,
    note: String,
) -> Result<(), AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Admin).await?;
            ssr::services()?
                .admin_commands
                .decide_agent_request(&actor, id, approve, &note)
                .await?;
            Ok(())
        }
        .await,
    )
}

/// Changes a user's role (`role`: user · agent · admin) or blocked flag (`blocked`: true ·
/// false); an empty value leaves that part alone. Admins only.
#[server]
pub async fn update_user(id: i64, role: String, blocked: String) -> Result<(), AppError> {
    use crate::{auth::Role, error::Problem, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Admin).await?;
            let malformed = |field: &str, detail: &str| {
                AppError::field(
                    field,
                    Problem::Malformed {
                        detail: detail.into(),
                    },
                )
            };
            let change =
                super::UserChange {
                    role: match role.as_str() {
                        "" => None,
                        code => Some(Role::from_code(code).ok_or_else(|| {
                            malformed("role", "role must be user, agent or admin")
                        })?),
                    },
                    blocked: match blocked.as_str() {
                        "" => None,
                        "true" => Some(true),
                        "false" => Some(false),
                        _ => return Err(malformed("blocked", "blocked must be true or false")),
                    },
                };
            ssr::services()?
                .admin_commands
                .update_user(&actor, id, change)
                .await?;
            Ok(())
        }
        .await,
    )
}
