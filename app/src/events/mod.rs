//! Events and discovery: organizers (agents) create, publish and cancel their events with
//! ticket types; everyone browses and searches published ones. Admins may act on any event.
pub mod commands;
pub mod form;
#[cfg(feature = "ssr")]
pub mod ports;
pub mod queries;
pub mod rules;
pub mod ui;

use crate::auth::UserId;
use crate::i18n::Msg;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::ids::{EventId, TicketTypeId};

/// What kind of night out an event is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Category {
    #[serde(rename = "stand-up")]
    StandUp,
    #[serde(rename = "music")]
    Music,
    #[serde(rename = "theatre")]
    Theatre,
    #[serde(rename = "dance")]
    Dance,
    #[serde(rename = "film")]
    Film,
    #[serde(rename = "talk")]
    Talk,
    #[serde(rename = "kids")]
    Kids,
    #[serde(rename = "festival")]
    Festival,
    #[serde(rename = "other")]
    Other,
}

impl Category {
    pub const ALL: [Category; 9] = [
        Category::StandUp,
        Category::Music,
        Category::Theatre,
        Category::Dance,
        Category::Film,
        Category::Talk,
        Category::Kids,
        Category::Festival,
        Category::Other,
    ];

    /// The slug stored in the database, used in URLs and by the API.
    pub fn code(self) -> &'static str {
        match self {
            Category::StandUp => "stand-up",
            Category::Music => "music",
            Category::Theatre => "theatre",
            Category::Dance => "dance",
            Category::Film => "film",
            Category::Talk => "talk",
            Category::Kids => "kids",
            Category::Festival => "festival",
            Category::Other => "other",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Category::ALL.into_iter().find(|c| c.code() == code)
    }

    pub fn label(self) -> Msg {
        match self {
            Category::StandUp => Msg::CategoryStandUp,
            Category::Music => Msg::CategoryMusic,
            Category::Theatre => Msg::CategoryTheatre,
            Category::Dance => Msg::CategoryDance,
            Category::Film => Msg::CategoryFilm,
            Category::Talk => Msg::CategoryTalk,
            Category::Kids => Msg::CategoryKids,
            Category::Festival => Msg::CategoryFestival,
            Category::Other => Msg::CategoryOther,
        }
    }
}

/// Where an event is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventStatus {
    Draft,
    Published,
    Cancelled,
    Completed,
}

impl EventStatus {
    /// A status code from a form or query (`None` when empty), or a field error naming the
    /// codes.
    pub fn parse_field(code: &str) -> Result<Option<Self>, crate::error::AppError> {
        match code.trim() {
            "" => Ok(None),
            code => Self::from_code(code).map(Some).ok_or_else(|| {
                crate::error::AppError::field(
                    "status",
                    crate::error::Problem::Malformed {
                        detail: "status must be draft, published, cancelled or completed".into(),
                    },
                )
            }),
        }
    }

    pub const ALL: [EventStatus; 4] = [
        EventStatus::Draft,
        EventStatus::Published,
        EventStatus::Cancelled,
        EventStatus::Completed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            EventStatus::Draft => "draft",
            EventStatus::Published => "published",
            EventStatus::Cancelled => "cancelled",
            EventStatus::Completed => "completed",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        EventStatus::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn label(self) -> Msg {
        match self {
            EventStatus::Draft => Msg::StatusDraft,
            EventStatus::Published => Msg::StatusPublished,
            EventStatus::Cancelled => Msg::StatusCancelled,
            EventStatus::Completed => Msg::StatusCompleted,
        }
    }
}

/// An amount in minor units (agorot, grosze, cents) and its ISO 4217 currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Money {
    /// Minor units (agorot, grosze, cents).
    pub amount: i64,
    /// ISO 4217, e.g. ILS.
    pub currency: String,
}

impl Money {
    /// `45.00 ILS`-style text; free tickets are the caller's to word.
    pub fn display(&self) -> String {
        format!(
            "{}.{:02} {}",
            self.amount / 100,
            self.amount % 100,
            self.currency
        )
    }
}

