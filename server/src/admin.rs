//! The administration ports on the database: organizer requests and the audit log.
//!
//! A decision is one transaction: the conditional update of the request (`… AND status =
//! 'pending'`, so of two admins deciding at once exactly one changes it), the role change, the
//! user's notice and the audit entry commit together or not at all.
use crate::audit;
use crate::db::{Db, Tx, now};
use crate::error::{StoreError, StoreResult};
use crate::sql::Sql;
use app::admin::ports::{AdminCommands, AdminQueries};
use app::admin::rules::{check_note, validate_agent_request};
use app::admin::{
    AUDIT_PER_PAGE, AdminUser, AgentRequest, AgentRequestId, AgentRequestStatus, AuditEntry,
    AuditFilter, AuditPage, NewAgentRequest, USERS_PER_PAGE, UserChange, UserFilter, UserPage,
};
use app::auth::rules::check_role;
use app::auth::{Role, UserId, UserView};
use app::error::{AppError, Problem};
use app::i18n::Locale;
use app::ssr::internal;
use chrono::{DateTime, Utc};
use std::sync::Arc;

pub struct Admin {
    db: Db,
}

impl Admin {
    pub fn new(db: Db) -> Arc<Self> {
        Arc::new(Admin { db })
    }
}

const REQUEST_SELECT: &str = "SELECT r.id, r.user_id, u.display_name AS user_name, u.email AS user_email, \
    u.email_verified_at IS NOT NULL AS user_email_verified, r.organisation, r.message, r.status, r.note, r.created_at, r.decided_at, d.display_name AS decided_by \
    FROM agent_requests r JOIN users u ON u.id = r.user_id LEFT JOIN users d ON d.id = r.decided_by";

#[derive(sqlx::FromRow)]
struct RequestRow {
    id: i64,
    user_id: i64,
    user_name: String,
    user_email: String,
    user_email_verified: bool,
    organisation: String,
    message: String,
    status: String,
    note: String,
    created_at: DateTime<Utc>,
    decided_at: Option<DateTime<Utc>>,
    decided_by: Option<String>,
}

impl RequestRow {
    fn into_request(self) -> Result<AgentRequest, AppError> {
        Ok(AgentRequest {
            id: self.id,
            user_id: self.user_id.into(),
            user_name: self.user_name,
            user_email: self.user_email,
            user_email_verified: self.user_email_verified,
            organisation: self.organisation,
            message: self.message,
            status: AgentRequestStatus::from_code(&self.status)
                .ok_or_else(|| internal("unknown agent request status"))?,
            note: self.note,
            created_at: self.created_at,
            decided_at: self.decided_at,
            decided_by: self.decided_by,
        })
    }
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    email: String,
    display_name: String,
    role: String,
    blocked: bool,
    locale: String,
    created_at: DateTime<Utc>,
    email_verified_at: Option<DateTime<Utc>>,
    two_factor: bool,
}

impl UserRow {
    fn into_user(self) -> Result<AdminUser, AppError> {
        Ok(AdminUser {
            user: UserView {
                id: self.id.into(),
                email: self.email,
                display_name: self.display_name,
                role: Role::from_code(&self.role).ok_or_else(|| internal("unknown role"))?,
                locale: Locale::from_tag(&self.locale).unwrap_or_default(),
                created_at: self.created_at,
                email_verified: self.email_verified_at.is_some(),
                two_factor: self.two_factor,
                role_held: None,
            },
            blocked: self.blocked,
        })
    }
}

const USER_SELECT: &str = "SELECT id, email, display_name, role, blocked, locale, created_at, email_verified_at, \
    EXISTS (SELECT 1 FROM user_totp t WHERE t.user_id = users.id AND t.confirmed_at IS NOT NULL) AS two_factor \
    FROM users";

impl Admin {
    async fn user(&self, id: i64) -> StoreResult<Option<AdminUser>> {
        let sql = format!("{USER_SELECT} WHERE id = $1");
        let row: Option<UserRow> = self.db.fetch_optional(Sql::new(&sql).arg(id)).await?;
        Ok(row.map(UserRow::into_user).transpose()?)
    }

    async fn request(&self, id: AgentRequestId) -> StoreResult<Option<AgentRequest>> {
        let sql = format!("{REQUEST_SELECT} WHERE r.id = $1");
        let row: Option<RequestRow> = self.db.fetch_optional(Sql::new(&sql).arg(id)).await?;
        Ok(row.map(RequestRow::into_request).transpose()?)
    }
}

