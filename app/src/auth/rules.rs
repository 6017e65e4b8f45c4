//! Pure validation rules shared by the server (authoritative) and the browser (inline hints).
use super::{NewUser, Role, UserView};
use crate::error::{AppError, FieldErrors, Problem};

pub const PASSWORD_MIN: usize = 10;
pub const PASSWORD_MAX: usize = 128;
pub const NAME_MAX: usize = 80;
pub const EMAIL_MAX: usize = 254;

/// Passwords of ten or more characters that attackers try first (from public breach lists).
const COMMON_PASSWORDS: &[&str] = &[
    "0123456789",
    "1234567890",
    "0987654321",
    "1111111111",
    "123456789a",
    "123456789q",
    "1q2w3e4r5t",
    "1qaz2wsx3edc",
    "abcdefghij",
    "abcd123456",
    "iloveyou12",
    "password12",
    "password123",
    "password1234",
    "passw0rd123",
    "qwerty1234",
    "qwerty12345",
    "qwertyuiop",
    "qwertyuiop1",
    "asdfghjkl1",
    "zxcvbnm123",
    "1234qwerty",
    "letmein123",
    "welcome123",
    "admin12345",
    "administrator",
    "football123",
    "monkey1234",
    "princess12",
    "sunshine12",
    "changeme123",
    "trustno1234",
    "eventhub123",
    "0000000000",
    "9876543210",
];

/// The one role guard behind every server function and REST handler: `user` must hold `role`
/// or a higher one.
pub fn check_role(user: &UserView, role: Role) -> Result<(), AppError> {
    if user.role >= role {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Normalises an email for storage and comparison: trimmed and lower-cased.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Checks the shape of an email address, as a mail server will take it: one `@`; before it,
/// dot-separated words of letters, digits and `!#$%&'*+-/=?^_`{|}~` (RFC 5322's atoms) or
/// any non-ASCII letter (RFC 6531); after it, two or more dot-separated labels of letters,
/// digits and inner hyphens. No spaces, control characters, quotes or comments: an address
/// we accept is one the mailer can send to.
pub fn check_email(email: &str) -> Result<(), Problem> {
    let email = email.trim();
    if email.is_empty() {
        return Err(Problem::Required);
    }
    if email.chars().count() > EMAIL_MAX {
        return Err(Problem::TooLong { max: EMAIL_MAX });
    }
    let unicode = |c: char| !c.is_ascii() && !c.is_control() && !c.is_whitespace();
    let atom = |word: &str| {
        !word.is_empty()
            && word.chars().all(|c| {
                c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || unicode(c)
            })
    };
    let label = |label: &str| {
        !label.is_empty()
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || unicode(c))
    };
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            local.split('.').all(atom)
                && domain.split('.').count() >= 2
                && domain.split('.').all(label)
        }
        None => false,
    };
    if valid {
        Ok(())
    } else {
        Err(Problem::EmailInvalid)
    }
}

pub fn check_password(password: &str, email: &str) -> Result<(), Problem> {
    let len = password.chars().count();
    if len == 0 {
        return Err(Problem::Required);
    }
    if len < PASSWORD_MIN {
        return Err(Problem::TooShort { min: PASSWORD_MIN });
    }
    if len > PASSWORD_MAX {
        return Err(Problem::TooLong { max: PASSWORD_MAX });
    }
    let lower = password.to_lowercase();
    let one_char = lower.chars().all(|c| lower.starts_with(c));
    let is_email = !email.is_empty() && lower == normalize_email(email);
    let is_local_part = normalize_email(email).split('@').next() == Some(lower.as_str());
    if one_char || is_email || is_local_part || COMMON_PASSWORDS.contains(&lower.as_str()) {
        return Err(Problem::PasswordCommon);
    }
    Ok(())
}

/// Checks a display name: present and at most `NAME_MAX` characters.
pub fn check_display_name(name: &str) -> Result<(), Problem> {
    let len = name.trim().chars().count();
    if len == 0 {
        Err(Problem::Required)
    } else if len > NAME_MAX {
        Err(Problem::TooLong { max: NAME_MAX })
    } else {
        Ok(())
    }
}

