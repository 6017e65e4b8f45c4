//! Holding a model's answer to the catalogue. The model is asked for JSON — a short `reply` and
//! its `picks` by event id with a reason each ([`answer_schema`]); [`read_answer`] keeps the
//! picks among the retrieved events and refuses output that is not that JSON or picks none of
//! them. The prose is checked sentence by sentence against the facts the model was given
//! ([`Grounds`]): a sentence naming an event, venue or organizer of the catalogue that was not
//! among the candidates, quoting or capitalising a name none of them has, or written in another
//! script or language than the question's, is dropped; `super::reply_stream` does this while
//! the answer streams.
use crate::search::fold;
use app::events::{EventDetail, EventId};
use app::i18n::Locale;
use serde_json::{Value, json};
use std::collections::HashSet;

/// The longest reply and reason asked for, in characters.
const REPLY_MAX: usize = 320;
const REASON_MAX: usize = 160;
/// Picks kept (the cards an answer shows).
pub const PICKS_MAX: usize = 4;

/// The JSON schema of an answer: the reply first, so it can stream while the picks follow.
pub fn answer_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "reply": { "type": "string", "maxLength": REPLY_MAX },
            "picks": {
                "type": "array",
                "maxItems": PICKS_MAX,
                "items": {
                    "type": "object",
                    "properties": {
                        "id": { "type": "integer" },
                        "reason": { "type": "string", "maxLength": REASON_MAX }
                    },
                    "required": ["id", "reason"]
                }
            }
        },
        "required": ["reply", "picks"]
    })
}

/// A model's answer that can be used: its reply (unchecked) and its valid picks, in order.
#[derive(Debug, PartialEq)]
pub struct Read {
    pub reply: String,
    pub picks: Vec<(EventId, Option<String>)>,
    /// Picks dropped: outside the candidates, repeated, or past [`PICKS_MAX`].
    pub dropped: usize,
}

/// Reads the model's JSON answer. Picks outside `candidates` are dropped; `Err` says why the
/// answer cannot be used at all (not the JSON asked for, or no valid pick while events match).
pub fn read_answer(text: &str, candidates: &[EventId]) -> Result<Read, String> {
    let json = json_part(text).ok_or("the answer is not a JSON object")?;
    let value: Value =
        serde_json::from_str(json).map_err(|e| format!("the answer is not valid JSON: {e}"))?;
    let reply = value["reply"]
        .as_str()
        .ok_or("the answer has no \"reply\" text")?
        .trim()
        .to_owned();
    let raw = match &value["picks"] {
        Value::Array(picks) => picks.as_slice(),
        Value::Null => &[],
        _ => return Err("\"picks\" is not a list".into()),
    };
    let mut picks: Vec<(EventId, Option<String>)> = Vec::new();
    let mut dropped = 0;
    for pick in raw {
        let id = match &pick["id"] {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        let id = id.and_then(|id| candidates.iter().copied().find(|c| c.get() == id));
        match id {
            Some(id) if picks.len() < PICKS_MAX && !picks.iter().any(|(p, _)| *p == id) => {
                let reason = pick["reason"]
                    .as_str()
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .map(|r| cut(r, REASON_MAX));
                picks.push((id, reason));
            }
            _ => dropped += 1,
        }
    }
    if picks.is_empty() && !candidates.is_empty() {
        return Err(format!(
            "none of its {} picks is among the {} events it was given",
            raw.len(),
            candidates.len()
        ));
    }
    Ok(Read {
        reply,
        picks,
        dropped,
    })
}

/// The JSON object in `text`: models that ignore the output mode wrap it in a code fence or
/// a sentence.
fn json_part(text: &str) -> Option<&str> {
    let start = text.find('{')?;
    let end = text.rfind('}')?;
    (end > start).then(|| &text[start..=end])
}

/// `text` cut to at most `max` characters, at a word when it has to be cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let head: String = text.chars().take(max).collect();
    match head.rfind(char::is_whitespace) {
        Some(at) if at > max / 2 => format!("{}…", head[..at].trim_end()),
        _ => format!("{head}…"),
    }
}

