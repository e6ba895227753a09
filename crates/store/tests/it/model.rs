//! Property test over random command sequences: what the store holds is
//! always what replaying the events gives, and no sequence leaves the
//! workflow graph written out below from the description.

use crate::Writes;
use std::collections::HashSet;

use embargo_core::{Case, CaseRef, CaseState, Command, EventKind, Severity};
use embargo_store::testing::TestDatabase;
use proptest::prelude::*;

use crate::{open, report, t};

/// The coordinated-disclosure graph as specified: (from, action, to). Written
/// independently of `embargo_core::case::next_state`, which it checks.
fn spec_edges() -> HashSet<(CaseState, &'static str, CaseState)> {
    use CaseState as S;
    let mut e = HashSet::new();
    e.insert((S::Received, "acknowledge", S::Acknowledged));
    e.insert((S::Received, "start_triage", S::Triage));
    e.insert((S::Acknowledged, "start_triage", S::Triage));
    for from in [S::Acknowledged, S::Triage, S::Accepted] {
        e.insert((from, "request_information", S::WaitingOnReporter));
        e.insert((S::WaitingOnReporter, "information_received", from));
    }
    e.insert((S::Triage, "accept", S::Accepted));
    e.insert((S::Accepted, "start_fix", S::Fixing));
    e.insert((S::Accepted, "fix_available", S::FixAvailable));
    e.insert((S::Fixing, "fix_available", S::FixAvailable));
    e.insert((S::FixAvailable, "release", S::Released));
    e.insert((S::FixAvailable, "disclose", S::Disclosed));
    e.insert((S::Released, "disclose", S::Disclosed));
    e.insert((S::Released, "close", S::Closed));
    e.insert((S::Disclosed, "close", S::Closed));
    for from in [
        S::Received,
        S::Acknowledged,
        S::Triage,
        S::WaitingOnReporter,
    ] {
        e.insert((from, "not_a_vulnerability", S::NotAVulnerability));
        e.insert((from, "out_of_scope", S::OutOfScope));
        e.insert((from, "duplicate", S::Duplicate));
        e.insert((from, "spam", S::Spam));
    }
    for from in [
        S::Closed,
        S::NotAVulnerability,
        S::OutOfScope,
        S::Duplicate,
        S::Spam,
    ] {
        e.insert((from, "reopen", S::Triage));
    }
    e
}

fn command(i: u8) -> Command {
    match i % 17 {
        0 => Command::Acknowledge {},
        1 => Command::StartTriage {},
        2 => Command::RequestInformation {},
        3 => Command::InformationReceived {},
        4 => Command::Accept {},
        5 => Command::StartFix {},
        6 => Command::FixAvailable {
            patch_available_at: None,
        },
        7 => Command::Release {
            version: Some("1.2.3".into()),
        },
        8 => Command::Disclose {},
        9 => Command::Close {},
        10 => Command::NotAVulnerability {
            reason: "by design".into(),
            rule: None,
        },
        11 => Command::OutOfScope {
            reason: "third-party".into(),
            rule: None,
        },
        12 => Command::Duplicate {
            of: CaseRef::new(2026, 1),
        },
        13 => Command::Spam {},
        14 => Command::Reopen {
            reason: Some("new evidence".into()),
        },
        15 => Command::SetSeverity {
            severity: Severity::ALL[usize::from(i / 17) % 5],
        },
        _ => Command::AddNote {
            text: format!("note {i}"),
        },
    }
}

async fn check(db: TestDatabase, steps: Vec<(u8, u8)>) -> Result<(), TestCaseError> {
    let store = open(&db, embargo_core::crypto::Keyring::generate()).await;
    let edges = spec_edges();
    let mut refs = Vec::new();
    for i in 0..3 {
        refs.push(
            store
                .create_case(report(&format!("c{i}")), "cli", t(2, 9, 0))
                .await
                .unwrap()
                .reference,
        );
    }
    for (n, (which, cmd)) in steps.into_iter().enumerate() {
        let reference = refs[usize::from(which) % refs.len()];
        let now = t(2, 10, 0) + chrono::Duration::minutes(i64::try_from(n).unwrap_or(0));
        let before = store.case(reference).await.unwrap();
        let command = command(cmd);
        match store.execute(reference, &command, "user:prop", now).await {
            Ok((after, events)) => {
                for e in &events {
                    if let EventKind::StateChanged {
                        from, to, action, ..
                    } = &e.kind
                    {
                        prop_assert!(
                            edges
                                .iter()
                                .any(|(f, a, t)| f == from && *a == action.as_str() && t == to),
                            "{from} --{action}--> {to} is not in the workflow graph"
                        );
                    }
                }
                prop_assert_eq!(store.case(reference).await.unwrap(), after);
            }
            Err(_) => {
                // A refused command changes nothing, and only moves outside the graph are refused.
                prop_assert_eq!(&store.case(reference).await.unwrap(), &before);
                let graph_allows = edges
                    .iter()
                    .any(|(f, a, _)| *f == before.state && *a == command.action());
                let allowed_without_move = matches!(
                    command,
                    Command::SetSeverity { .. } | Command::AddNote { .. }
                );
                let self_duplicate =
                    matches!(command, Command::Duplicate { of } if of == reference);
                prop_assert!(
                    !graph_allows || self_duplicate,
                    "{} refused in {}",
                    command.action(),
                    before.state
                );
                prop_assert!(!allowed_without_move);
            }
        }
        let history = store.history(reference).await.unwrap();
        let replayed = Case::replay(reference, history.iter().map(|e| (e.at, &e.kind))).unwrap();
        prop_assert_eq!(replayed, store.case(reference).await.unwrap());
    }
    store.verify().await.unwrap();
    store.close().await;
    Ok(())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn store_equals_replay_and_stays_in_the_graph_on_sqlite(
        steps in proptest::collection::vec((0u8..3, any::<u8>()), 1..40)
    ) {
        runtime().block_on(check(TestDatabase::sqlite().unwrap(), steps))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn store_equals_replay_and_stays_in_the_graph_on_postgres(
        steps in proptest::collection::vec((0u8..3, any::<u8>()), 1..40)
    ) {
        let rt = runtime();
        let db = rt.block_on(TestDatabase::postgres()).unwrap();
        if let Some(db) = db {
            rt.block_on(check(db, steps))?;
        }
    }
}
