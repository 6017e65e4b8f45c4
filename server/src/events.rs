//! Events on either database: search, details, and the organizer's commands with the record
//! rule (organizer or admin) checked inside each transaction. Implements the app's ports.
use crate::bind_args;
use crate::db::{Db, now};
use crate::images::{self, ImageStore, Stored};
use crate::on_db;
use crate::search;
use crate::sql::Sql;
use app::auth::UserView;
use app::error::{AppError, Problem};
use app::events::ports::{EventCommands, EventQueries};
use app::events::rules::{ValidEvent, can_manage, can_see, validate_event};
use app::events::{
    Category, EventDetail, EventFilter, EventId, EventListItem, EventSearch, EventSort,
    EventStatus, MANAGED_PER_PAGE, ManagedEvent, ManagedEventPage, Money, NewEvent, NewTicketType,
    Organizer, ResultPage, TicketTypeView, UpdateEvent,
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
    seats_confirmed: i64,
    seats_waitlisted: i64,
}

/// An event row with what the admin table adds: the organizer's email and the featured flag.
#[derive(sqlx::FromRow)]
struct ManagedRow {
    #[sqlx(flatten)]
    event: EventRow,
    organizer_email: String,
    featured: bool,
}

impl ManagedRow {
    fn into_managed(self) -> Result<ManagedEvent, AppError> {
        Ok(ManagedEvent {
            item: self.event.item()?,
            organizer_id: self.event.organizer_id,
            organizer_name: self.event.organizer_name,
            organizer_email: self.organizer_email,
            featured: self.featured,
        })
    }
}

#[derive(sqlx::FromRow)]
struct TicketTypeRow {
    id: i64,
    name: String,
    price_amount: i64,
    currency: String,
    quantity: i64,
    seats_confirmed: i64,
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

/// The columns of an `EventRow`, from `events e` and `users u`.
macro_rules! event_columns {
    () => {
        "SELECT e.id, e.organizer_id, e.title, e.summary, e.description, e.category, e.tags, \
         e.starts_at, e.ends_at, e.timezone, e.venue, e.address, e.city, e.capacity, e.image_url, e.status, \
         e.cancel_reason, e.created_at, e.published_at, u.display_name AS organizer_name, e.min_price, e.min_currency, \
         e.seats_confirmed, e.seats_waitlisted"
    };
}
const MANAGED_SELECT: &str = concat!(
    event_columns!(),
    ", u.email AS organizer_email, e.featured FROM events e JOIN users u ON u.id = e.organizer_id"
);

const EVENT_SELECT: &str = concat!(
    event_columns!(),
    " FROM events e JOIN users u ON u.id = e.organizer_id"
);

/// Keeps the listing columns in step with the ticket types, inside the same transaction.
const REFRESH_PRICES: &str = "UPDATE events SET \
    min_price = (SELECT MIN(t.price_amount) FROM ticket_types t WHERE t.event_id = events.id), \
    min_currency = (SELECT t.currency FROM ticket_types t WHERE t.event_id = events.id ORDER BY t.price_amount, t.position LIMIT 1), \
    has_free = EXISTS (SELECT 1 FROM ticket_types t WHERE t.event_id = events.id AND t.price_amount = 0) \
    WHERE id = $1";

/// Counting stops here: past it the page says "10,000+" (as search engines do) instead of
/// visiting every match, which keeps broad searches as fast as narrow ones.
pub const COUNT_CAP: i64 = 10_000;

/// Above this many full-text matches, a SQLite search sorted by time walks events in page
/// order instead of sorting every match (see `list_events`).
const WALK_FROM: i64 = 2_000;

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
            remaining_seats: self.capacity - self.seats_confirmed,
            waitlisted_seats: self.seats_waitlisted,
        })
    }
}

