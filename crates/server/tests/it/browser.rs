//! The public pages in a real browser: Debian's Chromium driven by
//! playwright-core (`tests/browser/public_pages.cjs`). A report goes through
//! the form, the reporter replies from their private page, and the policy,
//! the security center, an advisory and the calculator are read. Every page
//! passes axe-core with no serious or critical violation, and a
//! Content-Security-Policy violation reported by the browser fails the
//! test. Screenshots land in `target/screenshots/`.
//!
//! Outside CI, a missing Chromium, node or playwright-core skips the test
//! with a message; `.ci/run` installs them.

use serde_json::{Value, json};

use crate::each_backend;
use crate::promises::{Desk, at};
use embargo_store::testing::TestDatabase;

fn browser_available() -> bool {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let node = std::process::Command::new("node")
        .args(["-e", "require('playwright-core'); require('axe-core')"])
        .output()
        .is_ok_and(|o| o.status.success());
    std::path::Path::new(&chromium).exists() && node
}

/// Whether the browser tests can run; outside CI a missing browser skips
/// them with a message, under `CI=true` it fails (`.ci/run` installs it).
fn browser_or_skip() -> bool {
    if browser_available() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "Chromium, node, playwright-core and axe-core are installed by .ci/run"
    );
    eprintln!("skipped: Chromium or playwright-core/axe-core (NODE_PATH) is missing");
    false
}

/// Where the browser tests leave their screenshots.
fn screenshots() -> std::path::PathBuf {
    let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    shots
}

/// Runs `tests/browser/SCRIPT` under node with `args` and the screenshot
/// directory last; returns the JSON report it prints. The browser talks to
/// the server this runtime serves, so node runs on a blocking thread.
async fn run_script(script: &str, args: Vec<String>) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/browser")
        .join(script);
    let shots = screenshots();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(path)
            .args(args)
            .arg(shots)
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Every browser report: no script error, no CSP report, no serious or
/// critical axe-core violation, and `pages` pages checked.
fn assert_clean(report: &Value, pages: usize) {
    assert_eq!(report["errors"], json!([]), "{report:#}");
    assert_eq!(
        report["csp"],
        json!([]),
        "Content-Security-Policy violations: {report:#}"
    );
    assert_eq!(report["violations"], json!([]), "axe-core: {report:#}");
    assert_eq!(
        report["pages"].as_array().unwrap().len(),
        pages,
        "{report:#}"
    );
}

#[tokio::test]
async fn the_public_pages_work_in_chromium_and_pass_axe() {
    if !browser_or_skip() {
        return;
    }
    each_backend(|app| async move {
        if app.backend != "sqlite" {
            return; // the pages are the same on both stores
        }
        // A published advisory to read.
        let (_, case) = app.post(&app.responder, "/api/v1/cases", &crate::new_case("browser")).await;
        let reference = case["reference"].as_str().unwrap().to_owned();
        let draft = json!({
            "id": "EMB-2026-0100", "title": "Cross-site scripting in the search page",
            "summary": "A crafted query runs script in the viewer's session",
            "description": "Details.",
            "affected": [{"vendor": "Example", "product": "Dock Certs", "ranges": [{"fixed": "2.0.1"}]}],
            "cvss": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", "cwe": "CWE-79"
        });
        let r = app.http.put(app.url(&format!("/api/v1/cases/{reference}/advisory")))
            .bearer_auth(&app.responder).json(&draft).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        for action in ["acknowledge", "start_triage", "accept", "start_fix", "fix_available"] {
            let (status, _) = app
                .post(&app.responder, &format!("/api/v1/cases/{reference}/transitions"), &json!({"action": action}))
                .await;
            assert_eq!(status, 200);
        }
        let (status, _) = app
            .post(&app.responder, &format!("/api/v1/cases/{reference}/advisory/publish"), &json!({}))
            .await;
        assert_eq!(status, 200);

        let report = run_script("public_pages.cjs", vec![app.url(""), "EMB-2026-0100".into()]).await;
        assert_clean(&report, 13);
        let shots = screenshots();
        assert!(shots.join("report-form.png").exists());
        assert!(shots.join("dark-policy.png").exists(), "the dark mode screenshot");
    })
    .await;
}

