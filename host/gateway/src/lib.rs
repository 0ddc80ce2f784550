//! The host's HTTP client to the OrderDesk REST API v2.
//!
//! Components ask the host for "this request, for that store"; the host resolves the
//! store's credentials and hands them here with the request. This crate:
//! - adds the credentials (`ORDERDESK-STORE-ID`, `ORDERDESK-API-KEY`), a distinctive
//!   `User-Agent`, and `Content-Type: application/json` only when there is a body;
//! - paces requests per store so OrderDesk's leaky bucket never runs dry;
//! - waits out a 429 and retries it; retries reads on 5xx, timeouts and lost
//!   connections; never retries a write that may have reached OrderDesk
//!   ([`GatewayError::OutcomeUnknown`] instead);
//! - holds each tenant to a budget, answering at once when it is spent;
//! - caches reads per tenant and store, and drops them on writes;
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
//!
//! # Modules
//!
//! This file is the facade: [`Gateway`], its constructor, and [`Gateway::send`], which
//! puts the steps below in order (validate, cache, tenant budget, send, cache).
//!
//! - `validation`: what is refused before anything is sent (settings, requests, URLs
//!   that would leave the API base).
//! - `cache`: the read-through cache of GETs and its invalidation on writes.
//! - `tenant_limit`: the per-tenant budget that answers at once when spent.
//! - `retry`: sending one request until there is an answer: pacing, 429 waits, the
//!   retry policy and its arithmetic.
//! - `pacer`: the per-store model of OrderDesk's leaky bucket.
//! - `transport`: the reqwest client, request headers, capped body reads; the only
//!   module that builds HTTP requests.
//! - `error`: [`GatewayError`] and the mapping of OrderDesk's error envelope.
//! - `request`, `config`, `stats`: the public request/response types, the settings,
//!   the counters.
//! - `telemetry`: the metrics recorded through the `metrics` facade (the host installs
//!   the exporter): upstream requests, latency, 429s, retries, cache, pacer waits.

mod cache;
mod config;
mod error;
mod pacer;
mod request;
mod retry;
mod stats;
pub mod telemetry;
mod tenant_limit;
mod transport;
mod validation;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use tokio::time::Instant;
use tracing::debug;

pub use cache::CacheTtl;
pub use config::GatewayConfig;
pub use error::GatewayError;
pub use request::{ApiRequest, ApiResponse, CacheMode, Method, StoreCredentials};
pub use stats::GatewayStats;

use cache::{Cache, CacheKey, Cached};
use pacer::Pacer;
use retry::Upstream;
use stats::{Counters, bump};
use tenant_limit::TenantLimiter;
use transport::Transport;
use validation::validate;

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
    transport: Transport,
    pacer: Pacer,
    tenants: TenantLimiter,
    cache: Cache,
    counters: Counters,
}

impl Gateway {
    pub fn new(config: GatewayConfig) -> Result<Gateway, GatewayError> {
        let checked = validation::check_config(&config)?;
        Ok(Gateway {
            inner: Arc::new(Inner {
                pacer: Pacer::new(config.store_bucket_capacity, config.store_refill_per_sec),
                tenants: TenantLimiter::new(
                    config.tenant_bucket_burst,
                    config.tenant_refill_per_min,
                ),
                cache: Cache::new(config.cache_max_entries, config.cache_max_bytes),
                counters: Counters::default(),
                transport: Transport::new(
                    checked.user_agent,
                    config.connect_timeout,
                    config.request_timeout,
                ),
                base: checked.base,
                config,
            }),
        })
    }

    pub fn config(&self) -> &GatewayConfig {
        &self.inner.config
    }

    /// Drop the cached reads of `tenant`'s store `store_id` (an OrderDesk store id) and
    /// make the answers of reads under way stale: OrderDesk said one of its orders
    /// changed (a pushed order), so what the cache holds may be out of date.
    pub fn invalidate_store(&self, tenant: &str, store_id: &str) {
        self.inner.cache.invalidate_store(tenant, store_id);
    }

    pub fn stats(&self) -> GatewayStats {
        self.inner.counters.snapshot()
    }

    /// The origin of the API base (`https://app.orderdesk.me`): where every request and
    /// so every store key goes. The vault binds store keys to it.
    pub fn api_origin(&self) -> String {
        self.inner.base.origin().ascii_serialization()
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
                && let Some((hit, age)) = inner.cache.get_with_age(key)
            {
                bump(&inner.counters.cache_hits);
                telemetry::cache_hit();
                debug!(tenant = tenant_id, store = %creds.store_id, request = %label, "orderdesk cache hit");
                return Ok(ApiResponse {
                    status: hit.status,
                    body: hit.body,
                    cached: true,
                    cache_age: Some(age),
                });
            }
            bump(&inner.counters.cache_misses);
            telemetry::cache_miss();
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
        let result = inner.upstream().send(creds, &request, url, &label).await;
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

impl Inner {
    /// Where `request` goes: under the API base, never outside it.
    fn url_for(&self, request: &ApiRequest) -> Result<Url, GatewayError> {
        validation::url_for(&self.base, request)
    }

    /// The parts of the gateway the send loop works with.
    fn upstream(&self) -> Upstream<'_> {
        Upstream {
            config: &self.config,
            transport: &self.transport,
            pacer: &self.pacer,
            counters: &self.counters,
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> StoreCredentials {
        StoreCredentials::new("12345", "sk_live_supersecret")
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
    fn gateway_is_send_sync_and_clone() {
        fn assert_traits<T: Send + Sync + Clone + 'static>() {}
        assert_traits::<Gateway>();
    }

    #[tokio::test]
    async fn tenant_budget_answers_at_once_without_going_upstream() {
        let mut c = GatewayConfig::new("http://127.0.0.1:9/api/v2");
        c.tenant_bucket_burst = 2.0;
        // Slow enough that a machine under load (the failed connect below taking a
        // second) cannot refill the bucket before the second request.
        c.tenant_refill_per_min = 6.0;
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
        // Two tokens spent at one per 10 s: about 10 s to wait for the next (less the
        // time the POST took).
        assert!(
            matches!(err, GatewayError::RateLimited { retry_after_ms } if (5_000..=10_000).contains(&retry_after_ms)),
            "{err:?}"
        );
        assert_eq!(g.stats().upstream_requests, before);
    }
}
