//! The mutations: the event commands and the booking commands, each behind the same coarse
//! role gate as REST (`agent` for event changes, any account for bookings), the record rule
//! inside the command. Events are named by uuid; an event the caller may not see is
//! `NOT_FOUND`, as one that does not exist. Each answers a payload object, so fields can be
//! added later without breaking callers.
use super::errors::OrGql;
use super::events::{Category, Event, caller, require};
use app::auth::Role;
use app::bookings::{NewRegistration, Registration as RegistrationRecord};
use app::error::AppError;
use app::events::{EventEntry, EventId, NewEvent, NewTicketType, UpdateEvent};
use app::ssr::Services;
use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, Utc};

/// A price as entered.
#[derive(InputObject)]
pub struct MoneyInput {
    /// Minor units, 0 to 100,000,000.
    pub amount: i64,
    /// An active ISO 4217 code (any case).
    pub currency: String,
}

/// A ticket type as entered; the sales window is optional.
#[derive(InputObject)]
pub struct TicketTypeInput {
    /// 1 to 60 characters.
    pub name: String,
    pub price: MoneyInput,
    /// 1 to 1,000,000.
    pub quantity: i64,
    /// 1 to 100.
    pub max_per_registration: i64,
    pub sales_start: Option<DateTime<Utc>>,
    pub sales_end: Option<DateTime<Utc>>,
}

impl From<TicketTypeInput> for NewTicketType {
    fn from(t: TicketTypeInput) -> Self {
        NewTicketType {
            name: t.name,
            price_amount: t.price.amount,
            currency: t.price.currency,
            quantity: t.quantity,
            max_per_registration: t.max_per_registration,
            sales_start: t.sales_start.map(|t| t.to_rfc3339()),
            sales_end: t.sales_end.map(|t| t.to_rfc3339()),
        }
    }
}

/// A new event, as REST's body in camelCase.
#[derive(InputObject)]
pub struct NewEventInput {
    pub title: String,
    #[graphql(default)]
    pub summary: String,
    /// Markdown.
    #[graphql(default)]
    pub description: String,
    pub category: Category,
    #[graphql(default)]
    pub tags: Vec<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// IANA time zone of the venue, e.g. Asia/Jerusalem.
    pub timezone: String,
    pub venue: String,
    #[graphql(default)]
    pub address: String,
    pub city: String,
    /// 1 to 1,000,000.
    pub capacity: i64,
    /// The most seats one person may hold for this event; absent or null: no cap.
    pub max_seats_per_user: Option<i64>,
    pub ticket_types: Vec<TicketTypeInput>,
}

impl From<NewEventInput> for NewEvent {
    fn from(e: NewEventInput) -> Self {
        NewEvent {
            title: e.title,
            summary: e.summary,
            description: e.description,
            category: app::events::Category::from(e.category).code().into(),
            tags: e.tags,
            starts_at: e.starts_at.to_rfc3339(),
            ends_at: e.ends_at.to_rfc3339(),
            timezone: e.timezone,
            venue: e.venue,
            address: e.address,
            city: e.city,
            capacity: e.capacity,
            max_seats_per_user: e.max_seats_per_user,
            ticket_types: e.ticket_types.into_iter().map(Into::into).collect(),
        }
    }
}

/// The fields to change; absent ones stay as they are.
#[derive(InputObject, Default)]
pub struct UpdateEventInput {
    pub title: Option<String>,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub category: Option<Category>,
    pub tags: Option<Vec<String>>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub timezone: Option<String>,
    pub venue: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub capacity: Option<i64>,
    /// A number sets the cap on seats per person, null removes it, absent leaves it.
    pub max_seats_per_user: MaybeUndefined<i64>,
    /// Replaces every ticket type (those with bookings must stay, in their places).
    pub ticket_types: Option<Vec<TicketTypeInput>>,
}

impl From<UpdateEventInput> for UpdateEvent {
    fn from(e: UpdateEventInput) -> Self {
        UpdateEvent {
            title: e.title,
            summary: e.summary,
            description: e.description,
            category: e
                .category
                .map(|c| app::events::Category::from(c).code().into()),
            tags: e.tags,
            starts_at: e.starts_at.map(|t| t.to_rfc3339()),
            ends_at: e.ends_at.map(|t| t.to_rfc3339()),
            timezone: e.timezone,
            venue: e.venue,
            address: e.address,
            city: e.city,
            capacity: e.capacity,
            max_seats_per_user: match e.max_seats_per_user {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(n) => Some(Some(n)),
            },
            ticket_types: e
                .ticket_types
                .map(|types| types.into_iter().map(Into::into).collect()),
        }
    }
}

/// Where a registration is.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "app::bookings::RegistrationStatus")]
pub enum RegistrationStatus {
    Confirmed,
    Waitlisted,
    Cancelled,
}

