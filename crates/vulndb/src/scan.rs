//! A scan: the pinned packages of some lockfiles against the database, with
//! ignores (each with a reason and an optional expiry), and the report as a
//! table or JSON.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::db::{Advisory, Database, Severity};
use crate::lockfile::{self, LockfileError, Pinned};

/// An advisory to leave out of a scan's verdict, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ignore {
    pub id: String,
    #[serde(default)]
    pub reason: String,
    /// `YYYY-MM-DD`: from this day on the ignore no longer applies.
    #[serde(default)]
    pub expires: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IgnoreFile {
    #[serde(default)]
    ignore: Vec<Ignore>,
}

/// Reads an ignore file:
///
/// ```toml
/// [[ignore]]
/// id = "RUSTSEC-2020-0071"
/// reason = "we never call the affected function"
/// expires = "2027-01-31"
/// ```
pub fn parse_ignore_file(text: &str) -> Result<Vec<Ignore>, String> {
    let file: IgnoreFile = toml::from_str(text).map_err(|e| e.to_string())?;
    for (i, ig) in file.ignore.iter().enumerate() {
        if ig.id.trim().is_empty() {
            return Err(format!("ignore[{i}].id: must not be empty"));
        }
        if ig.reason.trim().is_empty() {
            return Err(format!("ignore[{i}] ({}): give a reason", ig.id));
        }
        if let Some(d) = &ig.expires
            && !is_date(d)
        {
            return Err(format!(
                "ignore[{i}].expires: `{d}` is not a YYYY-MM-DD date"
            ));
        }
    }
    Ok(file.ignore)
}

fn is_date(d: &str) -> bool {
    let b = d.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// One package version affected by one advisory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub ecosystem: String,
    pub package: String,
    pub version: String,
    pub file: PathBuf,
    pub advisory: Advisory,
    pub fixed: Vec<String>,
}

/// What a scan found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Scan {
    pub files: Vec<PathBuf>,
    pub packages: usize,
    pub vulnerabilities: Vec<Finding>,
    /// Informational advisories (unmaintained, unsound, …).
    pub notices: Vec<Finding>,
    pub ignored: Vec<(Finding, String)>,
    /// What could not be checked, and why: never counted as "not affected".
    pub problems: Vec<String>,
    /// SBOM components outside what embargo can check (no package URL, or
    /// a type whose versions it does not order): listed, not failing.
    pub unchecked: Vec<String>,
    /// Ignores that have expired (and so were not applied).
    pub expired_ignores: Vec<String>,
}

/// Scans the lockfiles under `paths`. `today` (`YYYY-MM-DD`) decides which
/// ignores have expired.
pub fn scan(
    db: &Database,
    paths: &[PathBuf],
    ignores: &[Ignore],
    today: &str,
) -> Result<Scan, LockfileError> {
    let mut out = Scan::default();
    let mut pins: Vec<Pinned> = Vec::new();
    for (file, format) in lockfile::discover(paths)? {
        match lockfile::read_lockfile(&file, format) {
            Ok((found, problems)) => {
                pins.extend(found);
                let list = if format == lockfile::Format::Sbom {
                    &mut out.unchecked
                } else {
                    &mut out.problems
                };
                list.extend(problems.iter().map(ToString::to_string));
            }
            Err(e) => out.problems.push(e.to_string()),
        }
        out.files.push(file);
    }
    pins.sort();
    pins.dedup();
    out.packages = pins.len();
    let active: Vec<&Ignore> = ignores
        .iter()
        .filter(|i| match &i.expires {
            Some(d) if d.as_str() <= today => {
                out.expired_ignores.push(format!("{} (expired {d})", i.id));
                false
            }
            _ => true,
        })
        .collect();
    let queries: Vec<_> = pins
        .iter()
        .map(|p| (p.ecosystem, p.name.as_str(), p.version.as_str()))
        .collect();
    let results = db.matches_all(&queries);
    for (pin, result) in pins.iter().zip(results) {
        let matches = match result {
            Ok(m) => m,
            Err(e) => {
                out.problems
                    .push(format!("{} ({}): {e}", pin.name, pin.file.display()));
                continue;
            }
        };
        for m in matches {
            let finding = Finding {
                ecosystem: pin.ecosystem.to_string(),
                package: pin.name.clone(),
                version: pin.version.clone(),
                file: pin.file.clone(),
                advisory: m.advisory.clone(),
                fixed: m.fixed.to_vec(),
            };
            let ignore = active
                .iter()
                .find(|i| i.id == m.advisory.id || m.advisory.aliases.contains(&i.id));
            if let Some(i) = ignore {
                out.ignored.push((finding, i.reason.clone()));
            } else if m.advisory.informational.is_some() {
                out.notices.push(finding);
            } else {
                out.vulnerabilities.push(finding);
            }
        }
    }
    Ok(out)
}

