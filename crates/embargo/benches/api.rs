//! Case creations and public report submissions per second, case-read
//! latency, and the public security center's pages under load (the advisory
//! index, an advisory's page, its CSAF document, the Atom feed), through the
//! real HTTP API, on SQLite and (when `EMBARGO_TEST_POSTGRES_URL` is set)
//! PostgreSQL.
//!
//! `cargo bench -p embargo --bench api`. Sizes come from the environment:
//! `EMBARGO_BENCH_CASES` (default 2000), `EMBARGO_BENCH_READS` (5000, for
//! case reads and for each public page), `EMBARGO_BENCH_ADVISORIES` (100
//! published advisories), `EMBARGO_BENCH_CONCURRENCY` (32). It prints
//! Markdown tables and never fails on a slow machine: these are figures, not
//! assertions.
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

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Figures {
    backend: &'static str,
    creates_per_second: f64,
    reports_per_second: f64,
    case_reads: Latency,
    /// The public pages, by name, read anonymously.
    public: Vec<(&'static str, Latency)>,
}

/// Throughput and latency of a run of GETs.
struct Latency {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

/// `reads` GETs spread over `urls` by `concurrency` clients, each answered
/// 200 and read whole.
async fn read_load(
    http: &reqwest::Client,
    urls: Vec<String>,
    token: Option<&str>,
    reads: usize,
    concurrency: usize,
) -> Latency {
    let urls = Arc::new(urls);
    let limit = Arc::new(Semaphore::new(concurrency));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(reads);
    for i in 0..reads {
        let (http, urls, limit, token) = (
            http.clone(),
            urls.clone(),
            limit.clone(),
            token.map(str::to_owned),
        );
        tasks.push(tokio::spawn(async move {
            let _permit = limit.acquire().await.unwrap();
            let url = &urls[(i * 7919) % urls.len()];
            let t = Instant::now();
            let mut request = http.get(url);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let r = request.send().await.unwrap();
            assert_eq!(r.status().as_u16(), 200, "{url}");
            let _ = r.bytes().await.unwrap();
            t.elapsed()
        }));
    }
    let mut latencies = Vec::with_capacity(reads);
    for t in tasks {
        latencies.push(t.await.unwrap());
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    Latency {
        per_second: reads as f64 / elapsed.as_secs_f64(),
        p50: pct(0.50),
        p99: pct(0.99),
    }
}

/// Takes case `reference` to a released fix and publishes advisory `id` for it.
async fn publish(http: &reqwest::Client, base: &str, token: &str, reference: &str, id: &str) {
    for action in [
        "acknowledge",
        "start_triage",
        "accept",
        "start_fix",
        "fix_available",
    ] {
        let r = http
            .post(format!("{base}/api/v1/cases/{reference}/transitions"))
            .bearer_auth(token)
            .json(&json!({"action": action}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{action}");
    }
    let draft = json!({
        "id": id,
        "title": format!("Path traversal in uploads ({id})"),
        "summary": "A crafted name writes outside the upload directory",
        "description": "What goes wrong, in a few paragraphs. ".repeat(20),
        "affected": [{"vendor": "Example Corp", "product": "Dock Certs", "purl": "pkg:cargo/dock-certs",
                      "ranges": [{"introduced": "1.0.0", "fixed": "1.4.2"}]}],
        "workarounds": ["Disable uploads."],
        "cvss": "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:N/I:H/A:N",
        "cwe": "CWE-22",
        "references": [{"url": "https://example.org/changelog", "summary": "Changelog"}],
        "credits": [{"name": "Team Analyst", "kind": "analyst"}]
    });
    let r = http
        .put(format!("{base}/api/v1/cases/{reference}/advisory"))
        .bearer_auth(token)
        .json(&draft)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
    let r = http
        .post(format!("{base}/api/v1/cases/{reference}/advisory/publish"))
        .bearer_auth(token)
        .json(&json!({"credit_reporter": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
}

async fn run(
    db: &TestDatabase,
    cases: usize,
    reads: usize,
    advisories: usize,
    concurrency: usize,
) -> Figures {
    let store = Store::connect(&db.url, Keyring::generate()).await.unwrap();
    #[allow(clippy::disallowed_methods)]
    let now = chrono::Utc::now();
    store.migrate(now).await.unwrap();
    let user = store
        .add_user(
            "bench",
            Role::Responder,
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
    // The intake's noise control would (rightly) stop one client sending
    // thousands of reports; the benchmark measures the path, not the limit.
    let settings = ServerSettings {
        intake_per_address_per_hour: u32::MAX,
        intake_per_contact_per_hour: u32::MAX,
        ..ServerSettings::default()
    };
    let router = app(store.clone(), settings, system_clock());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let _ = embargo_server::serve(listener, router, std::future::pending()).await;
    });
    let http = reqwest::Client::new();
    let limit = Arc::new(Semaphore::new(concurrency));

    let started = Instant::now();
    let mut tasks = Vec::with_capacity(cases);
    for i in 0..cases {
        let (http, base, token, limit) = (http.clone(), base.clone(), token.clone(), limit.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = limit.acquire().await.unwrap();
            let body = json!({
                "title": format!("benchmark case {i}"),
                "product": "Dock Certs",
                "reporter": {"contact": "bench@example.org"},
                "report": {"summary": "summary", "description": "a description of a few hundred bytes ".repeat(8)}
            });
            let r = http.post(format!("{base}/api/v1/cases")).bearer_auth(token).json(&body).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 201);
            r.json::<serde_json::Value>().await.unwrap()["reference"].as_str().unwrap().to_owned()
        }));
    }
    let mut references = Vec::with_capacity(cases);
    for t in tasks {
        references.push(t.await.unwrap());
    }
    let create_time = started.elapsed();

    // Public intake: a report with the policy checks, a reporter token and a
    // sealed receipt, committed before the 201.
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(cases);
    for i in 0..cases {
        let (http, base, limit) = (http.clone(), base.clone(), limit.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = limit.acquire().await.unwrap();
            let body = json!({
                "title": format!("public report {i}"),
                "product": "Dock Certs",
                "reporter": {"contact": "reporter@example.org"},
                "report": {"summary": "summary", "description": "a description of a few hundred bytes ".repeat(8)}
            });
            let r = http.post(format!("{base}/api/v1/reports")).json(&body).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 201);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let intake_time = started.elapsed();

    let case_urls = references
        .iter()
        .map(|r| format!("{base}/api/v1/cases/{r}"))
        .collect();
    let case_reads = read_load(&http, case_urls, Some(&token), reads, concurrency).await;

    // The public security center, read anonymously, with `advisories`
    // published (set-up, not timed).
    let mut ids = Vec::with_capacity(advisories);
    for (i, reference) in references.iter().take(advisories).enumerate() {
        let id = format!("EMB-2026-{:04}", i + 1);
        publish(&http, &base, &token, reference, &id).await;
        ids.push(id);
    }
    let mut public = Vec::new();
    for (name, urls) in [
        ("/advisories (index)", vec![format!("{base}/advisories")]),
        (
            "/advisories/{id} (HTML)",
            ids.iter()
                .map(|id| format!("{base}/advisories/{id}"))
                .collect(),
        ),
        (
            "/advisories/{id}/csaf.json",
            ids.iter()
                .map(|id| format!("{base}/advisories/{id}/csaf.json"))
                .collect(),
        ),
        (
            "/advisories/feed.atom",
            vec![format!("{base}/advisories/feed.atom")],
        ),
    ] {
        public.push((name, read_load(&http, urls, None, reads, concurrency).await));
    }
    server.abort();
    store.close().await;
    Figures {
        backend: db.backend(),
        creates_per_second: cases as f64 / create_time.as_secs_f64(),
        reports_per_second: cases as f64 / intake_time.as_secs_f64(),
        case_reads,
        public,
    }
}

fn main() {
    let cases = env_usize("EMBARGO_BENCH_CASES", 2000);
    let reads = env_usize("EMBARGO_BENCH_READS", 5000);
    let concurrency = env_usize("EMBARGO_BENCH_CONCURRENCY", 32);
    let advisories = env_usize("EMBARGO_BENCH_ADVISORIES", 100).clamp(1, cases);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        println!(
            "cases: {cases} created with {concurrency} concurrent clients, then {reads} reads of a case with its history"
        );
        let mut all = Vec::new();
        for db in TestDatabase::all().await {
            all.push(run(&db, cases, reads, advisories, concurrency).await);
        }
        println!("| store | case creations/s (each durably committed) | public reports/s | case reads/s | read p50 | read p99 |");
        println!("|---|---|---|---|---|---|");
        for f in &all {
            println!(
                "| {} | {:.0} | {:.0} | {:.0} | {:.2} ms | {:.2} ms |",
                f.backend,
                f.creates_per_second,
                f.reports_per_second,
                f.case_reads.per_second,
                ms(f.case_reads.p50),
                ms(f.case_reads.p99)
            );
        }
        println!(
            "\npublic security center: {advisories} published advisories, {reads} anonymous reads of each page"
        );
        println!("| store | page | reads/s | p50 | p99 |");
        println!("|---|---|---|---|---|");
        for f in &all {
            for (page, l) in &f.public {
                println!(
                    "| {} | {page} | {:.0} | {:.2} ms | {:.2} ms |",
                    f.backend,
                    l.per_second,
                    ms(l.p50),
                    ms(l.p99)
                );
            }
        }
    });
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
