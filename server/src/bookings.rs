//! Bookings on either database, never oversold.
//!
//! Every change to seats goes through one writer task per server process. It takes whatever
//! requests are waiting (up to [`MAX_BATCH`]), runs each inside its own savepoint of one
//! transaction, commits once, and only then answers them all: one durable commit (one fsync)
//! carries many bookings. Each booking locks its event row first (`FOR UPDATE` on PostgreSQL;
//! SQLite's `BEGIN IMMEDIATE` holds the write lock), takes seats with conditional updates
//! (`seats_confirmed + n <= capacity`), and the CHECK constraints of the seat counters refuse
//! anything the code might get wrong. Several processes on one PostgreSQL queue on the event
//! row; bookings in a batch lock events in id order, and a batch that still meets a deadlock
//! (PostgreSQL aborts one side) is retried whole, since nothing of it was committed.
use crate::db::{Db, now};
use crate::live::SeatChanges;
use crate::on_db;
use app::auth::{Role, UserView};
use app::bookings::ports::{BookingCommands, BookingQueries};
use app::bookings::rules::{Window, check_cancel, check_open, check_quantity};
use app::bookings::{
    AttendeePage, AttendeeSearch, CheckIn, MyReactions, MyRegistration, NewRegistration, Notice,
    Payment, Reaction, Registration, RegistrationId, RegistrationStatus, Ticket, TicketStatus,
};
use app::error::AppError;
use app::events::EventStatus;
use app::events::ports::EventQueries;
use app::ssr::internal;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sqlx::{PgPool, SqlitePool};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// The most requests one transaction carries.
pub const MAX_BATCH: usize = 256;

/// Signs ticket codes so a door can verify a ticket without the database.
pub struct TicketKeys {
    key: Vec<u8>,
}

impl TicketKeys {
    pub fn new(secret: &str) -> Self {
        TicketKeys {
            key: format!("eventhub-tickets:{secret}").into_bytes(),
        }
    }

    /// `code.signature`: the signature covers the event and the code.
    pub fn token(&self, event_id: i64, code: &str) -> String {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&self.key).expect("any key length");
        mac.update(format!("{event_id}:{code}").as_bytes());
        let sig = data_encoding::BASE32_NOPAD.encode(&mac.finalize().into_bytes()[..10]);
        format!("{code}.{sig}")
    }

    /// The code inside a token, when its signature is right for `event_id`.
    pub fn verify(&self, event_id: i64, token: &str) -> Option<String> {
        let (code, signature) = token.trim().split_once('.')?;
        let code = code.to_ascii_uppercase();
        let presented = format!("{code}.{}", signature.to_ascii_uppercase());
        (self.token(event_id, &code) == presented).then_some(code)
    }
}

/// A new ticket code: 128 random bits, base32 (26 characters, no padding).
pub fn new_code() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    data_encoding::BASE32_NOPAD.encode(&bytes)
}

enum Command {
    Register {
        actor: UserView,
        new: NewRegistration,
    },
    Cancel {
        actor: UserView,
        id: RegistrationId,
    },
}

impl Command {
    /// Sort key for lock ordering: bookings by event id; cancellations last, by registration.
    fn order_key(&self) -> (i64, i64) {
        match self {
            Command::Register { new, .. } => (new.event_id, 0),
            Command::Cancel { id, .. } => (i64::MAX, *id),
        }
    }
}

struct Job {
    command: Command,
    reply: oneshot::Sender<Result<Done, AppError>>,
}

/// What the writer did for one job. A booking carries everything its answer needs, so the
/// answer costs no read after the commit.
enum Done {
    Booked(Booked),
    Cancelled(RegistrationId),
}

struct Booked {
    id: RegistrationId,
    event_id: i64,
    ticket_type_id: i64,
    ticket_type_name: String,
    user_id: i64,
    quantity: i64,
    status: RegistrationStatus,
    waitlist_position: Option<i64>,
    payment: Payment,
    codes: Vec<String>,
    created_at: DateTime<Utc>,
}

