//! Booking reads for the pages.
use super::{MyReactions, MyRegistration, Notice, Reaction, Registration, RegistrationId};
use crate::error::AppError;
use leptos::prelude::*;

/// One registration, for its holder, the event's organizer or an admin.
#[server]
pub async fn get_registration(id: RegistrationId) -> Result<Registration, AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::User).await?;
            ssr::services()?
                .booking_queries
                .get_registration(&actor, id)
                .await
        }
        .await,
    )
}

/// The signed-in user's registrations with their events.
#[server]
pub async fn my_registrations() -> Result<Vec<MyRegistration>, AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::User).await?;
            ssr::services()?
                .booking_queries
                .my_registrations(&actor)
                .await
        }
        .await,
    )
}

/// The signed-in user's latest notices.
#[server]
pub async fn my_notices() -> Result<Vec<Notice>, AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::User).await?;
            ssr::services()?.booking_queries.my_notices(&actor).await
        }
        .await,
    )
}

/// The signed-in user's marks on one event (none for visitors).
#[server]
pub async fn get_my_reactions_on(
    event_id: crate::events::EventId,
) -> Result<Vec<Reaction>, AppError> {
    use crate::ssr;
    ssr::with_status(
        async {
            match ssr::current_user().await? {
                Some(actor) => {
                    ssr::services()?
                        .booking_queries
                        .reactions_on(&actor, event_id)
                        .await
                }
                None => Ok(Vec::new()),
            }
        }
        .await,
    )
}

/// The events the signed-in user liked and saved.
#[server]
pub async fn get_my_reactions() -> Result<MyReactions, AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::User).await?;
            ssr::services()?.booking_queries.my_reactions(&actor).await
        }
        .await,
    )
}
