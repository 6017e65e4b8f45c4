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

/// The installation at a glance for admins (`/admin/system`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemStatus {
    pub version: String,
    /// `sqlite` or `postgres`.
    pub engine: String,
    /// When this server process started.
    pub started_at: DateTime<Utc>,
    pub uptime_seconds: i64,
    /// SQLite: the file and its write-ahead log; PostgreSQL: the database's size.
    pub database_bytes: i64,
    pub jobs_pending: i64,
    pub jobs_running: i64,
    pub jobs_dead: i64,
    /// How long the oldest due pending job has waited (0 when none waits).
    pub oldest_pending_age_seconds: i64,
    pub last_backup: Option<BackupInfo>,
    /// `EVENTHUB_BACKUP_EVERY` in seconds; `None` when backups are not scheduled.
    pub backup_every_seconds: Option<i64>,
    /// The data folder's disk; `None` when it cannot be read.
    pub disk_free_bytes: Option<i64>,
    pub disk_total_bytes: Option<i64>,
}

/// The last backup this installation wrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupInfo {
    /// The archive's file name.
    pub file: String,
    pub created_at: DateTime<Utc>,
    pub bytes: i64,
}

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
    /// The requester confirmed their address.
    #[serde(default)]
    pub user_email_verified: bool,
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

// ---- Operators: the job queue and the mail record (admins) ----

/// Where a job is in the queue: `pending` (waiting for its time or a worker) → `running` (a
/// worker holds its lease) → `done`, or `dead` after its last attempt failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Pending,
    Running,
    Done,
    Dead,
}

impl JobStatus {
    pub const ALL: [JobStatus; 4] = [
        JobStatus::Pending,
        JobStatus::Running,
        JobStatus::Done,
        JobStatus::Dead,
    ];

    pub fn code(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Dead => "dead",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn label(self) -> Msg {
        match self {
            JobStatus::Pending => Msg::JobsPending,
            JobStatus::Running => Msg::JobsRunning,
            JobStatus::Done => Msg::JobsDone,
            JobStatus::Dead => Msg::JobsDead,
        }
    }
}

/// How many jobs are in each state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JobCounts {
    pub pending: i64,
    pub running: i64,
    pub done: i64,
    pub dead: i64,
}

impl JobCounts {
    pub fn get(&self, status: JobStatus) -> i64 {
        match status {
            JobStatus::Pending => self.pending,
            JobStatus::Running => self.running,
            JobStatus::Done => self.done,
            JobStatus::Dead => self.dead,
        }
    }
}

/// The counts of one kind of job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindDepth {
    pub kind: String,
    pub counts: JobCounts,
}

/// A job a worker holds now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunningJob {
    pub id: i64,
    pub kind: String,
    /// `<process id>-<random>-<n>`: which process and which of its workers.
    pub worker: String,
    pub attempts: i64,
    pub max_attempts: i64,
    /// When the lease ends: past it, another worker takes the job back.
    pub lease_until: DateTime<Utc>,
}

/// The queue at a glance for `/admin/jobs`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobOverview {
    pub counts: JobCounts,
    pub by_kind: Vec<KindDepth>,
    /// How long the oldest due pending job has waited (0 when none is waiting; jobs
    /// scheduled for later do not count).
    pub oldest_pending_age_seconds: i64,
    pub running: Vec<RunningJob>,
}

/// A job as the operator's list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobItem {
    pub id: i64,
    pub kind: String,
    pub status: JobStatus,
    pub priority: i64,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub worker: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// Which jobs to list: one status or all, one kind or all, a page (from 1).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobFilter {
    pub status: Option<JobStatus>,
    pub kind: Option<String>,
    pub page: u32,
}

impl JobFilter {
    /// The filter as a form or a query string sends it (empty: all), refused by field.
    pub fn parse(status: &str, kind: &str, page: u32) -> Result<Self, crate::error::AppError> {
        let status = match status.trim() {
            "" => None,
            code => Some(JobStatus::from_code(code).ok_or_else(|| {
                crate::error::AppError::field(
                    "state",
                    crate::error::Problem::Malformed {
                        detail: "state must be pending, running, done or dead".into(),
                    },
                )
            })?),
        };
        let kind = Some(kind.trim().to_owned()).filter(|k| !k.is_empty());
        if kind
            .as_ref()
            .is_some_and(|k| k.chars().count() > 100 || k.chars().any(char::is_control))
        {
            return Err(crate::error::AppError::field(
                "kind",
                crate::error::Problem::Malformed {
                    detail: "kind must be at most 100 characters, none of them control characters"
                        .into(),
                },
            ));
        }
        let page = crate::events::rules::check_page(i64::from(page.max(1)))?;
        Ok(JobFilter { status, kind, page })
    }
}

pub const JOBS_PER_PAGE: u32 = 50;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobPage {
    pub items: Vec<JobItem>,
    pub page: u32,
    /// Whether another page follows.
    pub more: bool,
}

/// A recorded e-mail as the list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailItem {
    pub id: i64,
    pub to: String,
    pub subject: String,
    pub created_at: DateTime<Utc>,
    /// When the transport took it; `None` while it waits to be sent.
    pub sent_at: Option<DateTime<Utc>>,
}

/// Which mails to list: those whose recipient address contains `to` (any case; empty: all),
/// newest first, a page (from 1).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailFilter {
    pub to: String,
    pub page: u32,
}

pub const MAILS_PER_PAGE: u32 = 50;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailPage {
    pub items: Vec<MailItem>,
    pub page: u32,
    pub more: bool,
}

/// One recorded e-mail in full. `html` is the message as sent: show it only where it cannot
/// run script in this site's origin (the page frames it from a sandboxed address).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailDetail {
    pub id: i64,
    pub to: String,
    pub subject: String,
    pub locale: String,
    pub text: String,
    pub html: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}
