//! Events as GraphQL shows them: the `Event` type, `allEvents` (a Relay connection over the
//! same search as `/events` and `GET /api/v1/events`, paged by opaque keyset cursors),
//! `event(uuid)` and `me`. Reads go through `EventQueries`; the ticket types of a list's
//! events are read in one batch ([`TicketTypes`]), and the organizer comes with the event's
//! own row, so no field costs a query per event.
use super::Caller;
use super::errors::{OrGql, gql};
use app::auth::Role;
use app::error::{AppError, Problem};
use app::events::ports::EventQueries;
use app::events::rules::PER_PAGE_MAX;
use app::events::{
    CreationStatus, EventCreation, EventEntry, EventId, EventKey, EventSearch, EventWindow,
    TicketTypeView,
};
use app::ssr::Services;
use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;

/// How many events a connection holds when neither `first` nor `last` is given.
const DEFAULT_SIZE: i32 = 20;

/// What kind of night out an event is.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "app::events::Category")]
pub enum Category {
    StandUp,
    Music,
    Theatre,
    Dance,
    Film,
    Talk,
    Kids,
    Festival,
    Other,
}

/// Where an event is in its life; a creation queued by `createEventAsync` is `PENDING` until
/// a worker made it an event (`DRAFT`), or `FAILED` (see `failureReason`).
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum EventStatus {
    Draft,
    Published,
    Cancelled,
    Completed,
    Pending,
    Failed,
}

impl From<app::events::EventStatus> for EventStatus {
    fn from(status: app::events::EventStatus) -> Self {
        match status {
            app::events::EventStatus::Draft => EventStatus::Draft,
            app::events::EventStatus::Published => EventStatus::Published,
            app::events::EventStatus::Cancelled => EventStatus::Cancelled,
            app::events::EventStatus::Completed => EventStatus::Completed,
        }
    }
}

/// The order of `allEvents`.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum EventSort {
    /// Soonest first.
    #[default]
    StartsAt,
    /// Most recently created first.
    Newest,
    /// Cheapest first (then soonest).
    Price,
    /// Most seats booked first (then soonest). Bookings move events in this order, so a page
    /// read later may repeat or miss one that moved past its cursor.
    Popularity,
}

impl From<EventSort> for app::events::EventSort {
    fn from(sort: EventSort) -> Self {
        match sort {
            EventSort::StartsAt => app::events::EventSort::StartsAt,
            EventSort::Newest => app::events::EventSort::Newest,
            EventSort::Price => app::events::EventSort::Price,
            EventSort::Popularity => app::events::EventSort::Popularity,
        }
    }
}

/// Which upcoming published events `allEvents` lists; every field optional.
#[derive(InputObject, Default)]
pub struct EventFilter {
    /// Words to find in the title, summary, description, venue, city and tags.
    pub q: Option<String>,
    pub category: Option<Category>,
    pub city: Option<String>,
    /// Starting at or after.
    pub from: Option<DateTime<Utc>>,
    /// Starting at or before.
    pub to: Option<DateTime<Utc>>,
    /// The cheapest ticket at most this (minor units).
    pub price_max: Option<i64>,
    /// Only events with a free ticket type.
    #[graphql(default)]
    pub free: bool,
    /// Only events with seats left.
    #[graphql(default)]
    pub available: bool,
}

/// An amount in minor units and its ISO 4217 currency.
#[derive(SimpleObject, Clone)]
pub struct Money {
    /// Minor units (agorot, grosze, cents).
    pub amount: i64,
    pub currency: String,
}

impl From<app::events::Money> for Money {
    fn from(m: app::events::Money) -> Self {
        Money {
            amount: m.amount,
            currency: m.currency,
        }
    }
}

/// One kind of ticket of an event.
#[derive(SimpleObject, Clone)]
pub struct TicketType {
    pub id: ID,
    pub name: String,
    pub price: Money,
    pub quantity: i64,
    /// Seats of this type still on sale.
    pub remaining: i64,
    pub max_per_registration: i64,
    pub sales_start: Option<DateTime<Utc>>,
    pub sales_end: Option<DateTime<Utc>>,
}

impl From<TicketTypeView> for TicketType {
    fn from(t: TicketTypeView) -> Self {
        TicketType {
            id: ID(t.id.to_string()),
            name: t.name,
            price: t.price.into(),
            quantity: t.quantity,
            remaining: t.remaining,
            max_per_registration: t.max_per_registration,
            sales_start: t.sales_start,
            sales_end: t.sales_end,
        }
    }
}

