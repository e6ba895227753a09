//! The portfolio over HTTP on both stores: products, an SBOM upload matched
//! at once against a vulnerability database, findings with policy 003's
//! deadlines, analysis changes as events, and a re-upload that changes
//! nothing opening nothing.

use embargo_server::ServerSettings;
use embargo_server::escalation::escalate_once;
use embargo_store::testing::TestDatabase;
use serde_json::{Value, json};

use crate::TestApp;

/// A database of two advisories: a critical one with a fix, and a medium
/// one without.
fn vulndb(dir: &std::path::Path) -> std::path::PathBuf {
    let record = |v: Value| Ok(serde_json::from_value(v).unwrap());
    let (db, report) = embargo_vulndb::db::Database::build([
        record(
            json!({"id": "GHSA-crit", "modified": "2026-01-01T00:00:00Z", "published": "2026-02-01T00:00:00Z",
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            "affected": [{"package": {"ecosystem": "npm", "name": "left-pad"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.3.0"}]}]}]}),
        ),
        record(json!({"id": "GHSA-med", "modified": "2026-01-01T00:00:00Z",
            "database_specific": {"severity": "MODERATE"},
            "affected": [{"package": {"ecosystem": "npm", "name": "@scope/util"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]}]})),
    ]);
    assert_eq!(report.imported, 2, "{report:?}");
    let path = dir.join("osv.db");
    db.save(&path).unwrap();
    path
}

/// The feed after an update: GHSA-med withdrawn, GHSA-new for `safe`.
fn vulndb_v2(path: &std::path::Path) {
    let record = |v: Value| Ok(serde_json::from_value(v).unwrap());
    let (db, _) = embargo_vulndb::db::Database::build([
        record(
            json!({"id": "GHSA-crit", "modified": "2026-01-01T00:00:00Z", "published": "2026-02-01T00:00:00Z",
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            "affected": [{"package": {"ecosystem": "npm", "name": "left-pad"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.3.0"}]}]}]}),
        ),
        record(json!({"id": "GHSA-new", "modified": "2026-03-01T00:00:00Z",
            "affected": [{"package": {"ecosystem": "npm", "name": "safe"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.0.1"}]}]}]})),
    ]);
    // A new file, renamed over the old one, as a sync does.
    let fresh = path.with_extension("new");
    db.save(&fresh).unwrap();
    std::fs::rename(&fresh, path).unwrap();
}

const LOCK: &str = r#"{"lockfileVersion": 3, "packages": {"": {"name": "shop"},
    "node_modules/left-pad": {"version": "1.1.0"},
    "node_modules/@scope/util": {"version": "2.0.0"},
    "node_modules/safe": {"version": "1.0.0"}}}"#;

/// Uploads [`LOCK`] as release `version` of `product`; returns the status.
async fn upload_lock(app: &TestApp, product: &str, version: &str) -> u16 {
    app.http
        .post(app.url(&format!(
            "/api/v1/products/{product}/releases/{version}/sbom?filename=package-lock.json"
        )))
        .bearer_auth(&app.responder)
        .body(LOCK)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// A server matching against [`vulndb`] (written in `dir`), with the
/// product `shop` added by the admin.
async fn shop(db: TestDatabase, dir: &std::path::Path) -> TestApp {
    let settings = ServerSettings {
        vulndb: Some(vulndb(dir)),
        ..ServerSettings::default()
    };
    let app = TestApp::start_with(db, settings).await;
    let product = json!({"id": "shop", "name": "Web shop", "owner": "team-web",
        "deployment": "saas", "exposure": "internet_facing"});
    let (status, body) = app.post(&app.admin, "/api/v1/products", &product).await;
    assert_eq!(status, 201, "{body}");
    app
}

#[tokio::test]
async fn a_findings_deadline_follows_its_products_policy() {
    // The same upload under three policies: the default preset (policy
    // 003's 30 days), one that gives 10 business days in Paris from the
    // finding itself, and one with no deadline for findings.
    let ten_days = embargo_core::policy::presets::get("default")
        .unwrap()
        .replace("time_zone = \"UTC\"", "time_zone = \"Europe/Paris\"")
        .replacen(
            "start = \"patch_available\"\ntarget = \"30 days\"",
            "start = \"finding_opened\"\ntarget = \"10 business days\"",
            1,
        );
    let cases = [
        (
            embargo_core::policy::presets::get("default")
                .unwrap()
                .to_owned(),
            json!("2026-03-03T00:00:00Z"),
            "breached",
        ),
        // Opened Friday 6 March 17:00 UTC (18:00 in Paris): ten business
        // days later, Friday 20 March 18:00 Paris.
        (ten_days, json!("2026-03-20T17:00:00Z"), "running"),
        // Without finding clocks, no deadline.
        (
            embargo_core::policy::presets::get("truvera")
                .unwrap()
                .split("\n# Findings (vulnerable components")
                .next()
                .unwrap()
                .to_owned(),
            Value::Null,
            "not_started",
        ),
    ];
    for (text, due, status) in cases {
        let dir = tempfile::tempdir().unwrap();
        let policy = embargo_core::policy::Policy::parse(&text).unwrap();
        let settings = ServerSettings {
            vulndb: Some(vulndb(dir.path())),
            policies: std::sync::Arc::new(
                embargo_core::policy::PolicySet::new(vec![policy]).unwrap(),
            ),
            ..ServerSettings::default()
        };
        let app = TestApp::start_with(TestDatabase::sqlite().unwrap(), settings).await;
        let product = json!({"id": "shop", "name": "Web shop", "owner": "team-web",
            "deployment": "saas", "exposure": "internal"});
        assert_eq!(
            app.post(&app.admin, "/api/v1/products", &product).await.0,
            201
        );
        assert_eq!(upload_lock(&app, "shop", "1.0.0").await, 200);
        // The desk links each finding's advisory to where it is described.
        let page = app
            .http
            .get(app.url("/desk/findings?product=shop"))
            .bearer_auth(&app.viewer)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("<a href=\"https://osv.dev/vulnerability/GHSA-crit\" rel=\"noreferrer\">GHSA-crit</a>"),
            "{page}"
        );
        // The products page counts the open findings by severity (in the
        // database), as the findings list has them.
        let (_, all) = app.get(&app.viewer, "/api/v1/findings?product=shop").await;
        let critical = all["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] == "critical")
            .count();
        assert!(critical >= 1);
        let products = app
            .http
            .get(app.url("/desk/products"))
            .bearer_auth(&app.viewer)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            products.contains(&format!(
                "<span class=\"badge critical\">{critical} critical</span>"
            )),
            "{products}"
        );
        let (_, list) = app.get(&app.viewer, "/api/v1/findings?product=shop").await;
        // Paged with a cursor and a total: one at a time gives the same list.
        let all: Vec<i64> = list["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_i64().unwrap())
            .collect();
        assert!(all.len() >= 2, "{list}");
        assert_eq!(list["total"], all.len());
        assert!(list.get("next_cursor").is_none(), "one page holds them all");
        let mut paged = Vec::new();
        let mut cursor = String::new();
        loop {
            let (status, page) = app
                .get(
                    &app.viewer,
                    &format!("/api/v1/findings?product=shop&limit=1&cursor={cursor}"),
                )
                .await;
            assert_eq!(status, 200, "{page}");
            assert_eq!(page["total"], all.len());
            paged.extend(
                page["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f["id"].as_i64().unwrap()),
            );
            match page["next_cursor"].as_str() {
                Some(next) => cursor = next.to_owned(),
                None => break,
            }
        }
        assert_eq!(paged, all);
        for bad in ["limit=0", "limit=5001", "cursor=abc", "cursor=-1"] {
            let (status, body) = app
                .get(&app.viewer, &format!("/api/v1/findings?{bad}"))
                .await;
            assert_eq!(status, 422, "{bad}: {body}");
        }
        let crit = list["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["advisory"] == "GHSA-crit")
            .unwrap()
            .clone();
        assert_eq!(
            (crit["due"].clone(), crit["deadline"].clone()),
            (due, json!(status)),
            "{crit}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn sbom_uploads_open_findings_once_with_policy_003_deadlines() {
    for db in TestDatabase::all().await {
        let dir = tempfile::tempdir().unwrap();
        let settings = ServerSettings {
            vulndb: Some(vulndb(dir.path())),
            ..ServerSettings::default()
        };
        let app = TestApp::start_with(db, settings).await;
        let product = json!({"id": "shop", "name": "Web shop", "owner": "team-web",
            "repositories": ["https://git.example.org/shop"], "deployment": "saas", "exposure": "internet_facing"});
        let (status, body) = app.post(&app.responder, "/api/v1/products", &product).await;
        assert_eq!(status, 403, "admins add products: {body}");
        let (status, body) = app.post(&app.admin, "/api/v1/products", &product).await;
        assert_eq!(status, 201, "{body}");
        let (status, _) = app.post(&app.admin, "/api/v1/products", &product).await;
        assert_eq!(status, 422, "an id is taken once");
        let mut bad = product.clone();
        bad["id"] = json!("Web Shop!");
        let (status, body) = app.post(&app.admin, "/api/v1/products", &bad).await;
        assert_eq!(status, 422);
        assert!(
            body.to_string().contains("\"id\"") || body.to_string().contains("id:"),
            "{body}"
        );

        let upload = |version: &'static str, text: &'static str, name: &'static str| {
            let app = &app;
            async move {
                let r = app
                    .http
                    .post(app.url(&format!(
                        "/api/v1/products/shop/releases/{version}/sbom?filename={name}"
                    )))
                    .bearer_auth(&app.responder)
                    .body(text)
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.json::<Value>().await.unwrap())
            }
        };
        let (status, out) = upload("1.0.0", LOCK, "package-lock.json").await;
        assert_eq!(status, 200, "{out}");
        assert_eq!(
            (
                out["components"].as_u64(),
                out["opened"].as_u64(),
                out["matched"].as_bool()
            ),
            (Some(3), Some(2), Some(true)),
            "{out}"
        );

        // The same upload again: nothing new, nothing resolved, no event.
        let (_, again) = upload("1.0.0", LOCK, "package-lock.json").await;
        assert_eq!(
            (again["opened"].as_u64(), again["resolved"].as_u64()),
            (Some(0), Some(0)),
            "{again}"
        );

        let (status, list) = app.get(&app.viewer, "/api/v1/findings?product=shop").await;
        assert_eq!(status, 200);
        let findings = list["findings"].as_array().unwrap();
        assert_eq!(findings.len(), 2, "{list}");
        let crit = findings
            .iter()
            .find(|f| f["advisory"] == "GHSA-crit")
            .unwrap();
        assert_eq!(crit["component"], "pkg:npm/left-pad@1.1.0");
        assert_eq!(crit["severity"], "critical");
        assert_eq!(crit["fixed"], json!(["1.3.0"]));
        // The patch is dated by the advisory's publication: due 30 days later,
        // already breached at the test clock (6 March 2026 17:00).
        assert_eq!(crit["patch_available_at"], "2026-02-01T00:00:00Z");
        assert_eq!(
            crit["patch_source"], "advisory_published",
            "says which date"
        );
        assert_eq!(crit["due"], "2026-03-03T00:00:00Z");
        assert_eq!(crit["deadline"], "breached");
        let med = findings
            .iter()
            .find(|f| f["advisory"] == "GHSA-med")
            .unwrap();
        assert_eq!(med["component"], "pkg:npm/%40scope/util@2.0.0");
        assert_eq!(med["deadline"], "not_started", "no patch, no clock");
        assert_eq!(med["analysis"]["state"], "in_triage");

        // A person's analysis, recorded.
        let id = med["id"].as_i64().unwrap();
        let r = app
            .http
            .put(app.url(&format!("/api/v1/findings/{id}/analysis")))
            .bearer_auth(&app.responder)
            .json(&json!({"state": "not_affected", "justification": "code_not_reachable"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let f: Value = r.json().await.unwrap();
        assert_eq!(
            f["analysis"],
            json!({"state": "not_affected", "justification": "code_not_reachable"})
        );
        assert_eq!(f["deadline"], "stopped");
        let r = app
            .http
            .put(app.url(&format!("/api/v1/findings/{id}/analysis")))
            .bearer_auth(&app.responder)
            .json(&json!({"state": "not_affected"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 422);
        let r = app
            .http
            .put(app.url(&format!("/api/v1/findings/{id}/analysis")))
            .bearer_auth(&app.viewer)
            .json(&json!({"state": "affected"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 403);
        // The release's analysis as CycloneDX VEX, valid by the official
        // schema and by embargo's own SBOM check.
        let (status, vex) = app
            .get(&app.viewer, "/api/v1/products/shop/releases/1.0.0/vex")
            .await;
        assert_eq!(status, 200, "{vex}");
        let vulns = vex["vulnerabilities"].as_array().unwrap();
        let crit = vulns.iter().find(|v| v["id"] == "GHSA-crit").unwrap();
        assert_eq!(crit["analysis"]["state"], "in_triage");
        assert_eq!(crit["affects"][0]["ref"], "pkg:npm/left-pad@1.1.0");
        let med = vulns.iter().find(|v| v["id"] == "GHSA-med").unwrap();
        assert_eq!(med["analysis"]["state"], "not_affected");
        assert_eq!(med["analysis"]["justification"], "code_not_reachable");
        assert_eq!(vex["components"].as_array().unwrap().len(), 3);
        assert!(
            embargo_vulndb::sbom::cyclonedx_json(std::path::Path::new("vex.json"), &vex).is_ok()
        );
        crate::advisories::schema_valid(
            &vex,
            &[
                "cyclonedx/bom-1.6.schema.json",
                "cyclonedx/spdx.schema.json",
                "cyclonedx/jsf-0.82.schema.json",
            ],
        );
        // And as CSAF VEX: the release's components as products, each
        // status on "component in release", valid by the official schema.
        let (status, csaf) = app
            .get(&app.viewer, "/api/v1/products/shop/releases/1.0.0/csaf-vex")
            .await;
        assert_eq!(status, 200, "{csaf}");
        assert_eq!(csaf["document"]["category"], "csaf_vex");
        let vuln = |id: &str| {
            csaf["vulnerabilities"]
                .as_array()
                .unwrap()
                .iter()
                .find(|v| v["ids"][0]["text"] == id)
                .unwrap()
                .clone()
        };
        assert!(vuln("GHSA-crit")["product_status"]["under_investigation"].is_array());
        let med = vuln("GHSA-med");
        assert!(med["product_status"]["known_not_affected"].is_array());
        assert_eq!(
            med["flags"][0]["label"],
            "vulnerable_code_not_in_execute_path"
        );
        crate::advisories::schema_valid(
            &csaf,
            &[
                "csaf-2.0/csaf_json_schema.json",
                "https://www.first.org/cvss/cvss-v3.1.json=csaf-2.0/referenced/first/cvss-v3.1.json",
                "https://www.first.org/cvss/cvss-v3.0.json=csaf-2.0/referenced/first/cvss-v3.0.json",
                "https://www.first.org/cvss/cvss-v2.0.json=csaf-2.0/referenced/first/cvss-v2.0.json",
            ],
        );
        assert_eq!(
            app.get(&app.viewer, "/api/v1/products/shop/releases/9.9/csaf-vex")
                .await
                .0,
            404
        );
        let history = app.store.finding_history(id).await.unwrap();
        assert_eq!(history.len(), 2, "opened, then analysed: {history:?}");

        // A new release without left-pad: its own findings; the old release keeps its.
        let (_, out) = upload("1.1.0", r#"{"lockfileVersion": 3, "packages": {"node_modules/@scope/util": {"version": "2.0.0"}}}"#, "package-lock.json").await;
        assert_eq!(out["opened"], 1);
        // Bad uploads name the problem.
        let (status, body) = upload("1.2.0", "{\"lockfileVersion\": 3,", "package-lock.json").await;
        assert_eq!(status, 422, "{body}");
        let (status, _) = upload("1.2.0", "hello", "notes.txt").await;
        assert_eq!(status, 422);
        // Customers running different releases: who an advisory reaches.
        // 1.0.0 has both findings (GHSA-med analysed not affected there);
        // 1.1.0 has GHSA-med only.
        for (id, releases) in [
            ("acme", vec!["shop@1.0.0"]),
            ("globex", vec!["shop@1.1.0"]),
            ("initech", vec![]),
        ] {
            let (status, body) = app
                .post(
                    &app.admin,
                    "/api/v1/customers",
                    &json!({"id": id, "name": id.to_uppercase(),
                        "contact": format!("mailto:{id}@example.org"), "releases": releases}),
                )
                .await;
            assert_eq!(status, 201, "{body}");
        }
        let (status, body) = app
            .post(
                &app.admin,
                "/api/v1/customers",
                &json!({"id": "bad", "name": "B", "contact": "x", "releases": []}),
            )
            .await;
        assert_eq!(status, 422, "{body}");
        let (status, body) = app
            .post(
                &app.admin,
                "/api/v1/customers",
                &json!({"id": "ghost", "name": "G", "contact": "mailto:g@example.org",
                    "releases": ["shop@9.9"]}),
            )
            .await;
        assert_eq!(status, 422, "{body}");
        let impacted = |advisory: &'static str| {
            let app = &app;
            async move {
                let (_, v) = app
                    .get(&app.viewer, &format!("/api/v1/impact?advisory={advisory}"))
                    .await;
                v["customers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| {
                        (
                            c["customer"].as_str().unwrap().to_owned(),
                            c["exceptional_delivery"].as_bool().unwrap(),
                        )
                    })
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            impacted("GHSA-crit").await,
            vec![("acme".to_owned(), false)],
            "only 1.0.0 ships left-pad"
        );
        assert_eq!(
            impacted("GHSA-med").await,
            vec![("globex".to_owned(), false)],
            "acme's finding was analysed not affected"
        );
        assert!(impacted("GHSA-none").await.is_empty());
        // Telling them: one notice per customer and advisory, its state in
        // the list, and the 72 hours of a critical finding counted from
        // when it was first seen.
        let (status, list) = app
            .post(
                &app.viewer,
                "/api/v1/impact/notices?advisory=GHSA-crit",
                &json!(null),
            )
            .await;
        assert_eq!(status, 403, "{list}");
        let (status, list) = app
            .post(
                &app.responder,
                "/api/v1/impact/notices?advisory=GHSA-crit",
                &json!(null),
            )
            .await;
        assert_eq!(status, 200, "{list}");
        assert_eq!(list["customers"][0]["customer"], "acme");
        assert_eq!(list["customers"][0]["notice"], "pending", "{list}");
        assert_eq!(list["notice_due"], "2026-03-09T17:00:00Z");
        let count = || {
            let app = &app;
            async move {
                app.store
                    .deliveries(None, None, 1000)
                    .await
                    .unwrap()
                    .into_iter()
                    .filter(|d| d.kind == "customer.notice")
                    .count()
            }
        };
        assert_eq!(count().await, 1);
        app.post(
            &app.responder,
            "/api/v1/impact/notices?advisory=GHSA-crit",
            &json!(null),
        )
        .await;
        assert_eq!(count().await, 1, "asking twice tells nobody twice");
        // Re-matching: the server's first re-match checks everything and
        // finds nothing new; a feed update adding GHSA-new and withdrawing
        // GHSA-med opens one finding and resolves GHSA-med's; the same feed
        // written again changes nothing and records nothing.
        let rematch = || {
            let app = &app;
            async move {
                app.post(&app.admin, "/api/v1/portfolio/rematch", &json!({}))
                    .await
            }
        };
        let (status, out) = rematch().await;
        assert_eq!(status, 200, "{out}");
        assert_eq!(
            (out["kind"].as_str(), out["opened"].as_u64()),
            (Some("full"), Some(0)),
            "{out}"
        );
        let (_, out) = rematch().await;
        assert_eq!(out["kind"], "unchanged");
        let db_path = dir.path().join("osv.db");
        vulndb_v2(&db_path);
        let (_, out) = rematch().await;
        assert_eq!(out["kind"], "incremental", "{out}");
        assert_eq!(out["changed_advisories"], 2, "{out}");
        assert_eq!(out["opened"], 1, "{out}");
        assert_eq!(out["resolved"], 2, "{out}");
        let (_, list) = app.get(&app.viewer, "/api/v1/findings?product=shop").await;
        let findings = list["findings"].as_array().unwrap();
        let new = findings
            .iter()
            .find(|f| f["advisory"] == "GHSA-new")
            .unwrap();
        assert_eq!(new["component"], "pkg:npm/safe@1.0.0");
        assert!(
            findings
                .iter()
                .filter(|f| f["advisory"] == "GHSA-med")
                .all(|f| f["analysis"]["state"] == "resolved")
        );
        let events_before: usize = {
            let mut n = 0;
            for f in findings {
                n += app
                    .store
                    .finding_history(f["id"].as_i64().unwrap())
                    .await
                    .unwrap()
                    .len();
            }
            n
        };
        let outbox_before = app
            .store
            .deliveries(None, None, 10_000)
            .await
            .unwrap()
            .len();
        std::thread::sleep(std::time::Duration::from_millis(20));
        vulndb_v2(&db_path);
        let (_, out) = rematch().await;
        assert_eq!(
            (
                out["kind"].as_str(),
                out["changed_advisories"].as_u64(),
                out["opened"].as_u64(),
                out["resolved"].as_u64()
            ),
            (Some("incremental"), Some(0), Some(0), Some(0)),
            "{out}"
        );
        let mut events_after = 0;
        for f in findings {
            events_after += app
                .store
                .finding_history(f["id"].as_i64().unwrap())
                .await
                .unwrap()
                .len();
        }
        assert_eq!(
            events_after, events_before,
            "an update that changes nothing records nothing"
        );
        assert_eq!(
            app.store
                .deliveries(None, None, 10_000)
                .await
                .unwrap()
                .len(),
            outbox_before,
            "and queues no notice"
        );

        assert_eq!(upload_lock(&app, "nope", "1").await, 404);
        app.stop().await;
    }
}

#[tokio::test]
async fn a_product_without_a_recent_scan_gets_a_finding_until_it_is_scanned() {
    // 004 (OpenSecOps): static and dynamic analysis and dependency scanning
    // of all code; its preset requires an SBOM and a SARIF within 30 days.
    for db in TestDatabase::all().await {
        let policies = std::sync::Arc::new(
            embargo_core::policy::PolicySet::new(vec![
                embargo_core::policy::Policy::parse(
                    embargo_core::policy::presets::get("opensecops").unwrap(),
                )
                .unwrap(),
            ])
            .unwrap(),
        );
        let settings = ServerSettings {
            policies: policies.clone(),
            ..ServerSettings::default()
        };
        let app = TestApp::start_with(db, settings).await;
        let product = json!({"id": "api", "name": "API", "owner": "o", "deployment": "saas", "exposure": "internal"});
        assert_eq!(
            app.post(&app.admin, "/api/v1/products", &product).await.0,
            201
        );
        // Never scanned: both gaps, no release to hold a finding yet.
        let (status, gaps) = app.get(&app.viewer, "/api/v1/portfolio/scans").await;
        assert_eq!(status, 200);
        assert_eq!(gaps["gaps"].as_array().unwrap().len(), 2, "{gaps}");
        assert_eq!(upload_lock(&app, "api", "2.0").await, 200);
        let (_, gaps) = app.get(&app.viewer, "/api/v1/portfolio/scans").await;
        let kinds: Vec<&str> = gaps["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["sarif"], "{gaps}");
        let scan_findings = || {
            let app = &app;
            async move {
                let (_, list) = app.get(&app.viewer, "/api/v1/findings?product=api").await;
                list["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|f| f["component"] == "policy:scanning")
                    .map(|f| {
                        (
                            f["advisory"].as_str().unwrap().to_owned(),
                            f["analysis"]["state"].as_str().unwrap().to_owned(),
                        )
                    })
                    .collect::<Vec<_>>()
            }
        };
        // The scheduler's pass turns the gap into a finding of the release.
        escalate_once(&app.store, &policies, crate::t0())
            .await
            .unwrap();
        assert_eq!(
            scan_findings().await,
            [("scan-overdue:sarif".to_owned(), "in_triage".to_owned())]
        );
        // A SARIF import closes it.
        let sarif = json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "semgrep"}}, "results": []}]});
        let r = app
            .http
            .post(app.url("/api/v1/products/api/releases/2.0/sarif"))
            .bearer_auth(&app.responder)
            .json(&sarif)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        escalate_once(&app.store, &policies, crate::t0())
            .await
            .unwrap();
        assert_eq!(
            scan_findings().await,
            [("scan-overdue:sarif".to_owned(), "resolved".to_owned())]
        );
        // 31 days later both scans are too old: both gaps, one reopened.
        let later = crate::t0() + chrono::TimeDelta::days(31);
        escalate_once(&app.store, &policies, later).await.unwrap();
        let mut open = scan_findings().await;
        open.sort();
        assert_eq!(
            open,
            [
                ("scan-overdue:sarif".to_owned(), "in_triage".to_owned()),
                ("scan-overdue:sbom".to_owned(), "in_triage".to_owned())
            ]
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn sarif_imports_deduplicate_and_resolve_what_is_gone() {
    for db in TestDatabase::all().await {
        let app = TestApp::start_with(db, ServerSettings::default()).await;
        let (status, _) = app
            .post(
                &app.admin,
                "/api/v1/products",
                &json!({"id": "api", "name": "API", "owner": "o", "deployment": "saas", "exposure": "internal"}),
            )
            .await;
        assert_eq!(status, 201);
        assert_eq!(upload_lock(&app, "api", "2.0").await, 200);
        let sarif = |results: Value| {
            json!({"version": "2.1.0", "runs": [{
                "tool": {"driver": {"name": "semgrep", "rules": [
                    {"id": "sqli", "properties": {"security-severity": "9.1"}}, {"id": "xss"}]}},
                "results": results}]})
        };
        let sqli = json!({"ruleId": "sqli", "level": "error", "message": {"text": "tainted"},
            "partialFingerprints": {"hash": "f1"}});
        let xss = json!({"ruleId": "xss", "level": "warning", "message": {"text": "reflected"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": "web/search.rs"}, "region": {"startLine": 7}}}]});
        let import = |doc: Value| {
            let app = &app;
            async move {
                let r = app
                    .http
                    .post(app.url("/api/v1/products/api/releases/2.0/sarif"))
                    .bearer_auth(&app.responder)
                    .json(&doc)
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.json::<Value>().await.unwrap())
            }
        };
        let (status, out) = import(sarif(json!([sqli, xss]))).await;
        assert_eq!(status, 200, "{out}");
        assert_eq!(
            (out["results"].as_u64(), out["opened"].as_u64()),
            (Some(2), Some(2)),
            "{out}"
        );
        // The same file again: no duplicate.
        let (_, out) = import(sarif(json!([sqli, xss]))).await;
        assert_eq!(
            (out["opened"].as_u64(), out["resolved"].as_u64()),
            (Some(0), Some(0)),
            "{out}"
        );
        // The XSS result is gone from the next run: resolved.
        let (_, out) = import(sarif(json!([sqli]))).await;
        assert_eq!(
            (out["opened"].as_u64(), out["resolved"].as_u64()),
            (Some(0), Some(1)),
            "{out}"
        );
        let (_, list) = app.get(&app.viewer, "/api/v1/findings?product=api").await;
        let scanner: Vec<&Value> = list["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["component"] == "sarif:semgrep")
            .collect();
        assert_eq!(scanner.len(), 2, "{list}");
        let sqli_finding = scanner.iter().find(|f| f["advisory"] == "sqli#f1").unwrap();
        assert_eq!(
            sqli_finding["severity"], "critical",
            "security-severity 9.1"
        );
        assert_eq!(sqli_finding["analysis"]["state"], "in_triage");
        let xss_finding = scanner
            .iter()
            .find(|f| f["advisory"].as_str().unwrap().starts_with("xss#"))
            .unwrap();
        assert_eq!(xss_finding["analysis"]["state"], "resolved");
        assert_eq!(xss_finding["severity"], "medium");
        // Not SARIF, or an unknown release: named errors.
        let (status, body) = import(json!({"version": "2.0.0", "runs": []})).await;
        assert_eq!(status, 422, "{body}");
        assert!(body.to_string().contains("version"), "{body}");
        let r = app
            .http
            .post(app.url("/api/v1/products/api/releases/9.9/sarif"))
            .bearer_auth(&app.responder)
            .json(&sarif(json!([])))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 404);
        app.stop().await;
    }
}

/// Rules decide findings automatically (and record themselves), metrics
/// count what is open, and findings escalated to a case resolve when its
/// fix is released.
#[tokio::test]
async fn rules_metrics_and_escalation_to_a_case() {
    for db in TestDatabase::all().await {
        let dir = tempfile::tempdir().unwrap();
        let app = shop(db, dir.path()).await;
        // A rule before any finding: @scope/util is never reachable here.
        let rule = json!({"name": "util is dead code", "when": {"package": "pkg:npm/%40scope/util"},
            "then": {"action": "set_analysis", "analysis": {"state": "not_affected", "justification": "code_not_reachable"}}});
        let (status, out) = app.post(&app.responder, "/api/v1/rules", &rule).await;
        assert_eq!(status, 403, "admins write rules: {out}");
        let (status, out) = app
            .post(
                &app.admin,
                "/api/v1/rules",
                &json!({"name": "all", "when": {},
            "then": {"action": "set_severity", "severity": "low"}}),
            )
            .await;
        assert_eq!(status, 422, "{out}");
        assert_eq!(out["error"]["field"], "when");
        let (status, out) = app.post(&app.admin, "/api/v1/rules", &rule).await;
        assert_eq!(status, 201, "{out}");
        assert_eq!(out["applied"], 0);
        let rule_id = out["rule"]["id"].as_i64().unwrap();

        assert_eq!(upload_lock(&app, "shop", "1.0.0").await, 200);
        let (_, list) = app.get(&app.viewer, "/api/v1/findings").await;
        let findings = list["findings"].as_array().unwrap().clone();
        let by = |advisory: &str| {
            findings
                .iter()
                .find(|f| f["advisory"] == advisory)
                .unwrap()
                .clone()
        };
        let util = by("GHSA-med");
        assert_eq!(util["component"], "pkg:npm/%40scope/util@2.0.0");
        assert_eq!(util["analysis"]["state"], "not_affected", "{util}");
        let history = app
            .store
            .finding_history(util["id"].as_i64().unwrap())
            .await
            .unwrap();
        let last = format!("{:?}", history.last().unwrap());
        assert!(
            last.contains(&format!("rule:{rule_id}")) && last.contains("util is dead code"),
            "{last}"
        );
        assert_eq!(
            by("GHSA-crit")["analysis"]["state"],
            "in_triage",
            "the rule does not touch the other finding"
        );

        // A second rule raises what is known to be exploited... nothing here is.
        let (_, out) = app
            .post(
                &app.admin,
                "/api/v1/rules",
                &json!({"name": "kev", "when": {"known_exploited": true},
            "then": {"action": "set_severity", "severity": "critical"}}),
            )
            .await;
        assert_eq!(out["applied"], 0);

        // Metrics: one open finding (critical, with a fix, internet-facing: 30 days).
        let (status, m) = app.get(&app.viewer, "/api/v1/portfolio/metrics").await;
        assert_eq!(status, 200);
        assert_eq!(m["open"], 1, "{m}");
        assert_eq!(m["open_by_severity"]["critical"], 1);
        assert_eq!(m["open_by_product"]["shop"], 1);
        assert_eq!(
            m["deadlines"]["breached"], 1,
            "due 30 days after the patch of 1 February: {m}"
        );

        // The critical finding is past its deadline: the scheduler raises
        // the breach once, as an event and a notice (here to a webhook).
        let (status, hook) = app
            .post(
                &app.admin,
                "/api/v1/webhooks",
                &json!({"name": "siem", "url": "https://siem.example/hook",
                "kinds": ["finding.deadline_breached"]}),
            )
            .await;
        assert_eq!(status, 201, "{hook}");
        let policies = embargo_core::policy::PolicySet::default();
        let raised = embargo_server::escalation::escalate_once(&app.store, &policies, crate::t0())
            .await
            .unwrap();
        assert_eq!(
            (raised.finding_breaches, raised.finding_warnings),
            (1, 0),
            "{raised:?}"
        );
        let again = embargo_server::escalation::escalate_once(&app.store, &policies, crate::t0())
            .await
            .unwrap();
        assert_eq!(again.finding_breaches, 0, "once");
        let sent: Vec<_> = app
            .store
            .deliveries(None, None, 100)
            .await
            .unwrap()
            .into_iter()
            .filter(|d| d.kind == "finding.deadline_breached")
            .collect();
        assert_eq!(sent.len(), 1, "{sent:?}");
        assert_eq!(sent[0].to, "https://siem.example/hook");
        let crit_id = by("GHSA-crit")["id"].as_i64().unwrap();
        let history = app.store.finding_history(crit_id).await.unwrap();
        assert!(
            history.iter().any(|(_, actor, change)| actor == "scheduler"
                && change["deadline"] == "breached"
                && change["due"] == "2026-03-03T00:00:00Z"),
            "{history:?}"
        );

        // Escalation: one case for the critical finding, linked, resolved on release.
        // Two people escalate it at once: one case, linked; the other is
        // refused and leaves no case behind (the case, its severity and the
        // link are one unit of work).
        let crit = by("GHSA-crit")["id"].as_i64().unwrap();
        let body = json!({"findings": [crit]});
        let ((first, a), (second, b)) = tokio::join!(
            app.post(&app.responder, "/api/v1/findings/escalate", &body),
            app.post(&app.responder, "/api/v1/findings/escalate", &body),
        );
        let mut statuses = [first, second];
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 409], "{a} {b}");
        let out = if first == 201 { a } else { b };
        let case = out["case"].as_str().unwrap().to_owned();
        let (_, listed) = app.get(&app.viewer, "/api/v1/cases?limit=100").await;
        let escalated = listed["cases"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| {
                c["title"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("GHSA-crit"))
            })
            .count();
        assert_eq!(escalated, 1, "{listed}");
        let (status, again) = app
            .post(
                &app.responder,
                "/api/v1/findings/escalate",
                &json!({"findings": [crit]}),
            )
            .await;
        assert_eq!(status, 409, "{again}");
        let (_, detail) = app.get(&app.viewer, &format!("/api/v1/cases/{case}")).await;
        assert_eq!(detail["title"], "GHSA-crit in pkg:npm/left-pad@1.1.0");
        assert_eq!(detail["severity"], "critical");
        assert_eq!(detail["product"], "Web shop");
        assert!(
            detail["report"]["description"]
                .as_str()
                .unwrap()
                .contains("fixed in 1.3.0")
        );
        assert_eq!(
            app.store
                .case_findings(case.parse().unwrap())
                .await
                .unwrap(),
            vec![crit]
        );
        for action in ["acknowledge", "start_triage", "accept", "fix_available"] {
            let (status, _) = app
                .post(
                    &app.responder,
                    &format!("/api/v1/cases/{case}/transitions"),
                    &json!({"action": action}),
                )
                .await;
            assert_eq!(status, 200);
        }
        let (_, list) = app.get(&app.viewer, "/api/v1/findings").await;
        assert_eq!(
            list["findings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["id"] == crit)
                .unwrap()["analysis"]["state"],
            "in_triage"
        );
        let (status, _) = app
            .post(
                &app.responder,
                &format!("/api/v1/cases/{case}/transitions"),
                &json!({"action": "release", "version": "1.0.1"}),
            )
            .await;
        assert_eq!(status, 200);
        let (_, list) = app.get(&app.viewer, "/api/v1/findings").await;
        let resolved = list["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == crit)
            .unwrap()
            .clone();
        assert_eq!(resolved["analysis"]["state"], "resolved", "{resolved}");
        let history = format!("{:?}", app.store.finding_history(crit).await.unwrap());
        assert!(
            history.contains(&format!("the fix of {case} was released")),
            "{history}"
        );
        let (_, m) = app.get(&app.viewer, "/api/v1/portfolio/metrics").await;
        assert_eq!(m["open"], 0);
        // The patch came out on 1 February: a critical finding was due by
        // 3 March, and the release on 6 March came late.
        assert_eq!(m["compliance"]["missed"], 1, "{m}");
        assert_eq!(m["compliance"]["met"], 0, "{m}");

        // Turning a rule off leaves what it did.
        let r = app
            .http
            .put(app.url(&format!("/api/v1/rules/{rule_id}")))
            .bearer_auth(&app.admin)
            .json(&json!({"disabled": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let (_, rules) = app.get(&app.viewer, "/api/v1/rules").await;
        assert_eq!(rules["rules"][0]["disabled"], true);
        app.stop().await;
    }
}

/// A CycloneDX SBOM as cyclonedx-py writes it: the generator's own entries
/// under `metadata.tools` (one with a purl, two without), then the product's
/// components. `{left_pad}` is the version of left-pad shipped.
fn sbom_with_tools(left_pad: &str) -> String {
    json!({
        "bomFormat": "CycloneDX", "specVersion": "1.7", "version": 1,
        "metadata": {
            "tools": {"components": [
                {"type": "application", "name": "cyclonedx-py", "version": "7.1.0"},
                {"type": "library", "name": "cyclonedx-python-lib", "version": "11.0.0"},
                {"type": "application", "name": "left-pad", "purl": "pkg:npm/left-pad@1.0.0"}
            ]},
            "component": {"type": "application", "name": "shop", "version": "latest", "purl": "pkg:npm/shop@latest"}
        },
        "components": [
            {"type": "library", "name": "left-pad", "purl": format!("pkg:npm/left-pad@{left_pad}")},
            {"type": "library", "name": "safe", "purl": "pkg:npm/safe@1.0.0"},
            {"type": "library", "name": "openssl", "purl": "pkg:generic/openssl@3.0.13"}
        ]
    })
    .to_string()
}

#[tokio::test]
async fn findings_reopen_when_the_vulnerable_component_returns() {
    for db in TestDatabase::all().await {
        let dir = tempfile::tempdir().unwrap();
        let app = shop(db, dir.path()).await;
        let upload = |text: String| {
            let app = &app;
            async move {
                let r = app
                    .http
                    .post(
                        app.url("/api/v1/products/shop/releases/1.0.0/sbom?filename=bom.cdx.json"),
                    )
                    .bearer_auth(&app.responder)
                    .body(text)
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.json::<Value>().await.unwrap())
            }
        };
        let counts = |out: &Value| {
            (
                out["opened"].as_u64().unwrap(),
                out["resolved"].as_u64().unwrap(),
                out["reopened"].as_u64().unwrap(),
            )
        };
        // Vulnerable: one finding, for the product's left-pad, not the tool's.
        let (status, out) = upload(sbom_with_tools("1.1.0")).await;
        assert_eq!(status, 200, "{out}");
        assert_eq!(
            out["components"], 2,
            "neither the tools nor the placeholder product: {out}"
        );
        assert_eq!(counts(&out), (1, 0, 0), "{out}");
        assert_eq!(
            out["unchecked"],
            json!([
                "bom.cdx.json: 1 component are of purl type `generic`, which embargo does not check, not checked: pkg:generic/openssl@3.0.13"
            ]),
            "only the product's unchecked components, named"
        );
        // Clean: resolved.
        let (_, out) = upload(sbom_with_tools("1.3.0")).await;
        assert_eq!(counts(&out), (0, 1, 0), "{out}");
        // Vulnerable again: the same finding reopens, with an event saying why.
        let (_, out) = upload(sbom_with_tools("1.1.0")).await;
        assert_eq!(counts(&out), (0, 0, 1), "{out}");
        let (_, list) = app.get(&app.viewer, "/api/v1/findings?product=shop").await;
        let findings = list["findings"].as_array().unwrap();
        let open: Vec<_> = findings
            .iter()
            .filter(|f| f["component"] == "pkg:npm/left-pad@1.1.0")
            .collect();
        assert_eq!(open.len(), 1, "one finding, not a second: {list}");
        assert_eq!(open[0]["analysis"]["state"], "in_triage");
        let history = app
            .store
            .finding_history(open[0]["id"].as_i64().unwrap())
            .await
            .unwrap();
        assert!(
            history.iter().any(|e| e
                .2
                .to_string()
                .contains("in the release again at an affected version")),
            "{history:?}"
        );
        // The same again changes nothing.
        let (_, out) = upload(sbom_with_tools("1.1.0")).await;
        assert_eq!(counts(&out), (0, 0, 0), "{out}");
    }
}

/// The desk's upload notice names what was not checked, as the API does.
#[tokio::test]
async fn the_desk_upload_notice_names_the_unchecked_components() {
    let dir = tempfile::tempdir().unwrap();
    let app = shop(TestDatabase::sqlite().unwrap(), dir.path()).await;
    let boundary = "----embargo-upload-boundary";
    let sbom = sbom_with_tools("1.1.0");
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"version\"\r\n\r\n2.0.0\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bom.cdx.json\"\r\n\
         Content-Type: application/json\r\n\r\n{sbom}\r\n--{boundary}--\r\n"
    );
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url("/desk/products/shop/upload"))
        .bearer_auth(&app.responder)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let notice: String = form_urlencoded::parse(location.split_once('?').unwrap().1.as_bytes())
        .find(|(k, _)| k == "uploaded")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    assert!(
        notice.contains("1 findings opened, 0 resolved, 0 reopened")
            && notice.contains("Not checked: bom.cdx.json: 1 component are of purl type `generic`, which embargo does not check, not checked: pkg:generic/openssl@3.0.13"),
        "{notice}"
    );
}

#[tokio::test]
async fn products_and_a_releases_components_are_listed_a_page_at_a_time() {
    for db in TestDatabase::all().await {
        let dir = tempfile::tempdir().unwrap();
        let app = shop(db, dir.path()).await;
        for id in ["alpha", "zulu"] {
            let product = json!({"id": id, "name": id, "owner": "team",
                "deployment": "saas", "exposure": "internal"});
            assert_eq!(
                app.post(&app.admin, "/api/v1/products", &product).await.0,
                201
            );
        }
        // Three products by id, two a page.
        let (status, first) = app.get(&app.viewer, "/api/v1/products?limit=2").await;
        assert_eq!(status, 200, "{first}");
        assert_eq!(first["total"], 3);
        let ids: Vec<&str> = first["products"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["alpha", "shop"]);
        let cursor = first["next_cursor"].as_str().unwrap();
        let (_, second) = app
            .get(
                &app.viewer,
                &format!("/api/v1/products?limit=2&cursor={cursor}"),
            )
            .await;
        assert_eq!(second["products"][0]["id"], "zulu");
        assert!(
            second.get("next_cursor").is_none(),
            "the last page: {second}"
        );
        assert_eq!(
            app.get(&app.viewer, "/api/v1/products?limit=0").await.0,
            422
        );

        // A release's components, walked two at a time: each once, all of them.
        assert_eq!(upload_lock(&app, "shop", "1.0.0").await, 200);
        let base = "/api/v1/products/shop/releases/1.0.0/components?limit=2";
        let mut seen: Vec<String> = Vec::new();
        let mut path = base.to_owned();
        let total = loop {
            let (status, page) = app.get(&app.viewer, &path).await;
            assert_eq!(status, 200, "{page}");
            for c in page["components"].as_array().unwrap() {
                seen.push(c["purl"].as_str().unwrap().to_owned());
            }
            match page["next_cursor"].as_str() {
                Some(next) => {
                    path = format!(
                        "{base}&cursor={}",
                        form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                    );
                }
                None => break page["total"].as_i64().unwrap(),
            }
        };
        assert!(total >= 3, "the lockfile has several components: {total}");
        assert_eq!(seen.len() as i64, total);
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique, seen, "in purl order, none twice");
        assert_eq!(
            app.get(
                &app.viewer,
                "/api/v1/products/shop/releases/9.9.9/components"
            )
            .await
            .0,
            404
        );
    }
}
