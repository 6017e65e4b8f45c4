//! Demo data for a first start: an admin, two organizers and a few members (credentials are
//! printed and listed in the README), and about two hundred events over every category, in
//! Israeli and Polish cities, with titles in English, Hebrew and Polish.
use crate::accounts::Accounts;
use crate::events::Events;
use app::auth::{NewUser, Role, UserView};
use app::events::ports::EventCommands;
use app::events::{Category, NewEvent, NewTicketType};
use app::i18n::Locale;
use chrono::{Duration, Timelike, Utc};

/// (email, display name, role, locale, password)
pub const DEMO_USERS: &[(&str, &str, Role, Locale, &str)] = &[
    (
        "admin@eventhub.test",
        "Avigail Admin",
        Role::Admin,
        Locale::En,
        "demo-admin-2026",
    ),
    (
        "noa@eventhub.test",
        "Noa Bar-Lev (Comedy Basement)",
        Role::Agent,
        Locale::He,
        "demo-agent-2026",
    ),
    (
        "marek@eventhub.test",
        "Marek Nowak (Scena Kraków)",
        Role::Agent,
        Locale::Pl,
        "demo-agent-2026",
    ),
    (
        "dana@eventhub.test",
        "Dana Levi",
        Role::User,
        Locale::He,
        "demo-user-2026",
    ),
    (
        "ola@eventhub.test",
        "Ola Wiśniewska",
        Role::User,
        Locale::Pl,
        "demo-user-2026",
    ),
    (
        "sam@eventhub.test",
        "Sam Carter",
        Role::User,
        Locale::En,
        "demo-user-2026",
    ),
];

pub const DEMO_EVENTS: usize = 200;

/// (city, venues, timezone, currency)
const ISRAEL: &[(&str, &[&str], &str, &str)] = &[
    (
        "Tel Aviv",
        &[
            "Comedy Basement",
            "Barby",
            "Cameri Theatre",
            "Zappa Club",
            "Tmuna Theatre",
        ],
        "Asia/Jerusalem",
        "ILS",
    ),
    (
        "Jerusalem",
        &[
            "Khan Theatre",
            "Yellow Submarine",
            "Jerusalem Theatre",
            "Beit Avi Chai",
        ],
        "Asia/Jerusalem",
        "ILS",
    ),
    (
        "Haifa",
        &["Haifa Auditorium", "Beit HaGefen", "Syncopa Bar"],
        "Asia/Jerusalem",
        "ILS",
    ),
];
const POLAND: &[(&str, &[&str], &str, &str)] = &[
    (
        "Kraków",
        &["Scena Kraków", "Klub Studio", "Teatr Bagatela", "Alchemia"],
        "Europe/Warsaw",
        "PLN",
    ),
    (
        "Warszawa",
        &["Stodoła", "Teatr Nowy", "Klub Harenda", "Palladium"],
        "Europe/Warsaw",
        "PLN",
    ),
    (
        "Gdańsk",
        &["Klub B90", "Teatr Szekspirowski", "Żak"],
        "Europe/Warsaw",
        "PLN",
    ),
];

/// Title patterns per category: English, Hebrew, Polish.
fn titles(category: Category) -> [&'static str; 6] {
    match category {
        Category::StandUp => [
            "Late Night Stand-up",
            "Open Mic Comedy",
            "ערב סטנדאפ",
            "צחוק עד הבוקר",
            "Wieczór stand-upu",
            "Stand-up bez cenzury",
        ],
        Category::Music => [
            "Jazz at Midnight",
            "Indie Rock Night",
            "ערב ג'אז",
            "מופע אקוסטי",
            "Koncert jazzowy",
            "Noc z gitarą",
        ],
        Category::Theatre => [
            "Hamlet, Retold",
            "A Midsummer Night's Dream",
            "המחזה של השנה",
            "קומדיה של טעויות",
            "Wesele",
            "Dziady — nowa inscenizacja",
        ],
        Category::Dance => [
            "Contemporary Dance Evening",
            "Salsa Social",
            "ערב מחול עכשווי",
            "מסיבת ריקודים",
            "Wieczór tańca współczesnego",
            "Tango pod gwiazdami",
        ],
        Category::Film => [
            "Cinema Under the Stars",
            "Classic Film Club",
            "קולנוע תחת כיפת השמיים",
            "מועדון סרטים",
            "Kino letnie",
            "Klasyka kina",
        ],
        Category::Talk => [
            "The Future of Cities",
            "Science on Tap",
            "הרצאה: המוח האנושי",
            "שיחה על אמנות",
            "Wykład o kosmosie",
            "Rozmowy o literaturze",
        ],
        Category::Kids => [
            "Puppet Show for Kids",
            "Family Science Morning",
            "הצגת ילדים",
            "בוקר מדע למשפחה",
            "Teatrzyk lalek",
            "Poranek dla dzieci",
        ],
        Category::Festival => [
            "Street Food Festival",
            "Summer Sounds Festival",
            "פסטיבל אוכל רחוב",
            "פסטיבל מוזיקה",
            "Festiwal smaków",
            "Festiwal muzyki ulicznej",
        ],
        Category::Other => [
            "Board Games Night",
            "Poetry Slam",
            "ערב משחקי קופסה",
            "סלאם שירה",
            "Wieczór gier planszowych",
            "Slam poetycki",
        ],
    }
}

