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
