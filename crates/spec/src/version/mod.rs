//! Versions by each ecosystem's own rules.
//!
//! A version is parsed once into the form its ecosystem orders by, so that
//! the matcher compares parsed values, never strings. An ecosystem embargo
//! does not know, or a version its rules reject, is an error for the caller
//! to report: never a silent "not affected".

pub mod apk;
pub mod composer;
pub mod dpkg;
pub mod gem;
pub mod maven;
pub mod nuget;
pub mod pep440;

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

pub use apk::Apk;
pub use composer::Composer;
pub use dpkg::Dpkg;
pub use gem::Gem;
pub use maven::Maven;
pub use nuget::NuGet;
pub use pep440::Pep440;

/// A version that its ecosystem's rules reject.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{ecosystem} version `{version}`: {reason}")]
pub struct VersionError {
    pub ecosystem: String,
    pub version: String,
    pub reason: String,
}

impl VersionError {
    pub(crate) fn new(ecosystem: &str, version: &str, reason: &str) -> Self {
        VersionError {
            ecosystem: ecosystem.to_owned(),
            version: version.chars().take(100).collect(),
            reason: reason.to_owned(),
        }
    }
}

/// The package ecosystems of OSV that embargo orders versions for.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Ecosystem {
    CratesIo,
    Npm,
    Go,
    PyPI,
    Hex,
    Pub,
    Debian,
    Maven,
    NuGet,
    RubyGems,
    Packagist,
    Alpine,
}

impl Ecosystem {
    pub const ALL: [Ecosystem; 12] = [
        Ecosystem::CratesIo,
        Ecosystem::Npm,
        Ecosystem::Go,
        Ecosystem::PyPI,
        Ecosystem::Hex,
        Ecosystem::Pub,
        Ecosystem::Debian,
        Ecosystem::Maven,
        Ecosystem::NuGet,
        Ecosystem::RubyGems,
        Ecosystem::Packagist,
        Ecosystem::Alpine,
    ];

    /// The name OSV uses (the part before any `:` release suffix).
    #[must_use]
    pub fn osv_name(self) -> &'static str {
        match self {
            Ecosystem::CratesIo => "crates.io",
            Ecosystem::Npm => "npm",
            Ecosystem::Go => "Go",
            Ecosystem::PyPI => "PyPI",
            Ecosystem::Hex => "Hex",
            Ecosystem::Pub => "Pub",
            Ecosystem::Debian => "Debian",
            Ecosystem::Maven => "Maven",
            Ecosystem::NuGet => "NuGet",
            Ecosystem::RubyGems => "RubyGems",
            Ecosystem::Packagist => "Packagist",
            Ecosystem::Alpine => "Alpine",
        }
    }

    /// Whether this ecosystem's own versions are SemVer, so that an OSV
    /// `SEMVER` range needs no second parse.
    #[must_use]
    pub fn uses_semver(self) -> bool {
        matches!(
            self,
            Ecosystem::CratesIo | Ecosystem::Npm | Ecosystem::Hex | Ecosystem::Pub | Ecosystem::Go
        )
    }

    /// Parses a version by this ecosystem's rules.
    pub fn parse(self, text: &str) -> Result<Version, VersionError> {
        match self {
            Ecosystem::CratesIo | Ecosystem::Npm | Ecosystem::Hex | Ecosystem::Pub => {
                parse_semver(self.osv_name(), text, false).map(Version::Semver)
            }
            Ecosystem::Go => parse_semver("Go", text, true).map(Version::Semver),
            Ecosystem::PyPI => Pep440::parse(text).map(Version::Pep440),
            Ecosystem::Debian => Dpkg::parse(text).map(Version::Dpkg),
            Ecosystem::Maven => Maven::parse(text).map(Version::Maven),
            Ecosystem::NuGet => NuGet::parse(text).map(Version::NuGet),
            Ecosystem::RubyGems => Gem::parse(text).map(Version::Gem),
            Ecosystem::Packagist => Composer::parse(text).map(Version::Composer),
            Ecosystem::Alpine => Apk::parse(text).map(Version::Apk),
        }
    }

    /// Parses a bound of an OSV `SEMVER` range, whatever the package's
    /// ecosystem (a leading `v` allowed); errors say "SEMVER".
    pub fn parse_semver_range(text: &str) -> Result<Version, VersionError> {
        parse_semver("SEMVER", text, true).map(Version::Semver)
    }

    /// A package name as the ecosystem compares names: PyPI names are
    /// case-insensitive with `-`, `_` and `.` runs equivalent (PEP 503);
    /// npm, Hex, Pub, NuGet and Packagist names are case-insensitive;
    /// others are exact.
    #[must_use]
    pub fn normalize_name(self, name: &str) -> String {
        match self {
            Ecosystem::PyPI => {
                let mut out = String::with_capacity(name.len());
                let mut sep = false;
                for c in name.trim().chars() {
                    if matches!(c, '-' | '_' | '.') {
                        sep = true;
                    } else {
                        if sep && !out.is_empty() {
                            out.push('-');
                        }
                        sep = false;
                        out.push(c.to_ascii_lowercase());
                    }
                }
                out
            }
            Ecosystem::Npm
            | Ecosystem::Hex
            | Ecosystem::Pub
            | Ecosystem::NuGet
            | Ecosystem::Packagist => name.trim().to_ascii_lowercase(),
            _ => name.trim().to_owned(),
        }
    }
}

