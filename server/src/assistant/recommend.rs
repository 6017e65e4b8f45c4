//! The built-in recommender: filters the retrieved events by what the question asks and ranks
//! them by the user's categories (likes, saves, registrations), the event they went to last
//! (when asked for "something like it"), words of the question, semantic similarity (when
//! embeddings are on), popularity and nearness. It also writes the answer when no model does.
use super::intent::Intent;
use app::events::{Category, EventId, EventListItem, EventStatus};
use app::i18n::{Locale, Msg, fill, format_local};
use chrono::{DateTime, Timelike, Utc};
use std::collections::{HashMap, HashSet};

/// What the user's own history says about their taste.
#[derive(Clone, Debug, Default)]
pub struct Profile {
    /// Weight per category: a registration counts 2, a like or save 1.
    pub categories: HashMap<Category, f64>,
    /// The latest event the user went to (or is registered for) that has started.
    pub last_attended: Option<EventListItem>,
    /// Events the user already holds a live booking for: not recommended again.
    pub booked: HashSet<EventId>,
}

impl Profile {
    /// The category the user books most, for the answer's "because".
    pub fn favourite(&self) -> Option<Category> {
        self.categories
            .iter()
            .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.code().cmp(a.0.code())))
            .map(|(c, _)| *c)
    }
}

/// A retrieved event with what retrieval learned about it.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub item: EventListItem,
    /// Found by full-text search for the question's words.
    pub text_hit: bool,
    /// Cosine similarity of its description to the question, when embeddings are on.
    pub similarity: Option<f32>,
}

/// Keeps what the question allows: published, not started, not already booked by the user, on
/// the asked days and hours, in the asked city and categories, within the price.
pub fn allowed(c: &EventListItem, intent: &Intent, profile: &Profile, now: DateTime<Utc>) -> bool {
    if c.status != EventStatus::Published || c.starts_at <= now || profile.booked.contains(&c.id) {
        return false;
    }
    if let Some((from, to)) = intent.days {
        let day = c.local_starts_at.date();
        if day < from || day > to {
            return false;
        }
    }
    if let Some((from, to)) = intent.hours {
        let hour = c.local_starts_at.hour();
        if hour < from || hour >= to {
            return false;
        }
    }
    if let Some(city) = &intent.city
        && !c.city.eq_ignore_ascii_case(city)
        && c.city.to_lowercase() != city.to_lowercase()
    {
        return false;
    }
    if !intent.categories.is_empty() && !intent.categories.contains(&c.category) {
        return false;
    }
    let price = c.min_price.as_ref().map_or(0, |p| p.amount);
    if intent.free && price > 0 {
        return false;
    }
    if let Some(max) = intent.price_max
        && price > max
    {
        return false;
    }
    // "Under 100 shekels" says nothing about prices in złoty.
    if let (Some(_), Some(currency), Some(p)) = (intent.price_max, intent.currency, &c.min_price)
        && p.amount > 0
        && p.currency != currency
    {
        return false;
    }
    true
}

/// The allowed candidates, best first.
pub fn rank(
    candidates: Vec<Candidate>,
    intent: &Intent,
    profile: &Profile,
    now: DateTime<Utc>,
) -> Vec<Candidate> {
    let total: f64 = profile.categories.values().sum();
    let mut scored: Vec<(f64, Candidate)> = candidates
        .into_iter()
        .filter(|c| allowed(&c.item, intent, profile, now))
        .map(|c| {
            let item = &c.item;
            let mut score = 0.0;
            if total > 0.0 {
                score += 3.0
                    * profile
                        .categories
                        .get(&item.category)
                        .copied()
                        .unwrap_or(0.0)
                    / total;
            }
            if intent.like_last
                && let Some(last) = &profile.last_attended
            {
                if last.category == item.category {
                    score += 3.0;
                }
                if last.venue == item.venue {
                    score += 1.0;
                }
                if last.city == item.city {
                    score += 0.5;
                }
            }
            if c.text_hit {
                score += 2.5;
            }
            let title = crate::search::fold(&format!("{} {}", item.title, item.summary));
            score += intent
                .keywords
                .iter()
                .filter(|k| title.contains(k.as_str()))
                .count() as f64;
            if let Some(similarity) = c.similarity {
                score += 4.0 * f64::from(similarity.max(0.0));
            }
            if item.capacity > 0 {
                let booked = (item.capacity - item.remaining_seats.max(0)) as f64;
                score += booked / item.capacity as f64;
            }
            let days_away = (item.starts_at - now).num_hours() as f64 / 24.0;
            score += 0.5 * (1.0 - days_away / 60.0).clamp(0.0, 1.0);
            if item.remaining_seats <= 0 {
                score -= 1.0;
            }
            (score, c)
        })
        .collect();
    scored.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(a.1.item.starts_at.cmp(&b.1.item.starts_at))
            .then(a.1.item.id.cmp(&b.1.item.id))
    });
    scored.into_iter().map(|(_, c)| c).collect()
}

