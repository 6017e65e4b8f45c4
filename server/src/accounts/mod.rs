//! Accounts on either database: registration with Argon2id hashes, sign-in with attempt
//! limits, role and block flags read fresh on every request. Implements the app's ports;
//! `links.rs` has the mailed links (verification, password reset, email change) and
//! `sessions.rs` the browser sessions each account is signed in with, `two_factor.rs` TOTP
//! sign-in and its recovery codes, `own_data.rs` what the owner takes away or deletes (the
//! export, the private calendar feed, deleting the account).
//!
//! Sign-in limits are kept in the database ([`SharedLimits`]), so every server process counts
//! together: a slot is taken under the account and under the client address *before* the
//! password is checked, and given back when it was right — parallel guesses cannot all pass
//! one free slot. Attempts on an account from an address it signed in from before are counted
//! under their own key, so a stranger's guesses do not lock the owner out.
mod links;
mod own_data;
mod sessions;
mod two_factor;

use crate::db::{Db, Tx};
use crate::error::{StoreError, StoreResult};
use crate::rate::{Rate, RequestLimits, SharedLimits};
use crate::sql::Sql;
use app::auth::ports::{AccountCommands, AccountQueries, Client, SignIn, UserRecord};
use app::auth::rules::{normalize_email, validate_new_user};
use app::auth::{AccountSession, NewUser, Role, TwoFactorSetup, UserId, UserView};
use app::error::{AppError, Problem};
use app::i18n::Locale;
use app::ssr::internal;
use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use chrono::{DateTime, Utc};
use std::net::IpAddr;
use std::sync::{Arc, LazyLock};

/// A users row as stored (server only).
#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    email: String,
    display_name: String,
    password_hash: String,
    role: String,
    blocked: bool,
    locale: String,
    created_at: DateTime<Utc>,
    email_verified_at: Option<DateTime<Utc>>,
    auth_version: i64,
    two_factor: bool,
    /// The `require_2fa_for` setting (a JSON list of roles), read with the user.
    require_2fa_for: Option<String>,
}

impl UserRow {
    fn into_record(self) -> Result<(UserRecord, String), AppError> {
        let held = Role::from_code(&self.role)
            .ok_or_else(|| internal(format!("unknown role {:?}", self.role)))?;
        // A role the platform requires two-factor sign-in of is held back until it is on:
        // every door (pages, REST, GraphQL) and every record rule then sees a plain user.
        let role_held = (!self.two_factor
            && two_factor::parse_required(self.require_2fa_for.as_deref()).contains(&held))
        .then_some(held);
        let role = if role_held.is_some() {
            Role::User
        } else {
            held
        };
        let user = UserView {
            id: self.id.into(),
            email: self.email,
            display_name: self.display_name,
            role,
            locale: Locale::from_tag(&self.locale).unwrap_or_default(),
            created_at: self.created_at,
            email_verified: self.email_verified_at.is_some(),
            two_factor: self.two_factor,
            role_held,
        };
        Ok((
            UserRecord {
                user,
                blocked: self.blocked,
                auth_version: self.auth_version,
            },
            self.password_hash,
        ))
    }
}

/// A user row with whether the client's address is one the account signed in from.
#[derive(sqlx::FromRow)]
struct SignInRow {
    #[sqlx(flatten)]
    user: UserRow,
    known: bool,
}

/// The columns of [`UserRow`], from `users u`.
const USER_COLUMNS: &str = "u.id, u.email, u.display_name, u.password_hash, u.role, u.blocked, \
    u.locale, u.created_at, u.email_verified_at, u.auth_version, \
    EXISTS (SELECT 1 FROM user_totp t WHERE t.user_id = u.id AND t.confirmed_at IS NOT NULL) AS two_factor, \
    (SELECT p.value FROM platform_settings p WHERE p.key = 'require_2fa_for') AS require_2fa_for";

/// Verified against when the email is unknown, so both answers take as long.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password("not a real password").expect("hashing works"));

pub fn hash_password(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(internal)
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Password hashes running at once: about one per core. Each Argon2id hash takes ~19 MiB and
/// a core for tens of milliseconds, so a burst of sign-ups or sign-ins waits here instead of
/// growing the process without bound.
static HASHING: LazyLock<tokio::sync::Semaphore> = LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
});

