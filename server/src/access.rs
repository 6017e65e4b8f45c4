//! What every request leaves behind: an id (`x-request-id`, kept from a trusted proxy,
//! otherwise made here, and sent back with the answer), a span its log lines carry (`request`
//! with `request_id`, `method`, the matched `route` and the `user` once identified), one line
//! when it is answered (status and latency added), and the HTTP metrics.
use crate::AppState;
use app::ssr::SeenUser;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;
use tracing::Instrument;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The route label of requests no route matched (static files, unknown paths).
const UNMATCHED: &str = "unmatched";

/// The outermost layer: ids, span, log line, metrics.
pub async fn observe(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |c| c.0.ip());
    let from_proxy = state
        .config
        .trusted_proxies
        .iter()
        .any(|net| net.contains(&peer));
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| from_proxy && well_formed(v))
        .map_or_else(|| uuid::Uuid::new_v4().simple().to_string(), str::to_owned);
    let header = HeaderValue::from_str(&id).expect("a checked or made id is a header value");
    req.headers_mut().insert(REQUEST_ID, header.clone());
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED.to_owned(), |p| route_label(p.as_str()));
    let seen = SeenUser::default();
    req.extensions_mut().insert(seen.clone());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %method,
        route = %route,
        user = tracing::field::Empty,
    );
    let mut res = next.run(req).instrument(span.clone()).await;
    let took = started.elapsed();
    let status = res.status().as_u16();
    state.metrics.http.answered(&method, &route, status, took);
    res.headers_mut().insert(REQUEST_ID, header);
    let user = seen.get();
    if let Some(user) = user {
        span.record("user", user);
    }
    let latency_ms = took.as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if is_probe(&route) {
            tracing::debug!(request_id = %id, method = %method, route = %route, status, latency_ms, user, "answered");
        } else {
            tracing::info!(request_id = %id, method = %method, route = %route, status, latency_ms, user, "answered");
        }
    });
    res
}

/// An id a proxy may hand on: 1 to 128 of letters, digits and `-_.:/+=`.
fn well_formed(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=".contains(&b))
}

/// Health checks and scrapes answer every few seconds: their lines are `debug`.
fn is_probe(route: &str) -> bool {
    matches!(route, "/healthz" | "/readyz" | "/metrics")
}

/// A nested service's catch-all (`/pkg/{*__private__axum_nest_tail_param}`) as `/pkg/*`.
fn route_label(path: &str) -> String {
    match path.find("{*") {
        Some(at) => format!("{}*", &path[..at]),
        None => path.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_short_ids_are_handed_on() {
        assert!(well_formed("9f1c2d3e-aaaa-4bbb-8ccc-0123456789ab"));
        assert!(well_formed("Root=1-67891233-abcdef012345678912345678"));
        for bad in ["", "a b", "x\"y", &"a".repeat(129), "ünï"] {
            assert!(!well_formed(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_nested_services_catch_all_is_labelled_by_its_prefix() {
        assert_eq!(
            route_label("/pkg/{*__private__axum_nest_tail_param}"),
            "/pkg/*"
        );
        assert_eq!(route_label("/events/{id}"), "/events/{id}");
    }
}
