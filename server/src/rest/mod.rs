//! The versioned REST API for other programs (`/api/v1`), documented by OpenAPI 3.1 generated
//! from these handlers (utoipa) and served at `/api/v1/openapi.json`.
//!
//! Handlers reach storage only through the app's ports (`AppState::services`), as the server
//! functions do. App types whose JSON is the API's are answered and read as they are (their
//! schemas derive in `app` under `ssr`); the DTOs here exist where the API differs — its ids
//! are strings, for one — and a comment above each says how.
pub mod admin;
pub mod assistant;
pub mod auth;
pub mod bookings;
pub mod error;
pub mod events;
pub mod reports;

use crate::AppState;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "EventHub API", version = "1", description = "Events, registrations and tickets. Errors share one shape."),
    paths(auth::register, auth::token, auth::me, events::list, events::get, events::create, events::patch,
          events::publish, events::cancel, events::delete, events::put_image,
          bookings::register, bookings::cancel, bookings::get, bookings::mine,
          bookings::react, bookings::unreact, bookings::my_reactions, bookings::attendees,
          bookings::check_in, bookings::mark_paid, admin::file, admin::mine, admin::list, admin::approve,
          admin::reject, admin::audit, admin::users, admin::patch_user, admin::events, admin::patch_event, reports::summary,
          assistant::chat, assistant::delete_conversation),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/register", post(auth::register))
        .route("/auth/token", post(auth::token))
        .route("/me", get(auth::me))
        .route("/events", get(events::list).post(events::create))
        .route(
            "/events/{id}",
            get(events::get).patch(events::patch).delete(events::delete),
        )
        .route("/events/{id}/publish", post(events::publish))
        .route("/events/{id}/cancel", post(events::cancel))
        .route("/events/{id}/image", put(events::put_image))
        .route("/events/{id}/registrations", post(bookings::register))
        .route(
            "/registrations/{id}",
            get(bookings::get).delete(bookings::cancel),
        )
        .route("/registrations/{id}/paid", post(bookings::mark_paid))
        .route("/events/{id}/attendees", get(bookings::attendees))
        .route("/events/{id}/check-in", post(bookings::check_in))
        .route("/me/registrations", get(bookings::mine))
        .route(
            "/events/{id}/reactions/{kind}",
            put(bookings::react).delete(bookings::unreact),
        )
        .route("/me/reactions", get(bookings::my_reactions))
        .route("/agent-requests", post(admin::file))
        .route("/me/agent-request", get(admin::mine))
        .route("/admin/agent-requests", get(admin::list))
        .route("/admin/agent-requests/{id}/approve", post(admin::approve))
        .route("/admin/agent-requests/{id}/reject", post(admin::reject))
        .route("/admin/audit", get(admin::audit))
        .route("/admin/users", get(admin::users))
        .route("/admin/users/{id}", axum::routing::patch(admin::patch_user))
        .route("/admin/events", get(admin::events))
        .route(
            "/admin/events/{id}",
            axum::routing::patch(admin::patch_event),
        )
        .route("/reports/summary", get(reports::summary))
        .route("/assistant/chat", post(assistant::chat))
        .route(
            "/assistant/conversations/{id}",
            axum::routing::delete(assistant::delete_conversation),
        )
        .route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .fallback(|| async { error::ApiError(app::error::AppError::NotFound) })
        .layer(DefaultBodyLimit::max(1024 * 1024))
}

#[cfg(test)]
mod tests {
    use super::ApiDoc;
    use serde_json::Value;
    use utoipa::OpenApi;

    /// `node` with its `$ref` followed (one level: enough to name the properties).
    fn resolved<'a>(doc: &'a Value, node: &'a Value) -> &'a Value {
        match node["$ref"].as_str() {
            Some(r) => &doc["components"]["schemas"][r.rsplit('/').next().unwrap_or_default()],
            None => node,
        }
    }

    /// Two body types of one name would share a component (one operation describing the
    /// other's body), and two answers of one status would keep only the last one.
    #[test]
    fn each_operation_describes_its_own_bodies() {
        let doc = serde_json::to_value(ApiDoc::openapi()).expect("the document is JSON");
        let register = &doc["paths"]["/api/v1/auth/register"]["post"]["requestBody"]["content"]["application/json"]
            ["schema"];
        let mut fields: Vec<_> = resolved(&doc, register)["required"]
            .as_array()
            .expect("required fields")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        fields.sort_unstable();
        assert_eq!(fields, ["display_name", "email", "password"]);
        let attendees =
            &doc["paths"]["/api/v1/events/{id}/attendees"]["get"]["responses"]["200"]["content"];
        assert!(attendees["application/json"].is_object(), "{attendees}");
        assert!(attendees["text/csv"].is_object(), "{attendees}");
    }
}
