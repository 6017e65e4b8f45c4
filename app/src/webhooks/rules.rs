//! Webhook validation, pure (the server adds the address checks that need DNS).
use super::{EVENT_TYPES, NewWebhook};
use crate::error::{FieldErrors, Problem};

/// The longest URL accepted.
pub const URL_MAX: usize = 2_000;

/// Whether `url` reads as an absolute http(s) URL with a host: no spaces or control
/// characters, no user name or password in it.
pub fn check_url(url: &str) -> Result<(), Problem> {
    if url.is_empty() {
        return Err(Problem::Required);
    }
    if url.chars().count() > URL_MAX {
        return Err(Problem::TooLong { max: URL_MAX });
    }
    let malformed = |detail: &str| Problem::Malformed {
        detail: detail.into(),
    };
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(malformed("the URL may not contain spaces"));
    }
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or_else(|| malformed("the URL must start with http:// or https://"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(malformed("the URL may not carry a user name or password"));
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    if host.is_empty() {
        return Err(malformed("the URL must name a host"));
    }
    Ok(())
}

/// The subscribed types: at least one, each from [`EVENT_TYPES`]; answered in that order,
/// without repeats.
pub fn check_event_types(events: &[String]) -> Result<Vec<String>, Problem> {
    if events.is_empty() {
        return Err(Problem::Required);
    }
    if let Some(unknown) = events.iter().find(|e| !EVENT_TYPES.contains(&e.as_str())) {
        return Err(Problem::Malformed {
            detail: format!("unknown event type {unknown:?}"),
        });
    }
    Ok(EVENT_TYPES
        .iter()
        .filter(|t| events.iter().any(|e| e == *t))
        .map(|t| (*t).to_owned())
        .collect())
}

/// Validates a new endpoint: the URL trimmed, the types normalised.
pub fn validate_webhook(new: &NewWebhook) -> Result<NewWebhook, FieldErrors> {
    let mut errors = FieldErrors::new();
    let url = new.url.trim().to_owned();
    if let Err(problem) = check_url(&url) {
        errors.insert("url".into(), problem);
    }
    let events = match check_event_types(&new.events) {
        Ok(events) => events,
        Err(problem) => {
            errors.insert("events".into(), problem);
            Vec::new()
        }
    };
    if errors.is_empty() {
        Ok(NewWebhook {
            url,
            events,
            event_id: new.event_id,
        })
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_webhook_url_must_be_http_or_https_with_a_host() {
        assert!(check_url("https://hooks.example.com/in").is_ok());
        assert!(check_url("http://127.0.0.1:8080/x?y=1").is_ok());
        assert!(check_url("http://[::1]:80/").is_ok());
        assert_eq!(check_url(""), Err(Problem::Required));
        for bad in [
            "ftp://example.com/",
            "example.com",
            "https://",
            "https:///path",
            "https://user:pw@example.com/",
            "https://exa mple.com/",
            "javascript:alert(1)",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
        let long = format!("https://example.com/{}", "a".repeat(URL_MAX));
        assert_eq!(check_url(&long), Err(Problem::TooLong { max: URL_MAX }));
    }

    #[test]
    fn event_types_come_from_the_fixed_list_at_least_one() {
        assert_eq!(check_event_types(&[]), Err(Problem::Required));
        assert!(check_event_types(&["registration.booked".into()]).is_err());
        let picked = check_event_types(&[
            "ticket.checked_in".into(),
            "registration.confirmed".into(),
            "ticket.checked_in".into(),
        ])
        .unwrap();
        assert_eq!(picked, ["registration.confirmed", "ticket.checked_in"]);
    }
}
