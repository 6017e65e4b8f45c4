//! The booking part of the event page (`/events/:id`): one form per ticket type, and where a
//! new registration stands after booking.
use crate::bookings::commands::BookSeats;
use crate::bookings::queries::{get_registration, new_booking_token};
use crate::bookings::{RegistrationId, RegistrationStatus};
use crate::events::{EventDetail, EventStatus};
use crate::i18n::{Msg, fill, t, use_locale};
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
    // One token per form shown; a new one after each booking (a second booking is wanted).
    let token = Resource::new(move || book.version().get(), |_| new_booking_token());
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
                        let form_token = token.await.unwrap_or_default();
                        let feed = use_context::<crate::bookings::live::SeatsFeed>();
                        types.into_iter().map(|tt| {
                            let (type_id, rendered) = (tt.id, tt.remaining);
                            let label = move || {
                                let left = feed.map_or(rendered, |f| f.type_remaining(type_id, rendered));
                                if left <= 0 { t(Msg::BookingJoinWaitlist) } else { t(Msg::BookingBook) }
                            };
                            let select_id = format!("quantity-{}", tt.id);
                            let form_token = form_token.clone();
                            view! {
                                <ActionForm action=book attr:class="booking-form">
                                    <input type="hidden" name="event_id" value=item.id.to_string()/>
                                    <input type="hidden" name="ticket_type_id" value=tt.id.to_string()/>
                                    <input type="hidden" name="form_token" value=form_token/>
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
            .and_then(|v| v.parse::<RegistrationId>().ok())
    };
    // Seat changes pushed to the page may be this visitor's group leaving the waitlist.
    let changes = use_context::<crate::bookings::live::SeatsFeed>().map(|f| f.changes);
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