/// The guard columns of an event, read under its lock.
#[derive(sqlx::FromRow)]
struct EventLock {
    organizer_id: i64,
    status: String,
    starts_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct TypeRow {
    id: i64,
    event_id: i64,
    name: String,
    price_amount: i64,
    quantity: i64,
    seats_confirmed: i64,
    max_per_registration: i64,
    sales_start: Option<DateTime<Utc>>,
    sales_end: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct RegRow {
    id: i64,
    event_id: i64,
    ticket_type_id: i64,
    user_id: i64,
    quantity: i64,
}

#[derive(sqlx::FromRow)]
struct WaitingRow {
    id: i64,
    ticket_type_id: i64,
    user_id: i64,
    quantity: i64,
}

const TYPE_SQL: &str = "SELECT id, event_id, name, price_amount, quantity, seats_confirmed, max_per_registration, \
    sales_start, sales_end FROM ticket_types WHERE id = $1";

/// What a committed batch did: one answer per job, and the events whose seats changed.
struct Written {
    results: Vec<Result<Done, AppError>>,
    touched: Vec<i64>,
}

/// Writes one batch for one engine; the body is the same for both, the macro only fixes the
/// pool type and the engine's lock clause.
///
/// No savepoints: every refusal is decided before the job writes anything (or, for seats taken
/// from the event but not from the ticket type, undone at once), so a refused job leaves the
/// transaction as it found it; a database error fails the whole batch, which commits nothing.
macro_rules! engine_writer {
    ($name:ident, $pool:ty, $begin:expr, $lock:expr) => {
        async fn $name(pool: &$pool, jobs: &[Job]) -> Result<Written, sqlx::Error> {
            let lock_event = format!(
                "SELECT organizer_id, status, starts_at FROM events WHERE id = $1{}",
                $lock
            );
            let mut tx = pool.begin_with($begin).await?;
            let mut results = Vec::with_capacity(jobs.len());
            let mut touched = Vec::new();
            for job in jobs {
                let now = now();
                let outcome: Result<Done, AppError> = async {
                    match &job.command {
                        Command::Register { actor, new } => {
                            // The common case in four statements: an open event nobody waits
                            // for, seats in both counters, a type on sale (the conditions of
                            // the checks below, written into the updates).
                            if let Some(booked) = fast_booking!(&mut *tx, actor, new, now) {
                                touched.push(new.event_id);
                                return Ok::<_, sqlx::Error>(Ok(Done::Booked(booked)));
                            }
                            let Some(event) = sqlx::query_as::<_, EventLock>(&lock_event)
                                .bind(new.event_id)
                                .fetch_optional(&mut *tx)
                                .await?
                            else {
                                return Ok(Err(AppError::NotFound));
                            };
                            let status = EventStatus::from_code(&event.status)
                                .ok_or_else(|| sqlx::Error::Decode("event status".into()))?;
                            // A draft does not exist for anyone but its organizer.
                            if status == EventStatus::Draft
                                && !app::events::rules::can_manage(actor, event.organizer_id)
                            {
                                return Ok(Err(AppError::NotFound));
                            }
                            let Some(tt) = sqlx::query_as::<_, TypeRow>(TYPE_SQL)
                                .bind(new.ticket_type_id)
                                .fetch_optional(&mut *tx)
                                .await?
                                .filter(|t| t.event_id == new.event_id)
                            else {
                                return Ok(Err(AppError::field(
                                    "ticket_type_id",
                                    app::error::Problem::Required,
                                )));
                            };
                            let window = Window {
                                status,
                                starts_at: event.starts_at,
                                sales_start: tt.sales_start,
                                sales_end: tt.sales_end,
                            };
                            if let Err(e) = check_open(&window, now)
                                .and_then(|()| check_quantity(new.quantity, tt.max_per_registration))
                            {
                                return Ok(Err(e));
                            }
                            // Nobody overtakes: a group waiting for this ticket type, or one whose
                            // type has room but waits for the event's seats, keeps newcomers out.
                            let ahead: Option<i64> = sqlx::query_scalar(
                                "SELECT r.id FROM registrations r JOIN ticket_types t ON t.id = r.ticket_type_id \
                                 WHERE r.event_id = $1 AND r.status = 'waitlisted' \
                                 AND (r.ticket_type_id = $2 OR t.seats_confirmed + r.quantity <= t.quantity) LIMIT 1",
                            )
                            .bind(new.event_id)
                            .bind(tt.id)
                            .fetch_optional(&mut *tx)
                            .await?;
                            let payment = if tt.price_amount == 0 { Payment::Free } else { Payment::Unpaid };
                            let seated = ahead.is_none()
                                && take_seats!(&mut *tx, new.event_id, tt.id, new.quantity);
                            let mut booked = Booked {
                                id: 0,
                                event_id: new.event_id,
                                ticket_type_id: tt.id,
                                ticket_type_name: tt.name,
                                user_id: actor.id,
                                quantity: new.quantity,
                                status: RegistrationStatus::Confirmed,
                                waitlist_position: None,
                                payment,
                                codes: Vec::new(),
                                created_at: now,
                            };
                            if seated {
                                booked.id = sqlx::query_scalar(
                                    "INSERT INTO registrations (event_id, ticket_type_id, user_id, quantity, status, \
                                     payment, created_at, confirmed_at) VALUES ($1, $2, $3, $4, 'confirmed', $5, $6, $6) RETURNING id",
                                )
                                .bind(new.event_id).bind(tt.id).bind(actor.id).bind(new.quantity)
                                .bind(payment.code()).bind(now)
                                .fetch_one(&mut *tx)
                                .await?;
                                booked.codes = issue_tickets!(&mut *tx, booked.id, new.event_id, new.quantity);
                            } else {
                                let seq: i64 = sqlx::query_scalar(
                                    "UPDATE events SET waitlist_next = waitlist_next + 1, \
                                     seats_waitlisted = seats_waitlisted + $2 WHERE id = $1 RETURNING waitlist_next",
                                )
                                .bind(new.event_id).bind(new.quantity)
                                .fetch_one(&mut *tx)
                                .await?;
                                booked.id = sqlx::query_scalar(
                                    "INSERT INTO registrations (event_id, ticket_type_id, user_id, quantity, status, \
                                     waitlist_seq, payment, created_at) VALUES ($1, $2, $3, $4, 'waitlisted', $5, $6, $7) RETURNING id",
                                )
                                .bind(new.event_id).bind(tt.id).bind(actor.id).bind(new.quantity)
                                .bind(seq).bind(payment.code()).bind(now)
                                .fetch_one(&mut *tx)
                                .await?;
                                booked.status = RegistrationStatus::Waitlisted;
                                booked.waitlist_position = Some(sqlx::query_scalar(
                                    "SELECT COUNT(*) FROM registrations WHERE event_id = $1 AND waitlist_seq <= $2",
                                )
                                .bind(new.event_id).bind(seq)
                                .fetch_one(&mut *tx)
                                .await?);
                            }
                            touched.push(new.event_id);
                            Ok(Ok(Done::Booked(booked)))
                        }
                        Command::Cancel { actor, id } => {
                            let Some(reg) = sqlx::query_as::<_, RegRow>(
                                "SELECT id, event_id, ticket_type_id, user_id, quantity FROM registrations WHERE id = $1",
                            )
                            .bind(id)
                            .fetch_optional(&mut *tx)
                            .await?
                            else {
                                return Ok::<_, sqlx::Error>(Err(AppError::NotFound));
                            };
                            let event = sqlx::query_as::<_, EventLock>(&lock_event)
                                .bind(reg.event_id)
                                .fetch_one(&mut *tx)
                                .await?;
                            // Re-read under the event's lock: another door may have just changed it.
                            let status: String = sqlx::query_scalar("SELECT status FROM registrations WHERE id = $1")
                                .bind(reg.id)
                                .fetch_one(&mut *tx)
                                .await?;
                            if let Err(e) = check_cancel(actor, reg.user_id, event.organizer_id, event.starts_at, now) {
                                return Ok(Err(e));
                            }
                            match status.as_str() {
                                "confirmed" => {
                                    sqlx::query("UPDATE events SET seats_confirmed = seats_confirmed - $2 WHERE id = $1")
                                        .bind(reg.event_id).bind(reg.quantity).execute(&mut *tx).await?;
                                    sqlx::query("UPDATE ticket_types SET seats_confirmed = seats_confirmed - $2 WHERE id = $1")
                                        .bind(reg.ticket_type_id).bind(reg.quantity).execute(&mut *tx).await?;
                                    sqlx::query("UPDATE tickets SET status = 'cancelled' WHERE registration_id = $1")
                                        .bind(reg.id).execute(&mut *tx).await?;
                                }
                                "waitlisted" => {
                                    sqlx::query("UPDATE events SET seats_waitlisted = seats_waitlisted - $2 WHERE id = $1")
                                        .bind(reg.event_id).bind(reg.quantity).execute(&mut *tx).await?;
                                }
                                _ => return Ok(Ok(Done::Cancelled(reg.id))),
                            }
                            touched.push(reg.event_id);
                            sqlx::query(
                                "UPDATE registrations SET status = 'cancelled', waitlist_seq = NULL, cancelled_at = $2, \
                                 cancelled_by = $3 WHERE id = $1",
                            )
                            .bind(reg.id).bind(now).bind(actor.id)
                            .execute(&mut *tx)
                            .await?;
                            if actor.id != reg.user_id {
                                notify!(&mut *tx, reg.user_id, reg.event_id, "registration_cancelled", now);
                            }
                            promote!(&mut *tx, reg.event_id, now);
                            Ok(Ok(Done::Cancelled(reg.id)))
                        }
                    }
                }
                .await?;
                results.push(outcome);
            }
            tx.commit().await?;
            Ok(Written { results, touched })
        }
    };
}

/// The common booking as conditional updates: seats taken from an open event with nobody
/// waiting and from a ticket type on sale, the registration and its tickets written. Evaluates
/// to `None`, having changed nothing, when any condition fails; the full path then finds out
/// which and answers with the reason (or the waitlist).
macro_rules! fast_booking {
    ($tx:expr, $actor:expr, $new:expr, $now:expr) => {{
        let (actor, new, now) = ($actor, $new, $now);
        let event_taken = sqlx::query(
            "UPDATE events SET seats_confirmed = seats_confirmed + $2 WHERE id = $1 AND status = 'published' \
             AND starts_at > $3 AND seats_waitlisted = 0 AND seats_confirmed + $2 <= capacity",
        )
        .bind(new.event_id)
        .bind(new.quantity)
        .bind(now)
        .execute($tx)
        .await?
        .rows_affected()
            == 1;
        let ticket_type: Option<(String, i64)> = if event_taken {
            sqlx::query_as(
                "UPDATE ticket_types SET seats_confirmed = seats_confirmed + $2 WHERE id = $1 AND event_id = $3 \
                 AND seats_confirmed + $2 <= quantity AND $2 >= 1 AND $2 <= max_per_registration \
                 AND (sales_start IS NULL OR sales_start <= $4) AND (sales_end IS NULL OR sales_end > $4) \
                 RETURNING name, price_amount",
            )
            .bind(new.ticket_type_id)
            .bind(new.quantity)
            .bind(new.event_id)
            .bind(now)
            .fetch_optional($tx)
            .await?
        } else {
            None
        };
        match ticket_type {
            Some((name, price)) => {
                let payment = if price == 0 { Payment::Free } else { Payment::Unpaid };
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO registrations (event_id, ticket_type_id, user_id, quantity, status, \
                     payment, created_at, confirmed_at) VALUES ($1, $2, $3, $4, 'confirmed', $5, $6, $6) RETURNING id",
                )
                .bind(new.event_id)
                .bind(new.ticket_type_id)
                .bind(actor.id)
                .bind(new.quantity)
                .bind(payment.code())
                .bind(now)
                .fetch_one($tx)
                .await?;
                let codes = issue_tickets!($tx, id, new.event_id, new.quantity);
                Some(Booked {
                    id,
                    event_id: new.event_id,
                    ticket_type_id: new.ticket_type_id,
                    ticket_type_name: name,
                    user_id: actor.id,
                    quantity: new.quantity,
                    status: RegistrationStatus::Confirmed,
                    waitlist_position: None,
                    payment,
                    codes,
                    created_at: now,
                })
            }
            None => {
                if event_taken {
                    sqlx::query("UPDATE events SET seats_confirmed = seats_confirmed - $2 WHERE id = $1")
                        .bind(new.event_id)
                        .bind(new.quantity)
                        .execute($tx)
                        .await?;
                }
                None
            }
        }
    }};
}

/// Takes `n` seats of a ticket type and of its event if both have them; evaluates to whether
/// it did. Conditional updates: the check and the change are one statement.
macro_rules! take_seats {
    ($tx:expr, $event_id:expr, $type_id:expr, $n:expr) => {{
        let event_ok = sqlx::query(
            "UPDATE events SET seats_confirmed = seats_confirmed + $2 WHERE id = $1 AND seats_confirmed + $2 <= capacity",
        )
        .bind($event_id)
        .bind($n)
        .execute($tx)
        .await?
        .rows_affected()
            == 1;
        if event_ok {
            let type_ok = sqlx::query(
                "UPDATE ticket_types SET seats_confirmed = seats_confirmed + $2 WHERE id = $1 AND seats_confirmed + $2 <= quantity",
            )
            .bind($type_id)
            .bind($n)
            .execute($tx)
            .await?
            .rows_affected()
                == 1;
            if !type_ok {
                sqlx::query("UPDATE events SET seats_confirmed = seats_confirmed - $2 WHERE id = $1")
                    .bind($event_id)
                    .bind($n)
                    .execute($tx)
                    .await?;
            }
            type_ok
        } else {
            false
        }
    }};
}

/// One ticket per seat of a confirmed registration, in one statement; evaluates to the codes.
macro_rules! issue_tickets {
    ($tx:expr, $registration_id:expr, $event_id:expr, $n:expr) => {{
        let codes: Vec<String> = (0..$n).map(|_| new_code()).collect();
        let mut sql =
            String::from("INSERT INTO tickets (registration_id, event_id, code, status) VALUES ");
        for i in 0..codes.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("($1, $2, ${}, 'valid')", i + 3));
        }
        let mut insert = sqlx::query(&sql).bind($registration_id).bind($event_id);
        for code in &codes {
            insert = insert.bind(code.as_str());
        }
        insert.execute($tx).await?;
        codes
    }};
}

