//! What follows from a case's events beyond the case itself: decisions of
//! the domain, made here as pure functions, that the store carries out in
//! the same transaction as the events (so they happen exactly when the
//! events are recorded, on every path that records them).

use crate::case::{CaseState, EventKind};

/// Something the events of a case set off outside the case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reaction {
    /// The case's fix was released (in `release_version`, when known): the
    /// portfolio findings escalated to the case are resolved by it.
    ResolveEscalatedFindings { release_version: Option<String> },
}

/// The reactions to `events`, just applied to a case, in order.
#[must_use]
pub fn reactions(events: &[EventKind]) -> Vec<Reaction> {
    events
        .iter()
        .filter_map(|event| match event {
            EventKind::StateChanged {
                to: CaseState::Released,
                release_version,
                ..
            } => Some(Reaction::ResolveEscalatedFindings {
                release_version: release_version.clone(),
            }),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_released_fix_resolves_escalated_findings_and_nothing_else_reacts() {
        let released = EventKind::StateChanged {
            from: CaseState::FixAvailable,
            to: CaseState::Released,
            action: "release".into(),
            reason: None,
            duplicate_of: None,
            patch_available_at: None,
            release_version: Some("2.4.1".into()),
            rule: None,
        };
        let triaged = EventKind::StateChanged {
            from: CaseState::Acknowledged,
            to: CaseState::Triage,
            action: "start_triage".into(),
            reason: None,
            duplicate_of: None,
            patch_available_at: None,
            release_version: None,
            rule: None,
        };
        assert_eq!(
            reactions(&[triaged.clone(), released]),
            vec![Reaction::ResolveEscalatedFindings {
                release_version: Some("2.4.1".into())
            }]
        );
        assert!(reactions(&[triaged]).is_empty());
    }
}
