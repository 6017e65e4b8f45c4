//! Event reads for the pages.
use super::{EventDetail, EventId, EventListItem, EventSearch, ResultPage};
use crate::error::AppError;
use leptos::prelude::*;

/// Published upcoming events matching the search. Anyone may ask.
#[server]
pub async fn list_events(search: EventSearch) -> Result<ResultPage<EventListItem>, AppError> {
    use crate::ssr;
    ssr::with_status(ssr::services()?.event_queries.list_events(&search).await)
}

/// One event; drafts only for their organizer and admins.
#[server]
pub async fn get_event(id: EventId) -> Result<EventDetail, AppError> {
    use crate::ssr;
    ssr::with_status(
        async {
            let viewer = ssr::current_user().await?;
            ssr::services()?
                .event_queries
                .get_event(viewer.as_ref(), id)
                .await
        }
        .await,
    )
}
