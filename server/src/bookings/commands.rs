//! The booking commands as they run inside the writer's transaction: book, cancel, and what
//! they share (taking seats, issuing tickets, promoting the waitlist, leaving a notice). Each
//! is a plain `async fn(tx: &mut Tx<'_>, …)`. A refusal (`StoreError::App`) is decided before
//! the command writes anything, or what it wrote is undone at once, so a refused command leaves
//! the transaction as it found it; a database error fails the whole batch.
use super::tickets::new_code;
use crate::db::Tx;
use crate::error::StoreResult;
use crate::outbox::{DomainEvent, EventType};
use crate::sql::Sql;
use app::auth::{UserId, UserView};
use app::bookings::rules::{Window, check_cancel, check_open, check_quantity};
use app::bookings::{NewRegistration, Payment, RegistrationId, RegistrationStatus};
use app::error::{AppError, Problem};
use app::events::{EventId, EventStatus, TicketTypeId};
use chrono::{DateTime, Utc};

/// What a booking wrote: everything its answer needs, so the answer costs no read after the
/// commit.
pub struct Booked {
    pub id: RegistrationId,
    pub event_id: EventId,
    pub ticket_type_id: TicketTypeId,
    pub ticket_type_name: String,
    pub user_id: UserId,
    pub quantity: i64,
    pub status: RegistrationStatus,
    pub waitlist_position: Option<i64>,
    pub payment: Payment,
    pub codes: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// The guard columns of an event, read under its lock.
#[derive(sqlx::FromRow)]
struct EventLock {
    #[sqlx(try_from = "i64")]
    organizer_id: UserId,
    status: String,
    starts_at: DateTime<Utc>,
    max_seats_per_user: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct TypeRow {
    #[sqlx(try_from = "i64")]
    id: TicketTypeId,
    #[sqlx(try_from = "i64")]
    event_id: EventId,
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
    #[sqlx(try_from = "i64")]
    id: RegistrationId,
    #[sqlx(try_from = "i64")]
    event_id: EventId,
    #[sqlx(try_from = "i64")]
    ticket_type_id: TicketTypeId,
    #[sqlx(try_from = "i64")]
    user_id: UserId,
    quantity: i64,
}

#[derive(sqlx::FromRow)]
struct WaitingRow {
    #[sqlx(try_from = "i64")]
    id: RegistrationId,
    #[sqlx(try_from = "i64")]
    ticket_type_id: TicketTypeId,
    #[sqlx(try_from = "i64")]
    user_id: UserId,
    quantity: i64,
}

fn ticket_type(id: TicketTypeId) -> Sql {
    Sql::new(
        "SELECT id, event_id, name, price_amount, quantity, seats_confirmed, max_per_registration, \
         sales_start, sales_end FROM ticket_types WHERE id = $1",
    )
    .arg(id)
}

/// The event's guard columns, its row locked until the commit.
async fn lock_event(tx: &mut Tx<'_>, id: EventId) -> StoreResult<Option<EventLock>> {
    let sql = format!(
        "SELECT organizer_id, status, starts_at, max_seats_per_user FROM events WHERE id = $1{}",
        tx.row_lock()
    );
    Ok(tx.fetch_optional(Sql::new(&sql).arg(id)).await?)
}

fn payment_for(price_amount: i64) -> Payment {
    if price_amount == 0 {
        Payment::Free
    } else {
        Payment::Unpaid
    }
}

/// What [`register_once`] did.
pub enum Registered {
    Booked(Booked),
    /// The request's idempotency key was used before, for the same booking: this is the
    /// registration that booking made; nothing was written.
    Replayed(RegistrationId),
}

/// Keys older than this are forgotten: their booking may be made again.
pub const IDEMPOTENCY_WINDOW: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// Books like [`register`], once per idempotency key: the key is claimed by the same
/// transaction that books (one upsert, which waits for a concurrent claim of the same key on
/// PostgreSQL), so a retry after a lost answer, even one racing the first request in another
/// process, finds the first booking instead of making a second. The same key for a different
/// booking is refused; a refused booking gives its key back.
pub async fn register_once(
    tx: &mut Tx<'_>,
    actor: &UserView,
    new: &NewRegistration,
    now: DateTime<Utc>,
) -> StoreResult<Registered> {
    let Some(key) = &new.idempotency_key else {
        return register(tx, actor, new, now).await.map(Registered::Booked);
    };
    let fingerprint = format!("{}:{}:{}", new.event_id, new.ticket_type_id, new.quantity);
    let claimed = tx
        .execute(
            Sql::new(
                "INSERT INTO idempotency_keys (user_id, key, fingerprint, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (user_id, key) DO UPDATE SET fingerprint = excluded.fingerprint, \
                 registration_id = NULL, created_at = excluded.created_at \
                 WHERE idempotency_keys.created_at < $5",
            )
            .arg(actor.id)
            .arg(key.as_str())
            .arg(&fingerprint)
            .arg(now)
            .arg(now - IDEMPOTENCY_WINDOW),
        )
        .await?
        == 1;
    if !claimed {
        let (first, registration): (String, Option<i64>) = tx
            .fetch_one(
                Sql::new(
                    "SELECT fingerprint, registration_id FROM idempotency_keys WHERE user_id = $1 AND key = $2",
                )
                .arg(actor.id)
                .arg(key.as_str()),
            )
            .await?;
        if first != fingerprint {
            return Err(AppError::field("Idempotency-Key", Problem::IdempotencyKeyReused).into());
        }
        // A claim is only ever committed together with its registration.
        let id = registration.ok_or(sqlx::Error::RowNotFound)?;
        return Ok(Registered::Replayed(id.into()));
    }
    let forget = Sql::new("DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2")
        .arg(actor.id)
        .arg(key.as_str());
    match register(tx, actor, new, now).await {
        Ok(booked) => {
            tx.execute(
                Sql::new(
                    "UPDATE idempotency_keys SET registration_id = $1 WHERE user_id = $2 AND key = $3",
                )
                .arg(booked.id)
                .arg(actor.id)
                .arg(key.as_str()),
            )
            .await?;
            Ok(Registered::Booked(booked))
        }
        Err(refused @ crate::error::StoreError::App(_)) => {
            tx.execute(forget).await?;
            Err(refused)
        }
        Err(error) => Err(error),
    }
}

/// Books seats: confirmed with tickets when seats allow and nobody waits ahead, otherwise a
/// place on the waitlist; refused when the event or ticket type is not open or the quantity is
/// out of bounds.
pub async fn register(
    tx: &mut Tx<'_>,
    actor: &UserView,
    new: &NewRegistration,
    now: DateTime<Utc>,
) -> StoreResult<Booked> {
    // The common case in four statements: an open event nobody waits for and without a cap
    // per person, seats in both
    // counters, a type on sale (the conditions of the checks below, written into the updates).
    if let Some(booked) = fast_booking(tx, actor, new, now).await? {
        return Ok(booked);
    }
    let event = lock_event(tx, new.event_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let status = EventStatus::from_code(&event.status)
        .ok_or_else(|| sqlx::Error::Decode("event status".into()))?;
    // A draft does not exist for anyone but its organizer.
    if status == EventStatus::Draft && !app::events::rules::can_manage(actor, event.organizer_id) {
        return Err(AppError::NotFound.into());
    }
    let tt = tx
        .fetch_optional::<TypeRow>(ticket_type(new.ticket_type_id))
        .await?
        .filter(|t| t.event_id == new.event_id)
        .ok_or_else(|| AppError::field("ticket_type_id", Problem::Required))?;
    let window = Window {
        status,
        starts_at: event.starts_at,
        sales_start: tt.sales_start,
        sales_end: tt.sales_end,
    };
    check_open(&window, now)?;
    check_quantity(new.quantity, tt.max_per_registration)?;
    if let Some(max) = event.max_seats_per_user {
        let held: i64 = tx
            .scalar(
                Sql::new(
                    "SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) FROM registrations \
                     WHERE event_id = $1 AND user_id = $2 AND status <> 'cancelled'",
                )
                .arg(new.event_id)
                .arg(actor.id),
            )
            .await?;
        if held + new.quantity > max {
            return Err(AppError::field("quantity", Problem::SeatsPerUser { max, held }).into());
        }
    }
    // Nobody overtakes: a group waiting for this ticket type, or one whose type has room but
    // waits for the event's seats, keeps newcomers out.
    let ahead: Option<i64> = tx
        .scalar_optional(
            Sql::new(
                "SELECT r.id FROM registrations r JOIN ticket_types t ON t.id = r.ticket_type_id \
                 WHERE r.event_id = $1 AND r.status = 'waitlisted' \
                 AND (r.ticket_type_id = $2 OR t.seats_confirmed + r.quantity <= t.quantity) LIMIT 1",
            )
            .arg(new.event_id)
            .arg(tt.id),
        )
        .await?;
    let payment = payment_for(tt.price_amount);
    let seated = ahead.is_none() && take_seats(tx, new.event_id, tt.id, new.quantity).await?;
    let mut booked = Booked {
        id: 0.into(),
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
        booked.id = insert_confirmed(tx, actor, new, payment, now).await?;
        booked.codes = issue_tickets(tx, booked.id, new.event_id, new.quantity).await?;
    } else {
        let seq: i64 = tx
            .scalar(
                Sql::new(
                    "UPDATE events SET waitlist_next = waitlist_next + 1, \
                     seats_waitlisted = seats_waitlisted + $2 WHERE id = $1 RETURNING waitlist_next",
                )
                .arg(new.event_id)
                .arg(new.quantity),
            )
            .await?;
        booked.id = tx
            .scalar::<i64>(
                Sql::new(
                    "INSERT INTO registrations (event_id, ticket_type_id, user_id, quantity, status, \
                     waitlist_seq, payment, created_at) VALUES ($1, $2, $3, $4, 'waitlisted', $5, $6, $7) RETURNING id",
                )
                .arg(new.event_id)
                .arg(tt.id)
                .arg(actor.id)
                .arg(new.quantity)
                .arg(seq)
                .arg(payment.code())
                .arg(now),
            )
            .await?
            .into();
        booked.status = RegistrationStatus::Waitlisted;
        booked.waitlist_position = Some(
            tx.scalar(
                Sql::new(
                    "SELECT COUNT(*) FROM registrations WHERE event_id = $1 AND waitlist_seq <= $2",
                )
                .arg(new.event_id)
                .arg(seq),
            )
            .await?,
        );
    }
    Ok(booked)
}

async fn insert_confirmed(
    tx: &mut Tx<'_>,
    actor: &UserView,
    new: &NewRegistration,
    payment: Payment,
    now: DateTime<Utc>,
) -> StoreResult<RegistrationId> {
    Ok(tx
        .scalar::<i64>(
            Sql::new(
                "INSERT INTO registrations (event_id, ticket_type_id, user_id, quantity, status, \
                 payment, created_at, confirmed_at) VALUES ($1, $2, $3, $4, 'confirmed', $5, $6, $6) RETURNING id",
            )
            .arg(new.event_id)
            .arg(new.ticket_type_id)
            .arg(actor.id)
            .arg(new.quantity)
            .arg(payment.code())
            .arg(now),
        )
        .await?
        .into())
}

/// The common booking as conditional updates: seats taken from an open event with nobody
/// waiting and from a ticket type on sale, the registration and its tickets written. `None`,
/// having changed nothing, when any condition fails; [`register`] then finds out which and
/// answers with the reason (or the waitlist).
async fn fast_booking(
    tx: &mut Tx<'_>,
    actor: &UserView,
    new: &NewRegistration,
    now: DateTime<Utc>,
) -> StoreResult<Option<Booked>> {
    let event_taken = tx
        .execute(
            Sql::new(
                "UPDATE events SET seats_confirmed = seats_confirmed + $2 WHERE id = $1 AND status = 'published' \
                 AND starts_at > $3 AND seats_waitlisted = 0 AND seats_confirmed + $2 <= capacity \
                 AND max_seats_per_user IS NULL",
            )
            .arg(new.event_id)
            .arg(new.quantity)
            .arg(now),
        )
        .await?
        == 1;
    if !event_taken {
        return Ok(None);
    }
    let taken: Option<(String, i64)> = tx
        .fetch_optional(
            Sql::new(
                "UPDATE ticket_types SET seats_confirmed = seats_confirmed + $2 WHERE id = $1 AND event_id = $3 \
                 AND seats_confirmed + $2 <= quantity AND $2 >= 1 AND $2 <= max_per_registration \
                 AND (sales_start IS NULL OR sales_start <= $4) AND (sales_end IS NULL OR sales_end > $4) \
                 RETURNING name, price_amount",
            )
            .arg(new.ticket_type_id)
            .arg(new.quantity)
            .arg(new.event_id)
            .arg(now),
        )
        .await?;
    let Some((name, price)) = taken else {
        give_back_event_seats(tx, new.event_id, new.quantity).await?;
        return Ok(None);
    };
    let payment = payment_for(price);
    let id = insert_confirmed(tx, actor, new, payment, now).await?;
    let codes = issue_tickets(tx, id, new.event_id, new.quantity).await?;
    Ok(Some(Booked {
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
    }))
}

async fn give_back_event_seats(tx: &mut Tx<'_>, event_id: EventId, n: i64) -> StoreResult<()> {
    tx.execute(
        Sql::new("UPDATE events SET seats_confirmed = seats_confirmed - $2 WHERE id = $1")
            .arg(event_id)
            .arg(n),
    )
    .await?;
    Ok(())
}

/// Takes `n` seats of a ticket type and of its event if both have them; answers whether it
/// did. Conditional updates: the check and the change are one statement.
async fn take_seats(
    tx: &mut Tx<'_>,
    event_id: EventId,
    type_id: TicketTypeId,
    n: i64,
) -> StoreResult<bool> {
    let event_ok = tx
        .execute(
            Sql::new(
                "UPDATE events SET seats_confirmed = seats_confirmed + $2 WHERE id = $1 \
                 AND seats_confirmed + $2 <= capacity",
            )
            .arg(event_id)
            .arg(n),
        )
        .await?
        == 1;
    if !event_ok {
        return Ok(false);
    }
    let type_ok = tx
        .execute(
            Sql::new(
                "UPDATE ticket_types SET seats_confirmed = seats_confirmed + $2 WHERE id = $1 \
                 AND seats_confirmed + $2 <= quantity",
            )
            .arg(type_id)
            .arg(n),
        )
        .await?
        == 1;
    if !type_ok {
        give_back_event_seats(tx, event_id, n).await?;
    }
    Ok(type_ok)
}

/// One ticket per seat of a confirmed registration, in one statement; answers the codes.
async fn issue_tickets(
    tx: &mut Tx<'_>,
    registration_id: RegistrationId,
    event_id: EventId,
    n: i64,
) -> StoreResult<Vec<String>> {
    let codes: Vec<String> = (0..n).map(|_| new_code()).collect();
    let mut text =
        String::from("INSERT INTO tickets (registration_id, event_id, code, status) VALUES ");
    for i in 0..codes.len() {
        if i > 0 {
            text.push_str(", ");
        }
        text.push_str(&format!("($1, $2, ${}, 'valid')", i + 3));
    }
    let mut insert = Sql::new(&text).arg(registration_id).arg(event_id);
    for code in &codes {
        insert = insert.arg(code);
    }
    tx.execute(insert).await?;
    Ok(codes)
}

/// A notice on the user's `/me` page.
pub async fn add_notice(
    tx: &mut Tx<'_>,
    user_id: i64,
    event_id: EventId,
    kind: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    tx.execute(
        Sql::new(
            "INSERT INTO notices (user_id, event_id, kind, created_at) VALUES ($1, $2, $3, $4)",
        )
        .arg(user_id)
        .arg(event_id)
        .arg(kind)
        .arg(now),
    )
    .await?;
    Ok(())
}

/// Cancels a registration for its holder, the event's organizer or an admin, freeing its seats
/// and promoting the waitlist. Answers the event whose seats changed (`None` when it was
/// already cancelled: cancelling twice changes nothing).
pub async fn cancel(
    tx: &mut Tx<'_>,
    actor: &UserView,
    id: RegistrationId,
    now: DateTime<Utc>,
) -> StoreResult<Option<EventId>> {
    let reg: RegRow = tx
        .fetch_optional(
            Sql::new(
                "SELECT id, event_id, ticket_type_id, user_id, quantity FROM registrations WHERE id = $1",
            )
            .arg(id),
        )
        .await?
        .ok_or(AppError::NotFound)?;
    let event = lock_event(tx, reg.event_id)
        .await?
        .ok_or(sqlx::Error::RowNotFound)?;
    // Re-read under the event's lock: another door may have just changed it.
    let status: String = tx
        .scalar(Sql::new("SELECT status FROM registrations WHERE id = $1").arg(reg.id))
        .await?;
    check_cancel(actor, reg.user_id, event.organizer_id, event.starts_at, now)?;
    match status.as_str() {
        "confirmed" => {
            give_back_event_seats(tx, reg.event_id, reg.quantity).await?;
            tx.execute(
                Sql::new(
                    "UPDATE ticket_types SET seats_confirmed = seats_confirmed - $2 WHERE id = $1",
                )
                .arg(reg.ticket_type_id)
                .arg(reg.quantity),
            )
            .await?;
            tx.execute(
                Sql::new("UPDATE tickets SET status = 'cancelled' WHERE registration_id = $1")
                    .arg(reg.id),
            )
            .await?;
        }
        "waitlisted" => {
            tx.execute(
                Sql::new(
                    "UPDATE events SET seats_waitlisted = seats_waitlisted - $2 WHERE id = $1",
                )
                .arg(reg.event_id)
                .arg(reg.quantity),
            )
            .await?;
        }
        _ => return Ok(None),
    }
    tx.execute(
        Sql::new(
            "UPDATE registrations SET status = 'cancelled', waitlist_seq = NULL, cancelled_at = $2, \
             cancelled_by = $3 WHERE id = $1",
        )
        .arg(reg.id)
        .arg(now)
        .arg(actor.id),
    )
    .await?;
    let cancelled = DomainEvent::new(
        EventType::RegistrationCancelled,
        reg.event_id,
        serde_json::json!({
            "registration_id": reg.id.get(),
            "ticket_type_id": reg.ticket_type_id.get(),
            "quantity": reg.quantity,
            "status": "cancelled",
            "by_holder": actor.id == reg.user_id,
        }),
        now,
    );
    let mail = crate::mail::MailJob::RegistrationCancelled {
        registration_id: reg.id.get(),
    };
    crate::outbox::publish(tx, &[cancelled], vec![mail.job(now)], now).await?;
    if actor.id != reg.user_id {
        add_notice(
            tx,
            reg.user_id.into(),
            reg.event_id,
            "registration_cancelled",
            now,
        )
        .await?;
    }
    promote(tx, reg.event_id, now).await?;
    Ok(Some(reg.event_id))
}

/// Confirms waiting groups of an event in arrival order while seats allow. A group whose
/// ticket type is full keeps its place and blocks only later groups of that type; a group that
/// fits its type but not the event's remaining seats stops promotion: the seats are held for it.
pub async fn promote(tx: &mut Tx<'_>, event_id: EventId, now: DateTime<Utc>) -> StoreResult<()> {
    let waiting: Vec<WaitingRow> = tx
        .fetch_all(
            Sql::new(
                "SELECT id, ticket_type_id, user_id, quantity FROM registrations \
                 WHERE event_id = $1 AND status = 'waitlisted' ORDER BY waitlist_seq",
            )
            .arg(event_id),
        )
        .await?;
    let mut blocked_types: Vec<TicketTypeId> = Vec::new();
    for group in waiting {
        if blocked_types.contains(&group.ticket_type_id) {
            continue;
        }
        let tt: TypeRow = tx.fetch_one(ticket_type(group.ticket_type_id)).await?;
        if tt.seats_confirmed + group.quantity > tt.quantity {
            blocked_types.push(group.ticket_type_id);
            continue;
        }
        if !take_seats(tx, event_id, group.ticket_type_id, group.quantity).await? {
            break;
        }
        tx.execute(
            Sql::new(
                "UPDATE registrations SET status = 'confirmed', waitlist_seq = NULL, confirmed_at = $2 \
                 WHERE id = $1",
            )
            .arg(group.id)
            .arg(now),
        )
        .await?;
        tx.execute(
            Sql::new("UPDATE events SET seats_waitlisted = seats_waitlisted - $2 WHERE id = $1")
                .arg(event_id)
                .arg(group.quantity),
        )
        .await?;
        issue_tickets(tx, group.id, event_id, group.quantity).await?;
        let promoted = DomainEvent::new(
            EventType::WaitlistPromoted,
            event_id,
            serde_json::json!({
                "registration_id": group.id.get(),
                "ticket_type_id": group.ticket_type_id.get(),
                "quantity": group.quantity,
                "status": "confirmed",
            }),
            now,
        );
        let mail = crate::mail::MailJob::WaitlistPromoted {
            registration_id: group.id.get(),
        };
        crate::outbox::publish(tx, &[promoted], vec![mail.job(now)], now).await?;
        add_notice(
            tx,
            group.user_id.into(),
            event_id,
            "waitlist_confirmed",
            now,
        )
        .await?;
    }
    Ok(())
}