/// The team's pages in Chromium (`tests/browser/team_pages.cjs`): sign in
/// with the keyboard; a reporter sends a report through the public form; the
/// responder acknowledges and triages it, replies, and the reporter reads
/// the reply through the private link; the calculator scores live; the case
/// is accepted and fixed; the advisory is drafted, published and found on
/// `/advisories`. axe-core on every page, no CSP violation, nothing wider
/// than 360 px, and screenshots under `target/screenshots/`.
#[tokio::test]
async fn the_team_works_a_case_from_report_to_advisory_in_chromium() {
    if !browser_or_skip() {
        return;
    }
    each_backend(|app| async move {
        if app.backend != "sqlite" {
            return; // the pages are the same on both stores
        }
        let product = json!({"id": "dock-certs", "name": "Dock Certs", "owner": "Platform team",
            "deployment": "both", "exposure": "internet_facing"});
        let (status, _) = app.post(&app.admin, "/api/v1/products", &product).await;
        assert_eq!(status, 201);
        // A release with a scanner finding, so the findings page has a row and its form.
        let lock = json!({"name": "web", "lockfileVersion": 3, "packages": {
            "": {"name": "web"}, "node_modules/left-pad": {"version": "1.3.0"}}});
        let r = app.http.post(app.url("/api/v1/products/dock-certs/releases/2.4.0/sbom?filename=package-lock.json"))
            .bearer_auth(&app.responder).body(lock.to_string()).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let sarif = json!({"version": "2.1.0", "runs": [{
            "tool": {"driver": {"name": "semgrep", "rules": [{"id": "sqli", "properties": {"security-severity": "9.1"}}]}},
            "results": [{"ruleId": "sqli", "level": "error", "message": {"text": "tainted query"},
                "partialFingerprints": {"hash": "f1"}}]}]});
        let (status, _) = app.post(&app.responder, "/api/v1/products/dock-certs/releases/2.4.0/sarif", &sarif).await;
        assert_eq!(status, 200);
        let report = run_script(
            "team_pages.cjs",
            vec![app.url(""), "rita".into(), crate::PASSWORD.into()],
        )
        .await;
        assert_clean(&report, 23);
        let shots = screenshots();
        // What the browser did is what the store holds.
        let reference = report["reference"].as_str().unwrap();
        let (_, case) = app.get(&app.viewer, &format!("/api/v1/cases/{reference}")).await;
        // Publishing the advisory disclosed the case.
        assert_eq!(case["state"], "disclosed");
        assert_eq!(case["severity"], "critical");
        let advisory = report["advisory"].as_str().unwrap();
        let r = app.http.get(app.url(&format!("/advisories/{advisory}/csaf.json"))).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "the published CSAF file");
        for name in ["dashboard", "case-published", "charts", "case-360"] {
            assert!(shots.join(format!("team-{name}.png")).exists(), "{name}");
        }
    })
    .await;
}

/// The report form in Chromium (`tests/browser/report_kept.cjs`) at 1280
/// and 390 px: an expired form and the hourly limit keep the text (the
/// limit with the policy's other channels); reloading the receipt opens no
/// second case.
#[tokio::test]
async fn the_report_form_keeps_the_text_in_chromium() {
    if !browser_or_skip() {
        return;
    }
    let Some(db) = TestDatabase::all().await.into_iter().next() else {
        panic!("no test database");
    };
    let settings = embargo_server::ServerSettings {
        intake_per_address_per_hour: 2,
        ..crate::reporter::opensecops()
    };
    let app = crate::TestApp::start_with(db, settings).await;
    let report = run_script("report_kept.cjs", vec![app.url("")]).await;
    assert_clean(&report, 5);
    let (_, list) = app.get(&app.viewer, "/api/v1/cases").await;
    let titles: Vec<&str> = list["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles.len(),
        2,
        "one case per width, none for the reloads: {titles:?}"
    );
    assert!(!titles.contains(&"One too many"));
    app.stop().await;
}

/// The queue in Chromium (`tests/browser/queue_keys.cjs`): keyboard-only
/// triage (`?`, `/` and a word only in one report's encrypted description,
/// `j`, Enter, then Tab and Enter on Acknowledge) and a bulk acknowledgement
/// of 50 new reports; the queue and the case page at 1280 and 390 px.
#[tokio::test]
async fn the_queue_is_worked_by_keyboard_and_in_bulk_in_chromium() {
    if !browser_or_skip() {
        return;
    }
    let Some(db) = TestDatabase::all().await.into_iter().next() else {
        panic!("no test database");
    };
    let app = crate::TestApp::start(db).await;
    let mut needle = String::new();
    for i in 0..56 {
        let mut body = crate::new_case(&format!("Queued report {i}"));
        if i == 20 {
            body["report"]["description"] = json!("The wombat export leaks tokens.");
        }
        let (status, case) = app.post(&app.responder, "/api/v1/cases", &body).await;
        assert_eq!(status, 201, "{case}");
        if i == 20 {
            needle = case["reference"].as_str().unwrap().to_owned();
        }
    }
    let report = run_script(
        "queue_keys.cjs",
        vec![app.url(""), "rita".into(), crate::PASSWORD.into()],
    )
    .await;
    assert_clean(&report, 5);
    assert_eq!(report["opened"], needle.as_str(), "{report:#}");
    let (_, case) = app
        .get(&app.viewer, &format!("/api/v1/cases/{needle}"))
        .await;
    assert_eq!(case["state"], "acknowledged");
    assert_eq!(report["bulk"], "Done for 50 cases.", "{report:#}");
    let (_, list) = app.get(&app.viewer, "/api/v1/cases?state=received").await;
    assert_eq!(
        list["cases"].as_array().unwrap().len(),
        5,
        "56 − 1 − 50 left"
    );
    app.stop().await;
}

