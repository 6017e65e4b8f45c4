//! Seats left, live: open event pages follow `GET /events/{id}/seats`, a stream of server-sent
//! events carrying the event's seat numbers whenever a booking or cancellation changed them.
//!
//! The booking writer reports the events each committed batch touched to [`SeatChanges`], which
//! fans them out to the streams of this process. With PostgreSQL several processes may serve
//! one database, so each also sends the ids through `NOTIFY` and listens for the others'.
use crate::AppState;
use crate::db::Db;
use crate::error::StoreError;
use crate::rest::error::ApiError;
use crate::sql::Sql;
use app::bookings::LiveSeats;
use app::error::AppError;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

const CHANNEL: &str = "eventhub_seats";

/// At most this many updates per second reach one page, however busy the event.
const THROTTLE: Duration = Duration::from_millis(250);

pub struct SeatChanges {
    tx: broadcast::Sender<i64>,
    db: Db,
    /// Tells this process's notifications from the others'.
    origin: String,
}

impl SeatChanges {
    /// Starts the hub (and, on PostgreSQL, the listener for other processes' changes).
    pub fn start(db: Db) -> Arc<Self> {
        let (tx, _) = broadcast::channel(1024);
        let hub = Arc::new(SeatChanges {
            tx,
            db,
            origin: crate::random_hex(8),
        });
        if let Db::Postgres(pool) = &hub.db {
            tokio::spawn(listen(pool.clone(), hub.clone()));
        }
        hub
    }

    pub fn subscribe(&self) -> broadcast::Receiver<i64> {
        self.tx.subscribe()
    }

    /// Tells open pages of these events that seats changed (after the change committed).
    /// Returns at once: the booking writer calls it between batches, so telling the other
    /// processes (one `NOTIFY` round trip on PostgreSQL) runs on its own task.
    pub fn changed(&self, event_ids: &[app::events::EventId]) {
        if event_ids.is_empty() {
            return;
        }
        for id in event_ids {
            // No receiver is not an error: nobody is watching.
            let _ = self.tx.send(id.get());
        }
        if let Db::Postgres(pool) = &self.db {
            let ids: Vec<String> = event_ids.iter().map(|id| id.to_string()).collect();
            let payload = format!("{}:{}", self.origin, ids.join(","));
            let pool = pool.clone();
            tokio::spawn(async move {
                if let Err(e) = sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(CHANNEL)
                    .bind(payload)
                    .execute(&pool)
                    .await
                {
                    tracing::warn!(error = %e, "cannot tell other processes about seat changes");
                }
            });
        }
    }
}

/// Relays other processes' seat changes to this process's pages; reconnects when the database
/// connection drops (`PgListener::recv` does that itself).
async fn listen(pool: sqlx::PgPool, hub: Arc<SeatChanges>) {
    loop {
        let mut listener = match sqlx::postgres::PgListener::connect_with(&pool).await {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!(error = %e, "seat listener cannot connect; retrying");
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %e, "seat listener cannot LISTEN; retrying");
            tokio::time::sleep(Duration::from_secs(2)).await;
            continue;
        }
        loop {
            match listener.recv().await {
                Ok(note) => {
                    let Some((origin, ids)) = note.payload().split_once(':') else {
                        continue;
                    };
                    if origin == hub.origin {
                        continue;
                    }
                    for id in ids.split(',').filter_map(|id| id.parse().ok()) {
                        let _ = hub.tx.send(id);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "seat listener stopped; reconnecting");
                    break;
                }
            }
        }
    }
}

/// The seat numbers of a visible event (drafts are not visible here).
pub async fn live_seats(db: &Db, event_id: i64) -> Result<LiveSeats, AppError> {
    let event: Option<(i64, i64, i64)> = db
        .fetch_optional(
            Sql::new(
                "SELECT capacity, seats_confirmed, seats_waitlisted FROM events WHERE id = $1 AND status <> 'draft'",
            )
            .arg(event_id),
        )
        .await
        .map_err(StoreError::from)?;
    let Some((capacity, confirmed, waitlisted)) = event else {
        return Err(AppError::NotFound);
    };
    let types: Vec<(i64, i64)> = db
        .fetch_all(
            Sql::new(
                "SELECT id, quantity - seats_confirmed FROM ticket_types WHERE event_id = $1 ORDER BY position, id",
            )
            .arg(event_id),
        )
        .await
        .map_err(StoreError::from)?;
    Ok(LiveSeats {
        event_id: event_id.into(),
        remaining: capacity - confirmed,
        confirmed,
        waitlisted,
        types: types.into_iter().map(|(id, n)| (id.into(), n)).collect(),
    })
}

fn to_event(seats: &LiveSeats) -> Event {
    Event::default()
        .event("seats")
        .json_data(seats)
        .unwrap_or_else(|_| Event::default().comment("unencodable"))
}

/// `GET /events/{id}/seats`: the current numbers at once, then each change.
pub async fn seats_stream(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let first = live_seats(&state.db, id).await?;
    let rx = state.seat_changes.subscribe();
    let db = state.db.clone();
    // Every change is sent, even when the numbers look the same: a cancellation that promotes
    // a waiting group of the same size leaves them equal, yet that group's page must update.
    let stream = futures_util::stream::unfold(
        (Some(first), rx, db),
        move |(pending, mut rx, db)| async move {
            if let Some(seats) = pending {
                return Some((Ok(to_event(&seats)), (None, rx, db)));
            }
            loop {
                match rx.recv().await {
                    Ok(changed) if changed != id => continue,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
                // Let a burst of bookings settle, then send one update for all of it.
                tokio::time::sleep(THROTTLE).await;
                while let Ok(_) | Err(broadcast::error::TryRecvError::Lagged(_)) = rx.try_recv() {}
                let seats = live_seats(&db, id).await.ok()?;
                return Some((Ok(to_event(&seats)), (None, rx, db)));
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(20))))
}
