//! What a case holds about the EU Cyber Resilience Act's Article 14 (see
//! [`crate::cra`]): active exploitation claimed, confirmed or rejected, a
//! severe incident, the instant of awareness, corrective measures, and the
//! report pack of each stage with its submission. The commands that record
//! them, and how each event folds into the case.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Case, Command, DomainError, EventKind, Severity, text};
use crate::Instant;

/// Where the signal that a vulnerability is actively exploited came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExploitationSource {
    /// CISA's Known Exploited Vulnerabilities catalog.
    Kev,
    /// The reporter's own evidence.
    Reporter,
    /// A threat-intelligence report.
    ThreatIntelligence,
    /// The organization's own telemetry or incident response.
    OwnTelemetry,
}

impl ExploitationSource {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ExploitationSource::Kev => "kev",
            ExploitationSource::Reporter => "reporter",
            ExploitationSource::ThreatIntelligence => "threat_intelligence",
            ExploitationSource::OwnTelemetry => "own_telemetry",
        }
    }

    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            ExploitationSource::Kev => "CISA's Known Exploited Vulnerabilities catalog",
            ExploitationSource::Reporter => "the reporter's evidence",
            ExploitationSource::ThreatIntelligence => "threat intelligence",
            ExploitationSource::OwnTelemetry => "our own telemetry or incident response",
        }
    }
}

/// What the team holds about a case's active exploitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExploitationStatus {
    /// Someone (the reporter, a feed) says it is exploited; not confirmed yet.
    Claimed,
    /// The team holds reliable evidence: Article 14's clocks run.
    Confirmed,
    /// The team looked at the claim and does not hold it.
    Rejected,
}

/// What an Article 14 notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CraSubject {
    /// An actively exploited vulnerability (Article 14(1), (2)).
    Vulnerability,
    /// A severe incident having an impact on the product's security (Article 14(3), (4)).
    Incident,
}

impl CraSubject {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            CraSubject::Vulnerability => "vulnerability",
            CraSubject::Incident => "incident",
        }
    }
}

/// A stage of an Article 14 notification, in the order they are sent.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CraStage {
    /// Within 24 hours of awareness.
    EarlyWarning,
    /// Within 72 hours of awareness (the vulnerability or incident notification).
    Notification,
    /// Asked for by the coordinator CSIRT (Article 14(6)): counts toward no clock.
    Intermediate,
    /// 14 days after a corrective measure (vulnerability), one month after the
    /// notification (incident).
    FinalReport,
}

impl CraStage {
    pub const ALL: [CraStage; 4] = [
        CraStage::EarlyWarning,
        CraStage::Notification,
        CraStage::Intermediate,
        CraStage::FinalReport,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            CraStage::EarlyWarning => "early_warning",
            CraStage::Notification => "notification",
            CraStage::Intermediate => "intermediate",
            CraStage::FinalReport => "final_report",
        }
    }

    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            CraStage::EarlyWarning => "Early warning",
            CraStage::Notification => "Notification",
            CraStage::Intermediate => "Intermediate report",
            CraStage::FinalReport => "Final report",
        }
    }

    /// Whether sending this stage also gives `earlier`: Article 14 asks for
    /// each stage "unless already given", so a notification sent first
    /// carries the early warning with it. An intermediate report stands alone.
    #[must_use]
    pub fn covers(self, earlier: CraStage) -> bool {
        self == earlier
            || (self != CraStage::Intermediate
                && earlier != CraStage::Intermediate
                && self > earlier)
    }
}

impl fmt::Display for CraStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for CraStage {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        CraStage::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                format!("`{s}` is not a stage: early_warning, notification, intermediate or final_report")
            })
    }
}

/// A stage as it was sent to the single reporting platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CraSubmission {
    pub stage: CraStage,
    pub submitted_at: DateTime<Utc>,
    /// The platform's reference for the submission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_reference: Option<String>,
}

