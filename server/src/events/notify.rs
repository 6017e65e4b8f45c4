//! What an event's publication, change or cancellation tells others, written inside the
//! command's transaction: its domain event (for webhooks) and the e-mail each holder of a
//! booking gets (one per person, however many bookings they hold).
use crate::db::Tx;
use crate::error::StoreResult;
use crate::mail::{MailJob, PlaceWas};
use crate::outbox::{self, DomainEvent, EventType};
use crate::sql::Sql;
use app::events::EventId;
use app::events::rules::ValidEvent;
use chrono::{DateTime, Utc};
use serde_json::json;

/// When and where an event was, read under its lock before a change.
#[derive(Clone, Debug, sqlx::FromRow)]
pub(super) struct Before {
    pub status: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub timezone: String,
    pub venue: String,
    pub address: String,
    pub city: String,
}

impl Before {
    pub async fn read(tx: &mut Tx<'_>, id: EventId) -> StoreResult<Option<Before>> {
        let sql = format!(
            "SELECT status, starts_at, ends_at, timezone, venue, address, city FROM events WHERE id = $1{}",
            tx.row_lock()
        );
        Ok(tx.fetch_optional(Sql::new(&sql).arg(id)).await?)
    }

    /// Whether the attendees must hear of it: another time or another place.
    fn moved(&self, after: &ValidEvent) -> bool {
        self.starts_at != after.starts_at
            || self.ends_at != after.ends_at
            || self.timezone != after.timezone
            || self.venue != after.venue
            || self.address != after.address
            || self.city != after.city
    }
}

/// The people holding a confirmed or waitlisted booking of the event.
async fn holders(tx: &mut Tx<'_>, id: EventId) -> StoreResult<Vec<i64>> {
    let rows: Vec<(i64,)> = tx
        .fetch_all(
            Sql::new(
                "SELECT DISTINCT user_id FROM registrations \
                 WHERE event_id = $1 AND status IN ('confirmed', 'waitlisted') ORDER BY user_id",
            )
            .arg(id),
        )
        .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// The event is on sale.
pub(super) async fn published(
    tx: &mut Tx<'_>,
    id: EventId,
    title: &str,
    starts_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let event = DomainEvent::new(
        EventType::EventPublished,
        id,
        json!({"title": title, "starts_at": starts_at}),
        now,
    );
    outbox::publish(tx, &[event], Vec::new(), now).await?;
    Ok(())
}

/// A published event was edited: its domain event says whether the time or the place moved,
/// and if it did every holder gets an e-mail saying what it was and what it is.
pub(super) async fn changed(
    tx: &mut Tx<'_>,
    id: EventId,
    before: &Before,
    after: &ValidEvent,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let moved = before.moved(after);
    let event = DomainEvent::new(
        EventType::EventChanged,
        id,
        json!({
            "title": after.title,
            "starts_at": after.starts_at,
            "ends_at": after.ends_at,
            "venue": after.venue,
            "city": after.city,
            "time_or_place_changed": moved,
        }),
        now,
    );
    let mut mails = Vec::new();
    if moved {
        let was = PlaceWas {
            starts_at: before.starts_at,
            timezone: before.timezone.clone(),
            venue: before.venue.clone(),
            city: before.city.clone(),
        };
        for user_id in holders(tx, id).await? {
            let mail = MailJob::EventChanged {
                event_id: id.get(),
                user_id,
                revision: now.timestamp_millis(),
                before: was.clone(),
            };
            mails.push(mail.job(now));
        }
    }
    outbox::publish(tx, &[event], mails, now).await?;
    Ok(())
}

/// The event is cancelled: call before its bookings are, so their holders can be told.
pub(super) async fn cancelled(
    tx: &mut Tx<'_>,
    id: EventId,
    reason: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let holders = holders(tx, id).await?;
    let event = DomainEvent::new(
        EventType::EventCancelled,
        id,
        json!({"reason": reason, "holders_told": holders.len()}),
        now,
    );
    let mails = holders
        .into_iter()
        .map(|user_id| {
            MailJob::EventCancelled {
                event_id: id.get(),
                user_id,
            }
            .job(now)
        })
        .collect();
    outbox::publish(tx, &[event], mails, now).await?;
    Ok(())
}
