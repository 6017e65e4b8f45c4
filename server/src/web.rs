//! The browser side of the router: Leptos pages and server functions, the language switch,
//! health checks, static files, and the per-request context (services, locale, client address,
//! the page's script nonce).
use crate::AppState;
use app::i18n::{LOCALE_COOKIE, Locale};
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use leptos::nonce::Nonce;
use leptos::prelude::provide_context;
use serde::Deserialize;
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

/// What every page render and server function gets in its reactive context. The nonce is the
/// one `guard::defend` made for this request and names in the page's Content-Security-Policy;
/// provided after leptos_axum's own (a fresh one per render, which no header names), it is
/// the one the hydration script and the streamed resource data carry.
pub fn leptos_context(state: &AppState) -> impl Fn() + Clone + Send + Sync + 'static {
    let services = state.services();
    let public_url = app::ssr::PublicUrl(state.config.public_url.clone());
    move || {
        provide_context(services.clone());
        provide_context(public_url.clone());
        let parts = leptos::prelude::use_context::<http::request::Parts>();
        let locale = parts
            .as_ref()
            .map(|parts| request_locale(&parts.headers))
            .unwrap_or_default();
        provide_context(locale);
        if let Some(nonce) = parts.and_then(|parts| parts.extensions.get::<Nonce>().cloned()) {
            provide_context(nonce);
        }
    }
}

/// The language switcher's form (the header's buttons, the profile's select).
#[derive(Deserialize)]
pub struct LangForm {
    to: String,
    back: Option<String>,
}

/// `POST /lang` with `to=he&back=/me`: remembers the language (cookie, and the profile when
/// signed in) and returns to the page the person came from (`303`, a site path only). A form
/// post, so that a GET never changes anything: `GET /lang` answers `405` (the router's
/// answer for a route without GET), and the cross-site guard refuses other sites' posts.
pub async fn switch_language(
    State(state): State<AppState>,
    session: Session,
    Form(q): Form<LangForm>,
) -> Response {
    let Some(locale) = Locale::from_tag(&q.to) else {
        let msg = format!("Unknown language {:?}: choose en, he or pl.", q.to);
        return (StatusCode::UNPROCESSABLE_ENTITY, msg).into_response();
    };
    if let Ok(Some((record, _))) = app::ssr::signed_in(&session, state.accounts.as_ref()).await {
        use app::auth::ports::AccountCommands;
        let user_id = record.user.id;
        if let Err(e) = state.accounts.set_locale(user_id, locale).await {
            tracing::warn!("could not store the language of user {user_id}: {e}");
        }
    }
    let back = app::auth::rules::safe_next(q.back.as_deref());
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
