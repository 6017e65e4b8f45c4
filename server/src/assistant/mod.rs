//! The assistant on the server: the `Assistant` type, its answer flow (question → retrieval →
//! the model chain, or the built-in recommender → stored answer with bookable cards) and the
//! app's assistant ports. Conversations and question claims are in `conversations.rs`,
//! retrieval (intent, the user's history, search, embeddings) in `retrieval.rs`; the reply
//! stream (`/assistant/replies/{id}`) is in `stream.rs`.
pub mod ai;
mod conversations;
pub mod grounding;
pub mod intent;
mod lexicon;
pub mod prompt;
pub mod recommend;
mod reply_stream;
mod retrieval;
pub mod stream;

use crate::bookings::Bookings;
use crate::config::Config;
use crate::db::{Db, now};
use crate::error::StoreError;
use crate::events::Events;
use crate::limiter::UseLimit;
use crate::metrics::AiMetrics;
use crate::rate::SharedLimits;
use crate::sql::Sql;
use ai::{Delta, Failure, Listener, Models, Outcome};
use app::assistant::ports::{AssistantCommands, AssistantQueries};
use app::assistant::{
    Asked, AssistantReply, ChatMessage, Conversation, ConversationId, ConversationSummary,
    MessageId, Recommendation, check_question,
};
use app::auth::UserView;
use app::error::AppError;
use app::events::ports::EventQueries;
use app::events::{EventDetail, EventId, EventListItem};
use app::i18n::{Locale, Msg};
use chrono::{DateTime, Utc};
use conversations::{
    Claim, MESSAGE_COLUMNS, MessageRow, QuestionRow, StoredAnswer, ids_of, speaker,
};
use grounding::Grounds;
use recommend::Profile;
use reply_stream::ReplyStream;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc::UnboundedSender;

/// Events an answer shows as cards.
const CARDS: usize = 4;
/// An answer still being written after this long makes the page say the AI is slow (half the
/// deadline when that is shorter).
const SLOW_AFTER: std::time::Duration = std::time::Duration::from_secs(4);
/// Messages a conversation page shows (the latest).
const SHOWN: i64 = 40;
/// A question claimed this long ago by a request that never answered is claimed again (at
/// least; longer when the model chain may take longer).
const CLAIM_STALE_MIN: std::time::Duration = std::time::Duration::from_secs(180);

pub struct Assistant {
    db: Db,
    events: Arc<Events>,
    bookings: Arc<Bookings>,
    models: Option<Models>,
    metrics: AiMetrics,
    /// Questions per user (`EVENTHUB_AI_RATE`); `None` when off.
    limiter: Option<UseLimit>,
    claim_stale: std::time::Duration,
    /// How long an answer may take before the page is told the AI is slow.
    slow_after: std::time::Duration,
    /// The catalogue's cities, venues and organizers (for reading questions and checking
    /// answers), read again after `CITIES_FRESH`.
    places: std::sync::Mutex<Option<(Instant, Arc<retrieval::Places>)>>,
}

impl Assistant {
    pub fn new(
        db: Db,
        events: Arc<Events>,
        bookings: Arc<Bookings>,
        config: &Config,
        metrics: AiMetrics,
        limits: &SharedLimits,
    ) -> Arc<Self> {
        // Every model may use its whole allowance, one after the other.
        let chain = config.ai.as_ref().map_or(std::time::Duration::ZERO, |ai| {
            ai.deadline
                .unwrap_or(ai.timeout * (ai::TOTAL_TIMEOUTS + 1) * ai.models.len().max(1) as u32)
        });
        let slow_after = config
            .ai
            .as_ref()
            .and_then(|ai| ai.deadline)
            .map_or(SLOW_AFTER, |deadline| SLOW_AFTER.min(deadline / 2));
        Arc::new(Assistant {
            slow_after,
            claim_stale: (chain + std::time::Duration::from_secs(60)).max(CLAIM_STALE_MIN),
            models: config.ai.clone().map(|ai| Models::new(ai, metrics.clone())),
            db,
            events,
            bookings,
            metrics,
            limiter: config
                .assistant_rate
                .map(|rate| UseLimit::new(rate, limits)),
            places: std::sync::Mutex::new(None),
        })
    }

    /// How long an answer may take before the page is told the AI is slow.
    pub fn slow_after(&self) -> std::time::Duration {
        self.slow_after
    }

