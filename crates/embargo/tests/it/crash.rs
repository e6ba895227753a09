//! `kill -9` during a burst of concurrent case creations loses no case whose
//! creation was answered 201, and the history verifies after restart.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

use crate::{installations, kill9, stderr, stdout, stop};

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
        for reference in &acknowledged {
            let r = http
                .get(format!("{url}/api/v1/cases/{reference}"))
                .bearer_auth(&inst.token)
                .send()
                .await
                .unwrap();
            assert_eq!(
                r.status().as_u16(),
                200,
                "{reference} was acknowledged but is gone"
            );
        }
        stop(&mut child);
        let out = inst.embargo(&["audit", "verify"]);
        assert!(out.status.success(), "{} {}", stdout(&out), stderr(&out));
        eprintln!(
            "kill -9: {} of {REQUESTS} creations acknowledged before the kill; all present; {}",
            acknowledged.len(),
            stdout(&out).trim()
        );
    }
}
