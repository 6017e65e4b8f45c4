//! The one error type that crosses the wire. Each variant is a stable kind the UI translates and
//! the REST API maps to a status; infrastructure errors become `Internal` at the server boundary
//! (logged there with their cause, sent without detail).
use crate::i18n::{Locale, Msg, fill};
use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};
use std::collections::BTreeMap;

/// What is wrong with one field of a form or request body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Problem {
    Required,
    TooShort {
        min: usize,
    },
    TooLong {
        max: usize,
    },
    EmailInvalid,
    PasswordCommon,
    EmailTaken,
    LocaleUnknown,
    TooSmall {
        min: i64,
    },
    TooLarge {
        max: i64,
    },
    TooMany {
        max: usize,
    },
    TimeInvalid,
    NumberInvalid,
    EndsBeforeStart,
    StartsInPast,
    TimezoneUnknown,
    CurrencyUnknown,
    CategoryUnknown,
    /// The thing is in a state that does not allow the change (e.g. publishing a cancelled event).
    WrongStatus {
        status: String,
    },
    /// The bytes are not a JPEG, PNG or WebP image, whatever the name or declared type says.
    ImageFormat,
    /// The image could not be decoded (truncated or corrupt).
    ImageDamaged,
    /// Width or height outside the accepted bounds (pixels).
    ImageDimensions {
        min: u32,
        max: u32,
    },
    /// A ticket type that has bookings cannot be removed.
    TicketTypeBooked,
    /// An event with bookings cannot go back to draft (cancel it, so its ticket holders are told).
    HasBookings,
    /// Booking closed: the event has started.
    EventStarted,
    /// Booking closed: this ticket type is not on sale yet.
    SalesNotStarted,
    /// Booking closed: sales of this ticket type have ended.
    SalesEnded,
    /// The platform keeps at least one active admin.
    LastAdmin,
    /// An admin cannot block their own account.
    CannotBlockSelf,
    /// The booking would give one person more seats than the event allows per person.
    SeatsPerUser {
        max: i64,
        held: i64,
    },
    /// An `Idempotency-Key` that is not 1–255 visible ASCII characters.
    IdempotencyKeyInvalid,
    /// An `Idempotency-Key` already used by this caller for a different request.
    IdempotencyKeyReused,
    /// A mailed account link that is unknown, used already or expired.
    LinkInvalid,
    /// The current password, asked again before a change, is not the account's.
    PasswordWrong,
    /// The new email address is the one the account already has.
    EmailUnchanged,
    /// A code from the authenticator app (or a recovery code) that is wrong or used.
    CodeInvalid,
    /// Two-factor sign-in is on already (turn it off first to enrol another authenticator).
    TwoFactorOn,
    /// Two-factor sign-in is not set up (nothing to confirm or turn off).
    TwoFactorOff,
    /// The acting admin would require two-factor sign-in of admins without using it themself.
    TwoFactorSelf,
    /// The last active admin cannot delete their account.
    LastAdminAccount,
    /// An organizer with published events still to come cannot delete their account.
    HasFutureEvents {
        count: i64,
    },
    /// A request body that could not be read as the expected JSON (REST only).
    Malformed {
        detail: String,
    },
}

