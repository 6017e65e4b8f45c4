//! `/api/v1/reports/summary` and the CSV downloads of the report pages: the same port, and for
//! the CSV the same chart tables the page shows.
use super::auth::ApiUser;
use super::error::{ApiError, ApiQuery, ErrorBody};
use crate::AppState;
use app::auth::Role;
use app::error::AppError;
use app::reports::{
    CategoryFigures, MonthFigures, ReportFilter, ReportScope, ReportSummary, ReportTotals,
};
use app::ui::chart::ChartData;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// First day of the events' start (`YYYY-MM-DD`, UTC, years 0001 to 9999), inclusive.
    #[param(pattern = "^\\s*([1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8]))?\\s*$")]
    pub from: Option<String>,
    /// Last day of the events' start (`YYYY-MM-DD`, UTC, years 0001 to 9999), inclusive; not
    /// before `from`.
    #[param(pattern = "^\\s*([1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8]))?\\s*$")]
    pub to: Option<String>,
    /// A category code (`stand-up`, `music`, …); `all` or blank for every category.
    #[param(
        pattern = "^\\s*(all|stand-up|music|theatre|dance|film|talk|kids|festival|other)?\\s*$"
    )]
    pub category: Option<String>,
}

impl ReportQuery {
    fn filter(&self) -> Result<ReportFilter, AppError> {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        ReportFilter::parse(&text(&self.from), &text(&self.to), &text(&self.category))
    }
}

// `EventFigures` with a string event id.
#[derive(Serialize, ToSchema)]
pub struct ByEvent {
    pub event_id: String,
    pub title: String,
    pub capacity: i64,
    pub seats_confirmed: i64,
    /// 0..1
    pub utilisation: f64,
}

// `ReportSummary` with its events as `ByEvent`.
#[derive(Serialize, ToSchema)]
pub struct Summary {
    pub totals: ReportTotals,
    /// The 12 months up to `to` (or this month), oldest first.
    pub by_month: Vec<MonthFigures>,
    /// Published and completed events.
    pub by_category: Vec<CategoryFigures>,
    /// The latest-starting 20 published or completed events.
    pub by_event: Vec<ByEvent>,
    /// Confirmed seats / capacity of published and completed events, 0..1.
    pub utilisation: f64,
}

impl From<ReportSummary> for Summary {
    fn from(s: ReportSummary) -> Self {
        Summary {
            totals: s.totals,
            by_month: s.by_month,
            by_category: s.by_category,
            by_event: s
                .by_event
                .into_iter()
                .map(|e| ByEvent {
                    event_id: e.event_id.to_string(),
                    title: e.title,
                    capacity: e.capacity,
                    seats_confirmed: e.seats_confirmed,
                    utilisation: e.utilisation,
                })
                .collect(),
            utilisation: s.utilisation,
        }
    }
}

/// The report: everything for admins, their own events for agents.
#[utoipa::path(get, path = "/api/v1/reports/summary", tag = "reports", params(ReportQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Summary), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "a day or category that cannot be read, or `to` before `from`, named in `fields`", body = ErrorBody)))]
pub async fn summary(
    State(state): State<AppState>,
    caller: ApiUser,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Json<Summary>, ApiError> {
    let actor = caller.require(Role::Agent)?;
    let scope = if actor.role >= Role::Admin {
        ReportScope::All
    } else {
        ReportScope::Own
    };
    let summary = state
        .services
        .report_queries
        .summary(&actor, scope, &query.filter()?)
        .await?;
    Ok(Json(summary.into()))
}

/// A chart's table as CSV: the label column and the value columns, as the page shows them.
pub fn chart_csv(chart: &ChartData) -> Result<String, AppError> {
    use app::ssr::internal;
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut header = vec![chart.label_header.clone()];
    header.extend(chart.columns.iter().cloned());
    out.write_record(&header).map_err(internal)?;
    for row in &chart.rows {
        let mut record = vec![crate::export::csv_safe(&row.label)];
        record.extend(row.values.iter().cloned());
        out.write_record(&record).map_err(internal)?;
    }
    String::from_utf8(out.into_inner().map_err(internal)?).map_err(internal)
}

async fn csv_download(
    state: &AppState,
    session: &tower_sessions::Session,
    headers: &axum::http::HeaderMap,
    scope: ReportScope,
    file: &str,
    query: &ReportQuery,
) -> Result<Response, ApiError> {
    let id = file.strip_suffix(".csv").ok_or(AppError::NotFound)?;
    if !app::reports::charts::CHART_IDS.contains(&id) {
        return Err(AppError::NotFound.into());
    }
    let actor = super::auth::session_user(state, session).await?;
    let summary = state
        .services
        .report_queries
        .summary(&actor, scope, &query.filter()?)
        .await?;
    let locale = crate::web::request_locale(headers);
    let charts = app::reports::charts::report_charts(&summary, locale)?;
    let chart = charts
        .iter()
        .find(|c| c.id == id)
        .ok_or(AppError::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"report-{id}.csv\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        chart_csv(chart)?,
    )
        .into_response())
}

/// `/admin/reports/{chart}.csv` for a signed-in admin.
pub async fn admin_csv(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    headers: axum::http::HeaderMap,
    Path(file): Path<String>,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Response, ApiError> {
    csv_download(&state, &session, &headers, ReportScope::All, &file, &query).await
}

/// `/agent/reports/{chart}.csv` for a signed-in agent (their own events).
pub async fn agent_csv(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    headers: axum::http::HeaderMap,
    Path(file): Path<String>,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Response, ApiError> {
    csv_download(&state, &session, &headers, ReportScope::Own, &file, &query).await
}
