//! An attack corpus through the inputs people outside the team control: a
//! report's fields and an attachment's name. Each payload (script, markup,
//! SQL, template syntax, header injection, path traversal, direction
//! overrides) is either refused with a 4xx or stored verbatim — never a 5xx —
//! and every page that shows it shows it as text: no markup, no evaluated
//! template, no header, no path. SQL does nothing: every case is still there
//! and the history verifies.

use serde_json::{Value, json};

use crate::each_backend;

const PAYLOADS: &[&str] = &[
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "'; DROP TABLE cases; --",
    "Robert'); DELETE FROM events WHERE ('1'='1",
    "{{ 7*7 }} {% raw %} ${7*7} #{7*7}",
    "../../../../etc/passwd",
    "..%2f..%2f..%2fetc%2fpasswd",
    "line\r\nSet-Cookie: evil=1\r\nX-Injected: yes",
    "\u{202e}gnp.exe",
    "%00%0d%0a",
];

/// What must never appear in a page that shows `payload`.
fn never_in_page(payload: &str) -> Vec<&'static str> {
    let mut bad = vec![];
    if payload.contains("<script>") {
        bad.push("<script>alert(1)");
    }
    if payload.contains("<img") {
        bad.push("<img src=x onerror=alert(1)>");
    }
    if payload.contains("{{ 7*7 }}") {
        bad.push(" 49 ");
    }
    bad
}

#[tokio::test]
async fn the_attack_corpus_is_refused_or_stored_verbatim_and_shown_as_text() {
    each_backend(|app| async move {
        let mut stored = Vec::new();
        for payload in PAYLOADS {
            let report = json!({
                "title": format!("T {payload}"),
                "product": format!("P {payload}"),
                "reporter": {"name": payload, "contact": "r@example.org"},
                "report": {"summary": payload, "description": payload, "impact": payload},
            });
            let (status, body) = app.post("", "/api/v1/reports", &report).await;
            assert!(
                status == 201 || (400..500).contains(&status),
                "{payload:?}: {status} {body}"
            );
            if status != 201 {
                continue;
            }
            let reference = body["reference"].as_str().unwrap().to_owned();
            let token = body["token"].as_str().unwrap().to_owned();
            // Stored exactly as sent.
            let (_, case) = app
                .get(&app.viewer, &format!("/api/v1/cases/{reference}"))
                .await;
            assert_eq!(case["report"]["description"], *payload, "{payload:?}");
            assert!(case["title"].as_str().unwrap().starts_with("T "), "{case}");
            // Shown as text on the team's case page, the queue and the reporter's page.
            for (path, bearer) in [
                (format!("/desk/cases/{reference}"), Some(app.viewer.clone())),
                ("/desk/cases".to_owned(), Some(app.viewer.clone())),
                (format!("/portal/{token}"), None),
            ] {
                let mut req = app.http.get(app.url(&path));
                if let Some(b) = &bearer {
                    req = req.bearer_auth(b);
                }
                let r = req.send().await.unwrap();
                assert_eq!(r.status().as_u16(), 200, "{path}");
                assert!(
                    r.headers().get("x-injected").is_none()
                        && r.headers()
                            .get("set-cookie")
                            .is_none_or(|c| !c.to_str().unwrap().contains("evil"))
                );
                let html = r.text().await.unwrap();
                for bad in never_in_page(payload) {
                    assert!(!html.contains(bad), "{path} shows {bad:?} from {payload:?}");
                }
            }
            stored.push(reference);
        }
        assert!(
            stored.len() >= PAYLOADS.len() - 2,
            "most payloads are plain text and stored: {stored:?}"
        );

        // A file named by the attacker: the name is cleaned, served only as
        // a download, and injects no header.
        let reference = &stored[0];
        for name in [
            "../../../etc/passwd",
            "a\r\nSet-Cookie: evil=1.txt",
            "<script>.html",
            "..\\..\\win.ini",
        ] {
            let r = app
                .http
                .post(app.url(&format!("/api/v1/cases/{reference}/attachments")))
                .query(&[("filename", name)])
                .bearer_auth(&app.responder)
                .header("content-type", "application/octet-stream")
                .body("<script>alert(1)</script>")
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            assert!(
                status == 201 || (400..500).contains(&status),
                "{name:?}: {status} {body}"
            );
            if status != 201 {
                continue;
            }
            let filename = body["filename"].as_str().unwrap();
            assert!(
                !filename.contains('/') && !filename.contains('\\') && !filename.contains(".."),
                "{filename:?}"
            );
            assert!(
                !filename.contains('\r') && !filename.contains('\n'),
                "{filename:?}"
            );
            let r = app
                .http
                .get(app.url(&format!(
                    "/api/v1/cases/{reference}/attachments/{}",
                    body["id"].as_str().unwrap()
                )))
                .bearer_auth(&app.viewer)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200);
            assert_eq!(r.headers()["content-type"], "application/octet-stream");
            assert!(
                r.headers()["content-disposition"]
                    .to_str()
                    .unwrap()
                    .starts_with("attachment")
            );
            assert!(r.headers().get("set-cookie").is_none());
        }

        // SQL in the fields did nothing: every case is there and the chain verifies.
        for reference in &stored {
            assert_eq!(
                app.get(&app.viewer, &format!("/api/v1/cases/{reference}"))
                    .await
                    .0,
                200
            );
        }
        let report = app.store.verify().await.unwrap();
        assert_eq!(report.cases as usize, stored.len());
    })
    .await;
}