/// Runs CPU-heavy hashing off the async workers, at most [`HASHING`] at a time; a request
/// that waits longer than `wait` for a slot is answered `503` with `Retry-After`.
async fn blocking<T: Send + 'static>(
    wait: Option<std::time::Duration>,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    let permit = match wait {
        Some(wait) => tokio::time::timeout(wait, HASHING.acquire())
            .await
            .map_err(|_| AppError::Unavailable {
                service: "password hashing".into(),
                retry_after_secs: 2,
            })?,
        None => HASHING.acquire().await,
    }
    .map_err(internal)?;
    let result = tokio::task::spawn_blocking(f).await.map_err(internal);
    drop(permit);
    result
}

pub struct Accounts {
    db: Db,
    limits: RequestLimits,
    shared: SharedLimits,
    sealer: two_factor::Sealer,
    calendar_key: [u8; 32],
    seat_changes: Arc<crate::live::SeatChanges>,
}

impl Accounts {
    pub fn new(
        db: Db,
        limits: RequestLimits,
        shared: SharedLimits,
        keys: &crate::keys::Keys,
        seat_changes: Arc<crate::live::SeatChanges>,
    ) -> Arc<Self> {
        Arc::new(Accounts {
            db,
            limits,
            shared,
            sealer: two_factor::Sealer::new(&keys.totp),
            calendar_key: keys.calendar,
            seat_changes,
        })
    }

    /// Takes a slot under each key whose limit is on; `RateLimited` over any of them.
    async fn take(&self, keys: &[(&str, Option<Rate>)]) -> Result<crate::rate::Taken, AppError> {
        let on: Vec<(&str, Rate)> = keys
            .iter()
            .filter_map(|(key, rate)| rate.map(|r| (*key, r)))
            .collect();
        self.shared
            .take(&on, crate::db::now())
            .await?
            .map_err(|wait| AppError::RateLimited {
                retry_after_secs: wait,
            })
    }

    /// The account of `email`, and whether it signed in from `client` before: one read.
    async fn find_for_sign_in(
        &self,
        email: &str,
        client: IpAddr,
    ) -> StoreResult<Option<SignInRow>> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, EXISTS (SELECT 1 FROM sign_in_addresses a \
             WHERE a.user_id = u.id AND a.address = $2) AS known \
             FROM users u WHERE lower(u.email) = $1"
        );
        Ok(self
            .db
            .fetch_optional(
                Sql::new(&sql)
                    .arg(normalize_email(email))
                    .arg(client.to_string()),
            )
            .await?)
    }

    async fn remember_address(&self, user: i64, client: IpAddr) -> StoreResult<()> {
        self.db
            .execute(
                Sql::new(
                    "INSERT INTO sign_in_addresses (user_id, address, last_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (user_id, address) DO UPDATE SET last_at = excluded.last_at",
                )
                .arg(user)
                .arg(client.to_string())
                .arg(crate::db::now()),
            )
            .await?;
        Ok(())
    }

    /// Creates a user with the given role (the CLI's `create-user` and the demo data use this):
    /// the operator vouches for the address, so it counts as verified.
    pub async fn create(
        &self,
        new: NewUser,
        role: Role,
        locale: Locale,
    ) -> Result<UserView, AppError> {
        let (new, hash) = self.validated(new).await?;
        let now = crate::db::now();
        let mut tx = self.db.begin_write().await.map_err(StoreError::from)?;
        let user = insert_user(&mut tx, new, &hash, role, locale, Some(now)).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(user)
    }

    /// `new` validated, and the hash of its password.
    async fn validated(&self, new: NewUser) -> Result<(NewUser, String), AppError> {
        let new = validate_new_user(&new).map_err(AppError::Invalid)?;
        let hash = self.hash(&new.password).await?;
        Ok((new, hash))
    }

    async fn hash(&self, password: &str) -> Result<String, AppError> {
        let password = password.to_owned();
        blocking(self.limits.hash_wait, move || hash_password(&password)).await?
    }

    /// Whether `password` is the one `hash` was made from (off the async workers).
    async fn password_matches(&self, password: &str, hash: String) -> Result<bool, AppError> {
        let password = password.to_owned();
        blocking(self.limits.hash_wait, move || {
            verify_password(&password, &hash)
        })
        .await
    }

    /// The user row with its password hash.
    async fn row(&self, id: UserId) -> StoreResult<Option<UserRow>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
        Ok(self.db.fetch_optional(Sql::new(&sql).arg(id)).await?)
    }

    /// The user as the UI sees them (`NotFound` when gone).
    async fn view(&self, id: UserId) -> Result<UserView, AppError> {
        let row = self.row(id).await?.ok_or(AppError::NotFound)?;
        Ok(row.into_record()?.0.user)
    }

    async fn change_password_of(
        &self,
        user: UserId,
        current: &str,
        new: &str,
        keep: Option<&str>,
    ) -> Result<(), AppError> {
        let row = self.row(user).await?.ok_or(AppError::NotFound)?;
        if let Err(problem) = app::auth::rules::check_password(new, &row.email) {
            return Err(AppError::field("new_password", problem));
        }
        if !self.password_matches(current, row.password_hash).await? {
            return Err(AppError::field("current_password", Problem::PasswordWrong));
        }
        let hash = self.hash(new).await?;
        let mut tx = self.db.begin_write().await.map_err(StoreError::from)?;
        tx.execute(
            Sql::new("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
                .arg(user)
                .arg(&hash)
                .arg(crate::db::now()),
        )
        .await
        .map_err(StoreError::from)?;
        sessions::close_all(&mut tx, user, keep).await?;
        tx.commit().await.map_err(StoreError::from)?;
        tracing::info!(user = %user, "password changed");
        Ok(())
    }

    pub async fn count_users(&self) -> Result<i64, AppError> {
        Ok(self
            .db
            .scalar(Sql::new("SELECT COUNT(*) FROM users"))
            .await
            .map_err(StoreError::from)?)
    }
}

