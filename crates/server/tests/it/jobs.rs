//! The background jobs' health in `/readyz` and `/metrics`, and their stop.

use std::sync::Arc;
use std::time::Duration;

use embargo_server::ServerSettings;
use embargo_server::jobs::Supervisor;
use embargo_store::testing::TestDatabase;

use crate::mailbox::server_state;
use crate::t0;

#[tokio::test]
async fn readyz_and_metrics_show_each_job_and_a_stopped_one_makes_the_server_unready() {
    let db = TestDatabase::sqlite().unwrap();
    let (_store, state) = server_state(&db, ServerSettings::default()).await;
    let mut jobs = Supervisor::new(state.jobs.clone(), Arc::new(t0));
    jobs.add("steady", |mut stop, steady| {
        tokio::spawn(async move {
            let _running = steady.running();
            steady.ok();
            steady.elsewhere();
            stop.wait().await;
        })
    });
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    jobs.add("brittle", |_stop, brittle| {
        tokio::spawn(async move {
            let _running = brittle.running();
            brittle.failed(&"IMAP: connection refused");
            // Ends when told, as a job whose loop broke would.
            let _ = rx.await;
        })
    });
    let router = embargo_server::router(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = embargo_server::serve(listener, router, std::future::pending()).await;
    });
    let get = |path: &'static str| {
        let base = base.clone();
        async move {
            let r = reqwest::get(format!("{base}{path}")).await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (status, body) = get("/readyz").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with("ready\n"), "{body}");
    assert!(body.contains("job steady: running; 1 passes"), "{body}");
    assert!(
        body.contains(
            "job brittle: running; 1 of 1 passes failed, the last: IMAP: connection refused"
        ),
        "{body}"
    );

    tx.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (status, body) = get("/readyz").await;
    assert_eq!(
        status, 503,
        "a job that stopped makes the server unready: {body}"
    );
    assert!(
        body.starts_with("background jobs stopped: brittle\n"),
        "{body}"
    );
    let (_, metrics) = get("/metrics").await;
    for line in [
        "embargo_job_running{job=\"steady\"} 1",
        "embargo_job_running{job=\"brittle\"} 0",
        "embargo_job_passes_total{job=\"steady\",outcome=\"ok\"} 1",
        "embargo_job_passes_total{job=\"steady\",outcome=\"elsewhere\"} 1",
        "embargo_job_passes_total{job=\"brittle\",outcome=\"failed\"} 1",
        &format!(
            "embargo_job_last_success_timestamp_seconds{{job=\"steady\"}} {}",
            t0().timestamp()
        ),
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }

    // Stopping: the steady job ends when told, within the grace.
    let started = tokio::time::Instant::now();
    jobs.stop(started + Duration::from_secs(5)).await;
    assert!(started.elapsed() < Duration::from_secs(1));
    let (_, body) = get("/readyz").await;
    assert!(body.contains("job steady: stopped"), "{body}");
}