/// Who organizes an event.
#[derive(SimpleObject, Clone)]
pub struct Organizer {
    pub id: ID,
    pub display_name: String,
}

/// An event. Visitors see published, cancelled and completed ones; drafts only their organizer
/// and admins. A creation queued by `createEventAsync` shows as an event `PENDING` (or
/// `FAILED`) to its organizer: its fields are the input's, it has no ticket types yet and its
/// seats are all free.
pub struct Event(Shown);

enum Shown {
    Event(Box<EventEntry>),
    /// With its start and end as the input reads them (it was checked when queued).
    Creation(Box<EventCreation>, Option<Span>),
}

/// When an event starts and ends.
type Span = (DateTime<Utc>, DateTime<Utc>);

impl From<EventEntry> for Event {
    fn from(entry: EventEntry) -> Self {
        Event(Shown::Event(Box::new(entry)))
    }
}

impl From<EventCreation> for Event {
    fn from(creation: EventCreation) -> Self {
        let times = app::events::rules::validate_event(&creation.input)
            .ok()
            .map(|valid| (valid.starts_at, valid.ends_at));
        Event(Shown::Creation(Box::new(creation), times))
    }
}

/// A time of a queued input (checked when it was queued, so it reads).
fn input_time(
    times: Option<Span>,
    pick: fn(Span) -> DateTime<Utc>,
) -> async_graphql::Result<DateTime<Utc>> {
    times
        .map(pick)
        .ok_or_else(|| gql(app::ssr::internal("a queued event's times do not read")))
}

#[Object]
impl Event {
    /// The stable public id (also in REST's event shapes and in webhook payloads).
    async fn uuid(&self) -> async_graphql::Result<uuid::Uuid> {
        let text = match &self.0 {
            Shown::Event(e) => &e.item.uuid,
            Shown::Creation(c, _) => &c.uuid,
        };
        uuid::Uuid::parse_str(text).map_err(|e| gql(app::ssr::internal(e)))
    }
    async fn title(&self) -> &str {
        match &self.0 {
            Shown::Event(e) => &e.item.title,
            Shown::Creation(c, _) => &c.input.title,
        }
    }
    async fn summary(&self) -> &str {
        match &self.0 {
            Shown::Event(e) => &e.item.summary,
            Shown::Creation(c, _) => &c.input.summary,
        }
    }
    /// Markdown as the organizer wrote it.
    async fn description(&self) -> &str {
        match &self.0 {
            Shown::Event(e) => &e.description,
            Shown::Creation(c, _) => &c.input.description,
        }
    }
    async fn category(&self) -> async_graphql::Result<Category> {
        match &self.0 {
            Shown::Event(e) => Ok(e.item.category.into()),
            Shown::Creation(c, _) => app::events::Category::from_code(&c.input.category)
                .map(Into::into)
                .ok_or_else(|| {
                    gql(app::ssr::internal(
                        "a queued event's category does not read",
                    ))
                }),
        }
    }
    async fn starts_at(&self) -> async_graphql::Result<DateTime<Utc>> {
        match &self.0 {
            Shown::Event(e) => Ok(e.item.starts_at),
            Shown::Creation(_, times) => input_time(*times, |t| t.0),
        }
    }
    async fn ends_at(&self) -> async_graphql::Result<DateTime<Utc>> {
        match &self.0 {
            Shown::Event(e) => Ok(e.item.ends_at),
            Shown::Creation(_, times) => input_time(*times, |t| t.1),
        }
    }
    /// The venue's IANA time zone.
    async fn timezone(&self) -> &str {
        match &self.0 {
            Shown::Event(e) => &e.item.timezone,
            Shown::Creation(c, _) => &c.input.timezone,
        }
    }
    async fn venue(&self) -> &str {
        match &self.0 {
            Shown::Event(e) => &e.item.venue,
            Shown::Creation(c, _) => &c.input.venue,
        }
    }
    async fn city(&self) -> &str {
        match &self.0 {
            Shown::Event(e) => &e.item.city,
            Shown::Creation(c, _) => &c.input.city,
        }
    }
    async fn status(&self) -> EventStatus {
        match &self.0 {
            Shown::Event(e) => e.item.status.into(),
            Shown::Creation(c, _) => match c.status {
                CreationStatus::Pending => EventStatus::Pending,
                CreationStatus::Failed => EventStatus::Failed,
            },
        }
    }
    /// Why a queued creation failed (`FAILED`), in the organizer's language; null otherwise.
    async fn failure_reason(&self) -> Option<&str> {
        match &self.0 {
            Shown::Event(_) => None,
            Shown::Creation(c, _) => c.reason.as_deref(),
        }
    }
    async fn capacity(&self) -> i64 {
        match &self.0 {
            Shown::Event(e) => e.item.capacity,
            Shown::Creation(c, _) => c.input.capacity,
        }
    }
    async fn remaining_seats(&self) -> i64 {
        match &self.0 {
            Shown::Event(e) => e.item.remaining_seats,
            Shown::Creation(c, _) => c.input.capacity,
        }
    }
    /// In the organizer's order; read for all the listed events at once.
    async fn ticket_types(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<TicketType>> {
        let Shown::Event(e) = &self.0 else {
            return Ok(Vec::new());
        };
        let loader = ctx.data::<DataLoader<TicketTypes>>()?;
        let types = loader.load_one(e.item.id).await.gql()?;
        Ok(types.unwrap_or_default())
    }
    async fn organizer(&self) -> Organizer {
        let organizer = match &self.0 {
            Shown::Event(e) => &e.organizer,
            Shown::Creation(c, _) => &c.organizer,
        };
        Organizer {
            id: ID(organizer.id.to_string()),
            display_name: organizer.display_name.clone(),
        }
    }
    async fn created_at(&self) -> DateTime<Utc> {
        match &self.0 {
            Shown::Event(e) => e.created_at,
            Shown::Creation(c, _) => c.created_at,
        }
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        match &self.0 {
            Shown::Event(e) => e.updated_at,
            Shown::Creation(c, _) => c.updated_at,
        }
    }
    async fn image_url(&self) -> Option<&str> {
        match &self.0 {
            Shown::Event(e) => e.item.image_url.as_deref(),
            Shown::Creation(..) => None,
        }
    }
}

/// Reads the ticket types of every event a response shows in one port call.
pub struct TicketTypes(pub Arc<dyn EventQueries>);

impl Loader<EventId> for TicketTypes {
    type Value = Vec<TicketType>;
    type Error = AppError;

