//! What a question asks for, read without a model: days, time of day, city, price ceiling,
//! categories and "like the last one I went to", in English, Hebrew and Polish. Everything is
//! matched on folded text (lower case, no diacritics or niqqud), so "Kraków", "krakow" and
//! "w Krakowie" agree. Words no rule knows are kept as search keywords. The word tables the
//! rules read are in `lexicon.rs`.
use super::lexicon::{
    CATEGORY_WORDS, CITY_ALIASES, CURRENCY_WORDS, POLISH_WEEKDAYS, PRICE_BEFORE, STOPWORDS,
};
use crate::search::fold;
use app::events::Category;
use app::i18n::Locale;
use chrono::{Datelike, Duration, NaiveDate, Weekday};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Intent {
    /// The language the question is written in, when it is clear.
    pub language: Option<Locale>,
    /// First and last day (inclusive), on the venue's calendar.
    pub days: Option<(NaiveDate, NaiveDate)>,
    /// Start hour range `[from, to)` on the venue's clock.
    pub hours: Option<(u32, u32)>,
    /// A city of the catalogue, as stored.
    pub city: Option<String>,
    /// Minor units ("under 100" → 10000).
    pub price_max: Option<i64>,
    /// The currency the price was said in (ISO 4217), when it was.
    pub currency: Option<&'static str>,
    pub free: bool,
    pub categories: Vec<Category>,
    /// "Like the last concert I went to": lean on the user's latest past event.
    pub like_last: bool,
    /// Folded words no rule consumed, for full-text search.
    pub keywords: Vec<String>,
}

/// Reads `question` asked on `today`. `cities` are the catalogue's city names as stored.
pub fn parse(question: &str, today: NaiveDate, cities: &[String]) -> Intent {
    let folded = fold(question);
    let text = format!(
        " {} ",
        folded
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { ' ' })
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    );
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut intent = Intent {
        language: language_of(question),
        ..Intent::default()
    };

    // Categories
    for (category, english, hebrew, polish) in CATEGORY_WORDS {
        let hit = words.iter().any(|w| {
            english.contains(&english_singular(w))
                || english.contains(w)
                || hebrew_forms(w).any(|f| hebrew.contains(&f.as_str()))
                || polish.iter().any(|stem| w.starts_with(stem))
        });
        if hit && !intent.categories.contains(category) {
            intent.categories.push(*category);
        }
    }
    if (text.contains(" stand up ") || text.contains("סטנד אפ"))
        && !intent.categories.contains(&Category::StandUp)
    {
        intent.categories.push(Category::StandUp);
    }

    // City
    intent.city = find_city(&text, cities);

    // Price
    if words.iter().any(|w| {
        matches!(*w, "free" | "חינם" | "בחינם" | "darmo" | "gratis")
            || w.starts_with("darmow")
            || w.starts_with("bezplatn")
    }) || text.contains("ללא תשלום")
    {
        intent.free = true;
    }
    intent.price_max = price_ceiling(&words);
    intent.currency = currency_of(question, &words);

    // Days and hours
    intent.days = days(&text, &words, today, intent.language);
    intent.hours = hours(&text, &words);
    if text.contains(" tonight ") || words.contains(&"הערב") {
        intent.days.get_or_insert((today, today));
        intent.hours.get_or_insert((17, 24));
    }

    // "Like the last one"
    intent.like_last = [
        " like the last ",
        " like my last ",
        " similar to ",
        " same as the last ",
        " jak ostatni",
        " jak poprzedni",
        " podobn",
        " דומה ",
    ]
    .iter()
    .any(|p| text.contains(p))
        || (words.contains(&"כמו")
            && words.iter().any(|w| {
                hebrew_forms(w).any(|f| matches!(f.as_str(), "אחרון" | "אחרונה" | "קודם"))
            }));

    // Keywords: what is left
    intent.keywords = words
        .iter()
        .filter(|w| w.chars().count() >= 3 && !w.chars().all(|c| c.is_ascii_digit()))
        .filter(|w| !STOPWORDS.contains(w) && !is_rule_word(w))
        .map(|w| (*w).to_owned())
        .take(5)
        .collect();
    intent
}

/// English plurals are listed; this only drops a trailing possessive or plural `s` for the rest.
fn english_singular(word: &str) -> &str {
    word.strip_suffix('s').unwrap_or(word)
}

