//! What the booking server functions and REST handlers need; `server::bookings` implements it.
use super::{
    AttendeePage, AttendeeSearch, CheckIn, DoorCount, MyReactions, MyRegistration, NewRegistration,
    Notice, Reaction, Registration, RegistrationId, ScannedTicket,
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

    /// Marks a confirmed, unpaid registration paid at the venue (the event's organizer or an
    /// admin); marking it twice changes nothing.
    async fn mark_paid(&self, actor: &UserView, id: RegistrationId) -> Result<(), AppError>;

    /// Checks a ticket in at the door of `event_id` (its organizer or an admin). `code` is what
    /// the QR code holds (code and signature) or the bare code typed by hand. The check and the
    /// change are one conditional update, so of two doors scanning at once exactly one admits.
    async fn check_in(
        &self,
        actor: &UserView,
        event_id: crate::events::EventId,
        code: &str,
    ) -> Result<CheckIn, AppError>;
}

/// Reads about registrations.
#[async_trait::async_trait]
pub trait BookingQueries: Send + Sync {
    /// One registration, for its holder, the event's organizer or an admin (else `NotFound`).
    /// Its tickets carry their codes and tokens; no QR code is drawn (`qr_svg` is empty).
    async fn get_registration(
        &self,
        actor: &UserView,
        id: RegistrationId,
    ) -> Result<Registration, AppError>;

    /// The same registration as its ticket page prints it: with each ticket's QR code drawn
    /// (`Ticket::qr_svg`).
    async fn ticket_sheet(
        &self,
        actor: &UserView,
        id: RegistrationId,
    ) -> Result<Registration, AppError>;

    /// The actor's registrations with their events, soonest event first; no QR code is drawn.
    async fn my_registrations(&self, actor: &UserView) -> Result<Vec<MyRegistration>, AppError>;

    /// The same registrations as `/me` shows them: with each ticket's QR code drawn.
    async fn my_tickets(&self, actor: &UserView) -> Result<Vec<MyRegistration>, AppError>;

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

    /// Every mark the actor has put on any event (for the toggles on event cards).
    async fn all_marks(
        &self,
        actor: &UserView,
    ) -> Result<Vec<(crate::events::EventId, Reaction)>, AppError>;

    /// An event's registrations with their holders and tickets (its organizer or an admin;
    /// `NotFound` for anyone else), confirmed first, then the waitlist in order, then cancelled.
    async fn attendees(
        &self,
        actor: &UserView,
        event_id: crate::events::EventId,
        search: AttendeeSearch,
    ) -> Result<AttendeePage, AppError>;

    /// The event's title and door numbers (its organizer or an admin; `NotFound` otherwise).
    async fn door_count(
        &self,
        actor: &UserView,
        event_id: crate::events::EventId,
    ) -> Result<DoorCount, AppError>;

    /// A ticket of `event_id` with its holder and door status, for the check-in page (its
    /// organizer or an admin); `None` when the event has no ticket with this code.
    async fn find_ticket(
        &self,
        actor: &UserView,
        event_id: crate::events::EventId,
        code: &str,
    ) -> Result<Option<ScannedTicket>, AppError>;
}
