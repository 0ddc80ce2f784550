//! The gateway's metrics, recorded through the `metrics` facade: the host installs the
//! exporter (or none, and then recording costs next to nothing). The names are public
//! so the host can describe them and give the histograms their buckets.
//!
//! Labels stay bounded: a method, an HTTP status (three digits, or `error` when no
//! answer came), a retry reason. Never a tenant, a store, a path or a query: those are
//! unbounded and some are personal data.

use std::time::Duration;

use metrics::{Unit, counter, describe_counter, describe_histogram, histogram};
use tokio::time::Instant;

use crate::Method;

/// HTTP requests sent to OrderDesk (each attempt), by `method` and `status`.
pub const UPSTREAM_REQUESTS: &str = "orderdesk_mcp_upstream_requests_total";
/// How long one attempt took, from sending to the whole body read, by `method`.
pub const UPSTREAM_DURATION: &str = "orderdesk_mcp_upstream_request_duration_seconds";
/// 429 answers received from OrderDesk.
pub const UPSTREAM_RATE_LIMITED: &str = "orderdesk_mcp_upstream_rate_limited_total";
/// Attempts after the first, by `reason`.
pub const UPSTREAM_RETRIES: &str = "orderdesk_mcp_upstream_retries_total";
/// Reads answered from the cache.
pub const CACHE_HITS: &str = "orderdesk_mcp_cache_hits_total";
/// Cacheable reads that went upstream (fresh reads included).
pub const CACHE_MISSES: &str = "orderdesk_mcp_cache_misses_total";
/// How long a request waited for its turn in its store's pacer.
pub const PACER_WAIT: &str = "orderdesk_mcp_pacer_wait_seconds";

/// The histograms above (the exporter gives them buckets).
pub const HISTOGRAMS: &[&str] = &[UPSTREAM_DURATION, PACER_WAIT];

/// Why a request was sent again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RetryReason {
    /// OrderDesk answered 429.
    RateLimited,
    /// A 5xx answer to a read.
    ServerError,
    /// No answer: the connection failed, was lost or timed out.
    Transport,
}

impl RetryReason {
    fn as_str(self) -> &'static str {
        match self {
            RetryReason::RateLimited => "rate_limited",
            RetryReason::ServerError => "server_error",
            RetryReason::Transport => "transport",
        }
    }
}

/// Give each metric its `# HELP` line and unit (once, after a recorder is installed).
pub fn describe() {
    describe_counter!(
        UPSTREAM_REQUESTS,
        Unit::Count,
        "HTTP requests sent to OrderDesk (each attempt), by method and status (`error`: no answer)"
    );
    describe_histogram!(
        UPSTREAM_DURATION,
        Unit::Seconds,
        "Time of one OrderDesk request, from sending to the body read, by method"
    );
    describe_counter!(
        UPSTREAM_RATE_LIMITED,
        Unit::Count,
        "429 answers received from OrderDesk"
    );
    describe_counter!(
        UPSTREAM_RETRIES,
        Unit::Count,
        "OrderDesk requests sent again, by reason (rate_limited, server_error, transport)"
    );
    describe_counter!(
        CACHE_HITS,
        Unit::Count,
        "OrderDesk reads answered from the cache"
    );
    describe_counter!(
        CACHE_MISSES,
        Unit::Count,
        "Cacheable OrderDesk reads that went upstream"
    );
    describe_histogram!(
        PACER_WAIT,
        Unit::Seconds,
        "Time an OrderDesk request waited for its turn in its store's pacer"
    );
}

pub(crate) fn cache_hit() {
    counter!(CACHE_HITS).increment(1);
}

pub(crate) fn cache_miss() {
    counter!(CACHE_MISSES).increment(1);
}

pub(crate) fn rate_limited() {
    counter!(UPSTREAM_RATE_LIMITED).increment(1);
}

pub(crate) fn retry(reason: RetryReason) {
    counter!(UPSTREAM_RETRIES, "reason" => reason.as_str()).increment(1);
}

pub(crate) fn pacer_wait(waited: Duration) {
    histogram!(PACER_WAIT).record(waited.as_secs_f64());
}

/// One attempt's request, counted (with its latency) when it is dropped: however the
/// attempt ends — answered, failed, or its future dropped — it is counted once.
pub(crate) struct Attempt {
    method: Method,
    started: Instant,
    status: Option<u16>,
}

impl Attempt {
    pub(crate) fn start(method: Method) -> Attempt {
        Attempt {
            method,
            started: Instant::now(),
            status: None,
        }
    }

    /// The answer's status (an attempt dropped without one counts as `error`).
    pub(crate) fn answered(&mut self, status: u16) {
        self.status = Some(status);
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        let method = self.method.as_str();
        counter!(UPSTREAM_REQUESTS, "method" => method, "status" => status_label(self.status))
            .increment(1);
        histogram!(UPSTREAM_DURATION, "method" => method)
            .record(self.started.elapsed().as_secs_f64());
    }
}

/// A status as a label: its three digits, `other` outside 100..=599 (so that a
/// misbehaving server cannot grow the label set), `error` without an answer.
fn status_label(status: Option<u16>) -> String {
    match status {
        None => "error".into(),
        Some(code @ 100..=599) => code.to_string(),
        Some(_) => "other".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_labels_are_bounded() {
        assert_eq!(status_label(Some(200)), "200");
        assert_eq!(status_label(Some(429)), "429");
        assert_eq!(status_label(Some(999)), "other");
        assert_eq!(status_label(Some(42)), "other");
        assert_eq!(status_label(None), "error");
    }
}
