use super::next_param;
use crate::auth::commands::SignIn;
use crate::i18n::{Msg, t};
use crate::ui::form::{ErrorSummary, Field, field_message, form_error};
use crate::ui::layout::use_auth;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

#[component]
pub fn LoginPage() -> impl IntoView {
    let auth = use_auth();
    let error = form_error(
        move || auth.sign_in.value().get(),
        <SignIn as ServerFn>::PATH,
    );
    let next = next_param();
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
