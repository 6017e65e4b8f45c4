//! Rate limits: the [`Rate`] settings (`count/seconds`, or `off`), and [`SharedLimits`], counters
//! kept in the database so that every server process on it counts together.
//!
//! A counter is one row per key and fixed window (`rate_slots`): taking a slot is one upsert
//! that returns the new count, so parallel requests — in one process or in several — cannot
//! all pass one free slot. The limit is checked against a sliding estimate (this window's count
//! plus the previous window's, weighted by how much of it is still within reach), so a burst
//! across a window boundary cannot pass twice. Over the limit, the slot is given back at once
//! and the caller is told how long until one frees up (`Retry-After`). Rows expire a window
//! after their own and are deleted every few minutes: the table holds only the windows in use.
use crate::db::Db;
use crate::error::StoreResult;
use crate::sql::Sql;
use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use std::time::Duration;

/// At most `count` per `window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub window: Duration,
}

impl Rate {
    pub const fn new(count: u32, window_secs: u64) -> Self {
        Rate {
            count,
            window: Duration::from_secs(window_secs),
        }
    }

    /// Reads the setting `name`: `count/seconds` (e.g. `20/3600`), `off` for no limit, unset
    /// for `default`.
    pub fn setting(name: &str, value: Option<&str>, default: Option<Rate>) -> Result<Option<Rate>> {
        let Some(text) = value.map(str::trim) else {
            return Ok(default);
        };
        if text.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let wrong = || {
            format!(
                "{name} must look like 20/3600 (at most 20 per 3600 seconds) or be `off`, not {text:?}"
            )
        };
        let (count, secs) = text.split_once('/').with_context(wrong)?;
        let count: u32 = count
            .trim()
            .parse()
            .ok()
            .filter(|c| *c > 0)
            .with_context(wrong)?;
        let secs: u64 = secs
            .trim()
            .parse()
            .ok()
            .filter(|s| *s > 0)
            .with_context(wrong)?;
        Ok(Some(Rate::new(count, secs)))
    }
}

/// What one person or client address may do, each `count/seconds` or `off` (benchmarks and
/// load tests turn them off).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestLimits {
    /// Failed sign-ins per account (`EVENTHUB_SIGNIN_RATE`, 5/60). Attempts from an address the
    /// account signed in from before are counted apart, so a stranger's guesses do not lock
    /// the owner out.
    pub sign_in_account: Option<Rate>,
    /// Failed sign-ins per client address over all accounts (`EVENTHUB_SIGNIN_ADDRESS_RATE`,
    /// 20/60).
    pub sign_in_address: Option<Rate>,
    /// New accounts per client address (`EVENTHUB_SIGNUP_RATE`, 20/3600).
    pub sign_up: Option<Rate>,
    /// Bookings per user (`EVENTHUB_BOOKING_RATE`, 30/60: more than a person books), counted
    /// by every process together on PostgreSQL (see `crate::limiter`).
    pub booking: Option<Rate>,
    /// Account links by mail (password reset, address verification) per account
    /// (`EVENTHUB_ACCOUNT_MAIL_RATE`, 3/900). Over it, a reset request is still answered
    /// `202` (nothing revealed) but no mail goes out.
    pub account_mail: Option<Rate>,
    /// Account link requests per client address (`EVENTHUB_ACCOUNT_MAIL_ADDRESS_RATE`, 10/900).
    pub account_mail_address: Option<Rate>,
    /// How long a request waits for a password-hashing slot before it is answered `503` with
    /// `Retry-After` (`EVENTHUB_HASH_WAIT_SECS`, 10; `off` waits as long as it takes).
    pub hash_wait: Option<Duration>,
}

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits {
            sign_in_account: Some(Rate::new(5, 60)),
            sign_in_address: Some(Rate::new(20, 60)),
            sign_up: Some(Rate::new(20, 3600)),
            booking: Some(Rate::new(30, 60)),
            account_mail: Some(Rate::new(3, 900)),
            account_mail_address: Some(Rate::new(10, 900)),
            hash_wait: Some(Duration::from_secs(10)),
        }
    }
}

