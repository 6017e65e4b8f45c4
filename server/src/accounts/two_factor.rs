//! Two-factor sign-in: TOTP as RFC 6238 and every authenticator app have it (SHA-1, 6 digits,
//! 30-second steps), ten single-use recovery codes, and the platform setting that requires it
//! of some roles.
//!
//! A code is accepted once: the time step it belongs to is written by one conditional
//! `UPDATE … SET last_step = s WHERE last_step < s`, so of two requests carrying the same code
//! (on one process or two) exactly one moves the step and wins; an older code can never follow
//! a newer one. One step either side of now is accepted for clocks that drift.
//!
//! The secret is sealed at rest with XChaCha20-Poly1305 under a key derived from the server
//! secret (`keys.rs`), bound to the account id, so a database copy alone gives no codes and a
//! sealed secret moved to another account does not open.
use super::Accounts;
use crate::error::{StoreError, StoreResult};
use crate::sql::Sql;
use app::auth::{Role, TwoFactorSetup, UserId};
use app::error::{AppError, Problem};
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use data_encoding::{BASE32_NOPAD, BASE64};
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, TOTP};

/// Seconds per code.
const STEP: u64 = 30;
/// Digits per code.
const DIGITS: usize = 6;
/// Steps accepted either side of the server's clock.
const SKEW: u8 = 1;
/// Bytes of a new secret (160 bits, as RFC 4226 recommends).
const SECRET_BYTES: usize = 20;
/// Recovery codes made at confirmation.
pub const RECOVERY_CODES: usize = 10;
/// The name apps show beside the account.
const ISSUER: &str = "EventHub";
/// The `platform_settings` key of the roles that must use two-factor sign-in.
pub(super) const REQUIRED_KEY: &str = "require_2fa_for";

/// Seals and opens authenticator secrets.
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl Sealer {
    pub fn new(key: &[u8; 32]) -> Self {
        Sealer {
            cipher: XChaCha20Poly1305::new(key.into()),
        }
    }

    /// `nonce ‖ ciphertext`, base64; the user id is authenticated with it.
    fn seal(&self, user: UserId, secret: &[u8]) -> Result<String, AppError> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let aad = user.to_string();
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: secret,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| app::ssr::internal("sealing a TOTP secret failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(BASE64.encode(&out))
    }

    fn open(&self, user: UserId, sealed: &str) -> Result<Vec<u8>, AppError> {
        let bytes = BASE64
            .decode(sealed.as_bytes())
            .map_err(|_| app::ssr::internal("a sealed TOTP secret is not base64"))?;
        if bytes.len() < 24 {
            return Err(app::ssr::internal("a sealed TOTP secret is too short"));
        }
        let (nonce, sealed) = bytes.split_at(24);
        let aad = user.to_string();
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: aad.as_bytes(),
                },
            )
            // A different EVENTHUB_SECRET_KEY than the one it was sealed under.
            .map_err(|_| app::ssr::internal("a TOTP secret does not open with this secret key"))
    }
}

/// The generator of one account's codes.
fn totp(secret: Vec<u8>, email: &str) -> TOTP {
    // `new_unchecked`: the secret is ours (160 bits) and an email may hold a `:` the checked
    // constructor refuses in account names.
    TOTP::new_unchecked(
        Algorithm::SHA1,
        DIGITS,
        SKEW,
        STEP,
        secret,
        Some(ISSUER.to_owned()),
        email.to_owned(),
    )
}

/// What the owner scans or types to add the account to an app.
fn setup(totp: TOTP) -> TwoFactorSetup {
    let otpauth_uri = totp.get_url();
    TwoFactorSetup {
        secret: totp.get_secret_base32(),
        qr_svg: crate::bookings::tickets::qr_svg(&otpauth_uri),
        otpauth_uri,
    }
}

/// The time step of `now` (seconds since the epoch).
fn step_of(now: u64) -> u64 {
    now / STEP
}

/// What a typed code is: six digits from the app, or a recovery code (any case, dashes and
/// spaces ignored).
enum Code {
    Totp(String),
    Recovery(String),
}

fn parse_code(code: &str) -> Option<Code> {
    let cleaned: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if cleaned.len() == DIGITS && cleaned.bytes().all(|b| b.is_ascii_digit()) {
        Some(Code::Totp(cleaned))
    } else if cleaned.len() == 10 && cleaned.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Some(Code::Recovery(cleaned.to_ascii_lowercase()))
    } else {
        None
    }
}

