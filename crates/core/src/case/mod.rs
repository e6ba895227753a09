//! The case and its coordinated-disclosure workflow.
//!
//! A case is its history: [`decide`] turns a [`Command`] into events (or refuses
//! it), and [`Case::apply`] folds an event into the case. Both are pure; the
//! store appends the events and the new projection in one transaction, and a
//! case can always be rebuilt by replaying its events ([`Case::replay`]).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::Instant;
use crate::reference::CaseRef;

pub mod cra;
pub(crate) mod text;

/// Where a case stands in the coordinated-disclosure workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// Reported; nobody on the team has answered yet.
    Received,
    /// The team has confirmed receipt to the reporter.
    Acknowledged,
    /// The team is assessing whether and how badly it is a vulnerability.
    Triage,
    /// Paused until the reporter answers a question.
    WaitingOnReporter,
    /// Confirmed as a vulnerability in scope.
    Accepted,
    /// A fix is being developed.
    Fixing,
    /// A patch exists (the remediation clocks of policy 003 start here).
    FixAvailable,
    /// The fix has shipped in a release.
    Released,
    /// The vulnerability has been made public.
    Disclosed,
    /// Done.
    Closed,
    /// Triaged and found not to be a vulnerability.
    NotAVulnerability,
    /// Outside the scope of the policy.
    OutOfScope,
    /// The same as another case.
    Duplicate,
    /// Not a genuine report.
    Spam,
}

impl CaseState {
    pub const ALL: [CaseState; 14] = [
        CaseState::Received,
        CaseState::Acknowledged,
        CaseState::Triage,
        CaseState::WaitingOnReporter,
        CaseState::Accepted,
        CaseState::Fixing,
        CaseState::FixAvailable,
        CaseState::Released,
        CaseState::Disclosed,
        CaseState::Closed,
        CaseState::NotAVulnerability,
        CaseState::OutOfScope,
        CaseState::Duplicate,
        CaseState::Spam,
    ];

    /// The state's name on the wire and in the database.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::Received => "received",
            CaseState::Acknowledged => "acknowledged",
            CaseState::Triage => "triage",
            CaseState::WaitingOnReporter => "waiting_on_reporter",
            CaseState::Accepted => "accepted",
            CaseState::Fixing => "fixing",
            CaseState::FixAvailable => "fix_available",
            CaseState::Released => "released",
            CaseState::Disclosed => "disclosed",
            CaseState::Closed => "closed",
            CaseState::NotAVulnerability => "not_a_vulnerability",
            CaseState::OutOfScope => "out_of_scope",
            CaseState::Duplicate => "duplicate",
            CaseState::Spam => "spam",
        }
    }

    /// The state in plain words, as a reporter reads it.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            CaseState::Received => "Received; not yet acknowledged",
            CaseState::Acknowledged => "Acknowledged; waiting for triage",
            CaseState::Triage => "Being assessed",
            CaseState::WaitingOnReporter => "Waiting for more information from the reporter",
            CaseState::Accepted => "Confirmed as a vulnerability",
            CaseState::Fixing => "A fix is being developed",
            CaseState::FixAvailable => "A fix is available",
            CaseState::Released => "The fix has been released",
            CaseState::Disclosed => "Publicly disclosed",
            CaseState::Closed => "Closed",
            CaseState::NotAVulnerability => "Closed: not a vulnerability",
            CaseState::OutOfScope => "Closed: out of scope",
            CaseState::Duplicate => "Closed: duplicate of another report",
            CaseState::Spam => "Closed: spam",
        }
    }

    /// Whether the case was closed without a fix (and can be reopened into triage).
    #[must_use]
    pub fn is_rejection(self) -> bool {
        matches!(
            self,
            CaseState::NotAVulnerability
                | CaseState::OutOfScope
                | CaseState::Duplicate
                | CaseState::Spam
        )
    }

    /// Whether work on the case has ended (closed or rejected).
    #[must_use]
    pub fn is_final(self) -> bool {
        self == CaseState::Closed || self.is_rejection()
    }
}

impl fmt::Display for CaseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CaseState {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CaseState::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                DomainError::invalid(
                    "state",
                    format!(
                        "unknown state `{}`; expected one of: {}",
                        s.chars().take(40).collect::<String>(),
                        CaseState::ALL.map(CaseState::as_str).join(", ")
                    ),
                )
            })
    }
}

/// A case's severity on embargo's common scale (CVSS qualitative ratings).
/// Policies map their own levels onto it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    None,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::None,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::None => "none",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                DomainError::invalid(
                    "severity",
                    format!(
                        "unknown severity `{}`; expected one of: none, low, medium, high, critical",
                        s.chars().take(40).collect::<String>()
                    ),
                )
            })
    }
}

/// How exposed the affected component is (policy 003's "contextualized
/// analysis of the exposure"): high exposure shortens remediation deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Exposure {
    High,
    Normal,
}

impl Exposure {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Exposure::High => "high",
            Exposure::Normal => "normal",
        }
    }
}

/// Who reported the vulnerability. With no contact the reporter is anonymous
/// (and cannot be written to); a name or handle is what credits use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reporter {
    /// An email address or another way to reach the reporter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// A name or handle, for example the one to credit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// An ASCII-armored OpenPGP public key: email to the reporter is
    /// encrypted to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pgp_key: Option<String>,
}

impl Reporter {
    #[must_use]
    pub fn is_anonymous(&self) -> bool {
        self.contact.is_none()
    }

    fn validated(self, problems: &mut Problems) -> Self {
        let contact = problems.take(text::optional(
            "reporter.contact",
            self.contact.as_deref(),
            320,
        ));
        if let Some(c) = &contact {
            if c.contains(char::is_whitespace) {
                problems.push(DomainError::invalid(
                    "reporter.contact",
                    "must be an email address or a URL without spaces",
                ));
            } else if let Some((local, domain)) = c.split_once('@')
                && (local.is_empty() || !domain.contains('.') || domain.contains('@'))
            {
                problems.push(DomainError::invalid(
                    "reporter.contact",
                    "is not a valid email address",
                ));
            }
        }
        let name = problems.take(text::optional("reporter.name", self.name.as_deref(), 100));
        if name.as_deref().is_some_and(|n| n.contains(['\n', '\r'])) {
            problems.push(DomainError::invalid(
                "reporter.name",
                "must be a single line",
            ));
        }
        let pgp_key = problems.take(text::optional(
            "reporter.pgp_key",
            self.pgp_key.as_deref(),
            64 * 1024,
        ));
        if let Some(key) = &pgp_key
            && let Err(e) = crate::openpgp::check_public_key(key)
        {
            problems.push(DomainError::invalid("reporter.pgp_key", e));
        }
        Self {
            contact,
            name,
            pgp_key,
        }
    }
}