#[async_trait::async_trait]
impl AccountQueries for Accounts {
    #[tracing::instrument(skip_all, fields(user = %id))]
    async fn get_user(&self, id: UserId) -> Result<Option<UserRecord>, AppError> {
        self.row(id)
            .await?
            .map(|r| r.into_record().map(|(record, _)| record))
            .transpose()
    }

    async fn session_user(&self, session: &str) -> Result<Option<UserRecord>, AppError> {
        Ok(self.session_record(session).await?)
    }

    async fn list_sessions(
        &self,
        user: UserId,
        current: Option<&str>,
    ) -> Result<Vec<AccountSession>, AppError> {
        Ok(self.sessions_of(user, current).await?)
    }

    async fn pending_two_factor(&self, user: UserId) -> Result<Option<TwoFactorSetup>, AppError> {
        self.pending_setup(user).await
    }

    async fn recovery_codes_left(&self, user: UserId) -> Result<i64, AppError> {
        Ok(self.recovery_left(user).await?)
    }

    async fn two_factor_required_for(&self) -> Result<Vec<Role>, AppError> {
        Ok(self.required().await?)
    }

    #[tracing::instrument(skip_all, fields(user = %user))]
    async fn export(&self, user: UserId) -> Result<String, AppError> {
        self.export_of(user).await
    }

    async fn calendar_owner(&self, token: &str) -> Result<Option<UserId>, AppError> {
        Ok(self.feed_owner(token).await?)
    }

    async fn calendar_token(&self, user: UserId) -> Result<Option<String>, AppError> {
        Ok(self.feed_token(user).await?)
    }
}

/// Inserts a user (`verified`: when the address counts as proved), in `tx`.
async fn insert_user(
    tx: &mut Tx<'_>,
    new: NewUser,
    hash: &str,
    role: Role,
    locale: Locale,
    verified: Option<DateTime<Utc>>,
) -> Result<UserView, AppError> {
    let now = crate::db::now();
    let sql = "INSERT INTO users (email, display_name, password_hash, role, blocked, locale, \
               created_at, updated_at, email_verified_at) \
               VALUES ($1, $2, $3, $4, FALSE, $5, $6, $6, $7) RETURNING id";
    let inserted = tx
        .scalar::<i64>(
            Sql::new(sql)
                .arg(&new.email)
                .arg(&new.display_name)
                .arg(hash)
                .arg(role.code())
                .arg(locale.code())
                .arg(now)
                .arg(verified),
        )
        .await;
    let id = match inserted {
        Ok(id) => id,
        // The only unique key a new row can collide on is the email (ids are generated).
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(AppError::Conflict {
                field: "email".into(),
                problem: Problem::EmailTaken,
            });
        }
        Err(e) => return Err(StoreError::from(e).into()),
    };
    tracing::info!(user_id = %id, role = role.code(), "user created");
    Ok(UserView {
        id: id.into(),
        email: new.email,
        display_name: new.display_name,
        role,
        locale,
        created_at: now,
        email_verified: verified.is_some(),
        two_factor: false,
        role_held: None,
    })
}

