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