    /// Answers the actor's question `question`, sending the text to `sink` as it is written.
    pub async fn answer_streaming(
        &self,
        actor: &UserView,
        question: MessageId,
        locale: Locale,
        sink: Option<UnboundedSender<Delta>>,
    ) -> Result<AssistantReply, AppError> {
        let row = self.question(actor, question).await?;
        if row.status == "done" {
            return self
                .stored_answer(actor, row.conversation_id, question)
                .await;
        }
        let until = Instant::now() + self.claim_stale + std::time::Duration::from_secs(30);
        let mut claim = loop {
            if let Some(claim) = self.claim(question).await? {
                break claim;
            }
            // Another request (a second tab, a reconnecting stream) is writing it: wait for it,
            // or take over when its claim goes stale.
            if Instant::now() > until {
                return Err(AppError::Unavailable {
                    service: "assistant".into(),
                    retry_after_secs: 5,
                });
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            if self.question(actor, question).await?.status == "done" {
                return self
                    .stored_answer(actor, row.conversation_id, question)
                    .await;
            }
        };
        self.write_answer(actor, &row, &mut claim, locale, sink.as_ref())
            .await
    }

    async fn write_answer(
        &self,
        actor: &UserView,
        row: &QuestionRow,
        claim: &mut Claim,
        locale: Locale,
        sink: Option<&UnboundedSender<Delta>>,
    ) -> Result<AssistantReply, AppError> {
        let question = claim.question;
        let history = self.history(row.conversation_id, question).await?;
        let now = now();
        let profile = self.profile(actor, now).await?;
        let intent = self.intent(&row.content, &profile, now).await?;
        let language = intent.language.unwrap_or(locale);
        let ranked = self.retrieve(&row.content, &intent, &profile, now).await?;

        // The best events that can still be booked (or waitlisted): only these reach the model
        // (as many as it reads) or the cards.
        let (prompt_events, description_chars) = self
            .models
            .as_ref()
            .map_or((CARDS, None), |m| m.prompt_size());
        let wanted = prompt_events.max(CARDS);
        let mut details: Vec<(EventDetail, Recommendation)> = Vec::new();
        for candidate in ranked.iter().take(3 * wanted) {
            if details.len() == wanted {
                break;
            }
            match self.events.get_event(Some(actor), candidate.item.id).await {
                Ok(detail) => {
                    if let Some(card) = card(&detail, now) {
                        details.push((detail, card));
                    }
                }
                Err(AppError::NotFound) => {}
                Err(err) => return Err(err),
            }
        }
        let (details, cards): (Vec<EventDetail>, Vec<Recommendation>) = details.into_iter().unzip();
        // The page shows the matching events at once, whatever a model then makes of them.
        if let Some(sink) = sink {
            let _ = sink.send(Delta::Cards(cards.iter().take(CARDS).cloned().collect()));
        }

        let mut answer = None;
        // Why the recommender writes the answer, when it does.
        let mut lead = Lead::Offline;
        if let Some(models) = &self.models {
            let grounds = self
                .grounds(
                    actor,
                    &row.content,
                    &profile,
                    &details,
                    &ranked,
                    language,
                    now,
                )
                .await?;
            let prompt = prompt::build(
                &history,
                &row.content,
                &details[..details.len().min(prompt_events)],
                &about_user(&profile, language),
                language,
                description_chars,
            );
            let mut writer = Writer::new(&grounds, sink);
            match models.chat(&prompt, &mut writer, models.deadline()).await {
                Outcome::Answered(written) => {
                    match self.use_answer(&written, &cards, &grounds, &mut writer, language) {
                        Some(used) => answer = Some(used),
                        None => {
                            models.unusable(&written.model);
                            writer.restart();
                            lead = Lead::Unusable;
                        }
                    }
                }
                Outcome::Failed { spoke } => {
                    if spoke {
                        lead = Lead::Unusable;
                    }
                }
                Outcome::DeadlineHit => lead = Lead::Deadline,
            }
        }
        let fallback = answer.is_none();
        let deadline_hit = lead == Lead::Deadline;
        let (reply, cards, model) = match answer {
            Some(answer) => answer,
            None => {
                self.metrics.fell_back();
                let picks: Vec<Recommendation> = cards.into_iter().take(CARDS).collect();
                let items: Vec<EventListItem> = picks.iter().map(|c| c.event.clone()).collect();
                let reply = match (lead, items.is_empty()) {
                    (Lead::Offline, _) => {
                        recommend::offline_answer(&items, &profile, &intent, language)
                    }
                    (Lead::Unusable, true) => Msg::AssistantNoMatches.text(language).to_owned(),
                    (Lead::Deadline, true) => Msg::AssistantTooSlowNone.text(language).to_owned(),
                    (Lead::Unusable, false) => recommend::built_in_answer(
                        &items,
                        &profile,
                        &intent,
                        language,
                        Msg::AssistantMatches,
                    ),
                    (Lead::Deadline, false) => recommend::built_in_answer(
                        &items,
                        &profile,
                        &intent,
                        language,
                        Msg::AssistantTooSlow,
                    ),
                };
                if let Some(sink) = sink {
                    let _ = sink.send(Delta::Text(reply.clone()));
                }
                (reply, picks, None)
            }
        };
        let answer = StoredAnswer {
            reply: &reply,
            model: model.as_deref(),
            fallback,
            deadline_hit,
            cards: &cards,
        };
        if !self
            .store_answer(row.conversation_id, claim, answer)
            .await?
        {
            // The claim went stale and another request answered meanwhile: its answer stands.
            return self
                .stored_answer(actor, row.conversation_id, question)
                .await;
        }
        Ok(AssistantReply {
            conversation_id: row.conversation_id,
            reply,
            recommendations: cards,
            model,
            fallback,
            deadline_hit,
        })
    }

    /// The model's answer as it may be shown: its picks among `cards` with their checked
    /// reasons, and its checked prose (the recommender's sentence when none of it holds).
    /// `None` when the answer cannot be used (logged; the caller counts it).
    fn use_answer(
        &self,
        written: &ai::Answer,
        cards: &[Recommendation],
        grounds: &Grounds,
        writer: &mut Writer<'_>,
        language: Locale,
    ) -> Option<(String, Vec<Recommendation>, Option<String>)> {
        let model = &written.model;
        let ids: Vec<EventId> = cards.iter().map(|c| c.event.id).collect();
        let read = match grounding::read_answer(&written.text, &ids) {
            Ok(read) => read,
            Err(why) => {
                tracing::warn!(
                    model = %model,
                    "model {model} gave an answer that cannot be used ({why}): the retrieved events stand"
                );
                return None;
            }
        };
        if read.dropped > 0 {
            tracing::info!(model = %model, "dropped {} of model {model}'s picks: not among the events it was given", read.dropped);
        }
        let picked: Vec<Recommendation> = read
            .picks
            .into_iter()
            .filter_map(|(id, reason)| {
                let mut card = cards.iter().find(|c| c.event.id == id)?.clone();
                card.reason = grounds.reason(reason);
                Some(card)
            })
            .collect();
        let (prose, dropped) = grounds.check(&read.reply);
        if dropped > 0 {
            tracing::warn!(model = %model, "dropped {dropped} sentences of model {model}'s reply: they name what it was not given or are in another language");
        }
        let reply = if prose.is_empty() {
            // Nothing of its prose holds: the recommender's sentence over the model's picks.
            writer.restart();
            let items: Vec<EventListItem> = picked.iter().map(|c| c.event.clone()).collect();
            let reply = if items.is_empty() {
                Msg::AssistantNoMatches.text(language).to_owned()
            } else {
                let mut text = Msg::AssistantMatches.text(language).to_owned();
                for item in &items {
                    text.push('\n');
                    text.push_str(&recommend::event_line(item, language));
                }
                text
            };
            writer.send(&reply);
            reply
        } else {
            prose
        };
        Some((reply, picked, Some(model.clone())))
    }

    /// What an answer's prose may name: the events given, the question and the asker's own
    /// history; what it may not: the catalogue's other events, venues and organizers.
    #[allow(clippy::too_many_arguments)]
    async fn grounds(
        &self,
        actor: &UserView,
        question: &str,
        profile: &Profile,
        details: &[EventDetail],
        ranked: &[recommend::Candidate],
        language: Locale,
        now: DateTime<Utc>,
    ) -> Result<Grounds, AppError> {
        let places = self.places(now).await?;
        let given: Vec<EventId> = details.iter().map(|d| d.item.id).collect();
        let others = ranked
            .iter()
            .filter(|c| !given.contains(&c.item.id))
            .flat_map(|c| [c.item.title.clone(), c.item.venue.clone()])
            .chain(places.venues.iter().cloned())
            .chain(places.organizers.iter().cloned());
        let mut extra: Vec<&str> = vec![question, &actor.display_name];
        extra.extend(places.cities.iter().map(String::as_str));
        if let Some(last) = &profile.last_attended {
            extra.push(&last.title);
        }
        Ok(Grounds::new(details, &extra, others, language))
    }

    /// The bookable cards among `ids`, each event read once.
    async fn cards(
        &self,
        actor: &UserView,
        ids: &[EventId],
    ) -> Result<HashMap<EventId, Recommendation>, AppError> {
        let now = now();
        let mut cards = HashMap::new();
        let mut seen = std::collections::HashSet::new();
        for id in ids {
            if !seen.insert(*id) {
                continue;
            }
            match self.events.get_event(Some(actor), *id).await {
                Ok(detail) => cards.extend(card(&detail, now).map(|c| (*id, c))),
                Err(AppError::NotFound) => {}
                Err(err) => return Err(err),
            }
        }
        Ok(cards)
    }
}

/// Why the built-in recommender writes an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lead {
    /// No model is configured, or every model failed.
    Offline,
    /// A model answered, but not with picks among the matching events.
    Unusable,
    /// The answer's deadline passed before a model finished.
    Deadline,
}