/// A small deterministic generator, so every first start has the same catalogue.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// The demo catalogue for two organizers: Israeli events for the first, Polish for the second.
pub fn demo_events(count: usize) -> Vec<(usize, NewEvent)> {
    let mut rng = Lcg(2026);
    let today = Utc::now()
        .with_hour(0)
        .and_then(|t| t.with_minute(0))
        .and_then(|t| t.with_second(0))
        .unwrap_or_else(Utc::now);
    (0..count)
        .map(|i| {
            let organizer = i % 2;
            let places = if organizer == 0 { ISRAEL } else { POLAND };
            let (city, venues, tz, currency) = places[rng.next(places.len())];
            let category = Category::ALL[i % Category::ALL.len()];
            let names = titles(category);
            let lang = rng.next(3);
            let title = format!("{} #{}", names[lang * 2 + rng.next(2)], i / 18 + 1);
            let venue = venues[rng.next(venues.len())];
            let spread = 1 + rng.next(120) as i64;
            // The first two of each category fall in the coming week, so "this week" always
            // has something of every kind; the rest spread over four months.
            let day = if i < 2 * Category::ALL.len() { 1 + (i % 6) as i64 } else { spread };
            let hour = if category == Category::Kids { 10 } else { 18 + rng.next(4) as i64 };
            // Times are the venue's wall clock: written without an offset, read in `tz`.
            let start = (today + Duration::days(day) + Duration::hours(hour)).naive_utc();
            let end = start + Duration::minutes(90 + 30 * rng.next(5) as i64);
            let capacity = [40, 80, 120, 250, 500, 1200][rng.next(6)];
            let base_price = [0, 3500, 6000, 9000, 12000, 18000][rng.next(6)];
            let mut ticket_types = vec![NewTicketType {
                name: "General".into(),
                price_amount: base_price,
                currency: currency.into(),
                quantity: capacity,
                max_per_registration: 6,
                sales_start: None,
                sales_end: None,
            }];
            if base_price > 0 && rng.next(2) == 0 {
                ticket_types.push(NewTicketType {
                    name: "VIP".into(),
                    price_amount: base_price * 2,
                    currency: currency.into(),
                    quantity: (capacity / 10).max(5),
                    max_per_registration: 2,
                    sales_start: None,
                    sales_end: None,
                });
            }
            let summary = match lang {
                0 => format!("{} at {venue}, {city}.", names[0]),
                1 => format!("{} ב{venue}, {city}.", names[2]),
                _ => format!("{} — {venue}, {city}.", names[4]),
            };
            let description = format!(
                "{summary}\n\nDoors open 30 minutes before the start. Seats are not numbered; come early for the best view.\n\n\
                 הדלתות נפתחות חצי שעה לפני תחילת האירוע.\n\nDrzwi otwieramy pół godziny przed rozpoczęciem."
            );
            let event = NewEvent {
                title,
                summary,
                description,
                category: category.code().into(),
                tags: vec![category.code().into(), city.to_lowercase()],
                starts_at: start.format("%Y-%m-%dT%H:%M").to_string(),
                ends_at: end.format("%Y-%m-%dT%H:%M").to_string(),
                timezone: tz.into(),
                venue: venue.into(),
                address: format!("{} {}", 1 + rng.next(90), if organizer == 0 { "Rothschild Blvd" } else { "ul. Floriańska" }),
                city: city.into(),
                capacity,
                max_seats_per_user: None,
                ticket_types,
            };
            (organizer, event)
        })
        .collect()
}

