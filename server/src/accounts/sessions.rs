//! The browser sessions an account is signed in with (`account_sessions`): one row per
//! sign-in, its random id kept in the session store's record. Every request reads the row with
//! the user; deleting it signs that browser out at its next request, on every process.
use super::{Accounts, USER_COLUMNS, UserRow};
use crate::db::Tx;
use crate::error::{StoreError, StoreResult};
use crate::sql::Sql;
use app::auth::ports::{Client, UserRecord};
use app::auth::{AccountSession, UserId};
use app::error::AppError;
use chrono::{DateTime, TimeDelta, Utc};

/// A session's "last seen" is written at most this often (not on every request).
const SEEN_EVERY: TimeDelta = TimeDelta::minutes(1);

/// How long an unused session lasts: as long as the session store keeps it.
const IDLE: TimeDelta = TimeDelta::days(crate::sessions::SESSION_IDLE_DAYS);

/// The user agent kept for the list: enough to tell two browsers apart.
const DEVICE_MAX: usize = 200;

#[derive(sqlx::FromRow)]
struct SessionUserRow {
    #[sqlx(flatten)]
    user: UserRow,
    last_seen_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: String,
    device: String,
    address: String,
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
}

/// Deletes every session of `user` but `keep`, in `tx`, and makes the bearer tokens issued so
/// far stale (their version is behind).
pub(super) async fn close_all(
    tx: &mut Tx<'_>,
    user: UserId,
    keep: Option<&str>,
) -> StoreResult<()> {
    tx.execute(
        Sql::new("DELETE FROM account_sessions WHERE user_id = $1 AND id <> $2")
            .arg(user)
            .arg(keep.unwrap_or("")),
    )
    .await?;
    tx.execute(
        Sql::new("UPDATE users SET auth_version = auth_version + 1 WHERE id = $1").arg(user),
    )
    .await?;
    Ok(())
}

impl Accounts {
    pub(super) async fn open(&self, user: UserId, client: Client) -> Result<String, AppError> {
        let id = crate::random_hex(16);
        let device: String = client.device.trim().chars().take(DEVICE_MAX).collect();
        let now = crate::db::now();
        // The account's sessions that ended by idling go when a new one starts.
        self.db
            .execute(
                Sql::new("DELETE FROM account_sessions WHERE user_id = $1 AND last_seen_at < $2")
                    .arg(user)
                    .arg(now - IDLE),
            )
            .await
            .map_err(StoreError::from)?;
        self.db
            .execute(
                Sql::new(
                    "INSERT INTO account_sessions (id, user_id, device, address, created_at, last_seen_at) \
                     VALUES ($1, $2, $3, $4, $5, $5)",
                )
                .arg(&id)
                .arg(user)
                .arg(device)
                .arg(client.address.to_string())
                .arg(now),
            )
            .await
            .map_err(StoreError::from)?;
        Ok(id)
    }

    pub(super) async fn session_record(&self, session: &str) -> StoreResult<Option<UserRecord>> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, s.last_seen_at FROM account_sessions s \
             JOIN users u ON u.id = s.user_id WHERE s.id = $1"
        );
        let Some(row) = self
            .db
            .fetch_optional::<SessionUserRow>(Sql::new(&sql).arg(session))
            .await?
        else {
            return Ok(None);
        };
        let now = crate::db::now();
        if now - row.last_seen_at >= IDLE {
            return Ok(None);
        }
        if now - row.last_seen_at >= SEEN_EVERY {
            self.db
                .execute(
                    Sql::new("UPDATE account_sessions SET last_seen_at = $2 WHERE id = $1")
                        .arg(session)
                        .arg(now),
                )
                .await?;
        }
        Ok(Some(row.user.into_record()?.0))
    }

    pub(super) async fn sessions_of(
        &self,
        user: UserId,
        current: Option<&str>,
    ) -> StoreResult<Vec<AccountSession>> {
        let rows: Vec<SessionRow> = self
            .db
            .fetch_all(
                Sql::new(
                    "SELECT id, device, address, created_at, last_seen_at FROM account_sessions \
                     WHERE user_id = $1 AND last_seen_at >= $2 \
                     ORDER BY last_seen_at DESC, created_at DESC",
                )
                .arg(user)
                .arg(crate::db::now() - IDLE),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| AccountSession {
                current: current == Some(r.id.as_str()),
                id: r.id,
                device: r.device,
                address: r.address,
                created_at: r.created_at,
                last_seen_at: r.last_seen_at,
            })
            .collect())
    }

    pub(super) async fn close(&self, user: UserId, session: &str) -> Result<(), AppError> {
        let closed = self
            .db
            .execute(
                Sql::new("DELETE FROM account_sessions WHERE id = $1 AND user_id = $2")
                    .arg(session)
                    .arg(user),
            )
            .await
            .map_err(StoreError::from)?;
        if closed == 0 {
            return Err(AppError::NotFound);
        }
        Ok(())
    }

    pub(super) async fn close_everywhere(
        &self,
        user: UserId,
        keep: Option<&str>,
    ) -> Result<(), AppError> {
        let mut tx = self.db.begin_write().await.map_err(StoreError::from)?;
        close_all(&mut tx, user, keep).await?;
        tx.commit().await.map_err(StoreError::from)?;
        tracing::info!(user = %user, "signed out everywhere");
        Ok(())
    }
}
