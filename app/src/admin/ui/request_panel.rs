//! The organizer request panel on `/me`: a user asks to become an organizer and sees where the
//! request stands.
use super::shared::utc;
use crate::admin::AgentRequestStatus;
use crate::admin::commands::RequestAgent;
use crate::admin::queries::my_agent_request;
use crate::auth::Role;
use crate::i18n::{Msg, fill, t, use_locale};
use crate::ui::form::{ErrorSummary, Field, form_error};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

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