/// What a model's prose may name: the facts of the events it was given and of the question,
/// and the catalogue's names it may not use (events, venues, organizers not among them).
pub struct Grounds {
    /// Folded text of everything given: titles, venues, cities, descriptions, tags, ticket
    /// types, organizers, the question, the asker's own name and history.
    given: String,
    /// Folded words of `given`, for single capitalised words.
    words: HashSet<String>,
    /// Folded names of the catalogue that were not given.
    others: Vec<String>,
    /// Folded names that were given (titles, venues, cities, organizers, tags, ticket types,
    /// the asker's own texts), longest first: left out when telling the prose's language, so
    /// an English title in a Polish sentence does not make it English.
    names: Vec<String>,
    language: Locale,
}

/// Everyday English words Polish prose does not use, and everyday Polish words (folded: no
/// diacritics) English prose does not use. Words both share or mistake for each other ("to",
/// "on", "we", "do", "i", "a") are in neither.
const ENGLISH: &[&str] = &[
    "the", "and", "is", "are", "you", "your", "for", "this", "these", "that", "with", "of", "it",
    "there", "here", "will", "an", "at", "be", "can", "would", "from", "which", "who", "has",
    "have", "its", "they", "their", "what",
];
const POLISH: &[&str] = &[
    "jest", "sa", "sie", "dla", "nie", "ze", "jak", "ten", "ta", "te", "czy", "oraz", "juz", "tak",
    "moze", "ktory", "ktora", "ktore", "ale", "lub", "od", "po", "przy", "przez", "bardzo",
    "polecam", "mozesz", "warto", "na", "w", "z", "tego", "tej", "wieczor", "dzis", "jutro",
    "takze", "rowniez",
];

/// Capitalised words that are not names.
const COMMON: &[&str] = &[
    "i",
    "ai",
    "eventhub",
    "ok",
    "vip",
    "pln",
    "ils",
    "eur",
    "usd",
    "zl",
    // Days and months, whole and short (English capitalises them).
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "mon",
    "tue",
    "wed",
    "thu",
    "fri",
    "sat",
    "sun",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    // Polish capitalises "you" in courtesy.
    "ty",
    "twojej",
    "twojego",
    "twoich",
    "twoimi",
    "wam",
    "was",
    "ciebie",
    "cie",
    "tobie",
    "toba",
    "twoj",
    "twoja",
    "twoje",
    "twoim",
    "panstwo",
];

impl Grounds {
    /// `given` is every text the prompt carried about the events and the asker; `others` the
    /// catalogue's names (titles, venues, organizers) that were not given.
    pub fn new(
        events: &[EventDetail],
        extra: &[&str],
        others: impl IntoIterator<Item = String>,
        language: Locale,
    ) -> Self {
        let mut given = String::new();
        for e in events {
            let item = &e.item;
            for text in [
                &item.title,
                &item.venue,
                &item.city,
                &item.summary,
                &e.description,
                &e.organizer.display_name,
                &e.address,
            ] {
                given.push_str(text);
                given.push('\n');
            }
            given.push_str(item.category.code());
            given.push('\n');
            for label in Locale::ALL.map(|l| item.category.label().text(l)) {
                given.push_str(label);
                given.push('\n');
            }
            for tag in &e.tags {
                given.push_str(tag);
                given.push('\n');
            }
            for t in &e.ticket_types {
                given.push_str(&t.name);
                given.push('\n');
            }
        }
        for text in extra {
            given.push_str(text);
            given.push('\n');
        }
        let given = fold(&given);
        let words = given
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect();
        let others = others
            .into_iter()
            .map(|name| fold(name.trim()))
            .filter(|name| name.chars().count() >= 3 && !given.contains(name.as_str()))
            .collect();
        let mut names: Vec<String> = events
            .iter()
            .flat_map(|e| {
                let item = &e.item;
                [
                    &item.title,
                    &item.venue,
                    &item.city,
                    &e.organizer.display_name,
                ]
                .into_iter()
                .cloned()
                .chain(e.tags.iter().cloned())
                .chain(e.ticket_types.iter().map(|t| t.name.clone()))
            })
            .chain(extra.iter().map(|t| (*t).to_owned()))
            .map(|name| fold(name.trim()))
            .filter(|name| !name.is_empty())
            .collect();
        names.sort_by_key(|n| std::cmp::Reverse(n.len()));
        names.dedup();
        Grounds {
            given,
            words,
            others,
            names,
            language,
        }
    }

