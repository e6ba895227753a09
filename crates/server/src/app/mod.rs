//! The application layer: one use case per thing a person or a job does,
//! each with its own input and output types. A use case checks the caller
//! and the policy, writes through a unit of work of the store
//! (`store.begin()`, then each aggregate's repository), lets [`record`]
//! carry out what the domain says follows from the events, commits, and says
//! what happened. The adapters — the JSON API (`api/`), the team's desk
//! (`desk/`), the public pages (`pages/`), the mailbox, the jobs and the CLI
//! — only translate to and from it, so a rule holds on every path or on none.
//!
//! - [`intake`]: submitting a report, from any channel;
//! - [`cases`]: moving a case, attaching files, what helps a triager;
//! - [`reporter`]: the reporter's messages, files and credit;
//! - [`severity`]: scoring a vector in the policy's levels;
//! - [`advisories`]: drafting and publishing, the published view;
//! - [`notices`]: telling impacted customers, webhook subscriptions;
//! - [`portfolio`] and [`findings`]: SBOM and SARIF uploads, re-matching,
//!   rules, analyses, escalating findings to a case;
//! - [`accounts`]: signing in, passwords, API tokens, members;
//! - [`record`]: recording events and carrying out their reactions;
//! - [`summaries`]: what the queue sorts and counts by, kept with each case.

pub mod accounts;
pub mod advisories;
pub mod cases;
pub mod cra;
pub mod evidence;
pub mod findings;
pub mod intake;
pub mod notices;
pub mod portfolio;
pub mod record;
pub mod reporter;
pub mod setup;
pub mod severity;
pub mod summaries;

/// An instant as the desk and the setup checklist show it:
/// `2026-03-06 17:00 UTC`.
pub(crate) fn when(t: embargo_core::Instant) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}
