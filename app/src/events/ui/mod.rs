//! Event pages: search (`/events`) and details (`/events/:id`), and the card both lists use.
mod agent_page;
mod calendar_page;
mod event_form;
mod event_page;
mod events_page;

pub use agent_page::AgentPage;
pub use calendar_page::CalendarPage;
pub use event_form::{EditEventPage, NewEventPage};
pub use event_page::EventPage;
pub use events_page::EventsPage;

use super::EventListItem;
use crate::i18n::{Msg, fill, format_local, t, use_locale};
use leptos::prelude::*;

/// The price line of a card: "Free" or "From 45.00 ILS".
pub fn price_text(item: &EventListItem) -> Option<String> {
    item.min_price.as_ref().map(|p| {
        if p.amount == 0 {
            t(Msg::EventFree).to_owned()
        } else {
            fill(t(Msg::EventFromPrice), &[("price", &p.display())])
        }
    })
}

/// An event in a list: category, title, when, where, price and seats. `reactions` is drawn at
/// the foot of the card (the page's like / save toggles, where it has them).
#[component]
pub fn EventCard(
    item: EventListItem,
    #[prop(optional, into)] reactions: Option<ViewFn>,
) -> impl IntoView {
    let locale = use_locale();
    let href = format!("/events/{}", item.id);
    let seats = if item.remaining_seats > 0 {
        fill(t(Msg::EventSeatsLeft), &[("n", &item.remaining_seats)])
    } else {
        t(Msg::EventSoldOut).to_owned()
    };
    view! {
        <article class=format!("event-card category-{}", item.category.code())>
            {match item.image_url.as_deref() {
                Some(url) => view! {
                    <img class="event-card-image" src=crate::events::image_small_url(url) alt="" loading="lazy"
                        width="640" height="360"/>
                }.into_any(),
                None => view! { <div class="event-card-band" aria-hidden="true"></div> }.into_any(),
            }}
            <div class="event-card-body">
                <p class="event-card-category">{t(item.category.label())}</p>
                <h3 dir="auto"><a href=href>{item.title.clone()}</a></h3>
                <p class="event-card-when">
                    <time datetime=item.starts_at.to_rfc3339()>{format_local(locale, item.local_starts_at)}</time>
                </p>
                <p class="event-card-where">{format!("{} · {}", item.venue, item.city)}</p>
                <p class="event-card-meta">
                    <span class="price">{price_text(&item)}</span>
                    <span class="seats">{seats}</span>
                </p>
                {reactions.map(|reactions| reactions.run())}
            </div>
        </article>
    }
}
