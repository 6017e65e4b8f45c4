//! `/admin/users`: every account, searched and filtered by role; admins change roles and block
//! users here.
use super::shared::refusal;
use crate::admin::USERS_PER_PAGE;
use crate::admin::commands::UpdateUser;
use crate::admin::queries::list_users;
use crate::auth::Role;
use crate::i18n::{Msg, fill, t, use_locale};
use crate::ui::form::{ErrorSummary, form_error};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// `/admin/users`: search by name or email, filter by role; change a role or block a user in
/// the row (the same rules as the API: the last admin stays, nobody blocks themself).
#[component]
pub fn UsersPage() -> impl IntoView {
    let locale = use_locale();
    let query = use_query_map();
    let value = move |key: &str| query.read().get(key).unwrap_or_default();
    let update = ServerAction::<UpdateUser>::new();
    let users = Resource::new(
        move || {
            (
                value("q"),
                value("role"),
                value("page").parse::<u32>().unwrap_or(1),
                update.version().get(),
            )
        },
        |(q, role, page, _)| list_users(q, role, page),
    );
    let error = form_error(move || update.value().get(), <UpdateUser as ServerFn>::PATH);
    view! {
        <Title text=t(Msg::AdminUsers)/>
        <h1>{t(Msg::AdminUsers)}</h1>
        <form class="search-form panel" method="get" action="/admin/users" role="search">
            <div class="search-main">
                <label class="visually-hidden" for="user-q">{t(Msg::AdminUsersSearch)}</label>
                <input id="user-q" name="q" type="search" placeholder=t(Msg::AdminUsersSearch) value=move || value("q")/>
                <select name="role" aria-label=t(Msg::ProfileRole)>
                    <option value="">{t(Msg::AdminAll)}</option>
                    {Role::ALL.into_iter().map(|r| view! {
                        <option value=r.code() selected=move || value("role") == r.code()>{t(r.label())}</option>
                    }).collect_view()}
                </select>
                <button class="btn btn-primary" type="submit">{t(Msg::EventsApply)}</button>
            </div>
        </form>
        <ErrorSummary error/>
        {move || error.get().and_then(|e| e.field_errors().values().next().map(|p| p.text(locale))).map(|text| view! {
            <p class="alert alert-error" role="alert" data-testid="user-error">{text}</p>
        })}
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match users.await {
                    Err(e) => refusal(e, "/admin/users", locale),
                    Ok(page) => {
                        let pages = ((page.total + i64::from(USERS_PER_PAGE) - 1) / i64::from(USERS_PER_PAGE)).max(1);
                        let link = |n: u32| format!("/admin/users?q={}&role={}&page={n}", crate::ui::urlencode(&value("q")), value("role"));
                        let prev = (page.page > 1).then(|| link(page.page - 1));
                        let next = (i64::from(page.page) < pages).then(|| link(page.page + 1));
                        view! {
                            <p class="results-count">{fill(t(Msg::AdminUsersCount), &[("n", &page.total)])}</p>
                            <div class="table-wrap panel">
                                <table class="data-table users">
                                    <thead><tr>
                                        <th scope="col">{t(Msg::AttendeesColPerson)}</th>
                                        <th scope="col">{t(Msg::ProfileRole)}</th>
                                        <th scope="col">{t(Msg::AdminUsersBlocked)}</th>
                                        <th scope="col">{t(Msg::ProfileMemberSince)}</th>
                                    </tr></thead>
                                    <tbody>
                                        {page.items.into_iter().map(|u| {
                                            let id = u.user.id.to_string();
                                            let (role_id, block_id) = (id.clone(), id.clone());
                                            let blocked = u.blocked;
                                            view! {
                                                <tr data-user=id class:user-blocked=blocked>
                                                    <th scope="row"><span dir="auto">{u.user.display_name.clone()}</span><br/>
                                                        <small class="muted"><bdi>{u.user.email.clone()}</bdi></small> " "
                                                        {crate::auth::ui::verified_mark(u.user.email_verified)}</th>
                                                    <td>
                                                        <ActionForm action=update attr:class="inline-form">
                                                            <input type="hidden" name="id" value=role_id/>
                                                            <input type="hidden" name="blocked" value=""/>
                                                            <select name="role" aria-label=t(Msg::ProfileRole)>
                                                                {Role::ALL.into_iter().map(|r| view! {
                                                                    <option value=r.code() selected=r == u.user.role>{t(r.label())}</option>
                                                                }).collect_view()}
                                                            </select>
                                                            <button class="btn btn-ghost btn-sm" type="submit">{t(Msg::AdminSave)}</button>
                                                        </ActionForm>
                                                    </td>
                                                    <td>
                                                        <ActionForm action=update attr:class="inline-form">
                                                            <input type="hidden" name="id" value=block_id/>
                                                            <input type="hidden" name="role" value=""/>
                                                            <input type="hidden" name="blocked" value=(!blocked).to_string()/>
                                                            {if blocked {
                                                                view! { <span class="status status-cancelled">{t(Msg::AdminUsersBlocked)}</span>
                                                                    " " <button class="btn btn-ghost btn-sm" type="submit">{t(Msg::AdminUnblock)}</button> }.into_any()
                                                            } else {
                                                                view! { <button class="btn btn-ghost btn-sm" type="submit">{t(Msg::AdminBlock)}</button> }.into_any()
                                                            }}
                                                        </ActionForm>
                                                    </td>
                                                    <td>{u.user.created_at.format("%Y-%m-%d").to_string()}</td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            <crate::ui::Pager prev next page=i64::from(page.page) pages/>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}