/// The problems found while checking a request, every one of them (a form
/// shows each beside its field at once).
#[derive(Debug, Default)]
pub struct Problems(Vec<DomainError>);

impl Problems {
    /// The value, or its default with the problem kept.
    fn take<T: Default>(&mut self, checked: Result<T, DomainError>) -> T {
        checked.unwrap_or_else(|e| {
            self.0.push(e);
            T::default()
        })
    }

    fn push(&mut self, e: DomainError) {
        self.0.push(e);
    }
}

/// What the reporter told us. Encrypted at rest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportContent {
    /// One or two sentences: what is wrong.
    pub summary: String,
    /// The vulnerability in detail.
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps_to_reproduce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggested_mitigation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affected_versions: Option<String>,
}

impl ReportContent {
    fn validated(self, problems: &mut Problems) -> Self {
        Self {
            summary: problems.take(text::required("report.summary", &self.summary, 2_000)),
            description: problems.take(text::required(
                "report.description",
                &self.description,
                100_000,
            )),
            steps_to_reproduce: problems.take(text::optional(
                "report.steps_to_reproduce",
                self.steps_to_reproduce.as_deref(),
                100_000,
            )),
            impact: problems.take(text::optional(
                "report.impact",
                self.impact.as_deref(),
                20_000,
            )),
            suggested_mitigation: problems.take(text::optional(
                "report.suggested_mitigation",
                self.suggested_mitigation.as_deref(),
                20_000,
            )),
            affected_versions: problems.take(text::optional(
                "report.affected_versions",
                self.affected_versions.as_deref(),
                2_000,
            )),
        }
    }
}

/// A request to open a case, as it arrives; [`NewCase::validate`] checks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCase {
    pub title: String,
    /// The product the report is about.
    pub product: String,
    #[serde(default)]
    pub reporter: Reporter,
    pub report: ReportContent,
    /// The reporter's own disclosure deadline, if they set one (policy 001, 2.1.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter_deadline: Option<DateTime<Utc>>,
    /// The reporter's evidence that the vulnerability is actively exploited:
    /// recorded as a claim, which the team confirms or rejects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exploited_evidence: Option<String>,
}

impl NewCase {
    /// Checks every field and normalizes whitespace; the error names the first bad field.
    pub fn validate(self) -> Result<Self, DomainError> {
        self.checked().map_err(|mut all| all.swap_remove(0))
    }

    /// Checks every field and normalizes whitespace; the errors name every
    /// bad field, in the order of the form.
    pub fn checked(self) -> Result<Self, Vec<DomainError>> {
        let mut problems = Problems::default();
        let checked = Self {
            title: problems.take(text::single_line("title", &self.title, 200)),
            product: problems.take(text::single_line("product", &self.product, 100)),
            report: self.report.validated(&mut problems),
            reporter: self.reporter.validated(&mut problems),
            reporter_deadline: self.reporter_deadline.map(crate::to_millis),
            exploited_evidence: problems.take(text::optional(
                "exploited_evidence",
                self.exploited_evidence.as_deref(),
                20_000,
            )),
        };
        if problems.0.is_empty() {
            Ok(checked)
        } else {
            Err(problems.0)
        }
    }
}

