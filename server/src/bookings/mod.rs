//! Bookings on either database, never oversold: the booking ports on the database.
//!
//! - [`writer`]: the one task per process through which every change to seats goes (batches,
//!   one commit per batch, retries of deadlocked batches);
//! - [`commands`]: book, cancel and waitlist promotion as plain functions of a transaction;
//! - [`tickets`]: ticket codes, HMAC tokens, QR codes;
//! - [`reads`]: registrations, likes and saves, notices;
//! - [`door`]: the organizer's side: attendees, marking paid, check-in.
pub mod commands;
pub mod door;
pub mod reads;
pub mod tickets;
pub mod writer;

pub use tickets::{TicketKeys, new_code, qr_svg};
pub use writer::MAX_BATCH;

use crate::db::{Db, now};
use crate::error::StoreResult;
use crate::limiter::UseLimit;
use crate::live::SeatChanges;
use crate::sql::Sql;
use app::auth::UserView;
use app::bookings::ports::{BookingCommands, BookingQueries};
use app::bookings::{
    AttendeePage, AttendeeSearch, CheckIn, MyReactions, MyRegistration, NewRegistration, Notice,
    Reaction, Registration, RegistrationId, Ticket, TicketStatus,
};
use app::error::AppError;
use app::events::EventId;
use app::events::ports::EventQueries;
use app::ssr::internal;
use std::sync::Arc;
use writer::{Command, Done, Writer};

pub struct Bookings {
    db: Db,
    keys: Arc<TicketKeys>,
    writer: Writer,
    events: Arc<dyn EventQueries>,
    /// Bookings per user (`EVENTHUB_BOOKING_RATE`); `None` when off.
    rate: Option<UseLimit>,
}

impl Bookings {
    /// Starts this process's booking writer.
    pub fn start(
        db: Db,
        secret: &str,
        events: Arc<dyn EventQueries>,
        seat_changes: Arc<SeatChanges>,
        rate: Option<UseLimit>,
    ) -> Arc<Self> {
        tokio::spawn(forget_old_keys(db.clone()));
        Arc::new(Bookings {
            writer: Writer::start(db.clone(), seat_changes),
            db,
            keys: Arc::new(TicketKeys::new(secret)),
            events,
            rate,
        })
    }

    pub fn keys(&self) -> &TicketKeys {
        &self.keys
    }
}

/// Deletes idempotency keys past their day, once an hour (a key that old is no longer looked
/// at, see [`commands::IDEMPOTENCY_WINDOW`]; this only keeps the table small).
async fn forget_old_keys(db: Db) {
    let mut hourly = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        hourly.tick().await;
        let cutoff = now() - commands::IDEMPOTENCY_WINDOW;
        let sql = Sql::new("DELETE FROM idempotency_keys WHERE created_at < $1").arg(cutoff);
        match db.execute(sql).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(forgotten = n, "old idempotency keys deleted"),
            Err(e) => tracing::warn!("could not delete old idempotency keys: {e}"),
        }
    }
}

#[async_trait::async_trait]
impl BookingCommands for Bookings {
    #[tracing::instrument(skip_all, fields(actor = %actor.id))]
    async fn register(
        &self,
        actor: &UserView,
        new: NewRegistration,
    ) -> Result<Registration, AppError> {
        if let Some(rate) = &self.rate {
            let key = format!("booking:{}", actor.id);
            rate.take(&key)
                .await?
                .map_err(|wait| AppError::RateLimited {
                    retry_after_secs: wait,
                })?;
        }
        let booked = match self
            .writer
            .submit(Command::Register {
                actor: actor.clone(),
                new,
            })
            .await?
        {
            Done::Booked(booked) => booked,
            Done::Replayed(id) => {
                tracing::info!(registration = %id, "booking retried with its idempotency key");
                return self.get_registration(actor, id).await;
            }
            Done::Cancelled(_) => {
                return Err(internal(
                    "the booking writer answered a booking with a cancellation",
                ));
            }
        };
        tracing::info!(
            registration = %booked.id,
            event_id = %booked.event_id,
            user = %actor.id,
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
                    token: self.keys.token(booked.event_id.into(), &code),
                    code,
                    status: TicketStatus::Valid,
                    checked_in_at: None,
                    qr_svg: String::new(),
                })
                .collect(),
            created_at: booked.created_at,
        })
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id))]
    async fn cancel_registration(
        &self,
        actor: &UserView,
        id: RegistrationId,
    ) -> Result<Registration, AppError> {
        let Done::Cancelled(id) = self
            .writer
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
        let (registration, _) = reads::load(&self.db, &self.keys, id)
            .await?
            .ok_or(AppError::NotFound)?;
        tracing::info!(
            registration = %id,
            actor = %actor.id,
            "registration cancelled"
        );
        Ok(registration)
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id))]
    async fn set_reaction(
        &self,
        actor: &UserView,
        event_id: EventId,
        reaction: Reaction,
        on: bool,
    ) -> Result<(), AppError> {
        // Only events the actor can see can be marked (drafts of others do not exist).
        self.events.get_event(Some(actor), event_id).await?;
        Ok(set_mark(&self.db, actor, event_id, reaction, on).await?)
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id))]
    async fn mark_paid(&self, actor: &UserView, id: RegistrationId) -> Result<(), AppError> {
        Ok(door::mark_paid(&self.db, actor, id).await?)
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id))]
    async fn check_in(
        &self,
        actor: &UserView,
        event_id: EventId,
        code: &str,
    ) -> Result<CheckIn, AppError> {
        Ok(door::check_in(&self.db, &self.keys, actor, event_id, code).await?)
    }
}

