//! Reminders: the day before an event, each confirmed booking gets a mail.
//!
//! A scheduler ([`start`]) runs beside the job workers, in the server and in every `eventhub
//! worker` process, and every `interval` calls [`schedule`]: it finds the confirmed bookings
//! of published events whose reminder time has come — one day before the start on the venue's
//! clock, so a night across a daylight-saving change is still "the day before" — and enqueues
//! one [`MailJob::Reminder`] each. Its dedupe key (`mail:reminder:<registration>`) makes it
//! once per booking however many processes schedule at the same moment; the mail itself is
//! recorded once too. A booking cancelled before its reminder ran gets none (the mail job
//! checks again), and one made after its reminder time gets none (it was confirmed too late
//! for "tomorrow").
use super::MailJob;
use crate::db::{Db, now};
use crate::error::StoreResult;
use crate::sql::Sql;
use anyhow::Result;
use chrono::{DateTime, Days, TimeDelta, TimeZone, Utc};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How often the scheduler looks (`EVENTHUB_REMINDER_INTERVAL_SECS`, 60; `off` runs none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    pub interval: Option<Duration>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            interval: Some(Duration::from_secs(60)),
        }
    }
}

impl Settings {
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self> {
        const NAME: &str = "EVENTHUB_REMINDER_INTERVAL_SECS";
        match crate::rate::parse_limit(NAME, var(NAME).as_deref(), 60)? {
            Some(0) => anyhow::bail!("{NAME} must be positive or `off`"),
            secs => Ok(Settings {
                interval: secs.map(Duration::from_secs),
            }),
        }
    }
}

/// The widest gap between "one day before on the venue's clock" and the start (a day with a
/// daylight-saving change is 25 hours long): events starting later than this are not due yet.
const WINDOW: TimeDelta = TimeDelta::hours(26);

/// At most this many reminders are enqueued per statement.
const BATCH: i64 = 500;

#[derive(sqlx::FromRow)]
struct Candidate {
    registration_id: i64,
    confirmed_at: Option<DateTime<Utc>>,
    starts_at: DateTime<Utc>,
    timezone: String,
}

/// When the reminder of an event starting at `starts_at` in `zone` is due: the same wall-clock
/// time one day earlier (the earlier of two, in a repeated hour; a missing hour moves it on).
pub fn due_at(starts_at: DateTime<Utc>, zone: &str) -> DateTime<Utc> {
    let Ok(tz) = zone.parse::<chrono_tz::Tz>() else {
        return starts_at - TimeDelta::days(1);
    };
    let local = starts_at.with_timezone(&tz).naive_local();
    let Some(day_before) = local.checked_sub_days(Days::new(1)) else {
        return starts_at - TimeDelta::days(1);
    };
    let mut at = day_before;
    // A wall-clock time that does not exist that day (a spring-forward gap) comes an hour on.
    for _ in 0..3 {
        if let Some(due) = tz.from_local_datetime(&at).earliest() {
            return due.with_timezone(&Utc);
        }
        at += TimeDelta::hours(1);
    }
    starts_at - TimeDelta::days(1)
}

/// Enqueues every reminder due at `now` that is not enqueued yet; answers how many it wrote.
pub async fn schedule(db: &Db, now: DateTime<Utc>) -> StoreResult<u64> {
    let mut written = 0;
    let mut after = 0_i64;
    loop {
        let candidates: Vec<Candidate> = db
            .fetch_all(
                Sql::new(
                    "SELECT r.id AS registration_id, r.confirmed_at, e.starts_at, e.timezone \
                     FROM events e JOIN registrations r ON r.event_id = e.id \
                     WHERE e.status = 'published' AND e.starts_at > $1 AND e.starts_at <= $2 \
                     AND r.status = 'confirmed' AND r.id > $3 \
                     AND NOT EXISTS (SELECT 1 FROM jobs j \
                         WHERE j.dedupe_key = 'mail:reminder:' || CAST(r.id AS TEXT)) \
                     ORDER BY r.id LIMIT $4",
                )
                .arg(now)
                .arg(now + WINDOW)
                .arg(after)
                .arg(BATCH),
            )
            .await?;
        let Some(last) = candidates.last() else {
            break;
        };
        after = last.registration_id;
        let full = candidates.len() as i64 == BATCH;
        let jobs: Vec<_> = candidates
            .iter()
            .filter(|c| {
                let due = due_at(c.starts_at, &c.timezone);
                due <= now && c.confirmed_at.is_none_or(|at| at <= due)
            })
            .map(|c| {
                MailJob::Reminder {
                    registration_id: c.registration_id,
                }
                .job(now)
            })
            .collect();
        if !jobs.is_empty() {
            let mut tx = db.begin_write().await?;
            written += crate::jobs::enqueue(&mut tx, &jobs, now).await?;
            tx.commit().await?;
            crate::jobs::wake_local();
        }
        if !full {
            break;
        }
    }
    if written > 0 {
        tracing::info!(written, "reminders enqueued");
    }
    Ok(written)
}

/// Runs [`schedule`] every `settings.interval` until `stop` is cancelled (nothing when the
/// interval is `off`).
pub fn start(db: Db, settings: Settings, stop: CancellationToken) -> Option<JoinHandle<()>> {
    let interval = settings.interval?;
    Some(tokio::spawn(async move {
        loop {
            if let Err(error) = schedule(&db, now()).await {
                tracing::warn!(%error, "reminders could not be scheduled");
            }
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                () = stop.cancelled() => break,
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_reminder_is_due_one_day_before_on_the_venue_clock() {
        // An ordinary day in Jerusalem: 24 hours before.
        assert_eq!(
            due_at(at("2030-03-01T19:00:00Z"), "Asia/Jerusalem"),
            at("2030-02-28T19:00:00Z")
        );
        // Europe/Warsaw moves to summer time on 2030-03-31 at 02:00: 20:00 on the 31st is
        // 18:00Z, 20:00 on the 30th was 19:00Z — 23 hours before.
        assert_eq!(
            due_at(at("2030-03-31T18:00:00Z"), "Europe/Warsaw"),
            at("2030-03-30T19:00:00Z")
        );
        // An event at 02:30 on 2030-04-01: 02:30 on the 31st does not exist in Warsaw (the
        // clocks jump from 02:00 to 03:00), so its reminder comes at 03:30 CEST.
        assert_eq!(
            due_at(at("2030-04-01T00:30:00Z"), "Europe/Warsaw"),
            at("2030-03-31T01:30:00Z")
        );
        // An unknown zone: 24 hours.
        assert_eq!(
            due_at(at("2030-03-01T19:00:00Z"), "Mars/Olympus"),
            at("2030-02-28T19:00:00Z")
        );
    }
}