/// What a case holds about Article 14: whether it is exploited (or a severe
/// incident), since when the team knows, and what it has sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CraStatus {
    pub subject: CraSubject,
    pub exploitation: ExploitationStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<ExploitationSource>,
    /// When exploitation was first claimed (the default instant of awareness).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_at: Option<DateTime<Utc>>,
    /// When the team became aware (confirmed cases and incidents).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aware_at: Option<DateTime<Utc>>,
    /// When a corrective or mitigating measure became available.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measure_available_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub submissions: Vec<CraSubmission>,
}

impl CraStatus {
    /// Article 14's duty runs: exploitation confirmed, or an incident declared.
    #[must_use]
    pub fn is_confirmed(&self) -> bool {
        self.exploitation == ExploitationStatus::Confirmed
    }

    /// A confirmed actively exploited vulnerability (not an incident): what
    /// advisories and customer notices say.
    #[must_use]
    pub fn is_exploited_vulnerability(&self) -> bool {
        self.subject == CraSubject::Vulnerability && self.is_confirmed()
    }
}

/// The Member States of the European Union, by their ISO 3166-1 alpha-2
/// codes (Greece also as `EL`, the code the EU's own institutions use).
pub const MEMBER_STATES: [&str; 28] = [
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "EL", "HU", "IE", "IT",
    "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
];

/// The manufacturer, as the policy's `[cra.manufacturer]` names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Manufacturer {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Who the CSIRT should contact (an email address or a URL).
    pub contact: String,
}

/// The CSIRT designated as coordinator (Article 14(7)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Csirt {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
}

/// Builds a case's [`CraStatus`] from one event, if the event is about Article 14.
pub(crate) fn apply(case: &mut Case, event: &EventKind, at: Instant) {
    let status = |case: &mut Case, subject| {
        case.cra
            .get_or_insert(CraStatus {
                subject,
                exploitation: ExploitationStatus::Claimed,
                source: None,
                claimed_at: None,
                aware_at: None,
                measure_available_at: None,
                submissions: Vec::new(),
            })
            .subject = subject;
    };
    match event {
        EventKind::ExploitationClaimed { .. } => {
            if case.cra.is_none() {
                status(case, CraSubject::Vulnerability);
            }
            if let Some(c) = case.cra.as_mut() {
                c.claimed_at.get_or_insert(at);
                if c.exploitation == ExploitationStatus::Rejected {
                    c.exploitation = ExploitationStatus::Claimed;
                }
            }
        }
        EventKind::ExploitationConfirmed {
            source, aware_at, ..
        } => {
            status(case, CraSubject::Vulnerability);
            if let Some(c) = case.cra.as_mut() {
                c.exploitation = ExploitationStatus::Confirmed;
                c.source = Some(*source);
                c.claimed_at.get_or_insert(at);
                c.aware_at = Some(*aware_at);
            }
        }
        EventKind::IncidentDeclared { aware_at, .. } => {
            status(case, CraSubject::Incident);
            if let Some(c) = case.cra.as_mut() {
                c.exploitation = ExploitationStatus::Confirmed;
                c.aware_at = Some(*aware_at);
            }
        }
        EventKind::ExploitationRejected { .. } => {
            if let Some(c) = case.cra.as_mut() {
                c.exploitation = ExploitationStatus::Rejected;
            }
        }
        EventKind::AwarenessCorrected { aware_at, .. } => {
            if let Some(c) = case.cra.as_mut() {
                c.aware_at = Some(*aware_at);
            }
        }
        EventKind::CorrectiveMeasureRecorded { available_at, .. } => {
            if let Some(c) = case.cra.as_mut() {
                c.measure_available_at = Some(*available_at);
            }
        }
        EventKind::CraReportSubmitted {
            stage,
            submitted_at,
            platform_reference,
            ..
        } => {
            if let Some(c) = case.cra.as_mut() {
                c.submissions.push(CraSubmission {
                    stage: *stage,
                    submitted_at: *submitted_at,
                    platform_reference: platform_reference.clone(),
                });
            }
        }
        _ => {}
    }
}

