//! Policy clocks in the API, scope rules, published documents, metrics, and
//! the escalation scheduler on two instances at once.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::TimeDelta;
use embargo_core::EventKind;
use embargo_core::crypto::Keyring;
use embargo_core::policy::{Policy, PolicySet, presets};
use embargo_server::ServerSettings;
use embargo_server::escalation::escalate_once;
use embargo_store::Store;
use embargo_store::testing::TestDatabase;
use serde_json::{Value, json};

use crate::{TestApp, each_backend, new_case, t0};

fn settings(preset: &str) -> ServerSettings {
    ServerSettings {
        policies: Arc::new(
            PolicySet::new(vec![Policy::parse(presets::get(preset).unwrap()).unwrap()]).unwrap(),
        ),
        public_url: "https://security.example.org".into(),
        ..ServerSettings::default()
    }
}

#[tokio::test]
async fn a_case_shows_its_policy_clocks() {
    for db in TestDatabase::all().await {
        let app = TestApp::start_with(db, settings("opensecops")).await;
        // The test clock stands at Friday 2026-03-06 17:00 UTC.
        assert_eq!(
            app.post(&app.responder, "/api/v1/cases", &new_case("a"))
                .await
                .0,
            201
        );
        let (status, detail) = app.get(&app.viewer, "/api/v1/cases/EMB-2026-0001").await;
        assert_eq!(status, 200);
        assert_eq!(detail["policy"], "opensecops");
        let clocks: HashMap<String, Value> = detail["clocks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["id"].as_str().unwrap().to_owned(), c.clone()))
            .collect();
        assert_eq!(
            clocks["acknowledgement"]["status"], "running",
            "{}",
            app.backend
        );
        assert_eq!(clocks["acknowledgement"]["due_at"], "2026-03-07T17:00:00Z");
        assert_eq!(
            clocks["preliminary-assessment"]["due_at"],
            "2026-03-11T17:00:00Z"
        );
        assert_eq!(clocks["preliminary-assessment"]["measure"], "business");
        app.stop().await;
    }
}

#[tokio::test]
async fn closing_with_a_scope_rule_gives_the_reporter_its_text() {
    for db in TestDatabase::all().await {
        let app = TestApp::start_with(db, settings("segura")).await;
        assert_eq!(
            app.post(&app.responder, "/api/v1/cases", &new_case("cert"))
                .await
                .0,
            201
        );
        let path = "/api/v1/cases/EMB-2026-0001/transitions";
        app.post(&app.responder, path, &json!({"action": "start_triage"}))
            .await;
        let (status, err) = app
            .post(
                &app.responder,
                path,
                &json!({"action": "not_a_vulnerability", "rule": "cosmic-rays"}),
            )
            .await;
        assert_eq!(
            (status, err["error"]["field"].as_str()),
            (422, Some("rule")),
            "{err}"
        );
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap()
                .contains("self-signed-certificate")
        );
        let (status, out) = app
            .post(
                &app.responder,
                path,
                &json!({"action": "not_a_vulnerability", "rule": "self-signed-certificate"}),
            )
            .await;
        assert_eq!(status, 200, "{out}");
        assert_eq!(out["case"]["state"], "not_a_vulnerability");
        assert!(
            out["case"]["reason"]
                .as_str()
                .unwrap()
                .starts_with("A self-signed digital certificate is not considered")
        );
        assert_eq!(out["events"][0]["rule"], "self-signed-certificate");
        app.stop().await;
    }
}

