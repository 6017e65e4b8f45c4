//! `/agent/webhooks`: the caller's endpoints (URL, types, scope, state), the form that adds
//! one, and the new secret once, after creating or rotating (`?secret=<id>`).
use super::{scope_text, state_badge, utc};
use crate::auth::Role;
use crate::events::queries::list_managed_events;
use crate::i18n::{Msg, fill, t, use_locale};
use crate::ui::form::{ErrorSummary, field_message, form_error};
use crate::ui::layout::use_auth;
use crate::webhooks::commands::{
    CreateWebhook, DeleteWebhook, EnableWebhook, RotateWebhookSecret, reveal_webhook_secret,
};
use crate::webhooks::queries::list_webhooks;
use crate::webhooks::{EVENT_TYPES, Webhook, WebhookId, event_type_label};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn WebhooksPage() -> impl IntoView {
    let locale = use_locale();
    let query = use_query_map();
    let create = ServerAction::<CreateWebhook>::new();
    let rotate = ServerAction::<RotateWebhookSecret>::new();
    let delete = ServerAction::<DeleteWebhook>::new();
    let enable = ServerAction::<EnableWebhook>::new();
    let auth = use_auth();
    let admin = move || matches!(auth.user.get(), Some(Ok(Some(u))) if u.role >= Role::Admin);
    let list = Resource::new(
        move || {
            (
                create.version().get(),
                rotate.version().get(),
                delete.version().get(),
                enable.version().get(),
            )
        },
        |_| list_webhooks(),
    );
    let events = Resource::new(|| (), |_| list_managed_events());
    let reveal_id = move || {
        query
            .read()
            .get("secret")
            .and_then(|s| s.parse::<WebhookId>().ok())
    };
    let secret = Resource::new(reveal_id, |id| async move {
        match id {
            Some(id) => reveal_webhook_secret(id).await.ok().flatten(),
            None => None,
        }
    });
    let error = form_error(
        move || create.value().get(),
        <CreateWebhook as ServerFn>::PATH,
    );
    let url_error = field_message(error, "url");
    let events_error = field_message(error, "events");
    let scope_error = field_message(error, "event_id");
    view! {
        <Title text=t(Msg::WebhooksTitle)/>
        <div class="section-head">
            <div>
                <h1>{t(Msg::WebhooksTitle)}</h1>
                <p class="muted">{t(Msg::WebhooksIntro)}</p>
            </div>
        </div>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                secret.await.map(|secret| view! {
                    <section class="panel webhook-secret" role="status" aria-labelledby="webhook-secret-title">
                        <h2 id="webhook-secret-title">{t(Msg::WebhooksSecretTitle)}</h2>
                        <p><code dir="ltr" data-testid="webhook-secret">{secret}</code></p>
                        <p class="muted">{t(Msg::WebhooksSecretOnce)}</p>
                    </section>
                })
            })}
        </Transition>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => crate::ui::refusal(e, "/agent/webhooks", Msg::AgentOnly, locale),
                    Ok(list) if list.is_empty() => view! { <p class="empty panel">{t(Msg::WebhooksEmpty)}</p> }.into_any(),
                    Ok(list) => {
                        let admin = admin();
                        view! {
                            <ul class="webhook-list">
                                {list.into_iter().map(|w| view! { <WebhookItem w admin rotate delete enable/> }).collect_view()}
                            </ul>
                        }.into_any()
                    }
                }
            })}
        </Transition>
        <section class="panel" aria-labelledby="webhook-add">
            <h2 id="webhook-add">{t(Msg::WebhooksAdd)}</h2>
            <ErrorSummary error/>
            <ActionForm action=create attr:class="stack webhook-form">
                <div class="field" class:field-invalid=move || url_error.get().is_some()>
                    <label for="webhook-url">{t(Msg::WebhooksUrl)}</label>
                    <input id="webhook-url" name="url" type="url" required maxlength="2000" dir="ltr"
                        placeholder="https://" aria-describedby="webhook-url-hint webhook-url-error"
                        aria-invalid=move || if url_error.get().is_some() { "true" } else { "false" }/>
                    <p class="field-hint" id="webhook-url-hint">{t(Msg::WebhooksUrlHint)}</p>
                    <p class="field-error" id="webhook-url-error" aria-live="polite">{move || url_error.get()}</p>
                </div>
                <fieldset class="field webhook-types" class:field-invalid=move || events_error.get().is_some()>
                    <legend>{t(Msg::WebhooksEvents)}</legend>
                    {EVENT_TYPES.iter().enumerate().map(|(i, code)| view! {
                        <label class="check">
                            <input type="checkbox" name=format!("events[{i}]") value=*code/>
                            " " {t(event_type_label(code))} " " <code class="muted" dir="ltr">{*code}</code>
                        </label>
                    }).collect_view()}
                    <p class="field-error" aria-live="polite">{move || events_error.get()}</p>
                </fieldset>
                <div class="field" class:field-invalid=move || scope_error.get().is_some()>
                    <label for="webhook-scope">{t(Msg::WebhooksScope)}</label>
                    <select id="webhook-scope" name="event_id">
                        <option value="">{move || if admin() { t(Msg::WebhooksScopePlatform) } else { t(Msg::WebhooksScopeAll) }}</option>
                        <Transition fallback=|| ()>
                            {move || Suspend::new(async move {
                                events.await.unwrap_or_default().into_iter().map(|e| view! {
                                    <option value=e.id.to_string()>{e.title}</option>
                                }).collect_view()
                            })}
                        </Transition>
                    </select>
                    <p class="field-error" aria-live="polite">{move || scope_error.get()}</p>
                </div>
                <button class="btn btn-primary" type="submit">{t(Msg::WebhooksCreate)}</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn WebhookItem(
    w: Webhook,
    admin: bool,
    rotate: ServerAction<RotateWebhookSecret>,
    delete: ServerAction<DeleteWebhook>,
    enable: ServerAction<EnableWebhook>,
) -> impl IntoView {
    let locale = use_locale();
    let id = w.id.to_string();
    let types = w
        .events
        .iter()
        .map(|c| t(event_type_label(c)))
        .collect::<Vec<_>>()
        .join(", ");
    let scope = scope_text(&w, admin);
    let rotating = w
        .previous_secret_until
        .map(|until| fill(t(Msg::WebhooksRotating), &[("until", &utc(locale, until))]));
    let failures = (w.consecutive_failures > 0).then(|| {
        fill(
            t(Msg::WebhooksFailures),
            &[("count", &w.consecutive_failures)],
        )
    });
    let (rotate_id, delete_id, enable_id) = (id.clone(), id.clone(), id.clone());
    let disabled = !w.active;
    view! {
        <li class="panel webhook" data-webhook=id.clone()>
            <div class="request-head">
                <strong><bdi dir="ltr">{w.url.clone()}</bdi></strong>
                <span>{state_badge(&w)}</span>
            </div>
            <p class="muted">{types}</p>
            <p><small>{t(Msg::WebhooksScope)} ": " <span dir="auto">{scope}</span> " · " {utc(locale, w.created_at)}</small></p>
            {rotating.map(|text| view! { <p class="muted"><small>{text}</small></p> })}
            {failures.map(|text| view! { <p class="muted"><small>{text}</small></p> })}
            <div class="row-actions">
                <a class="btn btn-ghost btn-sm" href=format!("/agent/webhooks/{id}")>{t(Msg::WebhooksLog)}</a>
                {disabled.then(|| view! {
                    <ActionForm action=enable attr:class="inline-form">
                        <input type="hidden" name="id" value=enable_id.clone()/>
                        <button class="btn btn-primary btn-sm" type="submit">{t(Msg::WebhooksEnable)}</button>
                    </ActionForm>
                })}
                <ActionForm action=rotate attr:class="inline-form">
                    <input type="hidden" name="id" value=rotate_id/>
                    <button class="btn btn-ghost btn-sm" type="submit">{t(Msg::WebhooksRotate)}</button>
                </ActionForm>
                <ActionForm action=delete attr:class="inline-form">
                    <input type="hidden" name="id" value=delete_id/>
                    <button class="btn btn-danger btn-sm" type="submit">{t(Msg::WebhooksDelete)}</button>
                </ActionForm>
            </div>
        </li>
    }
}
