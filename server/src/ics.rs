//! iCalendar (RFC 5545) for one event: UTC times, escaped text, lines folded at 75 octets, CRLF.
use crate::AppState;
use app::error::AppError;
use app::events::EventDetail;
use app::events::ports::EventQueries;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

/// Escapes TEXT values: backslash, semicolon, comma and newlines (a CRLF, LF or lone CR each
/// become one `\n`). Other control characters, which TEXT may not hold (RFC 5545 §3.3.11),
/// are left out; tabs stay.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push_str("\\n");
            }
            '\t' => out.push('\t'),
            c if c.is_ascii_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line so no line exceeds 75 octets, never splitting a UTF-8 character.
pub fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 74 * 3);
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
    out
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// What a calendar entry says about one event.
#[derive(Clone, Debug)]
pub struct Entry<'a> {
    pub event_id: i64,
    pub title: &'a str,
    pub description: &'a str,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Venue, address and city, the empty ones left out.
    pub location: &'a [&'a str],
    pub cancelled: bool,
}

/// The VCALENDAR for one event; `base_url` makes the URL property absolute. The UID names the
/// event, so a calendar that imports a second file (from a mail, after a change) updates the
/// entry instead of adding one.
pub fn calendar(entry: &Entry<'_>, base_url: &str, now: DateTime<Utc>) -> String {
    wrap(vevent(entry, base_url, now), &[])
}

/// One VCALENDAR of many events (a private feed of one's bookings), named `name` for the
/// calendar apps that show it; each entry has the UID the single-event files use, so imported
/// copies and the feed agree.
pub fn feed(entries: &[Entry<'_>], name: &str, base_url: &str, now: DateTime<Utc>) -> String {
    let events = entries
        .iter()
        .flat_map(|e| vevent(e, base_url, now))
        .collect();
    wrap(
        events,
        &[
            format!("X-WR-CALNAME:{}", escape(name)),
            // Calendar apps poll a subscribed feed; an hour keeps it fresh without hammering.
            "REFRESH-INTERVAL;VALUE=DURATION:PT1H".to_owned(),
            "X-PUBLISHED-TTL:PT1H".to_owned(),
        ],
    )
}

fn wrap(events: Vec<String>, properties: &[String]) -> String {
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//EventHub//EventHub 1.0//EN".to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
        "METHOD:PUBLISH".to_owned(),
    ];
    lines.extend_from_slice(properties);
    lines.extend(events);
    lines.push("END:VCALENDAR".to_owned());
    lines.iter().map(|l| fold(l)).collect()
}

fn vevent(entry: &Entry<'_>, base_url: &str, now: DateTime<Utc>) -> Vec<String> {
    let host = base_url
        .split("://")
        .nth(1)
        .unwrap_or(base_url)
        .split('/')
        .next()
        .unwrap_or("eventhub");
    let location = entry
        .location
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    let status = if entry.cancelled {
        "CANCELLED"
    } else {
        "CONFIRMED"
    };
    vec![
        "BEGIN:VEVENT".to_owned(),
        format!("UID:event-{}@{host}", entry.event_id),
        format!("DTSTAMP:{}", stamp(now)),
        format!("DTSTART:{}", stamp(entry.starts_at)),
        format!("DTEND:{}", stamp(entry.ends_at)),
        format!("SUMMARY:{}", escape(entry.title)),
        format!("DESCRIPTION:{}", escape(entry.description.trim())),
        format!("LOCATION:{}", escape(&location)),
        format!(
            "URL:{}/events/{}",
            base_url.trim_end_matches('/'),
            entry.event_id
        ),
        format!("STATUS:{status}"),
        "END:VEVENT".to_owned(),
    ]
}

/// The VCALENDAR for one event's page.
pub fn event_ics(event: &EventDetail, base_url: &str, now: DateTime<Utc>) -> String {
    let item = &event.item;
    let description = format!("{}\n\n{}", item.summary, event.description);
    let entry = Entry {
        event_id: item.id.get(),
        title: &item.title,
        description: &description,
        starts_at: item.starts_at,
        ends_at: item.ends_at,
        location: &[&item.venue, &event.address, &item.city],
        cancelled: item.status == app::events::EventStatus::Cancelled,
    };
    calendar(&entry, base_url, now)
}

