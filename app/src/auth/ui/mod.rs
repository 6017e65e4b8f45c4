//! Account pages: sign in, register, my profile.
mod login;
mod profile;
mod register;

pub use login::LoginPage;
pub use profile::ProfilePage;
pub use register::RegisterPage;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The `next` query parameter (where to go after signing in), kept through the form.
fn next_param() -> Signal<String> {
    let query = use_query_map();
    Signal::derive(move || query.read().get("next").unwrap_or_default())
}