/// Sends a model's reply to the page as it streams: only the checked sentences, and ends an
/// answer that repeats itself.
struct Writer<'a> {
    reply: ReplyStream,
    grounds: &'a Grounds,
    sink: Option<&'a UnboundedSender<Delta>>,
    sent: bool,
}

impl<'a> Writer<'a> {
    fn new(grounds: &'a Grounds, sink: Option<&'a UnboundedSender<Delta>>) -> Self {
        Writer {
            reply: ReplyStream::new(),
            grounds,
            sink,
            sent: false,
        }
    }

    fn send(&mut self, text: &str) {
        if let Some(sink) = self.sink {
            let piece = if self.sent {
                format!(" {text}")
            } else {
                text.to_owned()
            };
            let _ = sink.send(Delta::Text(piece));
            self.sent = true;
        }
    }
}

impl Listener for Writer<'_> {
    fn piece(&mut self, piece: &str) -> Result<(), Failure> {
        let step = self.reply.push(piece, self.grounds);
        for sentence in step.show {
            self.send(&sentence);
        }
        match step.repeats {
            Some(unit) => Err(Failure::Repeats(unit.chars().take(60).collect())),
            None => Ok(()),
        }
    }

    fn restart(&mut self) {
        if self.sent
            && let Some(sink) = self.sink
        {
            let _ = sink.send(Delta::Restart);
        }
        self.sent = false;
        self.reply = ReplyStream::new();
    }
}

