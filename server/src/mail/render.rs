//! The text of each e-mail, in the recipient's language: a subject, a plain-text body and an
//! HTML body (`lang` and `dir` set, so Hebrew reads right to left), all from the same strings
//! (`mail-*` in `app/locales/*.ftl`). Pure: what goes in is what the mail says.
use app::i18n::{Locale, Msg, fill, format_local};
use chrono::{DateTime, Utc};
// Escapes & < > " ' : safe inside elements and quoted attributes alike.
use html_escape::encode_quoted_attribute as escape;

/// Which message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Template {
    /// Seats booked and confirmed.
    Confirmed,
    /// On the waitlist, at this position.
    Waitlisted { position: i64 },
    /// Confirmed from the waitlist.
    Promoted,
    /// The booking was cancelled (by its holder or the organizer).
    Cancelled,
    /// The event starts within a day.
    Reminder,
    /// The organizer cancelled the event, and the booking with it.
    EventCancelled { reason: String },
    /// The time or the place changed; this is what it was.
    EventChanged { before: Place },
    /// An admin decided the recipient's request to become an organizer.
    RequestDecided {
        approved: bool,
        organisation: String,
        note: String,
    },
    /// A link to prove the address is the recipient's (at sign-up, or a new address).
    VerifyEmail,
    /// A link to set a new password, valid half an hour.
    PasswordReset,
    /// To the old address: the account's address is `new_email` now.
    EmailChanged { new_email: String },
}

/// When and where an event takes place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    pub starts_at: DateTime<Utc>,
    /// The venue's IANA zone: times are shown on the venue's clock.
    pub timezone: String,
    pub venue: String,
    pub city: String,
}

/// The event a mail is about.
#[derive(Clone, Debug)]
pub struct EventFacts {
    pub title: String,
    pub place: Place,
}

/// The seats a mail is about.
#[derive(Clone, Debug)]
pub struct Seats {
    pub ticket_type: String,
    pub quantity: i64,
    /// The ticket codes, when they are the mail's to give.
    pub codes: Vec<String>,
}

/// What a mail tells, besides its template.
#[derive(Clone, Debug)]
pub struct Letter {
    /// The recipient's display name.
    pub name: String,
    pub event: Option<EventFacts>,
    pub seats: Option<Seats>,
    /// The page the mail links to.
    pub link: String,
}

/// A rendered message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The words of one template: subject, lead, link text and footer.
fn words(template: &Template) -> (Msg, Msg, Msg, Msg) {
    use Msg::*;
    match template {
        Template::Confirmed => (
            MailConfirmedSubject,
            MailConfirmedLead,
            MailOpenTickets,
            MailFooter,
        ),
        Template::Waitlisted { .. } => (
            MailWaitlistedSubject,
            MailWaitlistedLead,
            MailOpenBooking,
            MailFooter,
        ),
        Template::Promoted => (
            MailPromotedSubject,
            MailPromotedLead,
            MailOpenTickets,
            MailFooter,
        ),
        Template::Cancelled => (
            MailCancelledSubject,
            MailCancelledLead,
            MailOpenBooking,
            MailFooter,
        ),
        Template::Reminder => (
            MailReminderSubject,
            MailReminderLead,
            MailOpenTickets,
            MailFooter,
        ),
        Template::EventCancelled { .. } => (
            MailEventCancelledSubject,
            MailEventCancelledLead,
            MailOpenEvent,
            MailFooter,
        ),
        Template::EventChanged { .. } => (
            MailEventChangedSubject,
            MailEventChangedLead,
            MailOpenEvent,
            MailFooter,
        ),
        Template::RequestDecided { approved: true, .. } => (
            MailRequestApprovedSubject,
            MailRequestApprovedLead,
            MailOpenDashboard,
            MailFooterAccount,
        ),
        Template::RequestDecided {
            approved: false, ..
        } => (
            MailRequestRejectedSubject,
            MailRequestRejectedLead,
            MailOpenProfile,
            MailFooterAccount,
        ),
        Template::VerifyEmail => (
            MailVerifySubject,
            MailVerifyLead,
            MailVerifyButton,
            MailFooterNotYou,
        ),
        Template::PasswordReset => (
            MailResetSubject,
            MailResetLead,
            MailResetButton,
            MailFooterNotYou,
        ),
        Template::EmailChanged { .. } => (
            MailEmailChangedSubject,
            MailEmailChangedLead,
            MailOpenSecurity,
            MailFooterAccount,
        ),
    }
}

