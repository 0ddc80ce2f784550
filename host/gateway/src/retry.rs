//! Sending one request to OrderDesk until there is an answer to give: the pacing of
//! each attempt, waiting out 429s, and the retry policy, with the arithmetic behind it.
//!
//! The policy:
//! - every attempt first waits its turn in the store's pacer, and reports what the
//!   answer says about OrderDesk's bucket back to it;
//! - a 429 means the request was not processed, so it is waited out and repeated for
//!   every method, up to `rate_limit_retries` times and `max_retry_after` long;
//! - a read is retried after a 5xx, a timeout or a lost connection, with jittered
//!   exponential backoff, up to `get_retries` times;
//! - a write is retried only when it certainly was not sent (the connection could not
//!   be opened); once it may have reached OrderDesk, a failure is
//!   [`GatewayError::OutcomeUnknown`], never a blind retry;
//! - everything fits inside the caller's deadline ([`ApiRequest::deadline`]): an attempt
//!   starts only with [`MIN_ATTEMPT_TIME`] left, its timeout is cut to what is left, and
//!   no pacer wait, 429 wait or backoff runs past it. A wait that does not fit (or is
//!   longer than `max_retry_after`) is answered at once with
//!   [`GatewayError::RateLimited`] and the wait, instead of holding the caller until its
//!   own timeout cuts off a request that may already be on the wire.
//!
//! The arithmetic (backoff, reading `X-Retry-After` and `X-Tokens-Remaining`) is in
//! plain functions so it can be tested without a server. This module does not cache,
//! does not charge the tenant budget and does not build HTTP requests itself: the
//! caller (`Gateway::send`) and `transport` do.

use std::time::Duration;

use rand::RngExt;
use reqwest::Url;
use reqwest::header::HeaderMap;
use secrecy::ExposeSecret;
use tokio::time::Instant;
use tracing::{debug, warn};

use crate::error::{envelope_message, is_error_envelope, redact};
use crate::pacer::Pacer;
use crate::stats::{Counters, bump};
use crate::telemetry::{self, Attempt, RetryReason};
use crate::transport::{BodyError, Transport, describe, read_capped};
use crate::{ApiRequest, ApiResponse, GatewayConfig, GatewayError, StoreCredentials};

/// What the send loop works with, borrowed from the gateway.
pub(crate) struct Upstream<'a> {
    pub(crate) config: &'a GatewayConfig,
    pub(crate) transport: &'a Transport,
    pub(crate) pacer: &'a Pacer,
    pub(crate) counters: &'a Counters,
}

/// How one attempt ended, before deciding whether to try again.
enum Failure {
    /// The connection could not be opened: nothing was sent.
    NotSent(reqwest::Error),
    /// Sent (or maybe sent), then the answer never fully arrived.
    Lost(reqwest::Error),
    /// A 5xx.
    ServerError { status: u16, message: String },
}