impl Problem {
    /// The problem in `locale`, for forms.
    pub fn text(&self, locale: Locale) -> String {
        match self {
            Problem::Required => Msg::FieldRequired.text(locale).to_owned(),
            Problem::TooShort { min } => fill(Msg::FieldTooShort.text(locale), &[("min", min)]),
            Problem::TooLong { max } => fill(Msg::FieldTooLong.text(locale), &[("max", max)]),
            Problem::EmailInvalid => Msg::FieldEmailInvalid.text(locale).to_owned(),
            Problem::PasswordCommon => Msg::FieldPasswordCommon.text(locale).to_owned(),
            Problem::EmailTaken => Msg::FieldEmailTaken.text(locale).to_owned(),
            Problem::LocaleUnknown => Msg::FieldLocaleUnknown.text(locale).to_owned(),
            Problem::TooSmall { min } => fill(Msg::FieldTooSmall.text(locale), &[("min", min)]),
            Problem::TooLarge { max } => fill(Msg::FieldTooLarge.text(locale), &[("max", max)]),
            Problem::TooMany { max } => fill(Msg::FieldTooMany.text(locale), &[("max", max)]),
            Problem::TimeInvalid => Msg::FieldTimeInvalid.text(locale).to_owned(),
            Problem::NumberInvalid => Msg::FieldNumberInvalid.text(locale).to_owned(),
            Problem::EndsBeforeStart => Msg::FieldEndsBeforeStart.text(locale).to_owned(),
            Problem::StartsInPast => Msg::FieldStartsInPast.text(locale).to_owned(),
            Problem::TimezoneUnknown => Msg::FieldTimezoneUnknown.text(locale).to_owned(),
            Problem::CurrencyUnknown => Msg::FieldCurrencyUnknown.text(locale).to_owned(),
            Problem::CategoryUnknown => Msg::FieldCategoryUnknown.text(locale).to_owned(),
            Problem::LastAdmin => Msg::FieldLastAdmin.text(locale).to_owned(),
            Problem::CannotBlockSelf => Msg::FieldCannotBlockSelf.text(locale).to_owned(),
            Problem::WrongStatus { status } => {
                fill(Msg::FieldWrongStatus.text(locale), &[("status", status)])
            }
            Problem::ImageFormat => Msg::FieldImageFormat.text(locale).to_owned(),
            Problem::ImageDamaged => Msg::FieldImageDamaged.text(locale).to_owned(),
            Problem::ImageDimensions { min, max } => fill(
                Msg::FieldImageDimensions.text(locale),
                &[("min", min), ("max", max)],
            ),
            Problem::TicketTypeBooked => Msg::FieldTicketTypeBooked.text(locale).to_owned(),
            Problem::HasBookings => Msg::FieldHasBookings.text(locale).to_owned(),
            Problem::EventStarted => Msg::FieldEventStarted.text(locale).to_owned(),
            Problem::SalesNotStarted => Msg::FieldSalesNotStarted.text(locale).to_owned(),
            Problem::SalesEnded => Msg::FieldSalesEnded.text(locale).to_owned(),
            Problem::SeatsPerUser { max, held } => fill(
                Msg::FieldSeatsPerUser.text(locale),
                &[("max", max), ("held", held)],
            ),
            Problem::IdempotencyKeyInvalid => {
                Msg::FieldIdempotencyKeyInvalid.text(locale).to_owned()
            }
            Problem::IdempotencyKeyReused => Msg::FieldIdempotencyKeyReused.text(locale).to_owned(),
            Problem::LinkInvalid => Msg::FieldLinkInvalid.text(locale).to_owned(),
            Problem::PasswordWrong => Msg::FieldPasswordWrong.text(locale).to_owned(),
            Problem::EmailUnchanged => Msg::FieldEmailUnchanged.text(locale).to_owned(),
            Problem::CodeInvalid => Msg::ErrorOtpInvalid.text(locale).to_owned(),
            Problem::TwoFactorOn => Msg::FieldTwoFactorOn.text(locale).to_owned(),
            Problem::TwoFactorOff => Msg::FieldTwoFactorOff.text(locale).to_owned(),
            Problem::TwoFactorSelf => Msg::FieldTwoFactorSelf.text(locale).to_owned(),
            Problem::LastAdminAccount => Msg::FieldLastAdminAccount.text(locale).to_owned(),
            Problem::HasFutureEvents { count } => {
                fill(Msg::FieldHasFutureEvents.text(locale), &[("count", count)])
            }
            Problem::Malformed { detail } => detail.clone(),
        }
    }
}

/// Problems by field name; ordered so messages come out the same way every time.
pub type FieldErrors = BTreeMap<String, Problem>;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// No valid session or token.
    #[error("authentication required")]
    Unauthenticated,
    /// Wrong email or password at sign-in (kind `unauthenticated`).
    #[error("the email or password is not correct")]
    BadCredentials,
    /// The account signs in with a second factor and no code came with the password.
    #[error("a code from the authenticator app is required")]
    OtpRequired,
    /// The code is not the authenticator's current one, or was used already.
    #[error("the code is not correct or was used already")]
    OtpInvalid,
    /// Signed in, but the role or ownership does not allow this.
    #[error("not allowed")]
    Forbidden,
    /// The account is blocked (kind `forbidden`).
    #[error("this account is blocked")]
    Blocked,
    /// Absent, or not visible to the caller: strangers learn nothing.
    #[error("not found")]
    NotFound,
    /// A unique value is taken or a state forbids the change.
    #[error("conflict on {field}")]
    Conflict { field: String, problem: Problem },
    /// Input failed validation; nothing was changed.
    #[error("invalid input")]
    Invalid(FieldErrors),
    /// Too many attempts; retry after the given number of seconds.
    #[error("too many attempts, retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("payload too large")]
    PayloadTooLarge,
    /// An outside service (e.g. image hosting) failed; nothing was changed.
    #[error("{service} is unavailable")]
    Unavailable {
        service: String,
        retry_after_secs: u64,
    },
    /// A failure on the server; the cause is in the server log only.
    #[error("internal error")]
    Internal,
    /// The request never reached the server function or its answer could not be read.
    #[error("{0}")]
    Transport(String),
}