impl Scan {
    /// Whether a vulnerability at or above `threshold` was found. A
    /// vulnerability of unknown severity counts as meeting any threshold:
    /// not knowing is not a reason to pass.
    #[must_use]
    pub fn fails(&self, threshold: Severity) -> bool {
        self.vulnerabilities
            .iter()
            .any(|f| f.advisory.severity.is_none_or(|s| s >= threshold))
    }

    /// The report as a table, grouped by package.
    #[must_use]
    pub fn table(&self) -> String {
        let mut s = String::new();
        let mut by_package: BTreeMap<(String, String, String), Vec<&Finding>> = BTreeMap::new();
        for f in self.vulnerabilities.iter().chain(&self.notices) {
            by_package
                .entry((
                    f.package.clone(),
                    f.version.clone(),
                    f.file.display().to_string(),
                ))
                .or_default()
                .push(f);
        }
        for ((package, version, file), findings) in &by_package {
            s.push_str(&format!("{package} {version}  ({file})\n"));
            for f in findings {
                let a = &f.advisory;
                let severity = match (a.severity, a.score, &a.informational) {
                    (_, _, Some(kind)) => kind.clone(),
                    (Some(sev), Some(score), _) => format!("{} {score:.1}", sev.as_str()),
                    (Some(sev), None, _) => sev.as_str().to_owned(),
                    (None, _, _) => "unknown".to_owned(),
                };
                let mut marks = String::new();
                if a.known_exploited {
                    marks.push_str("  KEV");
                }
                if let Some(p) = a.epss {
                    marks.push_str(&format!("  EPSS {:.0}%", p * 100.0));
                }
                let fixed = if f.fixed.is_empty() {
                    "no fixed version".to_owned()
                } else {
                    format!("fixed in {}", f.fixed.join(", "))
                };
                s.push_str(&format!(
                    "  {:<20} {:<14} {fixed}{marks}\n      {}\n",
                    a.id,
                    severity,
                    a.summary.chars().take(100).collect::<String>()
                ));
            }
        }
        let count =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        s.push_str(&format!(
            "{} in {} from {}; {}, {}{}.\n",
            count(
                self.vulnerabilities.len(),
                "vulnerability",
                "vulnerabilities"
            ),
            count(self.packages, "package", "packages"),
            count(self.files.len(), "file", "files"),
            count(self.notices.len(), "notice", "notices"),
            count(self.ignored.len(), "ignored", "ignored"),
            if self.problems.is_empty() {
                String::new()
            } else {
                format!(", {}", count(self.problems.len(), "problem", "problems"))
            }
        ));
        for p in &self.problems {
            s.push_str(&format!("problem: {p}\n"));
        }
        for u in &self.unchecked {
            s.push_str(&format!("not checked: {u}\n"));
        }
        for e in &self.expired_ignores {
            s.push_str(&format!("expired ignore, not applied: {e}\n"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_files_need_reasons_and_real_dates() {
        let ok = parse_ignore_file(
            "[[ignore]]\nid = \"RUSTSEC-2020-0071\"\nreason = \"not reachable\"\nexpires = \"2027-01-31\"\n",
        )
        .unwrap();
        assert_eq!(ok[0].expires.as_deref(), Some("2027-01-31"));
        assert!(
            parse_ignore_file("[[ignore]]\nid = \"X\"\n")
                .unwrap_err()
                .contains("reason")
        );
        assert!(
            parse_ignore_file("[[ignore]]\nid = \"X\"\nreason = \"r\"\nexpires = \"soon\"\n")
                .unwrap_err()
                .contains("expires")
        );
        assert!(parse_ignore_file("[[ignore]]\nid = \"X\"\nreason = \"r\"\nwhy = 1\n").is_err());
    }
}
