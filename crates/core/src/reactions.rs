//! What follows from a case's events beyond the case itself: decisions of
//! the domain, made here as pure functions, that the application layer
//! carries out in the same unit of work as the events (so they happen
//! exactly when the events are recorded, on every path that records them).

use crate::case::{Case, CaseState, Event, EventKind};
use crate::notify::Notice;

/// Something the events of a case set off outside the case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reaction {
    /// The case's fix was released (in `release_version`, when known): the
    /// portfolio findings escalated to the case are resolved by it.
    ResolveEscalatedFindings { release_version: Option<String> },
    /// Someone is to be told: the notice's destinations (reporter, team,
    /// webhooks) are planned when it is queued.
    Notify(Box<Notice>),
}

/// The reactions to `events`, just recorded on `case` (as it stands after
/// them), in order.
#[must_use]
pub fn reactions(case: &Case, events: &[Event]) -> Vec<Reaction> {
    let mut out = Vec::new();
    // A publication that discloses the case says so itself: the state
    // change beside it is not told twice.
    let published = events
        .iter()
        .any(|e| matches!(e.kind, EventKind::AdvisoryPublished { .. }));
    for event in events {
        if published
            && matches!(
                event.kind,
                EventKind::StateChanged {
                    to: CaseState::Disclosed,
                    ..
                }
            )
        {
            continue;
        }
        if let EventKind::StateChanged {
            to: CaseState::Released,
            release_version,
            ..
        } = &event.kind
        {
            out.push(Reaction::ResolveEscalatedFindings {
                release_version: release_version.clone(),
            });
        }
        if let Some(notice) = Notice::of(case, &event.kind, event.seq, event.at) {
            out.push(Reaction::Notify(Box::new(notice)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Case `number` just opened, its opening event, and when.
    fn opened(number: u32) -> (Case, EventKind, chrono::DateTime<chrono::Utc>) {
        let request = crate::NewCase {
            title: "t".into(),
            product: "p".into(),
            reporter: crate::case::Reporter::default(),
            report: crate::case::ReportContent {
                summary: "s".into(),
                description: "d".into(),
                ..crate::case::ReportContent::default()
            },
            reporter_deadline: None,
            exploited_evidence: None,
        };
        let at = chrono::DateTime::from_timestamp(1_780_000_000, 0).unwrap();
        let (case, created) = Case::open(crate::CaseRef::new(2026, number), request, at).unwrap();
        (case, created, at)
    }

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
        let (case, created, at) = opened(1);
        let recorded = |seq, kind| Event {
            seq,
            at,
            actor: "t".into(),
            kind,
        };
        let events = [
            recorded(1, created),
            recorded(2, triaged),
            recorded(3, released),
        ];
        let resolutions: Vec<Reaction> = reactions(&case, &events)
            .into_iter()
            .filter(|r| !matches!(r, Reaction::Notify(_)))
            .collect();
        assert_eq!(
            resolutions,
            vec![Reaction::ResolveEscalatedFindings {
                release_version: Some("2.4.1".into())
            }]
        );
        assert!(
            reactions(&case, &events[..2])
                .iter()
                .all(|r| matches!(r, Reaction::Notify(_)))
        );
    }

    #[test]
    fn every_notice_an_event_is_worth_is_a_reaction_with_the_events_sequence() {
        let (case, created, at) = opened(7);
        let events = [Event {
            seq: 41,
            at,
            actor: "reporter".into(),
            kind: created.clone(),
        }];
        let notices: Vec<Notice> = reactions(&case, &events)
            .into_iter()
            .filter_map(|r| match r {
                Reaction::Notify(n) => Some(*n),
                Reaction::ResolveEscalatedFindings { .. } => None,
            })
            .collect();
        assert_eq!(notices.len(), 1, "a new report is told");
        assert_eq!(notices[0].event_seq, 41);
        assert_eq!(
            Some(&notices[0]),
            Notice::of(&case, &created, 41, at).as_ref()
        );
    }
}
