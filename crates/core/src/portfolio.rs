//! Portfolio monitoring's rules: what a finding is (a component of a
//! release affected by an advisory), the analysis states a person or a rule
//! gives it, and its remediation deadline, which comes from its product's
//! policy (`[[finding_clock]]`). Policy 003 words the presets' deadlines:
//!
//! - a **critical** vulnerability is fixed "within 30 days following the
//!   availability of the associated patch";
//! - a lower one, when "the exposure is qualified as high", also within 30
//!   days of the patch; otherwise "within 3 months".
//!
//! Such a clock starts when a patch exists (a fixed version is published),
//! not when the finding is opened: a finding without a patch has no
//! deadline yet, and gets one the day the patch appears. Everything takes
//! `now`.

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

use crate::case::Exposure;
use crate::policy::{FindingTrigger, Policy, Target};
use crate::{Instant, Severity};

/// How exposed a product is (its deployment's reach).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductExposure {
    InternetFacing,
    Internal,
    Offline,
}

impl ProductExposure {
    /// Policy 003's "exposure qualified as high".
    #[must_use]
    pub fn is_high(self) -> bool {
        self == ProductExposure::InternetFacing
    }
}

/// Where a product runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Deployment {
    Saas,
    CustomerDeployed,
    Both,
}

impl Deployment {
    /// Customers run it themselves: a fix is an "exceptional security
    /// delivery" they must be told about (003).
    #[must_use]
    pub fn at_customers(self) -> bool {
        matches!(self, Deployment::CustomerDeployed | Deployment::Both)
    }
}

/// Why a component is not affected, in CycloneDX's words (each has a CSAF
/// VEX flag counterpart, [`Justification::csaf_flag`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Justification {
    CodeNotPresent,
    CodeNotReachable,
    RequiresConfiguration,
    RequiresDependency,
    RequiresEnvironment,
    ProtectedByCompiler,
    ProtectedAtRuntime,
    ProtectedAtPerimeter,
    ProtectedByMitigatingControl,
}

impl Justification {
    /// The CSAF 2.0 VEX flag label closest in meaning.
    #[must_use]
    pub fn csaf_flag(self) -> &'static str {
        match self {
            Justification::CodeNotPresent => "vulnerable_code_not_present",
            Justification::CodeNotReachable => "vulnerable_code_not_in_execute_path",
            Justification::RequiresConfiguration
            | Justification::RequiresDependency
            | Justification::RequiresEnvironment => {
                "vulnerable_code_cannot_be_controlled_by_adversary"
            }
            Justification::ProtectedByCompiler
            | Justification::ProtectedAtRuntime
            | Justification::ProtectedAtPerimeter
            | Justification::ProtectedByMitigatingControl => "inline_mitigations_already_exist",
        }
    }
}

/// A finding's analysis, set only by a person or a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Analysis {
    InTriage,
    Affected,
    NotAffected {
        justification: Justification,
    },
    FalsePositive,
    Resolved,
    /// Accepted until `until`; after it the finding counts as affected again.
    RiskAccepted {
        until: Instant,
    },
}

impl Analysis {
    /// Whether the finding still needs fixing at `now` (its deadline counts).
    #[must_use]
    pub fn open_at(&self, now: Instant) -> bool {
        self.open_from().is_some_and(|from| from <= now)
    }

    /// From when the finding needs fixing: always (the epoch) while in
    /// triage or affected, from the end of an accepted risk, never once it
    /// no longer does. What a store keeps to ask "open at `now`" itself.
    #[must_use]
    pub fn open_from(&self) -> Option<Instant> {
        match self {
            Analysis::InTriage | Analysis::Affected => Some(Instant::UNIX_EPOCH),
            Analysis::RiskAccepted { until } => Some(*until),
            Analysis::NotAffected { .. } | Analysis::FalsePositive | Analysis::Resolved => None,
        }
    }
}

/// A finding's remediation deadline, from its product's policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingDeadline {
    /// The policy's finding clock that gives it.
    pub clock: String,
    pub started: Instant,
    pub warn: Instant,
    pub due: Instant,
}

/// The deadline `policy` gives a finding of `severity` in a product of
/// `exposure`, opened at `opened`, whose patch exists since `patch`: the
/// first finding clock whose condition it meets, counted on the policy's
/// calendar. `None` when no clock applies, when its start has not happened
/// (no patch yet), or when the finding has no severity and the policy
/// assumes none (`clock_settings.default_severity`).
#[must_use]
pub fn finding_deadline(
    policy: &Policy,
    severity: Option<Severity>,
    exposure: ProductExposure,
    opened: Instant,
    patch: Option<Instant>,
) -> Option<FindingDeadline> {
    let severity = severity.or(policy.clock_settings.default_severity)?;
    let clock = policy.finding_clocks.iter().find(|c| {
        (c.when.severity.is_empty() || c.when.severity.contains(&severity))
            && c.when
                .exposure
                .is_none_or(|e| (e == Exposure::High) == exposure.is_high())
    })?;
    let started = match clock.start {
        FindingTrigger::FindingOpened => opened,
        FindingTrigger::PatchAvailable => patch?,
    };
    let cal = &policy.calendar;
    let percent = i32::try_from(clock.warn_percent).ok()?;
    let (warn, due) = match clock.target {
        Target::Hours(n) => {
            let total = TimeDelta::hours(i64::from(n));
            (started + total * percent / 100, started + total)
        }
        Target::BusinessHours(n) => {
            let total = TimeDelta::hours(i64::from(n));
            (
                cal.add_business(started, total * percent / 100)?,
                cal.add_business(started, total)?,
            )
        }
        Target::BusinessDays(n) => {
            let total = cal.day_length() * i32::try_from(n).ok()?;
            (
                cal.add_business(started, total * percent / 100)?,
                cal.add_business(started, total)?,
            )
        }
        Target::Days(_) | Target::Months(_) => {
            let due = match clock.target {
                Target::Days(n) => cal.add_days(started, n)?,
                Target::Months(n) => cal.add_months(started, n)?,
                _ => return None,
            };
            (started + (due - started) * percent / 100, due)
        }
        Target::ReporterDeadline => return None,
    };
    Some(FindingDeadline {
        clock: clock.id.clone(),
        started,
        warn,
        due,
    })
}

