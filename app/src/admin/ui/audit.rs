//! `/admin/audit`: the audit log of every administrative change.
use super::shared::{refusal, utc};
use crate::admin::AuditFilter;
use crate::admin::queries::get_audit_log;
use crate::i18n::{Msg, t, use_locale};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

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
