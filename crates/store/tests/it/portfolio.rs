//! Releases and their components: large SBOMs written in batches, and the
//! lookup a feed update uses, by normalized package name; a finding's kept
//! sort keys carried across the migration that added them.

use embargo_core::portfolio::{Component, Deployment, Product, ProductExposure};

use crate::{each_backend, t};

/// An internet-facing SaaS product, `shop`.
fn shop() -> Product {
    Product {
        id: "shop".into(),
        name: "Shop".into(),
        owner: "team".into(),
        repositories: Vec::new(),
        deployment: Deployment::Saas,
        exposure: ProductExposure::InternetFacing,
    }
}

fn component(ecosystem: &str, name: &str, version: &str, purl: &str) -> Component {
    Component {
        ecosystem: ecosystem.into(),
        name: name.into(),
        version: version.into(),
        purl: purl.into(),
    }
}

#[tokio::test]
async fn components_are_found_by_their_normalized_names() {
    each_backend(|store, db| async move {
        store.add_product(&shop(), t(2, 9, 0)).await.unwrap();
        // More rows than one insert statement holds, and duplicates.
        let mut components: Vec<Component> = (0..1_234)
            .map(|i| {
                component(
                    "npm",
                    &format!("Pkg-{i}"),
                    "1.0.0",
                    &format!("pkg:npm/pkg-{i}@1.0.0"),
                )
            })
            .collect();
        components.push(components[0].clone());
        components.push(component(
            "PyPI",
            "Some_Package",
            "2.0",
            "pkg:pypi/some-package@2.0",
        ));
        let release = store
            .record_release("shop", "1.0", &components, t(2, 10, 0))
            .await
            .unwrap();
        assert_eq!(
            store.release_components(release).await.unwrap().len(),
            1_235,
            "{}: each component once",
            db.backend()
        );
        let found = store
            .components_of_packages("PyPI", &["some-package".into()])
            .await
            .unwrap();
        assert_eq!(found.len(), 1, "{}", db.backend());
        assert_eq!(found[0].1.name, "Some_Package");
        let names: Vec<String> = (0..700).map(|i| format!("pkg-{i}")).collect();
        let found = store.components_of_packages("npm", &names).await.unwrap();
        assert_eq!(found.len(), 700, "{}: across several lookups", db.backend());
        assert!(
            store
                .components_of_packages("npm", &["some-package".into()])
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}

/// Migration 19 keeps each finding's KEV listing date in a column of its
/// own (the findings page sorts on it): a finding listed before the
/// migration gets it from its stored listing, and one scored with EPSS
/// keeps the score whether or not an earlier write had none.
#[tokio::test]
async fn a_kev_listing_from_before_migration_19_is_carried_into_its_sort_key() {
    use embargo_core::portfolio::{KevMark, Matched};
    use sqlx::{Executor, Row};
    each_backend(|store, db| async move {
        store.add_product(&shop(), t(2, 9, 0)).await.unwrap();
        let release = store
            .record_release("shop", "1.0", &[], t(2, 10, 0))
            .await
            .unwrap();
        let matched = |i: usize, kev: Option<&str>, epss: Option<f32>| Matched {
            component: format!("pkg:npm/c{i}@1.0.0"),
            advisory: format!("GHSA-test-{i:04}"),
            severity: None,
            known_exploited: kev.is_some(),
            epss,
            kev: kev.map(|date| KevMark {
                cve: format!("CVE-2026-{i:04}"),
                date_added: date.into(),
                due_date: None,
                ransomware: false,
            }),
            epss_percentile: epss,
            fixed: Vec::new(),
            published: None,
            modified: None,
        };
        let mut work = store.begin().await.unwrap();
        let mut findings = work.findings();
        let without = findings
            .open(release, &matched(0, None, None), None, "test", t(2, 11, 0))
            .await
            .unwrap();
        let listed = findings
            .open(
                release,
                &matched(1, Some("2025-08-25"), Some(0.25)),
                None,
                "test",
                t(2, 11, 0),
            )
            .await
            .unwrap();
        findings
            .set_signals(without, &matched(0, None, None), false, t(2, 12, 0))
            .await
            .unwrap();
        findings
            .set_signals(without, &matched(0, None, Some(0.5)), false, t(2, 12, 0))
            .await
            .unwrap();
        work.commit().await.unwrap();

        // The database as it was before migration 19.
        let mut conn = crate::raw(&db).await;
        for statement in [
            "DROP INDEX outbox_kind",
            "DROP INDEX findings_warning",
            "DROP INDEX cases_revision",
            "DROP INDEX case_summaries_revision",
            "DROP INDEX findings_release_open",
            "ALTER TABLE findings DROP COLUMN kev_added",
            "DELETE FROM schema_migrations WHERE version = 19",
        ] {
            conn.execute(statement).await.unwrap();
        }
        let applied = store.migrate(t(3, 0, 0)).await.unwrap();
        assert_eq!(applied, ["0019_list_keys"], "{}", db.backend());
        let rows = sqlx::query("SELECT id, kev_added, epss FROM findings ORDER BY id")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        let kept: Vec<(i64, Option<String>, Option<f64>)> = rows
            .iter()
            .map(|r| (r.get("id"), r.get("kev_added"), r.get("epss")))
            .collect();
        assert_eq!(
            kept,
            [
                (without, None, Some(0.5)),
                (listed, Some("2025-08-25".to_owned()), Some(0.25))
            ],
            "{}",
            db.backend()
        );
    })
    .await;
}
