//! Events on either database: search, details, and the organizer's commands with the record
//! rule (organizer or admin) checked inside each transaction. Implements the app's ports.
use crate::db::{Db, now};
use crate::on_db;
use crate::search;
use app::auth::UserView;
use app::error::{AppError, Problem};
use app::events::ports::{EventCommands, EventQueries};
use app::events::rules::{ValidEvent, can_manage, can_see, validate_event};
use app::events::{
    Category, EventDetail, EventId, EventListItem, EventSearch, EventSort, EventStatus, Money,
    NewEvent, NewTicketType, Organizer, ResultPage, TicketTypeView, UpdateEvent,
};
use app::ssr::internal;
use chrono::{DateTime, Utc};
use std::sync::Arc;

pub const PER_PAGE_MAX: i64 = 100;

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    organizer_id: i64,
    title: String,
    summary: String,
    description: String,
    category: String,
    tags: String,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    timezone: String,
    venue: String,
    address: String,
    city: String,
    capacity: i64,
    image_url: Option<String>,
    status: String,
    cancel_reason: Option<String>,
    created_at: DateTime<Utc>,
    published_at: Option<DateTime<Utc>>,
    organizer_name: String,
    min_price: Option<i64>,
    min_currency: Option<String>,
}

#[derive(sqlx::FromRow)]
struct TicketTypeRow {
    id: i64,
    name: String,
    price_amount: i64,
    currency: String,
    quantity: i64,
    max_per_registration: i64,
    sales_start: Option<DateTime<Utc>>,
    sales_end: Option<DateTime<Utc>>,
}

/// The guard columns a command checks before it changes an event.
#[derive(sqlx::FromRow)]
struct GuardRow {
    organizer_id: i64,
    status: String,
    starts_at: DateTime<Utc>,
}

const EVENT_SELECT: &str = "SELECT e.id, e.organizer_id, e.title, e.summary, e.description, e.category, e.tags, \
    e.starts_at, e.ends_at, e.timezone, e.venue, e.address, e.city, e.capacity, e.image_url, e.status, \
    e.cancel_reason, e.created_at, e.published_at, u.display_name AS organizer_name, \
    (SELECT MIN(t.price_amount) FROM ticket_types t WHERE t.event_id = e.id) AS min_price, \
    (SELECT t.currency FROM ticket_types t WHERE t.event_id = e.id ORDER BY t.price_amount, t.position LIMIT 1) AS min_currency \
    FROM events e JOIN users u ON u.id = e.organizer_id";

/// The full-text condition on `$2` (folded words in the engine's query syntax, or NULL).
const SQLITE_MATCH: &str =
    "($2 IS NULL OR e.id IN (SELECT rowid FROM events_fts WHERE events_fts MATCH $2))";
const PG_MATCH: &str = "($2::text IS NULL OR e.search_vector @@ to_tsquery('simple', $2))";
/// Best match first: bm25 is lower-is-better, ts_rank higher-is-better.
const SQLITE_RANK: &str = "f.fts_rank, e.starts_at, e.id";
/// SQLite ranks through one pass over the index, joined in (bm25 needs the MATCH context).
const SQLITE_RANK_JOIN: &str = "JOIN (SELECT rowid AS fts_id, bm25(events_fts, 10.0, 1.0) AS fts_rank \
    FROM events_fts WHERE events_fts MATCH $2) f ON f.fts_id = e.id";
const PG_RANK: &str = "ts_rank(e.search_vector, to_tsquery('simple', $2)) DESC, e.starts_at, e.id";

/// The filters of a search; `$1` is "now" so past events drop out.
const SEARCH_WHERE: &str = "WHERE e.status = 'published' AND e.ends_at > $1 \
    AND {TEXT_MATCH} \
    AND ($3 IS NULL OR e.category = $3) \
    AND ($4 IS NULL OR lower(e.city) = lower($4)) \
    AND ($5 IS NULL OR e.starts_at >= $5) \
    AND ($6 IS NULL OR e.starts_at <= $6) \
    AND ($7 IS NULL OR (SELECT MIN(t.price_amount) FROM ticket_types t WHERE t.event_id = e.id) <= $7) \
    AND ($8 = FALSE OR EXISTS (SELECT 1 FROM ticket_types t WHERE t.event_id = e.id AND t.price_amount = 0)) \
    AND ($9 = FALSE OR e.capacity > 0)";

fn status_of(code: &str) -> Result<EventStatus, AppError> {
    EventStatus::from_code(code).ok_or_else(|| internal(format!("unknown event status {code:?}")))
}

