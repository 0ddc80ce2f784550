//! Counters of what the gateway did since it was created, for `Gateway::stats`.
//!
//! Relaxed atomics: each counter is exact on its own, but a snapshot is not taken
//! atomically across counters (nothing reads them as a consistent set).

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters since the gateway was created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GatewayStats {
    /// HTTP requests actually sent (retries included).
    pub upstream_requests: u64,
    pub cache_hits: u64,
    /// Cacheable reads that had to go upstream (bypasses included).
    pub cache_misses: u64,
    /// Attempts after the first, for any reason (429, 5xx, timeout, connection).
    pub retries: u64,
    /// 429 answers received from OrderDesk (whether or not they reached the caller).
    pub rate_limited_429s_seen: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) upstream_requests: AtomicU64,
    pub(crate) cache_hits: AtomicU64,
    pub(crate) cache_misses: AtomicU64,
    pub(crate) retries: AtomicU64,
    pub(crate) rate_limited_429s_seen: AtomicU64,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> GatewayStats {
        GatewayStats {
            upstream_requests: self.upstream_requests.load(Ordering::Relaxed),
            cache_hits: self.cache_hits.load(Ordering::Relaxed),
            cache_misses: self.cache_misses.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            rate_limited_429s_seen: self.rate_limited_429s_seen.load(Ordering::Relaxed),
        }
    }
}

pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}