#[tokio::test]
async fn security_txt_and_the_policy_page_are_served_and_valid() {
    // The real clock: the validator compares Expires with today.
    let app = TestApp::start_with_clock(
        TestDatabase::sqlite().unwrap(),
        settings("opensecops"),
        embargo_server::system_clock(),
    )
    .await;
    let r = app
        .http
        .get(app.url("/.well-known/security.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let body = r.text().await.unwrap();
    assert!(body.contains("Contact: mailto:security@opensecops.org"));
    #[allow(clippy::disallowed_methods)]
    let expected = (chrono::Utc::now() + TimeDelta::days(180))
        .format("Expires: %Y-%m-%d")
        .to_string();
    assert!(body.contains(&expected), "180 days ahead:\n{body}");
    validate_with_sectxt(&body);

    let page = app
        .http
        .get(app.url("/policy"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Acknowledge receipt of your report within 24 hours"));
    assert!(!page.contains("<script"));
    assert!(
        page.contains("<link rel=\"stylesheet\" href=\"/static/embargo.css\">"),
        "styled like the other public pages"
    );
    assert!(
        page.contains("<a class=\"button\" href=\"/report\">Report a vulnerability privately</a>"),
        "leads to the form"
    );
    assert_eq!(page.matches("<h1>").count(), 1, "{page}");
    app.stop().await;
}

/// Runs the independent validator `sectxt` (PyPI) on the file. In CI it must
/// be installed (`.ci/run` installs it); elsewhere the check is skipped with
/// a message when it is missing.
fn validate_with_sectxt(body: &str) {
    let script = r#"
import sys
try:
    from sectxt import Parser
except ImportError:
    print("MISSING")
    sys.exit(0)
p = Parser(sys.stdin.buffer.read(), is_local=True)
for e in p.errors:
    print("ERROR", e)
for r in p.recommendations:
    print("RECOMMENDATION", r)
print("VALID" if p.is_valid() else "INVALID")
"#;
    let mut child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), body.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    if text.trim() == "MISSING" {
        assert!(
            std::env::var("CI").is_err(),
            "sectxt must be installed in CI"
        );
        eprintln!("skipped: the Python package sectxt is not installed");
        return;
    }
    assert!(
        text.contains("VALID") && !text.contains("INVALID") && !text.contains("ERROR"),
        "sectxt says:\n{text}\nfor:\n{body}"
    );
}

#[tokio::test]
async fn every_presets_security_txt_passes_sectxt_and_http_is_refused() {
    for (name, _) in presets::ALL {
        let mut with_path = settings(name);
        // Canonical stays at the origin when embargo lives under a path.
        with_path.public_url = "https://security.example.org/psirt".into();
        // Expires is checked against the real date.
        let app = TestApp::start_with_clock(
            TestDatabase::sqlite().unwrap(),
            with_path,
            embargo_server::system_clock(),
        )
        .await;
        let body = app
            .http
            .get(app.url("/.well-known/security.txt"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            body.contains("Canonical: https://security.example.org/.well-known/security.txt\n"),
            "{name}:\n{body}"
        );
        assert!(!body.contains("example.org/policy\nContact"), "{name}");
        validate_with_sectxt(&body);
        app.stop().await;
    }
    let mut plain = settings("opensecops");
    plain.public_url = "http://security.example.org".into();
    let app = TestApp::start_with(TestDatabase::sqlite().unwrap(), plain).await;
    let r = app
        .http
        .get(app.url("/.well-known/security.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 503);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("must be served over https")
    );
    app.stop().await;
}

#[tokio::test]
async fn clock_metrics_report_share_met_and_percentiles() {
    each_backend(|app| async move {
        // The default preset: acknowledgement within 24 hours. The API's
        // clock is fixed, so acknowledge via the store at chosen instants.
        for (i, hours) in [(0, 2), (1, 30)] {
            let (status, _) = app
                .post(&app.responder, "/api/v1/cases", &new_case(&format!("m{i}")))
                .await;
            assert_eq!(status, 201);
            let reference = format!("EMB-2026-000{}", i + 1).parse().unwrap();
            crate::recording()
                .execute(
                    &app.store,
                    reference,
                    &embargo_core::Command::Acknowledge {},
                    "cli",
                    t0() - TimeDelta::hours(48) + TimeDelta::hours(hours),
                )
                .await
                .ok();
        }
        let (status, m) = app.get(&app.viewer, "/api/v1/metrics/clocks").await;
        assert_eq!(status, 200, "{m}");
        let ack = m["clocks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["clock"] == "acknowledgement")
            .unwrap()
            .clone();
        assert_eq!(ack["period"], "2026-03");
        assert_eq!(ack["started"], 2, "{ack}");
        let (status, _) = app
            .get(
                &app.viewer,
                "/api/v1/metrics/clocks?from=2027-01-01T00:00:00Z",
            )
            .await;
        assert_eq!(status, 200);
        let (status, _) = app
            .get(&app.viewer, "/api/v1/metrics/clocks?from=yesterday")
            .await;
        assert_eq!(status, 400);
    })
    .await;
}

/// Two instances (two stores with their own pools on one database) run the
/// scheduler at the same instants: every warning and every breach is raised
/// once, with one outbox message each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_raise_each_warning_and_breach_exactly_once() {
    for db in TestDatabase::all().await {
        let keyring = Keyring::generate();
        let a = Store::connect(&db.url, keyring.clone()).await.unwrap();
        a.migrate(t0()).await.unwrap();
        let b = Store::connect(&db.url, keyring).await.unwrap();
        a.add_webhook(
            "ops",
            "https://hooks.example/ops",
            embargo_core::notify::WebhookFormat::Embargo,
            &[
                embargo_core::notify::NoticeKind::ClockWarning,
                embargo_core::notify::NoticeKind::ClockBreached,
            ],
            &[],
            None,
            "a-long-enough-secret",
            t0(),
        )
        .await
        .unwrap();
        let policies = PolicySet::new(vec![
            Policy::parse(presets::get("opensecops").unwrap()).unwrap(),
        ])
        .unwrap();
        let mut references = Vec::new();
        for i in 0..12 {
            let mut c: embargo_core::NewCase =
                serde_json::from_value(new_case(&format!("c{i}"))).unwrap();
            c.title = format!("case {i}");
            references.push(
                crate::recording()
                    .create_case(&a, c, "cli", t0())
                    .await
                    .unwrap()
                    .reference,
            );
        }
        // Acknowledge a few, so only some clocks escalate.
        for r in references.iter().take(3) {
            crate::recording()
                .execute(
                    &a,
                    *r,
                    &embargo_core::Command::Acknowledge {},
                    "cli",
                    t0() + TimeDelta::hours(1),
                )
                .await
                .unwrap();
        }
        // Walk time forward past warnings and deadlines, both instances at once.
        for hours in [10, 19, 20, 25, 30, 24 * 4 + 12, 24 * 5, 24 * 6] {
            let now = t0() + TimeDelta::hours(hours);
            let (ra, rb) = tokio::join!(
                escalate_once(&a, &policies, now),
                escalate_once(&b, &policies, now)
            );
            ra.unwrap();
            rb.unwrap();
        }
        let mut seen: HashMap<(String, String, String), u32> = HashMap::new();
        for r in &references {
            for e in a.history(*r).await.unwrap() {
                if let EventKind::ClockWarning { clock, .. }
                | EventKind::ClockBreached { clock, .. } = &e.kind
                {
                    *seen
                        .entry((r.to_string(), clock.clone(), e.kind.name().to_owned()))
                        .or_default() += 1;
                }
            }
        }
        assert!(seen.values().all(|n| *n == 1), "{}: {seen:?}", db.backend());
        // 12 cases: assessment warns and breaches on all 12; acknowledgement on the 9 not acknowledged.
        let count = |kind: &str, clock: &str| {
            seen.keys()
                .filter(|(_, c, k)| k == kind && c == clock)
                .count()
        };
        assert_eq!(
            count("clock_warning", "acknowledgement"),
            9,
            "{}",
            db.backend()
        );
        assert_eq!(count("clock_breached", "acknowledgement"), 9);
        assert_eq!(count("clock_warning", "preliminary-assessment"), 12);
        assert_eq!(count("clock_breached", "preliminary-assessment"), 12);
        let mut outbox = a.deliveries(None, None, 10_000).await.unwrap();
        // The reporter got a receipt for each case and heard of the three acknowledgements.
        assert_eq!(
            outbox.iter().filter(|d| d.channel == "email").count(),
            12 + 3
        );
        outbox.retain(|d| d.channel == "webhook");
        assert_eq!(
            outbox.len(),
            seen.len(),
            "one webhook delivery per escalation ({}): {:?}",
            db.backend(),
            outbox
                .iter()
                .map(|d| (
                    d.idempotency_key.clone(),
                    d.kind.clone(),
                    d.case_ref.clone()
                ))
                .collect::<Vec<_>>()
        );
        a.verify().await.unwrap();
        a.close().await;
        b.close().await;
    }
}