/// The admin's screens in Chromium (`tests/browser/admin_pages.cjs`): the
/// team page at 1280 and 390 px, adding a member (a role chosen, never
/// defaulted), the password shown once signing them in from another
/// browser, a new password, disabling and enabling, the sign-in attempts,
/// the delivery log, webhooks, products (a refused form keeping what was
/// typed), customers, vulnerability rules and the policy in force; axe-core
/// on each, at 1280 and 390 px, no CSP report.
#[tokio::test]
async fn an_admin_runs_the_team_in_chromium() {
    if !browser_or_skip() {
        return;
    }
    let Some(db) = TestDatabase::all().await.into_iter().next() else {
        panic!("no test database");
    };
    let app = crate::TestApp::start(db).await;
    let report = run_script(
        "admin_pages.cjs",
        vec![
            app.url(""),
            "admin".into(),
            crate::PASSWORD.into(),
            crate::t0().timestamp().to_string(),
        ],
    )
    .await;
    assert_clean(&report, 19);
    let nora = app.store.user("nora").await.unwrap();
    assert_eq!(nora.role.as_str(), "responder");
    assert!(!nora.disabled);
    assert_eq!(
        app.store.recovery_codes_left(nora.id).await.unwrap(),
        9,
        "one recovery code was used to sign in"
    );
    let attempts = app.store.login_attempts(100).await.unwrap();
    assert!(
        attempts
            .iter()
            .any(|a| a.username.as_deref() == Some("nora") && !a.succeeded)
    );
    app.stop().await;
}

/// The CRA desk in Chromium (`tests/browser/cra_pages.cjs`): mark a case
/// actively exploited, see it in the dashboard's lane with its clocks in
/// hours and minutes, open the early warning's pack and submit it. axe-core
/// on every page, no CSP report; the store then holds the submission.
#[tokio::test]
async fn the_team_reports_an_exploited_vulnerability_in_chromium() {
    if !browser_or_skip() {
        return;
    }
    let Some(db) = TestDatabase::all().await.into_iter().next() else {
        panic!("no test database");
    };
    let desk = Desk::start(db, "eu-cra", at(2026, 10, 24, 21, 0)).await;
    let reference = desk
        .report(
            at(2026, 10, 24, 21, 0),
            json!({"product": "example-product"}),
        )
        .await;
    let report = run_script(
        "cra_pages.cjs",
        vec![
            desk.app.url(""),
            "rita".into(),
            crate::PASSWORD.into(),
            reference.clone(),
        ],
    )
    .await;
    assert_clean(&report, 4);
    let c = desk
        .clock(&reference, "cra_early_warning", at(2026, 10, 25, 0, 0))
        .await;
    assert_eq!(c["status"], "met", "{c}");
    let (_, view) = desk
        .app
        .get(
            &desk.app.viewer,
            &format!("/api/v1/cases/{reference}/cra/early_warning"),
        )
        .await;
    assert_eq!(
        view["submitted"]["platform_reference"], "SRP-2026-0007",
        "{view}"
    );
    assert_eq!(view["pack"]["member_states"], json!(["FR", "DE"]));
    desk.app.stop().await;
}

/// A right-to-left override in a file name and a title, in Chromium
/// (`tests/browser/rtl_file.cjs`): the case page shows the file's true name
/// (the control removed, so `.html` shows where the override made it read
/// `.pdf`) and the title's control made visible, never applied, at 1280
/// and 390 px (axe-clean, no CSP report); the download is saved under the
/// safe name.
#[tokio::test]
async fn a_right_to_left_override_is_shown_neutralised_and_downloaded_safely_in_chromium() {
    if !browser_or_skip() {
        return;
    }
    let Some(db) = TestDatabase::all().await.into_iter().next() else {
        panic!("no test database");
    };
    let app = crate::TestApp::start(db).await;
    let mut request = crate::new_case("Invoice \u{202e}fdp.exe leaks tokens");
    request["product"] = json!("Dock Certs");
    let request: embargo_core::NewCase = serde_json::from_value(request).unwrap();
    let case = crate::recording()
        .create_case(&app.store, request, "user:rita", crate::t0())
        .await
        .unwrap();
    let reference = case.reference.to_string();
    let name: String =
        form_urlencoded::byte_serialize("invoice\u{202e}fdp.html".as_bytes()).collect();
    let r = app
        .http
        .post(app.url(&format!(
            "/api/v1/cases/{reference}/attachments?filename={name}"
        )))
        .bearer_auth(&app.responder)
        .body("<html><script>alert(1)</script></html>")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let report = run_script(
        "rtl_file.cjs",
        vec![
            app.url(""),
            "rita".into(),
            crate::PASSWORD.into(),
            reference.clone(),
        ],
    )
    .await;
    assert_clean(&report, 2);
    // With the override applied the name would read "invoicelmth.pdf"; the
    // control is removed from file names, so the true type shows.
    assert_eq!(report["shown"], "invoicefdp.html", "{report:#}");
    assert!(
        report["title"].as_str().unwrap().contains("[U+202E]"),
        "the title's control made visible: {report:#}"
    );
    assert_eq!(report["download"], "invoicefdp.html", "{report:#}");
    app.stop().await;
}
