//! The search planner behind `/events` and `GET /api/v1/events`: only the filters a visitor
//! chose reach the SQL, so indexes stay usable. Rare words are driven from the full-text index
//! (FTS5 on SQLite, `tsvector` on PostgreSQL); common ones walk events in page order with the
//! count capped, instead of sorting every match.
use super::rows::{COUNT_CAP, EVENT_SELECT, EventRow, PER_PAGE_MAX, WALK_FROM};
use crate::db::{Db, now};
use crate::error::StoreError;
use crate::search;
use crate::sql::Sql;
use app::error::AppError;
use app::events::{EventListItem, EventSearch, EventSort, ResultPage};
use app::ssr::internal;

pub async fn list_events(
    db: &Db,
    search: &EventSearch,
) -> Result<ResultPage<EventListItem>, AppError> {
    let per_page = if search.per_page <= 0 {
        20
    } else {
        search.per_page.min(PER_PAGE_MAX)
    };
    let page = search.page.max(1);
    let sqlite = matches!(db, Db::Sqlite(_));
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
    let common = match (&text, db) {
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
        (EventSort::Relevance, Some(_)) if sqlite => order.push("f.fts_rank, e.starts_at, e.id"),
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
        // Saturating: a page number from a server function call is not bounded (the REST
        // door refuses past PAGE_MAX), and a wrapped offset would read the first page
        // (SQLite) or fail (PostgreSQL refuses a negative OFFSET).
        .bind((page - 1).saturating_mul(per_page));
    let mut count = Sql::new("SELECT COUNT(*) FROM (SELECT 1 ");
    count
        .append(&source)
        .append(&count_filters)
        .push(" LIMIT ")
        .bind(COUNT_CAP + 1)
        .push(") AS matches");

    let (rows, total) = async {
        let hits: Vec<(i64, i64)> = db.fetch_all(page_ids).await?;
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
            rows = db.fetch_all::<EventRow>(full).await?;
            rows.sort_by_key(|r: &EventRow| ids.iter().position(|id| *id == r.id));
        }
        let total: i64 = match counted {
            Some(n) => n,
            None => db.scalar(count).await?,
        };
        Ok::<_, StoreError>((rows, total))
    }
    .await?;
    let items = rows.iter().map(EventRow::item).collect::<Result<_, _>>()?;
    Ok(ResultPage {
        items,
        total: total.min(COUNT_CAP),
        total_exact: total <= COUNT_CAP,
        page,
        per_page,
    })
}
