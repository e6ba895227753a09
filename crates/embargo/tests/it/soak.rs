//! The soak run (not in CI; `scripts/soak.sh`, figures in RELIABILITY.md):
//! two `embargo serve` processes on one PostgreSQL for EMBARGO_TEST_SOAK_MINUTES
//! (default 30) of mixed load — public reports, workflow moves, messages to
//! reporters, SBOM uploads, email and webhooks to receivers whose latency
//! varies from 1 ms to 3 s — with the second server killed (`kill -9`) and
//! restarted every 1–3 minutes and PostgreSQL crashed and restarted once.
//! At the end: no acknowledged write lost, every message delivered, repeats
//! counted (only a failure between a send and its record may cause one),
//! the audit verifying, and the first server's memory flat after warm-up.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::faults::PrivatePostgres;
use crate::instances::{Deployment, database_url, receiver_key, sql_count, subscribe};
use crate::receivers::Latency;
use crate::{audit_verifies, get_json, install_on, kill9, stop, unavailable};

/// A receiver's latency for its `n`th request: mostly quick, a quarter
/// between 0.1 and 1 s, one in twenty between 1 and 3 s (a pseudo-random
/// but repeatable mix).
fn varying() -> Latency {
    Arc::new(|n: u64| {
        let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5851_F42D_4C95_7F2D;
        x ^= x >> 29;
        x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x ^= x >> 32;
        let ms = match x % 20 {
            0 => 1000 + x % 2000,
            1..=5 => 100 + x % 900,
            _ => 1 + x % 50,
        };
        Duration::from_millis(ms)
    })
}

const ENV: [(&str, &str); 3] = [
    ("EMBARGO_DELIVERY_LEASE_SECONDS", "15"),
    ("EMBARGO_DELIVERY_TIMEOUT_SECONDS", "5"),
    ("EMBARGO_ESCALATION_INTERVAL_SECONDS", "5"),
];

