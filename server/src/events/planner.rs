//! The search planner behind `/events` and `GET /api/v1/events`: only the filters a visitor
//! chose reach the SQL, so indexes stay usable. Rare words are driven from the full-text index
//! (FTS5 on SQLite, `tsvector` on PostgreSQL); common ones walk events in page order with the
//! count capped, instead of sorting every match.
use super::rows::{COUNT_CAP, EVENT_SELECT, EventRow, PER_PAGE_MAX, WALK_FROM};
use crate::db::{Db, now};
use crate::error::StoreError;
use crate::search;
use crate::sql::{Arg, Sql};
use app::error::{AppError, Problem};
use app::events::rules::check_range;
use app::events::{
    EventKey, EventListItem, EventSearch, EventSlice, EventSort, EventWindow, ResultPage,
};
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
    let (rows, total) = matches(db, search, Place::Page { page, per_page }).await?;
    let items = rows.iter().map(EventRow::item).collect::<Result<_, _>>()?;
    Ok(ResultPage {
        items,
        total: total.min(COUNT_CAP),
        total_exact: total <= COUNT_CAP,
        page,
        per_page,
    })
}

/// The part of the matches `window` names (`EventQueries::list_event_window`): the same
/// search, with the window's bounds as conditions on the order's columns instead of an
/// offset, so a window holds the same events however many were added before it.
pub async fn list_window(
    db: &Db,
    search: &EventSearch,
    window: &EventWindow,
) -> Result<EventSlice, AppError> {
    let has_text = !search::words(search.q.as_deref().unwrap_or_default()).is_empty();
    if search.sort == EventSort::Relevance && has_text {
        return Err(AppError::field(
            "sort",
            Problem::Malformed {
                detail: "a relevance order cannot be paged by cursor; page it by number".into(),
            },
        ));
    }
    if let Err(problem) = check_range(window.size, 1, PER_PAGE_MAX) {
        return Err(AppError::field(
            if window.from_end { "last" } else { "first" },
            problem,
        ));
    }
    let (mut rows, total) = matches(db, search, Place::Window(window)).await?;
    let more = rows.len() as i64 > window.size;
    rows.truncate(window.size as usize);
    if window.from_end {
        rows.reverse();
    }
    Ok(EventSlice {
        entries: rows.iter().map(EventRow::entry).collect::<Result<_, _>>()?,
        more,
        total: total.min(COUNT_CAP),
        total_exact: total <= COUNT_CAP,
    })
}

/// Which matches a search reads: a numbered page, or a window by position.
#[derive(Clone, Copy)]
enum Place<'a> {
    Page { page: i64, per_page: i64 },
    Window(&'a EventWindow),
}

/// The columns a keyset order sorts by, each ascending or not, and the key's value of each.
fn key_columns(sort: EventSort, key: &EventKey) -> Vec<(&'static str, bool, Arg)> {
    let starts = ("e.starts_at", true, Arg::from(key.starts_at));
    let id = |ascending| ("e.id", ascending, Arg::from(key.id));
    match sort {
        EventSort::StartsAt | EventSort::Relevance => vec![starts, id(true)],
        EventSort::Newest => vec![
            ("e.created_at", false, Arg::from(key.created_at)),
            id(false),
        ],
        EventSort::Price => vec![
            ("COALESCE(e.min_price, 0)", true, Arg::from(key.min_price)),
            starts,
            id(true),
        ],
        EventSort::Popularity => vec![
            ("e.seats_confirmed", false, Arg::from(key.seats_confirmed)),
            starts,
            id(true),
        ],
    }
}

/// ` AND (a > x OR (a = x AND b > y) OR …)`: the rows after `key` in `sort` (before it when
/// not `after`), each column compared in its own direction.
fn beyond(sort: EventSort, key: &EventKey, after: bool) -> Sql {
    let columns = key_columns(sort, key);
    let mut sql = Sql::new(" AND (");
    for last in 0..columns.len() {
        if last > 0 {
            sql.push(" OR ");
        }
        sql.push("(");
        for (i, (column, ascending, value)) in columns.iter().take(last + 1).enumerate() {
            if i > 0 {
                sql.push(" AND ");
            }
            let op = if i < last {
                " = "
            } else if *ascending == after {
                " > "
            } else {
                " < "
            };
            sql.push(column).push(op).bind(value.clone());
        }
        sql.push(")");
    }
    sql.push(")");
    sql
}

/// The order of a window: the sort's columns, reversed when it is read from its end.
fn window_order(sort: EventSort, from_end: bool) -> Sql {
    let placeholder = EventKey {
        starts_at: chrono::DateTime::UNIX_EPOCH,
        created_at: chrono::DateTime::UNIX_EPOCH,
        min_price: 0,
        seats_confirmed: 0,
        id: 0.into(),
    };
    let columns: Vec<String> = key_columns(sort, &placeholder)
        .into_iter()
        .map(|(column, ascending, _)| {
            let direction = if ascending != from_end { "ASC" } else { "DESC" };
            format!("{column} {direction}")
        })
        .collect();
    Sql::new(&columns.join(", "))
}

/// The rows a search reads at `place` (in the order asked for; a window read from its end
/// comes last match first, and one more than its size when there are more) and the count of
/// all its matches (up to the cap, plus one).
async fn matches(
    db: &Db,
    search: &EventSearch,
    place: Place<'_>,
) -> Result<(Vec<EventRow>, i64), AppError> {
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
    let window = match place {
        Place::Window(window) => Some(window),
        Place::Page { .. } => None,
    };
    // Without text, pages come straight off the (status, starts_at) index in order; the
    // unary `+` keeps SQLite from choosing the ends_at index and sorting every listed event.
    // Counting has no order to keep and may use the (status, ends_at) index.
    let mut filters = filters_with(
        if sqlite && (!fts || common) {
            "+e.ends_at"
        } else {
            "e.ends_at"
        },
        common,
    );
    if let Some(window) = window {
        if let Some(after) = &window.after {
            filters.append(&beyond(search.sort, after, true));
        }
        if let Some(before) = &window.before {
            filters.append(&beyond(search.sort, before, false));
        }
    }
    let count_filters = filters_with("e.ends_at", false);

    let mut order = Sql::new("");
    match (search.sort, &text) {
        _ if window.is_some() => {
            let from_end = window.is_some_and(|w| w.from_end);
            order.append(&window_order(search.sort, from_end))
        }
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
    // (Not in a window: its bounds leave matches out of the pass.)
    let counted_in_page = fts && !common && window.is_none();
    let mut page_ids = Sql::new(if counted_in_page {
        "SELECT e.id, COUNT(*) OVER () "
    } else {
        "SELECT e.id, CAST(0 AS BIGINT) "
    });
    let (limit, offset) = match place {
        // Saturating: a page number from a server function call is not bounded (the REST
        // door refuses past PAGE_MAX), and a wrapped offset would read the first page
        // (SQLite) or fail (PostgreSQL refuses a negative OFFSET).
        Place::Page { page, per_page } => (per_page, (page - 1).saturating_mul(per_page)),
        // One more than asked for says whether there are more.
        Place::Window(window) => (window.size + 1, 0),
    };
    page_ids
        .append(if common { &walk_source } else { &source })
        .append(&filters)
        .push(" ORDER BY ")
        .append(&order)
        .push(" LIMIT ")
        .bind(limit)
        .push(" OFFSET ")
        .bind(offset);
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
    Ok((rows, total))
}
