//! Delivery: webhooks signed and delivered exactly once by two instances,
//! email through a real SMTP server that goes down and comes back, leases
//! that expire after a crash, dead letters and their retry.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, TimeDelta};
use embargo_core::auth::{Role, hash_password};
use embargo_core::crypto::Keyring;
use embargo_core::notify::{NoticeKind, WebhookFormat};
use embargo_server::Clock;
use embargo_server::delivery::{
    Deliverer, DeliverySettings, SmtpSecurity, SmtpSettings, deliver_once,
};
use embargo_store::testing::TestDatabase;
use embargo_store::{OutboxState, Store};

use crate::{new_case, t0};

/// A clock the test moves by hand.
fn manual_clock() -> (Clock, Arc<AtomicI64>) {
    let ms = Arc::new(AtomicI64::new(t0().timestamp_millis()));
    let read = ms.clone();
    let clock: Clock = Arc::new(move || {
        DateTime::from_timestamp_millis(read.load(Ordering::SeqCst)).unwrap_or_default()
    });
    (clock, ms)
}

/// What the webhook receiver saw: (delivery key, signature header, body).
type Seen = Arc<Mutex<Vec<(String, String, String)>>>;

/// A webhook receiver on loopback answering `status` (changeable).
async fn receiver(status: Arc<AtomicU16>) -> (SocketAddr, Seen) {
    let seen: Seen = Arc::default();
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(
                |State((seen, status)): State<(Seen, Arc<AtomicU16>)>,
                 headers: HeaderMap,
                 body: Bytes| async move {
                    let code = status.load(Ordering::SeqCst);
                    if code == 200 {
                        let h = |n: &str| {
                            headers
                                .get(n)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("")
                                .to_owned()
                        };
                        seen.lock().unwrap().push((
                            h("embargo-delivery"),
                            h("embargo-signature"),
                            String::from_utf8_lossy(&body).into_owned(),
                        ));
                    }
                    StatusCode::from_u16(code).unwrap_or(StatusCode::OK)
                },
            ),
        )
        .with_state((seen.clone(), status));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, seen)
}

fn settings(worker: &str) -> DeliverySettings {
    DeliverySettings {
        worker: worker.into(),
        lease: Duration::from_secs(30),
        retry_base: Duration::from_secs(10),
        max_attempts: 3,
        batch: 50,
        poll: Duration::from_millis(10),
        timeout: Duration::from_secs(5),
        smtp: None,
    }
}

async fn store(db: &TestDatabase, keyring: Keyring) -> Store {
    let s = Store::connect(&db.url, keyring).await.unwrap();
    s.migrate(t0()).await.unwrap();
    s
}

const SECRET: &str = "whsec_test_secret_0123456789";

async fn subscribe(store: &Store, addr: SocketAddr) -> i64 {
    store
        .add_webhook(
            "receiver",
            &format!("http://{addr}/hook"),
            WebhookFormat::Embargo,
            &[NoticeKind::CaseCreated],
            &[],
            None,
            SECRET,
            t0(),
        )
        .await
        .unwrap()
        .id
}

/// Cases from an anonymous reporter: webhook deliveries only, no receipts.
async fn create_cases(store: &Store, n: usize) {
    for i in 0..n {
        let mut c: embargo_core::NewCase =
            serde_json::from_value(new_case(&format!("case {i}"))).unwrap();
        c.reporter = embargo_core::Reporter::default();
        crate::recording()
            .create_case(store, c, "cli", t0())
            .await
            .unwrap();
    }
}

