//! What the ecosystem's specifications define, and nothing of embargo's own:
//! package URLs ([`purl`]), each ecosystem's version ordering ([`version`]),
//! CVSS scores ([`cvss`]) and severity levels ([`severity`]). Pure functions
//! over strings, no I/O; both the domain (`embargo-core`) and the scanner
//! (`embargo-vulndb`) build on them.

pub mod cvss;
pub mod purl;
pub mod severity;
pub mod version;
