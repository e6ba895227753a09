//! The EU Cyber Resilience Act's reporting duties (Regulation (EU) 2024/2847,
//! Article 14): what a case knows about active exploitation
//! ([`crate::case::cra`]), the policy's `[cra]` section with the clocks it
//! adds ([`crate::policy::CraSection`]), and the report pack drafted for each
//! stage of a notification from the case.
//!
//! Article 14's periods are counted on the wall clock: "24 hours" are 24
//! elapsed hours, whatever the calendar says about weekends, holidays or a
//! change of daylight-saving time (a night that is an hour longer does not
//! give the manufacturer an hour more), and "14 days" and "one month" are
//! calendar periods ending at the same local time of day.

pub use crate::case::cra::*;
use crate::case::{Case, Event, EventKind};
pub use crate::policy::{
    CraProduct, CraSection, EARLY_WARNING_CLOCK, FINAL_REPORT_CLOCK, INCIDENT_FINAL_REPORT_CLOCK,
    NOTIFICATION_CLOCK, USERS_INFORMED_CLOCK,
};

/// The JSON schema of a pack, as published in the repository.
pub const PACK_JSON_SCHEMA: &str = include_str!("../../../schemas/cra-report.schema.json");

impl CraPack {
    /// Drafts `stage`'s pack from the case, its history and the policy's
    /// `[cra]` section.
    #[must_use]
    pub fn draft(stage: CraStage, case: &Case, history: &[Event], cra: &CraSection) -> CraPack {
        let status = case.cra.as_ref();
        let subject = status.map_or(CraSubject::Vulnerability, |s| s.subject);
        let product = cra.product(&case.product);
        let mut evidence = String::new();
        let mut measures = Vec::new();
        for e in history {
            match &e.kind {
                EventKind::ExploitationConfirmed { text, .. }
                | EventKind::IncidentDeclared { text, .. } => evidence.clone_from(text),
                EventKind::CorrectiveMeasureRecorded { text, link, .. } => {
                    measures.push(match link {
                        Some(l) => format!("{text} ({l})"),
                        None => text.clone(),
                    })
                }
                EventKind::PatchAvailabilityRecorded { source, link, .. } => {
                    measures.push(match link {
                        Some(l) => format!("Patch: {source} ({l})"),
                        None => format!("Patch: {source}"),
                    });
                }
                _ => {}
            }
        }
        let security_update = match (&case.release_version, case.patch_available_at) {
            (Some(v), _) => format!("Fixed in release {v}."),
            (None, Some(at)) => format!("A patch is available since {}.", at.format("%Y-%m-%d")),
            _ => String::new(),
        };
        CraPack {
            schema: PACK_SCHEMA.to_owned(),
            stage,
            subject,
            case: case.reference.to_string(),
            manufacturer: cra.manufacturer.clone(),
            main_establishment: cra.main_establishment.clone(),
            coordinator: cra.coordinator.clone(),
            aware_at: status.and_then(|s| s.aware_at),
            product: case.product.clone(),
            versions: case
                .report
                .affected_versions
                .iter()
                .flat_map(|v| v.split([',', '\n']))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .collect(),
            member_states: product.map(|p| p.member_states.clone()).unwrap_or_default(),
            nature: evidence,
            vulnerability: match subject {
                CraSubject::Vulnerability => case.title.clone(),
                CraSubject::Incident => String::new(),
            },
            suspected_malicious: None,
            corrective_measures_taken: measures.join("\n"),
            user_measures: case.report.suggested_mitigation.clone().unwrap_or_default(),
            sensitivity: "high".to_owned(),
            description: case.report.description.clone(),
            severity: case.severity,
            impact: case.report.impact.clone().unwrap_or_default(),
            malicious_actor: String::new(),
            security_update,
            root_cause: String::new(),
            notes: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_later_stage_covers_the_earlier_ones_but_not_the_intermediate_report() {
        assert!(CraStage::Notification.covers(CraStage::EarlyWarning));
        assert!(CraStage::FinalReport.covers(CraStage::Notification));
        assert!(!CraStage::EarlyWarning.covers(CraStage::Notification));
        assert!(!CraStage::Intermediate.covers(CraStage::EarlyWarning));
        assert!(!CraStage::FinalReport.covers(CraStage::Intermediate));
        assert!(CraStage::Intermediate.covers(CraStage::Intermediate));
    }
}