/// A Hebrew word and the same word without its one-letter prefixes (ו ב ה ל מ ש כ), so
/// "לילדים" and "בהופעה" are found as "ילדים" and "הופעה".
fn hebrew_forms(word: &str) -> impl Iterator<Item = String> + '_ {
    let chars: Vec<char> = word.chars().collect();
    (0..=2usize.min(chars.len().saturating_sub(2))).filter_map(move |skip| {
        if chars[..skip].iter().all(|c| "ובהלמשכ".contains(*c)) {
            Some(chars[skip..].iter().collect())
        } else {
            None
        }
    })
}

fn is_rule_word(word: &str) -> bool {
    CATEGORY_WORDS.iter().any(|(_, english, hebrew, polish)| {
        english.contains(&word)
            || english.contains(&english_singular(word))
            || hebrew_forms(word).any(|f| hebrew.contains(&f.as_str()))
            || polish.iter().any(|stem| word.starts_with(stem))
    }) || CITY_ALIASES.iter().any(|(alias, _)| {
        alias.split(' ').any(|part| word.starts_with(part))
            || hebrew_forms(word).any(|f| alias.split(' ').any(|p| p == f))
    }) || weekday_of(word).is_some()
}

/// A Hebrew letter (alef to tav).
fn is_hebrew(c: char) -> bool {
    ('\u{05D0}'..='\u{05EA}').contains(&c)
}

fn language_of(question: &str) -> Option<Locale> {
    if question.chars().any(is_hebrew) {
        return Some(Locale::He);
    }
    if question.chars().any(|c| "ąćęłńóśźżĄĆĘŁŃÓŚŹŻ".contains(c)) {
        return Some(Locale::Pl);
    }
    let folded = format!(" {} ", fold(question));
    let polish = [
        " jest ",
        " dla ",
        " czy ",
        " cos ",
        " jutro ",
        " dzisiaj ",
        " w tym ",
        " koncert ",
        " teatr ",
        " szukam ",
        " chce ",
        " wieczorem ",
        " za darmo ",
        " ponizej ",
        " w weekend ",
    ];
    if polish.iter().any(|w| folded.contains(w)) {
        return Some(Locale::Pl);
    }
    if question.chars().any(|c| c.is_ascii_alphabetic()) {
        return Some(Locale::En);
    }
    None
}

fn find_city(text: &str, cities: &[String]) -> Option<String> {
    let catalogue: Vec<(String, &String)> = cities.iter().map(|c| (fold(c), c)).collect();
    // The catalogue's own names first (whole words), then the aliases people type.
    for (folded, city) in &catalogue {
        if text.contains(&format!(" {folded} ")) || text.contains(&format!("ב{folded} ")) {
            return Some((*city).clone());
        }
    }
    for (alias, canonical) in CITY_ALIASES {
        let hebrew = alias.chars().any(is_hebrew);
        let found = if hebrew {
            text.contains(alias)
        } else {
            text.contains(&format!(" {alias}"))
        };
        if found && let Some((_, city)) = catalogue.iter().find(|(folded, _)| folded == canonical) {
            return Some((*city).clone());
        }
    }
    None
}

/// "under 100", "up to 80", "עד 100", "פחות מ-100", "do 50 zł", "poniżej 60" → minor units.
fn price_ceiling(words: &[&str]) -> Option<i64> {
    for (i, word) in words.iter().enumerate() {
        let Ok(amount) = word.parse::<i64>() else {
            continue;
        };
        let before_ok = PRICE_BEFORE
            .iter()
            .any(|phrase| i >= phrase.len() && words[i - phrase.len()..i] == **phrase);
        // "100 shekels or less", "100 זל או פחות"
        let after_ok = words[i + 1..]
            .windows(2)
            .take(2)
            .any(|w| w == ["or", "less"] || w == ["או", "פחות"] || w == ["lub", "mniej"]);
        // A Hebrew prefix glued to the number: "מ100", "ל100" fold to words of their own only
        // when written with a hyphen, which the splitting already handled.
        if (before_ok || after_ok) && (0..=1_000_000).contains(&amount) {
            return Some(amount * 100);
        }
    }
    None
}

