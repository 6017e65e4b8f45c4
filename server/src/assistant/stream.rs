//! `GET /assistant/replies/{id}`: the answer to a question as server-sent events while it is
//! written (`delta` pieces, `restart` when a model failed and the next starts over), then `done`
//! with the whole reply, or `failed` with an error kind the page translates (never its text).
//! A question already answered gets its `done` at once, so a reconnecting page loses nothing.
use super::ai::Delta;
use crate::AppState;
use crate::rest::error::ApiError;
use app::assistant::stream::{DELTA, DONE, FAILED, RESTART};
use app::error::AppError;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::{Stream, StreamExt};
use std::convert::Infallible;
use std::time::Duration;

pub async fn replies(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>> + use<>>, ApiError> {
    let actor = crate::rest::auth::session_user(&state, &session).await?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    // Someone else's question is refused before any stream starts.
    state.assistant.question(&actor, id).await?;
    let locale = crate::web::request_locale(&headers);
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let assistant = state.assistant.clone();
    // The answer is written even if the page goes away meanwhile: it is stored for the next visit.
    let writer = tokio::spawn(async move {
        assistant
            .answer_streaming(&actor, id, locale, Some(tx))
            .await
    });
    let stream = futures_util::stream::unfold((rx, Some(writer)), |(mut rx, writer)| async move {
        let writer = writer?;
        if let Some(delta) = rx.recv().await {
            let event = match delta {
                Delta::Text(text) => Event::default().event(DELTA).json_data(text).ok()?,
                Delta::Restart => Event::default().event(RESTART).data(""),
            };
            return Some((Ok(event), (rx, Some(writer))));
        }
        // The sender is gone: the answer is finished (or failed).
        let event = match writer.await {
            Ok(Ok(reply)) => Event::default().event(DONE).json_data(&reply).ok()?,
            Ok(Err(err)) => Event::default().event(FAILED).data(err.kind()),
            Err(join) => {
                tracing::error!("the assistant's answer task failed: {join}");
                Event::default().event(FAILED).data("internal")
            }
        };
        Some((Ok(event), (rx, None)))
    })
    // A stopping server ends the stream; the answer is still stored for the next visit.
    .take_until(state.shutdown.clone().cancelled_owned());
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
