//! `/admin`: the overview, with a card for each admin page.
use super::shared::refusal;
use crate::admin::queries::list_agent_requests;
use crate::auth::Role;
use crate::auth::security::{SetTwoFactorRequirement, get_two_factor_requirement};
use crate::i18n::{Msg, fill, t, use_locale};
use crate::ui::form::{ErrorSummary, form_error};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

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
                            <a class="panel admin-card" href="/admin/system">
                                <h2>{t(Msg::SystemTitle)}</h2>
                                <p class="muted">{t(Msg::AdminSystemLead)}</p>
                            </a>
                        </div>
                        <SettingsPanel/>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The platform's settings: which roles must use two-factor sign-in.
#[component]
fn SettingsPanel() -> impl IntoView {
    let query = use_query_map();
    let save = ServerAction::<SetTwoFactorRequirement>::new();
    let error = form_error(
        move || save.value().get(),
        <SetTwoFactorRequirement as ServerFn>::PATH,
    );
    let required = Resource::new(
        move || save.version().get(),
        |_| get_two_factor_requirement(),
    );
    let saved = move || {
        query.read().get("done").as_deref() == Some("settings")
            || matches!(save.value().get(), Some(Ok(())))
    };
    view! {
        <section class="panel" id="settings" aria-labelledby="admin-settings" data-testid="admin-settings">
            <h2 id="admin-settings">{t(Msg::AdminSettings)}</h2>
            {move || saved().then(|| view! { <p class="alert alert-ok" role="status">{t(Msg::AdminSettingsDone)}</p> })}
            <ErrorSummary error/>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let roles = required.await.unwrap_or_default();
                    view! {
                        <ActionForm action=save attr:class="stack">
                            <fieldset>
                                <legend>{t(Msg::AdminSettingsTwoFactor)}</legend>
                                {[Role::Agent, Role::Admin].into_iter().map(|role| view! {
                                    <label class="check">
                                        <input type="checkbox" name=role.code() value="on" checked=roles.contains(&role)/>
                                        " " {t(role.label())}
                                    </label>
                                }).collect_view()}
                                <p class="muted">{t(Msg::AdminSettingsTwoFactorHint)}</p>
                            </fieldset>
                            <button class="btn btn-primary" type="submit" disabled=move || save.pending().get()>
                                {t(Msg::AdminSettingsSave)}
                            </button>
                        </ActionForm>
                    }
                })}
            </Transition>
        </section>
    }
}