/// What an Article 14 command does to `case` at `now` (see [`crate::case::decide`]).
pub(crate) fn decide(
    case: &Case,
    command: &Command,
    now: Instant,
) -> Result<Vec<EventKind>, DomainError> {
    let not_future = |field: &str, at: Instant| {
        if at > now {
            Err(DomainError::invalid(field, "lies in the future"))
        } else {
            Ok(at)
        }
    };
    let link_of = |link: &Option<String>| -> Result<Option<String>, DomainError> {
        let link = text::optional("link", link.as_deref(), 2_000)?;
        if let Some(l) = &link
            && !(l.starts_with("https://") || l.starts_with("http://"))
        {
            return Err(DomainError::invalid("link", "must be an http(s) URL"));
        }
        Ok(link)
    };
    let status = case.cra.as_ref();
    let aware = status.and_then(|s| s.aware_at);
    let event = match command {
        Command::ClaimExploited { evidence } => {
            if status.is_some_and(CraStatus::is_confirmed) {
                return Err(DomainError::invalid(
                    "evidence",
                    "exploitation is already confirmed; add the evidence as a note",
                ));
            }
            EventKind::ExploitationClaimed {
                text: text::required("evidence", evidence, 20_000)?,
            }
        }
        Command::MarkExploited {
            source,
            evidence,
            link,
            evidence_file,
            aware_at,
        } => {
            if let Some(id) = evidence_file
                && !case.attachments.iter().any(|a| a.id == *id)
            {
                return Err(DomainError::invalid(
                    "evidence_file",
                    format!("`{id}` is not a file of this case: attach it first"),
                ));
            }
            if status.is_some_and(|s| s.subject == CraSubject::Incident) {
                return Err(DomainError::invalid(
                    "source",
                    "this case is a severe incident; its clocks already run",
                ));
            }
            if status.is_some_and(CraStatus::is_confirmed) {
                return Err(DomainError::invalid(
                    "source",
                    "exploitation is already confirmed; correct the awareness instead",
                ));
            }
            // By default, the team became aware with the first signal.
            let aware_at = match aware_at {
                Some(at) => not_future("aware_at", crate::to_millis(*at))?,
                None => first_claim(case, now),
            };
            EventKind::ExploitationConfirmed {
                source: *source,
                text: text::required("evidence", evidence, 20_000)?,
                link: link_of(link)?,
                evidence_file: evidence_file.clone(),
                aware_at,
            }
        }
        Command::RejectExploitation { reason } => {
            if status.is_none_or(|s| {
                s.subject == CraSubject::Incident || s.exploitation == ExploitationStatus::Rejected
            }) {
                return Err(DomainError::invalid(
                    "reason",
                    "there is no claim of exploitation to reject",
                ));
            }
            EventKind::ExploitationRejected {
                reason: text::required("reason", reason, 5_000)?,
            }
        }
        Command::DeclareIncident {
            description,
            aware_at,
        } => {
            if status.is_some_and(CraStatus::is_confirmed) {
                return Err(DomainError::invalid(
                    "description",
                    "Article 14 clocks already run for this case",
                ));
            }
            EventKind::IncidentDeclared {
                text: text::required("description", description, 20_000)?,
                aware_at: match aware_at {
                    Some(at) => not_future("aware_at", crate::to_millis(*at))?,
                    None => now,
                },
            }
        }
        Command::CorrectAwareness { aware_at, reason } => {
            if aware.is_none() {
                return Err(DomainError::invalid(
                    "aware_at",
                    "exploitation is not confirmed (nor an incident declared): nothing to correct",
                ));
            }
            EventKind::AwarenessCorrected {
                from: aware,
                aware_at: not_future("aware_at", crate::to_millis(*aware_at))?,
                reason: text::required("reason", reason, 5_000)?,
            }
        }
        Command::RecordCorrectiveMeasure {
            available_at,
            description,
            link,
        } => {
            if status.is_none() {
                return Err(DomainError::invalid(
                    "available_at",
                    "the case is neither exploited nor an incident: record a patch instead",
                ));
            }
            EventKind::CorrectiveMeasureRecorded {
                available_at: not_future("available_at", crate::to_millis(*available_at))?,
                text: text::required("description", description, 20_000)?,
                link: link_of(link)?,
            }
        }
        Command::SaveCraReport { report } => {
            reportable(case)?;
            report.validate()?;
            check_pack_case(case, report)?;
            EventKind::CraReportSaved {
                stage: report.stage,
                report: report.clone(),
            }
        }
        Command::SubmitCraReport {
            stage,
            submitted_at,
            platform_reference,
            report,
        } => {
            reportable(case)?;
            let Some(report) = report else {
                return Err(DomainError::invalid(
                    "report",
                    "give the pack as it was sent",
                ));
            };
            if report.stage != *stage {
                return Err(DomainError::invalid(
                    "report.stage",
                    format!("is {}, the submission is {stage}", report.stage),
                ));
            }
            report.validate()?;
            check_pack_case(case, report)?;
            let missing = report.missing();
            if !missing.is_empty() {
                return Err(DomainError::invalid(
                    format!("report.{}", missing[0]),
                    format!(
                        "the Act asks the {} for it; still empty: {}",
                        stage.title().to_lowercase(),
                        missing.join(", ")
                    ),
                ));
            }
            if *stage == CraStage::FinalReport
                && status.is_some_and(|s| {
                    s.subject == CraSubject::Incident
                        && !s
                            .submissions
                            .iter()
                            .any(|x| x.stage.covers(CraStage::Notification))
                })
            {
                return Err(DomainError::invalid(
                    "stage",
                    "an incident's final report follows its notification: submit the notification first",
                ));
            }
            let at = match submitted_at {
                Some(at) => not_future("submitted_at", crate::to_millis(*at))?,
                None => now,
            };
            if aware.is_some_and(|a| at < a) {
                return Err(DomainError::invalid(
                    "submitted_at",
                    "lies before the team became aware",
                ));
            }
            EventKind::CraReportSubmitted {
                stage: *stage,
                submitted_at: at,
                platform_reference: text::optional(
                    "platform_reference",
                    platform_reference.as_deref(),
                    200,
                )?,
                report: report.clone(),
            }
        }
        _ => return Ok(Vec::new()),
    };
    Ok(vec![event])
}