/// Two instances (two pools, two workers) drain 1,000 webhook deliveries at
/// once; the receiver sees each exactly once, and every signature verifies
/// with Python's own hmac.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_deliver_each_of_1000_webhooks_exactly_once() {
    for db in TestDatabase::all().await {
        let keyring = Keyring::generate();
        let a = store(&db, keyring.clone()).await;
        let b = Store::connect(&db.url, keyring).await.unwrap();
        let (addr, seen) = receiver(Arc::new(AtomicU16::new(200))).await;
        subscribe(&a, addr).await;
        create_cases(&a, 1000).await;
        let (clock, _) = manual_clock();
        let work = |store: Store, name: &'static str, clock: Clock| async move {
            let s = settings(name);
            let d = Deliverer::new(&s).unwrap();
            loop {
                if deliver_once(&store, &d, &s, &clock).await.unwrap() == 0 {
                    break;
                }
            }
        };
        tokio::join!(
            work(a.clone(), "instance-a", clock.clone()),
            work(b.clone(), "instance-b", clock.clone())
        );
        let seen = seen.lock().unwrap().clone();
        let mut counts: HashMap<&str, u32> = HashMap::new();
        for (key, _, _) in &seen {
            *counts.entry(key.as_str()).or_default() += 1;
        }
        assert_eq!(
            counts.len(),
            1000,
            "{}: every message arrived",
            db.backend()
        );
        assert!(
            counts.values().all(|n| *n == 1),
            "{}: none twice",
            db.backend()
        );
        let delivered = a
            .deliveries(None, Some(OutboxState::Delivered), 10_000)
            .await
            .unwrap();
        assert_eq!(delivered.len(), 1000);
        verify_with_python(&seen[..50]);
        a.close().await;
        b.close().await;
    }
}

/// Checks signatures with Python's hmac module: an implementation embargo
/// did not write.
fn verify_with_python(seen: &[(String, String, String)]) {
    let lines: Vec<serde_json::Value> = seen
        .iter()
        .map(|(_, sig, body)| serde_json::json!({"signature": sig, "body": body}))
        .collect();
    let script = r#"
import hmac, hashlib, json, sys
secret = sys.argv[1].encode()
ok = 0
for item in json.load(sys.stdin):
    parts = dict(p.split("=", 1) for p in item["signature"].split(","))
    expected = hmac.new(secret, (parts["t"] + "." + item["body"]).encode(), hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, parts["v1"]), item
    ok += 1
print(ok)
"#;
    let mut child = std::process::Command::new("python3")
        .args(["-c", script, SECRET])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    std::io::Write::write_all(
        child.stdin.as_mut().unwrap(),
        serde_json::to_string(&lines).unwrap().as_bytes(),
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        seen.len().to_string()
    );
}

/// A stopping worker hands back what it claimed and did not send: due at
/// once, its claim not counted as an attempt, and no longer renewable.
#[tokio::test]
async fn a_stopping_worker_hands_back_unsent_messages() {
    for db in TestDatabase::all().await {
        let s = store(&db, Keyring::generate()).await;
        let (addr, seen) = receiver(Arc::new(AtomicU16::new(200))).await;
        subscribe(&s, addr).await;
        create_cases(&s, 3).await;
        let (clock, _) = manual_clock();
        let claimed = s
            .claim_deliveries("stopping", clock(), clock() + TimeDelta::seconds(30), 10)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 3, "{}", db.backend());
        let token = &claimed[0].lease_token;
        assert!(
            claimed.iter().all(|c| &c.lease_token == token),
            "one token per claim"
        );
        assert_eq!(s.release_deliveries(token, clock()).await.unwrap(), 3);
        assert!(
            s.renew_deliveries(token, clock() + TimeDelta::seconds(30))
                .await
                .unwrap()
                .is_empty()
        );
        let records = s.deliveries(None, None, 10).await.unwrap();
        assert!(
            records
                .iter()
                .all(|r| (r.state, r.attempts) == (OutboxState::Pending, 0)),
            "{records:?}"
        );
        let live = settings("live");
        let d = Deliverer::new(&live).unwrap();
        assert_eq!(deliver_once(&s, &d, &live, &clock).await.unwrap(), 3);
        assert_eq!(seen.lock().unwrap().len(), 3);
        let records = s.deliveries(None, None, 10).await.unwrap();
        assert!(
            records
                .iter()
                .all(|r| (r.state, r.attempts) == (OutboxState::Delivered, 1)),
            "{records:?}"
        );
        s.close().await;
    }
}

