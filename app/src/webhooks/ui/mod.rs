//! Webhook pages for organizers and admins: `/agent/webhooks` (the endpoints, the form that
//! adds one, the secret shown once) and `/agent/webhooks/:id` (one endpoint's delivery log).
//! Every action is a plain form underneath.
mod list_page;
mod log_page;

pub use list_page::WebhooksPage;
pub use log_page::WebhookLogPage;

use crate::i18n::{Locale, Msg, format_local, t};
use crate::webhooks::Webhook;
use leptos::prelude::*;

/// Times on these pages: UTC, said so (they are compared with the receiver's logs).
fn utc(locale: Locale, at: chrono::DateTime<chrono::Utc>) -> String {
    format!("{} UTC", format_local(locale, at.naive_utc()))
}

/// Active, or disabled and why.
fn state_badge(w: &Webhook) -> impl IntoView + use<> {
    let reason = match w.disabled_reason.as_deref() {
        Some("gone") => Some(t(Msg::WebhooksDisabledGone)),
        Some(_) => Some(t(Msg::WebhooksDisabledFailures)),
        None => None,
    };
    if w.active {
        view! { <span class="status status-active" data-state="active">{t(Msg::WebhooksActive)}</span> }.into_any()
    } else {
        view! {
            <span class="status status-disabled" data-state="disabled">{t(Msg::WebhooksDisabled)}</span>
            {reason.map(|r| view! { <span class="muted">" · " {r}</span> })}
        }
        .into_any()
    }
}

/// Where an endpoint's events come from: one event, all of the owner's, the platform.
fn scope_text(w: &Webhook, admin: bool) -> String {
    match (&w.event_title, w.event_id) {
        (Some(title), _) => title.clone(),
        (None, Some(id)) => format!("#{id}"),
        (None, None) if admin => t(Msg::WebhooksScopePlatform).to_owned(),
        (None, None) => t(Msg::WebhooksScopeAll).to_owned(),
    }
}

/// The message of a notice the webhook handler left (`webhook_gone` · `webhook_failures`,
/// the URL as its detail), for `/me`.
pub fn notice_text(kind: &str, url: &str, locale: Locale) -> Option<String> {
    let reason = match kind {
        "webhook_gone" => Msg::WebhooksDisabledGone,
        "webhook_failures" => Msg::WebhooksDisabledFailures,
        _ => return None,
    };
    Some(crate::i18n::fill(
        Msg::NoticeWebhookDisabled.text(locale),
        &[("url", &url), ("reason", &reason.text(locale))],
    ))
}
