//! Security policies as code: a versioned TOML file that says what an
//! organization promises (identity, intake, severity, clocks, calendar, scope
//! rules, communication, disclosure, credit), validated with errors that name
//! the line and the key.
//!
//! Five presets encode the published policies embargo was built from; see
//! [`presets`].

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::{NaiveDate, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};
use toml::Spanned;
use utoipa::ToSchema;

use crate::calendar::BusinessCalendar;
use crate::case::{Exposure, Severity};
use crate::zone::Zone;

/// The policy format this embargo reads.
pub const FORMAT_VERSION: u32 = 1;

/// The largest policy file read: real policies are a few kilobytes.
pub const MAX_POLICY_BYTES: usize = 1024 * 1024;

/// A policy error, naming the line (when known) and the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PolicyError {
    pub line: Option<usize>,
    pub key: String,
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}: {}", self.key, self.message),
            None => write!(f, "{}: {}", self.key, self.message),
        }
    }
}

/// The events that start and stop clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// The report arrived (the case was opened).
    Reported,
    /// The team first answered: the case left `received`.
    Acknowledged,
    /// Triage ended: the case was accepted or closed as not a vulnerability,
    /// out of scope, duplicate or spam.
    Triaged,
    /// The severity was set to one the clock's `when` condition names.
    SeverityAssessed,
    /// Impacted customers were notified.
    CustomersNotified,
    /// A patch became available (the time recorded with `fix_available`).
    PatchAvailable,
    /// The fix was released.
    Released,
    /// The vulnerability was disclosed.
    Disclosed,
    /// The case was closed, or rejected.
    Resolved,
    /// The team became aware of active exploitation, or of a severe
    /// incident (Cyber Resilience Act, Article 14).
    Aware,
    /// A corrective or mitigating measure (or a patch) is available, once
    /// the team is aware: Article 14's final report counts from here.
    MeasureAvailable,
    /// The Article 14 early warning was sent (or a later stage that carries it).
    EarlyWarningSubmitted,
    /// The Article 14 notification was sent (or the final report with it).
    NotificationSubmitted,
    /// The Article 14 final report was sent.
    FinalReportSubmitted,
}

impl Trigger {
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Trigger::Reported => "the report arrives",
            Trigger::Acknowledged => "the team acknowledges the report",
            Trigger::Triaged => "triage ends (accepted or closed)",
            Trigger::SeverityAssessed => "the severity is assessed",
            Trigger::CustomersNotified => "impacted customers are notified",
            Trigger::PatchAvailable => "a patch becomes available",
            Trigger::Released => "the fix is released",
            Trigger::Disclosed => "the vulnerability is disclosed",
            Trigger::Resolved => "the case is closed",
            Trigger::Aware => "the team becomes aware of active exploitation or a severe incident",
            Trigger::MeasureAvailable => "a corrective or mitigating measure is available",
            Trigger::EarlyWarningSubmitted => "the CRA early warning is submitted",
            Trigger::NotificationSubmitted => "the CRA notification is submitted",
            Trigger::FinalReportSubmitted => "the CRA final report is submitted",
        }
    }
}

/// How long a clock runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "unit", content = "amount", rename_all = "snake_case")]
pub enum Target {
    /// Elapsed hours, around the clock.
    Hours(u32),
    /// Hours of business time on the policy's calendar.
    BusinessHours(u32),
    /// Business days on the policy's calendar.
    BusinessDays(u32),
    /// Calendar days, at the same local time of day.
    Days(u32),
    /// Calendar months, at the same local time of day.
    Months(u32),
    /// The disclosure deadline the reporter gave.
    ReporterDeadline,
}

impl Target {
    /// Whether the clock counts business time (and so uses the calendar).
    #[must_use]
    pub fn is_business(self) -> bool {
        matches!(self, Target::BusinessHours(_) | Target::BusinessDays(_))
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: u32, one: &str, many: &str| {
            if n == 1 {
                format!("1 {one}")
            } else {
                format!("{n} {many}")
            }
        };
        match *self {
            Target::Hours(n) => f.write_str(&plural(n, "hour", "hours")),
            Target::BusinessHours(n) => f.write_str(&plural(n, "business hour", "business hours")),
            Target::BusinessDays(n) => f.write_str(&plural(n, "business day", "business days")),
            Target::Days(n) => f.write_str(&plural(n, "day", "days")),
            Target::Months(n) => f.write_str(&plural(n, "month", "months")),
            Target::ReporterDeadline => f.write_str("reporter deadline"),
        }
    }
}

impl FromStr for Target {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s == "reporter deadline" {
            return Ok(Target::ReporterDeadline);
        }
        let (n, unit) = s.split_once(' ').ok_or_else(|| {
            format!("`{s}` is not a target such as \"24 hours\" or \"3 business days\"")
        })?;
        let n: u32 = n
            .parse()
            .map_err(|_| format!("`{n}` is not a whole number"))?;
        if n == 0 || n > 100_000 {
            return Err("must be between 1 and 100000".into());
        }
        match unit.trim() {
            "hour" | "hours" => Ok(Target::Hours(n)),
            "business hour" | "business hours" => Ok(Target::BusinessHours(n)),
            "business day" | "business days" => Ok(Target::BusinessDays(n)),
            "day" | "days" => Ok(Target::Days(n)),
            "month" | "months" => Ok(Target::Months(n)),
            other => Err(format!(
                "unknown unit `{other}`; use hours, business hours, business days, days, months, or \"reporter deadline\""
            )),
        }
    }
}

/// When a clock applies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The case's severity is one of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<Severity>,
    /// The case's exposure is this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposure: Option<Exposure>,
    /// The reporter gave a disclosure deadline.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reporter_deadline: bool,
    /// The policy's own severity level (a `[[severity]]` id) is one of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub level: Vec<String>,
    /// The case is a confirmed actively exploited vulnerability, or a
    /// severe incident (Article 14 of the Cyber Resilience Act).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cra: Vec<crate::case::cra::CraSubject>,
}

/// A clock as the policy file states it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockFile {
    id: Spanned<String>,
    name: String,
    /// The sentence of the policy this clock keeps.
    promise: String,
    start: Trigger,
    stop: Trigger,
    target: Spanned<String>,
    #[serde(default = "default_warn")]
    warn_percent: Spanned<u32>,
    #[serde(default)]
    pause_while_waiting_on_reporter: bool,
    #[serde(default)]
    public: bool,
    #[serde(default)]
    when: Condition,
    /// What to do when it is breached, in words (e.g. "discuss the timeline with the reporter").
    #[serde(default)]
    on_breach: Option<String>,
}

/// Evidence of a product's security testing that embargo receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScanKind {
    /// Dependency scanning: an SBOM or lockfile uploaded for a release.
    Sbom,
    /// Static or dynamic analysis: a SARIF file imported for a release.
    Sarif,
}

impl ScanKind {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ScanKind::Sbom => "sbom",
            ScanKind::Sarif => "sarif",
        }
    }
}

/// The security testing a policy promises (`[scanning]`): each product must
/// have had each required kind of scan within `max_age_days`; an older one
/// (or none) opens a finding on the product's latest release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Scanning {
    /// The policy's own words.
    pub promise: String,
    pub require: Vec<ScanKind>,
    pub max_age_days: u32,
    /// The products (ids or names) it applies to; empty means all.
    #[serde(default)]
    pub products: Vec<String>,
}

/// What starts a finding's remediation clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FindingTrigger {
    /// The finding was opened (the vulnerable component was seen).
    FindingOpened,
    /// A patch became available (the advisory lists a fixed version).
    PatchAvailable,
}

impl FindingTrigger {
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            FindingTrigger::FindingOpened => "the finding is opened",
            FindingTrigger::PatchAvailable => "a patch is available (a fixed version is published)",
        }
    }
}

/// Which findings a finding clock applies to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingCondition {
    /// The finding's severity is one of these (any, when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<Severity>,
    /// The product's exposure: `high` for an internet-facing product,
    /// `normal` for the others (any, when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposure: Option<Exposure>,
}

/// A finding clock as the policy file states it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct FindingClockFile {
    id: Spanned<String>,
    name: String,
    promise: String,
    start: FindingTrigger,
    target: Spanned<String>,
    #[serde(default = "default_warn")]
    warn_percent: Spanned<u32>,
    #[serde(default)]
    when: FindingCondition,
}

