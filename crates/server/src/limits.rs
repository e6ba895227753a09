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

/// Slows down password guessing: after `MAX_FAILURES` failed logins for one
/// username within the window, further attempts get 429 until it passes.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

const MAX_FAILURES: usize = 5;
const WINDOW_SECONDS: i64 = 15 * 60;
/// Bounds the memory an attacker can make the throttle use.
const MAX_TRACKED: usize = 10_000;

impl LoginThrottle {
    /// `Err` with the seconds to wait when `username` is locked out.
    pub fn check(&self, username: &str, now: Instant) -> Result<(), ApiError> {
        let mut map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(list) = map.get_mut(username) else {
            return Ok(());
        };
        list.retain(|t| (now - *t).num_seconds() < WINDOW_SECONDS);
        if list.len() >= MAX_FAILURES {
            let oldest = list.iter().min().copied().unwrap_or(now);
            let wait = WINDOW_SECONDS - (now - oldest).num_seconds();
            let mut err = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                format!("too many failed logins for this user; try again in {wait} seconds"),
            );
            err.retry_after = Some(u64::try_from(wait.max(1)).unwrap_or(1));
            return Err(err);
        }
        Ok(())
    }

    pub fn failed(&self, username: &str, now: Instant) {
        let mut map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= MAX_TRACKED && !map.contains_key(username) {
            map.retain(|_, list| {
                list.iter()
                    .any(|t| (now - *t).num_seconds() < WINDOW_SECONDS)
            });
            if map.len() >= MAX_TRACKED {
                return;
            }
        }
        map.entry(username.to_owned()).or_default().push(now);
    }

    pub fn succeeded(&self, username: &str) {
        let mut map = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.remove(username);
    }
}