#[async_trait::async_trait]
impl AccountCommands for Accounts {
    #[tracing::instrument(skip_all)]
    async fn register(
        &self,
        new: NewUser,
        locale: Locale,
        client: IpAddr,
    ) -> Result<UserView, AppError> {
        // Bad input is refused before it costs the address a sign-up.
        validate_new_user(&new).map_err(AppError::Invalid)?;
        let key = format!("signup:{client}");
        let _counted = self.take(&[(key.as_str(), self.limits.sign_up)]).await?;
        let (new, hash) = self.validated(new).await?;
        let now = crate::db::now();
        // The account and the mail asking to verify its address commit together.
        let mut tx = self.db.begin_write().await.map_err(StoreError::from)?;
        let user = insert_user(&mut tx, new, &hash, Role::User, locale, None).await?;
        links::issue(
            &mut tx,
            links::Purpose::VerifyEmail,
            user.id,
            &user.email,
            now,
        )
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(user)
    }

    #[tracing::instrument(skip_all, fields(client = %client))]
    async fn sign_in(
        &self,
        email: &str,
        password: &str,
        otp: Option<&str>,
        client: IpAddr,
    ) -> Result<SignIn, AppError> {
        let found = self.find_for_sign_in(email, client).await?;
        let known = found.as_ref().is_some_and(|f| f.known);
        let row = found.map(|f| f.user);
        let email = normalize_email(email);
        let account_key = if known {
            format!("signin:account:{email}@{client}")
        } else {
            format!("signin:account:{email}")
        };
        let address_key = format!("signin:address:{client}");
        let taken = self
            .take(&[
                (account_key.as_str(), self.limits.sign_in_account),
                (address_key.as_str(), self.limits.sign_in_address),
            ])
            .await
            .inspect_err(
                |_| tracing::info!(client = %client, "sign-in refused: too many failed attempts"),
            )?;
        let (hash, password) = (
            row.as_ref()
                .map_or_else(|| DUMMY_HASH.clone(), |r| r.password_hash.clone()),
            password.to_owned(),
        );
        let matches = blocking(self.limits.hash_wait, move || {
            verify_password(&password, &hash)
        })
        .await?;
        let row = match row {
            Some(row) if matches => row,
            _ => {
                drop(taken);
                tracing::info!(client = %client, "sign-in refused: bad credentials");
                return Err(AppError::BadCredentials);
            }
        };
        let (record, _) = row.into_record()?;
        let user = record.user.id;
        if record.user.two_factor {
            match otp {
                // A right password without its code: the slots go back, the code is asked.
                None => {
                    self.shared.give_back(taken).await?;
                    return Ok(SignIn::CodeNeeded(user));
                }
                // A wrong code keeps the attempt counted: codes are guessed under the limits.
                Some(code) if !self.take_code(user, code, false).await? => {
                    drop(taken);
                    tracing::info!(client = %client, "sign-in refused: wrong or used code");
                    return Err(AppError::OtpInvalid);
                }
                Some(_) => {}
            }
        }
        // Right credentials are no guess: their slots go back.
        self.shared.give_back(taken).await?;
        self.remember_address(user.get(), client).await?;
        if record.blocked {
            return Err(AppError::Blocked);
        }
        Ok(SignIn::Done(record.user))
    }

    #[tracing::instrument(skip_all, fields(user = %user, client = %client))]
    async fn second_factor(
        &self,
        user: UserId,
        code: &str,
        client: IpAddr,
    ) -> Result<UserView, AppError> {
        let account_key = format!("signin:code:{user}");
        let address_key = format!("signin:address:{client}");
        let taken = self
            .take(&[
                (account_key.as_str(), self.limits.sign_in_account),
                (address_key.as_str(), self.limits.sign_in_address),
            ])
            .await?;
        if !self.take_code(user, code, false).await? {
            drop(taken);
            tracing::info!(client = %client, "second step refused: wrong or used code");
            return Err(AppError::OtpInvalid);
        }
        self.shared.give_back(taken).await?;
        self.remember_address(user.get(), client).await?;
        let record = self.get_user(user).await?.ok_or(AppError::BadCredentials)?;
        if record.blocked {
            return Err(AppError::Blocked);
        }
        Ok(record.user)
    }

    #[tracing::instrument(skip_all, fields(user = %user))]
    async fn begin_two_factor(&self, user: UserId) -> Result<TwoFactorSetup, AppError> {
        self.begin(user).await
    }

    #[tracing::instrument(skip_all, fields(user = %user))]
    async fn confirm_two_factor(&self, user: UserId, code: &str) -> Result<Vec<String>, AppError> {
        self.confirm(user, code).await
    }