/// A remediation deadline for the portfolio's findings (a vulnerable
/// component in a release): the first clock whose condition a finding meets
/// gives its deadline, counted on the policy's calendar; it stops when the
/// finding no longer needs fixing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FindingClock {
    pub id: String,
    pub name: String,
    pub promise: String,
    pub start: FindingTrigger,
    pub target: Target,
    pub warn_percent: u32,
    pub when: FindingCondition,
}

fn no_holidays() -> Spanned<Vec<String>> {
    Spanned::new(0..0, Vec::new())
}

fn default_warn() -> Spanned<u32> {
    Spanned::new(0..0, 75)
}

/// A clock of a validated policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ClockRule {
    pub id: String,
    pub name: String,
    pub promise: String,
    pub start: Trigger,
    pub stop: Trigger,
    pub target: Target,
    pub warn_percent: u32,
    pub pause_while_waiting_on_reporter: bool,
    /// Whether the reporter sees this clock.
    pub public: bool,
    pub when: Condition,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_breach: Option<String>,
}

/// An example of what the policy does not consider a vulnerability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScopeRule {
    pub id: String,
    pub title: String,
    /// What the reporter reads when a case is closed citing this rule.
    pub reporter_text: String,
}

/// A severity level in the policy's own words, and embargo severities it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeverityLevel {
    pub id: String,
    pub name: String,
    pub description: String,
    /// The embargo severities (CVSS qualitative ratings) this level covers.
    /// Optional: a level defined by its criteria alone is chosen by a
    /// person (`set_level`), and clocks name it in `when.level`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub covers: Vec<Severity>,
}

/// What the policy says it communicates, by severity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommunicationRule {
    pub severity: Vec<Severity>,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Organization {
    pub name: String,
    /// Where to report: `mailto:` or `https://` URIs, most preferred first.
    #[serde(default)]
    pub contacts: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_url: Option<String>,
    /// Languages reports are read in (RFC 5646 tags).
    #[serde(default)]
    pub languages: Vec<String>,
    /// A URL of the OpenPGP key for encrypted reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<String>,
    /// A URL of the hall of fame.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledgments: Option<String>,
}

/// Report fields a policy can require at intake.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum IntakeField {
    Summary,
    Description,
    StepsToReproduce,
    Impact,
    SuggestedMitigation,
    AffectedVersions,
    Contact,
}

impl IntakeField {
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            IntakeField::Summary => "A short summary",
            IntakeField::Description => "Description of the vulnerability",
            IntakeField::StepsToReproduce => "Steps to reproduce the issue",
            IntakeField::Impact => "Potential impact of the vulnerability",
            IntakeField::SuggestedMitigation => "Any mitigations you have identified",
            IntakeField::AffectedVersions => "Affected versions",
            IntakeField::Contact => "How to reach you",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Intake {
    #[serde(default)]
    pub required: Vec<IntakeField>,
    /// Channels the policy names besides embargo's own (an email address, a support button).
    #[serde(default)]
    pub channels: Vec<String>,
    /// Text shown above the report form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guidance: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    time_zone: Spanned<String>,
    #[serde(default)]
    working_days: Option<Spanned<Vec<String>>>,
    #[serde(default = "no_holidays")]
    holidays: Spanned<Vec<String>>,
    #[serde(default)]
    business_hours: Option<Spanned<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credit {
    /// Whether reporters are credited (with their consent, under their chosen name).
    pub offered: bool,
    pub text: String,
}

/// The actions that can count as the team's first answer to a report.
pub const ACKNOWLEDGING_ACTIONS: [&str; 8] = [
    "acknowledge",
    "start_triage",
    "request_information",
    "message_reporter",
    "not_a_vulnerability",
    "out_of_scope",
    "duplicate",
    "spam",
];

/// How the policy's clocks read a case's history where published policies
/// differ (`[clock_settings]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockSettings {
    /// The actions that count as acknowledging a report (`acknowledged`):
    /// by default the acknowledgement itself, starting triage, a question
    /// or any message to the reporter, and a reasoned rejection. Closing as
    /// spam or duplicate answers nobody: it cancels the acknowledgement
    /// clock instead of meeting it, unless listed here.
    #[serde(default = "default_acknowledged_by")]
    pub acknowledged_by: Vec<String>,
    /// Whether a clock whose `when` condition became false and then true
    /// again (High, Medium, High) starts again from the latest time it
    /// became true. When false, only the first time counts.
    #[serde(default = "yes")]
    pub restart_when_condition_returns: bool,
    /// The severity clocks assume for a case nobody has assessed yet, so
    /// that a severity-bound clock (policy 003's remediation) still runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_severity: Option<Severity>,
}

fn default_acknowledged_by() -> Vec<String> {
    [
        "acknowledge",
        "start_triage",
        "request_information",
        "message_reporter",
        "not_a_vulnerability",
        "out_of_scope",
    ]
    .map(str::to_owned)
    .to_vec()
}

fn yes() -> bool {
    true
}

impl Default for ClockSettings {
    fn default() -> Self {
        ClockSettings {
            acknowledged_by: default_acknowledged_by(),
            restart_when_condition_returns: true,
            default_severity: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppliesTo {
    #[serde(default)]
    products: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    format: Spanned<u32>,
    id: Spanned<String>,
    name: String,
    #[serde(default)]
    revision: Option<String>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    applies_to: Option<AppliesTo>,
    organization: Organization,
    #[serde(default)]
    intake: Intake,
    calendar: CalendarFile,
    #[serde(default)]
    severity: Vec<SeverityLevel>,
    #[serde(default)]
    clock: Vec<ClockFile>,
    #[serde(default)]
    clock_settings: ClockSettings,
    #[serde(default)]
    finding_clock: Vec<FindingClockFile>,
    #[serde(default)]
    scanning: Option<Spanned<Scanning>>,
    #[serde(default)]
    scope_rule: Vec<ScopeRule>,
    #[serde(default)]
    communication: Vec<CommunicationRule>,
    #[serde(default)]
    disclosure: Option<Statement>,
    #[serde(default)]
    credit: Option<Credit>,
    #[serde(default)]
    security_txt_expires_days: Option<Spanned<u32>>,
    #[serde(default)]
    cra: Option<Spanned<CraSection>>,
}

/// A validated policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Policy {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Products this policy governs; empty means all.
    pub products: Vec<String>,
    pub organization: Organization,
    pub intake: Intake,
    #[serde(skip)]
    #[schema(ignore)]
    pub calendar: BusinessCalendar,
    /// The calendar's time zone (IANA name).
    pub time_zone: String,
    pub severity: Vec<SeverityLevel>,
    pub clocks: Vec<ClockRule>,
    pub clock_settings: ClockSettings,
    /// Remediation deadlines of the portfolio's findings, first match wins.
    pub finding_clocks: Vec<FindingClock>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scanning: Option<Scanning>,
    pub scope_rules: Vec<ScopeRule>,
    pub communication: Vec<CommunicationRule>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disclosure: Option<Statement>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit: Option<Credit>,
    pub security_txt_expires_days: u32,
    /// The Cyber Resilience Act's reporting duties, when the policy takes
    /// them on: its Article 14 clocks are among `clocks`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cra: Option<CraSection>,
}

// ------------------------------------------------------------ the Cyber Resilience Act

/// A product in the scope of the Act.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CraProduct {
    /// The product as cases name it.
    pub product: String,
    /// The end of its support period (Article 13(8)), a date.
    pub support_until: chrono::NaiveDate,
    /// Where the product is made available (ISO codes); the early warning names them.
    #[serde(default)]
    pub member_states: Vec<String>,
}

/// The policy's `[cra]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CraSection {
    pub manufacturer: crate::case::cra::Manufacturer,
    /// The Member State of the main establishment in the Union (ISO code):
    /// its CSIRT coordinates.
    pub main_establishment: String,
    pub coordinator: crate::case::cra::Csirt,
    /// How soon impacted users are informed once the team is aware (Article
    /// 14(8) says "without undue delay"; this is the team's own reading).
    #[serde(default = "default_users_informed")]
    pub users_informed_within: String,
    /// How the Act's periods in hours are counted where a change of summer
    /// time falls inside them.
    #[serde(default)]
    pub hours: CraHours,
    #[serde(default)]
    pub products: Vec<CraProduct>,
}

/// How the `[cra]` clocks count the Act's 24 and 72 hours.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CraHours {
    /// Whole days of the local wall clock: 24 hours after Saturday 23:00
    /// end on Sunday at 23:00, whether or not summer time ended that night
    /// (the night is then 25 hours long, and in March 23). The reading the
    /// team and its coordinator share when both look at a local clock.
    #[default]
    WallClock,
    /// Elapsed time: 24 hours after Saturday 23:00 CEST end on Sunday at
    /// 22:00 CET when summer time ends that night. Never later than the
    /// strictest reading in October (a team whose counsel reads the Act so).
    Elapsed,
}

