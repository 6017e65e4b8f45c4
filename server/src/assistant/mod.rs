//! The assistant on the server: conversations on either database, retrieval (question →
//! intent → search over the live catalogue, the user's own history, optional embeddings),
//! the model chain and the built-in recommender. Implements the app's assistant ports; the
//! reply stream (`/assistant/replies/{id}`) is in `stream.rs`.
pub mod ai;
pub mod intent;
pub mod prompt;
pub mod recommend;
pub mod stream;

use crate::bookings::Bookings;
use crate::config::Config;
use crate::db::{Db, now};
use crate::events::Events;
use crate::limiter::FailureLimiter;
use crate::metrics::AiMetrics;
use crate::on_db;
use ai::{Delta, Models};
use app::assistant::ports::{AssistantCommands, AssistantQueries};
use app::assistant::{
    Asked, AssistantReply, ChatMessage, Conversation, ConversationId, ConversationSummary,
    MessageId, Recommendation, Speaker, check_question,
};
use app::auth::UserView;
use app::bookings::RegistrationStatus;
use app::bookings::ports::BookingQueries;
use app::error::AppError;
use app::events::ports::EventQueries;
use app::events::{EventDetail, EventId, EventListItem, EventSearch, EventSort};
use app::i18n::Locale;
use app::ssr::internal;
use chrono::{DateTime, Duration, Utc};
use intent::Intent;
use recommend::{Candidate, Profile};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc::UnboundedSender;

/// Earlier messages a model sees (three questions and their answers).
const HISTORY: i64 = 6;
/// Events put into a prompt.
const PROMPT_EVENTS: usize = 6;
/// Events an answer shows as cards.
const CARDS: usize = 4;
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
    limiter: FailureLimiter,
    claim_stale: std::time::Duration,
    /// The catalogue's cities (for reading questions), read again after `CITIES_FRESH`.
    cities: std::sync::Mutex<Option<(Instant, Arc<Vec<String>>)>>,
}

/// How long the list of cities is trusted: a new city shows up in questions within a minute.
const CITIES_FRESH: std::time::Duration = std::time::Duration::from_secs(60);

/// Holds a question's claim while its answer is written. Dropped without `done` (an error, or
/// the request went away mid-answer) it hands the question back, so it is never stuck.
struct Claim {
    db: Db,
    question: MessageId,
    at: DateTime<Utc>,
    done: bool,
}

impl Drop for Claim {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let (db, question, at) = (self.db.clone(), self.question, self.at);
        tokio::spawn(async move {
            let released = on_db!(&db, pool => sqlx::query(
                "UPDATE assistant_messages SET status = 'pending', claimed_at = NULL \
                 WHERE id = $1 AND status = 'answering' AND claimed_at = $2")
                .bind(question).bind(at).execute(pool).await.map(|r| r.rows_affected()));
            if let Err(err) = released {
                tracing::error!("could not release question {question}: {err}");
            }
        });
    }
}

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: i64,
    role: String,
    content: String,
    status: String,
    model: Option<String>,
    fallback: bool,
    event_ids: String,
    created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct QuestionRow {
    conversation_id: i64,
    content: String,
    status: String,
}

