//! Reports: totals, months, categories and events, for admins (everything) and agents (their
//! own events), drawn as charts with their tables and CSV downloads.
#[cfg(feature = "ssr")]
pub mod charts;
#[cfg(feature = "ssr")]
pub mod ports;
pub mod queries;
pub mod ui;

use crate::error::{AppError, FieldErrors, Problem};
use crate::events::{Category, EventId, Money};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Whose events a report covers: all of them (admins) or the actor's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReportScope {
    All,
    Own,
}

impl ReportScope {
    /// The page (and CSV) path of the scope.
    pub fn path(self) -> &'static str {
        match self {
            ReportScope::All => "/admin/reports",
            ReportScope::Own => "/agent/reports",
        }
    }
}

/// Which events a report covers: those starting between two days (inclusive, UTC) and of one
/// category. The months run to the end day's month (or this month).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportFilter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub category: Option<Category>,
}

impl ReportFilter {
    /// Reads the filter as a form or query string carries it (`YYYY-MM-DD`, category code;
    /// empty means no limit), refusing what it cannot read.
    pub fn parse(from: &str, to: &str, category: &str) -> Result<Self, AppError> {
        let mut errors = FieldErrors::new();
        let (from, to) = crate::events::rules::read_days(from, to, &mut errors);
        let category = match category.trim() {
            "" | "all" => None,
            code => {
                let found = Category::from_code(code);
                if found.is_none() {
                    errors.insert("category".into(), Problem::CategoryUnknown);
                }
                found
            }
        };
        if let (Some(f), Some(t)) = (from, to)
            && t < f
        {
            errors.insert("to".into(), Problem::EndsBeforeStart);
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        Ok(ReportFilter { from, to, category })
    }

    /// The filter as a query string (`from=…&to=…&category=…`), for links.
    pub fn query(&self) -> String {
        format!(
            "from={}&to={}&category={}",
            self.from.map(|d| d.to_string()).unwrap_or_default(),
            self.to.map(|d| d.to_string()).unwrap_or_default(),
            self.category.map(|c| c.code()).unwrap_or_default()
        )
    }
}

/// How many events a report lists one by one (the latest starting first).
pub const BY_EVENT_LIMIT: usize = 20;
/// How many months the monthly figures cover.
pub const MONTHS: u32 = 12;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReportTotals {
    pub events: i64,
    pub published_events: i64,
    /// All accounts (admins); for an agent's report, the people who booked their events.
    pub users: i64,
    pub agents: i64,
    pub admins: i64,
    pub registrations_confirmed: i64,
    pub registrations_waitlisted: i64,
    pub registrations_cancelled: i64,
    pub seats_confirmed: i64,
    /// Confirmed seats × price, per currency.
    pub revenue: Vec<Money>,
    /// The part of `revenue` marked paid.
    pub revenue_paid: Vec<Money>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MonthFigures {
    /// `YYYY-MM` (UTC)
    pub month: String,
    /// Registrations made in the month (whatever became of them).
    pub registrations: i64,
    /// Seats of those registrations that are confirmed now.
    pub seats: i64,
    /// Events created in the month.
    pub events: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CategoryFigures {
    pub category: Category,
    pub events: i64,
    pub seats: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventFigures {
    pub event_id: EventId,
    pub title: String,
    pub capacity: i64,
    pub seats_confirmed: i64,
    /// seats_confirmed / capacity, 0..1
    pub utilisation: f64,
}

/// One report. Events, categories and utilisation count published and completed events
/// (drafts have sold nothing and cancelled events released their seats); registration numbers
/// count every registration of the events in scope.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportSummary {
    pub totals: ReportTotals,
    pub by_month: Vec<MonthFigures>,
    pub by_category: Vec<CategoryFigures>,
    pub by_event: Vec<EventFigures>,
    /// Confirmed seats / capacity over the published and completed events in scope, 0..1.
    pub utilisation: f64,
}

/// `part / whole`, 0 when there is no whole.
pub fn ratio(part: i64, whole: i64) -> f64 {
    if whole > 0 {
        part as f64 / whole as f64
    } else {
        0.0
    }
}

/// One decimal of a percentage (`0.8333` → `83.3`).
pub fn percent(ratio: f64) -> String {
    format!("{:.1}", ratio * 100.0)
}

/// A report as its page shows it: the numbers and the charts drawn from them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportView {
    pub summary: ReportSummary,
    pub charts: Vec<crate::ui::chart::ChartData>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_read_or_refused_with_the_field() {
        let f = ReportFilter::parse("2026-01-01", "2026-03-31", "music").unwrap();
        assert_eq!(f.from, NaiveDate::from_ymd_opt(2026, 1, 1));
        assert_eq!(f.category, Some(Category::Music));
        assert_eq!(f.query(), "from=2026-01-01&to=2026-03-31&category=music");
        assert_eq!(
            ReportFilter::parse("", " ", "all").unwrap(),
            ReportFilter::default()
        );
        let AppError::Invalid(errors) =
            ReportFilter::parse("1.1.2026", "2026-01-01", "opera").unwrap_err()
        else {
            panic!("not a field error")
        };
        assert_eq!(errors.get("from"), Some(&Problem::TimeInvalid));
        assert_eq!(errors.get("category"), Some(&Problem::CategoryUnknown));
        let AppError::Invalid(errors) =
            ReportFilter::parse("2026-02-01", "2026-01-01", "").unwrap_err()
        else {
            panic!("not a field error")
        };
        assert_eq!(errors.get("to"), Some(&Problem::EndsBeforeStart));
    }

    #[test]
    fn utilisation_of_nothing_is_zero() {
        assert_eq!(ratio(3, 0), 0.0);
        assert_eq!(ratio(1, 4), 0.25);
    }
}