impl CraHours {
    /// The clock target for a period of `hours`: whole days on the local
    /// wall clock when counted so and the period is a number of days.
    #[must_use]
    pub fn target(self, hours: u32) -> Target {
        match self {
            CraHours::WallClock if hours.is_multiple_of(24) => Target::Days(hours / 24),
            _ => Target::Hours(hours),
        }
    }
}

fn default_users_informed() -> String {
    "72 hours".to_owned()
}

/// The ids of the clocks a `[cra]` section adds.
pub const EARLY_WARNING_CLOCK: &str = "cra_early_warning";
pub const NOTIFICATION_CLOCK: &str = "cra_notification";
pub const FINAL_REPORT_CLOCK: &str = "cra_final_report";
pub const INCIDENT_FINAL_REPORT_CLOCK: &str = "cra_incident_final_report";
pub const USERS_INFORMED_CLOCK: &str = "cra_users_informed";

impl CraSection {
    /// Checks the section; an error names the key.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let member = |code: &str| crate::case::cra::MEMBER_STATES.contains(&code);
        if self.manufacturer.name.trim().is_empty() {
            return Err(("cra.manufacturer.name".into(), "must not be empty".into()));
        }
        if self.manufacturer.contact.trim().is_empty() {
            return Err((
                "cra.manufacturer.contact".into(),
                "must say how the CSIRT reaches you".into(),
            ));
        }
        if !member(&self.main_establishment) {
            return Err((
                "cra.main_establishment".into(),
                format!(
                    "`{}` is not the ISO code of an EU Member State (AT, BE, …, SE)",
                    self.main_establishment
                ),
            ));
        }
        if self.coordinator.name.trim().is_empty() {
            return Err((
                "cra.coordinator.name".into(),
                "name the CSIRT designated as coordinator".into(),
            ));
        }
        self.users_informed_within
            .parse::<Target>()
            .map_err(|m| ("cra.users_informed_within".to_owned(), m))
            .and_then(|t| {
                if t.is_business() || t == Target::ReporterDeadline {
                    Err((
                        "cra.users_informed_within".to_owned(),
                        "Article 14 runs on the wall clock: give hours or days".to_owned(),
                    ))
                } else {
                    Ok(())
                }
            })?;
        let mut seen = BTreeSet::new();
        for (i, p) in self.products.iter().enumerate() {
            if !seen.insert(p.product.as_str()) {
                return Err((
                    format!("cra.products[{i}].product"),
                    format!("`{}` is listed twice", p.product),
                ));
            }
            if let Some(bad) = p.member_states.iter().find(|m| !member(m)) {
                return Err((
                    format!("cra.products[{i}].member_states"),
                    format!("`{bad}` is not the ISO code of an EU Member State"),
                ));
            }
        }
        Ok(())
    }

    /// The product's entry, if the product is in scope.
    #[must_use]
    pub fn product(&self, name: &str) -> Option<&CraProduct> {
        self.products
            .iter()
            .find(|p| p.product.eq_ignore_ascii_case(name))
    }

    /// The Article 14 clocks: hours from awareness (counted as `hours` says), 14 days from
    /// the corrective measure, one month from an incident's notification.
    #[must_use]
    pub fn clocks(&self) -> Vec<ClockRule> {
        const BOTH: &[crate::case::cra::CraSubject] = &[
            crate::case::cra::CraSubject::Vulnerability,
            crate::case::cra::CraSubject::Incident,
        ];
        let users = match self.users_informed_within.parse() {
            Ok(Target::Hours(n)) => self.hours.target(n),
            Ok(other) => other,
            Err(_) => self.hours.target(72),
        };
        let rule = |id: &str,
                    name: &str,
                    promise: &str,
                    start: Trigger,
                    stop: Trigger,
                    target: Target,
                    subjects: &[crate::case::cra::CraSubject]| ClockRule {
            id: id.to_owned(),
            name: name.to_owned(),
            promise: promise.to_owned(),
            start,
            stop,
            target,
            warn_percent: 50,
            pause_while_waiting_on_reporter: false,
            public: false,
            when: Condition {
                cra: subjects.to_vec(),
                ..Condition::default()
            },
            on_breach: Some(format!(
                "send it now through the single reporting platform to {} and ENISA, and record the submission",
                self.coordinator.name
            )),
        };
        vec![
            rule(
                EARLY_WARNING_CLOCK,
                "CRA early warning",
                "An early warning within 24 hours of becoming aware (Article 14(2)(a), 14(4)(a)).",
                Trigger::Aware,
                Trigger::EarlyWarningSubmitted,
                self.hours.target(24),
                BOTH,
            ),
            rule(
                NOTIFICATION_CLOCK,
                "CRA notification",
                "The vulnerability or incident notification within 72 hours of becoming aware (Article 14(2)(b), 14(4)(b)).",
                Trigger::Aware,
                Trigger::NotificationSubmitted,
                self.hours.target(72),
                BOTH,
            ),
            rule(
                FINAL_REPORT_CLOCK,
                "CRA final report",
                "A final report within 14 days after a corrective or mitigating measure is available (Article 14(2)(c)).",
                Trigger::MeasureAvailable,
                Trigger::FinalReportSubmitted,
                Target::Days(14),
                &[crate::case::cra::CraSubject::Vulnerability],
            ),
            rule(
                INCIDENT_FINAL_REPORT_CLOCK,
                "CRA incident final report",
                "A final report within one month after the incident notification (Article 14(4)(c)).",
                Trigger::NotificationSubmitted,
                Trigger::FinalReportSubmitted,
                Target::Months(1),
                &[crate::case::cra::CraSubject::Incident],
            ),
            ClockRule {
                on_breach: Some(
                    "inform the impacted users, with the advisory as CSAF and the release's VEX"
                        .into(),
                ),
                ..rule(
                    USERS_INFORMED_CLOCK,
                    "CRA users informed",
                    "Impacted users informed without undue delay, in a machine-readable form where appropriate (Article 14(8)).",
                    Trigger::Aware,
                    Trigger::CustomersNotified,
                    users,
                    BOTH,
                )
            },
        ]
    }
}

/// The line of the first occurrence of a quoted value, for errors about values
/// whose position serde does not keep.
fn line_with(text: &str, value: &str) -> Option<usize> {
    let quoted = format!("\"{value}\"");
    text.lines()
        .position(|l| l.contains(&quoted))
        .map(|i| i + 1)
}

fn line_of(text: &str, offset: usize) -> Option<usize> {
    (offset > 0 || text.is_empty())
        .then(|| text[..offset.min(text.len())].matches('\n').count() + 1)
}

impl Policy {
    /// Parses and validates a policy file.
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        if text.len() > MAX_POLICY_BYTES {
            return Err(PolicyError {
                line: None,
                key: "(file)".into(),
                message: format!(
                    "is {} bytes; a policy file is at most {MAX_POLICY_BYTES} (1 MiB)",
                    text.len()
                ),
            });
        }
        let file: PolicyFile = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
        let err = |span: std::ops::Range<usize>, key: &str, message: String| PolicyError {
            line: line_of(text, span.start),
            key: key.to_owned(),
            message,
        };
        if *file.format.get_ref() != FORMAT_VERSION {
            return Err(err(
                file.format.span(),
                "format",
                format!(
                    "this embargo reads policy format {FORMAT_VERSION}, not {}",
                    file.format.get_ref()
                ),
            ));
        }
        check_slug(file.id.get_ref()).map_err(|m| err(file.id.span(), "id", m))?;

