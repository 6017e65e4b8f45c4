//! Locales and the typed message catalogue generated from `app/locales/*.ftl` by `build.rs`.
//!
//! The page's locale is fixed for one page load: the server picks it (cookie, then
//! `Accept-Language`), writes it into `<html lang dir>`, and the client reads it back from there.
//! Switching language is a small form posting to `/lang`, which sets the cookie and comes back.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::fmt::Display;

/// The cookie that remembers the visitor's language choice.
pub const LOCALE_COOKIE: &str = "eventhub_lang";

/// A language EventHub speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    En,
    He,
    Pl,
}

impl Locale {
    pub const ALL: [Locale; 3] = [Locale::En, Locale::He, Locale::Pl];

    /// The BCP 47 language code.
    pub fn code(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::He => "he",
            Locale::Pl => "pl",
        }
    }

    /// Parses a language tag such as `he`, `he-IL` or the legacy `iw`; unknown tags give `None`.
    pub fn from_tag(tag: &str) -> Option<Self> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Locale::En),
            "he" | "iw" => Some(Locale::He),
            "pl" => Some(Locale::Pl),
            _ => None,
        }
    }

    /// Picks the best supported language from an `Accept-Language` header, honouring q-values.
    pub fn negotiate(accept_language: &str) -> Option<Self> {
        accept_language
            .split(',')
            .filter_map(|item| {
                let mut parts = item.split(';');
                let locale = Locale::from_tag(parts.next()?)?;
                let q = parts
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
                (q > 0.0).then_some((locale, q))
            })
            // max_by keeps the last of equals; reverse so the first listed wins a tie.
            .rev()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(locale, _)| locale)
    }

    /// Text direction: Hebrew is written right to left.
    pub fn dir(self) -> &'static str {
        match self {
            Locale::He => "rtl",
            _ => "ltr",
        }
    }

    /// The first day of a calendar week where the language is read: Sunday in Israel, Monday
    /// in Poland and (ISO 8601) for English.
    pub fn week_start(self) -> chrono::Weekday {
        match self {
            Locale::He => chrono::Weekday::Sun,
            _ => chrono::Weekday::Mon,
        }
    }

    /// The language's own name, for the switcher.
    pub fn native_name(self) -> Msg {
        match self {
            Locale::En => Msg::LangEn,
            Locale::He => Msg::LangHe,
            Locale::Pl => Msg::LangPl,
        }
    }
}

include!(concat!(env!("OUT_DIR"), "/messages.rs"));

/// The locale of the page being rendered.
pub fn use_locale() -> Locale {
    use_context::<Locale>().unwrap_or_default()
}

/// Translates `msg` into the page's locale.
pub fn t(msg: Msg) -> &'static str {
    msg.text(use_locale())
}

/// Fills `{name}` placeholders of a translated template.
pub fn fill(template: &str, args: &[(&str, &dyn Display)]) -> String {
    args.iter()
        .fold(template.to_owned(), |text, (name, value)| {
            text.replace(&format!("{{{name}}}"), &value.to_string())
        })
}

/// Short weekday names, Monday first.
pub const WEEKDAYS: [Msg; 7] = [
    Msg::Wd1,
    Msg::Wd2,
    Msg::Wd3,
    Msg::Wd4,
    Msg::Wd5,
    Msg::Wd6,
    Msg::Wd7,
];
/// Short month names as used inside a date ("1 Mar", Hebrew "1 במרץ").
pub const MONTHS_IN_DATE: [Msg; 12] = [
    Msg::Mon1,
    Msg::Mon2,
    Msg::Mon3,
    Msg::Mon4,
    Msg::Mon5,
    Msg::Mon6,
    Msg::Mon7,
    Msg::Mon8,
    Msg::Mon9,
    Msg::Mon10,
    Msg::Mon11,
    Msg::Mon12,
];
/// Month names standing alone, as in a calendar heading.
pub const MONTHS: [Msg; 12] = [
    Msg::Month1,
    Msg::Month2,
    Msg::Month3,
    Msg::Month4,
    Msg::Month5,
    Msg::Month6,
    Msg::Month7,
    Msg::Month8,
    Msg::Month9,
    Msg::Month10,
    Msg::Month11,
    Msg::Month12,
];

/// "November 2026" in `locale`.
pub fn month_title(locale: Locale, date: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    format!(
        "{} {}",
        MONTHS[date.month0() as usize].text(locale),
        date.year()
    )
}

/// A wall-clock time as people read it: `Sat, 1 Mar 2030 · 21:00` in the page's language.
/// Deterministic, so the server's HTML and the hydrating client agree.
pub fn format_local(locale: Locale, time: chrono::NaiveDateTime) -> String {
    use chrono::{Datelike, Timelike};
    let weekday = WEEKDAYS[time.weekday().num_days_from_monday() as usize].text(locale);
    let month = MONTHS_IN_DATE[time.month0() as usize].text(locale);
    format!(
        "{weekday}, {} {month} {} · {:02}:{:02}",
        time.day(),
        time.year(),
        time.hour(),
        time.minute()
    )
}

/// The locale the browser hydrates with: whatever the server wrote into `<html lang>`.
#[cfg(feature = "hydrate")]
pub fn locale_from_document() -> Locale {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
        .and_then(|e| e.get_attribute("lang"))
        .and_then(|lang| Locale::from_tag(&lang))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_prefers_the_highest_quality_supported_tag() {
        assert_eq!(
            Locale::negotiate("fr-FR, pl;q=0.8, en;q=0.5"),
            Some(Locale::Pl)
        );
        assert_eq!(
            Locale::negotiate("he-IL,he;q=0.9,en-US;q=0.8"),
            Some(Locale::He)
        );
        assert_eq!(Locale::negotiate("en, pl"), Some(Locale::En));
        assert_eq!(Locale::negotiate("de, fr;q=0.5"), None);
        assert_eq!(Locale::negotiate("pl;q=0, en;q=0.1"), Some(Locale::En));
    }

    #[test]
    fn legacy_hebrew_code_is_understood() {
        assert_eq!(Locale::from_tag("iw"), Some(Locale::He));
    }

    #[test]
    fn every_message_is_translated_in_every_locale() {
        for locale in Locale::ALL {
            assert!(!Msg::NotFoundTitle.text(locale).is_empty());
        }
        assert_ne!(
            Msg::LoginTitle.text(Locale::He),
            Msg::LoginTitle.text(Locale::En)
        );
    }

    #[test]
    fn local_times_read_naturally_in_each_language() {
        let t = chrono::NaiveDate::from_ymd_opt(2030, 3, 1)
            .unwrap()
            .and_hms_opt(21, 5, 0)
            .unwrap();
        assert_eq!(format_local(Locale::En, t), "Fri, 1 Mar 2030 · 21:05");
        assert_eq!(format_local(Locale::Pl, t), "pt., 1 mar 2030 · 21:05");
        assert_eq!(format_local(Locale::He, t), "יום ו׳, 1 במרץ 2030 · 21:05");
    }

    #[test]
    fn placeholders_are_filled() {
        let text = fill(Msg::ErrorRateLimited.text(Locale::En), &[("seconds", &42)]);
        assert_eq!(text, "Too many attempts. Try again in 42 s.");
    }
}
