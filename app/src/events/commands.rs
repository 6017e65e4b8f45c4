//! Event changes for the organizer pages (the REST API calls the same ports).
use super::{EventId, NewEvent};
use crate::error::AppError;
use leptos::prelude::*;

/// Creates a draft. Agents and admins only.
#[server]
pub async fn create_event(new: NewEvent) -> Result<EventId, AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Agent).await?;
            ssr::services()?
                .event_commands
                .create_event(&actor, new)
                .await
        }
        .await,
    )
}

/// Publishes a draft. Only its organizer or an admin may.
#[server]
pub async fn publish_event(id: EventId) -> Result<(), AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Agent).await?;
            ssr::services()?
                .event_commands
                .publish_event(&actor, id)
                .await
        }
        .await,
    )
}

/// Cancels an event with a reason. Only its organizer or an admin may.
#[server]
pub async fn cancel_event(id: EventId, reason: String) -> Result<(), AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Agent).await?;
            ssr::services()?
                .event_commands
                .cancel_event(&actor, id, reason)
                .await
        }
        .await,
    )
}

/// Deletes a draft (or, for an admin, any event).
#[server]
pub async fn delete_event(id: EventId) -> Result<(), AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Agent).await?;
            ssr::services()?
                .event_commands
                .delete_event(&actor, id)
                .await
        }
        .await,
    )
}