/// The event's card, with the ticket type a one-click registration books: one seat of the
/// cheapest type on sale with seats left, else the cheapest on sale (its waitlist). `None` when
/// the event cannot be booked at all: not published, started, or no type on sale.
fn card(detail: &EventDetail, now: DateTime<Utc>) -> Option<Recommendation> {
    if detail.item.status != app::events::EventStatus::Published || detail.item.starts_at <= now {
        return None;
    }
    let on_sale = detail
        .ticket_types
        .iter()
        .filter(|t| t.sales_start.is_none_or(|s| s <= now) && t.sales_end.is_none_or(|e| e > now));
    on_sale
        .clone()
        .filter(|t| t.remaining > 0)
        .min_by_key(|t| (t.price.amount, t.id))
        .or_else(|| on_sale.min_by_key(|t| (t.price.amount, t.id)))
        .map(|t| Recommendation {
            event: detail.item.clone(),
            ticket_type: t.id,
            reason: None,
        })
}

/// The asking user's own history, for the prompt: favourite categories and the last event.
fn about_user(profile: &Profile, locale: Locale) -> String {
    let mut favourites: Vec<_> = profile.categories.iter().collect();
    favourites.sort_by(|a, b| b.1.total_cmp(a.1).then(a.0.code().cmp(b.0.code())));
    let mut text = String::from("About this person (their own history only):");
    if favourites.is_empty() {
        text.push_str(" nothing yet.");
    } else {
        let names: Vec<&str> = favourites.iter().take(3).map(|(c, _)| c.code()).collect();
        text.push_str(&format!(" they mostly choose {}.", names.join(", ")));
    }
    if let Some(last) = &profile.last_attended {
        let data = prompt::quote(
            &serde_json::json!({
                "title": last.title, "category": last.category.code(),
                "when": app::i18n::format_local(locale, last.local_starts_at),
            })
            .to_string(),
        );
        text.push_str(&format!(" The last event they went to: {data}."));
    }
    text
}

