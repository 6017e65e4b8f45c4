//! On `/me`: the private calendar feed of one's bookings — its address to copy into a calendar
//! app, a new address (the old one stops) or no feed at all.
use crate::auth::security::{RenewCalendarFeed, StopCalendarFeed, my_calendar_feed};
use crate::i18n::{Msg, t};
use leptos::prelude::*;

#[component]
pub fn CalendarFeedPanel() -> impl IntoView {
    let renew = ServerAction::<RenewCalendarFeed>::new();
    let stop = ServerAction::<StopCalendarFeed>::new();
    let feed = Resource::new(
        move || (renew.version().get(), stop.version().get()),
        |_| my_calendar_feed(),
    );
    view! {
        <section class="panel" id="calendar-feed" aria-labelledby="feed-title" data-testid="calendar-feed">
            <h2 id="feed-title">{t(Msg::FeedTitle)}</h2>
            <p class="muted">{t(Msg::FeedLead)}</p>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match feed.await.ok().flatten() {
                        Some(address) => view! {
                            <label for="feed-address">{t(Msg::FeedAddress)}</label>
                            <input id="feed-address" class="feed-address" type="text" readonly=true dir="ltr"
                                value=address.clone() data-testid="feed-address"/>
                            <div class="inline-form">
                                <ActionForm action=renew>
                                    <button class="btn btn-ghost" type="submit" data-testid="feed-renew">{t(Msg::FeedRenew)}</button>
                                </ActionForm>
                                <ActionForm action=stop>
                                    <button class="btn btn-ghost" type="submit" data-testid="feed-stop">{t(Msg::FeedStop)}</button>
                                </ActionForm>
                            </div>
                        }.into_any(),
                        None => view! {
                            <ActionForm action=renew>
                                <button class="btn btn-primary" type="submit" data-testid="feed-create">{t(Msg::FeedCreate)}</button>
                            </ActionForm>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