/// Something a team member asks of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    Acknowledge {},
    StartTriage {},
    /// Ask the reporter for more information; the case waits on them.
    RequestInformation {},
    /// The reporter answered; the case returns to where it was.
    InformationReceived {},
    Accept {},
    StartFix {},
    /// A patch exists. `patch_available_at` defaults to now and may lie in the past.
    FixAvailable {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        patch_available_at: Option<DateTime<Utc>>,
    },
    Release {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        version: Option<String>,
    },
    Disclose {},
    Close {},
    /// `rule` names the policy's scope rule the decision cites; the server
    /// then fills `reason` with the rule's text for the reporter.
    NotAVulnerability {
        #[serde(default)]
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule: Option<String>,
    },
    OutOfScope {
        #[serde(default)]
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule: Option<String>,
    },
    Duplicate {
        of: CaseRef,
    },
    Spam {},
    Reopen {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    SetSeverity {
        severity: Severity,
    },
    /// Choose the policy's own severity level (`[[severity]]` id), by its
    /// criteria: a person's judgement, with or without a CVSS mapping.
    SetLevel {
        level: String,
    },
    AddNote {
        text: String,
    },
    /// A message to the reporter, in the case's private thread.
    MessageReporter {
        text: String,
    },
    SetExposure {
        exposure: Exposure,
    },
    /// Record (or clear, with no `deadline`) the reporter's own disclosure deadline.
    SetReporterDeadline {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deadline: Option<DateTime<Utc>>,
    },
    /// Impacted customers have been notified (stops the customer-notice clock).
    RecordCustomerNotice {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// Record when a patch became available (from triage onwards, before or
    /// without `fix_available`); a second record corrects the first and
    /// needs a `reason`.
    RecordPatch {
        available_at: DateTime<Utc>,
        source: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        link: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Keep a case in scope although a scope rule of the policy seems to
    /// cover it (the rules are a filter, not the final word: policy 000),
    /// saying why.
    OverrideScopeRule {
        rule: String,
        reason: String,
    },
    /// Give the case to a team member by username, or (no `to`) to nobody.
    Assign {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
    },
    /// Someone says the vulnerability is actively exploited (the reporter,
    /// a feed, a colleague); the team confirms or rejects the claim.
    ClaimExploited {
        evidence: String,
    },
    /// The team holds reliable evidence that the vulnerability is actively
    /// exploited: Article 14's clocks start at `aware_at` (by default the
    /// first claim's time, else now).
    MarkExploited {
        source: cra::ExploitationSource,
        evidence: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        link: Option<String>,
        /// A file already on the case that is the evidence (its id).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        evidence_file: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        aware_at: Option<DateTime<Utc>>,
    },
    /// The team does not hold the claim (or withdraws its confirmation).
    RejectExploitation {
        reason: String,
    },
    /// The case is a severe incident having an impact on the product's
    /// security (Article 14(3)): its clocks start at `aware_at` (default now).
    DeclareIncident {
        description: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        aware_at: Option<DateTime<Utc>>,
    },
    /// Correct the instant of awareness, saying why.
    CorrectAwareness {
        aware_at: DateTime<Utc>,
        reason: String,
    },
    /// A corrective or mitigating measure is available (a patch counts too):
    /// the final report is due 14 days later.
    RecordCorrectiveMeasure {
        available_at: DateTime<Utc>,
        description: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        link: Option<String>,
    },
    /// Save the team's edit of a stage's report pack.
    SaveCraReport {
        report: cra::CraPack,
    },
    /// The stage was sent through the single reporting platform: its clock
    /// stops. `report` is the pack as sent (by default the saved draft).
    SubmitCraReport {
        stage: cra::CraStage,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        submitted_at: Option<DateTime<Utc>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        platform_reference: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        report: Option<cra::CraPack>,
    },
}

impl Command {
    /// The command's name on the wire (`action`).
    #[must_use]
    pub fn action(&self) -> &'static str {
        match self {
            Command::Acknowledge { .. } => "acknowledge",
            Command::StartTriage { .. } => "start_triage",
            Command::RequestInformation { .. } => "request_information",
            Command::InformationReceived { .. } => "information_received",
            Command::Accept { .. } => "accept",
            Command::StartFix { .. } => "start_fix",
            Command::FixAvailable { .. } => "fix_available",
            Command::Release { .. } => "release",
            Command::Disclose { .. } => "disclose",
            Command::Close { .. } => "close",
            Command::NotAVulnerability { .. } => "not_a_vulnerability",
            Command::OutOfScope { .. } => "out_of_scope",
            Command::Duplicate { .. } => "duplicate",
            Command::Spam { .. } => "spam",
            Command::Reopen { .. } => "reopen",
            Command::SetSeverity { .. } => "set_severity",
            Command::SetLevel { .. } => "set_level",
            Command::AddNote { .. } => "add_note",
            Command::MessageReporter { .. } => "message_reporter",
            Command::SetExposure { .. } => "set_exposure",
            Command::SetReporterDeadline { .. } => "set_reporter_deadline",
            Command::RecordCustomerNotice { .. } => "record_customer_notice",
            Command::RecordPatch { .. } => "record_patch",
            Command::OverrideScopeRule { .. } => "override_scope_rule",
            Command::Assign { .. } => "assign",
            Command::ClaimExploited { .. } => "claim_exploited",
            Command::MarkExploited { .. } => "mark_exploited",
            Command::RejectExploitation { .. } => "reject_exploitation",
            Command::DeclareIncident { .. } => "declare_incident",
            Command::CorrectAwareness { .. } => "correct_awareness",
            Command::RecordCorrectiveMeasure { .. } => "record_corrective_measure",
            Command::SaveCraReport { .. } => "save_cra_report",
            Command::SubmitCraReport { .. } => "submit_cra_report",
        }
    }

    /// Whether the command records what the Cyber Resilience Act's Article 14
    /// is about (exploitation, incidents, awareness, measures, reports): see
    /// [`cra::decide`].
    #[must_use]
    pub fn concerns_article_14(&self) -> bool {
        matches!(
            self,
            Command::ClaimExploited { .. }
                | Command::MarkExploited { .. }
                | Command::RejectExploitation { .. }
                | Command::DeclareIncident { .. }
                | Command::CorrectAwareness { .. }
                | Command::RecordCorrectiveMeasure { .. }
                | Command::SaveCraReport { .. }
                | Command::SubmitCraReport { .. }
        )
    }

    /// One command of each kind, with placeholder arguments: used to list the
    /// moves a state allows.
    #[must_use]
    pub fn samples() -> Vec<Command> {
        vec![
            Command::Acknowledge {},
            Command::StartTriage {},
            Command::RequestInformation {},
            Command::InformationReceived {},
            Command::Accept {},
            Command::StartFix {},
            Command::FixAvailable {
                patch_available_at: None,
            },
            Command::Release { version: None },
            Command::Disclose {},
            Command::Close {},
            Command::NotAVulnerability {
                reason: String::new(),
                rule: None,
            },
            Command::OutOfScope {
                reason: String::new(),
                rule: None,
            },
            Command::Duplicate {
                of: CaseRef::new(0, 1),
            },
            Command::Spam {},
            Command::Reopen { reason: None },
            Command::SetSeverity {
                severity: Severity::None,
            },
            Command::SetLevel {
                level: String::new(),
            },
            Command::AddNote {
                text: String::new(),
            },
            Command::MessageReporter {
                text: String::new(),
            },
            Command::SetExposure {
                exposure: Exposure::Normal,
            },
            Command::SetReporterDeadline { deadline: None },
            Command::RecordCustomerNotice { note: None },
            Command::RecordPatch {
                available_at: DateTime::<Utc>::UNIX_EPOCH,
                source: String::new(),
                link: None,
                reason: None,
            },
            Command::OverrideScopeRule {
                rule: String::new(),
                reason: String::new(),
            },
            Command::Assign { to: None },
            Command::ClaimExploited {
                evidence: String::new(),
            },
            Command::MarkExploited {
                source: cra::ExploitationSource::Reporter,
                evidence: String::new(),
                link: None,
                evidence_file: None,
                aware_at: None,
            },
            Command::RejectExploitation {
                reason: String::new(),
            },
            Command::DeclareIncident {
                description: String::new(),
                aware_at: None,
            },
            Command::CorrectAwareness {
                aware_at: DateTime::<Utc>::UNIX_EPOCH,
                reason: String::new(),
            },
            Command::RecordCorrectiveMeasure {
                available_at: DateTime::<Utc>::UNIX_EPOCH,
                description: String::new(),
                link: None,
            },
            Command::SubmitCraReport {
                stage: cra::CraStage::EarlyWarning,
                submitted_at: None,
                platform_reference: None,
                report: None,
            },
        ]
    }
}

/// The workflow graph: where `command` takes a case that is in `state` and
/// waited from `waiting_from`, or `None` if the move is not allowed.
/// Commands that do not change the state (severity, notes) map to `state`.
#[must_use]
pub fn next_state(
    state: CaseState,
    waiting_from: Option<CaseState>,
    command: &Command,
) -> Option<CaseState> {
    use CaseState as S;
    let open_before_acceptance = matches!(
        state,
        S::Received | S::Acknowledged | S::Triage | S::WaitingOnReporter
    );
    match command {
        Command::SetSeverity { .. }
        | Command::SetLevel { .. }
        | Command::AddNote { .. }
        | Command::MessageReporter { .. }
        | Command::SetExposure { .. }
        | Command::SetReporterDeadline { .. }
        | Command::RecordCustomerNotice { .. }
        | Command::Assign { .. } => Some(state),
        // Exploitation is a fact about the vulnerability, whatever the state:
        // a closed case exploited later is still the manufacturer's to report.
        // (Listed one by one so that a new command must be placed here.)
        Command::ClaimExploited { .. }
        | Command::MarkExploited { .. }
        | Command::RejectExploitation { .. }
        | Command::DeclareIncident { .. }
        | Command::CorrectAwareness { .. }
        | Command::RecordCorrectiveMeasure { .. }
        | Command::SaveCraReport { .. }
        | Command::SubmitCraReport { .. } => Some(state),
        Command::OverrideScopeRule { .. } => (!state.is_final()).then_some(state),
        // A patch is a fact about the vulnerability, known once it is triaged.
        Command::RecordPatch { .. } => (!matches!(state, S::Received | S::Acknowledged)
            && !state.is_rejection())
        .then_some(state),
        Command::Acknowledge { .. } => (state == S::Received).then_some(S::Acknowledged),
        Command::StartTriage { .. } => {
            matches!(state, S::Received | S::Acknowledged).then_some(S::Triage)
        }
        Command::RequestInformation { .. } => {
            matches!(state, S::Acknowledged | S::Triage | S::Accepted)
                .then_some(S::WaitingOnReporter)
        }
        Command::InformationReceived { .. } => {
            if state == S::WaitingOnReporter {
                Some(waiting_from.unwrap_or(S::Triage))
            } else {
                None
            }
        }
        Command::Accept { .. } => (state == S::Triage).then_some(S::Accepted),
        Command::StartFix { .. } => (state == S::Accepted).then_some(S::Fixing),
        Command::FixAvailable { .. } => {
            matches!(state, S::Accepted | S::Fixing).then_some(S::FixAvailable)
        }
        Command::Release { .. } => (state == S::FixAvailable).then_some(S::Released),
        Command::Disclose { .. } => {
            matches!(state, S::FixAvailable | S::Released).then_some(S::Disclosed)
        }
        Command::Close { .. } => matches!(state, S::Released | S::Disclosed).then_some(S::Closed),
        Command::NotAVulnerability { .. } => open_before_acceptance.then_some(S::NotAVulnerability),
        Command::OutOfScope { .. } => open_before_acceptance.then_some(S::OutOfScope),
        Command::Duplicate { .. } => open_before_acceptance.then_some(S::Duplicate),
        Command::Spam { .. } => open_before_acceptance.then_some(S::Spam),
        Command::Reopen { .. } => state.is_final().then_some(S::Triage),
    }
}

/// The actions (`Command::action` names) allowed in a state.
#[must_use]
pub fn allowed_actions(state: CaseState, waiting_from: Option<CaseState>) -> Vec<&'static str> {
    Command::samples()
        .iter()
        .filter(|c| next_state(state, waiting_from, c).is_some())
        .map(Command::action)
        .collect()
}

