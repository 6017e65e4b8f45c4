//! `/admin/reports` (everything) and `/agent/reports` (the agent's own events): the filter form
//! (a plain GET form: the URL is the report), the totals, and each chart with its table and CSV.
use super::queries::get_report;
use super::{ReportScope, ReportSummary, ReportView, percent};
use crate::events::{Category, Money};
use crate::i18n::{Locale, Msg, t, use_locale};
use crate::ui::chart::Chart;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AdminReportsPage() -> impl IntoView {
    view! { <ReportsPage scope=ReportScope::All/> }
}

#[component]
pub fn AgentReportsPage() -> impl IntoView {
    view! { <ReportsPage scope=ReportScope::Own/> }
}

#[component]
fn ReportsPage(scope: ReportScope) -> impl IntoView {
    let locale = use_locale();
    let query = use_query_map();
    let value = move |key: &str| query.read().get(key).unwrap_or_default();
    let report = Resource::new(
        move || (value("from"), value("to"), value("category")),
        move |(from, to, category)| get_report(scope, from, to, category),
    );
    let (title, forbidden) = match scope {
        ReportScope::All => (Msg::ReportTitle, Msg::AdminOnly),
        ReportScope::Own => (Msg::ReportAgentTitle, Msg::AgentOnly),
    };
    view! {
        <Title text=t(title)/>
        <section class="page-head">
            <h1>{t(title)}</h1>
            <p class="muted">{t(Msg::ReportLead)}</p>
        </section>
        <form class="search-form panel report-filters" method="get" action=scope.path()>
            <div class="filters">
                <label><span>{t(Msg::EventsFilterFrom)}</span>
                    <input name="from" type="date" prop:value=move || value("from") value=move || value("from")/></label>
                <label><span>{t(Msg::EventsFilterTo)}</span>
                    <input name="to" type="date" prop:value=move || value("to") value=move || value("to")/></label>
                <label>
                    <span>{t(Msg::EventsFilterCategory)}</span>
                    <select name="category">
                        <option value="">{t(Msg::EventsAnyCategory)}</option>
                        {Category::ALL.into_iter().map(|c| {
                            let selected = move || query.read().get("category").as_deref() == Some(c.code());
                            view! { <option value=c.code() selected=selected>{t(c.label())}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <button class="btn btn-primary" type="submit">{t(Msg::ReportApply)}</button>
            </div>
        </form>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match report.await {
                    Err(e) if matches!(e, crate::error::AppError::Invalid(_)) => {
                        crate::ui::set_error_status(&e);
                        let text = e.field_errors().into_iter()
                            .map(|(field, p)| format!("{}: {}", field_label(&field, locale), p.text(locale)))
                            .collect::<Vec<_>>().join(" · ");
                        view! { <p class="alert alert-error" role="alert" data-testid="report-error">{text}</p> }.into_any()
                    }
                    Err(e) => crate::ui::refusal(e, scope.path(), forbidden, locale),
                    Ok(ReportView { summary, charts }) => {
                        let filter = super::ReportFilter::parse(&value("from"), &value("to"), &value("category")).unwrap_or_default();
                        let query = filter.query();
                        view! {
                            <Totals summary=summary.clone() scope/>
                            <div class="report-charts">
                                {charts.into_iter().map(|data| {
                                    let csv = format!("{}/{}.csv?{query}", scope.path(), data.id);
                                    view! { <section class="panel chart-panel"><Chart data csv/></section> }
                                }).collect_view()}
                            </div>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

fn field_label(field: &str, locale: Locale) -> &'static str {
    match field {
        "from" => Msg::EventsFilterFrom.text(locale),
        "to" => Msg::EventsFilterTo.text(locale),
        _ => Msg::EventsFilterCategory.text(locale),
    }
}

fn money_list(list: &[Money]) -> String {
    if list.is_empty() {
        "0".into()
    } else {
        list.iter()
            .map(Money::display)
            .collect::<Vec<_>>()
            .join(" · ")
    }
}

/// The headline numbers as tiles.
#[component]
fn Totals(summary: ReportSummary, scope: ReportScope) -> impl IntoView {
    let t_ = &summary.totals;
    let mut tiles: Vec<(Msg, String)> = vec![
        (Msg::ReportEvents, t_.events.to_string()),
        (Msg::ReportPublished, t_.published_events.to_string()),
    ];
    match scope {
        ReportScope::All => tiles.extend([
            (Msg::ReportUsers, t_.users.to_string()),
            (Msg::ReportAgents, t_.agents.to_string()),
            (Msg::ReportAdmins, t_.admins.to_string()),
        ]),
        ReportScope::Own => tiles.push((Msg::ReportAttendees, t_.users.to_string())),
    }
    tiles.extend([
        (Msg::ReportConfirmed, t_.registrations_confirmed.to_string()),
        (
            Msg::ReportWaitlisted,
            t_.registrations_waitlisted.to_string(),
        ),
        (Msg::ReportCancelled, t_.registrations_cancelled.to_string()),
        (Msg::ReportSeats, t_.seats_confirmed.to_string()),
        (Msg::ReportRevenue, money_list(&t_.revenue)),
        (Msg::ReportRevenuePaid, money_list(&t_.revenue_paid)),
        (
            Msg::ReportUtilisation,
            format!("{} %", percent(summary.utilisation)),
        ),
    ]);
    view! {
        <section class="panel" aria-labelledby="totals-heading">
            <h2 id="totals-heading">{t(Msg::ReportTotals)}</h2>
            <dl class="report-totals" data-testid="report-totals">
                {tiles.into_iter().map(|(label, value)| view! {
                    <div class="report-tile"><dt>{t(label)}</dt><dd><bdi>{value}</bdi></dd></div>
                }).collect_view()}
            </dl>
        </section>
    }
}