/// Whether a registration is paid.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "app::bookings::Payment")]
pub enum Payment {
    Free,
    Unpaid,
    Paid,
}

/// Whether a ticket still admits.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "app::bookings::TicketStatus")]
pub enum TicketStatus {
    Valid,
    Cancelled,
}

/// One seat's ticket.
#[derive(SimpleObject)]
pub struct Ticket {
    /// What the QR code holds: the ticket's code with the server's signature.
    pub code: String,
    pub status: TicketStatus,
    pub checked_in_at: Option<DateTime<Utc>>,
}

/// A booking of seats of one ticket type.
#[derive(SimpleObject)]
pub struct Registration {
    pub id: ID,
    pub ticket_type_id: ID,
    pub ticket_type_name: String,
    pub quantity: i64,
    pub status: RegistrationStatus,
    /// 1-based, while waitlisted.
    pub waitlist_position: Option<i64>,
    pub payment: Payment,
    pub tickets: Vec<Ticket>,
    pub created_at: DateTime<Utc>,
}

impl From<RegistrationRecord> for Registration {
    fn from(r: RegistrationRecord) -> Self {
        Registration {
            id: ID(r.id.to_string()),
            ticket_type_id: ID(r.ticket_type_id.to_string()),
            ticket_type_name: r.ticket_type_name,
            quantity: r.quantity,
            status: r.status.into(),
            waitlist_position: r.waitlist_position,
            payment: r.payment.into(),
            tickets: r
                .tickets
                .into_iter()
                .map(|t| Ticket {
                    code: t.token,
                    status: t.status.into(),
                    checked_in_at: t.checked_in_at,
                })
                .collect(),
            created_at: r.created_at,
        }
    }
}

#[derive(SimpleObject)]
pub struct CreateEventPayload {
    /// The new draft.
    pub event: Event,
}

#[derive(SimpleObject)]
pub struct CreateEventAsyncPayload {
    /// The queued creation: `PENDING` under the uuid the event will have.
    pub event: Event,
}

#[derive(SimpleObject)]
pub struct UpdateEventPayload {
    pub event: Event,
}

#[derive(SimpleObject)]
pub struct PublishEventPayload {
    pub event: Event,
}

#[derive(SimpleObject)]
pub struct CancelEventPayload {
    pub event: Event,
}

#[derive(SimpleObject)]
pub struct DeleteEventPayload {
    /// True once the event is gone.
    pub success: bool,
}

#[derive(SimpleObject)]
pub struct RegisterPayload {
    pub registration: Registration,
}

#[derive(SimpleObject)]
pub struct CancelRegistrationPayload {
    pub registration: Registration,
}

/// The id of the event `uuid` names, as `actor` sees it (`NotFound` otherwise).
async fn event_id(
    services: &Services,
    actor: &app::auth::UserView,
    uuid: &uuid::Uuid,
) -> Result<EventId, AppError> {
    let entry = services
        .event_queries
        .get_event_entry(Some(actor), &uuid.to_string())
        .await?;
    Ok(entry.item.id)
}

/// The event after a change, as its changer sees it.
async fn reread(
    services: &Services,
    actor: &app::auth::UserView,
    uuid: &str,
) -> Result<Event, AppError> {
    let entry: EventEntry = services
        .event_queries
        .get_event_entry(Some(actor), uuid)
        .await?;
    Ok(Event::from(entry))
}

/// A numeric id from the API: anything that is not one of ours is simply not found.
fn number<T: From<i64>>(id: &ID) -> Result<T, AppError> {
    id.parse::<i64>()
        .map(T::from)
        .map_err(|_| AppError::NotFound)
}

pub struct Mutation;

#[Object]
impl Mutation {
    /// Creates a draft organized by the caller. Agents and admins.
    async fn create_event(
        &self,
        ctx: &Context<'_>,
        input: NewEventInput,
    ) -> async_graphql::Result<CreateEventPayload> {
        let (who, services) = caller(ctx)?;
        let actor = require(who, Role::Agent).gql()?;
        let id = services
            .event_commands
            .create_event(&actor, input.into())
            .await
            .gql()?;
        let detail = services
            .event_queries
            .get_event(Some(&actor), id)
            .await
            .gql()?;
        let event = reread(services, &actor, &detail.item.uuid).await.gql()?;
        Ok(CreateEventPayload { event })
    }