    #[tracing::instrument(skip_all, fields(user = %user))]
    async fn disable_two_factor(&self, user: UserId, code: &str) -> Result<(), AppError> {
        self.disable(user, code).await
    }

    #[tracing::instrument(skip_all, fields(actor = %actor.id))]
    async fn require_two_factor_for(
        &self,
        actor: &UserView,
        roles: Vec<Role>,
    ) -> Result<Vec<Role>, AppError> {
        self.set_required(actor, roles).await
    }

    #[tracing::instrument(skip_all, fields(user = %user))]
    async fn renew_calendar(&self, user: UserId) -> Result<String, AppError> {
        self.renew_feed(user).await
    }

    #[tracing::instrument(skip_all, fields(user = %user))]
    async fn stop_calendar(&self, user: UserId) -> Result<(), AppError> {
        self.stop_feed(user).await
    }

    #[tracing::instrument(skip_all, fields(user = %user))]
    async fn delete_account(
        &self,
        user: UserId,
        password: &str,
        otp: Option<&str>,
    ) -> Result<(), AppError> {
        self.delete(user, password, otp).await
    }

    #[tracing::instrument(skip_all, fields(user = %id))]
    async fn set_locale(&self, id: UserId, locale: Locale) -> Result<(), AppError> {
        self.db
            .execute(
                Sql::new("UPDATE users SET locale = $1, updated_at = $2 WHERE id = $3")
                    .arg(locale.code())
                    .arg(crate::db::now())
                    .arg(id),
            )
            .await
            .map_err(StoreError::from)?;
        Ok(())
    }

    async fn open_session(&self, user: UserId, client: Client) -> Result<String, AppError> {
        self.open(user, client).await
    }

    async fn close_session(&self, user: UserId, session: &str) -> Result<(), AppError> {
        self.close(user, session).await
    }

    async fn sign_out_everywhere(&self, user: UserId) -> Result<(), AppError> {
        self.close_everywhere(user, None).await
    }

    #[tracing::instrument(skip_all, fields(client = %client))]
    async fn request_password_reset(&self, email: &str, client: IpAddr) -> Result<(), AppError> {
        self.request_reset(email, client).await
    }

    #[tracing::instrument(skip_all)]
    async fn reset_password(&self, token: &str, password: &str) -> Result<UserView, AppError> {
        self.reset(token, password).await
    }

    #[tracing::instrument(skip_all)]
    async fn verify_email(&self, token: &str) -> Result<UserView, AppError> {
        self.confirm_email(token).await
    }

    #[tracing::instrument(skip_all, fields(user = %user))]
    async fn resend_verification(&self, user: UserId, client: IpAddr) -> Result<(), AppError> {
        self.resend(user, client).await
    }

    #[tracing::instrument(skip_all, fields(user = %user))]
    async fn change_password(
        &self,
        user: UserId,
        current_password: &str,
        new_password: &str,
        keep: Option<&str>,
    ) -> Result<(), AppError> {
        self.change_password_of(user, current_password, new_password, keep)
            .await
    }

    #[tracing::instrument(skip_all, fields(user = %user))]
    async fn change_email(
        &self,
        user: UserId,
        new_email: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<(), AppError> {
        self.start_email_change(user, new_email, password, client)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn no_more_hashes_run_at_once_than_there_are_cores() {
        static RUNNING: AtomicUsize = AtomicUsize::new(0);
        static MOST: AtomicUsize = AtomicUsize::new(0);
        let tasks: Vec<_> = (0..24)
            .map(|_| {
                tokio::spawn(blocking(None, || {
                    let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
                    MOST.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    RUNNING.fetch_sub(1, Ordering::SeqCst);
                }))
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        assert!(MOST.load(Ordering::SeqCst) <= cores);
        assert!(MOST.load(Ordering::SeqCst) >= 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_long_wait_for_hashing_is_answered_unavailable_with_retry_after() {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let busy: Vec<_> = (0..cores)
            .map(|_| {
                tokio::spawn(blocking(None, || {
                    std::thread::sleep(std::time::Duration::from_millis(300))
                }))
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let refused = blocking(Some(std::time::Duration::from_millis(10)), || ()).await;
        assert!(
            matches!(&refused, Err(e) if e.status() == 503 && e.retry_after().is_some()),
            "{refused:?}"
        );
        for task in busy {
            task.await.unwrap().unwrap();
        }
    }
}
