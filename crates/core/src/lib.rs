//! embargo's domain, free of I/O: the case and its coordinated-disclosure
//! workflow, the hash-chained event history, encryption at rest and team
//! credentials.
//!
//! Everything here takes the current time as a parameter (`now`), so that the
//! workflow and, later, the policy clocks can be tested to the minute.

pub mod advisory;
pub mod attachment;
pub mod auth;
pub mod calendar;
pub mod case;
pub mod chain;
pub mod clock;
pub mod cra;
pub mod crypto;
pub mod cvss;
pub mod evidence;
pub mod html;
pub mod messages;
pub mod notify;
pub mod openpgp;
pub mod policy;
pub mod portfolio;
pub mod publish;
pub mod reactions;
pub mod reference;
pub mod signing;
pub mod similarity;
pub mod simulate;
pub mod totp;
pub mod zone;

pub use case::{
    Case, CaseState, Command, DomainError, Event, EventKind, NewCase, ReportContent, Reporter,
    Severity,
};
pub use reference::CaseRef;

/// Instants are UTC with millisecond precision everywhere in embargo: the
/// stores keep milliseconds, and a value must read back exactly as written.
pub type Instant = chrono::DateTime<chrono::Utc>;

/// Truncates an instant to whole milliseconds (see [`Instant`]).
#[must_use]
pub fn to_millis(at: Instant) -> Instant {
    let ms = at.timestamp_millis();
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or(at)
}
