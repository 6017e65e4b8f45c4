//! GraphQL at `/graphql`: a third door onto the same ports as the pages and REST (one rule,
//! three doors). Resolvers identify the caller, call a port in `state.services` and shape its
//! answer; they hold no SQL and no rule of their own beyond a coarse role gate, so a record
//! rule (organizer or admin) is the one inside the command.
//!
//! - `POST /graphql`: JSON `{query, variables, operationName}`, signed in by the API's bearer
//!   token or by the browser session. A session counts only on a JSON POST (the body extractor
//!   refuses any other content type, which no cross-site form can send without CORS) that the
//!   guard let through as coming from this site (`guard::defend` refuses cross-site writes).
//! - `GET /graphql`: GraphiQL, from this site's own files (`public/graphiql/`), under the
//!   pages' Content-Security-Policy.
//!
//! Errors carry `extensions.code` from the one `AppError` ([`errors`]); a request that is not
//! valid GraphQL (syntax, unknown fields, wrong variable types) gets `INVALID`. Limits: query
//! depth and complexity ([`Settings`]), `first` / `last` at most 100.
//!
//! Roles: visitors read published events; `me` and every mutation need a signed-in account,
//! event changes an agent (their own events) or an admin.
pub mod errors;
pub mod events;
pub mod mutations;
pub mod registrations;
pub mod subscriptions;

use crate::AppState;
use crate::rest::auth::{ApiUser, session_user};
use crate::rest::error::{ApiError, ApiJson};
use app::auth::UserView;
use app::ssr::ClientIp;
use app::ssr::Services;
use async_graphql::Schema;
use async_graphql::dataloader::DataLoader;
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};

/// Every query field: events (and `me`), one's registrations.
#[derive(async_graphql::MergedObject, Default)]
pub struct Query(events::EventQuery, registrations::RegistrationQuery);

/// The schema: queries, mutations and the live seats.
pub type EventHubSchema = Schema<Query, mutations::Mutation, subscriptions::Subscription>;

/// GraphQL's limits, each `off` for benchmarks.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// How deeply selections may nest (`EVENTHUB_GRAPHQL_MAX_DEPTH`, 15; GraphiQL's
    /// introspection query needs 13).
    pub max_depth: Option<usize>,
    /// The most a query may cost (`EVENTHUB_GRAPHQL_MAX_COMPLEXITY`, 5000): one per field, a
    /// list field's selection times its `first` or `last` (20 when neither is given).
    pub max_complexity: Option<usize>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_depth: Some(15),
            max_complexity: Some(5_000),
        }
    }
}

impl Settings {
    /// Reads the settings; those unset keep their defaults.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let d = Settings::default();
        let limit = |name: &str, default: Option<usize>| -> anyhow::Result<Option<usize>> {
            let default = default.map_or(0, |n| n as u64);
            Ok(
                crate::rate::parse_limit(name, var(name).as_deref(), default)?
                    .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
            )
        };
        Ok(Settings {
            max_depth: limit("EVENTHUB_GRAPHQL_MAX_DEPTH", d.max_depth)?,
            max_complexity: limit("EVENTHUB_GRAPHQL_MAX_COMPLEXITY", d.max_complexity)?,
        })
    }
}

/// The schema with its limits.
pub fn schema(settings: Settings) -> EventHubSchema {
    let mut builder = Schema::build(
        Query::default(),
        mutations::Mutation,
        subscriptions::Subscription,
    );
    if let Some(depth) = settings.max_depth {
        builder = builder.limit_depth(depth);
    }
    if let Some(complexity) = settings.max_complexity {
        builder = builder.limit_complexity(complexity);
    }
    builder.finish()
}

/// The schema in SDL, as committed in `schema.graphql` at the repository root.
pub fn sdl() -> String {
    schema(Settings::default()).sdl()
}

/// Who is asking: an account (signed in by token or session) or a visitor.
#[derive(Clone)]
pub struct Caller(pub Option<UserView>);

/// `/graphql`: GraphiQL on GET, subscriptions on a WebSocket opened there, queries and
/// mutations on POST (bodies up to 1 MB).
pub fn router(settings: Settings) -> Router<AppState> {
    Router::new()
        .route("/graphql", get(page_or_socket).post(execute))
        .layer(Extension(schema(settings)))
        .layer(DefaultBodyLimit::max(1024 * 1024))
}

