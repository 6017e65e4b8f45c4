//! Booking server functions for the pages (the REST API calls the same ports).
use super::{RegistrationId, TicketTypeId};
use crate::error::AppError;
use crate::events::EventId;
use leptos::prelude::*;

/// Books seats from the event page, then shows the outcome there (`?registration=`).
/// Signed-in users only; a visitor is asked to sign in first.
#[server]
pub async fn book_seats(
    event_id: EventId,
    ticket_type_id: TicketTypeId,
    quantity: i64,
) -> Result<RegistrationId, AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::User).await?;
            let registration = ssr::services()?
                .booking_commands
                .register(
                    &actor,
                    super::NewRegistration {
                        event_id,
                        ticket_type_id,
                        quantity,
                    },
                )
                .await?;
            leptos_axum::redirect(&format!(
                "/events/{event_id}?registration={}",
                registration.id
            ));
            Ok(registration.id)
        }
        .await,
    )
}

/// Cancels a registration (its holder before the event, the organizer or an admin any time).
#[server]
pub async fn cancel_booking(id: RegistrationId) -> Result<(), AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::User).await?;
            ssr::services()?
                .booking_commands
                .cancel_registration(&actor, id)
                .await?;
            Ok(())
        }
        .await,
    )
}

/// Likes or saves an event (`on`), or takes the mark back. Works as a plain form post.
#[server]
pub async fn set_reaction(event_id: EventId, kind: String, on: bool) -> Result<(), AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::User).await?;
            let reaction = super::Reaction::from_code(&kind).ok_or_else(|| {
                AppError::field(
                    "kind",
                    crate::error::Problem::Malformed {
                        detail: "kind must be like or save".into(),
                    },
                )
            })?;
            ssr::services()?
                .booking_commands
                .set_reaction(&actor, event_id, reaction, on)
                .await
        }
        .await,
    )
}