#[async_trait::async_trait]
impl AssistantCommands for Assistant {
    #[tracing::instrument(skip_all, fields(actor = %actor.id, conversation_id = conversation))]
    async fn ask(
        &self,
        actor: &UserView,
        message: &str,
        conversation: Option<ConversationId>,
    ) -> Result<Asked, AppError> {
        let message = check_question(message)?;
        let key = format!("assistant:{}", actor.id);
        if let Some(limiter) = &self.limiter
            && let Err(wait) = limiter.take(&key).await?
        {
            return Err(AppError::RateLimited {
                retry_after_secs: wait,
            });
        }
        if let Some(id) = conversation {
            self.own_conversation(actor, id).await?;
        }
        let now = now();
        let title: String = message.chars().take(80).collect();
        let (conversation_id, message_id) = async {
            let mut tx = self.db.begin_write().await?;
            let conversation_id = match conversation {
                Some(id) => {
                    tx.execute(
                        Sql::new(
                            "UPDATE assistant_conversations SET updated_at = $2 WHERE id = $1",
                        )
                        .arg(id)
                        .arg(now),
                    )
                    .await?;
                    id
                }
                None => {
                    tx.scalar::<i64>(
                        Sql::new(
                            "INSERT INTO assistant_conversations (user_id, title, created_at, updated_at) \
                             VALUES ($1, $2, $3, $3) RETURNING id",
                        )
                        .arg(actor.id)
                        .arg(&title)
                        .arg(now),
                    )
                    .await?
                }
            };
            let message_id = tx
                .scalar::<i64>(
                    Sql::new(
                        "INSERT INTO assistant_messages (conversation_id, role, content, status, created_at) \
                         VALUES ($1, 'user', $2, 'pending', $3) RETURNING id",
                    )
                    .arg(conversation_id)
                    .arg(message)
                    .arg(now),
                )
                .await?;
            tx.commit().await?;
            Ok::<_, StoreError>((conversation_id, message_id))
        }
        .await?;
        Ok(Asked {
            conversation_id,
            message_id,
        })
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id, question_id = %question))]
    async fn answer(
        &self,
        actor: &UserView,
        question: MessageId,
        locale: Locale,
    ) -> Result<AssistantReply, AppError> {
        self.answer_streaming(actor, question, locale, None).await
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id, conversation_id = %id))]
    async fn delete_conversation(
        &self,
        actor: &UserView,
        id: ConversationId,
    ) -> Result<(), AppError> {
        let deleted = async {
            let mut tx = self.db.begin_write().await?;
            // Only the owner's conversation: a stranger's attempt removes nothing.
            tx.execute(
                Sql::new(
                    "DELETE FROM assistant_messages WHERE conversation_id IN \
                     (SELECT id FROM assistant_conversations WHERE id = $1 AND user_id = $2)",
                )
                .arg(id)
                .arg(actor.id),
            )
            .await?;
            let gone = tx
                .execute(
                    Sql::new("DELETE FROM assistant_conversations WHERE id = $1 AND user_id = $2")
                        .arg(id)
                        .arg(actor.id),
                )
                .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(gone)
        }
        .await?;
        if deleted == 0 {
            return Err(AppError::NotFound);
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl AssistantQueries for Assistant {
    #[tracing::instrument(skip_all, fields(actor = %actor.id))]
    async fn conversations(&self, actor: &UserView) -> Result<Vec<ConversationSummary>, AppError> {
        let rows: Vec<(i64, String, DateTime<Utc>)> = self
            .db
            .fetch_all(
                Sql::new(
                    "SELECT id, title, updated_at FROM assistant_conversations WHERE user_id = $1 \
                     ORDER BY updated_at DESC, id DESC LIMIT 50",
                )
                .arg(actor.id),
            )
            .await
            .map_err(StoreError::from)?;
        Ok(rows
            .into_iter()
            .map(|(id, title, updated_at)| ConversationSummary {
                id,
                title,
                updated_at,
            })
            .collect())
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id, conversation_id = %id))]
    async fn conversation(
        &self,
        actor: &UserView,
        id: ConversationId,
    ) -> Result<Conversation, AppError> {
        let title = self.own_conversation(actor, id).await?;
        let rows: Vec<MessageRow> = self
            .db
            .fetch_all(
                Sql::new(&format!(
                    "SELECT {MESSAGE_COLUMNS} FROM assistant_messages \
                     WHERE conversation_id = $1 ORDER BY id DESC LIMIT $2"
                ))
                .arg(id)
                .arg(SHOWN),
            )
            .await
            .map_err(StoreError::from)?;
        // An event recommended in several answers is read once.
        let all: Vec<EventId> = rows.iter().flat_map(|r| ids_of(&r.event_ids)).collect();
        let cards = self.cards(actor, &all).await?;
        let messages = rows
            .into_iter()
            .rev()
            .map(|row| ChatMessage {
                id: row.id,
                speaker: speaker(&row.role),
                pending: row.role == "user" && row.status != "done",
                recommendations: row.cards(&cards),
                deadline_hit: row.deadline_hit,
                content: row.content,
                model: row.model,
                fallback: row.fallback,
                created_at: row.created_at,
            })
            .collect();
        Ok(Conversation {
            id,
            title,
            messages,
        })
    }
}
