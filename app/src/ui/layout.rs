//! The frame around every page: header with navigation that follows the role, language
//! switcher, footer. The signed-in user comes from the `Auth` context.
use crate::auth::commands::{RegisterUser, SignIn, SignOut};
use crate::auth::queries::get_current_user;
use crate::auth::{Role, UserView};
use crate::error::AppError;
use crate::i18n::{Locale, Msg, t, use_locale};
use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// The account actions and the signed-in user, shared by the header and the account pages.
/// The user is fetched again whenever one of the actions completes.
#[derive(Clone, Copy)]
pub struct Auth {
    pub sign_in: ServerAction<SignIn>,
    pub register: ServerAction<RegisterUser>,
    pub sign_out: ServerAction<SignOut>,
    /// The account forms that change who is signed in or what the header shows.
    pub reset_password: ServerAction<crate::auth::security::ResetPassword>,
    pub verify_email: ServerAction<crate::auth::security::VerifyEmail>,
    pub sign_out_everywhere: ServerAction<crate::auth::security::SignOutEverywhere>,
    /// The second step of signing in, and what changes two-factor sign-in or ends the account.
    pub sign_in_code: ServerAction<crate::auth::commands::SignInCode>,
    pub confirm_two_factor: ServerAction<crate::auth::security::ConfirmTwoFactor>,
    pub disable_two_factor: ServerAction<crate::auth::security::DisableTwoFactor>,
    pub delete_account: ServerAction<crate::auth::security::DeleteAccount>,
    pub user: Resource<Result<Option<UserView>, AppError>>,
}

impl Auth {
    pub fn provide() -> Self {
        let sign_in = ServerAction::<SignIn>::new();
        let register = ServerAction::<RegisterUser>::new();
        let sign_out = ServerAction::<SignOut>::new();
        let reset_password = ServerAction::new();
        let verify_email = ServerAction::new();
        let sign_out_everywhere = ServerAction::new();
        let sign_in_code = ServerAction::new();
        let confirm_two_factor = ServerAction::new();
        let disable_two_factor = ServerAction::new();
        let delete_account = ServerAction::new();
        // Blocking: the header must be right in the first HTML, for browsers without scripts.
        let user = Resource::new_blocking(
            move || {
                (
                    sign_in.version().get(),
                    register.version().get(),
                    sign_out.version().get(),
                    reset_password.version().get(),
                    verify_email.version().get(),
                    sign_out_everywhere.version().get(),
                    sign_in_code.version().get(),
                    confirm_two_factor.version().get(),
                    disable_two_factor.version().get(),
                    delete_account.version().get(),
                )
            },
            |_| get_current_user(),
        );
        let auth = Auth {
            sign_in,
            register,
            sign_out,
            reset_password,
            verify_email,
            sign_out_everywhere,
            sign_in_code,
            confirm_two_factor,
            disable_two_factor,
            delete_account,
            user,
        };
        provide_context(auth);
        auth
    }
}

pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    view! {
        <a class="skip-link" href="#main">{t(Msg::NavHome)}</a>
        <header class="site-header">
            <div class="container header-row">
                <a class="brand" href="/">
                    <svg class="brand-mark" viewBox="0 0 32 32" width="26" height="26" aria-hidden="true">
                        <rect width="32" height="32" rx="8" fill="#5b3df5"/>
                        <path d="M16 6l10 10-10 10L6 16z" fill="#ffd166"/>
                    </svg>
                    {t(Msg::AppName)}
                </a>
                <nav class="main-nav" aria-label=t(Msg::NavMain)>
                    <a href="/">{t(Msg::NavHome)}</a>
                    <a href="/events">{t(Msg::NavEvents)}</a>
                    <a href="/calendar">{t(Msg::NavCalendar)}</a>
                    <a href="/assistant">{t(Msg::NavAssistant)}</a>
                </nav>
                <UserMenu/>
                <LanguageSwitcher/>
            </div>
        </header>
        <UnverifiedBanner/>
        <RoleHeldBanner/>
        <main id="main" class="container">{children()}</main>
        <footer class="site-footer">
            <div class="container">{t(Msg::FooterText)}</div>
        </footer>
    }
}

/// Under the header for a signed-in person whose address is not confirmed yet: a reminder and
/// a button mailing the link again. They may do everything meanwhile.
#[component]
fn UnverifiedBanner() -> impl IntoView {
    let auth = use_auth();
    let resend = ServerAction::<crate::auth::security::ResendVerification>::new();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                matches!(auth.user.await, Ok(Some(user)) if !user.email_verified).then(|| view! {
                    <div class="banner" role="status" data-testid="unverified-banner">
                        <span>{t(Msg::BannerUnverified)}</span>
                        <ActionForm action=resend attr:class="inline-form">
                            <button class="btn btn-ghost btn-sm" type="submit">{t(Msg::BannerResend)}</button>
                        </ActionForm>
                    </div>
                })
            })}
        </Transition>
    }
}

