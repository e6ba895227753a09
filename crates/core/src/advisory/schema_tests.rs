//! Every export of an advisory against its official schema, with the
//! independent Python `jsonschema` (`../shared/data/schemas`; skipped with a
//! message outside CI when absent), and CSAF's mandatory tests against the
//! technical committee's test files.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::tests::{at, sample};
use super::{csaf, cve5, osv, vex};

fn shared(path: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(path);
    if p.exists() {
        Some(p)
    } else {
        assert!(
            std::env::var_os("CI").is_none(),
            "{} is present in CI",
            p.display()
        );
        eprintln!("skipped: {} is absent", p.display());
        None
    }
}

/// The violations the official schema finds (empty when valid); `None`
/// when the schemas or the validator are absent outside CI.
fn violations(document: &Value, schemas: &[&str]) -> Option<String> {
    let root = shared("schemas")?;
    let ok = std::process::Command::new("python3")
        .args(["-c", "import jsonschema, referencing"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "Python's jsonschema is installed in CI"
        );
        eprintln!("skipped: Python's jsonschema is absent");
        return None;
    }
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../vulndb/tests/support/validate_json.py");
    let args: Vec<String> = schemas
        .iter()
        .map(|s| match s.split_once('=') {
            Some((url, path)) => format!("{url}={}", root.join(path).display()),
            None => root.join(s).display().to_string(),
        })
        .collect();
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .args(&args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let text = serde_json::to_string_pretty(document).unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    Some(if out.status.success() {
        String::new()
    } else {
        format!("{}\n{text}", String::from_utf8_lossy(&out.stdout))
    })
}

const CSAF: &[&str] = &[
    "csaf-2.0/csaf_json_schema.json",
    "https://www.first.org/cvss/cvss-v3.1.json=csaf-2.0/referenced/first/cvss-v3.1.json",
    "https://www.first.org/cvss/cvss-v3.0.json=csaf-2.0/referenced/first/cvss-v3.0.json",
    "https://www.first.org/cvss/cvss-v2.0.json=csaf-2.0/referenced/first/cvss-v2.0.json",
];
const CYCLONEDX: &[&str] = &[
    "cyclonedx/bom-1.6.schema.json",
    "cyclonedx/spdx.schema.json",
    "cyclonedx/jsf-0.82.schema.json",
];

#[test]
fn every_export_validates_against_its_official_schema() {
    let (mut a, publisher) = sample();
    let now = at("2026-11-23T10:00:00Z");
    // A draft's CSAF, then the published advisory in every format, then
    // one without CVE, CWE, score or credits, and one scored with CVSS 4.0.
    let draft = csaf::document(&a, &publisher, now);
    a.publish(true, None, now, "").unwrap();
    let mut bare = a.clone();
    bare.cve = None;
    bare.cwe = None;
    bare.cvss = None;
    bare.credits.clear();
    bare.workarounds.clear();
    let mut v4 = a.clone();
    v4.cvss = Some("CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:N/VI:H/VA:N/SC:N/SI:N/SA:N".into());
    v4.cwe = Some("CWE-4242".into());
    // Actively exploited (CRA Article 14(8)): CSAF `exploit_status`.
    let mut exploited = a.clone();
    exploited.exploited = Some(super::Exploited {
        since: at("2026-11-20T08:00:00Z"),
        source: "threat_intelligence".into(),
    });
    let doc = csaf::document(&exploited, &publisher, now);
    assert_eq!(
        doc["vulnerabilities"][0]["threats"][0]["category"],
        "exploit_status"
    );
    assert_eq!(
        osv::record(&exploited, &publisher).unwrap()["database_specific"]["exploitation"]["status"],
        "actively_exploited"
    );
    let uuid = "7f0b7d6e-3c4e-4e1a-9f51-0c2d6a1b2c3d";
    let mut documents: Vec<(&str, Value, &[&str])> = vec![("CSAF draft", draft, CSAF)];
    for (label, adv) in [
        ("published", &a),
        ("bare", &bare),
        ("CVSS 4.0", &v4),
        ("actively exploited", &exploited),
    ] {
        let doc = csaf::document(adv, &publisher, now);
        assert_eq!(
            csaf::check(&doc),
            vec![],
            "{label}: embargo's own CSAF checks"
        );
        documents.push(("CSAF", doc, CSAF));
        documents.push((
            "OSV",
            osv::record(adv, &publisher).unwrap(),
            &["osv/schema.json"],
        ));
        if let Some(cve) = cve5::record(adv, &publisher) {
            documents.push(("CVE 5", cve, &["cve-5/CVE_Record_Format_bundled.json"]));
        }
        documents.push((
            "OpenVEX",
            vex::openvex(adv, &publisher, uuid).unwrap(),
            &["openvex/openvex_json_schema.json"],
        ));
        documents.push((
            "CycloneDX VEX",
            vex::cyclonedx(adv, &publisher, uuid).unwrap(),
            CYCLONEDX,
        ));
    }
    assert!(
        cve5::record(&bare, &publisher).is_none(),
        "no CVE record without a CVE id"
    );
    // A release's VEX, with a finding in every analysis state.
    let vex = csaf::release_vex(
        "dock-certs",
        "2.4.0",
        &release_findings(now),
        &publisher,
        now,
    );
    assert_eq!(
        csaf::check(&vex),
        vec![],
        "release VEX: embargo's own CSAF checks"
    );
    assert_eq!(vex["document"]["category"], "csaf_vex");
    documents.push(("CSAF VEX of a release", vex, CSAF));
    let mut draft_only = a.clone();
    draft_only.published = None;
    assert!(
        osv::record(&draft_only, &publisher).is_none(),
        "a draft is never exported"
    );
    for (label, doc, schemas) in documents {
        // embargo's own readers take what embargo writes: OSV through the
        // vulnerability database's import, CycloneDX through the SBOM check.
        match label {
            "OSV" => {
                let record: embargo_vulndb::osv::Record =
                    serde_json::from_value(doc.clone()).unwrap();
                let (db, report) = embargo_vulndb::db::Database::build([Ok(record)]);
                assert!(
                    report.skipped.is_empty() && report.imported == 1,
                    "{report:?}"
                );
                let hits = db
                    .matches(
                        embargo_vulndb::version::Ecosystem::CratesIo,
                        "widget-server",
                        "1.4.1",
                    )
                    .unwrap();
                assert_eq!(hits.len(), 1, "the exported ranges match what they say");
                assert!(
                    db.matches(
                        embargo_vulndb::version::Ecosystem::CratesIo,
                        "widget-server",
                        "1.4.2"
                    )
                    .unwrap()
                    .is_empty()
                );
            }
            "CycloneDX VEX" => {
                let read = embargo_vulndb::sbom::cyclonedx_json(Path::new("vex.json"), &doc);
                assert!(read.is_ok(), "{read:?}");
            }
            _ => {}
        }
        if let Some(v) = violations(&doc, schemas) {
            assert!(v.is_empty(), "{label}: {v}");
        }
    }
}

#[test]
fn the_mandatory_tests_agree_with_the_technical_committees_files() {
    let Some(root) = shared("conformance/csaf-2.0-validator") else {
        return;
    };
    let cases: Value =
        serde_json::from_slice(&std::fs::read(root.join("testcases.json")).unwrap()).unwrap();
    let mut wrong = Vec::new();
    let mut checked = 0;
    for case in cases["tests"].as_array().unwrap() {
        let id = case["id"].as_str().unwrap();
        let Some(test) = csaf::IMPLEMENTED.iter().find(|t| **t == id) else {
            continue;
        };
        for (list, should_fail) in [("failures", true), ("valid", false)] {
            for file in case[list].as_array().into_iter().flatten() {
                let name = file["name"].as_str().unwrap();
                let doc: Value =
                    serde_json::from_slice(&std::fs::read(root.join(name)).unwrap()).unwrap();
                let found = csaf::run(test, &doc);
                checked += 1;
                if should_fail && found.is_empty() {
                    wrong.push(format!("{id} {name}: not detected"));
                }
                if !should_fail && !found.is_empty() {
                    wrong.push(format!("{id} {name}: wrongly refused: {found:?}"));
                }
                // A valid file passes every implemented test, not only its own.
                if !should_fail {
                    let all = csaf::check(&doc);
                    if !all.is_empty() {
                        wrong.push(format!("{name} (valid for {id}): {all:?}"));
                    }
                }
            }
        }
    }
    assert!(checked > 40, "{checked} files checked");
    assert!(
        wrong.is_empty(),
        "{} disagreements:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

fn release_findings(now: crate::Instant) -> Vec<crate::portfolio::Finding> {
    use crate::portfolio::{Analysis, Finding, Justification, ProductExposure};
    let finding =
        |id: i64, component: &str, advisory: &str, analysis: Analysis, fixed: &[&str]| Finding {
            id,
            product: "dock-certs".into(),
            release: "2.4.0".into(),
            component: component.into(),
            advisory: advisory.into(),
            severity: Some(crate::Severity::High),
            known_exploited: false,
            epss: None,
            kev: None,
            epss_percentile: None,
            fixed: fixed.iter().map(|f| (*f).to_owned()).collect(),
            patch_available_at: None,
            analysis,
            first_seen: now,
            updated_at: now,
            due: None,
            deadline: None,
            deadline_clock: None,
            patch_source: None,
            product_exposure: ProductExposure::Internal,
        };
    vec![
        finding(
            1,
            "pkg:npm/lodash@4.17.20",
            "GHSA-35jh-r3h4-6jhm",
            Analysis::Affected,
            &["4.17.21"],
        ),
        finding(
            2,
            "pkg:npm/minimist@1.2.5",
            "GHSA-xvch-5gv4-984h",
            Analysis::InTriage,
            &[],
        ),
        finding(
            3,
            "pkg:npm/qs@6.5.2",
            "CVE-2022-24999",
            Analysis::NotAffected {
                justification: Justification::CodeNotReachable,
            },
            &["6.5.3"],
        ),
        finding(
            4,
            "pkg:npm/lodash@4.17.20",
            "GHSA-p6mc-m468-83gw",
            Analysis::Resolved,
            &["4.17.19"],
        ),
        finding(
            5,
            "pkg:npm/ws@7.4.5",
            "GHSA-6fc8-4gx4-v693",
            Analysis::RiskAccepted {
                until: now + chrono::Duration::days(30),
            },
            &[],
        ),
        finding(6, "sarif:semgrep", "sqli#f1", Analysis::FalsePositive, &[]),
        finding(
            7,
            "pkg:npm/minimist@1.2.5",
            "GHSA-vh95-rmgr-6w4m",
            Analysis::Affected,
            &[],
        ),
    ]
}