macro_rules! notify {
    ($tx:expr, $user_id:expr, $event_id:expr, $kind:expr, $now:expr) => {
        sqlx::query(
            "INSERT INTO notices (user_id, event_id, kind, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind($user_id)
        .bind($event_id)
        .bind($kind)
        .bind($now)
        .execute($tx)
        .await?;
    };
}

/// Confirms waiting groups of an event in arrival order while seats allow. A group whose ticket
/// type is full keeps its place and blocks only later groups of that type; a group that fits
/// its type but not the event's remaining seats stops promotion: the seats are held for it.
macro_rules! promote {
    ($tx:expr, $event_id:expr, $now:expr) => {{
        let waiting = sqlx::query_as::<_, WaitingRow>(
            "SELECT id, ticket_type_id, user_id, quantity FROM registrations \
             WHERE event_id = $1 AND status = 'waitlisted' ORDER BY waitlist_seq",
        )
        .bind($event_id)
        .fetch_all($tx)
        .await?;
        let mut blocked_types: Vec<i64> = Vec::new();
        for group in waiting {
            if blocked_types.contains(&group.ticket_type_id) {
                continue;
            }
            let tt = sqlx::query_as::<_, TypeRow>(TYPE_SQL)
                .bind(group.ticket_type_id)
                .fetch_one($tx)
                .await?;
            if tt.seats_confirmed + group.quantity > tt.quantity {
                blocked_types.push(group.ticket_type_id);
                continue;
            }
            if !take_seats!($tx, $event_id, group.ticket_type_id, group.quantity) {
                break;
            }
            sqlx::query(
                "UPDATE registrations SET status = 'confirmed', waitlist_seq = NULL, confirmed_at = $2 WHERE id = $1",
            )
            .bind(group.id)
            .bind($now)
            .execute($tx)
            .await?;
            sqlx::query("UPDATE events SET seats_waitlisted = seats_waitlisted - $2 WHERE id = $1")
                .bind($event_id)
                .bind(group.quantity)
                .execute($tx)
                .await?;
            issue_tickets!($tx, group.id, $event_id, group.quantity);
            notify!($tx, group.user_id, $event_id, "waitlist_confirmed", $now);
        }
    }};
}

engine_writer!(write_sqlite, SqlitePool, "BEGIN IMMEDIATE", "");
engine_writer!(write_postgres, PgPool, "BEGIN", " FOR UPDATE");

/// Whether a PostgreSQL error is worth retrying the whole batch for.
fn transient(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "40P01" || code == "40001")
}