impl AppError {
    /// An `Invalid` error for one field.
    pub fn field(field: &str, problem: Problem) -> Self {
        AppError::Invalid(BTreeMap::from([(field.to_owned(), problem)]))
    }

    /// The stable kind of the REST error shape.
    pub fn kind(&self) -> &'static str {
        match self {
            AppError::Unauthenticated | AppError::BadCredentials => "unauthenticated",
            AppError::OtpRequired => "otp_required",
            AppError::OtpInvalid => "otp_invalid",
            AppError::Forbidden | AppError::Blocked => "forbidden",
            AppError::NotFound => "not_found",
            AppError::Conflict { .. } => "conflict",
            AppError::Invalid(_) => "invalid",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::Unavailable { .. } => "unavailable",
            AppError::Internal | AppError::Transport(_) => "internal",
        }
    }

    /// The HTTP status that goes with the kind.
    pub fn status(&self) -> u16 {
        match self.kind() {
            "unauthenticated" | "otp_required" | "otp_invalid" => 401,
            "forbidden" => 403,
            "not_found" => 404,
            "conflict" => 409,
            "invalid" => 422,
            "rate_limited" => 429,
            "payload_too_large" => 413,
            "unavailable" => 503,
            _ => 500,
        }
    }

    /// Seconds to wait before trying again (`Retry-After`), for the kinds that say so.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::RateLimited { retry_after_secs }
            | AppError::Unavailable {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        }
    }

    /// Problems per field, for forms that highlight them.
    pub fn field_errors(&self) -> FieldErrors {
        match self {
            AppError::Invalid(fields) => fields.clone(),
            AppError::Conflict { field, problem } => {
                BTreeMap::from([(field.clone(), problem.clone())])
            }
            _ => FieldErrors::new(),
        }
    }

    /// The headline message in `locale`.
    pub fn text(&self, locale: Locale) -> String {
        let msg = match self {
            AppError::Unauthenticated => Msg::ErrorUnauthenticated,
            AppError::BadCredentials => Msg::ErrorBadCredentials,
            AppError::OtpRequired => Msg::ErrorOtpRequired,
            AppError::OtpInvalid => Msg::ErrorOtpInvalid,
            AppError::Forbidden => Msg::ErrorForbidden,
            AppError::Blocked => Msg::ErrorBlocked,
            AppError::NotFound => Msg::ErrorNotFound,
            AppError::Conflict { problem, .. } => return problem.text(locale),
            AppError::Invalid(_) => Msg::ErrorInvalid,
            AppError::RateLimited { retry_after_secs } => {
                return fill(
                    Msg::ErrorRateLimited.text(locale),
                    &[("seconds", retry_after_secs)],
                );
            }
            AppError::PayloadTooLarge => Msg::ErrorPayloadTooLarge,
            AppError::Unavailable { .. } => Msg::ErrorUnavailable,
            AppError::Internal | AppError::Transport(_) => Msg::ErrorInternal,
        };
        msg.text(locale).to_owned()
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(detail) | ServerFnErrorErr::MissingArg(detail) => {
                AppError::field("request", Problem::Malformed { detail })
            }
            other => AppError::Transport(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_the_documented_statuses() {
        assert_eq!(AppError::BadCredentials.status(), 401);
        assert_eq!(AppError::Blocked.status(), 403);
        assert_eq!(AppError::OtpRequired.status(), 401);
        assert_eq!(AppError::OtpInvalid.kind(), "otp_invalid");
        assert_eq!(
            AppError::field("email", Problem::EmailInvalid).status(),
            422
        );
        assert_eq!(
            AppError::RateLimited {
                retry_after_secs: 3
            }
            .status(),
            429
        );
        assert_eq!(AppError::Internal.status(), 500);
    }

    #[test]
    fn rate_limit_message_names_the_wait_in_each_language() {
        let err = AppError::RateLimited {
            retry_after_secs: 12,
        };
        assert!(err.text(Locale::Pl).contains("12"));
        assert!(err.text(Locale::He).contains("12"));
    }
}
