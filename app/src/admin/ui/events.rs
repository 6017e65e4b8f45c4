//! `/admin/events`: every organizer's events; admins publish, unpublish, cancel and feature them.
use super::shared::refusal;
use crate::admin::commands::ChangeEvent;
use crate::admin::queries::list_all_events;
use crate::events::EventStatus;
use crate::i18n::{Locale, Msg, fill, format_local, t, use_locale};
use crate::ui::form::{ErrorSummary, form_error};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// `/admin/events`: every organizer's events, filtered by status, organizer and dates; each
/// row changes status (publish, unpublish, cancel with a reason) and featuring in place.
#[component]
pub fn AdminEventsPage() -> impl IntoView {
    let locale = use_locale();
    let query = use_query_map();
    let value = move |key: &str| query.read().get(key).unwrap_or_default();
    let change = ServerAction::<ChangeEvent>::new();
    let events = Resource::new(
        move || {
            (
                [
                    value("status"),
                    value("organizer"),
                    value("from"),
                    value("to"),
                ],
                value("page").parse::<u32>().unwrap_or(1),
                change.version().get(),
            )
        },
        |([status, organizer, from, to], page, _)| {
            list_all_events(status, organizer, from, to, page)
        },
    );
    let error = form_error(
        move || change.value().get(),
        <ChangeEvent as ServerFn>::PATH,
    );
    view! {
        <Title text=t(Msg::AdminEvents)/>
        <section class="page-head">
            <h1>{t(Msg::AdminEvents)}</h1>
            <p class="muted">{t(Msg::AdminEventsLead)}</p>
        </section>
        <form class="search-form panel" method="get" action="/admin/events" role="search">
            <div class="filters">
                <label><span>{t(Msg::AdminStatus)}</span>
                    <select name="status">
                        <option value="">{t(Msg::AdminAll)}</option>
                        {EventStatus::ALL.into_iter().map(|s| view! {
                            <option value=s.code() selected=move || value("status") == s.code()>{t(s.label())}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label><span>{t(Msg::AdminEventsOrganizer)}</span>
                    <input name="organizer" type="search" prop:value=move || value("organizer") value=move || value("organizer")/></label>
                <label><span>{t(Msg::EventsFilterFrom)}</span>
                    <input name="from" type="date" prop:value=move || value("from") value=move || value("from")/></label>
                <label><span>{t(Msg::EventsFilterTo)}</span>
                    <input name="to" type="date" prop:value=move || value("to") value=move || value("to")/></label>
                <button class="btn btn-primary" type="submit">{t(Msg::EventsApply)}</button>
            </div>
        </form>
        <ErrorSummary error/>
        {move || error.get().and_then(|e| e.field_errors().values().next().map(|p| p.text(locale))).map(|text| view! {
            <p class="alert alert-error" role="alert" data-testid="event-change-error">{text}</p>
        })}
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match events.await {
                    Err(e) => refusal(e, "/admin/events", locale),
                    Ok(page) => {
                        let per_page = i64::from(crate::events::MANAGED_PER_PAGE);
                        let pages = ((page.total + per_page - 1) / per_page).max(1);
                        let link = |n: u32| format!(
                            "/admin/events?status={}&organizer={}&from={}&to={}&page={n}",
                            value("status"), crate::ui::urlencode(&value("organizer")), value("from"), value("to"));
                        let prev = (page.page > 1).then(|| link(page.page - 1));
                        let next = (i64::from(page.page) < pages).then(|| link(page.page + 1));
                        view! {
                            <p class="results-count">{fill(t(Msg::AdminEventsCount), &[("n", &page.total)])}</p>
                            <div class="table-wrap panel">
                                <table class="data-table admin-events">
                                    <thead><tr>
                                        <th scope="col">{t(Msg::AgentColEvent)}</th>
                                        <th scope="col">{t(Msg::AdminStarts)}</th>
                                        <th scope="col">{t(Msg::AdminStatus)}</th>
                                        <th scope="col" class="num">{t(Msg::AdminSeats)}</th>
                                        <th scope="col">{t(Msg::AdminFeatured)}</th>
                                    </tr></thead>
                                    <tbody>
                                        {page.items.into_iter().map(|e| view! { <AdminEventRow event=e change locale/> }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            <crate::ui::Pager prev next page=i64::from(page.page) pages/>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn AdminEventRow(
    event: crate::events::ManagedEvent,
    change: ServerAction<ChangeEvent>,
    locale: Locale,
) -> impl IntoView {
    let item = event.item;
    let id = item.id.to_string();
    let status = item.status;
    // One small form per action, each a plain POST underneath.
    let action_form =
        move |status: &'static str, featured: &'static str, label: Msg, class: &'static str| {
            let id = id.clone();
            view! {
                <ActionForm action=change attr:class="inline-form">
                    <input type="hidden" name="id" value=id/>
                    <input type="hidden" name="status" value=status/>
                    <input type="hidden" name="featured" value=featured/>
                    <input type="hidden" name="reason" value=""/>
                    <button class=class type="submit">{t(label)}</button>
                </ActionForm>
            }
        };
    let cancel_id = item.id.to_string();
    view! {
        <tr data-event=item.id.to_string() class:featured=event.featured>
            <th scope="row">
                <a href=format!("/events/{}", item.id) dir="auto">{item.title.clone()}</a><br/>
                <small class="muted"><span dir="auto">{event.organizer_name}</span>" · "<bdi>{event.organizer_email}</bdi>" · "<span dir="auto">{item.city.clone()}</span></small>
            </th>
            <td>{format_local(locale, item.local_starts_at)}</td>
            <td>
                <span class=format!("status status-{}", status.code())>{t(status.label())}</span>
                <div class="row-actions">
                    {(status == EventStatus::Draft).then(|| action_form("published", "", Msg::AgentPublish, "btn btn-ghost btn-sm"))}
                    {(status == EventStatus::Published).then(|| action_form("draft", "", Msg::AdminUnpublish, "btn btn-ghost btn-sm"))}
                    {matches!(status, EventStatus::Draft | EventStatus::Published).then(|| view! {
                        <details class="cancel-box">
                            <summary class="btn btn-ghost btn-sm">{t(Msg::AgentCancel)}</summary>
                            <ActionForm action=change attr:class="stack-sm">
                                <input type="hidden" name="id" value=cancel_id/>
                                <input type="hidden" name="status" value="cancelled"/>
                                <input type="hidden" name="featured" value=""/>
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
            <td class="num">{item.capacity - item.remaining_seats}" / "{item.capacity}</td>
            <td>
                {event.featured.then(|| view! { <span class="status status-published">{t(Msg::AdminFeatured)}</span> })}
                {if event.featured {
                    Some(action_form("", "false", Msg::AdminUnfeature, "btn btn-ghost btn-sm"))
                } else if status == EventStatus::Published {
                    Some(action_form("", "true", Msg::AdminFeature, "btn btn-ghost btn-sm"))
                } else {
                    None
                }}
            </td>
        </tr>
    }
}