async fn writer(db: Db, mut rx: mpsc::Receiver<Job>, seat_changes: Arc<SeatChanges>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        // Bookings lock events in id order in every process (cancellations, whose event is only
        // known inside the transaction, go last); a deadlock that remains is retried below.
        batch.sort_by_key(|job| job.command.order_key());
        let mut attempt = 0;
        let outcome = loop {
            let result = match &db {
                Db::Sqlite(pool) => write_sqlite(pool, &batch).await,
                Db::Postgres(pool) => write_postgres(pool, &batch).await,
            };
            match result {
                Err(e) if transient(&e) && attempt < 5 => attempt += 1,
                other => break other,
            }
        };
        match outcome {
            Ok(Written {
                results,
                mut touched,
            }) => {
                for (job, result) in batch.into_iter().zip(results) {
                    let _ = job.reply.send(result);
                }
                touched.sort_unstable();
                touched.dedup();
                seat_changes.changed(&touched);
            }
            Err(e) => {
                tracing::error!(error = %e, jobs = batch.len(), "booking batch failed; nothing was committed");
                for job in batch {
                    let _ = job.reply.send(Err(AppError::Internal));
                }
            }
        }
    }
}

pub struct Bookings {
    db: Db,
    keys: Arc<TicketKeys>,
    jobs: mpsc::Sender<Job>,
    events: Arc<dyn EventQueries>,
}