/// Validates a registration and returns it normalised (trimmed name, lower-case email).
pub fn validate_new_user(new: &NewUser) -> Result<NewUser, FieldErrors> {
    let mut errors = FieldErrors::new();
    if let Err(p) = check_email(&new.email) {
        errors.insert("email".into(), p);
    }
    if let Err(p) = check_display_name(&new.display_name) {
        errors.insert("display_name".into(), p);
    }
    if let Err(p) = check_password(&new.password, &new.email) {
        errors.insert("password".into(), p);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(NewUser {
        email: normalize_email(&new.email),
        display_name: new.display_name.trim().to_owned(),
        password: new.password.clone(),
    })
}

/// Where to go after signing in (`next`) or switching language (`back`): a path of this site
/// only, so the parameter cannot send anyone off-site. A path must start with a single `/` and
/// hold no backslash, whitespace or control character (browsers drop tabs and newlines, so
/// `/\t/evil.example` would become `//evil.example`, and a newline would break the header).
/// Its path part (before `?` or `#`) has no empty and no dot segment: browsers resolve `.` and
/// `..` (also written `%2e`), so `/.//evil.example` would land on the path `//evil.example`,
/// which any later redirect to "the current path" would read as another host.
/// Anything else gives `/`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if is_site_path(path) => path.to_owned(),
        _ => "/".to_owned(),
    }
}

fn is_site_path(path: &str) -> bool {
    let Some(rest) = path.strip_prefix('/') else {
        return false;
    };
    if path
        .chars()
        .any(|c| c == '\\' || c.is_whitespace() || c.is_control())
    {
        return false;
    }
    let path_part = rest.split(['?', '#']).next().unwrap_or_default();
    if path_part.is_empty() {
        return true;
    }
    let segments: Vec<&str> = path_part.split('/').collect();
    let last = segments.len() - 1;
    segments.iter().enumerate().all(|(i, segment)| {
        let dots = segment.to_ascii_lowercase().replace("%2e", ".");
        // A trailing slash (an empty last segment) is fine: `/events/`.
        (i == last || !segment.is_empty()) && dots != "." && dots != ".."
    })
}

