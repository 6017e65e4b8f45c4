//! The defences every request passes on its way in and out:
//! - a state-changing request (POST, PUT, PATCH, DELETE) that says it comes from another site
//!   (`Sec-Fetch-Site: cross-site`, or an `Origin` that is not this site's) is refused with
//!   `403` in the error shape, session cookie or not, so no other site can post forms or call
//!   server functions as a signed-in visitor (CSRF). Requests without `Origin` (API clients)
//!   and bearer-token calls (a browser never adds those by itself) pass;
//! - every answer carries `X-Content-Type-Options: nosniff`, a `Referrer-Policy`, frame
//!   protection (`X-Frame-Options: DENY`, CSP `frame-ancestors 'none'`), and HSTS when the
//!   public URL is https;
//! - answers to signed-in requests and personal pages are `Cache-Control: no-store` unless
//!   they set their own caching (static files do), so no shared cache keeps ticket codes.
use crate::AppState;
use crate::rest::error::ApiError;
use app::error::AppError;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Paths whose pages or answers belong to one person.
const PERSONAL: [&str; 8] = [
    "/me",
    "/tickets/",
    "/agent",
    "/admin",
    "/assistant",
    "/api/v1/me",
    "/api/v1/registrations",
    "/api/v1/auth",
];

pub async fn defend(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let https = state.config.public_url.starts_with("https://");
    if writes(request.method()) && from_another_site(request.headers(), &state.config.public_url) {
        tracing::warn!(path = %request.uri().path(), "cross-site write refused");
        return with_headers(ApiError(AppError::Forbidden).into_response(), https, true);
    }
    let personal = carries_credentials(request.headers())
        || PERSONAL.iter().any(|p| request.uri().path().starts_with(p));
    with_headers(next.run(request).await, https, personal)
}

fn writes(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn carries_credentials(headers: &HeaderMap) -> bool {
    headers.contains_key(header::AUTHORIZATION)
        || headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains(crate::sessions::SESSION_COOKIE))
}

/// Whether the browser says this request was sent by a page of another site.
fn from_another_site(headers: &HeaderMap, public_url: &str) -> bool {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer "));
    if bearer {
        return false;
    }
    if headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"))
    {
        return true;
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let this_site = |origin: &str| {
        origin.eq_ignore_ascii_case(public_url.trim_end_matches('/'))
            || host.is_some_and(|host| {
                origin
                    .split_once("://")
                    .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(host))
            })
    };
    !this_site(origin)
}

fn with_headers(mut response: Response, https: bool, personal: bool) -> Response {
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name, value: &'static str| {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    };
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(
        headers,
        header::REFERRER_POLICY,
        "strict-origin-when-cross-origin",
    );
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        "frame-ancestors 'none'; base-uri 'self'; object-src 'none'; form-action 'self'",
    );
    if https {
        set(
            headers,
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        );
    }
    if personal {
        set(headers, header::CACHE_CONTROL, "no-store");
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn only_writes_from_other_sites_are_refused() {
        let site = "http://127.0.0.1:3000";
        let from = |pairs| from_another_site(&headers(pairs), site);
        assert!(!from(&[]), "API clients send no Origin");
        assert!(!from(&[("origin", "http://127.0.0.1:3000")]));
        assert!(!from(&[
            ("origin", "http://localhost:8080"),
            ("host", "localhost:8080")
        ]));
        assert!(from(&[
            ("origin", "https://evil.example"),
            ("host", "127.0.0.1:3000")
        ]));
        assert!(from(&[("origin", "null")]));
        assert!(from(&[("sec-fetch-site", "cross-site")]));
        assert!(!from(&[
            ("sec-fetch-site", "same-origin"),
            ("origin", "http://127.0.0.1:3000")
        ]));
        assert!(!from(&[
            ("origin", "https://evil.example"),
            ("authorization", "Bearer abc")
        ]));
        assert!(writes(&Method::POST) && writes(&Method::DELETE) && !writes(&Method::GET));
    }
}
