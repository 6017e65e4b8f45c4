//! Event reads for the pages.
use super::form::EventForm;
use super::{Category, EventDetail, EventId, EventListItem, EventSearch, ResultPage};
use crate::error::AppError;
use leptos::prelude::*;

/// Published upcoming events matching the search. Anyone may ask.
#[server]
pub async fn list_events(search: EventSearch) -> Result<ResultPage<EventListItem>, AppError> {
    use crate::ssr;
    ssr::with_status(ssr::services()?.event_queries.list_events(&search).await)
}

/// One event; drafts only for their organizer and admins.
#[server]
pub async fn get_event(id: EventId) -> Result<EventDetail, AppError> {
    use crate::ssr;
    ssr::with_status(
        async {
            let viewer = ssr::current_user().await?;
            ssr::services()?
                .event_queries
                .get_event(viewer.as_ref(), id)
                .await
        }
        .await,
    )
}

/// The events the caller organizes (every event for an admin). Agents and admins.
#[server]
pub async fn list_managed_events() -> Result<Vec<EventListItem>, AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Agent).await?;
            ssr::services()?
                .event_queries
                .list_managed_events(&actor)
                .await
        }
        .await,
    )
}

/// An event as the edit form shows it; only for its organizer or an admin.
#[server]
pub async fn get_event_form(id: EventId) -> Result<EventForm, AppError> {
    use crate::{auth::Role, events::rules::can_manage, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Agent).await?;
            let event = ssr::services()?
                .event_queries
                .get_event(Some(&actor), id)
                .await?;
            if !can_manage(&actor, event.organizer.id) {
                return Err(AppError::NotFound);
            }
            Ok(EventForm::from_detail(&event))
        }
        .await,
    )
}

/// Upcoming published events per category, for the home page. Anyone may ask.
#[server]
pub async fn get_category_counts() -> Result<Vec<(Category, i64)>, AppError> {
    use crate::ssr;
    ssr::with_status(ssr::services()?.event_queries.category_counts().await)
}

/// Trending: the upcoming events most booked in the last 7 days, for the home page.
#[server]
pub async fn get_trending() -> Result<Vec<EventListItem>, AppError> {
    use crate::ssr;
    ssr::with_status(ssr::services()?.event_queries.trending(6).await)
}

/// The events of one month (by the venue's calendar) for `/calendar`. Anyone may ask.
#[server]
pub async fn list_month_events(year: i32, month: u32) -> Result<Vec<EventListItem>, AppError> {
    use crate::ssr;
    use chrono::{Datelike, Duration, TimeZone, Utc};
    ssr::with_status(
        async {
            // Bounded years: the month after and the day of slack below stay in range.
            let first = super::rules::check_month(year, month)?;
            let next = first
                .checked_add_months(chrono::Months::new(1))
                .expect("the month after a bounded one exists");
            // A day of slack on each side covers every time zone; the local date decides.
            let from = Utc.from_utc_datetime(&first.and_hms_opt(0, 0, 0).expect("midnight"))
                - Duration::days(1);
            let to = Utc.from_utc_datetime(&next.and_hms_opt(0, 0, 0).expect("midnight"))
                + Duration::days(1);
            let events = ssr::services()?
                .event_queries
                .list_between(from, to)
                .await?;
            Ok(events
                .into_iter()
                .filter(|e| e.local_starts_at.year() == year && e.local_starts_at.month() == month)
                .collect())
        }
        .await,
    )
}

/// Published events per category starting this month, drawn as a bar chart in the page's
/// language and direction, with its numbers. Anyone may ask.
#[server]
pub async fn get_month_chart() -> Result<crate::ui::chart::ChartData, AppError> {
    use crate::events::EventStatus;
    use crate::i18n::{Locale, Msg};
    use crate::ssr;
    use crate::ui::chart::{ChartData, ChartRow, Kind, Plot};
    use chrono::{Datelike, Months, TimeZone, Utc};
    ssr::with_status(
        async {
            let locale = use_context::<Locale>().unwrap_or_default();
            let today = Utc::now().date_naive();
            let first = today.with_day(1).expect("day 1 exists");
            let next = first
                .checked_add_months(Months::new(1))
                .expect("next month exists");
            let at = |d: chrono::NaiveDate| {
                Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
            };
            let events = ssr::services()?
                .event_queries
                .list_between(at(first), at(next))
                .await?;
            let counts: Vec<(String, i64)> = Category::ALL
                .into_iter()
                .map(|c| {
                    let n = events
                        .iter()
                        .filter(|e| e.category == c && e.status == EventStatus::Published)
                        .count();
                    (c.label().text(locale).to_owned(), n as i64)
                })
                .collect();
            let title = crate::i18n::fill(
                Msg::HomeChartTitle.text(locale),
                &[("month", &crate::i18n::month_title(locale, first))],
            );
            let series = Msg::HomeChartEvents.text(locale);
            let plot = Plot {
                kind: Kind::Bar,
                title: &title,
                labels: counts.iter().map(|(l, _)| l.clone()).collect(),
                series: vec![(
                    series.to_owned(),
                    counts.iter().map(|(_, n)| *n as f64).collect(),
                )],
            };
            Ok(ChartData {
                id: "month-categories".into(),
                svg: plot.svg(locale.dir() == "rtl")?,
                title,
                label_header: Msg::EventsFilterCategory.text(locale).to_owned(),
                columns: vec![series.to_owned()],
                rows: counts
                    .into_iter()
                    .map(|(label, n)| ChartRow {
                        label,
                        values: vec![n.to_string()],
                    })
                    .collect(),
            })
        }
        .await,
    )
}

/// Upcoming events an admin featured, for the home page. Anyone may ask.
#[server]
pub async fn get_featured() -> Result<Vec<EventListItem>, AppError> {
    use crate::ssr;
    ssr::with_status(ssr::services()?.event_queries.featured(6).await)
}
