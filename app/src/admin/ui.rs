//! Administration pages: the organizer request panel on `/me`, `/admin` (the overview),
//! `/admin/agent-requests`, `/admin/users`, `/admin/events` and `/admin/audit`. Every action is
//! a plain form underneath.
use super::commands::{DecideAgentRequest, RequestAgent};
use super::queries::{get_audit_log, list_agent_requests, my_agent_request};
use super::{AgentRequest, AgentRequestStatus, AuditFilter};
use crate::auth::Role;
use crate::error::AppError;
use crate::i18n::{Locale, Msg, fill, format_local, t, use_locale};
use crate::ui::form::{ErrorSummary, Field, form_error};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Times on admin pages: UTC, said so (admins read logs across time zones).
fn utc(locale: Locale, at: chrono::DateTime<chrono::Utc>) -> String {
    format!("{} UTC", format_local(locale, at.naive_utc()))
}

/// `/me`: ask to become an organizer, and see where the request stands.
#[component]
pub fn AgentRequestPanel(role: Role) -> impl IntoView {
    let locale = use_locale();
    let ask = ServerAction::<RequestAgent>::new();
    let latest = Resource::new(move || ask.version().get(), |_| my_agent_request());
    let error = form_error(move || ask.value().get(), <RequestAgent as ServerFn>::PATH);
    let field = move |name: &'static str| {
        Signal::derive(move || {
            error
                .get()
                .and_then(|e| e.field_errors().get(name).map(|p| p.text(locale)))
        })
    };
    view! {
        <section class="panel" aria-labelledby="agent-request-heading" data-testid="agent-request">
            <h2 id="agent-request-heading">{t(Msg::AgentRequestTitle)}</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let latest = latest.await.ok().flatten();
                    let status = latest.as_ref().map(|r| r.status);
                    let may_ask = role == Role::User && status != Some(AgentRequestStatus::Pending);
                    view! {
                        {latest.map(|r| {
                            let text = match r.status {
                                AgentRequestStatus::Pending => fill(t(Msg::AgentRequestIsPending), &[("organisation", &r.organisation)]),
                                AgentRequestStatus::Approved => t(Msg::AgentRequestIsApproved).to_owned(),
                                AgentRequestStatus::Rejected => t(Msg::AgentRequestIsRejected).to_owned(),
                            };
                            view! {
                                <p class=format!("status-line status-{}", r.status.code()) data-status=r.status.code()>
                                    <span class=format!("status status-{}", r.status.code())>{t(r.status.label())}</span>
                                    " " {text}
                                    <small class="muted">" · " {utc(locale, r.created_at)}</small>
                                </p>
                                {(!r.note.is_empty()).then(|| view! {
                                    <blockquote class="admin-note" dir="auto">{fill(t(Msg::AgentRequestNote), &[("note", &r.note)])}</blockquote>
                                })}
                                {(r.status == AgentRequestStatus::Approved).then(|| view! {
                                    <a class="btn btn-primary" href="/agent">{t(Msg::NavAgent)}</a>
                                })}
                            }
                        })}
                        {(role == Role::User && status.is_none()).then(|| view! { <p class="muted">{t(Msg::AgentRequestLead)}</p> })}
                        {may_ask.then(|| view! {
                            <ErrorSummary error/>
                            <ActionForm action=ask attr:class="stack">
                                <Field label=Msg::AgentRequestOrganisation name="organisation" error=field("organisation") required=true/>
                                <div class="field" class:field-invalid=move || field("message").get().is_some()>
                                    <label for="agent-request-message">{t(Msg::AgentRequestMessage)}</label>
                                    <textarea id="agent-request-message" name="message" rows="3" required maxlength="2000"></textarea>
                                    <p class="field-error" aria-live="polite">{move || field("message").get()}</p>
                                </div>
                                <button class="btn btn-primary" type="submit" disabled=move || ask.pending().get()>{t(Msg::AgentRequestSend)}</button>
                            </ActionForm>
                        })}
                    }
                })}
            </Transition>
        </section>
    }
}

/// What every admin page shows for a visitor or a non-admin.
fn refusal(e: AppError, here: &str, locale: Locale) -> AnyView {
    crate::ui::refusal(e, here, Msg::AdminOnly, locale)
}

