//! `/me/security`: change the password, change the email address, see the browsers signed in
//! (sign one out, or all of them and every API token), two-factor sign-in and one's own data
//! (`two_factor.rs`). Every form works without scripts.
use crate::auth::security::{ChangeEmail, ChangePassword, CloseSession, my_sessions};
use crate::i18n::{Msg, format_local, t, use_locale};
use crate::ui::form::{ErrorSummary, Field, field_message, form_error};
use crate::ui::layout::use_auth;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

/// What the last form did, from `?done=` (the redirect after it).
fn done_message(done: &str) -> Option<Msg> {
    match done {
        "password" => Some(Msg::SecurityDonePassword),
        "email" => Some(Msg::SecurityDoneEmail),
        "session" => Some(Msg::SecurityDoneSession),
        "verification" => Some(Msg::SecurityDoneVerification),
        "two-factor-off" => Some(Msg::SecurityDoneTwoFactorOff),
        _ => None,
    }
}

#[component]
pub fn SecurityPage() -> impl IntoView {
    let auth = use_auth();
    let query = use_query_map();
    let done = move || query.read().get("done").and_then(|d| done_message(&d));
    // Made here, once: the view below is drawn again when the account loads or changes.
    let two_factor = super::two_factor::TwoFactorData::new();
    let sessions = SessionsData::new();
    view! {
        <Title text=t(Msg::SecurityTitle)/>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match auth.user.await {
                    Ok(Some(user)) => view! {
                        <section class="panel">
                            <h1>{t(Msg::SecurityTitle)}</h1>
                            <p class="muted">{t(Msg::SecurityLead)}</p>
                            {move || done().map(|msg| view! {
                                <p class="alert alert-ok" role="status" data-testid="security-done">{t(msg)}</p>
                            })}
                            <dl class="facts">
                                <dt>{t(Msg::ProfileEmail)}</dt>
                                <dd>
                                    <bdi>{user.email.clone()}</bdi> " " {super::verified_mark(user.email_verified)}
                                </dd>
                            </dl>
                        </section>
                        <PasswordForm/>
                        <EmailForm/>
                        <super::two_factor::TwoFactorPanel data=two_factor/>
                        <Sessions data=sessions/>
                        <super::two_factor::DataPanel two_factor=user.two_factor/>
                    }.into_any(),
                    _ => view! { <Redirect path="/login?next=/me/security"/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn PasswordForm() -> impl IntoView {
    let action = ServerAction::<ChangePassword>::new();
    let error = form_error(
        move || action.value().get(),
        <ChangePassword as ServerFn>::PATH,
    );
    view! {
        <section class="panel" aria-labelledby="security-password">
            <h2 id="security-password">{t(Msg::SecurityPassword)}</h2>
            <ErrorSummary error/>
            <ActionForm action attr:class="stack" attr:novalidate="true">
                <Field label=Msg::FormCurrentPassword name="current_password" kind="password"
                    autocomplete="current-password" required=true error=field_message(error, "current_password")/>
                <Field label=Msg::FormNewPassword name="new_password" kind="password" autocomplete="new-password"
                    required=true hint=Msg::FormPasswordHint error=field_message(error, "new_password")/>
                <button class="btn btn-primary" type="submit" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { t(Msg::FormSending) } else { t(Msg::SecurityPassword) }}
                </button>
            </ActionForm>
        </section>
    }
}

#[component]
fn EmailForm() -> impl IntoView {
    let action = ServerAction::<ChangeEmail>::new();
    let error = form_error(
        move || action.value().get(),
        <ChangeEmail as ServerFn>::PATH,
    );
    view! {
        <section class="panel" aria-labelledby="security-email">
            <h2 id="security-email">{t(Msg::SecurityEmail)}</h2>
            <p class="muted">{t(Msg::SecurityEmailHint)}</p>
            <ErrorSummary error/>
            <ActionForm action attr:class="stack" attr:novalidate="true">
                <Field label=Msg::FormNewEmail name="email" kind="email" autocomplete="email" required=true
                    error=field_message(error, "email")/>
                <Field label=Msg::FormPassword name="password" kind="password" autocomplete="current-password"
                    required=true error=field_message(error, "password")/>
                <button class="btn btn-primary" type="submit" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { t(Msg::FormSending) } else { t(Msg::SecurityEmailSubmit) }}
                </button>
            </ActionForm>
        </section>
    }
}

/// The browsers signed in, and the action that signs one out.
#[derive(Clone, Copy)]
struct SessionsData {
    close: ServerAction<CloseSession>,
    sessions: Resource<Result<Vec<crate::auth::AccountSession>, crate::error::AppError>>,
}

impl SessionsData {
    fn new() -> Self {
        let close = ServerAction::<CloseSession>::new();
        let sessions = Resource::new(move || close.version().get(), |_| my_sessions());
        Self { close, sessions }
    }
}

#[component]
fn Sessions(data: SessionsData) -> impl IntoView {
    let locale = use_locale();
    let SessionsData { close, sessions } = data;
    let everywhere = use_auth().sign_out_everywhere;
    let when = move |at: chrono::DateTime<chrono::Utc>| {
        view! { <time datetime=at.to_rfc3339()>{format_local(locale, at.naive_utc())} " UTC"</time> }
    };
    view! {
        <section class="panel" aria-labelledby="security-sessions">
            <h2 id="security-sessions">{t(Msg::SecuritySessions)}</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let list = sessions.await.unwrap_or_default();
                    view! {
                        <div class="table-wrap">
                            <table class="data-table sessions" data-testid="sessions">
                                <thead><tr>
                                    <th scope="col">{t(Msg::SecurityDevice)}</th>
                                    <th scope="col">{t(Msg::SecurityAddress)}</th>
                                    <th scope="col">{t(Msg::SecuritySignedIn)}</th>
                                    <th scope="col">{t(Msg::SecurityLastSeen)}</th>
                                    <th scope="col"><span class="visually-hidden">{t(Msg::SecuritySignOut)}</span></th>
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|s| view! {
                                        <tr>
                                            <td title=s.device.clone()><bdi>{match crate::auth::rules::device_name(&s.device) {
                                                name if name.is_empty() => t(Msg::SecurityUnknownDevice).to_owned(),
                                                name => name,
                                            }}</bdi></td>
                                            <td><bdi>{s.address.clone()}</bdi></td>
                                            <td>{when(s.created_at)}</td>
                                            <td>{when(s.last_seen_at)}</td>
                                            <td>{if s.current {
                                                view! { <span class="badge">{t(Msg::SecurityThisDevice)}</span> }.into_any()
                                            } else {
                                                view! {
                                                    <ActionForm action=close>
                                                        <input type="hidden" name="id" value=s.id.clone()/>
                                                        <button class="btn btn-ghost btn-sm" type="submit">{t(Msg::SecuritySignOut)}</button>
                                                    </ActionForm>
                                                }.into_any()
                                            }}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }
                })}
            </Transition>
            <ActionForm action=everywhere attr:class="stack">
                <p class="muted">{t(Msg::SecurityEverywhereHint)}</p>
                <button class="btn btn-danger" type="submit" data-testid="sign-out-everywhere">{t(Msg::SecuritySignOutEverywhere)}</button>
            </ActionForm>
        </section>
    }
}
