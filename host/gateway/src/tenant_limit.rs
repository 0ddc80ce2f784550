//! Per-tenant budget: a token bucket that answers at once instead of waiting.
//!
//! The store pacer protects OrderDesk; this protects the other tenants. One tenant's
//! agent in a loop must not queue hundreds of requests in front of everybody's pacers,
//! so when its budget is spent it is told so immediately, with the time until enough
//! tokens are back, and the model can decide what to do. Writes cost more than reads
//! because they are what an agent gone astray does damage with.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::time::Instant;

/// Forget refilled tenants once the map grows past this.
const PRUNE_ABOVE: usize = 4096;

pub(crate) struct TenantLimiter {
    burst: f64,
    refill_per_sec: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl Bucket {
    fn refill(&mut self, now: Instant, burst: f64, rate: f64) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(burst);
        self.updated = now;
    }
}

impl TenantLimiter {
    pub(crate) fn new(burst: f64, refill_per_min: f64) -> Self {
        TenantLimiter {
            burst,
            refill_per_sec: refill_per_min / 60.0,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes `cost` tokens from the tenant's bucket, or says how many milliseconds
    /// until it could (rounded up, so retrying after exactly that long succeeds).
    pub(crate) fn try_take(&self, tenant_id: &str, cost: f64) -> Result<(), u32> {
        // A cost above the burst could never be paid; charge a full bucket instead.
        let cost = cost.min(self.burst);
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= PRUNE_ABOVE && !buckets.contains_key(tenant_id) {
            let (burst, rate) = (self.burst, self.refill_per_sec);
            buckets.retain(|_, b| {
                b.refill(now, burst, rate);
                b.tokens < burst
            });
        }
        let bucket = buckets.entry(tenant_id.to_string()).or_insert(Bucket {
            tokens: self.burst,
            updated: now,
        });
        bucket.refill(now, self.burst, self.refill_per_sec);
        if bucket.tokens + 1e-9 >= cost {
            bucket.tokens -= cost;
            Ok(())
        } else {
            let secs = (cost - bucket.tokens) / self.refill_per_sec;
            let ms = (secs * 1000.0).ceil();
            Err(if ms >= u32::MAX as f64 {
                u32::MAX
            } else {
                ms as u32
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn burst_then_refused_with_the_right_wait() {
        let l = TenantLimiter::new(240.0, 120.0);
        for _ in 0..240 {
            l.try_take("t", 1.0).unwrap();
        }
        // 120/min = 2/s: one token is 500 ms away.
        assert_eq!(l.try_take("t", 1.0), Err(500));
        // A write needs two: 1 s.
        assert_eq!(l.try_take("t", 2.0), Err(1000));
        tokio::time::advance(Duration::from_millis(500)).await;
        l.try_take("t", 1.0).unwrap();
        assert_eq!(l.try_take("t", 1.0), Err(500));
    }

    #[tokio::test(start_paused = true)]
    async fn writes_cost_two() {
        let l = TenantLimiter::new(240.0, 120.0);
        for _ in 0..120 {
            l.try_take("t", 2.0).unwrap();
        }
        assert_eq!(l.try_take("t", 2.0), Err(1000));
        assert_eq!(l.try_take("t", 1.0), Err(500));
    }

    #[tokio::test(start_paused = true)]
    async fn refill_caps_at_burst() {
        let l = TenantLimiter::new(240.0, 120.0);
        l.try_take("t", 1.0).unwrap();
        tokio::time::advance(Duration::from_secs(3600)).await;
        for _ in 0..240 {
            l.try_take("t", 1.0).unwrap();
        }
        assert!(l.try_take("t", 1.0).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn tenants_have_separate_budgets() {
        let l = TenantLimiter::new(3.0, 60.0);
        for _ in 0..3 {
            l.try_take("a", 1.0).unwrap();
        }
        assert_eq!(l.try_take("a", 1.0), Err(1000));
        l.try_take("b", 1.0).unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn refusal_does_not_spend() {
        let l = TenantLimiter::new(2.0, 60.0);
        l.try_take("t", 1.0).unwrap();
        assert_eq!(l.try_take("t", 2.0), Err(1000));
        // The refused write did not take the remaining token.
        l.try_take("t", 1.0).unwrap();
    }
}
