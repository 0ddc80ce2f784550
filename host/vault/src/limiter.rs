//! An in-memory limiter of failed authentications.
//!
//! Every attempt counts as a failure from the moment it starts until it is known not to
//! have failed; so a burst of concurrent guesses cannot all slip in before the first
//! failures are recorded. A success only withdraws its own attempt and never clears
//! earlier failures: otherwise anyone holding one valid key could reset the limiter
//! between guesses at other tenants' keys.
//!
//! Checks cheap enough that a burst of guesses gains nothing (access tokens: 256 random
//! bits, checked with one keyed hash and one indexed read) are only admitted or refused
//! and count their failures, so that a client sending many requests at once with a
//! valid token is never refused.
//!
//! The clock is a parameter, so tests can move time without sleeping.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed within [`WINDOW`] before attempts are refused unchecked.
pub(crate) const MAX_FAILURES: usize = 5;
/// The sliding window failures are counted in.
pub(crate) const WINDOW: Duration = Duration::from_secs(60);
/// Sources tracked at most; beyond this, sources without recent failures are dropped.
const MAX_SOURCES: usize = 4096;

pub(crate) struct FailureLimiter {
    max_failures: usize,
    window: Duration,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

/// An attempt in progress, counted as a failure until [`FailureLimiter::withdraw`].
#[must_use = "an attempt counts as a failure unless withdrawn"]
pub(crate) struct Attempt {
    source: String,
    at: Instant,
}

impl FailureLimiter {
    pub(crate) fn new(max_failures: usize, window: Duration) -> Self {
        FailureLimiter {
            max_failures,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Start an attempt from `source`, or say how long to wait before the next one.
    pub(crate) fn begin(&self, source: &str, now: Instant) -> Result<Attempt, Duration> {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let times = self.recent_failures(&mut map, source, now)?;
        times.push(now);
        Ok(Attempt {
            source: source.to_owned(),
            at: now,
        })
    }

    /// Whether `source` may make an attempt now, without counting one: for checks so
    /// quick (one keyed hash and an indexed read, no bcrypt) that only their failures
    /// need counting ([`FailureLimiter::record_failure`]). Counting attempts in flight
    /// would refuse a client that sends many requests at once with a valid token.
    pub(crate) fn admit(&self, source: &str, now: Instant) -> Result<(), Duration> {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        self.recent_failures(&mut map, source, now).map(|_| ())
    }

    /// A failed attempt of a source admitted with [`FailureLimiter::admit`].
    pub(crate) fn record_failure(&self, source: &str, now: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if let Ok(times) = self.recent_failures(&mut map, source, now) {
            times.push(now);
        }
    }

    /// The failures of `source` within the window (expired ones dropped, and sources
    /// without recent failures dropped when the map is full), or how long to wait when
    /// there are already as many as allowed.
    fn recent_failures<'m>(
        &self,
        map: &'m mut HashMap<String, Vec<Instant>>,
        source: &str,
        now: Instant,
    ) -> Result<&'m mut Vec<Instant>, Duration> {
        if map.len() >= MAX_SOURCES && !map.contains_key(source) {
            let window = self.window;
            map.retain(|_, times| {
                times.retain(|t| now.saturating_duration_since(*t) < window);
                !times.is_empty()
            });
        }
        let times = map.entry(source.to_owned()).or_default();
        times.retain(|t| now.saturating_duration_since(*t) < self.window);
        if times.len() >= self.max_failures {
            let oldest = times.iter().min().copied().unwrap_or(now);
            return Err(self.window - now.saturating_duration_since(oldest));
        }
        Ok(times)
    }

    /// The attempt did not fail (it succeeded, or failed for a reason that is not a
    /// wrong key, such as a storage error): stop counting it.
    pub(crate) fn withdraw(&self, attempt: Attempt) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(times) = map.get_mut(&attempt.source) {
            if let Some(i) = times.iter().rposition(|t| *t == attempt.at) {
                times.swap_remove(i);
            }
            if times.is_empty() {
                map.remove(&attempt.source);
            }
        }
    }