/// Creates the demo accounts and catalogue. With `only_if_empty`, does nothing when any user
/// exists. Returns whether anything was loaded.
pub async fn seed(
    accounts: &Accounts,
    events: &Events,
    bookings: &crate::bookings::Bookings,
    only_if_empty: bool,
) -> anyhow::Result<bool> {
    if only_if_empty && accounts.count_users().await? > 0 {
        return Ok(false);
    }
    println!("Demo accounts (email / password):");
    let mut agents: Vec<UserView> = Vec::new();
    let mut members: Vec<UserView> = Vec::new();
    for (email, name, role, locale, password) in DEMO_USERS {
        let new = NewUser {
            email: (*email).into(),
            display_name: (*name).into(),
            password: (*password).into(),
        };
        match accounts.create(new, *role, *locale).await {
            Ok(user) => {
                println!("  {:<6} {email:<22} {password}", role.code());
                match *role {
                    Role::Agent => agents.push(user),
                    Role::User => members.push(user),
                    Role::Admin => {}
                }
            }
            Err(app::error::AppError::Conflict { .. }) => {
                println!("  {:<6} {email:<22} (already there)", role.code())
            }
            Err(e) => anyhow::bail!("cannot create demo user {email}: {e}"),
        }
    }
    if agents.len() == 2 {
        for (i, (organizer, event)) in demo_events(DEMO_EVENTS).into_iter().enumerate() {
            let agent = &agents[organizer];
            let category_code = event.category.clone();
            let id = events
                .create_event(agent, event)
                .await
                .map_err(|e| anyhow::anyhow!("demo event {i}: {e:?}"))?;
            // Every event but a few gets its own generated poster.
            if i % 9 != 4 {
                let category = Category::from_code(&category_code).unwrap_or(Category::Other);
                let poster = tokio::task::spawn_blocking(move || {
                    crate::images::resize_and_encode(&crate::posters::draw(category, i as u64))
                })
                .await?
                .map_err(|e| anyhow::anyhow!("demo poster {i}: {e:?}"))?;
                let stored = events
                    .images()
                    .put(poster)
                    .await
                    .map_err(|e| anyhow::anyhow!("demo poster {i}: {e:?}"))?;
                events
                    .attach_image(id, &stored)
                    .await
                    .map_err(|e| anyhow::anyhow!("demo poster {i}: {e:?}"))?;
            }
            // Most are on sale; a few stay drafts and a few were called off.
            match i % 20 {
                7 => {}
                13 => {
                    events.publish_event(agent, id).await?;
                    events
                        .cancel_event(
                            agent,
                            id,
                            "The performer is ill; tickets will be refunded.".into(),
                        )
                        .await?;
                }
                _ => events.publish_event(agent, id).await?,
            }
        }
        println!("Demo events: {DEMO_EVENTS} (10 drafts, 10 cancelled)");
        book_some(events, bookings, &members).await?;
    }
    Ok(true)
}

/// The demo members book seats at a few upcoming events, so "trending", seat counts and
/// `/me` have something to show.
async fn book_some(
    events: &Events,
    bookings: &crate::bookings::Bookings,
    members: &[UserView],
) -> anyhow::Result<()> {
    use app::bookings::NewRegistration;
    use app::bookings::ports::BookingCommands;
    use app::events::ports::EventQueries;
    let page = events
        .list_events(&app::events::EventSearch {
            per_page: 12,
            page: 1,
            ..Default::default()
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut booked = 0;
    for (i, item) in page.items.iter().enumerate() {
        let detail = events
            .get_event(None, item.id)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let Some(tt) = detail.ticket_types.first() else {
            continue;
        };
        // Earlier events draw more bookings: they trend.
        for member in members.iter().take(3 - i % 3) {
            bookings
                .register(
                    member,
                    NewRegistration {
                        event_id: item.id,
                        ticket_type_id: tt.id,
                        quantity: 1 + (i as i64 % tt.max_per_registration.min(2)),
                        idempotency_key: None,
                    },
                )
                .await
                .map_err(|e| anyhow::anyhow!("demo booking: {e:?}"))?;
            booked += 1;
        }
    }
    println!("Demo bookings: {booked}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_event_is_valid() {
        for (_, event) in demo_events(DEMO_EVENTS) {
            if let Err(errors) = app::events::rules::validate_event(&event) {
                panic!("{} is invalid: {errors:?}", event.title);
            }
        }
    }

    #[test]
    fn the_catalogue_covers_every_category_and_both_countries() {
        let events = demo_events(DEMO_EVENTS);
        for c in Category::ALL {
            assert!(events.iter().any(|(_, e)| e.category == c.code()), "{c:?}");
        }
        assert!(events.iter().any(|(_, e)| e.city == "Kraków"));
        assert!(events.iter().any(|(_, e)| e.city == "Tel Aviv"));
    }
}
