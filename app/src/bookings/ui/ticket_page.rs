//! `/tickets/:id`: the printable tickets of one registration — the event, when and where, and
//! one QR code per seat (drawn on the server). For its holder, the organizer and admins.
use crate::bookings::queries::get_registration;
use crate::bookings::{RegistrationStatus, TicketStatus};
use crate::error::AppError;
use crate::events::queries::get_event;
use crate::i18n::{Msg, fill, format_local, t, use_locale};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

#[component]
pub fn TicketPage() -> impl IntoView {
    let locale = use_locale();
    let id = crate::ui::id_param();
    let tickets = Resource::new(
        move || id.get(),
        |id| async move {
            let id = id.ok_or(AppError::NotFound)?;
            let registration = get_registration(id).await?;
            let event = get_event(registration.event_id).await?;
            Ok::<_, AppError>((registration, event))
        },
    );
    view! {
        <Title text=t(Msg::TicketPageTitle)/>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match tickets.await {
                    Err(AppError::Unauthenticated) => {
                        let next = format!("/login?next=/tickets/{}", id.get_untracked().unwrap_or_default());
                        view! { <Redirect path=next/> }.into_any()
                    }
                    Err(e) => {
                        crate::ui::set_error_status(&e);
                        view! { <p class="alert alert-error" role="alert">{e.text(locale)}</p> }.into_any()
                    }
                    Ok((r, event)) => {
                        let item = event.item;
                        let valid: Vec<_> = r.tickets.into_iter().filter(|t| t.status == TicketStatus::Valid).collect();
                        let total = valid.len();
                        view! {
                            <article class="ticket-sheet">
                                <header class="ticket-sheet-head">
                                    <p class="event-card-category">{t(item.category.label())}</p>
                                    <h1 dir="auto">{item.title.clone()}</h1>
                                    <p>
                                        <time datetime=item.starts_at.to_rfc3339()>{format_local(locale, item.local_starts_at)}</time>
                                        {format!(" ({})", item.timezone)}
                                    </p>
                                    <p dir="auto">{format!("{}, {}, {}", item.venue, event.address, item.city)}</p>
                                    <p class="muted">{format!("{} × {}", r.quantity, r.ticket_type_name)}
                                        " · " {t(r.payment.label())}</p>
                                </header>
                                {match r.status {
                                    RegistrationStatus::Confirmed => view! {
                                        <button class="btn btn-primary no-print" type="button" on:click=|_| { let _ = window().print(); }>{t(Msg::TicketPrint)}</button>
                                        <ol class="tickets ticket-sheet-list">
                                            {valid.into_iter().enumerate().map(|(i, ticket)| view! {
                                                <li class="ticket">
                                                    <strong>{fill(t(Msg::TicketNOf), &[("n", &(i + 1)), ("total", &total)])}</strong>
                                                    <div class="qr" role="img" aria-label=fill(t(Msg::TicketQrLabel), &[("n", &(i + 1)), ("total", &total)])
                                                        inner_html=ticket.qr_svg.clone()></div>
                                                    <code class="ticket-code">{ticket.code.clone()}</code>
                                                    {ticket.checked_in_at.map(|_| view! { <span class="badge">{t(Msg::TicketCheckedIn)}</span> })}
                                                </li>
                                            }).collect_view()}
                                        </ol>
                                    }.into_any(),
                                    status => view! { <p class="alert alert-error">{t(status.label())}</p> }.into_any(),
                                }}
                            </article>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}