/// Draws each ticket's QR code, for the pages that print them.
fn draw_qr_codes(registration: &mut Registration) {
    for ticket in &mut registration.tickets {
        ticket.qr_svg = qr_svg(&ticket.token);
    }
}

/// Sets or clears a like or save; doing it twice changes nothing.
async fn set_mark(
    db: &Db,
    actor: &UserView,
    event_id: EventId,
    reaction: Reaction,
    on: bool,
) -> StoreResult<()> {
    let sql = if on {
        Sql::new(
            "INSERT INTO reactions (user_id, event_id, kind, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, event_id, kind) DO NOTHING",
        )
        .arg(actor.id)
        .arg(event_id)
        .arg(reaction.code())
        .arg(now())
    } else {
        Sql::new("DELETE FROM reactions WHERE user_id = $1 AND event_id = $2 AND kind = $3")
            .arg(actor.id)
            .arg(event_id)
            .arg(reaction.code())
    };
    db.execute(sql).await?;
    Ok(())
}

#[async_trait::async_trait]
impl BookingQueries for Bookings {
    #[tracing::instrument(skip_all, fields(actor = %actor.id))]
    async fn my_reactions(&self, actor: &UserView) -> Result<MyReactions, AppError> {
        let events = self.events.as_ref();
        Ok(MyReactions {
            likes: reads::marked(&self.db, events, actor, Reaction::Like).await?,
            saves: reads::marked(&self.db, events, actor, Reaction::Save).await?,
        })
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id))]
    async fn reactions_on(
        &self,
        actor: &UserView,
        event_id: EventId,
    ) -> Result<Vec<Reaction>, AppError> {
        Ok(reads::reactions_on(&self.db, actor, event_id).await?)
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id))]
    async fn all_marks(&self, actor: &UserView) -> Result<Vec<(EventId, Reaction)>, AppError> {
        Ok(reads::all_marks(&self.db, actor).await?)
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id))]
    async fn attendees(
        &self,
        actor: &UserView,
        event_id: EventId,
        search: AttendeeSearch,
    ) -> Result<AttendeePage, AppError> {
        Ok(door::attendees(&self.db, actor, event_id, search).await?)
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id))]
    async fn door_count(
        &self,
        actor: &UserView,
        event_id: EventId,
    ) -> Result<app::bookings::DoorCount, AppError> {
        Ok(door::door_count(&self.db, actor, event_id).await?)
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id))]
    async fn find_ticket(
        &self,
        actor: &UserView,
        event_id: EventId,
        code: &str,
    ) -> Result<Option<app::bookings::ScannedTicket>, AppError> {
        Ok(door::find_ticket(&self.db, actor, event_id, code).await?)
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id))]
    async fn get_registration(
        &self,
        actor: &UserView,
        id: RegistrationId,
    ) -> Result<Registration, AppError> {
        match reads::load(&self.db, &self.keys, id).await? {
            Some((registration, organizer))
                if app::bookings::rules::can_see_registration(
                    actor,
                    registration.user_id,
                    organizer.into(),
                ) =>
            {
                Ok(registration)
            }
            _ => Err(AppError::NotFound),
        }
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id))]
    async fn ticket_sheet(
        &self,
        actor: &UserView,
        id: RegistrationId,
    ) -> Result<Registration, AppError> {
        let mut registration = self.get_registration(actor, id).await?;
        draw_qr_codes(&mut registration);
        Ok(registration)
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id))]
    async fn my_registrations(&self, actor: &UserView) -> Result<Vec<MyRegistration>, AppError> {
        reads::registrations_of(&self.db, &self.keys, self.events.as_ref(), actor).await
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id))]
    async fn my_tickets(&self, actor: &UserView) -> Result<Vec<MyRegistration>, AppError> {
        let mut mine = self.my_registrations(actor).await?;
        for m in &mut mine {
            draw_qr_codes(&mut m.registration);
        }
        Ok(mine)
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id))]
    async fn my_notices(&self, actor: &UserView) -> Result<Vec<Notice>, AppError> {
        Ok(reads::notices(&self.db, actor).await?)
    }
}
