//! The operators' ports on the database: the job queue ([`JobQueries`], [`JobCommands`]) and
//! the record of every e-mail ([`MailQueries`], the `mails` table the mail handler writes).
//! Admins only; retry and discard are audited in their own transaction.
use super::{Depth, Filter, Job, JobState, Jobs};
use crate::db::{Db, now};
use crate::error::StoreResult;
use crate::sql::Sql;
use app::admin::ports::{JobCommands, JobQueries, MailQueries};
use app::admin::{
    JobCounts, JobFilter, JobItem, JobOverview, JobPage, JobStatus, KindDepth, MAILS_PER_PAGE,
    MailDetail, MailFilter, MailItem, MailPage, RunningJob,
};
use app::auth::{Role, UserView};
use app::error::AppError;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// The operator ports over the queue and the mail record.
pub struct Operators {
    jobs: Jobs,
    db: Db,
}

impl Operators {
    pub fn new(jobs: Jobs) -> Arc<Self> {
        let db = jobs.db().clone();
        Arc::new(Operators { jobs, db })
    }
}

fn admin(actor: &UserView) -> Result<(), AppError> {
    app::auth::rules::check_role(actor, Role::Admin)
}

fn status(state: JobState) -> JobStatus {
    match state {
        JobState::Pending => JobStatus::Pending,
        JobState::Running => JobStatus::Running,
        JobState::Done => JobStatus::Done,
        JobState::Dead => JobStatus::Dead,
    }
}

fn state(status: JobStatus) -> JobState {
    match status {
        JobStatus::Pending => JobState::Pending,
        JobStatus::Running => JobState::Running,
        JobStatus::Done => JobState::Done,
        JobStatus::Dead => JobState::Dead,
    }
}

fn counts(c: super::Counts) -> JobCounts {
    JobCounts {
        pending: c.pending,
        running: c.running,
        done: c.done,
        dead: c.dead,
    }
}

fn item(job: Job) -> JobItem {
    JobItem {
        id: job.id,
        kind: job.kind,
        status: status(job.state),
        priority: job.priority,
        attempts: job.attempts,
        max_attempts: job.max_attempts,
        run_at: job.run_at,
        last_error: job.last_error,
        worker: job.worker,
        created_at: job.created_at,
        finished_at: job.finished_at,
    }
}

/// The overview from a [`Depth`] and the running jobs.
pub fn overview(depth: Depth, running: Vec<Job>) -> JobOverview {
    JobOverview {
        counts: counts(depth.counts),
        by_kind: depth
            .by_kind
            .into_iter()
            .map(|(kind, c)| KindDepth {
                kind,
                counts: counts(c),
            })
            .collect(),
        oldest_pending_age_seconds: depth.oldest_pending_age.num_seconds(),
        running: running
            .into_iter()
            .filter_map(|job| {
                Some(RunningJob {
                    lease_until: job.lease_until?,
                    worker: job.worker.unwrap_or_default(),
                    id: job.id,
                    kind: job.kind,
                    attempts: job.attempts,
                    max_attempts: job.max_attempts,
                })
            })
            .collect(),
    }
}

#[async_trait::async_trait]
impl JobQueries for Operators {
    #[tracing::instrument(skip_all, fields(actor = %actor.id))]
    async fn job_overview(&self, actor: &UserView) -> Result<JobOverview, AppError> {
        admin(actor)?;
        let depth = self.jobs.depth(now()).await?;
        let running = self.jobs.running().await?;
        Ok(overview(depth, running))
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id))]
    async fn jobs(&self, actor: &UserView, filter: JobFilter) -> Result<JobPage, AppError> {
        admin(actor)?;
        let page = filter.page.max(1);
        let (jobs, more) = self
            .jobs
            .list(&Filter {
                state: filter.status.map(state),
                kind: filter.kind,
                page,
            })
            .await?;
        Ok(JobPage {
            items: jobs.into_iter().map(item).collect(),
            page,
            more,
        })
    }
}

#[async_trait::async_trait]
impl JobCommands for Operators {
    #[tracing::instrument(skip_all, fields(actor = %actor.id, job = id))]
    async fn retry_job(&self, actor: &UserView, id: i64) -> Result<(), AppError> {
        admin(actor)?;
        if self.jobs.retry(actor.id, id, now()).await? {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id, job = id))]
    async fn discard_job(&self, actor: &UserView, id: i64) -> Result<(), AppError> {
        admin(actor)?;
        if self.jobs.discard(actor.id, id).await? {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }
}

