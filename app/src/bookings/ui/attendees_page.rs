//! `/agent/events/:id/attendees`: the organizer's attendee list of one event (search, CSV,
//! mark paid, cancel). Every action is a plain form underneath.
use crate::bookings::commands::{CancelBooking, MarkPaid};
use crate::bookings::queries::get_attendees;
use crate::bookings::{ATTENDEES_PER_PAGE, Attendee, Payment, RegistrationStatus, TicketStatus};
use crate::error::AppError;
use crate::i18n::{Msg, fill, t, use_locale};
use crate::ui::form::{ErrorSummary, form_error};
use crate::ui::urlencode;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// `/agent/events/:id/attendees`.
#[component]
pub fn AttendeesPage() -> impl IntoView {
    let locale = use_locale();
    let id = crate::ui::id_param();
    let query = use_query_map();
    let q = move || query.read().get("q").unwrap_or_default();
    let page = move || {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(1)
    };
    let mark_paid = ServerAction::<MarkPaid>::new();
    let cancel = ServerAction::<CancelBooking>::new();
    let list = Resource::new(
        move || {
            (
                id.get(),
                q(),
                page(),
                mark_paid.version().get(),
                cancel.version().get(),
            )
        },
        |(id, q, page, ..)| async move {
            match id {
                Some(id) => get_attendees(id, q, page).await,
                None => Err(AppError::NotFound),
            }
        },
    );
    let errors = [
        form_error(
            move || mark_paid.value().get(),
            <MarkPaid as ServerFn>::PATH,
        ),
        form_error(
            move || cancel.value().get(),
            <CancelBooking as ServerFn>::PATH,
        ),
    ];
    let error = Signal::derive(move || errors.iter().find_map(|e| e.get()));
    view! {
        <Title text=t(Msg::AttendeesTitle)/>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let here = format!("/agent/events/{}/attendees", id.get_untracked().unwrap_or_default());
                match list.await {
                    Err(e) => crate::ui::refusal(e, &here, Msg::AgentOnly, locale),
                    Ok(list) => {
                        let pages = ((list.total + i64::from(ATTENDEES_PER_PAGE) - 1) / i64::from(ATTENDEES_PER_PAGE)).max(1);
                        let q_now = q();
                        let link = |page: u32| {
                            format!("{here}?q={}&page={page}", urlencode(&q_now))
                        };
                        let prev = (list.page > 1).then(|| link(list.page - 1));
                        let next = (i64::from(list.page) < pages).then(|| link(list.page + 1));
                        let csv = format!("/agent/events/{}/attendees.csv?q={}", list.door.event_id, urlencode(&q_now));
                        view! {
                            <div class="section-head">
                                <div>
                                    <h1>{t(Msg::AttendeesTitle)}</h1>
                                    <p class="muted" dir="auto"><a href=format!("/events/{}", list.door.event_id)>{list.door.event_title.clone()}</a></p>
                                    <p data-testid="door-count">
                                        {fill(t(Msg::AttendeesCount), &[("n", &list.total)])} " · "
                                        {fill(t(Msg::AttendeesDoor), &[("checked", &list.door.checked_in), ("tickets", &list.door.tickets)])}
                                    </p>
                                </div>
                                <div class="actions">
                                    <a class="btn btn-primary" href=format!("/agent/events/{}/check-in", list.door.event_id)>{t(Msg::AttendeesCheckIn)}</a>
                                    <a class="btn btn-ghost" href=csv rel="external" download="">{t(Msg::AttendeesCsv)}</a>
                                </div>
                            </div>
                            <ErrorSummary error/>
                            <form class="search-form panel" method="get" role="search">
                                <div class="search-main">
                                    <label class="visually-hidden" for="attendee-q">{t(Msg::AttendeesSearch)}</label>
                                    <input id="attendee-q" name="q" type="search" placeholder=t(Msg::AttendeesSearch) value=q_now.clone()/>
                                    <button class="btn btn-primary" type="submit">{t(Msg::EventsApply)}</button>
                                </div>
                            </form>
                            {if list.items.is_empty() {
                                view! { <p class="empty panel">{t(Msg::AttendeesEmpty)}</p> }.into_any()
                            } else {
                                view! {
                                    <div class="table-wrap panel">
                                        <table class="data-table attendees">
                                            <thead>
                                                <tr>
                                                    <th scope="col">{t(Msg::AttendeesColPerson)}</th>
                                                    <th scope="col">{t(Msg::AttendeesColTickets)}</th>
                                                    <th scope="col">{t(Msg::AgentColStatus)}</th>
                                                    <th scope="col">{t(Msg::AttendeesColPayment)}</th>
                                                    <th scope="col" class="num">{t(Msg::AttendeesColCheckedIn)}</th>
                                                    <th scope="col">{t(Msg::AgentColActions)}</th>
                                                </tr>
                                            </thead>
                                            <tbody>
                                                {list.items.into_iter().map(|a| view! { <AttendeeRow a mark_paid cancel/> }).collect_view()}
                                            </tbody>
                                        </table>
                                    </div>
                                }.into_any()
                            }}
                            <crate::ui::Pager prev next page=i64::from(list.page) pages/>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn AttendeeRow(
    a: Attendee,
    mark_paid: ServerAction<MarkPaid>,
    cancel: ServerAction<CancelBooking>,
) -> impl IntoView {
    let status = match (a.status, a.waitlist_position) {
        (RegistrationStatus::Waitlisted, Some(p)) => {
            fill(t(Msg::BookingPosition), &[("position", &p)])
        }
        (s, _) => t(s.label()).to_owned(),
    };
    let live = a.status != RegistrationStatus::Cancelled;
    let unpaid = a.status == RegistrationStatus::Confirmed && a.payment == Payment::Unpaid;
    let checked = a.checked_in();
    let valid = a
        .tickets
        .iter()
        .filter(|t| t.status == TicketStatus::Valid)
        .count();
    view! {
        <tr data-registration=a.registration_id.to_string() class=format!("attendee-{}", a.status.code())>
            <th scope="row">
                <span dir="auto">{a.name.clone()}</span>
                <br/><small class="muted">{a.email.clone()}</small>
            </th>
            <td>{format!("{} × {}", a.quantity, a.ticket_type_name)}</td>
            <td><span class=format!("status status-{}", a.status.code())>{status}</span></td>
            <td data-testid="payment">{t(a.payment.label())}</td>
            <td class="num">{format!("{checked}/{valid}")}</td>
            <td class="actions">
                <div class="row-actions">
                {unpaid.then(|| view! {
                    <ActionForm action=mark_paid attr:class="inline-form">
                        <input type="hidden" name="id" value=a.registration_id.to_string()/>
                        <button class="btn btn-primary btn-sm" type="submit">{t(Msg::AttendeesMarkPaid)}</button>
                    </ActionForm>
                })}
                {live.then(|| view! {
                    <details class="cancel-box">
                        <summary class="btn btn-ghost btn-sm">{t(Msg::AttendeesCancel)}</summary>
                        <ActionForm action=cancel attr:class="stack-sm">
                            <input type="hidden" name="id" value=a.registration_id.to_string()/>
                            <button class="btn btn-danger btn-sm" type="submit">{t(Msg::AttendeesCancelConfirm)}</button>
                        </ActionForm>
                    </details>
                })}
                </div>
            </td>
        </tr>
    }
}
