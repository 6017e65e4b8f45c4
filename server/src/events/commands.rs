//! The organizer's and admin's event commands (`EventCommands`): create, update, publish,
//! unpublish, feature, cancel, delete, replace the image. Each is one transaction with the
//! record rule inside it; administrative changes append to the audit log in the same one.
use super::Events;
use super::rows::{GuardRow, TicketTypeRow, status_of};
use crate::audit;
use crate::db::{Tx, now};
use crate::error::{StoreError, StoreResult};
use crate::images;
use crate::search;
use crate::sql::Sql;
use app::auth::{Role, UserView};
use app::error::{AppError, FieldErrors, Problem};
use app::events::ports::EventCommands;
use app::events::rules::{
    ValidEvent, ValidTicketType, can_manage, check_cancel_reason, validate_event,
};
use app::events::{EventId, EventStatus, NewEvent, UpdateEvent};
use app::ssr::internal;
use chrono::{DateTime, Utc};

fn search_documents(e: &ValidEvent) -> (String, String) {
    search::documents(
        &e.title,
        &e.summary,
        &e.description,
        &e.venue,
        &e.city,
        &e.tags.join(" "),
    )
}

pub(super) fn wrong_status(status: EventStatus) -> AppError {
    AppError::Conflict {
        field: "status".into(),
        problem: Problem::WrongStatus {
            status: status.code().into(),
        },
    }
}

/// Appends the values of an event's columns, title to the seats per person, in table order
/// (the next fourteen placeholders of an insert or an update).
fn event_fields(sql: Sql, event: &ValidEvent) -> Sql {
    sql.arg(&event.title)
        .arg(&event.slug)
        .arg(&event.summary)
        .arg(&event.description)
        .arg(event.category.code())
        .arg(event.tags.join(","))
        .arg(event.starts_at)
        .arg(event.ends_at)
        .arg(&event.timezone)
        .arg(&event.venue)
        .arg(&event.address)
        .arg(&event.city)
        .arg(event.capacity)
        .arg(event.max_seats_per_user)
}

/// The guard columns of an event inside the transaction, with the record rule applied:
/// absent or not the actor's to manage → `NotFound`.
async fn guard(
    tx: &mut Tx<'_>,
    actor: &UserView,
    id: EventId,
) -> StoreResult<(EventStatus, DateTime<Utc>)> {
    let row: Option<GuardRow> = tx.fetch_optional(guard_sql(id)).await?;
    Ok(Events::check_guard(actor, row)?)
}

fn guard_sql(id: EventId) -> Sql {
    Sql::new("SELECT organizer_id, status, starts_at FROM events WHERE id = $1").arg(id)
}