/// For an organizer or admin whose role requires two-factor sign-in and who has not turned it
/// on: their tools wait (they act as a plain user) until they do.
#[component]
fn RoleHeldBanner() -> impl IntoView {
    let auth = use_auth();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                matches!(auth.user.await, Ok(Some(user)) if user.role_held.is_some()).then(|| view! {
                    <div class="banner" role="status" data-testid="role-held-banner">
                        <span>{t(Msg::BannerTwoFactorRequired)}</span>
                        <a class="btn btn-primary btn-sm" href="/me/security#two-factor">{t(Msg::BannerTwoFactorLink)}</a>
                    </div>
                })
            })}
        </Transition>
    }
}

/// Visitors get sign-in links; signed-in people their name, role and a sign-out button.
#[component]
fn UserMenu() -> impl IntoView {
    let auth = use_auth();
    let signed_out = move || {
        view! {
            <div class="user-menu">
                <a class="btn btn-ghost" href="/login">{t(Msg::NavSignIn)}</a>
                <a class="btn btn-primary" href="/register">{t(Msg::NavRegister)}</a>
            </div>
        }
        .into_any()
    };
    view! {
        <Transition fallback=signed_out>
            {move || Suspend::new(async move {
                match auth.user.await {
                    Ok(Some(user)) => {
                        let badge = match user.role {
                            Role::Admin => Some(Msg::NavRoleBadgeAdmin),
                            Role::Agent => Some(Msg::NavRoleBadgeAgent),
                            Role::User => None,
                        };
                        let organizer = user.role >= Role::Agent;
                        view! {
                            <div class="user-menu">
                                {(user.role >= Role::Admin).then(|| view! { <a class="btn btn-ghost" href="/admin">{t(Msg::NavAdmin)}</a> })}
                                {organizer.then(|| view! { <a class="btn btn-ghost" href="/agent">{t(Msg::NavAgent)}</a> })}
                                {organizer.then(|| view! { <a class="btn btn-ghost" href="/agent/webhooks">{t(Msg::WebhooksNav)}</a> })}
                                {badge.map(|b| view! { <span class="badge">{t(b)}</span> })}
                                <a class="user-name" href="/me" title=t(Msg::NavProfile)>{user.display_name}</a>
                                <ActionForm action=auth.sign_out attr:class="inline-form">
                                    <button class="btn btn-ghost" type="submit">{t(Msg::NavSignOut)}</button>
                                </ActionForm>
                            </div>
                        }
                        .into_any()
                    }
                    _ => signed_out(),
                }
            })}
        </Transition>
    }
}

/// A small form posting to `/lang` (a server route that sets the cookie, stores the choice of
/// a signed-in person and comes back to this page), one button per language. A post, because a
/// GET must change nothing; a plain form, so it works without scripts. With them it is the
/// same full page load, which a new language needs anyway: every string, `lang` and `dir`
/// change. The router does not intercept plain forms, and `back` follows client navigation.
#[component]
fn LanguageSwitcher() -> impl IntoView {
    let current = use_locale();
    let location = use_location();
    let back = move || {
        let search = location.search.get();
        if search.is_empty() {
            location.pathname.get()
        } else {
            format!("{}?{search}", location.pathname.get())
        }
    };
    view! {
        <details class="lang-switcher">
            <summary aria-label=t(Msg::NavLanguage)>
                <svg class="icon" viewBox="0 0 24 24" aria-hidden="true" width="16" height="16">
                    <circle cx="12" cy="12" r="9" fill="none" stroke="currentColor" stroke-width="1.8"/>
                    <path d="M3 12h18M12 3c2.5 2.6 3.8 5.6 3.8 9s-1.3 6.4-3.8 9c-2.5-2.6-3.8-5.6-3.8-9S9.5 5.6 12 3z"
                        fill="none" stroke="currentColor" stroke-width="1.8"/>
                </svg>
                {t(current.native_name())}
            </summary>
            <form method="post" action="/lang">
                <input type="hidden" name="back" value=back/>
                <ul>
                    {Locale::ALL
                        .into_iter()
                        .map(|locale| {
                            view! {
                                <li>
                                    <button
                                        type="submit"
                                        name="to"
                                        value=locale.code()
                                        lang=locale.code()
                                        aria-current=(locale == current).then_some("true")
                                    >
                                        {locale.native_name().text(locale)}
                                    </button>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </form>
        </details>
    }
}
