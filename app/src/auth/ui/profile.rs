use crate::i18n::{Locale, Msg, t, use_locale};
use crate::ui::layout::use_auth;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

/// `/me`: who I am. Visitors are sent to sign in and brought back here.
#[component]
pub fn ProfilePage() -> impl IntoView {
    let auth = use_auth();
    let current = use_locale();
    view! {
        <Title text=t(Msg::ProfileTitle)/>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match auth.user.await {
                    Ok(Some(user)) => view! {
                        <section class="panel">
                            <h1>{t(Msg::ProfileTitle)}</h1>
                            <dl class="facts">
                                <dt>{t(Msg::ProfileName)}</dt><dd data-testid="profile-name">{user.display_name.clone()}</dd>
                                <dt>{t(Msg::ProfileEmail)}</dt><dd><bdi>{user.email.clone()}</bdi></dd>
                                <dt>{t(Msg::ProfileRole)}</dt><dd>{t(user.role.label())}</dd>
                                <dt>{t(Msg::ProfileMemberSince)}</dt>
                                <dd><time datetime=user.created_at.to_rfc3339()>{user.created_at.format("%Y-%m-%d").to_string()}</time></dd>
                            </dl>
                            <form class="inline-form" method="post" action="/lang">
                                <input type="hidden" name="back" value="/me"/>
                                <label for="profile-language">{t(Msg::ProfileLanguage)}</label>
                                <select id="profile-language" name="to">
                                    {Locale::ALL.into_iter().map(|l| view! {
                                        <option value=l.code() selected=l == current>{l.native_name().text(l)}</option>
                                    }).collect_view()}
                                </select>
                                <button class="btn btn-ghost" type="submit">{t(Msg::ProfileSaveLanguage)}</button>
                            </form>
                            <p class="inline-form">
                                <a class="btn btn-ghost" href="/me/security" data-testid="security-link">{t(Msg::ProfileSecurity)}</a>
                                <a class="btn btn-ghost" href="/me/security#data" data-testid="data-link">{t(Msg::ProfileData)}</a>
                            </p>
                        </section>
                        {(user.role == crate::auth::Role::User).then(|| view! { <crate::admin::ui::AgentRequestPanel role=user.role/> })}
                        <crate::bookings::ui::MyNotices/>
                        <crate::bookings::ui::MyBookings/>
                        <crate::bookings::ui::MyMarks/>
                        <super::calendar_feed::CalendarFeedPanel/>
                    }.into_any(),
                    _ => view! { <Redirect path="/login?next=/me"/> }.into_any(),
                }
            })}
        </Transition>
    }
}