    /// The attempt failed: it stays counted (this only documents the outcome).
    pub(crate) fn fail(&self, attempt: Attempt) {
        drop(attempt);
    }
}

/// Milliseconds to report for a wait, rounded up so "retry after" is never too early.
pub(crate) fn wait_ms(wait: Duration) -> u32 {
    let ms = wait.as_nanos().div_ceil(1_000_000).max(1);
    u32::try_from(ms).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_max_failures_until_the_window_passes() {
        let limiter = FailureLimiter::new(5, Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..5 {
            let a = limiter.begin("s", t0 + Duration::from_secs(i)).unwrap();
            limiter.fail(a);
        }
        let wait = limiter
            .begin("s", t0 + Duration::from_secs(10))
            .err()
            .unwrap();
        assert_eq!(
            wait,
            Duration::from_secs(50),
            "until the oldest failure expires"
        );
        // Other sources are not affected.
        limiter.withdraw(limiter.begin("other", t0).unwrap());
        // Once the first failure is a minute old, one more attempt is allowed.
        let a = limiter.begin("s", t0 + Duration::from_secs(60)).unwrap();
        limiter.fail(a);
        assert!(
            limiter
                .begin("s", t0 + Duration::from_millis(60_500))
                .is_err()
        );
        // After a full quiet minute everything is allowed again.
        assert!(limiter.begin("s", t0 + Duration::from_secs(125)).is_ok());
    }

    #[test]
    fn successes_do_not_count_and_do_not_reset() {
        let limiter = FailureLimiter::new(5, Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..100 {
            let a = limiter.begin("s", t0 + Duration::from_millis(i)).unwrap();
            limiter.withdraw(a);
        }
        for i in 0..4 {
            limiter.fail(limiter.begin("s", t0 + Duration::from_secs(1 + i)).unwrap());
        }
        // A success in between withdraws only itself.
        limiter.withdraw(limiter.begin("s", t0 + Duration::from_secs(6)).unwrap());
        limiter.fail(limiter.begin("s", t0 + Duration::from_secs(7)).unwrap());
        assert!(limiter.begin("s", t0 + Duration::from_secs(8)).is_err());
    }

    #[test]
    fn attempts_in_flight_count() {
        let limiter = FailureLimiter::new(5, Duration::from_secs(60));
        let t0 = Instant::now();
        let in_flight: Vec<_> = (0..5).map(|_| limiter.begin("s", t0).unwrap()).collect();
        assert!(limiter.begin("s", t0).is_err());
        for a in in_flight {
            limiter.withdraw(a);
        }
        assert!(limiter.begin("s", t0).is_ok());
    }

    #[test]
    fn admitted_checks_count_only_their_failures() {
        let limiter = FailureLimiter::new(5, Duration::from_secs(60));
        let t0 = Instant::now();
        // Any number of checks at once are admitted while none has failed.
        for _ in 0..100 {
            limiter.admit("s", t0).unwrap();
        }
        for i in 0..5 {
            limiter.admit("s", t0).unwrap();
            limiter.record_failure("s", t0 + Duration::from_secs(i));
        }
        let wait = limiter
            .admit("s", t0 + Duration::from_secs(10))
            .unwrap_err();
        assert_eq!(wait, Duration::from_secs(50));
        // The same failures stop attempts of the other kind too, and other sources not.
        assert!(limiter.begin("s", t0 + Duration::from_secs(10)).is_err());
        limiter.admit("other", t0).unwrap();
        assert!(limiter.admit("s", t0 + Duration::from_secs(125)).is_ok());
    }

    #[test]
    fn wait_is_rounded_up() {
        assert_eq!(wait_ms(Duration::from_nanos(1)), 1);
        assert_eq!(wait_ms(Duration::from_micros(1500)), 2);
        assert_eq!(wait_ms(Duration::ZERO), 1);
        assert_eq!(wait_ms(Duration::from_secs(60)), 60_000);
    }
}