impl FromStr for Ecosystem {
    type Err = String;

    /// `crates.io`, `Debian:12` (the release is ignored for ordering) and so on.
    fn from_str(s: &str) -> Result<Self, String> {
        let base = s.split(':').next().unwrap_or(s);
        Ecosystem::ALL
            .into_iter()
            .find(|e| e.osv_name() == base)
            .ok_or_else(|| format!("unsupported ecosystem `{s}`"))
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.osv_name())
    }
}

/// SemVer 2.0 (Go's `v` prefix optional where `go` is set). Ordering is by
/// precedence, so build metadata (Go's `+incompatible`) does not count.
fn parse_semver(ecosystem: &str, text: &str, go: bool) -> Result<semver::Version, VersionError> {
    let t = text.trim();
    let t = if go {
        t.strip_prefix('v').unwrap_or(t)
    } else {
        t
    };
    semver::Version::parse(t).map_err(|e| VersionError::new(ecosystem, text, &e.to_string()))
}

/// A parsed version. Versions of different ecosystems never meet: the
/// matcher compares only within one package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Version {
    Semver(semver::Version),
    Pep440(Pep440),
    Dpkg(Dpkg),
    Maven(Maven),
    NuGet(NuGet),
    Gem(Gem),
    Composer(Composer),
    Apk(Apk),
}

impl Version {
    /// The order of two versions of the same ecosystem (`None` across ecosystems).
    #[must_use]
    pub fn compare(&self, other: &Version) -> Option<Ordering> {
        match (self, other) {
            (Version::Semver(a), Version::Semver(b)) => Some(a.cmp_precedence(b)),
            (Version::Pep440(a), Version::Pep440(b)) => Some(a.cmp(b)),
            (Version::Dpkg(a), Version::Dpkg(b)) => Some(a.cmp(b)),
            (Version::Maven(a), Version::Maven(b)) => Some(a.cmp(b)),
            (Version::NuGet(a), Version::NuGet(b)) => Some(a.cmp(b)),
            (Version::Gem(a), Version::Gem(b)) => Some(a.cmp(b)),
            (Version::Composer(a), Version::Composer(b)) => Some(a.cmp(b)),
            (Version::Apk(a), Version::Apk(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semver_orders_by_precedence_and_go_drops_its_prefix() {
        let e = Ecosystem::CratesIo;
        let lt = |a: &str, b: &str| {
            assert_eq!(
                e.parse(a).unwrap().compare(&e.parse(b).unwrap()),
                Some(Ordering::Less),
                "{a} < {b}"
            );
        };
        lt("0.0.0-0", "0.0.0");
        lt("1.0.0-alpha", "1.0.0-alpha.1");
        lt("1.0.0-alpha.beta", "1.0.0-beta");
        lt("1.0.0-beta.2", "1.0.0-beta.11");
        lt("1.0.0-rc.1", "1.0.0");
        let g = Ecosystem::Go;
        let a = g.parse("v2.0.0+incompatible").unwrap();
        let b = g.parse("2.0.0").unwrap();
        assert_eq!(a.compare(&b), Some(Ordering::Equal));
        assert!(
            g.parse("v0.0.0-20210101000000-abcdef123456")
                .unwrap()
                .compare(&g.parse("v0.0.1").unwrap())
                == Some(Ordering::Less),
            "pseudo-versions are pre-releases of the next patch"
        );
        assert!(e.parse("v1.0.0").is_err(), "crates.io takes no prefix");
        assert!(e.parse("1.0").is_err());
    }

    #[test]
    fn ecosystems_and_names() {
        assert_eq!("Debian:12".parse::<Ecosystem>(), Ok(Ecosystem::Debian));
        assert!(
            "Conan"
                .parse::<Ecosystem>()
                .unwrap_err()
                .contains("unsupported ecosystem")
        );
        assert_eq!(
            Ecosystem::PyPI.normalize_name("Foo__Bar.baz"),
            "foo-bar-baz"
        );
        assert_eq!(Ecosystem::Npm.normalize_name("@Scope/Pkg"), "@scope/pkg");
        assert_eq!(
            Ecosystem::CratesIo.normalize_name("serde_json"),
            "serde_json"
        );
    }
}
