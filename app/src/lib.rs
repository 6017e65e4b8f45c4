//! EventHub's pages, components, wire types and server functions, compiled twice: with `ssr`
//! into the server and with `hydrate` into the browser's WASM. One folder per feature.
#![recursion_limit = "256"]

pub mod admin;
pub mod assistant;
pub mod auth;
pub mod bookings;
pub mod error;
pub mod events;
pub mod i18n;
pub mod ids;
pub mod reports;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod ui;
pub mod webhooks;

use crate::i18n::{Msg, t, use_locale};
use admin::ui::{AdminEventsPage, AdminPage, AgentRequestsPage, AuditPage, UsersPage};
use admin::ui::{JobsPage, MailDetailPage, MailPage};
use auth::ui::{LoginPage, ProfilePage, RegisterPage};
use bookings::ui::{AttendeesPage, CheckInPage, TicketPage};
use events::ui::{AgentPage, CalendarPage, EditEventPage, EventPage, EventsPage, NewEventPage};
use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};
use reports::ui::{AdminReportsPage, AgentReportsPage};
use ui::home::HomePage;
use ui::layout::{Auth, Layout};
use ui::not_found::NotFound;

/// The HTML document the server streams. `lang` and `dir` come from the request's locale,
/// which the server put into the context before rendering.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let locale = use_locale();
    view! {
        <!DOCTYPE html>
        <html lang=locale.code() dir=locale.dir()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                // Carries the request's CSP nonce from the context (server/src/guard.rs).
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    #[cfg(feature = "hydrate")]
    provide_context(i18n::locale_from_document());
    Auth::provide();
    // Marks the page as live once the WASM has taken over (tests wait for it).
    #[cfg(feature = "hydrate")]
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Stylesheet id="leptos" href="/pkg/eventhub.css"/>
        <Title formatter=|text: String| format!("{text} · EventHub")/>
        <Router>
            <Layout>
                <ErrorBoundary fallback=|errors| view! { <ErrorPage errors/> }>
                    // Async SSR: every page arrives complete, so it reads right without scripts
                    // (out-of-order streaming would leave fallbacks in place until JS swaps them).
                    <Routes fallback=NotFound>
                        <Route path=path!("") view=HomePage ssr=SsrMode::Async/>
                        <Route path=path!("events") view=EventsPage ssr=SsrMode::Async/>
                        <Route path=path!("events/:id") view=EventPage ssr=SsrMode::Async/>
                        <Route path=path!("calendar") view=CalendarPage ssr=SsrMode::Async/>
                        <Route path=path!("agent") view=AgentPage ssr=SsrMode::Async/>
                        <Route path=path!("agent/events/new") view=NewEventPage ssr=SsrMode::Async/>
                        <Route path=path!("agent/events/:id/edit") view=EditEventPage ssr=SsrMode::Async/>
                        <Route path=path!("agent/events/:id/attendees") view=AttendeesPage ssr=SsrMode::Async/>
                        <Route path=path!("agent/events/:id/check-in") view=CheckInPage ssr=SsrMode::Async/>
                        <Route path=path!("login") view=LoginPage ssr=SsrMode::Async/>
                        <Route path=path!("login/code") view=crate::auth::ui::LoginCodePage ssr=SsrMode::Async/>
                        <Route path=path!("register") view=RegisterPage ssr=SsrMode::Async/>
                        <Route path=path!("me") view=ProfilePage ssr=SsrMode::Async/>
                        <Route path=path!("me/security") view=crate::auth::ui::SecurityPage ssr=SsrMode::Async/>
                        <Route path=path!("forgot-password") view=crate::auth::ui::ForgotPasswordPage ssr=SsrMode::Async/>
                        <Route path=path!("reset-password") view=crate::auth::ui::ResetPasswordPage ssr=SsrMode::Async/>
                        <Route path=path!("verify-email") view=crate::auth::ui::VerifyEmailPage ssr=SsrMode::Async/>
                        <Route path=path!("tickets/:id") view=TicketPage ssr=SsrMode::Async/>
                        <Route path=path!("admin") view=AdminPage ssr=SsrMode::Async/>
                        <Route path=path!("admin/agent-requests") view=AgentRequestsPage ssr=SsrMode::Async/>
                        <Route path=path!("admin/audit") view=AuditPage ssr=SsrMode::Async/>
                        <Route path=path!("admin/users") view=UsersPage ssr=SsrMode::Async/>
                        <Route path=path!("admin/events") view=AdminEventsPage ssr=SsrMode::Async/>
                        <Route path=path!("admin/jobs") view=JobsPage ssr=SsrMode::Async/>
                        <Route path=path!("admin/mail") view=MailPage ssr=SsrMode::Async/>
                        <Route path=path!("admin/mail/:id") view=MailDetailPage ssr=SsrMode::Async/>
                        <Route path=path!("admin/system") view=admin::ui::SystemPage ssr=SsrMode::Async/>
                        <Route path=path!("admin/reports") view=AdminReportsPage ssr=SsrMode::Async/>
                        <Route path=path!("agent/reports") view=AgentReportsPage ssr=SsrMode::Async/>
                        <Route path=path!("agent/webhooks") view=webhooks::ui::WebhooksPage ssr=SsrMode::Async/>
                        <Route path=path!("agent/webhooks/:id") view=webhooks::ui::WebhookLogPage ssr=SsrMode::Async/>
                        <Route path=path!("assistant") view=crate::assistant::ui::AssistantPage ssr=SsrMode::Async/>
                    </Routes>
                </ErrorBoundary>
            </Layout>
        </Router>
    }
}

/// Shown when a page fails to render; the details stay in the server log.
#[component]
fn ErrorPage(errors: ArcRwSignal<Errors>) -> impl IntoView {
    let locale = use_locale();
    view! {
        <section class="panel narrow center" role="alert">
            <h1>{t(Msg::ErrorPageTitle)}</h1>
            <ul>
                {move || errors.get().into_iter().map(|(_, e)| {
                    let text = e.downcast_ref::<error::AppError>().map_or_else(|| t(Msg::ErrorInternal).to_owned(), |e| e.text(locale));
                    view! { <li>{text}</li> }
                }).collect_view()}
            </ul>
            <a class="btn btn-primary" href="/">{t(Msg::NotFoundHome)}</a>
        </section>
    }
}
