//! The text of each e-mail, in the recipient's language: a subject, a plain-text body and an
//! HTML body (`lang` and `dir` set, so Hebrew reads right to left), all from the same strings
//! (`mail-*` in `app/locales/*.ftl`). Pure: what goes in is what the mail says.
use app::i18n::{Locale, Msg, fill, format_local};
use chrono::{DateTime, Utc};
// Escapes & < > " ' : safe inside elements and quoted attributes alike.
use html_escape::encode_quoted_attribute as escape;

/// Which message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Template {
    /// Seats booked and confirmed.
    Confirmed,
    /// On the waitlist, at this position.
    Waitlisted { position: i64 },
    /// Confirmed from the waitlist.
    Promoted,
    /// The booking was cancelled (by its holder or the organizer).
    Cancelled,
}

/// What a booking e-mail tells.
#[derive(Clone, Debug)]
pub struct Booking {
    pub name: String,
    pub event: String,
    pub starts_at: DateTime<Utc>,
    /// The venue's IANA zone: times are shown on the venue's clock.
    pub timezone: String,
    pub venue: String,
    pub city: String,
    pub ticket_type: String,
    pub quantity: i64,
    /// The page the mail links to (the tickets of the registration).
    pub link: String,
}

/// A rendered message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The message `template` about `booking` in `locale`.
pub fn booking(template: Template, locale: Locale, booking: &Booking) -> Rendered {
    let tr = |msg: Msg| msg.text(locale);
    let (subject, lead, button) = match template {
        Template::Confirmed => (
            Msg::MailConfirmedSubject,
            Msg::MailConfirmedLead,
            Msg::MailOpenTickets,
        ),
        Template::Waitlisted { .. } => (
            Msg::MailWaitlistedSubject,
            Msg::MailWaitlistedLead,
            Msg::MailOpenBooking,
        ),
        Template::Promoted => (
            Msg::MailPromotedSubject,
            Msg::MailPromotedLead,
            Msg::MailOpenTickets,
        ),
        Template::Cancelled => (
            Msg::MailCancelledSubject,
            Msg::MailCancelledLead,
            Msg::MailOpenBooking,
        ),
    };
    let position = match template {
        Template::Waitlisted { position } => position,
        _ => 0,
    };
    // Each lead names what it needs of these; the others are left unused.
    let lead = fill(
        tr(lead),
        &[
            ("position", &position),
            ("quantity", &booking.quantity),
            ("ticket_type", &booking.ticket_type),
        ],
    );
    let subject = fill(tr(subject), &[("event", &booking.event)]);
    let greeting = fill(tr(Msg::MailGreeting), &[("name", &booking.name)]);
    let when = venue_time(locale, booking.starts_at, &booking.timezone);
    let place = if booking.city.is_empty() {
        booking.venue.clone()
    } else {
        format!("{}, {}", booking.venue, booking.city)
    };
    let text = format!(
        "{greeting}\n\n{lead}\n\n{event}\n{when_label}: {when}\n{where_label}: {place}\n\n{button}: {link}\n\n-- \n{footer}\n",
        event = booking.event,
        when_label = tr(Msg::MailWhen),
        where_label = tr(Msg::MailWhere),
        button = tr(button),
        link = booking.link,
        footer = tr(Msg::MailFooter),
    );
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\" dir=\"{dir}\">\n<head><meta charset=\"utf-8\"><title>{subject_h}</title></head>\n\
         <body style=\"font-family: system-ui, sans-serif; line-height: 1.5\">\n\
         <p>{greeting}</p>\n<p>{lead}</p>\n<h1 style=\"font-size: 1.25em\">{event}</h1>\n\
         <p><strong>{when_label}:</strong> {when}<br>\n<strong>{where_label}:</strong> {place}</p>\n\
         <p><a href=\"{link}\">{button}</a></p>\n<hr>\n<p style=\"color: #666; font-size: 0.875em\">{footer}</p>\n</body>\n</html>\n",
        lang = locale.code(),
        dir = locale.dir(),
        subject_h = escape(&subject),
        greeting = escape(&greeting),
        lead = escape(&lead),
        event = escape(&booking.event),
        when_label = escape(tr(Msg::MailWhen)),
        when = escape(&when),
        where_label = escape(tr(Msg::MailWhere)),
        place = escape(&place),
        link = escape(&booking.link),
        button = escape(tr(button)),
        footer = escape(tr(Msg::MailFooter)),
    );
    Rendered {
        subject,
        text,
        html,
    }
}

/// The start on the venue's clock, with its zone's abbreviation (UTC when the zone is unknown).
fn venue_time(locale: Locale, at: DateTime<Utc>, zone: &str) -> String {
    match zone.parse::<chrono_tz::Tz>() {
        Ok(tz) => {
            let local = at.with_timezone(&tz);
            format!(
                "{} ({})",
                format_local(locale, local.naive_local()),
                local.format("%Z")
            )
        }
        Err(_) => format!("{} (UTC)", format_local(locale, at.naive_utc())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Booking {
        Booking {
            name: "Noa".into(),
            event: "Jazz <night> & more".into(),
            starts_at: "2030-03-01T19:00:00Z".parse().unwrap(),
            timezone: "Asia/Jerusalem".into(),
            venue: "Barby".into(),
            city: "Tel Aviv".into(),
            ticket_type: "General".into(),
            quantity: 2,
            link: "https://tickets.example/tickets/7".into(),
        }
    }

    #[test]
    fn a_confirmation_names_the_event_the_seats_the_venue_time_and_the_link() {
        let mail = booking(Template::Confirmed, Locale::En, &sample());
        assert_eq!(mail.subject, "Booking confirmed: Jazz <night> & more");
        assert!(mail.text.contains("Hello Noa,"), "{}", mail.text);
        assert!(mail.text.contains("2 × General"), "{}", mail.text);
        // 19:00 UTC is 21:00 in Jerusalem in March.
        assert!(mail.text.contains("21:00"), "{}", mail.text);
        assert!(mail.text.contains("https://tickets.example/tickets/7"));
        assert!(mail.html.contains("<html lang=\"en\" dir=\"ltr\">"));
        assert!(
            mail.html
                .contains("href=\"https://tickets.example/tickets/7\"")
        );
    }

    #[test]
    fn what_organizers_wrote_is_escaped_in_html() {
        let mail = booking(Template::Confirmed, Locale::En, &sample());
        assert!(
            mail.html.contains("Jazz &lt;night&gt; &amp; more"),
            "{}",
            mail.html
        );
        assert!(!mail.html.contains("<night>"));
    }

    #[test]
    fn hebrew_mail_reads_right_to_left_and_polish_has_its_own_words() {
        let he = booking(Template::Waitlisted { position: 3 }, Locale::He, &sample());
        assert!(he.html.contains("<html lang=\"he\" dir=\"rtl\">"));
        assert!(he.text.contains('3'));
        assert_ne!(
            he.subject,
            booking(Template::Waitlisted { position: 3 }, Locale::En, &sample()).subject
        );
        let pl = booking(Template::Cancelled, Locale::Pl, &sample());
        assert!(
            pl.subject.starts_with("Rezerwacja anulowana"),
            "{}",
            pl.subject
        );
    }
}
