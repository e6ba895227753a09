//! The Cyber Resilience Act's reports (Article 14): each stage's pack as it
//! stands (the team's last saved edit, else a draft from the case), and a
//! submission that sends the saved pack when the request gives none.

use embargo_core::clock::{self, ClockReport};
use embargo_core::cra::{CraPack, CraSection, CraStage, CraSubject};
use embargo_core::{Case, Command, Event, EventKind, Instant};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// A stage as it was sent.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Submitted {
    pub submitted_at: chrono::DateTime<chrono::Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform_reference: Option<String>,
    /// Who marked it submitted.
    pub by: String,
}

/// One stage's report pack and where it stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct PackView {
    /// The pack: as sent once submitted, else the last saved edit, else a draft.
    pub pack: CraPack,
    /// When the team last saved an edit (none: a fresh draft from the case).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saved_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submitted: Option<Submitted>,
    /// What the Act asks of this stage that the pack does not say yet.
    pub missing: Vec<&'static str>,
    /// The stage's clock (none for an intermediate report).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock: Option<ClockReport>,
}

/// The policy's `[cra]` section for the case's product, or why there is none.
pub(crate) fn section<'a>(state: &'a AppState, case: &Case) -> ApiResult<&'a CraSection> {
    let policy = state.settings.policies.for_product(&case.product);
    policy.cra.as_ref().ok_or_else(|| {
        ApiError::from(embargo_core::DomainError::invalid(
            "stage",
            format!(
                "policy `{}` has no [cra] section: add one (see the eu-cra preset) to report under the Cyber Resilience Act",
                policy.id
            ),
        ))
    })
}

/// The clock that `stage` stops for this case.
pub(crate) fn stage_clock(stage: CraStage, case: &Case) -> Option<&'static str> {
    let incident = case
        .cra
        .as_ref()
        .is_some_and(|s| s.subject == CraSubject::Incident);
    match stage {
        CraStage::EarlyWarning => Some(embargo_core::cra::EARLY_WARNING_CLOCK),
        CraStage::Notification => Some(embargo_core::cra::NOTIFICATION_CLOCK),
        CraStage::Intermediate => None,
        CraStage::FinalReport if incident => Some(embargo_core::cra::INCIDENT_FINAL_REPORT_CLOCK),
        CraStage::FinalReport => Some(embargo_core::cra::FINAL_REPORT_CLOCK),
    }
}

/// `stage`'s pack for `case`, as it stands at `now`.
pub fn pack_view(
    state: &AppState,
    case: &Case,
    history: &[Event],
    stage: CraStage,
    now: Instant,
) -> ApiResult<PackView> {
    let section = section(state, case)?;
    let submitted = history.iter().rev().find_map(|e| match &e.kind {
        EventKind::CraReportSubmitted {
            stage: s,
            submitted_at,
            platform_reference,
            report,
        } if *s == stage => Some((
            report.clone(),
            Submitted {
                submitted_at: *submitted_at,
                platform_reference: platform_reference.clone(),
                by: e.actor.clone(),
            },
        )),
        _ => None,
    });
    let saved = history.iter().rev().find_map(|e| match &e.kind {
        EventKind::CraReportSaved { stage: s, report } if *s == stage => {
            Some((report.clone(), e.at))
        }
        _ => None,
    });
    let (pack, saved_at, submitted) = match (submitted, saved) {
        (Some((pack, sub)), saved) => (pack, saved.map(|(_, at)| at), Some(sub)),
        (None, Some((pack, at))) => (pack, Some(at), None),
        (None, None) => (CraPack::draft(stage, case, history, section), None, None),
    };
    let policy = state.settings.policies.for_product(&case.product);
    let clock = stage_clock(stage, case).and_then(|id| {
        clock::evaluate(policy, case, history, now)
            .into_iter()
            .find(|c| c.id == id)
    });
    Ok(PackView {
        missing: pack.missing(),
        pack,
        saved_at,
        submitted,
        clock,
    })
}

/// A submission without a pack sends the stage's pack as it stands (the
/// saved edit, else the draft); other commands pass through.
pub(crate) async fn fill_submission(
    state: &AppState,
    raw: &str,
    command: Command,
) -> ApiResult<Command> {
    let Command::SubmitCraReport {
        stage,
        submitted_at,
        platform_reference,
        report: None,
    } = command
    else {
        return Ok(command);
    };
    let r: embargo_core::CaseRef =
        raw.parse()
            .map_err(|e: embargo_core::reference::ParseCaseRefError| {
                ApiError::not_found(e.to_string())
            })?;
    let case = state.store.case(r).await?;
    let history = state.store.history(r).await?;
    let view = pack_view(state, &case, &history, stage, state.now())?;
    Ok(Command::SubmitCraReport {
        stage,
        submitted_at,
        platform_reference,
        report: Some(view.pack),
    })
}

