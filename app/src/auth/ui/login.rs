use super::next_param;
use crate::auth::commands::{SignIn, SignInCode};
use crate::i18n::{Msg, t};
use crate::ui::form::{ErrorSummary, Field, field_message, form_error};
use crate::ui::layout::use_auth;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginPage() -> impl IntoView {
    let auth = use_auth();
    let error = form_error(
        move || auth.sign_in.value().get(),
        <SignIn as ServerFn>::PATH,
    );
    let next = next_param();
    let query = use_query_map();
    // Why the form is shown again: the second step took too long, or the account was deleted.
    let notice = move || {
        let query = query.read();
        if query.get("deleted").is_some() {
            Some((Msg::DataDeletedTitle, Msg::DataDeletedBody))
        } else if query.get("expired").is_some() {
            Some((Msg::LoginCodeTitle, Msg::LoginCodeExpired))
        } else {
            None
        }
    };
    let register_href = move || {
        let next = next.get();
        if next.is_empty() {
            "/register".to_owned()
        } else {
            format!("/register?next={next}")
        }
    };
    view! {
        <Title text=t(Msg::LoginTitle)/>
        <section class="panel narrow">
            <h1>{t(Msg::LoginTitle)}</h1>
            {move || notice().map(|(title, body)| view! {
                <div class="alert alert-ok" role="status" data-testid="login-notice">
                    <strong>{t(title)}</strong> " " {t(body)}
                </div>
            })}
            <p class="muted">{t(Msg::LoginLead)}</p>
            <ErrorSummary error/>
            <ActionForm action=auth.sign_in attr:class="stack" attr:novalidate="true">
                <input type="hidden" name="next" prop:value=next value=next/>
                <Field label=Msg::FormEmail name="email" kind="email" autocomplete="email" required=true
                    error=field_message(error, "email")/>
                <Field label=Msg::FormPassword name="password" kind="password" autocomplete="current-password"
                    required=true error=field_message(error, "password")/>
                <button class="btn btn-primary btn-block" type="submit" disabled=move || auth.sign_in.pending().get()>
                    {move || if auth.sign_in.pending().get() { t(Msg::FormSending) } else { t(Msg::LoginSubmit) }}
                </button>
            </ActionForm>
            <p class="center"><a href="/forgot-password" data-testid="forgot-password">{t(Msg::AuthForgotLink)}</a></p>
            <p class="muted center">{t(Msg::LoginNoAccount)} " " <a href=register_href>{t(Msg::NavRegister)}</a></p>
        </section>
    }
}

/// `/login/code`: the second step of signing in with two-factor sign-in on. The password was
/// right a moment ago in this browser (the session remembers whose code to ask for).
#[component]
pub fn LoginCodePage() -> impl IntoView {
    let auth = use_auth();
    let error = form_error(
        move || auth.sign_in_code.value().get(),
        <SignInCode as ServerFn>::PATH,
    );
    let next = next_param();
    view! {
        <Title text=t(Msg::LoginCodeTitle)/>
        <section class="panel narrow">
            <h1>{t(Msg::LoginCodeTitle)}</h1>
            <p class="muted">{t(Msg::LoginCodeLead)}</p>
            <ErrorSummary error/>
            <ActionForm action=auth.sign_in_code attr:class="stack" attr:novalidate="true">
                <input type="hidden" name="next" prop:value=next value=next/>
                <Field label=Msg::FormCode name="code" autocomplete="one-time-code" required=true
                    error=field_message(error, "code")/>
                <button class="btn btn-primary btn-block" type="submit" disabled=move || auth.sign_in_code.pending().get()>
                    {move || if auth.sign_in_code.pending().get() { t(Msg::FormSending) } else { t(Msg::LoginCodeSubmit) }}
                </button>
            </ActionForm>
            <p class="center"><a href="/login">{t(Msg::NavSignIn)}</a></p>
        </section>
    }
}
