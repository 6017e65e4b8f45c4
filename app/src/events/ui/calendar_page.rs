use crate::events::queries::list_month_events;
use crate::events::{EventListItem, EventStatus};
use crate::i18n::{Msg, WEEKDAYS, fill, month_title, t, use_locale};
use chrono::{Datelike, Months, NaiveDate, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Events listed in a day cell before "+N more".
const PER_DAY: usize = 3;

/// The month in `?month=YYYY-MM`, or the current one.
fn month_of(param: Option<String>) -> NaiveDate {
    param
        .and_then(|m| NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").ok())
        .unwrap_or_else(|| Utc::now().date_naive().with_day(1).expect("day 1 exists"))
}

fn month_href(date: NaiveDate) -> String {
    format!("/calendar?month={}", date.format("%Y-%m"))
}

/// `/calendar`: a month grid (Monday first) with each day's events; plain links, no script needed.
#[component]
pub fn CalendarPage() -> impl IntoView {
    let locale = use_locale();
    let query = use_query_map();
    let month = move || month_of(query.read().get("month"));
    let events = Resource::new(month, |m| list_month_events(m.year(), m.month()));
    view! {
        <Title text=t(Msg::CalendarTitle)/>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let first = month();
                let events = events.await;
                let prev = first.checked_sub_months(Months::new(1)).unwrap_or(first);
                let next = first.checked_add_months(Months::new(1)).unwrap_or(first);
                let heading = month_title(locale, first);
                match events {
                    Ok(events) => view! {
                        <section class="calendar">
                            <div class="calendar-head">
                                <a class="btn btn-ghost" href=month_href(prev) rel="prev">{t(Msg::CalendarPrev)}</a>
                                <h1>{heading}</h1>
                                <a class="btn btn-ghost" href=month_href(next) rel="next">{t(Msg::CalendarNext)}</a>
                            </div>
                            {events.is_empty().then(|| view! { <p class="muted center">{t(Msg::CalendarEmpty)}</p> })}
                            <div class="calendar-grid" role="grid">
                                {WEEKDAYS.iter().map(|d| view! { <div class="calendar-weekday" role="columnheader">{t(*d)}</div> }).collect_view()}
                                {month_cells(first).into_iter().map(|day| view! { <DayCell day first events=events.clone()/> }).collect_view()}
                            </div>
                        </section>
                    }.into_any(),
                    Err(e) => view! { <p class="alert alert-error" role="alert">{e.text(locale)}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The days shown for a month: whole weeks, Monday first.
fn month_cells(first: NaiveDate) -> Vec<NaiveDate> {
    let start = first - chrono::Duration::days(first.weekday().num_days_from_monday() as i64);
    let next = first
        .checked_add_months(Months::new(1))
        .expect("next month exists");
    let days = (next - start).num_days();
    let weeks = (days + 6) / 7;
    (0..weeks * 7)
        .map(|i| start + chrono::Duration::days(i))
        .collect()
}

#[component]
fn DayCell(day: NaiveDate, first: NaiveDate, events: Vec<EventListItem>) -> impl IntoView {
    let in_month = day.month() == first.month();
    let todays: Vec<_> = events
        .into_iter()
        .filter(|e| e.local_starts_at.date() == day)
        .collect();
    let more = todays.len().saturating_sub(PER_DAY);
    let date = day.format("%Y-%m-%d").to_string();
    view! {
        <div class="calendar-day" class:outside=!in_month role="gridcell">
            <span class="calendar-date">{day.day()}</span>
            <ul>
                {todays.into_iter().take(PER_DAY).map(|e| {
                    let cancelled = e.status == EventStatus::Cancelled;
                    view! {
                        <li class=format!("category-{}", e.category.code()) class:cancelled=cancelled>
                            <a href=format!("/events/{}", e.id) dir="auto">
                                <span class="calendar-time">{e.local_starts_at.format("%H:%M").to_string()}</span>
                                " " {e.title}
                            </a>
                        </li>
                    }
                }).collect_view()}
            </ul>
            {(more > 0).then(|| view! {
                <a class="calendar-more" href=format!("/events?from={date}&to={date}")>{fill(t(Msg::CalendarMore), &[("n", &more)])}</a>
            })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_grid_is_whole_weeks_starting_on_monday() {
        let days = month_cells(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap());
        assert_eq!(days.len() % 7, 0);
        assert_eq!(days[0], NaiveDate::from_ymd_opt(2026, 10, 26).unwrap());
        assert!(days.contains(&NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()));
    }

    #[test]
    fn a_bad_month_parameter_falls_back_to_this_month() {
        assert_eq!(
            month_of(Some("2027-02".into())),
            NaiveDate::from_ymd_opt(2027, 2, 1).unwrap()
        );
        assert_eq!(month_of(Some("nonsense".into())).day(), 1);
    }
}
