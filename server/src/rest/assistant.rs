//! `/api/v1/assistant`: ask the assistant (signed in), delete a conversation.
use super::auth::ApiUser;
use super::bookings::IdInput;
use super::error::{ApiError, ApiJson, ErrorBody};
use super::events::EventSummary;
use crate::AppState;
use app::auth::Role;
use app::error::AppError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
pub struct ChatRequest {
    /// The question, 1–500 characters (trimmed), in any language.
    #[schema(min_length = 1, max_length = 500, pattern = "\\S")]
    pub message: String,
    /// Continue this conversation (one of the caller's); omit to start one.
    pub conversation_id: Option<IdInput>,
}

// `AssistantReply` with a string conversation id and the recommended events as `EventSummary`.
#[derive(Serialize, ToSchema)]
pub struct ChatResponse {
    pub conversation_id: String,
    pub reply: String,
    /// The events the reply recommends: published, not started, with seats or a waitlist.
    pub recommendations: Vec<Recommended>,
    /// The model that wrote the reply; null when the built-in recommender did.
    pub model: Option<String>,
    /// True when no language model answered and the built-in recommender did.
    pub fallback: bool,
    /// True when the answer's deadline cut the model off: the retrieved events and the
    /// built-in recommender's sentence are the answer.
    pub deadline_hit: bool,
}

/// A recommended event: its summary and, when a model picked it, why.
#[derive(Serialize, ToSchema)]
pub struct Recommended {
    #[serde(flatten)]
    pub event: EventSummary,
    /// The model's short reason for this pick, in the question's language; absent when the
    /// built-in recommender picked it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Asks the assistant and waits for the whole answer.
#[utoipa::path(post, path = "/api/v1/assistant/chat", tag = "assistant", request_body = ChatRequest,
    security(("bearer" = [])),
    responses((status = 200, body = ChatResponse), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn chat(
    State(state): State<AppState>,
    caller: ApiUser,
    headers: HeaderMap,
    ApiJson(req): ApiJson<ChatRequest>,
) -> Result<Json<ChatResponse>, ApiError> {
    let actor = caller.require(Role::User)?;
    let conversation = req
        .conversation_id
        .as_ref()
        .map(|id| id.parse("conversation_id"))
        .transpose()?;
    let assistant = &state.services.assistant_commands;
    let asked = assistant.ask(&actor, &req.message, conversation).await?;
    let locale = crate::web::request_locale(&headers);
    let reply = assistant.answer(&actor, asked.message_id, locale).await?;
    Ok(Json(ChatResponse {
        conversation_id: reply.conversation_id.to_string(),
        reply: reply.reply,
        recommendations: reply
            .recommendations
            .into_iter()
            .map(|r| Recommended {
                event: r.event.into(),
                reason: r.reason,
            })
            .collect(),
        model: reply.model,
        fallback: reply.fallback,
        deadline_hit: reply.deadline_hit,
    }))
}

/// Deletes one of the caller's conversations with its messages.
#[utoipa::path(delete, path = "/api/v1/assistant/conversations/{id}", tag = "assistant",
    params(("id" = String, Path, description = "the conversation's id")), security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_conversation(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let actor = caller.require(Role::User)?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    state
        .services
        .assistant_commands
        .delete_conversation(&actor, id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
