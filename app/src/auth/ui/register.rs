use super::next_param;
use crate::auth::commands::RegisterUser;
use crate::auth::rules::{check_display_name, check_email, check_password};
use crate::i18n::{Msg, t, use_locale};
use crate::ui::form::{ErrorSummary, Field, field_message, form_error};
use crate::ui::layout::use_auth;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

/// Registration. With scripts the fields are checked as the person types (same rules as the
/// server); without them the server's answer comes back through the form redirect.
#[component]
pub fn RegisterPage() -> impl IntoView {
    let auth = use_auth();
    let locale = use_locale();
    let error = form_error(
        move || auth.register.value().get(),
        <RegisterUser as ServerFn>::PATH,
    );
    let next = next_param();
    let (email, name, password) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let touched_email = RwSignal::new(false);
    let touched_name = RwSignal::new(false);

    // A local problem wins while the person edits; otherwise show what the server said.
    let combine =
        move |local: Option<String>, server: Signal<Option<String>>| -> Signal<Option<String>> {
            Signal::derive(move || local.clone().or_else(|| server.get()))
        };
    let email_error = {
        let server = field_message(error, "email");
        Signal::derive(move || {
            let local = touched_email
                .get()
                .then(|| check_email(&email.get()).err())
                .flatten()
                .map(|p| p.text(locale));
            combine(local, server).get()
        })
    };
    let name_error = {
        let server = field_message(error, "display_name");
        Signal::derive(move || {
            let local = touched_name
                .get()
                .then(|| check_display_name(&name.get()).err())
                .flatten()
                .map(|p| p.text(locale));
            combine(local, server).get()
        })
    };
    let password_error = {
        let server = field_message(error, "password");
        Signal::derive(move || {
            let value = password.get();
            let local = (!value.is_empty())
                .then(|| check_password(&value, &email.get()).err())
                .flatten()
                .map(|p| p.text(locale));
            combine(local, server).get()
        })
    };
    let login_href = move || {
        let next = next.get();
        if next.is_empty() {
            "/login".to_owned()
        } else {
            format!("/login?next={next}")
        }
    };

    view! {
        <Title text=t(Msg::RegisterTitle)/>
        <section class="panel narrow">
            <h1>{t(Msg::RegisterTitle)}</h1>
            <p class="muted">{t(Msg::RegisterLead)}</p>
            <ErrorSummary error/>
            <ActionForm action=auth.register attr:class="stack" attr:novalidate="true">
                <input type="hidden" name="next" prop:value=next value=next/>
                <Field label=Msg::FormDisplayName name="display_name" autocomplete="name" required=true
                    value=name error=name_error on_blur=Callback::new(move |_| touched_name.set(true))/>
                <Field label=Msg::FormEmail name="email" kind="email" autocomplete="email" required=true
                    value=email error=email_error on_blur=Callback::new(move |_| touched_email.set(true))/>
                <Field label=Msg::FormPassword name="password" kind="password" autocomplete="new-password"
                    required=true hint=Msg::FormPasswordHint value=password error=password_error/>
                <button class="btn btn-primary btn-block" type="submit" disabled=move || auth.register.pending().get()>
                    {move || if auth.register.pending().get() { t(Msg::FormSending) } else { t(Msg::RegisterSubmit) }}
                </button>
            </ActionForm>
            <p class="muted center">{t(Msg::RegisterHaveAccount)} " " <a href=login_href>{t(Msg::NavSignIn)}</a></p>
        </section>
    }
}