impl Bookings {
    /// Starts this process's booking writer.
    pub fn start(
        db: Db,
        secret: &str,
        events: Arc<dyn EventQueries>,
        seat_changes: Arc<SeatChanges>,
    ) -> Arc<Self> {
        let keys = Arc::new(TicketKeys::new(secret));
        let (jobs, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(writer(db.clone(), rx, seat_changes));
        Arc::new(Bookings {
            db,
            keys,
            jobs,
            events,
        })
    }

    pub fn keys(&self) -> &TicketKeys {
        &self.keys
    }

    async fn submit(&self, command: Command) -> Result<Done, AppError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { command, reply })
            .await
            .map_err(|_| internal("the booking writer has stopped"))?;
        answer
            .await
            .map_err(|_| internal("the booking writer dropped a request"))?
    }

    /// Reads a registration with its tickets and waitlist position (no access rule); QR codes
    /// are drawn only for pages (`with_qr`), API answers carry the token text.
    async fn load(
        &self,
        id: RegistrationId,
        with_qr: bool,
    ) -> Result<Option<(Registration, i64)>, AppError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            id: i64,
            event_id: i64,
            ticket_type_id: i64,
            ticket_type_name: String,
            user_id: i64,
            quantity: i64,
            status: String,
            payment: String,
            created_at: DateTime<Utc>,
            position: Option<i64>,
            organizer_id: i64,
        }
        let sql = "SELECT r.id, r.event_id, r.ticket_type_id, t.name AS ticket_type_name, r.user_id, r.quantity, \
            r.status, r.payment, r.created_at, e.organizer_id, \
            CASE WHEN r.waitlist_seq IS NULL THEN NULL ELSE \
              (SELECT COUNT(*) FROM registrations w WHERE w.event_id = r.event_id AND w.waitlist_seq <= r.waitlist_seq) END AS position \
            FROM registrations r JOIN ticket_types t ON t.id = r.ticket_type_id JOIN events e ON e.id = r.event_id \
            WHERE r.id = $1";
        let Some(row) = on_db!(&self.db, pool => sqlx::query_as::<_, Row>(sql).bind(id).fetch_optional(pool).await)
            .map_err(internal)?
        else {
            return Ok(None);
        };
        type TicketRow = (String, String, Option<DateTime<Utc>>);
        let tickets: Vec<TicketRow> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT code, status, checked_in_at FROM tickets WHERE registration_id = $1 ORDER BY id")
            .bind(id).fetch_all(pool).await)
        .map_err(internal)?;
        let registration = Registration {
            id: row.id,
            event_id: row.event_id,
            ticket_type_id: row.ticket_type_id,
            ticket_type_name: row.ticket_type_name,
            user_id: row.user_id,
            quantity: row.quantity,
            status: RegistrationStatus::from_code(&row.status)
                .ok_or_else(|| internal("unknown registration status"))?,
            waitlist_position: row.position,
            payment: Payment::from_code(&row.payment).ok_or_else(|| internal("unknown payment"))?,
            tickets: tickets
                .into_iter()
                .map(|(code, status, checked_in_at)| {
                    let token = self.keys.token(row.event_id, &code);
                    Ticket {
                        qr_svg: if with_qr {
                            qr_svg(&token)
                        } else {
                            String::new()
                        },
                        token,
                        code,
                        status: if status == "valid" {
                            TicketStatus::Valid
                        } else {
                            TicketStatus::Cancelled
                        },
                        checked_in_at,
                    }
                })
                .collect(),
            created_at: row.created_at,
        };
        Ok(Some((registration, row.organizer_id)))
    }
}