/// A product missing a recent scan its policy requires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ScanGap {
    pub product: String,
    /// `sbom` or `sarif`.
    pub kind: String,
    /// The latest scan of that kind, if any.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last: Option<Instant>,
    /// When the latest scan became too old (none: never scanned).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub overdue_since: Option<Instant>,
    pub max_age_days: u32,
}

impl ScanGap {
    /// The advisory id of the finding that stands for this gap.
    #[must_use]
    pub fn advisory(kind: &str) -> String {
        format!("scan-overdue:{kind}")
    }
}

/// The component id under which scan gaps are findings of a release.
pub const SCANNING_COMPONENT: &str = "policy:scanning";

/// The products of `products` (id, name) that `policy`'s `[scanning]`
/// section covers and that lack a recent enough scan at `now`, given the
/// latest scan of each (product id, kind).
#[must_use]
pub fn scan_gaps(
    policy: &Policy,
    products: &[(String, String)],
    latest: &std::collections::BTreeMap<(String, String), Instant>,
    now: Instant,
) -> Vec<ScanGap> {
    let Some(scanning) = &policy.scanning else {
        return Vec::new();
    };
    let max_age = TimeDelta::days(i64::from(scanning.max_age_days));
    let mut gaps = Vec::new();
    for (id, name) in products {
        if !scanning.products.is_empty() && !scanning.products.iter().any(|p| p == id || p == name)
        {
            continue;
        }
        for kind in &scanning.require {
            let last = latest.get(&(id.clone(), kind.as_str().to_owned())).copied();
            let overdue_since = last.map(|l| l + max_age);
            if overdue_since.is_none_or(|o| o <= now) {
                gaps.push(ScanGap {
                    product: id.clone(),
                    kind: kind.as_str().to_owned(),
                    last,
                    overdue_since,
                    max_age_days: scanning.max_age_days,
                });
            }
        }
    }
    gaps
}

/// Where a finding's deadline stands at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineStatus {
    /// No patch yet: the clock has not started.
    NotStarted,
    /// Due later than the warning window.
    Running,
    /// Due within the warning window (the last quarter of the time).
    DueSoon,
    Breached,
    /// The finding no longer needs fixing.
    Stopped,
}

/// A deadline's status at `now`: due soon from its warning time (the
/// clock's `warn_percent` of the way), breached from its due time.
#[must_use]
pub fn deadline_status(
    analysis: &Analysis,
    deadline: Option<&FindingDeadline>,
    now: Instant,
) -> DeadlineStatus {
    if !analysis.open_at(now) {
        return DeadlineStatus::Stopped;
    }
    let Some(d) = deadline else {
        return DeadlineStatus::NotStarted;
    };
    if now >= d.due {
        DeadlineStatus::Breached
    } else if now >= d.warn {
        DeadlineStatus::DueSoon
    } else {
        DeadlineStatus::Running
    }
}

impl Finding {
    /// Sets the finding's deadline, and where it stands at `now`, from
    /// its product's policy.
    pub fn apply_policy(&mut self, policy: &Policy, now: Instant) {
        let deadline = finding_deadline(
            policy,
            self.severity,
            self.product_exposure,
            self.first_seen,
            self.patch_available_at,
        );
        self.due = deadline.as_ref().map(|d| d.due);
        self.deadline_clock = deadline.as_ref().map(|d| d.clock.clone());
        self.deadline = Some(deadline_status(&self.analysis, deadline.as_ref(), now));
    }
}

/// A product of the inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Product {
    /// A short id: lowercase letters, digits and `-`.
    pub id: String,
    pub name: String,
    pub owner: String,
    #[serde(default)]
    pub repositories: Vec<String>,
    #[schema(value_type = String)]
    pub deployment: Deployment,
    #[schema(value_type = String)]
    pub exposure: ProductExposure,
}

impl Product {
    /// Checks a product; errors name the field.
    pub fn validate(&self) -> Result<(), crate::DomainError> {
        use crate::DomainError;
        check_id(&self.id)?;
        check_name("name", &self.name)?;
        check_name("owner", &self.owner)?;
        if self.repositories.len() > 50 || self.repositories.iter().any(|r| r.len() > 500) {
            return Err(DomainError::invalid(
                "repositories",
                "at most 50, each at most 500 characters",
            ));
        }
        Ok(())
    }
}

/// A component a release ships, as its SBOM or lockfile names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Component {
    /// The OSV ecosystem name (`npm`, `crates.io`, …).
    pub ecosystem: String,
    pub name: String,
    pub version: String,
    /// The package URL with its version: the component's identity.
    pub purl: String,
}

impl Component {
    /// The package's name as its ecosystem compares names (PEP 503 for
    /// PyPI, lower case for npm and others), the key a feed update's
    /// packages are looked up by; the name as written for an ecosystem
    /// embargo does not know.
    #[must_use]
    pub fn normalized_name(&self) -> String {
        match self.ecosystem.parse::<embargo_spec::version::Ecosystem>() {
            Ok(e) => e.normalize_name(&self.name),
            Err(_) => self.name.clone(),
        }
    }
}

/// What a match says about one component and one advisory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Matched {
    pub component: String,
    pub advisory: String,
    pub severity: Option<Severity>,
    pub known_exploited: bool,
    pub epss: Option<f32>,
    /// CISA's KEV entry, when `known_exploited`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kev: Option<KevMark>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epss_percentile: Option<f32>,
    /// The versions that fix it (empty: no patch yet).
    pub fixed: Vec<String>,
    /// When the advisory was published, the best date embargo has for the
    /// patch when a fix is listed from the start.
    pub published: Option<Instant>,
    /// When the advisory was last modified: at the latest, when a fix
    /// added since the finding opened was published.
    pub modified: Option<Instant>,
}

/// What CISA's Known Exploited Vulnerabilities catalog says of a finding's
/// advisory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KevMark {
    /// The CVE the catalog lists.
    pub cve: String,
    /// When it joined the catalog (a date).
    pub date_added: String,
    /// The remediation date CISA sets for US federal agencies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    /// Known to be used in ransomware campaigns.
    pub ransomware: bool,
}

/// Where a finding's patch date comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PatchSource {
    /// The advisory listed the fix from its publication: its `published` date.
    AdvisoryPublished,
    /// The fix was added to the advisory later: its `modified` date.
    AdvisoryModified,
    /// The feed gave no date: when embargo first saw the fix.
    FirstSeen,
}

impl PatchSource {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            PatchSource::AdvisoryPublished => "advisory_published",
            PatchSource::AdvisoryModified => "advisory_modified",
            PatchSource::FirstSeen => "first_seen",
        }
    }
}

