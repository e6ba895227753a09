//! What reading a lockfile or an SBOM gives: the packages it pins, and
//! what could not be read. Shared by [`crate::lockfile`] and [`crate::sbom`].

use std::path::PathBuf;

use crate::version::Ecosystem;

/// A package at a pinned version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pinned {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: String,
    /// The file that pins it.
    pub file: PathBuf,
}

/// A lockfile that could not be read, or an entry that cannot be checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", location.as_ref().map(|l| format!(" ({l})")).unwrap_or_default())]
pub struct LockfileError {
    pub file: String,
    /// A line (`line 12`) or a JSON path (`packages."node_modules/x".version`).
    pub location: Option<String>,
    pub message: String,
}

/// What reading one lockfile or SBOM gives.
#[derive(Debug, Default)]
pub struct Reading {
    /// The packages to check.
    pub pinned: Vec<Pinned>,
    /// Entries that should have been checkable and are not (an unpinned
    /// requirement, an include that cannot be read): each an error.
    pub problems: Vec<LockfileError>,
    /// What the file lists but embargo does not check, by design, named: a
    /// crate from a git repository, a purl type without version rules.
    pub unchecked: Vec<String>,
    /// The project's own packages, not dependencies: the product an SBOM
    /// describes when its version is a placeholder.
    pub local: Vec<String>,
}

/// How to read lockfiles.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    /// Check packages taken from a git repository or a local path by their
    /// version, as if they came from the registry (cargo-audit does not).
    pub check_vcs_by_version: bool,
}
