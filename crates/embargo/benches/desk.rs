//! The desk at volume (issue 19): a queue of many cases with their
//! histories, read as a team reads it. Cases are opened through the API
//! (a third acknowledged, a tenth with a reporter's question answered), then
//! each page is read `EMBARGO_BENCH_DESK_READS` times, one request at a
//! time, and its p50 and p99 are printed: the dashboard, the queue (default
//! order; sorted by severity and filtered by state; a search for a word only
//! in one report's encrypted description; the "breached" view), a case page,
//! the findings page (most urgent first; one product by exploitation, deep
//! in its pages) and the public advisory index. The findings are written
//! through the store after the cases: a mix of severities and deadlines. On SQLite, and on
//! PostgreSQL when `EMBARGO_TEST_POSTGRES_URL` is set.
//!
//! ```sh
//! cargo bench -p embargo --bench desk    # 10,000 cases, 100,000 findings
//! EMBARGO_BENCH_DESK_CASES=300 EMBARGO_BENCH_DESK_FINDINGS=3000 cargo bench -p embargo --bench desk
//! EMBARGO_BENCH_DESK_STORES=postgres cargo bench -p embargo --bench desk    # one store only
//! EMBARGO_BENCH_LOG=sqlx::query=debug cargo bench -p embargo --bench desk  # each statement's time
//! EMBARGO_BENCH_DESK_KEEP=1 cargo bench -p embargo --bench desk  # keep the databases to EXPLAIN
//! ```
//! Figures, not assertions: nothing fails on a slow machine.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use embargo_core::auth::{Role, generate_token, hash_password, token_digest};
use embargo_core::crypto::Keyring;
use embargo_server::{ServerSettings, app, system_clock};
use embargo_store::Store;
use embargo_store::testing::TestDatabase;
use serde_json::json;
use tokio::sync::Semaphore;

type LogFilter =
    tracing_subscriber::reload::Handle<tracing_subscriber::EnvFilter, tracing_subscriber::Registry>;

/// Set when `EMBARGO_BENCH_LOG` asks for the reads' statements.
static READS_LOG: std::sync::OnceLock<LogFilter> = std::sync::OnceLock::new();

