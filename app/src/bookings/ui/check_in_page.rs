//! `/agent/events/:id/check-in`: the door of one event, where the organizer or a helper types
//! or scans a ticket code. A plain form underneath, so it works without scripts.
use crate::bookings::ScannedTicket;
use crate::bookings::commands::CheckInTicket;
use crate::bookings::queries::{get_door_count, get_scanned_ticket};
use crate::error::AppError;
use crate::i18n::{Locale, Msg, fill, format_local, t, use_locale};
use crate::ui::form::form_error;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// `/agent/events/:id/check-in`.
#[component]
pub fn CheckInPage() -> impl IntoView {
    let locale = use_locale();
    let id = crate::ui::id_param();
    let query = use_query_map();
    let check_in = ServerAction::<CheckInTicket>::new();
    let error = form_error(
        move || check_in.value().get(),
        <CheckInTicket as ServerFn>::PATH,
    );
    // The door's numbers, read again after each scan.
    let door = Resource::new(
        move || (id.get(), query.read().get("at")),
        |(id, _)| async move {
            match id {
                Some(id) => get_door_count(id).await,
                None => Err(AppError::NotFound),
            }
        },
    );
    let scanned = Resource::new(
        move || (id.get(), query.read().get("code"), query.read().get("at")),
        |(id, code, _)| async move {
            match (id, code.filter(|c| !c.is_empty())) {
                (Some(id), Some(code)) => get_scanned_ticket(id, code).await.ok().flatten(),
                _ => None,
            }
        },
    );
    view! {
        <Title text=t(Msg::CheckinTitle)/>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let event_id = id.get_untracked().unwrap_or_default();
                let here = format!("/agent/events/{event_id}/check-in");
                match door.await {
                    Err(e) => crate::ui::refusal(e, &here, Msg::AgentOnly, locale),
                    Ok(door) => view! {
                        <div class="section-head">
                            <div>
                                <h1>{t(Msg::CheckinTitle)}</h1>
                                <p class="muted" dir="auto"><a href=format!("/events/{event_id}")>{door.event_title.clone()}</a></p>
                            </div>
                            <div class="actions">
                                <p class="door-count" data-testid="door-count">
                                    {fill(t(Msg::AttendeesDoor), &[("checked", &door.checked_in), ("tickets", &door.tickets)])}
                                </p>
                                <a class="btn btn-ghost" href=format!("/agent/events/{event_id}/attendees")>{t(Msg::AttendeesTitle)}</a>
                            </div>
                        </div>
                    }.into_any(),
                }
            })}
        </Transition>
        <section class="panel narrow check-in">
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let ticket = scanned.await;
                    let result = query.read_untracked().get("result");
                    result.map(|result| scan_result(&result, ticket, locale))
                })}
            </Transition>
            {move || error.get().map(|e| {
                let text = e.field_errors().values().next().map(|p| p.text(locale)).unwrap_or_else(|| e.text(locale));
                view! { <p class="alert alert-error" role="alert">{text}</p> }
            })}
            <ActionForm action=check_in attr:class="stack">
                <input type="hidden" name="event_id" value=move || id.get().unwrap_or_default().to_string()/>
                <label for="check-in-code">{t(Msg::CheckinCode)}</label>
                <input id="check-in-code" name="code" required autocomplete="off" autocapitalize="characters"
                    spellcheck="false" autofocus maxlength="200" placeholder="ABCD…"/>
                <p class="muted">{t(Msg::CheckinHint)}</p>
                <div class="actions">
                    <button class="btn btn-primary" type="submit" disabled=move || check_in.pending().get()>{t(Msg::CheckinSubmit)}</button>
                    <button id="scan-camera" class="btn btn-ghost" type="button" hidden>{t(Msg::CheckinCamera)}</button>
                </div>
                <video id="scan-video" class="scan-video" hidden muted playsinline></video>
            </ActionForm>
            // Camera scanning where the browser offers a barcode detector (public/): a file, so the
            // page's Content-Security-Policy runs it whether the page came from the server or was
            // drawn here after a client-side navigation (an inline script would need the nonce).
            <script src="/check-in-scanner.js"></script>
        </section>
    }
}

/// The outcome of the last scan: green with the holder, or red with the reason.
fn scan_result(result: &str, ticket: Option<ScannedTicket>, locale: Locale) -> AnyView {
    let (ok, text) = match (result, ticket) {
        ("admitted", Some(ticket)) => (
            true,
            fill(
                t(Msg::CheckinAdmitted),
                &[
                    ("name", &ticket.attendee_name),
                    ("type", &ticket.ticket_type_name),
                ],
            ),
        ),
        ("repeat", Some(ticket)) => {
            let time = ticket
                .checked_in_local
                .map(|at| format_local(locale, at))
                .unwrap_or_default();
            let person = ticket.checked_in_by.unwrap_or_default();
            (
                false,
                fill(
                    t(Msg::CheckinRepeat),
                    &[
                        ("name", &ticket.attendee_name),
                        ("time", &time),
                        ("person", &person),
                    ],
                ),
            )
        }
        ("cancelled", Some(ticket)) => (
            false,
            fill(t(Msg::CheckinCancelled), &[("name", &ticket.attendee_name)]),
        ),
        ("other_event", _) => (false, t(Msg::CheckinOtherEvent).to_owned()),
        _ => (false, t(Msg::CheckinUnknown).to_owned()),
    };
    let class = if ok {
        "scan-result scan-ok"
    } else {
        "scan-result scan-refused"
    };
    view! {
        <div class=class role="status" aria-live="assertive" data-testid="scan-result" data-result=result.to_owned()>
            <p dir="auto">{text}</p>
        </div>
    }
    .into_any()
}
