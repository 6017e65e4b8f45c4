//! Booking reads for the pages.
use super::{MyRegistration, Notice, Registration, RegistrationId};
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
