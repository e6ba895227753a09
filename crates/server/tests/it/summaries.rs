//! The case summaries the queue sorts and counts by: written with every
//! change to a case, judged against the time of the request (a clock
//! breaches without anything being written), and rebuilt where they may be
//! out of date (a case written by a path that kept none, a new policy).

use std::sync::Arc;

use chrono::Duration;
use embargo_core::crypto::Keyring;
use embargo_core::policy::{Policy, PolicySet, presets};
use embargo_core::{Command, NewCase};
use embargo_server::ServerSettings;
use embargo_server::app::summaries::bring_up_to_date;
use embargo_store::testing::TestDatabase;
use embargo_store::{AssigneeFilter, CaseFilter, QueueFilter, QueueSort, QueueView, Store};

use crate::{new_case, recording, t0};

fn queue(view: Option<QueueView>, now: embargo_core::Instant) -> QueueFilter {
    QueueFilter {
        cases: CaseFilter {
            open_only: true,
            ..CaseFilter::default()
        },
        assignee: AssigneeFilter::Anyone,
        view,
        sort: QueueSort::NextDue,
        now,
    }
}

#[tokio::test]
async fn the_queue_counts_from_summaries_kept_with_each_case_and_rebuilt_when_stale() {
    for db in TestDatabase::all().await {
        let store = Store::connect(&db.url, Keyring::generate()).await.unwrap();
        store.migrate(t0()).await.unwrap();
        let mut refs = Vec::new();
        for i in 0..3 {
            let request: NewCase =
                serde_json::from_value(new_case(&format!("Report {i}"))).unwrap();
            let case = recording()
                .create_case(&store, request, "user:rita", t0())
                .await
                .unwrap();
            refs.push(case.reference);
        }
        let breached = |hours: i64| queue(Some(QueueView::Breached), t0() + Duration::hours(hours));
        let due_soon = |hours: i64| queue(Some(QueueView::DueSoon), t0() + Duration::hours(hours));
        // The default policy acknowledges within 24 hours, warning at 75 %.
        assert_eq!(store.queue_count(&breached(1)).await.unwrap(), 0);
        assert_eq!(store.queue_count(&due_soon(1)).await.unwrap(), 0);
        assert_eq!(store.queue_count(&due_soon(20)).await.unwrap(), 3);
        // A day and more later, with nothing written: all three breached.
        assert_eq!(store.queue_count(&breached(30)).await.unwrap(), 3);
        assert_eq!(store.queue_count(&due_soon(30)).await.unwrap(), 0);

        // Acknowledging one writes its summary in the same unit.
        recording()
            .execute(
                &store,
                refs[1],
                &Command::Acknowledge {},
                "user:rita",
                t0() + Duration::hours(2),
            )
            .await
            .unwrap();
        assert_eq!(store.queue_count(&breached(30)).await.unwrap(), 2);
        let shown = store.queue_cases(&breached(30), 0, 50).await.unwrap();
        assert!(shown.iter().all(|q| q.case.reference != refs[1]));
        // Assignment is a summary fact too.
        recording()
            .execute(
                &store,
                refs[2],
                &Command::Assign {
                    to: Some("rita".into()),
                },
                "user:rita",
                t0() + Duration::hours(3),
            )
            .await
            .unwrap();
        let mut mine = queue(None, t0() + Duration::hours(4));
        mine.assignee = AssigneeFilter::Member("rita".into());
        let mine = store.queue_cases(&mine, 0, 50).await.unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].case.reference, refs[2]);

        // A case written by a path that kept no summary (as before the
        // summaries existed) is summarised before the queue reads.
        let settings = ServerSettings::default();
        let state = embargo_server::state(store.clone(), settings, Arc::new(t0));
        let mut work = store.begin().await.unwrap();
        let request: NewCase = serde_json::from_value(new_case("Written bare")).unwrap();
        work.cases().open(request, "user:rita", t0()).await.unwrap();
        work.commit().await.unwrap();
        assert_eq!(store.queue_count(&breached(30)).await.unwrap(), 2);
        let now = t0() + Duration::hours(30);
        let first = bring_up_to_date(&state, now).await.unwrap();
        assert!(first >= 1, "the bare case was summarised ({first} written)");
        assert_eq!(store.queue_count(&breached(30)).await.unwrap(), 3);
        assert_eq!(
            bring_up_to_date(&state, now).await.unwrap(),
            0,
            "nothing stale"
        );

        // A server started with another policy (acknowledgement within 72
        // hours) works every summary out again under it.
        let text = presets::get("default").unwrap().replacen(
            "target = \"24 hours\"",
            "target = \"72 hours\"",
            1,
        );
        assert_ne!(text, presets::get("default").unwrap(), "the preset changed");
        let other = ServerSettings {
            policies: Arc::new(PolicySet::new(vec![Policy::parse(&text).unwrap()]).unwrap()),
            ..ServerSettings::default()
        };
        let state = embargo_server::state(store.clone(), other, Arc::new(t0));
        assert_eq!(bring_up_to_date(&state, now).await.unwrap(), 4);
        assert_eq!(store.queue_count(&breached(30)).await.unwrap(), 0);
        assert_eq!(store.queue_count(&breached(80)).await.unwrap(), 3);
    }
}
