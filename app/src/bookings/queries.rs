//! Booking reads for the pages.
use super::{MyReactions, MyRegistration, Notice, Reaction, Registration, RegistrationId};
use crate::error::AppError;
use leptos::prelude::*;

/// A fresh one-time token for the booking form: sent with the form as its idempotency key,
/// so a form posted twice (a double click, a resubmitted page) books once. The page asks for
/// a new one after each booking, since a person may book again on purpose.
#[server]
pub async fn new_booking_token() -> Result<String, AppError> {
    Ok(format!("form-{:032x}", rand::random::<u128>()))
}

/// One registration with its tickets' QR codes, for its holder, the event's organizer or an
/// admin.
#[server]
pub async fn get_registration(id: RegistrationId) -> Result<Registration, AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::User).await?;
            ssr::services()?
                .booking_queries
                .ticket_sheet(&actor, id)
                .await
        }
        .await,
    )
}

/// The signed-in user's registrations with their events and their tickets' QR codes.
#[server]
pub async fn my_registrations() -> Result<Vec<MyRegistration>, AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::User).await?;
            ssr::services()?.booking_queries.my_tickets(&actor).await
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

/// A page of an event's attendees for its organizer or an admin.
#[server]
pub async fn get_attendees(
    event_id: crate::events::EventId,
    q: String,
    page: u32,
) -> Result<super::AttendeePage, AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Agent).await?;
            ssr::services()?
                .booking_queries
                .attendees(
                    &actor,
                    event_id,
                    super::AttendeeSearch {
                        q,
                        page: Some(page.max(1)),
                    },
                )
                .await
        }
        .await,
    )
}

/// The check-in page's header: the event's title and how many tickets are checked in.
#[server]
pub async fn get_door_count(
    event_id: crate::events::EventId,
) -> Result<super::DoorCount, AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Agent).await?;
            ssr::services()?
                .booking_queries
                .door_count(&actor, event_id)
                .await
        }
        .await,
    )
}

/// The ticket a door just scanned, to show who holds it and when it was checked in.
#[server]
pub async fn get_scanned_ticket(
    event_id: crate::events::EventId,
    code: String,
) -> Result<Option<super::ScannedTicket>, AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Agent).await?;
            ssr::services()?
                .booking_queries
                .find_ticket(&actor, event_id, &code)
                .await
        }
        .await,
    )
}

/// Every mark of the signed-in user, for the like / save toggles on cards (none for visitors).
#[server]
pub async fn get_my_marks() -> Result<Vec<(crate::events::EventId, Reaction)>, AppError> {
    use crate::ssr;
    ssr::with_status(
        async {
            match ssr::current_user().await? {
                Some(actor) => ssr::services()?.booking_queries.all_marks(&actor).await,
                None => Ok(Vec::new()),
            }
        }
        .await,
    )
}
