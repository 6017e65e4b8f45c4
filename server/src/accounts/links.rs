//! Links mailed to an account's owner: verify an address (at sign-up, and a new address before
//! an email change takes effect) and set a new password. A link carries a random 256-bit token;
//! only its SHA-256 is stored (`account_links`), it works once — taken by one UPDATE, so two
//! clicks racing cannot both pass — and only until it expires.
use super::{Accounts, USER_COLUMNS, UserRow};
use crate::db::Tx;
use crate::error::{StoreError, StoreResult};
use crate::mail::MailJob;
use crate::sql::Sql;
use app::auth::rules::{check_email, check_password, normalize_email};
use app::auth::{UserId, UserView};
use app::error::{AppError, Problem};
use chrono::{DateTime, TimeDelta, Utc};
use sha2::{Digest, Sha256};
use std::net::IpAddr;

/// What a link does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Purpose {
    VerifyEmail,
    ResetPassword,
}

impl Purpose {
    fn code(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
        }
    }

    /// How long a link stays valid: half an hour to reset a password (it signs in), two
    /// days to verify an address (mail can wait in an inbox).
    fn lifetime(self) -> TimeDelta {
        match self {
            Purpose::VerifyEmail => TimeDelta::days(2),
            Purpose::ResetPassword => TimeDelta::minutes(30),
        }
    }
}