/// Whether a database error is the unique index that allows one pending request per user.
fn one_pending_violated(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}

#[async_trait::async_trait]
impl AdminCommands for Admin {
    #[tracing::instrument(skip_all, fields(actor = %actor.id))]
    async fn request_agent(
        &self,
        actor: &UserView,
        new: NewAgentRequest,
    ) -> Result<AgentRequest, AppError> {
        check_role(actor, Role::User)?;
        if actor.role != Role::User {
            return Err(AppError::Conflict {
                field: "role".into(),
                problem: Problem::WrongStatus {
                    status: actor.role.code().into(),
                },
            });
        }
        let new = validate_agent_request(&new).map_err(AppError::Invalid)?;
        let inserted = self
            .db
            .scalar::<i64>(
                Sql::new(
                    "INSERT INTO agent_requests (user_id, organisation, message, status, created_at) \
                     VALUES ($1, $2, $3, 'pending', $4) RETURNING id",
                )
                .arg(actor.id)
                .arg(&new.organisation)
                .arg(&new.message)
                .arg(now()),
            )
            .await;
        let id = match inserted {
            Ok(id) => id,
            Err(e) if one_pending_violated(&e) => {
                return Err(AppError::Conflict {
                    field: "status".into(),
                    problem: Problem::WrongStatus {
                        status: "pending".into(),
                    },
                });
            }
            Err(e) => return Err(StoreError::from(e).into()),
        };
        tracing::info!(request = %id, user = %actor.id, "agent request filed");
        self.request(id).await?.ok_or(AppError::Internal)
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id, request_id = %id))]
    async fn decide_agent_request(
        &self,
        actor: &UserView,
        id: AgentRequestId,
        approve: bool,
        note: &str,
    ) -> Result<AgentRequest, AppError> {
        check_role(actor, Role::Admin)?;
        check_note(note).map_err(|p| AppError::field("note", p))?;
        let note = note.trim();
        let status = if approve {
            AgentRequestStatus::Approved
        } else {
            AgentRequestStatus::Rejected
        };
        let decided = async {
            let mut tx = self.db.begin_write().await?;
            // The write comes first, so SQLite takes its write lock before reading anything.
            let Some((user_id, organisation)) = tx
                .fetch_optional::<(i64, String)>(
                    Sql::new(
                        "UPDATE agent_requests SET status = $2, note = $3, decided_at = $4, decided_by = $5 \
                         WHERE id = $1 AND status = 'pending' RETURNING user_id, organisation",
                    )
                    .arg(id)
                    .arg(status.code())
                    .arg(note)
                    .arg(now())
                    .arg(actor.id),
                )
                .await?
            else {
                return Ok::<_, StoreError>(false);
            };
            let role_before: String = tx
                .scalar(Sql::new("SELECT role FROM users WHERE id = $1").arg(user_id))
                .await?;
            let mut details = serde_json::json!({
                "user_id": user_id, "organisation": organisation, "note": note,
                "status": {"before": "pending", "after": status.code()},
            });
            if approve && role_before == "user" {
                tx.execute(
                    Sql::new("UPDATE users SET role = 'agent', updated_at = $2 WHERE id = $1")
                        .arg(user_id)
                        .arg(now()),
                )
                .await?;
                details["role"] = serde_json::json!({"before": "user", "after": "agent"});
            }
            tx.execute(
                Sql::new(
                    "INSERT INTO notices (user_id, kind, detail, created_at) VALUES ($1, $2, $3, $4)",
                )
                .arg(user_id)
                .arg(if approve { "agent_approved" } else { "agent_rejected" })
                .arg(note)
                .arg(now()),
            )
            .await?;
            let action = if approve {
                "agent_request.approve"
            } else {
                "agent_request.reject"
            };
            audit::record(&mut tx, actor.id, action, format!("agent_request:{id}"), details)
                .await?;
            let mail = crate::mail::MailJob::AgentRequestDecided {
                request_id: id,
            };
            crate::jobs::enqueue(&mut tx, &[mail.job(now())], now()).await?;
            tx.commit().await?;
            Ok(true)
        }
        .await?;
        let request = self.request(id).await?.ok_or(AppError::NotFound)?;
        if !decided {
            return Err(AppError::Conflict {
                field: "status".into(),
                problem: Problem::WrongStatus {
                    status: request.status.code().into(),
                },
            });
        }
        tracing::info!(
            request = %id,
            admin = %actor.id,
            approve,
            "agent request decided"
        );
        Ok(request)
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id, user_id = %id))]
    async fn update_user(
        &self,
        actor: &UserView,
        id: i64,
        change: UserChange,
    ) -> Result<AdminUser, AppError> {
        check_role(actor, Role::Admin)?;
        if change.blocked == Some(true) && UserId::from(id) == actor.id {
            return Err(AppError::Conflict {
                field: "blocked".into(),
                problem: Problem::CannotBlockSelf,
            });
        }
        async {
            let mut tx = self.db.begin_write().await?;
            // Serialise changes that could remove the last admin. PostgreSQL: lock every active
            // admin row (a concurrent demotion waits, then sees this one's result). SQLite: take
            // the database's write lock before reading anything.
            match tx {
                Tx::Sqlite(_) => {
                    tx.execute(
                        Sql::new("UPDATE users SET updated_at = updated_at WHERE id = $1").arg(id),
                    )
                    .await?
                }
                Tx::Postgres(_) => {
                    tx.execute(Sql::new(
                        "SELECT id FROM users WHERE role = 'admin' AND NOT blocked ORDER BY id FOR UPDATE",
                    ))
                    .await?
                }
            };
            let (role, blocked): (String, bool) = tx
                .fetch_optional(Sql::new("SELECT role, blocked FROM users WHERE id = $1").arg(id))
                .await?
                .ok_or(AppError::NotFound)?;
            let new_role = change.role.map_or(role.clone(), |r| r.code().to_owned());
            let new_blocked = change.blocked.unwrap_or(blocked);
            let was_active_admin = role == "admin" && !blocked;
            let stays_active_admin = new_role == "admin" && !new_blocked;
            if was_active_admin && !stays_active_admin {
                let others: i64 = tx
                    .scalar(
                        Sql::new(
                            "SELECT COUNT(*) FROM users WHERE role = 'admin' AND NOT blocked AND id <> $1",
                        )
                        .arg(id),
                    )
                    .await?;
                if others == 0 {
                    let field = if new_blocked { "blocked" } else { "role" };
                    return Err(AppError::Conflict {
                        field: field.into(),
                        problem: Problem::LastAdmin,
                    }
                    .into());
                }
            }
            if new_role != role {
                tx.execute(
                    Sql::new("UPDATE users SET role = $2, updated_at = $3 WHERE id = $1")
                        .arg(id)
                        .arg(&new_role)
                        .arg(now()),
                )
                .await?;
                audit::record(
                    &mut tx,
                    actor.id,
                    "user.role",
                    format!("user:{id}"),
                    serde_json::json!({"role": {"before": role, "after": new_role}}),
                )
                .await?;
            }
            if new_blocked != blocked {
                tx.execute(
                    Sql::new("UPDATE users SET blocked = $2, updated_at = $3 WHERE id = $1")
                        .arg(id)
                        .arg(new_blocked)
                        .arg(now()),
                )
                .await?;
                let action = if new_blocked {
                    "user.block"
                } else {
                    "user.unblock"
                };
                audit::record(
                    &mut tx,
                    actor.id,
                    action,
                    format!("user:{id}"),
                    serde_json::json!({"blocked": {"before": blocked, "after": new_blocked}}),
                )
                .await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(())
        }
        .await?;
        tracing::info!(user = %id, admin = %actor.id, ?change, "user changed");
        self.user(id).await?.ok_or(AppError::NotFound)
    }
}

