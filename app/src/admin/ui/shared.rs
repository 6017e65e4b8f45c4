//! What the admin pages share: how they write times, and what they show to a visitor or a
//! non-admin.
use crate::error::AppError;
use crate::i18n::{Locale, Msg, format_local};
use leptos::prelude::*;

/// Times on admin pages: UTC, said so (admins read logs across time zones).
pub(super) fn utc(locale: Locale, at: chrono::DateTime<chrono::Utc>) -> String {
    format!("{} UTC", format_local(locale, at.naive_utc()))
}

/// What every admin page shows for a visitor or a non-admin.
pub(super) fn refusal(e: AppError, here: &str, locale: Locale) -> AnyView {
    crate::ui::refusal(e, here, Msg::AdminOnly, locale)
}
