//! Likes and saves: the reaction bar of the event page (`/events/:id`) and the toggles on event
//! cards (the home page, `/events` and `/me`).
use crate::bookings::Reaction;
use crate::bookings::commands::SetReaction;
use crate::bookings::queries::{get_my_marks, get_my_reactions_on};
use crate::i18n::{Msg, fill, t};
use crate::ui::layout::use_auth;
use leptos::prelude::*;

/// One like or save toggle: a plain form that sets the mark when it is off and clears it
/// when it is on (pages and cards share it).
fn reaction_toggle(
    set: ServerAction<SetReaction>,
    event_id: crate::events::EventId,
    r: Reaction,
    on: bool,
    text: String,
    title: Option<&'static str>,
) -> AnyView {
    view! {
        <ActionForm action=set attr:class="reaction-form">
            <input type="hidden" name="event_id" value=event_id.to_string()/>
            <input type="hidden" name="kind" value=r.code()/>
            <input type="hidden" name="on" value=(!on).to_string()/>
            <button class="btn btn-ghost btn-sm reaction" type="submit" aria-pressed=on.to_string()
                title=title data-reaction=r.code()>{text}</button>
        </ActionForm>
    }
    .into_any()
}

/// Like and save on the event page: counts for everyone, toggles for signed-in users (plain
/// forms, so they work without scripts too).
#[component]
pub fn ReactionBar(event_id: crate::events::EventId, likes: i64, saves: i64) -> impl IntoView {
    let auth = use_auth();
    let set = ServerAction::<SetReaction>::new();
    let mine = Resource::new(
        move || set.version().get(),
        move |_| get_my_reactions_on(event_id),
    );
    // Counts move with this visitor's own toggles; the page's numbers were read without them.
    let base = Resource::new(|| (), move |_| get_my_reactions_on(event_id));
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let signed_in = matches!(auth.user.await, Ok(Some(_)));
                let now: Vec<Reaction> = mine.await.unwrap_or_default();
                let before: Vec<Reaction> = base.await.unwrap_or_default();
                let count = |r: Reaction, n: i64| n + i64::from(now.contains(&r)) - i64::from(before.contains(&r));
                let item = |r: Reaction, n: i64, label: Msg, undo: Msg| {
                    let on = now.contains(&r);
                    let text = fill(t(label), &[("n", &count(r, n))]);
                    if signed_in {
                        reaction_toggle(set, event_id, r, on, text, Some(t(undo)))
                    } else {
                        view! { <span class="reaction" data-reaction=r.code()>{text}</span> }.into_any()
                    }
                };
                view! {
                    <div class="reactions">
                        {item(Reaction::Like, likes, Msg::ReactionLikes, Msg::ReactionLikeToggle)}
                        {item(Reaction::Save, saves, Msg::ReactionSaves, Msg::ReactionSaveToggle)}
                    </div>
                }
            })}
        </Transition>
    }
}

/// The signed-in visitor's likes and saves for the cards of a page: one request for all cards,
/// refreshed after each toggle.
#[derive(Clone, Copy)]
pub struct CardMarks {
    set: ServerAction<SetReaction>,
    marks: Resource<Result<Vec<(crate::events::EventId, Reaction)>, crate::error::AppError>>,
}

/// Turns on like / save toggles for the event cards below (call once per page).
pub fn provide_card_marks() -> CardMarks {
    let set = ServerAction::<SetReaction>::new();
    let marks = Resource::new(move || set.version().get(), |_| get_my_marks());
    let card_marks = CardMarks { set, marks };
    provide_context(card_marks);
    card_marks
}

/// Like and save toggles on an event card (signed-in visitors; plain forms underneath).
#[component]
pub fn CardReactions(event_id: crate::events::EventId) -> impl IntoView {
    let auth = use_auth();
    let card_marks = use_context::<CardMarks>();
    card_marks.map(|CardMarks { set, marks }| {
        view! {
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let signed_in = matches!(auth.user.await, Ok(Some(_)));
                    let marks = marks.await.unwrap_or_default();
                    signed_in.then(|| {
                        let toggle = |r: Reaction, label: Msg| {
                            let on = marks.contains(&(event_id, r));
                            reaction_toggle(set, event_id, r, on, t(label).to_owned(), None)
                        };
                        view! {
                            <div class="reactions card-reactions">
                                {toggle(Reaction::Like, Msg::ReactionLike)}
                                {toggle(Reaction::Save, Msg::ReactionSave)}
                            </div>
                        }
                    })
                })}
            </Transition>
        }
    })
}
