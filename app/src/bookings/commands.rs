//! Booking server functions for the pages (the REST API calls the same ports).
use super::{RegistrationId, TicketTypeId};
use crate::error::AppError;
use crate::events::EventId;
use leptos::prelude::*;

/// Books seats from the event page, then shows the outcome there (`?registration=`). The
/// form's one-time token ([`super::queries::new_booking_token`]) makes a second post of the
/// same form answer the first booking.
/// Signed-in users only; a visitor is asked to sign in first.
#[server]
pub async fn book_seats(
    event_id: EventId,
    ticket_type_id: TicketTypeId,
    quantity: i64,
    form_token: Option<String>,
) -> Result<RegistrationId, AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::User).await?;
            let idempotency_key = form_token
                .filter(|t| !t.is_empty())
                .map(super::IdempotencyKey::try_from)
                .transpose()?;
            let registration = ssr::services()?
                .booking_commands
                .register(
                    &actor,
                    super::NewRegistration {
                        event_id,
                        ticket_type_id,
                        quantity,
                        idempotency_key,
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

/// Marks a registration paid at the venue (the event's organizer or an admin).
#[server]
pub async fn mark_paid(id: RegistrationId) -> Result<(), AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Agent).await?;
            ssr::services()?
                .booking_commands
                .mark_paid(&actor, id)
                .await
        }
        .await,
    )
}

/// Checks a ticket in at the door, then shows the outcome on the check-in page
/// (`?code=…&result=…`), so scanning works the same with and without scripts.
#[server]
pub async fn check_in_ticket(event_id: EventId, code: String) -> Result<(), AppError> {
    use super::CheckIn;
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Agent).await?;
            let outcome = ssr::services()?
                .booking_commands
                .check_in(&actor, event_id, &code)
                .await?;
            let (result, code) = match &outcome {
                CheckIn::Admitted(t) => ("admitted", t.code.as_str()),
                CheckIn::AlreadyCheckedIn(t) => ("repeat", t.code.as_str()),
                CheckIn::Cancelled(t) => ("cancelled", t.code.as_str()),
                CheckIn::OtherEvent => ("other_event", ""),
                CheckIn::Unknown => ("unknown", ""),
            };
            leptos_axum::redirect(&format!(
                "/agent/events/{event_id}/check-in?result={result}&code={code}&at={}",
                chrono::Utc::now().timestamp_millis()
            ));
            Ok(())
        }
        .await,
    )
}
