//! The organizer's pages of one event: `/agent/events/:id/attendees` (search, CSV, mark paid,
//! cancel) and `/agent/events/:id/check-in` (type or scan a code). Every action is a plain
//! form underneath, so both pages work without scripts.
use super::commands::{CancelBooking, CheckInTicket, MarkPaid};
use super::queries::{get_attendees, get_door_count, get_scanned_ticket};
use super::{ATTENDEES_PER_PAGE, Attendee, Payment, RegistrationStatus};
use crate::error::AppError;
use crate::i18n::{Locale, Msg, fill, format_local, t, use_locale};
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
        .filter(|t| t.status == super::TicketStatus::Valid)
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

/// Camera scanning where the browser offers a barcode detector: it fills the code field and
/// submits the same form a person types into. Typing always works.
const SCANNER_JS: &str = r#"(() => {
  const button = document.getElementById('scan-camera');
  const video = document.getElementById('scan-video');
  const input = document.getElementById('check-in-code');
  if (!button || !video || !input || !('BarcodeDetector' in window) || !navigator.mediaDevices) return;
  BarcodeDetector.getSupportedFormats().then((formats) => { button.hidden = !formats.includes('qr_code'); });
  let stream = null;
  const stop = () => { if (stream) { stream.getTracks().forEach((t) => t.stop()); stream = null; } video.hidden = true; };
  button.addEventListener('click', async () => {
    if (stream) { stop(); return; }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
    } catch (_) { return; }
    const detector = new BarcodeDetector({ formats: ['qr_code'] });
    video.srcObject = stream; video.hidden = false; await video.play();
    const look = async () => {
      if (!stream) return;
      const codes = await detector.detect(video).catch(() => []);
      if (codes.length > 0) { input.value = codes[0].rawValue; stop(); input.form.requestSubmit(); return; }
      setTimeout(look, 200);
    };
    look();
  });
})();"#;

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
            <script inner_html=SCANNER_JS></script>
        </section>
    }
}

/// The outcome of the last scan: green with the holder, or red with the reason.
fn scan_result(result: &str, ticket: Option<super::ScannedTicket>, locale: Locale) -> AnyView {
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
