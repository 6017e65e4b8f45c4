//! `/admin/agent-requests`: the requests to become an organizer, filtered by status; an admin
//! approves or rejects each.
use super::shared::{refusal, utc};
use crate::admin::commands::DecideAgentRequest;
use crate::admin::queries::list_agent_requests;
use crate::admin::{AgentRequest, AgentRequestStatus};
use crate::i18n::{Locale, Msg, fill, t, use_locale};
use crate::ui::form::{ErrorSummary, form_error};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

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
                    <span class="muted">" · " <span dir="auto">{r.user_name.clone()}</span> " · " <bdi>{r.user_email.clone()}</bdi></span> " "
                    {crate::auth::ui::verified_mark(r.user_email_verified)}
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
