//! Webhook server functions for the pages (the REST API calls the same ports). Agents and
//! admins, each on their own endpoints. Every one works as a plain form post: creating and
//! rotating land on `/agent/webhooks?secret=<id>`, where the new secret is shown once.
use super::{DeliveryId, WebhookId};
use crate::error::AppError;
use leptos::prelude::*;

/// Adds an endpoint from the form: `url`, the checked `events`, `event_id` (empty = all the
/// caller's events). Lands on the list, which shows the secret once.
#[server]
pub async fn create_webhook(
    url: String,
    #[server(default)] events: Vec<String>,
    #[server(default)] event_id: String,
) -> Result<WebhookId, AppError> {
    use crate::{auth::Role, error::Problem, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Agent).await?;
            let event_id = match event_id.trim() {
                "" | "all" => None,
                id => Some(id.parse().map_err(|_| {
                    AppError::field(
                        "event_id",
                        Problem::Malformed {
                            detail: "not an event".into(),
                        },
                    )
                })?),
            };
            let created = ssr::services()?
                .webhook_commands
                .create_webhook(
                    &actor,
                    super::NewWebhook {
                        url,
                        events,
                        event_id,
                    },
                )
                .await?;
            let id = created.webhook.id;
            leptos_axum::redirect(&format!("/agent/webhooks?secret={id}"));
            Ok(id)
        }
        .await,
    )
}

/// Gives an endpoint a new secret (the old one signs beside it for a day); lands on the list,
/// which shows the new secret once.
#[server]
pub async fn rotate_webhook_secret(id: WebhookId) -> Result<(), AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Agent).await?;
            ssr::services()?
                .webhook_commands
                .rotate_secret(&actor, id)
                .await?;
            leptos_axum::redirect(&format!("/agent/webhooks?secret={id}"));
            Ok(())
        }
        .await,
    )
}

/// The secret of an endpoint just created or rotated, once (`None` afterwards).
#[server]
pub async fn reveal_webhook_secret(id: WebhookId) -> Result<Option<String>, AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Agent).await?;
            ssr::services()?
                .webhook_commands
                .reveal_secret(&actor, id)
                .await
        }
        .await,
    )
}

/// Removes an endpoint and its log.
#[server]
pub async fn delete_webhook(id: WebhookId) -> Result<(), AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Agent).await?;
            ssr::services()?
                .webhook_commands
                .delete_webhook(&actor, id)
                .await?;
            leptos_axum::redirect("/agent/webhooks");
            Ok(())
        }
        .await,
    )
}

/// Turns a disabled endpoint back on.
#[server]
pub async fn enable_webhook(id: WebhookId) -> Result<(), AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Agent).await?;
            ssr::services()?
                .webhook_commands
                .enable_webhook(&actor, id)
                .await?;
            Ok(())
        }
        .await,
    )
}

/// Sends one delivery of an endpoint again.
#[server]
pub async fn retry_webhook_delivery(id: WebhookId, delivery: DeliveryId) -> Result<(), AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Agent).await?;
            ssr::services()?
                .webhook_commands
                .retry_delivery(&actor, id, delivery)
                .await
        }
        .await,
    )
}
