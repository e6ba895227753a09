//! Files on reports and in the thread: limits (413 naming the limit), the
//! sniffed type, encrypted storage, downloads that never render, who may see
//! which file, and the reporter's credit preference.

use embargo_core::attachment::AttachmentLimits;
use embargo_server::ServerSettings;
use embargo_store::testing::TestDatabase;
use serde_json::{Value, json};

use crate::{TestApp, new_case};

const LIMIT: usize = 64 * 1024;

fn small_limits() -> ServerSettings {
    ServerSettings {
        attachments: AttachmentLimits {
            max_bytes: LIMIT,
            max_count: 2,
        },
        ..ServerSettings::default()
    }
}

const BOUNDARY: &str = "----embargo-test-boundary-7c1f";

/// A `multipart/form-data` body with text fields and files.
fn multipart(fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (filename, content) in files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\"{filename}\"\r\n\
                 Content-Type: image/png\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn post_multipart(
    app: &TestApp,
    path: &str,
    cookie: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url(path))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header("cookie", cookie)
        .body(body)
        .send()
        .await
        .unwrap()
}

fn report_fields<'a>(csrf: &'a str, title: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("title", title),
        ("product", "Dock Certs"),
        ("summary", "s"),
        ("description", "d"),
        ("contact", "ada@example.org"),
        ("name", "Ada"),
    ]
}

