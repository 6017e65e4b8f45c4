//! Retrieval for an answer: the question read into an intent (with the catalogue's cities and
//! the venue's today), the user's own history as a profile, candidate events from search, and
//! their semantic similarity to the question from stored or freshly made embeddings.
use super::Assistant;
use super::ai::Models;
use super::intent::{self, Intent};
use super::recommend::{self, Candidate, Profile};
use crate::error::{StoreError, StoreResult};
use crate::sql::Sql;
use app::auth::UserView;
use app::bookings::RegistrationStatus;
use app::bookings::ports::BookingQueries;
use app::error::AppError;
use app::events::ports::EventQueries;
use app::events::{EventId, EventListItem, EventSearch, EventSort};
use app::i18n::Locale;
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// The catalogue's places and people, for reading questions and checking answers.
#[derive(Debug, Default)]
pub(super) struct Places {
    pub(super) cities: Vec<String>,
    pub(super) venues: Vec<String>,
    pub(super) organizers: Vec<String>,
}

/// How long the list of cities is trusted: a new city shows up in questions within a minute.
const CITIES_FRESH: std::time::Duration = std::time::Duration::from_secs(60);

impl Assistant {
    /// Reads the question with the cities of the catalogue; "like the last one" without a
    /// category takes the category of the last event the user went to.
    pub(super) async fn intent(
        &self,
        question: &str,
        profile: &Profile,
        now: DateTime<Utc>,
    ) -> Result<Intent, AppError> {
        let places = self.places(now).await?;
        let cities = &places.cities;
        // "Today" is the venue's today: the asked city's clock, else the language's country.
        let utc_today = now.date_naive();
        let first = intent::parse(question, utc_today, cities);
        let zone: Option<String> = match &first.city {
            Some(city) => self
                .db
                .scalar_optional(
                    Sql::new(
                        "SELECT timezone FROM events WHERE city = $1 ORDER BY starts_at DESC LIMIT 1",
                    )
                    .arg(city),
                )
                .await
                .map_err(StoreError::from)?,
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
            intent::parse(question, today, cities)
        };
        if intent.like_last
            && intent.categories.is_empty()
            && let Some(last) = &profile.last_attended
        {
            intent.categories.push(last.category);
        }
        Ok(intent)
    }

    /// The cities, venues and organizers of upcoming published events, kept for
    /// `CITIES_FRESH` (every question needs them; the lists change rarely).
    pub(super) async fn places(&self, now: DateTime<Utc>) -> StoreResult<Arc<Places>> {
        if let Some((at, places)) = &*self.places.lock().expect("places lock")
            && at.elapsed() < CITIES_FRESH
        {
            return Ok(places.clone());
        }
        let rows: Vec<(String, String, String)> = self
            .db
            .fetch_all(
                Sql::new(
                    "SELECT DISTINCT e.city, e.venue, u.display_name FROM events e \
                     JOIN users u ON u.id = e.organizer_id \
                     WHERE e.status = 'published' AND e.starts_at > $1",
                )
                .arg(now),
            )
            .await?;
        let mut places = Places::default();
        for (city, venue, organizer) in rows {
            for (list, name) in [
                (&mut places.cities, city),
                (&mut places.venues, venue),
                (&mut places.organizers, organizer),
            ] {
                if !list.contains(&name) {
                    list.push(name);
                }
            }
        }
        let places = Arc::new(places);
        *self.places.lock().expect("places lock") = Some((Instant::now(), places.clone()));
        Ok(places)
    }

    /// The user's own taste: categories of their bookings, likes and saves.
    pub(super) async fn profile(
        &self,
        actor: &UserView,
        now: DateTime<Utc>,
    ) -> Result<Profile, AppError> {
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
    pub(super) async fn retrieve(
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
    pub(super) async fn similarities(
        &self,
        models: &Models,
        model: &str,
        question: &str,
        candidates: &[Candidate],
    ) -> Result<HashMap<EventId, f32>, String> {
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
        let stored: Vec<(i64, String, String)> =
            self.db.fetch_all(sql).await.map_err(|e| e.to_string())?;
        let mut vectors: HashMap<EventId, Vec<f32>> = stored
            .into_iter()
            .map(|(id, digest, vector)| (EventId::from(id), digest, vector))
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
            async {
                let mut tx = self.db.begin_write().await?;
                for (id, digest, json) in &rows {
                    tx.execute(
                        Sql::new(
                            "INSERT INTO event_embeddings (event_id, model, digest, vector) VALUES ($1, $2, $3, $4) \
                             ON CONFLICT (event_id, model) DO UPDATE SET digest = excluded.digest, vector = excluded.vector",
                        )
                        .arg(*id)
                        .arg(model)
                        .arg(*digest)
                        .arg(json),
                    )
                    .await?;
                }
                tx.commit().await
            }
            .await
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
