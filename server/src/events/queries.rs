//! The event reads (`EventQueries`): one event with its ticket types and reactions, lists
//! between dates, counts, trending and featured events, the admin table, the organizer's own.
use super::rows::{EVENT_SELECT, EventRow, MANAGED_SELECT, ManagedRow, TicketTypeRow};
use super::{Events, planner};
use crate::db::now;
use crate::error::StoreError;
use crate::sql::Sql;
use app::auth::UserView;
use app::error::AppError;
use app::events::ports::EventQueries;
use app::events::rules::can_see;
use app::events::{
    Category, EventDetail, EventEntry, EventFilter, EventId, EventListItem, EventSearch,
    EventSlice, EventWindow, MANAGED_PER_PAGE, ManagedEvent, ManagedEventPage, Organizer,
    ResultPage, TicketTypeView,
};
use chrono::{DateTime, Utc};

#[async_trait::async_trait]
impl EventQueries for Events {
    async fn list_events(
        &self,
        search: &EventSearch,
    ) -> Result<ResultPage<EventListItem>, AppError> {
        search.check_bounds()?;
        planner::list_events(&self.db, search).await
    }

    async fn list_event_window(
        &self,
        search: &EventSearch,
        window: &EventWindow,
    ) -> Result<EventSlice, AppError> {
        planner::list_window(&self.db, search, window).await
    }

    async fn event_creation(
        &self,
        viewer: Option<&UserView>,
        uuid: &str,
    ) -> Result<Option<app::events::EventCreation>, AppError> {
        self.find_creation(viewer, uuid).await
    }

    async fn get_event_entry(
        &self,
        viewer: Option<&UserView>,
        uuid: &str,
    ) -> Result<EventEntry, AppError> {
        let sql = format!("{EVENT_SELECT} WHERE e.uuid = $1");
        let row: Option<EventRow> = self
            .db
            .fetch_optional(Sql::new(&sql).arg(uuid))
            .await
            .map_err(StoreError::from)?;
        let row = row.ok_or(AppError::NotFound)?;
        let entry = row.entry()?;
        if !can_see(viewer, row.organizer_id.into(), entry.item.status) {
            return Err(AppError::NotFound);
        }
        Ok(entry)
    }

    async fn list_ticket_types(
        &self,
        events: &[EventId],
    ) -> Result<Vec<(EventId, TicketTypeView)>, AppError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            event_id: i64,
            timezone: String,
            #[sqlx(flatten)]
            ticket_type: TicketTypeRow,
        }
        let mut all = Vec::new();
        // A bounded statement per hundred events (the most one list shows).
        for chunk in events.chunks(100) {
            let mut sql = Sql::new(
                "SELECT t.event_id, e.timezone, t.id, t.name, t.price_amount, t.currency, t.quantity, \
                 t.seats_confirmed, t.max_per_registration, t.sales_start, t.sales_end \
                 FROM ticket_types t JOIN events e ON e.id = t.event_id WHERE t.event_id IN (",
            );
            for (i, id) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind(*id);
            }
            sql.push(") ORDER BY t.event_id, t.position");
            let rows: Vec<Row> = self.db.fetch_all(sql).await.map_err(StoreError::from)?;
            all.extend(rows.into_iter().map(|r| {
                let view = r.ticket_type.view(&r.timezone);
                (EventId::from(r.event_id), view)
            }));
        }
        Ok(all)
    }

    async fn get_event(
        &self,
        viewer: Option<&UserView>,
        id: EventId,
    ) -> Result<EventDetail, AppError> {
        let row = self.find(id).await?.ok_or(AppError::NotFound)?;
        let item = row.item()?;
        if !can_see(viewer, row.organizer_id.into(), item.status) {
            return Err(AppError::NotFound);
        }
        let reactions: Vec<(String, i64)> = self
            .db
            .fetch_all(
                Sql::new("SELECT kind, COUNT(*) FROM reactions WHERE event_id = $1 GROUP BY kind")
                    .arg(id),
            )
            .await
            .map_err(StoreError::from)?;
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
            max_seats_per_user: row.max_seats_per_user,
            confirmed_seats: row.seats_confirmed,
            waitlisted_seats: row.seats_waitlisted,
            likes: reactions.iter().find(|r| r.0 == "like").map_or(0, |r| r.1),
            saves: reactions.iter().find(|r| r.0 == "save").map_or(0, |r| r.1),
            organizer: Organizer {
                id: row.organizer_id.into(),
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
        let rows: Vec<EventRow> = self
            .db
            .fetch_all(Sql::new(&sql).arg(from).arg(to))
            .await
            .map_err(StoreError::from)?;
        rows.iter().map(EventRow::item).collect()
    }

    async fn category_counts(&self) -> Result<Vec<(Category, i64)>, AppError> {
        let sql = "SELECT category, COUNT(*) FROM events WHERE status = 'published' AND ends_at > $1 GROUP BY category";
        let rows: Vec<(String, i64)> = self
            .db
            .fetch_all(Sql::new(sql).arg(now()))
            .await
            .map_err(StoreError::from)?;
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
        let rows: Vec<EventRow> = self
            .db
            .fetch_all(
                Sql::new(sql)
                    .arg(now - chrono::Duration::days(7))
                    .arg(now)
                    .arg(limit),
            )
            .await
            .map_err(StoreError::from)?;
        rows.iter().map(EventRow::item).collect()
    }

    async fn featured(&self, limit: i64) -> Result<Vec<EventListItem>, AppError> {
        let sql = format!(
            "{EVENT_SELECT} WHERE e.featured AND e.status = 'published' AND e.ends_at > $1 \
             ORDER BY e.starts_at, e.id LIMIT $2"
        );
        let rows: Vec<EventRow> = self
            .db
            .fetch_all(Sql::new(&sql).arg(now()).arg(limit))
            .await
            .map_err(StoreError::from)?;
        rows.iter().map(EventRow::item).collect()
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id))]
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
        let rows: Vec<ManagedRow> = self.db.fetch_all(list).await.map_err(StoreError::from)?;
        let total: i64 = self.db.scalar(count).await.map_err(StoreError::from)?;
        Ok(ManagedEventPage {
            items: rows
                .into_iter()
                .map(ManagedRow::into_managed)
                .collect::<Result<_, AppError>>()?,
            total,
            page,
        })
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id))]
    async fn list_managed_events(&self, actor: &UserView) -> Result<Vec<EventListItem>, AppError> {
        let is_admin = actor.role >= app::auth::Role::Admin;
        let sql = format!(
            "{EVENT_SELECT} WHERE ($1 OR e.organizer_id = $2) ORDER BY e.created_at DESC, e.id DESC LIMIT 500"
        );
        let rows: Vec<EventRow> = self
            .db
            .fetch_all(Sql::new(&sql).arg(is_admin).arg(actor.id))
            .await
            .map_err(StoreError::from)?;
        rows.iter().map(EventRow::item).collect()
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id, event = %id))]
    async fn managed_event(&self, actor: &UserView, id: EventId) -> Result<ManagedEvent, AppError> {
        app::auth::rules::check_role(actor, app::auth::Role::Admin)?;
        let sql = format!("{MANAGED_SELECT} WHERE e.id = $1");
        let row: Option<ManagedRow> = self
            .db
            .fetch_optional(Sql::new(&sql).arg(id))
            .await
            .map_err(StoreError::from)?;
        row.ok_or(AppError::NotFound)?.into_managed()
    }
}
