//! The per-credential request rate limit (a GCRA token bucket per credential key or token
//! subject). Each gateway counts its own requests, so N gateways behind a balancer allow up
//! to N times the rate in all.

use std::num::NonZeroU32;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use super::AuthError;

pub struct RateLimit {
    limiter: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

/// Forget idle keys once this many are tracked (bounds memory under many clients).
const PRUNE_AT: usize = 10_000;

impl RateLimit {
    /// `None` when `per_minute` is 0 (no limit).
    pub fn new(per_minute: u32, burst: Option<u32>) -> Option<Self> {
        let rate = NonZeroU32::new(per_minute)?;
        let burst = burst.and_then(NonZeroU32::new).unwrap_or(rate);
        Some(RateLimit {
            limiter: DefaultKeyedRateLimiter::keyed(Quota::per_minute(rate).allow_burst(burst)),
            clock: DefaultClock::default(),
        })
    }

    /// Counts a request of `key`; `TooManyRequests` with the seconds to wait when over.
    pub fn check(&self, key: &str) -> Result<(), AuthError> {
        if self.limiter.len() >= PRUNE_AT {
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(&key.to_owned())
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(self.clock.now());
                AuthError::TooManyRequests {
                    retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_the_key_waits_and_others_do_not() {
        assert!(RateLimit::new(0, None).is_none());
        let Some(limit) = RateLimit::new(60, Some(3)) else {
            panic!("a limit of 60/min is on")
        };
        for _ in 0..3 {
            assert!(limit.check("a").is_ok());
        }
        match limit.check("a") {
            Err(AuthError::TooManyRequests { retry_after_secs }) => assert_eq!(retry_after_secs, 1),
            other => panic!("expected 429, got {other:?}"),
        }
        assert!(limit.check("b").is_ok());
    }
}
