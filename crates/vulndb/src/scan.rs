//! A scan: the pinned packages of some lockfiles against the database, with
//! ignores (each with a reason and an optional expiry), and the report as a
//! table or JSON.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::db::{Advisory, Database, Severity};
use crate::lockfile::{self, LockfileError, Pinned, ReadOptions, Skipped};

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
    /// What could not be checked for a fault in the input (a malformed
    /// file, an unpinned requirement, a version its ecosystem's rules
    /// reject): never counted as "not affected".
    pub problems: Vec<String>,
    /// What the inputs list but embargo does not check, named: components
    /// without a package URL or of a type without version rules, crates from
    /// a git repository.
    pub unchecked: Vec<String>,
    /// The project's own packages, not checked as dependencies.
    pub local: Vec<String>,
    /// What a directory search passed over, and why.
    pub skipped: Vec<Skipped>,
    /// Ecosystems of the packages read for which the database holds no
    /// advisory: their packages were looked up against nothing.
    pub uncovered: Vec<String>,
    /// Ignores that have expired (and so were not applied).
    pub expired_ignores: Vec<String>,
}

/// A scan's verdict, and `embargo scan`'s exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every package read was checked; nothing at or above the threshold.
    Clean,
    /// A vulnerability at or above the threshold (or of unknown severity).
    Found,
    /// Something could not be checked for a fault in the input.
    Error,
    /// Nothing at or above the threshold among what was checked, but not
    /// everything was: see [`Scan::incomplete`].
    Incomplete,
}

/// Scans the lockfiles under `paths`. `today` (`YYYY-MM-DD`) decides which
/// ignores have expired.
pub fn scan(
    db: &Database,
    paths: &[PathBuf],
    ignores: &[Ignore],
    today: &str,
    options: ReadOptions,
) -> Result<Scan, LockfileError> {
    let mut out = Scan::default();
    let mut pins: Vec<Pinned> = Vec::new();
    let discovery = lockfile::discover(paths)?;
    out.skipped = discovery.skipped;
    for (file, format) in discovery.found {
        match lockfile::read_lockfile(&file, format, options) {
            Ok(reading) => {
                pins.extend(reading.pinned);
                out.problems
                    .extend(reading.problems.iter().map(ToString::to_string));
                out.unchecked.extend(reading.unchecked);
                out.local.extend(reading.local);
            }
            Err(e) => out.problems.push(e.to_string()),
        }
        out.files.push(file);
    }
    pins.sort();
    pins.dedup();
    out.packages = pins.len();
    let covered = db.ecosystems();
    let mut uncovered: BTreeMap<&str, usize> = BTreeMap::new();
    for pin in &pins {
        if !covered.contains(&pin.ecosystem) {
            *uncovered.entry(pin.ecosystem.osv_name()).or_default() += 1;
        }
    }
    out.uncovered = uncovered
        .into_iter()
        .map(|(e, n)| {
            format!(
                "{n} {e} package{} read, and the database holds no {e} advisory (`embargo db sync --ecosystem {e}`)",
                if n == 1 { "" } else { "s" }
            )
        })
        .collect();
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
    /// Why the scan is incomplete, one line each; empty when it is not.
    #[must_use]
    pub fn incomplete(&self) -> Vec<String> {
        let mut why = Vec::new();
        if self.packages == 0 {
            why.push(if self.files.is_empty() {
                "no lockfile or SBOM was found: nothing was checked".to_owned()
            } else {
                "the files read pin no package: nothing was checked".to_owned()
            });
        }
        why.extend(self.uncovered.iter().cloned());
        why.extend(self.unchecked.iter().cloned());
        why.extend(
            self.skipped
                .iter()
                .filter(|s| s.incomplete)
                .map(|s| format!("{} skipped: {}", s.path.display(), s.reason)),
        );
        why
    }

    /// The verdict: problems first (an input at fault), then findings at or
    /// above `threshold`, then anything left unchecked.
    #[must_use]
    pub fn outcome(&self, threshold: Severity) -> Outcome {
        if !self.problems.is_empty() {
            Outcome::Error
        } else if self.fails(threshold) {
            Outcome::Found
        } else if !self.incomplete().is_empty() {
            Outcome::Incomplete
        } else {
            Outcome::Clean
        }
    }

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
        for l in &self.local {
            s.push_str(&format!("not checked (the project's own): {l}\n"));
        }
        for u in &self.uncovered {
            s.push_str(&format!("not covered: {u}\n"));
        }
        for k in self.skipped.iter().filter(|k| k.incomplete) {
            s.push_str(&format!("skipped: {} ({})\n", k.path.display(), k.reason));
        }
        let passed_over = self.skipped.iter().filter(|k| !k.incomplete).count();
        if passed_over > 0 {
            s.push_str(&format!(
                "passed over: {} (not lockfiles or SBOMs, or directories not searched; `--format json` lists them)\n",
                count(passed_over, "file or directory", "files or directories")
            ));
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