/// A shared job's lease: one holder at a time; a holder whose lease ran
/// out and was taken can neither renew nor release the new holder's lease;
/// a released lease is free at once.
#[tokio::test]
async fn a_shared_jobs_lease_has_one_holder_and_fences_a_stale_one() {
    for db in TestDatabase::all().await {
        let s = store(&db, Keyring::generate()).await;
        let t = t0();
        let a = s
            .acquire_job("escalation", "a", t, t + TimeDelta::seconds(60))
            .await
            .unwrap()
            .expect("free at first");
        assert_eq!(
            s.acquire_job(
                "escalation",
                "b",
                t + TimeDelta::seconds(59),
                t + TimeDelta::seconds(119)
            )
            .await
            .unwrap(),
            None,
            "held by a"
        );
        assert!(
            s.acquire_job("rematch", "b", t, t + TimeDelta::seconds(60))
                .await
                .unwrap()
                .is_some(),
            "another job is another lease"
        );
        let later = t + TimeDelta::seconds(61);
        let b = s
            .acquire_job("escalation", "b", later, later + TimeDelta::seconds(60))
            .await
            .unwrap()
            .expect("a's lease ran out");
        assert!(
            !s.renew_job("escalation", &a, later + TimeDelta::seconds(60))
                .await
                .unwrap()
        );
        s.release_job("escalation", &a).await.unwrap();
        assert_eq!(
            s.acquire_job("escalation", "c", later, later + TimeDelta::seconds(60))
                .await
                .unwrap(),
            None,
            "a's release did not free b's lease"
        );
        assert!(
            s.renew_job("escalation", &b, later + TimeDelta::seconds(90))
                .await
                .unwrap()
        );
        s.release_job("escalation", &b).await.unwrap();
        assert!(
            s.acquire_job("escalation", "c", later, later + TimeDelta::seconds(60))
                .await
                .unwrap()
                .is_some(),
            "released: free at once"
        );
        s.close().await;
    }
}

/// A worker that claimed a message and died never finishes it; once its lease
/// runs out another worker delivers it, with the same idempotency key.
#[tokio::test]
async fn a_crashed_workers_lease_expires_and_the_message_is_redelivered_once() {
    for db in TestDatabase::all().await {
        let s = store(&db, Keyring::generate()).await;
        let (addr, seen) = receiver(Arc::new(AtomicU16::new(200))).await;
        subscribe(&s, addr).await;
        create_cases(&s, 1).await;
        let (clock, ms) = manual_clock();
        // The crashed worker: claimed, then nothing.
        let claimed = s
            .claim_deliveries("crashed", clock(), clock() + TimeDelta::seconds(30), 10)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1, "{}", db.backend());
        let key = claimed[0].idempotency_key.clone();
        let live = settings("live");
        let d = Deliverer::new(&live).unwrap();
        assert_eq!(
            deliver_once(&s, &d, &live, &clock).await.unwrap(),
            0,
            "leased to the crashed worker"
        );
        ms.fetch_add(31_000, Ordering::SeqCst);
        assert_eq!(
            deliver_once(&s, &d, &live, &clock).await.unwrap(),
            1,
            "lease expired"
        );
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].0, key, "same idempotency key");
        // The crashed worker coming back holds nothing: it may not renew
        // (so it would not send), record a success or record a failure.
        let stale = &claimed[0].lease_token;
        assert_eq!(
            s.renew_deliveries(stale, clock() + TimeDelta::seconds(30))
                .await
                .unwrap(),
            Vec::<i64>::new()
        );
        assert!(
            !s.delivered(claimed[0].id, stale, "crashed", clock())
                .await
                .unwrap()
        );
        assert_eq!(
            s.delivery_failed(claimed[0].id, stale, "crashed", clock(), "late", clock(), 3)
                .await
                .unwrap(),
            None
        );
        let record = &s.deliveries(None, None, 10).await.unwrap()[0];
        assert_eq!((record.state, record.attempts), (OutboxState::Delivered, 2));
        let attempts = s.delivery_attempts(claimed[0].id).await.unwrap();
        assert_eq!(
            attempts,
            vec![(2, true, None)],
            "only the live worker's attempt is recorded"
        );
        s.close().await;
    }
}

