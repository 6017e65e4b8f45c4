//! What the event server functions and REST handlers need; `server::events` implements it.
use super::{
    Category, EventChange, EventCreation, EventDetail, EventEntry, EventFilter, EventId,
    EventListItem, EventSearch, EventSlice, EventStatus, EventWindow, ManagedEvent,
    ManagedEventPage, NewEvent, ResultPage, TicketTypeView, UpdateEvent,
};
use crate::auth::UserView;
use crate::error::AppError;
use crate::error::Problem;

/// Reads about events. Visitors see published, cancelled and completed events; drafts only
/// their organizer and admins (to anyone else a draft does not exist).
#[async_trait::async_trait]
pub trait EventQueries: Send + Sync {
    /// Upcoming published events matching `search`, one page of them, with the total.
    async fn list_events(
        &self,
        search: &EventSearch,
    ) -> Result<ResultPage<EventListItem>, AppError>;

    /// Upcoming published events matching `search` (its page and page size unused), the part
    /// `window` names, in the search's order, with the total: paging by position, so a
    /// window after the last one read neither repeats nor skips events while others are
    /// added. A relevance order with words has no stable position and is refused (`sort`).
    async fn list_event_window(
        &self,
        search: &EventSearch,
        window: &EventWindow,
    ) -> Result<EventSlice, AppError>;

    /// One event by its public uuid, as the API's lists show it; `NotFound` when absent or
    /// not visible to `viewer` (as [`EventQueries::get_event`]).
    async fn get_event_entry(
        &self,
        viewer: Option<&UserView>,
        uuid: &str,
    ) -> Result<EventEntry, AppError>;

    /// A creation queued under `uuid` and not done yet, if `viewer` organizes it or is an
    /// admin (`None` otherwise, as for no such creation).
    async fn event_creation(
        &self,
        viewer: Option<&UserView>,
        uuid: &str,
    ) -> Result<Option<EventCreation>, AppError>;

    /// The ticket types of each of `events` in their order, in one read, for lists that show
    /// them. The caller has already been shown these events (no visibility rule here).
    async fn list_ticket_types(
        &self,
        events: &[EventId],
    ) -> Result<Vec<(EventId, TicketTypeView)>, AppError>;

    /// One event as its page shows it; `NotFound` when absent or not visible to `viewer`.
    async fn get_event(
        &self,
        viewer: Option<&UserView>,
        id: EventId,
    ) -> Result<EventDetail, AppError>;

    /// Published and cancelled events starting in `[from, to)`, soonest first (at most 1000),
    /// for the month calendar.
    async fn list_between(
        &self,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<EventListItem>, AppError>;

    /// How many upcoming published events each category has (categories with none are left out).
    async fn category_counts(&self) -> Result<Vec<(Category, i64)>, AppError>;

    /// Upcoming published events with the most registrations made in the last 7 days.
    async fn trending(&self, limit: i64) -> Result<Vec<EventListItem>, AppError>;

    /// Upcoming published events an admin featured, soonest first.
    async fn featured(&self, limit: i64) -> Result<Vec<EventListItem>, AppError>;

    /// Every organizer's events for admins, filtered, the latest starting first.
    async fn all_events(
        &self,
        actor: &UserView,
        filter: EventFilter,
    ) -> Result<ManagedEventPage, AppError>;

    /// The events an agent organizes (all of them for an admin), newest first.
    async fn list_managed_events(&self, actor: &UserView) -> Result<Vec<EventListItem>, AppError>;

    /// One event as the admin events table lists it, with its organizer and featuring (the
    /// answer to an admin's change): `Forbidden` for anyone but admins, `NotFound` when there
    /// is no such event.
    async fn managed_event(&self, actor: &UserView, id: EventId) -> Result<ManagedEvent, AppError>;
}

/// Changes to events. Each checks the record rule (organizer or admin) inside its transaction;
/// an event the actor may not manage answers `NotFound`.
#[async_trait::async_trait]
pub trait EventCommands: Send + Sync {
    /// Creates a draft organized by `actor` (an agent or admin).
    async fn create_event(&self, actor: &UserView, new: NewEvent) -> Result<EventId, AppError>;

    /// Checks `new` at once and queues its creation (a worker creates the draft soon, under
    /// the uuid answered); refused for the same reasons as [`EventCommands::create_event`].
    async fn create_event_async(
        &self,
        actor: &UserView,
        new: NewEvent,
    ) -> Result<EventCreation, AppError>;

    /// Changes the given fields; the result must still be a valid event.
    async fn update_event(
        &self,
        actor: &UserView,
        id: EventId,
        changes: UpdateEvent,
    ) -> Result<(), AppError>;

    /// Draft → published; the event must start in the future.
    async fn publish_event(&self, actor: &UserView, id: EventId) -> Result<(), AppError>;

    /// Published → draft, while nobody holds a booking (`Conflict` with `HasBookings`
    /// otherwise: such an event is cancelled, so its holders are told).
    async fn unpublish_event(&self, actor: &UserView, id: EventId) -> Result<(), AppError>;

    /// Features the event on the home page or stops featuring it (admins). Only a published
    /// event can be featured.
    async fn set_featured(
        &self,
        actor: &UserView,
        id: EventId,
        featured: bool,
    ) -> Result<(), AppError>;

    /// Draft or published → cancelled, with a reason shown on the event page.
    async fn cancel_event(
        &self,
        actor: &UserView,
        id: EventId,
        reason: String,
    ) -> Result<(), AppError>;

    /// Deletes a draft (organizer) or any event (admin).
    async fn delete_event(&self, actor: &UserView, id: EventId) -> Result<(), AppError>;

    /// Replaces the event's image with `bytes` (JPEG, PNG or WebP, judged by content), checked,
    /// re-encoded and stored; the previous image is deleted. Returns the new image URL. On any
    /// failure the event keeps its old image.
    async fn set_event_image(
        &self,
        actor: &UserView,
        id: EventId,
        bytes: Vec<u8>,
    ) -> Result<String, AppError>;
}

/// Applies an admin's change from the events table (or `PATCH /api/v1/admin/events/{id}`)
/// through the same commands the organizer forms use: publish, unpublish, cancel, feature.
pub async fn change_event(
    commands: &dyn EventCommands,
    actor: &UserView,
    id: EventId,
    change: EventChange,
) -> Result<(), AppError> {
    crate::auth::rules::check_role(actor, crate::auth::Role::Admin)?;
    if change.status.is_none() && change.featured.is_none() {
        return Err(AppError::field(
            "status",
            Problem::Malformed {
                detail: "give a status or featured".into(),
            },
        ));
    }
    match change.status {
        None => {}
        Some(EventStatus::Published) => commands.publish_event(actor, id).await?,
        Some(EventStatus::Draft) => commands.unpublish_event(actor, id).await?,
        Some(EventStatus::Cancelled) => commands.cancel_event(actor, id, change.reason).await?,
        Some(EventStatus::Completed) => {
            return Err(AppError::field(
                "status",
                Problem::WrongStatus {
                    status: EventStatus::Completed.code().into(),
                },
            ));
        }
    }
    if let Some(featured) = change.featured {
        commands.set_featured(actor, id, featured).await?;
    }
    Ok(())
}