/// How a token is stored: its SHA-256 in hex. A stolen table gives no working link.
fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes a new link for `user` to `email` and, in the same transaction, the job mailing it.
pub(super) async fn issue(
    tx: &mut Tx<'_>,
    purpose: Purpose,
    user: UserId,
    email: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let token = crate::random_hex(32);
    let link_id: i64 = tx
        .scalar(
            Sql::new(
                "INSERT INTO account_links (user_id, purpose, token_hash, email, expires_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .arg(user)
            .arg(purpose.code())
            .arg(token_hash(&token))
            .arg(email)
            .arg(now + purpose.lifetime())
            .arg(now),
        )
        .await?;
    let mail = match purpose {
        Purpose::VerifyEmail => MailJob::VerifyEmail { link_id, token },
        Purpose::ResetPassword => MailJob::PasswordReset { link_id, token },
    };
    crate::jobs::enqueue(tx, &[mail.job(now)], now).await?;
    Ok(())
}

/// A link taken: its account and the address it was sent to.
#[derive(sqlx::FromRow)]
struct Taken {
    id: i64,
    user_id: i64,
    email: String,
}

/// Uses the link `token` names for `purpose`, in `tx`: one UPDATE that only an unused,
/// unexpired link passes. `Invalid` on `token` otherwise.
async fn take(
    tx: &mut Tx<'_>,
    purpose: Purpose,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Taken, AppError> {
    let taken: Option<Taken> = tx
        .fetch_optional(
            Sql::new(
                "UPDATE account_links SET used_at = $3 \
                 WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 \
                 RETURNING id, user_id, email",
            )
            .arg(token_hash(token.trim()))
            .arg(purpose.code())
            .arg(now),
        )
        .await
        .map_err(StoreError::from)?;
    taken.ok_or_else(|| AppError::field("token", Problem::LinkInvalid))
}

impl Accounts {
    /// Counts a link request from `client` (`RateLimited` over the address's limit) and for
    /// `user`: `Some(seconds to wait)` when the account asked too often.
    async fn may_mail(
        &self,
        user: Option<UserId>,
        client: IpAddr,
    ) -> Result<Option<u64>, AppError> {
        let address = format!("account_mail:address:{client}");
        let _counted = self
            .take(&[(address.as_str(), self.limits.account_mail_address)])
            .await?;
        let Some(user) = user else {
            return Ok(None);
        };
        let account = format!("account_mail:account:{user}");
        match self
            .take(&[(account.as_str(), self.limits.account_mail)])
            .await
        {
            Ok(_counted) => Ok(None),
            Err(AppError::RateLimited { retry_after_secs }) => Ok(Some(retry_after_secs)),
            Err(e) => Err(e),
        }
    }

    pub(super) async fn request_reset(&self, email: &str, client: IpAddr) -> Result<(), AppError> {
        if let Err(problem) = check_email(email) {
            return Err(AppError::field("email", problem));
        }
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE lower(u.email) = $1");
        let row: Option<UserRow> = self
            .db
            .fetch_optional(Sql::new(&sql).arg(normalize_email(email)))
            .await
            .map_err(StoreError::from)?;
        let user = row.filter(|r| !r.blocked);
        if self
            .may_mail(user.as_ref().map(|r| r.id.into()), client)
            .await?
            .is_some()
        {
            tracing::info!("password reset not mailed: the account asked too often");
            return Ok(());
        }
        let Some(user) = user else {
            tracing::info!("password reset asked for an address with no account");
            return Ok(());
        };
        let now = crate::db::now();
        let mut tx = self.db.begin_write().await.map_err(StoreError::from)?;
        issue(
            &mut tx,
            Purpose::ResetPassword,
            user.id.into(),
            &user.email,
            now,
        )
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
        tracing::info!(user = user.id, "password reset mailed");
        Ok(())
    }

    pub(super) async fn reset(&self, token: &str, password: &str) -> Result<UserView, AppError> {
        // The password is checked first, so a weak one does not use the link up.
        let email = self.link_email(Purpose::ResetPassword, token).await?;
        check_password(password, &email).map_err(|p| AppError::field("password", p))?;
        let hash = self.hash(password).await?;
        let now = crate::db::now();
        let mut tx = self.db.begin_write().await.map_err(StoreError::from)?;
        let link = take(&mut tx, Purpose::ResetPassword, token, now).await?;
        // Whoever reads the mail owns the address: it counts as verified too.
        tx.execute(
            Sql::new(
                "UPDATE users SET password_hash = $2, auth_version = auth_version + 1, \
                 email_verified_at = CASE WHEN lower(email) = lower($3) \
                 THEN COALESCE(email_verified_at, $4) ELSE email_verified_at END, updated_at = $4 \
                 WHERE id = $1",
            )
            .arg(link.user_id)
            .arg(&hash)
            .arg(&link.email)
            .arg(now),
        )
        .await
        .map_err(StoreError::from)?;
        // Every browser signed in is signed out; the other reset links die with them.
        super::sessions::close_all(&mut tx, link.user_id.into(), None).await?;
        tx.execute(
            Sql::new(
                "UPDATE account_links SET used_at = $3 \
                 WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL",
            )
            .arg(link.user_id)
            .arg(Purpose::ResetPassword.code())
            .arg(now),
        )
        .await
        .map_err(StoreError::from)?;
        tx.commit().await.map_err(StoreError::from)?;
        tracing::info!(user = link.user_id, link = link.id, "password reset");
        self.view(link.user_id.into()).await
    }

    /// The address a still valid link of `purpose` was sent to, without using it.
    async fn link_email(&self, purpose: Purpose, token: &str) -> Result<String, AppError> {
        self.db
            .scalar_optional::<String>(
                Sql::new(
                    "SELECT email FROM account_links WHERE token_hash = $1 AND purpose = $2 \
                     AND used_at IS NULL AND expires_at > $3",
                )
                .arg(token_hash(token.trim()))
                .arg(purpose.code())
                .arg(crate::db::now()),
            )
            .await
            .map_err(StoreError::from)?
            .ok_or_else(|| AppError::field("token", Problem::LinkInvalid))
    }

    pub(super) async fn confirm_email(&self, token: &str) -> Result<UserView, AppError> {
        let now = crate::db::now();
        let mut tx = self.db.begin_write().await.map_err(StoreError::from)?;
        let link = take(&mut tx, Purpose::VerifyEmail, token, now).await?;
        let old: String = tx
            .scalar(Sql::new("SELECT email FROM users WHERE id = $1").arg(link.user_id))
            .await
            .map_err(StoreError::from)?;
        let changed = normalize_email(&old) != normalize_email(&link.email);
        let updated = tx
            .execute(
                Sql::new(
                    "UPDATE users SET email = $2, email_verified_at = $3, updated_at = $3 \
                     WHERE id = $1",
                )
                .arg(link.user_id)
                .arg(&link.email)
                .arg(now),
            )
            .await;
        match updated {
            Ok(_) => {}
            // Someone else took the address since the change was asked.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(AppError::Conflict {
                    field: "email".into(),
                    problem: Problem::EmailTaken,
                });
            }
            Err(e) => return Err(StoreError::from(e).into()),
        }
        if changed {
            // The old address learns of the change (and how to take the account back).
            let mail = MailJob::EmailChanged {
                link_id: link.id,
                old_email: old,
            };
            crate::jobs::enqueue(&mut tx, &[mail.job(now)], now).await?;
            // Links to the old address are void now.
            tx.execute(
                Sql::new(
                    "UPDATE account_links SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL",
                )
                .arg(link.user_id)
                .arg(now),
            )
            .await
            .map_err(StoreError::from)?;
        }
        tx.commit().await.map_err(StoreError::from)?;
        tracing::info!(user = link.user_id, changed, "email verified");
        self.view(link.user_id.into()).await
    }

    pub(super) async fn resend(&self, user: UserId, client: IpAddr) -> Result<(), AppError> {
        let view = self.view(user).await?;
        if view.email_verified {
            return Ok(());
        }
        if let Some(retry_after_secs) = self.may_mail(Some(user), client).await? {
            return Err(AppError::RateLimited { retry_after_secs });
        }
        let now = crate::db::now();
        let mut tx = self.db.begin_write().await.map_err(StoreError::from)?;
        issue(&mut tx, Purpose::VerifyEmail, user, &view.email, now).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    pub(super) async fn start_email_change(
        &self,
        user: UserId,
        new_email: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<(), AppError> {
        check_email(new_email).map_err(|p| AppError::field("email", p))?;
        let row = self.row(user).await?.ok_or(AppError::NotFound)?;
        let new_email = new_email.trim().to_owned();
        if normalize_email(&new_email) == normalize_email(&row.email) {
            return Err(AppError::field("email", Problem::EmailUnchanged));
        }
        if !self.password_matches(password, row.password_hash).await? {
            return Err(AppError::field("password", Problem::PasswordWrong));
        }
        let taken = self
            .db
            .scalar_optional::<i64>(
                Sql::new("SELECT id FROM users WHERE lower(email) = $1")
                    .arg(normalize_email(&new_email)),
            )
            .await
            .map_err(StoreError::from)?;
        if taken.is_some() {
            return Err(AppError::Conflict {
                field: "email".into(),
                problem: Problem::EmailTaken,
            });
        }
        if let Some(retry_after_secs) = self.may_mail(Some(user), client).await? {
            return Err(AppError::RateLimited { retry_after_secs });
        }
        let now = crate::db::now();
        let mut tx = self.db.begin_write().await.map_err(StoreError::from)?;
        issue(&mut tx, Purpose::VerifyEmail, user, &new_email, now).await?;
        tx.commit().await.map_err(StoreError::from)?;
        tracing::info!(user = %user, "email change asked");
        Ok(())
    }
}