/// An event as a card in a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventListItem {
    pub id: EventId,
    /// The stable public id (a UUID in canonical form) other programs match events by.
    pub uuid: String,
    pub title: String,
    pub summary: String,
    pub category: Category,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub timezone: String,
    /// `starts_at` on the venue's wall clock (the server converts with the IANA database).
    pub local_starts_at: chrono::NaiveDateTime,
    pub local_ends_at: chrono::NaiveDateTime,
    pub venue: String,
    pub city: String,
    pub image_url: Option<String>,
    pub status: EventStatus,
    /// The cheapest ticket type's price; `None` when the event has no ticket types.
    pub min_price: Option<Money>,
    pub capacity: i64,
    pub remaining_seats: i64,
    /// Seats wanted by groups on the waitlist.
    pub waitlisted_seats: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketTypeView {
    pub id: TicketTypeId,
    pub name: String,
    pub price: Money,
    pub quantity: i64,
    pub remaining: i64,
    pub max_per_registration: i64,
    pub sales_start: Option<DateTime<Utc>>,
    pub sales_end: Option<DateTime<Utc>>,
    /// The sales window on the venue's wall clock, for the organizer form.
    pub local_sales_start: Option<chrono::NaiveDateTime>,
    pub local_sales_end: Option<chrono::NaiveDateTime>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organizer {
    pub id: UserId,
    pub display_name: String,
}

/// Everything the event page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventDetail {
    pub item: EventListItem,
    /// Markdown as the organizer wrote it.
    pub description: String,
    /// The description rendered and sanitised by the server.
    pub description_html: String,
    pub tags: Vec<String>,
    pub address: String,
    pub capacity: i64,
    /// The most seats one person may hold for this event (all their registrations together);
    /// `None`: no cap beyond each ticket type's `max_per_registration`.
    pub max_seats_per_user: Option<i64>,
    pub confirmed_seats: i64,
    pub waitlisted_seats: i64,
    pub likes: i64,
    pub saves: i64,
    pub organizer: Organizer,
    pub cancel_reason: Option<String>,
    pub ticket_types: Vec<TicketTypeView>,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

/// A ticket type as entered by an organizer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTicketType {
    pub name: String,
    /// Minor units; 0 means free.
    pub price_amount: i64,
    pub currency: String,
    pub quantity: i64,
    pub max_per_registration: i64,
    pub sales_start: Option<String>,
    pub sales_end: Option<String>,
}

/// An event as entered by an organizer. Times are RFC 3339 with an offset, or local
/// `YYYY-MM-DDTHH:MM` read in `timezone` (what a datetime-local form field sends).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewEvent {
    pub title: String,
    pub summary: String,
    pub description: String,
    pub category: String,
    pub tags: Vec<String>,
    pub starts_at: String,
    pub ends_at: String,
    pub timezone: String,
    pub venue: String,
    pub address: String,
    pub city: String,
    pub capacity: i64,
    /// Caps the seats one person may hold (none when absent).
    #[serde(default)]
    pub max_seats_per_user: Option<i64>,
    pub ticket_types: Vec<NewTicketType>,
}

/// How a search is ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventSort {
    #[default]
    StartsAt,
    Newest,
    Price,
    /// Best match first (with a text query; otherwise soonest).
    Relevance,
    /// Most seats booked first.
    Popularity,
}

impl EventSort {
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "starts_at" | "soonest" => Some(EventSort::StartsAt),
            "-created_at" | "newest" => Some(EventSort::Newest),
            "price" => Some(EventSort::Price),
            "relevance" => Some(EventSort::Relevance),
            "popularity" => Some(EventSort::Popularity),
            _ => None,
        }
    }
}

/// A search over published events; every field optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSearch {
    pub q: Option<String>,
    pub category: Option<Category>,
    pub city: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Minor units.
    pub price_max: Option<i64>,
    pub free: bool,
    pub available: bool,
    pub sort: EventSort,
    pub page: i64,
    pub per_page: i64,
}

impl EventSearch {
    /// The page and its size within their bounds ([`rules::PAGE_MAX`], [`rules::PER_PAGE_MAX`]),
    /// refused by field otherwise.
    pub fn check_bounds(&self) -> Result<(), crate::error::AppError> {
        let mut errors = crate::error::FieldErrors::new();
        if let Err(problem) = rules::check_range(self.page, 1, rules::PAGE_MAX) {
            errors.insert("page".into(), problem);
        }
        if let Err(problem) = rules::check_range(self.per_page, 1, rules::PER_PAGE_MAX) {
            errors.insert("per_page".into(), problem);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(crate::error::AppError::Invalid(errors))
        }
    }
}

/// Where an event stands in a search's order: every column a sort orders by, and the id that
/// breaks ties, so a window of results can start right after (or end right before) it while
/// events are added or removed elsewhere in the order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventKey {
    pub starts_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// The cheapest ticket's price; an event without ticket types sorts as free.
    pub min_price: i64,
    /// Seats booked (the popularity order: it moves as people book).
    pub seats_confirmed: i64,
    pub id: EventId,
}

/// Which part of a search's matches to read by position instead of by page number: the
/// matches strictly after `after` and strictly before `before` (either may be absent), `size`
/// of them from the start of that range, or from its end when `from_end`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventWindow {
    pub after: Option<EventKey>,
    pub before: Option<EventKey>,
    /// 1 to [`rules::PER_PAGE_MAX`].
    pub size: i64,
    pub from_end: bool,
}

/// An event as the API's lists show it: the card, its texts, organizer and times, and its
/// place in the order it was listed in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventEntry {
    pub item: EventListItem,
    /// Markdown as the organizer wrote it.
    pub description: String,
    pub tags: Vec<String>,
    pub address: String,
    pub organizer: Organizer,
    pub cancel_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub key: EventKey,
}

/// Where an event created through the job queue stands until it is an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CreationStatus {
    /// Queued: a worker creates it soon.
    Pending,
    /// Refused when the worker came to it (the reason says why).
    Failed,
}

