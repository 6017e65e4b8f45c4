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

/// A change from the admin events table: `status` (published · draft · cancelled, the last
/// with `reason`) and / or `featured` (true · false); an empty value leaves that part alone.
#[server]
pub async fn change_event(
    id: crate::events::EventId,
    status: String,
    featured: String,
    reason: String,
) -> Result<(), AppError> {
    use crate::events::{EventChange, EventStatus};
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
            let change = EventChange {
                status: EventStatus::parse_field(&status)?,
                featured: match featured.as_str() {
                    "" => None,
                    "true" => Some(true),
                    "false" => Some(false),
                    _ => return Err(malformed("featured", "featured must be true or false")),
                },
                reason,
            };
            let commands = ssr::services()?.event_commands;
            crate::events::ports::change_event(commands.as_ref(), &actor, id, change).await
        }
        .await,
    )
}

/// Runs a dead job again (admins; in the audit log). Lands on the dead letters with a
/// confirmation, with or without scripts.
#[server]
pub async fn retry_job(id: i64) -> Result<(), AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Admin).await?;
            ssr::services()?.job_commands.retry_job(&actor, id).await?;
            leptos_axum::redirect(&format!("/admin/jobs?state=dead&retried={id}"));
            Ok(())
        }
        .await,
    )
}

/// Deletes a dead job (admins; in the audit log with its payload). Lands on the dead letters
/// with a confirmation.
#[server]
pub async fn discard_job(id: i64) -> Result<(), AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Admin).await?;
            ssr::services()?
                .job_commands
                .discard_job(&actor, id)
                .await?;
            leptos_axum::redirect(&format!("/admin/jobs?state=dead&discarded={id}"));
            Ok(())
        }
        .await,
    )
}