/// How a clock's run ended, for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClockOutcome {
    /// Stopped by its stop event before the deadline.
    Met,
    /// Stopped by its stop event after the deadline.
    MetLate,
    /// The deadline passed and the promise was never kept: the case was
    /// closed, or the clock's condition ended, after the deadline.
    Breached,
    /// It no longer had to be kept before its deadline: the case was closed
    /// (as spam, out of scope, …) or the clock's condition became false.
    Cancelled,
}

/// What happened to a case. Stored, hash-chained, and replayed to rebuild it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    CaseCreated {
        title: String,
        product: String,
        reporter: Reporter,
        report: ReportContent,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reporter_deadline: Option<DateTime<Utc>>,
    },
    StateChanged {
        from: CaseState,
        to: CaseState,
        action: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        duplicate_of: Option<CaseRef>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        patch_available_at: Option<DateTime<Utc>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        release_version: Option<String>,
        /// The policy scope rule a rejection cites.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule: Option<String>,
    },
    SeverityChanged {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<Severity>,
        to: Severity,
    },
    /// The policy's severity level was chosen (or changed).
    LevelAssessed {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        to: String,
    },
    NoteAdded {
        text: String,
    },
    /// The team wrote to the reporter (the private thread).
    MessageToReporter {
        text: String,
    },
    /// The reporter wrote to the team (the private thread).
    MessageFromReporter {
        text: String,
    },
    /// A file joined the case (from the reporter, the mailbox or the team).
    AttachmentAdded {
        attachment: crate::attachment::Attachment,
    },
    /// The reporter changed how they want to be credited; `None` means not at all.
    CreditPreferenceChanged {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        credit: Option<String>,
    },
    ExposureChanged {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<Exposure>,
        to: Exposure,
    },
    ReporterDeadlineSet {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deadline: Option<DateTime<Utc>>,
    },
    CustomersNotified {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// The case was given to a team member (`to`), or to nobody.
    Assigned {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
    },
    /// A policy clock passed its warning threshold (raised by the scheduler).
    ClockWarning {
        clock: String,
        due: DateTime<Utc>,
    },
    /// A policy clock passed its deadline unmet (raised by the scheduler).
    ClockBreached {
        clock: String,
        due: DateTime<Utc>,
    },
    /// A clock's run ended for good: met, met late, breached, or cancelled
    /// (it never had to be kept). Written once, in the unit of work that
    /// ended it; the clock reads it back instead of recomputing, so closing,
    /// reopening or a later policy never rewrites it.
    ClockEnded {
        clock: String,
        outcome: ClockOutcome,
        /// When this run of the clock started.
        started: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        due: Option<DateTime<Utc>>,
        /// When it stopped, or when the case or the clock's condition ended it.
        ended: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        late_seconds: Option<i64>,
        /// Why a run ended without its stop event (e.g. "the case was closed as spam").
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cause: Option<String>,
    },
    /// The date a patch became available, recorded or corrected as a fact
    /// of its own (policy 003's 30 days count from it).
    PatchAvailabilityRecorded {
        available_at: DateTime<Utc>,
        /// Where the patch comes from: "upstream", "our release 2.4.1", …
        source: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        link: Option<String>,
        /// Why an earlier date was corrected.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// The team kept the case in scope although scope rule `rule` seemed to
    /// cover it, for `reason`.
    ScopeRuleOverridden {
        rule: String,
        reason: String,
    },
    /// The case's advisory draft was written or changed (its text stays in
    /// the sealed draft, never in the event).
    AdvisoryDrafted {
        advisory: String,
    },
    /// The advisory was published (revision 1) or republished.
    AdvisoryPublished {
        advisory: String,
        revision: u32,
    },
    /// Someone says the vulnerability is actively exploited (`text`: their evidence).
    ExploitationClaimed {
        text: String,
    },
    /// The team confirmed active exploitation; Article 14 counts from `aware_at`.
    ExploitationConfirmed {
        source: cra::ExploitationSource,
        /// The evidence, in words.
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        link: Option<String>,
        /// The case's file that is the evidence (an attachment id).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        evidence_file: Option<String>,
        aware_at: DateTime<Utc>,
    },
    /// The team does not hold the claim, or withdrew its confirmation.
    ExploitationRejected {
        reason: String,
    },
    /// The case is a severe incident; Article 14 counts from `aware_at`.
    IncidentDeclared {
        /// What happened, in words.
        text: String,
        aware_at: DateTime<Utc>,
    },
    /// The instant of awareness was corrected.
    AwarenessCorrected {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<DateTime<Utc>>,
        aware_at: DateTime<Utc>,
        reason: String,
    },
    /// A corrective or mitigating measure became available at `available_at`.
    CorrectiveMeasureRecorded {
        available_at: DateTime<Utc>,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        link: Option<String>,
    },
    /// The team saved its edit of a stage's report pack (sealed: `report`).
    CraReportSaved {
        stage: cra::CraStage,
        report: cra::CraPack,
    },
    /// A stage was sent through the single reporting platform; `report` is
    /// the pack as sent (sealed).
    CraReportSubmitted {
        stage: cra::CraStage,
        submitted_at: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        platform_reference: Option<String>,
        report: cra::CraPack,
    },
}

impl EventKind {
    /// The event's name on the wire and in the database.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::CaseCreated { .. } => "case_created",
            EventKind::StateChanged { .. } => "state_changed",
            EventKind::SeverityChanged { .. } => "severity_changed",
            EventKind::LevelAssessed { .. } => "level_assessed",
            EventKind::NoteAdded { .. } => "note_added",
            EventKind::MessageToReporter { .. } => "message_to_reporter",
            EventKind::MessageFromReporter { .. } => "message_from_reporter",
            EventKind::AttachmentAdded { .. } => "attachment_added",
            EventKind::CreditPreferenceChanged { .. } => "credit_preference_changed",
            EventKind::ExposureChanged { .. } => "exposure_changed",
            EventKind::ReporterDeadlineSet { .. } => "reporter_deadline_set",
            EventKind::CustomersNotified { .. } => "customers_notified",
            EventKind::Assigned { .. } => "assigned",
            EventKind::ClockWarning { .. } => "clock_warning",
            EventKind::ClockBreached { .. } => "clock_breached",
            EventKind::ClockEnded { .. } => "clock_ended",
            EventKind::PatchAvailabilityRecorded { .. } => "patch_availability_recorded",
            EventKind::ScopeRuleOverridden { .. } => "scope_rule_overridden",
            EventKind::AdvisoryDrafted { .. } => "advisory_drafted",
            EventKind::AdvisoryPublished { .. } => "advisory_published",
            EventKind::ExploitationClaimed { .. } => "exploitation_claimed",
            EventKind::ExploitationConfirmed { .. } => "exploitation_confirmed",
            EventKind::ExploitationRejected { .. } => "exploitation_rejected",
            EventKind::IncidentDeclared { .. } => "incident_declared",
            EventKind::AwarenessCorrected { .. } => "awareness_corrected",
            EventKind::CorrectiveMeasureRecorded { .. } => "corrective_measure_recorded",
            EventKind::CraReportSaved { .. } => "cra_report_saved",
            EventKind::CraReportSubmitted { .. } => "cra_report_submitted",
        }
    }

    /// Payload fields that hold what reporters and the team wrote. They are
    /// encrypted at rest; everything else in an event is bookkeeping.
    pub const CONFIDENTIAL_FIELDS: [&'static str; 8] = [
        "title",
        "reporter",
        "report",
        "text",
        "reason",
        "attachment",
        "attachments",
        "credit",
    ];
}

