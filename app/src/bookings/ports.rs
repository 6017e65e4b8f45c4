//! What the booking server functions and REST handlers need; `server::bookings` implements it.
use super::{
    MyReactions, MyRegistration, NewRegistration, Notice, Reaction, Registration, RegistrationId,
};
use crate::auth::UserView;
use crate::error::AppError;

/// Changes to registrations. Each answer is given only after its transaction committed.
#[async_trait::async_trait]
pub trait BookingCommands: Send + Sync {
    /// Books `quantity` seats of a ticket type: confirmed with tickets when the seats are
    /// there and nobody waits before, otherwise waitlisted with a position.
    async fn register(
        &self,
        actor: &UserView,
        new: NewRegistration,
    ) -> Result<Registration, AppError>;

    /// Cancels a registration (its holder before the event starts; the organizer or an admin
    /// any time), frees its seats and confirms waiting groups in arrival order, in one
    /// transaction. Cancelling a cancelled registration changes nothing.
    async fn cancel_registration(
        &self,
        actor: &UserView,
        id: RegistrationId,
    ) -> Result<Registration, AppError>;

    /// Sets (`on`) or clears a like or save; doing it twice changes nothing. `NotFound` for an
    /// event the actor may not see.
    async fn set_reaction(
        &self,
        actor: &UserView,
        event_id: crate::events::EventId,
        reaction: Reaction,
        on: bool,
    ) -> Result<(), AppError>;
}

/// Reads about registrations.
#[async_trait::async_trait]
pub trait BookingQueries: Send + Sync {
    /// One registration, for its holder, the event's organizer or an admin (else `NotFound`).
    async fn get_registration(
        &self,
        actor: &UserView,
        id: RegistrationId,
    ) -> Result<Registration, AppError>;

    /// The actor's registrations with their events, soonest event first.
    async fn my_registrations(&self, actor: &UserView) -> Result<Vec<MyRegistration>, AppError>;

    /// The actor's latest notices, newest first.
    async fn my_notices(&self, actor: &UserView) -> Result<Vec<Notice>, AppError>;

    /// The events the actor liked and saved, newest mark first.
    async fn my_reactions(&self, actor: &UserView) -> Result<MyReactions, AppError>;

    /// Which marks the actor has put on one event.
    async fn reactions_on(
        &self,
        actor: &UserView,
        event_id: crate::events::EventId,
    ) -> Result<Vec<Reaction>, AppError>;
}
