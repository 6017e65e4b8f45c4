//! The AI assistant: a signed-in user asks what to see (English, Hebrew or Polish) and gets a
//! short answer with real events that have seats left (or an open waitlist) as cards. Retrieval
//! happens first and only retrieved events can be shown; the answer comes from a chain of models
//! or, when none answers, from the built-in recommender (`fallback`). Conversations belong to
//! their user, who may delete them. Users, agents and admins all may ask.
pub mod commands;
#[cfg(feature = "ssr")]
pub mod ports;
pub mod queries;
pub mod ui;

use crate::events::{EventListItem, TicketTypeId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub type ConversationId = i64;
pub type MessageId = i64;

/// The longest question accepted, in characters.
pub const QUESTION_MAX: usize = 500;

/// Who wrote a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    User,
    Assistant,
}

/// A recommended event as its card shows it, with the ticket type a one-click "Register" books
/// (one seat of the cheapest type on sale). Only events that can be booked become cards.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recommendation {
    pub event: EventListItem,
    pub ticket_type: TicketTypeId,
    /// Why the model picked it, in the question's language (checked against the event's own
    /// facts); `None` when the built-in recommender picked it or the reason did not hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Recommendation {
    /// No seat is left: registering joins the waitlist.
    pub fn waitlist(&self) -> bool {
        self.event.remaining_seats <= 0
    }
}

/// One message of a conversation. A question is `pending` until its answer is written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub id: MessageId,
    pub speaker: Speaker,
    pub content: String,
    pub pending: bool,
    pub model: Option<String>,
    pub fallback: bool,
    /// The answer's deadline cut the model off: the cards are the retrieved ones.
    #[serde(default)]
    pub deadline_hit: bool,
    pub recommendations: Vec<Recommendation>,
    pub created_at: DateTime<Utc>,
}

/// A conversation in the list beside the chat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub id: ConversationId,
    pub title: String,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: ConversationId,
    pub title: String,
    pub messages: Vec<ChatMessage>,
}

/// What `/assistant` shows: the user's conversations and the open one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssistantView {
    pub conversations: Vec<ConversationSummary>,
    pub current: Option<Conversation>,
}

/// A question filed: its conversation and id (the page follows `/assistant/replies/{id}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asked {
    pub conversation_id: ConversationId,
    pub message_id: MessageId,
}

/// A written answer. `model` is the model that wrote it; `fallback` when none did and the
/// built-in recommender answered; `deadline_hit` when the answer's deadline cut the model off
/// (the retrieved cards and the recommender's sentence stand).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssistantReply {
    pub conversation_id: ConversationId,
    pub reply: String,
    pub recommendations: Vec<Recommendation>,
    pub model: Option<String>,
    pub fallback: bool,
    #[serde(default)]
    pub deadline_hit: bool,
}

/// What the reply stream (`/assistant/replies/{id}`, server-sent events) carries: the matching
/// events' cards as soon as retrieval found them (`cards`, before any model writes), pieces of
/// checked text as a model writes them, `restart` when that model failed and the next one starts
/// over, `slow` once when the answer is taking long, the finished reply, or `failed` with an
/// error kind (the page shows its own words for it).
pub mod stream {
    pub const CARDS: &str = "cards";
    pub const SLOW: &str = "slow";
    pub const DELTA: &str = "delta";
    pub const RESTART: &str = "restart";
    pub const DONE: &str = "done";
    pub const FAILED: &str = "failed";
}

/// Checks a question before anything is stored.
pub fn check_question(message: &str) -> Result<&str, crate::error::AppError> {
    use crate::error::{AppError, Problem};
    let message = message.trim();
    if message.is_empty() {
        return Err(AppError::field("message", Problem::Required));
    }
    if message.chars().count() > QUESTION_MAX {
        return Err(AppError::field(
            "message",
            Problem::TooLong { max: QUESTION_MAX },
        ));
    }
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_or_overlong_question_is_refused_with_its_field() {
        assert!(check_question("  ").is_err());
        assert!(check_question(&"a".repeat(QUESTION_MAX + 1)).is_err());
        assert_eq!(check_question(" stand-up? ").unwrap(), "stand-up?");
    }
}
