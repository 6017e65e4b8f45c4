//! The defences every request passes on its way in and out:
//! - a state-changing request (POST, PUT, PATCH, DELETE) that says it comes from another site
//!   (`Sec-Fetch-Site: cross-site`, or an `Origin` that is not this site's) is refused with
//!   `403` in the error shape, session cookie or not, so no other site can post forms or call
//!   server functions as a signed-in visitor (CSRF). Requests without `Origin` (API clients)
//!   and bearer-token calls (a browser never adds those by itself) pass, and so do REST API
//!   calls from a site `EVENTHUB_CORS_ORIGINS` lists (the API acts on bearer tokens only, never
//!   on the cookie, so such a page may also sign in there);
//! - every answer carries `X-Content-Type-Options: nosniff`, a `Referrer-Policy`,
//!   `X-Frame-Options: DENY`, and HSTS when the public URL is https;
//! - every answer carries a Content-Security-Policy: HTML pages a strict one ([`page_policy`])
//!   naming a nonce made for this request, which `web::leptos_context` hands to the page's
//!   Leptos context so its scripts carry it; everything else `default-src 'none';
//!   frame-ancestors 'none'`;
//! - answers to signed-in requests and personal pages are `Cache-Control: no-store` unless
//!   they set their own caching (static files do), so no shared cache keeps ticket codes.
//!
//! Beside [`defend`], `router()` takes from here the REST API's CORS ([`cors`]) and the
//! whole-request time limit ([`limit_time`]).
use crate::AppState;
use crate::rest::error::ApiError;
use app::error::AppError;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use leptos::nonce::Nonce;
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};

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

pub async fn defend(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let config = &state.config;
    let https = config.public_url.starts_with("https://");
    if writes(request.method())
        && from_another_site(request.headers(), &config.public_url)
        && !api_call_from_listed_origin(
            request.uri().path(),
            request.headers(),
            &config.cors_origins,
        )
    {
        tracing::warn!(path = %request.uri().path(), "cross-site write refused");
        return with_headers(
            ApiError(AppError::Forbidden).into_response(),
            https,
            true,
            None,
        );
    }
    let personal = carries_credentials(request.headers())
        || PERSONAL.iter().any(|p| request.uri().path().starts_with(p));
    // Made for every request (16 random bytes; leptos_axum builds leptos with its `nonce`
    // feature): whichever answer turns out to be a page names it in its policy, and the page's
    // scripts find it in the request (`web::leptos_context`).
    let nonce = Nonce::new();
    request.extensions_mut().insert(nonce.clone());
    with_headers(next.run(request).await, https, personal, Some(&nonce))
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

/// A write to the REST API from a page of a site the operator listed for CORS.
fn api_call_from_listed_origin(path: &str, headers: &HeaderMap, cors_origins: &[String]) -> bool {
    let api = path == "/api/v1" || path.starts_with("/api/v1/");
    api && headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|origin| {
            cors_origins
                .iter()
                .any(|listed| listed.eq_ignore_ascii_case(origin))
        })
}

/// What answers other than HTML pages may do in a browser: nothing (a JSON answer or an SVG
/// opened as a document runs no script and loads nothing), and not be framed.
const OTHER_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// The policy of an HTML page, with this request's nonce:
/// - scripts: this site's files (`/pkg`, `/check-in-scanner.js`) and inline scripts that carry
///   the nonce: Leptos puts it on its hydration script and on the resource data it streams.
///   `'wasm-unsafe-eval'` lets the WASM client compile. The JSON-LD block of event pages
///   (`type="application/ld+json"`) is data, which browsers never run and CSP does not
///   govern, so it needs no nonce. Inline event handlers (`onclick="…"`) are refused.
/// - styles: this site's sheet only. No page has a `<style>` element or a `style` attribute
///   (charts are drawn without animation, so charts-rs writes neither; ammonia drops `style`
///   from Markdown), so neither a nonce nor `'unsafe-inline'` is needed; one added later shows
///   as a CSP error in the end-to-end tests, which fail on console errors.
/// - images: this site's (`/media`), `data:` URLs and Cloudinary's delivery host.
/// - fetches and event streams (server functions, seats, assistant replies): this site only.
/// - no plugins, no `<base>` elsewhere, forms post here only, never framed.
fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data: https://res.cloudinary.com; \
         connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

