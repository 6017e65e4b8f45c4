//! Administration reads for the pages (the REST API calls the same ports).
use super::{AgentRequest, AuditFilter, AuditPage};
use crate::error::AppError;
use leptos::prelude::*;

/// The signed-in user's latest organizer request, if any.
#[server]
pub async fn my_agent_request() -> Result<Option<AgentRequest>, AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::User).await?;
            ssr::services()?
                .admin_queries
                .my_agent_request(&actor)
                .await
        }
        .await,
    )
}

/// Organizer requests for admins, optionally of one status (`pending` · `approved` · `rejected`).
#[server]
pub async fn list_agent_requests(status: String) -> Result<Vec<AgentRequest>, AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Admin).await?;
            let status = match status.as_str() {
                "" | "all" => None,
                code => Some(super::AgentRequestStatus::from_code(code).ok_or_else(|| {
                    AppError::field(
                        "status",
                        crate::error::Problem::Malformed {
                            detail: "status must be pending, approved or rejected".into(),
                        },
                    )
                })?),
            };
            ssr::services()?
                .admin_queries
                .agent_requests(&actor, status)
                .await
        }
        .await,
    )
}

/// A page of the audit log for admins.
#[server]
pub async fn get_audit_log(filter: AuditFilter) -> Result<AuditPage, AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Admin).await?;
            ssr::services()?
                .admin_queries
                .audit_log(&actor, filter)
                .await
        }
        .await,
    )
}

/// A page of users for admins (`role` empty for all).
#[server]
pub async fn list_users(q: String, role: String, page: u32) -> Result<super::UserPage, AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Admin).await?;
            let role = match role.as_str() {
                "" => None,
                code => Some(Role::from_code(code).ok_or_else(|| {
                    AppError::field(
                        "role",
                        crate::error::Problem::Malformed {
                            detail: "role must be user, agent or admin".into(),
                        },
                    )
                })?),
            };
            ssr::services()?
                .admin_queries
                .users(&actor, super::UserFilter { q, role, page })
                .await
        }
        .await,
    )
}

/// A page of every organizer's events for admins, as the events table's filter form sends it
/// (`status` code, part of an organizer's name or email, `YYYY-MM-DD` days; empty for none).
#[server]
pub async fn list_all_events(
    status: String,
    organizer: String,
    from: String,
    to: String,
    page: u32,
) -> Result<crate::events::ManagedEventPage, AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Admin).await?;
            let filter = crate::events::EventFilter::parse(&status, &organizer, &from, &to, page)?;
            ssr::services()?
                .event_queries
                .all_events(&actor, filter)
                .await
        }
        .await,
    )
}

/// The job queue at a glance for admins: counts per state and kind, the oldest due job's age,
/// the running jobs and their workers.
#[server]
pub async fn get_job_overview() -> Result<super::JobOverview, AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Admin).await?;
            ssr::services()?.job_queries.job_overview(&actor).await
        }
        .await,
    )
}

/// A page of jobs for admins, as the filter form sends it (`state`: pending · running · done
/// · dead, empty for all; `kind` empty for all).
#[server]
pub async fn list_jobs(state: String, kind: String, page: u32) -> Result<super::JobPage, AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Admin).await?;
            let filter = super::JobFilter::parse(&state, &kind, page)?;
            ssr::services()?.job_queries.jobs(&actor, filter).await
        }
        .await,
    )
}

/// A page of the mail record for admins, newest first; `to` finds recipients whose address
/// contains it (any case).
#[server]
pub async fn list_mails(to: String, page: u32) -> Result<super::MailPage, AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Admin).await?;
            ssr::services()?
                .mail_queries
                .mails(&actor, super::MailFilter { to, page })
                .await
        }
        .await,
    )
}

/// One recorded mail for admins, with its `html` left empty: the page frames the HTML from a
/// sandboxed address of its own instead of carrying it.
#[server]
pub async fn get_mail(id: i64) -> Result<super::MailDetail, AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Admin).await?;
            let mail = ssr::services()?.mail_queries.mail(&actor, id).await?;
            Ok(super::MailDetail {
                html: String::new(),
                ..mail
            })
        }
        .await,
    )
}

/// The installation at a glance for admins (`/admin/system`).
#[server]
pub async fn get_system_status() -> Result<super::SystemStatus, AppError> {
    use crate::{auth::Role, ssr};
    ssr::with_status(
        async {
            let actor = ssr::require(Role::Admin).await?;
            ssr::services()?.system_queries.system_status(&actor).await
        }
        .await,
    )
}
