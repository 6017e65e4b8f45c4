use crate::error::AppError;
use crate::events::queries::list_month_events;
use crate::events::rules::check_month;
use crate::events::{EventListItem, EventStatus};
use crate::i18n::{Locale, Msg, WEEKDAYS, fill, month_title, t, use_locale};
use chrono::{Datelike, Months, NaiveDate, Utc, Weekday};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Events listed in a day cell before "+N more".
const PER_DAY: usize = 3;

/// The month in `?month=YYYY-MM` as (year, month) numbers, or the current month when the
/// parameter is absent or not two numbers; whether the numbers name a month within the bounds
/// is [`check_month`]'s to judge (the page then says which is wrong).
fn month_of(param: Option<String>) -> (i32, u32) {
    let number = |text: &str| {
        (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse::<u32>().unwrap_or(u32::MAX))
    };
    let read = param
        .as_deref()
        .map(str::trim)
        .and_then(|p| p.split_once('-'));
    match read.map(|(y, m)| (number(y), number(m))) {
        Some((Some(year), Some(month))) => (i32::try_from(year).unwrap_or(i32::MAX), month),
        _ => {
            let today = Utc::now().date_naive();
            (today.year(), today.month())
        }
    }
}

fn month_href(date: NaiveDate) -> String {
    format!("/calendar?month={}", date.format("%Y-%m"))
}

/// What the page shows for a month it cannot show: which part is wrong and why.
fn refused(err: &AppError, locale: Locale) -> String {
    let fields = err.field_errors();
    if fields.is_empty() {
        return err.text(locale);
    }
    fields
        .into_iter()
        .map(|(field, problem)| {
            let name = if field == "year" {
                t(Msg::CalendarYear)
            } else {
                t(Msg::CalendarMonth)
            };
            format!("{name}: {}", problem.text(locale))
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// `/calendar`: a month grid (weeks start where the language is read: Sunday in Hebrew, Monday
/// otherwise) with each day's events; plain links, no script needed.
#[component]
pub fn CalendarPage() -> impl IntoView {
    let locale = use_locale();
    let query = use_query_map();
    let month = move || month_of(query.read().get("month"));
    let events = Resource::new(month, |(year, month)| list_month_events(year, month));
    view! {
        <Title text=t(Msg::CalendarTitle)/>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let (year, number) = month();
                let events = events.await;
                match check_month(year, number).and_then(|first| events.map(|e| (first, e))) {
                    Ok((first, events)) => {
                        let prev = first.checked_sub_months(Months::new(1)).unwrap_or(first);
                        let next = first.checked_add_months(Months::new(1)).unwrap_or(first);
                        let heading = month_title(locale, first);
                        view! {
                        <section class="calendar">
                            <div class="calendar-head">
                                <a class="btn btn-ghost" href=month_href(prev) rel="prev">{t(Msg::CalendarPrev)}</a>
                                <h1>{heading}</h1>
                                <a class="btn btn-ghost" href=month_href(next) rel="next">{t(Msg::CalendarNext)}</a>
                            </div>
                            {events.is_empty().then(|| view! { <p class="muted center">{t(Msg::CalendarEmpty)}</p> })}
                            <div class="calendar-grid" role="grid">
                                {weekdays(locale.week_start()).into_iter().map(|d| view! { <div class="calendar-weekday" role="columnheader">{t(d)}</div> }).collect_view()}
                                {month_cells(first, locale.week_start()).into_iter().map(|day| view! { <DayCell day first events=events.clone()/> }).collect_view()}
                            </div>
                        </section>
                        }.into_any()
                    }
                    Err(e) => {
                        crate::ui::set_error_status(&e);
                        view! {
                            <h1>{t(Msg::CalendarTitle)}</h1>
                            <p class="alert alert-error" role="alert" data-testid="calendar-error">{refused(&e, locale)}</p>
                            <p><a class="btn btn-ghost" href="/calendar">{t(Msg::CalendarToday)}</a></p>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// The weekday names in the order a week starting on `start` shows them.
fn weekdays(start: Weekday) -> Vec<Msg> {
    let offset = start.num_days_from_monday() as usize;
    (0..7).map(|i| WEEKDAYS[(offset + i) % 7]).collect()
}

/// The days shown for a month: whole weeks, each starting on `week_start`.
fn month_cells(first: NaiveDate, week_start: Weekday) -> Vec<NaiveDate> {
    let before =
        (first.weekday().num_days_from_monday() + 7 - week_start.num_days_from_monday()) % 7;
    let start = first - chrono::Duration::days(before as i64);
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
    fn a_month_grid_is_whole_weeks_starting_where_the_language_starts_them() {
        let november = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        let date = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        let monday_first = month_cells(november, Locale::En.week_start());
        assert_eq!(monday_first.len() % 7, 0);
        assert_eq!(monday_first[0], date(10, 26));
        assert!(monday_first.contains(&date(11, 30)));
        // 1 November 2026 is a Sunday: the Hebrew grid starts on it.
        let sunday_first = month_cells(november, Locale::He.week_start());
        assert_eq!(sunday_first[0], date(11, 1));
        assert_eq!(sunday_first.len() % 7, 0);
        assert!(sunday_first.contains(&date(11, 30)));
        assert_eq!(month_cells(date(12, 1), Weekday::Sun)[0], date(11, 29));
        for cells in [monday_first, sunday_first] {
            assert!(cells.windows(2).all(|w| (w[1] - w[0]).num_days() == 1));
        }
        assert_eq!(weekdays(Weekday::Mon), WEEKDAYS);
        assert_eq!(weekdays(Weekday::Sun)[0], WEEKDAYS[6]);
        assert_eq!(weekdays(Weekday::Sun)[1], WEEKDAYS[0]);
    }

    #[test]
    fn a_month_parameter_is_read_as_two_numbers_or_falls_back_to_this_month() {
        assert_eq!(month_of(Some("2027-02".into())), (2027, 2));
        assert_eq!(month_of(Some(" 2027-2 ".into())), (2027, 2));
        let today = Utc::now().date_naive();
        let this = (today.year(), today.month());
        assert_eq!(month_of(None), this);
        assert_eq!(month_of(Some("nonsense".into())), this);
        assert_eq!(month_of(Some("-5-01".into())), this);
        // Numbers out of the bounds are kept, so the page can say what is wrong with them.
        assert_eq!(month_of(Some("2026-13".into())), (2026, 13));
        assert_eq!(month_of(Some("99999999999-01".into())), (i32::MAX, 1));
        assert!(check_month(2026, 13).is_err());
        assert!(check_month(i32::MAX, 1).is_err());
        assert!(check_month(0, 1).is_err());
    }
}