impl RequestLimits {
    /// Reads the settings; those unset keep their defaults.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let d = RequestLimits::default();
        let rate = |name: &str, default| Rate::setting(name, var(name).as_deref(), default);
        let hash_wait = parse_limit(
            "EVENTHUB_HASH_WAIT_SECS",
            var("EVENTHUB_HASH_WAIT_SECS").as_deref(),
            d.hash_wait.map_or(0, |w| w.as_secs()),
        )?
        .map(Duration::from_secs);
        Ok(RequestLimits {
            sign_in_account: rate("EVENTHUB_SIGNIN_RATE", d.sign_in_account)?,
            sign_in_address: rate("EVENTHUB_SIGNIN_ADDRESS_RATE", d.sign_in_address)?,
            sign_up: rate("EVENTHUB_SIGNUP_RATE", d.sign_up)?,
            booking: rate("EVENTHUB_BOOKING_RATE", d.booking)?,
            account_mail: rate("EVENTHUB_ACCOUNT_MAIL_RATE", d.account_mail)?,
            account_mail_address: rate(
                "EVENTHUB_ACCOUNT_MAIL_ADDRESS_RATE",
                d.account_mail_address,
            )?,
            hash_wait,
        })
    }

    /// Every limit off (benchmarks, load tests).
    pub fn off() -> Self {
        RequestLimits {
            sign_in_account: None,
            sign_in_address: None,
            sign_up: None,
            booking: None,
            account_mail: None,
            account_mail_address: None,
            hash_wait: None,
        }
    }
}

/// The slots one [`SharedLimits::take`] took, to give back when the attempt turns out fine.
#[must_use]
pub struct Taken(Vec<(String, i64)>);

/// Counters in the database, shared by every process on it.
#[derive(Clone)]
pub struct SharedLimits {
    db: Db,
}

impl SharedLimits {
    /// Starts the shared limits (and their cleanup) on `db`.
    pub fn start(db: Db) -> Self {
        tokio::spawn(delete_expired(db.clone()));
        SharedLimits { db }
    }

    /// Whether the counters are PostgreSQL's (shared by processes on several machines).
    pub fn is_postgres(&self) -> bool {
        matches!(self.db, Db::Postgres(_))
    }

    /// Takes one slot under each `(key, rate)` at `now`: all of them, or none and `Err` with
    /// the seconds until a slot frees up.
    pub async fn take(
        &self,
        keys: &[(&str, Rate)],
        now: DateTime<Utc>,
    ) -> StoreResult<Result<Taken, u64>> {
        let mut taken = Vec::with_capacity(keys.len());
        let mut wait = 0;
        for (key, rate) in keys {
            let window = rate.window.as_secs().max(1) as i64;
            let bucket = now.timestamp().div_euclid(window);
            let count: i64 = self
                .db
                .scalar(
                    Sql::new(
                        "INSERT INTO rate_slots (key, bucket, count, expires_at) VALUES ($1, $2, 1, $3) \
                         ON CONFLICT (key, bucket) DO UPDATE SET count = rate_slots.count + 1 RETURNING count",
                    )
                    .arg(*key)
                    .arg(bucket)
                    // The next window still reads this one's count.
                    .arg((bucket + 2) * window),
                )
                .await?;
            taken.push(((*key).to_owned(), bucket));
            let previous: i64 = self
                .db
                .scalar_optional(
                    Sql::new("SELECT count FROM rate_slots WHERE key = $1 AND bucket = $2")
                        .arg(*key)
                        .arg(bucket - 1),
                )
                .await?
                .unwrap_or(0);
            let elapsed = now.timestamp() - bucket * window;
            wait = wait.max(wait_secs(*rate, previous, count, elapsed));
        }
        if wait > 0 {
            self.give_back(Taken(taken)).await?;
            return Ok(Err(wait));
        }
        Ok(Ok(Taken(taken)))
    }

    /// Gives back slots taken by an attempt that did not count (a right password).
    pub async fn give_back(&self, taken: Taken) -> StoreResult<()> {
        for (key, bucket) in taken.0 {
            self.db
                .execute(
                    Sql::new(
                        "UPDATE rate_slots SET count = count - 1 WHERE key = $1 AND bucket = $2 AND count > 0",
                    )
                    .arg(key)
                    .arg(bucket),
                )
                .await?;
        }
        Ok(())
    }
}

