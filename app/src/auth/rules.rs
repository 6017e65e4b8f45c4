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

/// Checks the shape of an email address (one `@`, a dotted domain, no spaces).
pub fn check_email(email: &str) -> Result<(), Problem> {
    let email = email.trim();
    if email.is_empty() {
        return Err(Problem::Required);
    }
    if email.chars().count() > EMAIL_MAX {
        return Err(Problem::TooLong { max: EMAIL_MAX });
    }
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if valid {
        Ok(())
    } else {
        Err(Problem::EmailInvalid)
    }
}

/// Checks a new password: long enough, not absurdly long, not an obvious one.
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
/// Anything else gives `/`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path[1..].starts_with(['/', '\\'])
                && !path
                    .chars()
                    .any(|c| c == '\\' || c.is_whitespace() || c.is_control()) =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
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
        ] {
            assert!(check_email(bad).is_err(), "{bad:?} should be refused");
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
