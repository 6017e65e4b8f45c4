//! Counts failed sign-in attempts in a sliding window, per client address and per account
//! (and, with `take`, every question a user asks the assistant).
//! Successful sign-ins cost nothing, so people on one shared address are not locked out by
//! their own good logins. Kept in memory: with several processes each keeps its own count.
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct FailureLimiter {
    max_failures: usize,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl FailureLimiter {
    pub fn new(max_failures: usize, window: Duration) -> Self {
        FailureLimiter {
            max_failures,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(wait)` when any of `keys` has used up its failures in the current window.
    pub fn check(&self, keys: &[&str], now: Instant) -> Result<(), Duration> {
        let mut map = self.failures.lock().expect("limiter lock poisoned");
        Self::wait(&mut map, keys, now, self.max_failures, self.window)
    }

    /// Checks and records in one step, so parallel callers cannot all pass one free slot: for
    /// limits on every use (the assistant's questions), not only on failures.
    pub fn take(&self, keys: &[&str], now: Instant) -> Result<(), Duration> {
        let mut map = self.failures.lock().expect("limiter lock poisoned");
        Self::wait(&mut map, keys, now, self.max_failures, self.window)?;
        for key in keys {
            map.entry((*key).to_owned()).or_default().push_back(now);
        }
        Ok(())
    }

    fn wait(
        map: &mut HashMap<String, VecDeque<Instant>>,
        keys: &[&str],
        now: Instant,
        max_failures: usize,
        window: Duration,
    ) -> Result<(), Duration> {
        let mut wait = Duration::ZERO;
        for key in keys {
            if let Some(times) = map.get_mut(*key) {
                while times
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= window)
                {
                    times.pop_front();
                }
                if times.len() >= max_failures {
                    let oldest = *times.front().expect("non-empty");
                    wait = wait.max(window - now.duration_since(oldest));
                }
            }
        }
        map.retain(|_, times| !times.is_empty());
        if wait.is_zero() { Ok(()) } else { Err(wait) }
    }

    /// Records one failure against each of `keys`.
    pub fn record_failure(&self, keys: &[&str], now: Instant) {
        let mut map = self.failures.lock().expect("limiter lock poisoned");
        for key in keys {
            map.entry((*key).to_owned()).or_default().push_back(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sixth_failure_within_a_minute_is_refused_until_the_window_moves() {
        let limiter = FailureLimiter::new(5, Duration::from_secs(60));
        let start = Instant::now();
        for i in 0..5 {
            assert!(
                limiter.check(&["ip:1", "acct:a"], start).is_ok(),
                "attempt {i}"
            );
            limiter.record_failure(&["ip:1", "acct:a"], start);
        }
        let wait = limiter
            .check(&["ip:1", "acct:a"], start + Duration::from_secs(20))
            .unwrap_err();
        assert_eq!(wait, Duration::from_secs(40));
        assert!(
            limiter
                .check(&["ip:1"], start + Duration::from_secs(61))
                .is_ok()
        );
    }

    #[test]
    fn another_account_from_another_address_is_unaffected() {
        let limiter = FailureLimiter::new(2, Duration::from_secs(60));
        let now = Instant::now();
        limiter.record_failure(&["ip:1", "acct:a"], now);
        limiter.record_failure(&["ip:1", "acct:a"], now);
        assert!(limiter.check(&["ip:2", "acct:b"], now).is_ok());
        assert!(limiter.check(&["ip:2", "acct:a"], now).is_err());
    }
}
