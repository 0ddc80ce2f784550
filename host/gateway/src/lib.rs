//! The host's HTTP client to the OrderDesk REST API v2.
//!
//! Components ask the host for "this request, for that store"; the host resolves the
//! store's credentials and hands them here with the request. This crate:
//! - adds the credentials (`ORDERDESK-STORE-ID`, `ORDERDESK-API-KEY`), a distinctive
//!   `User-Agent`, and `Content-Type: application/json` only when there is a body;
//! - paces requests per store so OrderDesk's leaky bucket never runs dry (`pacer`);
//! - waits out a 429 and retries it; retries reads on 5xx, timeouts and lost
//!   connections; never retries a write that may have reached OrderDesk
//!   ([`GatewayError::OutcomeUnknown`] instead);
//! - holds each tenant to a budget, answering at once when it is spent
//!   (`tenant_limit`);
//! - caches reads per tenant and store, and drops them on writes (`cache`);
//! - bounds time and response size, and turns OrderDesk's error envelope into
//!   [`GatewayError`]s.
//!
//! The API key is held in a [`SecretString`] and only exposed to build the header (which
//! is marked sensitive); it never appears in a log line, an error or a `Debug` output.
//! Redirects are not followed: reqwest would carry our custom key header to wherever a
//! redirect points.
//!
//! All timing goes through `tokio::time`, so the bucket arithmetic can be tested with a
//! paused clock.

mod cache;
mod config;
mod error;
mod pacer;
mod request;
mod retry;
mod tenant_limit;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use reqwest::{Client, Url};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use tokio::time::Instant;
use tracing::{debug, warn};

pub use cache::CacheTtl;
pub use config::GatewayConfig;
pub use error::GatewayError;
pub use request::{ApiRequest, ApiResponse, CacheMode, Method, StoreCredentials};

use cache::{Cache, CacheKey, Cached};
use pacer::Pacer;
use tenant_limit::TenantLimiter;

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
struct Counters {
    upstream_requests: AtomicU64,
    cache_hits: AtomicU64,
    cache_misses: AtomicU64,
    retries: AtomicU64,
    rate_limited_429s_seen: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// The OrderDesk client. Cheap to clone (shared state behind an `Arc`); `Send + Sync`.
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

impl fmt::Debug for Gateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gateway")
            .field("api_base", &self.inner.base.as_str())
            .finish_non_exhaustive()
    }
}

struct Inner {
    config: GatewayConfig,
    /// `api_base` parsed, without a trailing slash.
    base: Url,
    /// Built on the first request: loading the system's TLS roots costs milliseconds
    /// at start-up, and a session may never reach OrderDesk.
    client: OnceLock<Result<Client, String>>,
    user_agent: HeaderValue,
    pacer: Pacer,
    tenants: TenantLimiter,
    cache: Cache,
    counters: Counters,
}

/// The longest path we accept; OrderDesk paths are short.
const MAX_PATH_LEN: usize = 2048;

impl Gateway {
    pub fn new(config: GatewayConfig) -> Result<Gateway, GatewayError> {
        let bad = |m: String| Err(GatewayError::InvalidInput(m));
        let base_text = config.api_base.trim_end_matches('/');
        let base = match Url::parse(base_text) {
            Ok(u) => u,
            Err(e) => return bad(format!("api_base {base_text:?} is not a URL: {e}")),
        };
        if !matches!(base.scheme(), "http" | "https")
            || base.query().is_some()
            || base.fragment().is_some()
            || base.cannot_be_a_base()
        {
            return bad(format!(
                "api_base {base_text:?} must be an http(s) URL without query or fragment"
            ));
        }
        let positive = [
            ("store_bucket_capacity", config.store_bucket_capacity, 1.0),
            (
                "store_refill_per_sec",
                config.store_refill_per_sec,
                f64::MIN_POSITIVE,
            ),
            ("tenant_bucket_burst", config.tenant_bucket_burst, 1.0),
            (
                "tenant_refill_per_min",
                config.tenant_refill_per_min,
                f64::MIN_POSITIVE,
            ),
            ("write_cost", config.write_cost, 0.0),
        ];
        for (name, value, min) in positive {
            if !(value.is_finite() && value >= min) {
                return bad(format!(
                    "{name} must be a finite number >= {min}, not {value}"
                ));
            }
        }
        if config.max_response_bytes == 0 {
            return bad("max_response_bytes must be positive".into());
        }
        let user_agent = match HeaderValue::from_str(&config.user_agent) {
            Ok(v) => v,
            Err(_) => return bad("user_agent is not a valid header value".into()),
        };
        Ok(Gateway {
            inner: Arc::new(Inner {
                pacer: Pacer::new(config.store_bucket_capacity, config.store_refill_per_sec),
                tenants: TenantLimiter::new(
                    config.tenant_bucket_burst,
                    config.tenant_refill_per_min,
                ),
                cache: Cache::new(config.cache_max_entries, config.cache_max_bytes),
                counters: Counters::default(),
                base,
                client: OnceLock::new(),
                user_agent,
                config,
            }),
        })
    }

