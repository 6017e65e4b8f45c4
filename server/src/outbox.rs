//! Domain events: what happened, written by the command that made it happen in its own
//! transaction ([`publish`]), then fanned out to every consumer that subscribed to it.
//!
//! [`publish`] writes one job of kind [`KIND`] per event beside the change: if the
//! transaction rolls back there is no event, if it commits the event will be delivered. The
//! [`Fanout`] handler runs that job: it asks each [`Subscriber`] (each webhook endpoint, …)
//! which jobs the event causes and writes them in one transaction, each with its own dedupe
//! key, so every consumer has its own job and its own retries (a broken webhook never delays
//! anything else) and a fan-out that runs twice writes nothing new.
//!
//! The e-mails a booking sends are written directly by the booking's transaction (the mail
//! people wait for is one job away, not two); live seats stay on their own direct path
//! (`live.rs`).
use crate::db::{Db, Tx};
use crate::error::StoreResult;
use crate::jobs::{self, Handler, Job, NewJob};
use app::ids::EventId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The job kind a domain event waits as until it is fanned out.
pub const KIND: &str = "domain_event";

/// Fan-out runs before the deliveries it causes, after the mail people wait for.
const PRIORITY: i64 = 5;

/// What happened (the names webhooks subscribe to).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "registration.confirmed")]
    RegistrationConfirmed,
    #[serde(rename = "registration.waitlisted")]
    RegistrationWaitlisted,
    #[serde(rename = "registration.cancelled")]
    RegistrationCancelled,
    #[serde(rename = "waitlist.promoted")]
    WaitlistPromoted,
    #[serde(rename = "event.published")]
    EventPublished,
    #[serde(rename = "event.changed")]
    EventChanged,
    #[serde(rename = "event.cancelled")]
    EventCancelled,
    #[serde(rename = "ticket.checked_in")]
    TicketCheckedIn,
}

impl EventType {
    pub const ALL: [EventType; 8] = [
        EventType::RegistrationConfirmed,
        EventType::RegistrationWaitlisted,
        EventType::RegistrationCancelled,
        EventType::WaitlistPromoted,
        EventType::EventPublished,
        EventType::EventChanged,
        EventType::EventCancelled,
        EventType::TicketCheckedIn,
    ];

    /// The name on the wire, e.g. `registration.confirmed`.
    pub fn code(self) -> &'static str {
        match self {
            EventType::RegistrationConfirmed => "registration.confirmed",
            EventType::RegistrationWaitlisted => "registration.waitlisted",
            EventType::RegistrationCancelled => "registration.cancelled",
            EventType::WaitlistPromoted => "waitlist.promoted",
            EventType::EventPublished => "event.published",
            EventType::EventChanged => "event.changed",
            EventType::EventCancelled => "event.cancelled",
            EventType::TicketCheckedIn => "ticket.checked_in",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        EventType::ALL.into_iter().find(|t| t.code() == code)
    }
}

/// One thing that happened to one EventHub event (its bookings, its tickets, itself).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DomainEvent {
    /// `evt_` and 24 hex digits: unique, the id a webhook delivery carries.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub created_at: DateTime<Utc>,
    /// The EventHub event it concerns (whose organizer may subscribe to it).
    pub event_id: EventId,
    /// What a consumer needs to know, e.g. `{"registration_id": 7, "quantity": 2, …}`; always
    /// holds `event_id` too.
    pub data: serde_json::Value,
}

impl DomainEvent {
    /// An event of `kind` about `event_id` at `now`; `data` should be a JSON object (it gets
    /// `event_id` added).
    pub fn new(
        kind: EventType,
        event_id: EventId,
        mut data: serde_json::Value,
        now: DateTime<Utc>,
    ) -> Self {
        if let Some(object) = data.as_object_mut() {
            object.insert("event_id".into(), serde_json::json!(event_id.get()));
        }
        DomainEvent {
            id: format!("evt_{}", crate::random_hex(12)),
            kind,
            created_at: now,
            event_id,
            data,
        }
    }

    /// The job that fans it out.
    pub fn job(&self) -> NewJob {
        let payload = serde_json::to_value(self).unwrap_or_default();
        NewJob::new(KIND, payload, self.created_at)
            .priority(PRIORITY)
            .dedupe_key(format!("event:{}", self.id))
    }
}

/// Writes `events` inside the caller's transaction (one insert with whatever else
/// `also` holds): they exist if it commits and not if it rolls back.
pub async fn publish(
    tx: &mut Tx<'_>,
    events: &[DomainEvent],
    also: Vec<NewJob>,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    let mut all = also;
    all.extend(events.iter().map(DomainEvent::job));
    jobs::enqueue(tx, &all, now).await
}

/// A consumer of domain events: says which jobs one event causes (none when it did not
/// subscribe to it). Runs inside the fan-out's transaction, so it may write rows of its own
/// beside the jobs (e.g. a delivery log entry); both must be written so that a second run of
/// the same event changes nothing (`ON CONFLICT DO NOTHING`, dedupe keys naming the event).
#[async_trait::async_trait]
pub trait Subscriber: Send + Sync {
    /// For logs.
    fn name(&self) -> &'static str;

    async fn jobs_for(
        &self,
        tx: &mut Tx<'_>,
        event: &DomainEvent,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<NewJob>>;
}

/// The handler of [`KIND`] jobs: one event in, one job per interested consumer out.
pub struct Fanout {
    db: Db,
    subscribers: Vec<Arc<dyn Subscriber>>,
}

impl Fanout {
    pub fn new(db: Db, subscribers: Vec<Arc<dyn Subscriber>>) -> Arc<Self> {
        Arc::new(Fanout { db, subscribers })
    }
}

#[async_trait::async_trait]
impl Handler for Fanout {
    async fn run(&self, job: &Job) -> anyhow::Result<()> {
        use anyhow::Context;
        let event: DomainEvent = job.payload().context("not a domain event's payload")?;
        let now = crate::db::now();
        let mut tx = self.db.begin_write().await?;
        let mut caused = Vec::new();
        for subscriber in &self.subscribers {
            let jobs = subscriber
                .jobs_for(&mut tx, &event, now)
                .await
                .with_context(|| format!("subscriber {} failed", subscriber.name()))?;
            caused.extend(jobs);
        }
        let written = jobs::enqueue(&mut tx, &caused, now).await?;
        tx.commit().await?;
        if written > 0 {
            jobs::wake_local();
        }
        tracing::debug!(event = %event.id, kind = event.kind.code(), written, "domain event fanned out");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_round_trip_through_their_names() {
        for kind in EventType::ALL {
            assert_eq!(EventType::from_code(kind.code()), Some(kind));
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(json, serde_json::json!(kind.code()));
        }
        assert_eq!(EventType::from_code("registration.booked"), None);
    }

    #[test]
    fn an_event_carries_its_event_id_and_fans_out_once() {
        let now = Utc::now();
        let event = DomainEvent::new(
            EventType::RegistrationConfirmed,
            EventId::new(9),
            serde_json::json!({"registration_id": 4}),
            now,
        );
        assert!(event.id.starts_with("evt_") && event.id.len() == 28);
        assert_eq!(event.data["event_id"], 9);
        let job = event.job();
        assert_eq!(job.kind, KIND);
        assert_eq!(job.dedupe_key, Some(format!("event:{}", event.id)));
        let back: DomainEvent = serde_json::from_value(job.payload).unwrap();
        assert_eq!(back, event);
        assert_eq!(
            serde_json::to_value(&event).unwrap()["type"],
            "registration.confirmed"
        );
    }
}
