//! Several `embargo serve` processes on one PostgreSQL database, as a
//! deployment with two instances runs: each message goes out once even when
//! receivers answer slowly, a `kill -9` repeats at most the message in
//! flight, SIGTERM hands back what was claimed and exits promptly, and clock
//! escalations are raised once each.

use std::collections::BTreeMap;
use std::process::Child;
use std::time::{Duration, Instant};

use embargo_store::testing::TestDatabase;
use serde_json::{Value, json};

use crate::receivers::{Received, fixed, slow_smtp, slow_webhook};
use crate::{Installation, assert_all_present, audit_verifies, install, kill9, stop, unavailable};

/// A lease of 3 s and a send timeout of 1 s: with 10 messages claimed at a
/// time, a receiver answering in 0.35 s is slower than lease ÷ batch, so a
/// worker that did not renew its lease would lose the tail of its batch to
/// the other server while still sending the head.
const ENV: [(&str, &str); 3] = [
    ("EMBARGO_DELIVERY_LEASE_SECONDS", "3"),
    ("EMBARGO_DELIVERY_TIMEOUT_SECONDS", "1"),
    ("EMBARGO_ESCALATION_INTERVAL_SECONDS", "1"),
];
const LATENCY: Duration = Duration::from_millis(350);

/// One installation on a fresh PostgreSQL database, with email to a slow
/// SMTP server, and a slow webhook receiver subscribed to every kind once a
/// server runs (see [`subscribe`]).
pub struct Deployment {
    pub inst: Installation,
    pub hook: String,
    pub web: Received,
    pub mail: Received,
}

impl Deployment {
    /// `None` (having said why) when no PostgreSQL is configured; under
    /// `CI=true` that fails the test instead.
    pub async fn new(
        web_latency: crate::receivers::Latency,
        mail_latency: crate::receivers::Latency,
    ) -> Option<Self> {
        let Some(db) = TestDatabase::postgres().await.unwrap() else {
            unavailable("EMBARGO_TEST_POSTGRES_URL is not set: several instances need PostgreSQL");
            return None;
        };
        let inst = install(Some(db));
        Some(Self::on(inst, web_latency, mail_latency).await)
    }

    /// The receivers, and `inst`'s configuration sending email to the SMTP one.
    pub async fn on(
        inst: Installation,
        web_latency: crate::receivers::Latency,
        mail_latency: crate::receivers::Latency,
    ) -> Self {
        let (hook, web) = slow_webhook(web_latency).await;
        let (smtp, mail) = slow_smtp(mail_latency).await;
        let mut config = std::fs::read_to_string(inst.config()).unwrap();
        config.push_str(&format!(
            "\n[smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\nfrom = \"Security <security@example.org>\"\n",
            smtp.port()
        ));
        std::fs::write(inst.config(), config).unwrap();
        Deployment {
            inst,
            hook,
            web,
            mail,
        }
    }
}

