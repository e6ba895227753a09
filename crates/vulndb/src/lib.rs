//! embargo's vulnerability database and matcher.
//!
//! OSV records are parsed once into an index keyed by ecosystem and
//! normalized package name, with every range bound pre-parsed by the
//! ecosystem's own version rules; a lockfile's packages are then looked up
//! and compared without touching JSON or strings again.

pub mod cvss;
pub mod db;
pub mod lockfile;
pub mod osv;
pub mod pinned;
pub mod purl;
pub mod report;
pub mod sarif;
pub mod sbom;
pub mod scan;
pub mod severity;
pub mod version;