/// The message `template` about `letter` in `locale`.
pub fn render(template: &Template, locale: Locale, letter: &Letter) -> Rendered {
    let tr = |msg: Msg| msg.text(locale);
    let (subject, lead, button, footer) = words(template);
    let position = match template {
        Template::Waitlisted { position } => *position,
        _ => 0,
    };
    let organisation = match template {
        Template::RequestDecided { organisation, .. } => organisation.as_str(),
        _ => "",
    };
    let (ticket_type, quantity) = letter
        .seats
        .as_ref()
        .map_or(("", 0), |s| (s.ticket_type.as_str(), s.quantity));
    let title = letter.event.as_ref().map_or("", |e| e.title.as_str());
    let email = match template {
        Template::EmailChanged { new_email } => new_email.as_str(),
        _ => "",
    };
    // Each text names what it needs of these; the others are left unused.
    let args: [(&str, &dyn std::fmt::Display); 6] = [
        ("event", &title),
        ("position", &position),
        ("quantity", &quantity),
        ("ticket_type", &ticket_type),
        ("organisation", &organisation),
        ("email", &email),
    ];
    let subject = fill(tr(subject), &args);
    let lead = fill(tr(lead), &args);
    let greeting = fill(tr(Msg::MailGreeting), &[("name", &letter.name)]);

    // Labelled lines under the lead: the event's time and place, then what this mail adds.
    let mut lines: Vec<(&str, String)> = Vec::new();
    if let Some(event) = &letter.event {
        lines.push((tr(Msg::MailWhen), venue_time(locale, &event.place)));
        lines.push((tr(Msg::MailWhere), place_name(&event.place)));
    }
    match template {
        Template::EventChanged { before } => lines.push((
            tr(Msg::MailBefore),
            format!("{}, {}", venue_time(locale, before), place_name(before)),
        )),
        Template::EventCancelled { reason } if !reason.is_empty() => {
            lines.push((tr(Msg::MailReason), reason.clone()));
        }
        Template::RequestDecided { note, .. } if !note.is_empty() => {
            lines.push((tr(Msg::MailNote), note.clone()));
        }
        _ => {}
    }
    if let Some(seats) = letter.seats.as_ref().filter(|s| !s.codes.is_empty()) {
        lines.push((tr(Msg::MailTickets), seats.codes.join(", ")));
    }

    let mut text = format!("{greeting}\n\n{lead}\n\n");
    if !title.is_empty() {
        text.push_str(title);
        text.push('\n');
    }
    for (label, value) in &lines {
        text.push_str(&format!("{label}: {value}\n"));
    }
    text.push_str(&format!(
        "\n{button}: {link}\n\n-- \n{footer}\n",
        button = tr(button),
        link = letter.link,
        footer = tr(footer),
    ));

    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\" dir=\"{dir}\">\n<head><meta charset=\"utf-8\"><title>{subject}</title></head>\n\
         <body style=\"font-family: system-ui, sans-serif; line-height: 1.5\">\n<p>{greeting}</p>\n<p>{lead}</p>\n",
        lang = locale.code(),
        dir = locale.dir(),
        subject = escape(&subject),
        greeting = escape(&greeting),
        lead = escape(&lead),
    );
    if !title.is_empty() {
        html.push_str(&format!(
            "<h1 style=\"font-size: 1.25em\">{}</h1>\n",
            escape(title)
        ));
    }
    if !lines.is_empty() {
        let body: Vec<String> = lines
            .iter()
            .map(|(label, value)| {
                format!(
                    "<strong>{}:</strong> {}",
                    escape(label),
                    escape(value.as_str())
                )
            })
            .collect();
        html.push_str(&format!("<p>{}</p>\n", body.join("<br>\n")));
    }
    html.push_str(&format!(
        "<p><a href=\"{link}\">{button}</a></p>\n<hr>\n<p style=\"color: #666; font-size: 0.875em\">{footer}</p>\n</body>\n</html>\n",
        link = escape(&letter.link),
        button = escape(tr(button)),
        footer = escape(tr(footer)),
    ));
    Rendered {
        subject,
        text,
        html,
    }
}

fn place_name(place: &Place) -> String {
    if place.city.is_empty() {
        place.venue.clone()
    } else {
        format!("{}, {}", place.venue, place.city)
    }
}