#[tokio::test]
async fn the_form_takes_files_within_the_limits_and_refuses_the_rest_with_413() {
    for db in TestDatabase::all().await {
        let app = TestApp::start_with(db, small_limits()).await;
        let (cookie, csrf) = crate::form_cookie(&app.http, &app.url("/report")).await;
        let page = app
            .http
            .get(app.url("/report"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("enctype=\"multipart/form-data\"")
                && page.contains("up to 2 files of at most 64 KiB (65536 bytes) each"),
            "{page}"
        );

        // Over the size limit: 413, the limit beside the files, the text kept.
        let big = vec![b'A'; LIMIT + 1];
        let r = post_multipart(
            &app,
            "/report",
            &cookie,
            multipart(&report_fields(&csrf, "Kept <title>"), &[("big.bin", &big)]),
        )
        .await;
        assert_eq!(r.status().as_u16(), 413, "{}", app.backend);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("<strong id=\"attachments-error\">`big.bin` is larger than the limit of 64 KiB (65536 bytes)"),
            "{html}"
        );
        assert!(
            html.contains("value=\"Kept &lt;title&gt;\""),
            "input kept, escaped"
        );

        // Too many files: 413 naming the count.
        let r = post_multipart(
            &app,
            "/report",
            &cookie,
            multipart(
                &report_fields(&csrf, "three files"),
                &[("a.txt", b"a"), ("b.txt", b"b"), ("c.txt", b"c")],
            ),
        )
        .await;
        assert_eq!(r.status().as_u16(), 413);
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("at most 2 files may be attached at once")
        );
        let (_, list) = app.get(&app.viewer, "/api/v1/cases").await;
        assert_eq!(list["cases"].as_array().unwrap().len(), 0, "nothing kept");

        // Within the limits: stored, typed by content, hashed.
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR-fake-image";
        let html_poc = b"<!doctype html><script>alert(document.domain)</script>";
        let r = post_multipart(
            &app,
            "/report",
            &cookie,
            multipart(
                &report_fields(&csrf, "With files"),
                &[
                    ("../../shot.png", png),
                    ("poc<img src=x onerror=alert(1)>.html", html_poc),
                ],
            ),
        )
        .await;
        let receipt = crate::receipt_page(&app, r).await;
        let token = receipt
            .split("<code>")
            .nth(1)
            .and_then(|s| s.split("</code>").next())
            .unwrap()
            .to_owned();
        let (_, case) = app.get(&app.viewer, "/api/v1/cases/EMB-2026-0001").await;
        let files = case["attachments"].as_array().unwrap().clone();
        assert_eq!(files.len(), 2, "{case}");
        assert_eq!(files[0]["filename"], "shot.png");
        assert_eq!(files[0]["media_type"], "image/png");
        assert_eq!(files[0]["shared_with_reporter"], true);
        assert_eq!(files[1]["media_type"], "text/html", "sniffed, not declared");
        assert_eq!(files[1]["filename"], "poc_img src=x onerror=alert(1)_.html");

        // The team downloads exactly the bytes, as a download that never renders.
        let id = files[1]["id"].as_str().unwrap();
        let r = app
            .http
            .get(app.url(&format!("/api/v1/cases/EMB-2026-0001/attachments/{id}")))
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
                .starts_with("attachment; filename=\"poc_img src=x onerror=alert(1)_.html\"")
        );
        assert!(
            r.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("sandbox")
        );
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        assert_eq!(r.bytes().await.unwrap().as_ref(), html_poc);

        // The reporter's page lists them, escaped, and serves them too.
        let portal = app
            .http
            .get(app.url(&format!("/portal/{token}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(portal.contains("poc_img src=x onerror=alert(1)_.html"));
        assert!(!portal.contains("<img"), "{portal}");
        let r = app
            .http
            .get(app.url(&format!("/portal/{token}/attachments/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(r.bytes().await.unwrap().as_ref(), html_poc);
        app.stop().await;
    }
}

async fn upload(app: &TestApp, token: &str, path: &str, content: Vec<u8>) -> (u16, Value) {
    let r = app
        .http
        .post(app.url(path))
        .bearer_auth(token)
        .body(content)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn reporters_see_only_their_own_files_and_the_api_names_the_limit() {
    for db in TestDatabase::all().await {
        let app = TestApp::start_with(db, small_limits()).await;
        let receipt = |title: &'static str| {
            let app = &app;
            async move {
                let r = app
                    .http
                    .post(app.url("/api/v1/reports"))
                    .json(&new_case(title))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status().as_u16(), 201);
                r.json::<Value>().await.unwrap()["token"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            }
        };
        let mine = receipt("mine").await;
        let theirs = receipt("theirs").await;

        // Over the limit through the API: 413 with the limit, nothing stored.
        let (status, err) = upload(
            &app,
            &mine,
            "/api/v1/reporter/attachments?filename=big.bin",
            vec![0; LIMIT + 1],
        )
        .await;
        assert_eq!(status, 413, "{}", app.backend);
        assert_eq!(err["error"]["field"], "attachments");
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap()
                .contains("limit of 64 KiB (65536 bytes)"),
            "{err}"
        );
        // Exactly at the limit: accepted.
        let (status, file) = upload(
            &app,
            &mine,
            "/api/v1/reporter/attachments?filename=exploit.py",
            vec![b'#'; LIMIT],
        )
        .await;
        assert_eq!(status, 201, "{file}");
        assert_eq!(file["size"], LIMIT);
        let mine_id = file["id"].as_str().unwrap().to_owned();
        let (_, other) = upload(
            &app,
            &theirs,
            "/api/v1/reporter/attachments?filename=other.txt",
            b"other reporter".to_vec(),
        )
        .await;
        let other_id = other["id"].as_str().unwrap().to_owned();
        // The team's own file on my case stays with the team.
        let (status, internal) = upload(
            &app,
            &app.responder,
            "/api/v1/cases/EMB-2026-0001/attachments?filename=triage-notes.txt",
            b"INTERNAL-ONLY".to_vec(),
        )
        .await;
        assert_eq!(status, 201);
        assert_eq!(internal["shared_with_reporter"], false);
        let internal_id = internal["id"].as_str().unwrap().to_owned();

        let get = |token: String, path: String| {
            let app = &app;
            async move {
                let r = app
                    .http
                    .get(app.url(&path))
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                (status, r.bytes().await.unwrap().to_vec())
            }
        };
        let (status, bytes) = get(
            mine.clone(),
            format!("/api/v1/reporter/attachments/{mine_id}"),
        )
        .await;
        assert_eq!((status, bytes.len()), (200, LIMIT));
        for id in [&other_id, &internal_id] {
            let (status, bytes) =
                get(mine.clone(), format!("/api/v1/reporter/attachments/{id}")).await;
            assert_eq!(status, 404, "{id}");
            assert!(!String::from_utf8_lossy(&bytes).contains("INTERNAL-ONLY"));
            assert!(!String::from_utf8_lossy(&bytes).contains("other reporter"));
        }
        // The reporter's view lists only their own file; the team sees all.
        let (_, view) = app.get(&mine, "/api/v1/reporter/case").await;
        let listed: Vec<_> = view["attachments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(listed, vec![mine_id.clone()]);
        assert!(!view.to_string().contains("triage-notes"));
        let (_, case) = app.get(&app.viewer, "/api/v1/cases/EMB-2026-0001").await;
        assert_eq!(case["attachments"].as_array().unwrap().len(), 2);
        // A team token cannot use the reporter's download, nor a reporter the team's.
        let (status, _) = get(
            app.viewer.clone(),
            format!("/api/v1/reporter/attachments/{mine_id}"),
        )
        .await;
        assert_eq!(status, 401);
        let (status, _) = get(
            mine.clone(),
            format!("/api/v1/cases/EMB-2026-0001/attachments/{internal_id}"),
        )
        .await;
        assert_eq!(status, 401);
        // Another case's id through this case's route: not found.
        let (status, _) = get(
            app.viewer.clone(),
            format!("/api/v1/cases/EMB-2026-0001/attachments/{other_id}"),
        )
        .await;
        assert_eq!(status, 404);
        app.stop().await;
    }
}

#[tokio::test]
async fn the_portal_takes_files_with_a_reply_and_the_credit_preference() {
    let app = TestApp::start_with(TestDatabase::sqlite().unwrap(), small_limits()).await;
    let r = app
        .http
        .post(app.url("/api/v1/reports"))
        .json(&new_case("credit me"))
        .send()
        .await
        .unwrap();
    let token = r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let portal = format!("/portal/{token}");
    let (cookie, csrf) = crate::form_cookie(&app.http, &app.url(&portal)).await;

    let r = post_multipart(
        &app,
        &format!("{portal}/reply"),
        &cookie,
        multipart(
            &[("csrf", &csrf), ("text", "The exploit, attached.")],
            &[("exploit.sh", b"#!/bin/sh\ncurl http://target/")],
        ),
    )
    .await;
    assert_eq!(r.status().as_u16(), 303);
    let r = post_multipart(
        &app,
        &format!("{portal}/reply"),
        &cookie,
        multipart(&[("csrf", &csrf)], &[("huge.bin", &vec![1u8; LIMIT * 2])]),
    )
    .await;
    assert_eq!(r.status().as_u16(), 413);
    assert!(r.text().await.unwrap().contains("64 KiB (65536 bytes)"));

    // Credit: as given at intake, then changed on the page, then withdrawn by API.
    let html = app
        .http
        .get(app.url(&portal))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("You will be credited as <strong>r</strong>"),
        "{html}"
    );
    assert!(html.contains("exploit.sh") && html.contains("text/plain"));
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url(&format!("{portal}/credit")))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", &cookie)
        .body(format!("csrf={csrf}&credit=Ada+%3Cb%3ELovelace%3C%2Fb%3E"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let html = app
        .http
        .get(app.url(&portal))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("credited as <strong>Ada &lt;b&gt;Lovelace&lt;/b&gt;</strong>"),
        "{html}"
    );
    let r = app
        .http
        .put(app.url("/api/v1/reporter/credit"))
        .bearer_auth(&token)
        .json(&json!({"credit": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (_, view) = app.get(&token, "/api/v1/reporter/case").await;
    assert!(view.get("credit").is_none(), "{view}");
    let (_, detail) = app.get(&app.viewer, "/api/v1/cases/EMB-2026-0001").await;
    assert!(detail["reporter"].get("name").is_none());
    let kinds: Vec<_> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        kinds,
        [
            "case_created",
            "message_from_reporter",
            "attachment_added",
            "credit_preference_changed",
            "credit_preference_changed"
        ]
    );
    app.stop().await;
}

/// A right-to-left override cannot disguise a file or a title: the stored
/// name loses it, the download's name never holds it, and the desk shows a
/// title's override as `[U+202E]` instead of obeying it.
#[tokio::test]
async fn a_right_to_left_override_is_shown_and_never_obeyed() {
    crate::each_backend(|app| async move {
        let mut body = crate::new_case("Invoice \u{202e}fdp.exe bug");
        body["report"]["description"] = json!("see invoice\u{202e}fdp.html");
        let (status, case) = app.post(&app.responder, "/api/v1/cases", &body).await;
        assert_eq!(status, 201, "{case}");
        let reference = case["reference"].as_str().unwrap().to_owned();
        let (status, file) = upload(
            &app,
            &app.responder,
            &format!("/api/v1/cases/{reference}/attachments?filename=invoice%E2%80%AEfdp.html"),
            b"<html>".to_vec(),
        )
        .await;
        assert_eq!(status, 201, "{file}");
        assert_eq!(file["filename"], "invoicefdp.html");
        let r = app
            .http
            .get(app.url(&format!(
                "/api/v1/cases/{reference}/attachments/{}",
                file["id"].as_str().unwrap()
            )))
            .bearer_auth(&app.responder)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let disposition = r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(!disposition.contains("%E2%80%AE"), "{disposition}");
        let page = app
            .http
            .get(app.url(&format!("/desk/cases/{reference}")))
            .bearer_auth(&app.viewer)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("Invoice [U+202E]fdp.exe bug"),
            "the title made visible"
        );
        assert!(
            page.contains("see invoice[U+202E]fdp.html"),
            "the report made visible"
        );
        assert!(!page.contains('\u{202e}'), "no override reaches the page");
    })
    .await;
}
