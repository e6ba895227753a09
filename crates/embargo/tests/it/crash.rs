//! `kill -9` during a burst of concurrent case creations loses no case whose
//! creation was answered 201, and the history verifies after restart.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

use crate::{assert_all_present, audit_verifies, get_json, installations, kill9, stop};

const REQUESTS: usize = 800;
const KILL_AFTER: usize = 120;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_a_burst_loses_no_acknowledged_case() {
    for inst in installations().await {
        let (mut child, url) = inst.serve();
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        let acknowledged = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let count = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for i in 0..REQUESTS {
            let http = http.clone();
            let url = url.clone();
            let token = inst.token.clone();
            let acknowledged = acknowledged.clone();
            let count = count.clone();
            tasks.push(tokio::spawn(async move {
                let body = json!({
                    "title": format!("burst {i}"),
                    "product": "Dock Certs",
                    "report": {"summary": "s", "description": "d"}
                });
                let Ok(r) = http
                    .post(format!("{url}/api/v1/cases"))
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                else {
                    return;
                };
                if r.status().as_u16() == 201
                    && let Ok(v) = r.json::<Value>().await
                {
                    acknowledged
                        .lock()
                        .unwrap()
                        .push(v["reference"].as_str().unwrap().to_owned());
                    count.fetch_add(1, Ordering::SeqCst);
                }
            }));
        }
        while count.load(Ordering::SeqCst) < KILL_AFTER {
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        kill9(&mut child);
        for t in tasks {
            let _ = t.await;
        }
        let acknowledged = acknowledged.lock().unwrap().clone();
        assert!(acknowledged.len() >= KILL_AFTER);
        assert!(acknowledged.len() < REQUESTS, "the kill landed mid-burst");

        let (mut child, url) = inst.serve();
        assert_all_present(&inst, &url, &acknowledged).await;
        stop(&mut child);
        eprintln!(
            "kill -9: {} of {REQUESTS} creations acknowledged before the kill; all present; {}",
            acknowledged.len(),
            audit_verifies(&inst)
        );
    }
}

/// What the clients were told before the kill: every write answered 2xx.
#[derive(Default)]
struct Acknowledged {
    /// Cases opened through the public intake.
    reports: Vec<String>,
    /// Events of transitions and messages to the reporter.
    events: Vec<AckedEvent>,
}

struct AckedEvent {
    case: String,
    seq: i64,
    /// Whether the event is one subscribers are told of.
    notified: bool,
}

/// The event kinds of these writes that notify (a webhook subscribed to all).
const NOTIFIED: [&str; 2] = ["state_changed", "message_to_reporter"];

/// `kill -9` under mixed load — public reports (intake), workflow
/// transitions and messages to reporters (each planning notifications) —
/// then a restart: every acknowledged write is there, the audit chain
/// verifies, and the outbox is consistent: every acknowledged report has its
/// receipt queued, every acknowledged notice reaches the webhook (a delivery
/// claimed by the killed server included, once its lease ends), and nothing
/// is left pending, in flight or dead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_mixed_load_loses_no_acknowledged_write() {
    const CASES: usize = 30;
    const REPORTS: usize = 240;
    const REPORTERS: usize = 8;
    const KILL_AFTER: usize = 40;
    // The actions each pre-made case goes through, in order.
    const CHAIN: [&str; 4] = ["acknowledge", "start_triage", "accept", "start_fix"];

    for inst in installations().await {
        // The public intake's noise control would stop one client address
        // sending hundreds of reports; this test is about durability.
        let config: String = std::fs::read_to_string(inst.config())
            .unwrap()
            .lines()
            .map(|line| {
                if line.starts_with("intake_per_") {
                    let key = line.split('=').next().unwrap().trim();
                    format!("{key} = 100000\n")
                } else {
                    format!("{line}\n")
                }
            })
            .collect();
        assert!(
            config.contains("intake_per_address_per_hour = 100000"),
            "{config}"
        );
        std::fs::write(inst.config(), config).unwrap();
        let received: Arc<std::sync::Mutex<std::collections::HashSet<String>>> = Arc::default();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post({
                let received = received.clone();
                move |headers: axum::http::HeaderMap| async move {
                    if let Some(key) = headers
                        .get("embargo-delivery")
                        .and_then(|v| v.to_str().ok())
                    {
                        received.lock().unwrap().insert(key.to_owned());
                    }
                    "ok"
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let hook = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });

        let (mut child, url) = crate::serve_with_short_lease(inst.dir.path());
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        let r = http
            .post(format!("{url}/api/v1/webhooks"))
            .bearer_auth(&inst.token)
            .json(&json!({"name": "receiver", "url": hook, "kinds": []}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        let webhook_id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();

        let mut cases = Vec::new();
        for i in 0..CASES {
            let r = http
                .post(format!("{url}/api/v1/cases"))
                .bearer_auth(&inst.token)
                .json(&json!({
                    "title": format!("under load {i}"),
                    "product": "Dock Certs",
                    "reporter": {"contact": format!("r{i}@example.org")},
                    "report": {"summary": "s", "description": "d"}
                }))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 201);
            let v: Value = r.json().await.unwrap();
            cases.push(v["reference"].as_str().unwrap().to_owned());
        }

        let acked = Arc::new(std::sync::Mutex::new(Acknowledged::default()));
        let reports_done = Arc::new(AtomicUsize::new(0));
        let moves_done = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        // Eight reporters submitting one report after another, beside the
        // responders' clients below.
        for client in 0..REPORTERS {
            let (http, url, acked, count) = (
                http.clone(),
                url.clone(),
                acked.clone(),
                reports_done.clone(),
            );
            tasks.push(tokio::spawn(async move {
                for i in (client..REPORTS).step_by(REPORTERS) {
                    let body = json!({
                        "title": format!("public report {i}"),
                        "product": "Dock Certs",
                        "reporter": {"contact": format!("reporter{i}@example.org")},
                        "report": {"summary": "s", "description": "d"}
                    });
                    let Ok(r) = http
                        .post(format!("{url}/api/v1/reports"))
                        .json(&body)
                        .send()
                        .await
                    else {
                        return;
                    };
                    if r.status().as_u16() != 201 {
                        return;
                    }
                    let Ok(v) = r.json::<Value>().await else {
                        return;
                    };
                    let reference = v["reference"].as_str().unwrap().to_owned();
                    acked.lock().unwrap().reports.push(reference);
                    count.fetch_add(1, Ordering::SeqCst);
                }
            }));
        }
        for reference in &cases {
            // One client per case walks its workflow and writes to its
            // reporter between moves, as a responder would.
            let (http, url, token, acked, count, reference) = (
                http.clone(),
                url.clone(),
                inst.token.clone(),
                acked.clone(),
                moves_done.clone(),
                reference.clone(),
            );
            tasks.push(tokio::spawn(async move {
                for action in CHAIN {
                    for (path, body) in [
                        ("transitions", json!({"action": action})),
                        ("messages", json!({"text": format!("we moved: {action}")})),
                    ] {
                        let Ok(r) = http
                            .post(format!("{url}/api/v1/cases/{reference}/{path}"))
                            .bearer_auth(&token)
                            .json(&body)
                            .send()
                            .await
                        else {
                            return;
                        };
                        if r.status().as_u16() != 200 {
                            return;
                        }
                        let Ok(v) = r.json::<Value>().await else {
                            return;
                        };
                        let mut acked = acked.lock().unwrap();
                        for event in v["events"].as_array().unwrap() {
                            acked.events.push(AckedEvent {
                                case: reference.clone(),
                                seq: event["seq"].as_i64().unwrap(),
                                notified: NOTIFIED.contains(&event["kind"].as_str().unwrap()),
                            });
                        }
                        count.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }));
        }
        // The kill comes once both kinds of write are well under way.
        while reports_done.load(Ordering::SeqCst) < KILL_AFTER
            || moves_done.load(Ordering::SeqCst) < KILL_AFTER
        {
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        kill9(&mut child);
        for t in tasks {
            let _ = t.await;
        }
        let acked = std::mem::take(&mut *acked.lock().unwrap());
        let total = acked.reports.len() + acked.events.len();
        assert!(
            !acked.reports.is_empty() && !acked.events.is_empty(),
            "both kinds of write ran"
        );
        assert!(
            acked.reports.len() < REPORTS || acked.events.len() < CASES * CHAIN.len() * 2,
            "the kill landed mid-load"
        );

        let (mut child, url) = crate::serve_with_short_lease(inst.dir.path());
        // Every acknowledged report is a case with its reporter's receipt queued.
        let mut notice_seqs = Vec::new();
        assert_all_present(&inst, &url, &acked.reports).await;
        for reference in &acked.reports {
            let (_, v) = get_json(&url, &inst.token, &format!("/api/v1/cases/{reference}")).await;
            notice_seqs.push(v["history"][0]["seq"].as_i64().unwrap());
            let (_, d) = get_json(
                &url,
                &inst.token,
                &format!("/api/v1/cases/{reference}/deliveries"),
            )
            .await;
            assert!(
                d["deliveries"].as_array().unwrap().iter().any(|d| {
                    d["channel"] == "email" && d["to"].as_str().unwrap().starts_with("reporter")
                }),
                "{reference}: the reporter's receipt is not queued: {d}"
            );
        }
        // Every acknowledged transition and message is in its case's history.
        for reference in &cases {
            let (_, v) = get_json(&url, &inst.token, &format!("/api/v1/cases/{reference}")).await;
            let seqs: Vec<i64> = v["history"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["seq"].as_i64().unwrap())
                .collect();
            for event in acked.events.iter().filter(|e| &e.case == reference) {
                assert!(
                    seqs.contains(&event.seq),
                    "{reference}: acknowledged event {} is gone",
                    event.seq
                );
                if event.notified {
                    notice_seqs.push(event.seq);
                }
            }
        }
        // The outbox drains: every acknowledged notice reaches the webhook
        // (one claimed by the killed server once its 3-second lease ends), and
        // no webhook delivery is left pending, in flight or dead.
        let wanted: Vec<String> = notice_seqs
            .iter()
            .map(|seq| format!("evt{seq}:webhook:{webhook_id}"))
            .collect();
        let mut missing = wanted.clone();
        for _ in 0..300 {
            {
                let got = received.lock().unwrap();
                missing.retain(|k| !got.contains(k));
            }
            if missing.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(missing.is_empty(), "never delivered: {missing:?}");
        let mut unsettled = Vec::new();
        for _ in 0..300 {
            let (_, v) = get_json(&url, &inst.token, "/api/v1/deliveries?limit=1000").await;
            unsettled = v["deliveries"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["channel"] == "webhook" && d["state"] != "delivered")
                .cloned()
                .collect();
            if unsettled.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(
            unsettled.is_empty(),
            "webhook deliveries never settled: {unsettled:?}"
        );
        let (_, dead) = get_json(
            &url,
            &inst.token,
            "/api/v1/deliveries?state=dead&limit=1000",
        )
        .await;
        assert_eq!(dead["deliveries"].as_array().unwrap().len(), 0, "{dead}");
        stop(&mut child);
        let verified = audit_verifies(&inst);
        eprintln!(
            "kill -9 under mixed load: {total} writes acknowledged ({} reports, {} events); all present; {} notices delivered; {}",
            acked.reports.len(),
            acked.events.len(),
            wanted.len(),
            verified
        );
    }
}
