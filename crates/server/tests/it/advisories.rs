//! Advisories end to end: a draft is reachable by no public URL, feed or
//! provider file; publication waits for the fix; the published advisory
//! appears on the security center, in the feed and in a consistent CSAF
//! provider directory (every listed file exists, its hashes match), with the
//! reporter credited only by their consent.

use serde_json::{Value, json};
use sha2::Digest;

use crate::each_backend;

fn draft(title: &str) -> Value {
    json!({
        "id": "EMB-2026-0042",
        "title": title,
        "summary": "A crafted name writes outside the upload directory",
        "description": "First paragraph.\n\nSecond paragraph with <b>markup</b>.",
        "affected": [{"vendor": "Example Corp", "product": "Dock Certs", "purl": "pkg:cargo/dock-certs",
                      "ranges": [{"introduced": "1.0.0", "fixed": "1.4.2"}]}],
        "workarounds": ["Disable uploads."],
        "cvss": "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:N/I:H/A:N",
        "cwe": "CWE-22",
        "cve": "CVE-2026-4242",
        "references": [{"url": "https://example.org/changelog", "summary": "Changelog"}],
        "credits": [{"name": "Team Analyst", "kind": "analyst"}]
    })
}

#[tokio::test]
async fn drafts_stay_private_and_publication_fills_the_security_center() {
    each_backend(|app| async move {
        let text = |path: &'static str| {
            let app = app.clone();
            async move {
                let r = app.http.get(app.url(path)).send().await.unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            }
        };
        let (status, case) = app
            .post(
                &app.responder,
                "/api/v1/cases",
                &json!({"title": "upload traversal", "product": "Dock Certs",
                        "reporter": {"contact": "ada@example.org", "name": "Ada Researcher"},
                        "report": {"summary": "s", "description": "d"}}),
            )
            .await;
        assert_eq!(status, 201, "{case}");
        let reference = case["reference"].as_str().unwrap().to_owned();
        let base = format!("/api/v1/cases/{reference}/advisory");

        // The reporter's credit comes from their consent, not from the team.
        let mut bad = draft("x");
        bad["credits"] = json!([{"name": "Someone", "kind": "finder"}]);
        let r = app
            .http
            .put(app.url(&base))
            .bearer_auth(&app.responder)
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 422);
        assert!(r.text().await.unwrap().contains("credits[0].kind"));

        let title = "Path traversal <script>alert(1)</script> in uploads";
        let r = app
            .http
            .put(app.url(&base))
            .bearer_auth(&app.responder)
            .json(&draft(title))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let view: Value = r.json().await.unwrap();
        assert_eq!(view["status"], "draft");
        assert_eq!(view["csaf"]["document"]["tracking"]["status"], "draft");
        assert_eq!(view["csaf_problems"], json!([]));
        assert!(
            view["release_note"]
                .as_str()
                .unwrap()
                .contains("fixes a security vulnerability")
        );

        // Nothing of the draft is public.
        for path in [
            "/advisories/EMB-2026-0042",
            "/advisories/EMB-2026-0042/csaf.json",
            "/advisories/EMB-2026-0042/osv.json",
            "/.well-known/csaf/white/2026/emb-2026-0042.json",
        ] {
            let r = app.http.get(app.url(path)).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 404, "{path} before publication");
        }
        for path in [
            "/advisories",
            "/advisories/feed.atom",
            "/.well-known/csaf/white/index.txt",
            "/.well-known/csaf/white/changes.csv",
        ] {
            let (status, body) = text(path).await;
            assert_eq!(status, 200);
            assert!(
                !body.contains("EMB-2026-0042") && !body.contains("emb-2026-0042"),
                "{path}: {body}"
            );
        }

        // Not before the case is fixed.
        let (status, body) = app
            .post(
                &app.responder,
                &format!("{base}/publish"),
                &json!({"credit_reporter": true}),
            )
            .await;
        assert_eq!(status, 422, "{body}");
        assert!(
            body.to_string().contains("fixed or its disclosure date"),
            "{body}"
        );

        for action in [
            "acknowledge",
            "start_triage",
            "accept",
            "start_fix",
            "fix_available",
        ] {
            let (status, body) = app
                .post(
                    &app.responder,
                    &format!("/api/v1/cases/{reference}/transitions"),
                    &json!({"action": action}),
                )
                .await;
            assert_eq!(status, 200, "{action}: {body}");
        }
        let (status, view) = app
            .post(
                &app.responder,
                &format!("{base}/publish"),
                &json!({"credit_reporter": true}),
            )
            .await;
        assert_eq!(status, 200, "{view}");
        assert_eq!(view["status"], "published");
        assert_eq!(view["csaf_problems"], json!([]));
        let credits = view["advisory"]["credits"].as_array().unwrap();
        assert_eq!(credits[0]["name"], "Ada Researcher");
        assert_eq!(credits[0]["kind"], "finder");

        // The security center.
        let (status, index) = text("/advisories").await;
        assert_eq!(status, 200);
        assert!(index.contains("EMB-2026-0042") && index.contains("CVE-2026-4242"));
        assert!(index.contains("Advisories 1–1 of 1, newest first."), "{index}");
        assert_eq!(text("/advisories?page=1").await.0, 200);
        assert_eq!(text("/advisories?page=2").await.0, 404, "no second page");
        assert_eq!(text("/advisories?page=abc").await.0, 404);
        assert!(
            index.contains("&lt;script&gt;") && !index.contains("<script>"),
            "escaped: {index}"
        );
        let (_, filtered) = text("/advisories?severity=critical").await;
        assert!(
            !filtered.contains("EMB-2026-0042"),
            "a medium advisory is filtered out"
        );
        let (_, filtered) = text("/advisories?severity=medium&product=Dock%20Certs").await;
        assert!(filtered.contains("EMB-2026-0042"));
        let (status, page) = text("/advisories/EMB-2026-0042").await;
        assert_eq!(status, 200);
        assert!(page.contains("Ada Researcher") && page.contains("fixed in 1.4.2"));
        // Escaped as text.
        assert!(page.contains("&lt;b&gt;markup&lt;") && !page.contains("<b>markup"));
        assert!(
            !page.contains(&reference),
            "the internal case reference stays private"
        );
        let (_, feed) = text("/advisories/feed.atom").await;
        assert!(feed.contains("<entry>") && feed.contains("/advisories/EMB-2026-0042"));
        assert!(roxmltree_like_well_formed(&feed));
        // Paged as RFC 5005 says, with the total: one page here.
        assert!(
            feed.contains("<opensearch:totalResults>1</opensearch:totalResults>"),
            "{feed}"
        );
        assert!(feed.contains("<link rel=\"first\" href=\"") && feed.contains("<link rel=\"last\""));
        assert!(!feed.contains("rel=\"next\""), "{feed}");
        assert_eq!(text("/advisories/feed.atom?page=2").await.0, 404);
        assert_eq!(text("/advisories/feed.atom?page=1").await.0, 200);
        for file in [
            "csaf.json",
            "osv.json",
            "cve.json",
            "openvex.json",
            "cyclonedx.json",
        ] {
            let r = app
                .http
                .get(app.url(&format!("/advisories/EMB-2026-0042/{file}")))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200, "{file}");
            let doc: Value = r.json().await.unwrap();
            assert!(
                !doc.to_string().contains(&reference),
                "{file} carries no case reference"
            );
        }
        let (_, note) = text("/advisories/EMB-2026-0042/release-note.md").await;
        assert!(note.contains("CVE-2026-4242"));

        // The CSAF provider: every listed file exists and its hashes match.
        let (_, metadata) = text("/.well-known/csaf/provider-metadata.json").await;
        let metadata: Value = serde_json::from_str(&metadata).unwrap();
        assert_eq!(metadata["role"], "csaf_provider");
        schema_valid(
            &metadata,
            &[
                "csaf-2.0/provider_json_schema.json",
                "csaf-2.0/csaf_json_schema.json",
            ],
        );
        let (_, index) = text("/.well-known/csaf/white/index.txt").await;
        let (_, changes) = text("/.well-known/csaf/white/changes.csv").await;
        assert_eq!(index.lines().count(), 1);
        for path in index.lines() {
            assert!(
                changes.contains(&format!("\"{path}\"")),
                "{path} in changes.csv"
            );
            let body = app
                .http
                .get(app.url(&format!("/.well-known/csaf/white/{path}")))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let doc: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(doc["document"]["tracking"]["id"], "EMB-2026-0042");
            assert!(embargo_core::advisory::csaf::check(&doc).is_empty());
            schema_valid(
                &doc,
                &[
                    "csaf-2.0/csaf_json_schema.json",
                    "https://www.first.org/cvss/cvss-v3.1.json=csaf-2.0/referenced/first/cvss-v3.1.json",
                    "https://www.first.org/cvss/cvss-v3.0.json=csaf-2.0/referenced/first/cvss-v3.0.json",
                    "https://www.first.org/cvss/cvss-v2.0.json=csaf-2.0/referenced/first/cvss-v2.0.json",
                ],
            );
            let name = path.rsplit('/').next().unwrap();
            for (ext, hex) in [
                (
                    "sha256",
                    sha2::Sha256::digest(body.as_bytes())
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect::<String>(),
                ),
                (
                    "sha512",
                    sha2::Sha512::digest(body.as_bytes())
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect::<String>(),
                ),
            ] {
                let line = app
                    .http
                    .get(app.url(&format!("/.well-known/csaf/white/{path}.{ext}")))
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap();
                assert_eq!(line, format!("{hex}  {name}\n"), "{path}.{ext}");
            }
        }
        let r = app
            .http
            .get(app.url("/.well-known/csaf/white/2026/other.json"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 404);

        // The signatures verify with GnuPG and the key the metadata publishes.
        let key_url = metadata["public_openpgp_keys"][0]["url"].as_str().unwrap();
        let fingerprint = metadata["public_openpgp_keys"][0]["fingerprint"]
            .as_str()
            .unwrap();
        let key_path = key_url.split("/.well-known/").nth(1).unwrap();
        let key = app
            .http
            .get(app.url(&format!("/.well-known/{key_path}")))
            .send()
            .await
            .unwrap();
        assert_eq!(key.status().as_u16(), 200);
        let key = key.text().await.unwrap();
        let path = index.lines().next().unwrap();
        let body = app
            .http
            .get(app.url(&format!("/.well-known/csaf/white/{path}")))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let signature = app
            .http
            .get(app.url(&format!("/.well-known/csaf/white/{path}.asc")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        gpg_verifies(&key, fingerprint, &body, &signature);
    })
    .await;
}