/// "100 shekels", "₪100", "80 zł", "20 euro", "$30".
fn currency_of(question: &str, words: &[&str]) -> Option<&'static str> {
    for (symbol, code) in [('₪', "ILS"), ('€', "EUR"), ('$', "USD")] {
        if question.contains(symbol) {
            return Some(code);
        }
    }
    if question.contains("ש\"ח") || question.contains("ש״ח") {
        return Some("ILS");
    }
    words.iter().find_map(|w| {
        CURRENCY_WORDS
            .iter()
            .find(|(word, _)| word == w)
            .map(|(_, code)| *code)
    })
}

fn weekday_of(word: &str) -> Option<Weekday> {
    let english = match word {
        "monday" | "mondays" => Some(Weekday::Mon),
        "tuesday" | "tuesdays" => Some(Weekday::Tue),
        "wednesday" | "wednesdays" => Some(Weekday::Wed),
        "thursday" | "thursdays" => Some(Weekday::Thu),
        "friday" | "fridays" => Some(Weekday::Fri),
        "saturday" | "saturdays" => Some(Weekday::Sat),
        "sunday" | "sundays" => Some(Weekday::Sun),
        _ => None,
    };
    if english.is_some() {
        return english;
    }
    if let Some((_, day)) = POLISH_WEEKDAYS
        .iter()
        .find(|(stem, _)| word.starts_with(stem))
    {
        return Some(*day);
    }
    // Hebrew day names double as ordinals ("שני" is also "second"), so only the forms that
    // mean a day count: "בשישי", "שבת", "בשבת", and "יום X" (read in `days`).
    hebrew_forms(word).find_map(|f| match f.as_str() {
        "שבת" => Some(Weekday::Sat),
        _ if word.starts_with('ב') => hebrew_weekday(&f),
        _ => None,
    })
}

fn hebrew_weekday(word: &str) -> Option<Weekday> {
    match word {
        "ראשון" => Some(Weekday::Sun),
        "שני" => Some(Weekday::Mon),
        "שלישי" => Some(Weekday::Tue),
        "רביעי" => Some(Weekday::Wed),
        "חמישי" => Some(Weekday::Thu),
        "שישי" => Some(Weekday::Fri),
        "שבת" => Some(Weekday::Sat),
        _ => None,
    }
}

fn days(
    text: &str,
    words: &[&str],
    today: NaiveDate,
    language: Option<Locale>,
) -> Option<(NaiveDate, NaiveDate)> {
    // Israel's week runs Sunday to Saturday and its weekend is Friday and Saturday; Poland's
    // (and the English default) runs Monday to Sunday with a Saturday–Sunday weekend.
    let hebrew = language == Some(Locale::He);
    let has = |phrases: &[&str]| phrases.iter().any(|p| text.contains(p));
    let next_of = |day: Weekday| {
        let ahead = (7 + day.num_days_from_monday() as i64
            - today.weekday().num_days_from_monday() as i64)
            % 7;
        today + Duration::days(ahead)
    };
    let end_of_month = |d: NaiveDate| {
        let (y, m) = if d.month() == 12 {
            (d.year() + 1, 1)
        } else {
            (d.year(), d.month() + 1)
        };
        NaiveDate::from_ymd_opt(y, m, 1).expect("valid month") - Duration::days(1)
    };
    if has(&[" today ", " היום ", " dzis ", " dzisiaj "]) {
        return Some((today, today));
    }
    if has(&[" tomorrow ", " מחר ", " jutro "]) {
        let day = today + Duration::days(1);
        return Some((day, day));
    }
    // A named day: "this Friday", "on Sunday", "בשישי", "ביום שישי", "w piątek".
    let mut named = None;
    for (i, word) in words.iter().enumerate() {
        let day = weekday_of(word).or_else(|| {
            (i > 0 && matches!(words[i - 1], "יום" | "ביום" | "ליום"))
                .then(|| hebrew_weekday(word))
                .flatten()
        });
        if let Some(day) = day {
            named = Some(day);
            break;
        }
    }
    if let Some(day) = named {
        let mut date = next_of(day);
        if has(&[
            " next friday",
            " next saturday",
            " next sunday",
            " next monday",
            " next tuesday",
            " next wednesday",
            " next thursday",
            " w przyszl",
        ]) {
            date += Duration::days(7);
        }
        return Some((date, date));
    }
    if has(&[
        " next week ",
        " שבוע הבא ",
        " בשבוע הבא ",
        " przyszlym tygodniu ",
        " przyszly tydzien ",
    ]) {
        let first = if hebrew { Weekday::Sun } else { Weekday::Mon };
        let mut start = next_of(first);
        if start == today {
            start += Duration::days(7);
        }
        return Some((start, start + Duration::days(6)));
    }
    if has(&[
        " weekend ",
        " סופ ש ",
        " סוף השבוע ",
        " סוף שבוע ",
        " בסוף השבוע ",
        " בסוף שבוע ",
        " לסוף השבוע ",
        " בסופ ש ",
        " weekendu ",
    ]) {
        let last = if hebrew { Weekday::Sat } else { Weekday::Sun };
        let within = match today.weekday() {
            Weekday::Fri | Weekday::Sat => true,
            Weekday::Sun => !hebrew,
            _ => false,
        };
        let first = if within { today } else { next_of(Weekday::Fri) };
        return Some((first, next_of(last).max(first)));
    }
    if has(&[
        " this week ",
        " השבוע ",
        " w tym tygodniu ",
        " tego tygodnia ",
    ]) {
        return Some((today, today + Duration::days(6)));
    }
    if has(&[
        " next month ",
        " חודש הבא ",
        " בחודש הבא ",
        " przyszlym miesiacu ",
    ]) {
        let first = end_of_month(today) + Duration::days(1);
        return Some((first, end_of_month(first)));
    }
    if has(&[" this month ", " החודש ", " w tym miesiacu "]) {
        return Some((today, end_of_month(today)));
    }
    None
}