#[derive(sqlx::FromRow)]
struct MailRow {
    id: i64,
    to_addr: String,
    subject: String,
    created_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct MailFull {
    id: i64,
    to_addr: String,
    subject: String,
    locale: String,
    text_body: String,
    html_body: String,
    created_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
}

#[async_trait::async_trait]
impl MailQueries for Operators {
    #[tracing::instrument(skip_all, fields(actor = %actor.id))]
    async fn mails(&self, actor: &UserView, filter: MailFilter) -> Result<MailPage, AppError> {
        admin(actor)?;
        let page = app::events::rules::check_page(i64::from(filter.page.max(1)))?;
        let mut sql = Sql::new("SELECT id, to_addr, subject, created_at, sent_at FROM mails");
        let to = filter.to.trim();
        if to.chars().count() > 254 || to.chars().any(char::is_control) {
            return Err(AppError::field(
                "to",
                app::error::Problem::Malformed {
                    detail: "to must be at most 254 characters, none of them control characters"
                        .into(),
                },
            ));
        }
        if !to.is_empty() {
            sql.push(" WHERE lower(to_addr) LIKE ")
                .bind(crate::sql::like_contains(to))
                .push(" ESCAPE '\\'");
        }
        let per_page = i64::from(MAILS_PER_PAGE);
        sql.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .bind(per_page + 1)
            .push(" OFFSET ")
            .bind((i64::from(page) - 1) * per_page);
        let mut rows: Vec<MailRow> = fetch_all(&self.db, sql).await?;
        let more = rows.len() > MAILS_PER_PAGE as usize;
        rows.truncate(MAILS_PER_PAGE as usize);
        Ok(MailPage {
            items: rows
                .into_iter()
                .map(|r| MailItem {
                    id: r.id,
                    to: r.to_addr,
                    subject: r.subject,
                    created_at: r.created_at,
                    sent_at: r.sent_at,
                })
                .collect(),
            page,
            more,
        })
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id, mail = id))]
    async fn mail(&self, actor: &UserView, id: i64) -> Result<MailDetail, AppError> {
        admin(actor)?;
        let sql = Sql::new(
            "SELECT id, to_addr, subject, locale, text_body, html_body, created_at, sent_at \
             FROM mails WHERE id = $1",
        )
        .arg(id);
        let row: MailFull = fetch_optional(&self.db, sql)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(MailDetail {
            id: row.id,
            to: row.to_addr,
            subject: row.subject,
            locale: row.locale,
            text: hide_link_tokens(&row.text_body),
            html: hide_link_tokens(&row.html_body),
            created_at: row.created_at,
            sent_at: row.sent_at,
        })
    }
}

/// A mail as operators read it: the secret of a mailed account link (`token=<hex>`: a password
/// reset signs its holder in) replaced by `…`, so reading the outgoing mail takes no account.
fn hide_link_tokens(body: &str) -> String {
    const MARK: &str = "token=";
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = rest.find(MARK) {
        let (before, after) = rest.split_at(at + MARK.len());
        out.push_str(before);
        let secret = after.len()
            - after
                .trim_start_matches(|c: char| c.is_ascii_hexdigit())
                .len();
        if secret > 0 {
            out.push('…');
        }
        rest = &after[secret..];
    }
    out.push_str(rest);
    out
}

async fn fetch_all<T: crate::db::Row>(db: &Db, sql: Sql) -> StoreResult<Vec<T>> {
    Ok(db.fetch_all(sql).await?)
}

async fn fetch_optional<T: crate::db::Row>(db: &Db, sql: Sql) -> StoreResult<Option<T>> {
    Ok(db.fetch_optional(sql).await?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn operators_never_read_a_links_secret() {
        let text = "Open https://x.test/reset-password?token=0a1b2c3d and token= alone; <a href=\"/v?token=ff\">";
        assert_eq!(
            super::hide_link_tokens(text),
            "Open https://x.test/reset-password?token=… and token= alone; <a href=\"/v?token=…\">"
        );
    }
}
