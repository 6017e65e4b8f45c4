//! The organizer's side of bookings: the attendee list (search, pages, CSV), marking a
//! registration paid at the venue, and checking tickets in at the door.
//!
//! Check-in is one conditional update (`… WHERE checked_in_at IS NULL`): of several doors
//! scanning the same code at once, exactly one changes the row, and the others read back who
//! was first and when.
use super::tickets::TicketKeys;
use crate::db::{Db, now};
use crate::error::StoreResult;
use crate::outbox::{DomainEvent, EventType};
use crate::sql::Sql;
use app::auth::UserView;
use app::bookings::{
    ATTENDEES_PER_PAGE, Attendee, AttendeePage, AttendeeSearch, AttendeeTicket, CheckIn, DoorCount,
    Payment, RegistrationId, RegistrationStatus, ScannedTicket, TicketStatus,
};
use app::error::{AppError, Problem};
use app::events::EventId;
use app::events::rules::can_manage;
use app::ssr::internal;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// The title of an event the actor may manage; `NotFound` for anyone else.
async fn managed_event(db: &Db, actor: &UserView, event_id: EventId) -> StoreResult<String> {
    let row: Option<(i64, String)> = db
        .fetch_optional(
            Sql::new("SELECT organizer_id, title FROM events WHERE id = $1").arg(event_id),
        )
        .await?;
    match row {
        Some((organizer, title)) if can_manage(actor, organizer.into()) => Ok(title),
        _ => Err(AppError::NotFound.into()),
    }
}

/// The code inside what a door read: the QR token (`CODE.SIGNATURE`) or a code typed by hand,
/// in any case, with spaces or dashes people add when reading it out.
fn code_of(input: &str) -> (String, Option<&str>) {
    let (code, signature) = match input.trim().split_once('.') {
        Some((code, signature)) => (code, Some(signature)),
        None => (input.trim(), None),
    };
    let code = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_ascii_uppercase();
    (code, signature)
}

#[derive(sqlx::FromRow)]
struct AttendeeRow {
    id: i64,
    user_id: i64,
    name: String,
    email: String,
    ticket_type_name: String,
    quantity: i64,
    status: String,
    payment: String,
    created_at: DateTime<Utc>,
    position: Option<i64>,
}

/// The filter of the attendee list: a name, an email or a ticket code.
fn attendee_filter(event_id: EventId, q: &str) -> Sql {
    let mut sql = Sql::new(
        " FROM registrations r JOIN users u ON u.id = r.user_id JOIN ticket_types t ON t.id = r.ticket_type_id \
         WHERE r.event_id = ",
    );
    sql.bind(event_id);
    let q = q.trim();
    if !q.is_empty() {
        let pattern = crate::sql::like_contains(q);
        sql.push(" AND (lower(u.display_name) LIKE ")
            .bind(pattern.clone())
            .push(" ESCAPE '\\' OR lower(u.email) LIKE ")
            .bind(pattern)
            .push(" ESCAPE '\\' OR EXISTS (SELECT 1 FROM tickets k WHERE k.registration_id = r.id AND k.code = ")
            .bind(code_of(q).0)
            .push("))");
    }
    sql
}