    /// Checks the input at once (bad input is an error now), then queues the creation: a
    /// worker creates the draft soon, while the caller does not wait. Until then `event(uuid)`
    /// shows it to its organizer as `PENDING`; if the worker is refused, `FAILED` with the
    /// reason. Lists and pages show it once it is created. Agents and admins.
    async fn create_event_async(
        &self,
        ctx: &Context<'_>,
        input: NewEventInput,
    ) -> async_graphql::Result<CreateEventAsyncPayload> {
        let (who, services) = caller(ctx)?;
        let actor = require(who, Role::Agent).gql()?;
        let creation = services
            .event_commands
            .create_event_async(&actor, input.into())
            .await
            .gql()?;
        Ok(CreateEventAsyncPayload {
            event: Event::from(creation),
        })
    }

    /// Changes some fields of an event. Its organizer or an admin.
    async fn update_event(
        &self,
        ctx: &Context<'_>,
        uuid: uuid::Uuid,
        input: UpdateEventInput,
    ) -> async_graphql::Result<UpdateEventPayload> {
        let (who, services) = caller(ctx)?;
        let actor = require(who, Role::Agent).gql()?;
        let id = event_id(services, &actor, &uuid).await.gql()?;
        services
            .event_commands
            .update_event(&actor, id, input.into())
            .await
            .gql()?;
        let event = reread(services, &actor, &uuid.to_string()).await.gql()?;
        Ok(UpdateEventPayload { event })
    }

    /// Publishes a draft that starts in the future. Its organizer or an admin.
    async fn publish_event(
        &self,
        ctx: &Context<'_>,
        uuid: uuid::Uuid,
    ) -> async_graphql::Result<PublishEventPayload> {
        let (who, services) = caller(ctx)?;
        let actor = require(who, Role::Agent).gql()?;
        let id = event_id(services, &actor, &uuid).await.gql()?;
        services
            .event_commands
            .publish_event(&actor, id)
            .await
            .gql()?;
        let event = reread(services, &actor, &uuid.to_string()).await.gql()?;
        Ok(PublishEventPayload { event })
    }

    /// Cancels a draft or published event with a reason its page shows (its ticket holders
    /// are told). Its organizer or an admin.
    async fn cancel_event(
        &self,
        ctx: &Context<'_>,
        uuid: uuid::Uuid,
        reason: String,
    ) -> async_graphql::Result<CancelEventPayload> {
        let (who, services) = caller(ctx)?;
        let actor = require(who, Role::Agent).gql()?;
        let id = event_id(services, &actor, &uuid).await.gql()?;
        services
            .event_commands
            .cancel_event(&actor, id, reason)
            .await
            .gql()?;
        let event = reread(services, &actor, &uuid.to_string()).await.gql()?;
        Ok(CancelEventPayload { event })
    }

    /// Deletes a draft (its organizer) or any event (an admin).
    async fn delete_event(
        &self,
        ctx: &Context<'_>,
        uuid: uuid::Uuid,
    ) -> async_graphql::Result<DeleteEventPayload> {
        let (who, services) = caller(ctx)?;
        let actor = require(who, Role::Agent).gql()?;
        let id = event_id(services, &actor, &uuid).await.gql()?;
        services
            .event_commands
            .delete_event(&actor, id)
            .await
            .gql()?;
        Ok(DeleteEventPayload { success: true })
    }

    /// Books `quantity` seats of a ticket type: confirmed with tickets when the seats are
    /// there, otherwise waitlisted. Any signed-in account.
    async fn register(
        &self,
        ctx: &Context<'_>,
        event_uuid: uuid::Uuid,
        ticket_type_id: ID,
        quantity: i64,
    ) -> async_graphql::Result<RegisterPayload> {
        let (who, services) = caller(ctx)?;
        let actor = require(who, Role::User).gql()?;
        let event_id = event_id(services, &actor, &event_uuid).await.gql()?;
        let new = NewRegistration {
            event_id,
            ticket_type_id: number(&ticket_type_id).gql()?,
            quantity,
            idempotency_key: None,
        };
        let registration = services
            .booking_commands
            .register(&actor, new)
            .await
            .gql()?;
        Ok(RegisterPayload {
            registration: registration.into(),
        })
    }

    /// Cancels a registration (its holder before the event starts; the event's organizer or
    /// an admin any time); waiting groups move up.
    async fn cancel_registration(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<CancelRegistrationPayload> {
        let (who, services) = caller(ctx)?;
        let actor = require(who, Role::User).gql()?;
        let registration = services
            .booking_commands
            .cancel_registration(&actor, number(&id).gql()?)
            .await
            .gql()?;
        Ok(CancelRegistrationPayload {
            registration: registration.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absent_cap_is_left_and_a_null_one_removed() {
        let absent = UpdateEvent::from(UpdateEventInput::default());
        assert_eq!(absent.max_seats_per_user, None);
        let null = UpdateEvent::from(UpdateEventInput {
            max_seats_per_user: MaybeUndefined::Null,
            ..Default::default()
        });
        assert_eq!(null.max_seats_per_user, Some(None));
    }
}
