//! Conversations on either database: storing questions and answers, a question's claim
//! (pending → answering → done, handed back when a request goes away), the turns a prompt
//! sees, a stored answer read back, and the owner check for per-user reads.
use super::Assistant;
use crate::db::{Db, Tx, now};
use crate::error::{StoreError, StoreResult};
use crate::sql::Sql;
use app::assistant::{AssistantReply, ConversationId, MessageId, Recommendation, Speaker};
use app::auth::UserView;
use app::error::AppError;
use app::events::EventId;
use app::ssr::internal;
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;

/// Earlier messages a model sees (three questions and their answers).
const HISTORY: i64 = 6;

/// Holds a question's claim while its answer is written. Dropped without `done` (an error, or
/// the request went away mid-answer) it hands the question back, so it is never stuck.
pub(super) struct Claim {
    pub(super) db: Db,
    pub(super) question: MessageId,
    pub(super) at: DateTime<Utc>,
    pub(super) done: bool,
}

impl Drop for Claim {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let (db, question, at) = (self.db.clone(), self.question, self.at);
        tokio::spawn(async move {
            let released = db
                .execute(
                    Sql::new(
                        "UPDATE assistant_messages SET status = 'pending', claimed_at = NULL \
                         WHERE id = $1 AND status = 'answering' AND claimed_at = $2",
                    )
                    .arg(question)
                    .arg(at),
                )
                .await;
            if let Err(err) = released {
                tracing::error!("could not release question {question}: {err}");
            }
        });
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct MessageRow {
    pub(super) id: i64,
    pub(super) role: String,
    pub(super) content: String,
    pub(super) status: String,
    pub(super) model: Option<String>,
    pub(super) fallback: bool,
    pub(super) event_ids: String,
    pub(super) reasons: String,
    pub(super) deadline_hit: bool,
    pub(super) created_at: DateTime<Utc>,
}

impl MessageRow {
    /// The stored answer's cards among `cards` (those still bookable), with their reasons.
    pub(super) fn cards(&self, cards: &HashMap<EventId, Recommendation>) -> Vec<Recommendation> {
        let reasons: HashMap<String, String> =
            serde_json::from_str(&self.reasons).unwrap_or_default();
        ids_of(&self.event_ids)
            .iter()
            .filter_map(|id| {
                let mut card = cards.get(id)?.clone();
                card.reason = reasons.get(&id.to_string()).cloned();
                Some(card)
            })
            .collect()
    }
}

/// The columns of a stored message.
pub(super) const MESSAGE_COLUMNS: &str =
    "id, role, content, status, model, fallback, event_ids, reasons, deadline_hit, created_at";

#[derive(sqlx::FromRow)]
pub(super) struct QuestionRow {
    pub(super) conversation_id: i64,
    pub(super) content: String,
    pub(super) status: String,
}

fn ids_text(ids: &[EventId]) -> String {
    ids.iter()
        .map(|id| id.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

pub(super) fn ids_of(text: &str) -> Vec<EventId> {
    text.split(',')
        .filter_map(|id| id.trim().parse().ok())
        .collect()
}

impl Assistant {
    pub(super) async fn question(
        &self,
        actor: &UserView,
        id: MessageId,
    ) -> Result<QuestionRow, AppError> {
        self.db
            .fetch_optional::<QuestionRow>(
                Sql::new(
                    "SELECT m.conversation_id, m.content, m.status FROM assistant_messages m \
                     JOIN assistant_conversations c ON c.id = m.conversation_id \
                     WHERE m.id = $1 AND c.user_id = $2 AND m.role = 'user'",
                )
                .arg(id)
                .arg(actor.id),
            )
            .await
            .map_err(StoreError::from)?
            .ok_or(AppError::NotFound)
    }

    /// Takes the question for answering; `None` while another request holds it.
    pub(super) async fn claim(&self, id: MessageId) -> StoreResult<Option<Claim>> {
        let now = now();
        let stale = now - Duration::from_std(self.claim_stale).unwrap_or(Duration::minutes(3));
        let claimed = self
            .db
            .execute(
                Sql::new(
                    "UPDATE assistant_messages SET status = 'answering', claimed_at = $2 \
                     WHERE id = $1 AND (status = 'pending' OR (status = 'answering' AND claimed_at < $3))",
                )
                .arg(id)
                .arg(now)
                .arg(stale),
            )
            .await?;
        Ok((claimed == 1).then(|| Claim {
            db: self.db.clone(),
            question: id,
            at: now,
            done: false,
        }))
    }

    /// The conversation before `question`: its latest answered turns, oldest first.
    pub(super) async fn history(
        &self,
        conversation: ConversationId,
        question: MessageId,
    ) -> StoreResult<Vec<(Speaker, String)>> {
        let rows: Vec<(String, String)> = self
            .db
            .fetch_all(
                Sql::new(
                    "SELECT role, content FROM assistant_messages \
                     WHERE conversation_id = $1 AND id < $2 AND status = 'done' ORDER BY id DESC LIMIT $3",
                )
                .arg(conversation)
                .arg(question)
                .arg(HISTORY),
            )
            .await?;
        Ok(rows
            .into_iter()
            .rev()
            .map(|(role, content)| (speaker(&role), content))
            .collect())
    }

    /// Stores the answer and marks its question done, if this request still holds the claim
    /// (false when it does not: nothing is written).
    pub(super) async fn store_answer(
        &self,
        conversation: ConversationId,
        claim: &mut Claim,
        answer: StoredAnswer<'_>,
    ) -> StoreResult<bool> {
        let now = now();
        let ids: Vec<EventId> = answer.cards.iter().map(|c| c.event.id).collect();
        let reasons: HashMap<String, &str> = answer
            .cards
            .iter()
            .filter_map(|c| Some((c.event.id.to_string(), c.reason.as_deref()?)))
            .collect();
        let reasons = serde_json::to_string(&reasons).map_err(internal)?;
        let stored = async {
            let mut tx = self.db.begin_write().await?;
            let held = tx
                .execute(
                    Sql::new(
                        "UPDATE assistant_messages SET status = 'done' \
                         WHERE id = $1 AND status = 'answering' AND claimed_at = $2",
                    )
                    .arg(claim.question)
                    .arg(claim.at),
                )
                .await?;
            if held == 0 {
                rollback(tx).await?;
                return Ok::<_, StoreError>(false);
            }
            tx.execute(
                Sql::new(
                    "INSERT INTO assistant_messages (conversation_id, role, content, status, model, fallback, \
                     event_ids, reasons, deadline_hit, question_id, created_at) \
                     VALUES ($1, 'assistant', $2, 'done', $3, $4, $5, $6, $7, $8, $9)",
                )
                .arg(conversation)
                .arg(answer.reply)
                .arg(answer.model)
                .arg(answer.fallback)
                .arg(ids_text(&ids))
                .arg(reasons)
                .arg(answer.deadline_hit)
                .arg(claim.question)
                .arg(now),
            )
            .await?;
            tx.execute(
                Sql::new("UPDATE assistant_conversations SET updated_at = $2 WHERE id = $1")
                    .arg(conversation)
                    .arg(now),
            )
            .await?;
            tx.commit().await?;
            Ok(true)
        }
        .await?;
        // Stored or not, the claim is settled: nothing to hand back.
        claim.done = true;
        Ok(stored)
    }

    pub(super) async fn stored_answer(
        &self,
        actor: &UserView,
        conversation: ConversationId,
        question: MessageId,
    ) -> Result<AssistantReply, AppError> {
        let row = self
            .db
            .fetch_optional::<MessageRow>(
                Sql::new(&format!(
                    "SELECT {MESSAGE_COLUMNS} FROM assistant_messages \
                     WHERE conversation_id = $1 AND question_id = $2 AND role = 'assistant' ORDER BY id LIMIT 1"
                ))
                .arg(conversation)
                .arg(question),
            )
            .await
            .map_err(StoreError::from)?
        .ok_or_else(|| internal(format!("question {question} is done but has no answer")))?;
        let cards = self.cards(actor, &ids_of(&row.event_ids)).await?;
        Ok(AssistantReply {
            conversation_id: conversation,
            recommendations: row.cards(&cards),
            reply: row.content,
            model: row.model,
            fallback: row.fallback,
            deadline_hit: row.deadline_hit,
        })
    }

    pub(super) async fn own_conversation(
        &self,
        actor: &UserView,
        id: ConversationId,
    ) -> StoreResult<String> {
        Ok(self
            .db
            .scalar_optional::<String>(
                Sql::new(
                    "SELECT title FROM assistant_conversations WHERE id = $1 AND user_id = $2",
                )
                .arg(id)
                .arg(actor.id),
            )
            .await?
            .ok_or(AppError::NotFound)?)
    }
}

/// Ends a transaction without its writes now (dropping it would too, but later).
async fn rollback(tx: Tx<'_>) -> Result<(), sqlx::Error> {
    match tx {
        Tx::Sqlite(tx) => tx.rollback().await,
        Tx::Postgres(tx) => tx.rollback().await,
    }
}

/// What `store_answer` writes.
pub(super) struct StoredAnswer<'a> {
    pub(super) reply: &'a str,
    pub(super) model: Option<&'a str>,
    pub(super) fallback: bool,
    pub(super) deadline_hit: bool,
    pub(super) cards: &'a [Recommendation],
}

pub(super) fn speaker(role: &str) -> Speaker {
    if role == "user" {
        Speaker::User
    } else {
        Speaker::Assistant
    }
}