impl std::str::FromStr for PatchSource {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        [
            PatchSource::AdvisoryPublished,
            PatchSource::AdvisoryModified,
            PatchSource::FirstSeen,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
        .ok_or_else(|| format!("unknown patch source `{s}`"))
    }
}

impl Matched {
    /// The date a patch became available, and where that date comes from:
    /// for a fix listed when the finding opens (`at_open`), the advisory's
    /// publication; for a fix that appeared since, its last modification;
    /// else `now`, when embargo first saw it. Never later than `now`.
    #[must_use]
    pub fn patch_date(&self, at_open: bool, now: Instant) -> (Instant, PatchSource) {
        let (date, source) = if at_open {
            (self.published, PatchSource::AdvisoryPublished)
        } else {
            (self.modified, PatchSource::AdvisoryModified)
        };
        match date {
            Some(d) => (d.min(now), source),
            None => (now, PatchSource::FirstSeen),
        }
    }
}

/// A finding as stored and shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Finding {
    pub id: i64,
    pub product: String,
    pub release: String,
    pub component: String,
    pub advisory: String,
    #[schema(value_type = Option<String>)]
    pub severity: Option<Severity>,
    pub known_exploited: bool,
    pub epss: Option<f32>,
    /// CISA's KEV entry: when listed, CISA's due date, ransomware use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kev: Option<KevMark>,
    /// The EPSS score's percentile among all scored CVEs (0 to 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epss_percentile: Option<f32>,
    pub fixed: Vec<String>,
    pub patch_available_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Where `patch_available_at` comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch_source: Option<PatchSource>,
    #[schema(value_type = Object)]
    pub analysis: Analysis,
    pub first_seen: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// The remediation deadline its product's policy gives it (once its
    /// clock has started, e.g. when a patch exists).
    pub due: Option<chrono::DateTime<chrono::Utc>>,
    #[schema(value_type = String)]
    pub deadline: Option<DeadlineStatus>,
    /// The policy's finding clock that gives the deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_clock: Option<String>,
    /// The exposure of the finding's product (a policy's deadline may depend on it).
    #[schema(value_type = String)]
    pub product_exposure: ProductExposure,
}

/// An inventory id (products, customers): it appears in URLs.
fn check_id(id: &str) -> Result<(), crate::DomainError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(crate::DomainError::invalid(
            "id",
            "1 to 64 lowercase letters, digits and `-`",
        ))
    }
}

fn check_name(field: &str, value: &str) -> Result<(), crate::DomainError> {
    if value.trim().is_empty() || value.len() > 200 {
        return Err(crate::DomainError::invalid(field, "1 to 200 characters"));
    }
    Ok(())
}

/// A customer, and the releases they run (`product@version`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Customer {
    /// A short id: lowercase letters, digits and `-`.
    pub id: String,
    pub name: String,
    /// Where notices go (`mailto:` or `https://`).
    pub contact: String,
    #[serde(default)]
    pub releases: Vec<String>,
}

impl Customer {
    /// Checks a customer; errors name the field.
    pub fn validate(&self) -> Result<(), crate::DomainError> {
        check_id(&self.id)?;
        check_name("name", &self.name)?;
        if !(self.contact.starts_with("mailto:") || self.contact.starts_with("https://"))
            || self.contact.len() > 500
        {
            return Err(crate::DomainError::invalid(
                "contact",
                "a mailto: or https:// URI",
            ));
        }
        if self.releases.len() > 1000 {
            return Err(crate::DomainError::invalid("releases", "at most 1,000"));
        }
        Ok(())
    }
}

/// A customer a vulnerability reaches, through the affected releases they run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Impacted {
    pub customer: String,
    pub name: String,
    pub contact: String,
    pub releases: Vec<String>,
    /// A release they run is deployed at their site: the fix is an
    /// "exceptional security delivery" to announce (policy 003).
    pub exceptional_delivery: bool,
}

/// The customers running any of `affected` (release → whether the product
/// is deployed at customers), each with the affected releases they run.
#[must_use]
pub fn impacted(
    customers: &[Customer],
    affected: &std::collections::BTreeMap<String, Deployment>,
) -> Vec<Impacted> {
    customers
        .iter()
        .filter_map(|c| {
            let releases: Vec<String> = c
                .releases
                .iter()
                .filter(|r| affected.contains_key(*r))
                .cloned()
                .collect();
            (!releases.is_empty()).then(|| Impacted {
                exceptional_delivery: releases
                    .iter()
                    .any(|r| affected.get(r).is_some_and(|d| d.at_customers())),
                customer: c.id.clone(),
                name: c.name.clone(),
                contact: c.contact.clone(),
                releases,
            })
        })
        .collect()
}

/// A finding's identity: the same advisory on the same component of the
/// same release is one finding, however often a feed repeats it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FindingKey {
    pub release: String,
    /// The component's package URL with its version.
    pub component: String,
    pub advisory: String,
}

/// What a (re)match changes: findings to open, and findings whose advisory
/// no longer applies (withdrawn, or its range changed) to resolve. A match
/// that changes nothing yields nothing, so it records no event.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct MatchChanges {
    pub opened: Vec<FindingKey>,
    /// Resolved findings whose component is affected again (it returned in
    /// a new upload, or a re-match names it again).
    pub reopened: Vec<FindingKey>,
    /// Open findings whose advisory no longer matches.
    pub gone: Vec<FindingKey>,
}