fn is_html(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/html"))
}

fn with_headers(
    mut response: Response,
    https: bool,
    personal: bool,
    nonce: Option<&Nonce>,
) -> Response {
    let policy = match nonce {
        Some(nonce) if is_html(&response) => HeaderValue::from_str(&page_policy(nonce))
            .unwrap_or(HeaderValue::from_static(OTHER_POLICY)),
        _ => HeaderValue::from_static(OTHER_POLICY),
    };
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
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(policy);
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

/// CORS for the REST API (`router()` puts it on `/api/v1` only): pages of the listed origins
/// may call it with a bearer token: the methods and headers it uses, `Retry-After` readable,
/// preflights remembered for an hour. No credentials: the API never reads the cookie.
/// `None` when no origin is listed, so no CORS header is ever sent.
pub fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    // `config::parse_origins` let only scheme://host[:port] through: always a header value.
    let origins = origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin).ok());
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PATCH,
                Method::PUT,
                Method::DELETE,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("idempotency-key"),
            ])
            .expose_headers([header::RETRY_AFTER])
            .max_age(Duration::from_secs(3600)),
    )
}

/// The whole-request time limit (`EVENTHUB_REQUEST_TIMEOUT_SECS`; `None` = off): a request
/// not answered in time gets `503` in the error shape with `Retry-After`, and its handler is
/// dropped (a booking already handed to the writer still commits: a retry with its
/// idempotency key finds it). The status is not `408`: browsers read that as "idle connection
/// closed" and may send the request again on their own (a booking twice). Answers that take
/// long by design, and bound themselves, are exempt
/// ([`runs_long`]). Only the wait for the answer's head counts: a body that streams (a page,
/// a CSV) is not cut off.
pub async fn limit_time(
    State(limit): State<Option<Duration>>,
    request: Request,
    next: Next,
) -> Response {
    match limit {
        Some(limit) if !runs_long(request.method(), request.uri().path()) => {
            let path = request.uri().path().to_owned();
            match tokio::time::timeout(limit, next.run(request)).await {
                Ok(response) => response,
                Err(_) => {
                    tracing::warn!(%path, "request answered 503: over the time limit");
                    ApiError(AppError::Unavailable {
                        service: "the server".into(),
                        retry_after_secs: 1,
                    })
                    .into_response()
                }
            }
        }
        _ => next.run(request).await,
    }
}

