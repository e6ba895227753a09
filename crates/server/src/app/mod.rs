//! The application layer: one use case per thing a person or a job does,
//! each with its own input and output types. A use case checks the policy,
//! writes through the store, and says what happened; the adapters — the JSON
//! API (`api/`), the team's desk (`desk/`), the public pages (`pages/`), the
//! mailbox and the CLI — only translate to and from it, so a rule holds on
//! every path or on none.
//!
//! Use cases moved here so far: [`intake`] (submitting a report, from any
//! channel) and [`severity`] (scoring a vector in the policy's levels).

pub mod accounts;
pub mod advisories;
pub mod cases;
pub mod findings;
pub mod intake;
pub mod notices;
pub mod portfolio;
pub mod record;
pub mod reporter;
pub mod severity;