impl Upstream<'_> {
    /// Sends `request` to `url` until there is an answer to give: each attempt waits
    /// its turn in the store's pacer; a 429 is waited out (any method: OrderDesk did not
    /// process it); a 5xx, a timeout or a lost connection is retried for a read with
    /// backoff, and ends a write that may have been applied with `OutcomeUnknown`.
    pub(crate) async fn send(
        &self,
        creds: &StoreCredentials,
        request: &ApiRequest,
        url: Url,
        label: &str,
    ) -> Result<ApiResponse, GatewayError> {
        let cfg = self.config;
        let secret = creds.api_key.expose_secret();
        let is_write = request.method.is_write();
        let mut failures = 0u32;
        let mut throttled = 0u32;
        loop {
            let mut rb = self.transport.build(creds, request, url.clone())?;
            let queued = Instant::now();
            let ticket = self
                .pacer
                .acquire_before(&creds.store_id, Some(self.latest_start(request)))
                .await
                .map_err(|wait| {
                    debug!(store = %creds.store_id, request = %label,
                        wait_ms = wait.as_millis() as u64, "no turn in time; not sent");
                    rate_limited(wait)
                })?;
            telemetry::pacer_wait(queued.elapsed());
            if let Some(deadline) = request.deadline {
                // What is left of the caller's time bounds this attempt: a timeout here
                // is ours to report (a write's as outcome-unknown, naming it), not the
                // caller's to discover with nothing said.
                let left = deadline.saturating_duration_since(Instant::now());
                rb = rb.timeout(left.min(cfg.request_timeout));
            }
            bump(&self.counters.upstream_requests);
            let attempt_started = Instant::now();
            // Counted (status, latency) when this attempt's answer is read or given up.
            let mut attempt = Attempt::start(request.method);

            let failure = match rb.send().await {
                Err(e) => {
                    drop(ticket);
                    drop(attempt);
                    if e.is_builder() {
                        return Err(GatewayError::Internal(format!(
                            "building the request for {label}: {}",
                            describe(&e)
                        )));
                    }
                    if e.is_connect() {
                        Failure::NotSent(e)
                    } else {
                        Failure::Lost(e)
                    }
                }
                Ok(mut response) => {
                    let status = response.status().as_u16();
                    attempt.answered(status);
                    let remaining = header_f64(response.headers(), "x-tokens-remaining");
                    if status == 429 {
                        drop(attempt);
                        bump(&self.counters.rate_limited_429s_seen);
                        telemetry::rate_limited();
                        let wait = retry_after(response.headers()).unwrap_or(DEFAULT_RETRY_AFTER);
                        // A 429 means the request was not processed: safe to repeat
                        // for every method. The pacer holds the whole store back too,
                        // but never longer than we would wait ourselves: a store asking
                        // for a day must not hang every later call for a day.
                        self.pacer.observe(
                            ticket,
                            remaining.or(Some(0.0)),
                            Some(wait.min(cfg.max_retry_after)),
                        );
                        let retry_after_ms = millis(wait);
                        if throttled >= cfg.rate_limit_retries
                            || wait > cfg.max_retry_after
                            || !self.time_for(request, wait)
                        {
                            warn!(store = %creds.store_id, request = %label, retry_after_ms,
                                "OrderDesk is still rate limiting; giving up");
                            return Err(GatewayError::RateLimited { retry_after_ms });
                        }
                        throttled += 1;
                        bump(&self.counters.retries);
                        telemetry::retry(RetryReason::RateLimited);
                        warn!(store = %creds.store_id, request = %label, retry_after_ms,
                            "OrderDesk answered 429; waiting it out");
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    self.pacer.observe(ticket, remaining, None);
                    let body = read_capped(&mut response, cfg.max_response_bytes).await;
                    drop(attempt);
                    let body = match body {
                        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                        Err(BodyError::TooLarge) => {
                            warn!(store = %creds.store_id, request = %label, status,
                                cap = cfg.max_response_bytes, "OrderDesk response too large");
                            return Err(GatewayError::ResponseTooLarge(cfg.max_response_bytes));
                        }
                        Err(BodyError::Transport(e)) => {
                            debug!(store = %creds.store_id, request = %label, status,
                                "body read failed");
                            self.settle_lost(request, label, &mut failures, e).await?;
                            continue;
                        }
                    };
                    debug!(
                        store = %creds.store_id, request = %label, status,
                        tokens_remaining = remaining,
                        elapsed_ms = attempt_started.elapsed().as_millis() as u64,
                        "orderdesk answered"
                    );
                    match status {
                        200..=299 if !is_error_envelope(&body) => {
                            return Ok(ApiResponse {
                                status,
                                body,
                                cached: false,
                                cache_age: None,
                            });
                        }
                        500..=599 => Failure::ServerError {
                            status,
                            message: redact(envelope_message(status, &body), secret),
                        },
                        _ => {
                            let message = redact(envelope_message(status, &body), secret);
                            return Err(match status {
                                401 | 403 => GatewayError::Unauthorized(message),
                                404 => GatewayError::NotFound(message),
                                300..=399 => GatewayError::Upstream {
                                    status,
                                    message: format!(
                                        "unexpected redirect (not followed): {message}"
                                    ),
                                },
                                _ => GatewayError::Upstream { status, message },
                            });
                        }
                    }
                }
            };

            match failure {
                Failure::ServerError { status, message } => {
                    if is_write {
                        warn!(store = %creds.store_id, request = %label, status,
                            "write answered 5xx; not retried");
                        return Err(outcome_unknown(label, &format!("HTTP {status}")));
                    }
                    let Some(wait) = self.next_backoff(request, failures) else {
                        return Err(GatewayError::Upstream { status, message });
                    };
                    let why = format!("HTTP {status}");
                    self.back_off(label, &mut failures, wait, &why, RetryReason::ServerError)
                        .await;
                }
                Failure::NotSent(e) => {
                    // Nothing reached OrderDesk, so even a write may go again.
                    let why = describe(&e);
                    let Some(wait) = self.next_backoff(request, failures) else {
                        return Err(if e.is_timeout() && !is_write {
                            GatewayError::Timeout(format!("{label}: {why}"))
                        } else {
                            GatewayError::Transport(format!("{label} was not sent: {why}"))
                        });
                    };
                    self.back_off(label, &mut failures, wait, &why, RetryReason::Transport)
                        .await;
                }
                Failure::Lost(e) => {
                    self.settle_lost(request, label, &mut failures, e).await?;
                }
            }
        }
    }

    /// After a request may have reached OrderDesk and the answer was lost: a write
    /// stops here with `OutcomeUnknown`; a read backs off (and the caller loops) or,
    /// out of retries, fails.
    async fn settle_lost(
        &self,
        request: &ApiRequest,
        label: &str,
        failures: &mut u32,
        e: reqwest::Error,
    ) -> Result<(), GatewayError> {
        let why = describe(&e);
        if request.method.is_write() {
            warn!(request = %label, error = %why, "write lost in flight; not retried");
            return Err(outcome_unknown(label, &why));
        }
        let Some(wait) = self.next_backoff(request, *failures) else {
            return Err(if e.is_timeout() {
                GatewayError::Timeout(format!("{label}: {why}"))
            } else {
                GatewayError::Transport(format!("{label}: {why}"))
            });
        };
        self.back_off(label, failures, wait, &why, RetryReason::Transport)
            .await;
        Ok(())
    }

    /// The wait before the next retry, or `None` when there is no retry left or no
    /// time left to make it in.
    fn next_backoff(&self, request: &ApiRequest, failures: u32) -> Option<Duration> {
        if failures >= self.config.get_retries {
            return None;
        }
        let wait = backoff(self.config.backoff_base, failures);
        self.time_for(request, wait).then_some(wait)
    }

    /// Whether waiting `wait` still leaves time for an attempt before the deadline.
    fn time_for(&self, request: &ApiRequest, wait: Duration) -> bool {
        request
            .deadline
            .is_none_or(|deadline| Instant::now() + wait + MIN_ATTEMPT_TIME <= deadline)
    }

    /// The latest time an attempt may leave: a pacer wait longer than the longest we
    /// wait out a 429, or one that ends too close to the deadline, is refused.
    fn latest_start(&self, request: &ApiRequest) -> Instant {
        let longest_wait = Instant::now() + self.config.max_retry_after;
        match request.deadline {
            Some(deadline) => longest_wait.min(
                deadline
                    .checked_sub(MIN_ATTEMPT_TIME)
                    .unwrap_or_else(Instant::now),
            ),
            None => longest_wait,
        }
    }

    async fn back_off(
        &self,
        label: &str,
        failures: &mut u32,
        wait: Duration,
        why: &str,
        reason: RetryReason,
    ) {
        *failures += 1;
        bump(&self.counters.retries);
        telemetry::retry(reason);
        warn!(request = %label, error = %why, attempt = *failures + 1,
            wait_ms = wait.as_millis() as u64, "retrying OrderDesk read");
        tokio::time::sleep(wait).await;
    }
}