/// The start on the venue's clock, with its zone's abbreviation (UTC when the zone is unknown).
fn venue_time(locale: Locale, place: &Place) -> String {
    let at = place.starts_at;
    match place.timezone.parse::<chrono_tz::Tz>() {
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

    fn place() -> Place {
        Place {
            starts_at: "2030-03-01T19:00:00Z".parse().unwrap(),
            timezone: "Asia/Jerusalem".into(),
            venue: "Barby".into(),
            city: "Tel Aviv".into(),
        }
    }

    fn sample() -> Letter {
        Letter {
            name: "Noa".into(),
            event: Some(EventFacts {
                title: "Jazz <night> & more".into(),
                place: place(),
            }),
            seats: Some(Seats {
                ticket_type: "General".into(),
                quantity: 2,
                codes: vec!["AAAA".into(), "BBBB".into()],
            }),
            link: "https://tickets.example/tickets/7".into(),
        }
    }

    #[test]
    fn a_confirmation_names_the_event_the_seats_the_venue_time_the_tickets_and_the_link() {
        let mail = render(&Template::Confirmed, Locale::En, &sample());
        assert_eq!(mail.subject, "Booking confirmed: Jazz <night> & more");
        assert!(mail.text.contains("Hello Noa,"), "{}", mail.text);
        assert!(mail.text.contains("2 × General"), "{}", mail.text);
        // 19:00 UTC is 21:00 in Jerusalem in March.
        assert!(mail.text.contains("21:00"), "{}", mail.text);
        assert!(mail.text.contains("Tickets: AAAA, BBBB"), "{}", mail.text);
        assert!(mail.text.contains("https://tickets.example/tickets/7"));
        assert!(mail.html.contains("<html lang=\"en\" dir=\"ltr\">"));
        assert!(
            mail.html
                .contains("href=\"https://tickets.example/tickets/7\"")
        );
    }

    #[test]
    fn what_organizers_wrote_is_escaped_in_html() {
        let mut letter = sample();
        letter.seats = None;
        let mail = render(
            &Template::EventCancelled {
                reason: "<b>rain</b>".into(),
            },
            Locale::En,
            &letter,
        );
        assert!(
            mail.html.contains("Jazz &lt;night&gt; &amp; more"),
            "{}",
            mail.html
        );
        assert!(
            mail.html.contains("&lt;b&gt;rain&lt;/b&gt;"),
            "{}",
            mail.html
        );
        assert!(!mail.html.contains("<night>") && !mail.html.contains("<b>"));
        assert!(mail.text.contains("Reason: <b>rain</b>"), "{}", mail.text);
    }

    #[test]
    fn a_change_says_what_it_was_and_what_it_is() {
        let mut before = place();
        before.venue = "Zappa".into();
        before.starts_at = "2030-02-28T18:00:00Z".parse().unwrap();
        let mail = render(&Template::EventChanged { before }, Locale::En, &sample());
        assert_eq!(mail.subject, "Changed: Jazz <night> & more");
        assert!(
            mail.text.contains("Where: Barby, Tel Aviv"),
            "{}",
            mail.text
        );
        assert!(mail.text.contains("Before: "), "{}", mail.text);
        assert!(mail.text.contains("Zappa, Tel Aviv"), "{}", mail.text);
        assert!(mail.text.contains("20:00"), "{}", mail.text);
    }

    #[test]
    fn a_decided_request_names_the_organisation_and_the_note() {
        let letter = Letter {
            name: "Dana".into(),
            event: None,
            seats: None,
            link: "https://tickets.example/agent".into(),
        };
        let template = Template::RequestDecided {
            approved: true,
            organisation: "Barby Club".into(),
            note: "Welcome!".into(),
        };
        let mail = render(&template, Locale::En, &letter);
        assert_eq!(mail.subject, "You are now an organizer on EventHub");
        assert!(mail.text.contains("“Barby Club”"), "{}", mail.text);
        assert!(mail.text.contains("Welcome!"), "{}", mail.text);
        assert!(!mail.text.contains("When:"), "{}", mail.text);
        let no = render(
            &Template::RequestDecided {
                approved: false,
                organisation: "Barby Club".into(),
                note: String::new(),
            },
            Locale::Pl,
            &letter,
        );
        assert!(no.subject.contains("odrzucona"), "{}", no.subject);
    }

    #[test]
    fn hebrew_mail_reads_right_to_left_and_polish_has_its_own_words() {
        let waitlisted = Template::Waitlisted { position: 3 };
        let he = render(&waitlisted, Locale::He, &sample());
        assert!(he.html.contains("<html lang=\"he\" dir=\"rtl\">"));
        assert!(he.text.contains('3'));
        assert_ne!(
            he.subject,
            render(&waitlisted, Locale::En, &sample()).subject
        );
        let pl = render(&Template::Cancelled, Locale::Pl, &sample());
        assert!(
            pl.subject.starts_with("Rezerwacja anulowana"),
            "{}",
            pl.subject
        );
    }
}
