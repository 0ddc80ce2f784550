//! Per-store pacing: a local model of OrderDesk's leaky bucket.
//!
//! OrderDesk gives each store a bucket of 20 requests refilled at 3 per second and
//! answers 429 when it is empty. Rather than firing and being told off, we keep our own
//! copy of the bucket and make each request wait until the model says a token is there,
//! so a burst of concurrent reads never meets a 429 in the first place.
//!
//! The bucket is per *store*, not per tenant: OrderDesk counts a store's requests no
//! matter which of our tenants sends them.
//!
//! The model is checked against `X-Tokens-Remaining` on every response and corrected
//! only downwards, and only when the answer proves it too high: responses arrive out of
//! order, so a late answer that reports a full bucket describes the past and would make
//! us overshoot, and an answer that may already count our later requests must not make
//! us pay for them twice. Corrections catch the cases that matter — another client
//! spending the same store's tokens, a bucket left empty by a previous run of the host,
//! a server slower than configured.
//!
//! Two effects of latency are allowed for. OrderDesk's bucket starts refilling when a
//! request *reaches* it, ours when the request leaves: the first request of a burst
//! often opens a connection and arrives late, so when its answer comes back the model
//! takes back the refill it credited in between. And requests do not all take the same
//! time on the way: one that is a little faster than the one before would reach an
//! exactly paced bucket a little early, so a request leaves only when the model holds
//! one token plus [`LATENCY_ALLOWANCE`] worth of refill (a constant delay of that much
//! per burst, not per request).
//!
//! Waiters queue on a fair (FIFO) `tokio::sync::Mutex`, so requests leave in the order
//! they arrived; the bucket arithmetic sits behind a short `std::sync::Mutex` so that
//! response observations never wait behind a sleeping request.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// Float slack so that sleeping exactly the computed wait is enough despite rounding.
const EPSILON: f64 = 1e-9;

/// OrderDesk reports whole tokens (rounded down): a bucket holding 4.9 says 4.
const ROUNDING_SLACK: f64 = 1.0;

/// How much earlier than the one before it a request may reach OrderDesk (latency
/// jitter) without finding the bucket empty.
pub(crate) const LATENCY_ALLOWANCE: Duration = Duration::from_millis(50);

/// Forget idle stores once the map grows past this (an idle, refilled bucket carries no
/// information: a fresh one is identical).
const PRUNE_ABOVE: usize = 1024;

/// The per-store pacers of one gateway.
pub(crate) struct Pacer {
    capacity: f64,
    refill_per_sec: f64,
    /// Tokens a request leaves behind in the model: [`LATENCY_ALLOWANCE`] of refill.
    margin: f64,
    stores: Mutex<HashMap<String, Arc<StoreBucket>>>,
}

struct StoreBucket {
    /// Held for the whole wait: whoever holds it is the next request to leave.
    turnstile: tokio::sync::Mutex<()>,
    /// Requests waiting for the turnstile or holding it: what a newcomer queues behind.
    queued: AtomicUsize,
    state: Mutex<BucketState>,
}

struct BucketState {
    /// May go negative after a 429 or a correction: the debt is paid by refill.
    tokens: f64,
    updated: Instant,
    next_seq: u64,
    /// Sequence numbers of requests sent and not yet answered.
    in_flight: BTreeSet<u64>,
    /// The request that left a full bucket (OrderDesk starts refilling when it gets
    /// there) and when it left.
    refill_anchor: Option<(u64, Instant)>,
}

/// One request's claim on a store's bucket. Report what the response said with
/// [`Pacer::observe`]; dropping it without doing so just ends its in-flight status.
pub(crate) struct Ticket {
    bucket: Arc<StoreBucket>,
    seq: u64,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut s = lock(&self.bucket.state);
        s.in_flight.remove(&self.seq);
    }
}

/// Counts a request out of its store's queue however its wait ends.
struct Queued<'a>(&'a AtomicUsize);

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave the arithmetic half-updated in a way
    // that matters more than refusing all further requests would.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl BucketState {
    fn refill(&mut self, now: Instant, capacity: f64, rate: f64) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(capacity);
        self.updated = now;
    }
}

impl Pacer {
    pub(crate) fn new(capacity: f64, refill_per_sec: f64) -> Self {
        Self::with_allowance(capacity, refill_per_sec, LATENCY_ALLOWANCE)
    }

