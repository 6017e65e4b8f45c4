//! Events created through the job queue (GraphQL's `createEventAsync`, migration 0017). The
//! input is checked at once — bad input is refused now, not later — then stored in
//! `event_creations` beside an `event.create` job, in one transaction. A worker creates the
//! event under the uuid the caller was promised and marks the creation done in the same
//! transaction, so a second run of the job finds nothing to do. A refusal at that point (the
//! organizer lost the role or was blocked meanwhile), or a last attempt that failed, leaves the
//! creation `failed` with the reason. Until it is done the creation is no event: only its
//! organizer (and admins) see it, through `event(uuid)`.
use super::Events;
use super::commands::insert_event;
use crate::db::now;
use crate::error::{StoreError, StoreResult};
use crate::jobs::{Job, NewJob};
use crate::sql::Sql;
use app::auth::ports::AccountQueries;
use app::auth::{Role, UserView};
use app::error::AppError;
use app::events::rules::validate_event;
use app::events::{CreationStatus, EventCreation, EventId, NewEvent, Organizer};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// The job kind that creates a queued event.
pub const KIND: &str = "event.create";

#[derive(sqlx::FromRow)]
struct CreationRow {
    uuid: String,
    organizer_id: i64,
    display_name: String,
    input: String,
    status: String,
    reason: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl CreationRow {
    fn creation(self) -> Result<EventCreation, AppError> {
        let status = match self.status.as_str() {
            "pending" => CreationStatus::Pending,
            "failed" => CreationStatus::Failed,
            other => {
                return Err(app::ssr::internal(format!(
                    "event creation {} is {other}, not pending or failed",
                    self.uuid
                )));
            }
        };
        Ok(EventCreation {
            input: serde_json::from_str(&self.input).map_err(app::ssr::internal)?,
            uuid: self.uuid,
            organizer: Organizer {
                id: self.organizer_id.into(),
                display_name: self.display_name,
            },
            status,
            reason: self.reason,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

const CREATION_SELECT: &str = "SELECT c.uuid, c.organizer_id, u.display_name, c.input, c.status, \
                               c.reason, c.created_at, c.updated_at \
                               FROM event_creations c JOIN users u ON u.id = c.organizer_id";

impl Events {
    /// Checks `new` and queues its creation for `actor` (an agent or admin): the creation as
    /// it stands, pending, under the uuid the event will have.
    pub(super) async fn queue_creation(
        &self,
        actor: &UserView,
        new: NewEvent,
    ) -> Result<EventCreation, AppError> {
        if actor.role < Role::Agent {
            return Err(AppError::Forbidden);
        }
        validate_event(&new).map_err(AppError::Invalid)?;
        let uuid = uuid::Uuid::new_v4().to_string();
        let input = serde_json::to_string(&new).map_err(app::ssr::internal)?;
        let now = now();
        async {
            let mut tx = self.db.begin_write().await?;
            tx.execute(
                Sql::new(
                    "INSERT INTO event_creations (uuid, organizer_id, input, status, created_at, \
                     updated_at) VALUES ($1, $2, $3, 'pending', $4, $4)",
                )
                .arg(&uuid)
                .arg(actor.id)
                .arg(&input)
                .arg(now),
            )
            .await?;
            let mut job = NewJob::new(KIND, serde_json::json!({ "uuid": uuid }), now);
            job.dedupe_key = Some(format!("{KIND}:{uuid}"));
            crate::jobs::enqueue(&mut tx, &[job], now).await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        }
        .await?;
        crate::jobs::wake_local();
        tracing::info!(%uuid, actor = %actor.id, "event creation queued");
        Ok(EventCreation {
            uuid,
            organizer: Organizer {
                id: actor.id,
                display_name: actor.display_name.clone(),
            },
            input: new,
            status: CreationStatus::Pending,
            reason: None,
            created_at: now,
            updated_at: now,
        })
    }

    /// The creation under `uuid` not done yet, if `viewer` organizes it or is an admin.
    pub(super) async fn find_creation(
        &self,
        viewer: Option<&UserView>,
        uuid: &str,
    ) -> Result<Option<EventCreation>, AppError> {
        let row: Option<CreationRow> = self
            .db
            .fetch_optional(
                Sql::new(&format!(
                    "{CREATION_SELECT} WHERE c.uuid = $1 AND c.status <> 'done'"
                ))
                .arg(uuid),
            )
            .await
            .map_err(StoreError::from)?;
        // Its organizer sees it whatever their role now (a lost role is a reason it fails).
        row.filter(|r| {
            viewer.is_some_and(|v| v.id.get() == r.organizer_id || v.role == Role::Admin)
        })
        .map(CreationRow::creation)
        .transpose()
    }

    /// Creates the event a pending creation promised, as `actor`, and marks the creation done,
    /// in one transaction. `Ok(None)` when it was done (or failed) already.
    async fn create_promised(
        &self,
        actor: &UserView,
        uuid: &str,
        new: &NewEvent,
    ) -> Result<Option<EventId>, AppError> {
        if actor.role < Role::Agent {
            return Err(AppError::Forbidden);
        }
        let event = validate_event(new).map_err(AppError::Invalid)?;
        let now = now();
        let created = async {
            let mut tx = self.db.begin_write().await?;
            let id = insert_event(&mut tx, actor, &event, uuid, now).await?;
            let marked = tx
                .execute(
                    Sql::new(
                        "UPDATE event_creations SET status = 'done', event_id = $2, updated_at = $3 \
                         WHERE uuid = $1 AND status = 'pending'",
                    )
                    .arg(uuid)
                    .arg(id)
                    .arg(now),
                )
                .await?;
            if marked == 0 {
                // Someone else finished it: this insert is rolled back.
                return Ok::<_, StoreError>(None);
            }
            tx.commit().await?;
            Ok(Some(id))
        }
        .await?;
        if let Some(id) = created {
            tracing::info!(event_id = %id, %uuid, "queued event created");
        }
        Ok(created)
    }

    async fn fail_creation(&self, uuid: &str, reason: &str) -> StoreResult<()> {
        self.db
            .execute(
                Sql::new(
                    "UPDATE event_creations SET status = 'failed', reason = $2, updated_at = $3 \
                     WHERE uuid = $1 AND status = 'pending'",
                )
                .arg(uuid)
                .arg(reason)
                .arg(now()),
            )
            .await?;
        tracing::warn!(%uuid, reason, "queued event creation failed");
        Ok(())
    }

    async fn creation_row(&self, uuid: &str) -> StoreResult<Option<CreationRow>> {
        Ok(self
            .db
            .fetch_optional(Sql::new(&format!("{CREATION_SELECT} WHERE c.uuid = $1")).arg(uuid))
            .await?)
    }
}

/// The handler of `event.create` jobs.
pub struct CreateEvents {
    events: Arc<Events>,
    accounts: Arc<dyn AccountQueries>,
}

impl CreateEvents {
    pub fn new(events: Arc<Events>, accounts: Arc<dyn AccountQueries>) -> Arc<Self> {
        Arc::new(CreateEvents { events, accounts })
    }
}

#[derive(serde::Deserialize)]
struct Payload {
    uuid: String,
}

#[async_trait::async_trait]
impl crate::jobs::Handler for CreateEvents {
    async fn run(&self, job: &Job) -> anyhow::Result<()> {
        let Payload { uuid } = job.payload()?;
        let Some(row) = self.events.creation_row(&uuid).await? else {
            // The organizer's account went, and the creation with it.
            return Ok(());
        };
        if row.status != "pending" {
            return Ok(());
        }
        let new: NewEvent = serde_json::from_str(&row.input)?;
        let organizer = self
            .accounts
            .get_user(row.organizer_id.into())
            .await
            .map_err(|e| anyhow::anyhow!("reading the organizer: {e:?}"))?
            .filter(|record| !record.blocked)
            .map(|record| record.user);
        let Some(organizer) = organizer else {
            let text = AppError::Forbidden.text(app::i18n::Locale::default());
            self.events.fail_creation(&uuid, &text).await?;
            return Ok(());
        };
        match self.events.create_promised(&organizer, &uuid, &new).await {
            Ok(_) => Ok(()),
            // A failure of ours: tried again later; the last attempt tells the organizer.
            Err(e @ (AppError::Internal | AppError::Transport(_))) => {
                if job.attempts >= job.max_attempts {
                    let text = AppError::Internal.text(organizer.locale);
                    self.events.fail_creation(&uuid, &text).await?;
                }
                Err(anyhow::anyhow!("creating event {uuid}: {e:?}"))
            }
            // A refusal stays one: the organizer reads why.
            Err(refusal) => {
                let text = refusal_text(&refusal, organizer.locale);
                self.events.fail_creation(&uuid, &text).await?;
                Ok(())
            }
        }
    }
}

/// What a refusal says, with the fields of an invalid input named.
fn refusal_text(e: &AppError, locale: app::i18n::Locale) -> String {
    match e {
        AppError::Invalid(fields) => fields
            .iter()
            .map(|(field, problem)| format!("{field}: {}", problem.text(locale)))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.text(locale),
    }
}