pub async fn attendees(
    db: &Db,
    actor: &UserView,
    event_id: EventId,
    search: AttendeeSearch,
) -> StoreResult<AttendeePage> {
    let door = door_count(db, actor, event_id).await?;
    let filter = attendee_filter(event_id, &search.q);
    let mut rows = Sql::new(
        "SELECT r.id, r.user_id, u.display_name AS name, u.email, t.name AS ticket_type_name, r.quantity, \
         r.status, r.payment, r.created_at, \
         CASE WHEN r.waitlist_seq IS NULL THEN NULL ELSE \
           (SELECT COUNT(*) FROM registrations w WHERE w.event_id = r.event_id AND w.waitlist_seq <= r.waitlist_seq) END AS position",
    );
    rows.append(&filter).push(
        " ORDER BY CASE r.status WHEN 'confirmed' THEN 0 WHEN 'waitlisted' THEN 1 ELSE 2 END, r.waitlist_seq, r.id",
    );
    let (page, per_page) = match search.page {
        Some(page) => {
            let page = page.max(1);
            rows.push(" LIMIT ")
                .bind(i64::from(ATTENDEES_PER_PAGE))
                .push(" OFFSET ")
                .bind(i64::from((page - 1) * ATTENDEES_PER_PAGE));
            (page, ATTENDEES_PER_PAGE)
        }
        None => (1, u32::MAX),
    };
    let mut count = Sql::new("SELECT COUNT(*)");
    count.append(&filter);
    let found: Vec<AttendeeRow> = db.fetch_all(rows).await?;
    let total: i64 = db.scalar(count).await?;
    let mut tickets_of =
        tickets_of(db, &found.iter().map(|r| r.id.into()).collect::<Vec<_>>()).await?;
    let items = found
        .into_iter()
        .map(|row| {
            Ok(Attendee {
                registration_id: row.id.into(),
                user_id: row.user_id.into(),
                name: row.name,
                email: row.email,
                ticket_type_name: row.ticket_type_name,
                quantity: row.quantity,
                status: RegistrationStatus::from_code(&row.status)
                    .ok_or_else(|| internal("unknown registration status"))?,
                waitlist_position: row.position,
                payment: Payment::from_code(&row.payment)
                    .ok_or_else(|| internal("unknown payment"))?,
                created_at: row.created_at,
                tickets: tickets_of.remove(&row.id.into()).unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok(AttendeePage {
        door,
        items,
        total,
        page,
        per_page,
    })
}

/// The event's title and its valid and checked-in tickets, for its organizer or an admin.
pub async fn door_count(db: &Db, actor: &UserView, event_id: EventId) -> StoreResult<DoorCount> {
    let event_title = managed_event(db, actor, event_id).await?;
    let (tickets, checked_in): (i64, i64) = db
        .fetch_one(
            Sql::new(
                "SELECT COUNT(*), COUNT(checked_in_at) FROM tickets WHERE event_id = $1 AND status = 'valid'",
            )
            .arg(event_id),
        )
        .await?;
    Ok(DoorCount {
        event_id,
        event_title,
        tickets,
        checked_in,
    })
}

/// The tickets of some registrations, in one query.
async fn tickets_of(
    db: &Db,
    registrations: &[RegistrationId],
) -> StoreResult<HashMap<RegistrationId, Vec<AttendeeTicket>>> {
    let mut by_registration: HashMap<RegistrationId, Vec<AttendeeTicket>> = HashMap::new();
    for chunk in registrations.chunks(500) {
        let mut sql = Sql::new(
            "SELECT registration_id, code, status, checked_in_at FROM tickets WHERE registration_id IN (",
        );
        for (i, id) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(*id);
        }
        sql.push(") ORDER BY id");
        type Row = (i64, String, String, Option<DateTime<Utc>>);
        let rows: Vec<Row> = db.fetch_all(sql).await?;
        for (registration, code, status, checked_in_at) in rows {
            by_registration
                .entry(registration.into())
                .or_default()
                .push(AttendeeTicket {
                    code,
                    status: ticket_status(&status),
                    checked_in_at,
                });
        }
    }
    Ok(by_registration)
}

fn ticket_status(code: &str) -> TicketStatus {
    if code == "valid" {
        TicketStatus::Valid
    } else {
        TicketStatus::Cancelled
    }
}

pub async fn mark_paid(db: &Db, actor: &UserView, id: RegistrationId) -> StoreResult<()> {
    let row: Option<(i64, String, String)> = db
        .fetch_optional(
            Sql::new(
                "SELECT e.organizer_id, r.status, r.payment FROM registrations r \
                 JOIN events e ON e.id = r.event_id WHERE r.id = $1",
            )
            .arg(id),
        )
        .await?;
    let Some((_, status, payment)) =
        row.filter(|(organizer, ..)| can_manage(actor, (*organizer).into()))
    else {
        return Err(AppError::NotFound.into());
    };
    let wrong = |field: &str, status: String| AppError::Conflict {
        field: field.into(),
        problem: Problem::WrongStatus { status },
    };
    if status != "confirmed" {
        return Err(wrong("status", status).into());
    }
    match payment.as_str() {
        "paid" => return Ok(()),
        "free" => return Err(wrong("payment", payment).into()),
        _ => {}
    }
    // Conditional, so a registration cancelled a moment ago is not marked paid.
    let changed = db
        .execute(
            Sql::new(
                "UPDATE registrations SET payment = 'paid' WHERE id = $1 AND status = 'confirmed' \
                 AND payment = 'unpaid'",
            )
            .arg(id),
        )
        .await?;
    if changed == 0 {
        return Err(wrong("status", "cancelled".into()).into());
    }
    tracing::info!(registration = %id, actor = %actor.id, "marked paid");
    Ok(())
}

#[derive(sqlx::FromRow)]
struct ScanRow {
    code: String,
    event_id: i64,
    status: String,
    checked_in_at: Option<DateTime<Utc>>,
    checked_in_by: Option<String>,
    timezone: String,
    registration_id: i64,
    attendee_id: i64,
    attendee_name: String,
    attendee_email: String,
    ticket_type_name: String,
}

impl ScanRow {
    fn into_ticket(self) -> ScannedTicket {
        ScannedTicket {
            code: self.code,
            registration_id: self.registration_id.into(),
            attendee_id: self.attendee_id.into(),
            attendee_name: self.attendee_name,
            attendee_email: self.attendee_email,
            ticket_type_name: self.ticket_type_name,
            checked_in_local: self.checked_in_at.map(|at| {
                match self.timezone.parse::<chrono_tz::Tz>() {
                    Ok(zone) => at.with_timezone(&zone).naive_local(),
                    Err(_) => at.naive_utc(),
                }
            }),
            checked_in_at: self.checked_in_at,
            checked_in_by: self.checked_in_by,
        }
    }
}

/// A ticket by its code, with its holder and who checked it in.
async fn scan_row(db: &Db, code: &str) -> StoreResult<Option<ScanRow>> {
    Ok(db.fetch_optional(Sql::new(
        "SELECT k.code, k.event_id, k.status, k.checked_in_at, b.display_name AS checked_in_by, e.timezone, \
         r.id AS registration_id, u.id AS attendee_id, u.display_name AS attendee_name, u.email AS attendee_email, \
         t.name AS ticket_type_name \
         FROM tickets k JOIN registrations r ON r.id = k.registration_id JOIN users u ON u.id = r.user_id \
         JOIN ticket_types t ON t.id = r.ticket_type_id JOIN events e ON e.id = k.event_id \
         LEFT JOIN users b ON b.id = k.checked_in_by WHERE k.code = $1").arg(code)).await?)
}

pub async fn find_ticket(
    db: &Db,
    actor: &UserView,
    event_id: EventId,
    input: &str,
) -> StoreResult<Option<ScannedTicket>> {
    managed_event(db, actor, event_id).await?;
    let (code, _) = code_of(input);
    Ok(scan_row(db, &code)
        .await?
        .filter(|row| row.event_id == event_id.get())
        .map(ScanRow::into_ticket))
}

pub async fn check_in(
    db: &Db,
    keys: &TicketKeys,
    actor: &UserView,
    event_id: EventId,
    input: &str,
) -> StoreResult<CheckIn> {
    managed_event(db, actor, event_id).await?;
    let (code, signature) = code_of(input);
    if code.is_empty() {
        return Err(AppError::field("code", Problem::Required).into());
    }
    if code.len() > 64 {
        return Err(AppError::field("code", Problem::TooLong { max: 64 }).into());
    }
    // A scanned token must carry this event's signature; a typed code is looked up as it is.
    let signed_here = signature.is_none_or(|s| {
        keys.verify(event_id.into(), &format!("{code}.{s}"))
            .is_some()
    });
    let admitted = signed_here && admit(db, actor, event_id, &code).await?;
    let Some(row) = scan_row(db, &code).await? else {
        return Ok(CheckIn::Unknown);
    };
    if row.event_id != event_id.get() {
        return Ok(CheckIn::OtherEvent);
    }
    if !signed_here {
        return Ok(CheckIn::Unknown);
    }
    let cancelled = row.status != "valid";
    let ticket = row.into_ticket();
    Ok(if admitted {
        tracing::info!(
            event_id = %event_id,
            registration = %ticket.registration_id,
            door = %actor.id,
            "checked in"
        );
        CheckIn::Admitted(ticket)
    } else if cancelled {
        CheckIn::Cancelled(ticket)
    } else {
        CheckIn::AlreadyCheckedIn(ticket)
    })
}

/// Marks the ticket checked in, once, and writes its domain event in the same transaction.
async fn admit(db: &Db, actor: &UserView, event_id: EventId, code: &str) -> StoreResult<bool> {
    let now = now();
    let mut tx = db.begin_write().await?;
    let admitted: Option<(i64,)> = tx
        .fetch_optional(
            Sql::new(
                "UPDATE tickets SET checked_in_at = $1, checked_in_by = $2 \
                 WHERE code = $3 AND event_id = $4 AND status = 'valid' AND checked_in_at IS NULL \
                 RETURNING registration_id",
            )
            .arg(now)
            .arg(actor.id)
            .arg(code)
            .arg(event_id),
        )
        .await?;
    if let Some((registration_id,)) = admitted {
        let event = DomainEvent::new(
            EventType::TicketCheckedIn,
            event_id,
            serde_json::json!({"registration_id": registration_id, "checked_in_at": now}),
            now,
        );
        crate::outbox::publish(&mut tx, &[event], Vec::new(), now).await?;
    }
    tx.commit().await?;
    Ok(admitted.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_from_tokens_and_from_hand_typed_text() {
        assert_eq!(code_of(" abcd-efgh.SIG "), ("ABCDEFGH".into(), Some("SIG")));
        assert_eq!(code_of("ab cd"), ("ABCD".into(), None));
    }
}