/// A case as it stands after its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Case {
    pub reference: CaseRef,
    pub title: String,
    pub product: String,
    pub state: CaseState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// The policy's own severity level, chosen by a person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    pub reporter: Reporter,
    pub report: ReportContent,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The state to return to when the reporter answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_from: Option<CaseState>,
    /// Why the case was rejected (not a vulnerability, out of scope) or reopened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<CaseRef>,
    /// When the patch became available (policy 003's deadlines count from here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch_available_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposure: Option<Exposure>,
    /// The reporter's own disclosure deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter_deadline: Option<DateTime<Utc>>,
    /// The team member the case is given to (a username).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// Files attached to the case, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<crate::attachment::Attachment>,
    /// What Article 14 of the Cyber Resilience Act asks of this case: set
    /// once exploitation is claimed or confirmed, or an incident declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cra: Option<cra::CraStatus>,
    /// How many events the case has had; it grows by one with each.
    pub revision: u32,
}

impl Case {
    /// Whether the case's fix exists, so that its advisory may be published.
    #[must_use]
    pub fn is_fixed(&self) -> bool {
        matches!(
            self.state,
            CaseState::FixAvailable
                | CaseState::Released
                | CaseState::Disclosed
                | CaseState::Closed
        )
    }

    /// Opens a case from a validated request: the case and its first event.
    pub fn open(
        reference: CaseRef,
        request: NewCase,
        now: Instant,
    ) -> Result<(Case, EventKind), DomainError> {
        let request = request.validate()?;
        let event = EventKind::CaseCreated {
            title: request.title,
            product: request.product,
            reporter: request.reporter,
            report: request.report,
            reporter_deadline: request.reporter_deadline,
        };
        let case = Case::created(reference, &event, now)?;
        Ok((case, event))
    }

