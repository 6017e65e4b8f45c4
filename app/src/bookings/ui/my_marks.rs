//! The liked and saved events on `/me`, as cards with their like / save toggles.
use super::reactions::{CardReactions, provide_card_marks};
use crate::bookings::queries::get_my_reactions;
use crate::events::EventListItem;
use crate::events::ui::EventCard;
use crate::i18n::{Msg, t};
use leptos::prelude::*;

/// An event card with its like / save toggles.
fn card(item: EventListItem) -> impl IntoView {
    let event_id = item.id;
    view! { <EventCard item reactions=move || view! { <CardReactions event_id/> }/> }
}

/// `/me`'s liked and saved events.
#[component]
pub fn MyMarks() -> impl IntoView {
    provide_card_marks();
    let marks = Resource::new(|| (), |_| get_my_reactions());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                marks.await.ok().filter(|m| !m.likes.is_empty() || !m.saves.is_empty()).map(|m| view! {
                    <section class="panel" aria-labelledby="saved-heading">
                        <h2 id="saved-heading">{t(Msg::MeSaved)}</h2>
                        <div class="event-grid">
                            {m.saves.into_iter().map(card).collect_view()}
                        </div>
                        <h3>{t(Msg::MeLiked)}</h3>
                        <div class="event-grid">
                            {m.likes.into_iter().map(card).collect_view()}
                        </div>
                    </section>
                })
            })}
        </Transition>
    }
}
