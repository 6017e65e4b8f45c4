//! Webhook reads for the pages (the REST API calls the same ports). Agents and admins, each
//! their own endpoints.
use super::{Webhook, WebhookId, WebhookLog};
use crate::error::AppError;
use leptos::prelude::*;

/// The caller's endpoints.
#[server]
pub async fn list_webhooks() -> Result<Vec<Webhook>, AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Agent).await?;
            ssr::services()?.webhook_queries.list_webhooks(&actor).await
        }
        .await,
    )
}

/// One of the caller's endpoints with its newest deliveries.
#[server]
pub async fn get_webhook_log(id: WebhookId) -> Result<WebhookLog, AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Agent).await?;
            let queries = ssr::services()?.webhook_queries;
            let webhook = queries.get_webhook(&actor, id).await?;
            let deliveries = queries.list_deliveries(&actor, id).await?;
            Ok(WebhookLog {
                webhook,
                deliveries,
            })
        }
        .await,
    )
}