/// A browser's user agent as people name it: "Firefox on Windows", "Safari on iPhone". What
/// is no known browser (a script's own agent) is shown as it came, shortened.
pub fn device_name(user_agent: &str) -> String {
    const BROWSERS: [(&str, &str); 7] = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("SamsungBrowser/", "Samsung Internet"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("CriOS/", "Chrome"),
        ("Safari/", "Safari"),
    ];
    const SYSTEMS: [(&str, &str); 7] = [
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("CrOS", "ChromeOS"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ];
    let find = |table: &[(&str, &'static str)]| {
        table
            .iter()
            .find(|(mark, _)| user_agent.contains(mark))
            .map(|(_, name)| *name)
    };
    match (find(&BROWSERS), find(&SYSTEMS)) {
        (Some(browser), Some(system)) => format!("{browser} · {system}"),
        (Some(browser), None) => browser.to_owned(),
        _ => user_agent.trim().chars().take(40).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_user(email: &str, name: &str, password: &str) -> NewUser {
        NewUser {
            email: email.into(),
            display_name: name.into(),
            password: password.into(),
        }
    }

    #[test]
    fn roles_are_ordered_so_higher_roles_pass_lower_gates() {
        let user = |role| UserView {
            id: crate::auth::UserId::new(1),
            email: "a@b.co".into(),
            display_name: "A".into(),
            role,
            locale: Default::default(),
            created_at: chrono::Utc::now(),
            email_verified: true,
            two_factor: false,
            role_held: None,
        };
        assert!(check_role(&user(Role::Admin), Role::Agent).is_ok());
        assert!(check_role(&user(Role::Agent), Role::Agent).is_ok());
        assert_eq!(
            check_role(&user(Role::User), Role::Agent),
            Err(AppError::Forbidden)
        );
    }

    #[test]
    fn a_good_registration_is_normalised() {
        let ok = validate_new_user(&new_user(
            " Dana@Example.COM ",
            " Dana ",
            "violet-harbour-42",
        ))
        .unwrap();
        assert_eq!(ok.email, "dana@example.com");
        assert_eq!(ok.display_name, "Dana");
    }

    #[test]
    fn short_and_common_passwords_are_refused() {
        assert_eq!(
            check_password("short", "a@b.co"),
            Err(Problem::TooShort { min: 10 })
        );
        assert_eq!(
            check_password("Password123", "a@b.co"),
            Err(Problem::PasswordCommon)
        );
        assert_eq!(
            check_password("zzzzzzzzzzzz", "a@b.co"),
            Err(Problem::PasswordCommon)
        );
        assert_eq!(
            check_password("dana.levi.x", "dana.levi.x@example.com"),
            Err(Problem::PasswordCommon)
        );
    }

    #[test]
    fn password_length_counts_characters_not_bytes() {
        assert!(check_password("סיסמהארוכה", "a@b.co").is_ok());
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "plain",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            "a@.com",
            "@b.com",
            "a..b@c.com",
            "a@b..com",
            "a@-b.com",
            "a,b@c.com",
            "\"a\"@b.com",
            "a\u{8d}@b.com",
            "a@b\u{17}.com",
        ] {
            assert!(check_email(bad).is_err(), "{bad:?} should be refused");
        }
        for good in [
            "dana@eventhub.test",
            "first.last+tag@mail.example.co.il",
            "o'brien@example.ie",
            "דנה@דוגמה.ישראל",
            "zoë@café.example",
        ] {
            assert!(check_email(good).is_ok(), "{good:?} should be accepted");
        }
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let errors = validate_new_user(&new_user("nope", "", "123")).unwrap_err();
        assert_eq!(errors.len(), 3);
    }

    #[test]
    fn next_never_leaves_the_site() {
        assert_eq!(safe_next(Some("/me")), "/me");
        assert_eq!(
            safe_next(Some("/events?q=jazz&page=2")),
            "/events?q=jazz&page=2"
        );
        for hostile in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/.//evil.example",
            "/%2E//evil.example",
            "/a/..//evil.example",
            "/a//b",
            "/\t/evil.example",
            "/%09/evil.example\n",
            "/me\r\nSet-Cookie: x=1",
            " /me",
            "/a b",
            "",
            "evil.example",
        ] {
            assert_eq!(safe_next(Some(hostile)), "/", "{hostile:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}

#[cfg(test)]
mod properties {
    use super::safe_next;
    use proptest::prelude::*;
    use url::Url;

    const SITE: &str = "https://eventhub.example/login?next=x";

    /// What a browser does with the answer: resolves it against the page it is on.
    fn followed(location: &str) -> Url {
        Url::parse(SITE)
            .and_then(|base| base.join(location))
            .expect("a relative reference always resolves")
    }

    /// Strings that look like redirects: the characters attacks are made of, often.
    fn hostile() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("/".to_owned()),
            Just("\\".to_owned()),
            Just("//".to_owned()),
            Just("/\\".to_owned()),
            Just(":".to_owned()),
            Just("https:".to_owned()),
            Just("javascript:".to_owned()),
            Just("evil.example".to_owned()),
            Just("@".to_owned()),
            Just(".".to_owned()),
            Just("..".to_owned()),
            Just("%2e".to_owned()),
            Just("%2E".to_owned()),
            Just("?".to_owned()),
            Just("#".to_owned()),
            Just("%2F".to_owned()),
            Just("%5C".to_owned()),
            Just("%09".to_owned()),
            Just("%0d%0a".to_owned()),
            Just("%00".to_owned()),
            "[\t\n\r\u{b}\u{c}\u{0}\u{7f}\u{85}\u{a0}\u{2028}\u{3000}\u{feff} ]",
            "[\u{ff0f}\u{ff3c}\u{2215}\u{2044}\u{200b}]",
            "[a-z0-9]{1,4}",
        ];
        prop::collection::vec(piece, 0..8).prop_map(|p| p.concat())
    }

    /// Paths of this site as links write them: segments, perhaps percent-encoded, a query.
    fn good_path() -> impl Strategy<Value = String> {
        let segment = "([A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-F]{2}){1,12}".prop_filter(
            "not a dot segment",
            |s: &String| {
                !matches!(
                    s.to_ascii_lowercase().replace("%2e", ".").as_str(),
                    "." | ".."
                )
            },
        );
        (
            prop::collection::vec(segment, 0..4),
            proptest::option::of("[A-Za-z0-9=&%._~+-]{0,20}"),
        )
            .prop_map(|(segments, query)| {
                let mut path = format!("/{}", segments.join("/"));
                if let Some(q) = query {
                    path = format!("{path}?{q}");
                }
                path
            })
    }

    fn check_same_site(next: &str) -> Result<(), TestCaseError> {
        let out = safe_next(Some(next));
        prop_assert!(out.starts_with('/'), "{out:?}");
        prop_assert!(!out.starts_with("//") && !out.starts_with("/\\"), "{out:?}");
        prop_assert!(
            !out.chars()
                .any(|c| c == '\\' || c.is_whitespace() || c.is_control()),
            "{out:?}"
        );
        prop_assert!(out == next || out == "/", "{next:?} became {out:?}");
        // Both redirect helpers `expect` a valid header value.
        prop_assert!(http::HeaderValue::from_str(&out).is_ok(), "{out:?}");
        let url = followed(&out);
        prop_assert_eq!(url.scheme(), "https", "{:?} → {}", out, url);
        prop_assert_eq!(
            url.host_str(),
            Some("eventhub.example"),
            "{:?} → {}",
            out,
            url
        );
        prop_assert_eq!(url.port(), None);
        prop_assert_eq!(url.username(), "");
        prop_assert!(url.password().is_none());
        // Where the browser lands, read back as a path, is still a safe one: a second hop
        // through `next` (e.g. the login link of the page reached) stays on the site too.
        let path = &url[url::Position::BeforePath..];
        prop_assert!(
            !path.starts_with("//") && !path.starts_with("/\\"),
            "{path:?}"
        );
        Ok(())
    }

    proptest! {
        #[test]
        fn any_string_gives_a_path_of_this_site(next in any::<String>()) {
            check_same_site(&next)?;
        }

        #[test]
        fn redirect_tricks_give_a_path_of_this_site(next in hostile()) {
            check_same_site(&next)?;
            check_same_site(&format!("/{next}"))?;
        }

        #[test]
        fn paths_of_this_site_pass_unchanged(path in good_path()) {
            prop_assert_eq!(safe_next(Some(&path)), path.clone());
            check_same_site(&path)?;
        }
    }

    #[test]
    fn percent_encoded_slashes_and_tabs_stay_on_the_site() {
        for trick in [
            "/%09/evil.example",
            "/%2F/evil.example",
            "/%5C/evil.example",
            "/%2F%2Fevil.example",
        ] {
            assert_eq!(safe_next(Some(trick)), trick, "a path of this site");
            assert_eq!(
                followed(trick).host_str(),
                Some("eventhub.example"),
                "{trick}"
            );
        }
        assert_eq!(safe_next(Some("/events/12?x=1")), "/events/12?x=1");
    }

    #[test]
    fn user_agents_read_as_a_browser_and_a_system() {
        let cases = [
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
                "Firefox · Windows",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
                "Safari · iPhone",
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36",
                "Chrome · Linux",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
                "Edge · Windows",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36",
                "Chrome · Android",
            ),
            ("curl/8.5.0", "curl/8.5.0"),
            ("", ""),
        ];
        for (agent, name) in cases {
            assert_eq!(crate::auth::rules::device_name(agent), name, "{agent}");
        }
    }
}
