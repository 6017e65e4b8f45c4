//! Booking on the event page and the tickets on `/me`. Every form is a plain form underneath,
//! so booking and cancelling work without scripts.
use super::commands::{BookSeats, CancelBooking, SetReaction};
use super::queries::{
    get_my_marks, get_my_reactions, get_my_reactions_on, get_registration, my_notices,
    my_registrations,
};
use super::{MyRegistration, Payment, Reaction, Registration, RegistrationStatus, TicketStatus};
use crate::events::{EventDetail, EventStatus};
use crate::i18n::{Msg, fill, format_local, t, use_locale};
use crate::ui::form::form_error;
use crate::ui::layout::use_auth;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

/// The booking part of an event page: one form per ticket type, or why booking is closed.
#[component]
pub fn BookingPanel(event: EventDetail) -> impl IntoView {
    let auth = use_auth();
    let book = ServerAction::<BookSeats>::new();
    let error = form_error(
        move || book.value().get().map(|r| r.map(|_| ())),
        <BookSeats as ServerFn>::PATH,
    );
    let locale = use_locale();
    let item = event.item.clone();
    let open = item.status == EventStatus::Published && item.starts_at > chrono::Utc::now();
    let next = format!("/login?next=/events/{}", item.id);
    let types = event.ticket_types.clone();
    view! {
        <RegistrationOutcome/>
        {move || error.get().map(|e| {
            let text = e.field_errors().values().next().map(|p| p.text(locale)).unwrap_or_else(|| e.text(locale));
            view! { <p class="alert alert-error" role="alert">{text}</p> }
        })}
        <Transition fallback=|| ()>
            {
                let types = types.clone();
                let next = next.clone();
                move || {
                    let types = types.clone();
                    let next = next.clone();
                    Suspend::new(async move {
                        let signed_in = matches!(auth.user.await, Ok(Some(_)));
                        if !open {
                            return view! { <p class="muted">{t(Msg::BookingClosed)}</p> }.into_any();
                        }
                        if !signed_in {
                            return view! { <a class="btn btn-primary btn-block" href=next>{t(Msg::BookingSignIn)}</a> }.into_any();
                        }
                        let feed = use_context::<super::live::SeatsFeed>();
                        types.into_iter().map(|tt| {
                            let (type_id, rendered) = (tt.id, tt.remaining);
                            let label = move || {
                                let left = feed.map_or(rendered, |f| f.type_remaining(type_id, rendered));
                                if left <= 0 { t(Msg::BookingJoinWaitlist) } else { t(Msg::BookingBook) }
                            };
                            let select_id = format!("quantity-{}", tt.id);
                            view! {
                                <ActionForm action=book attr:class="booking-form">
                                    <input type="hidden" name="event_id" value=item.id.to_string()/>
                                    <input type="hidden" name="ticket_type_id" value=tt.id.to_string()/>
                                    <label for=select_id.clone()>{fill(t(Msg::BookingSeatsOf), &[("name", &tt.name)])}</label>
                                    <select id=select_id name="quantity">
                                        {(1..=tt.max_per_registration).map(|n| view! { <option value=n.to_string()>{n}</option> }).collect_view()}
                                    </select>
                                    <button class="btn btn-primary" type="submit" disabled=move || book.pending().get()>{label}</button>
                                </ActionForm>
                            }
                        }).collect_view().into_any()
                    })
                }
            }
        </Transition>
    }
}

/// After booking, the page shows where the new registration stands (`?registration=`).
#[component]
fn RegistrationOutcome() -> impl IntoView {
    let query = use_query_map();
    let id = move || {
        query
            .read()
            .get("registration")
            .and_then(|v| v.parse::<i64>().ok())
    };
    // Seat changes pushed to the page may be this visitor's group leaving the waitlist.
    let changes = use_context::<super::live::SeatsFeed>().map(|f| f.changes);
    let registration = Resource::new(
        move || (id(), changes.map(|c| c.get())),
        |(id, _)| async move {
            match id {
                Some(id) => get_registration(id).await.ok(),
                None => None,
            }
        },
    );
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                registration.await.map(|r| {
                    let text = match r.status {
                        RegistrationStatus::Confirmed => fill(t(Msg::BookingDoneConfirmed), &[("n", &r.quantity)]),
                        RegistrationStatus::Waitlisted => fill(t(Msg::BookingDoneWaitlisted), &[("position", &r.waitlist_position.unwrap_or(0))]),
                        RegistrationStatus::Cancelled => t(Msg::BookingCancelled).to_owned(),
                    };
                    view! {
                        <div class="alert alert-ok" role="status" data-testid="booking-outcome">
                            <p>{text}</p>
                            <a href="/me#tickets">{t(Msg::BookingSeeTickets)}</a>
                        </div>
                    }
                })
            })}
        </Transition>
    }
}

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