/// A QR code of `text` as an SVG document.
pub fn qr_svg(text: &str) -> String {
    match qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(176, 176)
            .quiet_zone(true)
            .build(),
        Err(e) => {
            tracing::error!(%e, "cannot draw a QR code");
            String::new()
        }
    }
}

fn may_see(actor: &UserView, holder: i64, organizer: i64) -> bool {
    actor.id == holder
        || actor.role >= Role::Admin
        || (actor.role >= Role::Agent && actor.id == organizer)
}

#[async_trait::async_trait]
impl BookingCommands for Bookings {
    async fn register(
        &self,
        actor: &UserView,
        new: NewRegistration,
    ) -> Result<Registration, AppError> {
        let Done::Booked(booked) = self
            .submit(Command::Register {
                actor: actor.clone(),
                new,
            })
            .await?
        else {
            return Err(internal(
                "the booking writer answered a booking with a cancellation",
            ));
        };
        tracing::info!(
            registration = booked.id,
            event_id = booked.event_id,
            user = actor.id,
            status = booked.status.code(),
            "registered"
        );
        Ok(Registration {
            id: booked.id,
            event_id: booked.event_id,
            ticket_type_id: booked.ticket_type_id,
            ticket_type_name: booked.ticket_type_name,
            user_id: booked.user_id,
            quantity: booked.quantity,
            status: booked.status,
            waitlist_position: booked.waitlist_position,
            payment: booked.payment,
            tickets: booked
                .codes
                .into_iter()
                .map(|code| Ticket {
                    token: self.keys.token(booked.event_id, &code),
                    code,
                    status: TicketStatus::Valid,
                    checked_in_at: None,
                    qr_svg: String::new(),
                })
                .collect(),
            created_at: booked.created_at,
        })
    }