/// The server-sent event streams (live seats, assistant replies: they stay open), image
/// uploads (a large file on a slow line) and the assistant's whole answers (REST chat and the
/// question posted as a plain form: the model chain's own timeouts bound them).
fn runs_long(method: &Method, path: &str) -> bool {
    use app::assistant::commands::AskAssistant;
    use app::events::commands::UploadEventImage;
    use leptos::server_fn::ServerFn;
    let one_segment =
        |rest: Option<&str>| rest.is_some_and(|id| !id.is_empty() && !id.contains('/'));
    let under = |prefix: &str, suffix: &str| {
        one_segment(
            path.strip_prefix(prefix)
                .and_then(|rest| rest.strip_suffix(suffix)),
        )
    };
    let streams =
        under("/events/", "/seats") || one_segment(path.strip_prefix("/assistant/replies/"));
    let uploads = (method == Method::PUT && under("/api/v1/events/", "/image"))
        || path == <UploadEventImage as ServerFn>::PATH;
    let answers = path == "/api/v1/assistant/chat" || path == <AskAssistant as ServerFn>::PATH;
    streams || uploads || answers
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;
    use tower::ServiceExt;

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

    #[test]
    fn only_listed_origins_may_write_to_the_api_from_their_pages() {
        let listed = ["https://app.example".to_owned()];
        let from = |path, origin| {
            api_call_from_listed_origin(path, &headers(&[("origin", origin)]), &listed)
        };
        assert!(from("/api/v1/auth/token", "https://app.example"));
        assert!(from("/api/v1/auth/token", "https://APP.example"));
        assert!(!from("/api/v1/auth/token", "https://evil.example"));
        assert!(!from("/api/v1x/auth/token", "https://app.example"));
        assert!(
            !from("/api/sign_in", "https://app.example"),
            "server functions"
        );
        assert!(!from("/lang", "https://app.example"));
        assert!(!api_call_from_listed_origin(
            "/api/v1/me",
            &headers(&[]),
            &listed
        ));
    }

    #[test]
    fn streams_uploads_and_assistant_answers_run_without_the_time_limit() {
        use app::events::commands::UploadEventImage;
        use leptos::server_fn::ServerFn;
        for (method, path) in [
            (Method::GET, "/events/12/seats"),
            (Method::GET, "/assistant/replies/7"),
            (Method::PUT, "/api/v1/events/12/image"),
            (Method::POST, UploadEventImage::PATH),
            (Method::POST, "/api/v1/assistant/chat"),
        ] {
            assert!(runs_long(&method, path), "{method} {path}");
        }
        for (method, path) in [
            (Method::GET, "/events/12"),
            (Method::GET, "/events//seats"),
            (Method::GET, "/events/12/x/seats"),
            (Method::GET, "/assistant/replies/"),
            (Method::POST, "/api/v1/events/12/image"),
            (Method::POST, "/api/v1/events"),
            (Method::GET, "/"),
        ] {
            assert!(!runs_long(&method, path), "{method} {path}");
        }
    }

    #[tokio::test]
    async fn a_request_over_the_limit_gets_503_and_the_exempt_ones_run_on() {
        use axum::Router;
        use axum::routing::get;
        let slow = || async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            "done"
        };
        let router = |limit| {
            Router::new()
                .route("/slow", get(slow))
                .route("/events/{id}/seats", get(slow))
                .layer(axum::middleware::from_fn_with_state(limit, limit_time))
        };
        let status = |router: Router, path: &'static str| async move {
            let request = Request::get(path).body(axum::body::Body::empty()).unwrap();
            router.oneshot(request).await.unwrap().status()
        };
        let limited = router(Some(Duration::from_millis(30)));
        assert_eq!(
            status(limited.clone(), "/slow").await,
            StatusCode::SERVICE_UNAVAILABLE
        );
        // In the error shape, with Retry-After, like every 503.
        let request = Request::get("/slow")
            .body(axum::body::Body::empty())
            .unwrap();
        let answer = limited.clone().oneshot(request).await.unwrap();
        assert!(answer.headers().contains_key(header::RETRY_AFTER));
        let body = axum::body::to_bytes(answer.into_body(), 4096)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["kind"], "unavailable", "{body}");
        assert_eq!(status(limited, "/events/1/seats").await, StatusCode::OK);
        assert_eq!(status(router(None), "/slow").await, StatusCode::OK);
    }

    #[test]
    fn pages_get_the_strict_policy_and_other_answers_the_minimal_one() {
        let answer = |content_type: &'static str| {
            let mut response = Response::new(axum::body::Body::empty());
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            response
        };
        let policy = |response: &Response| {
            response.headers()[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .to_owned()
        };
        let nonce = Nonce::new();
        let page = with_headers(
            answer("text/html; charset=utf-8"),
            false,
            false,
            Some(&nonce),
        );
        assert_eq!(policy(&page), page_policy(&nonce));
        assert!(policy(&page).contains(&format!("script-src 'self' 'nonce-{nonce}' ")));
        assert!(!policy(&page).contains("unsafe-inline"));
        let json = with_headers(answer("application/json"), false, false, Some(&nonce));
        assert_eq!(policy(&json), OTHER_POLICY);
        let refused = with_headers(answer("text/html"), false, false, None);
        assert_eq!(policy(&refused), OTHER_POLICY, "no nonce, no page policy");
        assert!(
            page.headers()
                .get(header::STRICT_TRANSPORT_SECURITY)
                .is_none()
        );
        let https = with_headers(answer("text/html"), true, true, Some(&nonce));
        assert!(
            https
                .headers()
                .contains_key(header::STRICT_TRANSPORT_SECURITY)
        );
        assert_eq!(https.headers()[header::CACHE_CONTROL], "no-store");
    }
}