fn local(t: DateTime<Utc>, tz: &str) -> chrono::NaiveDateTime {
    match tz.parse::<chrono_tz::Tz>() {
        Ok(tz) => t.with_timezone(&tz).naive_local(),
        Err(_) => t.naive_utc(),
    }
}

impl EventRow {
    fn item(&self) -> Result<EventListItem, AppError> {
        Ok(EventListItem {
            id: self.id,
            title: self.title.clone(),
            summary: self.summary.clone(),
            category: Category::from_code(&self.category)
                .ok_or_else(|| internal("unknown category"))?,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            timezone: self.timezone.clone(),
            local_starts_at: local(self.starts_at, &self.timezone),
            local_ends_at: local(self.ends_at, &self.timezone),
            venue: self.venue.clone(),
            city: self.city.clone(),
            image_url: self.image_url.clone(),
            status: status_of(&self.status)?,
            min_price: self
                .min_price
                .zip(self.min_currency.clone())
                .map(|(amount, currency)| Money { amount, currency }),
            capacity: self.capacity,
            // No seat is booked until registrations exist (issue #4); then this subtracts them.
            remaining_seats: self.capacity,
        })
    }
}

impl TicketTypeRow {
    fn view(self) -> TicketTypeView {
        TicketTypeView {
            id: self.id,
            name: self.name,
            price: Money {
                amount: self.price_amount,
                currency: self.currency,
            },
            remaining: self.quantity,
            quantity: self.quantity,
            max_per_registration: self.max_per_registration,
            sales_start: self.sales_start,
            sales_end: self.sales_end,
        }
    }

    fn as_new(&self) -> NewTicketType {
        NewTicketType {
            name: self.name.clone(),
            price_amount: self.price_amount,
            currency: self.currency.clone(),
            quantity: self.quantity,
            max_per_registration: self.max_per_registration,
            sales_start: self.sales_start.map(|t| t.to_rfc3339()),
            sales_end: self.sales_end.map(|t| t.to_rfc3339()),
        }
    }
}

pub struct Events {
    db: Db,
}

impl Events {
    pub fn new(db: Db) -> Arc<Self> {
        Arc::new(Events { db })
    }

    /// Fills the search columns of events stored before full-text search existed.
    pub async fn reindex_missing(&self) -> Result<u64, AppError> {
        type Row = (i64, String, String, String, String, String, String);
        let sql = "SELECT id, title, summary, description, venue, city, tags FROM events WHERE search_title = ''";
        let rows: Vec<Row> = on_db!(&self.db, pool => sqlx::query_as(sql).fetch_all(pool).await)
            .map_err(internal)?;
        for (id, title, summary, description, venue, city, tags) in &rows {
            let (t, b) = search::documents(
                title,
                summary,
                description,
                venue,
                city,
                &tags.replace(',', " "),
            );
            on_db!(&self.db, pool => sqlx::query("UPDATE events SET search_title = $1, search_body = $2 WHERE id = $3")
                .bind(t).bind(b).bind(id).execute(pool).await.map(|_| ()))
            .map_err(internal)?;
        }
        Ok(rows.len() as u64)
    }

    async fn find(&self, id: EventId) -> Result<Option<EventRow>, AppError> {
        let sql = format!("{EVENT_SELECT} WHERE e.id = $1");
        on_db!(&self.db, pool => sqlx::query_as::<_, EventRow>(&sql).bind(id).fetch_optional(pool).await).map_err(internal)
    }

    async fn ticket_types(&self, id: EventId) -> Result<Vec<TicketTypeRow>, AppError> {
        let sql = "SELECT id, name, price_amount, currency, quantity, max_per_registration, sales_start, sales_end \
                   FROM ticket_types WHERE event_id = $1 ORDER BY position";
        on_db!(&self.db, pool => sqlx::query_as::<_, TicketTypeRow>(sql).bind(id).fetch_all(pool).await).map_err(internal)
    }

    /// Loads the guard columns inside a transaction and applies the record rule:
    /// absent or not the actor's to manage → `NotFound`.
    fn check_guard(
        actor: &UserView,
        guard: Option<GuardRow>,
    ) -> Result<(EventStatus, DateTime<Utc>), AppError> {
        match guard {
            Some(g) if can_manage(actor, g.organizer_id) => {
                Ok((status_of(&g.status)?, g.starts_at))
            }
            _ => Err(AppError::NotFound),
        }
    }
}

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

fn wrong_status(status: EventStatus) -> AppError {
    AppError::Conflict {
        field: "status".into(),
        problem: Problem::WrongStatus {
            status: status.code().into(),
        },
    }
}

