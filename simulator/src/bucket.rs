//! The per-store leaky bucket behind OrderDesk's rate limit.
//!
//! Time comes from `tokio::time::Instant`, so a test that pauses the tokio clock and
//! calls `tokio::time::advance` sees the bucket refill deterministically.

use tokio::time::Instant;

/// What taking a token from the bucket yielded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    /// The request may proceed; `remaining` whole tokens are left.
    Granted { remaining: u32 },
    /// The bucket is empty; a token will be back in `retry_after_secs` (≥ 1).
    Refused { retry_after_secs: u64 },
}

#[derive(Debug, Clone)]
pub struct Bucket {
    capacity: f64,
    refill_per_sec: f64,
    tokens: f64,
    last_refill: Instant,
}

impl Bucket {
    /// A full bucket.
    pub fn new(capacity: u32, refill_per_sec: f64) -> Self {
        Self {
            capacity: f64::from(capacity),
            refill_per_sec: refill_per_sec.max(0.0),
            tokens: f64::from(capacity),
            last_refill: Instant::now(),
        }
    }

    fn refill(&mut self) {
        let now = Instant::now();
        let elapsed = now
            .saturating_duration_since(self.last_refill)
            .as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.refill_per_sec).min(self.capacity);
        self.last_refill = now;
    }

    /// Take one token for a request.
    pub fn take(&mut self) -> Take {
        self.refill();
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Take::Granted {
                remaining: self.remaining(),
            }
        } else {
            Take::Refused {
                retry_after_secs: self.retry_after_secs(),
            }
        }
    }

    /// Whole tokens left now, without taking one (for responses that cost nothing).
    pub fn peek(&mut self) -> u32 {
        self.refill();
        self.remaining()
    }

    fn remaining(&self) -> u32 {
        // Truncation is the point: a client may spend only whole tokens.
        self.tokens.floor().max(0.0) as u32
    }

    /// Whole seconds until one token is available, at least 1 (the header is an integer,
    /// and "retry after 0 s" would invite a busy loop).
    fn retry_after_secs(&self) -> u64 {
        if self.refill_per_sec <= 0.0 {
            // A bucket that never refills: tell the client to go away for a while.
            return 60;
        }
        let missing = (1.0 - self.tokens).max(0.0);
        ((missing / self.refill_per_sec).ceil() as u64).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn drains_then_refills_with_the_clock() {
        let mut bucket = Bucket::new(3, 2.0);
        assert_eq!(bucket.take(), Take::Granted { remaining: 2 });
        assert_eq!(bucket.take(), Take::Granted { remaining: 1 });
        assert_eq!(bucket.take(), Take::Granted { remaining: 0 });
        assert_eq!(
            bucket.take(),
            Take::Refused {
                retry_after_secs: 1
            }
        );
        tokio::time::advance(Duration::from_millis(500)).await;
        assert_eq!(bucket.take(), Take::Granted { remaining: 0 });
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(bucket.peek(), 3, "refill is capped at capacity");
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_rounds_up_to_whole_seconds() {
        let mut bucket = Bucket::new(1, 0.25);
        assert_eq!(bucket.take(), Take::Granted { remaining: 0 });
        assert_eq!(
            bucket.take(),
            Take::Refused {
                retry_after_secs: 4
            }
        );
    }
}