    async fn cancel_registration(
        &self,
        actor: &UserView,
        id: RegistrationId,
    ) -> Result<Registration, AppError> {
        let Done::Cancelled(id) = self
            .submit(Command::Cancel {
                actor: actor.clone(),
                id,
            })
            .await?
        else {
            return Err(internal(
                "the booking writer answered a cancellation with a booking",
            ));
        };
        let (registration, _) = self.load(id, false).await?.ok_or(AppError::NotFound)?;
        tracing::info!(
            registration = id,
            actor = actor.id,
            "registration cancelled"
        );
        Ok(registration)
    }

    async fn set_reaction(
        &self,
        actor: &UserView,
        event_id: i64,
        reaction: Reaction,
        on: bool,
    ) -> Result<(), AppError> {
        // Only events the actor can see can be marked (drafts of others do not exist).
        self.events.get_event(Some(actor), event_id).await?;
        let now = now();
        on_db!(&self.db, pool => async {
            if on {
                sqlx::query("INSERT INTO reactions (user_id, event_id, kind, created_at) VALUES ($1, $2, $3, $4) \
                             ON CONFLICT (user_id, event_id, kind) DO NOTHING")
                    .bind(actor.id).bind(event_id).bind(reaction.code()).bind(now).execute(pool).await?;
            } else {
                sqlx::query("DELETE FROM reactions WHERE user_id = $1 AND event_id = $2 AND kind = $3")
                    .bind(actor.id).bind(event_id).bind(reaction.code()).execute(pool).await?;
            }
            Ok::<_, sqlx::Error>(())
        }.await)
        .map_err(internal)
    }

    async fn mark_paid(&self, actor: &UserView, id: RegistrationId) -> Result<(), AppError> {
        crate::door::mark_paid(&self.db, actor, id).await
    }

    async fn check_in(
        &self,
        actor: &UserView,
        event_id: i64,
        code: &str,
    ) -> Result<CheckIn, AppError> {
        crate::door::check_in(&self.db, &self.keys, actor, event_id, code).await
    }
}

impl Bookings {
    /// One registration for its holder, the event's organizer or an admin; QR codes are drawn
    /// only when a page shows them (`with_qr`), API answers carry the token text.
    pub async fn registration(
        &self,
        actor: &UserView,
        id: RegistrationId,
        with_qr: bool,
    ) -> Result<Registration, AppError> {
        match self.load(id, with_qr).await? {
            Some((registration, organizer)) if may_see(actor, registration.user_id, organizer) => {
                Ok(registration)
            }
            _ => Err(AppError::NotFound),
        }
    }