    fn created(reference: CaseRef, event: &EventKind, at: Instant) -> Result<Case, DomainError> {
        let EventKind::CaseCreated {
            title,
            product,
            reporter,
            report,
            reporter_deadline,
        } = event
        else {
            return Err(DomainError::Replay(format!(
                "the first event of {reference} is `{}`, not `case_created`",
                event.name()
            )));
        };
        Ok(Case {
            reference,
            title: title.clone(),
            product: product.clone(),
            state: CaseState::Received,
            severity: None,
            level: None,
            reporter: reporter.clone(),
            report: report.clone(),
            created_at: at,
            updated_at: at,
            waiting_from: None,
            reason: None,
            duplicate_of: None,
            patch_available_at: None,
            release_version: None,
            exposure: None,
            reporter_deadline: *reporter_deadline,
            assignee: None,
            attachments: Vec::new(),
            cra: None,
            revision: 1,
        })
    }

    /// Folds one event (other than the first) into the case.
    pub fn apply(&mut self, event: &EventKind, at: Instant) -> Result<(), DomainError> {
        match event {
            EventKind::CaseCreated { .. } => {
                return Err(DomainError::Replay(format!(
                    "{} has a second `case_created` event",
                    self.reference
                )));
            }
            EventKind::StateChanged {
                from,
                to,
                reason,
                duplicate_of,
                patch_available_at,
                release_version,
                ..
            } => {
                if *from != self.state {
                    return Err(DomainError::Replay(format!(
                        "{}: event moves from `{from}` but the case is `{}`",
                        self.reference, self.state
                    )));
                }
                if *to == CaseState::WaitingOnReporter {
                    self.waiting_from = Some(*from);
                } else if *from == CaseState::WaitingOnReporter {
                    self.waiting_from = None;
                }
                if to.is_rejection() || *to == CaseState::Triage && from.is_final() {
                    self.reason.clone_from(reason);
                    self.duplicate_of = *duplicate_of;
                }
                if patch_available_at.is_some() {
                    self.patch_available_at = *patch_available_at;
                }
                if release_version.is_some() {
                    self.release_version.clone_from(release_version);
                }
                self.state = *to;
            }
            EventKind::SeverityChanged { to, .. } => self.severity = Some(*to),
            EventKind::LevelAssessed { to, .. } => self.level = Some(to.clone()),
            EventKind::ExposureChanged { to, .. } => self.exposure = Some(*to),
            EventKind::ReporterDeadlineSet { deadline } => self.reporter_deadline = *deadline,
            EventKind::AttachmentAdded { attachment } => {
                self.attachments.push(attachment.clone());
            }
            EventKind::CreditPreferenceChanged { credit } => {
                self.reporter.name.clone_from(credit);
            }
            EventKind::Assigned { to, .. } => self.assignee.clone_from(to),
            EventKind::PatchAvailabilityRecorded { available_at, .. } => {
                self.patch_available_at = Some(*available_at);
            }
            EventKind::NoteAdded { .. }
            | EventKind::MessageToReporter { .. }
            | EventKind::MessageFromReporter { .. }
            | EventKind::CustomersNotified { .. }
            | EventKind::ClockWarning { .. }
            | EventKind::ClockBreached { .. }
            | EventKind::ClockEnded { .. }
            | EventKind::ScopeRuleOverridden { .. }
            | EventKind::AdvisoryDrafted { .. }
            | EventKind::AdvisoryPublished { .. }
            | EventKind::CraReportSaved { .. } => {}
            EventKind::ExploitationClaimed { .. }
            | EventKind::ExploitationConfirmed { .. }
            | EventKind::ExploitationRejected { .. }
            | EventKind::IncidentDeclared { .. }
            | EventKind::AwarenessCorrected { .. }
            | EventKind::CorrectiveMeasureRecorded { .. }
            | EventKind::CraReportSubmitted { .. } => cra::apply(self, event, at),
        }
        self.updated_at = at;
        self.revision += 1;
        Ok(())
    }

    /// Rebuilds a case from its events, first to last.
    pub fn replay<'a>(
        reference: CaseRef,
        events: impl IntoIterator<Item = (Instant, &'a EventKind)>,
    ) -> Result<Case, DomainError> {
        let mut events = events.into_iter();
        let Some((at, first)) = events.next() else {
            return Err(DomainError::Replay(format!("{reference} has no events")));
        };
        let mut case = Case::created(reference, first, at)?;
        for (at, event) in events {
            case.apply(event, at)?;
        }
        Ok(case)
    }

    /// The actions the case's current state allows.
    #[must_use]
    pub fn allowed_actions(&self) -> Vec<&'static str> {
        allowed_actions(self.state, self.waiting_from)
    }
}

