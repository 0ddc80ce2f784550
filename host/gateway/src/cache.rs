//! Read-through cache for GETs.
//!
//! Agents re-read the same orders a lot (list, then look at one, then list again), and
//! every read spends a token of a bucket that refills at 3/s. A short-lived cache keeps
//! those re-reads off the wire.
//!
//! Rules:
//! - The key is tenant, store, a fingerprint of the API key, path and the *sorted*
//!   query: parameter order does not matter, a differing value or an extra parameter is
//!   a miss. The tenant is part of the key so one tenant's entries never answer
//!   another, even for the same store id; the key fingerprint so an entry fetched with
//!   one credential never answers a request made with another (a revoked or wrong key
//!   must meet OrderDesk's 401, not our cache).
//! - TTL by path ([`CacheTtl`]); a zero TTL means "not cached".
//! - A write to a store drops that tenant+store's entries except `/store` (orders,
//!   items, shipments and inventory are linked in OrderDesk — an order can move stock —
//!   so anything narrower is a guess). A per-tenant+store generation stops a read that
//!   started before the write from putting its stale answer back afterwards.
//! - Bounded by entries and bytes; expired entries go first, then least recently used.
//!
//! A little over 500 lines because the tests (from `mod tests` on, over 200 lines) sit
//! next to the rules they pin down; the cache itself is under 300.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// How long a GET answer is reused, by path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheTtl {
    /// `/orders` and everything under it (items, shipments, history). Default 15 s.
    pub orders: Duration,
    /// `/inventory-items` and everything under it. Default 60 s.
    pub inventory: Duration,
    /// `/store` (settings and folders; they rarely change). Default 300 s.
    pub store_settings: Duration,
    /// Any other path, `/test` included. Default 0: not cached.
    pub other: Duration,
}

impl Default for CacheTtl {
    fn default() -> Self {
        CacheTtl {
            orders: Duration::from_secs(15),
            inventory: Duration::from_secs(60),
            store_settings: Duration::from_secs(300),
            other: Duration::ZERO,
        }
    }
}

/// `path` is `prefix` or lies under it (`/orders/1` is under `/orders`, `/orders-x` is
/// not).
fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

impl CacheTtl {
    /// The TTL for a GET of `path`; zero means the answer is not cached.
    pub fn for_path(&self, path: &str) -> Duration {
        if under(path, "/orders") {
            self.orders
        } else if under(path, "/inventory-items") {
            self.inventory
        } else if path == "/store" {
            self.store_settings
        } else {
            self.other
        }
    }
}

/// Identifies one cached answer. Built only through [`CacheKey::new`], which
/// normalises the query.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct CacheKey {
    tenant: String,
    store: String,
    key_fingerprint: [u8; 32],
    path: String,
    query: Vec<(String, String)>,
}

impl CacheKey {
    pub(crate) fn new(
        tenant: &str,
        store: &str,
        key_fingerprint: [u8; 32],
        path: &str,
        query: &[(String, String)],
    ) -> Self {
        let mut query = query.to_vec();
        // Sort by name then value: `a=1&b=2` and `b=2&a=1` are the same request.
        query.sort();
        CacheKey {
            tenant: tenant.to_string(),
            store: store.to_string(),
            key_fingerprint,
            path: path.to_string(),
            query,
        }
    }

    fn approx_size(&self) -> usize {
        self.tenant.len()
            + self.store.len()
            + self.path.len()
            + self
                .query
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>()
            + 32
    }
}

/// A cached answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Cached {
    pub(crate) status: u16,
    pub(crate) body: String,
}

struct Entry {
    value: Cached,
    /// When OrderDesk gave the answer: the age a hit reports.
    stored: Instant,
    expires: Instant,
    /// Position in the LRU order.
    tick: u64,
    size: usize,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<CacheKey, Entry>,
    /// tick → key, oldest first.
    lru: BTreeMap<u64, CacheKey>,
    next_tick: u64,
    bytes: usize,
    /// Bumped by every invalidation of a tenant+store.
    generations: HashMap<(String, String), u64>,
}