fn insert_ticket_type(event_id: EventId, position: usize, tt: &ValidTicketType) -> Sql {
    Sql::new(
        "INSERT INTO ticket_types \
         (event_id, position, name, price_amount, currency, quantity, max_per_registration, sales_start, sales_end) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .arg(event_id)
    .arg(position as i64)
    .arg(&tt.name)
    .arg(tt.price.amount)
    .arg(&tt.price.currency)
    .arg(tt.quantity)
    .arg(tt.max_per_registration)
    .arg(tt.sales_start)
    .arg(tt.sales_end)
}

/// Keeps the listing columns (`min_price`, `min_currency`, `has_free`) in step with the ticket
/// types, inside the same transaction.
async fn refresh_prices(tx: &mut Tx<'_>, event_id: EventId) -> StoreResult<()> {
    tx.execute(
        Sql::new(
            "UPDATE events SET \
             min_price = (SELECT MIN(t.price_amount) FROM ticket_types t WHERE t.event_id = events.id), \
             min_currency = (SELECT t.currency FROM ticket_types t WHERE t.event_id = events.id \
               ORDER BY t.price_amount, t.position LIMIT 1), \
             has_free = EXISTS (SELECT 1 FROM ticket_types t WHERE t.event_id = events.id AND t.price_amount = 0) \
             WHERE id = $1",
        )
        .arg(event_id),
    )
    .await?;
    Ok(())
}

/// A new event's ticket types, in their order.
async fn insert_ticket_types(
    tx: &mut Tx<'_>,
    event_id: EventId,
    types: &[ValidTicketType],
) -> StoreResult<()> {
    for (position, tt) in types.iter().enumerate() {
        tx.execute(insert_ticket_type(event_id, position, tt))
            .await?;
    }
    refresh_prices(tx, event_id).await
}

/// Replaces an event's ticket types in place, row by row, so bookings keep pointing at their
/// ticket type; types past the new list are deleted (the caller checked they have no bookings).
async fn replace_ticket_types(
    tx: &mut Tx<'_>,
    event_id: EventId,
    current: &[TicketTypeRow],
    types: &[ValidTicketType],
) -> StoreResult<()> {
    for (position, tt) in types.iter().enumerate() {
        let sql = match current.get(position) {
            Some(old) => Sql::new(
                "UPDATE ticket_types SET name = $2, price_amount = $3, currency = $4, quantity = $5, \
                 max_per_registration = $6, sales_start = $7, sales_end = $8 WHERE id = $1",
            )
            .arg(old.id)
            .arg(&tt.name)
            .arg(tt.price.amount)
            .arg(&tt.price.currency)
            .arg(tt.quantity)
            .arg(tt.max_per_registration)
            .arg(tt.sales_start)
            .arg(tt.sales_end),
            None => insert_ticket_type(event_id, position, tt),
        };
        tx.execute(sql).await?;
    }
    for old in current.iter().skip(types.len()) {
        tx.execute(Sql::new("DELETE FROM ticket_types WHERE id = $1").arg(old.id))
            .await?;
    }
    refresh_prices(tx, event_id).await
}

/// Why an edit cannot stand: seats already booked stay booked, so limits cannot drop below
/// them, and a ticket type with bookings cannot be removed.
async fn booked_limits(
    events: &Events,
    event: &ValidEvent,
    booked_seats: i64,
    current_types: &[TicketTypeRow],
    replace_types: bool,
) -> Result<FieldErrors, AppError> {
    let mut errors = FieldErrors::new();
    if event.capacity < booked_seats {
        errors.insert("capacity".into(), Problem::TooSmall { min: booked_seats });
    }
    if replace_types {
        for (i, old) in current_types.iter().enumerate() {
            match event.ticket_types.get(i) {
                Some(tt) if tt.quantity < old.seats_confirmed => {
                    errors.insert(
                        format!("ticket_types[{i}].quantity"),
                        Problem::TooSmall {
                            min: old.seats_confirmed,
                        },
                    );
                }
                None if events.has_registrations(old.id).await? => {
                    errors.insert(format!("ticket_types[{i}].name"), Problem::TicketTypeBooked);
                }
                _ => {}
            }
        }
    }
    Ok(errors)
}

/// Inserts a draft organized by `actor` with its ticket types, under the public `uuid` (given
/// here rather than left to the database's default: SQLite's comes from a trigger).
pub(super) async fn insert_event(
    tx: &mut Tx<'_>,
    actor: &UserView,
    event: &ValidEvent,
    uuid: &str,
    now: DateTime<Utc>,
) -> StoreResult<EventId> {
    let (search_title, search_body) = search_documents(event);
    let id: EventId = tx
        .scalar::<i64>(
            event_fields(
                Sql::new(
                    "INSERT INTO events (organizer_id, title, slug, summary, description, category, tags, \
                     starts_at, ends_at, timezone, venue, address, city, capacity, max_seats_per_user, status, \
                     created_at, updated_at, search_title, search_body, uuid) VALUES ($1, $2, $3, $4, $5, $6, \
                     $7, $8, $9, $10, $11, $12, $13, $14, $15, 'draft', $16, $16, $17, $18, $19) RETURNING id",
                )
                .arg(actor.id),
                event,
            )
            .arg(now)
            .arg(search_title)
            .arg(search_body)
            .arg(uuid),
        )
        .await?
        .into();
    insert_ticket_types(tx, id, &event.ticket_types).await?;
    Ok(id)
}

#[async_trait::async_trait]
impl EventCommands for Events {
    #[tracing::instrument(skip_all, fields(actor = %actor.id))]
    async fn create_event(&self, actor: &UserView, new: NewEvent) -> Result<EventId, AppError> {
        if actor.role < Role::Agent {
            return Err(AppError::Forbidden);
        }
        let event = validate_event(&new).map_err(AppError::Invalid)?;
        let uuid = uuid::Uuid::new_v4().to_string();
        let id = async {
            let mut tx = self.db.begin_write().await?;
            let id = insert_event(&mut tx, actor, &event, &uuid, now()).await?;
            tx.commit().await?;
            Ok::<_, StoreError>(id)
        }
        .await?;
        tracing::info!(event_id = %id, "event created");
        Ok(id)
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id))]
    async fn create_event_async(
        &self,
        actor: &UserView,
        new: NewEvent,
    ) -> Result<app::events::EventCreation, AppError> {
        self.queue_creation(actor, new).await
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id, event_id = %id))]
    async fn update_event(
        &self,
        actor: &UserView,
        id: EventId,
        changes: UpdateEvent,
    ) -> Result<(), AppError> {
        let current = self
            .find(id)
            .await?
            .filter(|r| can_manage(actor, r.organizer_id.into()))
            .ok_or(AppError::NotFound)?;
        let status = status_of(&current.status)?;
        if matches!(status, EventStatus::Cancelled | EventStatus::Completed) {
            return Err(wrong_status(status));
        }
        let current_types = self.ticket_types(id).await?;
        let replace_types = changes.ticket_types.is_some();
        let merged = NewEvent {
            title: changes.title.unwrap_or(current.title),
            summary: changes.summary.unwrap_or(current.summary),
            description: changes.description.unwrap_or(current.description),
            category: changes.category.unwrap_or(current.category),
            tags: changes.tags.unwrap_or_else(|| vec![current.tags]),
            starts_at: changes
                .starts_at
                .unwrap_or_else(|| current.starts_at.to_rfc3339()),
            ends_at: changes
                .ends_at
                .unwrap_or_else(|| current.ends_at.to_rfc3339()),
            timezone: changes.timezone.unwrap_or(current.timezone),
            venue: changes.venue.unwrap_or(current.venue),
            address: changes.address.unwrap_or(current.address),
            city: changes.city.unwrap_or(current.city),
            capacity: changes.capacity.unwrap_or(current.capacity),
            max_seats_per_user: changes
                .max_seats_per_user
                .unwrap_or(current.max_seats_per_user),
            ticket_types: changes
                .ticket_types
                .unwrap_or_else(|| current_types.iter().map(TicketTypeRow::as_new).collect()),
        };
        let event: ValidEvent = validate_event(&merged).map_err(AppError::Invalid)?;
        let errors = booked_limits(
            self,
            &event,
            current.seats_confirmed,
            &current_types,
            replace_types,
        )
        .await?;
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        if status == EventStatus::Published && event.starts_at <= now() {
            return Err(AppError::field("starts_at", Problem::StartsInPast));
        }
        let is_admin = actor.role >= Role::Admin;
        let (search_title, search_body) = search_documents(&event);
        let changed = async {
            // A write transaction from the start: what the event was is read under its lock.
            let mut tx = self.db.begin_write().await?;
            let before = super::notify::Before::read(&mut tx, id).await?;
            let done = tx
                .execute(
                    event_fields(
                        Sql::new(
                            "UPDATE events SET title = $1, slug = $2, summary = $3, description = $4, category = $5, \
                             tags = $6, starts_at = $7, ends_at = $8, timezone = $9, venue = $10, address = $11, \
                             city = $12, capacity = $13, max_seats_per_user = $14, updated_at = $15, search_title = $19, \
                             search_body = $20 WHERE id = $16 AND (organizer_id = $17 OR $18) \
                             AND status IN ('draft', 'published')",
                        ),
                        &event,
                    )
                    .arg(now())
                    .arg(id)
                    .arg(actor.id)
                    .arg(is_admin)
                    .arg(search_title)
                    .arg(search_body),
                )
                .await?;
            if done == 1 && replace_types {
                replace_ticket_types(&mut tx, id, &current_types, &event.ticket_types).await?;
            }
            if let Some(before) = before.filter(|b| done == 1 && b.status == "published") {
                super::notify::changed(&mut tx, id, &before, &event, now()).await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(done == 1)
        }
        .await?;
        if !changed {
            return Err(AppError::NotFound);
        }
        self.seat_changes.changed(&[id]);
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id, event_id = %id))]
    async fn publish_event(&self, actor: &UserView, id: EventId) -> Result<(), AppError> {
        let now = now();
        async {
            let mut tx = self.db.begin_write().await?;
            let (status, starts_at) = guard(&mut tx, actor, id).await?;
            if status != EventStatus::Draft {
                return Err(wrong_status(status).into());
            }
            if starts_at <= now {
                return Err(AppError::field("starts_at", Problem::StartsInPast).into());
            }
            let done = tx
                .execute(
                    Sql::new(
                        "UPDATE events SET status = 'published', published_at = $1, updated_at = $1 \
                         WHERE id = $2 AND status = 'draft'",
                    )
                    .arg(now)
                    .arg(id),
                )
                .await?;
            if done != 1 {
                return Err(wrong_status(EventStatus::Published).into());
            }
            let (title,): (String,) = tx
                .fetch_one(Sql::new("SELECT title FROM events WHERE id = $1").arg(id))
                .await?;
            super::notify::published(&mut tx, id, &title, starts_at, now).await?;
            audit::record(
                &mut tx,
                actor.id,
                "event.publish",
                format!("event:{id}"),
                serde_json::json!({"status": {"before": "draft", "after": "published"}}),
            )
            .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        }
        .await?;
        tracing::info!("event published");
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id, event_id = %id))]
    async fn unpublish_event(&self, actor: &UserView, id: EventId) -> Result<(), AppError> {
        async {
            let mut tx = self.db.begin_write().await?;
            let (status, _) = guard(&mut tx, actor, id).await?;
            if status != EventStatus::Published {
                return Err(wrong_status(status).into());
            }
            // The conditional update takes the write lock first (so no booking slips in
            // between) and refuses when seats are held or wanted.
            let done = tx
                .execute(
                    Sql::new(
                        "UPDATE events SET status = 'draft', published_at = NULL, featured = FALSE, updated_at = $1 \
                         WHERE id = $2 AND status = 'published' AND seats_confirmed = 0 AND seats_waitlisted = 0",
                    )
                    .arg(now())
                    .arg(id),
                )
                .await?;
            if done != 1 {
                return Err(AppError::Conflict {
                    field: "status".into(),
                    problem: Problem::HasBookings,
                }
                .into());
            }
            audit::record(
                &mut tx,
                actor.id,
                "event.unpublish",
                format!("event:{id}"),
                serde_json::json!({"status": {"before": "published", "after": "draft"}}),
            )
            .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        }
        .await?;
        self.seat_changes.changed(&[id]);
        tracing::info!("event unpublished");
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id, event_id = %id))]
    async fn set_featured(
        &self,
        actor: &UserView,
        id: EventId,
        featured: bool,
    ) -> Result<(), AppError> {
        app::auth::rules::check_role(actor, Role::Admin)?;
        // The conditional update first: it takes the write lock, and of two admins toggling at
        // once each change is judged against what the other left.
        async {
            let mut tx = self.db.begin_write().await?;
            let done = tx
                .execute(
                    Sql::new(
                        "UPDATE events SET featured = $1, updated_at = $2 \
                         WHERE id = $3 AND featured <> $1 AND (NOT $1 OR status = 'published')",
                    )
                    .arg(featured)
                    .arg(now())
                    .arg(id),
                )
                .await?;
            if done != 1 {
                let (now_featured, status): (bool, String) = tx
                    .fetch_optional(
                        Sql::new("SELECT featured, status FROM events WHERE id = $1").arg(id),
                    )
                    .await?
                    .ok_or(AppError::NotFound)?;
                return if now_featured == featured {
                    Ok(())
                } else {
                    Err(wrong_status(status_of(&status)?).into())
                };
            }
            let action = if featured {
                "event.feature"
            } else {
                "event.unfeature"
            };
            audit::record(
                &mut tx,
                actor.id,
                action,
                format!("event:{id}"),
                serde_json::json!({"featured": {"before": !featured, "after": featured}}),
            )
            .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        }
        .await?;
        tracing::info!(featured, "event featuring changed");
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id, event_id = %id))]
    async fn cancel_event(
        &self,
        actor: &UserView,
        id: EventId,
        reason: String,
    ) -> Result<(), AppError> {
        let reason = check_cancel_reason(&reason)?;
        async {
            let mut tx = self.db.begin_write().await?;
            let (status, _) = guard(&mut tx, actor, id).await?;
            if !matches!(status, EventStatus::Draft | EventStatus::Published) {
                return Err(wrong_status(status).into());
            }
            let done = tx
                .execute(
                    Sql::new(
                        "UPDATE events SET status = 'cancelled', cancel_reason = $1, featured = FALSE, \
                         updated_at = $2 WHERE id = $3 AND status IN ('draft', 'published')",
                    )
                    .arg(&reason)
                    .arg(now())
                    .arg(id),
                )
                .await?;
            if done != 1 {
                return Err(wrong_status(EventStatus::Cancelled).into());
            }
            // Its bookings end with it, and their holders are told (a notice on /me, a mail).
            let now = now();
            super::notify::cancelled(&mut tx, id, &reason, now).await?;
            tx.execute(
                Sql::new(
                    "INSERT INTO notices (user_id, event_id, kind, detail, created_at) \
                     SELECT DISTINCT user_id, $1, 'event_cancelled', $2, $3 FROM registrations \
                     WHERE event_id = $1 AND status IN ('confirmed', 'waitlisted')",
                )
                .arg(id)
                .arg(&reason)
                .arg(now),
            )
            .await?;
            tx.execute(Sql::new("UPDATE tickets SET status = 'cancelled' WHERE event_id = $1").arg(id))
                .await?;
            tx.execute(
                Sql::new(
                    "UPDATE registrations SET status = 'cancelled', waitlist_seq = NULL, cancelled_at = $2, \
                     cancelled_by = $3 WHERE event_id = $1 AND status IN ('confirmed', 'waitlisted')",
                )
                .arg(id)
                .arg(now)
                .arg(actor.id),
            )
            .await?;
            tx.execute(
                Sql::new("UPDATE ticket_types SET seats_confirmed = 0 WHERE event_id = $1").arg(id),
            )
            .await?;
            tx.execute(
                Sql::new("UPDATE events SET seats_confirmed = 0, seats_waitlisted = 0 WHERE id = $1")
                    .arg(id),
            )
            .await?;
            audit::record(
                &mut tx,
                actor.id,
                "event.cancel",
                format!("event:{id}"),
                serde_json::json!({"status": {"before": status.code(), "after": "cancelled"}, "reason": reason}),
            )
            .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        }
        .await?;
        self.seat_changes.changed(&[id]);
        tracing::info!("event cancelled");
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id, event_id = %id))]
    async fn delete_event(&self, actor: &UserView, id: EventId) -> Result<(), AppError> {
        let is_admin = actor.role >= Role::Admin;
        async {
            let mut tx = self.db.begin_write().await?;
            let (status, _) = guard(&mut tx, actor, id).await?;
            if status != EventStatus::Draft && !is_admin {
                return Err(wrong_status(status).into());
            }
            tx.execute(Sql::new("DELETE FROM events WHERE id = $1").arg(id))
                .await?;
            audit::record(
                &mut tx,
                actor.id,
                "event.delete",
                format!("event:{id}"),
                serde_json::json!({"status": {"before": status.code(), "after": null}}),
            )
            .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        }
        .await?;
        tracing::info!("event deleted");
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id, event_id = %id))]
    async fn set_event_image(
        &self,
        actor: &UserView,
        id: EventId,
        bytes: Vec<u8>,
    ) -> Result<String, AppError> {
        // The record rule first: strangers learn nothing and no work is done for them.
        let row: Option<GuardRow> = self
            .db
            .fetch_optional(guard_sql(id))
            .await
            .map_err(StoreError::from)?;
        let (status, _) = Self::check_guard(actor, row)?;
        if !matches!(status, EventStatus::Draft | EventStatus::Published) {
            return Err(wrong_status(status));
        }
        let processed = tokio::task::spawn_blocking(move || images::process(&bytes))
            .await
            .map_err(internal)??;
        let stored = self.images.put(processed).await?;
        let is_admin = actor.role >= Role::Admin;
        let swapped = async {
            let mut tx = self.db.begin_write().await?;
            let old: Option<(Option<String>,)> = tx
                .fetch_optional(
                    Sql::new(
                        "SELECT image_provider_id FROM events WHERE id = $1 AND (organizer_id = $2 OR $3) \
                         AND status IN ('draft', 'published')",
                    )
                    .arg(id)
                    .arg(actor.id)
                    .arg(is_admin),
                )
                .await?;
            if old.is_some() {
                tx.execute(
                    Sql::new(
                        "UPDATE events SET image_url = $1, image_provider_id = $2, updated_at = $3 WHERE id = $4",
                    )
                    .arg(&stored.url)
                    .arg(&stored.provider_id)
                    .arg(now())
                    .arg(id),
                )
                .await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(old)
        }
        .await;
        match swapped {
            Ok(Some((old,))) => {
                if let Some(old) = old.filter(|old| *old != stored.provider_id) {
                    self.images.delete(&old).await;
                }
                tracing::info!("event image replaced");
                Ok(stored.url)
            }
            // Changed under us (deleted, cancelled): the new file must not linger.
            Ok(None) => {
                self.images.delete(&stored.provider_id).await;
                Err(AppError::NotFound)
            }
            Err(e) => {
                self.images.delete(&stored.provider_id).await;
                Err(e.into())
            }
        }
    }
}