fn hours(text: &str, words: &[&str]) -> Option<(u32, u32)> {
    let he = |forms: &[&str]| {
        words
            .iter()
            .any(|w| hebrew_forms(w).any(|f| forms.contains(&f.as_str())))
    };
    if text.contains(" morning ")
        || he(&["בוקר"])
        || text.contains(" rano ")
        || text.contains(" rankiem ")
        || text.contains(" przed poludniem ")
    {
        return Some((6, 12));
    }
    if text.contains(" afternoon ")
        || he(&["צהריים"])
        || text.contains(" אחה צ ")
        || text.contains(" po poludniu ")
    {
        return Some((12, 17));
    }
    if text.contains(" evening ")
        || text.contains(" night ")
        || he(&["ערב", "לילה"])
        || text.contains(" wieczorem ")
        || text.contains(" wieczor ")
        || text.contains(" noca ")
    {
        return Some((17, 24));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sunday 22 November 2026.
    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    fn cities() -> Vec<String> {
        ["Tel Aviv", "Kraków", "Warszawa", "Jerusalem"]
            .map(String::from)
            .to_vec()
    }

    fn ask(q: &str) -> Intent {
        parse(q, today(), &cities())
    }

    #[test]
    fn english_stand_up_in_tel_aviv_this_friday_under_100_shekels() {
        let i = ask("Stand-up in Tel Aviv this Friday under 100 shekels");
        assert_eq!(i.categories, vec![Category::StandUp]);
        assert_eq!(i.city.as_deref(), Some("Tel Aviv"));
        assert_eq!(i.days, Some((day(27), day(27))));
        assert_eq!(i.price_max, Some(10_000));
        assert_eq!(i.language, Some(Locale::En));
        assert!(i.keywords.is_empty(), "{:?}", i.keywords);
    }

    #[test]
    fn hebrew_stand_up_in_tel_aviv_on_friday_up_to_100() {
        let i = ask("סטנדאפ בתל אביב ביום שישי עד 100 שקלים");
        assert_eq!(i.categories, vec![Category::StandUp]);
        assert_eq!(i.city.as_deref(), Some("Tel Aviv"));
        assert_eq!(i.days, Some((day(27), day(27))));
        assert_eq!(i.price_max, Some(10_000));
        assert_eq!(i.language, Some(Locale::He));
        assert!(i.keywords.is_empty(), "{:?}", i.keywords);
    }

    #[test]
    fn polish_concert_in_krakow_on_saturday_below_80_zloty() {
        let i = ask("Koncert w Krakowie w sobotę poniżej 80 zł");
        assert_eq!(i.categories, vec![Category::Music]);
        assert_eq!(i.city.as_deref(), Some("Kraków"));
        assert_eq!(i.days, Some((day(28), day(28))));
        assert_eq!(i.price_max, Some(8_000));
        assert_eq!(i.language, Some(Locale::Pl));
    }

    #[test]
    fn kids_on_sunday_morning_in_three_languages() {
        for q in [
            "something for kids on Sunday morning",
            "משהו לילדים ביום ראשון בבוקר",
            "coś dla dzieci w niedzielę rano",
        ] {
            let i = ask(q);
            assert_eq!(i.categories, vec![Category::Kids], "{q}");
            // Today is Sunday: "on Sunday" is today.
            assert_eq!(i.days, Some((day(22), day(22))), "{q}");
            assert_eq!(i.hours, Some((6, 12)), "{q}");
        }
    }

    #[test]
    fn relative_days_in_three_languages() {
        for (q, from, to) in [
            ("stand-up this week", day(22), day(28)),
            ("סטנדאפ השבוע", day(22), day(28)),
            ("stand-up w tym tygodniu", day(22), day(28)),
            ("theatre tomorrow", day(23), day(23)),
            ("הצגה מחר", day(23), day(23)),
            ("teatr jutro", day(23), day(23)),
            // Sunday: next week starts tomorrow in Poland, on the coming Sunday in Israel.
            ("music next week", day(23), day(29)),
            ("koncert w przyszłym tygodniu", day(23), day(29)),
            (
                "הופעה בשבוע הבא",
                day(29),
                NaiveDate::from_ymd_opt(2026, 12, 5).unwrap(),
            ),
            ("film this weekend", day(22), day(22)),
            ("jazz this month", day(22), day(30)),
        ] {
            assert_eq!(ask(q).days, Some((from, to)), "{q}");
        }
        let tonight = ask("what's on tonight?");
        assert_eq!(tonight.days, Some((day(22), day(22))));
        assert_eq!(tonight.hours, Some((17, 24)));
        let tonight_he = ask("מה יש הערב?");
        assert_eq!(tonight_he.days, Some((day(22), day(22))));
    }

    #[test]
    fn weeks_and_weekends_follow_each_countrys_calendar() {
        let wednesday = day(25);
        let on = |q: &str| parse(q, wednesday, &cities()).days;
        assert_eq!(
            on("theatre next week"),
            Some((day(30), NaiveDate::from_ymd_opt(2026, 12, 6).unwrap()))
        );
        assert_eq!(
            on("הצגה בשבוע הבא"),
            Some((day(29), NaiveDate::from_ymd_opt(2026, 12, 5).unwrap()))
        );
        assert_eq!(on("film this weekend"), Some((day(27), day(29))));
        assert_eq!(on("סרט בסופ\"ש"), Some((day(27), day(28))));
        // On Sunday the Israeli weekend is over: the next one is meant.
        assert_eq!(ask("סרט בסוף השבוע").days, Some((day(27), day(28))));
    }

    #[test]
    fn a_price_keeps_the_currency_it_was_said_in() {
        assert_eq!(ask("stand-up under 100 shekels").currency, Some("ILS"));
        assert_eq!(ask("סטנדאפ עד 100 ש\"ח").currency, Some("ILS"));
        assert_eq!(ask("teatr do 120 zł").currency, Some("PLN"));
        assert_eq!(ask("jazz under €30").currency, Some("EUR"));
        assert_eq!(ask("jazz under 30").currency, None);
    }

    #[test]
    fn free_and_price_phrases() {
        assert!(ask("free concerts").free);
        assert!(ask("הופעות בחינם").free);
        assert!(ask("koncerty za darmo").free);
        assert_eq!(ask("comedy for less than 50").price_max, Some(5_000));
        assert_eq!(ask("הצגה פחות מ-60 שקל").price_max, Some(6_000));
        assert_eq!(ask("teatr do 120 zł").price_max, Some(12_000));
        assert_eq!(ask("jazz at 8 on Friday").price_max, None);
    }

    #[test]
    fn like_the_last_one_and_leftover_keywords() {
        let i = ask("like the last concert I went to");
        assert!(i.like_last);
        assert_eq!(i.categories, vec![Category::Music]);
        assert!(ask("משהו כמו ההופעה האחרונה שהייתי בה").like_last);
        assert!(ask("coś jak ostatni koncert").like_last);
        let k = ask("klezmer trio in Warsaw");
        assert_eq!(k.keywords, vec!["klezmer".to_owned(), "trio".to_owned()]);
        assert_eq!(k.city.as_deref(), Some("Warszawa"));
        assert_eq!(ask("jazz w Warszawie").city.as_deref(), Some("Warszawa"));
    }
}
