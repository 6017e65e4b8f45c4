//! Form pieces shared by every feature: a labelled field with its error, and the error summary.
use crate::error::AppError;
use crate::i18n::{Msg, t, use_locale};
use leptos::prelude::*;
use leptos::server_fn::error::ServerFnUrlError;
use leptos_router::hooks::use_query_map;

/// The last error of a form's server function: from the action when scripts run, or from the
/// `__err` query that server_fn's form redirect adds when the form was posted without scripts.
pub fn form_error<T>(
    value: impl Fn() -> Option<Result<T, AppError>> + Send + Sync + 'static,
    server_fn_path: &'static str,
) -> Signal<Option<AppError>> {
    let query = use_query_map();
    Signal::derive(move || {
        if let Some(result) = value() {
            return result.err();
        }
        let query = query.read();
        match (query.get("__path"), query.get("__err")) {
            (Some(path), Some(err)) if path == server_fn_path => {
                Some(ServerFnUrlError::<AppError>::decode_err(&err))
            }
            _ => None,
        }
    })
}

/// The message for `field` in `error`, in the page's language.
pub fn field_message(
    error: Signal<Option<AppError>>,
    field: &'static str,
) -> Signal<Option<String>> {
    let locale = use_locale();
    Signal::derive(move || {
        error
            .get()
            .and_then(|e| e.field_errors().get(field).map(|p| p.text(locale)))
    })
}

/// The element id for a form field name (`form[ticket_types][0][name]` → `f-form-ticket_types-0-name`).
pub fn field_id(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if c == '[' || c == ']' { '-' } else { c })
        .collect();
    format!("f-{}", cleaned.replace("--", "-").trim_end_matches('-'))
}

/// A summary shown above a form that the server refused.
#[component]
pub fn ErrorSummary(error: Signal<Option<AppError>>) -> impl IntoView {
    let locale = use_locale();
    move || {
        error.get().map(|e| {
            let text = if e.field_errors().is_empty() {
                e.text(locale)
            } else {
                t(Msg::FormErrorsTitle).to_owned()
            };
            view! { <div class="alert alert-error" role="alert">{text}</div> }
        })
    }
}

/// A labelled input with an optional hint and an error that the field points at (aria).
#[component]
pub fn Field(
    label: Msg,
    #[prop(into)] name: String,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(optional)] hint: Option<Msg>,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(optional)] value: Option<RwSignal<String>>,
    #[prop(optional)] on_blur: Option<Callback<()>>,
    #[prop(optional)] required: bool,
) -> impl IntoView {
    let id = field_id(&name);
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described_by = {
        let (error_id, hint_id) = (error_id.clone(), hint_id.clone());
        move || {
            let mut ids = Vec::new();
            if hint.is_some() {
                ids.push(hint_id.clone());
            }
            if error.get().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    let value = value.unwrap_or_else(|| RwSignal::new(String::new()));
    view! {
        <div class="field" class:field-invalid=move || error.get().is_some()>
            <label for=id.clone()>{t(label)}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                required=required
                aria-invalid=move || if error.get().is_some() { "true" } else { "false" }
                aria-describedby=described_by
                value=value.get_untracked()
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
                on:blur=move |_| if let Some(cb) = on_blur { cb.run(()) }
            />
            {hint.map(|h| view! { <p class="field-hint" id=hint_id>{t(h)}</p> })}
            <p class="field-error" id=error_id aria-live="polite">{move || error.get()}</p>
        </div>
    }
}
