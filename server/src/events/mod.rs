//! Events on either database: search, details, and the organizer's commands with the record
//! rule (organizer or admin) checked inside each transaction. Implements the app's ports.
//!
//! - [`rows`]: the rows, column lists and shared statements;
//! - [`planner`]: the search behind `/events`;
//! - [`queries`]: `EventQueries`; [`commands`]: `EventCommands` (each command one transaction).
// First, so its `event_columns!` (a macro: `concat!` needs a literal) reaches the others.
#[macro_use]
pub mod rows;
pub mod commands;
pub mod creations;
mod notify;
pub mod planner;
pub mod queries;

pub use rows::{COUNT_CAP, PER_PAGE_MAX};

use crate::db::Db;
use crate::error::{StoreError, StoreResult};
use crate::images::{ImageStore, Stored};
use crate::search;
use crate::sql::Sql;
use app::auth::UserView;
use app::error::AppError;
use app::events::rules::can_manage;
use app::events::{EventId, EventStatus};
use chrono::{DateTime, Utc};
use rows::{EVENT_SELECT, EventRow, GuardRow, TicketTypeRow, status_of};
use std::sync::Arc;

pub struct Events {
    db: Db,
    images: ImageStore,
    /// Open event pages hear when an edit or a cancellation changes the seats.
    seat_changes: Arc<crate::live::SeatChanges>,
}

impl Events {
    pub fn new(
        db: Db,
        images: ImageStore,
        seat_changes: Arc<crate::live::SeatChanges>,
    ) -> Arc<Self> {
        Arc::new(Events {
            db,
            images,
            seat_changes,
        })
    }

    /// Sets an already stored image on an event (demo posters); no record rule.
    pub async fn attach_image(&self, id: EventId, image: &Stored) -> Result<(), AppError> {
        self.db
            .execute(
                Sql::new("UPDATE events SET image_url = $1, image_provider_id = $2 WHERE id = $3")
                    .arg(&image.url)
                    .arg(&image.provider_id)
                    .arg(id),
            )
            .await
            .map_err(StoreError::from)?;
        Ok(())
    }

    /// The image store events use.
    pub fn images(&self) -> &ImageStore {
        &self.images
    }

    /// Fills the search columns of events stored before full-text search existed.
    pub async fn reindex_missing(&self) -> Result<u64, AppError> {
        Ok(self.reindex_missing_rows().await?)
    }

    async fn reindex_missing_rows(&self) -> StoreResult<u64> {
        type Row = (i64, String, String, String, String, String, String);
        let sql = "SELECT id, title, summary, description, venue, city, tags FROM events WHERE search_title = ''";
        let rows: Vec<Row> = self.db.fetch_all(Sql::new(sql)).await?;
        for (id, title, summary, description, venue, city, tags) in &rows {
            let (t, b) = search::documents(
                title,
                summary,
                description,
                venue,
                city,
                &tags.replace(',', " "),
            );
            self.db
                .execute(
                    Sql::new("UPDATE events SET search_title = $1, search_body = $2 WHERE id = $3")
                        .arg(t)
                        .arg(b)
                        .arg(*id),
                )
                .await?;
        }
        Ok(rows.len() as u64)
    }

    async fn find(&self, id: EventId) -> StoreResult<Option<EventRow>> {
        let sql = format!("{EVENT_SELECT} WHERE e.id = $1");
        Ok(self.db.fetch_optional(Sql::new(&sql).arg(id)).await?)
    }

    async fn ticket_types(&self, id: EventId) -> StoreResult<Vec<TicketTypeRow>> {
        let sql = "SELECT id, name, price_amount, currency, quantity, seats_confirmed, max_per_registration, sales_start, sales_end \
                   FROM ticket_types WHERE event_id = $1 ORDER BY position";
        Ok(self.db.fetch_all(Sql::new(sql).arg(id)).await?)
    }

    async fn has_registrations(&self, ticket_type: i64) -> StoreResult<bool> {
        let found: Option<i64> = self
            .db
            .scalar_optional(
                Sql::new("SELECT id FROM registrations WHERE ticket_type_id = $1 LIMIT 1")
                    .arg(ticket_type),
            )
            .await?;
        Ok(found.is_some())
    }

    /// Loads the guard columns inside a transaction and applies the record rule:
    /// absent or not the actor's to manage → `NotFound`.
    fn check_guard(
        actor: &UserView,
        guard: Option<GuardRow>,
    ) -> Result<(EventStatus, DateTime<Utc>), AppError> {
        match guard {
            Some(g) if can_manage(actor, g.organizer_id.into()) => {
                Ok((status_of(&g.status)?, g.starts_at))
            }
            _ => Err(AppError::NotFound),
        }
    }
}