#[async_trait::async_trait]
impl AdminQueries for Admin {
    #[tracing::instrument(skip_all, fields(actor = %actor.id))]
    async fn my_agent_request(&self, actor: &UserView) -> Result<Option<AgentRequest>, AppError> {
        let sql = format!(
            "{REQUEST_SELECT} WHERE r.user_id = $1 ORDER BY r.created_at DESC, r.id DESC LIMIT 1"
        );
        let row: Option<RequestRow> = self
            .db
            .fetch_optional(Sql::new(&sql).arg(actor.id))
            .await
            .map_err(StoreError::from)?;
        row.map(RequestRow::into_request).transpose()
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id))]
    async fn agent_requests(
        &self,
        actor: &UserView,
        status: Option<AgentRequestStatus>,
    ) -> Result<Vec<AgentRequest>, AppError> {
        check_role(actor, Role::Admin)?;
        let mut sql = Sql::new(REQUEST_SELECT);
        if let Some(status) = status {
            sql.push(" WHERE r.status = ").bind(status.code());
        }
        // Pending first, oldest first (who has waited longest); then decisions, newest first.
        sql.push(
            " ORDER BY CASE WHEN r.status = 'pending' THEN 0 ELSE 1 END, \
             CASE WHEN r.status = 'pending' THEN r.created_at END, r.decided_at DESC, r.id DESC LIMIT 500",
        );
        let rows: Vec<RequestRow> = self.db.fetch_all(sql).await.map_err(StoreError::from)?;
        rows.into_iter().map(RequestRow::into_request).collect()
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id))]
    async fn users(&self, actor: &UserView, filter: UserFilter) -> Result<UserPage, AppError> {
        check_role(actor, Role::Admin)?;
        let page = app::events::rules::check_page(filter.page.into())?;
        // Deleted accounts are anonymous rows kept for the reports, nobody to manage.
        let mut conditions = Sql::new(" WHERE deleted_at IS NULL");
        let q = filter.q.trim();
        if !q.is_empty() {
            let pattern = crate::sql::like_contains(q);
            conditions
                .push(" AND (lower(email) LIKE ")
                .bind(pattern.clone())
                .push(" ESCAPE '\\' OR lower(display_name) LIKE ")
                .bind(pattern)
                .push(" ESCAPE '\\')");
        }
        if let Some(role) = filter.role {
            conditions.push(" AND role = ").bind(role.code());
        }
        let mut list = Sql::new(USER_SELECT);
        list.append(&conditions)
            .push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .bind(i64::from(USERS_PER_PAGE))
            .push(" OFFSET ")
            .bind(i64::from((page - 1) * USERS_PER_PAGE));
        let mut count = Sql::new("SELECT COUNT(*) FROM users");
        count.append(&conditions);
        let rows: Vec<UserRow> = self.db.fetch_all(list).await.map_err(StoreError::from)?;
        let total: i64 = self.db.scalar(count).await.map_err(StoreError::from)?;
        Ok(UserPage {
            items: rows
                .into_iter()
                .map(UserRow::into_user)
                .collect::<Result<_, _>>()?,
            total,
            page,
        })
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id))]
    async fn audit_log(
        &self,
        actor: &UserView,
        filter: AuditFilter,
    ) -> Result<AuditPage, AppError> {
        check_role(actor, Role::Admin)?;
        let page = app::events::rules::check_page(filter.page.into())?;
        let mut sql = Sql::new(
            "SELECT a.id, a.at, a.actor_id, u.display_name AS actor, a.action, a.target, a.details \
             FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id WHERE 1 = 1",
        );
        if let Some(who) = filter
            .actor
            .as_deref()
            .map(str::trim)
            .filter(|w| !w.is_empty())
        {
            let pattern = crate::sql::like_contains(who);
            sql.push(" AND (lower(u.email) LIKE ")
                .bind(pattern.clone())
                .push(" ESCAPE '\\' OR lower(u.display_name) LIKE ")
                .bind(pattern)
                .push(" ESCAPE '\\')");
        }
        if let Some(action) = filter
            .action
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
        {
            // `event` finds every `event.*` action; a full name finds itself.
            sql.push(" AND (a.action = ")
                .bind(action)
                .push(" OR a.action LIKE ")
                .bind(format!("{}.%", action.replace('%', "").replace('_', "\\_")))
                .push(" ESCAPE '\\')");
        }
        if let Some(from) = filter.from {
            sql.push(" AND a.at >= ").bind(from);
        }
        if let Some(to) = filter.to {
            sql.push(" AND a.at <= ").bind(to);
        }
        sql.push(" ORDER BY a.at DESC, a.id DESC LIMIT ")
            .bind(i64::from(AUDIT_PER_PAGE) + 1)
            .push(" OFFSET ")
            .bind(i64::from((page - 1) * AUDIT_PER_PAGE));
        type Row = (
            i64,
            DateTime<Utc>,
            Option<i64>,
            Option<String>,
            String,
            String,
            String,
        );
        let mut rows: Vec<Row> = self.db.fetch_all(sql).await.map_err(StoreError::from)?;
        let more = rows.len() > AUDIT_PER_PAGE as usize;
        rows.truncate(AUDIT_PER_PAGE as usize);
        Ok(AuditPage {
            items: rows
                .into_iter()
                .map(
                    |(id, at, actor_id, actor, action, target, details)| AuditEntry {
                        id,
                        at,
                        actor_id: actor_id.map(UserId::from),
                        actor,
                        action,
                        target,
                        details,
                    },
                )
                .collect(),
            page,
            more,
        })
    }
}
