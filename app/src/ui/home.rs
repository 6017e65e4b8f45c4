//! The home page: what EventHub is, what is coming up, and the categories to browse.
use crate::bookings::ui::{CardReactions, provide_card_marks};
use crate::events::queries::{
    get_category_counts, get_featured, get_month_chart, get_trending, list_events,
};
use crate::events::ui::EventCard;
use crate::events::{Category, EventListItem, EventSearch};
use crate::i18n::{Msg, t};
use crate::ui::chart::Chart;
use crate::ui::layout::use_auth;
use leptos::prelude::*;
use leptos_meta::Title;

/// An event card with its like / save toggles.
fn card(item: EventListItem) -> impl IntoView {
    let event_id = item.id;
    view! { <EventCard item reactions=move || view! { <CardReactions event_id/> }/> }
}

#[component]
pub fn HomePage() -> impl IntoView {
    provide_card_marks();
    let auth = use_auth();
    let upcoming = Resource::new(
        || (),
        |_| {
            list_events(EventSearch {
                per_page: 6,
                page: 1,
                ..Default::default()
            })
        },
    );
    let counts = Resource::new(|| (), |_| get_category_counts());
    let trending = Resource::new(|| (), |_| get_trending());
    let featured = Resource::new(|| (), |_| get_featured());
    let chart = Resource::new(|| (), |_| get_month_chart());
    let cta = move || {
        Suspend::new(async move {
            match auth.user.await {
                Ok(Some(_)) => view! { <a class="btn btn-primary btn-lg" href="/me">{t(Msg::HomeCtaProfile)}</a> }.into_any(),
                _ => view! { <a class="btn btn-primary btn-lg" href="/register">{t(Msg::HomeCtaRegister)}</a> }.into_any(),
            }
        })
    };
    view! {
        <Title text=t(Msg::AppTagline)/>
        <section class="hero">
            <div class="hero-text">
                <h1>{t(Msg::HomeHeroTitle)}</h1>
                <p class="lead">{t(Msg::HomeHeroLead)}</p>
                <Transition fallback=|| ()>{cta}</Transition>
            </div>
            <div class="hero-art" aria-hidden="true">
                <div class="ticket-art">
                    <span class="ticket-title">{t(Msg::AppName)}</span>
                    <span class="ticket-sub">{t(Msg::AppTagline)}</span>
                </div>
            </div>
        </section>
        <crate::assistant::ui::AssistantPanel/>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                featured.await.ok().filter(|list| !list.is_empty()).map(|list| view! {
                    <section aria-labelledby="featured-title" data-testid="featured">
                        <div class="section-head">
                            <h2 id="featured-title">{t(Msg::HomeFeaturedTitle)}</h2>
                        </div>
                        <div class="event-grid">
                            {list.into_iter().map(card).collect_view()}
                        </div>
                    </section>
                })
            })}
        </Transition>
        <section aria-labelledby="upcoming-title">
            <div class="section-head">
                <h2 id="upcoming-title">{t(Msg::HomeUpcomingTitle)}</h2>
                <a href="/events">{t(Msg::HomeSeeAll)}</a>
            </div>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match upcoming.await {
                        Ok(page) if !page.items.is_empty() => view! {
                            <div class="event-grid">
                                {page.items.into_iter().map(card).collect_view()}
                            </div>
                        }.into_any(),
                        _ => view! { <p class="muted">{t(Msg::HomeNoUpcoming)}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                trending.await.ok().filter(|list| !list.is_empty()).map(|list| view! {
                    <section aria-labelledby="trending-title">
                        <div class="section-head">
                            <h2 id="trending-title">{t(Msg::HomeTrendingTitle)}</h2>
                            <a href="/events?sort=popularity">{t(Msg::HomeSeeAll)}</a>
                        </div>
                        <div class="event-grid">
                            {list.into_iter().map(card).collect_view()}
                        </div>
                    </section>
                })
            })}
        </Transition>
        <section aria-labelledby="categories-title">
            <h2 id="categories-title">{t(Msg::HomeCategoriesTitle)}</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let counts = counts.await.unwrap_or_default();
                    view! {
                        <ul class="category-grid">
                            {Category::ALL
                                .into_iter()
                                .map(|c| {
                                    let n = counts.iter().find(|(k, _)| *k == c).map_or(0, |(_, n)| *n);
                                    view! {
                                        <li class=format!("category category-{}", c.code())>
                                            <a href=format!("/events?category={}", c.code())>
                                                <span class="category-dot" aria-hidden="true"></span>
                                                <span>{t(c.label())}</span>
                                                <span class="category-count">{n}</span>
                                            </a>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                })}
            </Transition>
        </section>
        <section class="panel chart-panel">
            <Transition fallback=|| ()>
                {move || Suspend::new(async move { chart.await.ok().map(|data| view! { <Chart data/> }) })}
            </Transition>
        </section>
        <section aria-labelledby="how-title">
            <h2 id="how-title">{t(Msg::HomeHowTitle)}</h2>
            <div class="card-grid">
                <article class="card">
                    <h3>{t(Msg::HomeHowFindTitle)}</h3>
                    <p>{t(Msg::HomeHowFindBody)}</p>
                </article>
                <article class="card">
                    <h3>{t(Msg::HomeHowBookTitle)}</h3>
                    <p>{t(Msg::HomeHowBookBody)}</p>
                </article>
                <article class="card">
                    <h3>{t(Msg::HomeHowHostTitle)}</h3>
                    <p>{t(Msg::HomeHowHostBody)}</p>
                </article>
            </div>
        </section>
    }
}
