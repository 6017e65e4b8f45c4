//! The 404 page; on the server it also sets the status.
use crate::i18n::{Msg, t};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    crate::ui::set_error_status(&crate::error::AppError::NotFound);
    view! {
        <Title text=t(Msg::NotFoundTitle)/>
        <section class="panel narrow center">
            <p class="big-code" aria-hidden="true">"404"</p>
            <h1>{t(Msg::NotFoundTitle)}</h1>
            <p>{t(Msg::NotFoundBody)}</p>
            <a class="btn btn-primary" href="/">{t(Msg::NotFoundHome)}</a>
        </section>
    }
}