impl TicketTypeRow {
    fn view(self, timezone: &str) -> TicketTypeView {
        TicketTypeView {
            local_sales_start: self.sales_start.map(|t| local(t, timezone)),
            local_sales_end: self.sales_end.map(|t| local(t, timezone)),
            id: self.id,
            name: self.name,
            price: Money {
                amount: self.price_amount,
                currency: self.currency,
            },
            remaining: self.quantity - self.seats_confirmed,
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
    images: ImageStore,
    /// Open event pages hear when an edit or a cancellation changes the seats.
    seat_changes: Arc<crate::live::SeatChanges>,
}

impl Events {
    /// One event as the admin table lists it (for the REST answer to an admin's change).
    pub async fn managed_event(&self, id: EventId) -> Result<ManagedEvent, AppError> {
        let sql = format!("{MANAGED_SELECT} WHERE e.id = $1");
        let row: Option<ManagedRow> = on_db!(&self.db, pool => sqlx::query_as(&sql)
            .bind(id).fetch_optional(pool).await)
        .map_err(internal)?;
        row.ok_or(AppError::NotFound)?.into_managed()
    }

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
        on_db!(&self.db, pool => sqlx::query("UPDATE events SET image_url = $1, image_provider_id = $2 WHERE id = $3")
            .bind(&image.url).bind(&image.provider_id).bind(id).execute(pool).await.map(|_| ()))
        .map_err(internal)
    }

    /// The image store events use.
    pub fn images(&self) -> &ImageStore {
        &self.images
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
        let sql = "SELECT id, name, price_amount, currency, quantity, seats_confirmed, max_per_registration, sales_start, sales_end \
                   FROM ticket_types WHERE event_id = $1 ORDER BY position";
        on_db!(&self.db, pool => sqlx::query_as::<_, TicketTypeRow>(sql).bind(id).fetch_all(pool).await).map_err(internal)
    }

    async fn has_registrations(&self, ticket_type: i64) -> Result<bool, AppError> {
        let found: Option<i64> = on_db!(&self.db, pool => sqlx::query_scalar(
            "SELECT id FROM registrations WHERE ticket_type_id = $1 LIMIT 1")
            .bind(ticket_type).fetch_optional(pool).await)
        .map_err(internal)?;
        Ok(found.is_some())
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
        sqlx::query(REFRESH_PRICES)
            .bind($event_id)
            .execute($tx)
            .await?;
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
        let sqlite = matches!(self.db, Db::Sqlite(_));
        let words = search::words(search.q.as_deref().unwrap_or_default());
        let text = (!words.is_empty()).then(|| {
            if sqlite {
                search::fts5_query(&words)
            } else {
                search::tsquery(&words)
            }
        });

        // Where rows come from. SQLite drives a text search from the full-text index: the
        // matches (with their bm25 rank, lower is better) come first and each is checked against
        // the narrow `events_listing` index. CROSS JOIN fixes that order for the planner.
        // When a word is common (more than WALK_FROM matches) and the order is not relevance,
        // it is cheaper to walk events in page order and keep those in the match set: the page
        // is found after a few hundred rows, and the count stops at its cap.
        let common = match (&text, &self.db) {
            (Some(text), Db::Sqlite(pool)) if search.sort != EventSort::Relevance => {
                let matches: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM events_fts WHERE events_fts MATCH $1")
                        .bind(text.as_str())
                        .fetch_one(pool)
                        .await
                        .map_err(internal)?;
                matches > WALK_FROM
            }
            _ => false,
        };
        let fts = sqlite && text.is_some();
        let mut source = Sql::new("");
        match &text {
            Some(text) if sqlite => {
                // bm25 costs per match: only a relevance sort pays for it.
                let rank = if search.sort == EventSort::Relevance {
                    "bm25(events_fts, 10.0, 1.0)"
                } else {
                    "0"
                };
                source
                    .push(&format!(
                        "FROM (SELECT rowid AS fts_id, {rank} AS fts_rank FROM events_fts WHERE events_fts MATCH "
                    ))
                    .bind(text.as_str())
                    .push(") f CROSS JOIN events e ON e.id = f.fts_id")
            }
            _ => source.push("FROM events e"),
        };
        let mut walk_source = Sql::new("FROM events e");
        if let (true, Some(text)) = (common, &text) {
            walk_source
                .push(" WHERE +e.id IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ")
                .bind(text.as_str())
                .push(")");
        }

        let filters_with = |ends_at: &str, joined: bool| {
            let mut filters = Sql::new(&format!(
                " {} e.status = 'published' AND {ends_at} > ",
                if joined { "AND" } else { "WHERE" }
            ));
            filters.bind(now());
            if let (Some(text), false) = (&text, sqlite) {
                filters
                    .push(" AND e.search_vector @@ to_tsquery('simple', ")
                    .bind(text.as_str())
                    .push(")");
            }
            if let Some(category) = search.category {
                filters.push(" AND e.category = ").bind(category.code());
            }
            if let Some(city) = search.city.as_deref().filter(|c| !c.trim().is_empty()) {
                filters
                    .push(" AND lower(e.city) = lower(")
                    .bind(city.trim())
                    .push(")");
            }
            if let Some(from) = search.from {
                filters.push(" AND e.starts_at >= ").bind(from);
            }
            if let Some(to) = search.to {
                filters.push(" AND e.starts_at <= ").bind(to);
            }
            if let Some(max) = search.price_max {
                filters.push(" AND e.min_price <= ").bind(max);
            }
            if search.free {
                filters.push(" AND e.has_free");
            }
            if search.available {
                filters.push(" AND e.seats_confirmed < e.capacity");
            }
            filters
        };
        // Without text, pages come straight off the (status, starts_at) index in order; the
        // unary `+` keeps SQLite from choosing the ends_at index and sorting every listed event.
        // Counting has no order to keep and may use the (status, ends_at) index.
        let filters = filters_with(
            if sqlite && (!fts || common) {
                "+e.ends_at"
            } else {
                "e.ends_at"
            },
            common,
        );
        let count_filters = filters_with("e.ends_at", false);

        let mut order = Sql::new("");
        match (search.sort, &text) {
            (EventSort::Relevance, Some(_)) if sqlite => {
                order.push("f.fts_rank, e.starts_at, e.id")
            }
            (EventSort::Relevance, Some(text)) => order
                .push("ts_rank(e.search_vector, to_tsquery('simple', ")
                .bind(text.as_str())
                .push(")) DESC, e.starts_at, e.id"),
            (EventSort::StartsAt | EventSort::Relevance, _) => order.push("e.starts_at, e.id"),
            (EventSort::Newest, _) => order.push("e.created_at DESC, e.id DESC"),
            (EventSort::Price, _) => order.push("e.min_price, e.starts_at, e.id"),
            (EventSort::Popularity, _) => order.push("e.seats_confirmed DESC, e.starts_at, e.id"),
        };

        // The page's ids first (narrow rows, sorted), then the full rows of just those. A
        // text search on SQLite visits every match to sort them anyway, so the same pass
        // counts them (a window over the matches); other searches count separately, capped.
        let counted_in_page = fts && !common;
        let mut page_ids = Sql::new(if counted_in_page {
            "SELECT e.id, COUNT(*) OVER () "
        } else {
            "SELECT e.id, CAST(0 AS BIGINT) "
        });
        page_ids
            .append(if common { &walk_source } else { &source })
            .append(&filters)
            .push(" ORDER BY ")
            .append(&order)
            .push(" LIMIT ")
            .bind(per_page)
            .push(" OFFSET ")
            .bind((page - 1) * per_page);
        let mut count = Sql::new("SELECT COUNT(*) FROM (SELECT 1 ");
        count
            .append(&source)
            .append(&count_filters)
            .push(" LIMIT ")
            .bind(COUNT_CAP + 1)
            .push(") AS matches");

        let (rows, total) = on_db!(&self.db, pool => async {
            let hits: Vec<(i64, i64)> = bind_args!(sqlx::query_as(&page_ids.text), &page_ids.args)
                .fetch_all(pool)
                .await?;
            let ids: Vec<i64> = hits.iter().map(|h| h.0).collect();
            let counted = hits.first().map(|h| h.1).filter(|_| counted_in_page);
            let mut rows = Vec::new();
            if !ids.is_empty() {
                let mut full = Sql::new(EVENT_SELECT);
                full.push(" WHERE e.id IN (");
                for (i, id) in ids.iter().enumerate() {
                    if i > 0 {
                        full.push(", ");
                    }
                    full.bind(*id);
                }
                full.push(")");
                rows = bind_args!(sqlx::query_as::<_, EventRow>(&full.text), &full.args)
                    .fetch_all(pool)
                    .await?;
                rows.sort_by_key(|r: &EventRow| ids.iter().position(|id| *id == r.id));
            }
            let total: i64 = match counted {
                Some(n) => n,
                None => bind_args!(sqlx::query_scalar(&count.text), &count.args)
                    .fetch_one(pool)
                    .await?,
            };
            Ok::<_, sqlx::Error>((rows, total))
        }.await)
        .map_err(internal)?;
        let items = rows.iter().map(EventRow::item).collect::<Result<_, _>>()?;
        Ok(ResultPage {
            items,
            total: total.min(COUNT_CAP),
            total_exact: total <= COUNT_CAP,
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
        let reactions: Vec<(String, i64)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT kind, COUNT(*) FROM reactions WHERE event_id = $1 GROUP BY kind")
            .bind(id).fetch_all(pool).await)
        .map_err(internal)?;
        let ticket_types = self
            .ticket_types(id)
            .await?
            .into_iter()
            .map(|t| t.view(&row.timezone))
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
            confirmed_seats: row.seats_confirmed,
            waitlisted_seats: row.seats_waitlisted,
            likes: reactions.iter().find(|r| r.0 == "like").map_or(0, |r| r.1),
            saves: reactions.iter().find(|r| r.0 == "save").map_or(0, |r| r.1),
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

    async fn trending(&self, limit: i64) -> Result<Vec<EventListItem>, AppError> {
        let sql = concat!(
            event_columns!(),
            " FROM events e JOIN users u ON u.id = e.organizer_id \
             JOIN (SELECT event_id, COUNT(*) AS bookings FROM registrations \
                   WHERE created_at > $1 AND status <> 'cancelled' GROUP BY event_id) r ON r.event_id = e.id \
             WHERE e.status = 'published' AND e.ends_at > $2 \
             ORDER BY r.bookings DESC, e.starts_at, e.id LIMIT $3"
        );
        let now = now();
        let rows = on_db!(&self.db, pool => sqlx::query_as::<_, EventRow>(sql)
            .bind(now - chrono::Duration::days(7)).bind(now).bind(limit).fetch_all(pool).await)
        .map_err(internal)?;
        rows.iter().map(EventRow::item).collect()
    }

    async fn featured(&self, limit: i64) -> Result<Vec<EventListItem>, AppError> {
        let sql = format!(
            "{EVENT_SELECT} WHERE e.featured AND e.status = 'published' AND e.ends_at > $1 \
             ORDER BY e.starts_at, e.id LIMIT $2"
        );
        let rows = on_db!(&self.db, pool => sqlx::query_as::<_, EventRow>(&sql)
            .bind(now()).bind(limit).fetch_all(pool).await)
        .map_err(internal)?;
        rows.iter().map(EventRow::item).collect()
    }

    async fn all_events(
        &self,
        actor: &UserView,
        filter: EventFilter,
    ) -> Result<ManagedEventPage, AppError> {
        app::auth::rules::check_role(actor, app::auth::Role::Admin)?;
        let page = filter.page.max(1);
        let mut conditions = Sql::new(" WHERE 1 = 1");
        if let Some(status) = filter.status {
            conditions.push(" AND e.status = ").bind(status.code());
        }
        let organizer = filter.organizer.trim();
        if !organizer.is_empty() {
            let pattern = crate::sql::like_contains(organizer);
            conditions
                .push(" AND (lower(u.email) LIKE ")
                .bind(pattern.clone())
                .push(" ESCAPE '\\' OR lower(u.display_name) LIKE ")
                .bind(pattern)
                .push(" ESCAPE '\\')");
        }
        let day = |d: chrono::NaiveDate| {
            chrono::TimeZone::from_utc_datetime(&Utc, &d.and_hms_opt(0, 0, 0).expect("midnight"))
        };
        if let Some(from) = filter.from {
            conditions.push(" AND e.starts_at >= ").bind(day(from));
        }
        if let Some(to) = filter.to {
            conditions
                .push(" AND e.starts_at < ")
                .bind(day(to.succ_opt().unwrap_or(to)));
        }
        let per_page = i64::from(MANAGED_PER_PAGE);
        let mut list = Sql::new(MANAGED_SELECT);
        list.append(&conditions)
            .push(" ORDER BY e.starts_at DESC, e.id DESC LIMIT ")
            .bind(per_page)
            .push(" OFFSET ")
            .bind(i64::from(page - 1) * per_page);
        let mut count =
            Sql::new("SELECT COUNT(*) FROM events e JOIN users u ON u.id = e.organizer_id");
        count.append(&conditions);
        let (rows, total): (Vec<ManagedRow>, i64) = on_db!(&self.db, pool => async {
            let rows = bind_args!(sqlx::query_as(&list.text), &list.args).fetch_all(pool).await?;
            let total = bind_args!(sqlx::query_scalar(&count.text), &count.args).fetch_one(pool).await?;
            Ok::<_, sqlx::Error>((rows, total))
        }.await)
        .map_err(internal)?;
        Ok(ManagedEventPage {
            items: rows
                .into_iter()
                .map(ManagedRow::into_managed)
                .collect::<Result<_, AppError>>()?,
            total,
            page,
        })
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
        // Seats already booked stay booked: limits cannot drop below them, and a ticket type
        // with bookings cannot be removed.
        let mut errors = app::error::FieldErrors::new();
        if event.capacity < current.seats_confirmed {
            errors.insert(
                "capacity".into(),
                Problem::TooSmall {
                    min: current.seats_confirmed,
                },
            );
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
                    None if self.has_registrations(old.id).await? => {
                        errors.insert(format!("ticket_types[{i}].name"), Problem::TicketTypeBooked);
                    }
                    _ => {}
                }
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
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
                // In place, row by row: bookings keep pointing at their ticket type.
                for (position, tt) in event.ticket_types.iter().enumerate() {
                    match current_types.get(position) {
                        Some(old) => {
                            sqlx::query("UPDATE ticket_types SET name = $2, price_amount = $3, currency = $4, quantity = $5, \
                                         max_per_registration = $6, sales_start = $7, sales_end = $8 WHERE id = $1")
                                .bind(old.id).bind(&tt.name).bind(tt.price.amount).bind(&tt.price.currency).bind(tt.quantity)
                                .bind(tt.max_per_registration).bind(tt.sales_start).bind(tt.sales_end)
                                .execute(&mut *tx).await?;
                        }
                        None => {
                            sqlx::query(INSERT_TICKET_TYPE)
                                .bind(id).bind(position as i64).bind(&tt.name).bind(tt.price.amount).bind(&tt.price.currency)
                                .bind(tt.quantity).bind(tt.max_per_registration).bind(tt.sales_start).bind(tt.sales_end)
                                .execute(&mut *tx).await?;
                        }
                    }
                }
                for old in current_types.iter().skip(event.ticket_types.len()) {
                    sqlx::query("DELETE FROM ticket_types WHERE id = $1").bind(old.id).execute(&mut *tx).await?;
                }
                sqlx::query(REFRESH_PRICES).bind(id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(done)
        }.await)
        .map_err(internal)?;
        if changed == 1 {
            self.seat_changes.changed(&[id]);
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
            crate::audit!(&mut *tx, actor.id, "event.publish", format!("event:{id}"),
                serde_json::json!({"status": {"before": "draft", "after": "published"}})).map_err(internal)?;
            tx.commit().await.map_err(internal)?;
            Ok(())
        }.await)?;
        tracing::info!(event_id = id, actor = actor.id, "event published");
        Ok(())
    }

    async fn unpublish_event(&self, actor: &UserView, id: EventId) -> Result<(), AppError> {
        on_db!(&self.db, pool => async {
            let mut tx = pool.begin().await.map_err(internal)?;
            let guard = sqlx::query_as::<_, GuardRow>(GUARD_SQL).bind(id).fetch_optional(&mut *tx).await.map_err(internal)?;
            let (status, _) = Self::check_guard(actor, guard)?;
            if status != EventStatus::Published {
                return Err(wrong_status(status));
            }
            // The conditional update takes the write lock first (so no booking slips in
            // between) and refuses when seats are held or wanted.
            let done = sqlx::query("UPDATE events SET status = 'draft', published_at = NULL, featured = FALSE, updated_at = $1 \
                                    WHERE id = $2 AND status = 'published' AND seats_confirmed = 0 AND seats_waitlisted = 0")
                .bind(now()).bind(id).execute(&mut *tx).await.map_err(internal)?.rows_affected();
            if done != 1 {
                return Err(AppError::Conflict { field: "status".into(), problem: Problem::HasBookings });
            }
            crate::audit!(&mut *tx, actor.id, "event.unpublish", format!("event:{id}"),
                serde_json::json!({"status": {"before": "published", "after": "draft"}})).map_err(internal)?;
            tx.commit().await.map_err(internal)?;
            Ok(())
        }.await)?;
        self.seat_changes.changed(&[id]);
        tracing::info!(event_id = id, actor = actor.id, "event unpublished");
        Ok(())
    }

    async fn set_featured(
        &self,
        actor: &UserView,
        id: EventId,
        featured: bool,
    ) -> Result<(), AppError> {
        app::auth::rules::check_role(actor, app::auth::Role::Admin)?;
        // The conditional update first: it takes the write lock, and of two admins toggling at
        // once each change is judged against what the other left.
        on_db!(&self.db, pool => async {
            let mut tx = pool.begin().await.map_err(internal)?;
            let done = sqlx::query("UPDATE events SET featured = $1, updated_at = $2 \
                                    WHERE id = $3 AND featured <> $1 AND (NOT $1 OR status = 'published')")
                .bind(featured).bind(now()).bind(id).execute(&mut *tx).await.map_err(internal)?.rows_affected();
            if done != 1 {
                let row: Option<(bool, String)> = sqlx::query_as("SELECT featured, status FROM events WHERE id = $1")
                    .bind(id).fetch_optional(&mut *tx).await.map_err(internal)?;
                let (now_featured, status) = row.ok_or(AppError::NotFound)?;
                return if now_featured == featured {
                    Ok(())
                } else {
                    Err(wrong_status(status_of(&status)?))
                };
            }
            let action = if featured { "event.feature" } else { "event.unfeature" };
            crate::audit!(&mut *tx, actor.id, action, format!("event:{id}"),
                serde_json::json!({"featured": {"before": !featured, "after": featured}})).map_err(internal)?;
            tx.commit().await.map_err(internal)?;
            Ok(())
        }.await)?;
        tracing::info!(
            event_id = id,
            actor = actor.id,
            featured,
            "event featuring changed"
        );
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
            let done = sqlx::query("UPDATE events SET status = 'cancelled', cancel_reason = $1, featured = FALSE, updated_at = $2 \
                                    WHERE id = $3 AND status IN ('draft', 'published')")
                .bind(&reason).bind(now()).bind(id).execute(&mut *tx).await.map_err(internal)?.rows_affected();
            if done != 1 {
                return Err(wrong_status(EventStatus::Cancelled));
            }
            // Its bookings end with it, and their holders are told (a notice on /me).
            let now = now();
            sqlx::query("INSERT INTO notices (user_id, event_id, kind, detail, created_at) \
                         SELECT DISTINCT user_id, $1, 'event_cancelled', $2, $3 FROM registrations \
                         WHERE event_id = $1 AND status IN ('confirmed', 'waitlisted')")
                .bind(id).bind(&reason).bind(now).execute(&mut *tx).await.map_err(internal)?;
            sqlx::query("UPDATE tickets SET status = 'cancelled' WHERE event_id = $1")
                .bind(id).execute(&mut *tx).await.map_err(internal)?;
            sqlx::query("UPDATE registrations SET status = 'cancelled', waitlist_seq = NULL, cancelled_at = $2, cancelled_by = $3 \
                         WHERE event_id = $1 AND status IN ('confirmed', 'waitlisted')")
                .bind(id).bind(now).bind(actor.id).execute(&mut *tx).await.map_err(internal)?;
            sqlx::query("UPDATE ticket_types SET seats_confirmed = 0 WHERE event_id = $1")
                .bind(id).execute(&mut *tx).await.map_err(internal)?;
            sqlx::query("UPDATE events SET seats_confirmed = 0, seats_waitlisted = 0 WHERE id = $1")
                .bind(id).execute(&mut *tx).await.map_err(internal)?;
            crate::audit!(&mut *tx, actor.id, "event.cancel", format!("event:{id}"),
                serde_json::json!({"status": {"before": status.code(), "after": "cancelled"}, "reason": reason}))
                .map_err(internal)?;
            tx.commit().await.map_err(internal)?;
            Ok(())
        }.await)?;
        self.seat_changes.changed(&[id]);
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
            crate::audit!(&mut *tx, actor.id, "event.delete", format!("event:{id}"),
                serde_json::json!({"status": {"before": status.code(), "after": null}})).map_err(internal)?;
            tx.commit().await.map_err(internal)?;
            Ok(())
        }.await)?;
        tracing::info!(event_id = id, actor = actor.id, "event deleted");
        Ok(())
    }

    async fn set_event_image(
        &self,
        actor: &UserView,
        id: EventId,
        bytes: Vec<u8>,
    ) -> Result<String, AppError> {
        // The record rule first: strangers learn nothing and no work is done for them.
        let guard = on_db!(&self.db, pool => sqlx::query_as::<_, GuardRow>(GUARD_SQL).bind(id).fetch_optional(pool).await)
            .map_err(internal)?;
        let (status, _) = Self::check_guard(actor, guard)?;
        if !matches!(status, EventStatus::Draft | EventStatus::Published) {
            return Err(wrong_status(status));
        }
        let processed = tokio::task::spawn_blocking(move || images::process(&bytes))
            .await
            .map_err(internal)??;
        let stored = self.images.put(processed).await?;
        let is_admin = actor.role >= app::auth::Role::Admin;
        let swapped = on_db!(&self.db, pool => async {
            let mut tx = pool.begin().await?;
            let old: Option<(Option<String>,)> = sqlx::query_as(
                "SELECT image_provider_id FROM events WHERE id = $1 AND (organizer_id = $2 OR $3) \
                 AND status IN ('draft', 'published')")
                .bind(id).bind(actor.id).bind(is_admin).fetch_optional(&mut *tx).await?;
            if old.is_some() {
                sqlx::query("UPDATE events SET image_url = $1, image_provider_id = $2, updated_at = $3 WHERE id = $4")
                    .bind(&stored.url).bind(&stored.provider_id).bind(now()).bind(id)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(old)
        }.await);
        match swapped {
            Ok(Some((old,))) => {
                if let Some(old) = old.filter(|old| *old != stored.provider_id) {
                    self.images.delete(&old).await;
                }
                tracing::info!(event_id = id, actor = actor.id, "event image replaced");
                Ok(stored.url)
            }
            // Changed under us (deleted, cancelled): the new file must not linger.
            Ok(None) => {
                self.images.delete(&stored.provider_id).await;
                Err(AppError::NotFound)
            }
            Err(e) => {
                self.images.delete(&stored.provider_id).await;
                Err(internal(e))
            }
        }
    }
}