const GUARD_SQL: &str = "SELECT organizer_id, status, starts_at FROM events WHERE id = $1";
/// Inserts an event's ticket types, in order, inside the caller's transaction (either engine).
macro_rules! insert_ticket_types {
    ($tx:expr, $event_id:expr, $types:expr) => {
        for (position, tt) in $types.iter().enumerate() {
            sqlx::query(INSERT_TICKET_TYPE)
                .bind($event_id)
                .bind(position as i64)
                .bind(&tt.name)
                .bind(tt.price.amount)
                .bind(&tt.price.currency)
                .bind(tt.quantity)
                .bind(tt.max_per_registration)
                .bind(tt.sales_start)
                .bind(tt.sales_end)
                .execute($tx)
                .await?;
        }
    };
}

const INSERT_TICKET_TYPE: &str = "INSERT INTO ticket_types \
    (event_id, position, name, price_amount, currency, quantity, max_per_registration, sales_start, sales_end) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

#[async_trait::async_trait]
impl EventQueries for Events {
    async fn list_events(
        &self,
        search: &EventSearch,
    ) -> Result<ResultPage<EventListItem>, AppError> {
        let per_page = if search.per_page <= 0 {
            20
        } else {
            search.per_page.min(PER_PAGE_MAX)
        };
        let page = search.page.max(1);
        let words = search::words(search.q.as_deref().unwrap_or_default());
        let sqlite = matches!(self.db, Db::Sqlite(_));
        let (text_match, rank) = if sqlite {
            (SQLITE_MATCH, SQLITE_RANK)
        } else {
            (PG_MATCH, PG_RANK)
        };
        let ranked = search.sort == EventSort::Relevance && !words.is_empty();
        let join = if ranked && sqlite {
            SQLITE_RANK_JOIN
        } else {
            ""
        };
        let order = match search.sort {
            EventSort::Relevance if ranked => rank,
            EventSort::StartsAt | EventSort::Relevance => "e.starts_at, e.id",
            EventSort::Newest => "e.created_at DESC, e.id DESC",
            EventSort::Price => "min_price, e.starts_at, e.id",
        };
        let filters = SEARCH_WHERE.replace("{TEXT_MATCH}", text_match);
        let list_sql =
            format!("{EVENT_SELECT} {join} {filters} ORDER BY {order} LIMIT $10 OFFSET $11");
        let count_sql = format!("SELECT COUNT(*) FROM events e {filters}");
        let q = (!words.is_empty()).then(|| {
            if sqlite {
                search::fts5_query(&words)
            } else {
                search::tsquery(&words)
            }
        });
        let category = search.category.map(Category::code);
        let now = now();
        macro_rules! bind_search {
            ($query:expr) => {
                $query
                    .bind(now)
                    .bind(q.clone())
                    .bind(category)
                    .bind(search.city.clone())
                    .bind(search.from)
                    .bind(search.to)
                    .bind(search.price_max)
                    .bind(search.free)
                    .bind(search.available)
            };
        }
        let (rows, total) = on_db!(&self.db, pool => async {
            let rows = bind_search!(sqlx::query_as::<_, EventRow>(&list_sql))
                .bind(per_page)
                .bind((page - 1) * per_page)
                .fetch_all(pool)
                .await?;
            let total: i64 = bind_search!(sqlx::query_scalar(&count_sql)).fetch_one(pool).await?;
            Ok::<_, sqlx::Error>((rows, total))
        }.await)
        .map_err(internal)?;
        let items = rows.iter().map(EventRow::item).collect::<Result<_, _>>()?;
        Ok(ResultPage {
            items,
            total,
            page,
            per_page,
        })
    }

    async fn get_event(
        &self,
        viewer: Option<&UserView>,
        id: EventId,
    ) -> Result<EventDetail, AppError> {
        let row = self.find(id).await?.ok_or(AppError::NotFound)?;
        let item = row.item()?;
        if !can_see(viewer, row.organizer_id, item.status) {
            return Err(AppError::NotFound);
        }
        let ticket_types = self
            .ticket_types(id)
            .await?
            .into_iter()
            .map(TicketTypeRow::view)
            .collect();
        Ok(EventDetail {
            description_html: crate::markdown::render(&row.description),
            description: row.description.clone(),
            tags: row
                .tags
                .split(',')
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
            address: row.address.clone(),
            capacity: row.capacity,
            confirmed_seats: 0,
            waitlisted_seats: 0,
            organizer: Organizer {
                id: row.organizer_id,
                display_name: row.organizer_name.clone(),
            },
            cancel_reason: row.cancel_reason.clone(),
            ticket_types,
            created_at: row.created_at,
            published_at: row.published_at,
            item,
        })
    }

