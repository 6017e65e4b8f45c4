//! Registration, waitlist and tickets: a signed-in user books a group of seats of one ticket
//! type; the group is confirmed with one ticket per seat, or waits in arrival order. Cancelling
//! frees seats and promotes waiting groups in the same transaction. Organizers see attendees and
//! check tickets in at the door.
pub mod commands;
pub mod live;
#[cfg(feature = "ssr")]
pub mod ports;
pub mod queries;
pub mod rules;
pub mod ui;

use crate::auth::UserId;
use crate::events::{EventId, EventListItem, TicketTypeId};
use crate::i18n::Msg;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::ids::RegistrationId;

/// Where a group of seats stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegistrationStatus {
    Confirmed,
    Waitlisted,
    Cancelled,
}

impl RegistrationStatus {
    pub const ALL: [RegistrationStatus; 3] = [
        RegistrationStatus::Confirmed,
        RegistrationStatus::Waitlisted,
        RegistrationStatus::Cancelled,
    ];

    pub fn code(self) -> &'static str {
        match self {
            RegistrationStatus::Confirmed => "confirmed",
            RegistrationStatus::Waitlisted => "waitlisted",
            RegistrationStatus::Cancelled => "cancelled",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn label(self) -> Msg {
        match self {
            RegistrationStatus::Confirmed => Msg::BookingConfirmed,
            RegistrationStatus::Waitlisted => Msg::BookingWaitlisted,
            RegistrationStatus::Cancelled => Msg::BookingCancelled,
        }
    }
}

/// Paid ticket types are paid at the venue for now; the organizer marks them paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Payment {
    Free,
    Unpaid,
    Paid,
}

impl Payment {
    pub fn code(self) -> &'static str {
        match self {
            Payment::Free => "free",
            Payment::Unpaid => "unpaid",
            Payment::Paid => "paid",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [Payment::Free, Payment::Unpaid, Payment::Paid]
            .into_iter()
            .find(|p| p.code() == code)
    }

    pub fn label(self) -> Msg {
        match self {
            Payment::Free => Msg::PaymentFree,
            Payment::Unpaid => Msg::PaymentUnpaid,
            Payment::Paid => Msg::PaymentPaid,
        }
    }
}

/// A ticket is valid until its registration is cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum TicketStatus {
    Valid,
    Cancelled,
}

/// One seat's ticket. `code` is the secret printed in the QR code; `token` is the code with
/// the server's signature, which a door scanner may verify without the database.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub code: String,
    pub token: String,
    pub status: TicketStatus,
    pub checked_in_at: Option<DateTime<Utc>>,
    /// The token as a QR code, an SVG document drawn by the server for the pages that show it
    /// (`BookingQueries::ticket_sheet`, `my_tickets`); empty in every other answer.
    pub qr_svg: String,
}

/// A group of seats of one ticket type, booked together.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub id: RegistrationId,
    pub event_id: EventId,
    pub ticket_type_id: TicketTypeId,
    pub ticket_type_name: String,
    pub user_id: UserId,
    pub quantity: i64,
    pub status: RegistrationStatus,
    /// 1-based place in the event's waitlist, while waitlisted.
    pub waitlist_position: Option<i64>,
    pub payment: Payment,
    pub tickets: Vec<Ticket>,
    pub created_at: DateTime<Utc>,
}

/// A booking request from the event page or the API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRegistration {
    pub event_id: EventId,
    pub ticket_type_id: TicketTypeId,
    pub quantity: i64,
    /// Makes the booking idempotent: a second request with the same key (from the same user,
    /// within a day) answers the registration the first one made instead of booking again.
    #[serde(default)]
    pub idempotency_key: Option<IdempotencyKey>,
}

/// A caller's name for one booking attempt (`Idempotency-Key`, or the booking form's one-time
/// token): 1–255 visible ASCII characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub const MAX_LEN: usize = 255;

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for IdempotencyKey {
    type Error = crate::error::AppError;

    fn try_from(key: String) -> Result<Self, Self::Error> {
        if (1..=Self::MAX_LEN).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(IdempotencyKey(key))
        } else {
            Err(crate::error::AppError::field(
                "Idempotency-Key",
                crate::error::Problem::IdempotencyKeyInvalid,
            ))
        }
    }
}

impl From<IdempotencyKey> for String {
    fn from(key: IdempotencyKey) -> String {
        key.0
    }
}

