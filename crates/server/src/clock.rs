//! The clock the server reads: the system's in production, a fixed or
//! hand-moved one in tests (domain code takes `now` from it).

use std::sync::Arc;

use embargo_core::Instant;

/// Where the server reads the time. Only the server and the CLI read the real
/// clock; tests give a fixed or stepping one.
pub type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// The real clock.
#[must_use]
pub fn system_clock() -> Clock {
    #[allow(clippy::disallowed_methods)]
    Arc::new(chrono::Utc::now)
}
