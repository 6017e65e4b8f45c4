//! `/admin/jobs`: the job queue for operators — depth by kind and state, the oldest waiting
//! job's age, the running jobs and their workers, a filtered list with each job's last error,
//! and Retry / Discard for dead jobs (plain forms; each lands back here with a confirmation).
use super::shared::{refusal, utc};
use crate::admin::commands::{DiscardJob, RetryJob};
use crate::admin::queries::{get_job_overview, list_jobs};
use crate::admin::{JobCounts, JobItem, JobOverview, JobStatus};
use crate::i18n::{Locale, Msg, fill, t, use_locale};
use crate::ui::form::{ErrorSummary, form_error};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// A wait as people say it: the two largest units (`1 d 2 h`, `3 min 5 s`, `40 s`).
pub fn human_age(locale: Locale, seconds: i64) -> String {
    let s = seconds.max(0);
    let parts = [
        (s / 86_400, Msg::JobsAgeDays),
        (s % 86_400 / 3_600, Msg::JobsAgeHours),
        (s % 3_600 / 60, Msg::JobsAgeMinutes),
        (s % 60, Msg::JobsAgeSeconds),
    ];
    let first = parts.iter().position(|(n, _)| *n > 0).unwrap_or(3);
    parts[first..]
        .iter()
        .take(2)
        .filter(|(n, _)| *n > 0 || first == 3)
        .map(|(n, msg)| fill(msg.text(locale), &[("n", n)]))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `/admin/jobs`: the URL holds the list's filter (`state`, `kind`, `page`); `retried` /
/// `discarded` name the job a form just changed.
#[component]
pub fn JobsPage() -> impl IntoView {
    let locale = use_locale();
    let query = use_query_map();
    let value = move |key: &str| query.read().get(key).unwrap_or_default();
    let retry = ServerAction::<RetryJob>::new();
    let discard = ServerAction::<DiscardJob>::new();
    let changed = move || (retry.version().get(), discard.version().get());
    let overview = Resource::new(
        move || (changed(), value("retried"), value("discarded")),
        |_| get_job_overview(),
    );
    let list = Resource::new(
        move || {
            (
                value("state"),
                value("kind"),
                value("page").parse::<u32>().unwrap_or(1),
                changed(),
                (value("retried"), value("discarded")),
            )
        },
        |(state, kind, page, _, _)| list_jobs(state, kind, page),
    );
    let retry_error = form_error(move || retry.value().get(), <RetryJob as ServerFn>::PATH);
    let discard_error = form_error(
        move || discard.value().get(),
        <DiscardJob as ServerFn>::PATH,
    );
    let confirmation = move || {
        let q = query.read();
        if let Some(id) = q.get("retried") {
            Some(fill(t(Msg::JobsRetried), &[("id", &id)]))
        } else {
            q.get("discarded")
                .map(|id| fill(t(Msg::JobsDiscarded), &[("id", &id)]))
        }
    };
    view! {
        <Title text=t(Msg::JobsTitle)/>
        <section class="page-head">
            <h1>{t(Msg::JobsTitle)}</h1>
            <p class="muted">{t(Msg::JobsLead)}</p>
        </section>
        {move || confirmation().map(|text| view! { <p class="alert alert-ok" role="status" data-testid="job-changed">{text}</p> })}
        <ErrorSummary error=retry_error/>
        <ErrorSummary error=discard_error/>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match overview.await {
                    Err(e) => refusal(e, "/admin/jobs", locale),
                    Ok(o) => view! { <Overview o locale/> }.into_any(),
                }
            })}
        </Transition>
        <h2 id="list">{t(Msg::JobsList)}</h2>
        <form class="search-form panel" method="get" action="/admin/jobs" role="search">
            <div class="filters">
                <label><span>{t(Msg::JobsFilterState)}</span>
                    <select name="state">
                        <option value="">{t(Msg::AdminAll)}</option>
                        {JobStatus::ALL.into_iter().map(|s| view! {
                            <option value=s.code() selected=move || value("state") == s.code()>{t(s.label())}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label><span>{t(Msg::JobsFilterKind)}</span>
                    <input name="kind" maxlength="100" prop:value=move || value("kind") value=move || value("kind")/></label>
                <button class="btn btn-primary" type="submit">{t(Msg::EventsApply)}</button>
            </div>
        </form>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => refusal(e, "/admin/jobs", locale),
                    Ok(page) if page.items.is_empty() => view! { <p class="empty panel">{t(Msg::JobsEmpty)}</p> }.into_any(),
                    Ok(page) => {
                        let link = |n: u32| format!(
                            "/admin/jobs?state={}&kind={}&page={n}#list",
                            crate::ui::urlencode(&value("state")), crate::ui::urlencode(&value("kind")));
                        let prev = (page.page > 1).then(|| link(page.page - 1));
                        let next = page.more.then(|| link(page.page + 1));
                        view! {
                            <div class="table-wrap panel">
                                <table class="data-table jobs">
                                    <thead><tr>
                                        <th scope="col">{t(Msg::JobsColId)}</th>
                                        <th scope="col">{t(Msg::JobsColState)}</th>
                                        <th scope="col" class="num">{t(Msg::JobsColPriority)}</th>
                                        <th scope="col" class="num">{t(Msg::JobsColAttempts)}</th>
                                        <th scope="col">{t(Msg::JobsColRunAt)}</th>
                                        <th scope="col">{t(Msg::JobsColError)}</th>
                                    </tr></thead>
                                    <tbody>
                                        {page.items.into_iter().map(|job| view! { <JobRow job retry discard locale/> }).collect_view()}
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

/// The counts, the oldest age, the depth by kind and the running jobs.
#[component]
fn Overview(o: JobOverview, locale: Locale) -> impl IntoView {
    let JobOverview {
        counts,
        by_kind,
        oldest_pending_age_seconds,
        running,
    } = o;
    let cells = move |c: JobCounts| {
        JobStatus::ALL
            .into_iter()
            .map(|s| view! { <td class="num">{c.get(s)}</td> })
            .collect_view()
    };
    view! {
        <ul class="job-counts">
            {JobStatus::ALL.into_iter().map(|s| view! {
                <li class="panel" data-state=s.code()>
                    <a href=format!("/admin/jobs?state={}#list", s.code())>
                        <span class=format!("status status-{}", s.code())>{t(s.label())}</span>
                        <strong class="job-count">{counts.get(s)}</strong>
                    </a>
                </li>
            }).collect_view()}
        </ul>
        <p class="job-oldest" data-testid="oldest-pending" data-seconds=oldest_pending_age_seconds.to_string()>
            {if oldest_pending_age_seconds > 0 {
                fill(t(Msg::JobsOldest), &[("age", &human_age(locale, oldest_pending_age_seconds))])
            } else {
                t(Msg::JobsOldestNone).to_owned()
            }}
        </p>
        <div class="jobs-columns">
            <section>
                <h2>{t(Msg::JobsDepth)}</h2>
                <div class="table-wrap panel">
                    <table class="data-table job-depth">
                        <thead><tr>
                            <th scope="col">{t(Msg::JobsColKind)}</th>
                            {JobStatus::ALL.into_iter().map(|s| view! { <th scope="col" class="num">{t(s.label())}</th> }).collect_view()}
                        </tr></thead>
                        <tbody>
                            {by_kind.into_iter().map(|k| view! {
                                <tr data-kind=k.kind.clone()>
                                    <th scope="row"><a href=format!("/admin/jobs?kind={}#list", crate::ui::urlencode(&k.kind))><code>{k.kind.clone()}</code></a></th>
                                    {cells(k.counts)}
                                </tr>
                            }).collect_view()}
                        </tbody>
                        <tfoot><tr>
                            <th scope="row">{t(Msg::JobsAllKinds)}</th>
                            {cells(counts)}
                        </tr></tfoot>
                    </table>
                </div>
            </section>
            <section>
                <h2>{t(Msg::JobsRunningTitle)}</h2>
                {if running.is_empty() {
                    view! { <p class="empty panel">{t(Msg::JobsRunningNone)}</p> }.into_any()
                } else {
                    view! {
                        <div class="table-wrap panel">
                            <table class="data-table job-running">
                                <thead><tr>
                                    <th scope="col">{t(Msg::JobsColId)}</th>
                                    <th scope="col">{t(Msg::JobsColWorker)}</th>
                                    <th scope="col">{t(Msg::JobsColLease)}</th>
                                </tr></thead>
                                <tbody>
                                    {running.into_iter().map(|r| view! {
                                        <tr data-job=r.id.to_string()>
                                            <th scope="row"><bdi>{format!("#{}", r.id)}</bdi>" "<code>{r.kind}</code>
                                                <br/><small class="muted">{format!("{}/{}", r.attempts, r.max_attempts)}</small></th>
                                            <td><code dir="ltr">{r.worker}</code></td>
                                            <td>{utc(locale, r.lease_until)}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any()
                }}
            </section>
        </div>
    }
}

#[component]
fn JobRow(
    job: JobItem,
    retry: ServerAction<RetryJob>,
    discard: ServerAction<DiscardJob>,
    locale: Locale,
) -> impl IntoView {
    let dead = job.status == JobStatus::Dead;
    let id = job.id.to_string();
    let (retry_id, discard_id) = (id.clone(), id.clone());
    view! {
        <tr data-job=id.clone() data-state=job.status.code()>
            <th scope="row"><bdi>{format!("#{id}")}</bdi>" "<code>{job.kind.clone()}</code>
                {job.worker.clone().map(|w| view! { <br/><small class="muted"><code dir="ltr">{w}</code></small> })}</th>
            <td>
                <span class=format!("status status-{}", job.status.code())>{t(job.status.label())}</span>
                {dead.then(|| view! {
                    <div class="row-actions">
                        <ActionForm action=retry attr:class="inline-form">
                            <input type="hidden" name="id" value=retry_id/>
                            <button class="btn btn-primary btn-sm" type="submit">{t(Msg::JobsRetry)}</button>
                        </ActionForm>
                        <ActionForm action=discard attr:class="inline-form">
                            <input type="hidden" name="id" value=discard_id/>
                            <button class="btn btn-danger btn-sm" type="submit">{t(Msg::JobsDiscard)}</button>
                        </ActionForm>
                    </div>
                })}
            </td>
            <td class="num">{job.priority}</td>
            <td class="num">{format!("{}/{}", job.attempts, job.max_attempts)}</td>
            <td>{utc(locale, job.finished_at.unwrap_or(job.run_at))}</td>
            <td>{job.last_error.clone().map(|e| view! { <code class="job-error" dir="ltr">{e}</code> })}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::human_age;
    use crate::i18n::Locale;

    #[test]
    fn ages_read_in_their_two_largest_units() {
        assert_eq!(human_age(Locale::En, 0), "0 s");
        assert_eq!(human_age(Locale::En, 45), "45 s");
        assert_eq!(human_age(Locale::En, 3 * 60 + 5), "3 min 5 s");
        assert_eq!(human_age(Locale::En, 2 * 3600 + 7 * 60 + 9), "2 h 7 min");
        assert_eq!(human_age(Locale::En, 86_400 + 3600), "1 d 1 h");
        assert_eq!(human_age(Locale::En, 86_400), "1 d");
    }
}
