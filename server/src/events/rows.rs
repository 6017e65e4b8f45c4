//! The rows events are read into, the column lists and statements the other event files
//! share, and their conversion into the app's read models.
use app::error::AppError;
use app::events::{
    Category, EventEntry, EventKey, EventListItem, EventStatus, ManagedEvent, Money, NewTicketType,
    Organizer, TicketTypeView,
};
use app::ssr::internal;
use chrono::{DateTime, Utc};

/// The most events one search page holds (the bound the search's doors check).
pub const PER_PAGE_MAX: i64 = app::events::rules::PER_PAGE_MAX;

#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    pub(crate) id: i64,
    pub(crate) uuid: String,
    pub(crate) organizer_id: i64,
    pub(crate) title: String,
    pub(crate) summary: String,
    pub(crate) description: String,
    pub(crate) category: String,
    pub(crate) tags: String,
    pub(crate) starts_at: DateTime<Utc>,
    pub(crate) ends_at: DateTime<Utc>,
    pub(crate) timezone: String,
    pub(crate) venue: String,
    pub(crate) address: String,
    pub(crate) city: String,
    pub(crate) capacity: i64,
    pub(crate) max_seats_per_user: Option<i64>,
    pub(crate) image_url: Option<String>,
    pub(crate) status: String,
    pub(crate) cancel_reason: Option<String>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
    pub(crate) published_at: Option<DateTime<Utc>>,
    pub(crate) organizer_name: String,
    pub(crate) min_price: Option<i64>,
    pub(crate) min_currency: Option<String>,
    pub(crate) seats_confirmed: i64,
    pub(crate) seats_waitlisted: i64,
}

/// An event row with what the admin table adds: the organizer's email and the featured flag.
#[derive(sqlx::FromRow)]
pub(crate) struct ManagedRow {
    #[sqlx(flatten)]
    pub(crate) event: EventRow,
    pub(crate) organizer_email: String,
    pub(crate) featured: bool,
}

impl ManagedRow {
    pub(crate) fn into_managed(self) -> Result<ManagedEvent, AppError> {
        Ok(ManagedEvent {
            item: self.event.item()?,
            organizer_id: self.event.organizer_id.into(),
            organizer_name: self.event.organizer_name,
            organizer_email: self.organizer_email,
            featured: self.featured,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TicketTypeRow {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) price_amount: i64,
    pub(crate) currency: String,
    pub(crate) quantity: i64,
    pub(crate) seats_confirmed: i64,
    pub(crate) max_per_registration: i64,
    pub(crate) sales_start: Option<DateTime<Utc>>,
    pub(crate) sales_end: Option<DateTime<Utc>>,
}

/// The guard columns a command checks before it changes an event.
#[derive(sqlx::FromRow)]
pub(crate) struct GuardRow {
    pub(crate) organizer_id: i64,
    pub(crate) status: String,
    pub(crate) starts_at: DateTime<Utc>,
}

/// The columns of an `EventRow`, from `events e` and `users u`.
macro_rules! event_columns {
    () => {
        "SELECT e.id, e.uuid, e.organizer_id, e.title, e.summary, e.description, e.category, e.tags, \
         e.starts_at, e.ends_at, e.timezone, e.venue, e.address, e.city, e.capacity, e.max_seats_per_user, e.image_url, e.status, \
         e.cancel_reason, e.created_at, e.updated_at, e.published_at, u.display_name AS organizer_name, e.min_price, e.min_currency, \
         e.seats_confirmed, e.seats_waitlisted"
    };
}
pub(crate) const MANAGED_SELECT: &str = concat!(
    event_columns!(),
    ", u.email AS organizer_email, e.featured FROM events e JOIN users u ON u.id = e.organizer_id"
);

pub(crate) const EVENT_SELECT: &str = concat!(
    event_columns!(),
    " FROM events e JOIN users u ON u.id = e.organizer_id"
);

/// Counting stops here: past it the page says "10,000+" (as search engines do) instead of
/// visiting every match, which keeps broad searches as fast as narrow ones.
pub const COUNT_CAP: i64 = 10_000;

/// Above this many full-text matches, a SQLite search sorted by time walks events in page
/// order instead of sorting every match (see `list_events`).
pub(crate) const WALK_FROM: i64 = 2_000;

pub(crate) fn status_of(code: &str) -> Result<EventStatus, AppError> {
    EventStatus::from_code(code).ok_or_else(|| internal(format!("unknown event status {code:?}")))
}

pub(crate) fn local(t: DateTime<Utc>, tz: &str) -> chrono::NaiveDateTime {
    match tz.parse::<chrono_tz::Tz>() {
        Ok(tz) => t.with_timezone(&tz).naive_local(),
        Err(_) => t.naive_utc(),
    }
}

impl EventRow {
    pub(crate) fn item(&self) -> Result<EventListItem, AppError> {
        Ok(EventListItem {
            id: self.id.into(),
            uuid: self.uuid.clone(),
            title: self.title.clone(),
            summary: self.summary.clone(),
            category: Category::from_code(&self.category)
                .ok_or_else(|| internal("unknown category"))?,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            timezone: self.timezone.clone(),
            local_starts_at: local(self.starts_at, &self.timezone),
            local_ends_at: local(self.ends_at, &self.timezone),
            venue: self.venue.clone(),
            city: self.city.clone(),
            image_url: self.image_url.clone(),
            status: status_of(&self.status)?,
            min_price: self
                .min_price
                .zip(self.min_currency.clone())
                .map(|(amount, currency)| Money { amount, currency }),
            capacity: self.capacity,
            remaining_seats: self.capacity - self.seats_confirmed,
            waitlisted_seats: self.seats_waitlisted,
        })
    }
}

impl EventRow {
    /// The event as the API's lists show it, with its place in any search order.
    pub(crate) fn entry(&self) -> Result<EventEntry, AppError> {
        Ok(EventEntry {
            item: self.item()?,
            description: self.description.clone(),
            tags: self
                .tags
                .split(',')
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
            address: self.address.clone(),
            organizer: Organizer {
                id: self.organizer_id.into(),
                display_name: self.organizer_name.clone(),
            },
            cancel_reason: self.cancel_reason.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            key: EventKey {
                starts_at: self.starts_at,
                created_at: self.created_at,
                min_price: self.min_price.unwrap_or(0),
                seats_confirmed: self.seats_confirmed,
                id: self.id.into(),
            },
        })
    }
}

impl TicketTypeRow {
    pub(crate) fn view(self, timezone: &str) -> TicketTypeView {
        TicketTypeView {
            local_sales_start: self.sales_start.map(|t| local(t, timezone)),
            local_sales_end: self.sales_end.map(|t| local(t, timezone)),
            id: self.id.into(),
            name: self.name,
            price: Money {
                amount: self.price_amount,
                currency: self.currency,
            },
            remaining: self.quantity - self.seats_confirmed,
            quantity: self.quantity,
            max_per_registration: self.max_per_registration,
            sales_start: self.sales_start,
            sales_end: self.sales_end,
        }
    }

    pub(crate) fn as_new(&self) -> NewTicketType {
        NewTicketType {
            name: self.name.clone(),
            price_amount: self.price_amount,
            currency: self.currency.clone(),
            quantity: self.quantity,
            max_per_registration: self.max_per_registration,
            sales_start: self.sales_start.map(|t| t.to_rfc3339()),
            sales_end: self.sales_end.map(|t| t.to_rfc3339()),
        }
    }
}
