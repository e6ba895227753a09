//! embargo's vulnerability database and matcher.
//!
//! OSV records are parsed once into an index keyed by ecosystem and
//! normalized package name, with every range bound pre-parsed by the
//! ecosystem's own version rules; a lockfile's packages are then looked up
//! and compared without touching JSON or strings again.

pub mod db;
pub mod lockfile;
pub mod osv;
pub mod pinned;
pub mod report;
pub mod sarif;
pub mod sbom;
pub mod scan;

// The specifications the matcher follows live in their own leaf crate;
// their paths stay available here.
pub use embargo_spec::{cvss, purl, severity, version};