/// Logs from here on what `EMBARGO_BENCH_LOG` asks for, or nothing.
fn log_reads(on: bool) {
    if let (Some(handle), Ok(wanted)) = (READS_LOG.get(), std::env::var("EMBARGO_BENCH_LOG")) {
        let filter = if on { wanted } else { "off".to_owned() };
        let _ = handle.reload(tracing_subscriber::EnvFilter::new(filter));
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Row {
    page: &'static str,
    p50: Duration,
    p99: Duration,
    bytes: usize,
}

async fn timed(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    reads: usize,
) -> (Duration, Duration, usize) {
    let mut times = Vec::with_capacity(reads);
    let mut bytes = 0;
    for _ in 0..reads {
        let t = Instant::now();
        let r = http.get(url).bearer_auth(token).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{url}");
        bytes = r.bytes().await.unwrap().len();
        times.push(t.elapsed());
    }
    times.sort_unstable();
    let pct = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize];
    (pct(0.5), pct(0.99), bytes)
}

/// `count` findings over three products' releases, written through the
/// store as a re-match writes them: a mix of severities, of patches long
/// available (breached), recent (due soon or running) and none yet, and a
/// tenth analysed as not affected.
async fn seed_findings(store: &Store, count: usize, now: chrono::DateTime<chrono::Utc>) {
    use embargo_core::Severity;
    use embargo_core::portfolio::{
        Analysis, Deployment, Matched, PatchSource, Product, ProductExposure,
    };
    const PER_RELEASE: usize = 10_000;
    const BIG_SBOM: usize = 36_000;
    let products = ["dock", "shop", "mobile"];
    for (i, id) in products.iter().enumerate() {
        store
            .add_product(
                &Product {
                    id: (*id).to_owned(),
                    name: format!("Product {id}"),
                    owner: "team".into(),
                    repositories: Vec::new(),
                    deployment: Deployment::Saas,
                    exposure: [
                        ProductExposure::InternetFacing,
                        ProductExposure::Internal,
                        ProductExposure::Offline,
                    ][i],
                },
                now,
            )
            .await
            .unwrap();
    }
    let severities = [
        None,
        Some(Severity::Low),
        Some(Severity::Medium),
        Some(Severity::High),
        Some(Severity::Critical),
    ];
    for release_number in 0..count.div_ceil(PER_RELEASE) {
        let product = products[release_number % products.len()];
        // The first release ships a 36,000-component SBOM (the size the
        // issue met), the others none of their own.
        let components: Vec<embargo_core::portfolio::Component> = if release_number == 0 {
            (0..BIG_SBOM)
                .map(|i| embargo_core::portfolio::Component {
                    ecosystem: "npm".into(),
                    name: format!("component-{i}"),
                    version: "1.0.0".into(),
                    purl: format!("pkg:npm/component-{i}@1.0.0"),
                })
                .collect()
        } else {
            Vec::new()
        };
        let release = store
            .record_release(product, &format!("1.{release_number}.0"), &components, now)
            .await
            .unwrap();
        let mut work = store.begin().await.unwrap();
        let first = release_number * PER_RELEASE;
        for i in first..count.min(first + PER_RELEASE) {
            let patched = i % 4 != 0;
            let m = Matched {
                component: format!("pkg:npm/component-{}@1.{}.0", i % 5000, i % 7),
                advisory: format!("GHSA-bench-{i:06}"),
                severity: severities[i % severities.len()],
                known_exploited: i % 97 == 0,
                epss: Some((i % 100) as f32 / 100.0),
                kev: None,
                epss_percentile: None,
                fixed: if patched {
                    vec!["9.9.9".into()]
                } else {
                    Vec::new()
                },
                published: None,
                modified: None,
            };
            // From three months to a day ago.
            let patch = patched.then(|| {
                (
                    now - chrono::Duration::hours(24 + (i % 90) as i64 * 24),
                    PatchSource::FirstSeen,
                )
            });
            let id = work
                .findings()
                .open(release, &m, patch, "bench", now)
                .await
                .unwrap();
            if i % 10 == 0 {
                work.findings()
                    .set_analysis(
                        id,
                        &Analysis::NotAffected {
                            justification: embargo_core::portfolio::Justification::CodeNotPresent,
                        },
                        None,
                        "bench",
                        &json!({}),
                        now,
                    )
                    .await
                    .unwrap();
            }
        }
        work.commit().await.unwrap();
    }
}

async fn run(db: &TestDatabase, cases: usize, findings: usize, reads: usize) -> Vec<Row> {
    let store = Store::connect(&db.url, Keyring::generate()).await.unwrap();
    #[allow(clippy::disallowed_methods)]
    let now = chrono::Utc::now();
    store.migrate(now).await.unwrap();
    let user = store
        .add_user(
            "bench",
            Role::Admin,
            &hash_password("benchmark password").unwrap(),
            now,
        )
        .await
        .unwrap();
    let token = generate_token("emb_");
    store
        .create_api_token(user.id, "bench", &token_digest(&token), now)
        .await
        .unwrap();
    let router = app(store.clone(), ServerSettings::default(), system_clock());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let _ = embargo_server::serve(listener, router, std::future::pending()).await;
    });
    let http = reqwest::Client::new();
    let limit = Arc::new(Semaphore::new(16));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(cases);
    for i in 0..cases {
        let (http, base, token, limit) = (http.clone(), base.clone(), token.clone(), limit.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = limit.acquire().await.unwrap();
            let word = if i == cases / 2 { "quokka" } else { "export" };
            let area = ["export", "import", "search", "admin"][i % 4];
            let product = ["Dock Certs", "Web shop", "Mobile app"][i % 3];
            let body = json!({
                "title": format!("Report {i}: tokens leak in the {area} endpoint"),
                "product": product,
                "reporter": {"contact": format!("finder{}@example.org", i % 97)},
                "report": {"summary": "Tokens leak", "description": format!("The {word} endpoint returns another tenant's tokens. ").repeat(6)}
            });
            let r = http.post(format!("{base}/api/v1/cases")).bearer_auth(&token).json(&body).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 201);
            let case: serde_json::Value = r.json().await.unwrap();
            let reference = case["reference"].as_str().unwrap().to_owned();
            let act = |action: &'static str| {
                let (http, base, token, reference) = (http.clone(), base.clone(), token.clone(), reference.clone());
                async move {
                    let r = http
                        .post(format!("{base}/api/v1/cases/{reference}/transitions"))
                        .bearer_auth(token)
                        .json(&json!({"action": action}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status().as_u16(), 200, "{action}");
                }
            };
            if i % 3 == 0 {
                act("acknowledge").await;
            }
            if i % 10 == 0 {
                act("start_triage").await;
                act("request_information").await;
                act("information_received").await;
            }
            reference
        }));
    }
    let mut references = Vec::with_capacity(cases);
    for t in tasks {
        references.push(t.await.unwrap());
    }
    let setup = started.elapsed();
    eprintln!(
        "{}: {cases} cases with their histories in {:.1} s",
        db.backend(),
        setup.as_secs_f64()
    );
    let started = Instant::now();
    seed_findings(&store, findings, now).await;
    eprintln!(
        "{}: {findings} findings in {:.1} s",
        db.backend(),
        started.elapsed().as_secs_f64()
    );
    // The first read of a new server (the dashboard) summarises every case
    // it has no summary for under this policy and works out every new
    // finding's deadline (kept from then on): said apart, not timed with the
    // reads below.
    let first = Instant::now();
    let r = http
        .get(format!("{base}/desk"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    eprintln!(
        "{}: the first dashboard (summarising {cases} cases, dating {findings} findings) in {:.1} s",
        db.backend(),
        first.elapsed().as_secs_f64()
    );
    let case = &references[references.len() / 3];
    let pages: Vec<(&'static str, String)> = vec![
        ("dashboard", "/desk".into()),
        ("queue (next due)", "/desk/cases".into()),
        (
            "queue (acknowledged, by severity)",
            "/desk/cases?state=acknowledged&sort=severity".into(),
        ),
        (
            "queue (search in report text)",
            "/desk/cases?q=quokka".into(),
        ),
        ("queue (breached view)", "/desk/cases?view=breached".into()),
        ("case page", format!("/desk/cases/{case}")),
        ("findings page (most urgent)", "/desk/findings".into()),
        (
            "findings page (one product, by exploitation, page 50)",
            "/desk/findings?product=shop&sort=exploitation&page=50".into(),
        ),
        (
            "products page (a release of 36,000 components)",
            "/desk/products".into(),
        ),
        (
            "API: that release's product's findings, first 1,000",
            "/api/v1/findings?product=dock&limit=1000".into(),
        ),
        (
            "API: that release's components, first 1,000",
            "/api/v1/products/dock/releases/1.0.0/components?limit=1000".into(),
        ),
        ("public advisory index", "/advisories".into()),
    ];
    let mut rows = Vec::new();
    for (page, path) in pages {
        eprintln!("--- {page}: {path}");
        log_reads(true);
        let (p50, p99, bytes) = timed(&http, &format!("{base}{path}"), &token, reads).await;
        log_reads(false);
        rows.push(Row {
            page,
            p50,
            p99,
            bytes,
        });
    }
    server.abort();
    store.close().await;
    rows
}

/// Keeps the database for a look at its plans (`EXPLAIN ANALYZE`) when
/// `EMBARGO_BENCH_DESK_KEEP` is set, and says where it is.
fn keep_if_asked(db: TestDatabase) {
    if std::env::var_os("EMBARGO_BENCH_DESK_KEEP").is_some() {
        eprintln!("{}: kept at {}", db.backend(), db.url);
        std::mem::forget(db);
    }
}

fn main() {
    let cases = env_usize("EMBARGO_BENCH_DESK_CASES", 10_000);
    let findings = env_usize("EMBARGO_BENCH_DESK_FINDINGS", 100_000);
    let reads = env_usize("EMBARGO_BENCH_DESK_READS", 20);
    // Where a page's time goes: the statements it runs, each with its
    // elapsed time (sqlx logs them at debug level), on standard error, for
    // the timed reads only (not the tens of thousands of writes before).
    if std::env::var("EMBARGO_BENCH_LOG").is_ok() {
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::util::SubscriberInitExt;
        let (filter, handle) =
            tracing_subscriber::reload::Layer::new(tracing_subscriber::EnvFilter::new("off"));
        tracing_subscriber::registry()
            .with(filter)
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(false),
            )
            .init();
        let _ = READS_LOG.set(handle);
    }
    let stores = std::env::var("EMBARGO_BENCH_DESK_STORES").unwrap_or_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        for db in TestDatabase::all().await {
            if !stores.is_empty() && !stores.split(',').any(|s| s.trim() == db.backend()) {
                eprintln!("{}: left out (EMBARGO_BENCH_DESK_STORES={stores})", db.backend());
                continue;
            }
            let rows = run(&db, cases, findings, reads).await;
            println!(
                "\n### {cases} cases and {findings} findings on {} ({reads} reads of each page, one at a time)\n",
                db.backend()
            );
            println!("| Page | p50 | p99 | Size |");
            println!("|---|---:|---:|---:|");
            for r in rows {
                println!(
                    "| {} | {:.1} ms | {:.1} ms | {} KB |",
                    r.page,
                    r.p50.as_secs_f64() * 1000.0,
                    r.p99.as_secs_f64() * 1000.0,
                    r.bytes / 1024
                );
            }
            keep_if_asked(db);
        }
    });
}
