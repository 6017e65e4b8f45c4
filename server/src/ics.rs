//! iCalendar (RFC 5545) for one event: UTC times, escaped text, lines folded at 75 octets, CRLF.
use crate::AppState;
use app::error::AppError;
use app::events::EventDetail;
use app::events::ports::EventQueries;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

/// Escapes TEXT values: backslash, semicolon, comma and newlines.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
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

/// The VCALENDAR for one event; `base_url` makes the URL property absolute.
pub fn event_ics(event: &EventDetail, base_url: &str, now: DateTime<Utc>) -> String {
    let item = &event.item;
    let host = base_url
        .split("://")
        .nth(1)
        .unwrap_or(base_url)
        .split('/')
        .next()
        .unwrap_or("eventhub");
    let location = [
        item.venue.as_str(),
        event.address.as_str(),
        item.city.as_str(),
    ]
    .iter()
    .filter(|s| !s.is_empty())
    .copied()
    .collect::<Vec<_>>()
    .join(", ");
    let status = match item.status {
        app::events::EventStatus::Cancelled => "CANCELLED",
        _ => "CONFIRMED",
    };
    let lines = [
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//EventHub//EventHub 1.0//EN".to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
        "METHOD:PUBLISH".to_owned(),
        "BEGIN:VEVENT".to_owned(),
        format!("UID:event-{}@{host}", item.id),
        format!("DTSTAMP:{}", stamp(now)),
        format!("DTSTART:{}", stamp(item.starts_at)),
        format!("DTEND:{}", stamp(item.ends_at)),
        format!("SUMMARY:{}", escape(&item.title)),
        format!(
            "DESCRIPTION:{}",
            escape(format!("{}\n\n{}", item.summary, event.description).trim())
        ),
        format!("LOCATION:{}", escape(&location)),
        format!("URL:{}/events/{}", base_url.trim_end_matches('/'), item.id),
        format!("STATUS:{status}"),
        "END:VEVENT".to_owned(),
        "END:VCALENDAR".to_owned(),
    ];
    lines.iter().map(|l| fold(l)).collect()
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
    }
}
