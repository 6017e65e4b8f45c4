//! What the administration server functions and REST handlers need; `server::admin` implements it.
use super::{
    AdminUser, AgentRequest, AgentRequestId, AgentRequestStatus, AuditFilter, AuditPage,
    NewAgentRequest, UserChange, UserFilter, UserPage,
};
use crate::auth::UserView;
use crate::error::AppError;

#[async_trait::async_trait]
pub trait AdminCommands: Send + Sync {
    /// Files the actor's request to become an agent. One pending request at a time (`Conflict`
    /// on `status` otherwise); agents and admins have nothing to ask for (`Conflict` on `role`).
    async fn request_agent(
        &self,
        actor: &UserView,
        new: NewAgentRequest,
    ) -> Result<AgentRequest, AppError>;

    /// Approves (making the user an agent in the same transaction) or rejects a pending request,
    /// with a note; the user gets a notice and the audit log an entry. Admins only. Of two admins
    /// deciding at once exactly one succeeds; the other gets `Conflict` on `status`.
    async fn decide_agent_request(
        &self,
        actor: &UserView,
        id: AgentRequestId,
        approve: bool,
        note: &str,
    ) -> Result<AgentRequest, AppError>;

    /// Changes a user's role and / or blocked flag (admins), with an audit entry per change.
    /// The last active admin cannot be demoted or blocked, and nobody blocks themself
    /// (`Conflict`). A block acts at once: sessions and tokens check the flag on every request.
    async fn update_user(
        &self,
        actor: &UserView,
        id: i64,
        change: UserChange,
    ) -> Result<AdminUser, AppError>;
}

#[async_trait::async_trait]
pub trait AdminQueries: Send + Sync {
    /// The actor's latest request, if any.
    async fn my_agent_request(&self, actor: &UserView) -> Result<Option<AgentRequest>, AppError>;

    /// Requests for admins: pending first (oldest first), then decided ones (newest first),
    /// optionally of one status.
    async fn agent_requests(
        &self,
        actor: &UserView,
        status: Option<AgentRequestStatus>,
    ) -> Result<Vec<AgentRequest>, AppError>;

    /// Users for admins: by name or email, by role, a page at a time.
    async fn users(&self, actor: &UserView, filter: UserFilter) -> Result<UserPage, AppError>;

    /// The audit log for admins, newest first.
    async fn audit_log(&self, actor: &UserView, filter: AuditFilter)
    -> Result<AuditPage, AppError>;
}

/// The job queue for operators (admins only; `Forbidden` otherwise).
#[async_trait::async_trait]
pub trait JobQueries: Send + Sync {
    /// Counts per state and per kind × state, the oldest due job's age, the running jobs.
    async fn job_overview(&self, actor: &UserView) -> Result<super::JobOverview, AppError>;

    /// A page of jobs: pending in run order, running by lease end, done and dead the latest
    /// finished first, all states newest first.
    async fn jobs(
        &self,
        actor: &UserView,
        filter: super::JobFilter,
    ) -> Result<super::JobPage, AppError>;
}

/// What operators do to dead jobs; each change is in the audit log, written in its
/// transaction. `NotFound` when there is no dead job with that id.
#[async_trait::async_trait]
pub trait JobCommands: Send + Sync {
    /// The dead job runs again, with all its attempts (`job.retry`).
    async fn retry_job(&self, actor: &UserView, id: i64) -> Result<(), AppError>;

    /// The dead job is deleted (`job.discard`, with its kind, payload and error).
    async fn discard_job(&self, actor: &UserView, id: i64) -> Result<(), AppError>;
}

/// The record of every e-mail, for admins.
#[async_trait::async_trait]
pub trait MailQueries: Send + Sync {
    /// Newest first; `to` finds recipients whose address contains it, in any case.
    async fn mails(
        &self,
        actor: &UserView,
        filter: super::MailFilter,
    ) -> Result<super::MailPage, AppError>;

    /// One mail in full, or `NotFound`.
    async fn mail(&self, actor: &UserView, id: i64) -> Result<super::MailDetail, AppError>;
}

#[async_trait::async_trait]
pub trait SystemQueries: Send + Sync {
    /// Version, uptime, database size, the job queue, the last backup, the disk; admins only.
    async fn system_status(&self, actor: &UserView) -> Result<super::SystemStatus, AppError>;
}