    async fn load(&self, keys: &[EventId]) -> Result<HashMap<EventId, Vec<TicketType>>, AppError> {
        let mut by_event: HashMap<EventId, Vec<TicketType>> = HashMap::new();
        for (event, ticket_type) in self.0.list_ticket_types(keys).await? {
            by_event.entry(event).or_default().push(ticket_type.into());
        }
        Ok(by_event)
    }
}

/// One event of a connection and where it stands.
#[derive(SimpleObject)]
pub struct EventEdge {
    /// Pass as `after` (or `before`) to read on from this event.
    pub cursor: String,
    pub node: Event,
}

/// Relay's page facts.
#[derive(SimpleObject)]
pub struct PageInfo {
    /// More events after the last edge (paging forward with `first`); or, paging back, a
    /// `before` cursor was given.
    pub has_next_page: bool,
    /// More events before the first edge (paging back with `last`); or, paging forward, an
    /// `after` cursor was given.
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

/// A window of events in the list's order.
#[derive(SimpleObject)]
pub struct EventConnection {
    pub edges: Vec<EventEdge>,
    pub page_info: PageInfo,
    /// How many events match in all, counted up to 10,000.
    pub total_count: i64,
}

/// The opaque cursor of an event: its place in every order.
pub fn cursor(key: &EventKey) -> String {
    let json = serde_json::to_vec(key).unwrap_or_default();
    data_encoding::BASE64URL_NOPAD.encode(&json)
}

/// A cursor back into its place; one that is not ours is invalid input (`field`).
fn read_cursor(field: &str, cursor: &str) -> Result<EventKey, AppError> {
    data_encoding::BASE64URL_NOPAD
        .decode(cursor.as_bytes())
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or_else(|| {
            AppError::field(
                field,
                Problem::Malformed {
                    detail: format!("{field} is not a cursor this API gave"),
                },
            )
        })
}

/// The window Relay's four arguments name: `first` (from the start, after `after`) or `last`
/// (from the end, before `before`), never both, each 1 to 100.
fn window(
    first: Option<i32>,
    after: Option<&str>,
    last: Option<i32>,
    before: Option<&str>,
) -> Result<EventWindow, AppError> {
    let size = |field: &str, n: i32| {
        app::events::rules::check_range(n.into(), 1, PER_PAGE_MAX)
            .map_err(|problem| AppError::field(field, problem))
    };
    let (size, from_end) = match (first, last) {
        (Some(_), Some(_)) => {
            return Err(AppError::field(
                "last",
                Problem::Malformed {
                    detail: "give first or last, not both".into(),
                },
            ));
        }
        (Some(n), None) => (size("first", n)?, false),
        (None, Some(n)) => (size("last", n)?, true),
        (None, None) => (DEFAULT_SIZE.into(), false),
    };
    Ok(EventWindow {
        after: after.map(|c| read_cursor("after", c)).transpose()?,
        before: before.map(|c| read_cursor("before", c)).transpose()?,
        size,
        from_end,
    })
}

/// The caller, and the ports.
pub(super) fn caller<'a>(
    ctx: &'a Context<'_>,
) -> async_graphql::Result<(&'a Caller, &'a Services)> {
    Ok((ctx.data::<Caller>()?, ctx.data::<Services>()?))
}

/// The signed-in account as GraphQL shows it to its owner.
#[derive(SimpleObject)]
pub struct Me {
    pub id: ID,
    pub email: String,
    pub display_name: String,
    pub role: UserRole,
    /// en · he · pl
    pub locale: String,
    pub created_at: DateTime<Utc>,
}

/// What an account may do (each includes the ones before it).
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "app::auth::Role")]
pub enum UserRole {
    User,
    Agent,
    Admin,
}