    pub fn config(&self) -> &GatewayConfig {
        &self.inner.config
    }

    pub fn stats(&self) -> GatewayStats {
        let c = &self.inner.counters;
        GatewayStats {
            upstream_requests: c.upstream_requests.load(Ordering::Relaxed),
            cache_hits: c.cache_hits.load(Ordering::Relaxed),
            cache_misses: c.cache_misses.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            rate_limited_429s_seen: c.rate_limited_429s_seen.load(Ordering::Relaxed),
        }
    }

    /// Performs one OrderDesk request for `tenant_id` with the store's credentials.
    ///
    /// Reads may be answered from the cache; otherwise the request waits its turn in
    /// the store's pacer (which can take seconds under a burst) and goes upstream.
    /// Cancel-safe in the sense that dropping the future gives up the request; a write
    /// dropped after it was sent still invalidates the store's cached reads.
    pub async fn send(
        &self,
        tenant_id: &str,
        creds: &StoreCredentials,
        request: ApiRequest,
    ) -> Result<ApiResponse, GatewayError> {
        let inner = &*self.inner;
        validate(tenant_id, creds, &request)?;
        let url = inner.url_for(&request)?;
        let label = format!("{} {}", request.method, request.path);

        let ttl = match request.method {
            Method::Get => inner.config.cache_ttl.for_path(&request.path),
            _ => Duration::ZERO,
        };
        let cache_key = (!ttl.is_zero()).then(|| {
            CacheKey::new(
                tenant_id,
                &creds.store_id,
                key_fingerprint(&creds.api_key),
                &request.path,
                &request.query,
            )
        });
        if let Some(key) = &cache_key {
            if request.cache == CacheMode::UseCache
                && let Some(hit) = inner.cache.get(key)
            {
                bump(&inner.counters.cache_hits);
                debug!(tenant = tenant_id, store = %creds.store_id, request = %label, "orderdesk cache hit");
                return Ok(ApiResponse {
                    status: hit.status,
                    body: hit.body,
                    cached: true,
                });
            }
            bump(&inner.counters.cache_misses);
        }

        let cost = if request.method.is_write() {
            inner.config.write_cost
        } else {
            1.0
        };
        if let Err(retry_after_ms) = inner.tenants.try_take(tenant_id, cost) {
            debug!(tenant = tenant_id, request = %label, retry_after_ms, "tenant budget spent");
            return Err(GatewayError::RateLimited { retry_after_ms });
        }

        let generation = inner.cache.generation(tenant_id, &creds.store_id);
        // Armed before the first byte can leave, so that a write whose future is
        // dropped mid-flight still clears the reads it may have made stale.
        let _invalidate = request.method.is_write().then(|| InvalidateOnDrop {
            cache: &inner.cache,
            tenant: tenant_id,
            store: &creds.store_id,
        });

        let started = Instant::now();
        let result = inner.upstream(creds, &request, url, &label).await;
        match &result {
            Ok(r) => debug!(
                tenant = tenant_id, store = %creds.store_id, request = %label,
                status = r.status, elapsed_ms = started.elapsed().as_millis() as u64,
                "orderdesk request done"
            ),
            Err(e) => debug!(
                tenant = tenant_id, store = %creds.store_id, request = %label,
                elapsed_ms = started.elapsed().as_millis() as u64, error = %e,
                "orderdesk request failed"
            ),
        }
        if let (Ok(response), Some(key)) = (&result, cache_key) {
            inner.cache.insert(
                key,
                Cached {
                    status: response.status,
                    body: response.body.clone(),
                },
                ttl,
                generation,
            );
        }
        result
    }
}

