//! `/agent/webhooks/:id`: one endpoint's newest deliveries (status, type, time, response code,
//! attempts), "send again" for each that is not pending, re-enable for a disabled endpoint.
use super::{state_badge, utc};
use crate::i18n::{Msg, t, use_locale};
use crate::ui::form::{ErrorSummary, form_error};
use crate::webhooks::commands::{EnableWebhook, RetryWebhookDelivery};
use crate::webhooks::queries::get_webhook_log;
use crate::webhooks::{DeliveryStatus, WebhookId, event_type_label};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

#[component]
pub fn WebhookLogPage() -> impl IntoView {
    let locale = use_locale();
    let id = crate::ui::id_param::<WebhookId>();
    let retry = ServerAction::<RetryWebhookDelivery>::new();
    let enable = ServerAction::<EnableWebhook>::new();
    let log = Resource::new(
        move || (id.get(), retry.version().get(), enable.version().get()),
        |(id, _, _)| async move {
            match id {
                Some(id) => get_webhook_log(id).await,
                None => Err(crate::error::AppError::NotFound),
            }
        },
    );
    let retry_error = form_error(
        move || retry.value().get(),
        <RetryWebhookDelivery as ServerFn>::PATH,
    );
    let enable_error = form_error(
        move || enable.value().get(),
        <EnableWebhook as ServerFn>::PATH,
    );
    let error = Signal::derive(move || retry_error.get().or_else(|| enable_error.get()));
    let here = move || format!("/agent/webhooks/{}", id.get().unwrap_or_default());
    view! {
        <Title text=t(Msg::WebhooksLog)/>
        <p><a href="/agent/webhooks">{t(Msg::WebhooksBack)}</a></p>
        <ErrorSummary error/>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match log.await {
                    Err(e) => crate::ui::refusal(e, &here(), Msg::AgentOnly, locale),
                    Ok(log) => {
                        let w = log.webhook;
                        let wid = w.id.to_string();
                        let disabled = !w.active;
                        let enable_id = wid.clone();
                        view! {
                            <div class="section-head">
                                <div>
                                    <h1>{t(Msg::WebhooksLog)}</h1>
                                    <p><bdi dir="ltr">{w.url.clone()}</bdi> " " {state_badge(&w)}</p>
                                </div>
                                {disabled.then(|| view! {
                                    <ActionForm action=enable attr:class="inline-form">
                                        <input type="hidden" name="id" value=enable_id.clone()/>
                                        <button class="btn btn-primary" type="submit">{t(Msg::WebhooksEnable)}</button>
                                    </ActionForm>
                                })}
                            </div>
                            {if log.deliveries.is_empty() {
                                view! { <p class="empty panel">{t(Msg::WebhooksLogEmpty)}</p> }.into_any()
                            } else {
                                view! {
                                    <div class="table-wrap panel">
                                        <table class="data-table webhook-deliveries">
                                            <thead><tr>
                                                <th scope="col">{t(Msg::WebhooksColTime)}</th>
                                                <th scope="col">{t(Msg::WebhooksColType)}</th>
                                                <th scope="col">{t(Msg::WebhooksColStatus)}</th>
                                                <th scope="col">{t(Msg::WebhooksColCode)}</th>
                                                <th scope="col">{t(Msg::WebhooksColAttempts)}</th>
                                                <th scope="col"><span class="visually-hidden">{t(Msg::WebhooksSendAgain)}</span></th>
                                            </tr></thead>
                                            <tbody>
                                                {log.deliveries.into_iter().map(|d| {
                                                    let when = d.last_attempt_at.unwrap_or(d.created_at);
                                                    let can_retry = d.status != DeliveryStatus::Pending && !disabled;
                                                    let (wid, did) = (wid.clone(), d.id.to_string());
                                                    view! {
                                                        <tr data-delivery=d.id.to_string() data-status=d.status.code()>
                                                            <td><time datetime=when.to_rfc3339()>{utc(locale, when)}</time></td>
                                                            <td>{t(event_type_label(&d.event_type))} " " <code class="muted" dir="ltr">{d.event_type.clone()}</code></td>
                                                            <td><span class=format!("status status-{}", d.status.code())>{t(d.status.label())}</span></td>
                                                            <td data-testid="response-code">{d.response_code.map(|c| c.to_string()).unwrap_or_else(|| "—".into())}</td>
                                                            <td>{d.attempts}</td>
                                                            <td>{can_retry.then(|| view! {
                                                                <ActionForm action=retry attr:class="inline-form">
                                                                    <input type="hidden" name="id" value=wid.clone()/>
                                                                    <input type="hidden" name="delivery" value=did.clone()/>
                                                                    <button class="btn btn-ghost btn-sm" type="submit">{t(Msg::WebhooksSendAgain)}</button>
                                                                </ActionForm>
                                                            })}</td>
                                                        </tr>
                                                    }
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    </div>
                                }.into_any()
                            }}
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}