/// One line of the offline answer: what, when, where, price, seats or waitlist.
pub fn event_line(item: &EventListItem, locale: Locale) -> String {
    let price = match &item.min_price {
        Some(p) if p.amount == 0 => Msg::EventFree.text(locale).to_owned(),
        Some(p) => fill(Msg::EventFromPrice.text(locale), &[("price", &p.display())]),
        None => String::new(),
    };
    let seats = if item.remaining_seats > 0 {
        fill(
            Msg::EventSeatsLeft.text(locale),
            &[("n", &item.remaining_seats)],
        )
    } else {
        Msg::AssistantWaitlistOpen.text(locale).to_owned()
    };
    let mut line = format!(
        "• {} — {}, {}, {}",
        item.title,
        format_local(locale, item.local_starts_at),
        item.venue,
        item.city
    );
    for part in [price, seats] {
        if !part.is_empty() {
            line.push_str(" · ");
            line.push_str(&part);
        }
    }
    line
}

/// The built-in recommender's answer: says the AI is offline, then lists `picks`.
pub fn offline_answer(
    picks: &[EventListItem],
    profile: &Profile,
    intent: &Intent,
    locale: Locale,
) -> String {
    if picks.is_empty() {
        return Msg::AssistantOfflineNone.text(locale).to_owned();
    }
    built_in_answer(picks, profile, intent, locale, Msg::AssistantOffline)
}