/// Drops a tenant+store's cached reads when a write ends, however it ends.
struct InvalidateOnDrop<'a> {
    cache: &'a Cache,
    tenant: &'a str,
    store: &'a str,
}

impl Drop for InvalidateOnDrop<'_> {
    fn drop(&mut self) {
        self.cache.invalidate_store(self.tenant, self.store);
    }
}

/// Identifies a credential in cache keys without keeping the key itself around.
fn key_fingerprint(key: &SecretString) -> [u8; 32] {
    Sha256::digest(key.expose_secret().as_bytes()).into()
}

fn validate(
    tenant_id: &str,
    creds: &StoreCredentials,
    request: &ApiRequest,
) -> Result<(), GatewayError> {
    let bad = |m: String| Err(GatewayError::InvalidInput(m));
    if tenant_id.is_empty() {
        return bad("the tenant id is empty".into());
    }
    let store = &creds.store_id;
    if store.is_empty() || !store.bytes().all(|b| b.is_ascii_graphic()) {
        return bad(format!(
            "store id {store:?} must be non-empty printable ASCII without spaces"
        ));
    }
    let path = &request.path;
    if !path.starts_with('/') {
        return bad(format!("path {path:?} must start with '/'"));
    }
    if path.len() > MAX_PATH_LEN {
        return bad(format!("path is longer than {MAX_PATH_LEN} bytes"));
    }
    if path.contains('?') || path.contains('#') {
        return bad(format!(
            "path {path:?} must not contain '?' or '#': put parameters in the query list"
        ));
    }
    // `%2e%2e` is `..` to a URL parser, and `\` is `/` to it: both could climb out of
    // the API base just like a literal `..`.
    let lower = path.to_ascii_lowercase();
    if path.contains("..") || lower.contains("%2e") || path.contains('\\') {
        return bad(format!("path {path:?} must not contain '..'"));
    }
    if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad(format!(
            "path {path:?} must not contain spaces or control characters"
        ));
    }
    if let Some((name, _)) = request.query.iter().find(|(k, _)| k.is_empty()) {
        return bad(format!("query parameter name {name:?} is empty"));
    }
    if let Some(body) = &request.body {
        if !matches!(request.method, Method::Post | Method::Put) {
            return bad(format!(
                "{} requests carry no body; only POST and PUT do",
                request.method
            ));
        }
        if let Err(e) = serde_json::from_str::<serde_json::Value>(body) {
            return bad(format!("the body is not valid JSON: {e}"));
        }
    }
    Ok(())
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

