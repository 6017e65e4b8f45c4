//! What the assistant's server functions and REST handler need; `server::assistant` implements it.
use super::{Asked, AssistantReply, Conversation, ConversationId, ConversationSummary, MessageId};
use crate::auth::UserView;
use crate::error::AppError;
use crate::i18n::Locale;

#[async_trait::async_trait]
pub trait AssistantCommands: Send + Sync {
    /// Files a question (checked: `Invalid` for an empty or overlong one) in the actor's
    /// conversation `conversation` (another user's is `NotFound`) or a new one. Questions are
    /// rate-limited per user (`RateLimited`).
    async fn ask(
        &self,
        actor: &UserView,
        message: &str,
        conversation: Option<ConversationId>,
    ) -> Result<Asked, AppError>;

    /// Writes the answer to the actor's question `question` (once; later calls return the
    /// stored answer). `locale` is the page's language, used when the question's is unclear.
    async fn answer(
        &self,
        actor: &UserView,
        question: MessageId,
        locale: Locale,
    ) -> Result<AssistantReply, AppError>;

    /// Deletes one of the actor's conversations with all its messages.
    async fn delete_conversation(
        &self,
        actor: &UserView,
        id: ConversationId,
    ) -> Result<(), AppError>;
}

#[async_trait::async_trait]
pub trait AssistantQueries: Send + Sync {
    /// The actor's conversations, latest first.
    async fn conversations(&self, actor: &UserView) -> Result<Vec<ConversationSummary>, AppError>;

    /// One of the actor's conversations with its messages and their cards (seats as of now).
    async fn conversation(
        &self,
        actor: &UserView,
        id: ConversationId,
    ) -> Result<Conversation, AppError>;
}
