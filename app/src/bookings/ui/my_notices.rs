//! The notices on `/me`: cancelled events, groups confirmed from the waitlist, decisions on
//! organizer requests.
use crate::bookings::queries::my_notices;
use crate::i18n::{Msg, fill, format_local, t, use_locale};
use leptos::prelude::*;

/// `/me`'s notices: cancelled events, groups confirmed from the waitlist.
#[component]
pub fn MyNotices() -> impl IntoView {
    let notices = Resource::new(|| (), |_| my_notices());
    let locale = use_locale();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                notices.await.ok().filter(|n| !n.is_empty()).map(|list| view! {
                    <section class="panel notices" aria-labelledby="notices-heading">
                        <h2 id="notices-heading">{t(Msg::MeNotices)}</h2>
                        <ul>
                            {list.into_iter().map(|n| {
                                let title = n.event_title.clone().unwrap_or_default();
                                let text = match n.kind.as_str() {
                                    "event_cancelled" => fill(t(Msg::NoticeEventCancelled), &[("title", &title), ("reason", &n.detail)]),
                                    "waitlist_confirmed" => fill(t(Msg::NoticeWaitlistConfirmed), &[("title", &title)]),
                                    "agent_approved" => t(Msg::NoticeAgentApproved).to_owned(),
                                    "agent_rejected" => fill(t(Msg::NoticeAgentRejected), &[("note", &n.detail)]),
                                    k if k.starts_with("webhook_") => crate::webhooks::ui::notice_text(k, &n.detail, locale).unwrap_or_default(),
                                    _ => fill(t(Msg::NoticeRegistrationCancelled), &[("title", &title)]),
                                };
                                view! {
                                    <li data-notice=n.kind.clone()>
                                        <time datetime=n.created_at.to_rfc3339() title=n.timezone.clone()>{format_local(locale, n.created_local)}</time>
                                        " " <span dir="auto">{text}</span>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    </section>
                })
            })}
        </Transition>
    }
}
