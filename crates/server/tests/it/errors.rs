//! Bad input gets a 4xx JSON error that names the problem; never a 5xx.

use serde_json::{Value, json};

use crate::{each_backend, new_case};

async fn raw_post(app: &crate::TestApp, body: Vec<u8>, content_type: &str) -> (u16, Value) {
    let r = app
        .http
        .post(app.url("/api/v1/cases"))
        .bearer_auth(&app.responder)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn bad_bodies_get_named_4xx_errors() {
    each_backend(|app| async move {
        // 10 MB
        let mut big = new_case("big");
        big["report"]["description"] = json!("x".repeat(10 * 1024 * 1024));
        let (status, err) =
            raw_post(&app, serde_json::to_vec(&big).unwrap(), "application/json").await;
        assert_eq!(
            (status, err["error"]["code"].as_str()),
            (413, Some("payload_too_large")),
            "{}",
            app.backend
        );

        let (status, err) = raw_post(&app, b"{\"title\": ".to_vec(), "application/json").await;
        assert_eq!(
            (status, err["error"]["code"].as_str()),
            (400, Some("invalid_json"))
        );

        let mut wrong = new_case("t");
        wrong["title"] = json!(42);
        let (status, err) = raw_post(
            &app,
            serde_json::to_vec(&wrong).unwrap(),
            "application/json",
        )
        .await;
        assert_eq!(
            (status, err["error"]["field"].as_str()),
            (422, Some("title")),
            "{err}"
        );

        let mut unknown = new_case("t");
        unknown["report"]["severity_guess"] = json!("high");
        let (status, err) = raw_post(
            &app,
            serde_json::to_vec(&unknown).unwrap(),
            "application/json",
        )
        .await;
        assert_eq!(
            (
                status,
                err["error"]["code"].as_str(),
                err["error"]["field"].as_str()
            ),
            (422, Some("unknown_field"), Some("report.severity_guess")),
            "{err}"
        );

        let mut missing = new_case("t");
        missing["report"]
            .as_object_mut()
            .unwrap()
            .remove("description");
        let (status, err) = raw_post(
            &app,
            serde_json::to_vec(&missing).unwrap(),
            "application/json",
        )
        .await;
        assert_eq!(
            (
                status,
                err["error"]["code"].as_str(),
                err["error"]["field"].as_str()
            ),
            (422, Some("missing_field"), Some("report.description"))
        );

        let mut blank = new_case("t");
        blank["report"]["summary"] = json!("   ");
        let (status, err) = raw_post(
            &app,
            serde_json::to_vec(&blank).unwrap(),
            "application/json",
        )
        .await;
        assert_eq!(
            (status, err["error"]["field"].as_str()),
            (422, Some("report.summary"))
        );

        let (status, err) = raw_post(
            &app,
            serde_json::to_vec(&new_case("t")).unwrap(),
            "text/plain",
        )
        .await;
        assert_eq!(
            (status, err["error"]["code"].as_str()),
            (415, Some("unsupported_media_type"))
        );

        let (status, err) = app
            .post(
                &app.responder,
                "/api/v1/cases/EMB-2026-0001/transitions",
                &json!({"action": "explode"}),
            )
            .await;
        assert!(status == 422 || status == 404, "{status} {err}");

        let r = app
            .http
            .put(app.url("/api/v1/cases"))
            .bearer_auth(&app.admin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 405);
        let r = app.http.get(app.url("/nowhere")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 404);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found");
    })
    .await;
}

#[tokio::test]
async fn a_bad_command_names_its_field() {
    each_backend(|app| async move {
        assert_eq!(
            app.post(&app.responder, "/api/v1/cases", &new_case("a"))
                .await
                .0,
            201
        );
        let path = "/api/v1/cases/EMB-2026-0001/transitions";
        let (status, err) = app
            .post(&app.responder, path, &json!({"action": "explode"}))
            .await;
        assert_eq!(
            (status, err["error"]["field"].as_str()),
            (422, Some("action")),
            "{err}"
        );
        let (status, err) = app
            .post(
                &app.responder,
                path,
                &json!({"action": "not_a_vulnerability"}),
            )
            .await;
        assert_eq!(
            (status, err["error"]["field"].as_str()),
            (422, Some("reason")),
            "{err}"
        );
        let (status, err) = app
            .post(
                &app.responder,
                path,
                &json!({"action": "acknowledge", "force": true}),
            )
            .await;
        assert_eq!(
            (status, err["error"]["code"].as_str()),
            (422, Some("unknown_field")),
            "{err}"
        );
    })
    .await;
}

/// A browser gets an HTML page for an error outside the API (with the
/// message, a way back, and headers such as `Allow` kept); an API client,
/// and anyone under `/api/`, gets JSON.
#[tokio::test]
async fn browsers_get_error_pages_and_api_clients_json() {
    let app = crate::TestApp::start(embargo_store::testing::TestDatabase::sqlite().unwrap()).await;
    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    let get = |path: &'static str, accept: &'static str| {
        app.http.get(app.url(path)).header("accept", accept).send()
    };
    let r = get("/no/such/page", browser).await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = r.text().await.unwrap();
    assert!(html.contains("<h1>Not found</h1>"), "{html}");
    assert!(html.contains("There is no page at this address."));
    assert!(html.contains("href=\"/\""));
    assert!(html.contains("/static/embargo.css"), "styled");

    let r = get("/advisories/EMB-2026-9999", browser).await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );

    let r = get("/no/such/page", "application/json").await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    let r = get("/api/v1/cases", browser).await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "the API is JSON"
    );

    let r = app
        .http
        .delete(app.url("/report"))
        .header("accept", browser)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 405);
    assert!(r.text().await.unwrap().contains("<h1>Not here</h1>"));
    app.stop().await;
}
