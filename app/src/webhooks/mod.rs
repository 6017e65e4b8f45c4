//! Webhooks: organizers (agents) send the domain events of their own events to URLs of their
//! choosing, admins those of the whole platform. An endpoint has a URL, the event types it
//! wants, optionally one event, and a secret (shown once, at creation and at each rotation)
//! that signs every delivery the Standard Webhooks way. Each endpoint belongs to its owner:
//! nobody else sees it, admins included. Deliveries are logged per endpoint and can be sent
//! again. The sending itself is the server's (`server::webhooks`), in jobs after the commit.
pub mod commands;
#[cfg(feature = "ssr")]
pub mod ports;
pub mod queries;
pub mod rules;
pub mod ui;

use crate::events::EventId;
use crate::i18n::Msg;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An endpoint (`webhook_endpoints.id`).
pub type WebhookId = i64;
/// One delivery of one domain event to one endpoint (`webhook_deliveries.id`).
pub type DeliveryId = i64;

/// The event types an endpoint may subscribe to, as they are named on the wire.
pub const EVENT_TYPES: [&str; 8] = [
    "registration.confirmed",
    "registration.waitlisted",
    "registration.cancelled",
    "waitlist.promoted",
    "event.published",
    "event.changed",
    "event.cancelled",
    "ticket.checked_in",
];

/// The label of an event type in the UI.
pub fn event_type_label(code: &str) -> Msg {
    match code {
        "registration.confirmed" => Msg::WebhookTypeRegistrationConfirmed,
        "registration.waitlisted" => Msg::WebhookTypeRegistrationWaitlisted,
        "registration.cancelled" => Msg::WebhookTypeRegistrationCancelled,
        "waitlist.promoted" => Msg::WebhookTypeWaitlistPromoted,
        "event.published" => Msg::WebhookTypeEventPublished,
        "event.changed" => Msg::WebhookTypeEventChanged,
        "event.cancelled" => Msg::WebhookTypeEventCancelled,
        _ => Msg::WebhookTypeTicketCheckedIn,
    }
}

/// An endpoint as its owner sees it (never with its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: WebhookId,
    pub url: String,
    /// Event type codes, in [`EVENT_TYPES`] order.
    pub events: Vec<String>,
    /// One event; `None` = all the owner's events (the whole platform for an admin).
    pub event_id: Option<EventId>,
    pub event_title: Option<String>,
    pub active: bool,
    /// Why it was disabled: `gone` (HTTP 410) or `failures` (too many failed deliveries).
    pub disabled_reason: Option<String>,
    pub consecutive_failures: i64,
    /// Until when the secret before the last rotation still signs beside the new one.
    pub previous_secret_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// What an owner asks for: a URL (http or https), at least one event type, optionally one
/// event of theirs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewWebhook {
    pub url: String,
    pub events: Vec<String>,
    pub event_id: Option<EventId>,
}

/// A new endpoint with its secret: the only answer that carries it (and a rotation's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedWebhook {
    pub webhook: Webhook,
    /// `whsec_` and the base64 of the key's bytes.
    pub secret: String,
}

/// Where a delivery is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Waiting for its first or next attempt.
    Pending,
    /// A 2xx answer came back.
    Delivered,
    /// Its last attempt failed (or the endpoint answered 410, or was disabled meanwhile).
    Failed,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 3] = [
        DeliveryStatus::Pending,
        DeliveryStatus::Delivered,
        DeliveryStatus::Failed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn label(self) -> Msg {
        match self {
            DeliveryStatus::Pending => Msg::WebhookDeliveryPending,
            DeliveryStatus::Delivered => Msg::WebhookDeliveryDelivered,
            DeliveryStatus::Failed => Msg::WebhookDeliveryFailed,
        }
    }
}

/// One line of an endpoint's delivery log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: DeliveryId,
    /// The domain event's id (`evt_…`), the `webhook-id` the receiver saw.
    pub event_key: String,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub response_code: Option<i64>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// The newest deliveries a log shows.
pub const DELIVERIES_SHOWN: i64 = 100;

/// An endpoint's page: the endpoint and its newest deliveries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookLog {
    pub webhook: Webhook,
    pub deliveries: Vec<Delivery>,
}
