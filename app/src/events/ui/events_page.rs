use super::EventCard;
use crate::bookings::ui::{CardReactions, provide_card_marks};
use crate::events::queries::list_events;
use crate::events::{Category, EventSearch, EventSort};
use crate::i18n::{Msg, fill, t, use_locale};
use crate::ui::urlencode;
use chrono::{NaiveDate, TimeZone, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::params::ParamsMap;
use std::time::Duration;

pub const PER_PAGE: i64 = 12;

/// Reads a search from the URL, so a search can be shared and the back button works.
/// Unknown or malformed values are ignored rather than failing the page.
pub fn search_from_query(q: &ParamsMap) -> EventSearch {
    let text = |k: &str| {
        q.get(k)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let date = |k: &str| text(k).and_then(|v| NaiveDate::parse_from_str(&v, "%Y-%m-%d").ok());
    EventSearch {
        q: text("q"),
        category: text("category").and_then(|c| Category::from_code(&c)),
        city: text("city"),
        from: date("from")
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| Utc.from_utc_datetime(&d)),
        to: date("to")
            .and_then(|d| d.and_hms_opt(23, 59, 59))
            .map(|d| Utc.from_utc_datetime(&d)),
        price_max: text("price_max")
            .and_then(|p| p.replace(',', ".").parse::<f64>().ok())
            .map(|p| (p * 100.0).round() as i64),
        free: text("free").is_some(),
        available: text("available").is_some(),
        sort: text("sort")
            .and_then(|s| EventSort::from_code(&s))
            .unwrap_or_default(),
        // Leniently, as the rest: past the deepest page is the deepest page.
        page: text("page")
            .and_then(|p| p.parse().ok())
            .unwrap_or(1)
            .clamp(1, crate::events::rules::PAGE_MAX),
        per_page: PER_PAGE,
    }
}

/// The same URL with another page number.
fn page_href(q: &ParamsMap, page: i64) -> String {
    let mut pairs: Vec<String> = q
        .clone()
        .into_iter()
        .filter(|(k, _)| k != "page")
        .map(|(k, v)| format!("{k}={}", urlencode(&v)))
        .collect();
    pairs.push(format!("page={page}"));
    format!("/events?{}", pairs.join("&"))
}

/// `/events`: search with filters, sort and pages. A plain GET form, so it works without scripts.
#[component]
pub fn EventsPage() -> impl IntoView {
    provide_card_marks();
    let locale = use_locale();
    let query = use_query_map();
    let results = Resource::new(move || search_from_query(&query.get()), list_events);
    let value = move |k: &'static str| move || query.read().get(k).unwrap_or_default();
    let checked = move |k: &'static str| move || query.read().get(k).is_some();
    // With scripts, results follow the search box as the person types (after a pause), keeping
    // the other filters; the URL stays the source of truth.
    let navigate = use_navigate();
    let typing: StoredValue<Option<TimeoutHandle>> = StoredValue::new(None);
    let on_type = move |ev| {
        let text = event_target_value(&ev);
        if let Some(pending) = typing.get_value() {
            pending.clear();
        }
        let navigate = navigate.clone();
        let current = query.get_untracked();
        let handle = set_timeout_with_handle(
            move || {
                let mut pairs: Vec<String> = current
                    .into_iter()
                    .filter(|(k, _)| k != "q" && k != "page")
                    .map(|(k, v)| format!("{k}={}", urlencode(&v)))
                    .collect();
                if !text.trim().is_empty() {
                    pairs.push(format!("q={}", urlencode(&text)));
                }
                let options = NavigateOptions {
                    replace: true,
                    scroll: false,
                    ..Default::default()
                };
                navigate(&format!("/events?{}", pairs.join("&")), options);
            },
            Duration::from_millis(300),
        )
        .ok();
        typing.set_value(handle);
    };
    view! {
        <Title text=t(Msg::EventsTitle)/>
        <section class="page-head">
            <h1>{t(Msg::EventsTitle)}</h1>
            <p class="muted">{t(Msg::EventsLead)}</p>
        </section>
        <form class="search-form panel" method="get" action="/events" role="search">
            <div class="search-main">
                <label class="visually-hidden" for="q">{t(Msg::EventsSearchLabel)}</label>
                <input id="q" name="q" type="search" placeholder=t(Msg::EventsSearchPlaceholder) prop:value=value("q") value=value("q")
                    on:input=on_type/>
                <button class="btn btn-primary" type="submit">{t(Msg::EventsApply)}</button>
            </div>
            <div class="filters">
                <label>
                    <span>{t(Msg::EventsFilterCategory)}</span>
                    <select name="category">
                        <option value="">{t(Msg::EventsAnyCategory)}</option>
                        {Category::ALL.into_iter().map(|c| {
                            let selected = move || query.read().get("category").as_deref() == Some(c.code());
                            view! { <option value=c.code() selected=selected>{t(c.label())}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label><span>{t(Msg::EventsFilterCity)}</span><input name="city" prop:value=value("city") value=value("city")/></label>
                <label><span>{t(Msg::EventsFilterFrom)}</span><input name="from" type="date" prop:value=value("from") value=value("from")/></label>
                <label><span>{t(Msg::EventsFilterTo)}</span><input name="to" type="date" prop:value=value("to") value=value("to")/></label>
                <label><span>{t(Msg::EventsFilterPriceMax)}</span>
                    <input name="price_max" type="number" min="0" step="1" inputmode="numeric" prop:value=value("price_max") value=value("price_max")/>
                </label>
                <label>
                    <span>{t(Msg::EventsSort)}</span>
                    <select name="sort">
                        {[("soonest", Msg::EventsSortSoonest), ("relevance", Msg::EventsSortRelevance), ("newest", Msg::EventsSortNewest), ("popularity", Msg::EventsSortPopularity), ("price", Msg::EventsSortPrice)]
                            .into_iter()
                            .map(|(code, label)| {
                                let selected = move || query.read().get("sort").as_deref() == Some(code);
                                view! { <option value=code selected=selected>{t(label)}</option> }
                            })
                            .collect_view()}
                    </select>
                </label>
                <label class="check"><input name="free" type="checkbox" prop:checked=checked("free") checked=checked("free")/><span>{t(Msg::EventsFilterFree)}</span></label>
                <label class="check"><input name="available" type="checkbox" prop:checked=checked("available") checked=checked("available")/><span>{t(Msg::EventsFilterAvailable)}</span></label>
                <a class="btn btn-ghost" href="/events">{t(Msg::EventsReset)}</a>
            </div>
        </form>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match results.await {
                    Ok(page) => {
                        let pages = ((page.total + page.per_page - 1) / page.per_page).max(1);
                        let q = query.get_untracked();
                        let prev = (page.page > 1).then(|| page_href(&q, page.page - 1));
                        let more = page.page < pages
                            || (!page.total_exact && page.items.len() as i64 == page.per_page);
                        let next = more.then(|| page_href(&q, page.page + 1));
                        let found = if page.total_exact { Msg::EventsResults } else { Msg::EventsResultsMany };
                        view! {
                            <p class="results-count" role="status">{fill(t(found), &[("total", &page.total)])}</p>
                            {if page.items.is_empty() {
                                view! { <p class="empty panel">{t(Msg::EventsEmpty)}</p> }.into_any()
                            } else {
                                view! {
                                    <div class="event-grid">
                                        {page.items.into_iter().map(|item| {
                                            let event_id = item.id;
                                            view! { <EventCard item reactions=move || view! { <CardReactions event_id/> }/> }
                                        }).collect_view()}
                                    </div>
                                }.into_any()
                            }}
                            <crate::ui::Pager prev next page=page.page pages/>
                        }.into_any()
                    }
                    Err(e) => view! { <p class="alert alert-error" role="alert">{e.text(locale)}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}
