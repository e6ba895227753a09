//! Releases and their components: large SBOMs written in batches, and the
//! lookup a feed update uses, by normalized package name.

use embargo_core::portfolio::{Component, Deployment, Product, ProductExposure};

use crate::{each_backend, t};

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
        let product = Product {
            id: "shop".into(),
            name: "Shop".into(),
            owner: "team".into(),
            repositories: Vec::new(),
            deployment: Deployment::Saas,
            exposure: ProductExposure::InternetFacing,
        };
        store.add_product(&product, t(2, 9, 0)).await.unwrap();
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
