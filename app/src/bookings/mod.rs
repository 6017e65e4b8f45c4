//! Registration, waitlist and tickets: a signed-in user books a group of seats of one ticket
//! type; the group is confirmed with one ticket per seat, or waits in arrival order. Cancelling
//! frees seats and promotes waiting groups in the same transaction. Organizers see attendees and
//! check tickets in at the door.
pub mod commands;
#[cfg(feature = "ssr")]
pub mod ports;
pub mod queries;
pub mod rules;
pub mod ui;

use crate::events::{EventId, EventListItem, TicketTypeId};
use crate::i18n::Msg;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub type RegistrationId = i64;

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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
    /// The token as a QR code, an SVG document drawn by the server.
    pub qr_svg: String,
}

/// A group of seats of one ticket type, booked together.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub id: RegistrationId,
    pub event_id: EventId,
    pub ticket_type_id: TicketTypeId,
    pub ticket_type_name: String,
    pub user_id: i64,
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
