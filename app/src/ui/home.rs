//! The home page. Until events exist it introduces the product; issue #3 adds upcoming and
//! trending events above the categories.
use crate::i18n::{Msg, t};
use crate::ui::layout::use_auth;
use leptos::prelude::*;
use leptos_meta::Title;

/// Categories of events, in the order the product lists them (slug, name). Each slug has its
/// own accent colour in `style/main.css`.
pub const CATEGORIES: [(&str, Msg); 9] = [
    ("stand-up", Msg::CategoryStandUp),
    ("music", Msg::CategoryMusic),
    ("theatre", Msg::CategoryTheatre),
    ("dance", Msg::CategoryDance),
    ("film", Msg::CategoryFilm),
    ("talk", Msg::CategoryTalk),
    ("kids", Msg::CategoryKids),
    ("festival", Msg::CategoryFestival),
    ("other", Msg::CategoryOther),
];

#[component]
pub fn HomePage() -> impl IntoView {
    let auth = use_auth();
    let cta = move || {
        Suspend::new(async move {
            match auth.user.await {
                Ok(Some(_)) => view! { <a class="btn btn-primary btn-lg" href="/me">{t(Msg::HomeCtaProfile)}</a> }.into_any(),
                _ => view! { <a class="btn btn-primary btn-lg" href="/register">{t(Msg::HomeCtaRegister)}</a> }.into_any(),
            }
        })
    };
    view! {
        <Title text=t(Msg::AppTagline)/>
        <section class="hero">
            <div class="hero-text">
                <h1>{t(Msg::HomeHeroTitle)}</h1>
                <p class="lead">{t(Msg::HomeHeroLead)}</p>
                <Transition fallback=|| ()>{cta}</Transition>
            </div>
            <div class="hero-art" aria-hidden="true">
                <div class="ticket-art">
                    <span class="ticket-title">{t(Msg::AppName)}</span>
                    <span class="ticket-sub">{t(Msg::AppTagline)}</span>
                </div>
            </div>
        </section>
        <section aria-labelledby="categories-title">
            <h2 id="categories-title">{t(Msg::HomeCategoriesTitle)}</h2>
            <ul class="category-grid">
                {CATEGORIES
                    .iter()
                    .map(|(slug, msg)| {
                        view! {
                            <li class=format!("category category-{slug}")>
                                <span class="category-dot" aria-hidden="true"></span>
                                <span>{t(*msg)}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
        <section aria-labelledby="how-title">
            <h2 id="how-title">{t(Msg::HomeHowTitle)}</h2>
            <div class="card-grid">
                <article class="card">
                    <h3>{t(Msg::HomeHowFindTitle)}</h3>
                    <p>{t(Msg::HomeHowFindBody)}</p>
                </article>
                <article class="card">
                    <h3>{t(Msg::HomeHowBookTitle)}</h3>
                    <p>{t(Msg::HomeHowBookBody)}</p>
                </article>
                <article class="card">
                    <h3>{t(Msg::HomeHowHostTitle)}</h3>
                    <p>{t(Msg::HomeHowHostBody)}</p>
                </article>
            </div>
        </section>
    }
}