        for (i, contact) in file.organization.contacts.iter().enumerate() {
            if !(contact.starts_with("mailto:")
                || contact.starts_with("https://")
                || contact.starts_with("tel:"))
            {
                return Err(PolicyError {
                    line: line_with(text, contact),
                    key: format!("organization.contacts[{i}]"),
                    message: format!("`{contact}` must be a URI: mailto:, https: or tel:"),
                });
            }
        }
        for (key, url) in [
            ("organization.policy_url", &file.organization.policy_url),
            ("organization.encryption", &file.organization.encryption),
            (
                "organization.acknowledgments",
                &file.organization.acknowledgments,
            ),
        ] {
            if let Some(url) = url
                && !url.starts_with("https://")
            {
                return Err(PolicyError {
                    line: line_with(text, url),
                    key: key.into(),
                    message: format!("`{url}` must be an https:// URL"),
                });
            }
        }

        let cal = &file.calendar;
        let time_zone = Zone::named(cal.time_zone.get_ref()).ok_or_else(|| {
            err(
                cal.time_zone.span(),
                "calendar.time_zone",
                format!(
                    "`{}` is not an IANA time zone such as Europe/Paris",
                    cal.time_zone.get_ref()
                ),
            )
        })?;
        let working_days = match &cal.working_days {
            None => vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            Some(days) => days
                .get_ref()
                .iter()
                .map(|d| {
                    parse_weekday(d).ok_or_else(|| {
                        err(
                            days.span(),
                            "calendar.working_days",
                            format!("`{d}` is not a day of the week (mon, tue, ...)"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let mut holidays = Vec::new();
        let mut recurring = Vec::new();
        for h in cal.holidays.get_ref() {
            if let Some(md) = h.strip_prefix("--") {
                let parsed = md
                    .split_once('-')
                    .and_then(|(m, d)| Some((m.parse::<u32>().ok()?, d.parse::<u32>().ok()?)));
                match parsed {
                    Some(md) => recurring.push(md),
                    None => {
                        return Err(err(
                            cal.holidays.span(),
                            "calendar.holidays",
                            format!("`{h}` is not a recurring date such as --12-25"),
                        ));
                    }
                }
            } else {
                let date = NaiveDate::parse_from_str(h, "%Y-%m-%d").map_err(|_| {
                    err(
                        cal.holidays.span(),
                        "calendar.holidays",
                        format!(
                            "`{h}` is not a date such as 2026-12-25, or --12-25 for every year"
                        ),
                    )
                })?;
                holidays.push(date);
            }
        }
        let hours = match &cal.business_hours {
            None => None,
            Some(spec) => Some(parse_hours(spec.get_ref()).ok_or_else(|| {
                err(
                    spec.span(),
                    "calendar.business_hours",
                    format!(
                        "`{}` is not a range such as \"09:00-17:00\"",
                        spec.get_ref()
                    ),
                )
            })?),
        };
        let calendar = BusinessCalendar::new(time_zone, &working_days, holidays, recurring, hours)
            .map_err(|e| {
                // The error names its own key's line.
                let span = match e.field {
                    "working_days" => cal.working_days.as_ref().map(Spanned::span),
                    "business_hours" => cal.business_hours.as_ref().map(Spanned::span),
                    "holidays" => Some(cal.holidays.span()),
                    _ => None,
                }
                .filter(|s| s.start > 0)
                .unwrap_or_else(|| cal.time_zone.span());
                err(span, &format!("calendar.{}", e.field), e.message)
            })?;

        let mut ids = BTreeSet::new();
        let mut clocks = Vec::new();
        for c in file.clock {
            let key = format!("clock `{}`", c.id.get_ref());
            check_slug(c.id.get_ref()).map_err(|m| err(c.id.span(), "clock.id", m))?;
            if !ids.insert(c.id.get_ref().clone()) {
                return Err(err(
                    c.id.span(),
                    "clock.id",
                    format!("`{}` is used by two clocks", c.id.get_ref()),
                ));
            }
            let target: Target = c
                .target
                .get_ref()
                .parse()
                .map_err(|m| err(c.target.span(), &format!("{key}.target"), m))?;
            let warn = *c.warn_percent.get_ref();
            if !(1..=99).contains(&warn) {
                return Err(err(
                    c.warn_percent.span(),
                    &format!("{key}.warn_percent"),
                    "must be between 1 and 99".into(),
                ));
            }
            if c.start == c.stop {
                return Err(err(
                    c.id.span(),
                    &format!("{key}.stop"),
                    "a clock cannot stop on the event that starts it".into(),
                ));
            }
            if c.start == Trigger::SeverityAssessed
                && c.when.severity.is_empty()
                && c.when.level.is_empty()
            {
                return Err(err(
                    c.id.span(),
                    &format!("{key}.when.severity"),
                    "a clock started by the severity assessment must say which severities (or levels)".into(),
                ));
            }
            for level in &c.when.level {
                find_level(&file.severity, level).map_err(|message| PolicyError {
                    line: line_with(text, level).or_else(|| line_of(text, c.id.span().start)),
                    key: format!("{key}.when.level"),
                    message,
                })?;
            }
            if target == Target::ReporterDeadline && !c.when.reporter_deadline {
                return Err(err(c.target.span(), &format!("{key}.when.reporter_deadline"), "a clock on the reporter's deadline applies only when there is one: set when.reporter_deadline = true".into()));
            }
            clocks.push(ClockRule {
                id: c.id.into_inner(),
                name: c.name,
                promise: c.promise,
                start: c.start,
                stop: c.stop,
                target,
                warn_percent: warn,
                pause_while_waiting_on_reporter: c.pause_while_waiting_on_reporter,
                public: c.public,
                when: c.when,
                on_breach: c.on_breach,
            });
        }
        let cra = match file.cra {
            None => None,
            Some(section) => {
                let span = section.span();
                let section = section.into_inner();
                section
                    .validate()
                    .map_err(|(key, message)| err(span.clone(), &key, message))?;
                for clock in section.clocks() {
                    if ids.contains(&clock.id) {
                        // The policy's own clock of that id wins: a team may
                        // keep a stricter target than the Act's.
                        continue;
                    }
                    clocks.push(clock);
                }
                Some(section)
            }
        };
        let mut finding_ids = BTreeSet::new();
        let mut finding_clocks = Vec::new();
        for c in file.finding_clock {
            let key = format!("finding_clock `{}`", c.id.get_ref());
            check_slug(c.id.get_ref()).map_err(|m| err(c.id.span(), "finding_clock.id", m))?;
            if !finding_ids.insert(c.id.get_ref().clone()) {
                return Err(err(
                    c.id.span(),
                    "finding_clock.id",
                    format!("`{}` is used by two finding clocks", c.id.get_ref()),
                ));
            }
            let target: Target = c
                .target
                .get_ref()
                .parse()
                .map_err(|m| err(c.target.span(), &format!("{key}.target"), m))?;
            if target == Target::ReporterDeadline {
                return Err(err(
                    c.target.span(),
                    &format!("{key}.target"),
                    "a finding has no reporter: give a duration".into(),
                ));
            }
            let warn = *c.warn_percent.get_ref();
            if !(1..=99).contains(&warn) {
                return Err(err(
                    c.warn_percent.span(),
                    &format!("{key}.warn_percent"),
                    "must be between 1 and 99".into(),
                ));
            }
            finding_clocks.push(FindingClock {
                id: c.id.into_inner(),
                name: c.name,
                promise: c.promise,
                start: c.start,
                target,
                warn_percent: warn,
                when: c.when,
            });
        }
        let scanning = match file.scanning {
            None => None,
            Some(sc) => {
                let span = sc.span();
                let sc = sc.into_inner();
                if sc.require.is_empty() {
                    return Err(err(
                        span,
                        "scanning.require",
                        "name the scans each product needs: \"sbom\", \"sarif\" or both".into(),
                    ));
                }
                if !(1..=3650).contains(&sc.max_age_days) {
                    return Err(err(
                        span,
                        "scanning.max_age_days",
                        "must be between 1 and 3650".into(),
                    ));
                }
                Some(sc)
            }
        };
        for (i, action) in file.clock_settings.acknowledged_by.iter().enumerate() {
            if !ACKNOWLEDGING_ACTIONS.contains(&action.as_str()) {
                return Err(PolicyError {
                    line: line_with(text, action),
                    key: format!("clock_settings.acknowledged_by[{i}]"),
                    message: format!(
                        "`{action}` is not an action that answers a report; use {}",
                        ACKNOWLEDGING_ACTIONS.join(", ")
                    ),
                });
            }
        }
        let mut rule_ids = BTreeSet::new();
        for r in &file.scope_rule {
            check_slug(&r.id).map_err(|m| PolicyError {
                line: line_with(text, &r.id),
                key: "scope_rule.id".into(),
                message: m,
            })?;
            if !rule_ids.insert(r.id.clone()) {
                return Err(PolicyError {
                    // The second use is the one that clashes.
                    line: text
                        .lines()
                        .enumerate()
                        .filter(|(_, l)| l.contains(&format!("\"{}\"", r.id)))
                        .nth(1)
                        .map(|(i, _)| i + 1),
                    key: "scope_rule.id".into(),
                    message: format!("`{}` is used twice", r.id),
                });
            }
        }
        let expires = match &file.security_txt_expires_days {
            None => 180,
            Some(days) => {
                let d = *days.get_ref();
                if !(1..=364).contains(&d) {
                    return Err(err(
                        days.span(),
                        "security_txt_expires_days",
                        "RFC 9116 asks for less than a year: 1 to 364".into(),
                    ));
                }
                d
            }
        };
        let time_zone = calendar.time_zone().name().to_owned();
        Ok(Policy {
            id: file.id.into_inner(),
            name: file.name,
            revision: file.revision,
            summary: file.summary,
            products: file.applies_to.map(|a| a.products).unwrap_or_default(),
            organization: file.organization,
            intake: file.intake,
            calendar,
            time_zone,
            severity: file.severity,
            clocks,
            clock_settings: file.clock_settings,
            finding_clocks,
            scanning,
            scope_rules: file.scope_rule,
            communication: file.communication,
            disclosure: file.disclosure,
            credit: file.credit,
            security_txt_expires_days: expires,
            cra,
        })
    }

    /// What this valid policy says that is probably not what was meant:
    /// clocks that can never stop, targets too long to give a due time,
    /// severity levels covering the same severity, malformed language tags.
    /// `text` is the file the policy was parsed from (for line numbers).
    #[must_use]
    pub fn warnings(&self, text: &str) -> Vec<PolicyError> {
        let mut out = Vec::new();
        for c in &self.clocks {
            let line = |k: &str| table_key_line(text, &c.id, k);
            let key = |k: &str| format!("clock `{}`.{k}", c.id);
            if let Some(why) = stop_problem(c.start, c.stop) {
                out.push(PolicyError {
                    line: line("stop"),
                    key: key("stop"),
                    message: why,
                });
            }
            if !self.target_reaches(c.target) {
                out.push(PolicyError {
                    line: line("target"),
                    key: key("target"),
                    message: format!(
                        "`{}` gives no due time on this calendar (the arithmetic stops after 30 years): the clock would run for ever",
                        c.target
                    ),
                });
            }
        }
        let mut covered: Vec<(Severity, &str)> = Vec::new();
        for level in &self.severity {
            for s in &level.covers {
                if let Some((_, other)) = covered.iter().find(|(c, _)| c == s) {
                    out.push(PolicyError {
                        line: table_key_line(text, &level.id, "covers"),
                        key: format!("severity `{}`.covers", level.id),
                        message: format!(
                            "`{}` is also covered by level `{other}`: a case of that severity would belong to two levels",
                            s.as_str()
                        ),
                    });
                } else {
                    covered.push((*s, &level.id));
                }
            }
        }
        for (i, tag) in self.organization.languages.iter().enumerate() {
            if !is_language_tag(tag) {
                out.push(PolicyError {
                    line: line_with(text, tag),
                    key: format!("organization.languages[{i}]"),
                    message: format!(
                        "`{tag}` is not a language tag (RFC 5646) such as en, fr or pt-BR"
                    ),
                });
            }
        }
        out
    }

    /// Whether a clock of `target` started now has a due time on this
    /// calendar (a reporter's deadline always does).
    fn target_reaches(&self, target: Target) -> bool {
        let cal = &self.calendar;
        // Any start will do: 2026-01-01 00:00 UTC.
        let from = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH + chrono::TimeDelta::days(20_454);
        match target {
            Target::Hours(_) | Target::ReporterDeadline => true,
            Target::BusinessHours(n) => cal
                .add_business(from, chrono::TimeDelta::hours(i64::from(n)))
                .is_some(),
            Target::BusinessDays(n) => cal.add_business_days(from, n).is_some(),
            Target::Days(n) => cal.add_days(from, n).is_some(),
            Target::Months(n) => cal.add_months(from, n).is_some(),
        }
    }

    /// Checks that a report carries every field this policy requires at
    /// intake; the error names the first missing one.
    pub fn check_required(&self, report: &crate::case::NewCase) -> Result<(), crate::DomainError> {
        match self.missing_required(report).first() {
            Some((name, field)) => Err(crate::DomainError::invalid(
                *name,
                format!("is required by this security policy: {}", field.label()),
            )),
            None => Ok(()),
        }
    }

    /// Every field this policy requires at intake that `report` lacks (blank
    /// counts as missing), with its path in the report (`report.impact`), in
    /// the policy's order.
    #[must_use]
    pub fn missing_required(
        &self,
        report: &crate::case::NewCase,
    ) -> Vec<(&'static str, IntakeField)> {
        let blank = |v: &Option<String>| v.as_deref().is_none_or(|t| t.trim().is_empty());
        self.intake
            .required
            .iter()
            .filter_map(|field| {
                let (missing, name) = match field {
                    IntakeField::Summary => {
                        (report.report.summary.trim().is_empty(), "report.summary")
                    }
                    IntakeField::Description => (
                        report.report.description.trim().is_empty(),
                        "report.description",
                    ),
                    IntakeField::StepsToReproduce => (
                        blank(&report.report.steps_to_reproduce),
                        "report.steps_to_reproduce",
                    ),
                    IntakeField::Impact => (blank(&report.report.impact), "report.impact"),
                    IntakeField::SuggestedMitigation => (
                        blank(&report.report.suggested_mitigation),
                        "report.suggested_mitigation",
                    ),
                    IntakeField::AffectedVersions => (
                        blank(&report.report.affected_versions),
                        "report.affected_versions",
                    ),
                    IntakeField::Contact => (blank(&report.reporter.contact), "reporter.contact"),
                };
                missing.then_some((name, *field))
            })
            .collect()
    }

    /// Whether this policy governs `product`.
    #[must_use]
    pub fn governs(&self, product: &str) -> bool {
        self.products.is_empty() || self.products.iter().any(|p| p == product)
    }

    /// The language (BCP 47) the policy speaks to people in: its first
    /// listed language, or English.
    #[must_use]
    pub fn language(&self) -> &str {
        self.organization
            .languages
            .first()
            .map_or("en", String::as_str)
    }

    /// The scope rules a report's text seems to fall under: every
    /// significant word of a rule's title (four letters or more) appears in
    /// the text. A suggestion for the team, never a decision: the rules are
    /// a filter, and a person closes the case citing one or overrides it.
    #[must_use]
    pub fn suggested_scope_rules(&self, text: &str) -> Vec<&ScopeRule> {
        let words = |t: &str| -> Vec<String> {
            t.split(|c: char| !c.is_alphanumeric())
                .filter(|w| w.chars().count() >= 4)
                .map(str::to_lowercase)
                .collect()
        };
        let seen: BTreeSet<String> = words(text).into_iter().collect();
        self.scope_rules
            .iter()
            .filter(|r| {
                let needed = words(&r.title);
                !needed.is_empty() && needed.iter().all(|w| seen.contains(w))
            })
            .collect()
    }

    /// The policy's severity level `id`, or why not (naming its levels).
    pub fn severity_level(&self, id: &str) -> Result<&SeverityLevel, String> {
        find_level(&self.severity, id)
    }

    #[must_use]
    pub fn scope_rule(&self, id: &str) -> Option<&ScopeRule> {
        self.scope_rules.iter().find(|r| r.id == id)
    }

    #[must_use]
    pub fn clock(&self, id: &str) -> Option<&ClockRule> {
        self.clocks.iter().find(|c| c.id == id)
    }

    /// The policy in plain words: each clock and rule, one paragraph each.
    #[must_use]
    pub fn explain(&self) -> String {
        let mut out = format!("{} ({})\n", self.name, self.id);
        if let Some(r) = &self.revision {
            out.push_str(&format!("revision {r}\n"));
        }
        out.push_str(&format!(
            "Applies to {}.\n",
            if self.products.is_empty() {
                "every product".to_owned()
            } else {
                self.products.join(", ")
            }
        ));
        let hours = self.calendar.business_hours().map_or_else(
            || "whole days".to_owned(),
            |(o, c)| format!("{}-{}", o.format("%H:%M"), c.format("%H:%M")),
        );
        out.push_str(&format!(
            "Business time: {} in {}.\n",
            hours, self.time_zone
        ));
        if !self.intake.required.is_empty() {
            out.push_str("\nA report must include:\n");
            for f in &self.intake.required {
                out.push_str(&format!("  - {}\n", f.label()));
            }
        }
        out.push_str("\nClocks:\n");
        if self.clocks.is_empty() {
            out.push_str("  (this policy promises no deadlines)\n");
        }
        for c in &self.clocks {
            out.push_str(&format!("  {} [{}]: \"{}\"\n", c.name, c.id, c.promise));
            let due = if c.target == Target::ReporterDeadline {
                "at the reporter's own deadline".to_owned()
            } else {
                format!("{} after it starts", c.target)
            };
            out.push_str(&format!(
                "    starts when {}, stops when {}, due {due}",
                c.start.describe(),
                c.stop.describe()
            ));
            out.push_str(&format!("; warns at {}%", c.warn_percent));
            if c.pause_while_waiting_on_reporter {
                out.push_str("; paused while waiting on the reporter");
            }
            out.push_str(if c.public {
                "; shown to the reporter"
            } else {
                "; team only"
            });
            out.push_str(".\n");
            let mut conditions = Vec::new();
            if !c.when.severity.is_empty() {
                conditions.push(format!(
                    "severity is {}",
                    c.when
                        .severity
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(" or ")
                ));
            }
            if !c.when.level.is_empty() {
                let names: Vec<&str> = c
                    .when
                    .level
                    .iter()
                    .map(|id| {
                        self.severity
                            .iter()
                            .find(|l| l.id == *id)
                            .map_or(id.as_str(), |l| l.name.as_str())
                    })
                    .collect();
                conditions.push(format!("the severity level is {}", names.join(" or ")));
            }
            if let Some(e) = c.when.exposure {
                conditions.push(format!("exposure is {}", e.as_str()));
            }
            if c.when.reporter_deadline {
                conditions.push("the reporter gave a disclosure deadline".into());
            }
            if !conditions.is_empty() {
                out.push_str(&format!("    Applies when {}.\n", conditions.join(" and ")));
            }
            if let Some(b) = &c.on_breach {
                out.push_str(&format!("    When breached: {b}.\n"));
            }
        }
        if !self.severity.is_empty() {
            out.push_str("\nSeverity levels:\n");
            for s in &self.severity {
                let mapping = if s.covers.is_empty() {
                    "chosen by a person from these criteria".to_owned()
                } else {
                    format!(
                        "covers CVSS {}",
                        s.covers
                            .iter()
                            .map(|v| v.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                out.push_str(&format!(
                    "  {} [{}]: {} ({mapping})\n",
                    s.name, s.id, s.description
                ));
            }
        }
        if !self.communication.is_empty() {
            out.push_str("\nCommunication:\n");
            for c in &self.communication {
                out.push_str(&format!(
                    "  {}: {}\n",
                    c.severity
                        .iter()
                        .map(|v| v.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    c.text
                ));
            }
        }
        if !self.scope_rules.is_empty() {
            out.push_str("\nNot considered vulnerabilities:\n");
            for r in &self.scope_rules {
                out.push_str(&format!(
                    "  {} [{}]: the reporter reads \"{}\"\n",
                    r.title, r.id, r.reporter_text
                ));
            }
        }
        if let Some(d) = &self.disclosure {
            out.push_str(&format!("\nDisclosure: {}\n", d.text));
        }
        if let Some(c) = &self.credit {
            out.push_str(&format!("\nCredit: {}\n", c.text));
        }
        if let Some(sc) = &self.scanning {
            let kinds: Vec<&str> = sc
                .require
                .iter()
                .map(|k| match k {
                    ScanKind::Sbom => "an SBOM upload (dependency scanning)",
                    ScanKind::Sarif => "a SARIF import (static or dynamic analysis)",
                })
                .collect();
            out.push_str(&format!(
                "\nScanning: \"{}\"\n  {} must have {} within {} days; an older one or none opens a finding on its latest release.\n",
                sc.promise,
                if sc.products.is_empty() { "every product".to_owned() } else { sc.products.join(", ") },
                kinds.join(" and "),
                sc.max_age_days
            ));
        }
        out.push_str("\nFindings (vulnerable components of the portfolio):\n");
        if self.finding_clocks.is_empty() {
            out.push_str("  (no remediation deadline for findings)\n");
        }
        for c in &self.finding_clocks {
            out.push_str(&format!("  {} [{}]: \"{}\"\n", c.name, c.id, c.promise));
            let mut when = Vec::new();
            if !c.when.severity.is_empty() {
                let s: Vec<&str> = c.when.severity.iter().map(|s| s.as_str()).collect();
                when.push(format!("severity {}", s.join(" or ")));
            }
            if let Some(e) = c.when.exposure {
                when.push(format!("product exposure {}", e.as_str()));
            }
            out.push_str(&format!(
                "    for findings of {}: starts when {}, due {} after it; warns at {}%\n",
                if when.is_empty() {
                    "any severity".to_owned()
                } else {
                    when.join(", ")
                },
                c.start.describe(),
                c.target,
                c.warn_percent
            ));
        }
        out
    }
}

fn toml_error(text: &str, e: &toml::de::Error) -> PolicyError {
    let message = e.message().to_owned();
    let line = e.span().and_then(|s| line_of(text, s.start).or(Some(1)));
    // serde names unknown and missing keys in the message; say which, under
    // the table the line is in (`clock[2].pubilc`).
    let key = message
        .split('`')
        .nth(1)
        .map_or_else(|| "(file)".to_owned(), str::to_owned);
    let key = match (line, key.as_str()) {
        (_, "(file)") | (None, _) => key,
        (Some(l), _) => match table_path(text, l) {
            Some(table) => format!("{table}.{key}"),
            None => key,
        },
    };
    PolicyError { line, key, message }
}

/// The table a line of a TOML file is in: `calendar`, or `clock[2]` for the
/// second `[[clock]]` (1-based, as people count them); `None` at the top.
fn table_path(text: &str, line: usize) -> Option<String> {
    let mut current: Option<String> = None;
    let mut arrays: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for l in text.lines().take(line) {
        let t = l.trim();
        if let Some(name) = t.strip_prefix("[[").and_then(|r| r.split("]]").next()) {
            let name = name.trim().to_owned();
            let n = arrays.entry(name.clone()).or_default();
            *n += 1;
            current = Some(format!("{name}[{n}]"));
        } else if let Some(name) = t.strip_prefix('[').and_then(|r| r.split(']').next()) {
            current = Some(name.trim().to_owned());
        }
    }
    current
}

/// The line of `key` in the `[[clock]]` or `[[severity]]` whose id is `id`
/// (else the id's line).
fn table_key_line(text: &str, id: &str, key: &str) -> Option<usize> {
    let start = line_with(text, id)?;
    text.lines()
        .enumerate()
        .skip(start.saturating_sub(1))
        .take_while(|(i, l)| *i + 1 == start || !l.trim_start().starts_with('['))
        .find(|(_, l)| {
            l.trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|(i, _)| i + 1)
        .or(Some(start))
}

/// Where each start and stop event falls in the workflow; `None` for
/// events that can come at any point (a severity, a customer notice).
fn workflow_rank(t: Trigger) -> Option<u8> {
    match t {
        Trigger::Reported => Some(0),
        Trigger::Acknowledged => Some(1),
        Trigger::Triaged => Some(2),
        Trigger::PatchAvailable => Some(3),
        Trigger::Released => Some(4),
        Trigger::Disclosed => Some(5),
        Trigger::Resolved => Some(6),
        Trigger::SeverityAssessed
        | Trigger::CustomersNotified
        | Trigger::Aware
        | Trigger::MeasureAvailable
        | Trigger::EarlyWarningSubmitted
        | Trigger::NotificationSubmitted
        | Trigger::FinalReportSubmitted => None,
    }
}

/// Why a clock from `start` to `stop` may never stop, if it may not.
fn stop_problem(start: Trigger, stop: Trigger) -> Option<String> {
    let name = |t: Trigger| {
        serde_json::to_value(t)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    match (workflow_rank(start), workflow_rank(stop)) {
        (_, Some(0)) => Some(
            "`stop = reported` happens before any clock starts: the clock can never stop"
                .to_owned(),
        ),
        (Some(a), Some(b)) if b < a => Some(format!(
            "`{}` comes before `{}` in the workflow: once started, the clock can never stop",
            name(stop),
            name(start)
        )),
        (None, Some(b)) if b <= 2 => Some(format!(
            "`{}` can happen after `{}` is over (a severity is often set after triage): the clock may never stop",
            name(start),
            name(stop)
        )),
        _ => None,
    }
}

/// The level `id` among `levels`, or why not, naming the levels there are.
fn find_level<'a>(levels: &'a [SeverityLevel], id: &str) -> Result<&'a SeverityLevel, String> {
    levels.iter().find(|l| l.id == id).ok_or_else(|| {
        let known: Vec<&str> = levels.iter().map(|l| l.id.as_str()).collect();
        format!(
            "`{id}` is not a severity level of this policy; its levels: {}",
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        )
    })
}

/// A language tag as RFC 5646 shapes it in practice: an ISO 639 language
/// of 2 or 3 letters (the longer forms the grammar allows are reserved or
/// unregistered), then subtags of 1–8 letters and digits.
fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let primary = parts.next().unwrap_or_default();
    (2..=3).contains(&primary.len())
        && primary.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

fn check_slug(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{id}` must be 1 to 64 lowercase letters, digits, '-' or '_'"
        ))
    }
}

fn parse_weekday(s: &str) -> Option<Weekday> {
    match s.to_ascii_lowercase().as_str() {
        "mon" | "monday" => Some(Weekday::Mon),
        "tue" | "tuesday" => Some(Weekday::Tue),
        "wed" | "wednesday" => Some(Weekday::Wed),
        "thu" | "thursday" => Some(Weekday::Thu),
        "fri" | "friday" => Some(Weekday::Fri),
        "sat" | "saturday" => Some(Weekday::Sat),
        "sun" | "sunday" => Some(Weekday::Sun),
        _ => None,
    }
}

fn parse_hours(s: &str) -> Option<(NaiveTime, NaiveTime)> {
    let (open, close) = s.split_once('-')?;
    Some((
        NaiveTime::parse_from_str(open.trim(), "%H:%M").ok()?,
        NaiveTime::parse_from_str(close.trim(), "%H:%M").ok()?,
    ))
}

/// The policies of an installation: at most one for all products, and any
/// number for named products.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicySet {
    policies: Vec<Policy>,
}

impl PolicySet {
    /// Checks that ids are unique and that at most one policy covers every product.
    pub fn new(policies: Vec<Policy>) -> Result<Self, String> {
        if policies.is_empty() {
            return Err("at least one policy is needed".into());
        }
        let mut ids = BTreeSet::new();
        for p in &policies {
            if !ids.insert(&p.id) {
                return Err(format!("two policies have the id `{}`", p.id));
            }
        }
        if policies.iter().filter(|p| p.products.is_empty()).count() > 1 {
            return Err("more than one policy applies to every product; give all but one an applies_to.products list".into());
        }
        Ok(PolicySet { policies })
    }

    /// The policy that governs `product`: one that names it, else the one for
    /// every product, else the first.
    #[must_use]
    pub fn for_product(&self, product: &str) -> &Policy {
        self.policies
            .iter()
            .find(|p| p.products.iter().any(|q| q == product))
            .unwrap_or_else(|| self.primary())
    }

    /// The policy governing an inventory product, named in policies by its
    /// id or its name.
    #[must_use]
    pub fn for_inventory_product(&self, id: &str, name: Option<&str>) -> &Policy {
        self.policies
            .iter()
            .find(|p| {
                p.products
                    .iter()
                    .any(|q| q == id || Some(q.as_str()) == name)
            })
            .unwrap_or_else(|| self.primary())
    }

    /// The policy for every product (or the first): the one published in
    /// `security.txt` and on the policy page.
    #[must_use]
    pub fn primary(&self) -> &Policy {
        self.policies
            .iter()
            .find(|p| p.products.is_empty())
            .unwrap_or(&self.policies[0])
    }

    #[must_use]
    pub fn all(&self) -> &[Policy] {
        &self.policies
    }
}

impl Default for PolicySet {
    /// The `default` preset alone.
    fn default() -> Self {
        let policy = presets::get("default")
            .and_then(|text| Policy::parse(text).ok())
            .map(|p| vec![p])
            .unwrap_or_default();
        PolicySet { policies: policy }
    }
}

/// The policies shipped with embargo, by name: one per published policy it
/// was built from, and `default`, a starting point for a new installation.
pub mod presets {
    pub const ALL: &[(&str, &str)] = &[
        ("default", include_str!("../presets/default.toml")),
        ("segura", include_str!("../presets/segura.toml")),
        (
            "coordinated-disclosure",
            include_str!("../presets/coordinated-disclosure.toml"),
        ),
        ("truvera", include_str!("../presets/truvera.toml")),
        ("zeenea", include_str!("../presets/zeenea.toml")),
        ("opensecops", include_str!("../presets/opensecops.toml")),
        ("eu-cra", include_str!("../presets/eu-cra.toml")),
    ];

    /// A preset's text by name.
    #[must_use]
    pub fn get(name: &str) -> Option<&'static str> {
        ALL.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
format = 1
id = "example"
name = "Example"

[organization]
name = "Example Org"
contacts = ["mailto:security@example.org"]

[calendar]
time_zone = "Europe/Paris"

[[clock]]
id = "ack"
name = "Acknowledge"
promise = "We acknowledge within 24 hours"
start = "reported"
stop = "acknowledged"
target = "24 hours"
"#;

    #[test]
    fn minimal_policy_parses_with_defaults() {
        let p = Policy::parse(MINIMAL).unwrap();
        assert_eq!(p.clocks[0].target, Target::Hours(24));
        assert_eq!(p.clocks[0].warn_percent, 75);
        assert!(p.governs("anything"));
        assert_eq!(p.security_txt_expires_days, 180);
    }

    #[test]
    fn errors_name_line_and_key() {
        let bad = MINIMAL.replace("target = \"24 hours\"", "target = \"24 fortnights\"");
        let e = Policy::parse(&bad).unwrap_err();
        assert_eq!(
            (e.line, e.key.as_str()),
            (Some(19), "clock `ack`.target"),
            "{e}"
        );
        assert!(e.message.contains("fortnights"));

        let bad = MINIMAL.replace("name = \"Example\"", "name = \"Example\"\ncolour = \"red\"");
        let e = Policy::parse(&bad).unwrap_err();
        assert_eq!(e.key, "colour", "{e}");
        assert_eq!(e.line, Some(5), "{e}");

        let bad = MINIMAL.replace("Europe/Paris", "Mars/Olympus");
        let e = Policy::parse(&bad).unwrap_err();
        assert_eq!(
            (e.line, e.key.as_str()),
            (Some(11), "calendar.time_zone"),
            "{e}"
        );

        let bad = MINIMAL.replace("start = \"reported\"", "start = \"whenever\"");
        let e = Policy::parse(&bad).unwrap_err();
        assert_eq!(e.line, Some(17), "{e}");
        assert!(e.to_string().contains("whenever"), "{e}");

        let bad = MINIMAL.replace("mailto:security@example.org", "security@example.org");
        assert_eq!(
            Policy::parse(&bad).unwrap_err().key,
            "organization.contacts[0]"
        );

        let bad = MINIMAL.replace("format = 1", "format = 2");
        assert_eq!(Policy::parse(&bad).unwrap_err().line, Some(2));
    }

    #[test]
    fn check_errors_name_their_own_line_and_table() {
        let bad = MINIMAL.replace(
            "target = \"24 hours\"",
            "target = \"24 hours\"\npubilc = true",
        );
        let e = Policy::parse(&bad).unwrap_err();
        assert_eq!(
            (e.line, e.key.as_str()),
            (Some(20), "clock[1].pubilc"),
            "{e}"
        );
        let bad = MINIMAL.replace(
            "time_zone = \"Europe/Paris\"",
            "time_zone = \"Europe/Paris\"\nworking_days = []",
        );
        let e = Policy::parse(&bad).unwrap_err();
        assert_eq!(
            (e.line, e.key.as_str()),
            (Some(12), "calendar.working_days"),
            "{e}"
        );
        let bad = MINIMAL.replace(
            "time_zone = \"Europe/Paris\"",
            "time_zone = \"Europe/Paris\"\n\nbusiness_hours = \"17:00-09:00\"",
        );
        let e = Policy::parse(&bad).unwrap_err();
        assert_eq!(
            (e.line, e.key.as_str()),
            (Some(13), "calendar.business_hours"),
            "{e}"
        );
        let bad = MINIMAL.replace(
            "time_zone = \"Europe/Paris\"",
            "time_zone = \"Europe/Paris\"\nholidays = [\"--02-30\"]",
        );
        let e = Policy::parse(&bad).unwrap_err();
        assert_eq!(
            (e.line, e.key.as_str()),
            (Some(12), "calendar.holidays"),
            "{e}"
        );
        let huge = format!("{MINIMAL}\n#{}", "x".repeat(MAX_POLICY_BYTES));
        let e = Policy::parse(&huge).unwrap_err();
        assert!(e.message.contains("at most"), "{e}");
    }

    #[test]
    fn warnings_name_the_line_and_key() {
        let text = MINIMAL
            .replace("stop = \"acknowledged\"", "stop = \"reported\"")
            .replace("start = \"reported\"", "start = \"triaged\"");
        let w = Policy::parse(&text).unwrap().warnings(&text);
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(
            (w[0].line, w[0].key.as_str()),
            (Some(18), "clock `ack`.stop")
        );
        assert!(w[0].message.contains("never stop"), "{}", w[0]);

        let text = MINIMAL
            .replace("start = \"reported\"", "start = \"released\"")
            .replace("target = \"24 hours\"", "target = \"100000 business days\"");
        let w = Policy::parse(&text).unwrap().warnings(&text);
        let keys: Vec<_> = w.iter().map(|w| (w.line, w.key.as_str())).collect();
        assert_eq!(
            keys,
            [
                (Some(18), "clock `ack`.stop"),
                (Some(19), "clock `ack`.target")
            ],
            "{w:?}"
        );

        let text = format!(
            "{}\n[[severity]]\nid = \"high\"\nname = \"High\"\ndescription = \"d\"\ncovers = [\"critical\", \"high\"]\n\n\
             [[severity]]\nid = \"urgent\"\nname = \"Urgent\"\ndescription = \"d\"\ncovers = [\"critical\"]\n",
            MINIMAL.replace(
                "contacts = [",
                "languages = [\"english\", \"pt-BR\"]\ncontacts = ["
            )
        );
        let w = Policy::parse(&text).unwrap().warnings(&text);
        let keys: Vec<_> = w.iter().map(|w| (w.line, w.key.as_str())).collect();
        assert_eq!(
            keys,
            [
                (Some(32), "severity `urgent`.covers"),
                (Some(8), "organization.languages[0]")
            ],
            "{w:?}"
        );
        for (name, text) in presets::ALL {
            let p = Policy::parse(text).unwrap();
            assert!(
                p.warnings(text).is_empty(),
                "{name}: {:?}",
                p.warnings(text)
            );
        }
    }

    #[test]
    fn targets_parse_and_print() {
        for (s, t) in [
            ("24 hours", Target::Hours(24)),
            ("1 hour", Target::Hours(1)),
            ("3 business days", Target::BusinessDays(3)),
            ("8 business hours", Target::BusinessHours(8)),
            ("30 days", Target::Days(30)),
            ("3 months", Target::Months(3)),
            ("reporter deadline", Target::ReporterDeadline),
        ] {
            assert_eq!(s.parse::<Target>(), Ok(t));
            assert_eq!(t.to_string().parse::<Target>(), Ok(t));
        }
        for bad in ["", "three days", "0 days", "5 weeks", "3"] {
            assert!(bad.parse::<Target>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_policy_set_picks_the_policy_naming_the_product() {
        let all = Policy::parse(MINIMAL).unwrap();
        let mut dock =
            Policy::parse(&MINIMAL.replace("id = \"example\"", "id = \"dock\"")).unwrap();
        dock.products = vec!["Dock Certs".into()];
        let set = PolicySet::new(vec![dock.clone(), all.clone()]).unwrap();
        assert_eq!(set.for_product("Dock Certs").id, "dock");
        assert_eq!(set.for_product("Anything else").id, "example");
        assert_eq!(set.primary().id, "example");
        assert!(
            PolicySet::new(vec![all.clone(), all.clone()]).is_err(),
            "duplicate ids"
        );
        let mut other = all.clone();
        other.id = "other".into();
        assert!(PolicySet::new(vec![all, other]).is_err(), "two catch-alls");
        assert!(PolicySet::new(Vec::new()).is_err());
        assert_eq!(PolicySet::default().primary().id, "default");
    }

    /// The `[cra]` section of the eu-cra preset, as a team would paste it.
    fn cra_section() -> &'static str {
        let text = presets::get("eu-cra").unwrap();
        &text[text.find("\n[cra]\n").unwrap() + 1..]
    }

    #[test]
    fn the_cra_section_adds_the_article_14_clocks_to_any_preset() {
        for (name, text) in presets::ALL {
            let text = if text.contains("[cra]") {
                (*text).to_owned()
            } else {
                format!("{text}\n{}", cra_section())
            };
            let p = Policy::parse(&text).unwrap_or_else(|e| panic!("{name} + [cra]: {e}"));
            assert!(
                p.warnings(&text).is_empty(),
                "{name}: {:?}",
                p.warnings(&text)
            );
            for id in [
                crate::cra::EARLY_WARNING_CLOCK,
                crate::cra::NOTIFICATION_CLOCK,
                crate::cra::FINAL_REPORT_CLOCK,
                crate::cra::INCIDENT_FINAL_REPORT_CLOCK,
                crate::cra::USERS_INFORMED_CLOCK,
            ] {
                let c = p.clock(id).unwrap_or_else(|| panic!("{name}: no {id}"));
                assert!(!c.target.is_business(), "{name}: {id} on the wall clock");
            }
            assert_eq!(p.cra.as_ref().unwrap().main_establishment, "FR");
        }
        // A team's own, stricter clock of the same id wins.
        let stricter = format!(
            "{}\n[[clock]]\nid = \"cra_early_warning\"\nname = \"Early warning\"\npromise = \"Within 12 hours.\"\nstart = \"aware\"\nstop = \"early_warning_submitted\"\ntarget = \"12 hours\"\n",
            presets::get("eu-cra")
                .unwrap()
                .split("\n[cra]\n")
                .next()
                .unwrap()
        ) + "\n"
            + cra_section();
        let p = Policy::parse(&stricter).unwrap();
        assert_eq!(
            p.clock("cra_early_warning").unwrap().target,
            Target::Hours(12)
        );
        assert_eq!(
            p.clocks
                .iter()
                .filter(|c| c.id == "cra_early_warning")
                .count(),
            1
        );
    }

    #[test]
    fn cra_section_errors_name_the_key() {
        let base = presets::get("eu-cra").unwrap();
        for (from, to, key) in [
            (
                "main_establishment = \"FR\"",
                "main_establishment = \"US\"",
                "cra.main_establishment",
            ),
            (
                "member_states = [\"FR\", \"DE\", \"BE\"]",
                "member_states = [\"FR\", \"XX\"]",
                "cra.products[0].member_states",
            ),
            (
                "users_informed_within = \"72 hours\"",
                "users_informed_within = \"3 business days\"",
                "cra.users_informed_within",
            ),
            (
                "name = \"CERT-FR (ANSSI)\"",
                "name = \" \"",
                "cra.coordinator.name",
            ),
        ] {
            assert!(base.contains(from), "{from}");
            let e = Policy::parse(&base.replace(from, to)).unwrap_err();
            assert_eq!(e.key, key, "{e}");
            assert!(e.line.is_some(), "{e}");
        }
        let e =
            Policy::parse(&base.replace("main_establishment", "main_establishmnt")).unwrap_err();
        assert!(e.to_string().contains("main_establishmnt"), "{e}");
    }

    #[test]
    fn every_preset_is_valid() {
        for (name, text) in presets::ALL {
            let p = Policy::parse(text).unwrap_or_else(|e| panic!("preset {name}: {e}"));
            assert!(!p.explain().is_empty());
        }
    }
}