/// A pack may be saved or sent only for a case whose Article 14 duty runs.
fn reportable(case: &Case) -> Result<(), DomainError> {
    match &case.cra {
        Some(s) if s.exploitation == ExploitationStatus::Confirmed => Ok(()),
        _ => Err(DomainError::invalid(
            "stage",
            "report packs are for confirmed actively exploited vulnerabilities and severe incidents",
        )),
    }
}

fn check_pack_case(case: &Case, pack: &CraPack) -> Result<(), DomainError> {
    if pack.case != case.reference.to_string() {
        return Err(DomainError::invalid(
            "report.case",
            format!("is {}, not this case ({})", pack.case, case.reference),
        ));
    }
    Ok(())
}

/// When the first claim of exploitation arrived (the default instant of
/// awareness), or `now`.
fn first_claim(case: &Case, now: Instant) -> Instant {
    case.cra.as_ref().and_then(|s| s.claimed_at).unwrap_or(now)
}

/// The report a stage sends, as the team edits it: drafted from what the
/// case holds, every field the Act names for the stage present (empty when
/// the case does not know it yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CraPack {
    /// The pack format (`embargo-cra-report/1`).
    pub schema: String,
    pub stage: CraStage,
    pub subject: CraSubject,
    pub case: String,
    pub manufacturer: Manufacturer,
    /// The Member State of the main establishment.
    pub main_establishment: String,
    pub coordinator: Csirt,
    pub aware_at: Option<DateTime<Utc>>,
    pub product: String,
    /// The product's affected versions, as far as they are known.
    pub versions: Vec<String>,
    /// Where the manufacturer knows the product has been made available.
    pub member_states: Vec<String>,
    /// The general nature of the exploit (vulnerability) or of the incident.
    pub nature: String,
    /// The general nature of the vulnerability (vulnerability notification).
    pub vulnerability: String,
    /// Whether an incident is suspected of being caused by unlawful or
    /// malicious acts (incident early warning).
    pub suspected_malicious: Option<bool>,
    pub corrective_measures_taken: String,
    pub user_measures: String,
    /// How sensitive the manufacturer considers the information:
    /// `low`, `medium`, `high` or `restricted`.
    pub sensitivity: String,
    /// Final report: the description with its severity and impact.
    pub description: String,
    pub severity: Option<Severity>,
    pub impact: String,
    /// Final report: what is known of the malicious actor.
    pub malicious_actor: String,
    /// Final report: the security update or other corrective measure.
    pub security_update: String,
    /// Final incident report: the type of threat or root cause.
    pub root_cause: String,
    /// Anything the CSIRT asked for (intermediate report) or else to say.
    pub notes: String,
}