impl std::fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A registration with the event it is for, for `/me`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyRegistration {
    pub registration: Registration,
    pub event: EventListItem,
}

/// Something that happened to the user's bookings, shown on `/me`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// `event_cancelled` · `waitlist_confirmed` · `registration_cancelled`
    pub kind: String,
    pub event_id: Option<EventId>,
    pub event_title: Option<String>,
    pub detail: String,
    pub created_at: DateTime<Utc>,
    /// The same instant on the event's clock (its venue's zone); UTC for notices without one.
    pub created_local: chrono::NaiveDateTime,
    /// The zone `created_local` is in (an IANA name, or `UTC`).
    pub timezone: String,
}

/// A visitor's mark on an event: liked (public count) or saved (their own list).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reaction {
    Like,
    Save,
}

impl Reaction {
    pub fn code(self) -> &'static str {
        match self {
            Reaction::Like => "like",
            Reaction::Save => "save",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "like" => Some(Reaction::Like),
            "save" => Some(Reaction::Save),
            _ => None,
        }
    }
}

/// The events a user liked and saved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyReactions {
    pub likes: Vec<EventListItem>,
    pub saves: Vec<EventListItem>,
}

/// One registration as its event's organizer sees it in the attendee list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attendee {
    pub registration_id: RegistrationId,
    pub user_id: UserId,
    pub name: String,
    pub email: String,
    pub ticket_type_name: String,
    pub quantity: i64,
    pub status: RegistrationStatus,
    pub waitlist_position: Option<i64>,
    pub payment: Payment,
    pub created_at: DateTime<Utc>,
    pub tickets: Vec<AttendeeTicket>,
}

impl Attendee {
    pub fn checked_in(&self) -> usize {
        self.tickets
            .iter()
            .filter(|t| t.checked_in_at.is_some())
            .count()
    }
}

/// A ticket in the attendee list: its code (without the signature) and door status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AttendeeTicket {
    /// The ticket's code (without the signature).
    pub code: String,
    pub status: TicketStatus,
    pub checked_in_at: Option<DateTime<Utc>>,
}

/// What the attendee list shows: a name, email or ticket code to look for, and a page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttendeeSearch {
    pub q: String,
    /// 1-based; `None` means every row (the CSV export).
    pub page: Option<u32>,
}

pub const ATTENDEES_PER_PAGE: u32 = 50;

/// An event's door numbers: its valid tickets and how many of them are checked in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorCount {
    pub event_id: EventId,
    pub event_title: String,
    pub tickets: i64,
    pub checked_in: i64,
}

/// A page of an event's attendees with the event's door numbers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttendeePage {
    pub door: DoorCount,
    pub items: Vec<Attendee>,
    /// Registrations matching the search.
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

/// The ticket a door scanned, with the person holding it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScannedTicket {
    pub code: String,
    pub registration_id: RegistrationId,
    pub attendee_id: UserId,
    pub attendee_name: String,
    pub attendee_email: String,
    pub ticket_type_name: String,
    pub checked_in_at: Option<DateTime<Utc>>,
    /// The same instant on the clock of the event's time zone, for the door's screen.
    pub checked_in_local: Option<chrono::NaiveDateTime>,
    /// Who checked it in (the organizer or a helper at the door).
    pub checked_in_by: Option<String>,
}

/// What a door learns when it checks a code in. Exactly one of several doors scanning the same
/// code at once is `Admitted`; the others get `AlreadyCheckedIn` with the first scan's time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CheckIn {
    Admitted(ScannedTicket),
    AlreadyCheckedIn(ScannedTicket),
    /// The ticket's registration was cancelled.
    Cancelled(ScannedTicket),
    /// A real ticket, but for another event.
    OtherEvent,
    /// No ticket has this code (or its signature is wrong).
    Unknown,
}

/// Seat numbers of one event, pushed to open event pages when they change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveSeats {
    pub event_id: EventId,
    pub remaining: i64,
    pub confirmed: i64,
    pub waitlisted: i64,
    /// `(ticket type id, seats left)`.
    pub types: Vec<(TicketTypeId, i64)>,
}

impl LiveSeats {
    pub fn type_remaining(&self, id: TicketTypeId) -> Option<i64> {
        self.types.iter().find(|(t, _)| *t == id).map(|(_, n)| *n)
    }
}
