//! `GET /assistant/replies/{id}`: the answer to a question as server-sent events while it is
//! written (`cards` with the matching events first, `delta` pieces of checked text, `restart`
//! when a model failed and the next starts over, `slow` once when it takes long), then `done` with the whole reply, or `failed` with an error kind the page
//! translates (never its text).
//! A question already answered gets its `done` at once, so a reconnecting page loses nothing.
use super::ai::Delta;
use crate::AppState;
use crate::rest::error::ApiError;
use app::assistant::stream::{CARDS, DELTA, DONE, FAILED, RESTART, SLOW};
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
    let slow_at = tokio::time::Instant::now() + state.assistant.slow_after();
    let stream = futures_util::stream::unfold(
        (rx, Some(writer), Some(slow_at)),
        |(mut rx, writer, slow_at)| async move {
            let writer = writer?;
            let slow = async {
                match slow_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            let next = tokio::select! {
                delta = rx.recv() => Some(delta),
                () = slow => None,
            };
            match next {
                // Still writing after a while: the page says the AI is slow (once).
                None => {
                    let event = Event::default().event(SLOW).data("");
                    return Some((Ok(event), (rx, Some(writer), None)));
                }
                Some(Some(delta)) => {
                    let event = match delta {
                        Delta::Cards(cards) => {
                            Event::default().event(CARDS).json_data(cards).ok()?
                        }
                        Delta::Text(text) => Event::default().event(DELTA).json_data(text).ok()?,
                        Delta::Restart => Event::default().event(RESTART).data(""),
                    };
                    return Some((Ok(event), (rx, Some(writer), slow_at)));
                }
                Some(None) => {}
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
            Some((Ok(event), (rx, None, None)))
        },
    )
    // A stopping server ends the stream; the answer is still stored for the next visit.
    .take_until(state.shutdown.clone().cancelled_owned());
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
