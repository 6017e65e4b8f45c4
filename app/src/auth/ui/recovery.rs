//! The pages mailed links open: `/forgot-password` (ask for a link), `/reset-password?token=…`
//! (set a new password) and `/verify-email?token=…` (confirm an address). Each works as a plain
//! form without scripts; the token travels in a hidden field, never in a GET that changes state.
use crate::auth::security::{RequestPasswordReset, ResetPassword, VerifyEmail};
use crate::i18n::{Msg, t};
use crate::ui::form::{ErrorSummary, Field, field_message, form_error};
use crate::ui::layout::use_auth;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// A query parameter as a signal.
fn query_param(name: &'static str) -> Signal<String> {
    let query = use_query_map();
    Signal::derive(move || query.read().get(name).unwrap_or_default())
}

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let action = ServerAction::<RequestPasswordReset>::new();
    let error = form_error(
        move || action.value().get(),
        <RequestPasswordReset as ServerFn>::PATH,
    );
    let sent = query_param("sent");
    view! {
        <Title text=t(Msg::ForgotTitle)/>
        <section class="panel narrow">
            <h1>{t(Msg::ForgotTitle)}</h1>
            <Show
                when=move || sent.get() == "1"
                fallback=move || view! {
                    <p class="muted">{t(Msg::ForgotLead)}</p>
                    <ErrorSummary error/>
                    <ActionForm action attr:class="stack" attr:novalidate="true">
                        <Field label=Msg::FormEmail name="email" kind="email" autocomplete="email" required=true
                            error=field_message(error, "email")/>
                        <button class="btn btn-primary btn-block" type="submit" disabled=move || action.pending().get()>
                            {move || if action.pending().get() { t(Msg::FormSending) } else { t(Msg::ForgotSubmit) }}
                        </button>
                    </ActionForm>
                }
            >
                <p class="alert alert-ok" role="status" data-testid="reset-sent">{t(Msg::ForgotSent)}</p>
            </Show>
            <p class="muted center"><a href="/login">{t(Msg::NavSignIn)}</a></p>
        </section>
    }
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let action = use_auth().reset_password;
    let error = form_error(
        move || action.value().get(),
        <ResetPassword as ServerFn>::PATH,
    );
    let token = query_param("token");
    let token_error = field_message(error, "token");
    view! {
        <Title text=t(Msg::ResetTitle)/>
        <section class="panel narrow">
            <h1>{t(Msg::ResetTitle)}</h1>
            <Show
                when=move || !token.get().is_empty()
                fallback=|| view! {
                    <p class="alert alert-error" role="alert">{t(Msg::ResetNoToken)}</p>
                    <p><a class="btn btn-ghost" href="/forgot-password">{t(Msg::ResetAskAgain)}</a></p>
                }
            >
                <p class="muted">{t(Msg::ResetLead)}</p>
                <ErrorSummary error/>
                {move || token_error.get().map(|message| view! {
                    <p class="alert alert-error" role="alert" data-testid="link-invalid">
                        {message} " " <a href="/forgot-password">{t(Msg::ResetAskAgain)}</a>
                    </p>
                })}
                <ActionForm action attr:class="stack" attr:novalidate="true">
                    <input type="hidden" name="token" prop:value=token value=token/>
                    <Field label=Msg::FormNewPassword name="password" kind="password" autocomplete="new-password"
                        required=true hint=Msg::FormPasswordHint error=field_message(error, "password")/>
                    <button class="btn btn-primary btn-block" type="submit" disabled=move || action.pending().get()>
                        {move || if action.pending().get() { t(Msg::FormSending) } else { t(Msg::ResetSubmit) }}
                    </button>
                </ActionForm>
            </Show>
        </section>
    }
}

#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let action = use_auth().verify_email;
    let error = form_error(
        move || action.value().get(),
        <VerifyEmail as ServerFn>::PATH,
    );
    let token = query_param("token");
    let done = query_param("done");
    view! {
        <Title text=t(Msg::VerifyTitle)/>
        <section class="panel narrow">
            <h1>{t(Msg::VerifyTitle)}</h1>
            <Show
                when=move || done.get() != "1"
                fallback=|| view! {
                    <p class="alert alert-ok" role="status" data-testid="email-verified">{t(Msg::VerifyDone)}</p>
                    <p><a class="btn btn-ghost" href="/me">{t(Msg::ProfileTitle)}</a></p>
                }
            >
                <p class="muted">{t(Msg::VerifyLead)}</p>
                <ErrorSummary error/>
                {move || field_message(error, "token").get().map(|message| view! {
                    <p class="alert alert-error" role="alert" data-testid="link-invalid">{message}</p>
                })}
                <ActionForm action attr:class="stack">
                    <input type="hidden" name="token" prop:value=token value=token/>
                    <button class="btn btn-primary btn-block" type="submit" disabled=move || action.pending().get()>
                        {move || if action.pending().get() { t(Msg::FormSending) } else { t(Msg::VerifySubmit) }}
                    </button>
                </ActionForm>
            </Show>
        </section>
    }
}