    async fn list_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<EventListItem>, AppError> {
        let sql = format!(
            "{EVENT_SELECT} WHERE e.status IN ('published', 'cancelled') AND e.starts_at >= $1 AND e.starts_at < $2 \
             ORDER BY e.starts_at, e.id LIMIT 1000"
        );
        let rows = on_db!(&self.db, pool => sqlx::query_as::<_, EventRow>(&sql).bind(from).bind(to).fetch_all(pool).await)
            .map_err(internal)?;
        rows.iter().map(EventRow::item).collect()
    }

    async fn category_counts(&self) -> Result<Vec<(Category, i64)>, AppError> {
        let sql = "SELECT category, COUNT(*) FROM events WHERE status = 'published' AND ends_at > $1 GROUP BY category";
        let rows: Vec<(String, i64)> =
            on_db!(&self.db, pool => sqlx::query_as(sql).bind(now()).fetch_all(pool).await)
                .map_err(internal)?;
        Ok(rows
            .into_iter()
            .filter_map(|(code, n)| Category::from_code(&code).map(|c| (c, n)))
            .collect())
    }

    async fn list_managed_events(&self, actor: &UserView) -> Result<Vec<EventListItem>, AppError> {
        let is_admin = actor.role >= app::auth::Role::Admin;
        let sql = format!(
            "{EVENT_SELECT} WHERE ($1 OR e.organizer_id = $2) ORDER BY e.created_at DESC, e.id DESC LIMIT 500"
        );
        let rows = on_db!(&self.db, pool => sqlx::query_as::<_, EventRow>(&sql).bind(is_admin).bind(actor.id).fetch_all(pool).await)
            .map_err(internal)?;
        rows.iter().map(EventRow::item).collect()
    }
}