/// The step (within the skew) whose code `code` is, if any. Compared in constant time.
fn matching_step(totp: &TOTP, code: &str, now: u64) -> Option<u64> {
    let current = step_of(now);
    let skew = u64::from(SKEW);
    (current.saturating_sub(skew)..=current + skew)
        .rev()
        .find(|step| {
            let expected = totp.generate(step * STEP);
            constant_time_eq(expected.as_bytes(), code.as_bytes())
        })
}

pub(super) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn hash_code(code: &str) -> String {
    data_encoding::HEXLOWER.encode(&Sha256::digest(code.as_bytes()))
}

/// Ten new recovery codes as shown (`abcde-fghij`): 50 random bits each.
fn new_recovery_codes() -> Vec<String> {
    use rand::RngCore;
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; 7];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            let text = BASE32_NOPAD.encode(&bytes).to_ascii_lowercase();
            format!("{}-{}", &text[..5], &text[5..10])
        })
        .collect()
}

fn unix(now: chrono::DateTime<chrono::Utc>) -> u64 {
    u64::try_from(now.timestamp()).unwrap_or(0)
}

/// Reads the stored list of roles (`["admin","agent"]`); anything unreadable counts as none,
/// logged (the setting is only written by [`Accounts::set_required`]).
pub(super) fn parse_required(value: Option<&str>) -> Vec<Role> {
    let Some(value) = value else {
        return Vec::new();
    };
    match serde_json::from_str::<Vec<String>>(value) {
        Ok(codes) => codes.iter().filter_map(|c| Role::from_code(c)).collect(),
        Err(e) => {
            tracing::error!(%e, "the require_2fa_for setting is not a JSON list of roles");
            Vec::new()
        }
    }
}

#[derive(sqlx::FromRow)]
struct TotpRow {
    secret: String,
    confirmed: bool,
    email: String,
}

impl Accounts {
    async fn totp_row(&self, user: UserId) -> StoreResult<Option<TotpRow>> {
        Ok(self
            .db
            .fetch_optional(
                Sql::new(
                    "SELECT t.secret, t.confirmed_at IS NOT NULL AS confirmed, u.email \
                     FROM user_totp t JOIN users u ON u.id = t.user_id WHERE t.user_id = $1",
                )
                .arg(user),
            )
            .await?)
    }

    /// Whether two-factor sign-in is on for `user`.
    pub(super) async fn two_factor_on(&self, user: UserId) -> StoreResult<bool> {
        Ok(self.totp_row(user).await?.is_some_and(|r| r.confirmed))
    }

    /// Takes `code` for `user` if it is right and unused: a TOTP moves the account's last
    /// step forward, a recovery code is marked used; either in one statement. `confirming`:
    /// the authenticator is the one waiting for confirmation.
    pub(super) async fn take_code(
        &self,
        user: UserId,
        code: &str,
        confirming: bool,
    ) -> Result<bool, AppError> {
        let Some(row) = self.totp_row(user).await? else {
            return Ok(false);
        };
        if row.confirmed == confirming {
            return Ok(false);
        }
        let now = crate::db::now();
        match parse_code(code) {
            Some(Code::Totp(code)) => {
                let secret = self.sealer.open(user, &row.secret)?;
                let Some(step) = matching_step(&totp(secret, &row.email), &code, unix(now)) else {
                    return Ok(false);
                };
                let step = i64::try_from(step).map_err(app::ssr::internal)?;
                let moved = self
                    .db
                    .execute(
                        Sql::new(
                            "UPDATE user_totp SET last_step = $2 WHERE user_id = $1 AND last_step < $2",
                        )
                        .arg(user)
                        .arg(step),
                    )
                    .await
                    .map_err(StoreError::from)?;
                Ok(moved == 1)
            }
            // Recovery codes exist only once the authenticator is confirmed.
            Some(Code::Recovery(code)) if !confirming => {
                let used = self
                    .db
                    .execute(
                        Sql::new(
                            "UPDATE totp_recovery_codes SET used_at = $3 \
                             WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
                        )
                        .arg(user)
                        .arg(hash_code(&code))
                        .arg(now),
                    )
                    .await
                    .map_err(StoreError::from)?;
                if used == 1 {
                    tracing::info!(user = %user, "a recovery code was used");
                }
                Ok(used == 1)
            }
            _ => Ok(false),
        }
    }

