//! Event changes for the organizer pages (the REST API calls the same ports).
use super::form::EventForm;
use super::{EventId, NewEvent};
use crate::error::AppError;
use leptos::prelude::*;
use server_fn::codec::{MultipartData, MultipartFormData};

/// Creates a draft. Agents and admins only.
#[server]
pub async fn create_event(new: NewEvent) -> Result<EventId, AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Agent).await?;
            ssr::services()?
                .event_commands
                .create_event(&actor, new)
                .await
        }
        .await,
    )
}

/// Publishes a draft. Only its organizer or an admin may.
#[server]
pub async fn publish_event(id: EventId) -> Result<(), AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Agent).await?;
            ssr::services()?
                .event_commands
                .publish_event(&actor, id)
                .await
        }
        .await,
    )
}

/// Cancels an event with a reason. Only its organizer or an admin may.
#[server]
pub async fn cancel_event(id: EventId, reason: String) -> Result<(), AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Agent).await?;
            ssr::services()?
                .event_commands
                .cancel_event(&actor, id, reason)
                .await
        }
        .await,
    )
}

/// Deletes a draft (or, for an admin, any event).
#[server]
pub async fn delete_event(id: EventId) -> Result<(), AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Agent).await?;
            ssr::services()?
                .event_commands
                .delete_event(&actor, id)
                .await
        }
        .await,
    )
}

/// The organizer form: creates a draft (`id` empty) or saves changes to an event, then goes to
/// the dashboard. Agents (their own events) and admins.
#[server]
pub async fn save_event_form(id: Option<EventId>, form: EventForm) -> Result<(), AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Agent).await?;
            let (new, mut errors) = form.to_new_event();
            if !errors.is_empty() {
                // Report everything at once; a number that did not parse outranks what
                // validation says about the 0 standing in for it.
                if let Err(found) = crate::events::rules::validate_event(&new) {
                    for (field, problem) in found {
                        errors.entry(field).or_insert(problem);
                    }
                }
                return Err(AppError::Invalid(errors));
            }
            let commands = ssr::services()?.event_commands;
            match id {
                None => {
                    commands.create_event(&actor, new).await?;
                }
                Some(id) => {
                    commands.update_event(&actor, id, new.into()).await?;
                }
            }
            leptos_axum::redirect("/agent");
            Ok(())
        }
        .await,
    )
}

/// The image form of the edit page (`multipart/form-data`, fields `id` and `image`): replaces
/// the event's image and returns to the edit page. Works as a plain form post without scripts.
#[server(input = MultipartFormData)]
pub async fn upload_event_image(data: MultipartData) -> Result<(), AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Agent).await?;
            let mut form = data.into_inner().ok_or(AppError::Internal)?;
            let malformed = |detail: String| {
                AppError::field("image", crate::error::Problem::Malformed { detail })
            };
            let (mut id, mut bytes) = (None, None);
            while let Some(mut field) = form
                .next_field()
                .await
                .map_err(|e| malformed(e.to_string()))?
            {
                match field.name() {
                    Some("id") => {
                        let text = field.text().await.map_err(|e| malformed(e.to_string()))?;
                        id = Some(
                            text.trim()
                                .parse::<EventId>()
                                .map_err(|_| AppError::NotFound)?,
                        );
                    }
                    Some("image") => {
                        // Read at most one byte past the limit, whatever the request claims.
                        let mut buf = Vec::new();
                        while let Some(chunk) =
                            field.chunk().await.map_err(|e| malformed(e.to_string()))?
                        {
                            buf.extend_from_slice(&chunk);
                            if buf.len() > super::MAX_IMAGE_BYTES {
                                return Err(AppError::PayloadTooLarge);
                            }
                        }
                        bytes = Some(buf);
                    }
                    _ => {}
                }
            }
            let id = id.ok_or(AppError::NotFound)?;
            let bytes = bytes
                .filter(|b| !b.is_empty())
                .ok_or_else(|| AppError::field("image", crate::error::Problem::Required))?;
            ssr::services()?
                .event_commands
                .set_event_image(&actor, id, bytes)
                .await?;
            leptos_axum::redirect(&format!("/agent/events/{id}/edit?image=saved"));
            Ok(())
        }
        .await,
    )
}