/// A receiver that keeps failing: retried with backoff, then dead; an admin
/// retry puts it back, and it is delivered once the receiver recovers.
#[tokio::test]
async fn failures_back_off_then_die_and_can_be_retried() {
    let db = TestDatabase::sqlite().unwrap();
    let s = store(&db, Keyring::generate()).await;
    let status = Arc::new(AtomicU16::new(500));
    let (addr, seen) = receiver(status.clone()).await;
    subscribe(&s, addr).await;
    create_cases(&s, 1).await;
    let (clock, ms) = manual_clock();
    let cfg = settings("w");
    let d = Deliverer::new(&cfg).unwrap();
    assert_eq!(deliver_once(&s, &d, &cfg, &clock).await.unwrap(), 1);
    let r = &s.deliveries(None, None, 10).await.unwrap()[0];
    assert_eq!(r.state, OutboxState::Pending);
    assert_eq!(r.last_error.as_deref(), Some("webhook answered HTTP 500"));
    assert_eq!(
        deliver_once(&s, &d, &cfg, &clock).await.unwrap(),
        0,
        "not before the backoff"
    );
    ms.fetch_add(10_000, Ordering::SeqCst); // first retry after 10 s
    assert_eq!(deliver_once(&s, &d, &cfg, &clock).await.unwrap(), 1);
    ms.fetch_add(10_000, Ordering::SeqCst);
    assert_eq!(
        deliver_once(&s, &d, &cfg, &clock).await.unwrap(),
        0,
        "the second retry waits 20 s"
    );
    ms.fetch_add(10_000, Ordering::SeqCst);
    assert_eq!(deliver_once(&s, &d, &cfg, &clock).await.unwrap(), 1);
    let dead = s
        .deliveries(None, Some(OutboxState::Dead), 10)
        .await
        .unwrap();
    assert_eq!(dead.len(), 1, "dead after 3 attempts");
    assert_eq!(s.delivery_attempts(dead[0].id).await.unwrap().len(), 3);
    status.store(200, Ordering::SeqCst);
    s.retry_delivery(dead[0].id, clock()).await.unwrap();
    assert!(
        s.retry_delivery(dead[0].id, clock()).await.is_err(),
        "only dead ones"
    );
    assert_eq!(deliver_once(&s, &d, &cfg, &clock).await.unwrap(), 1);
    assert_eq!(seen.lock().unwrap().len(), 1);
    s.close().await;
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_smtp(port: u16, dir: &std::path::Path) -> Option<std::process::Child> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_sink.py");
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .arg(port.to_string())
        .arg(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut()?),
        &mut line,
    )
    .ok()?;
    if line.trim() == "READY" {
        Some(child)
    } else {
        let _ = child.kill();
        None
    }
}

