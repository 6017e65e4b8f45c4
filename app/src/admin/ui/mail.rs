//! `/admin/mail` and `/admin/mail/:id`: the record of every e-mail the site wrote, newest
//! first, found by recipient; one mail with its plain text and its HTML. The HTML is never put
//! into this page: it is framed from `/admin/mail/{id}/html`, which the server answers with a
//! CSP `sandbox` of its own (no script, an origin of its own) inside a sandboxed `<iframe>`.
use super::shared::{refusal, utc};
use crate::admin::queries::{get_mail, list_mails};
use crate::i18n::{Locale, Msg, t, use_locale};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

fn sent(locale: Locale, at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    at.map_or_else(|| t(Msg::AdminMailNotSent).to_owned(), |at| utc(locale, at))
}

/// `/admin/mail`: newest first; `to` (part of the recipient's address) and `page` in the URL.
#[component]
pub fn MailPage() -> impl IntoView {
    let locale = use_locale();
    let query = use_query_map();
    let value = move |key: &str| query.read().get(key).unwrap_or_default();
    let mails = Resource::new(
        move || (value("to"), value("page").parse::<u32>().unwrap_or(1)),
        |(to, page)| list_mails(to, page),
    );
    view! {
        <Title text=t(Msg::AdminMailTitle)/>
        <section class="page-head">
            <h1>{t(Msg::AdminMailTitle)}</h1>
            <p class="muted">{t(Msg::AdminMailLead)}</p>
        </section>
        <form class="search-form panel" method="get" action="/admin/mail" role="search">
            <div class="search-main">
                <label class="visually-hidden" for="mail-to">{t(Msg::AdminMailSearch)}</label>
                <input id="mail-to" name="to" type="search" dir="ltr" placeholder=t(Msg::AdminMailSearch)
                    prop:value=move || value("to") value=move || value("to")/>
                <button class="btn btn-primary" type="submit">{t(Msg::EventsApply)}</button>
            </div>
        </form>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match mails.await {
                    Err(e) => refusal(e, "/admin/mail", locale),
                    Ok(page) if page.items.is_empty() => view! { <p class="empty panel">{t(Msg::AdminMailEmpty)}</p> }.into_any(),
                    Ok(page) => {
                        let link = |n: u32| format!("/admin/mail?to={}&page={n}", crate::ui::urlencode(&value("to")));
                        let prev = (page.page > 1).then(|| link(page.page - 1));
                        let next = page.more.then(|| link(page.page + 1));
                        view! {
                            <div class="table-wrap panel">
                                <table class="data-table mails">
                                    <thead><tr>
                                        <th scope="col">{t(Msg::AdminMailSubject)}</th>
                                        <th scope="col">{t(Msg::AdminMailTo)}</th>
                                        <th scope="col">{t(Msg::AdminMailCreated)}</th>
                                        <th scope="col">{t(Msg::AdminMailSent)}</th>
                                    </tr></thead>
                                    <tbody>
                                        {page.items.into_iter().map(|m| view! {
                                            <tr data-mail=m.id.to_string()>
                                                <th scope="row"><a href=format!("/admin/mail/{}", m.id) dir="auto">{m.subject}</a></th>
                                                <td><bdi>{m.to}</bdi></td>
                                                <td>{utc(locale, m.created_at)}</td>
                                                <td>{sent(locale, m.sent_at)}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            <crate::ui::Pager prev next page=i64::from(page.page)/>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// `/admin/mail/:id`: recipient, subject, when it was sent, the plain text, the HTML framed.
#[component]
pub fn MailDetailPage() -> impl IntoView {
    let locale = use_locale();
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
    };
    let mail = Resource::new(id, |id| async move {
        match id {
            Some(id) => get_mail(id).await,
            None => Err(crate::error::AppError::NotFound),
        }
    });
    view! {
        <Title text=t(Msg::AdminMailTitle)/>
        <p><a href="/admin/mail">{t(Msg::AdminMailBack)}</a></p>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match mail.await {
                    Err(e) => refusal(e, "/admin/mail", locale),
                    Ok(m) => view! {
                        <article class="mail-detail" data-mail=m.id.to_string()>
                            <h1 dir="auto">{m.subject.clone()}</h1>
                            <dl class="mail-meta panel">
                                <dt>{t(Msg::AdminMailTo)}</dt><dd><bdi>{m.to.clone()}</bdi></dd>
                                <dt>{t(Msg::AdminMailCreated)}</dt><dd>{utc(locale, m.created_at)}</dd>
                                <dt>{t(Msg::AdminMailSent)}</dt><dd data-testid="mail-sent">{sent(locale, m.sent_at)}</dd>
                            </dl>
                            <section>
                                <h2>{t(Msg::AdminMailHtml)}</h2>
                                <iframe class="mail-frame panel" sandbox="" referrerpolicy="no-referrer"
                                    title=t(Msg::AdminMailFrame) src=format!("/admin/mail/{}/html", m.id)></iframe>
                            </section>
                            <section>
                                <h2>{t(Msg::AdminMailText)}</h2>
                                <pre class="mail-text panel" dir="auto" lang=m.locale.clone()>{m.text.clone()}</pre>
                            </section>
                        </article>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
