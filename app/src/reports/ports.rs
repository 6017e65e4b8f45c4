//! What the report server functions and REST handlers need; `server::reports` implements it.
use super::{ReportFilter, ReportScope, ReportSummary};
use crate::auth::UserView;
use crate::error::AppError;

#[async_trait::async_trait]
pub trait ReportQueries: Send + Sync {
    /// The report of `scope`: everything needs an admin (`Forbidden` otherwise); the actor's own
    /// events need an agent or admin.
    async fn summary(
        &self,
        actor: &UserView,
        scope: ReportScope,
        filter: &ReportFilter,
    ) -> Result<ReportSummary, AppError>;
}
