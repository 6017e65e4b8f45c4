//! The tickets on `/me` (`/me#tickets`): the user's bookings with their QR codes, waitlist
//! places and cancel buttons.
use crate::bookings::commands::CancelBooking;
use crate::bookings::queries::my_registrations;
use crate::bookings::{MyRegistration, Payment, Registration, RegistrationStatus, TicketStatus};
use crate::i18n::{Msg, fill, format_local, t, use_locale};
use leptos::prelude::*;

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
        crate::bookings::rules::holder_may_cancel(r.status, event.starts_at, chrono::Utc::now());
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
