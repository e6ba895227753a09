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
