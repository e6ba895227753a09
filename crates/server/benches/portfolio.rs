//! Portfolio matching at scale (issue 8's goal): N products with one release
//! of M npm components each, matched against a synthetic advisory feed (the
//! initial match), then re-matched after a feed update adding 500 advisories,
//! then after an update that changes nothing. On SQLite, and on PostgreSQL
//! when `EMBARGO_TEST_POSTGRES_URL` is set.
//!
//! A realistic variant follows on each store: products of three ecosystems
//! (crates.io, Go, PyPI) whose components include real package names with
//! real advisories from the shared feeds (`../shared/data/osv`; one in twenty,
//! the rest packages no advisory names), several releases per product sharing
//! most of their components, matched, then re-matched
//! after the feed gains the advisories it lacked; and one 36,000-component
//! CycloneDX SBOM uploaded through the application layer (read, recorded,
//! matched), as `POST …/sbom` does.
//!
//! ```sh
//! cargo bench -p embargo-server --bench portfolio                # 2,000 × 200, then realistic
//! cargo bench -p embargo-server --bench portfolio -- realistic  # the realistic variant alone
//! cargo bench -p embargo-server --bench portfolio -- --quick     # CI: tiny
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Instant;

use chrono::TimeZone;
use embargo_core::portfolio::{Component, Deployment, Product, ProductExposure};
use embargo_server::ServerSettings;
use embargo_server::api::portfolio::rematch_portfolio;
use embargo_store::Store;
use embargo_store::testing::TestDatabase;
use embargo_vulndb::db::Builder;

/// xorshift64*, so runs are repeatable.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct Size {
    products: usize,
    components: usize,
    /// Distinct npm packages the components are drawn from.
    packages: usize,
    /// Advisories in the first feed.
    advisories: usize,
    /// Advisories the update adds.
    update: usize,
}

fn record(i: usize, package: &str, rng: &mut Rng) -> embargo_vulndb::osv::Record {
    let major = rng.below(4);
    serde_json::from_value(serde_json::json!({
        "schema_version": "1.6.0",
        "id": format!("GHSA-bench-{i:07}"),
        "modified": "2026-01-01T00:00:00Z",
        "published": "2025-06-01T00:00:00Z",
        "summary": format!("Synthetic advisory {i}"),
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:L/A:N"}],
        "affected": [{
            "package": {"ecosystem": "npm", "name": package},
            "ranges": [{"type": "SEMVER", "events": [
                {"introduced": format!("{major}.0.0")},
                {"fixed": format!("{major}.{}.0", 1 + rng.below(9))}]}]
        }]
    }))
    .unwrap()
}

