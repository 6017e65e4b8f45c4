//! The parts of `/me/security` about two-factor sign-in and one's own data: set up an
//! authenticator app (QR code and key, confirmed by its first code), the recovery codes shown
//! once, turning it off; download everything kept about the account, or delete it.
use crate::auth::security::{BeginTwoFactor, DeleteAccount, TwoFactorState, my_two_factor};
use crate::i18n::{Msg, fill, t};
use crate::ui::form::{ErrorSummary, Field, field_message, form_error};
use crate::ui::layout::use_auth;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// What the two-factor panel reads, made once by the page outside anything drawn again: a
/// resource made inside a redrawn view fetches again, and the session hands fresh recovery
/// codes out once.
#[derive(Clone, Copy)]
pub struct TwoFactorData {
    begin: ServerAction<BeginTwoFactor>,
    state: Resource<Result<TwoFactorState, crate::error::AppError>>,
}

impl TwoFactorData {
    pub fn new() -> Self {
        let auth = use_auth();
        let begin = ServerAction::<BeginTwoFactor>::new();
        let state = Resource::new(
            move || {
                (
                    begin.version().get(),
                    auth.confirm_two_factor.version().get(),
                    auth.disable_two_factor.version().get(),
                )
            },
            |_| my_two_factor(),
        );
        Self { begin, state }
    }
}

#[component]
pub fn TwoFactorPanel(data: TwoFactorData) -> impl IntoView {
    let TwoFactorData { begin, state } = data;
    view! {
        <section class="panel" id="two-factor" aria-labelledby="security-two-factor" data-testid="two-factor">
            <h2 id="security-two-factor">{t(Msg::SecurityTwoFactor)}</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match state.await {
                        Ok(state) => view! { <TwoFactorBody state begin/> }.into_any(),
                        Err(e) => view! { <p class="alert alert-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn TwoFactorBody(state: TwoFactorState, begin: ServerAction<BeginTwoFactor>) -> impl IntoView {
    // With scripts the confirming action answered the codes (the page may be drawn again
    // meanwhile, and the session hands them out once); without, the session has them.
    let answered = use_auth()
        .confirm_two_factor
        .value()
        .get_untracked()
        .and_then(Result::ok)
        .filter(|_| state.on)
        .unwrap_or_default();
    let codes = if state.fresh_codes.is_empty() {
        answered
    } else {
        state.fresh_codes
    };
    let fresh = (!codes.is_empty()).then(|| {
        view! {
            <div class="recovery-codes" role="status" data-testid="recovery-codes">
                <h3>{t(Msg::SecurityRecoveryCodes)}</h3>
                <p>{t(Msg::SecurityRecoveryHint)}</p>
                <ul class="codes">
                    {codes.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}
                </ul>
            </div>
        }
    });
    let body = if state.on {
        view! {
            <p class="alert alert-ok" data-testid="two-factor-on">{t(Msg::SecurityTwoFactorOnLead)}</p>
            <p class="muted" data-testid="recovery-left">
                {fill(t(Msg::SecurityRecoveryLeft), &[("count", &state.recovery_left)])}
            </p>
            <DisableForm/>
        }
        .into_any()
    } else if let Some(setup) = state.pending {
        view! {
            <p>{t(Msg::SecurityTwoFactorScan)}</p>
            <div class="two-factor-setup">
                <div class="qr" role="img" aria-label=t(Msg::SecurityTwoFactorScan) inner_html=setup.qr_svg></div>
                <dl class="facts">
                    <dt>{t(Msg::SecurityTwoFactorKey)}</dt>
                    <dd><code class="secret" dir="ltr" data-testid="two-factor-secret">{setup.secret}</code></dd>
                </dl>
            </div>
            <ConfirmForm/>
        }
        .into_any()
    } else {
        view! {
            <p>{t(Msg::SecurityTwoFactorOffLead)}</p>
            <ActionForm action=begin>
                <button class="btn btn-primary" type="submit" data-testid="two-factor-start">{t(Msg::SecurityTwoFactorStart)}</button>
            </ActionForm>
        }
        .into_any()
    };
    view! {
        {state.required.then(|| view! { <p class="alert alert-error" role="alert">{t(Msg::BannerTwoFactorRequired)}</p> })}
        {fresh}
        {body}
    }
}

#[component]
fn ConfirmForm() -> impl IntoView {
    let action = use_auth().confirm_two_factor;
    let error = form_error(
        move || action.value().get(),
        <crate::auth::security::ConfirmTwoFactor as ServerFn>::PATH,
    );
    view! {
        <ErrorSummary error/>
        <ActionForm action attr:class="stack" attr:novalidate="true">
            <Field label=Msg::FormOtp name="code" autocomplete="one-time-code" required=true
                error=field_message(error, "code")/>
            <button class="btn btn-primary" type="submit" disabled=move || action.pending().get()>
                {t(Msg::SecurityTwoFactorConfirm)}
            </button>
        </ActionForm>
    }
}

#[component]
fn DisableForm() -> impl IntoView {
    let action = use_auth().disable_two_factor;
    let error = form_error(
        move || action.value().get(),
        <crate::auth::security::DisableTwoFactor as ServerFn>::PATH,
    );
    view! {
        <ErrorSummary error/>
        <ActionForm action attr:class="stack" attr:novalidate="true">
            <Field label=Msg::FormCode name="code" autocomplete="one-time-code" required=true
                hint=Msg::SecurityTwoFactorDisableHint error=field_message(error, "code")/>
            <button class="btn btn-ghost" type="submit" disabled=move || action.pending().get()>
                {t(Msg::SecurityTwoFactorDisable)}
            </button>
        </ActionForm>
    }
}

/// Download everything kept about the account, or delete it (password and, with two-factor
/// sign-in on, a code given again).
#[component]
pub fn DataPanel(two_factor: bool) -> impl IntoView {
    let action = use_auth().delete_account;
    let error = form_error(
        move || action.value().get(),
        <DeleteAccount as ServerFn>::PATH,
    );
    view! {
        <section class="panel" id="data" aria-labelledby="security-data" data-testid="own-data">
            <h2 id="security-data">{t(Msg::DataTitle)}</h2>
            <p class="muted">{t(Msg::DataLead)}</p>
            <p>
                <a class="btn btn-ghost" href="/me/data" download="eventhub-my-data.json" rel="external" data-testid="data-download">
                    {t(Msg::DataDownload)}
                </a>
            </p>
            <p class="muted">{t(Msg::DataDownloadHint)}</p>
            <h3>{t(Msg::DataDelete)}</h3>
            <p>{t(Msg::DataDeleteHint)}</p>
            <ErrorSummary error/>
            <ActionForm action attr:class="stack" attr:novalidate="true">
                <Field label=Msg::FormPassword name="password" kind="password" autocomplete="current-password"
                    required=true error=field_message(error, "password")/>
                {two_factor.then(|| view! {
                    <Field label=Msg::FormOtp name="otp" autocomplete="one-time-code" required=true
                        error=field_message(error, "otp")/>
                })}
                <button class="btn btn-danger" type="submit" disabled=move || action.pending().get() data-testid="data-delete">
                    {t(Msg::DataDeleteSubmit)}
                </button>
            </ActionForm>
        </section>
    }
}