fn ids_text(ids: &[EventId]) -> String {
    ids.iter()
        .map(|id| id.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

fn ids_of(text: &str) -> Vec<EventId> {
    text.split(',')
        .filter_map(|id| id.trim().parse().ok())
        .collect()
}

impl Assistant {
    pub fn new(
        db: Db,
        events: Arc<Events>,
        bookings: Arc<Bookings>,
        config: &Config,
        metrics: AiMetrics,
    ) -> Arc<Self> {
        let (count, window) = config.assistant_rate;
        // Every model may use its whole allowance, one after the other.
        let chain = config.ai.as_ref().map_or(std::time::Duration::ZERO, |ai| {
            ai.timeout * (ai::TOTAL_TIMEOUTS + 1) * ai.models.len().max(1) as u32
        });
        Arc::new(Assistant {
            claim_stale: (chain + std::time::Duration::from_secs(60)).max(CLAIM_STALE_MIN),
            models: config.ai.clone().map(|ai| Models::new(ai, metrics.clone())),
            db,
            events,
            bookings,
            metrics,
            limiter: FailureLimiter::new(count, window),
            cities: std::sync::Mutex::new(None),
        })
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
        // or the cards.
        let mut details: Vec<(EventDetail, Recommendation)> = Vec::new();
        for candidate in ranked.iter().take(3 * PROMPT_EVENTS) {
            if details.len() == PROMPT_EVENTS {
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

        let mut answer = None;
        if let Some(models) = &self.models {
            let prompt = prompt::build(
                &history,
                &row.content,
                &details,
                &about_user(&profile, language),
                language,
            );
            if let Some(written) = models.chat(&prompt, sink).await {
                let shown: Vec<EventListItem> = cards.iter().map(|c| c.event.clone()).collect();
                let named: Vec<EventId> = prompt::named_in(&written.text, &shown)
                    .into_iter()
                    .take(CARDS)
                    .map(|e| e.id)
                    .collect();
                let named_cards = named
                    .iter()
                    .filter_map(|id| cards.iter().find(|c| c.event.id == *id).cloned())
                    .collect();
                answer = Some((
                    written.text.trim().to_owned(),
                    named_cards,
                    Some(written.model),
                ));
            }
        }
        let fallback = answer.is_none();
        let (reply, cards, model) = match answer {
            Some(answer) => answer,
            None => {
                self.metrics.fell_back();
                let picks: Vec<Recommendation> = cards.into_iter().take(CARDS).collect();
                let items: Vec<EventListItem> = picks.iter().map(|c| c.event.clone()).collect();
                let reply = recommend::offline_answer(&items, &profile, &intent, language);
                if let Some(sink) = sink {
                    let _ = sink.send(Delta::Text(reply.clone()));
                }
                (reply, picks, None)
            }
        };
        let ids: Vec<EventId> = cards.iter().map(|c| c.event.id).collect();
        let answer = StoredAnswer {
            reply: &reply,
            model: model.as_deref(),
            fallback,
            ids: &ids,
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
        })
    }

    /// Reads the question with the cities of the catalogue; "like the last one" without a
    /// category takes the category of the last event the user went to.
    async fn intent(
        &self,
        question: &str,
        profile: &Profile,
        now: DateTime<Utc>,
    ) -> Result<Intent, AppError> {
        let cities = self.cities(now).await?;
        // "Today" is the venue's today: the asked city's clock, else the language's country.
        let utc_today = now.date_naive();
        let first = intent::parse(question, utc_today, &cities);
        let zone: Option<String> = match &first.city {
            Some(city) => on_db!(&self.db, pool => sqlx::query_scalar(
                "SELECT timezone FROM events WHERE city = $1 ORDER BY starts_at DESC LIMIT 1")
                .bind(city).fetch_optional(pool).await)
            .map_err(internal)?,
            None => None,
        };
        let zone = zone
            .and_then(|z| z.parse::<chrono_tz::Tz>().ok())
            .or(match first.language {
                Some(Locale::He) => Some(chrono_tz::Asia::Jerusalem),
                Some(Locale::Pl) => Some(chrono_tz::Europe::Warsaw),
                _ => None,
            });
        let today = zone.map_or(utc_today, |z| now.with_timezone(&z).date_naive());
        let mut intent = if today == utc_today {
            first
        } else {
            intent::parse(question, today, &cities)
        };
        if intent.like_last
            && intent.categories.is_empty()
            && let Some(last) = &profile.last_attended
        {
            intent.categories.push(last.category);
        }
        Ok(intent)
    }

    /// The cities of upcoming published events, kept for `CITIES_FRESH` (every question needs
    /// them; the list changes rarely).
    async fn cities(&self, now: DateTime<Utc>) -> Result<Arc<Vec<String>>, AppError> {
        if let Some((at, cities)) = &*self.cities.lock().expect("cities lock")
            && at.elapsed() < CITIES_FRESH
        {
            return Ok(cities.clone());
        }
        let cities: Vec<String> = on_db!(&self.db, pool => sqlx::query_scalar(
            "SELECT DISTINCT city FROM events WHERE status = 'published' AND starts_at > $1")
            .bind(now).fetch_all(pool).await)
        .map_err(internal)?;
        let cities = Arc::new(cities);
        *self.cities.lock().expect("cities lock") = Some((Instant::now(), cities.clone()));
        Ok(cities)
    }

    /// The user's own taste: categories of their bookings, likes and saves.
    async fn profile(&self, actor: &UserView, now: DateTime<Utc>) -> Result<Profile, AppError> {
        let mut profile = Profile::default();
        for mine in self.bookings.my_registrations(actor).await? {
            if mine.registration.status == RegistrationStatus::Cancelled {
                continue;
            }
            *profile.categories.entry(mine.event.category).or_default() += 2.0;
            if mine.event.starts_at > now {
                profile.booked.insert(mine.event.id);
            } else if profile
                .last_attended
                .as_ref()
                .is_none_or(|last| last.starts_at < mine.event.starts_at)
            {
                profile.last_attended = Some(mine.event);
            }
        }
        let marks = self.bookings.my_reactions(actor).await?;
        for item in marks.likes.iter().chain(marks.saves.iter()) {
            *profile.categories.entry(item.category).or_default() += 1.0;
        }
        Ok(profile)
    }

    /// The catalogue's events that fit the question, best first: the soonest and the most
    /// booked within its filters, full-text matches of its words, and semantic neighbours.
    async fn retrieve(
        &self,
        question: &str,
        intent: &Intent,
        profile: &Profile,
        now: DateTime<Utc>,
    ) -> Result<Vec<Candidate>, AppError> {
        let (from, to) = match intent.days {
            // Venue clocks run up to 14 hours from UTC; `allowed` checks the local day.
            Some((first, last)) => (
                (first.and_hms_opt(0, 0, 0).expect("midnight").and_utc() - Duration::hours(14))
                    .max(now),
                Some(last.and_hms_opt(23, 59, 59).expect("valid").and_utc() + Duration::hours(14)),
            ),
            None => (now, None),
        };
        let categories: Vec<Option<app::events::Category>> = if intent.categories.is_empty() {
            vec![None]
        } else {
            intent
                .categories
                .iter()
                .take(3)
                .copied()
                .map(Some)
                .collect()
        };
        let mut found: HashMap<EventId, Candidate> = HashMap::new();
        let mut add = |items: Vec<EventListItem>, text_hit: bool| {
            for item in items {
                found
                    .entry(item.id)
                    .and_modify(|c| c.text_hit |= text_hit)
                    .or_insert(Candidate {
                        item,
                        text_hit,
                        similarity: None,
                    });
            }
        };
        for category in categories {
            let base = EventSearch {
                category,
                city: intent.city.clone(),
                from: Some(from),
                to,
                price_max: intent.price_max,
                free: intent.free,
                per_page: 100,
                page: 1,
                ..EventSearch::default()
            };
            add(self.events.list_events(&base).await?.items, false);
            let popular = EventSearch {
                sort: EventSort::Popularity,
                per_page: 50,
                ..base.clone()
            };
            add(self.events.list_events(&popular).await?.items, false);
            if !intent.keywords.is_empty() {
                let mut queries = vec![intent.keywords.join(" ")];
                queries.extend(intent.keywords.iter().take(3).cloned());
                for q in queries {
                    let text = EventSearch {
                        q: Some(q),
                        sort: EventSort::Relevance,
                        per_page: 30,
                        ..base.clone()
                    };
                    let hits = self.events.list_events(&text).await?.items;
                    let any = !hits.is_empty();
                    add(hits, true);
                    if any {
                        break;
                    }
                }
            }
        }
        let mut candidates: Vec<Candidate> = found.into_values().collect();
        candidates.retain(|c| recommend::allowed(&c.item, intent, profile, now));
        if let Some(models) = &self.models
            && let Some(model) = models.embed_model()
            && !candidates.is_empty()
        {
            match self
                .similarities(models, model, question, &candidates)
                .await
            {
                Ok(similar) => {
                    for c in &mut candidates {
                        c.similarity = similar.get(&c.item.id).copied();
                    }
                }
                Err(err) => tracing::warn!("semantic retrieval skipped: {err}"),
            }
        }
        Ok(recommend::rank(candidates, intent, profile, now))
    }

    /// Cosine similarity of each candidate's text to the question. Event vectors are kept in
    /// `event_embeddings` and made again only when the text changed.
    async fn similarities(
        &self,
        models: &Models,
        model: &str,
        question: &str,
        candidates: &[Candidate],
    ) -> Result<HashMap<EventId, f32>, String> {
        use crate::bind_args;
        use crate::sql::Sql;
        use sha2::{Digest, Sha256};
        let texts: Vec<(EventId, String, String)> = candidates
            .iter()
            .map(|c| {
                let e = &c.item;
                let text = format!(
                    "{} — {} ({}, {}, {})",
                    e.title,
                    e.summary,
                    e.category.code(),
                    e.venue,
                    e.city
                );
                let digest = data_encoding::HEXLOWER.encode(&Sha256::digest(text.as_bytes()));
                (e.id, text, digest)
            })
            .collect();
        // The candidates' stored vectors only.
        let mut sql =
            Sql::new("SELECT event_id, digest, vector FROM event_embeddings WHERE model = ");
        sql.bind(model).push(" AND event_id IN (");
        for (i, (id, _, _)) in texts.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(*id);
        }
        sql.push(")");
        let stored: Vec<(i64, String, String)> = on_db!(&self.db, pool =>
            bind_args!(sqlx::query_as(&sql.text), &sql.args).fetch_all(pool).await)
        .map_err(|e| e.to_string())?;
        let mut vectors: HashMap<EventId, Vec<f32>> = stored
            .into_iter()
            .filter(|(id, digest, _)| texts.iter().any(|(i, _, d)| i == id && d == digest))
            .filter_map(|(id, _, vector)| Some((id, serde_json::from_str(&vector).ok()?)))
            .collect();
        let missing: Vec<&(EventId, String, String)> = texts
            .iter()
            .filter(|(id, _, _)| !vectors.contains_key(id))
            .collect();
        for chunk in missing.chunks(32) {
            let inputs: Vec<String> = chunk.iter().map(|(_, t, _)| t.clone()).collect();
            let made = models.embed(&inputs).await.map_err(|e| e.to_string())?;
            let rows: Vec<(EventId, &str, String)> = chunk
                .iter()
                .zip(&made)
                .map(|((id, _, digest), vector)| {
                    Ok((*id, digest.as_str(), serde_json::to_string(vector)?))
                })
                .collect::<Result<_, serde_json::Error>>()
                .map_err(|e| e.to_string())?;
            on_db!(&self.db, pool => async {
                let mut tx = pool.begin().await?;
                for (id, digest, json) in &rows {
                    sqlx::query(
                        "INSERT INTO event_embeddings (event_id, model, digest, vector) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (event_id, model) DO UPDATE SET digest = excluded.digest, vector = excluded.vector")
                        .bind(id).bind(model).bind(digest).bind(json).execute(&mut *tx).await?;
                }
                tx.commit().await
            }.await)
            .map_err(|e| e.to_string())?;
            vectors.extend(chunk.iter().map(|(id, _, _)| *id).zip(made));
        }
        let query = models
            .embed(&[question.to_owned()])
            .await
            .map_err(|e| e.to_string())?
            .pop()
            .ok_or("no vector for the question")?;
        Ok(vectors
            .into_iter()
            .map(|(id, v)| (id, cosine(&query, &v)))
            .collect())
    }

    async fn question(&self, actor: &UserView, id: MessageId) -> Result<QuestionRow, AppError> {
        on_db!(&self.db, pool => sqlx::query_as::<_, QuestionRow>(
            "SELECT m.conversation_id, m.content, m.status FROM assistant_messages m \
             JOIN assistant_conversations c ON c.id = m.conversation_id \
             WHERE m.id = $1 AND c.user_id = $2 AND m.role = 'user'")
            .bind(id).bind(actor.id).fetch_optional(pool).await)
        .map_err(internal)?
        .ok_or(AppError::NotFound)
    }

    /// Takes the question for answering; `None` while another request holds it.
    async fn claim(&self, id: MessageId) -> Result<Option<Claim>, AppError> {
        let now = now();
        let stale = now - Duration::from_std(self.claim_stale).unwrap_or(Duration::minutes(3));
        let claimed = on_db!(&self.db, pool => sqlx::query(
            "UPDATE assistant_messages SET status = 'answering', claimed_at = $2 \
             WHERE id = $1 AND (status = 'pending' OR (status = 'answering' AND claimed_at < $3))")
            .bind(id).bind(now).bind(stale).execute(pool).await.map(|r| r.rows_affected()))
        .map_err(internal)?;
        Ok((claimed == 1).then(|| Claim {
            db: self.db.clone(),
            question: id,
            at: now,
            done: false,
        }))
    }

    /// The conversation before `question`: its latest answered turns, oldest first.
    async fn history(
        &self,
        conversation: ConversationId,
        question: MessageId,
    ) -> Result<Vec<(Speaker, String)>, AppError> {
        let rows: Vec<(String, String)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT role, content FROM assistant_messages \
             WHERE conversation_id = $1 AND id < $2 AND status = 'done' ORDER BY id DESC LIMIT $3")
            .bind(conversation).bind(question).bind(HISTORY).fetch_all(pool).await)
        .map_err(internal)?;
        Ok(rows
            .into_iter()
            .rev()
            .map(|(role, content)| (speaker(&role), content))
            .collect())
    }

    /// Stores the answer and marks its question done, if this request still holds the claim
    /// (false when it does not: nothing is written).
    async fn store_answer(
        &self,
        conversation: ConversationId,
        claim: &mut Claim,
        answer: StoredAnswer<'_>,
    ) -> Result<bool, AppError> {
        let now = now();
        let stored = on_db!(&self.db, pool => async {
            let mut tx = pool.begin().await?;
            let held = sqlx::query(
                "UPDATE assistant_messages SET status = 'done' \
                 WHERE id = $1 AND status = 'answering' AND claimed_at = $2")
                .bind(claim.question).bind(claim.at).execute(&mut *tx).await?.rows_affected();
            if held == 0 {
                tx.rollback().await?;
                return Ok::<_, sqlx::Error>(false);
            }
            sqlx::query(
                "INSERT INTO assistant_messages (conversation_id, role, content, status, model, fallback, event_ids, question_id, created_at) \
                 VALUES ($1, 'assistant', $2, 'done', $3, $4, $5, $6, $7)")
                .bind(conversation).bind(answer.reply).bind(answer.model).bind(answer.fallback)
                .bind(ids_text(answer.ids)).bind(claim.question).bind(now)
                .execute(&mut *tx).await?;
            sqlx::query("UPDATE assistant_conversations SET updated_at = $2 WHERE id = $1")
                .bind(conversation).bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(true)
        }.await)
        .map_err(internal)?;
        // Stored or not, the claim is settled: nothing to hand back.
        claim.done = true;
        Ok(stored)
    }

    async fn stored_answer(
        &self,
        actor: &UserView,
        conversation: ConversationId,
        question: MessageId,
    ) -> Result<AssistantReply, AppError> {
        let row = on_db!(&self.db, pool => sqlx::query_as::<_, MessageRow>(
            "SELECT id, role, content, status, model, fallback, event_ids, created_at FROM assistant_messages \
             WHERE conversation_id = $1 AND question_id = $2 AND role = 'assistant' ORDER BY id LIMIT 1")
            .bind(conversation).bind(question).fetch_optional(pool).await)
        .map_err(internal)?
        .ok_or_else(|| internal(format!("question {question} is done but has no answer")))?;
        Ok(AssistantReply {
            conversation_id: conversation,
            recommendations: self.recommendations(actor, &ids_of(&row.event_ids)).await?,
            reply: row.content,
            model: row.model,
            fallback: row.fallback,
        })
    }

    /// Cards for `ids` with their seats as of now. Events that can no longer be booked or
    /// waitlisted (cancelled, started, sales closed, gone) drop out.
    async fn recommendations(
        &self,
        actor: &UserView,
        ids: &[EventId],
    ) -> Result<Vec<Recommendation>, AppError> {
        let cards = self.cards(actor, ids).await?;
        Ok(ids.iter().filter_map(|id| cards.get(id).cloned()).collect())
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

    async fn own_conversation(
        &self,
        actor: &UserView,
        id: ConversationId,
    ) -> Result<String, AppError> {
        on_db!(&self.db, pool => sqlx::query_scalar::<_, String>(
            "SELECT title FROM assistant_conversations WHERE id = $1 AND user_id = $2")
            .bind(id).bind(actor.id).fetch_optional(pool).await)
        .map_err(internal)?
        .ok_or(AppError::NotFound)
    }
}

/// What `store_answer` writes.
struct StoredAnswer<'a> {
    reply: &'a str,
    model: Option<&'a str>,
    fallback: bool,
    ids: &'a [EventId],
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
        })
}

