//! The assistant's evaluation (issue #21): the questions of `assistant.json` asked over the demo
//! catalogue by a member whose last event was a stand-up night, each answer judged by the
//! question's constraints. Shared by the API tests (the built-in recommender and the fake model,
//! in `scripts/test`) and the `assistant` benchmark (those and a real model).
use app::assistant::ports::AssistantCommands;
use app::assistant::{AssistantReply, Recommendation};
use app::auth::ports::AccountCommands;
use app::auth::{NewUser, UserView};
use app::bookings::NewRegistration;
use app::bookings::ports::BookingCommands;
use app::events::ports::EventQueries;
use app::events::{Category, EventListItem, EventSearch, EventStatus};
use app::i18n::Locale;
use chrono::{Datelike, Duration as Days, NaiveDate, Utc, Weekday};
use serde::Deserialize;
use server::AppState;
use server::assistant::ai::Delta;
use server::assistant::grounding::Grounds;
use std::time::{Duration, Instant};

#[derive(Deserialize)]
struct Set {
    questions: Vec<Question>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Question {
    pub id: String,
    pub language: String,
    pub question: String,
    pub expect: Expect,
}

/// What every card of a right answer satisfies.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Expect {
    #[serde(default)]
    pub categories: Vec<String>,
    pub city: Option<String>,
    pub days: Option<String>,
    /// In the event's currency, major units.
    pub price_max: Option<i64>,
    #[serde(default)]
    pub free: bool,
    #[serde(default)]
    pub like_last: bool,
}

pub fn questions() -> Vec<Question> {
    let set: Set =
        serde_json::from_str(include_str!("assistant.json")).expect("assistant.json is valid");
    set.questions
}

/// The member who asks: their last event (moved into the past) was a stand-up night.
pub struct Asker {
    pub user: UserView,
    pub last: EventListItem,
}

/// Loads the demo catalogue and makes the asker.
pub async fn prepare(state: &AppState) -> Asker {
    server::demo::seed(&state.accounts, &state.events, &state.bookings, false)
        .await
        .expect("demo data loads");
    let user = state
        .accounts
        .register(
            NewUser {
                email: "asker@eventhub.test".into(),
                display_name: "Eval Asker".into(),
                password: "eval-asker-password-2026".into(),
            },
            Locale::En,
            "127.0.0.1".parse().unwrap(),
        )
        .await
        .expect("the asker registers");
    let standup = state
        .events
        .list_events(&EventSearch {
            category: Some(Category::StandUp),
            per_page: 1,
            page: 1,
            ..EventSearch::default()
        })
        .await
        .expect("stand-up events")
        .items
        .remove(0);
    let detail = state.events.get_event(None, standup.id).await.unwrap();
    state
        .bookings
        .register(
            &user,
            NewRegistration {
                event_id: standup.id,
                ticket_type_id: detail.ticket_types[0].id,
                quantity: 1,
                idempotency_key: None,
            },
        )
        .await
        .expect("the asker books");
    // The night has happened: it becomes the last event the asker went to.
    let starts = Utc::now() - Days::days(3);
    server::on_db!(&state.db, pool => sqlx::query("UPDATE events SET starts_at = $2, ends_at = $3 WHERE id = $1")
        .bind(standup.id.get()).bind(starts).bind(starts + Days::hours(2)).execute(pool).await.map(|r| r.rows_affected()))
    .expect("the event moves into the past");
    Asker {
        user,
        last: standup,
    }
}

/// One judged answer.
#[derive(Debug)]
pub struct Judged {
    pub id: String,
    pub answerable: bool,
    pub cards: usize,
    pub right_cards: usize,
    /// What the prose names that the catalogue does not hold.
    pub invented: Option<String>,
    pub first_card: Duration,
    pub total: Duration,
    pub fallback: bool,
    pub deadline_hit: bool,
}