    pub(super) async fn begin(&self, user: UserId) -> Result<TwoFactorSetup, AppError> {
        let row = self.row(user).await?.ok_or(AppError::NotFound)?;
        if self.two_factor_on(user).await? {
            return Err(AppError::Conflict {
                field: "two_factor".into(),
                problem: Problem::TwoFactorOn,
            });
        }
        let mut secret = vec![0u8; SECRET_BYTES];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
        let sealed = self.sealer.seal(user, &secret)?;
        // A new enrolment replaces one never confirmed; a confirmed one is left alone even if
        // it was confirmed since the check above.
        let written = self
            .db
            .execute(
                Sql::new(
                    "INSERT INTO user_totp (user_id, secret, confirmed_at, last_step, created_at) \
                     VALUES ($1, $2, NULL, 0, $3) \
                     ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, \
                     created_at = excluded.created_at, last_step = 0 \
                     WHERE user_totp.confirmed_at IS NULL",
                )
                .arg(user)
                .arg(&sealed)
                .arg(crate::db::now()),
            )
            .await
            .map_err(StoreError::from)?;
        if written == 0 {
            return Err(AppError::Conflict {
                field: "two_factor".into(),
                problem: Problem::TwoFactorOn,
            });
        }
        Ok(setup(totp(secret, &row.email)))
    }

    pub(super) async fn pending_setup(
        &self,
        user: UserId,
    ) -> Result<Option<TwoFactorSetup>, AppError> {
        match self.totp_row(user).await? {
            Some(row) if !row.confirmed => {
                let secret = self.sealer.open(user, &row.secret)?;
                Ok(Some(setup(totp(secret, &row.email))))
            }
            _ => Ok(None),
        }
    }

    pub(super) async fn confirm(&self, user: UserId, code: &str) -> Result<Vec<String>, AppError> {
        match self.totp_row(user).await? {
            None => {
                return Err(AppError::Conflict {
                    field: "two_factor".into(),
                    problem: Problem::TwoFactorOff,
                });
            }
            Some(row) if row.confirmed => {
                return Err(AppError::Conflict {
                    field: "two_factor".into(),
                    problem: Problem::TwoFactorOn,
                });
            }
            Some(_) => {}
        }
        if !self.take_code(user, code, true).await? {
            return Err(AppError::OtpInvalid);
        }
        let codes = new_recovery_codes();
        let now = crate::db::now();
        let mut tx = self.db.begin_write().await.map_err(StoreError::from)?;
        let confirmed = tx
            .execute(
                Sql::new(
                    "UPDATE user_totp SET confirmed_at = $2 WHERE user_id = $1 AND confirmed_at IS NULL",
                )
                .arg(user)
                .arg(now),
            )
            .await
            .map_err(StoreError::from)?;
        if confirmed == 0 {
            return Err(AppError::Conflict {
                field: "two_factor".into(),
                problem: Problem::TwoFactorOn,
            });
        }
        tx.execute(Sql::new("DELETE FROM totp_recovery_codes WHERE user_id = $1").arg(user))
            .await
            .map_err(StoreError::from)?;
        let mut insert = Sql::new("INSERT INTO totp_recovery_codes (user_id, code_hash) VALUES ");
        for (i, code) in codes.iter().enumerate() {
            if i > 0 {
                insert.push(", ");
            }
            insert
                .push("(")
                .bind(user)
                .push(", ")
                .bind(hash_code(&code.replace('-', "")))
                .push(")");
        }
        tx.execute(insert).await.map_err(StoreError::from)?;
        crate::audit::record(
            &mut tx,
            user,
            "account.two_factor_on",
            format!("user:{user}"),
            serde_json::Value::Null,
        )
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
        tracing::info!(user = %user, "two-factor sign-in turned on");
        Ok(codes)
    }

    pub(super) async fn disable(&self, user: UserId, code: &str) -> Result<(), AppError> {
        if !self.two_factor_on(user).await? {
            return Err(AppError::Conflict {
                field: "two_factor".into(),
                problem: Problem::TwoFactorOff,
            });
        }
        if !self.take_code(user, code, false).await? {
            return Err(AppError::OtpInvalid);
        }
        let mut tx = self.db.begin_write().await.map_err(StoreError::from)?;
        tx.execute(Sql::new("DELETE FROM totp_recovery_codes WHERE user_id = $1").arg(user))
            .await
            .map_err(StoreError::from)?;
        tx.execute(Sql::new("DELETE FROM user_totp WHERE user_id = $1").arg(user))
            .await
            .map_err(StoreError::from)?;
        crate::audit::record(
            &mut tx,
            user,
            "account.two_factor_off",
            format!("user:{user}"),
            serde_json::Value::Null,
        )
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
        tracing::info!(user = %user, "two-factor sign-in turned off");
        Ok(())
    }

    pub(super) async fn recovery_left(&self, user: UserId) -> StoreResult<i64> {
        Ok(self
            .db
            .scalar(
                Sql::new(
                    "SELECT COUNT(*) FROM totp_recovery_codes WHERE user_id = $1 AND used_at IS NULL",
                )
                .arg(user),
            )
            .await?)
    }