/// The recommender's answer over `picks` (at least one) after the sentence `lead`.
pub fn built_in_answer(
    picks: &[EventListItem],
    profile: &Profile,
    intent: &Intent,
    locale: Locale,
    lead: Msg,
) -> String {
    let mut text = lead.text(locale).to_owned();
    for item in picks {
        text.push('\n');
        text.push_str(&event_line(item, locale));
    }
    if intent.like_last
        && let Some(last) = &profile.last_attended
    {
        text.push('\n');
        text.push_str(&fill(
            Msg::AssistantBecauseLast.text(locale),
            &[("title", &last.title)],
        ));
    } else if intent.categories.is_empty()
        && let Some(favourite) = profile.favourite()
    {
        text.push('\n');
        text.push_str(&fill(
            Msg::AssistantBecauseFavourite.text(locale),
            &[("category", &favourite.label().text(locale))],
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::events::Money;
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap()
    }

    fn event(id: EventId, category: Category, days: i64) -> EventListItem {
        let starts_at = now() + Duration::days(days);
        EventListItem {
            id,
            uuid: format!("00000000-0000-4000-8000-{:012}", id.get()),
            title: format!("Event {id}"),
            summary: String::new(),
            category,
            starts_at,
            ends_at: starts_at + Duration::hours(2),
            timezone: "UTC".into(),
            local_starts_at: starts_at.naive_utc(),
            local_ends_at: (starts_at + Duration::hours(2)).naive_utc(),
            venue: "Hall".into(),
            city: "Tel Aviv".into(),
            image_url: None,
            status: EventStatus::Published,
            min_price: Some(Money {
                amount: 5_000,
                currency: "ILS".into(),
            }),
            capacity: 100,
            remaining_seats: 50,
            waitlisted_seats: 0,
        }
    }

    fn candidates(items: Vec<EventListItem>) -> Vec<Candidate> {
        items
            .into_iter()
            .map(|item| Candidate {
                item,
                text_hit: false,
                similarity: None,
            })
            .collect()
    }

    #[test]
    fn past_cancelled_draft_and_booked_events_are_never_recommended() {
        let mut past = event(1.into(), Category::Music, -1);
        past.status = EventStatus::Published;
        let mut cancelled = event(2.into(), Category::Music, 3);
        cancelled.status = EventStatus::Cancelled;
        let mut draft = event(3.into(), Category::Music, 3);
        draft.status = EventStatus::Draft;
        let booked = event(4.into(), Category::Music, 3);
        let fine = event(5.into(), Category::Music, 3);
        let profile = Profile {
            booked: [EventId::new(4)].into_iter().collect(),
            ..Profile::default()
        };
        let ranked = rank(
            candidates(vec![past, cancelled, draft, booked, fine]),
            &Intent::default(),
            &profile,
            now(),
        );
        assert_eq!(
            ranked.iter().map(|c| c.item.id.get()).collect::<Vec<_>>(),
            vec![5]
        );
    }

    #[test]
    fn a_users_history_lifts_their_categories() {
        let items = vec![
            event(1.into(), Category::Music, 3),
            event(2.into(), Category::Theatre, 3),
        ];
        let mut profile = Profile::default();
        profile.categories.insert(Category::Theatre, 3.0);
        let ranked = rank(
            candidates(items.clone()),
            &Intent::default(),
            &profile,
            now(),
        );
        assert_eq!(ranked[0].item.id, 2.into());
        profile.categories.insert(Category::Music, 9.0);
        let ranked = rank(candidates(items), &Intent::default(), &profile, now());
        assert_eq!(ranked[0].item.id, 1.into());
    }

    #[test]
    fn like_the_last_one_prefers_its_category_and_venue() {
        let mut last = event(9.into(), Category::Dance, -10);
        last.venue = "Suzanne Dellal".into();
        let mut same_place = event(1.into(), Category::Dance, 5);
        same_place.venue = "Suzanne Dellal".into();
        let other = event(2.into(), Category::Dance, 2);
        let music = event(3.into(), Category::Music, 1);
        let profile = Profile {
            last_attended: Some(last),
            ..Profile::default()
        };
        let intent = Intent {
            like_last: true,
            ..Intent::default()
        };
        let ranked = rank(
            candidates(vec![music, other, same_place]),
            &intent,
            &profile,
            now(),
        );
        assert_eq!(
            ranked.iter().map(|c| c.item.id.get()).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
    }

    #[test]
    fn the_questions_filters_are_hard_limits() {
        let cheap = event(1.into(), Category::StandUp, 2);
        let mut dear = event(2.into(), Category::StandUp, 2);
        dear.min_price = Some(Money {
            amount: 20_000,
            currency: "ILS".into(),
        });
        let mut elsewhere = event(3.into(), Category::StandUp, 2);
        elsewhere.city = "Kraków".into();
        let mut zloty = event(6.into(), Category::StandUp, 2);
        zloty.min_price = Some(Money {
            amount: 5_000,
            currency: "PLN".into(),
        });
        let music = event(4.into(), Category::Music, 2);
        let late = event(5.into(), Category::StandUp, 20);
        let day = (now() + Duration::days(2)).date_naive();
        let intent = Intent {
            categories: vec![Category::StandUp],
            city: Some("Tel Aviv".into()),
            price_max: Some(10_000),
            currency: Some("ILS"),
            days: Some((day, day)),
            ..Intent::default()
        };
        let ranked = rank(
            candidates(vec![cheap, dear, elsewhere, music, late, zloty]),
            &intent,
            &Profile::default(),
            now(),
        );
        assert_eq!(
            ranked.iter().map(|c| c.item.id.get()).collect::<Vec<_>>(),
            vec![1]
        );
    }

    #[test]
    fn the_offline_answer_says_so_and_lists_waitlists_as_such() {
        let mut full = event(1.into(), Category::Music, 2);
        full.remaining_seats = 0;
        let text = offline_answer(&[full], &Profile::default(), &Intent::default(), Locale::En);
        assert!(
            text.starts_with(Msg::AssistantOffline.text(Locale::En)),
            "{text}"
        );
        assert!(text.contains("Event 1"), "{text}");
        assert!(
            text.contains(Msg::AssistantWaitlistOpen.text(Locale::En)),
            "{text}"
        );
        let none = offline_answer(&[], &Profile::default(), &Intent::default(), Locale::He);
        assert_eq!(none, Msg::AssistantOfflineNone.text(Locale::He));
    }
}
