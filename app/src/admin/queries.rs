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