/// Seconds until an attempt may pass, 0 when this one may: the count over the last `window`
/// is estimated as the current window's `count` (this attempt included) plus the previous
/// window's `previous` weighted by how much of it still lies within the last `window`
/// (`elapsed` seconds into the current one). A sliding estimate, so that a burst at the end of
/// one window and another at the start of the next cannot pass twice the limit.
fn wait_secs(rate: Rate, previous: i64, count: i64, elapsed: i64) -> u64 {
    let window = rate.window.as_secs().max(1) as f64;
    let limit = f64::from(rate.count);
    let (previous, count, elapsed) = (previous as f64, count as f64, elapsed as f64);
    if previous * (window - elapsed) / window + count <= limit {
        return 0;
    }
    if count > limit || previous <= 0.0 {
        // This window alone is full: wait for the next.
        return (window - elapsed).ceil().max(1.0) as u64;
    }
    // The previous window's weight must shrink until this attempt fits.
    let fits_at = window - (limit - count) * window / previous;
    (fits_at - elapsed).ceil().max(1.0) as u64
}

/// Deletes the counters of windows that have ended, every five minutes.
async fn delete_expired(db: Db) {
    let mut every = tokio::time::interval(Duration::from_secs(300));
    loop {
        every.tick().await;
        let sql =
            Sql::new("DELETE FROM rate_slots WHERE expires_at <= $1").arg(Utc::now().timestamp());
        if let Err(e) = db.execute(sql).await {
            tracing::warn!("could not delete expired rate counters: {e}");
        }
    }
}

/// A limit setting: a number, or `off` for none (benchmarks, load tests); unset → `default`.
pub(crate) fn parse_limit(name: &str, value: Option<&str>, default: u64) -> Result<Option<u64>> {
    match value.map(str::trim) {
        None => Ok(Some(default)),
        Some(v) if v.eq_ignore_ascii_case("off") => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .with_context(|| format!("{name} must be a whole number or `off`, not {v:?}")),
    }
}

/// A yes/no setting: `true` / `1`, `false` / `0`, or unset for `default`.
pub(crate) fn parse_flag(name: &str, value: Option<String>, default: bool) -> Result<bool> {
    match value.as_deref().map(str::trim) {
        None => Ok(default),
        Some(v) if v.eq_ignore_ascii_case("true") || v == "1" => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") || v == "0" => Ok(false),
        Some(v) => anyhow::bail!("{name} must be true or false, not {v:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimate_slides_over_the_window_boundary() {
        let rate = Rate::new(5, 60);
        // Five in the previous window, one second into this one: still nearly five.
        assert!(wait_secs(rate, 5, 1, 1) > 0);
        // Half-way through, half of them count: two more fit, a third does not.
        assert_eq!(wait_secs(rate, 4, 2, 30), 0);
        assert_eq!(wait_secs(rate, 4, 3, 30), 0);
        assert_eq!(wait_secs(rate, 4, 4, 30), 15);
        // This window alone over the limit: until it ends.
        assert_eq!(wait_secs(rate, 0, 6, 20), 40);
        assert_eq!(wait_secs(rate, 0, 5, 20), 0);
    }

    #[test]
    fn a_rate_setting_is_a_count_per_seconds_or_off() {
        let default = Some(Rate::new(5, 60));
        assert_eq!(Rate::setting("X", None, default).unwrap(), default);
        assert_eq!(
            Rate::setting("X", Some("20/3600"), default).unwrap(),
            Some(Rate::new(20, 3600))
        );
        assert_eq!(Rate::setting("X", Some(" OFF "), default).unwrap(), None);
        for bad in ["20", "0/60", "5/0", "-1/60", "five/60", "5/sixty"] {
            let err = Rate::setting("EVENTHUB_SIGNUP_RATE", Some(bad), default).unwrap_err();
            assert!(
                err.to_string()
                    .contains("EVENTHUB_SIGNUP_RATE must look like 20/3600"),
                "{bad}: {err}"
            );
        }
    }
}