/// `/admin`: where the admin pages are.
#[component]
pub fn AdminPage() -> impl IntoView {
    let locale = use_locale();
    let pending = Resource::new(|| (), |_| list_agent_requests("pending".into()));
    view! {
        <Title text=t(Msg::AdminTitle)/>
        <h1>{t(Msg::AdminTitle)}</h1>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match pending.await {
                    Err(e) => refusal(e, "/admin", locale),
                    Ok(list) => view! {
                        <div class="admin-cards">
                            <a class="panel admin-card" href="/admin/agent-requests?status=pending">
                                <h2>{t(Msg::AdminAgentRequests)}</h2>
                                <p>{fill(t(Msg::AdminPendingCount), &[("n", &list.len())])}</p>
                            </a>
                            <a class="panel admin-card" href="/admin/users">
                                <h2>{t(Msg::AdminUsers)}</h2>
                                <p class="muted">{t(Msg::AdminUsersLead)}</p>
                            </a>
                            <a class="panel admin-card" href="/admin/events">
                                <h2>{t(Msg::AdminEvents)}</h2>
                                <p class="muted">{t(Msg::AdminEventsLead)}</p>
                            </a>
                            <a class="panel admin-card" href="/admin/reports">
                                <h2>{t(Msg::ReportTitle)}</h2>
                                <p class="muted">{t(Msg::AdminReportsLead)}</p>
                            </a>
                            <a class="panel admin-card" href="/admin/audit">
                                <h2>{t(Msg::AdminAudit)}</h2>
                                <p class="muted">{t(Msg::AdminAuditLead)}</p>
                            </a>
                        </div>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// `/admin/agent-requests`: pending first; approve or reject each with a note.
#[component]
pub fn AgentRequestsPage() -> impl IntoView {
    let locale = use_locale();
    let query = use_query_map();
    let decide = ServerAction::<DecideAgentRequest>::new();
    let status = move || query.read().get("status").unwrap_or_default();
    let list = Resource::new(
        move || (status(), decide.version().get()),
        |(status, _)| list_agent_requests(status),
    );
    let error = form_error(
        move || decide.value().get(),
        <DecideAgentRequest as ServerFn>::PATH,
    );
    view! {
        <Title text=t(Msg::AdminAgentRequests)/>
        <div class="section-head">
            <h1>{t(Msg::AdminAgentRequests)}</h1>
            <nav class="filter-tabs" aria-label=t(Msg::AdminFilterStatus)>
                {[("", Msg::AdminAll), ("pending", Msg::AgentRequestPending), ("approved", Msg::AgentRequestApproved), ("rejected", Msg::AgentRequestRejected)]
                    .into_iter()
                    .map(|(code, label)| {
                        let current = move || if status() == code { "page" } else { "false" };
                        view! { <a class="btn btn-ghost btn-sm" href=format!("/admin/agent-requests?status={code}") aria-current=current>{t(label)}</a> }
                    })
                    .collect_view()}
            </nav>
        </div>
        <ErrorSummary error/>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => refusal(e, "/admin/agent-requests", locale),
                    Ok(list) if list.is_empty() => view! { <p class="empty panel">{t(Msg::AdminNoRequests)}</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="request-list">
                            {list.into_iter().map(|r| view! { <RequestItem r decide locale/> }).collect_view()}
                        </ul>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn RequestItem(
    r: AgentRequest,
    decide: ServerAction<DecideAgentRequest>,
    locale: Locale,
) -> impl IntoView {
    let pending = r.status == AgentRequestStatus::Pending;
    let id = r.id.to_string();
    let actions_id = id.clone();
    view! {
        <li class="panel request" data-request=id data-status=r.status.code()>
            <div class="request-head">
                <div>
                    <strong dir="auto">{r.organisation.clone()}</strong>
                    <span class="muted">" · " <span dir="auto">{r.user_name.clone()}</span> " · " <bdi>{r.user_email.clone()}</bdi></span>
                </div>
                <span class=format!("status status-{}", r.status.code())>{t(r.status.label())}</span>
            </div>
            <p class="request-message" dir="auto">{r.message.clone()}</p>
            <p class="muted"><small>{utc(locale, r.created_at)}
                {r.decided_at.map(|at| view! { " · " {fill(t(Msg::AdminDecidedBy), &[("who", &r.decided_by.clone().unwrap_or_default()), ("when", &utc(locale, at))])} })}
            </small></p>
            {(!r.note.is_empty()).then(|| view! { <blockquote class="admin-note" dir="auto">{r.note.clone()}</blockquote> })}
            {pending.then(|| { let (approve_id, reject_id) = (actions_id.clone(), actions_id); view! {
                <div class="row-actions">
                    <ActionForm action=decide attr:class="inline-form">
                        <input type="hidden" name="id" value=approve_id/>
                        <input type="hidden" name="approve" value="true"/>
                        <input type="hidden" name="note" value=""/>
                        <button class="btn btn-primary btn-sm" type="submit">{t(Msg::AdminApprove)}</button>
                    </ActionForm>
                    <details class="cancel-box">
                        <summary class="btn btn-ghost btn-sm">{t(Msg::AdminReject)}</summary>
                        <ActionForm action=decide attr:class="stack-sm">
                            <input type="hidden" name="id" value=reject_id/>
                            <input type="hidden" name="approve" value="false"/>
                            <label>
                                <span>{t(Msg::AdminRejectNote)}</span>
                                <textarea name="note" rows="2" maxlength="1000"></textarea>
                            </label>
                            <button class="btn btn-danger btn-sm" type="submit">{t(Msg::AdminRejectConfirm)}</button>
                        </ActionForm>
                    </details>
                </div>
            }})}
        </li>
    }
}

/// `/admin/audit`: every administrative change, newest first, filtered by actor, action and
/// dates (the URL holds the filter).
#[component]
pub fn AuditPage() -> impl IntoView {
    let locale = use_locale();
    let query = use_query_map();
    let value = move |key: &str| query.read().get(key).unwrap_or_default();
    let day = |text: String, end: bool| {
        chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d")
            .ok()
            .and_then(|d| {
                if end {
                    d.and_hms_opt(23, 59, 59)
                } else {
                    d.and_hms_opt(0, 0, 0)
                }
            })
            .map(|t| t.and_utc())
    };
    let filter = move || AuditFilter {
        actor: Some(value("actor")).filter(|v| !v.trim().is_empty()),
        action: Some(value("action")).filter(|v| !v.trim().is_empty()),
        from: day(value("from"), false),
        to: day(value("to"), true),
        page: value("page").parse().unwrap_or(1),
    };
    let log = Resource::new(filter, get_audit_log);
    view! {
        <Title text=t(Msg::AdminAudit)/>
        <h1>{t(Msg::AdminAudit)}</h1>
        <form class="search-form panel audit-filter" method="get" action="/admin/audit">
            <div class="filters">
                <label><span>{t(Msg::AuditActor)}</span><input name="actor" value=move || value("actor")/></label>
                <label><span>{t(Msg::AuditAction)}</span><input name="action" placeholder="agent_request.approve" value=move || value("action")/></label>
                <label><span>{t(Msg::EventsFilterFrom)}</span><input name="from" type="date" value=move || value("from")/></label>
                <label><span>{t(Msg::EventsFilterTo)}</span><input name="to" type="date" value=move || value("to")/></label>
                <button class="btn btn-primary" type="submit">{t(Msg::EventsApply)}</button>
            </div>
        </form>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match log.await {
                    Err(e) => refusal(e, "/admin/audit", locale),
                    Ok(page) if page.items.is_empty() => view! { <p class="empty panel">{t(Msg::AuditEmpty)}</p> }.into_any(),
                    Ok(page) => {
                        let link = |n: u32| {
                            let q = query.get_untracked();
                            let mut parts: Vec<String> = ["actor", "action", "from", "to"].iter()
                                .filter_map(|k| q.get(k).map(|v| format!("{k}={}", crate::ui::urlencode(&v))))
                                .collect();
                            parts.push(format!("page={n}"));
                            format!("/admin/audit?{}", parts.join("&"))
                        };
                        let prev = (page.page > 1).then(|| link(page.page - 1));
                        let next = page.more.then(|| link(page.page + 1));
                        view! {
                            <div class="table-wrap panel">
                                <table class="data-table audit">
                                    <thead><tr>
                                        <th scope="col">{t(Msg::AuditWhen)}</th>
                                        <th scope="col">{t(Msg::AuditActor)}</th>
                                        <th scope="col">{t(Msg::AuditAction)}</th>
                                        <th scope="col">{t(Msg::AuditTarget)}</th>
                                        <th scope="col">{t(Msg::AuditDetails)}</th>
                                    </tr></thead>
                                    <tbody>
                                        {page.items.into_iter().map(|e| view! {
                                            <tr data-action=e.action.clone()>
                                                <td>{utc(locale, e.at)}</td>
                                                <td dir="auto">{e.actor.clone().unwrap_or_default()}</td>
                                                <td><code>{e.action.clone()}</code></td>
                                                <td><code>{e.target.clone()}</code></td>
                                                <td><code class="audit-details" dir="ltr">{e.details.clone()}</code></td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            <crate::ui::Pager prev next page=i64::from(page.page)/>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// `/admin/users`: search by name or email, filter by role; change a role or block a user in
/// the row (the same rules as the API: the last admin stays, nobody blocks themself).
#[component]
pub fn UsersPage() -> impl IntoView {
    use super::commands::UpdateUser;
    use super::queries::list_users;
    let locale = use_locale();
    let query = use_query_map();
    let value = move |key: &str| query.read().get(key).unwrap_or_default();
    let update = ServerAction::<UpdateUser>::new();
    let users = Resource::new(
        move || {
            (
                value("q"),
                value("role"),
                value("page").parse::<u32>().unwrap_or(1),
                update.version().get(),
            )
        },
        |(q, role, page, _)| list_users(q, role, page),
    );
    let error = form_error(move || update.value().get(), <UpdateUser as ServerFn>::PATH);
    view! {
        <Title text=t(Msg::AdminUsers)/>
        <h1>{t(Msg::AdminUsers)}</h1>
        <form class="search-form panel" method="get" action="/admin/users" role="search">
            <div class="search-main">
                <label class="visually-hidden" for="user-q">{t(Msg::AdminUsersSearch)}</label>
                <input id="user-q" name="q" type="search" placeholder=t(Msg::AdminUsersSearch) value=move || value("q")/>
                <select name="role" aria-label=t(Msg::ProfileRole)>
                    <option value="">{t(Msg::AdminAll)}</option>
                    {Role::ALL.into_iter().map(|r| view! {
                        <option value=r.code() selected=move || value("role") == r.code()>{t(r.label())}</option>
                    }).collect_view()}
                </select>
                <button class="btn btn-primary" type="submit">{t(Msg::EventsApply)}</button>
            </div>
        </form>
        <ErrorSummary error/>
        {move || error.get().and_then(|e| e.field_errors().values().next().map(|p| p.text(locale))).map(|text| view! {
            <p class="alert alert-error" role="alert" data-testid="user-error">{text}</p>
        })}
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match users.await {
                    Err(e) => refusal(e, "/admin/users", locale),
                    Ok(page) => {
                        let pages = ((page.total + i64::from(super::USERS_PER_PAGE) - 1) / i64::from(super::USERS_PER_PAGE)).max(1);
                        let link = |n: u32| format!("/admin/users?q={}&role={}&page={n}", crate::ui::urlencode(&value("q")), value("role"));
                        let prev = (page.page > 1).then(|| link(page.page - 1));
                        let next = (i64::from(page.page) < pages).then(|| link(page.page + 1));
                        view! {
                            <p class="results-count">{fill(t(Msg::AdminUsersCount), &[("n", &page.total)])}</p>
                            <div class="table-wrap panel">
                                <table class="data-table users">
                                    <thead><tr>
                                        <th scope="col">{t(Msg::AttendeesColPerson)}</th>
                                        <th scope="col">{t(Msg::ProfileRole)}</th>
                                        <th scope="col">{t(Msg::AdminUsersBlocked)}</th>
                                        <th scope="col">{t(Msg::ProfileMemberSince)}</th>
                                    </tr></thead>
                                    <tbody>
                                        {page.items.into_iter().map(|u| {
                                            let id = u.user.id.to_string();
                                            let (role_id, block_id) = (id.clone(), id.clone());
                                            let blocked = u.blocked;
                                            view! {
                                                <tr data-user=id class:user-blocked=blocked>
                                                    <th scope="row"><span dir="auto">{u.user.display_name.clone()}</span><br/>
                                                        <small class="muted"><bdi>{u.user.email.clone()}</bdi></small></th>
                                                    <td>
                                                        <ActionForm action=update attr:class="inline-form">
                                                            <input type="hidden" name="id" value=role_id/>
                                                            <input type="hidden" name="blocked" value=""/>
                                                            <select name="role" aria-label=t(Msg::ProfileRole)>
                                                                {Role::ALL.into_iter().map(|r| view! {
                                                                    <option value=r.code() selected=r == u.user.role>{t(r.label())}</option>
                                                                }).collect_view()}
                                                            </select>
                                                            <button class="btn btn-ghost btn-sm" type="submit">{t(Msg::AdminSave)}</button>
                                                        </ActionForm>
                                                    </td>
                                                    <td>
                                                        <ActionForm action=update attr:class="inline-form">
                                                            <input type="hidden" name="id" value=block_id/>
                                                            <input type="hidden" name="role" value=""/>
                                                            <input type="hidden" name="blocked" value=(!blocked).to_string()/>
                                                            {if blocked {
                                                                view! { <span class="status status-cancelled">{t(Msg::AdminUsersBlocked)}</span>
                                                                    " " <button class="btn btn-ghost btn-sm" type="submit">{t(Msg::AdminUnblock)}</button> }.into_any()
                                                            } else {
                                                                view! { <button class="btn btn-ghost btn-sm" type="submit">{t(Msg::AdminBlock)}</button> }.into_any()
                                                            }}
                                                        </ActionForm>
                                                    </td>
                                                    <td>{u.user.created_at.format("%Y-%m-%d").to_string()}</td>
                                                </tr>
                                            }
                                        }).collect_view()}
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

/// `/admin/events`: every organizer's events, filtered by status, organizer and dates; each
/// row changes status (publish, unpublish, cancel with a reason) and featuring in place.
#[component]
pub fn AdminEventsPage() -> impl IntoView {
    use super::commands::ChangeEvent;
    use super::queries::list_all_events;
    use crate::events::EventStatus;
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
    change: ServerAction<super::commands::ChangeEvent>,
    locale: Locale,
) -> impl IntoView {
    use crate::events::EventStatus;
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
                                    <input name="reason" required maxlength="500"/>
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
