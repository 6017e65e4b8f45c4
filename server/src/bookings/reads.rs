//! Reads about registrations: one registration with its tickets and waitlist position, the
//! actor's registrations, likes and saves, and notices.
use super::tickets::TicketKeys;
use crate::db::Db;
use crate::error::StoreResult;
use crate::sql::Sql;
use app::auth::UserView;
use app::bookings::{
    MyRegistration, Notice, Payment, Reaction, Registration, RegistrationId, RegistrationStatus,
    Ticket, TicketStatus,
};
use app::error::AppError;
use app::events::ports::EventQueries;
use app::events::{EventId, EventListItem};
use app::ssr::internal;
use chrono::{DateTime, Utc};

#[derive(sqlx::FromRow)]
struct RegistrationRow {
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

type TicketRow = (String, String, Option<DateTime<Utc>>);

/// Reads a registration with its tickets and waitlist position (no access rule), and the
/// event's organizer. Tickets carry their code and signed token; QR codes are drawn only for
/// the pages that show them (`BookingQueries::ticket_sheet`, `my_tickets`).
pub async fn load(
    db: &Db,
    keys: &TicketKeys,
    id: RegistrationId,
) -> StoreResult<Option<(Registration, i64)>> {
    let Some(row) = db
        .fetch_optional::<RegistrationRow>(
            Sql::new(
                "SELECT r.id, r.event_id, r.ticket_type_id, t.name AS ticket_type_name, r.user_id, r.quantity, \
                 r.status, r.payment, r.created_at, e.organizer_id, \
                 CASE WHEN r.waitlist_seq IS NULL THEN NULL ELSE \
                   (SELECT COUNT(*) FROM registrations w WHERE w.event_id = r.event_id AND w.waitlist_seq <= r.waitlist_seq) END AS position \
                 FROM registrations r JOIN ticket_types t ON t.id = r.ticket_type_id JOIN events e ON e.id = r.event_id \
                 WHERE r.id = $1",
            )
            .arg(id),
        )
        .await?
    else {
        return Ok(None);
    };
    let tickets: Vec<TicketRow> = db
        .fetch_all(
            Sql::new(
                "SELECT code, status, checked_in_at FROM tickets WHERE registration_id = $1 ORDER BY id",
            )
            .arg(id),
        )
        .await?;
    let registration = Registration {
        id: row.id.into(),
        event_id: row.event_id.into(),
        ticket_type_id: row.ticket_type_id.into(),
        ticket_type_name: row.ticket_type_name,
        user_id: row.user_id.into(),
        quantity: row.quantity,
        status: RegistrationStatus::from_code(&row.status)
            .ok_or_else(|| internal("unknown registration status"))?,
        waitlist_position: row.position,
        payment: Payment::from_code(&row.payment).ok_or_else(|| internal("unknown payment"))?,
        tickets: tickets
            .into_iter()
            .map(|(code, status, checked_in_at)| {
                let token = keys.token(row.event_id, &code);
                Ticket {
                    qr_svg: String::new(),
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

/// The ids of the actor's registrations, soonest event first.
pub async fn registration_ids(db: &Db, actor: &UserView) -> StoreResult<Vec<RegistrationId>> {
    Ok(db
        .fetch_all::<(i64,)>(
            Sql::new(
                "SELECT r.id FROM registrations r JOIN events e ON e.id = r.event_id WHERE r.user_id = $1 \
                 ORDER BY e.starts_at, r.id LIMIT 500",
            )
            .arg(actor.id),
        )
        .await?
        .into_iter()
        .map(|(id,)| id.into())
        .collect())
}

/// The actor's registrations with their events, soonest event first.
pub async fn registrations_of(
    db: &Db,
    keys: &TicketKeys,
    events: &dyn EventQueries,
    actor: &UserView,
) -> Result<Vec<MyRegistration>, AppError> {
    let ids = registration_ids(db, actor).await?;
    let mut mine = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some((registration, _)) = load(db, keys, id).await? {
            let event = events
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

async fn marked_ids(db: &Db, actor: &UserView, kind: Reaction) -> StoreResult<Vec<EventId>> {
    let ids: Vec<(i64,)> = db
        .fetch_all(
            Sql::new(
                "SELECT event_id FROM reactions WHERE user_id = $1 AND kind = $2 \
                 ORDER BY created_at DESC LIMIT 200",
            )
            .arg(actor.id)
            .arg(kind.code()),
        )
        .await?;
    Ok(ids.into_iter().map(|(id,)| id.into()).collect())
}

/// The events the actor marked with `kind`, newest mark first (events they may no longer see
/// are left out).
pub async fn marked(
    db: &Db,
    events: &dyn EventQueries,
    actor: &UserView,
    kind: Reaction,
) -> Result<Vec<EventListItem>, AppError> {
    let ids = marked_ids(db, actor, kind).await?;
    let mut found = Vec::with_capacity(ids.len());
    for id in ids {
        match events.get_event(Some(actor), id).await {
            Ok(detail) => found.push(detail.item),
            Err(AppError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(found)
}

/// Which marks the actor has put on one event.
pub async fn reactions_on(
    db: &Db,
    actor: &UserView,
    event_id: EventId,
) -> StoreResult<Vec<Reaction>> {
    let kinds: Vec<(String,)> = db
        .fetch_all(
            Sql::new("SELECT kind FROM reactions WHERE user_id = $1 AND event_id = $2")
                .arg(actor.id)
                .arg(event_id),
        )
        .await?;
    Ok(kinds
        .iter()
        .filter_map(|(k,)| Reaction::from_code(k))
        .collect())
}

/// Every mark the actor has put on any event.
pub async fn all_marks(db: &Db, actor: &UserView) -> StoreResult<Vec<(EventId, Reaction)>> {
    let rows: Vec<(i64, String)> = db
        .fetch_all(
            Sql::new(
                "SELECT event_id, kind FROM reactions WHERE user_id = $1 \
                 ORDER BY created_at DESC LIMIT 5000",
            )
            .arg(actor.id),
        )
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(event, kind)| Reaction::from_code(&kind).map(|k| (event.into(), k)))
        .collect())
}

/// The actor's latest notices, newest first, each with its time on the event's clock.
pub async fn notices(db: &Db, actor: &UserView) -> StoreResult<Vec<Notice>> {
    type Row = (
        String,
        Option<i64>,
        Option<String>,
        Option<String>,
        String,
        DateTime<Utc>,
    );
    let rows: Vec<Row> = db
        .fetch_all(
            Sql::new(
                "SELECT n.kind, n.event_id, e.title, e.timezone, n.detail, n.created_at FROM notices n \
                 LEFT JOIN events e ON e.id = n.event_id WHERE n.user_id = $1 \
                 ORDER BY n.created_at DESC, n.id DESC LIMIT 20",
            )
            .arg(actor.id),
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(kind, event_id, event_title, timezone, detail, created_at)| {
                let zone = timezone
                    .and_then(|z| z.parse::<chrono_tz::Tz>().ok())
                    .unwrap_or(chrono_tz::UTC);
                Notice {
                    kind,
                    event_id: event_id.map(EventId::from),
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
