//! The assistant page's read.
use super::{AssistantView, ConversationId};
use crate::error::AppError;
use leptos::prelude::*;

/// The signed-in user's conversations and the one to show: `conversation`, or the latest when
/// none is asked for (`new` shows none, for a fresh start).
#[server]
pub async fn get_assistant(
    conversation: Option<ConversationId>,
    new: bool,
) -> Result<AssistantView, AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::User).await?;
            let queries = ssr::services()?.assistant_queries;
            let conversations = queries.conversations(&actor).await?;
            let open = match (conversation, new) {
                (Some(id), _) => Some(id),
                (None, false) => conversations.first().map(|c| c.id),
                (None, true) => None,
            };
            let current = match open {
                Some(id) => Some(queries.conversation(&actor, id).await?),
                None => None,
            };
            Ok(AssistantView {
                conversations,
                current,
            })
        }
        .await,
    )
}
