//! The browser side of the router: Leptos pages and server functions, the language switch,
//! health checks, static files, and the per-request context (services, locale, client address).
use crate::AppState;
use app::i18n::{LOCALE_COOKIE, Locale};
use app::ssr::ClientIp;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use leptos::prelude::provide_context;
use serde::Deserialize;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use tower_sessions::Session;

/// The language for a request: the remembered choice, else the browser's preference, else English.
pub fn request_locale(headers: &HeaderMap) -> Locale {
    cookie(headers, LOCALE_COOKIE)
        .and_then(|v| Locale::from_tag(&v))
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Locale::negotiate)
        })
        .unwrap_or_default()
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            pair.trim()
                .strip_prefix(name)?
                .strip_prefix('=')
                .map(str::to_owned)
        })
}

/// What every page render and server function gets in its reactive context.
pub fn leptos_context(state: &AppState) -> impl Fn() + Clone + Send + Sync + 'static {
    let services = state.services();
    move || {
        provide_context(services.clone());
        let locale = leptos::prelude::use_context::<http::request::Parts>()
            .map(|parts| request_locale(&parts.headers))
            .unwrap_or_default();
        provide_context(locale);
    }
}

/// Records the peer address for rate limits (tests without a socket count as loopback).
pub async fn client_ip(mut req: Request, next: Next) -> Response {
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |c| c.0.ip());
    req.extensions_mut().insert(ClientIp(ip));
    next.run(req).await
}

#[derive(Deserialize)]
pub struct LangQuery {
    to: String,
    back: Option<String>,
}

/// `GET /lang?to=he&back=/me`: remembers the language (cookie, and the profile when signed in)
/// and returns to the page the person came from.
pub async fn switch_language(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<LangQuery>,
) -> Response {
    let Some(locale) = Locale::from_tag(&q.to) else {
        let msg = format!("Unknown language {:?}: choose en, he or pl.", q.to);
        return (StatusCode::UNPROCESSABLE_ENTITY, msg).into_response();
    };
    if let Ok(Some(user_id)) = session.get::<i64>(app::ssr::SESSION_USER_KEY).await {
        use app::auth::ports::AccountCommands;
        if let Err(e) = state.accounts.set_locale(user_id.into(), locale).await {
            tracing::warn!("could not store the language of user {user_id}: {e}");
        }
    }
    let back = app::auth::commands::safe_next(q.back.as_deref());
    let cookie = format!(
        "{LOCALE_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
        locale.code()
    );
    let mut res = Redirect::to(&back).into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).expect("ascii cookie"),
    );
    res
}

pub async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the database answers.
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!("readiness check failed: {e:#}");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remembered_choice_beats_the_browser_preference() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("pl-PL,pl;q=0.9"),
        );
        assert_eq!(request_locale(&headers), Locale::Pl);
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=b; eventhub_lang=he"),
        );
        assert_eq!(request_locale(&headers), Locale::He);
    }
}
