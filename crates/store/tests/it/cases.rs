use crate::Writes;
use embargo_core::{CaseState, Command, Severity};
use embargo_store::CaseFilter;

use crate::{each_backend, report, t};

#[tokio::test]
async fn references_are_sequential_per_year() {
    each_backend(|store, db| async move {
        let a = store
            .create_case(report("a"), "user:alice", t(2, 9, 0))
            .await
            .unwrap();
        let b = store
            .create_case(report("b"), "user:alice", t(2, 9, 1))
            .await
            .unwrap();
        assert_eq!(a.reference.to_string(), "EMB-2026-0001", "{}", db.backend());
        assert_eq!(b.reference.to_string(), "EMB-2026-0002");
        let next_year =
            chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2027, 1, 1, 0, 0, 0).unwrap();
        let c = store
            .create_case(report("c"), "user:alice", next_year)
            .await
            .unwrap();
        assert_eq!(c.reference.to_string(), "EMB-2027-0001");
        let read = store.case(a.reference).await.unwrap();
        assert_eq!(read, a);
    })
    .await;
}

#[tokio::test]
async fn concurrent_creation_never_repeats_or_skips_a_reference() {
    each_backend(|store, db| async move {
        let mut tasks = Vec::new();
        for i in 0..60 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .create_case(report(&format!("r{i}")), "user:alice", t(3, 10, 0))
                    .await
                    .map(|c| c.reference.number())
            }));
        }
        let mut numbers = Vec::new();
        for task in tasks {
            numbers.push(task.await.unwrap().unwrap());
        }
        numbers.sort_unstable();
        assert_eq!(numbers, (1..=60).collect::<Vec<_>>(), "{}", db.backend());
        store.verify().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn transitions_append_events_and_forbidden_moves_are_refused() {
    each_backend(|store, db| async move {
        let case = store
            .create_case(report("x"), "user:alice", t(2, 9, 0))
            .await
            .unwrap();
        let r = case.reference;
        let (case, events) = store
            .execute(r, &Command::Acknowledge {}, "user:bob", t(2, 9, 30))
            .await
            .unwrap();
        assert_eq!(case.state, CaseState::Acknowledged);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].seq, 2);
        let err = store
            .execute(r, &Command::Close {}, "user:bob", t(2, 9, 31))
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("cannot `close` a case in state `acknowledged`"),
            "{err}"
        );
        store
            .execute(
                r,
                &Command::SetSeverity {
                    severity: Severity::High,
                },
                "user:bob",
                t(2, 10, 0),
            )
            .await
            .unwrap();
        store
            .execute(
                r,
                &Command::AddNote {
                    text: "looks real".into(),
                },
                "user:bob",
                t(2, 10, 1),
            )
            .await
            .unwrap();
        let history = store.history(r).await.unwrap();
        let kinds: Vec<&str> = history.iter().map(|e| e.kind.name()).collect();
        assert_eq!(
            kinds,
            [
                "case_created",
                "state_changed",
                "severity_changed",
                "note_added"
            ],
            "{}",
            db.backend()
        );
        assert_eq!(history[1].actor, "user:bob");
        assert_eq!(history[3].at, t(2, 10, 1));
        let stored = store.case(r).await.unwrap();
        assert_eq!(
            (stored.severity, stored.revision),
            (Some(Severity::High), 4)
        );
    })
    .await;
}

#[tokio::test]
async fn listing_filters_and_pages_newest_first() {
    each_backend(|store, db| async move {
        for i in 0..7 {
            let mut r = report(&format!("case {i}"));
            if i % 2 == 0 {
                r.product = "Segura".into();
            }
            let c = store.create_case(r, "cli", t(4, 9, i)).await.unwrap();
            if i == 3 {
                store
                    .execute(
                        c.reference,
                        &Command::SetSeverity {
                            severity: Severity::Critical,
                        },
                        "cli",
                        t(4, 10, 0),
                    )
                    .await
                    .unwrap();
            }
        }
        let page = store
            .list_cases(&CaseFilter::default(), 3, None)
            .await
            .unwrap();
        let titles: Vec<_> = page.cases.iter().map(|c| c.title.as_str()).collect();
        assert_eq!(titles, ["case 6", "case 5", "case 4"], "{}", db.backend());
        let page2 = store
            .list_cases(&CaseFilter::default(), 3, page.next_cursor.as_deref())
            .await
            .unwrap();
        assert_eq!(page2.cases[0].title, "case 3");
        let page3 = store
            .list_cases(&CaseFilter::default(), 3, page2.next_cursor.as_deref())
            .await
            .unwrap();
        assert_eq!((page3.cases.len(), page3.next_cursor), (1, None));

        let segura = CaseFilter {
            product: Some("Segura".into()),
            ..CaseFilter::default()
        };
        assert_eq!(
            store
                .list_cases(&segura, 50, None)
                .await
                .unwrap()
                .cases
                .len(),
            4
        );
        let critical = CaseFilter {
            severity: Some(Severity::Critical),
            ..CaseFilter::default()
        };
        let found = store.list_cases(&critical, 50, None).await.unwrap().cases;
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].title, "case 3");
        let received = CaseFilter {
            state: Some(CaseState::Received),
            ..CaseFilter::default()
        };
        assert_eq!(
            store
                .list_cases(&received, 50, None)
                .await
                .unwrap()
                .cases
                .len(),
            7
        );
        assert!(
            store
                .list_cases(&CaseFilter::default(), 5, Some("abc"))
                .await
                .is_err()
        );
    })
    .await;
}

/// A unit of work is kept whole or not at all: dropped without a commit (a
/// use case that failed half-way), nothing it wrote remains — not the case,
/// not its reference, not its event, not the message queued beside it.
#[tokio::test]
async fn a_unit_of_work_dropped_uncommitted_leaves_nothing() {
    each_backend(|store, db| async move {
        {
            let mut work = store.begin().await.unwrap();
            let (handle, _) = work
                .cases()
                .open(report("never kept"), "cli", t(2, 9, 0))
                .await
                .unwrap();
            let delivery = embargo_core::notify::Delivery::Email {
                to: "team@example.org".into(),
                subject: "s".into(),
                text: "t".into(),
                html: String::new(),
                encrypted: false,
                attachments: Vec::new(),
            };
            let queued = work
                .outbox()
                .queue(
                    "uncommitted",
                    "test",
                    Some(&handle.case.reference.to_string()),
                    &delivery,
                    t(2, 9, 0),
                )
                .await
                .unwrap();
            assert!(queued);
        }
        let page = store
            .list_cases(&CaseFilter::default(), 10, None)
            .await
            .unwrap();
        assert!(page.cases.is_empty(), "{}: no case", db.backend());
        assert!(
            store
                .delivery_by_key("uncommitted")
                .await
                .unwrap()
                .is_none()
        );
        let kept = store
            .create_case(report("kept"), "cli", t(2, 9, 1))
            .await
            .unwrap();
        assert_eq!(
            kept.reference.to_string(),
            "EMB-2026-0001",
            "{}: the reference was not used up",
            db.backend()
        );
        let audit = store.verify().await.unwrap();
        assert_eq!((audit.events, audit.cases), (1, 1), "{}", db.backend());
    })
    .await;
}
