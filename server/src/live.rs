//! Seats left, live: open event pages follow `GET /events/{id}/seats`, a stream of server-sent
//! events carrying the event's seat numbers whenever a booking or cancellation changed them.
//!
//! The booking writer reports the events each committed batch touched to [`SeatChanges`]. With
//! PostgreSQL several processes may serve one database, so each also sends the ids through
//! `NOTIFY` and listens for the others'. One task per process reads an event's numbers once per
//! change (a burst within [`THROTTLE`] is one change) and hands them to every stream watching
//! that event through a `watch` channel: a thousand open pages cost one query, not a thousand.
//! Each client address may hold only so many streams (`EVENTHUB_STREAMS_PER_ADDRESS`), and every
//! stream ends when the server shuts down, so open pages never hold a stop past its deadline.
use crate::AppState;
use crate::db::Db;
use crate::error::StoreError;
use crate::rest::error::ApiError;
use crate::sql::Sql;
use app::bookings::LiveSeats;
use app::error::AppError;
use app::ssr::ClientIp;
use axum::extract::{Extension, Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::{Stream, StreamExt};
use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

const CHANNEL: &str = "eventhub_seats";

/// At most this many updates per second reach one page, however busy the event.
const THROTTLE: Duration = Duration::from_millis(250);

/// The numbers last read for one event; `None` until the first change after the first watcher.
type Latest = Option<Arc<LiveSeats>>;

pub struct SeatChanges {
    /// Ids of events whose seats changed, from this process's writer and the other processes.
    tx: broadcast::Sender<i64>,
    db: Db,
    /// Tells this process's notifications from the others'.
    origin: String,
    /// The events someone watches, each with the channel its streams read.
    watched: Mutex<HashMap<i64, watch::Sender<Latest>>>,
    /// Open streams per client address.
    open: Mutex<HashMap<IpAddr, usize>>,
    per_address: Option<usize>,
    /// Cancelled when the server shuts down: every stream ends.
    shutdown: CancellationToken,
    /// Reads of changed numbers so far (one per change of a watched event, however many watch).
    reads: AtomicU64,
}

impl SeatChanges {
    /// Starts the hub: the task that reads changed numbers and, on PostgreSQL, the listener
    /// for other processes' changes. `per_address` caps the open streams of one client
    /// (`None`: no cap); `shutdown` ends them all.
    pub fn start(db: Db, per_address: Option<usize>, shutdown: CancellationToken) -> Arc<Self> {
        let (tx, _) = broadcast::channel(1024);
        let hub = Arc::new(SeatChanges {
            tx,
            db,
            origin: crate::random_hex(8),
            watched: Mutex::default(),
            open: Mutex::default(),
            per_address,
            shutdown,
            reads: AtomicU64::new(0),
        });
        tokio::spawn(fan_out(hub.clone(), hub.tx.subscribe()));
        if let Db::Postgres(pool) = &hub.db {
            tokio::spawn(listen(pool.clone(), hub.clone()));
        }
        hub
    }

    /// The raw change notices (ids of events whose seats changed).
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

    /// Streams open now (all addresses): what the tests and the shutdown log look at.
    pub fn open_streams(&self) -> usize {
        self.open.lock().expect("stream counts").values().sum()
    }

    /// How many times the hub has read changed numbers (what the tests count).
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    /// A place for one more stream from `ip`, or `RateLimited` when it holds its share.
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<OpenStream, AppError> {
        let mut open = self.open.lock().expect("stream counts");
        let held = open.entry(ip).or_default();
        if self.per_address.is_some_and(|cap| *held >= cap) {
            return Err(AppError::RateLimited {
                retry_after_secs: 30,
            });
        }
        *held += 1;
        Ok(OpenStream {
            hub: self.clone(),
            ip,
        })
    }

    /// A receiver of `event_id`'s numbers from now on.
    fn watch(&self, event_id: i64) -> watch::Receiver<Latest> {
        let mut watched = self.watched.lock().expect("watched events");
        watched
            .entry(event_id)
            .or_insert_with(|| watch::channel(None).0)
            .subscribe()
    }

    /// The channels of the events in `ids` someone still watches; forgets the others.
    fn watchers(&self, ids: Option<&HashSet<i64>>) -> Vec<(i64, watch::Sender<Latest>)> {
        let mut watched = self.watched.lock().expect("watched events");
        watched.retain(|_, tx| tx.receiver_count() > 0);
        watched
            .iter()
            .filter(|(id, _)| ids.is_none_or(|ids| ids.contains(id)))
            .map(|(id, tx)| (*id, tx.clone()))
            .collect()
    }

    /// The numbers of event `id` now, then after each change, until the server shuts down;
    /// the stream holds a place in `ip`'s share while it lives. `NotFound` for a draft or no
    /// such event, `RateLimited` when `ip` holds its share. Both doors (the pages' server-sent
    /// events and GraphQL's `seats`) follow events through here.
    pub async fn follow(
        self: &Arc<Self>,
        ip: IpAddr,
        id: i64,
    ) -> Result<impl Stream<Item = Arc<LiveSeats>> + Send + use<>, AppError> {
        let place = self.admit(ip)?;
        // Watch first, then read: a change in between reaches the stream too (twice at worst).
        let rx = self.watch(id);
        let first = Arc::new(live_seats(&self.db, id).await?);
        let stream = futures_util::stream::unfold(
            (Some(first), rx, place),
            |(pending, mut rx, place)| async move {
                if let Some(seats) = pending {
                    return Some((seats, (None, rx, place)));
                }
                loop {
                    rx.changed().await.ok()?;
                    let latest = rx.borrow_and_update().clone();
                    if let Some(seats) = latest {
                        return Some((seats, (None, rx, place)));
                    }
                }
            },
        )
        .take_until(self.shutdown.clone().cancelled_owned());
        Ok(stream)
    }
}

/// One open stream, counted against its address until dropped (the page went away, or the
/// stream ended).
struct OpenStream {
    hub: Arc<SeatChanges>,
    ip: IpAddr,
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        let mut open = self.hub.open.lock().expect("stream counts");
        if let Some(held) = open.get_mut(&self.ip) {
            *held -= 1;
            if *held == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// The hub's reader: waits for a change, lets a burst settle, reads each changed event that
/// someone watches once and sends the numbers to all its streams.
async fn fan_out(hub: Arc<SeatChanges>, mut rx: broadcast::Receiver<i64>) {
    loop {
        // Every id since the last round, or None (= all watched events) when notices were lost.
        let mut changed = Some(HashSet::new());
        match rx.recv().await {
            Ok(id) => add(&mut changed, id),
            Err(broadcast::error::RecvError::Lagged(_)) => changed = None,
            Err(broadcast::error::RecvError::Closed) => return,
        }
        tokio::time::sleep(THROTTLE).await;
        loop {
            match rx.try_recv() {
                Ok(id) => add(&mut changed, id),
                Err(broadcast::error::TryRecvError::Lagged(_)) => changed = None,
                Err(_) => break,
            }
        }
        for (id, tx) in hub.watchers(changed.as_ref()) {
            hub.reads.fetch_add(1, Ordering::Relaxed);
            match live_seats(&hub.db, id).await {
                // Sent even when the numbers look the same: a cancellation that promotes a
                // waiting group of the same size leaves them equal, yet that group's page must
                // update.
                Ok(seats) => {
                    let _ = tx.send(Some(Arc::new(seats)));
                }
                Err(e) => tracing::debug!(event = id, error = ?e, "cannot read live seats"),
            }
        }
    }
}

fn add(changed: &mut Option<HashSet<i64>>, id: i64) {
    if let Some(ids) = changed {
        ids.insert(id);
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

/// `GET /events/{id}/seats`: the current numbers at once, then each change, until the page
/// goes away or the server shuts down. `429` when the client's address holds its share.
pub async fn seats_stream(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>> + use<>>, ApiError> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let stream = state.seat_changes.follow(ip, id).await?;
    let events = stream.map(|seats| Ok(to_event(&seats)));
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(20))))
}