/// Compares the findings a release has with what matching found now.
/// `resolved` are those of `existing` that are resolved; `rechecked` limits
/// which advisories the new match covered (a feed update re-matches only
/// the advisories it changed); `None` means all of them.
#[must_use]
pub fn changes(
    existing: &[FindingKey],
    resolved: &[FindingKey],
    matched: &[FindingKey],
    rechecked: Option<&std::collections::BTreeSet<String>>,
) -> MatchChanges {
    use std::collections::BTreeSet;
    let have: BTreeSet<&FindingKey> = existing.iter().collect();
    let closed: BTreeSet<&FindingKey> = resolved.iter().collect();
    let now: BTreeSet<&FindingKey> = matched.iter().collect();
    let covered = |k: &FindingKey| rechecked.is_none_or(|set| set.contains(&k.advisory));
    MatchChanges {
        opened: now.difference(&have).map(|k| (*k).clone()).collect(),
        reopened: now.intersection(&closed).map(|k| (*k).clone()).collect(),
        gone: have
            .difference(&now)
            .filter(|k| covered(k) && !closed.contains(*k))
            .map(|k| (*k).clone())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Instant {
        chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn zeenea() -> Policy {
        Policy::parse(crate::policy::presets::get("zeenea").unwrap()).unwrap()
    }

    fn due(
        policy: &Policy,
        severity: Severity,
        exposure: ProductExposure,
        patch: Option<Instant>,
    ) -> Option<Instant> {
        finding_deadline(
            policy,
            Some(severity),
            exposure,
            at("2026-01-01T00:00:00Z"),
            patch,
        )
        .map(|d| d.due)
    }

    #[test]
    fn policy_003_deadlines() {
        let p = zeenea();
        let patch = Some(at("2026-01-31T10:00:00Z"));
        // Critical: 30 days after the patch, whatever the exposure.
        for exposure in [
            ProductExposure::InternetFacing,
            ProductExposure::Internal,
            ProductExposure::Offline,
        ] {
            assert_eq!(
                due(&p, Severity::Critical, exposure, patch),
                Some(at("2026-03-02T10:00:00Z"))
            );
        }
        // Lower, high exposure: 30 days too.
        assert_eq!(
            due(&p, Severity::Medium, ProductExposure::InternetFacing, patch),
            Some(at("2026-03-02T10:00:00Z"))
        );
        // Lower, otherwise: three calendar months.
        assert_eq!(
            due(&p, Severity::High, ProductExposure::Internal, patch),
            Some(at("2026-04-30T10:00:00Z"))
        );
        assert_eq!(
            due(&p, Severity::Low, ProductExposure::Offline, patch),
            Some(at("2026-04-30T10:00:00Z"))
        );
        // No patch, no clock; no severity, no clock.
        assert_eq!(
            due(
                &p,
                Severity::Critical,
                ProductExposure::InternetFacing,
                None
            ),
            None
        );
        assert!(
            finding_deadline(
                &p,
                None,
                ProductExposure::Internal,
                at("2026-01-01T00:00:00Z"),
                patch
            )
            .is_none()
        );
    }

    #[test]
    fn a_patch_date_says_where_it_comes_from() {
        let now = at("2026-03-06T17:00:00Z");
        let m = |published: Option<&str>, modified: Option<&str>| Matched {
            component: "pkg:npm/a@1.0.0".into(),
            advisory: "GHSA-1".into(),
            severity: None,
            known_exploited: false,
            epss: None,
            kev: None,
            epss_percentile: None,
            fixed: vec!["1.0.1".into()],
            published: published.map(at),
            modified: modified.map(at),
        };
        let both = m(Some("2026-01-01T00:00:00Z"), Some("2026-02-01T00:00:00Z"));
        assert_eq!(
            both.patch_date(true, now),
            (at("2026-01-01T00:00:00Z"), PatchSource::AdvisoryPublished)
        );
        assert_eq!(
            both.patch_date(false, now),
            (at("2026-02-01T00:00:00Z"), PatchSource::AdvisoryModified)
        );
        assert_eq!(
            m(None, None).patch_date(true, now),
            (now, PatchSource::FirstSeen)
        );
        // A date in the future (a clock skewed feed) is never later than now.
        let future = m(Some("2027-01-01T00:00:00Z"), None);
        assert_eq!(
            future.patch_date(true, now),
            (now, PatchSource::AdvisoryPublished)
        );
    }

    #[test]
    fn a_policy_sets_the_findings_deadlines() {
        // 2 business days from the finding itself, in Paris, for everything
        // (instead of the preset's own finding clocks).
        let text = crate::policy::presets::get("opensecops")
            .unwrap()
            .split("\n# Findings (vulnerable components")
            .next()
            .unwrap()
            .replace("time_zone = \"UTC\"", "time_zone = \"Europe/Paris\"")
            + "\n[[finding_clock]]\nid = \"any\"\nname = \"Any\"\npromise = \"p\"\nstart = \"finding_opened\"\ntarget = \"2 business days\"\nwarn_percent = 50\n\n[clock_settings]\ndefault_severity = \"medium\"\n";
        let p = Policy::parse(&text).unwrap();
        // Opened Friday 17:00 Paris (16:00 UTC): due Tuesday 17:00 Paris.
        let d = finding_deadline(
            &p,
            None,
            ProductExposure::Internal,
            at("2026-03-06T16:00:00Z"),
            None,
        )
        .unwrap();
        assert_eq!(d.clock, "any");
        assert_eq!(d.due, at("2026-03-10T16:00:00Z"));
        assert_eq!(d.warn, at("2026-03-09T16:00:00Z"));
        // A policy without finding clocks gives no deadline.
        let truvera = crate::policy::presets::get("truvera").unwrap();
        let without = truvera
            .split("\n# Findings (vulnerable components")
            .next()
            .unwrap();
        let none = Policy::parse(without).unwrap();
        assert!(
            finding_deadline(
                &none,
                Some(Severity::Critical),
                ProductExposure::Internal,
                at("2026-03-06T16:00:00Z"),
                Some(at("2026-03-06T16:00:00Z"))
            )
            .is_none()
        );
    }

    #[test]
    fn a_patch_published_after_the_finding_starts_the_clock_then() {
        let p = zeenea();
        let opened = at("2026-03-01T00:00:00Z");
        let analysis = Analysis::Affected;
        let deadline = |patch| {
            finding_deadline(
                &p,
                Some(Severity::Critical),
                ProductExposure::Internal,
                opened,
                patch,
            )
        };
        // Opened without a patch: not started, however long it waits.
        assert_eq!(
            deadline_status(
                &analysis,
                deadline(None).as_ref(),
                opened + chrono::TimeDelta::days(200)
            ),
            DeadlineStatus::NotStarted
        );
        // The patch appears on 10 April: due 10 May for a critical one.
        let d = deadline(Some(at("2026-04-10T00:00:00Z"))).unwrap();
        assert_eq!(d.due, at("2026-05-10T00:00:00Z"));
        let status = |now: &str| deadline_status(&analysis, Some(&d), at(now));
        assert_eq!(status("2026-04-20T00:00:00Z"), DeadlineStatus::Running);
        // Three quarters of 30 days: 2 May 12:00.
        assert_eq!(status("2026-05-02T11:59:59Z"), DeadlineStatus::Running);
        assert_eq!(status("2026-05-02T12:00:00Z"), DeadlineStatus::DueSoon);
        assert_eq!(status("2026-05-09T23:59:59Z"), DeadlineStatus::DueSoon);
        assert_eq!(status("2026-05-10T00:00:00Z"), DeadlineStatus::Breached);
        // Resolved or not affected: the clock stops.
        assert_eq!(
            deadline_status(&Analysis::Resolved, Some(&d), at("2026-06-01T00:00:00Z")),
            DeadlineStatus::Stopped
        );
        // Risk accepted until 1 June: stopped until then, then breached.
        let accepted = Analysis::RiskAccepted {
            until: at("2026-06-01T00:00:00Z"),
        };
        assert_eq!(
            deadline_status(&accepted, Some(&d), at("2026-05-20T00:00:00Z")),
            DeadlineStatus::Stopped
        );
        assert_eq!(
            deadline_status(&accepted, Some(&d), at("2026-06-01T00:00:00Z")),
            DeadlineStatus::Breached
        );
    }

    #[test]
    fn customers_running_affected_releases_are_impacted() {
        let c = |id: &str, releases: &[&str]| Customer {
            id: id.into(),
            name: id.to_uppercase(),
            contact: format!("mailto:{id}@example.org"),
            releases: releases.iter().map(|r| (*r).to_owned()).collect(),
        };
        let customers = vec![
            c("acme", &["shop@1.0.0", "agent@2.1"]),
            c("globex", &["shop@1.1.0"]),
            c("initech", &["agent@2.0"]),
            c("umbrella", &[]),
        ];
        let affected: std::collections::BTreeMap<String, Deployment> = [
            ("shop@1.0.0".to_owned(), Deployment::Saas),
            ("agent@2.1".to_owned(), Deployment::CustomerDeployed),
            ("agent@2.0".to_owned(), Deployment::CustomerDeployed),
        ]
        .into();
        let got = impacted(&customers, &affected);
        let ids: Vec<(&str, Vec<&str>, bool)> = got
            .iter()
            .map(|i| {
                (
                    i.customer.as_str(),
                    i.releases.iter().map(String::as_str).collect(),
                    i.exceptional_delivery,
                )
            })
            .collect();
        assert_eq!(
            ids,
            vec![
                ("acme", vec!["shop@1.0.0", "agent@2.1"], true),
                ("initech", vec!["agent@2.0"], true),
            ],
            "globex runs the fixed 1.1.0; umbrella runs nothing"
        );
        let saas_only: std::collections::BTreeMap<String, Deployment> =
            [("shop@1.0.0".to_owned(), Deployment::Saas)].into();
        assert!(!impacted(&customers, &saas_only)[0].exceptional_delivery);
    }

    #[test]
    fn rematching_changes_only_what_changed() {
        let k = |release: &str, component: &str, advisory: &str| FindingKey {
            release: release.into(),
            component: component.into(),
            advisory: advisory.into(),
        };
        let existing = vec![
            k("r1", "pkg:npm/a@1.0.0", "GHSA-1"),
            k("r1", "pkg:npm/b@2.0.0", "GHSA-2"),
        ];
        // The same matches again (a feed that changed nothing): no change.
        assert_eq!(
            changes(&existing, &[], &existing, None),
            MatchChanges::default()
        );
        // The same advisory twice in one match is one finding.
        let twice = vec![
            existing[0].clone(),
            existing[0].clone(),
            existing[1].clone(),
        ];
        assert_eq!(
            changes(&existing, &[], &twice, None),
            MatchChanges::default()
        );
        // An update that re-checked only GHSA-3 neither resolves GHSA-1/2 nor duplicates them.
        let rechecked: std::collections::BTreeSet<String> = ["GHSA-3".to_owned()].into();
        let found = vec![k("r1", "pkg:npm/a@1.0.0", "GHSA-3")];
        let c = changes(&existing, &[], &found, Some(&rechecked));
        assert_eq!(c.opened, found);
        assert!(c.gone.is_empty());
        // GHSA-2 withdrawn and re-checked: its finding goes.
        let rechecked: std::collections::BTreeSet<String> = ["GHSA-2".to_owned()].into();
        let c = changes(&existing, &[], &existing[..1], Some(&rechecked));
        assert_eq!(c.gone, vec![existing[1].clone()]);
        // Vulnerable, then clean (resolved), then vulnerable again: reopened,
        // never opened twice; a resolved finding is not resolved again.
        let c = changes(&existing, &existing, &existing, None);
        assert_eq!(c.reopened, existing);
        assert!(c.opened.is_empty() && c.gone.is_empty());
        let c = changes(&existing, &existing[1..], &existing[..1], None);
        assert!(c.gone.is_empty() && c.reopened.is_empty(), "{c:?}");
        assert!(Deployment::Both.at_customers() && !Deployment::Saas.at_customers());
        assert_eq!(
            Justification::CodeNotReachable.csaf_flag(),
            "vulnerable_code_not_in_execute_path"
        );
    }
}

/// Whether a release `version` lies in one of `ranges`: from `introduced`
/// (inclusive; none means from the start) to `fixed` (exclusive) or
/// `last_affected` (inclusive). A product's own versions follow no package
/// ecosystem, so they are compared by Debian's rules, which order numbers
/// numerically and letters sensibly (`2.10` after `2.9`, `2.0~rc1` before
/// `2.0`). A version that cannot be compared counts as affected: a notice
/// too many is better than one missing.
#[must_use]
pub fn release_affected(version: &str, ranges: &[crate::advisory::VersionRange]) -> bool {
    use embargo_spec::version::Ecosystem;
    use std::cmp::Ordering;
    let Ok(v) = Ecosystem::Debian.parse(version) else {
        return true;
    };
    let cmp = |other: &str| -> Option<Ordering> {
        let o = Ecosystem::Debian.parse(other).ok()?;
        v.compare(&o)
    };
    if ranges.is_empty() {
        return true;
    }
    ranges.iter().any(|r| {
        let from = r
            .introduced
            .as_deref()
            .is_none_or(|i| cmp(i).is_none_or(|o| o != Ordering::Less));
        let below_fix = r
            .fixed
            .as_deref()
            .is_none_or(|f| cmp(f).is_none_or(|o| o == Ordering::Less));
        let up_to_last = r
            .last_affected
            .as_deref()
            .is_none_or(|l| cmp(l).is_none_or(|o| o != Ordering::Greater));
        from && below_fix && up_to_last
    })
}

/// A customer an advisory concerns, with the affected releases they run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImpactedCustomer {
    pub customer: String,
    pub name: String,
    pub contact: String,
    pub product: String,
    /// Versions of `product` the customer runs that the advisory covers.
    pub releases: Vec<String>,
    /// Customers run the product themselves (an exceptional security delivery).
    pub customer_deployed: bool,
}

/// The customers who run a release that `advisory` covers. A product of the
/// inventory is covered when an affected product of the advisory names it
/// (by id or name, ignoring case); its releases are matched to the ranges.
#[must_use]
pub fn impacted_customers(
    advisory: &crate::advisory::Advisory,
    products: &[Product],
    customers: &[Customer],
) -> Vec<ImpactedCustomer> {
    let mut out = Vec::new();
    for customer in customers {
        for product in products {
            let Some(affected) = advisory.affected.iter().find(|a| {
                a.product.eq_ignore_ascii_case(&product.id)
                    || a.product.eq_ignore_ascii_case(&product.name)
            }) else {
                continue;
            };
            let releases: Vec<String> = customer
                .releases
                .iter()
                .filter_map(|r| r.split_once('@'))
                .filter(|(p, _)| *p == product.id)
                .map(|(_, v)| v.to_owned())
                .filter(|v| release_affected(v, &affected.ranges))
                .collect();
            if !releases.is_empty() {
                out.push(ImpactedCustomer {
                    customer: customer.id.clone(),
                    name: customer.name.clone(),
                    contact: customer.contact.clone(),
                    product: product.name.clone(),
                    releases,
                    customer_deployed: product.deployment.at_customers(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod notice_tests {
    use super::*;
    use crate::advisory::{Advisory, AffectedProduct, VersionRange};

    fn range(introduced: Option<&str>, fixed: Option<&str>) -> VersionRange {
        VersionRange {
            introduced: introduced.map(str::to_owned),
            fixed: fixed.map(str::to_owned),
            last_affected: None,
        }
    }

    #[test]
    fn releases_in_and_out_of_ranges() {
        let r = [range(Some("2.0"), Some("2.4.1"))];
        for (v, affected) in [
            ("1.9", false),
            ("2.0", true),
            ("2.4.0", true),
            ("2.4.1", false),
            ("2.10", false),
            ("2.4.1~rc1", true),
            ("not a version!", true),
        ] {
            assert_eq!(release_affected(v, &r), affected, "{v}");
        }
        let open = [VersionRange {
            introduced: None,
            fixed: None,
            last_affected: Some("3.1".into()),
        }];
        assert!(release_affected("3.1", &open));
        assert!(!release_affected("3.2", &open));
        assert!(release_affected("0.1", &[]), "no ranges: every version");
    }

    #[test]
    fn customers_running_different_releases() {
        let product = |id: &str, name: &str, deployment| Product {
            id: id.into(),
            name: name.into(),
            owner: "o".into(),
            repositories: vec![],
            deployment,
            exposure: ProductExposure::InternetFacing,
        };
        let products = vec![
            product("dock", "Dock Certs", Deployment::CustomerDeployed),
            product("portal", "Portal", Deployment::Saas),
        ];
        let customer = |id: &str, releases: &[&str]| Customer {
            id: id.into(),
            name: id.to_uppercase(),
            contact: format!("mailto:{id}@example.org"),
            releases: releases.iter().map(|r| (*r).to_owned()).collect(),
        };
        let customers = vec![
            customer("old", &["dock@2.3.0", "portal@1.0"]),
            customer("new", &["dock@2.4.1"]),
            customer("both", &["dock@2.0", "dock@2.4.2", "dock@1.0"]),
            customer("other", &["portal@1.0"]),
        ];
        let advisory = Advisory {
            affected: vec![AffectedProduct {
                vendor: "Example".into(),
                product: "dock certs".into(),
                purl: None,
                ranges: vec![range(Some("2.0"), Some("2.4.1"))],
            }],
            ..Advisory::default()
        };
        let got = impacted_customers(&advisory, &products, &customers);
        let summary: Vec<(&str, Vec<&str>, bool)> = got
            .iter()
            .map(|i| {
                (
                    i.customer.as_str(),
                    i.releases.iter().map(String::as_str).collect(),
                    i.customer_deployed,
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![("old", vec!["2.3.0"], true), ("both", vec!["2.0"], true)]
        );
    }
}

// ------------------------------------------------------------------ rules

/// What a vulnerability rule looks for; every field set must hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleCondition {
    /// A package URL without version (`pkg:npm/lodash`), or a scanner
    /// (`sarif:semgrep`): the finding's component is that package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// The advisory's id (`GHSA-…`, or `rule#fingerprint` for scanners).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advisory: Option<String>,
    /// At least this severity; at most `max_severity`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub min_severity: Option<Severity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub max_severity: Option<Severity>,
    /// A product id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// `internet_facing`, `internal` or `offline`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub exposure: Option<ProductExposure>,
    /// Whether the vulnerability is known to be exploited (CISA KEV).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_exploited: Option<bool>,
    /// An EPSS probability (0 to 1) the finding's must reach.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epss_at_least: Option<f32>,
}

/// What a rule does to the findings it matches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum RuleAction {
    /// Decide the analysis of findings still in triage (a person's decision
    /// is never overridden).
    SetAnalysis {
        #[schema(value_type = Object)]
        analysis: Analysis,
    },
    /// Override the severity of open findings.
    SetSeverity {
        #[schema(value_type = String)]
        severity: Severity,
    },
}

/// A vulnerability rule: findings matching `when` get `then`, automatically,
/// within the validity window; each change records the rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Given by the store.
    #[serde(default)]
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub when: RuleCondition,
    pub then: RuleAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default)]
    pub disabled: bool,
}

impl Rule {
    /// Checks a rule; errors name the field.
    pub fn validate(&self) -> Result<(), crate::DomainError> {
        use crate::DomainError;
        check_name("name", &self.name)?;
        let c = &self.when;
        if *c == RuleCondition::default() {
            return Err(DomainError::invalid(
                "when",
                "a rule needs at least one condition; one that matched every finding would be a policy, not a rule",
            ));
        }
        for (field, value) in [
            ("when.package", &c.package),
            ("when.advisory", &c.advisory),
            ("when.product", &c.product),
        ] {
            if value
                .as_deref()
                .is_some_and(|v| v.trim().is_empty() || v.len() > 500)
            {
                return Err(DomainError::invalid(field, "1 to 500 characters"));
            }
        }
        if c.epss_at_least.is_some_and(|e| !(0.0..=1.0).contains(&e)) {
            return Err(DomainError::invalid(
                "when.epss_at_least",
                "a probability from 0 to 1",
            ));
        }
        if let (Some(min), Some(max)) = (c.min_severity, c.max_severity)
            && min > max
        {
            return Err(DomainError::invalid(
                "when.max_severity",
                "is below min_severity",
            ));
        }
        if let (Some(from), Some(until)) = (self.valid_from, self.valid_until)
            && until <= from
        {
            return Err(DomainError::invalid(
                "valid_until",
                "must be after valid_from",
            ));
        }
        if let RuleAction::SetAnalysis {
            analysis: Analysis::InTriage,
        } = self.then
        {
            return Err(DomainError::invalid(
                "then.analysis",
                "findings start in triage; a rule decides something else",
            ));
        }
        Ok(())
    }

    /// Whether the rule is in force at `now`.
    #[must_use]
    pub fn active_at(&self, now: Instant) -> bool {
        !self.disabled
            && self.valid_from.is_none_or(|f| f <= now)
            && self.valid_until.is_none_or(|u| now < u)
    }

    /// Whether `finding`, of a product exposed as `exposure`, meets the conditions.
    #[must_use]
    pub fn matches(&self, finding: &Finding, exposure: ProductExposure) -> bool {
        let c = &self.when;
        c.package.as_deref().is_none_or(|p| {
            finding.component == p || finding.component.starts_with(&format!("{p}@"))
        }) && c.advisory.as_deref().is_none_or(|a| finding.advisory == a)
            && c.min_severity
                .is_none_or(|m| finding.severity.is_some_and(|s| s >= m))
            && c.max_severity
                .is_none_or(|m| finding.severity.is_some_and(|s| s <= m))
            && c.product.as_deref().is_none_or(|p| finding.product == p)
            && c.exposure.is_none_or(|e| e == exposure)
            && c.known_exploited
                .is_none_or(|k| finding.known_exploited == k)
            && c.epss_at_least
                .is_none_or(|e| finding.epss.is_some_and(|f| f >= e))
    }

    /// What the rule changes on `finding` at `now`, if anything: a new
    /// analysis or a new severity.
    #[must_use]
    pub fn change(
        &self,
        finding: &Finding,
        exposure: ProductExposure,
        now: Instant,
    ) -> Option<RuleAction> {
        if !self.active_at(now) || !self.matches(finding, exposure) {
            return None;
        }
        match &self.then {
            RuleAction::SetAnalysis { analysis } => (finding.analysis == Analysis::InTriage
                && *analysis != finding.analysis)
                .then(|| self.then.clone()),
            RuleAction::SetSeverity { severity } => (finding.analysis.open_at(now)
                && finding.severity != Some(*severity))
            .then(|| self.then.clone()),
        }
    }
}

/// The first rule (by id) that changes `finding`, and the change.
#[must_use]
pub fn rule_for<'a>(
    rules: &'a [Rule],
    finding: &Finding,
    exposure: ProductExposure,
    now: Instant,
) -> Option<(&'a Rule, RuleAction)> {
    rules
        .iter()
        .find_map(|r| r.change(finding, exposure, now).map(|c| (r, c)))
}

// ---------------------------------------------------------------- metrics

/// Where deadlines stand: met (closed by the due date), missed (closed late,
/// or open past it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DeadlineCompliance {
    pub met: usize,
    pub missed: usize,
    /// `met / (met + missed)`, when any deadline has come or been met.
    pub share_met: Option<f64>,
}

/// Portfolio metrics at one instant.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PortfolioMetrics {
    /// Findings that still need fixing.
    pub open: usize,
    /// Open findings by severity (`critical` … `none`, `unknown`).
    pub open_by_severity: std::collections::BTreeMap<String, usize>,
    /// Open findings by age since first seen.
    pub open_by_age: std::collections::BTreeMap<String, usize>,
    /// Open findings by product.
    pub open_by_product: std::collections::BTreeMap<String, usize>,
    /// Open findings by deadline status (`no_patch`, `running`, `due_soon`, `breached`).
    pub deadlines: std::collections::BTreeMap<String, usize>,
    pub compliance: DeadlineCompliance,
}

/// The metrics of `findings` at `now`.
#[must_use]
pub fn metrics(findings: &[Finding], now: Instant) -> PortfolioMetrics {
    let mut m = PortfolioMetrics::default();
    for f in findings {
        let open = f.analysis.open_at(now);
        if let Some(due) = f.due {
            if open && now > due {
                m.compliance.missed += 1;
            } else if !open {
                if f.updated_at <= due {
                    m.compliance.met += 1;
                } else {
                    m.compliance.missed += 1;
                }
            }
        }
        if !open {
            continue;
        }
        m.open += 1;
        *m.open_by_severity
            .entry(f.severity.map_or("unknown", Severity::as_str).to_owned())
            .or_default() += 1;
        let days = (now - f.first_seen).num_days();
        let age = match days {
            d if d < 30 => "0-30 days",
            d if d < 90 => "30-90 days",
            d if d < 365 => "90-365 days",
            _ => "over 365 days",
        };
        *m.open_by_age.entry(age.to_owned()).or_default() += 1;
        *m.open_by_product.entry(f.product.clone()).or_default() += 1;
        let deadline = match f.deadline {
            Some(DeadlineStatus::Breached) => "breached",
            Some(DeadlineStatus::DueSoon) => "due_soon",
            Some(DeadlineStatus::Running) => "running",
            _ => "no_patch",
        };
        *m.deadlines.entry(deadline.to_owned()).or_default() += 1;
    }
    let decided = m.compliance.met + m.compliance.missed;
    #[allow(clippy::cast_precision_loss)]
    if decided > 0 {
        m.compliance.share_met = Some(m.compliance.met as f64 / decided as f64);
    }
    m
}

#[cfg(test)]
mod rule_tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> Instant {
        chrono::Utc.with_ymd_and_hms(2026, 3, 6, 17, 0, 0).unwrap()
    }

    fn finding(component: &str, severity: Severity, kev: bool, epss: Option<f32>) -> Finding {
        Finding {
            id: 1,
            product: "shop".into(),
            release: "1.0".into(),
            component: component.into(),
            advisory: "GHSA-x".into(),
            severity: Some(severity),
            known_exploited: kev,
            epss,
            kev: None,
            epss_percentile: None,
            fixed: vec![],
            patch_available_at: None,
            analysis: Analysis::InTriage,
            first_seen: now(),
            updated_at: now(),
            due: None,
            deadline: None,
            deadline_clock: None,
            patch_source: None,
            product_exposure: ProductExposure::Internal,
        }
    }

    fn rule(when: RuleCondition, then: RuleAction) -> Rule {
        Rule {
            id: 1,
            name: "r".into(),
            when,
            then,
            valid_from: None,
            valid_until: None,
            disabled: false,
        }
    }

    #[test]
    fn conditions_windows_and_what_a_rule_may_change() {
        let not_affected = RuleAction::SetAnalysis {
            analysis: Analysis::NotAffected {
                justification: Justification::CodeNotReachable,
            },
        };
        let r = rule(
            RuleCondition {
                package: Some("pkg:npm/lodash".into()),
                max_severity: Some(Severity::Medium),
                ..RuleCondition::default()
            },
            not_affected.clone(),
        );
        let f = finding("pkg:npm/lodash@4.17.20", Severity::Low, false, None);
        assert_eq!(
            r.change(&f, ProductExposure::Internal, now()),
            Some(not_affected.clone())
        );
        assert!(!r.matches(
            &finding("pkg:npm/lodash-es@4.17.20", Severity::Low, false, None),
            ProductExposure::Internal
        ));
        assert!(!r.matches(
            &finding("pkg:npm/lodash@4.17.20", Severity::High, false, None),
            ProductExposure::Internal
        ));
        // A person's decision stands.
        let mut decided = f.clone();
        decided.analysis = Analysis::Affected;
        assert_eq!(r.change(&decided, ProductExposure::Internal, now()), None);
        // Outside the window nothing happens.
        let mut later = r.clone();
        later.valid_from = Some(now() + chrono::Duration::days(1));
        assert_eq!(later.change(&f, ProductExposure::Internal, now()), None);
        let mut expired = r.clone();
        expired.valid_until = Some(now());
        assert_eq!(expired.change(&f, ProductExposure::Internal, now()), None);

        // KEV and EPSS escalate severity on internet-facing products.
        let hot = rule(
            RuleCondition {
                exposure: Some(ProductExposure::InternetFacing),
                epss_at_least: Some(0.5),
                ..RuleCondition::default()
            },
            RuleAction::SetSeverity {
                severity: Severity::Critical,
            },
        );
        let warm = finding("pkg:npm/a@1", Severity::Medium, false, Some(0.7));
        assert!(
            hot.change(&warm, ProductExposure::InternetFacing, now())
                .is_some()
        );
        assert!(
            hot.change(&warm, ProductExposure::Internal, now())
                .is_none()
        );
        assert!(
            hot.change(
                &finding("pkg:npm/a@1", Severity::Medium, false, Some(0.2)),
                ProductExposure::InternetFacing,
                now()
            )
            .is_none()
        );
        let kev = rule(
            RuleCondition {
                known_exploited: Some(true),
                ..RuleCondition::default()
            },
            RuleAction::SetSeverity {
                severity: Severity::Critical,
            },
        );
        assert!(
            kev.change(
                &finding("pkg:npm/a@1", Severity::Critical, true, None),
                ProductExposure::Internal,
                now()
            )
            .is_none(),
            "already critical"
        );
        assert!(
            kev.change(
                &finding("pkg:npm/a@1", Severity::Low, true, None),
                ProductExposure::Internal,
                now()
            )
            .is_some()
        );

        // The first rule by id wins.
        let rules = vec![
            r.clone(),
            Rule {
                id: 2,
                ..hot.clone()
            },
        ];
        assert_eq!(
            rule_for(&rules, &f, ProductExposure::InternetFacing, now())
                .unwrap()
                .0
                .id,
            1
        );
    }

    #[test]
    fn rules_are_validated() {
        let empty = rule(
            RuleCondition::default(),
            RuleAction::SetSeverity {
                severity: Severity::Low,
            },
        );
        assert!(
            empty
                .validate()
                .unwrap_err()
                .to_string()
                .starts_with("when:")
        );
        let bad_epss = rule(
            RuleCondition {
                epss_at_least: Some(1.5),
                ..RuleCondition::default()
            },
            RuleAction::SetSeverity {
                severity: Severity::Low,
            },
        );
        assert!(
            bad_epss
                .validate()
                .unwrap_err()
                .to_string()
                .starts_with("when.epss_at_least")
        );
        let triage = rule(
            RuleCondition {
                advisory: Some("GHSA-x".into()),
                ..RuleCondition::default()
            },
            RuleAction::SetAnalysis {
                analysis: Analysis::InTriage,
            },
        );
        assert!(triage.validate().is_err());
    }

    #[test]
    fn metrics_count_open_findings_and_deadlines() {
        let mut open_late = finding("pkg:npm/a@1", Severity::Critical, false, None);
        open_late.due = Some(now() - chrono::Duration::days(1));
        open_late.deadline = Some(DeadlineStatus::Breached);
        open_late.first_seen = now() - chrono::Duration::days(40);
        let mut closed_in_time = finding("pkg:npm/b@1", Severity::High, false, None);
        closed_in_time.analysis = Analysis::Resolved;
        closed_in_time.due = Some(now());
        closed_in_time.updated_at = now() - chrono::Duration::days(2);
        let mut closed_late = closed_in_time.clone();
        closed_late.updated_at = now() + chrono::Duration::days(1);
        let fresh = finding("pkg:npm/c@1", Severity::Low, false, None);
        let m = metrics(&[open_late, closed_in_time, closed_late, fresh], now());
        assert_eq!(m.open, 2);
        assert_eq!(m.open_by_severity["critical"], 1);
        assert_eq!(m.open_by_severity["low"], 1);
        assert_eq!(m.open_by_age["30-90 days"], 1);
        assert_eq!(m.open_by_age["0-30 days"], 1);
        assert_eq!(m.deadlines["breached"], 1);
        assert_eq!(m.deadlines["no_patch"], 1);
        assert_eq!((m.compliance.met, m.compliance.missed), (1, 2));
        assert!((m.compliance.share_met.unwrap() - 1.0 / 3.0).abs() < 1e-9);
    }
}