/// An attempt is not started with less than this left before the caller's deadline.
pub(crate) const MIN_ATTEMPT_TIME: Duration = Duration::from_secs(1);

fn millis(wait: Duration) -> u32 {
    u32::try_from(wait.as_millis()).unwrap_or(u32::MAX).max(1)
}

fn rate_limited(wait: Duration) -> GatewayError {
    GatewayError::RateLimited {
        retry_after_ms: millis(wait),
    }
}

fn outcome_unknown(label: &str, why: &str) -> GatewayError {
    GatewayError::OutcomeUnknown(format!(
        "OrderDesk did not confirm the {label} ({why}); it may or may not have been \
         applied — check with a read before retrying"
    ))
}

/// No single backoff sleeps longer than this, however many retries are configured.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// When a 429 comes without a usable `X-Retry-After`: one refill period and a bit.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

/// The wait before retry number `retry` (0 for the first retry): `base * 2^retry`,
/// "equal jitter" — half of it fixed, half random — so that many clients failing at
/// once do not come back at once, while every retry still waits a real while.
fn backoff(base: Duration, retry: u32) -> Duration {
    let exp = base.saturating_mul(1u32 << retry.min(16)).min(MAX_BACKOFF);
    let half = exp / 2;
    let jitter: f64 = rand::rng().random();
    half + half.mul_f64(jitter)
}

/// Reads the wait a 429 asks for. OrderDesk sends `X-Retry-After: <seconds>` (note the
/// `X-`); the standard `Retry-After` is accepted as a fallback in case that changes.
/// Fractions are allowed; an HTTP date is not (OrderDesk does not send one) and counts
/// as absent.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    ["x-retry-after", "retry-after"]
        .iter()
        .find_map(|name| header_f64(headers, name))
        .filter(|s| *s >= 0.0 && s.is_finite())
        .map(|s| Duration::from_secs_f64(s.min(86_400.0)))
}

/// A numeric header such as `X-Tokens-Remaining`.
fn header_f64(headers: &HeaderMap, name: &str) -> Option<f64> {
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
