//! The gateway's settings, with OrderDesk's documented limits as defaults.

use std::time::Duration;

use crate::CacheTtl;

/// Settings of a [`Gateway`](crate::Gateway). [`GatewayConfig::new`] gives the defaults below, which
/// match OrderDesk's documented limits.
#[derive(Clone, Debug)]
pub struct GatewayConfig {
    /// e.g. `https://app.orderdesk.me/api/v2` (no trailing slash needed).
    pub api_base: String,
    /// Default `orderdesk-mcp/<version>`: OrderDesk asks clients to identify themselves.
    pub user_agent: String,
    /// OrderDesk's per-store bucket: 20 requests.
    pub store_bucket_capacity: f64,
    /// OrderDesk's per-store refill: 3 per second.
    pub store_refill_per_sec: f64,
    /// Per-tenant budget: burst of 240 tokens.
    pub tenant_bucket_burst: f64,
    /// Per-tenant budget: refill of 120 tokens per minute.
    pub tenant_refill_per_min: f64,
    /// Tokens a write (POST, PUT, DELETE) costs in the tenant budget; a read costs 1.
    /// Default 2.
    pub write_cost: f64,
    /// The longest `X-Retry-After` we wait out (default 30 s); a longer one is handed
    /// to the caller as [`GatewayError::RateLimited`](crate::GatewayError::RateLimited).
    pub max_retry_after: Duration,
    /// How many 429s in a row one request waits out before giving up with
    /// [`GatewayError::RateLimited`](crate::GatewayError::RateLimited). Default 3.
    pub rate_limit_retries: u32,
    /// Extra attempts for a read after a 5xx, a timeout or a lost connection (default
    /// 2, so 3 attempts in all). Writes get extra attempts only when the connection
    /// could not even be opened.
    pub get_retries: u32,
    /// First backoff (default 200 ms), doubled each retry, jittered.
    pub backoff_base: Duration,
    /// Default 5 s.
    pub connect_timeout: Duration,
    /// One attempt, from connecting to the last byte of the body. Default 30 s.
    pub request_timeout: Duration,
    /// Bodies past this are refused with [`GatewayError::ResponseTooLarge`](crate::GatewayError::ResponseTooLarge). Default
    /// 8 MiB.
    pub max_response_bytes: usize,
    pub cache_ttl: CacheTtl,
    /// Default 10,000 entries.
    pub cache_max_entries: usize,
    /// Default 64 MiB; a single answer larger than a quarter of it is not cached.
    pub cache_max_bytes: usize,
}

impl GatewayConfig {
    pub fn new(api_base: impl Into<String>) -> Self {
        GatewayConfig {
            api_base: api_base.into(),
            user_agent: format!("orderdesk-mcp/{}", env!("CARGO_PKG_VERSION")),
            store_bucket_capacity: 20.0,
            store_refill_per_sec: 3.0,
            tenant_bucket_burst: 240.0,
            tenant_refill_per_min: 120.0,
            write_cost: 2.0,
            max_retry_after: Duration::from_secs(30),
            rate_limit_retries: 3,
            get_retries: 2,
            backoff_base: Duration::from_millis(200),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            max_response_bytes: 8 * 1024 * 1024,
            cache_ttl: CacheTtl::default(),
            cache_max_entries: 10_000,
            cache_max_bytes: 64 * 1024 * 1024,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_user_agent_names_the_project() {
        let c = GatewayConfig::new("http://localhost/api/v2");
        assert_eq!(
            c.user_agent,
            format!("orderdesk-mcp/{}", env!("CARGO_PKG_VERSION"))
        );
    }
}