fn feed(size: &Size, count: usize, path: &std::path::Path) {
    let mut rng = Rng(0x00fe_ed00);
    let mut builder = Builder::new();
    for i in 0..count {
        let package = format!("pkg-{}", rng.below(size.packages as u64));
        builder.add(Ok(record(i, &package, &mut rng)));
    }
    let (db, _) = builder.finish();
    // Write beside and rename, as `db sync` does: the server sees a new file.
    let tmp = path.with_extension("part");
    db.save(&tmp).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// Adds an internal SaaS product of the bench.
async fn add_product(store: &Store, id: String, now: chrono::DateTime<chrono::Utc>) -> Product {
    let product = Product {
        name: format!("Product {id}"),
        id,
        owner: "bench".into(),
        repositories: vec![],
        deployment: Deployment::Saas,
        exposure: ProductExposure::Internal,
    };
    store.add_product(&product, now).await.unwrap();
    product
}

async fn run(store: Store, backend: &str, size: &Size) {
    let now = chrono::Utc.with_ymd_and_hms(2026, 3, 6, 17, 0, 0).unwrap();
    store.migrate(now).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("vulndb.bin");
    let settings = ServerSettings {
        vulndb: Some(db_path.clone()),
        ..ServerSettings::default()
    };
    let mut rng = Rng(0x0ba5_e5ee);
    let start = Instant::now();
    for p in 0..size.products {
        let product = add_product(&store, format!("product-{p}"), now).await;
        let mut components: Vec<Component> = Vec::with_capacity(size.components);
        let mut seen = std::collections::BTreeSet::new();
        while components.len() < size.components {
            let name = format!("pkg-{}", rng.below(size.packages as u64));
            if !seen.insert(name.clone()) {
                continue;
            }
            let version = format!("{}.{}.{}", rng.below(4), rng.below(10), rng.below(10));
            components.push(Component {
                purl: format!("pkg:npm/{name}@{version}"),
                ecosystem: "npm".into(),
                name,
                version,
            });
        }
        store
            .record_release(&product.id, "1.0.0", &components, now)
            .await
            .unwrap();
    }
    let load = start.elapsed();
    let state = embargo_server::state(store.clone(), settings, Arc::new(move || now));

    feed(size, size.advisories, &db_path);
    let start = Instant::now();
    let full = rematch_portfolio(&state).await.unwrap();
    let initial = start.elapsed();
    assert_eq!(full.kind, "full");

    // The feed gains `update` advisories (the first ones are the same records).
    std::thread::sleep(std::time::Duration::from_millis(20));
    feed(size, size.advisories + size.update, &db_path);
    let start = Instant::now();
    let incremental = rematch_portfolio(&state).await.unwrap();
    let rematch = start.elapsed();
    assert_eq!(incremental.kind, "incremental");
    assert_eq!(incremental.changed_advisories, size.update);

    // An update that changes nothing opens and resolves nothing.
    std::thread::sleep(std::time::Duration::from_millis(20));
    feed(size, size.advisories + size.update, &db_path);
    let start = Instant::now();
    let same = rematch_portfolio(&state).await.unwrap();
    let unchanged = start.elapsed();
    assert_eq!((same.opened, same.resolved), (0, 0));

    println!(
        "{backend:<10} {} products × {} components = {} rows: load {:.1} s; initial match {:.2} s \
         ({} findings in {} releases); re-match after +{} advisories {:.3} s ({} findings in {} releases); \
         unchanged feed {:.3} s",
        size.products,
        size.components,
        size.products * size.components,
        load.as_secs_f64(),
        initial.as_secs_f64(),
        full.opened,
        full.releases,
        size.update,
        rematch.as_secs_f64(),
        incremental.opened,
        incremental.releases,
        unchanged.as_secs_f64(),
    );
}

/// The packages the shared feeds name: (purl type, name) of crates.io, Go
/// and PyPI, and the feeds' records (to build the databases from).
#[allow(clippy::type_complexity)]
fn shared_feeds() -> Option<(
    Vec<(&'static str, String)>,
    Vec<embargo_vulndb::db::SourceRecord>,
)> {
    let root =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/osv");
    if !root.exists() {
        eprintln!(
            "skipped the realistic variant: {} is absent",
            root.display()
        );
        return None;
    }
    let mut records = Vec::new();
    for ecosystem in ["crates.io", "Go", "PyPI"] {
        records.extend(
            embargo_vulndb::db::read_source(&root.join(ecosystem).join("all.zip")).unwrap(),
        );
    }
    let (db, _) = embargo_vulndb::db::Database::build(records.iter().cloned());
    let names = db
        .package_names()
        .into_iter()
        .filter_map(|(e, n)| {
            let kind = match e {
                embargo_vulndb::version::Ecosystem::CratesIo => "cargo",
                embargo_vulndb::version::Ecosystem::Go => "golang",
                embargo_vulndb::version::Ecosystem::PyPI => "pypi",
                _ => return None,
            };
            Some((kind, n))
        })
        .collect();
    Some((names, records))
}

/// A component of a real package at a plausible version of its ecosystem.
fn real_component(kind: &str, name: &str, rng: &mut Rng) -> Component {
    let (major, minor, patch) = (rng.below(4), rng.below(20), rng.below(10));
    let (ecosystem, version) = match kind {
        "cargo" => ("crates.io", format!("{major}.{minor}.{patch}")),
        "golang" => ("Go", format!("v{major}.{minor}.{patch}")),
        _ => ("PyPI", format!("{major}.{minor}.{patch}")),
    };
    let purl = embargo_vulndb::purl::Purl::for_package(ecosystem.parse().unwrap(), name, &version)
        .to_string();
    Component {
        ecosystem: ecosystem.into(),
        name: name.into(),
        version,
        purl,
    }
}

fn save(db: &embargo_vulndb::db::Database, path: &std::path::Path) {
    let tmp = path.with_extension("part");
    db.save(&tmp).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// The realistic portfolio and the 36,000-component upload, on one store.
async fn realistic(
    store: Store,
    backend: &str,
    quick: bool,
    names: &[(&'static str, String)],
    records: &[embargo_vulndb::db::SourceRecord],
) {
    let now = chrono::Utc.with_ymd_and_hms(2026, 3, 6, 17, 0, 0).unwrap();
    store.migrate(now).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("vulndb.bin");
    let (products, releases, components) = if quick { (3, 2, 100) } else { (100, 4, 1_000) };
    let mut rng = Rng(0x00c0_ffee);
    let start = Instant::now();
    for p in 0..products {
        let product = add_product(&store, format!("real-{p}"), now).await;
        // One component in twenty is a package the feeds hold advisories
        // for; the rest, as in a real product, are packages no advisory
        // names (at random versions, most of the real ones are affected).
        let pick = |rng: &mut Rng| {
            if rng.below(20) == 0 {
                let (kind, name) = &names[rng.below(names.len() as u64) as usize];
                real_component(kind, name, rng)
            } else {
                let kind = ["cargo", "golang", "pypi"][rng.below(3) as usize];
                let name = match kind {
                    "golang" => format!("example.com/module-{}", rng.below(50_000)),
                    _ => format!("package-{}", rng.below(50_000)),
                };
                real_component(kind, &name, rng)
            }
        };
        let mut shipped: Vec<Component> = (0..components).map(|_| pick(&mut rng)).collect();
        for r in 0..releases {
            // Each release replaces a tenth of its components.
            for _ in 0..components / 10 {
                let at = rng.below(shipped.len() as u64) as usize;
                shipped[at] = pick(&mut rng);
            }
            store
                .record_release(&product.id, &format!("1.{r}.0"), &shipped, now)
                .await
                .unwrap();
        }
    }
    let load = start.elapsed();
    // The first feed lacks one advisory in fifty; the update brings them.
    let lacking = |r: &embargo_vulndb::db::SourceRecord| {
        r.as_ref()
            .is_ok_and(|r| r.id.bytes().map(u64::from).sum::<u64>() % 50 == 0)
    };
    let (first, _) =
        embargo_vulndb::db::Database::build(records.iter().filter(|r| !lacking(r)).cloned());
    let (full_feed, _) = embargo_vulndb::db::Database::build(records.iter().cloned());
    save(&first, &db_path);
    let settings = ServerSettings {
        vulndb: Some(db_path.clone()),
        ..ServerSettings::default()
    };
    let state = embargo_server::state(store.clone(), settings, Arc::new(move || now));
    let start = Instant::now();
    let initial = rematch_portfolio(&state).await.unwrap();
    let initial_time = start.elapsed();
    std::thread::sleep(std::time::Duration::from_millis(20));
    save(&full_feed, &db_path);
    let start = Instant::now();
    let update = rematch_portfolio(&state).await.unwrap();
    let update_time = start.elapsed();
    assert_eq!(update.kind, "incremental");
    println!(
        "{backend:<10} realistic: {products} products × {releases} releases × {components} components \
         (crates.io, Go, PyPI; real names): load {:.1} s; initial match {:.2} s ({} findings in {} releases); \
         re-match after +{} advisories {:.3} s ({} findings in {} releases)",
        load.as_secs_f64(),
        initial_time.as_secs_f64(),
        initial.opened,
        initial.releases,
        update.changed_advisories,
        update_time.as_secs_f64(),
        update.opened,
        update.releases,
    );

    // One SBOM of 36,000 components, through the application layer.
    let size = if quick { 2_000 } else { 36_000 };
    let mut seen = std::collections::BTreeSet::new();
    let mut bom_components = Vec::with_capacity(size);
    let mut n = 0;
    while bom_components.len() < size {
        // Real package names first, then the packages no advisory names (most
        // of a real SBOM), each at one version.
        let c = if n < names.len() {
            let (kind, name) = &names[n];
            real_component(kind, name, &mut rng)
        } else {
            real_component("pypi", &format!("internal-package-{n}"), &mut rng)
        };
        n += 1;
        if seen.insert(c.purl.clone()) {
            bom_components.push(serde_json::json!({"type": "library", "name": c.name, "version": c.version, "purl": c.purl}));
        }
    }
    let bom = serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
        "metadata": {"component": {"type": "application", "name": "big"}},
        "components": bom_components})
    .to_string();
    add_product(&store, "big".into(), now).await;
    let start = Instant::now();
    let outcome = embargo_server::app::portfolio::record_upload(
        &state,
        "big",
        "1.0.0",
        "bom.cdx.json",
        bom.as_bytes(),
    )
    .await
    .unwrap();
    let upload = start.elapsed();
    assert_eq!(outcome.components, size);
    println!(
        "{backend:<10} one {size}-component CycloneDX SBOM ({:.1} MB) read, recorded and matched: {:.2} s ({} findings)",
        bom.len() as f64 / 1e6,
        upload.as_secs_f64(),
        outcome.opened
    );
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let size = if quick {
        Size {
            products: 20,
            components: 50,
            packages: 2_000,
            advisories: 1_000,
            update: 500,
        }
    } else {
        Size {
            products: 2_000,
            components: 200,
            packages: 20_000,
            advisories: 10_000,
            update: 500,
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // `-- realistic` runs the realistic variant alone.
    let only_realistic = std::env::args().any(|a| a == "realistic");
    let real = shared_feeds();
    runtime.block_on(async {
        for db in TestDatabase::all().await {
            if only_realistic {
                break;
            }
            let store = Store::connect(&db.url, embargo_core::crypto::Keyring::generate())
                .await
                .unwrap();
            run(store, db.backend(), &size).await;
        }
        if let Some((names, records)) = &real {
            for db in TestDatabase::all().await {
                let store = Store::connect(&db.url, embargo_core::crypto::Keyring::generate())
                    .await
                    .unwrap();
                realistic(store, db.backend(), quick, names, records).await;
            }
        }
    });
}