/// Runs one operation for the caller of this request.
async fn execute(
    State(state): State<AppState>,
    Extension(schema): Extension<EventHubSchema>,
    bearer: Result<Option<ApiUser>, ApiError>,
    session: tower_sessions::Session,
    seen: Option<Extension<app::ssr::SeenUser>>,
    body: Result<ApiJson<async_graphql::Request>, ApiError>,
) -> Response {
    let caller = match bearer {
        Ok(Some(ApiUser(user))) => Some(user),
        // A session signs in only the JSON POSTs the guard let through as this site's.
        Ok(None) => session_user(&state, &session).await.ok(),
        Err(ApiError(refusal)) => return errors::refused(refusal).into_response(),
    };
    if let (Some(user), Some(Extension(seen))) = (&caller, seen) {
        seen.note(user.id.get());
    }
    let request = match body {
        Ok(ApiJson(request)) => request,
        Err(ApiError(refusal)) => return errors::refused(refusal).into_response(),
    };
    let services = state.services();
    let request = request
        .data(Caller(caller))
        .data(DataLoader::new(
            events::TicketTypes(services.event_queries.clone()),
            tokio::spawn,
        ))
        .data::<Services>(services);
    let response = errors::with_codes(schema.execute(request).await);
    async_graphql_axum::GraphQLResponse::from(response).into_response()
}

/// `GET /graphql`: GraphiQL for a browser, a graphql-ws connection for a WebSocket upgrade.
async fn page_or_socket(
    State(state): State<AppState>,
    Extension(schema): Extension<EventHubSchema>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    request: Request,
) -> Response {
    let upgrade = request
        .headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if !upgrade {
        return graphiql().await.into_response();
    }
    let (mut parts, _) = request.into_parts();
    let Ok(protocol) = GraphQLProtocol::from_request_parts(&mut parts, &state).await else {
        return (
            StatusCode::BAD_REQUEST,
            "a WebSocket at /graphql speaks graphql-transport-ws or graphql-ws: name one in Sec-WebSocket-Protocol",
        )
            .into_response();
    };
    let socket = match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
        Ok(socket) => socket,
        Err(refusal) => return refusal.into_response(),
    };
    // Subscriptions need no sign-in (their numbers are public): the socket carries no session.
    let mut data = async_graphql::Data::default();
    data.insert(Caller(None));
    data.insert::<Services>(state.services());
    data.insert(subscriptions::Live {
        hub: state.seat_changes.clone(),
        ip,
    });
    let stop = state.shutdown.clone();
    socket
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| async move {
            let serve = GraphQLWebSocket::new(socket, schema, protocol)
                .with_data(data)
                .serve();
            // A stop closes open sockets rather than wait for their clients to go.
            tokio::select! {
                () = serve => {}
                () = stop.cancelled() => {}
            }
        })
}

/// GraphiQL: a page of our own that loads the vendored files (no inline script, so the page
/// policy's `script-src 'self'` is all it needs).
async fn graphiql() -> Html<&'static str> {
    Html(include_str!("graphiql.html"))
}

#[cfg(test)]
mod tests {
    use super::Settings;

    #[test]
    fn the_limits_are_settings_and_each_may_be_off() {
        let read = |pairs: &[(&str, &str)]| {
            let pairs: Vec<(String, String)> = pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            Settings::from_vars(move |name| {
                pairs
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
            })
        };
        let default = read(&[]).unwrap();
        assert_eq!(
            (default.max_depth, default.max_complexity),
            (Some(15), Some(5_000))
        );
        let set = read(&[
            ("EVENTHUB_GRAPHQL_MAX_DEPTH", "off"),
            ("EVENTHUB_GRAPHQL_MAX_COMPLEXITY", "200"),
        ])
        .unwrap();
        assert_eq!((set.max_depth, set.max_complexity), (None, Some(200)));
        let bad = read(&[("EVENTHUB_GRAPHQL_MAX_DEPTH", "deep")]).unwrap_err();
        assert!(
            bad.to_string().contains("EVENTHUB_GRAPHQL_MAX_DEPTH"),
            "{bad}"
        );
    }
}
