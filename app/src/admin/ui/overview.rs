//! `/admin`: the overview, with a card for each admin page.
use super::shared::refusal;
use crate::admin::queries::list_agent_requests;
use crate::i18n::{Msg, fill, t, use_locale};
use leptos::prelude::*;
use leptos_meta::Title;

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
                            <a class="panel admin-card" href="/admin/jobs">
                                <h2>{t(Msg::JobsTitle)}</h2>
                                <p class="muted">{t(Msg::AdminJobsLead)}</p>
                            </a>
                            <a class="panel admin-card" href="/admin/mail">
                                <h2>{t(Msg::AdminMailTitle)}</h2>
                                <p class="muted">{t(Msg::AdminMailLead)}</p>
                            </a>
                        </div>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
