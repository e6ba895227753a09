//! The case summaries the queue sorts and counts by: written with every
//! change to a case, judged against the time of the request (a clock
//! breaches without anything being written), and rebuilt where they may be
//! out of date (a case written by a path that kept none, a new policy);
//! and the findings' deadlines kept on their rows the same way.

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
        ..QueueFilter::default()
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
        // The dashboard's counts, over every open case.
        let counts = store.dashboard_counts(now, &[]).await.unwrap();
        assert_eq!(
            (
                counts.open,
                counts.new_reports,
                counts.unassigned,
                counts.breached
            ),
            (4, 3, 3, 3),
            "{counts:?}"
        );
        assert_eq!((counts.due_soon, counts.notices), (0, 0), "{counts:?}");
        let counts = store
            .dashboard_counts(now, &["acknowledgement".to_owned()])
            .await
            .unwrap();
        assert_eq!(
            (counts.breached, counts.notices),
            (0, 3),
            "a clock named as a notice is counted as one: {counts:?}"
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

/// `count` findings on one release of `product`: the first critical with a
/// patch 40 days old (breached under the default policy's 30 days), the
/// second high with a patch 80 days old (past the warning point of 3
/// months), the rest without a patch; every tenth not affected.
async fn seed_findings(store: &Store, product: &str, count: usize) -> Vec<i64> {
    use embargo_core::Severity;
    use embargo_core::portfolio::{
        Analysis, Deployment, Justification, Matched, PatchSource, Product, ProductExposure,
    };
    store
        .add_product(
            &Product {
                id: product.into(),
                name: product.into(),
                owner: "team".into(),
                repositories: Vec::new(),
                deployment: Deployment::Saas,
                exposure: ProductExposure::Internal,
            },
            t0(),
        )
        .await
        .unwrap();
    let release = store
        .record_release(product, "1.0.0", &[], t0())
        .await
        .unwrap();
    let mut work = store.begin().await.unwrap();
    let mut ids = Vec::new();
    for i in 0..count {
        let (severity, patch) = match i {
            0 => (Some(Severity::Critical), Some(t0() - Duration::days(40))),
            1 => (Some(Severity::High), Some(t0() - Duration::days(80))),
            _ => (Some(Severity::Low), None),
        };
        let m = Matched {
            component: format!("pkg:npm/c{i}@1.0.0"),
            advisory: format!("GHSA-test-{i:04}"),
            severity,
            known_exploited: false,
            epss: None,
            kev: None,
            epss_percentile: None,
            fixed: if patch.is_some() {
                vec!["2.0.0".into()]
            } else {
                Vec::new()
            },
            published: None,
            modified: None,
        };
        let id = work
            .findings()
            .open(
                release,
                &m,
                patch.map(|p| (p, PatchSource::FirstSeen)),
                "test",
                t0(),
            )
            .await
            .unwrap();
        if i % 10 == 9 {
            work.findings()
                .set_analysis(
                    id,
                    &Analysis::NotAffected {
                        justification: Justification::CodeNotPresent,
                    },
                    None,
                    "test",
                    &serde_json::json!({}),
                    t0(),
                )
                .await
                .unwrap();
        }
        ids.push(id);
    }
    work.commit().await.unwrap();
    ids
}

#[tokio::test]
async fn findings_keep_their_deadline_on_their_row_and_page_in_the_database() {
    use embargo_server::app::findings::urgent_page;
    use embargo_store::{FindingFilter, FindingSort};
    for db in TestDatabase::all().await {
        let store = Store::connect(&db.url, Keyring::generate()).await.unwrap();
        store.migrate(t0()).await.unwrap();
        let ids = seed_findings(&store, "shop", 250).await;
        let state = embargo_server::state(store.clone(), ServerSettings::default(), Arc::new(t0));
        let open = FindingFilter {
            open_only: true,
            now: t0(),
            ..FindingFilter::default()
        };
        let first = urgent_page(&state, &open, 1, 100).await.unwrap();
        // 250, of which 25 are not affected.
        assert_eq!(
            (first.place.total, first.place.pages, first.place.page),
            (225, 3, 1)
        );
        assert_eq!(first.findings.len(), 100);
        assert_eq!(first.findings[0].id, ids[0], "the breached one first");
        assert_eq!(first.findings[1].id, ids[1], "then the one due soon");
        assert!(first.findings[0].due.is_some(), "the page is dated");
        // Tidied as after a large rebuild (PostgreSQL's VACUUM runs outside
        // a transaction): the same answers.
        for rebuilt in [
            embargo_store::Rebuilt::FindingDates,
            embargo_store::Rebuilt::CaseSummaries,
        ] {
            store.tidy_after_rebuild(rebuilt).await.unwrap();
        }
        let again = urgent_page(&state, &open, 1, 100).await.unwrap();
        assert_eq!(again.place, first.place);
        let last = urgent_page(&state, &open, 9, 100).await.unwrap();
        assert_eq!(
            (last.place.page, last.findings.len()),
            (3, 25),
            "past the end: the last page"
        );
        let all = urgent_page(
            &state,
            &FindingFilter {
                open_only: false,
                ..open.clone()
            },
            3,
            100,
        )
        .await
        .unwrap();
        assert_eq!(all.place.total, 250);
        let not_open = all.findings.last().unwrap();
        assert!(!not_open.analysis.open_at(t0()), "no longer open: last");
        // Due soon or breached, as the dashboard lists them.
        let due = FindingFilter {
            sort: FindingSort::Due,
            ..open.clone()
        };
        let listed = urgent_page(&state, &due, 1, 10).await.unwrap();
        assert_eq!(listed.place.total, 2);
        assert_eq!(listed.findings[0].id, ids[0]);

        // A change to a finding's row dates it again: resolved, it leaves.
        let mut work = store.begin().await.unwrap();
        work.findings()
            .set_analysis(
                ids[0],
                &embargo_core::portfolio::Analysis::Resolved,
                None,
                "test",
                &serde_json::json!({}),
                t0(),
            )
            .await
            .unwrap();
        work.commit().await.unwrap();
        let listed = urgent_page(&state, &due, 1, 10).await.unwrap();
        assert_eq!(listed.place.total, 1);
        assert_eq!(listed.findings[0].id, ids[1]);

        // Under a policy that gives high findings 6 months, the second is
        // no longer due soon: every deadline is worked out again.
        let text = presets::get("default").unwrap().replacen(
            "target = \"3 months\"",
            "target = \"6 months\"",
            1,
        );
        let other = ServerSettings {
            policies: Arc::new(PolicySet::new(vec![Policy::parse(&text).unwrap()]).unwrap()),
            ..ServerSettings::default()
        };
        let state = embargo_server::state(store.clone(), other, Arc::new(t0));
        let listed = urgent_page(&state, &due, 1, 10).await.unwrap();
        assert_eq!(listed.place.total, 0, "{:?}", listed.findings);
    }
}

#[tokio::test]
async fn the_exploitation_order_lists_kev_findings_first_newest_listing_first() {
    use embargo_core::portfolio::{KevMark, Matched};
    use embargo_server::app::findings::urgent_page;
    use embargo_store::{FindingFilter, FindingSort};
    for db in TestDatabase::all().await {
        let store = Store::connect(&db.url, Keyring::generate()).await.unwrap();
        store.migrate(t0()).await.unwrap();
        let ids = seed_findings(&store, "shop", 6).await;
        let signals = |i: usize, kev: Option<&str>, epss: Option<f32>| Matched {
            component: format!("pkg:npm/c{i}@1.0.0"),
            advisory: format!("GHSA-test-{i:04}"),
            severity: None,
            known_exploited: kev.is_some(),
            epss,
            kev: kev.map(|date| KevMark {
                cve: format!("CVE-2026-{i:04}"),
                date_added: date.to_owned(),
                due_date: None,
                ransomware: false,
            }),
            epss_percentile: None,
            fixed: Vec::new(),
            published: None,
            modified: None,
        };
        let mut work = store.begin().await.unwrap();
        // Listed in 2024 and in 2026 (newest listing first), an EPSS
        // score without a listing, then the rest by urgency. The score comes
        // after two writes without one: on PostgreSQL that once failed (a
        // statement prepared for a missing score took no score after).
        for (i, kev, epss) in [
            (4, Some("2024-05-01"), None),
            (5, Some("2026-02-10"), None),
            (3, None, Some(0.9)),
        ] {
            work.findings()
                .set_signals(ids[i], &signals(i, kev, epss), kev.is_some(), t0())
                .await
                .unwrap();
        }
        work.commit().await.unwrap();
        let state = embargo_server::state(store.clone(), ServerSettings::default(), Arc::new(t0));
        let filter = FindingFilter {
            product: Some("shop".into()),
            open_only: true,
            sort: FindingSort::Exploitation,
            now: t0(),
        };
        let page = urgent_page(&state, &filter, 1, 10).await.unwrap();
        let order: Vec<i64> = page.findings.iter().map(|f| f.id).collect();
        assert_eq!(
            &order[..5],
            &[ids[5], ids[4], ids[3], ids[0], ids[1]],
            "{}",
            db.backend()
        );
        assert_eq!(
            page.findings[2].epss,
            Some(0.9),
            "the score kept as written"
        );
        // A newer listing of the older one moves it up.
        let mut work = store.begin().await.unwrap();
        work.findings()
            .set_signals(ids[4], &signals(4, Some("2026-11-30"), None), true, t0())
            .await
            .unwrap();
        work.commit().await.unwrap();
        let page = urgent_page(&state, &filter, 1, 2).await.unwrap();
        assert_eq!(
            page.findings.iter().map(|f| f.id).collect::<Vec<_>>(),
            [ids[4], ids[5]]
        );
    }
}
