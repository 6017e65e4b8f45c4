//! The report page's read; the REST API and the CSV downloads call the same port.
use super::{ReportScope, ReportView};
use crate::error::AppError;
use leptos::prelude::*;

/// The report of `scope` with the filter as the form sends it (`YYYY-MM-DD` days, a category
/// code; empty for none), with its charts drawn in the page's language.
#[server]
pub async fn get_report(
    scope: ReportScope,
    from: String,
    to: String,
    category: String,
) -> Result<ReportView, AppError> {
    use crate::{auth::Role, i18n::Locale, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(match scope {
                ReportScope::All => Role::Admin,
                ReportScope::Own => Role::Agent,
            })
            .await?;
            let filter = super::ReportFilter::parse(&from, &to, &category)?;
            let summary = ssr::services()?
                .report_queries
                .summary(&actor, scope, &filter)
                .await?;
            let locale = use_context::<Locale>().unwrap_or_default();
            let charts = super::charts::report_charts(&summary, locale)?;
            Ok(ReportView { summary, charts })
        }
        .await,
    )
}