/// The kernel's resident set size of a process, in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[derive(Default)]
struct Acked {
    reports: Vec<String>,
    /// (case, event seq) of acknowledged moves and messages.
    events: Vec<(String, i64)>,
    uploads: u64,
    refused: BTreeMap<String, u64>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a 30-minute soak run: scripts/soak.sh"]
async fn soak_two_servers_under_mixed_load_with_kills_and_a_database_restart() {
    let minutes: u64 = std::env::var("EMBARGO_TEST_SOAK_MINUTES")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(30);
    let pg = match PrivatePostgres::start() {
        Ok(pg) => pg,
        Err(why) => return unavailable(&why),
    };
    let inst = install_on(Some(&pg.url()));
    let config: String = std::fs::read_to_string(inst.config())
        .unwrap()
        .lines()
        .map(|line| match line.split_once('=') {
            Some((key, _)) if key.starts_with("intake_per_") => format!("{key}= 100000\n"),
            _ => format!("{line}\n"),
        })
        .collect();
    std::fs::write(inst.config(), config).unwrap();
    let dep = Deployment::on(inst, varying(), varying()).await;
    let token = dep.inst.token.clone();
    let (mut a, url_a) = dep.inst.serve_with(&ENV);
    let (b, url_b) = dep.inst.serve_with(&ENV);
    let b = Arc::new(Mutex::new(b));
    let url_b = Arc::new(RwLock::new(url_b));
    subscribe(&url_a, &token, &dep.hook).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let r = http
        .post(format!("{url_a}/api/v1/products"))
        .bearer_auth(&token)
        .json(&json!({"id": "soak", "name": "Soak", "owner": "o", "deployment": "saas", "exposure": "internal"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);

    let started = Instant::now();
    let end = started + Duration::from_secs(minutes * 60);
    let done = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Acked::default()));
    let turn = Arc::new(AtomicU64::new(0));
    // Alternately the first server and the second (wherever it listens now).
    let pick = {
        let (url_b, turn) = (url_b.clone(), turn.clone());
        let url_a = url_a.clone();
        move || {
            if turn.fetch_add(1, Ordering::Relaxed).is_multiple_of(2) {
                url_a.clone()
            } else {
                url_b.read().unwrap().clone()
            }
        }
    };
    let refused = |acked: &Mutex<Acked>, what: String| {
        *acked.lock().unwrap().refused.entry(what).or_default() += 1;
    };
    let mut tasks = Vec::new();
    // Two reporters, one report every second each.
    for client in 0..2 {
        let (http, acked, done, pick) = (http.clone(), acked.clone(), done.clone(), pick.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = 0;
            while !done.load(Ordering::SeqCst) {
                i += 1;
                let body = json!({
                    "title": format!("soak report {client}-{i}"),
                    "product": "soak",
                    "reporter": {"contact": format!("reporter{client}x{i}@example.org")},
                    "report": {"summary": "s", "description": "d"}
                });
                match http
                    .post(format!("{}/api/v1/reports", pick()))
                    .json(&body)
                    .send()
                    .await
                {
                    Ok(r) if r.status().as_u16() == 201 => {
                        if let Ok(v) = r.json::<Value>().await {
                            let reference = v["reference"].as_str().unwrap().to_owned();
                            acked.lock().unwrap().reports.push(reference);
                        }
                    }
                    Ok(r) => refused(&acked, format!("report: {}", r.status().as_u16())),
                    Err(_) => refused(&acked, "report: no answer".into()),
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }));
    }
    // A responder walking reported cases through the workflow, writing to
    // the reporter after each move, one write every second.
    {
        let (http, acked, done, pick, token) = (
            http.clone(),
            acked.clone(),
            done.clone(),
            pick.clone(),
            token.clone(),
        );
        tasks.push(tokio::spawn(async move {
            const CHAIN: [&str; 4] = ["acknowledge", "start_triage", "accept", "start_fix"];
            let mut next = 0usize;
            while !done.load(Ordering::SeqCst) {
                let reference = acked.lock().unwrap().reports.get(next / 8).cloned();
                let Some(reference) = reference else {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                };
                let step = next % 8;
                let (path, body) = if step.is_multiple_of(2) {
                    ("transitions", json!({"action": CHAIN[step / 2]}))
                } else {
                    ("messages", json!({"text": format!("step {step}")}))
                };
                match http
                    .post(format!("{}/api/v1/cases/{reference}/{path}", pick()))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                {
                    Ok(r) if r.status().as_u16() == 200 => {
                        if let Ok(v) = r.json::<Value>().await {
                            let mut acked = acked.lock().unwrap();
                            for e in v["events"].as_array().into_iter().flatten() {
                                acked
                                    .events
                                    .push((reference.clone(), e["seq"].as_i64().unwrap()));
                            }
                        }
                        next += 1;
                    }
                    Ok(r) => refused(&acked, format!("{path}: {}", r.status().as_u16())),
                    Err(_) => refused(&acked, format!("{path}: no answer")),
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }));
    }
    // SBOM uploads: a release every 10 seconds.
    {
        let (http, acked, done, pick, token) = (
            http.clone(),
            acked.clone(),
            done.clone(),
            pick.clone(),
            token.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut i = 0;
            while !done.load(Ordering::SeqCst) {
                i += 1;
                let components: Vec<Value> = (0..50)
                    .map(|c| {
                        json!({"type": "library", "name": format!("pkg{c}"), "version": format!("1.{i}.{c}"),
                               "purl": format!("pkg:npm/pkg{c}@1.{i}.{c}")})
                    })
                    .collect();
                let bom = json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": components});
                match http
                    .post(format!("{}/api/v1/products/soak/releases/1.{i}/sbom?filename=bom.json", pick()))
                    .bearer_auth(&token)
                    .body(bom.to_string())
                    .send()
                    .await
                {
                    Ok(r) if r.status().as_u16() == 200 => acked.lock().unwrap().uploads += 1,
                    Ok(r) => refused(&acked, format!("sbom: {}", r.status().as_u16())),
                    Err(_) => refused(&acked, "sbom: no answer".into()),
                }
                tokio::time::sleep(Duration::from_secs(10)).await;
            }
        }));
    }

    // The chaos: the second server killed every 1–3 minutes, PostgreSQL
    // crashed once half-way; memory sampled every 30 s.
    let mut kills = 0u32;
    let mut rss_a: Vec<(u64, u64)> = Vec::new();
    let mut pg_restarted = false;
    let mut seed = started.elapsed().as_nanos() as u64 | 1;
    let mut next_kill = started + Duration::from_secs(60 + seed % 120);
    let mut next_sample = started;
    while Instant::now() < end {
        let now = Instant::now();
        if now >= next_sample {
            if let Some(kib) = rss_kib(a.id()) {
                rss_a.push((started.elapsed().as_secs(), kib));
            }
            next_sample = now + Duration::from_secs(30);
        }
        if now >= next_kill {
            let mut child = b.lock().unwrap();
            kill9(&mut child);
            kills += 1;
            let (fresh, url) = dep.inst.serve_with(&ENV);
            *child = fresh;
            *url_b.write().unwrap() = url;
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            next_kill = now + Duration::from_secs(60 + seed % 120);
        }
        if !pg_restarted && now >= started + Duration::from_secs(minutes * 30) {
            pg.crash();
            tokio::time::sleep(Duration::from_secs(5)).await;
            pg.start_server().unwrap();
            pg_restarted = true;
            eprintln!(
                "soak: PostgreSQL crashed and restarted at {:?}",
                started.elapsed()
            );
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    done.store(true, Ordering::SeqCst);
    for t in tasks {
        let _ = t.await;
    }
    let load_ended = started.elapsed();

    // Drained: every message delivered (or, failing that, counted).
    let drain_start = Instant::now();
    while sql_count(
        &dep.inst,
        "SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'delivering')",
    )
    .await
        > 0
        && drain_start.elapsed() < Duration::from_secs(600)
    {
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let undelivered = sql_count(
        &dep.inst,
        "SELECT COUNT(*) FROM outbox WHERE state <> 'delivered'",
    )
    .await;
    let total = sql_count(&dep.inst, "SELECT COUNT(*) FROM outbox").await;
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    // No acknowledged write lost.
    let mut lost = Vec::new();
    let mut histories: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for reference in &acked.reports {
        let (status, v) = get_json(&url_a, &token, &format!("/api/v1/cases/{reference}")).await;
        if status != 200 {
            lost.push(reference.clone());
            continue;
        }
        histories.insert(
            reference.clone(),
            v["history"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["seq"].as_i64().unwrap())
                .collect(),
        );
    }
    for (reference, seq) in &acked.events {
        if !histories.get(reference).is_some_and(|h| h.contains(seq)) {
            lost.push(format!("{reference} event {seq}"));
        }
    }
    // What reached the receivers, against the outbox.
    let keys = outbox_keys(&dep.inst).await;
    let (web, mail) = (dep.web.counts(), dep.mail.counts());
    let mut missing = 0;
    for d in &keys {
        let (channel, key) = receiver_key(d);
        let counts = if channel == "email" { &mail } else { &web };
        if !counts.contains_key(&key) {
            missing += 1;
        }
    }
    let mut repeated = dep.web.repeated();
    repeated.extend(dep.mail.repeated());
    let mut last_b = b.lock().unwrap();
    stop(&mut last_b);
    stop(&mut a);
    let audit = audit_verifies(&dep.inst);
    let warm: Vec<u64> = rss_a
        .iter()
        .filter(|(s, _)| *s >= 300)
        .map(|(_, k)| *k)
        .collect();
    let summary = format!(
        "soak: {minutes} min of load (ended at {load_ended:?}), {kills} kill -9 of the second server, \
         PostgreSQL crashed and restarted once: {}\n\
         acknowledged: {} reports, {} moves and messages (events), {} SBOM uploads; refused or unanswered: {:?}\n\
         lost acknowledged writes: {} {:?}\n\
         outbox: {total} messages, {undelivered} not delivered after the drain; {missing} never reached a receiver\n\
         receivers: {} webhook and {} email requests; repeated: {} messages ({:?})\n\
         first server's RSS after warm-up (5 min): first {} KiB, max {} KiB, last {} KiB ({} samples)\n\
         {audit}",
        pg_restarted,
        acked.reports.len(),
        acked.events.len(),
        acked.uploads,
        acked.refused,
        lost.len(),
        lost.iter().take(5).collect::<Vec<_>>(),
        dep.web.total(),
        dep.mail.total(),
        repeated.len(),
        repeated,
        warm.first().copied().unwrap_or(0),
        warm.iter().max().copied().unwrap_or(0),
        warm.last().copied().unwrap_or(0),
        warm.len(),
    );
    eprintln!("{summary}");
    if let Ok(path) = std::env::var("EMBARGO_TEST_SOAK_REPORT") {
        std::fs::write(
            path,
            format!("{summary}\nRSS samples (s, KiB): {rss_a:?}\n"),
        )
        .unwrap();
    }
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
    assert_eq!((undelivered, missing), (0, 0), "every message delivered");
    assert!(
        repeated.len() as u32 <= kills + 1,
        "repeats beyond one per failure between a send and its record ({kills} kills, one database crash): {repeated:?}"
    );
    if let (Some(first), Some(last)) = (warm.first(), warm.last()) {
        assert!(
            *last < first * 3 / 2,
            "memory grew from {first} to {last} KiB after warm-up"
        );
    }
}

/// The outbox's messages (key and channel), read from the database.
async fn outbox_keys(inst: &crate::Installation) -> Vec<Value> {
    use sqlx::{Connection, Row};
    let mut conn = sqlx::AnyConnection::connect(&database_url(inst))
        .await
        .unwrap();
    let rows = sqlx::query("SELECT idempotency_key, channel FROM outbox")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    rows.iter()
        .map(
            |r| json!({"idempotency_key": r.get::<String, _>(0), "channel": r.get::<String, _>(1)}),
        )
        .collect()
}