/// The corpus through the team's own forms (notes, messages to the
/// reporter, a saved view's name, the queue's search) and through what CI
/// uploads (an SBOM's component names, versions and purls, a release's
/// version and the file's name): refused with a 4xx or kept as text, never a
/// 5xx, and every page that shows it shows it as text.
#[tokio::test]
async fn the_corpus_through_desk_forms_and_sbom_uploads_is_shown_as_text() {
    each_backend(|app| async move {
        let (status, case) = app
            .post(
                &app.responder,
                "/api/v1/cases",
                &json!({"title": "forms", "product": "Dock Certs",
                        "reporter": {"contact": "r@example.org"},
                        "report": {"summary": "s", "description": "d"}}),
            )
            .await;
        assert_eq!(status, 201, "{case}");
        let reference = case["reference"].as_str().unwrap().to_owned();
        let form = |path: String, fields: Vec<(&'static str, String)>| {
            let app = app.clone();
            async move {
                let r = app
                    .http
                    .post(app.url(&path))
                    .bearer_auth(&app.responder)
                    .form(&fields)
                    .send()
                    .await
                    .unwrap();
                r.status().as_u16()
            }
        };
        let page = |path: String| {
            let app = app.clone();
            async move {
                let r = app
                    .http
                    .get(app.url(&path))
                    .bearer_auth(&app.responder)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status().as_u16(), 200, "{path}");
                assert!(r.headers().get("x-injected").is_none(), "{path}");
                r.text().await.unwrap()
            }
        };
        for payload in PAYLOADS {
            for action in ["add_note", "message_reporter"] {
                let status = form(
                    format!("/desk/cases/{reference}/act"),
                    vec![("action", action.into()), ("text", (*payload).into())],
                )
                .await;
                assert!(
                    status == 303 || (400..500).contains(&status),
                    "{action} {payload:?}: {status}"
                );
            }
            let status = form(
                "/desk/views".into(),
                vec![
                    ("name", (*payload).into()),
                    ("query", format!("q={payload}")),
                ],
            )
            .await;
            assert!(
                status == 303 || (400..500).contains(&status),
                "view {payload:?}: {status}"
            );
            let search = page(format!("/desk/cases?q={}", url_escape(payload))).await;
            for bad in never_in_page(payload) {
                assert!(!search.contains(bad), "the queue's search shows {bad:?}");
            }
        }
        let shown = page(format!("/desk/cases/{reference}")).await;
        let queue = page("/desk/cases".into()).await;
        for payload in PAYLOADS {
            for bad in never_in_page(payload) {
                assert!(!shown.contains(bad), "the case page shows {bad:?}");
                assert!(!queue.contains(bad), "the queue shows {bad:?}");
            }
        }
        assert!(
            shown.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "notes kept as text"
        );

        // An SBOM whose components carry the corpus.
        let (status, body) = app
            .post(
                &app.admin,
                "/api/v1/products",
                &json!({"id": "shop", "name": "Shop", "owner": "web", "deployment": "saas",
                        "exposure": "internet_facing"}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let components: Vec<Value> = PAYLOADS
            .iter()
            .enumerate()
            .map(|(i, p)| {
                json!({"type": "library", "bom-ref": format!("c{i}"), "name": p, "version": p,
                       "purl": format!("pkg:npm/{}@{}", url_escape(p), url_escape(p))})
            })
            .collect();
        let sbom = json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
                          "components": components});
        for (version, filename) in [
            ("1.0.0", "bom.json"),
            ("<script>alert(1)</script>", "bom.json"),
            ("2.0.0", "../../etc/passwd\r\nX-Injected: yes"),
        ] {
            let r = app
                .http
                .post(app.url(&format!(
                    "/api/v1/products/shop/releases/{}/sbom",
                    url_escape(version)
                )))
                .query(&[("filename", filename)])
                .bearer_auth(&app.responder)
                .body(sbom.to_string())
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            assert!(
                status == 200 || (400..500).contains(&status),
                "{version:?} {filename:?}: {status} {}",
                r.text().await.unwrap()
            );
        }
        let products = page("/desk/products".into()).await;
        let findings = page("/desk/findings".into()).await;
        for payload in PAYLOADS {
            for bad in never_in_page(payload) {
                assert!(!products.contains(bad), "the products page shows {bad:?}");
                assert!(!findings.contains(bad), "the findings page shows {bad:?}");
            }
        }
        app.store.verify().await.unwrap();
    })
    .await;
}

/// Percent-encodes everything but unreserved characters.
fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