fn speaker(role: &str) -> Speaker {
    if role == "user" {
        Speaker::User
    } else {
        Speaker::Assistant
    }
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() || a.is_empty() {
        return 0.0;
    }
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let denominator = norm(a) * norm(b);
    if denominator == 0.0 {
        0.0
    } else {
        dot / denominator
    }
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
    async fn ask(
        &self,
        actor: &UserView,
        message: &str,
        conversation: Option<ConversationId>,
    ) -> Result<Asked, AppError> {
        let message = check_question(message)?;
        let key = format!("assistant:{}", actor.id);
        let at = Instant::now();
        if let Err(wait) = self.limiter.take(&[&key], at) {
            return Err(AppError::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            });
        }
        if let Some(id) = conversation {
            self.own_conversation(actor, id).await?;
        }
        let now = now();
        let title: String = message.chars().take(80).collect();
        let (conversation_id, message_id) = on_db!(&self.db, pool => async {
            let mut tx = pool.begin().await?;
            let conversation_id = match conversation {
                Some(id) => {
                    sqlx::query("UPDATE assistant_conversations SET updated_at = $2 WHERE id = $1")
                        .bind(id).bind(now).execute(&mut *tx).await?;
                    id
                }
                None => sqlx::query_scalar::<_, i64>(
                    "INSERT INTO assistant_conversations (user_id, title, created_at, updated_at) \
                     VALUES ($1, $2, $3, $3) RETURNING id")
                    .bind(actor.id).bind(&title).bind(now).fetch_one(&mut *tx).await?,
            };
            let message_id = sqlx::query_scalar::<_, i64>(
                "INSERT INTO assistant_messages (conversation_id, role, content, status, created_at) \
                 VALUES ($1, 'user', $2, 'pending', $3) RETURNING id")
                .bind(conversation_id).bind(message).bind(now).fetch_one(&mut *tx).await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>((conversation_id, message_id))
        }.await)
        .map_err(internal)?;
        Ok(Asked {
            conversation_id,
            message_id,
        })
    }

    async fn answer(
        &self,
        actor: &UserView,
        question: MessageId,
        locale: Locale,
    ) -> Result<AssistantReply, AppError> {
        self.answer_streaming(actor, question, locale, None).await
    }

    async fn delete_conversation(
        &self,
        actor: &UserView,
        id: ConversationId,
    ) -> Result<(), AppError> {
        let deleted = on_db!(&self.db, pool => async {
            let mut tx = pool.begin().await?;
            // Only the owner's conversation: a stranger's attempt removes nothing.
            sqlx::query(
                "DELETE FROM assistant_messages WHERE conversation_id IN \
                 (SELECT id FROM assistant_conversations WHERE id = $1 AND user_id = $2)")
                .bind(id).bind(actor.id).execute(&mut *tx).await?;
            let gone = sqlx::query("DELETE FROM assistant_conversations WHERE id = $1 AND user_id = $2")
                .bind(id).bind(actor.id).execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            Ok::<_, sqlx::Error>(gone)
        }.await)
        .map_err(internal)?;
        if deleted == 0 {
            return Err(AppError::NotFound);
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl AssistantQueries for Assistant {
    async fn conversations(&self, actor: &UserView) -> Result<Vec<ConversationSummary>, AppError> {
        let rows: Vec<(i64, String, DateTime<Utc>)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT id, title, updated_at FROM assistant_conversations WHERE user_id = $1 \
             ORDER BY updated_at DESC, id DESC LIMIT 50")
            .bind(actor.id).fetch_all(pool).await)
        .map_err(internal)?;
        Ok(rows
            .into_iter()
            .map(|(id, title, updated_at)| ConversationSummary {
                id,
                title,
                updated_at,
            })
            .collect())
    }

    async fn conversation(
        &self,
        actor: &UserView,
        id: ConversationId,
    ) -> Result<Conversation, AppError> {
        let title = self.own_conversation(actor, id).await?;
        let rows: Vec<MessageRow> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT id, role, content, status, model, fallback, event_ids, created_at FROM assistant_messages \
             WHERE conversation_id = $1 ORDER BY id DESC LIMIT $2")
            .bind(id).bind(SHOWN).fetch_all(pool).await)
        .map_err(internal)?;
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
                recommendations: ids_of(&row.event_ids)
                    .iter()
                    .filter_map(|id| cards.get(id).cloned())
                    .collect(),
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