#[derive(Default)]
pub struct EventQuery;

#[Object]
impl EventQuery {
    /// Upcoming published events, as `/events` searches them, a window at a time: `first`
    /// after `after`, or `last` before `before` (at most 100; 20 when neither is given).
    /// Cursors stay valid while events are added: the next window starts right after the
    /// last event read, whatever came in before it.
    #[expect(
        clippy::too_many_arguments,
        reason = "Relay's four paging arguments, the filter and the order are the field's arguments"
    )]
    #[graphql(
        complexity = "(first.or(last).unwrap_or(DEFAULT_SIZE).clamp(1, 100) as usize) * child_complexity"
    )]
    async fn all_events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<EventFilter>,
        #[graphql(default)] sort: EventSort,
    ) -> async_graphql::Result<EventConnection> {
        let (_, services) = caller(ctx)?;
        let window = window(first, after.as_deref(), last, before.as_deref()).gql()?;
        let filter = filter.unwrap_or_default();
        let search = EventSearch {
            q: filter.q,
            category: filter.category.map(Into::into),
            city: filter.city,
            from: filter.from,
            to: filter.to,
            price_max: filter.price_max,
            free: filter.free,
            available: filter.available,
            sort: sort.into(),
            page: 1,
            per_page: window.size,
        };
        let slice = services
            .event_queries
            .list_event_window(&search, &window)
            .await
            .gql()?;
        let edges: Vec<EventEdge> = slice
            .entries
            .into_iter()
            .map(|entry| EventEdge {
                cursor: cursor(&entry.key),
                node: Event::from(entry),
            })
            .collect();
        let page_info = PageInfo {
            has_next_page: if window.from_end {
                window.before.is_some()
            } else {
                slice.more
            },
            has_previous_page: if window.from_end {
                slice.more
            } else {
                window.after.is_some()
            },
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        };
        Ok(EventConnection {
            edges,
            page_info,
            total_count: slice.total,
        })
    }

    /// One event by its uuid; `NOT_FOUND` when there is none the caller may see. A creation
    /// queued by `createEventAsync` shows to its organizer as `PENDING` until it is an event,
    /// or `FAILED`.
    async fn event(&self, ctx: &Context<'_>, uuid: uuid::Uuid) -> async_graphql::Result<Event> {
        let (Caller(viewer), services) = caller(ctx)?;
        let uuid = uuid.to_string();
        match services
            .event_queries
            .get_event_entry(viewer.as_ref(), &uuid)
            .await
        {
            Ok(entry) => Ok(Event::from(entry)),
            Err(AppError::NotFound) => services
                .event_queries
                .event_creation(viewer.as_ref(), &uuid)
                .await
                .gql()?
                .map(Event::from)
                .ok_or_else(|| gql(AppError::NotFound)),
            Err(e) => Err(gql(e)),
        }
    }

    /// The signed-in account; `null` for a visitor.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Me>> {
        let (Caller(viewer), _) = caller(ctx)?;
        Ok(viewer.as_ref().map(|user| Me {
            id: ID(user.id.to_string()),
            email: user.email.clone(),
            display_name: user.display_name.clone(),
            role: user.role.into(),
            locale: user.locale.code().into(),
            created_at: user.created_at,
        }))
    }
}

/// The account of a caller who must be signed in with at least `role` (the same gate as the
/// server functions and REST).
pub(super) fn require(caller: &Caller, role: Role) -> Result<app::auth::UserView, AppError> {
    let user = caller.0.clone().ok_or(AppError::Unauthenticated)?;
    app::auth::rules::check_role(&user, role)?;
    Ok(user)
}