/// Decides what `command` does to `case` at `now`: the events to append, or
/// why it is refused. Pure: the store applies and persists the result.
pub fn decide(case: &Case, command: &Command, now: Instant) -> Result<Vec<EventKind>, DomainError> {
    let Some(to) = next_state(case.state, case.waiting_from, command) else {
        return Err(DomainError::ForbiddenMove {
            state: case.state,
            action: command.action(),
            allowed: case.allowed_actions(),
        });
    };
    let state_change = |reason: Option<String>| EventKind::StateChanged {
        from: case.state,
        to,
        action: command.action().to_owned(),
        reason,
        duplicate_of: None,
        patch_available_at: None,
        release_version: None,
        rule: None,
    };
    let event = match command {
        Command::SetSeverity { severity } => {
            if case.severity == Some(*severity) {
                return Ok(Vec::new());
            }
            EventKind::SeverityChanged {
                from: case.severity,
                to: *severity,
            }
        }
        Command::SetLevel { level } => {
            let level = text::single_line("level", level, 64)?;
            if case.level.as_deref() == Some(level.as_str()) {
                return Ok(Vec::new());
            }
            EventKind::LevelAssessed {
                from: case.level.clone(),
                to: level,
            }
        }
        Command::AddNote { text } => EventKind::NoteAdded {
            text: text::required("text", text, 100_000)?,
        },
        // Anonymous reporters read messages through their private link.
        Command::MessageReporter { text } => EventKind::MessageToReporter {
            text: text::required("text", text, 100_000)?,
        },
        Command::NotAVulnerability { reason, rule } | Command::OutOfScope { reason, rule } => {
            let mut event = state_change(Some(text::required("reason", reason, 5_000)?));
            if let EventKind::StateChanged { rule: cited, .. } = &mut event {
                cited.clone_from(rule);
            }
            event
        }
        Command::SetExposure { exposure } => {
            if case.exposure == Some(*exposure) {
                return Ok(Vec::new());
            }
            EventKind::ExposureChanged {
                from: case.exposure,
                to: *exposure,
            }
        }
        Command::SetReporterDeadline { deadline } => {
            let deadline = deadline.map(crate::to_millis);
            if case.reporter_deadline == deadline {
                return Ok(Vec::new());
            }
            EventKind::ReporterDeadlineSet { deadline }
        }
        Command::Assign { to } => {
            let to = to
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned);
            if let Some(name) = &to
                && (name.len() > 64 || name.chars().any(char::is_whitespace))
            {
                return Err(DomainError::invalid(
                    "to",
                    "a username: up to 64 characters, no spaces",
                ));
            }
            if case.assignee == to {
                return Ok(Vec::new());
            }
            EventKind::Assigned {
                from: case.assignee.clone(),
                to,
            }
        }
        Command::RecordCustomerNotice { note } => EventKind::CustomersNotified {
            note: text::optional("note", note.as_deref(), 5_000)?,
        },
        Command::Reopen { reason } => {
            state_change(text::optional("reason", reason.as_deref(), 5_000)?)
        }
        Command::Duplicate { of } => {
            if *of == case.reference {
                return Err(DomainError::invalid("of", "a case cannot duplicate itself"));
            }
            let mut event = state_change(None);
            if let EventKind::StateChanged { duplicate_of, .. } = &mut event {
                *duplicate_of = Some(*of);
            }
            event
        }
        Command::FixAvailable { patch_available_at } => {
            let at = patch_available_at.map_or(now, crate::to_millis);
            if at > now {
                return Err(DomainError::invalid(
                    "patch_available_at",
                    "lies in the future; record the patch once it is available",
                ));
            }
            let mut event = state_change(None);
            if let EventKind::StateChanged {
                patch_available_at, ..
            } = &mut event
            {
                *patch_available_at = Some(at);
            }
            event
        }
        Command::RecordPatch {
            available_at,
            source,
            link,
            reason,
        } => {
            let at = crate::to_millis(*available_at);
            if at > now {
                return Err(DomainError::invalid(
                    "available_at",
                    "lies in the future; record the patch once it is available",
                ));
            }
            let source = text::single_line("source", source, 200)?;
            let link = text::optional("link", link.as_deref(), 2_000)?;
            if let Some(l) = &link
                && !(l.starts_with("https://") || l.starts_with("http://"))
            {
                return Err(DomainError::invalid(
                    "link",
                    "must be an http(s) URL to the patch or its release notes",
                ));
            }
            let reason = text::optional("reason", reason.as_deref(), 5_000)?;
            if case.patch_available_at.is_some() && reason.is_none() {
                return Err(DomainError::invalid(
                    "reason",
                    "a patch date is already recorded: say why it is corrected",
                ));
            }
            EventKind::PatchAvailabilityRecorded {
                available_at: at,
                source,
                link,
                reason,
            }
        }
        Command::OverrideScopeRule { rule, reason } => EventKind::ScopeRuleOverridden {
            rule: text::single_line("rule", rule, 64)?,
            reason: text::required("reason", reason, 5_000)?,
        },
        Command::Release { version } => {
            let version = text::optional("version", version.as_deref(), 100)?;
            let mut event = state_change(None);
            if let EventKind::StateChanged {
                release_version, ..
            } = &mut event
            {
                *release_version = version;
            }
            event
        }
        c if c.concerns_article_14() => return cra::decide(case, command, now),
        _ => state_change(None),
    };
    Ok(vec![event])
}

/// Why the domain refused something.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A field's value is unacceptable.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// The workflow does not allow this move from the current state.
    #[error("cannot `{action}` a case in state `{state}`; allowed there: {}", allowed.join(", "))]
    ForbiddenMove {
        state: CaseState,
        action: &'static str,
        allowed: Vec<&'static str>,
    },
    /// Stored events do not fold into a case (a corrupted or tampered history).
    #[error("history does not replay: {0}")]
    Replay(String),
    /// An input is larger than its limit (in bytes).
    #[error("{field}: larger than the limit of {}", crate::attachment::describe_bytes(*limit))]
    TooLarge { field: String, limit: usize },
}