/// Subscribes the receiver to every kind of notice.
pub async fn subscribe(url: &str, token: &str, hook: &str) {
    let r = reqwest::Client::new()
        .post(format!("{url}/api/v1/webhooks"))
        .bearer_auth(token)
        .json(&json!({"name": "slow receiver", "url": hook, "kinds": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
}

/// Creates `count` cases, alternately through each server, eight at a time;
/// each has a reporter address (a receipt by email) and every fifth a
/// disclosure deadline `deadline_in` from now (an escalation soon). Returns
/// the references acknowledged with 201, and those with a deadline.
async fn create_cases(
    urls: &[String],
    token: &str,
    count: usize,
    deadline_in: chrono::Duration,
) -> (Vec<String>, Vec<String>) {
    let http = reqwest::Client::new();
    let mut created = Vec::new();
    let mut with_deadline = Vec::new();
    for chunk in (0..count).collect::<Vec<_>>().chunks(8) {
        let sent: Vec<_> = chunk
            .iter()
            .map(|&i| {
                let url = urls[i % urls.len()].clone();
                let http = http.clone();
                let token = token.to_owned();
                async move {
                    let mut body = json!({
                        "title": format!("report {i}"),
                        "product": "Dock Certs",
                        "reporter": {"contact": format!("reporter{i}@example.org")},
                        "report": {"summary": "s", "description": "d"}
                    });
                    let deadline = i % 5 == 0;
                    if deadline {
                        #[allow(clippy::disallowed_methods)]
                        let at = chrono::Utc::now() + deadline_in;
                        body["reporter_deadline"] = json!(at.to_rfc3339());
                    }
                    let r = http
                        .post(format!("{url}/api/v1/cases"))
                        .bearer_auth(&token)
                        .json(&body)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status().as_u16(), 201);
                    let v: Value = r.json().await.unwrap();
                    (v["reference"].as_str().unwrap().to_owned(), deadline)
                }
            })
            .map(tokio::spawn)
            .collect();
        for task in sent {
            let (reference, deadline) = task.await.unwrap();
            if deadline {
                with_deadline.push(reference.clone());
            }
            created.push(reference);
        }
    }
    (created, with_deadline)
}

/// Every delivery in the outbox (at most 1,000).
pub async fn deliveries(url: &str, token: &str) -> Vec<Value> {
    let (status, v) = crate::get_json(url, token, "/api/v1/deliveries?limit=1000").await;
    assert_eq!(status, 200, "{v}");
    v["deliveries"].as_array().unwrap().clone()
}

/// Waits until nothing is pending or being delivered, up to `patience`;
/// returns the deliveries.
pub async fn drained(url: &str, token: &str, patience: Duration) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let all = deliveries(url, token).await;
        let open: Vec<&Value> = all
            .iter()
            .filter(|d| d["state"] == "pending" || d["state"] == "delivering")
            .collect();
        if open.is_empty() {
            return all;
        }
        assert!(
            start.elapsed() < patience,
            "{} deliveries still open after {patience:?}: {:?}",
            open.len(),
            open.iter().take(3).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The key each delivery reaches its receiver under: `Embargo-Delivery` for
/// a webhook, the Message-ID (derived from the same key) for an email.
pub fn receiver_key(d: &Value) -> (String, String) {
    let key = d["idempotency_key"].as_str().unwrap();
    let channel = d["channel"].as_str().unwrap().to_owned();
    if channel == "email" {
        (channel, embargo_core::notify::message_id(key))
    } else {
        (channel, key.to_owned())
    }
}

/// Checks every delivery reached its receiver; returns the messages that
/// arrived more than once (webhooks and emails), with how many times.
pub fn check_each_arrived(all: &[Value], web: &Received, mail: &Received) -> BTreeMap<String, u32> {
    let (web_counts, mail_counts) = (web.counts(), mail.counts());
    let mut channels = BTreeMap::<String, usize>::new();
    for d in all {
        assert_eq!(d["state"], "delivered", "{d}");
        let (channel, key) = receiver_key(d);
        *channels.entry(channel.clone()).or_default() += 1;
        let counts = if channel == "email" {
            &mail_counts
        } else {
            &web_counts
        };
        assert!(
            counts.get(&key).is_some_and(|n| *n >= 1),
            "{key} ({channel}) never arrived"
        );
    }
    assert!(
        channels.get("webhook").is_some_and(|n| *n > 0),
        "{channels:?}"
    );
    assert!(
        channels.get("email").is_some_and(|n| *n > 0),
        "{channels:?}"
    );
    let expected: u32 = u32::try_from(all.len()).unwrap();
    let mut repeated = web.repeated();
    repeated.extend(mail.repeated());
    let extra: u32 = repeated.values().map(|n| n - 1).sum();
    assert_eq!(
        web.total() + mail.total(),
        expected + extra,
        "the receivers got something the outbox does not hold"
    );
    repeated
}

/// Every case with a deadline has exactly one breach of the reporter's
/// deadline, and at most one warning, though both servers check the clocks.
async fn escalated_once(url: &str, token: &str, with_deadline: &[String]) {
    for reference in with_deadline {
        let start = Instant::now();
        loop {
            let (status, case) =
                crate::get_json(url, token, &format!("/api/v1/cases/{reference}")).await;
            assert_eq!(status, 200);
            let count = |kind: &str| {
                case["history"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|e| e["kind"] == kind && e["clock"] == "reporter-deadline")
                    .count()
            };
            let (breaches, warnings) = (count("clock_breached"), count("clock_warning"));
            assert!(
                breaches <= 1 && warnings <= 1,
                "{reference}: {breaches} breaches, {warnings} warnings"
            );
            if breaches == 1 {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "{reference} never breached: {case}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// Two servers from one configuration, receivers slower than lease ÷ batch,
/// no crash: no message is sent twice and none is lost; each escalation is
/// raised once. (Before messages were fenced per claim, a worker sent the
/// tail of a batch after its lease had run out while the other server sent
/// it too: 28 of 70 webhooks twice with a 0.5 s receiver.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_with_slow_receivers_send_each_message_once() {
    const CASES: usize = 120;
    let Some(dep) = Deployment::new(fixed(LATENCY), fixed(LATENCY)).await else {
        return;
    };
    let (mut a, url_a) = dep.inst.serve_with(&ENV);
    let (mut b, url_b) = dep.inst.serve_with(&ENV);
    subscribe(&url_a, &dep.inst.token, &dep.hook).await;
    let (created, with_deadline) = create_cases(
        &[url_a.clone(), url_b.clone()],
        &dep.inst.token,
        CASES,
        chrono::Duration::seconds(15),
    )
    .await;
    escalated_once(&url_b, &dep.inst.token, &with_deadline).await;
    let all = drained(&url_a, &dep.inst.token, Duration::from_secs(240)).await;
    let repeated = check_each_arrived(&all, &dep.web, &dep.mail);
    assert!(repeated.is_empty(), "sent more than once: {repeated:?}");
    let attempts: Vec<i64> = all
        .iter()
        .map(|d| d["attempts"].as_i64().unwrap())
        .collect();
    assert!(
        attempts.iter().all(|n| *n == 1),
        "every message sent at its first attempt: {attempts:?}"
    );
    let workers = workers_of(&dep.inst).await;
    // Each server's jobs, registered in one place, report in /readyz.
    let ready = reqwest::get(format!("{url_b}/readyz")).await.unwrap();
    assert_eq!(ready.status().as_u16(), 200);
    let ready = ready.text().await.unwrap();
    for job in ["delivery", "digests", "escalation", "rematch", "sessions"] {
        assert!(ready.contains(&format!("job {job}: running")), "{ready}");
    }
    stop(&mut a);
    stop(&mut b);
    eprintln!(
        "two servers: {} cases, {} deliveries ({} webhooks, {} emails) each received once; \
         sent by {workers} servers; {} escalations; {}",
        created.len(),
        all.len(),
        dep.web.total(),
        dep.mail.total(),
        with_deadline.len(),
        audit_verifies(&dep.inst)
    );
    assert_eq!(workers, 2, "both servers delivered");
}

/// How many distinct workers recorded attempts.
async fn workers_of(inst: &Installation) -> i64 {
    sql_count(inst, "SELECT COUNT(DISTINCT worker) FROM outbox_attempts").await
}

/// The number a `SELECT COUNT(…)` answers on the installation's database.
pub async fn sql_count(inst: &Installation, sql: &str) -> i64 {
    use sqlx::{Connection, Row};
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&database_url(inst))
        .await
        .unwrap();
    let n: i64 = sqlx::query(sql).fetch_one(&mut conn).await.unwrap().get(0);
    conn.close().await.unwrap();
    n
}

/// The installation's database URL (a SQLite path made absolute).
pub fn database_url(inst: &Installation) -> String {
    sqlx::any::install_default_drivers();
    let url = std::fs::read_to_string(inst.config())
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("database_url = "))
        .unwrap()
        .trim_matches('"')
        .to_owned();
    // A SQLite path in the file is relative to the file.
    match url.strip_prefix("sqlite://") {
        Some(path) if !path.starts_with('/') => {
            format!("sqlite://{}", inst.dir.path().join(path).display())
        }
        _ => url,
    }
}

/// The same with one server killed (`kill -9`) mid-burst and restarted: no
/// acknowledged case lost, every message delivered, and a message at most
/// once more than once — the one the killed server was sending (it cannot
/// record a send it made), which receivers recognise by its key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_burst_repeats_at_most_the_message_in_flight() {
    const CASES: usize = 120;
    let Some(dep) = Deployment::new(fixed(LATENCY), fixed(LATENCY)).await else {
        return;
    };
    let (mut a, url_a) = dep.inst.serve_with(&ENV);
    let (b, url_b) = dep.inst.serve_with(&ENV);
    subscribe(&url_a, &dep.inst.token, &dep.hook).await;
    let (created, with_deadline) = create_cases(
        &[url_a.clone(), url_b.clone()],
        &dep.inst.token,
        CASES,
        chrono::Duration::seconds(30),
    )
    .await;
    // Mid-burst: deliveries are under way on both servers.
    let start = Instant::now();
    while dep.web.total() + dep.mail.total() < 40 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "deliveries never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut b = b;
    kill9(&mut b);
    let (mut b, _) = dep.inst.serve_with(&ENV);
    escalated_once(&url_a, &dep.inst.token, &with_deadline).await;
    let all = drained(&url_a, &dep.inst.token, Duration::from_secs(240)).await;
    assert_all_present(&dep.inst, &url_a, &created).await;
    let repeated = check_each_arrived(&all, &dep.web, &dep.mail);
    assert!(
        repeated.len() <= 1 && repeated.values().all(|n| *n == 2),
        "only the message in flight at the kill may arrive twice: {repeated:?}"
    );
    stop(&mut a);
    stop(&mut b);
    eprintln!(
        "kill -9 of one of two servers: {} cases, {} deliveries, repeated: {repeated:?}; {}",
        created.len(),
        all.len(),
        audit_verifies(&dep.inst)
    );
}

/// SIGTERM during a burst of deliveries to a slow receiver: the server exits
/// within 10 s, leaves no message claimed, and after a restart every
/// acknowledged notice is delivered exactly once. On both stores.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_burst_hands_back_what_was_claimed_and_exits_promptly() {
    let mut installs = vec![install(None)];
    match TestDatabase::postgres().await.unwrap() {
        Some(db) => installs.push(install(Some(db))),
        None => {
            unavailable("EMBARGO_TEST_POSTGRES_URL is not set: the PostgreSQL half of this test")
        }
    }
    for inst in installs {
        let dep = Deployment::on(
            inst,
            fixed(Duration::from_millis(300)),
            fixed(Duration::from_millis(300)),
        )
        .await;
        let (mut a, url) = dep.inst.serve_with(&ENV);
        subscribe(&url, &dep.inst.token, &dep.hook).await;
        let (created, _) = create_cases(
            std::slice::from_ref(&url),
            &dep.inst.token,
            30,
            chrono::Duration::days(30),
        )
        .await;
        while dep.web.total() + dep.mail.total() < 5 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let asked = Instant::now();
        let exit = terminate(&mut a);
        let took = asked.elapsed();
        assert!(exit.success(), "exit status {exit}");
        assert!(took < Duration::from_secs(10), "took {took:?} to stop");
        // Nothing left claimed: the rest of the batch was handed back.
        assert_eq!(
            sql_count(
                &dep.inst,
                "SELECT COUNT(*) FROM outbox WHERE state = 'delivering'"
            )
            .await,
            0,
            "a message was left claimed by the stopped server"
        );
        let (mut a, url) = dep.inst.serve_with(&ENV);
        let all = drained(&url, &dep.inst.token, Duration::from_secs(120)).await;
        let repeated = check_each_arrived(&all, &dep.web, &dep.mail);
        assert!(repeated.is_empty(), "sent more than once: {repeated:?}");
        assert_all_present(&dep.inst, &url, &created).await;
        stop(&mut a);
        eprintln!(
            "SIGTERM mid-burst: stopped in {took:?}; {} deliveries each received once afterwards",
            all.len()
        );
    }
}

/// Sends SIGTERM and waits for the exit (at most 30 s, then `kill -9`).
fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > Duration::from_secs(30) {
            kill9(child);
            panic!("still running 30 s after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