/// The pack format name and version.
pub const PACK_SCHEMA: &str = "embargo-cra-report/1";

const SENSITIVITIES: [&str; 4] = ["low", "medium", "high", "restricted"];

impl CraPack {
    /// The pack's free-text fields, by name, in the order a form shows them.
    pub const TEXT_FIELDS: [&'static str; 10] = [
        "nature",
        "vulnerability",
        "corrective_measures_taken",
        "user_measures",
        "description",
        "impact",
        "malicious_actor",
        "security_update",
        "root_cause",
        "notes",
    ];

    /// The free-text field `name` (one of [`CraPack::TEXT_FIELDS`]).
    #[must_use]
    pub fn text(&self, name: &str) -> Option<&String> {
        Some(match name {
            "nature" => &self.nature,
            "vulnerability" => &self.vulnerability,
            "corrective_measures_taken" => &self.corrective_measures_taken,
            "user_measures" => &self.user_measures,
            "description" => &self.description,
            "impact" => &self.impact,
            "malicious_actor" => &self.malicious_actor,
            "security_update" => &self.security_update,
            "root_cause" => &self.root_cause,
            "notes" => &self.notes,
            _ => return None,
        })
    }

    /// The free-text field `name`, to edit.
    pub fn text_mut(&mut self, name: &str) -> Option<&mut String> {
        Some(match name {
            "nature" => &mut self.nature,
            "vulnerability" => &mut self.vulnerability,
            "corrective_measures_taken" => &mut self.corrective_measures_taken,
            "user_measures" => &mut self.user_measures,
            "description" => &mut self.description,
            "impact" => &mut self.impact,
            "malicious_actor" => &mut self.malicious_actor,
            "security_update" => &mut self.security_update,
            "root_cause" => &mut self.root_cause,
            "notes" => &mut self.notes,
            _ => return None,
        })
    }

    /// Checks a pack the team edited: bounded text, the stage's own fields.
    pub fn validate(&self) -> Result<(), crate::DomainError> {
        use crate::DomainError as E;
        if self.schema != PACK_SCHEMA {
            return Err(E::invalid(
                "schema",
                format!("this embargo writes and reads `{PACK_SCHEMA}`"),
            ));
        }
        if !SENSITIVITIES.contains(&self.sensitivity.as_str()) {
            return Err(E::invalid(
                "sensitivity",
                "one of low, medium, high, restricted",
            ));
        }
        for field in CraPack::TEXT_FIELDS {
            if self.text(field).is_some_and(|t| t.len() > 50_000) {
                return Err(E::TooLarge {
                    field: field.into(),
                    limit: 50_000,
                });
            }
        }
        if self.versions.len() > 500 || self.member_states.len() > MEMBER_STATES.len() {
            return Err(E::invalid("versions", "at most 500 versions"));
        }
        if let Some(bad) = self
            .member_states
            .iter()
            .find(|m| !MEMBER_STATES.contains(&m.as_str()))
        {
            return Err(E::invalid(
                "member_states",
                format!("`{bad}` is not the ISO code of an EU Member State"),
            ));
        }
        Ok(())
    }