impl Inner {
    fn remove(&mut self, key: &CacheKey) {
        if let Some(e) = self.entries.remove(key) {
            self.lru.remove(&e.tick);
            self.bytes -= e.size;
        }
    }

    fn tick(&mut self) -> u64 {
        self.next_tick += 1;
        self.next_tick
    }
}

pub(crate) struct Cache {
    max_entries: usize,
    max_bytes: usize,
    inner: Mutex<Inner>,
}

/// The generation a read saw when it started; see [`Cache::insert`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Generation(u64);

impl Cache {
    pub(crate) fn new(max_entries: usize, max_bytes: usize) -> Self {
        Cache {
            max_entries,
            max_bytes,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    #[cfg(test)]
    pub(crate) fn get(&self, key: &CacheKey) -> Option<Cached> {
        self.get_with_age(key).map(|(value, _)| value)
    }

    /// A fresh entry and how long ago OrderDesk gave it.
    pub(crate) fn get_with_age(&self, key: &CacheKey) -> Option<(Cached, Duration)> {
        let now = Instant::now();
        let mut inner = self.lock();
        let expired = inner.entries.get(key)?.expires <= now;
        if expired {
            inner.remove(key);
            return None;
        }
        let tick = inner.tick();
        let entry = inner.entries.get_mut(key)?;
        let old = std::mem::replace(&mut entry.tick, tick);
        let value = entry.value.clone();
        let age = now.saturating_duration_since(entry.stored);
        inner.lru.remove(&old);
        inner.lru.insert(tick, key.clone());
        Some((value, age))
    }

    /// The current generation of a tenant+store; take it before going upstream.
    pub(crate) fn generation(&self, tenant: &str, store: &str) -> Generation {
        let inner = self.lock();
        Generation(
            inner
                .generations
                .get(&(tenant.to_string(), store.to_string()))
                .copied()
                .unwrap_or(0),
        )
    }

    /// Stores an answer unless a write to the same tenant+store happened since
    /// `seen` was taken (the answer may predate the write).
    pub(crate) fn insert(&self, key: CacheKey, value: Cached, ttl: Duration, seen: Generation) {
        if ttl.is_zero() || self.max_entries == 0 {
            return;
        }
        let size = key.approx_size() + value.body.len();
        // One huge answer must not flush everything else.
        if size > self.max_bytes / 4 {
            return;
        }
        let now = Instant::now();
        let mut inner = self.lock();
        let current = inner
            .generations
            .get(&(key.tenant.clone(), key.store.clone()))
            .copied()
            .unwrap_or(0);
        if current != seen.0 {
            return;
        }
        inner.remove(&key);
        if inner.entries.len() >= self.max_entries || inner.bytes + size > self.max_bytes {
            let expired: Vec<CacheKey> = inner
                .entries
                .iter()
                .filter(|(_, e)| e.expires <= now)
                .map(|(k, _)| k.clone())
                .collect();
            for k in &expired {
                inner.remove(k);
            }
        }
        while inner.entries.len() >= self.max_entries || inner.bytes + size > self.max_bytes {
            let Some((_, oldest)) = inner.lru.pop_first() else {
                break;
            };
            // `pop_first` already took it out of the LRU order.
            if let Some(e) = inner.entries.remove(&oldest) {
                inner.bytes -= e.size;
            }
        }
        let tick = inner.tick();
        inner.lru.insert(tick, key.clone());
        inner.bytes += size;
        inner.entries.insert(
            key,
            Entry {
                value,
                stored: now,
                expires: now + ttl,
                tick,
                size,
            },
        );
    }

    /// After a write (applied or possibly applied) to a store: drop the tenant+store's
    /// entries except the store settings, and make in-flight reads' answers stale.
    pub(crate) fn invalidate_store(&self, tenant: &str, store: &str) {
        let mut inner = self.lock();
        *inner
            .generations
            .entry((tenant.to_string(), store.to_string()))
            .or_insert(0) += 1;
        let doomed: Vec<CacheKey> = inner
            .entries
            .keys()
            .filter(|k| k.tenant == tenant && k.store == store && k.path != "/store")
            .cloned()
            .collect();
        for k in &doomed {
            inner.remove(k);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().entries.len()
    }

    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.lock().bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn key(tenant: &str, path: &str, query: &[(&str, &str)]) -> CacheKey {
        CacheKey::new(tenant, "store1", [7; 32], path, &q(query))
    }

    fn val(body: &str) -> Cached {
        Cached {
            status: 200,
            body: body.to_string(),
        }
    }

    const TTL: Duration = Duration::from_secs(15);

    fn cache() -> Cache {
        Cache::new(100, 1 << 20)
    }

    fn put(c: &Cache, k: CacheKey, body: &str) {
        let g = c.generation(&k.tenant, &k.store);
        c.insert(k, val(body), TTL, g);
    }

    #[test]
    fn ttl_by_path() {
        let t = CacheTtl::default();
        assert_eq!(t.for_path("/orders"), Duration::from_secs(15));
        assert_eq!(t.for_path("/orders/12/shipments"), Duration::from_secs(15));
        assert_eq!(t.for_path("/inventory-items"), Duration::from_secs(60));
        assert_eq!(t.for_path("/inventory-items/9"), Duration::from_secs(60));
        assert_eq!(t.for_path("/store"), Duration::from_secs(300));
        assert_eq!(t.for_path("/test"), Duration::ZERO);
        assert_eq!(t.for_path("/orders-archive"), Duration::ZERO);
        assert_eq!(t.for_path("/stores"), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn query_order_does_not_matter_but_values_and_extras_do() {
        let c = cache();
        put(
            &c,
            key("t", "/orders", &[("limit", "5"), ("offset", "0")]),
            "x",
        );
        assert_eq!(
            c.get(&key("t", "/orders", &[("offset", "0"), ("limit", "5")])),
            Some(val("x"))
        );
        assert_eq!(
            c.get(&key("t", "/orders", &[("offset", "5"), ("limit", "5")])),
            None
        );
        assert_eq!(
            c.get(&key(
                "t",
                "/orders",
                &[("offset", "0"), ("limit", "5"), ("folder_id", "1")]
            )),
            None
        );
        assert_eq!(c.get(&key("t", "/orders", &[("limit", "5")])), None);
        // The same parameters on another path are another request.
        assert_eq!(
            c.get(&key("t", "/orders/1", &[("limit", "5"), ("offset", "0")])),
            None
        );
    }

    #[tokio::test(start_paused = true)]
    async fn entries_expire() {
        let c = cache();
        put(&c, key("t", "/orders", &[]), "x");
        tokio::time::advance(Duration::from_millis(14_999)).await;
        assert!(c.get(&key("t", "/orders", &[])).is_some());
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(c.get(&key("t", "/orders", &[])).is_none());
        assert_eq!(c.len(), 0);
        assert_eq!(c.bytes(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn zero_ttl_is_not_cached() {
        let c = cache();
        let k = key("t", "/test", &[]);
        c.insert(
            k.clone(),
            val("x"),
            Duration::ZERO,
            c.generation("t", "store1"),
        );
        assert!(c.get(&k).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn tenants_are_isolated() {
        let c = cache();
        put(&c, key("a", "/orders", &[]), "a's");
        assert!(c.get(&key("b", "/orders", &[])).is_none());
        assert_eq!(c.get(&key("a", "/orders", &[])), Some(val("a's")));
    }

    #[tokio::test(start_paused = true)]
    async fn a_different_api_key_misses() {
        let c = cache();
        put(&c, key("a", "/orders", &[]), "x");
        let other = CacheKey::new("a", "store1", [8; 32], "/orders", &[]);
        assert!(c.get(&other).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn invalidation_drops_the_stores_entries_but_store_settings() {
        let c = cache();
        put(&c, key("t", "/orders", &[]), "1");
        put(&c, key("t", "/orders/5", &[]), "2");
        put(&c, key("t", "/inventory-items", &[]), "3");
        put(&c, key("t", "/store", &[]), "4");
        put(&c, key("other", "/orders", &[]), "5");
        put(
            &c,
            CacheKey::new("t", "store2", [7; 32], "/orders", &[]),
            "6",
        );
        c.invalidate_store("t", "store1");
        assert!(c.get(&key("t", "/orders", &[])).is_none());
        assert!(c.get(&key("t", "/orders/5", &[])).is_none());
        assert!(c.get(&key("t", "/inventory-items", &[])).is_none());
        assert!(c.get(&key("t", "/store", &[])).is_some());
        assert!(c.get(&key("other", "/orders", &[])).is_some());
        assert!(
            c.get(&CacheKey::new("t", "store2", [7; 32], "/orders", &[]))
                .is_some()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_read_that_started_before_a_write_is_not_stored() {
        let c = cache();
        let seen = c.generation("t", "store1");
        c.invalidate_store("t", "store1");
        c.insert(key("t", "/orders", &[]), val("stale"), TTL, seen);
        assert!(c.get(&key("t", "/orders", &[])).is_none());
        // A read that starts after the write is stored.
        put(&c, key("t", "/orders", &[]), "fresh");
        assert_eq!(c.get(&key("t", "/orders", &[])), Some(val("fresh")));
    }

    #[tokio::test(start_paused = true)]
    async fn bounded_by_entries_least_recently_used_first() {
        let c = Cache::new(3, 1 << 20);
        put(&c, key("t", "/orders/1", &[]), "1");
        put(&c, key("t", "/orders/2", &[]), "2");
        put(&c, key("t", "/orders/3", &[]), "3");
        // Touch 1 so 2 is the least recently used.
        assert!(c.get(&key("t", "/orders/1", &[])).is_some());
        put(&c, key("t", "/orders/4", &[]), "4");
        assert_eq!(c.len(), 3);
        assert!(c.get(&key("t", "/orders/2", &[])).is_none());
        assert!(c.get(&key("t", "/orders/1", &[])).is_some());
        assert!(c.get(&key("t", "/orders/3", &[])).is_some());
        assert!(c.get(&key("t", "/orders/4", &[])).is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn expired_entries_are_evicted_before_live_ones() {
        let c = Cache::new(2, 1 << 20);
        let g = c.generation("t", "store1");
        c.insert(key("t", "/orders/1", &[]), val("1"), TTL, g);
        c.insert(
            key("t", "/orders/2", &[]),
            val("2"),
            Duration::from_secs(1),
            g,
        );
        // Make 1 the least recently used, 2 expired.
        assert!(c.get(&key("t", "/orders/2", &[])).is_some());
        tokio::time::advance(Duration::from_secs(2)).await;
        put(&c, key("t", "/orders/3", &[]), "3");
        assert!(c.get(&key("t", "/orders/1", &[])).is_some());
        assert!(c.get(&key("t", "/orders/3", &[])).is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn bounded_by_bytes() {
        let c = Cache::new(1000, 4000);
        for i in 0..10 {
            put(&c, key("t", &format!("/orders/{i}"), &[]), &"x".repeat(900));
        }
        assert!(c.bytes() <= 4000);
        assert!(c.len() <= 4);
        assert!(c.get(&key("t", "/orders/9", &[])).is_some());
        // Too big for a quarter of the budget: not stored at all.
        put(&c, key("t", "/orders/big", &[]), &"x".repeat(1500));
        assert!(c.get(&key("t", "/orders/big", &[])).is_none());
        assert!(c.get(&key("t", "/orders/9", &[])).is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn replacing_an_entry_keeps_the_accounting_right() {
        let c = cache();
        put(&c, key("t", "/orders", &[]), "aaaa");
        let before = c.bytes();
        put(&c, key("t", "/orders", &[]), "bb");
        assert_eq!(c.len(), 1);
        assert_eq!(c.bytes(), before - 2);
        assert_eq!(c.get(&key("t", "/orders", &[])), Some(val("bb")));
    }
}