/// Asks every question and judges the answers.
pub async fn run(state: &AppState, asker: &Asker, questions: &[Question]) -> Vec<Judged> {
    let catalogue = catalogue(state).await;
    let mut texts: Vec<String> = catalogue
        .iter()
        .flat_map(|e| {
            [
                e.title.clone(),
                e.venue.clone(),
                e.city.clone(),
                e.summary.clone(),
            ]
        })
        .collect();
    texts.push(asker.last.title.clone());
    texts.extend(server::demo::DEMO_USERS.iter().map(|u| u.1.to_owned()));
    let mut judged = Vec::new();
    for q in questions {
        let language = match q.language.as_str() {
            "he" => Locale::He,
            "pl" => Locale::Pl,
            _ => Locale::En,
        };
        let mut given: Vec<&str> = texts.iter().map(String::as_str).collect();
        given.push(&q.question);
        let judge = Grounds::new(&[], &given, Vec::new(), language);
        let asked = state
            .assistant
            .ask(&asker.user, &q.question, None)
            .await
            .expect("the question is taken");
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let started = Instant::now();
        let assistant = state.assistant.clone();
        let user = asker.user.clone();
        let answer = tokio::spawn(async move {
            assistant
                .answer_streaming(&user, asked.message_id, language, Some(tx))
                .await
        });
        let mut first_card = None;
        while let Some(delta) = rx.recv().await {
            if let Delta::Cards(cards) = delta
                && !cards.is_empty()
                && first_card.is_none()
            {
                first_card = Some(started.elapsed());
            }
        }
        let reply: AssistantReply = answer.await.unwrap().expect("an answer");
        let total = started.elapsed();
        let expect = &q.expect;
        let answerable = catalogue.iter().any(|e| satisfies(e, expect, asker));
        let right_cards = reply
            .recommendations
            .iter()
            .filter(|c: &&Recommendation| satisfies(&c.event, expect, asker))
            .count();
        let invented = server::assistant::grounding::sentences(&reply.reply)
            .iter()
            .find_map(|s| judge.unknown(s));
        judged.push(Judged {
            id: q.id.clone(),
            answerable,
            cards: reply.recommendations.len(),
            right_cards,
            invented,
            first_card: first_card.unwrap_or(total),
            total,
            fallback: reply.fallback,
            deadline_hit: reply.deadline_hit,
        });
    }
    judged
}

/// The bookable events of the catalogue (published, not started).
async fn catalogue(state: &AppState) -> Vec<EventListItem> {
    let mut all = Vec::new();
    for page in 1.. {
        let found = state
            .events
            .list_events(&EventSearch {
                per_page: 100,
                page,
                ..EventSearch::default()
            })
            .await
            .expect("the catalogue lists");
        let done = found.items.len() < 100;
        all.extend(found.items);
        if done {
            break;
        }
    }
    let now = Utc::now();
    all.retain(|e| e.status == EventStatus::Published && e.starts_at > now);
    all
}

/// Whether `event` satisfies every constraint (days in its city's own calendar).
fn satisfies(event: &EventListItem, expect: &Expect, asker: &Asker) -> bool {
    let category = event.category.code();
    if !expect.categories.is_empty() && !expect.categories.iter().any(|c| c == category) {
        return false;
    }
    if expect.like_last && event.category != asker.last.category {
        return false;
    }
    if let Some(city) = &expect.city
        && server::search::fold(city) != server::search::fold(&event.city)
    {
        return false;
    }
    let price = event.min_price.as_ref().map_or(0, |p| p.amount);
    if expect.free && price != 0 {
        return false;
    }
    if let Some(max) = expect.price_max
        && price > max * 100
    {
        return false;
    }
    match &expect.days {
        None => true,
        Some(days) => {
            let zone: chrono_tz::Tz = event.timezone.parse().unwrap_or(chrono_tz::UTC);
            let today = Utc::now().with_timezone(&zone).date_naive();
            in_days(event.local_starts_at.date(), today, days)
        }
    }
}

fn in_days(day: NaiveDate, today: NaiveDate, days: &str) -> bool {
    let ahead = (day - today).num_days();
    let month_end = |d: NaiveDate| {
        let (y, m) = if d.month() == 12 {
            (d.year() + 1, 1)
        } else {
            (d.year(), d.month() + 1)
        };
        NaiveDate::from_ymd_opt(y, m, 1).unwrap() - Days::days(1)
    };
    match days {
        "today" => ahead == 0,
        "tomorrow" => ahead == 1,
        "this_week" => (0..=6).contains(&ahead),
        "weekend" => {
            (0..=7).contains(&ahead)
                && matches!(day.weekday(), Weekday::Fri | Weekday::Sat | Weekday::Sun)
        }
        "this_month" => ahead >= 0 && day <= month_end(today),
        "next_month" => {
            day > month_end(today) && day <= month_end(month_end(today) + Days::days(1))
        }
        other => panic!("unknown days {other:?} in assistant.json"),
    }
}

/// The scores of a run.
#[derive(Debug)]
pub struct Scores {
    pub questions: usize,
    pub answerable: usize,
    /// Answerable questions with at least one card.
    pub with_card: f64,
    /// Answerable questions with at least one card that satisfies the question.
    pub with_right_card: f64,
    /// Cards that satisfy their question, of all cards shown.
    pub right_cards: f64,
    /// Answers whose prose names something the catalogue does not hold.
    pub invented: usize,
    pub first_card_p50: Duration,
    pub first_card_p95: Duration,
    pub total_p50: Duration,
    pub total_p95: Duration,
    pub fallbacks: usize,
    pub deadline_hits: usize,
}

