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
