//! The assistant's writes: asking and deleting conversations.
use super::{Asked, ConversationId};
use crate::error::AppError;
use leptos::prelude::*;

/// Files a question. From the page's script it returns at once and the page follows the answer
/// as it is written (`/assistant/replies/{id}`); posted as a plain form it waits for the whole
/// answer and goes back to the conversation.
#[server]
pub async fn ask_assistant(
    message: String,
    conversation_id: Option<ConversationId>,
) -> Result<Asked, AppError> {
    use crate::{auth::Role, i18n::Locale, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::User).await?;
            let commands = ssr::services()?.assistant_commands;
            let asked = commands.ask(&actor, &message, conversation_id).await?;
            if ssr::plain_form() {
                let locale = use_context::<Locale>().unwrap_or_default();
                commands.answer(&actor, asked.message_id, locale).await?;
                leptos_axum::redirect(&format!("/assistant?c={}", asked.conversation_id));
            }
            Ok(asked)
        }
        .await,
    )
}

/// Deletes one of the user's conversations.
#[server]
pub async fn delete_conversation(id: ConversationId) -> Result<(), AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::User).await?;
            ssr::services()?
                .assistant_commands
                .delete_conversation(&actor, id)
                .await?;
            leptos_axum::redirect("/assistant?new=true");
            Ok(())
        }
        .await,
    )
}