    /// What the stage must say before it is sent, by the Act: the fields
    /// still empty (a submission is refused while any is).
    #[must_use]
    pub fn missing(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        let mut need = |field: &'static str, empty: bool| {
            if empty {
                missing.push(field);
            }
        };
        need("product", self.product.trim().is_empty());
        match (self.stage, self.subject) {
            (CraStage::EarlyWarning, CraSubject::Incident) => {
                need("suspected_malicious", self.suspected_malicious.is_none());
            }
            (CraStage::EarlyWarning, CraSubject::Vulnerability) => {}
            (CraStage::Notification, subject) => {
                need("nature", self.nature.trim().is_empty());
                if subject == CraSubject::Vulnerability {
                    need("vulnerability", self.vulnerability.trim().is_empty());
                }
                need(
                    "corrective_measures_taken",
                    self.corrective_measures_taken.trim().is_empty(),
                );
                need("user_measures", self.user_measures.trim().is_empty());
            }
            (CraStage::Intermediate, _) => need("notes", self.notes.trim().is_empty()),
            (CraStage::FinalReport, subject) => {
                need("description", self.description.trim().is_empty());
                need("severity", self.severity.is_none());
                need("impact", self.impact.trim().is_empty());
                match subject {
                    CraSubject::Vulnerability => {
                        need("security_update", self.security_update.trim().is_empty());
                    }
                    CraSubject::Incident => {
                        need("root_cause", self.root_cause.trim().is_empty());
                        need(
                            "corrective_measures_taken",
                            self.corrective_measures_taken.trim().is_empty(),
                        );
                    }
                }
            }
        }
        missing
    }

    /// The pack as Markdown, for pasting into the platform's form or an email.
    #[must_use]
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let line = |out: &mut String, label: &str, value: &str| {
            if !value.trim().is_empty() {
                out.push_str(&format!(
                    "**{label}:** {}\n\n",
                    crate::html::escape_markdown(value)
                ));
            }
        };
        out.push_str(&format!(
            "# {} — {} ({})\n\n",
            self.stage.title(),
            match self.subject {
                CraSubject::Vulnerability => "actively exploited vulnerability",
                CraSubject::Incident => "severe incident",
            },
            self.case
        ));
        out.push_str("Regulation (EU) 2024/2847, Article 14.\n\n");
        line(&mut out, "Manufacturer", &self.manufacturer.name);
        line(
            &mut out,
            "Manufacturer address",
            self.manufacturer.address.as_deref().unwrap_or(""),
        );
        line(&mut out, "Contact", &self.manufacturer.contact);
        line(&mut out, "Main establishment", &self.main_establishment);
        line(&mut out, "Coordinator CSIRT", &self.coordinator.name);
        if let Some(at) = self.aware_at {
            line(&mut out, "Aware since", &at.to_rfc3339());
        }
        line(&mut out, "Product", &self.product);
        line(&mut out, "Versions", &self.versions.join(", "));
        line(
            &mut out,
            "Member States where the product is made available",
            &self.member_states.join(", "),
        );
        if let Some(m) = self.suspected_malicious {
            line(
                &mut out,
                "Suspected unlawful or malicious act",
                if m { "yes" } else { "no" },
            );
        }
        line(&mut out, "Nature of the exploit or incident", &self.nature);
        line(&mut out, "Nature of the vulnerability", &self.vulnerability);
        line(
            &mut out,
            "Corrective or mitigating measures taken",
            &self.corrective_measures_taken,
        );
        line(&mut out, "Measures users can take", &self.user_measures);
        line(&mut out, "Sensitivity", &self.sensitivity);
        if self.stage == CraStage::FinalReport {
            line(&mut out, "Description", &self.description);
            if let Some(s) = self.severity {
                line(&mut out, "Severity", s.as_str());
            }
            line(&mut out, "Impact", &self.impact);
            line(&mut out, "Malicious actor", &self.malicious_actor);
            line(&mut out, "Security update", &self.security_update);
            line(&mut out, "Root cause", &self.root_cause);
        }
        line(&mut out, "Notes", &self.notes);
        out
    }
}