    /// A pacer that keeps `allowance` worth of refill in hand (see the module docs).
    pub(crate) fn with_allowance(capacity: f64, refill_per_sec: f64, allowance: Duration) -> Self {
        // Never ask for more than the bucket can hold.
        let margin = (allowance.as_secs_f64() * refill_per_sec)
            .min(capacity - 1.0)
            .max(0.0);
        Pacer {
            capacity,
            refill_per_sec,
            margin,
            stores: Mutex::new(HashMap::new()),
        }
    }

    fn bucket(&self, store_id: &str) -> Arc<StoreBucket> {
        let mut stores = lock(&self.stores);
        if let Some(b) = stores.get(store_id) {
            return b.clone();
        }
        if stores.len() >= PRUNE_ABOVE {
            let now = Instant::now();
            let (cap, rate) = (self.capacity, self.refill_per_sec);
            stores.retain(|_, b| {
                // Only we hold it, and it has refilled: dropping it loses nothing.
                Arc::strong_count(b) > 1 || {
                    let mut s = lock(&b.state);
                    s.refill(now, cap, rate);
                    s.tokens < cap - EPSILON
                }
            });
        }
        let b = Arc::new(StoreBucket {
            turnstile: tokio::sync::Mutex::new(()),
            queued: AtomicUsize::new(0),
            state: Mutex::new(BucketState {
                tokens: self.capacity,
                updated: Instant::now(),
                next_seq: 0,
                in_flight: BTreeSet::new(),
                refill_anchor: None,
            }),
        });
        stores.insert(store_id.to_string(), b.clone());
        b
    }

    /// Waits (FIFO) until the store's bucket has a token, takes it and returns the
    /// request's ticket. Cancel-safe: dropping the future gives up the place in line.
    #[cfg(test)]
    pub(crate) async fn acquire(&self, store_id: &str) -> Ticket {
        match self.acquire_before(store_id, None).await {
            Ok(ticket) => ticket,
            Err(_) => unreachable!("without a latest time the wait is never refused"),
        }
    }

    /// Like `acquire`, but refuses at once (with the estimated wait) instead of waiting
    /// for a token that would come after `latest`: a request that could not leave in
    /// time is better answered "rate limited, retry in N ms" than held until its
    /// caller gives up. The estimate counts the refill the bucket lacks and the
    /// requests queued ahead.
    pub(crate) async fn acquire_before(
        &self,
        store_id: &str,
        latest: Option<Instant>,
    ) -> Result<Ticket, Duration> {
        let bucket = self.bucket(store_id);
        let ahead = bucket.queued.fetch_add(1, Ordering::SeqCst);
        let _queued = Queued(&bucket.queued);
        if let Some(latest) = latest {
            let estimate = self.estimated_wait(&bucket, ahead);
            if Instant::now() + estimate > latest {
                return Err(estimate);
            }
        }
        let _turn = match latest {
            None => bucket.turnstile.lock().await,
            Some(latest) => match tokio::time::timeout_at(latest, bucket.turnstile.lock()).await {
                Ok(turn) => turn,
                Err(_) => {
                    let ahead = bucket.queued.load(Ordering::SeqCst).saturating_sub(1);
                    return Err(self.estimated_wait(&bucket, ahead));
                }
            },
        };
        loop {
            let wait = {
                let mut s = lock(&bucket.state);
                let now = Instant::now();
                s.refill(now, self.capacity, self.refill_per_sec);
                let needed = 1.0 + self.margin;
                if s.tokens >= needed - EPSILON {
                    let seq = s.next_seq;
                    if s.tokens >= self.capacity - EPSILON {
                        s.refill_anchor = Some((seq, now));
                    }
                    s.tokens -= 1.0;
                    s.next_seq += 1;
                    s.in_flight.insert(seq);
                    drop(s);
                    return Ok(Ticket {
                        bucket: bucket.clone(),
                        seq,
                    });
                }
                Duration::from_secs_f64((needed - s.tokens) / self.refill_per_sec)
            };
            if let Some(latest) = latest
                && Instant::now() + wait > latest
            {
                return Err(wait);
            }
            // Loop rather than take the token blindly: an observation may have lowered
            // the bucket while we slept.
            tokio::time::sleep(wait).await;
        }
    }

