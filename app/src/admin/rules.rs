//! Validation of organizer requests and decisions, shared by the server and the browser.
use super::NewAgentRequest;
use crate::error::{FieldErrors, Problem};

pub const ORGANISATION_MIN: usize = 2;
pub const ORGANISATION_MAX: usize = 120;
pub const MESSAGE_MIN: usize = 10;
pub const MESSAGE_MAX: usize = 2000;
pub const NOTE_MAX: usize = 1000;

fn length(text: &str, min: usize, max: usize) -> Result<(), Problem> {
    let len = text.trim().chars().count();
    if len == 0 {
        Err(Problem::Required)
    } else if len < min {
        Err(Problem::TooShort { min })
    } else if len > max {
        Err(Problem::TooLong { max })
    } else {
        Ok(())
    }
}

/// A request with a named organisation and a few words about it; returned trimmed.
pub fn validate_agent_request(new: &NewAgentRequest) -> Result<NewAgentRequest, FieldErrors> {
    let mut errors = FieldErrors::new();
    if let Err(p) = length(&new.organisation, ORGANISATION_MIN, ORGANISATION_MAX) {
        errors.insert("organisation".into(), p);
    }
    if let Err(p) = length(&new.message, MESSAGE_MIN, MESSAGE_MAX) {
        errors.insert("message".into(), p);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(NewAgentRequest {
        organisation: new.organisation.trim().to_owned(),
        message: new.message.trim().to_owned(),
    })
}

/// An admin's note with a decision: optional, bounded.
pub fn check_note(note: &str) -> Result<(), Problem> {
    if note.trim().chars().count() > NOTE_MAX {
        Err(Problem::TooLong { max: NOTE_MAX })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_need_an_organisation_and_a_message() {
        let refused = validate_agent_request(&NewAgentRequest {
            organisation: " ".into(),
            message: "short".into(),
        })
        .unwrap_err();
        assert_eq!(refused["organisation"], Problem::Required);
        assert_eq!(refused["message"], Problem::TooShort { min: MESSAGE_MIN });
        let ok = validate_agent_request(&NewAgentRequest {
            organisation: "  Comedy Basement ".into(),
            message: "We run stand-up nights every week.".into(),
        })
        .unwrap();
        assert_eq!(ok.organisation, "Comedy Basement");
        assert!(check_note(&"x".repeat(NOTE_MAX + 1)).is_err());
    }
}
