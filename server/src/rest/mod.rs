//! The versioned REST API for other programs (`/api/v1`), documented by OpenAPI 3.1 generated
//! from these handlers (utoipa) and served at `/api/v1/openapi.json`.
//!
//! Handlers reach storage only through the app's ports (`AppState::services`), as the server
//! functions do. App types whose JSON is the API's are answered and read as they are (their
//! schemas derive in `app` under `ssr`); the DTOs here exist where the API differs — its ids
//! are strings, for one — and a comment above each says how.
pub mod account;
pub mod admin;
pub mod assistant;
pub mod auth;
pub mod bookings;
pub mod error;
pub mod events;
pub mod jobs;
pub mod own_account;
pub mod reports;
pub mod webhooks;

use crate::AppState;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "EventHub API", version = "1", description = "Events, registrations and tickets. Errors share one shape."),
    paths(auth::register, auth::token, auth::me,
          account::request_reset, account::confirm_reset, account::verify_email, account::change_email,
          account::change_password, account::sessions, account::close_session, account::sign_out_everywhere,
          own_account::begin_totp, own_account::confirm_totp, own_account::disable_totp,
          own_account::patch_settings, own_account::export, own_account::delete_me,
          events::list, events::get, events::create, events::patch,
          events::publish, events::cancel, events::delete, events::put_image,
          bookings::register, bookings::cancel, bookings::get, bookings::mine,
          bookings::react, bookings::unreact, bookings::my_reactions, bookings::attendees,
          bookings::check_in, bookings::mark_paid, admin::file, admin::mine, admin::list, admin::approve,
          admin::reject, admin::audit, admin::users, admin::patch_user, admin::events, admin::patch_event, reports::summary,
          assistant::chat, assistant::delete_conversation,
          jobs::list, jobs::retry, jobs::discard, jobs::mails, jobs::mail,
          webhooks::create, webhooks::list, webhooks::delete, webhooks::rotate, webhooks::enable,
          webhooks::deliveries, webhooks::retry),
    modifiers(&BearerAuth, &CommonAnswers)
)]
pub struct ApiDoc;

/// The answers an operation may give for reasons outside its handler, added where its own
/// annotation does not list them, all in the error shape: a request over the time limit or a
/// busy service (503 with `Retry-After`), a failure on the server (500); for operations with a
/// bearer token, no or a bad token (401) and a blocked account or a role too low (403); for
/// JSON bodies, one over 1 MB (413) or one that does not fit (422); for an id in the path, one
/// that is not ours (404). Every 429 and 503 carries `Retry-After`.
struct CommonAnswers;

impl Modify for CommonAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                let common = common_answers(operation);
                let responses = &mut operation.responses.responses;
                for (status, description) in common {
                    responses
                        .entry(status.into())
                        .or_insert_with(|| error_answer(description).into());
                }
                for (status, answer) in responses.iter_mut() {
                    if let (true, utoipa::openapi::RefOr::T(answer)) =
                        (status == "429" || status == "503", answer)
                    {
                        answer
                            .headers
                            .entry("Retry-After".into())
                            .or_insert_with(retry_after);
                    }
                }
            }
        }
    }
}

/// The statuses `operation` can answer whatever its handler does, with their descriptions.
fn common_answers(
    operation: &utoipa::openapi::path::Operation,
) -> Vec<(&'static str, &'static str)> {
    use utoipa::openapi::path::ParameterIn;
    let has_param = |place: ParameterIn| {
        operation
            .parameters
            .iter()
            .flatten()
            .any(|p| p.parameter_in == place)
    };
    let mut common = vec![
        ("500", "a failure on the server (details only in its log)"),
        (
            "503",
            "over the request time limit, or a service it needs is busy: retry after `Retry-After` seconds",
        ),
    ];
    if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
        common.push(("401", "no bearer token, or one that is not valid"));
        common.push(("403", "the account is blocked, or its role may not do this"));
    }
    let json_body = operation
        .request_body
        .as_ref()
        .is_some_and(|b| b.content.contains_key("application/json"));
    if json_body {
        common.push(("413", "a body over 1 MB"));
        common.push((
            "422",
            "a body that is not this JSON, or a field that is not valid (named in `fields`)",
        ));
    }
    if has_param(ParameterIn::Query) {
        common.push((
            "422",
            "a query parameter that cannot be read (named in `fields`)",
        ));
    }
    if has_param(ParameterIn::Path) {
        common.push(("404", "no such resource, or one the caller may not see"));
    }
    common
}