pub fn score(judged: &[Judged]) -> Scores {
    let answerable: Vec<&Judged> = judged.iter().filter(|j| j.answerable).collect();
    let share = |n: usize, of: usize| if of == 0 { 1.0 } else { n as f64 / of as f64 };
    let cards: usize = judged.iter().map(|j| j.cards).sum();
    let right: usize = judged.iter().map(|j| j.right_cards).sum();
    let quantile = |mut times: Vec<Duration>, q: f64| {
        times.sort();
        times
            .get(((times.len() as f64 * q).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or_default()
    };
    // Time to the first card, over the answers that have one.
    let first: Vec<Duration> = judged
        .iter()
        .filter(|j| j.cards > 0)
        .map(|j| j.first_card)
        .collect();
    let total: Vec<Duration> = judged.iter().map(|j| j.total).collect();
    Scores {
        questions: judged.len(),
        answerable: answerable.len(),
        with_card: share(
            answerable.iter().filter(|j| j.cards > 0).count(),
            answerable.len(),
        ),
        with_right_card: share(
            answerable.iter().filter(|j| j.right_cards > 0).count(),
            answerable.len(),
        ),
        right_cards: share(right, cards),
        invented: judged.iter().filter(|j| j.invented.is_some()).count(),
        first_card_p50: quantile(first.clone(), 0.5),
        first_card_p95: quantile(first, 0.95),
        total_p50: quantile(total.clone(), 0.5),
        total_p95: quantile(total, 0.95),
        fallbacks: judged.iter().filter(|j| j.fallback).count(),
        deadline_hits: judged.iter().filter(|j| j.deadline_hit).count(),
    }
}

impl Scores {
    /// One row of the results table.
    pub fn row(&self, name: &str) -> String {
        format!(
            "| {name} | {} ({} answerable) | {:.0} % | {:.0} % | {:.0} % | {} | {} / {} ms | {} / {} ms | {} | {} |",
            self.questions,
            self.answerable,
            self.with_card * 100.0,
            self.with_right_card * 100.0,
            self.right_cards * 100.0,
            self.invented,
            self.first_card_p50.as_millis(),
            self.first_card_p95.as_millis(),
            self.total_p50.as_millis(),
            self.total_p95.as_millis(),
            self.fallbacks,
            self.deadline_hits,
        )
    }

    pub const HEADER: &str = "| recommender | questions | a card when one matches | a right card | cards that fit | prose naming what is not in the catalogue | first card p50 / p95 | whole answer p50 / p95 | fell back | deadline hit |\n|---|---|---|---|---|---|---|---|---|---|";
}

/// A fake Ollama on loopback for the evaluation: it answers in the JSON asked for, picking the
/// first two events of its prompt with a reason each, and names them in its reply. Returns its
/// base URL.
pub async fn fake_model() -> String {
    use axum::response::IntoResponse;
    use serde_json::{Value, json};
    let chat = |axum::Json(body): axum::Json<Value>| async move {
        let prompt = body["messages"]
            .as_array()
            .and_then(|m| m.last())
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default()
            .to_owned();
        let data = prompt
            .split("<events>\n")
            .nth(1)
            .and_then(|rest| rest.split("\n</events>").next())
            .unwrap_or("[]");
        let events: Vec<Value> = serde_json::from_str(data).unwrap_or_default();
        let picks: Vec<Value> = events
            .iter()
            .take(2)
            .map(|e| json!({"id": e["id"], "reason": "It fits what you asked for."}))
            .collect();
        let reply = match events.first() {
            Some(e) => format!("Try {}.", e["title"].as_str().unwrap_or_default()),
            None => "Nothing fits, try other dates.".to_owned(),
        };
        let answer = json!({"reply": reply, "picks": picks}).to_string();
        let line = |content: &str, done: bool| {
            format!(
                "{}\n",
                json!({"model": body["model"], "message": {"role": "assistant", "content": content}, "done": done})
            )
        };
        let (head, tail) = answer.split_at(answer.len() / 2);
        let text = [line(head, false), line(tail, false), line("", true)].concat();
        ([("content-type", "application/x-ndjson")], text).into_response()
    };
    let router = axum::Router::new().route("/api/chat", axum::routing::post(chat));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

/// The assistant's model settings for `url` (Ollama or OpenAI-compatible).
pub fn models(
    provider: server::config::AiProvider,
    url: &str,
    model: &str,
    deadline: Option<Duration>,
) -> server::config::Ai {
    server::config::Ai {
        concurrent_calls: None,
        deadline,
        ..server::config::Ai::new(provider, url, vec![model.to_owned()])
    }
}