/// Email through a real SMTP server (aiosmtpd): down at first, so the
/// message is retried; delivered once when it comes back, with the case
/// reference in the subject.
#[tokio::test]
async fn email_waits_for_the_smtp_server_and_arrives_once() {
    let probe = tempfile::tempdir().unwrap();
    let port = free_port();
    match start_smtp(port, probe.path()) {
        Some(mut c) => {
            let _ = c.kill();
            let _ = c.wait();
        }
        None => {
            assert!(
                std::env::var("CI").is_err(),
                "aiosmtpd must be installed in CI"
            );
            eprintln!("skipped: the Python package aiosmtpd is not installed");
            return;
        }
    }
    for db in TestDatabase::all().await {
        let s = store(&db, Keyring::generate()).await;
        s.add_user_with_email(
            "rita",
            Role::Responder,
            Some("rita@example.org"),
            &hash_password("a long password here").unwrap(),
            t0(),
        )
        .await
        .unwrap();
        let (clock, ms) = manual_clock();
        let mut c: embargo_core::NewCase = serde_json::from_value(new_case("mail")).unwrap();
        c.reporter.contact = Some("reporter@example.net".into());
        let case = crate::recording()
            .create_case(&s, c, "cli", clock())
            .await
            .unwrap();
        crate::recording()
            .execute(
                &s,
                case.reference,
                &embargo_core::Command::Acknowledge {},
                "user:rita",
                clock(),
            )
            .await
            .unwrap();
        let port = free_port();
        let mut cfg = settings("mailer");
        cfg.smtp = Some(SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            security: SmtpSecurity::None,
            username: None,
            password: None,
            from: "embargo <security@example.org>".into(),
        });
        let d = Deliverer::new(&cfg).unwrap();
        // The server is down: both messages fail and wait.
        assert_eq!(
            deliver_once(&s, &d, &cfg, &clock).await.unwrap(),
            3,
            "{}",
            db.backend()
        );
        let pending = s
            .deliveries(None, Some(OutboxState::Pending), 10)
            .await
            .unwrap();
        assert_eq!(
            pending.len(),
            3,
            "a receipt and a status change for the reporter, a new report for the team"
        );
        assert!(pending.iter().all(|p| {
            p.last_error
                .as_deref()
                .is_some_and(|e| e.starts_with("smtp"))
        }));
        let inbox = tempfile::tempdir().unwrap();
        let mut server = start_smtp(port, inbox.path()).expect("smtp server starts");
        ms.fetch_add(10_000, Ordering::SeqCst);
        assert_eq!(deliver_once(&s, &d, &cfg, &clock).await.unwrap(), 3);
        ms.fetch_add(3_600_000, Ordering::SeqCst);
        assert_eq!(
            deliver_once(&s, &d, &cfg, &clock).await.unwrap(),
            0,
            "nothing twice"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        let _ = server.kill();
        let _ = server.wait();
        let mut mails: Vec<String> = std::fs::read_dir(inbox.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .map(|e| std::fs::read_to_string(e.path()).unwrap())
            .collect();
        mails.sort();
        assert_eq!(mails.len(), 3, "{}: {mails:?}", db.backend());
        let receipt = mails
            .iter()
            .find(|m| m.contains("We received your vulnerability report"))
            .expect("receipt");
        assert!(receipt.contains("X-Envelope-To: reporter@example.net"));
        assert!(receipt.contains(&format!("Subject: [{}] We received", case.reference)));
        let to_reporter = mails
            .iter()
            .find(|m| {
                m.contains("X-Envelope-To: reporter@example.net") && m.contains("Update on your")
            })
            .expect("reporter mail");
        assert!(
            to_reporter.contains(&format!(
                "Subject: [{}] Update on your vulnerability report",
                case.reference
            )),
            "{to_reporter}"
        );
        assert!(to_reporter.contains("From: embargo <security@example.org>"));
        assert!(
            to_reporter.contains(&format!(
                "Message-ID: <evt2-{}@embargo.invalid>",
                embargo_core::notify::email_key("reporter@example.net").replace(':', "-")
            )),
            "{to_reporter}"
        );
        assert!(to_reporter.contains("Content-Type: multipart/alternative"));
        let to_team = mails
            .iter()
            .find(|m| m.contains("X-Envelope-To: rita@example.org"))
            .expect("team mail");
        assert!(
            to_team.contains(&format!("Subject: [{}] New report", case.reference)),
            "{to_team}"
        );
        let log = s
            .deliveries(Some(&case.reference.to_string()), None, 10)
            .await
            .unwrap();
        assert!(
            log.iter()
                .all(|r| r.state == OutboxState::Delivered && r.delivered_at.is_some())
        );
        s.close().await;
    }
}

/// A team member who chose a daily digest for state changes gets one email a
/// day with every change in it, however often the digest is composed.
#[tokio::test]
async fn chosen_kinds_arrive_once_a_day_in_a_digest() {
    for db in TestDatabase::all().await {
        let s = store(&db, Keyring::generate()).await;
        let rita = s
            .add_user_with_email(
                "rita",
                Role::Responder,
                Some("rita@example.org"),
                &hash_password("a long password here").unwrap(),
                t0(),
            )
            .await
            .unwrap();
        let prefs = embargo_core::notify::Preferences {
            kinds: vec![NoticeKind::CaseCreated, NoticeKind::StateChanged],
            products: vec![],
            digest: vec![NoticeKind::StateChanged],
        };
        s.set_notifications(rita.id, Some("rita@example.org"), &prefs)
            .await
            .unwrap();
        let c: embargo_core::NewCase = serde_json::from_value(new_case("digest")).unwrap();
        let case = crate::recording()
            .create_case(&s, c, "cli", t0())
            .await
            .unwrap();
        for cmd in [
            embargo_core::Command::Acknowledge {},
            embargo_core::Command::StartTriage {},
        ] {
            crate::recording()
                .execute(&s, case.reference, &cmd, "user:rita", t0())
                .await
                .unwrap();
        }
        let to_rita = |all: Vec<embargo_store::DeliveryRecord>| {
            all.into_iter()
                .filter(|d| d.to == "rita@example.org")
                .collect::<Vec<_>>()
        };
        let immediate = to_rita(s.deliveries(None, None, 100).await.unwrap());
        assert_eq!(
            immediate.len(),
            1,
            "{}: only the new report right away",
            db.backend()
        );
        assert_eq!(immediate[0].kind, "case.created");
        assert_eq!(s.compose_digests(t0()).await.unwrap(), 1);
        assert_eq!(s.compose_digests(t0()).await.unwrap(), 0, "once");
        crate::recording()
            .execute(
                &s,
                case.reference,
                &embargo_core::Command::Accept {},
                "user:rita",
                t0(),
            )
            .await
            .unwrap();
        assert_eq!(
            s.compose_digests(t0() + TimeDelta::hours(1)).await.unwrap(),
            0,
            "one digest a day"
        );
        assert_eq!(
            s.compose_digests(t0() + TimeDelta::days(1)).await.unwrap(),
            1,
            "the next day's"
        );
        let claimed = s
            .claim_deliveries(
                "w",
                t0() + TimeDelta::days(1),
                t0() + TimeDelta::days(2),
                100,
            )
            .await
            .unwrap();
        let digests: Vec<_> = claimed
            .iter()
            .filter_map(|c| match &c.delivery {
                embargo_core::notify::Delivery::Email {
                    to, subject, text, ..
                } if c.idempotency_key.starts_with("digest:") => {
                    Some((to.clone(), subject.clone(), text.clone()))
                }
                _ => None,
            })
            .collect();
        assert_eq!(digests.len(), 2);
        assert_eq!(digests[0].1, "embargo digest for 2026-03-06: 2 updates");
        assert!(
            digests[0].2.contains("is now acknowledged")
                && digests[0].2.contains("is now being assessed"),
            "{}",
            digests[0].2
        );
        assert_eq!(digests[1].1, "embargo digest for 2026-03-07: 1 update");
        s.close().await;
    }
}

/// Email to a team member with an OpenPGP key goes out as PGP/MIME, and GnuPG
/// (an implementation embargo did not write) decrypts it.
#[tokio::test]
async fn email_to_a_keyed_recipient_is_encrypted_and_gnupg_decrypts_it() {
    let port = free_port();
    let inbox = tempfile::tempdir().unwrap();
    let Some(mut server) = start_smtp(port, inbox.path()) else {
        assert!(
            std::env::var("CI").is_err(),
            "aiosmtpd must be installed in CI"
        );
        eprintln!("skipped: the Python package aiosmtpd is not installed");
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let gpg = |args: &[&str]| {
        std::process::Command::new("gpg")
            .env("GNUPGHOME", home.path())
            .args([
                "--batch",
                "--quiet",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
            ])
            .args(args)
            .output()
    };
    let Ok(out) = gpg(&[
        "--quick-gen-key",
        "Rita <rita@example.org>",
        "default",
        "default",
        "never",
    ]) else {
        assert!(std::env::var("CI").is_err(), "gpg must be installed in CI");
        eprintln!("skipped: gpg is not installed");
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let public = String::from_utf8(
        gpg(&["--armor", "--export", "rita@example.org"])
            .unwrap()
            .stdout,
    )
    .unwrap();

    let db = TestDatabase::sqlite().unwrap();
    let s = store(&db, Keyring::generate()).await;
    let rita = s
        .add_user_with_email(
            "rita",
            Role::Responder,
            Some("rita@example.org"),
            &hash_password("a long password here").unwrap(),
            t0(),
        )
        .await
        .unwrap();
    assert!(s.set_pgp_key(rita.id, Some("not a key")).await.is_err());
    s.set_pgp_key(rita.id, Some(&public)).await.unwrap();
    let mut c: embargo_core::NewCase = serde_json::from_value(new_case("pgp")).unwrap();
    // The reporter gave the same key at intake: their receipt is encrypted too.
    c.reporter = embargo_core::Reporter {
        contact: Some("finder@example.org".into()),
        name: None,
        pgp_key: Some(public.clone()),
    };
    let case = crate::recording()
        .create_case(&s, c, "cli", t0())
        .await
        .unwrap();
    let (clock, _) = manual_clock();
    let mut cfg = settings("mailer");
    cfg.smtp = Some(SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::None,
        username: None,
        password: None,
        from: "security@example.org".into(),
    });
    let d = Deliverer::new(&cfg).unwrap();
    assert_eq!(deliver_once(&s, &d, &cfg, &clock).await.unwrap(), 2);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = server.kill();
    let _ = server.wait();
    let mails: Vec<String> = std::fs::read_dir(inbox.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    let decrypt = |mail: &str| -> String {
        assert!(mail.contains("multipart/encrypted"), "{mail}");
        let start = mail.find("-----BEGIN PGP MESSAGE-----").unwrap();
        let end =
            mail.find("-----END PGP MESSAGE-----").unwrap() + "-----END PGP MESSAGE-----".len();
        let file = home.path().join("reporter.asc");
        std::fs::write(&file, mail[start..end].replace("\r\n", "\n")).unwrap();
        let out = gpg(&["--decrypt", file.to_str().unwrap()]).unwrap();
        assert!(
            out.status.success(),
            "gpg: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let receipt = mails
        .iter()
        .find(|m| m.contains("X-Envelope-To: finder@example.org"))
        .expect("the reporter's receipt");
    assert!(
        !receipt.contains("thank you for your report"),
        "no plaintext"
    );
    assert!(decrypt(receipt).contains(&format!("recorded it as {}", case.reference)));
    let mail = mails
        .iter()
        .find(|m| m.contains("X-Envelope-To: rita@example.org"))
        .cloned()
        .expect("rita's mail");
    assert!(
        mail.contains("multipart/encrypted") && mail.contains("application/pgp-encrypted"),
        "{mail}"
    );
    assert!(!mail.contains("Product: Dock Certs"), "no plaintext body");
    let start = mail.find("-----BEGIN PGP MESSAGE-----").unwrap();
    let end = mail.find("-----END PGP MESSAGE-----").unwrap() + "-----END PGP MESSAGE-----".len();
    let armored = mail[start..end].replace("\r\n", "\n");
    let file = home.path().join("msg.asc");
    std::fs::write(&file, armored).unwrap();
    let out = gpg(&["--decrypt", file.to_str().unwrap()]).unwrap();
    assert!(
        out.status.success(),
        "gpg: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plain = String::from_utf8_lossy(&out.stdout);
    assert!(
        plain.contains(&format!("New report {}", case.reference)),
        "{plain}"
    );
    s.close().await;
}

/// The setup checklist on a new installation: every item still to do,
/// each with where it is fixed; the "send a test email" button queues a
/// message that reaches a real SMTP server, and the checklist then says so;
/// a backup confirmed by an admin ticks its item. Admins only.
#[tokio::test]
async fn the_setup_checklist_sends_a_test_email_that_arrives() {
    let port = free_port();
    let inbox = tempfile::tempdir().unwrap();
    let Some(mut server) = start_smtp(port, inbox.path()) else {
        assert!(
            std::env::var("CI").is_err(),
            "aiosmtpd must be installed in CI"
        );
        eprintln!("skipped: the Python package aiosmtpd is not installed");
        return;
    };
    for db in TestDatabase::all().await {
        let backend = db.backend();
        let app = crate::TestApp::start_with(
            db,
            embargo_server::ServerSettings {
                sends_email: true,
                ..embargo_server::ServerSettings::default()
            },
        )
        .await;
        let page = |token: &str| {
            let token = token.to_owned();
            let app = &app;
            async move {
                let r = app
                    .http
                    .get(app.url("/desk"))
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            }
        };
        let (status, html) = page(&app.admin).await;
        assert_eq!(status, 200);
        assert!(
            html.contains("Setup: 6 of 6 still to do"),
            "{backend}: {html}"
        );
        for fix in [
            "/desk/products",
            "/desk/account#second-factor",
            "#setup-email",
        ] {
            assert!(
                html.contains(&format!("<a href=\"{fix}\">Fix it</a>")),
                "{fix}"
            );
        }
        assert!(html.contains("Without one: admin."));
        let (_, html) = page(&app.responder).await;
        assert!(!html.contains("Setup:"), "the checklist is the admins'");

        let post = |path: &str, token: &str, form: &[(&str, &str)]| {
            app.http
                .post(app.url(path))
                .bearer_auth(token)
                .form(form)
                .send()
        };
        let r = post(
            "/desk/setup/test-email",
            &app.responder,
            &[("to", "a@example.org")],
        )
        .await
        .unwrap();
        assert_eq!(r.status().as_u16(), 403);
        let r = post(
            "/desk/setup/test-email",
            &app.admin,
            &[("to", "not an address")],
        )
        .await
        .unwrap();
        assert_eq!(r.status().as_u16(), 422);
        let r = post(
            "/desk/setup/test-email",
            &app.admin,
            &[("to", "admin@example.net")],
        )
        .await
        .unwrap();
        assert_eq!(r.status().as_u16(), 303);
        let (_, html) = page(&app.admin).await;
        assert!(html.contains("A test email is on its way"), "{html}");

        let mut cfg = settings("setup");
        cfg.smtp = Some(SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            security: SmtpSecurity::None,
            username: None,
            password: None,
            from: "embargo <security@example.org>".into(),
        });
        let d = Deliverer::new(&cfg).unwrap();
        let (clock, _) = manual_clock();
        assert_eq!(deliver_once(&app.store, &d, &cfg, &clock).await.unwrap(), 1);
        let (_, html) = page(&app.admin).await;
        assert!(html.contains("A test email was delivered"), "{html}");
        assert!(html.contains("Setup: 5 of 6 still to do"), "{html}");

        let r = post("/desk/setup/backups", &app.admin, &[]).await.unwrap();
        assert_eq!(r.status().as_u16(), 303);
        let (_, html) = page(&app.admin).await;
        assert!(
            html.contains("admin confirmed backups are taken outside embargo"),
            "{html}"
        );
        assert!(html.contains("Setup: 4 of 6 still to do"), "{html}");
        app.stop().await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = server.kill();
    let _ = server.wait();
    let mails: Vec<String> = std::fs::read_dir(inbox.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .filter(|m| m.contains("embargo: test email"))
        .collect();
    assert!(!mails.is_empty(), "the test email reached the SMTP server");
    assert!(
        mails
            .iter()
            .all(|m| m.contains("X-Envelope-To: admin@example.net"))
    );
}

/// The delivery log pages with a cursor and a total, newest first.
#[tokio::test]
async fn the_delivery_log_pages_with_a_cursor_and_a_total() {
    for db in TestDatabase::all().await {
        let app = crate::TestApp::start(db).await;
        let deliveries: Vec<(String, &'static str, embargo_core::notify::Delivery)> = (0..5)
            .map(|i| {
                (
                    format!("page-test-{i}"),
                    "setup.test_email",
                    embargo_core::notify::Delivery::Email {
                        to: format!("r{i}@example.org"),
                        subject: "s".into(),
                        text: "t".into(),
                        html: String::new(),
                        encrypted: false,
                        attachments: Vec::new(),
                    },
                )
            })
            .collect();
        app.store.queue_deliveries(&deliveries, t0()).await.unwrap();
        let mut seen = Vec::new();
        let mut cursor = String::new();
        loop {
            let (status, page) = app
                .get(
                    &app.admin,
                    &format!("/api/v1/deliveries?limit=2&cursor={cursor}"),
                )
                .await;
            assert_eq!(status, 200, "{page}");
            assert_eq!(page["total"], 5);
            let ids: Vec<i64> = page["deliveries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["id"].as_i64().unwrap())
                .collect();
            assert!(ids.len() <= 2);
            seen.extend(ids);
            match page["next_cursor"].as_str() {
                Some(next) => cursor = next.to_owned(),
                None => break,
            }
        }
        assert_eq!(seen.len(), 5);
        assert!(
            seen.windows(2).all(|w| w[0] > w[1]),
            "newest first: {seen:?}"
        );
        let (status, _) = app.get(&app.admin, "/api/v1/deliveries?cursor=abc").await;
        assert_eq!(status, 400);
        app.stop().await;
    }
}
