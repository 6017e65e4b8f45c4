//! Account pages: sign in, register, my profile, and keeping an account (the pages mailed links
//! open, `/me/security`).
mod calendar_feed;
mod login;
mod profile;
mod recovery;
mod register;
mod security;
mod two_factor;

pub use login::{LoginCodePage, LoginPage};
pub use profile::ProfilePage;
pub use recovery::{ForgotPasswordPage, ResetPasswordPage, VerifyEmailPage};
pub use register::RegisterPage;
pub use security::SecurityPage;

use crate::i18n::{Msg, t};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// Beside an address: confirmed by its owner, or not yet (the profile, admins' lists).
pub fn verified_mark(verified: bool) -> impl IntoView {
    if verified {
        view! { <span class="badge badge-ok" data-verified="true">{t(Msg::SecurityVerified)}</span> }
    } else {
        view! { <span class="badge badge-warn" data-verified="false">{t(Msg::SecurityUnverified)}</span> }
    }
}

/// The `next` query parameter (where to go after signing in), kept through the form.
fn next_param() -> Signal<String> {
    let query = use_query_map();
    Signal::derive(move || query.read().get("next").unwrap_or_default())
}