    /// Why `sentence` may not be shown, if it may not.
    pub fn flaw(&self, sentence: &str) -> Option<String> {
        if let Some(name) = self.unknown(sentence) {
            return Some(name);
        }
        let letters = sentence.chars().filter(|c| c.is_alphabetic()).count();
        let hebrew = sentence.chars().filter(|c| is_hebrew(*c)).count();
        match self.language {
            Locale::He if letters > 0 && hebrew * 2 < letters => {
                Some("is not in Hebrew, the question's language".into())
            }
            Locale::En | Locale::Pl if hebrew * 2 > letters => {
                Some("is in Hebrew, not the question's language".into())
            }
            Locale::En if self.latin_language(sentence) == Some(Locale::Pl) => {
                Some("is in Polish, not English, the question's language".into())
            }
            Locale::Pl if self.latin_language(sentence) == Some(Locale::En) => {
                Some("is in English, not Polish, the question's language".into())
            }
            _ => None,
        }
    }

    /// English or Polish, when `sentence` shows it plainly: two or more everyday words of one
    /// and none of the other, once the names given are left out.
    fn latin_language(&self, sentence: &str) -> Option<Locale> {
        let mut folded = fold(sentence);
        for name in &self.names {
            while let Some(at) = whole_word_at(&folded, name) {
                folded.replace_range(at..at + name.len(), " ");
            }
        }
        let words: Vec<&str> = folded
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        let english = words.iter().filter(|w| ENGLISH.contains(w)).count();
        let polish = words.iter().filter(|w| POLISH.contains(w)).count();
        match (english, polish) {
            (2.., 0) => Some(Locale::En),
            (0, 2..) => Some(Locale::Pl),
            _ => None,
        }
    }

    /// What `sentence` names that it may not: a name of the catalogue that was not given, a
    /// quoted span or a capitalised name nothing given contains.
    pub fn unknown(&self, sentence: &str) -> Option<String> {
        let folded = fold(sentence);
        if let Some(other) = self
            .others
            .iter()
            .find(|o| whole_word_at(&folded, o).is_some())
        {
            return Some(format!("names {other:?}, which it was not given"));
        }
        if let Some(quoted) = quoted(sentence)
            .into_iter()
            .find(|q| !self.given.contains(fold(q).trim()))
        {
            return Some(format!("quotes {quoted:?}, which nothing given says"));
        }
        // Each part after a list mark or a dash starts afresh ("• Title — Wed, 9 Dec · From").
        sentence
            .split(['•', '·', '—', '–', ':', ';', '(', ')', ',', '.', '!', '?'])
            .find_map(|part| self.unknown_name(part))
            .map(|name| format!("names {name:?}, which nothing given says"))
    }

    /// A run of capitalised words (a name, in Latin script) that nothing given contains. The
    /// first word of a sentence may be capitalised for grammar alone.
    fn unknown_name(&self, sentence: &str) -> Option<String> {
        let words: Vec<&str> = sentence
            .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '-' || c == '’'))
            .filter(|w| !w.is_empty())
            .collect();
        let capital = |w: &str| w.chars().next().is_some_and(char::is_uppercase);
        let mut at = 0;
        while at < words.len() {
            if !capital(words[at]) {
                at += 1;
                continue;
            }
            let start = at;
            while at < words.len() && capital(words[at]) {
                at += 1;
            }
            let run = &words[start..at];
            let known = |run: &[&str]| {
                run.is_empty()
                    || (run.len() == 1
                        && (COMMON.contains(&fold(run[0]).as_str())
                            || self.words.contains(&fold(run[0]))))
                    || self.given.contains(&fold(&run.join(" ")))
            };
            // At the sentence's start the first word may be grammar ("Try", "The").
            let ok = known(run) || (start == 0 && known(&run[1..]));
            if !ok {
                return Some(run.join(" "));
            }
        }
        None
    }

    /// The sentences of `text` that may be shown, and how many were dropped.
    pub fn check(&self, text: &str) -> (String, usize) {
        let mut kept = String::new();
        let mut dropped = 0;
        for sentence in sentences(text) {
            match self.flaw(&sentence) {
                None => {
                    if !kept.is_empty() {
                        kept.push(' ');
                    }
                    kept.push_str(sentence.trim());
                }
                Some(_) => dropped += 1,
            }
        }
        (kept, dropped)
    }

    /// A pick's reason when it holds (the same checks as the prose).
    pub fn reason(&self, reason: Option<String>) -> Option<String> {
        reason.filter(|r| self.flaw(r).is_none())
    }
}