    pub(super) async fn required(&self) -> StoreResult<Vec<Role>> {
        let value: Option<String> = self
            .db
            .fetch_optional::<(String,)>(
                Sql::new("SELECT value FROM platform_settings WHERE key = $1").arg(REQUIRED_KEY),
            )
            .await?
            .map(|(v,)| v);
        Ok(parse_required(value.as_deref()))
    }

    pub(super) async fn set_required(
        &self,
        actor: &app::auth::UserView,
        mut roles: Vec<Role>,
    ) -> Result<Vec<Role>, AppError> {
        app::auth::rules::check_role(actor, Role::Admin)?;
        if roles.contains(&Role::User) {
            return Err(AppError::field(
                "require_2fa_for",
                Problem::WrongStatus {
                    status: "user".into(),
                },
            ));
        }
        roles.sort();
        roles.dedup();
        if roles.contains(&Role::Admin) && !self.two_factor_on(actor.id).await? {
            return Err(AppError::Conflict {
                field: "require_2fa_for".into(),
                problem: Problem::TwoFactorSelf,
            });
        }
        let codes: Vec<&str> = roles.iter().map(|r| r.code()).collect();
        let value = serde_json::to_string(&codes).map_err(app::ssr::internal)?;
        let mut tx = self.db.begin_write().await.map_err(StoreError::from)?;
        tx.execute(
            Sql::new(
                "INSERT INTO platform_settings (key, value, updated_at, updated_by) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO UPDATE SET value = excluded.value, \
                 updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            )
            .arg(REQUIRED_KEY)
            .arg(&value)
            .arg(crate::db::now())
            .arg(actor.id),
        )
        .await
        .map_err(StoreError::from)?;
        crate::audit::record(
            &mut tx,
            actor.id,
            "settings.require_2fa_for",
            "settings".into(),
            serde_json::json!({ "require_2fa_for": codes }),
        )
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
        tracing::info!(actor = %actor.id, roles = %value, "two-factor sign-in requirement changed");
        Ok(roles)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_rfc_6238_test_vectors() {
        // RFC 6238 appendix B, SHA-1, secret "12345678901234567890", 8 digits there; the last
        // six of its 8-digit values are what a 6-digit generator gives.
        let totp = TOTP::new_unchecked(
            Algorithm::SHA1,
            6,
            1,
            30,
            b"12345678901234567890".to_vec(),
            None,
            String::new(),
        );
        assert_eq!(totp.generate(59), "287082");
        assert_eq!(totp.generate(1_111_111_109), "081804");
        assert_eq!(totp.generate(2_000_000_000), "279037");
    }

    #[test]
    fn a_code_matches_its_own_step_and_the_neighbours_only() {
        let t = totp(vec![7; SECRET_BYTES], "a@example.com");
        let now = 1_700_000_000;
        let code = t.generate(now);
        assert_eq!(matching_step(&t, &code, now), Some(step_of(now)));
        assert_eq!(matching_step(&t, &code, now + STEP), Some(step_of(now)));
        assert_eq!(matching_step(&t, &code, now + 3 * STEP), None);
        assert_eq!(matching_step(&t, "000000x", now), None);
    }

    #[test]
    fn typed_codes_are_read_leniently() {
        assert!(matches!(parse_code(" 123 456 "), Some(Code::Totp(c)) if c == "123456"));
        assert!(matches!(parse_code("ABCDE-fghij"), Some(Code::Recovery(c)) if c == "abcdefghij"));
        assert!(parse_code("12345").is_none());
        assert!(parse_code("").is_none());
        assert!(parse_code("abcde-fghi!").is_none());
    }

    #[test]
    fn recovery_codes_are_ten_distinct_and_readable_back() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), RECOVERY_CODES);
        for code in &codes {
            assert!(
                matches!(parse_code(code), Some(Code::Recovery(_))),
                "{code}"
            );
        }
    }

    #[test]
    fn a_sealed_secret_opens_for_its_account_only() {
        let sealer = Sealer::new(&[9; 32]);
        let sealed = sealer.seal(UserId::from(4), b"secret bytes").unwrap();
        assert_eq!(
            sealer.open(UserId::from(4), &sealed).unwrap(),
            b"secret bytes"
        );
        assert!(sealer.open(UserId::from(5), &sealed).is_err());
        assert!(
            Sealer::new(&[8; 32])
                .open(UserId::from(4), &sealed)
                .is_err()
        );
    }

    #[test]
    fn the_stored_requirement_reads_back() {
        assert_eq!(parse_required(None), Vec::<Role>::new());
        assert_eq!(
            parse_required(Some(r#"["admin","agent"]"#)),
            vec![Role::Admin, Role::Agent]
        );
        assert_eq!(parse_required(Some("nonsense")), Vec::<Role>::new());
    }
}
