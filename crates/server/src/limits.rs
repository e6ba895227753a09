//! Sliding-window rate limits for public intake (noise control): per client
//! address and per reporter contact, in memory on each server.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use axum::http::StatusCode;
use embargo_core::Instant;

use crate::error::ApiError;

/// At most `max` hits per key in any `window_seconds`.
#[derive(Debug)]
pub struct RateLimiter {
    max: usize,
    window_seconds: i64,
    hits: Mutex<HashMap<String, VecDeque<Instant>>>,
}

/// Bounds the memory a flood of distinct keys can take.
const MAX_KEYS: usize = 50_000;

impl RateLimiter {
    #[must_use]
    pub fn new(max: u32, window_seconds: i64) -> Self {
        RateLimiter {
            max: max as usize,
            window_seconds,
            hits: Mutex::default(),
        }
    }

    /// Records a hit for `key` at `now`, or refuses it with 429 and how long to wait.
    pub fn hit(&self, key: &str, now: Instant, what: &str) -> Result<(), ApiError> {
        let mut map = self
            .hits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= MAX_KEYS && !map.contains_key(key) {
            let window = self.window_seconds;
            map.retain(|_, q| q.back().is_some_and(|t| (now - *t).num_seconds() < window));
        }
        let queue = map.entry(key.to_owned()).or_default();
        while queue
            .front()
            .is_some_and(|t| (now - *t).num_seconds() >= self.window_seconds)
        {
            queue.pop_front();
        }
        if queue.len() >= self.max {
            let oldest = queue.front().copied().unwrap_or(now);
            let wait = (self.window_seconds - (now - oldest).num_seconds()).max(1);
            let mut err = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                format!("too many reports from this {what}; try again in {wait} seconds"),
            );
            err.retry_after = u64::try_from(wait).ok();
            return Err(err);
        }
        queue.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeDelta, TimeZone};

    #[test]
    fn refuses_past_the_limit_until_the_window_slides() {
        let t0 = chrono::Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default();
        let limiter = RateLimiter::new(2, 3600);
        assert!(limiter.hit("a", t0, "address").is_ok());
        assert!(
            limiter
                .hit("a", t0 + TimeDelta::minutes(10), "address")
                .is_ok()
        );
        let err = limiter
            .hit("a", t0 + TimeDelta::minutes(20), "address")
            .unwrap_err();
        assert_eq!(
            (err.status, err.retry_after),
            (StatusCode::TOO_MANY_REQUESTS, Some(2400))
        );
        assert!(
            limiter.hit("b", t0, "address").is_ok(),
            "other keys are separate"
        );
        assert!(
            limiter
                .hit("a", t0 + TimeDelta::minutes(61), "address")
                .is_ok(),
            "the first hit left the window"
        );
    }
}

/// Slows password guessing without letting a stranger lock anyone out.
///
/// Failures are counted per source address and per account from that
/// address (in the database, so every instance sees the same count). After
/// [`FREE_FAILURES_PER_ACCOUNT`] failures for one account from one address,
/// or [`FREE_FAILURES_PER_ADDRESS`] from one address for any accounts, each
/// further attempt from there waits longer (doubling from
/// [`FIRST_DELAY_SECONDS`] up to a cap). The account itself is never locked:
/// its member, signing in from their own address, is not slowed by failures
/// elsewhere. A success from an address clears that account's count there.
pub(crate) mod login_throttle {
    use axum::http::StatusCode;
    use chrono::TimeDelta;
    use embargo_core::Instant;
    use embargo_store::RecentFailures;

    use crate::error::ApiError;

    /// How far back failures count.
    pub(crate) const WINDOW: TimeDelta = TimeDelta::hours(1);
    /// How long attempts are kept for admins to read.
    pub(crate) const RETENTION: TimeDelta = TimeDelta::days(30);
    pub(crate) const FREE_FAILURES_PER_ACCOUNT: i64 = 5;
    pub(crate) const FREE_FAILURES_PER_ADDRESS: i64 = 20;
    pub(crate) const FIRST_DELAY_SECONDS: i64 = 15;
    const MAX_ACCOUNT_DELAY_SECONDS: i64 = 15 * 60;
    const MAX_ADDRESS_DELAY_SECONDS: i64 = 60 * 60;

    /// The wait after `failures` when `free` were allowed: none within the
    /// free ones, then 15 s, 30 s, 60 s, … up to `cap`.
    fn delay(failures: i64, free: i64, cap: i64) -> Option<TimeDelta> {
        let over = failures.checked_sub(free).filter(|over| *over >= 0)?;
        let exponent = u32::try_from(over).unwrap_or(u32::MAX).min(20);
        Some(TimeDelta::seconds(
            FIRST_DELAY_SECONDS.saturating_mul(1 << exponent).min(cap),
        ))
    }

    /// When the next attempt may be made, if it must wait.
    #[must_use]
    pub(crate) fn next_attempt_at(f: &RecentFailures) -> Option<Instant> {
        let account = f.last_for_account.and_then(|last| {
            delay(
                f.for_account,
                FREE_FAILURES_PER_ACCOUNT,
                MAX_ACCOUNT_DELAY_SECONDS,
            )
            .map(|d| last + d)
        });
        let address = f.last_from_address.and_then(|last| {
            delay(
                f.from_address,
                FREE_FAILURES_PER_ADDRESS,
                MAX_ADDRESS_DELAY_SECONDS,
            )
            .map(|d| last + d)
        });
        account.max(address)
    }

    /// `Err` (429 with `Retry-After`) while the attempt must wait.
    pub(crate) fn check(f: &RecentFailures, now: Instant) -> Result<(), ApiError> {
        match next_attempt_at(f) {
            Some(at) if at > now => {
                let wait = (at - now).num_seconds().max(1);
                let mut err = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_requests",
                    format!(
                        "too many failed sign-ins from your address; try again in {wait} seconds"
                    ),
                );
                err.retry_after = Some(u64::try_from(wait).unwrap_or(1));
                Err(err)
            }
            _ => Ok(()),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn t(s: i64) -> Instant {
            chrono::DateTime::from_timestamp(1_790_000_000 + s, 0).unwrap()
        }

        #[test]
        fn delays_start_after_the_free_failures_and_double_to_a_cap() {
            let mut f = RecentFailures {
                for_account: 4,
                last_for_account: Some(t(0)),
                ..RecentFailures::default()
            };
            assert_eq!(next_attempt_at(&f), None, "four failures are free");
            f.for_account = 5;
            assert_eq!(next_attempt_at(&f), Some(t(15)));
            assert!(check(&f, t(14)).is_err());
            assert!(check(&f, t(15)).is_ok());
            f.for_account = 7;
            assert_eq!(next_attempt_at(&f), Some(t(60)));
            f.for_account = 500;
            assert_eq!(next_attempt_at(&f), Some(t(15 * 60)), "capped");
            let err = check(&f, t(0)).unwrap_err();
            assert_eq!(err.status, StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(err.retry_after, Some(900));
        }

        #[test]
        fn the_address_limit_is_looser_and_the_later_wait_wins() {
            let f = RecentFailures {
                from_address: 19,
                last_from_address: Some(t(0)),
                for_account: 0,
                last_for_account: None,
            };
            assert_eq!(next_attempt_at(&f), None);
            let f = RecentFailures {
                from_address: 22,
                last_from_address: Some(t(10)),
                for_account: 5,
                last_for_account: Some(t(0)),
            };
            assert_eq!(next_attempt_at(&f), Some(t(10 + 60)));
        }
    }
}
