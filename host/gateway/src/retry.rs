//! When and how long to wait before trying again.
//!
//! The policy itself (what is retried) lives in `Gateway::upstream`; this module holds
//! the arithmetic so it can be tested without a server:
//! - jittered exponential backoff for reads that failed (5xx, timeout, lost connection);
//! - reading OrderDesk's `X-Retry-After` on a 429.

use std::time::Duration;

use rand::RngExt;
use reqwest::header::HeaderMap;

/// No single backoff sleeps longer than this, however many retries are configured.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// When a 429 comes without a usable `X-Retry-After`: one refill period and a bit.
pub(crate) const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

/// The wait before retry number `retry` (0 for the first retry): `base * 2^retry`,
/// "equal jitter" — half of it fixed, half random — so that many clients failing at
/// once do not come back at once, while every retry still waits a real while.
pub(crate) fn backoff(base: Duration, retry: u32) -> Duration {
    let exp = base.saturating_mul(1u32 << retry.min(16)).min(MAX_BACKOFF);
    let half = exp / 2;
    let jitter: f64 = rand::rng().random();
    half + half.mul_f64(jitter)
}

/// Reads the wait a 429 asks for. OrderDesk sends `X-Retry-After: <seconds>` (note the
/// `X-`); the standard `Retry-After` is accepted as a fallback in case that changes.
/// Fractions are allowed; an HTTP date is not (OrderDesk does not send one) and counts
/// as absent.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    ["x-retry-after", "retry-after"]
        .iter()
        .find_map(|name| header_f64(headers, name))
        .filter(|s| *s >= 0.0 && s.is_finite())
        .map(|s| Duration::from_secs_f64(s.min(86_400.0)))
}

/// A numeric header such as `X-Tokens-Remaining`.
pub(crate) fn header_f64(headers: &HeaderMap, name: &str) -> Option<f64> {
    headers
        .get(name)?
        .to_str()
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn backoff_grows_and_is_jittered_within_bounds() {
        let base = Duration::from_millis(200);
        for _ in 0..100 {
            let b0 = backoff(base, 0);
            assert!(b0 >= Duration::from_millis(100) && b0 <= Duration::from_millis(200));
            let b2 = backoff(base, 2);
            assert!(b2 >= Duration::from_millis(400) && b2 <= Duration::from_millis(800));
        }
        assert!(backoff(base, 40) <= MAX_BACKOFF);
    }

    #[test]
    fn retry_after_headers() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert("x-retry-after", HeaderValue::from_static(" 2 "));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("x-retry-after", HeaderValue::from_static("0.5"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(500)));
        h.insert("x-retry-after", HeaderValue::from_static("-1"));
        assert_eq!(retry_after(&h), None);
        h.remove("x-retry-after");
        h.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), None);
    }
}
