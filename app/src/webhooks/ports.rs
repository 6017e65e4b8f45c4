//! What the webhook server functions and REST handlers need; `server::webhooks` implements it.
//! Every method acts on the actor's own endpoints only: another's answers `NotFound`.
use super::{CreatedWebhook, Delivery, DeliveryId, NewWebhook, Webhook, WebhookId};
use crate::auth::UserView;
use crate::error::AppError;

#[async_trait::async_trait]
pub trait WebhookCommands: Send + Sync {
    /// Adds an endpoint for the actor (an agent for their own events, one of them or all; an
    /// admin for any event or the whole platform). The URL must be http(s) and, unless the
    /// server allows private targets, resolve to public addresses only (`Invalid` on `url`).
    /// Answers the endpoint with its new secret, the only time it is shown besides a rotation.
    async fn create_webhook(
        &self,
        actor: &UserView,
        new: NewWebhook,
    ) -> Result<CreatedWebhook, AppError>;

    /// A new secret; the old one keeps signing beside it for a day (both signatures sent).
    async fn rotate_secret(&self, actor: &UserView, id: WebhookId) -> Result<String, AppError>;

    /// The secret of a webhook created or rotated in the last minutes, once: a second call
    /// answers `None` (the page a plain form lands on shows it this way).
    async fn reveal_secret(
        &self,
        actor: &UserView,
        id: WebhookId,
    ) -> Result<Option<String>, AppError>;

    /// Removes an endpoint and its delivery log.
    async fn delete_webhook(&self, actor: &UserView, id: WebhookId) -> Result<(), AppError>;

    /// Turns a disabled endpoint back on (its failure count starts again at zero).
    async fn enable_webhook(&self, actor: &UserView, id: WebhookId) -> Result<Webhook, AppError>;

    /// Sends a delivery again (delivered or failed; a pending one is on its way already:
    /// `Conflict`), as a new job. `Conflict` on a disabled endpoint.
    async fn retry_delivery(
        &self,
        actor: &UserView,
        id: WebhookId,
        delivery: DeliveryId,
    ) -> Result<(), AppError>;
}

#[async_trait::async_trait]
pub trait WebhookQueries: Send + Sync {
    /// The actor's endpoints, oldest first.
    async fn list_webhooks(&self, actor: &UserView) -> Result<Vec<Webhook>, AppError>;

    /// One of the actor's endpoints.
    async fn get_webhook(&self, actor: &UserView, id: WebhookId) -> Result<Webhook, AppError>;

    /// The newest deliveries of one of the actor's endpoints (at most
    /// [`super::DELIVERIES_SHOWN`]), newest first.
    async fn list_deliveries(
        &self,
        actor: &UserView,
        id: WebhookId,
    ) -> Result<Vec<Delivery>, AppError>;
}