    /// How long a request queued behind `ahead` others would wait for its token.
    fn estimated_wait(&self, bucket: &StoreBucket, ahead: usize) -> Duration {
        let mut s = lock(&bucket.state);
        s.refill(Instant::now(), self.capacity, self.refill_per_sec);
        let short = ahead as f64 + 1.0 + self.margin - s.tokens;
        Duration::from_secs_f64((short / self.refill_per_sec).max(0.0))
    }

    /// Feeds back what a response said. `remaining` is `X-Tokens-Remaining`;
    /// `retry_after` is `X-Retry-After` on a 429 (the store is empty until then).
    pub(crate) fn observe(
        &self,
        ticket: Ticket,
        remaining: Option<f64>,
        retry_after: Option<Duration>,
    ) {
        let mut s = lock(&ticket.bucket.state);
        let now = Instant::now();
        s.refill(now, self.capacity, self.refill_per_sec);
        if let Some((seq, left_at)) = s.refill_anchor
            && seq == ticket.seq
        {
            // OrderDesk began refilling when this request reached it, at the latest
            // now: take back the refill the model credited while it was on its way.
            let credited =
                now.saturating_duration_since(left_at).as_secs_f64() * self.refill_per_sec;
            s.tokens = (s.tokens - credited).max(-self.capacity);
            s.refill_anchor = None;
        }
        if let Some(remaining) = remaining {
            // Concurrent requests reach OrderDesk in any order, so `remaining` may or
            // may not count the requests we sent after this one: the bucket holds
            // between `remaining - later` and `remaining` (+1, as OrderDesk rounds
            // down). A model inside that range agrees with the answer; correcting it to
            // the low end would count already-counted requests twice and slow every
            // burst down. A model above the range is proof that someone else spends
            // the store's tokens (or the bucket refills slower): then take the low end.
            let later = s.in_flight.range(ticket.seq + 1..).count() as f64;
            if s.tokens > remaining + ROUNDING_SLACK {
                s.tokens = (remaining - later).min(s.tokens).max(-self.capacity);
            }
        }
        if let Some(retry_after) = retry_after {
            // The next token must not appear before `retry_after` has passed. (The
            // caller clamps it: a store asking for a day must not hold every later
            // request for a day.)
            let floor = 1.0 - retry_after.as_secs_f64() * self.refill_per_sec;
            if floor < s.tokens {
                s.tokens = floor;
            }
        }
        // `ticket` drops here, ending its in-flight status.
    }

