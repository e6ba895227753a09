//! Issue 21: the Cyber Resilience Act's Article 14 through the API, at fixed
//! instants, on SQLite and PostgreSQL: exploitation confirmed on a Saturday
//! night across the October DST change, the early warning's pack read,
//! edited, checked against the schema in the repository and submitted, a
//! missed notification breached.

use embargo_store::testing::TestDatabase;
use serde_json::json;

use crate::promises::{Desk, at, due, iso};

fn pack_schema() -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../schemas/cra-report.schema.json")
        .canonicalize()
        .unwrap()
        .display()
        .to_string()
}

#[tokio::test]
async fn an_exploited_vulnerability_is_reported_on_the_wall_clock() {
    for db in TestDatabase::all().await {
        let desk = Desk::start(db, "eu-cra", at(2026, 10, 19, 7, 0)).await;
        let case = desk
            .report(
                at(2026, 10, 19, 7, 0),
                json!({"product": "example-product", "report": {
                    "summary": "s", "description": "SQL injection in the export endpoint",
                    "affected_versions": "2.3.0, 2.3.1"}}),
            )
            .await;
        // No [cra] duty yet: no pack to read.
        desk.set(at(2026, 10, 19, 8, 0));
        let (status, body) = desk
            .app
            .get(
                &desk.app.viewer,
                &format!("/api/v1/cases/{case}/cra/early_warning"),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = desk
            .attempt(
                &case,
                at(2026, 10, 19, 8, 0),
                &json!({"action": "submit_cra_report", "stage": "early_warning"}),
            )
            .await;
        assert_eq!(status, 422, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("confirmed"),
            "{body}"
        );

        // Saturday 24 October, 23:00 in Paris (21:00 UTC): the team confirms it.
        let saturday = at(2026, 10, 24, 21, 0);
        desk.act(
            &case,
            saturday,
            json!({"action": "mark_exploited", "source": "threat_intelligence",
                   "evidence": "CERT-FR bulletin: exploited against public instances",
                   "link": "https://cert.example/bulletin/1"}),
        )
        .await;
        // The desk's date-time fields are in the policy's zone: 22:30 in
        // Paris that Saturday is 20:30 UTC. (Then back to 23:00.)
        desk.set(at(2026, 10, 24, 21, 30));
        for (local, utc) in [
            ("2026-10-24T22:30", at(2026, 10, 24, 20, 30)),
            ("2026-10-24T23:00", saturday),
        ] {
            let r = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap()
                .post(desk.app.url(&format!("/desk/cases/{case}/act")))
                .bearer_auth(&desk.app.responder)
                .form(&[
                    ("action", "correct_awareness"),
                    ("aware_at", local),
                    ("reason", "the first alert's time, read again"),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 303, "{}", r.text().await.unwrap());
            let (_, detail) = desk
                .app
                .get(&desk.app.viewer, &format!("/api/v1/cases/{case}"))
                .await;
            assert_eq!(detail["cra"]["aware_at"], iso(utc), "{detail}");
        }
        let early = desk.clock(&case, "cra_early_warning", saturday).await;
        assert_eq!(early["started_at"], iso(saturday), "{early}");
        // The preset reads the hours on the local wall clock: Sunday 23:00
        // CET (22:00 UTC), though the night was an hour longer.
        assert_eq!(due(&early), at(2026, 10, 25, 22, 0), "{early}");
        let notification = desk.clock(&case, "cra_notification", saturday).await;
        assert_eq!(due(&notification), at(2026, 10, 27, 22, 0));

        // The pack, drafted from the case, valid against the published schema.
        let path = format!("/api/v1/cases/{case}/cra/early_warning");
        let (status, view) = desk.app.get(&desk.app.viewer, &path).await;
        assert_eq!(status, 200, "{view}");
        let mut pack = view["pack"].clone();
        assert_eq!(pack["product"], "example-product");
        assert_eq!(pack["versions"], json!(["2.3.0", "2.3.1"]));
        assert_eq!(pack["member_states"], json!(["FR", "DE", "BE"]));
        assert_eq!(pack["aware_at"], iso(saturday));
        assert_eq!(view["clock"]["id"], "cra_early_warning");
        crate::advisories::schema_valid(&pack, &[&pack_schema()]);
        for stage in ["notification", "intermediate", "final_report"] {
            let (status, other) = desk
                .app
                .get(
                    &desk.app.viewer,
                    &format!("/api/v1/cases/{case}/cra/{stage}"),
                )
                .await;
            assert_eq!(status, 200, "{other}");
            assert_eq!(other["pack"]["stage"], stage);
            crate::advisories::schema_valid(&other["pack"], &[&pack_schema()]);
        }

        // The team edits it, a viewer may not, and the edit is what is sent.
        pack["member_states"] = json!(["FR", "DE", "BE", "NL"]);
        pack["sensitivity"] = json!("restricted");
        let save = json!({"action": "save_cra_report", "report": pack});
        desk.set(at(2026, 10, 25, 8, 0));
        let (status, _) = desk
            .app
            .post(
                &desk.app.viewer,
                &format!("/api/v1/cases/{case}/transitions"),
                &save,
            )
            .await;
        assert_eq!(status, 403);
        desk.act(&case, at(2026, 10, 25, 8, 0), save).await;
        let (status, markdown) =
            markdown(&desk, &format!("/desk/cases/{case}/cra/early_warning")).await;
        assert_eq!(status, 200);
        assert!(markdown.starts_with("# Early warning"), "{markdown}");
        assert!(markdown.contains("FR, DE, BE, NL"), "{markdown}");

        desk.act(
            &case,
            at(2026, 10, 25, 9, 30),
            json!({"action": "submit_cra_report", "stage": "early_warning",
                   "platform_reference": "SRP-2026-0042"}),
        )
        .await;
        let (_, view) = desk.app.get(&desk.app.viewer, &path).await;
        assert_eq!(view["submitted"]["platform_reference"], "SRP-2026-0042");
        assert_eq!(view["submitted"]["by"], "user:rita", "{view}");
        assert_eq!(view["pack"]["sensitivity"], "restricted");
        let early = desk
            .clock(&case, "cra_early_warning", at(2026, 10, 26, 0, 0))
            .await;
        assert_eq!(early["status"], "met", "{early}");
        assert_eq!(early["recorded"], true);

        // The notification lacks what the Act asks: refused, naming the field.
        let (status, body) = desk
            .attempt(
                &case,
                at(2026, 10, 26, 10, 0),
                &json!({"action": "submit_cra_report", "stage": "notification"}),
            )
            .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(
            body["error"]["field"], "report.corrective_measures_taken",
            "{body}"
        );
        // Closing while reports are owed is refused, naming them.
        let (status, body) = desk
            .attempt(
                &case,
                at(2026, 10, 26, 11, 0),
                &json!({"action": "out_of_scope", "reason": "r"}),
            )
            .await;
        assert_eq!(status, 409, "{body}");
        assert_eq!(body["error"]["code"], "reports_owed", "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("CRA notification"),
            "{body}"
        );
        // Never sent: breached.
        let late = desk
            .clock(&case, "cra_notification", at(2026, 10, 28, 0, 0))
            .await;
        assert_eq!(late["status"], "breached", "{late}");
        let history = desk.history_kinds(&case).await;
        let kinds: Vec<&str> = history.iter().filter_map(|e| e["kind"].as_str()).collect();
        for kind in [
            "exploitation_confirmed",
            "cra_report_saved",
            "cra_report_submitted",
        ] {
            assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
        }

        // The evidence bundle: a viewer may not take it; it verifies; one
        // byte changed anywhere is named.
        let bundle_path = format!("/api/v1/cases/{case}/cra/bundle.zip");
        assert_eq!(raw(&desk, &desk.app.viewer, &bundle_path).await.0, 403);
        let (status, bundle) = raw(&desk, &desk.app.responder, &bundle_path).await;
        assert_eq!(status, 200);
        let verified = embargo_core::evidence::verify(&bundle).unwrap();
        assert_eq!(verified.manifest.case, case);
        assert_eq!(verified.events, history.len());
        let names: Vec<&str> = verified
            .manifest
            .files
            .iter()
            .map(|f| f.path.as_str())
            .collect();
        assert!(names.contains(&"events.json"), "{names:?}");
        assert!(
            names
                .iter()
                .any(|n| n.starts_with("packs/") && n.ends_with("-early_warning.json")),
            "{names:?}"
        );
        for (marker, named) in [
            ("SRP-2026-0042", "case.json"),
            ("\"prev_hash\"", "events.json"),
            ("**Sensitivity:** restricted", "-early_warning.md"),
            ("\"exported_at\"", "manifest.json"),
        ] {
            let mut tampered = bundle.clone();
            let at = find(&tampered, marker.as_bytes()).unwrap_or_else(|| panic!("{marker}"));
            tampered[at + marker.len() - 2] ^= 0x01;
            let err = embargo_core::evidence::verify(&tampered).unwrap_err();
            assert!(err.contains(named), "{marker}: {err}");
        }
        desk.app.stop().await;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

async fn raw(desk: &Desk, token: &str, path: &str) -> (u16, Vec<u8>) {
    let r = reqwest::Client::new()
        .get(desk.app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

async fn markdown(desk: &Desk, path: &str) -> (u16, String) {
    let r = reqwest::Client::new()
        .get(desk.app.url(&format!("{path}?format=markdown")))
        .bearer_auth(&desk.app.viewer)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The reporter's report can claim exploitation; the team confirms it (the
/// awareness defaults to the claim's arrival) or rejects it with a reason;
/// each is an event.
#[tokio::test]
async fn a_reporters_claim_is_confirmed_from_its_arrival_or_rejected() {
    for db in TestDatabase::all().await {
        let desk = Desk::start(db, "eu-cra", at(2026, 6, 1, 8, 0)).await;
        let claim = |title: &str| {
            json!({"title": title, "product": "example-product",
                   "reporter": {"contact": "r@example.org"},
                   "report": {"summary": "s", "description": "d"},
                   "exploited_evidence": "I see it used against my own server since last night"})
        };
        desk.set(at(2026, 6, 1, 8, 0));
        let (status, receipt) = desk
            .app
            .post("", "/api/v1/reports", &claim("claimed one"))
            .await;
        assert_eq!(status, 201, "{receipt}");
        let first = receipt["reference"].as_str().unwrap().to_owned();
        desk.set(at(2026, 6, 1, 9, 0));
        let (status, receipt) = desk
            .app
            .post("", "/api/v1/reports", &claim("claimed two"))
            .await;
        assert_eq!(status, 201, "{receipt}");
        let second = receipt["reference"].as_str().unwrap().to_owned();

        let (_, detail) = desk
            .app
            .get(&desk.app.viewer, &format!("/api/v1/cases/{first}"))
            .await;
        assert_eq!(detail["cra"]["exploitation"], "claimed", "{detail}");
        assert_eq!(
            detail["history"][1]["kind"], "exploitation_claimed",
            "{detail}"
        );
        // Confirmed at 14:00: the team's awareness counts from the claim, 08:00.
        desk.act(
            &first,
            at(2026, 6, 1, 14, 0),
            json!({"action": "mark_exploited", "source": "reporter",
                   "evidence": "reproduced the reporter's exploit against 2.3.1"}),
        )
        .await;
        let early = desk
            .clock(&first, "cra_early_warning", at(2026, 6, 1, 15, 0))
            .await;
        assert_eq!(due(&early), at(2026, 6, 2, 8, 0), "{early}");

        // The second claim is rejected, with a reason; no clock runs.
        let (status, body) = desk
            .attempt(
                &second,
                at(2026, 6, 1, 15, 0),
                &json!({"action": "reject_exploitation", "reason": ""}),
            )
            .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["error"]["field"], "reason");
        desk.act(
            &second,
            at(2026, 6, 1, 15, 0),
            json!({"action": "reject_exploitation",
                   "reason": "the traffic the reporter saw targets another product"}),
        )
        .await;
        let early = desk
            .clock(&second, "cra_early_warning", at(2026, 6, 3, 0, 0))
            .await;
        assert_eq!(early["status"], "not_started", "{early}");
        desk.app.stop().await;
    }
}

/// KEV through CVE aliases to findings: a sync that only adds CISA's real
/// catalog (`../shared/data/kev`) and EPSS to the same records re-matches,
/// marks the finding with CISA's dates and EPSS, tells the team once, and
/// the API shows them, on the finding and on the case it is escalated into.
#[tokio::test]
async fn a_finding_newly_listed_in_kev_is_marked_and_told_once() {
    for db in TestDatabase::all().await {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("osv.db");
        let record = serde_json::from_value(json!({
            "id": "GHSA-kev1", "modified": "2026-01-01T00:00:00Z", "aliases": ["CVE-2025-48384"],
            "affected": [{"package": {"ecosystem": "npm", "name": "left-pad"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.3.0"}]}]}]
        }))
        .unwrap();
        let (vulndb, _) = embargo_vulndb::db::Database::build([Ok(record)]);
        vulndb.save(&path).unwrap();
        let settings = embargo_server::ServerSettings {
            vulndb: Some(path.clone()),
            ..embargo_server::ServerSettings::default()
        };
        let app = crate::TestApp::start_with(db, settings).await;
        let product = json!({"id": "shop", "name": "Web shop", "owner": "team-web",
            "deployment": "saas", "exposure": "internet_facing"});
        assert_eq!(
            app.post(&app.admin, "/api/v1/products", &product).await.0,
            201
        );
        let (status, hook) = app
            .post(
                &app.admin,
                "/api/v1/webhooks",
                &json!({"name": "siem", "url": "https://siem.example/hook",
                        "kinds": ["finding.known_exploited"]}),
            )
            .await;
        assert_eq!(status, 201, "{hook}");
        let lock = r#"{"lockfileVersion": 3, "packages": {"": {"name": "shop"},
            "node_modules/left-pad": {"version": "1.1.0"}}}"#;
        let r = app
            .http
            .post(app.url("/api/v1/products/shop/releases/1.0/sbom?filename=package-lock.json"))
            .bearer_auth(&app.responder)
            .body(lock)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let empty = json!({});
        let rematch = || app.post(&app.admin, "/api/v1/portfolio/rematch", &empty);
        assert_eq!(rematch().await.1["kind"], "full");

        // The sync adds KEV and EPSS to the same records.
        let mut listed = embargo_vulndb::db::Database::load(&path).unwrap();
        let catalog = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/kev/known_exploited_vulnerabilities.json");
        let Ok(catalog) = std::fs::read(&catalog) else {
            assert!(
                std::env::var_os("CI").is_none(),
                "{} is present in CI",
                catalog.display()
            );
            eprintln!("skipped: {} absent", catalog.display());
            return;
        };
        let import = listed.enrich_kev(&catalog).unwrap();
        assert_eq!(import.marked, 1, "{import:?}");
        listed
            .enrich_epss(b"#model_version:v2025.03.14,score_date:2026-12-01T00:00:00Z\ncve,epss,percentile\nCVE-2025-48384,0.91,0.99\n")
            .unwrap();
        let fresh = path.with_extension("new");
        listed.save(&fresh).unwrap();
        std::fs::rename(&fresh, &path).unwrap();
        let (_, out) = rematch().await;
        assert_eq!(out["kind"], "incremental", "{out}");
        assert_eq!(out["changed_advisories"], 1, "{out}");

        let (_, list) = app.get(&app.viewer, "/api/v1/findings?product=shop").await;
        let f = &list["findings"][0];
        assert_eq!(f["known_exploited"], true, "{f}");
        assert_eq!(f["kev"]["cve"], "CVE-2025-48384", "{f}");
        assert_eq!(f["kev"]["date_added"], "2025-08-25", "{f}");
        assert_eq!(f["kev"]["due_date"], "2025-09-15");
        assert_eq!(f["kev"]["ransomware"], false);
        assert!((f["epss"].as_f64().unwrap() - 0.91).abs() < 1e-6, "{f}");
        assert!((f["epss_percentile"].as_f64().unwrap() - 0.99).abs() < 1e-6);

        // Told once: the same database again changes nothing.
        let told = || async {
            app.store
                .deliveries(None, None, 100)
                .await
                .unwrap()
                .into_iter()
                .filter(|d| d.kind == "finding.known_exploited")
                .count()
        };
        assert_eq!(told().await, 1);
        let again = embargo_vulndb::db::Database::load(&path).unwrap();
        let fresh = path.with_extension("new");
        again.save(&fresh).unwrap();
        std::fs::rename(&fresh, &path).unwrap();
        rematch().await;
        assert_eq!(told().await, 1);
        let id = f["id"].as_i64().unwrap();
        let history = app.store.finding_history(id).await.unwrap();
        assert_eq!(
            history
                .iter()
                .filter(|(_, _, change)| change.get("known_exploited").is_some())
                .count(),
            1
        );
        // Escalated into a case, the case shows the finding's signals.
        let (status, escalated) = app
            .post(
                &app.responder,
                "/api/v1/findings/escalate",
                &json!({"findings": [id]}),
            )
            .await;
        assert_eq!(status, 201, "{escalated}");
        let reference = escalated["case"].as_str().unwrap();
        let (_, detail) = app
            .get(&app.viewer, &format!("/api/v1/cases/{reference}"))
            .await;
        assert_eq!(
            detail["signals"][0]["kev"]["date_added"], "2025-08-25",
            "{detail}"
        );
        assert_eq!(detail["signals"][0]["advisory"], "GHSA-kev1");
        // Confirmed from KEV later: the awareness is the listing's arrival.
        let listed_at = history
            .iter()
            .find(|(_, _, change)| change.get("known_exploited").is_some())
            .unwrap()
            .0;
        let (status, body) = app
            .post(
                &app.responder,
                &format!("/api/v1/cases/{reference}/transitions"),
                &json!({"action": "mark_exploited", "source": "kev",
                        "evidence": "listed in CISA's KEV catalog"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let aware: chrono::DateTime<chrono::Utc> = body["case"]["cra"]["aware_at"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(aware, listed_at, "{body}");
        app.stop().await;
    }
}

/// A severe incident is a case of its own, not tied to a report: opened by
/// the team, its clocks run from the awareness given.
#[tokio::test]
async fn a_severe_incident_opens_a_case_whose_clocks_run_from_awareness() {
    for db in TestDatabase::all().await {
        let desk = Desk::start(db, "eu-cra", at(2026, 3, 2, 12, 0)).await;
        desk.set(at(2026, 3, 2, 12, 0));
        let (status, case) = desk
            .app
            .post(
                &desk.app.responder,
                "/api/v1/incidents",
                &json!({"title": "Signing key stolen", "product": "example-product",
                        "description": "Our build signing key was exfiltrated.",
                        "aware_at": "2026-03-02T09:30:00Z"}),
            )
            .await;
        assert_eq!(status, 201, "{case}");
        assert_eq!(case["cra"]["subject"], "incident", "{case}");
        assert!(case["reporter"]["contact"].is_null(), "{case}");
        let reference = case["reference"].as_str().unwrap().to_owned();
        let early = desk
            .clock(&reference, "cra_early_warning", at(2026, 3, 2, 12, 0))
            .await;
        assert_eq!(due(&early), at(2026, 3, 3, 9, 30), "{early}");
        let (status, body) = desk
            .app
            .post(
                &desk.app.viewer,
                "/api/v1/incidents",
                &json!({"title": "t", "product": "p", "description": "d"}),
            )
            .await;
        assert_eq!(status, 403, "{body}");
        desk.app.stop().await;
    }
}