/// The `Retry-After` header of a 429 or 503.
fn retry_after() -> utoipa::openapi::Header {
    utoipa::openapi::HeaderBuilder::new()
        .schema(
            utoipa::openapi::ObjectBuilder::new()
                .schema_type(utoipa::openapi::Type::Integer)
                .minimum(Some(0)),
        )
        .description(Some("seconds to wait before trying again"))
        .build()
}

/// An answer in the error shape.
fn error_answer(description: &str) -> utoipa::openapi::Response {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

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
        .route("/me", get(auth::me).delete(own_account::delete_me))
        .route(
            "/me/totp",
            post(own_account::begin_totp).delete(own_account::disable_totp),
        )
        .route("/me/totp/confirm", post(own_account::confirm_totp))
        .route("/me/export", get(own_account::export))
        .route(
            "/admin/settings",
            axum::routing::patch(own_account::patch_settings),
        )
        .route("/auth/password-reset", post(account::request_reset))
        .route("/auth/password-reset/confirm", post(account::confirm_reset))
        .route("/auth/verify-email", post(account::verify_email))
        .route("/me/email", put(account::change_email))
        .route("/me/password", put(account::change_password))
        .route("/me/sessions", get(account::sessions))
        .route(
            "/me/sessions/{id}",
            axum::routing::delete(account::close_session),
        )
        .route(
            "/me/sign-out-everywhere",
            post(account::sign_out_everywhere),
        )
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
        .route("/admin/jobs", get(jobs::list))
        .route("/admin/jobs/{id}/retry", post(jobs::retry))
        .route("/admin/jobs/{id}/discard", post(jobs::discard))
        .route("/admin/mail", get(jobs::mails))
        .route("/admin/mail/{id}", get(jobs::mail))
        .route("/reports/summary", get(reports::summary))
        .route("/assistant/chat", post(assistant::chat))
        .route(
            "/assistant/conversations/{id}",
            axum::routing::delete(assistant::delete_conversation),
        )
        .route("/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/webhooks/{id}", axum::routing::delete(webhooks::delete))
        .route("/webhooks/{id}/secret", post(webhooks::rotate))
        .route("/webhooks/{id}/enable", post(webhooks::enable))
        .route("/webhooks/{id}/deliveries", get(webhooks::deliveries))
        .route(
            "/webhooks/{id}/deliveries/{delivery_id}/retry",
            post(webhooks::retry),
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

    /// What schemathesis checks the server against: every status an operation can answer is
    /// listed (in the error shape), every path parameter is declared, and the bounds of the
    /// parameters are the ones the server enforces.
    #[test]
    fn every_operation_lists_the_statuses_it_can_answer() {
        let doc = serde_json::to_value(ApiDoc::openapi()).expect("the document is JSON");
        let paths = doc["paths"].as_object().expect("paths");
        for (path, item) in paths {
            for (method, op) in item.as_object().expect("operations") {
                let responses = &op["responses"];
                let has = |status: &str| responses.get(status).is_some();
                let name = format!("{method} {path}");
                assert!(has("500") && has("503"), "{name}");
                assert!(
                    responses["503"]["headers"]["Retry-After"].is_object(),
                    "{name}"
                );
                if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
                    assert!(has("401") && has("403"), "{name}: {responses}");
                }
                let params = op["parameters"].as_array().cloned().unwrap_or_default();
                let declared =
                    |place: &'static str| params.iter().filter(move |p| p["in"] == place);
                let named: Vec<_> = declared("path")
                    .filter_map(|p| p["name"].as_str())
                    .collect();
                for segment in path.split('/').filter(|s| s.starts_with('{')) {
                    let id = segment.trim_matches(['{', '}']);
                    assert!(named.contains(&id), "{name} declares {id}");
                }
                if !named.is_empty() {
                    assert!(has("404"), "{name}");
                }
                if declared("query").next().is_some() || op["requestBody"].is_object() {
                    assert!(has("422"), "{name}");
                }
                if op["requestBody"]["content"]["application/json"].is_object() {
                    assert!(has("413"), "{name}");
                }
            }
        }
        let list = &doc["paths"]["/api/v1/events"]["get"]["parameters"];
        let bound = |name: &str, key: &str| {
            list.as_array()
                .and_then(|ps| ps.iter().find(|p| p["name"] == name))
                .map(|p| p["schema"][key].clone())
        };
        let max = app::events::rules::PAGE_MAX;
        assert_eq!(bound("page", "maximum"), Some(max.into()));
        let max = app::events::rules::PER_PAGE_MAX;
        assert_eq!(bound("per_page", "maximum"), Some(max.into()));
        let users = &doc["paths"]["/api/v1/admin/users"]["get"]["parameters"];
        let page = users
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == "page"));
        let page = page.expect("the users list documents page");
        assert_eq!(page["schema"]["maximum"], app::events::rules::PAGE_MAX);
    }
}
