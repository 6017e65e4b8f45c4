//! Account reads.
use super::UserView;
use crate::error::AppError;
use leptos::prelude::*;

/// The signed-in user, or `None` for a visitor. Anyone may ask.
#[server]
pub async fn get_current_user() -> Result<Option<UserView>, AppError> {
    crate::ssr::with_status(crate::ssr::current_user().await)
}
