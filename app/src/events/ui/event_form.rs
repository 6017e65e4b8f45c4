use crate::events::commands::{SaveEventForm, UploadEventImage};
use crate::events::form::{EventForm, TICKET_ROWS, TicketTypeForm};
use crate::events::queries::get_event_form;
use crate::events::{Category, EventId};
use crate::i18n::{Msg, t, use_locale};
use crate::ui::form::{ErrorSummary, Field, field_id, field_message, form_error};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

/// Time zones offered in the form (the server accepts any IANA zone).
const TIMEZONES: [&str; 8] = [
    "Asia/Jerusalem",
    "Europe/Warsaw",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "America/New_York",
    "America/Los_Angeles",
    "UTC",
];
const CURRENCIES: [&str; 5] = ["ILS", "PLN", "EUR", "USD", "GBP"];

/// `/agent/events/new`.
#[component]
pub fn NewEventPage() -> impl IntoView {
    view! { <EventFormView id=None form=EventForm::blank()/> }
}

/// `/agent/events/:id/edit`: the form filled with the event as it is.
#[component]
pub fn EditEventPage() -> impl IntoView {
    let locale = use_locale();
    let id = crate::ui::id_param();
    let form = Resource::new(
        move || id.get(),
        |id| async move {
            match id {
                Some(id) => get_event_form(id).await.map(|f| (id, f)),
                None => Err(crate::error::AppError::NotFound),
            }
        },
    );
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match form.await {
                    Ok((id, form)) => {
                        let image_url = form.image_url.clone();
                        let title = form.title.clone();
                        view! {
                            <EventImageForm id image_url title/>
                            <EventFormView id=Some(id) form/>
                        }.into_any()
                    }
                    Err(e) => {
                        crate::ui::set_error_status(&e);
                        view! { <p class="alert alert-error" role="alert">{e.text(locale)}</p> }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// The event's image and a form to replace it: a plain multipart post, with or without scripts.
#[component]
fn EventImageForm(id: EventId, image_url: Option<String>, title: String) -> impl IntoView {
    let error = form_error(
        || None::<Result<(), crate::error::AppError>>,
        <UploadEventImage as ServerFn>::PATH,
    );
    let message = field_message(error, "image");
    let upload_path = <UploadEventImage as ServerFn>::PATH;
    let locale = use_locale();
    let query = leptos_router::hooks::use_query_map();
    let saved =
        move || query.read().get("image").as_deref() == Some("saved") && error.get().is_none();
    let headline = move || {
        error
            .get()
            .filter(|e| e.field_errors().is_empty())
            .map(|e| e.text(locale))
    };
    view! {
        <section class="panel image-panel" id="image">
            <h2>{t(Msg::EventImageTitle)}</h2>
            {match image_url {
                Some(url) => view! {
                    <img class="image-preview" src=url alt=crate::i18n::fill(t(Msg::EventImageAlt), &[("title", &title)])/>
                }.into_any(),
                None => view! { <p class="field-hint">{t(Msg::EventImageNone)}</p> }.into_any(),
            }}
            {move || saved().then(|| view! { <p class="alert alert-ok" role="status">{t(Msg::EventImageSaved)}</p> })}
            {move || headline().map(|text| view! { <p class="alert alert-error" role="alert">{text}</p> })}
            <form method="post" enctype="multipart/form-data" action=upload_path class="image-form">
                <input type="hidden" name="id" value=id.to_string()/>
                <div class="field" class:field-invalid=move || message.get().is_some()>
                    <label for="f-image">{t(Msg::EventImageChoose)}</label>
                    <input id="f-image" name="image" type="file" accept="image/jpeg,image/png,image/webp" required
                        aria-describedby="f-image-hint"/>
                    <p class="field-hint" id="f-image-hint">{t(Msg::EventImageHint)}</p>
                    <p class="field-error" aria-live="polite">{move || message.get()}</p>
                </div>
                <button class="btn btn-primary" type="submit">{t(Msg::EventImageUpload)}</button>
            </form>
        </section>
    }
}

#[component]
fn Select(
    label: Msg,
    name: &'static str,
    options: Vec<(String, String)>,
    selected: String,
    error: Signal<Option<String>>,
) -> impl IntoView {
    let id = field_id(name);
    view! {
        <div class="field" class:field-invalid=move || error.get().is_some()>
            <label for=id.clone()>{t(label)}</label>
            <select id=id name=name>
                {options.into_iter().map(|(value, text)| {
                    let is = value == selected;
                    view! { <option value=value selected=is>{text}</option> }
                }).collect_view()}
            </select>
            <p class="field-error" aria-live="polite">{move || error.get()}</p>
        </div>
    }
}

#[component]
fn EventFormView(id: Option<EventId>, form: EventForm) -> impl IntoView {
    let locale = use_locale();
    let save = ServerAction::<SaveEventForm>::new();
    let error = form_error(
        move || save.value().get(),
        <SaveEventForm as ServerFn>::PATH,
    );
    let msg = move |field: &'static str| field_message(error, field);
    let value = |v: &str| RwSignal::new(v.to_owned());
    let title = if id.is_some() {
        Msg::EventFormEdit
    } else {
        Msg::EventFormNew
    };
    let mut rows = form.ticket_types.clone();
    rows.resize(TICKET_ROWS.max(rows.len()), TicketTypeForm::default());
    let description = form.description.clone();
    let description_error = msg("description");
    view! {
        <Title text=t(title)/>
        <section class="panel">
            <h1>{t(title)}</h1>
            <ErrorSummary error/>
            <ActionForm action=save attr:class="event-form" attr:novalidate="true">
                {id.map(|id| view! { <input type="hidden" name="id" value=id.to_string()/> })}
                <fieldset>
                    <legend>{t(Msg::EventFormBasics)}</legend>
                    <Field label=Msg::FormTitle name="form[title]" required=true value=value(&form.title) error=msg("title")/>
                    <Field label=Msg::FormSummary name="form[summary]" value=value(&form.summary) error=msg("summary")/>
                    <div class="field" class:field-invalid=move || description_error.get().is_some()>
                        <label for="f-form-description">{t(Msg::FormDescription)}</label>
                        <textarea id="f-form-description" name="form[description]" rows="6">{description}</textarea>
                        <p class="field-error" aria-live="polite">{move || description_error.get()}</p>
                    </div>
                    <div class="field-row">
                        <Select label=Msg::FormCategory name="form[category]" selected=form.category.clone() error=msg("category")
                            options=Category::ALL.into_iter().map(|c| (c.code().to_owned(), t(c.label()).to_owned())).collect()/>
                        <Field label=Msg::FormTags name="form[tags]" hint=Msg::FormTagsHint value=value(&form.tags) error=msg("tags")/>
                    </div>
                </fieldset>
                <fieldset>
                    <legend>{t(Msg::EventFormWhenWhere)}</legend>
                    <div class="field-row">
                        <Field label=Msg::FormStartsAt name="form[starts_at]" kind="datetime-local" required=true value=value(&form.starts_at) error=msg("starts_at")/>
                        <Field label=Msg::FormEndsAt name="form[ends_at]" kind="datetime-local" required=true value=value(&form.ends_at) error=msg("ends_at")/>
                        <Select label=Msg::FormTimezone name="form[timezone]" selected=form.timezone.clone() error=msg("timezone")
                            options=TIMEZONES.iter().map(|z| (z.to_string(), z.to_string())).collect()/>
                    </div>
                    <div class="field-row">
                        <Field label=Msg::FormVenue name="form[venue]" required=true value=value(&form.venue) error=msg("venue")/>
                        <Field label=Msg::FormAddress name="form[address]" value=value(&form.address) error=msg("address")/>
                        <Field label=Msg::FormCity name="form[city]" required=true value=value(&form.city) error=msg("city")/>
                    </div>
                    <div class="field-row">
                        <Field label=Msg::FormCapacity name="form[capacity]" kind="number" required=true value=value(&form.capacity) error=msg("capacity")/>
                        <Field label=Msg::FormMaxSeatsPerUser name="form[max_seats_per_user]" kind="number" hint=Msg::FormMaxSeatsPerUserHint value=value(&form.max_seats_per_user) error=msg("max_seats_per_user")/>
                    </div>
                </fieldset>
                <fieldset>
                    <legend>{t(Msg::EventFormTickets)}</legend>
                    <p class="field-hint">{t(Msg::EventFormTicketsHint)}</p>
                    <p class="field-error">{move || msg("ticket_types").get()}</p>
                    {rows.into_iter().enumerate().map(|(i, row)| {
                        let name = move |f: &str| format!("form[ticket_types][{i}][{f}]");
                        let err = move |f: &'static str| {
                            let key = format!("ticket_types[{i}].{f}");
                            Signal::derive(move || error.get().and_then(|e| e.field_errors().get(&key).map(|p| p.text(locale))))
                        };
                        view! {
                            <div class="field-row ticket-row">
                                <Field label=Msg::FormTtName name=name("name") value=value(&row.name) error=err("name")/>
                                <Field label=Msg::FormTtPrice name=name("price") value=value(&row.price) error=err("price_amount")/>
                                <div class="field">
                                    <label for=field_id(&name("currency"))>{t(Msg::FormTtCurrency)}</label>
                                    <select id=field_id(&name("currency")) name=name("currency")>
                                        {CURRENCIES.iter().map(|c| {
                                            let is = *c == row.currency || (row.currency.is_empty() && *c == "ILS");
                                            view! { <option value=*c selected=is>{*c}</option> }
                                        }).collect_view()}
                                    </select>
                                    <p class="field-error">{move || err("currency").get()}</p>
                                </div>
                                <Field label=Msg::FormTtQuantity name=name("quantity") kind="number" value=value(&row.quantity) error=err("quantity")/>
                                <Field label=Msg::FormTtMax name=name("max_per_registration") kind="number" value=value(&row.max_per_registration) error=err("max_per_registration")/>
                                <Field label=Msg::FormTtSalesStart name=name("sales_start") kind="datetime-local" value=value(&row.sales_start) error=err("sales_start") hint=Msg::FormTtSalesStartHint/>
                                <Field label=Msg::FormTtSalesEnd name=name("sales_end") kind="datetime-local" value=value(&row.sales_end) error=err("sales_end") hint=Msg::FormTtSalesEndHint/>
                            </div>
                        }
                    }).collect_view()}
                </fieldset>
                <button class="btn btn-primary btn-lg" type="submit" disabled=move || save.pending().get()>
                    {move || if save.pending().get() { t(Msg::FormSending) } else { t(Msg::EventFormSave) }}
                </button>
            </ActionForm>
        </section>
    }
}