    #[cfg(test)]
    fn tokens(&self, store_id: &str) -> f64 {
        let b = self.bucket(store_id);
        let mut s = lock(&b.state);
        s.refill(Instant::now(), self.capacity, self.refill_per_sec);
        s.tokens
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Acquires `n` tickets concurrently and returns when each was granted, in
    /// milliseconds from the start, sorted.
    async fn grant_times(pacer: Arc<Pacer>, store: &str, n: usize) -> Vec<u128> {
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..n {
            let pacer = pacer.clone();
            let store = store.to_string();
            tasks.push(tokio::spawn(async move {
                let t = pacer.acquire(&store).await;
                let at = start.elapsed().as_millis();
                drop(t);
                at
            }));
        }
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out.sort_unstable();
        out
    }

    /// A pacer without the latency allowance, for the exact bucket arithmetic.
    fn exact(capacity: f64, refill_per_sec: f64) -> Pacer {
        Pacer::with_allowance(capacity, refill_per_sec, Duration::ZERO)
    }

    #[tokio::test(start_paused = true)]
    async fn twenty_immediate_then_three_per_second() {
        let pacer = Arc::new(exact(20.0, 3.0));
        let times = grant_times(pacer, "1", 26).await;
        assert!(times[..20].iter().all(|&t| t == 0), "{times:?}");
        // Then one every 1/3 s.
        let expected = [333, 667, 1000, 1333, 1667, 2000];
        for (got, want) in times[20..].iter().zip(expected) {
            assert!(got.abs_diff(want) <= 1, "{times:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn sixty_reads_take_the_ideal_time() {
        let pacer = Arc::new(exact(20.0, 3.0));
        let times = grant_times(pacer, "1", 60).await;
        // (60 - 20) / 3 s = 13.33 s for the last one.
        assert!(times[59].abs_diff(13_333) <= 1, "{:?}", times[59]);
    }

    #[tokio::test(start_paused = true)]
    async fn the_latency_allowance_delays_a_burst_once_not_every_request() {
        let pacer = Arc::new(Pacer::new(20.0, 3.0));
        let times = grant_times(pacer, "1", 60).await;
        let allowance = LATENCY_ALLOWANCE.as_millis();
        // The 20th waits for the allowance; from then on one every 1/3 s as before.
        assert!(times[..19].iter().all(|&t| t == 0), "{times:?}");
        assert!(times[19].abs_diff(allowance) <= 1, "{times:?}");
        assert!(
            times[59].abs_diff(13_333 + allowance) <= 1,
            "{:?}",
            times[59]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_first_answer_of_a_burst_moves_the_refill_to_when_it_arrived() {
        let pacer = exact(20.0, 3.0);
        let first = pacer.acquire("s").await;
        // Its connection took 300 ms to open: OrderDesk started refilling that late.
        tokio::time::advance(Duration::from_millis(300)).await;
        assert!((pacer.tokens("s") - 19.9).abs() < 1e-6);
        pacer.observe(first, Some(19.0), None);
        assert!((pacer.tokens("s") - 19.0).abs() < 1e-6);
    }

    #[tokio::test(start_paused = true)]
    async fn stores_are_paced_independently() {
        let pacer = Arc::new(exact(2.0, 1.0));
        let a = grant_times(pacer.clone(), "a", 2).await;
        let b = grant_times(pacer.clone(), "b", 2).await;
        assert_eq!(a, vec![0, 0]);
        assert_eq!(b, vec![0, 0]);
    }

    #[tokio::test(start_paused = true)]
    async fn waiters_leave_in_arrival_order() {
        let pacer = Arc::new(exact(1.0, 10.0));
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..10 {
            let pacer = pacer.clone();
            let order = order.clone();
            tasks.push(tokio::spawn(async move {
                let _t = pacer.acquire("s").await;
                order.lock().unwrap().push(i);
            }));
            // Make the arrival order deterministic.
            tokio::task::yield_now().await;
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), (0..10).collect::<Vec<_>>());
    }

    #[tokio::test(start_paused = true)]
    async fn refill_is_capped_at_capacity() {
        let pacer = exact(20.0, 3.0);
        drop(pacer.acquire("s").await);
        tokio::time::advance(Duration::from_secs(60)).await;
        assert!((pacer.tokens("s") - 20.0).abs() < 1e-6);
    }

    #[tokio::test(start_paused = true)]
    async fn observation_corrects_downwards_only() {
        let pacer = exact(20.0, 3.0);
        let t = pacer.acquire("s").await;
        // Another client spent the store's tokens: OrderDesk says 4 are left.
        pacer.observe(t, Some(4.0), None);
        assert!((pacer.tokens("s") - 4.0).abs() < 1e-6);
        // A late response that says the bucket is fuller does not raise the model.
        let t = pacer.acquire("s").await;
        pacer.observe(t, Some(19.0), None);
        assert!((pacer.tokens("s") - 3.0).abs() < 1e-6);
    }

    #[tokio::test(start_paused = true)]
    async fn observation_counts_requests_sent_later_as_still_to_be_paid() {
        let pacer = exact(20.0, 3.0);
        let first = pacer.acquire("s").await;
        let _second = pacer.acquire("s").await;
        let _third = pacer.acquire("s").await;
        // Local model: 17. OrderDesk counted only `first` and says 10 remain; the two
        // sent after it will still cost a token each.
        pacer.observe(first, Some(10.0), None);
        assert!((pacer.tokens("s") - 8.0).abs() < 1e-6);
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_that_already_counts_later_requests_changes_nothing() {
        let pacer = exact(20.0, 3.0);
        let first = pacer.acquire("s").await;
        let _second = pacer.acquire("s").await;
        let _third = pacer.acquire("s").await;
        // `second` and `third` overtook `first` on the way: OrderDesk counted all three
        // before answering `first` with 17, which is what the model holds. Subtracting
        // the two in flight again would put the model two tokens in debt.
        pacer.observe(first, Some(17.0), None);
        assert!((pacer.tokens("s") - 17.0).abs() < 1e-6);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_blocks_the_store_until_it_passes() {
        let pacer = Arc::new(exact(20.0, 3.0));
        let t = pacer.acquire("s").await;
        pacer.observe(t, Some(0.0), Some(Duration::from_secs(2)));
        let times = grant_times(pacer, "s", 1).await;
        assert!(times[0].abs_diff(2000) <= 1, "{times:?}");
    }
}
