//! Case creations and public report submissions per second, and case-read
//! latency, through the real HTTP API, on SQLite and (when `EMBARGO_TEST_POSTGRES_URL` is set) PostgreSQL.
//!
//! `cargo bench -p embargo --bench api`. Sizes come from the environment:
//! `EMBARGO_BENCH_CASES` (default 2000), `EMBARGO_BENCH_READS` (5000),
//! `EMBARGO_BENCH_CONCURRENCY` (32). It prints a Markdown table and never
//! fails on a slow machine: these are figures, not assertions.
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
    reads_per_second: f64,
    p50: Duration,
    p99: Duration,
}

async fn run(db: &TestDatabase, cases: usize, reads: usize, concurrency: usize) -> Figures {
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

    let references = Arc::new(references);
    let mut tasks = Vec::with_capacity(reads);
    for i in 0..reads {
        let (http, base, token, limit, refs) = (
            http.clone(),
            base.clone(),
            token.clone(),
            limit.clone(),
            references.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let _permit = limit.acquire().await.unwrap();
            let reference = &refs[(i * 7919) % refs.len()];
            let t = Instant::now();
            let r = http
                .get(format!("{base}/api/v1/cases/{reference}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200);
            let _ = r.bytes().await.unwrap();
            t.elapsed()
        }));
    }
    let read_started = Instant::now();
    let mut latencies = Vec::with_capacity(reads);
    for t in tasks {
        latencies.push(t.await.unwrap());
    }
    let read_time = read_started.elapsed();
    latencies.sort_unstable();
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    server.abort();
    store.close().await;
    Figures {
        backend: db.backend(),
        creates_per_second: cases as f64 / create_time.as_secs_f64(),
        reads_per_second: reads as f64 / read_time.as_secs_f64(),
        reports_per_second: cases as f64 / intake_time.as_secs_f64(),
        p50: pct(0.50),
        p99: pct(0.99),
    }
}

fn main() {
    let cases = env_usize("EMBARGO_BENCH_CASES", 2000);
    let reads = env_usize("EMBARGO_BENCH_READS", 5000);
    let concurrency = env_usize("EMBARGO_BENCH_CONCURRENCY", 32);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        println!(
            "cases: {cases} created with {concurrency} concurrent clients, then {reads} reads of a case with its history"
        );
        println!("| store | case creations/s (each durably committed) | public reports/s | case reads/s | read p50 | read p99 |");
        println!("|---|---|---|---|---|---|");
        for db in TestDatabase::all().await {
            let f = run(&db, cases, reads, concurrency).await;
            println!(
                "| {} | {:.0} | {:.0} | {:.0} | {:.2} ms | {:.2} ms |",
                f.backend,
                f.creates_per_second,
                f.reports_per_second,
                f.reads_per_second,
                f.p50.as_secs_f64() * 1000.0,
                f.p99.as_secs_f64() * 1000.0
            );
        }
    });
}
