//! Limits on one kind of use per user: questions one user asks the assistant, bookings one
//! user makes ([`UseLimit`]). On SQLite — one machine — they are sliding windows over every
//! use in this process's memory ([`UseLimiter`]); on PostgreSQL, where several processes on
//! several machines serve one database behind a load balancer that spreads a person's requests
//! over them, they are counted in the database with every process (`crate::rate`, like failed
//! sign-ins).
//!
//! Memory stays bounded: a key's old uses are dropped when it is used, and keys whose window
//! has passed are swept out whenever the map has doubled since the last sweep.
use crate::error::StoreResult;
use crate::rate::{Rate, SharedLimits};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most `rate` uses per key, counted where every process serving the database sees them.
pub enum UseLimit {
    Local(UseLimiter),
    Shared(SharedLimits, Rate),
}

impl UseLimit {
    /// In the database when it is PostgreSQL, in this process's memory on SQLite.
    pub fn new(rate: Rate, shared: &SharedLimits) -> Self {
        if shared.is_postgres() {
            UseLimit::Shared(shared.clone(), rate)
        } else {
            UseLimit::Local(UseLimiter::for_rate(rate))
        }
    }

    /// Counts one use of `key` now, or `Err` with the seconds until one frees up.
    pub async fn take(&self, key: &str) -> StoreResult<Result<(), u64>> {
        match self {
            UseLimit::Local(limiter) => Ok(limiter
                .take(key, Instant::now())
                .map_err(|wait| wait.as_secs().max(1))),
            UseLimit::Shared(limits, rate) => Ok(limits
                .take(&[(key, *rate)], chrono::Utc::now())
                .await?
                // The use counts: its slot is kept.
                .map(|_kept| ())),
        }
    }
}

pub struct UseLimiter {
    max: usize,
    window: Duration,
    state: Mutex<State>,
}

struct State {
    uses: HashMap<String, VecDeque<Instant>>,
    /// The map's size after the last sweep.
    swept_at: usize,
}

impl UseLimiter {
    pub fn new(max: usize, window: Duration) -> Self {
        UseLimiter {
            max,
            window,
            state: Mutex::new(State {
                uses: HashMap::new(),
                swept_at: 0,
            }),
        }
    }

    /// At most `rate.count` uses per `rate.window`.
    pub fn for_rate(rate: crate::rate::Rate) -> Self {
        UseLimiter::new(rate.count as usize, rate.window)
    }

    /// Counts one use of `key` at `now`, or `Err(wait)` when its window is full. The check and
    /// the count are one step, so parallel callers cannot all pass one free slot.
    pub fn take(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut state = self.state.lock().expect("limiter lock poisoned");
        let window = self.window;
        let live = |t: &Instant| now.saturating_duration_since(*t) < window;
        if state.uses.len() > 2 * state.swept_at.max(512) {
            state.uses.retain(|_, times| times.back().is_some_and(live));
            state.swept_at = state.uses.len();
        }
        let times = state.uses.entry(key.to_owned()).or_default();
        while times.front().is_some_and(|t| !live(t)) {
            times.pop_front();
        }
        if times.len() >= self.max {
            let oldest = *times.front().expect("a full window is not empty");
            return Err(window - now.saturating_duration_since(oldest));
        }
        times.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_window_refuses_until_its_oldest_use_leaves_it() {
        let limiter = UseLimiter::new(5, Duration::from_secs(60));
        let start = Instant::now();
        for i in 0..5 {
            assert!(limiter.take("user:1", start).is_ok(), "use {i}");
        }
        let wait = limiter
            .take("user:1", start + Duration::from_secs(20))
            .unwrap_err();
        assert_eq!(wait, Duration::from_secs(40));
        assert!(limiter.take("user:2", start).is_ok(), "keys count apart");
        assert!(
            limiter
                .take("user:1", start + Duration::from_secs(61))
                .is_ok()
        );
    }

    #[test]
    fn keys_whose_window_passed_are_swept_out() {
        let limiter = UseLimiter::new(1, Duration::from_secs(60));
        let start = Instant::now();
        for i in 0..2_000 {
            limiter.take(&format!("user:{i}"), start).unwrap();
        }
        let later = start + Duration::from_secs(120);
        for i in 0..2_000 {
            limiter.take(&format!("other:{i}"), later).unwrap();
        }
        let kept = limiter.state.lock().unwrap().uses.len();
        assert!(kept < 3_000, "old keys were swept: {kept} kept");
    }
}