/// Reads a body in chunks, stopping as soon as it passes `cap`.
async fn read_capped(response: &mut reqwest::Response, cap: usize) -> Result<Vec<u8>, BodyError> {
    if let Some(len) = response.content_length()
        && len > cap as u64
    {
        return Err(BodyError::TooLarge);
    }
    let hint = response.content_length().unwrap_or(0).min(cap as u64) as usize;
    let mut buf = Vec::with_capacity(hint.min(1 << 20));
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if buf.len() + chunk.len() > cap {
            return Err(BodyError::TooLarge);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

enum BodyError {
    TooLarge,
    Transport(reqwest::Error),
}

/// A reqwest error as one line: its own text plus its causes (hyper's "connection
/// refused" is two levels down), without the URL, whose query may carry personal data.
fn describe(e: &reqwest::Error) -> String {
    let mut out = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "could not connect".to_string()
    } else {
        "connection failed".to_string()
    };
    let mut source = std::error::Error::source(e);
    let mut last = String::new();
    while let Some(s) = source {
        let text = s.to_string();
        // Layers often repeat their inner error's text; keep the output short.
        if !text.is_empty() && !last.contains(&text) && !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        last = text;
        source = s.source();
    }
    out
}

impl Inner {
    /// The HTTP client, built on first use.
    fn client(&self) -> Result<&Client, GatewayError> {
        self.client
            .get_or_init(|| {
                Client::builder()
                    .user_agent(self.user_agent.clone())
                    .connect_timeout(self.config.connect_timeout)
                    .timeout(self.config.request_timeout)
                    // Following a redirect would send ORDERDESK-API-KEY to wherever it
                    // points (reqwest strips only the standard credential headers).
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .map_err(|e| format!("building the HTTP client: {e}"))
            })
            .as_ref()
            .map_err(|e| GatewayError::Internal(e.clone()))
    }

    fn url_for(&self, request: &ApiRequest) -> Result<Url, GatewayError> {
        let text = format!(
            "{}{}",
            self.base.as_str().trim_end_matches('/'),
            request.path
        );
        let mut url = Url::parse(&text).map_err(|e| {
            GatewayError::InvalidInput(format!("path {:?} does not form a URL: {e}", request.path))
        })?;
        // Validation should make this impossible; checked anyway because the key
        // header goes wherever this URL points.
        let base_path = self.base.path().trim_end_matches('/');
        if url.origin() != self.base.origin() || !url.path().starts_with(base_path) {
            return Err(GatewayError::InvalidInput(format!(
                "path {:?} leaves the API base",
                request.path
            )));
        }
        if !request.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&request.query);
        }
        Ok(url)
    }

    fn build(
        &self,
        creds: &StoreCredentials,
        request: &ApiRequest,
        url: Url,
    ) -> Result<reqwest::RequestBuilder, GatewayError> {
        let store = HeaderValue::from_str(&creds.store_id).map_err(|_| {
            GatewayError::InvalidInput("the store id cannot be sent in a header".into())
        })?;
        let mut key = HeaderValue::from_str(creds.api_key.expose_secret()).map_err(|_| {
            // Say nothing about the key's content.
            GatewayError::InvalidInput(
                "the store's API key contains characters that cannot be sent in a header".into(),
            )
        })?;
        // Keeps it out of reqwest's and hyper's Debug output.
        key.set_sensitive(true);
        let mut rb = self
            .client()?
            .request(request.method.to_reqwest(), url)
            .header("ORDERDESK-STORE-ID", store)
            .header("ORDERDESK-API-KEY", key)
            .header(ACCEPT, "application/json");
        if let Some(body) = &request.body {
            rb = rb
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        Ok(rb)
    }

    fn outcome_unknown(&self, label: &str, why: &str) -> GatewayError {
        GatewayError::OutcomeUnknown(format!(
            "OrderDesk did not confirm the {label} ({why}); it may or may not have been \
             applied — check with a read before retrying"
        ))
    }

    /// Sends until there is an answer to give: the retry policy lives here.
    async fn upstream(
        &self,
        creds: &StoreCredentials,
        request: &ApiRequest,
        url: Url,
        label: &str,
    ) -> Result<ApiResponse, GatewayError> {
        let cfg = &self.config;
        let secret = creds.api_key.expose_secret();
        let is_write = request.method.is_write();
        let mut failures = 0u32;
        let mut throttled = 0u32;
        loop {
            let rb = self.build(creds, request, url.clone())?;
            let ticket = self.pacer.acquire(&creds.store_id).await;
            bump(&self.counters.upstream_requests);
            let attempt_started = Instant::now();

            let failure = match rb.send().await {
                Err(e) => {
                    drop(ticket);
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
                    let remaining = retry::header_f64(response.headers(), "x-tokens-remaining");
                    if status == 429 {
                        bump(&self.counters.rate_limited_429s_seen);
                        let wait = retry::retry_after(response.headers())
                            .unwrap_or(retry::DEFAULT_RETRY_AFTER);
                        // A 429 means the request was not processed: safe to repeat
                        // for every method. The pacer holds the whole store back too.
                        self.pacer
                            .observe(ticket, remaining.or(Some(0.0)), Some(wait));
                        let retry_after_ms =
                            u32::try_from(wait.as_millis()).unwrap_or(u32::MAX).max(1);
                        if throttled >= cfg.rate_limit_retries || wait > cfg.max_retry_after {
                            warn!(store = %creds.store_id, request = %label, retry_after_ms,
                                "OrderDesk is still rate limiting; giving up");
                            return Err(GatewayError::RateLimited { retry_after_ms });
                        }
                        throttled += 1;
                        bump(&self.counters.retries);
                        warn!(store = %creds.store_id, request = %label, retry_after_ms,
                            "OrderDesk answered 429; waiting it out");
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    self.pacer.observe(ticket, remaining, None);
                    let body = match read_capped(&mut response, cfg.max_response_bytes).await {
                        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                        Err(BodyError::TooLarge) => {
                            warn!(store = %creds.store_id, request = %label, status,
                                cap = cfg.max_response_bytes, "OrderDesk response too large");
                            return Err(GatewayError::ResponseTooLarge(cfg.max_response_bytes));
                        }
                        Err(BodyError::Transport(e)) => {
                            debug!(store = %creds.store_id, request = %label, status,
                                "body read failed");
                            self.settle_lost(label, is_write, &mut failures, e).await?;
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
                        200..=299 if !error::is_error_envelope(&body) => {
                            return Ok(ApiResponse {
                                status,
                                body,
                                cached: false,
                            });
                        }
                        500..=599 => Failure::ServerError {
                            status,
                            message: error::redact(error::envelope_message(status, &body), secret),
                        },
                        _ => {
                            let message =
                                error::redact(error::envelope_message(status, &body), secret);
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
                        return Err(self.outcome_unknown(label, &format!("HTTP {status}")));
                    }
                    if failures >= cfg.get_retries {
                        return Err(GatewayError::Upstream { status, message });
                    }
                    self.back_off(label, &mut failures, &format!("HTTP {status}"))
                        .await;
                }
                Failure::NotSent(e) => {
                    // Nothing reached OrderDesk, so even a write may go again.
                    let why = describe(&e);
                    if failures >= cfg.get_retries {
                        return Err(if e.is_timeout() && !is_write {
                            GatewayError::Timeout(format!("{label}: {why}"))
                        } else {
                            GatewayError::Transport(format!("{label} was not sent: {why}"))
                        });
                    }
                    self.back_off(label, &mut failures, &why).await;
                }
                Failure::Lost(e) => self.settle_lost(label, is_write, &mut failures, e).await?,
            }
        }
    }

    /// After a request may have reached OrderDesk and the answer was lost: a write
    /// stops here with `OutcomeUnknown`; a read backs off (and the caller loops) or,
    /// out of retries, fails.
    async fn settle_lost(
        &self,
        label: &str,
        is_write: bool,
        failures: &mut u32,
        e: reqwest::Error,
    ) -> Result<(), GatewayError> {
        let why = describe(&e);
        if is_write {
            warn!(request = %label, error = %why, "write lost in flight; not retried");
            return Err(self.outcome_unknown(label, &why));
        }
        if *failures >= self.config.get_retries {
            return Err(if e.is_timeout() {
                GatewayError::Timeout(format!("{label}: {why}"))
            } else {
                GatewayError::Transport(format!("{label}: {why}"))
            });
        }
        self.back_off(label, failures, &why).await;
        Ok(())
    }

    async fn back_off(&self, label: &str, failures: &mut u32, why: &str) {
        let wait = retry::backoff(self.config.backoff_base, *failures);
        *failures += 1;
        bump(&self.counters.retries);
        warn!(request = %label, error = %why, attempt = *failures + 1,
            wait_ms = wait.as_millis() as u64, "retrying OrderDesk read");
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> StoreCredentials {
        StoreCredentials::new("12345", "sk_live_supersecret")
    }

    fn check(request: ApiRequest) -> Result<(), GatewayError> {
        validate("tenant", &creds(), &request)
    }

    #[test]
    fn credentials_debug_shows_the_store_only() {
        let text = format!("{:?}", creds());
        assert!(text.contains("12345"));
        assert!(!text.contains("supersecret"));
    }

    #[test]
    fn valid_requests_pass() {
        check(ApiRequest::get("/orders").with_query("limit", "5")).unwrap();
        check(ApiRequest::post("/orders", r#"{"a":1}"#)).unwrap();
        check(ApiRequest::put("/orders/1", r#"{"a":1}"#)).unwrap();
        check(ApiRequest::delete("/orders/1")).unwrap();
        check(ApiRequest::new(Method::Post, "/move-orders")).unwrap();
    }

    #[test]
    fn bad_paths_are_refused() {
        for path in [
            "orders",
            "",
            "/orders/../store",
            "/orders?limit=5",
            "/orders#x",
            "/orders/%2E%2E/x",
            "/orders\\..",
            "/orders/1 2",
            "/orders/\n",
        ] {
            assert!(
                matches!(
                    check(ApiRequest::get(path)),
                    Err(GatewayError::InvalidInput(_))
                ),
                "{path:?}"
            );
        }
    }

    #[test]
    fn bodies_only_on_post_and_put_and_only_json() {
        for request in [
            ApiRequest::get("/orders").with_body("{}"),
            ApiRequest::delete("/orders/1").with_body("{}"),
            ApiRequest::post("/orders", "{not json"),
            ApiRequest::put("/orders/1", ""),
        ] {
            assert!(matches!(check(request), Err(GatewayError::InvalidInput(_))));
        }
    }

    #[test]
    fn bad_store_ids_and_tenants_are_refused() {
        let r = ApiRequest::get("/test");
        assert!(validate("", &creds(), &r).is_err());
        assert!(validate("t", &StoreCredentials::new("", "k"), &r).is_err());
        assert!(validate("t", &StoreCredentials::new("1 2", "k"), &r).is_err());
    }

    #[test]
    fn methods_parse_without_patch() {
        assert_eq!("get".parse::<Method>().unwrap(), Method::Get);
        assert_eq!("DELETE".parse::<Method>().unwrap(), Method::Delete);
        assert!("PATCH".parse::<Method>().is_err());
    }

    #[test]
    fn urls_are_built_under_the_base() {
        let g = Gateway::new(GatewayConfig::new("http://127.0.0.1:9/api/v2/")).unwrap();
        let url = g
            .inner
            .url_for(
                &ApiRequest::get("/orders")
                    .with_query("email", "a+b@example.com")
                    .with_query("folder_id", "1004,1009"),
            )
            .unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/api/v2/orders?email=a%2Bb%40example.com&folder_id=1004%2C1009"
        );
        let url = g.inner.url_for(&ApiRequest::get("/test")).unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:9/api/v2/test");
    }

    #[test]
    fn bad_configs_are_refused() {
        assert!(Gateway::new(GatewayConfig::new("not a url")).is_err());
        assert!(Gateway::new(GatewayConfig::new("ftp://x/api")).is_err());
        let mut c = GatewayConfig::new("http://localhost/api/v2");
        c.store_refill_per_sec = 0.0;
        assert!(Gateway::new(c).is_err());
        let mut c = GatewayConfig::new("http://localhost/api/v2");
        c.user_agent = "bad\nagent".into();
        assert!(Gateway::new(c).is_err());
    }

    #[test]
    fn default_user_agent_names_the_project() {
        let c = GatewayConfig::new("http://localhost/api/v2");
        assert_eq!(
            c.user_agent,
            format!("orderdesk-mcp/{}", env!("CARGO_PKG_VERSION"))
        );
    }

    #[test]
    fn gateway_is_send_sync_and_clone() {
        fn assert_traits<T: Send + Sync + Clone + 'static>() {}
        assert_traits::<Gateway>();
    }

    #[tokio::test]
    async fn tenant_budget_answers_at_once_without_going_upstream() {
        let mut c = GatewayConfig::new("http://127.0.0.1:9/api/v2");
        c.tenant_bucket_burst = 2.0;
        c.tenant_refill_per_min = 60.0;
        c.get_retries = 0;
        let g = Gateway::new(c).unwrap();
        // A write costs 2 and empties the budget. Nothing listens on port 9, so it
        // fails to connect (and, not sent, is a plain transport error).
        let err = g
            .send("t", &creds(), ApiRequest::post("/orders", "{}"))
            .await
            .unwrap_err();
        assert!(matches!(err, GatewayError::Transport(_)), "{err:?}");
        let before = g.stats().upstream_requests;
        let err = g
            .send("t", &creds(), ApiRequest::get("/test"))
            .await
            .unwrap_err();
        // Two tokens spent at 1/s: about a second to wait (less the time the POST took).
        assert!(
            matches!(err, GatewayError::RateLimited { retry_after_ms } if (500..=1000).contains(&retry_after_ms)),
            "{err:?}"
        );
        assert_eq!(g.stats().upstream_requests, before);
    }
}
