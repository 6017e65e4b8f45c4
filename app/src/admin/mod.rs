//! Administration: organizer requests (a user asks to become an agent, an admin decides) and
//! the append-only audit log of every administrative change.
pub mod commands;
#[cfg(feature = "ssr")]
pub mod ports;
pub mod queries;
pub mod rules;
pub mod ui;

use crate::i18n::Msg;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub type AgentRequestId = i64;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentRequestStatus {
    Pending,
    Approved,
    Rejected,
}

impl AgentRequestStatus {
    pub const ALL: [AgentRequestStatus; 3] = [
        AgentRequestStatus::Pending,
        AgentRequestStatus::Approved,
        AgentRequestStatus::Rejected,
    ];

    pub fn code(self) -> &'static str {
        match self {
            AgentRequestStatus::Pending => "pending",
            AgentRequestStatus::Approved => "approved",
            AgentRequestStatus::Rejected => "rejected",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn label(self) -> Msg {
        match self {
            AgentRequestStatus::Pending => Msg::AgentRequestPending,
            AgentRequestStatus::Approved => Msg::AgentRequestApproved,
            AgentRequestStatus::Rejected => Msg::AgentRequestRejected,
        }
    }
}

/// A user's request to become an organizer, with the admin's decision once made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRequest {
    pub id: AgentRequestId,
    pub user_id: crate::auth::UserId,
    pub user_name: String,
    pub user_email: String,
    pub organisation: String,
    pub message: String,
    pub status: AgentRequestStatus,
    /// The admin's note with the decision (shown to the user when rejected).
    pub note: String,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
}

/// What a user sends to become an organizer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewAgentRequest {
    // The bounds of `rules::validate_agent_request` (trimmed lengths).
    /// 2 to 120 characters.
    #[cfg_attr(
        feature = "ssr",
        schema(min_length = 2, max_length = 120, pattern = "\\S[\\s\\S]*\\S")
    )]
    pub organisation: String,
    /// 10 to 2000 characters.
    #[cfg_attr(
        feature = "ssr",
        schema(min_length = 10, max_length = 2000, pattern = "\\S[\\s\\S]{8,}\\S")
    )]
    pub message: String,
}

/// One line of the audit log: who did what to what, and the values before and after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<crate::auth::UserId>,
    pub actor: Option<String>,
    /// e.g. `agent_request.approve`, `event.cancel`
    pub action: String,
    /// e.g. `agent_request:7`, `user:12`, `event:40`
    pub target: String,
    /// JSON: the request's facts and `{before, after}` of what changed.
    pub details: String,
}

/// Which audit entries to show: by actor (email or name), action and dates, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub page: u32,
}

pub const AUDIT_PER_PAGE: u32 = 50;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    pub page: u32,
    /// Whether another page follows.
    pub more: bool,
}

/// A user as admins see them: the account and whether it is blocked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUser {
    pub user: crate::auth::UserView,
    pub blocked: bool,
}

/// Which users to list: part of a name or email, a role, a page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserFilter {
    pub q: String,
    pub role: Option<crate::auth::Role>,
    pub page: u32,
}

pub const USERS_PER_PAGE: u32 = 50;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPage {
    pub items: Vec<AdminUser>,
    pub total: i64,
    pub page: u32,
}

/// An admin's change to a user: a new role, blocked or not (each optional).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserChange {
    pub role: Option<crate::auth::Role>,
    pub blocked: Option<bool>,
}