fn is_hebrew(c: char) -> bool {
    ('\u{0590}'..='\u{05FF}').contains(&c)
}

/// Where `needle` first occurs in `text` with no letter or digit glued to either end.
fn whole_word_at(text: &str, needle: &str) -> Option<usize> {
    text.match_indices(needle).map(|(at, _)| at).find(|&at| {
        let before = text[..at].chars().next_back();
        let after = text[at + needle.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// The spans of `text` inside quotation marks (ASCII, typographic, Polish and Hebrew ones).
fn quoted(text: &str) -> Vec<String> {
    const PAIRS: &[(char, char)] = &[
        ('"', '"'),
        ('“', '”'),
        ('„', '”'),
        ('„', '“'),
        ('«', '»'),
        ('״', '״'),
    ];
    let mut found = Vec::new();
    let mut rest = text;
    while let Some((at, open)) = rest
        .char_indices()
        .find(|(_, c)| PAIRS.iter().any(|p| p.0 == *c))
    {
        let after = &rest[at + open.len_utf8()..];
        let close = PAIRS
            .iter()
            .filter(|p| p.0 == open)
            .filter_map(|p| after.find(p.1))
            .min();
        match close {
            Some(end) => {
                let span = after[..end].trim();
                if !span.is_empty() {
                    found.push(span.to_owned());
                }
                let close_len = after[end..].chars().next().map_or(1, char::len_utf8);
                rest = &after[end + close_len..];
            }
            None => break,
        }
    }
    found
}

/// `text` in sentences: each ends at `.`, `!`, `?` or `…` followed by a space, or at a line
/// end.
pub fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        current.push(c);
        let ends = match c {
            '\n' => true,
            '.' | '!' | '?' | '…' => chars.peek().is_none_or(|n| n.is_whitespace()),
            _ => false,
        };
        if ends {
            if !current.trim().is_empty() {
                out.push(current.trim().to_owned());
            }
            current.clear();
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_owned());
    }
    out
}

/// Whether the end of `text` is one piece said over and over: the same unit of 1–100
/// characters three times or more, and at least 24 characters of it.
pub fn repeats(text: &str) -> Option<String> {
    let tail: Vec<char> = text.chars().rev().take(300).collect();
    for unit in 1..=100 {
        let times = 3.max(24_usize.div_ceil(unit));
        if unit * times > tail.len() {
            break;
        }
        if (unit..unit * times).all(|i| tail[i] == tail[i % unit]) {
            let piece: String = tail[..unit].iter().rev().collect();
            return Some(piece);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(ids: &[i64]) -> Vec<EventId> {
        ids.iter().map(|i| EventId::new(*i)).collect()
    }

    #[test]
    fn picks_outside_the_candidates_are_dropped_and_none_valid_is_refused() {
        let given = ids(&[3, 7, 9]);
        let read = read_answer(
            r#"{"reply":"Two fit.","picks":[{"id":7,"reason":"jazz"},{"id":42,"reason":"x"},
               {"id":"3","reason":""},{"id":7,"reason":"again"}]}"#,
            &given,
        )
        .unwrap();
        assert_eq!(read.reply, "Two fit.");
        assert_eq!(
            read.picks,
            vec![
                (EventId::new(7), Some("jazz".into())),
                (EventId::new(3), None)
            ]
        );
        assert_eq!(read.dropped, 2);
        // A code fence around the object is fine; picks all outside, or no JSON, are not.
        assert!(
            read_answer(
                "```json\n{\"reply\":\"a\",\"picks\":[{\"id\":9}]}\n```",
                &given
            )
            .is_ok()
        );
        let outside = read_answer(r#"{"reply":"a","picks":[{"id":1}]}"#, &given).unwrap_err();
        assert!(outside.contains("none of its 1 picks"), "{outside}");
        assert!(read_answer("Try Jazz Night!", &given).is_err());
        assert!(read_answer(r#"{"reply": 3, "picks": []}"#, &given).is_err());
        assert!(read_answer(r#"{"reply":"a","picks":{"id":3}}"#, &given).is_err());
        // With nothing to pick, an answer without picks stands.
        assert!(read_answer(r#"{"reply":"Nothing fits.","picks":[]}"#, &[]).is_ok());
        // Reasons are cut to their length at a word.
        let long = format!(
            r#"{{"reply":"a","picks":[{{"id":3,"reason":"{}"}}]}}"#,
            "word ".repeat(60)
        );
        let reason = read_answer(&long, &given).unwrap().picks[0]
            .1
            .clone()
            .unwrap();
        assert!(
            reason.chars().count() <= REASON_MAX + 1 && reason.ends_with('…'),
            "{reason}"
        );
    }

    fn grounds(language: Locale) -> Grounds {
        let given = [
            "Stand-up Night #3",
            "Comedy Basement",
            "Tel Aviv",
            "ערב סטנדאפ #2",
            "Noa Levi",
            "stand-up in Tel Aviv this week?",
        ];
        Grounds::new(
            &[],
            &given,
            [
                "Barby".to_owned(),
                "Jazz Evening #5".to_owned(),
                "Tel Aviv".to_owned(),
            ],
            language,
        )
    }

    #[test]
    fn a_sentence_naming_what_was_not_given_is_dropped() {
        let g = grounds(Locale::En);
        for fine in [
            "Try Stand-up Night #3 at Comedy Basement.",
            "It starts on Friday in Tel Aviv, and I think you will like it.",
            "Seats are going fast!",
            "“Stand-up Night #3” is the one.",
        ] {
            assert_eq!(g.flaw(fine), None, "{fine}");
        }
        for bad in [
            "The Tel Aviv Comedy Festival runs all week.",
            "It is organised by Barby this year.",
            "You could also see Jazz Evening #5.",
            "Ask for \"the secret show\" at the door.",
            "Yossi Cohen hosts it.",
            "ערב מצוין בתל אביב.",
        ] {
            assert!(g.flaw(bad).is_some(), "{bad}");
        }
        let (kept, dropped) =
            g.check("Try Stand-up Night #3. The Tel Aviv Comedy Festival is great! Enjoy.");
        assert_eq!(kept, "Try Stand-up Night #3. Enjoy.");
        assert_eq!(dropped, 1);
        // In Hebrew, a sentence in English is not the question's language.
        let he = grounds(Locale::He);
        assert_eq!(he.flaw("נסו את ערב סטנדאפ #2 בתל אביב."), None);
        assert!(he.flaw("Try it, it is great.").is_some());
        assert_eq!(he.reason(Some("Great fun.".into())), None);
    }

    #[test]
    fn english_and_polish_are_told_apart_by_their_everyday_words() {
        let pl = grounds(Locale::Pl);
        for fine in [
            "Polecam Stand-up Night #3 w Comedy Basement.",
            // The English words are the given title's; nothing else says which language.
            "Stand-up Night #3 at Comedy Basement!",
            "Świetny wieczór na Stand-up Night #3, to jest dobry wybór.",
        ] {
            assert_eq!(pl.flaw(fine), None, "{fine}");
        }
        assert!(
            pl.flaw("This is a great night, and you will love it.")
                .is_some_and(|why| why.contains("English"))
        );
        let en = grounds(Locale::En);
        assert_eq!(
            en.flaw("Try Stand-up Night #3, it is the one for you."),
            None
        );
        assert!(
            en.flaw("To jest świetny wieczór dla ciebie.")
                .is_some_and(|why| why.contains("Polish"))
        );
    }

    #[test]
    fn a_loop_at_the_end_is_noticed() {
        assert!(repeats("Nice show. Nice show. Nice show. ").is_some());
        assert!(repeats(&format!("{{\"reply\": \"{}", "ha".repeat(20))).is_some());
        assert!(repeats(&" ".repeat(30)).is_some());
        assert_eq!(repeats("Try Stand-up Night #3... it is fun!!!"), None);
        assert_eq!(repeats("ok ok ok"), None);
    }

    #[test]
    fn titles_are_found_as_whole_words_only() {
        assert_eq!(
            whole_word_at("try jazz night, then more", "jazz night"),
            Some(4)
        );
        assert_eq!(whole_word_at("a cabaret", "cab"), None);
        assert_eq!(whole_word_at("see \"cab\".", "cab"), Some(5));
    }
}