/// Verifies a detached signature with GnuPG (an independent OpenPGP
/// implementation) in a throwaway home; skipped outside CI without gpg.
fn gpg_verifies(key: &str, fingerprint: &str, data: &[u8], signature: &str) {
    use std::process::Command;
    if Command::new("gpg").arg("--version").output().is_err() {
        assert!(std::env::var_os("CI").is_none(), "gpg is installed in CI");
        eprintln!("skipped: gpg is absent");
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("key.asc"), key).unwrap();
    std::fs::write(dir.path().join("doc.json"), data).unwrap();
    std::fs::write(dir.path().join("doc.json.asc"), signature).unwrap();
    let gpg = |args: &[&str]| {
        Command::new("gpg")
            .arg("--homedir")
            .arg(home.path())
            .args(["--batch", "--no-tty"])
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let import = gpg(&["--import", "key.asc"]);
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    let verify = gpg(&["--status-fd", "1", "--verify", "doc.json.asc", "doc.json"]);
    let status = String::from_utf8_lossy(&verify.stdout);
    assert!(
        verify.status.success(),
        "{status}{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(
        status.contains(&format!("VALIDSIG {fingerprint}")),
        "{status}"
    );
    std::fs::write(dir.path().join("doc.json"), b"tampered").unwrap();
    let tampered = gpg(&["--verify", "doc.json.asc", "doc.json"]);
    assert!(!tampered.status.success(), "a changed document fails");
}

/// A cheap well-formedness check of the feed: tags balance.
fn roxmltree_like_well_formed(xml: &str) -> bool {
    let opens = xml.matches("<entry>").count();
    let closes = xml.matches("</entry>").count();
    opens == closes && xml.trim_end().ends_with("</feed>")
}

#[tokio::test]
async fn vectors_set_severity_in_the_policys_words() {
    each_backend(|app| async move {
        let (status, a) = app
            .get(
                &app.viewer,
                "/api/v1/cvss?vector=CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            )
            .await;
        assert_eq!(status, 200, "{a}");
        assert_eq!((a["version"].as_str(), a["score"].as_f64(), a["severity"].as_str()), (Some("4.0"), Some(9.3), Some("critical")));
        let (status, e) = app.get(&app.viewer, "/api/v1/cvss?vector=CVSS:3.1/AV:N").await;
        assert_eq!(status, 422);
        assert!(e.to_string().contains("lacks the base metric AC"), "{e}");

        let (_, case) = app.post(&app.responder, "/api/v1/cases", &crate::new_case("scored")).await;
        let reference = case["reference"].as_str().unwrap();
        let (status, out) = app
            .post(
                &app.responder,
                &format!("/api/v1/cases/{reference}/cvss"),
                &json!({"vector": "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:N/I:H/A:N"}),
            )
            .await;
        assert_eq!(status, 200, "{out}");
        assert_eq!(out["assessment"]["score"], 6.5);
        assert_eq!(out["case"]["severity"], "medium");
        assert_eq!(out["events"][0]["kind"], "severity_changed");

        let (status, cwe) = app.get(&app.viewer, "/api/v1/cwe").await;
        assert_eq!(status, 200);
        assert!(cwe.as_array().unwrap().iter().any(|w| w["id"] == "CWE-79"));

        let page = |q: &'static str| {
            let app = app.clone();
            async move {
                let r = app.http.get(app.url(&format!("/cvss{q}"))).send().await.unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            }
        };
        let (status, html) = page("?AV=N&AC=L&PR=N&UI=N&S=U&C=H&I=H&A=H").await;
        assert_eq!(status, 200);
        assert!(html.contains("score <strong>9.8</strong>, critical"), "{html}");
        assert!(html.contains("<option value=\"N\" selected>Network</option>"));
        let (status, html) = page("?vector=%3Cscript%3E").await;
        assert_eq!(status, 422);
        assert!(html.contains("&lt;script&gt;") && !html.contains("<script>"));
        let (status, html) = page("").await;
        assert_eq!(status, 200);
        assert!(html.contains("<label for=\"m-AV\">"), "every control has a label");
    })
    .await;
}

/// Validates `document` against official schemas (`../shared/data/schemas`)
/// with Python's `jsonschema`; skipped outside CI when either is absent.
pub(crate) fn schema_valid(document: &Value, schemas: &[&str]) {
    use std::io::Write;
    let root =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/schemas");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../vulndb/tests/support/validate_json.py");
    let ok = std::process::Command::new("python3")
        .args(["-c", "import jsonschema, referencing"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !root.exists() || !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "schemas and jsonschema are present in CI"
        );
        eprintln!("skipped: schemas or Python's jsonschema absent");
        return;
    }
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .args(schemas.iter().map(|s| match s.split_once('=') {
            Some((url, path)) => format!("{url}={}", root.join(path).display()),
            None => root.join(s).display().to_string(),
        }))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let text = serde_json::to_string(document).unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}\n{text}",
        String::from_utf8_lossy(&out.stdout)
    );
}
