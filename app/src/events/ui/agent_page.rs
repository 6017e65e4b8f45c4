use crate::error::AppError;
use crate::events::commands::{CancelEvent, DeleteEvent, PublishEvent};
use crate::events::queries::list_managed_events;
use crate::events::{EventListItem, EventStatus};
use crate::i18n::{Msg, format_local, t, use_locale};
use crate::ui::form::{ErrorSummary, form_error};
use crate::ui::layout::use_auth;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::components::Redirect;

/// `/agent`: the organizer's events with their numbers and what can be done with each.
/// Admins see every event. Every action is a form, so the page works without scripts.
#[component]
pub fn AgentPage() -> impl IntoView {
    let locale = use_locale();
    let auth = use_auth();
    let publish = ServerAction::<PublishEvent>::new();
    let cancel = ServerAction::<CancelEvent>::new();
    let delete = ServerAction::<DeleteEvent>::new();
    let events = Resource::new(
        move || {
            (
                publish.version().get(),
                cancel.version().get(),
                delete.version().get(),
                auth.user.get().is_some(),
            )
        },
        |_| list_managed_events(),
    );
    let errors = [
        form_error(
            move || publish.value().get(),
            <PublishEvent as ServerFn>::PATH,
        ),
        form_error(
            move || cancel.value().get(),
            <CancelEvent as ServerFn>::PATH,
        ),
        form_error(
            move || delete.value().get(),
            <DeleteEvent as ServerFn>::PATH,
        ),
    ];
    let error = Signal::derive(move || errors.iter().find_map(|e| e.get()));
    view! {
        <Title text=t(Msg::AgentTitle)/>
        <div class="section-head">
            <div>
                <h1>{t(Msg::AgentTitle)}</h1>
                <p class="muted">{t(Msg::AgentLead)}</p>
            </div>
            <div class="row-actions">
                <a class="btn btn-ghost" href="/agent/reports">{t(Msg::AgentReports)}</a>
                <a class="btn btn-primary" href="/agent/events/new">{t(Msg::AgentNew)}</a>
            </div>
        </div>
        <ErrorSummary error/>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match events.await {
                    Ok(list) if list.is_empty() => view! { <p class="empty panel">{t(Msg::AgentEmpty)}</p> }.into_any(),
                    Ok(list) => view! {
                        <div class="table-wrap panel">
                            <table class="data-table">
                                <thead>
                                    <tr>
                                        <th scope="col">{t(Msg::AgentColEvent)}</th>
                                        <th scope="col">{t(Msg::AgentColWhen)}</th>
                                        <th scope="col">{t(Msg::AgentColStatus)}</th>
                                        <th scope="col" class="num">{t(Msg::AgentColCapacity)}</th>
                                        <th scope="col" class="num">{t(Msg::AgentColConfirmed)}</th>
                                        <th scope="col" class="num">{t(Msg::AgentColWaitlisted)}</th>
                                        <th scope="col" class="num">{t(Msg::AgentColLeft)}</th>
                                        <th scope="col">{t(Msg::AgentColActions)}</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {list.into_iter().map(|item| view! { <AgentRow item locale publish cancel delete/> }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                    Err(AppError::Unauthenticated) => view! { <Redirect path="/login?next=/agent"/> }.into_any(),
                    Err(e) => {
                        crate::ui::set_error_status(&e);
                        let text = if e == AppError::Forbidden { t(Msg::AgentOnly).to_owned() } else { e.text(locale) };
                        view! { <p class="alert alert-error" role="alert">{text}</p> }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn AgentRow(
    item: EventListItem,
    locale: crate::i18n::Locale,
    publish: ServerAction<PublishEvent>,
    cancel: ServerAction<CancelEvent>,
    delete: ServerAction<DeleteEvent>,
) -> impl IntoView {
    let id = item.id;
    let status = item.status;
    let can_change = matches!(status, EventStatus::Draft | EventStatus::Published);
    view! {
        <tr>
            <th scope="row" dir="auto"><a href=format!("/events/{}", item.id)>{item.title.clone()}</a></th>
            <td>{format_local(locale, item.local_starts_at)}</td>
            <td><span class=format!("status status-{}", status.code())>{t(status.label())}</span></td>
            <td class="num">{item.capacity}</td>
            <td class="num">{item.capacity - item.remaining_seats}</td>
            <td class="num">{item.waitlisted_seats}</td>
            <td class="num">{item.remaining_seats}</td>
            <td class="actions">
                <div class="row-actions">
                {can_change.then(|| view! { <a class="btn btn-ghost btn-sm" href=format!("/agent/events/{}/edit", item.id)>{t(Msg::AgentEdit)}</a> })}
                {(status != EventStatus::Draft).then(|| view! {
                    <a class="btn btn-ghost btn-sm" href=format!("/agent/events/{id}/attendees")>{t(Msg::AgentAttendees)}</a>
                    <a class="btn btn-ghost btn-sm" href=format!("/agent/events/{id}/check-in")>{t(Msg::CheckinTitle)}</a>
                })}
                {(status == EventStatus::Draft).then(|| view! {
                    <ActionForm action=publish attr:class="inline-form">
                        <input type="hidden" name="id" value=id.to_string()/>
                        <button class="btn btn-primary btn-sm" type="submit">{t(Msg::AgentPublish)}</button>
                    </ActionForm>
                })}
                {(status == EventStatus::Draft).then(|| view! {
                    <ActionForm action=delete attr:class="inline-form">
                        <input type="hidden" name="id" value=id.to_string()/>
                        <button class="btn btn-ghost btn-sm" type="submit">{t(Msg::AgentDelete)}</button>
                    </ActionForm>
                })}
                {can_change.then(|| view! {
                    <details class="cancel-box">
                        <summary class="btn btn-ghost btn-sm">{t(Msg::AgentCancel)}</summary>
                        <ActionForm action=cancel attr:class="stack-sm">
                            <input type="hidden" name="id" value=id.to_string()/>
                            <label>
                                <span>{t(Msg::AgentCancelReason)}</span>
                                <input name="reason" required maxlength=crate::events::rules::CANCEL_REASON_MAX/>
                            </label>
                            <button class="btn btn-danger btn-sm" type="submit">{t(Msg::AgentCancelConfirm)}</button>
                        </ActionForm>
                    </details>
                })}
                </div>
            </td>
        </tr>
    }
}