/// `GET /events/{id}/calendar.ics`: anyone who may see the event.
pub async fn event_calendar(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return crate::rest::error::ApiError(AppError::NotFound).into_response();
    };
    match state.events.get_event(None, id.into()).await {
        Ok(event) => {
            let body = event_ics(&event, &state.config.public_url, Utc::now());
            let filename = format!("attachment; filename=\"eventhub-{id}.ics\"");
            (
                [
                    (
                        header::CONTENT_TYPE,
                        "text/calendar; charset=utf-8".to_owned(),
                    ),
                    (header::CONTENT_DISPOSITION, filename),
                ],
                body,
            )
                .into_response()
        }
        Err(e) => crate::rest::error::ApiError(e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_characters() {
        let line = format!("SUMMARY:{}", "ערב סטנדאפ ".repeat(12));
        let folded = fold(&line);
        for physical in folded.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(physical.len() <= 75, "{} octets", physical.len());
        }
        let unfolded = folded.replace("\r\n ", "");
        assert_eq!(unfolded.strip_suffix("\r\n"), Some(line.as_str()));
    }

    #[test]
    fn text_values_are_escaped() {
        assert_eq!(escape("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
        assert_eq!(escape("one\r\ntwo\rthree\tfour"), "one\\ntwo\\nthree\tfour");
        assert_eq!(
            escape("bell\u{7}\u{0}\u{1b}[0m\u{7f}"),
            "bell[0m",
            "TEXT holds no controls"
        );
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use app::events::{Category, EventListItem, EventStatus, Organizer};
    use proptest::prelude::*;

    /// RFC 5545 §3.1 unfolding: a CRLF followed by one space or tab is removed.
    fn unfold(text: &str) -> String {
        text.replace("\r\n ", "").replace("\r\n\t", "")
    }

    /// The reverse of §3.3.11 TEXT escaping, as a calendar reads it.
    fn unescape(text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(c @ ('\\' | ';' | ',')) => out.push(c),
                other => panic!("{other:?} escaped in {text:?}"),
            }
        }
        out
    }

    /// What a text keeps through a calendar: newlines as `\n` (CRLF and a lone CR too), and
    /// no control characters but tabs, which TEXT may not hold.
    fn kept(text: &str) -> String {
        text.replace("\r\n", "\n")
            .replace('\r', "\n")
            .chars()
            .filter(|c| !c.is_ascii_control() || matches!(c, '\t' | '\n'))
            .collect()
    }

    /// TEXT as §3.3.11 allows it: no control characters but HTAB, and every `\` escaping.
    fn is_text_value(escaped: &str) -> bool {
        !escaped.chars().any(|c| c.is_ascii_control() && c != '\t')
            && escaped
                .replace("\\\\", "")
                .replace("\\;", "")
                .replace("\\,", "")
                .replace("\\n", "")
                .chars()
                .all(|c| !matches!(c, '\\' | ';' | ','))
    }

    /// Text with what escaping and folding must handle, mixed with anything at all.
    fn text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            "[,;:\\\\\"\n\r\t ]",
            Just("\r\n".to_owned()),
            Just("\\n".to_owned()),
            "[\u{0}-\u{1f}\u{7f}\u{85}\u{2028}]",
            "[a-z]{1,8}",
            "[א-ת\u{5b0}-\u{5c7}]{1,6}",
            "[😀-🙏]",
            "[\u{800}-\u{ffff}]",
            any::<char>().prop_map(String::from),
        ];
        prop_oneof![
            prop::collection::vec(piece, 0..60).prop_map(|p| p.concat()),
            any::<String>(),
        ]
    }

    fn event(
        title: &str,
        summary: &str,
        description: &str,
        venue: &str,
        city: &str,
    ) -> EventDetail {
        let starts_at = DateTime::from_timestamp(1_780_000_000, 0).expect("a time");
        let ends_at = DateTime::from_timestamp(1_780_007_200, 0).expect("a time");
        EventDetail {
            item: EventListItem {
                id: 42.into(),
                uuid: "0d5f0a5c-4b8e-4a43-9c1e-3f2b7a9d6e10".into(),
                title: title.into(),
                summary: summary.into(),
                category: Category::Music,
                starts_at,
                ends_at,
                timezone: "Asia/Jerusalem".into(),
                local_starts_at: starts_at.naive_utc(),
                local_ends_at: ends_at.naive_utc(),
                venue: venue.into(),
                city: city.into(),
                image_url: None,
                status: EventStatus::Published,
                min_price: None,
                capacity: 10,
                remaining_seats: 10,
                waitlisted_seats: 0,
            },
            description: description.into(),
            description_html: String::new(),
            tags: vec![],
            address: String::new(),
            capacity: 10,
            max_seats_per_user: None,
            confirmed_seats: 0,
            waitlisted_seats: 0,
            likes: 0,
            saves: 0,
            organizer: Organizer {
                id: 7.into(),
                display_name: "Dana".into(),
            },
            cancel_reason: None,
            ticket_types: vec![],
            created_at: starts_at,
            published_at: Some(starts_at),
        }
    }

    fn check_folded(line: &str, folded: &str) -> Result<(), TestCaseError> {
        prop_assert!(folded.ends_with("\r\n"), "{:?}", folded);
        // Split the octets, not the text: a fold inside a character would show here.
        let physical: Vec<&[u8]> = folded.as_bytes()[..folded.len() - 1]
            .split(|b| *b == b'\n')
            .map(|l| l.strip_suffix(b"\r").expect("every line ends with CRLF"))
            .collect();
        for (i, l) in physical.iter().enumerate() {
            prop_assert!(
                l.len() <= 75,
                "{} octets: {:?}",
                l.len(),
                String::from_utf8_lossy(l)
            );
            prop_assert!(
                std::str::from_utf8(l).is_ok(),
                "a fold split a character: {:?}",
                l
            );
            prop_assert!(!l.contains(&b'\r'), "a bare CR inside a line");
            if i > 0 {
                prop_assert_eq!(l.first(), Some(&b' '), "a continuation starts with a space");
            }
        }
        prop_assert_eq!(unfold(folded), format!("{line}\r\n"));
        Ok(())
    }

    proptest! {
        #[test]
        fn folded_lines_are_at_most_75_octets_and_unfold_to_the_line(
            name in "[A-Z]{1,12}",
            value in text(),
        ) {
            // A content line never holds a line break: escaping turns them into `\n`.
            let line = format!("{name}:{}", escape(&value));
            let folded = fold(&line);
            check_folded(&line, &folded)?;
            if line.len() <= 75 {
                prop_assert_eq!(folded, format!("{line}\r\n"), "short lines stay whole");
            }
        }

        #[test]
        fn escaping_is_valid_text_and_reads_back(value in text()) {
            let escaped = escape(&value);
            prop_assert!(is_text_value(&escaped), "{:?} → {:?}", value, escaped);
            prop_assert!(!escaped.contains(['\r', '\n']), "{:?}", escaped);
            prop_assert_eq!(unescape(&escaped), kept(&value), "{:?}", escaped);
        }

        #[test]
        fn a_calendar_reads_back_the_event_texts(
            title in text(),
            summary in text(),
            description in text(),
            venue in text(),
            city in text(),
        ) {
            let event = event(&title, &summary, &description, &venue, &city);
            let ics = event_ics(&event, "https://eventhub.example/", Utc::now());
            let unfolded = unfold(&ics);
            let lines: Vec<&str> = unfolded.split_terminator("\r\n").collect();
            for line in &lines {
                prop_assert!(!line.contains(['\r', '\n']), "a break inside {:?}", line);
                check_folded(line, &fold(line))?;
            }
            prop_assert_eq!(lines.iter().map(|l| fold(l)).collect::<String>(), ics.clone());
            prop_assert_eq!(lines.first(), Some(&"BEGIN:VCALENDAR"));
            prop_assert_eq!(lines.last(), Some(&"END:VCALENDAR"));
            let value = |name: &str| {
                let prefix = format!("{name}:");
                let found: Vec<&str> =
                    lines.iter().filter_map(|l| l.strip_prefix(prefix.as_str())).collect();
                assert_eq!(found.len(), 1, "one {name} in {ics:?}");
                found[0].to_owned()
            };
            for name in ["SUMMARY", "DESCRIPTION", "LOCATION"] {
                prop_assert!(is_text_value(&value(name)), "{}: {:?}", name, value(name));
            }
            prop_assert_eq!(unescape(&value("SUMMARY")), kept(&title));
            let about = format!("{summary}\n\n{description}");
            prop_assert_eq!(unescape(&value("DESCRIPTION")), kept(about.trim()));
            let location = unescape(&value("LOCATION"));
            prop_assert!(location.contains(&kept(&city)), "{:?} in {:?}", city, location);
            prop_assert_eq!(value("URL"), "https://eventhub.example/events/42");
        }
    }
}