/// `/me`'s list of bookings: upcoming first, with tickets, waitlist places and cancel buttons.
#[component]
pub fn MyBookings() -> impl IntoView {
    let cancel = ServerAction::<CancelBooking>::new();
    let mine = Resource::new(move || cancel.version().get(), |_| my_registrations());
    let locale = use_locale();
    view! {
        <section class="panel" id="tickets" aria-labelledby="tickets-heading">
            <h2 id="tickets-heading">{t(Msg::MeTickets)}</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match mine.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="muted">{t(Msg::MeNoTickets)}" "<a href="/events">{t(Msg::HomeSeeAll)}</a></p>
                        }.into_any(),
                        Ok(list) => {
                            let now = chrono::Utc::now();
                            let (upcoming, past): (Vec<MyRegistration>, Vec<MyRegistration>) = list
                                .into_iter()
                                .partition(|m| m.event.ends_at > now && m.registration.status != RegistrationStatus::Cancelled);
                            view! {
                                <ul class="bookings">
                                    {upcoming.into_iter().map(|m| view! { <BookingItem mine=m cancel/> }).collect_view()}
                                </ul>
                                {(!past.is_empty()).then(|| view! {
                                    <h3>{t(Msg::MePastTickets)}</h3>
                                    <ul class="bookings bookings-past">
                                        {past.into_iter().map(|m| view! { <BookingItem mine=m cancel/> }).collect_view()}
                                    </ul>
                                })}
                            }.into_any()
                        }
                        Err(e) => view! { <p class="alert alert-error" role="alert">{e.text(locale)}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn BookingItem(mine: MyRegistration, cancel: ServerAction<CancelBooking>) -> impl IntoView {
    let locale = use_locale();
    let MyRegistration {
        registration: r,
        event,
    } = mine;
    let can_cancel =
        r.status != RegistrationStatus::Cancelled && event.starts_at > chrono::Utc::now();
    let status_text = match (r.status, r.waitlist_position) {
        (RegistrationStatus::Waitlisted, Some(p)) => {
            fill(t(Msg::BookingPosition), &[("position", &p)])
        }
        (status, _) => t(status.label()).to_owned(),
    };
    view! {
        <li class=format!("booking booking-{}", r.status.code()) data-registration=r.id.to_string()>
            <div class="booking-head">
                <a href=format!("/events/{}", event.id) dir="auto"><strong>{event.title.clone()}</strong></a>
                <span class="badge" data-testid="booking-status">{status_text}</span>
            </div>
            <p class="muted">
                <time datetime=event.starts_at.to_rfc3339()>{format_local(locale, event.local_starts_at)}</time>
                {format!(" · {} · {} × {}", event.venue, r.quantity, r.ticket_type_name)}
                {(r.payment == Payment::Unpaid && r.status == RegistrationStatus::Confirmed).then(|| view! { " · " {t(Msg::PaymentUnpaid)} })}
            </p>
            <Tickets registration=r.clone()/>
            {(r.status == RegistrationStatus::Confirmed).then(|| view! {
                <a class="btn btn-ghost btn-sm" href=format!("/tickets/{}", r.id)>{t(Msg::TicketOpen)}</a>
            })}
            {can_cancel.then(|| view! {
                <ActionForm action=cancel attr:class="inline-form">
                    <input type="hidden" name="id" value=r.id.to_string()/>
                    <button class="btn btn-ghost btn-sm" type="submit">{t(Msg::BookingCancel)}</button>
                </ActionForm>
            })}
        </li>
    }
}

/// The tickets of a confirmed registration, each with its QR code (SVG drawn by the server).
#[component]
fn Tickets(registration: Registration) -> impl IntoView {
    let valid: Vec<_> = registration
        .tickets
        .into_iter()
        .filter(|t| t.status == TicketStatus::Valid)
        .collect();
    (!valid.is_empty()).then(|| {
        let total = valid.len();
        view! {
            <ol class="tickets">
                {valid.into_iter().enumerate().map(|(i, ticket)| view! {
                    <li class="ticket">
                        <div class="qr" role="img" aria-label=fill(t(Msg::TicketQrLabel), &[("n", &(i + 1)), ("total", &total)]) inner_html=ticket.qr_svg.clone()></div>
                        <code class="ticket-code">{ticket.code.clone()}</code>
                    </li>
                }).collect_view()}
            </ol>
        }
    })
}

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
                            {m.saves.into_iter().map(|item| view! { <crate::events::ui::EventCard item/> }).collect_view()}
                        </div>
                        <h3>{t(Msg::MeLiked)}</h3>
                        <div class="event-grid">
                            {m.likes.into_iter().map(|item| view! { <crate::events::ui::EventCard item/> }).collect_view()}
                        </div>
                    </section>
                })
            })}
        </Transition>
    }
}