/// One stage of a case's notification as the desk shows it.
#[derive(Debug, Clone, Serialize)]
pub struct StageRow {
    pub stage: &'static str,
    pub title: &'static str,
    /// `running`, `warning`, `breached`, `met`, `met_late`, `not_started`, …
    pub status: &'static str,
    pub due: Option<Instant>,
    /// Hours and minutes left (or late), e.g. `21 h 05 min left`.
    pub left: Option<String>,
    pub submitted_at: Option<Instant>,
}

/// Hours and minutes, however many days: Article 14's clocks are counted in hours.
#[must_use]
pub fn hours_minutes(seconds: i64) -> String {
    let s = seconds.abs();
    format!("{} h {:02} min", s / 3600, s % 3600 / 60)
}

/// The early warning, notification and final report of `case` (and any
/// intermediate report sent), with their clocks at `now`.
#[must_use]
pub fn stage_rows(case: &Case, clocks: &[ClockReport], now: Instant) -> Vec<StageRow> {
    let submitted = |stage: CraStage| {
        case.cra.as_ref().and_then(|c| {
            c.submissions
                .iter()
                .filter(|s| s.stage == stage)
                .map(|s| s.submitted_at)
                .max()
        })
    };
    let mut stages = vec![
        CraStage::EarlyWarning,
        CraStage::Notification,
        CraStage::FinalReport,
    ];
    if submitted(CraStage::Intermediate).is_some() {
        stages.insert(2, CraStage::Intermediate);
    }
    stages
        .into_iter()
        .map(|stage| {
            let clock = stage_clock(stage, case).and_then(|id| clocks.iter().find(|c| c.id == id));
            let status = clock.map_or("not_started", |c| c.status.as_str());
            let left = clock.and_then(|c| {
                let due = c.due_at?;
                match c.status {
                    clock::ClockStatus::Running | clock::ClockStatus::Warning => {
                        Some(format!("{} left", hours_minutes((due - now).num_seconds())))
                    }
                    clock::ClockStatus::Breached | clock::ClockStatus::MetLate => c
                        .overdue_seconds
                        .map(|o| format!("{} late", hours_minutes(o))),
                    _ => None,
                }
            });
            StageRow {
                stage: stage.as_str(),
                title: stage.title(),
                status,
                due: clock.and_then(|c| c.due_at),
                left,
                submitted_at: submitted(stage),
            }
        })
        .collect()
}

/// What the catalogs say of a finding linked to a case.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Signal {
    pub finding: i64,
    pub advisory: String,
    pub component: String,
    pub known_exploited: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kev: Option<embargo_core::portfolio::KevMark>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epss: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epss_percentile: Option<f32>,
}

/// The exploitation signals of the findings linked to case `r` (those with one).
pub async fn signals(state: &AppState, r: embargo_core::CaseRef) -> ApiResult<Vec<Signal>> {
    Ok(state
        .store
        .linked_findings(r)
        .await?
        .into_iter()
        .filter(|f| f.known_exploited || f.epss.is_some())
        .map(|f| Signal {
            finding: f.id,
            advisory: f.advisory,
            component: f.component,
            known_exploited: f.known_exploited,
            kev: f.kev,
            epss: f.epss,
            epss_percentile: f.epss_percentile,
        })
        .collect())
}

/// When embargo first knew that a finding linked to case `r` is in CISA's
/// KEV catalog: the listing's arrival in the finding's history, or the
/// finding's opening when it opened listed. `None` without such a finding.
pub(crate) async fn first_kev_signal(
    state: &AppState,
    r: embargo_core::CaseRef,
) -> ApiResult<Option<Instant>> {
    let mut first: Option<Instant> = None;
    for f in state.store.linked_findings(r).await? {
        if !f.known_exploited {
            continue;
        }
        let listed = state
            .store
            .finding_history(f.id)
            .await?
            .into_iter()
            .find(|(_, _, change)| change.get("known_exploited").is_some())
            .map_or(f.first_seen, |(at, _, _)| at);
        first = Some(first.map_or(listed, |t| t.min(listed)));
    }
    Ok(first)
}