impl DomainError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(minute: u32) -> Instant {
        chrono::Utc
            .with_ymd_and_hms(2026, 3, 6, 17, minute, 0)
            .single()
            .unwrap_or_default()
    }

    fn sample() -> NewCase {
        NewCase {
            title: "  SQL injection in login  ".into(),
            product: "Dock Certs".into(),
            reporter: Reporter {
                contact: Some("alice@example.org".into()),
                name: Some("alice".into()),
                pgp_key: None,
            },
            report: ReportContent {
                summary: "login form".into(),
                description: "the username is concatenated into SQL".into(),
                ..ReportContent::default()
            },
            reporter_deadline: None,
            exploited_evidence: None,
        }
    }

    fn run(case: &mut Case, command: Command, now: Instant) -> Result<(), DomainError> {
        for event in decide(case, &command, now)? {
            case.apply(&event, now)?;
        }
        Ok(())
    }

    #[test]
    fn opening_validates_and_trims() {
        let (case, _) = Case::open(CaseRef::new(2026, 1), sample(), at(0)).unwrap();
        assert_eq!(case.title, "SQL injection in login");
        assert_eq!(case.state, CaseState::Received);
        let mut bad = sample();
        bad.report.description = " \n".into();
        let err = Case::open(CaseRef::new(2026, 1), bad, at(0)).unwrap_err();
        assert_eq!(
            err,
            DomainError::invalid("report.description", "must not be empty")
        );
        let mut bad = sample();
        bad.reporter.contact = Some("not an email@".into());
        assert!(matches!(
            Case::open(CaseRef::new(2026, 1), bad, at(0)),
            Err(DomainError::Invalid { field, .. }) if field == "reporter.contact"
        ));
    }

    #[test]
    fn happy_path_reaches_closed_and_records_the_patch_date() {
        let (mut case, _) = Case::open(CaseRef::new(2026, 1), sample(), at(0)).unwrap();
        let patch = at(1);
        for command in [
            Command::Acknowledge {},
            Command::StartTriage {},
            Command::Accept {},
            Command::StartFix {},
            Command::FixAvailable {
                patch_available_at: Some(patch),
            },
            Command::Release {
                version: Some("2.4.1".into()),
            },
            Command::Disclose {},
            Command::Close {},
        ] {
            run(&mut case, command, at(5)).unwrap();
        }
        assert_eq!(case.state, CaseState::Closed);
        assert_eq!(case.patch_available_at, Some(patch));
        assert_eq!(case.release_version.as_deref(), Some("2.4.1"));
        assert_eq!(case.revision, 9);
    }

    #[test]
    fn forbidden_move_names_state_and_move() {
        let (case, _) = Case::open(CaseRef::new(2026, 1), sample(), at(0)).unwrap();
        let err = decide(&case, &Command::Release { version: None }, at(1)).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("`release`") && msg.contains("`received`"),
            "{msg}"
        );
        assert!(msg.contains("acknowledge"), "{msg}");
    }

    #[test]
    fn waiting_on_reporter_returns_to_where_it_was() {
        let (mut case, _) = Case::open(CaseRef::new(2026, 1), sample(), at(0)).unwrap();
        run(&mut case, Command::Acknowledge {}, at(1)).unwrap();
        run(&mut case, Command::StartTriage {}, at(2)).unwrap();
        run(&mut case, Command::RequestInformation {}, at(3)).unwrap();
        assert_eq!(case.state, CaseState::WaitingOnReporter);
        assert!(decide(&case, &Command::Accept {}, at(4)).is_err());
        run(&mut case, Command::InformationReceived {}, at(4)).unwrap();
        assert_eq!(case.state, CaseState::Triage);
        assert_eq!(case.waiting_from, None);
    }

    #[test]
    fn rejection_keeps_reason_and_reopen_clears_it() {
        let (mut case, _) = Case::open(CaseRef::new(2026, 2), sample(), at(0)).unwrap();
        run(&mut case, Command::StartTriage {}, at(1)).unwrap();
        assert!(
            decide(
                &case,
                &Command::NotAVulnerability {
                    reason: " ".into(),
                    rule: None
                },
                at(2)
            )
            .is_err(),
            "a rejection needs a reason"
        );
        run(
            &mut case,
            Command::NotAVulnerability {
                reason: "Self-signed certificate".into(),
                rule: None,
            },
            at(2),
        )
        .unwrap();
        assert_eq!(case.reason.as_deref(), Some("Self-signed certificate"));
        run(&mut case, Command::Reopen { reason: None }, at(3)).unwrap();
        assert_eq!(
            (case.state, case.reason.as_deref()),
            (CaseState::Triage, None)
        );
        assert!(decide(&case, &Command::Duplicate { of: case.reference }, at(4)).is_err());
        run(
            &mut case,
            Command::Duplicate {
                of: CaseRef::new(2026, 1),
            },
            at(4),
        )
        .unwrap();
        assert_eq!(case.duplicate_of, Some(CaseRef::new(2026, 1)));
    }

    #[test]
    fn patch_date_in_the_future_is_refused() {
        let (mut case, _) = Case::open(CaseRef::new(2026, 1), sample(), at(0)).unwrap();
        for c in [Command::StartTriage {}, Command::Accept {}] {
            run(&mut case, c, at(1)).unwrap();
        }
        let err = decide(
            &case,
            &Command::FixAvailable {
                patch_available_at: Some(at(9)),
            },
            at(2),
        )
        .unwrap_err();
        assert!(matches!(err, DomainError::Invalid { field, .. } if field == "patch_available_at"));
    }

    #[test]
    fn setting_the_same_severity_twice_records_nothing() {
        let (mut case, _) = Case::open(CaseRef::new(2026, 1), sample(), at(0)).unwrap();
        let set = Command::SetSeverity {
            severity: Severity::High,
        };
        run(&mut case, set.clone(), at(1)).unwrap();
        assert!(decide(&case, &set, at(2)).unwrap().is_empty());
    }

    #[test]
    fn replay_rejects_histories_that_do_not_fold() {
        let (case, created) = Case::open(CaseRef::new(2026, 1), sample(), at(0)).unwrap();
        let bogus = EventKind::StateChanged {
            from: CaseState::Fixing,
            to: CaseState::FixAvailable,
            action: "fix_available".into(),
            reason: None,
            duplicate_of: None,
            patch_available_at: None,
            release_version: None,
            rule: None,
        };
        assert!(Case::replay(case.reference, [(at(0), &created), (at(1), &bogus)]).is_err());
        assert_eq!(
            Case::replay(case.reference, [(at(0), &created)]).unwrap(),
            case
        );
    }

    #[test]
    fn commands_round_trip_through_json_with_their_action_names() {
        for command in Command::samples() {
            let json = serde_json::to_value(&command).unwrap();
            assert_eq!(json["action"], command.action());
        }
        let unknown: Result<Command, _> = serde_json::from_str(r#"{"action":"accept","extra":1}"#);
        assert!(unknown.is_err());
    }
}

/// One entry of a case's history, as stored and served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Event {
    /// Position in the store-wide hash chain.
    pub seq: i64,
    pub at: DateTime<Utc>,
    /// Who caused it: `user:NAME`, `system`, or `cli`.
    pub actor: String,
    #[serde(flatten)]
    pub kind: EventKind,
}
