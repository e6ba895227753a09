//! `kill -9` between claiming a message and delivering it: after the lease
//! expires, the restarted server delivers it, with the same idempotency key.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::HeaderMap;
use serde_json::{Value, json};

use crate::{installations, kill9, serve_with_short_lease, stop};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_claimed_by_a_killed_server_is_redelivered_after_the_lease() {
    for inst in installations().await {
        // The receiver holds the first request open forever, then answers.
        let keys: Arc<Mutex<Vec<String>>> = Arc::default();
        let calls = Arc::new(AtomicUsize::new(0));
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post({
                let (keys, calls) = (keys.clone(), calls.clone());
                move |headers: HeaderMap| async move {
                    let key = headers
                        .get("embargo-delivery")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned();
                    keys.lock().unwrap().push(key);
                    if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
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

        let (mut child, url) = serve_with_short_lease(inst.dir.path());
        let http = reqwest::Client::new();
        let r = http
            .post(format!("{url}/api/v1/webhooks"))
            .bearer_auth(&inst.token)
            .json(&json!({"name": "receiver", "url": hook, "kinds": ["case.created"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        let r = http
            .post(format!("{url}/api/v1/cases"))
            .bearer_auth(&inst.token)
            .json(&json!({"title": "t", "product": "p", "report": {"summary": "s", "description": "d"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        for _ in 0..200 {
            if calls.load(Ordering::SeqCst) > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "the worker claimed and is sending"
        );
        kill9(&mut child);

        let (mut child, url) = serve_with_short_lease(inst.dir.path());
        for _ in 0..300 {
            if calls.load(Ordering::SeqCst) > 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let keys = keys.lock().unwrap().clone();
        assert_eq!(keys.len(), 2, "redelivered once after the lease expired");
        assert_eq!(keys[0], keys[1], "with the same idempotency key");
        let mut delivered = Value::Null;
        for _ in 0..100 {
            delivered = http
                .get(format!("{url}/api/v1/deliveries?state=delivered"))
                .bearer_auth(&inst.token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if delivered["deliveries"]
                .as_array()
                .is_some_and(|d| !d.is_empty())
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(
            delivered["deliveries"][0]["idempotency_key"],
            keys[0].as_str(),
            "{delivered}"
        );
        assert_eq!(delivered["deliveries"][0]["attempts"], 2);
        stop(&mut child);
    }
}