    /// The actor's registrations with their events, soonest event first.
    pub async fn registrations_of(
        &self,
        actor: &UserView,
        with_qr: bool,
    ) -> Result<Vec<MyRegistration>, AppError> {
        let ids: Vec<(i64,)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT r.id FROM registrations r JOIN events e ON e.id = r.event_id WHERE r.user_id = $1 \
             ORDER BY e.starts_at, r.id LIMIT 500")
            .bind(actor.id).fetch_all(pool).await)
        .map_err(internal)?;
        let mut mine = Vec::with_capacity(ids.len());
        for (id,) in ids {
            if let Some((registration, _)) = self.load(id, with_qr).await? {
                let event = self
                    .events
                    .get_event(Some(actor), registration.event_id)
                    .await?
                    .item;
                mine.push(MyRegistration {
                    registration,
                    event,
                });
            }
        }
        Ok(mine)
    }

    async fn marked(
        &self,
        actor: &UserView,
        kind: Reaction,
    ) -> Result<Vec<app::events::EventListItem>, AppError> {
        let ids: Vec<(i64,)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT event_id FROM reactions WHERE user_id = $1 AND kind = $2 ORDER BY created_at DESC LIMIT 200")
            .bind(actor.id).bind(kind.code()).fetch_all(pool).await)
        .map_err(internal)?;
        let mut events = Vec::with_capacity(ids.len());
        for (id,) in ids {
            match self.events.get_event(Some(actor), id).await {
                Ok(detail) => events.push(detail.item),
                Err(AppError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(events)
    }
}

#[async_trait::async_trait]
impl BookingQueries for Bookings {
    async fn my_reactions(&self, actor: &UserView) -> Result<MyReactions, AppError> {
        Ok(MyReactions {
            likes: self.marked(actor, Reaction::Like).await?,
            saves: self.marked(actor, Reaction::Save).await?,
        })
    }

    async fn reactions_on(
        &self,
        actor: &UserView,
        event_id: i64,
    ) -> Result<Vec<Reaction>, AppError> {
        let kinds: Vec<(String,)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT kind FROM reactions WHERE user_id = $1 AND event_id = $2")
            .bind(actor.id).bind(event_id).fetch_all(pool).await)
        .map_err(internal)?;
        Ok(kinds
            .iter()
            .filter_map(|(k,)| Reaction::from_code(k))
            .collect())
    }

    async fn all_marks(&self, actor: &UserView) -> Result<Vec<(i64, Reaction)>, AppError> {
        let rows: Vec<(i64, String)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT event_id, kind FROM reactions WHERE user_id = $1 ORDER BY created_at DESC LIMIT 5000")
            .bind(actor.id).fetch_all(pool).await)
        .map_err(internal)?;
        Ok(rows
            .into_iter()
            .filter_map(|(event, kind)| Reaction::from_code(&kind).map(|k| (event, k)))
            .collect())
    }

    async fn attendees(
        &self,
        actor: &UserView,
        event_id: i64,
        search: AttendeeSearch,
    ) -> Result<AttendeePage, AppError> {
        crate::door::attendees(&self.db, actor, event_id, search).await
    }

    async fn door_count(
        &self,
        actor: &UserView,
        event_id: i64,
    ) -> Result<app::bookings::DoorCount, AppError> {
        crate::door::door_count(&self.db, actor, event_id).await
    }

    async fn find_ticket(
        &self,
        actor: &UserView,
        event_id: i64,
        code: &str,
    ) -> Result<Option<app::bookings::ScannedTicket>, AppError> {
        crate::door::find_ticket(&self.db, actor, event_id, code).await
    }

    async fn get_registration(
        &self,
        actor: &UserView,
        id: RegistrationId,
    ) -> Result<Registration, AppError> {
        self.registration(actor, id, true).await
    }

    async fn my_registrations(&self, actor: &UserView) -> Result<Vec<MyRegistration>, AppError> {
        self.registrations_of(actor, true).await
    }

    async fn my_notices(&self, actor: &UserView) -> Result<Vec<Notice>, AppError> {
        type Row = (
            String,
            Option<i64>,
            Option<String>,
            Option<String>,
            String,
            DateTime<Utc>,
        );
        let rows: Vec<Row> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT n.kind, n.event_id, e.title, e.timezone, n.detail, n.created_at FROM notices n \
             LEFT JOIN events e ON e.id = n.event_id WHERE n.user_id = $1 ORDER BY n.created_at DESC, n.id DESC LIMIT 20")
            .bind(actor.id).fetch_all(pool).await)
        .map_err(internal)?;
        Ok(rows
            .into_iter()
            .map(
                |(kind, event_id, event_title, timezone, detail, created_at)| {
                    let zone = timezone
                        .and_then(|z| z.parse::<chrono_tz::Tz>().ok())
                        .unwrap_or(chrono_tz::UTC);
                    Notice {
                        kind,
                        event_id,
                        event_title,
                        detail,
                        created_local: created_at.with_timezone(&zone).naive_local(),
                        timezone: zone.name().to_owned(),
                        created_at,
                    }
                },
            )
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_carry_128_random_bits_and_tokens_verify_only_for_their_event() {
        let code = new_code();
        assert_eq!(code.len(), 26);
        assert_ne!(code, new_code());
        let keys = TicketKeys::new("secret-one");
        let token = keys.token(7, &code);
        assert_eq!(keys.verify(7, &token), Some(code.clone()));
        assert_eq!(keys.verify(8, &token), None);
        assert_eq!(TicketKeys::new("secret-two").verify(7, &token), None);
        assert_eq!(keys.verify(7, &code), None);
    }
}