/// An event creation queued and not done yet, as its organizer sees it (GraphQL's
/// `createEventAsync` and `event(uuid)`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventCreation {
    /// The uuid the event will have.
    pub uuid: String,
    pub organizer: Organizer,
    pub input: NewEvent,
    pub status: CreationStatus,
    /// Why it failed, in the organizer's language.
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A window of a search's matches in the search's order, whether more matches lie past the
/// end it was read from, and how many match in all (counted up to a cap, as [`ResultPage`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSlice {
    pub entries: Vec<EventEntry>,
    /// More matches after the last entry (read from the start) or before the first one (read
    /// from the end).
    pub more: bool,
    pub total: i64,
    pub total_exact: bool,
}

/// One page of results and the total across all pages. Counting stops at a cap: past it,
/// `total` is the cap and `total_exact` is false ("10,000+").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultPage<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub total_exact: bool,
    pub page: i64,
    pub per_page: i64,
}

/// An event as the admin events table shows it: the card facts, who organizes it, and
/// whether it is featured on the home page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedEvent {
    pub item: EventListItem,
    pub organizer_id: UserId,
    pub organizer_name: String,
    pub organizer_email: String,
    pub featured: bool,
}

/// Which events the admin table lists: by status, organizer (part of a name or email) and the
/// days they start (inclusive, UTC); a page at a time, the latest starting first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventFilter {
    pub status: Option<EventStatus>,
    pub organizer: String,
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
    pub page: u32,
}

impl EventFilter {
    /// Reads the filter as a form or query string carries it (a status code, part of a name or
    /// email, `YYYY-MM-DD` days; empty for none), refusing what it cannot read.
    pub fn parse(
        status: &str,
        organizer: &str,
        from: &str,
        to: &str,
        page: u32,
    ) -> Result<Self, crate::error::AppError> {
        use crate::error::{AppError, FieldErrors};
        let mut errors = FieldErrors::new();
        let status = EventStatus::parse_field(status).unwrap_or_else(|e| {
            errors.extend(e.field_errors());
            None
        });
        let (from, to) = rules::read_days(from, to, &mut errors);
        if let Err(e) = rules::check_page(page.into()) {
            errors.extend(e.field_errors());
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        Ok(EventFilter {
            status,
            organizer: organizer.trim().to_owned(),
            from,
            to,
            page,
        })
    }
}

pub const MANAGED_PER_PAGE: u32 = 50;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedEventPage {
    pub items: Vec<ManagedEvent>,
    pub total: i64,
    pub page: u32,
}

/// An admin's change from the events table: a new status (published, draft or cancelled, the
/// last with a reason) and / or featured or not.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventChange {
    pub status: Option<EventStatus>,
    pub featured: Option<bool>,
    pub reason: String,
}

/// A partial change of an event: only the fields present change.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateEvent {
    pub title: Option<String>,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub category: Option<String>,
    pub tags: Option<Vec<String>>,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    pub timezone: Option<String>,
    pub venue: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub capacity: Option<i64>,
    /// `Some(None)` removes the cap, `Some(Some(n))` sets it, `None` leaves it.
    pub max_seats_per_user: Option<Option<i64>>,
    /// Replaces all ticket types.
    pub ticket_types: Option<Vec<NewTicketType>>,
}

/// Saving a whole form changes every field.
impl From<NewEvent> for UpdateEvent {
    fn from(new: NewEvent) -> Self {
        UpdateEvent {
            title: Some(new.title),
            summary: Some(new.summary),
            description: Some(new.description),
            category: Some(new.category),
            tags: Some(new.tags),
            starts_at: Some(new.starts_at),
            ends_at: Some(new.ends_at),
            timezone: Some(new.timezone),
            venue: Some(new.venue),
            address: Some(new.address),
            city: Some(new.city),
            capacity: Some(new.capacity),
            max_seats_per_user: Some(new.max_seats_per_user),
            ticket_types: Some(new.ticket_types),
        }
    }
}

/// The largest image upload accepted, in bytes (5 MB).
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;

/// Width of the small stored size of event images (cards).
pub const SMALL_IMAGE: u32 = 640;

/// The URL of the small size of a stored image, for cards. Local files carry a suffix;
/// Cloudinary makes the size on request from a transformation in the path.
pub fn image_small_url(url: &str) -> String {
    if let Some((base, rest)) = url.split_once("/image/upload/") {
        return format!("{base}/image/upload/c_limit,w_{SMALL_IMAGE},f_auto,q_auto/{rest}");
    }
    match url.strip_suffix(".jpg") {
        Some(stem) => format!("{stem}-{SMALL_IMAGE}.jpg"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod image_url_tests {
    use super::image_small_url;

    #[test]
    fn small_urls_for_both_stores() {
        assert_eq!(image_small_url("/media/ab12.jpg"), "/media/ab12-640.jpg");
        assert_eq!(
            image_small_url(
                "https://res.cloudinary.com/demo/image/upload/v1/eventhub/events/x.jpg"
            ),
            "https://res.cloudinary.com/demo/image/upload/c_limit,w_640,f_auto,q_auto/v1/eventhub/events/x.jpg"
        );
    }
}