#[async_trait::async_trait]
impl EventCommands for Events {
    async fn create_event(&self, actor: &UserView, new: NewEvent) -> Result<EventId, AppError> {
        if actor.role < app::auth::Role::Agent {
            return Err(AppError::Forbidden);
        }
        let event = validate_event(&new).map_err(AppError::Invalid)?;
        let (search_title, search_body) = search_documents(&event);
        let now = now();
        let id = on_db!(&self.db, pool => async {
            let mut tx = pool.begin().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO events (organizer_id, title, slug, summary, description, category, tags, starts_at, ends_at, \
                 timezone, venue, address, city, capacity, status, created_at, updated_at, search_title, search_body) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'draft', $15, $15, $16, $17) RETURNING id")
                .bind(actor.id).bind(&event.title).bind(&event.slug).bind(&event.summary).bind(&event.description)
                .bind(event.category.code()).bind(event.tags.join(",")).bind(event.starts_at).bind(event.ends_at)
                .bind(&event.timezone).bind(&event.venue).bind(&event.address).bind(&event.city).bind(event.capacity)
                .bind(now).bind(&search_title).bind(&search_body)
                .fetch_one(&mut *tx).await?;
            insert_ticket_types!(&mut *tx, id, &event.ticket_types);
            tx.commit().await?;
            Ok::<_, sqlx::Error>(id)
        }.await)
        .map_err(internal)?;
        tracing::info!(event_id = id, organizer = actor.id, "event created");
        Ok(id)
    }

    async fn update_event(
        &self,
        actor: &UserView,
        id: EventId,
        changes: UpdateEvent,
    ) -> Result<(), AppError> {
        let current = self
            .find(id)
            .await?
            .filter(|r| can_manage(actor, r.organizer_id))
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
            ticket_types: changes
                .ticket_types
                .unwrap_or_else(|| current_types.iter().map(TicketTypeRow::as_new).collect()),
        };
        let event: ValidEvent = validate_event(&merged).map_err(AppError::Invalid)?;
        if status == EventStatus::Published && event.starts_at <= now() {
            return Err(AppError::field("starts_at", Problem::StartsInPast));
        }
        let is_admin = actor.role >= app::auth::Role::Admin;
        let (search_title, search_body) = search_documents(&event);
        let changed = on_db!(&self.db, pool => async {
            let mut tx = pool.begin().await?;
            let done = sqlx::query(
                "UPDATE events SET title = $1, slug = $2, summary = $3, description = $4, category = $5, tags = $6, \
                 starts_at = $7, ends_at = $8, timezone = $9, venue = $10, address = $11, city = $12, capacity = $13, \
                 updated_at = $14, search_title = $18, search_body = $19 \
                 WHERE id = $15 AND (organizer_id = $16 OR $17) AND status IN ('draft', 'published')")
                .bind(&event.title).bind(&event.slug).bind(&event.summary).bind(&event.description)
                .bind(event.category.code()).bind(event.tags.join(",")).bind(event.starts_at).bind(event.ends_at)
                .bind(&event.timezone).bind(&event.venue).bind(&event.address).bind(&event.city).bind(event.capacity)
                .bind(now()).bind(id).bind(actor.id).bind(is_admin).bind(&search_title).bind(&search_body)
                .execute(&mut *tx).await?.rows_affected();
            if done == 1 && replace_types {
                sqlx::query("DELETE FROM ticket_types WHERE event_id = $1").bind(id).execute(&mut *tx).await?;
                insert_ticket_types!(&mut *tx, id, &event.ticket_types);
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(done)
        }.await)
        .map_err(internal)?;
        if changed == 1 {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }

    async fn publish_event(&self, actor: &UserView, id: EventId) -> Result<(), AppError> {
        let now = now();
        on_db!(&self.db, pool => async {
            let mut tx = pool.begin().await.map_err(internal)?;
            let guard = sqlx::query_as::<_, GuardRow>(GUARD_SQL).bind(id).fetch_optional(&mut *tx).await.map_err(internal)?;
            let (status, starts_at) = Self::check_guard(actor, guard)?;
            if status != EventStatus::Draft {
                return Err(wrong_status(status));
            }
            if starts_at <= now {
                return Err(AppError::field("starts_at", Problem::StartsInPast));
            }
            let done = sqlx::query("UPDATE events SET status = 'published', published_at = $1, updated_at = $1 \
                                    WHERE id = $2 AND status = 'draft'")
                .bind(now).bind(id).execute(&mut *tx).await.map_err(internal)?.rows_affected();
            if done != 1 {
                return Err(wrong_status(EventStatus::Published));
            }
            tx.commit().await.map_err(internal)?;
            Ok(())
        }.await)?;
        tracing::info!(event_id = id, actor = actor.id, "event published");
        Ok(())
    }

    async fn cancel_event(
        &self,
        actor: &UserView,
        id: EventId,
        reason: String,
    ) -> Result<(), AppError> {
        let reason = reason.trim().to_owned();
        let len = reason.chars().count();
        if len == 0 {
            return Err(AppError::field("reason", Problem::Required));
        }
        if len > 500 {
            return Err(AppError::field("reason", Problem::TooLong { max: 500 }));
        }
        on_db!(&self.db, pool => async {
            let mut tx = pool.begin().await.map_err(internal)?;
            let guard = sqlx::query_as::<_, GuardRow>(GUARD_SQL).bind(id).fetch_optional(&mut *tx).await.map_err(internal)?;
            let (status, _) = Self::check_guard(actor, guard)?;
            if !matches!(status, EventStatus::Draft | EventStatus::Published) {
                return Err(wrong_status(status));
            }
            let done = sqlx::query("UPDATE events SET status = 'cancelled', cancel_reason = $1, updated_at = $2 \
                                    WHERE id = $3 AND status IN ('draft', 'published')")
                .bind(&reason).bind(now()).bind(id).execute(&mut *tx).await.map_err(internal)?.rows_affected();
            if done != 1 {
                return Err(wrong_status(EventStatus::Cancelled));
            }
            tx.commit().await.map_err(internal)?;
            Ok(())
        }.await)?;
        tracing::info!(event_id = id, actor = actor.id, "event cancelled");
        Ok(())
    }

    async fn delete_event(&self, actor: &UserView, id: EventId) -> Result<(), AppError> {
        let is_admin = actor.role >= app::auth::Role::Admin;
        on_db!(&self.db, pool => async {
            let mut tx = pool.begin().await.map_err(internal)?;
            let guard = sqlx::query_as::<_, GuardRow>(GUARD_SQL).bind(id).fetch_optional(&mut *tx).await.map_err(internal)?;
            let (status, _) = Self::check_guard(actor, guard)?;
            if status != EventStatus::Draft && !is_admin {
                return Err(wrong_status(status));
            }
            sqlx::query("DELETE FROM events WHERE id = $1").bind(id).execute(&mut *tx).await.map_err(internal)?;
            tx.commit().await.map_err(internal)?;
            Ok(())
        }.await)?;
        tracing::info!(event_id = id, actor = actor.id, "event deleted");
        Ok(())
    }
}
