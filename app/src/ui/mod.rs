//! Feature-free components and the page frame.
pub mod chart;
pub mod form;
pub mod home;
pub mod layout;
pub mod not_found;

/// Gives the server's answer the status of `err` while a page renders it (404 for a missing
/// event, 403 for a forbidden page); nothing happens in the browser.
pub fn set_error_status(err: &crate::error::AppError) {
    #[cfg(feature = "ssr")]
    if let Some(res) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
        && let Ok(status) = http::StatusCode::from_u16(err.status())
    {
        res.set_status(status);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = err;
}

/// What a role-gated page shows instead of itself: visitors are sent to sign in and brought
/// back to `here`; others see why (`forbidden` names who may open the page) with its status.
pub fn refusal(
    err: crate::error::AppError,
    here: &str,
    forbidden: crate::i18n::Msg,
    locale: crate::i18n::Locale,
) -> leptos::prelude::AnyView {
    use crate::error::AppError;
    use leptos::prelude::*;
    if err == AppError::Unauthenticated {
        let path = format!("/login?next={here}");
        return view! { <leptos_router::components::Redirect path/> }.into_any();
    }
    set_error_status(&err);
    let text = if err == AppError::Forbidden {
        crate::i18n::t(forbidden).to_owned()
    } else {
        err.text(locale)
    };
    view! { <p class="alert alert-error" role="alert">{text}</p> }.into_any()
}

/// The route's `:id` as a number (`None` when it is not one), for pages of one thing.
pub fn id_param<Id>() -> leptos::prelude::Memo<Option<Id>>
where
    Id: std::str::FromStr + Clone + PartialEq + Send + Sync + 'static,
{
    use leptos::prelude::*;
    let params = leptos_router::hooks::use_params_map();
    Memo::new(move |_| params.read().get("id").and_then(|id| id.parse().ok()))
}

/// Previous / next links of a paged list, with "Page n of m" between them when `pages` is
/// known. Plain links, so paging works without scripts.
#[leptos::component]
pub fn Pager(
    prev: Option<String>,
    next: Option<String>,
    page: i64,
    #[prop(optional)] pages: Option<i64>,
) -> impl leptos::IntoView {
    use crate::i18n::{Msg, fill, t};
    use leptos::prelude::*;
    view! {
        <nav class="pager" aria-label=t(Msg::PagerLabel)>
            {prev.map(|href| view! { <a class="btn btn-ghost" rel="prev" href=href>{t(Msg::EventsPrev)}</a> })}
            {pages.map(|pages| view! { <span>{fill(t(Msg::EventsPage), &[("page", &page), ("pages", &pages)])}</span> })}
            {next.map(|href| view! { <a class="btn btn-ghost" rel="next" href=href>{t(Msg::EventsNext)}</a> })}
        </nav>
    }
}

/// Percent-encodes a value for a URL query (everything but RFC 3986 unreserved characters).
pub fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
