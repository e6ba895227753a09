use serde_json::json;

use crate::{each_backend, new_case};

#[tokio::test]
async fn a_case_moves_through_the_workflow_over_the_api() {
    each_backend(|app| async move {
        let (status, case) = app
            .post(&app.responder, "/api/v1/cases", &new_case("XSS in admin"))
            .await;
        assert_eq!(status, 201, "{}: {case}", app.backend);
        assert_eq!(case["reference"], "EMB-2026-0001");
        assert_eq!(case["state"], "received");
        assert!(
            case["allowed_actions"]
                .as_array()
                .unwrap()
                .contains(&json!("acknowledge"))
        );

        let path = "/api/v1/cases/EMB-2026-0001/transitions";
        let (status, out) = app
            .post(&app.responder, path, &json!({"action": "acknowledge"}))
            .await;
        assert_eq!(status, 200, "{out}");
        assert_eq!(out["case"]["state"], "acknowledged");
        assert_eq!(out["events"][0]["kind"], "state_changed");
        assert_eq!(out["events"][0]["actor"], "user:rita");

        let (status, err) = app
            .post(&app.responder, path, &json!({"action": "release"}))
            .await;
        assert_eq!(status, 409);
        assert_eq!(err["error"]["code"], "forbidden_move");
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap()
                .contains("`acknowledged`")
        );

        let (status, _) = app
            .post(
                &app.responder,
                path,
                &json!({"action": "set_severity", "severity": "high"}),
            )
            .await;
        assert_eq!(status, 200);
        let (status, _) = app
            .post(
                &app.responder,
                "/api/v1/cases/EMB-2026-0001/notes",
                &json!({"text": "internal"}),
            )
            .await;
        assert_eq!(status, 200);

        let (status, detail) = app.get(&app.viewer, "/api/v1/cases/EMB-2026-0001").await;
        assert_eq!(status, 200);
        assert_eq!(detail["severity"], "high");
        let kinds: Vec<_> = detail["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].clone())
            .collect();
        assert_eq!(
            kinds,
            [
                json!("case_created"),
                json!("state_changed"),
                // The acknowledgement clock met, recorded for good.
                json!("clock_ended"),
                json!("severity_changed"),
                json!("note_added")
            ]
        );
        assert_eq!(detail["history"][4]["text"], "internal");

        let (status, _) = app.get(&app.viewer, "/api/v1/cases/EMB-2026-0099").await;
        assert_eq!(status, 404);
        let (status, _) = app.get(&app.viewer, "/api/v1/cases/not-a-reference").await;
        assert_eq!(status, 404);
    })
    .await;
}

#[tokio::test]
async fn listing_filters_and_paginates() {
    each_backend(|app| async move {
        for i in 0..5 {
            let mut c = new_case(&format!("case {i}"));
            if i < 2 {
                c["product"] = json!("Segura");
            }
            assert_eq!(app.post(&app.responder, "/api/v1/cases", &c).await.0, 201);
        }
        let (status, page) = app.get(&app.viewer, "/api/v1/cases?limit=2").await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["cases"].as_array().unwrap().len(), 2);
        assert_eq!(page["cases"][0]["title"], "case 4");
        let cursor = page["next_cursor"].as_str().unwrap().to_owned();
        let (_, page2) = app
            .get(
                &app.viewer,
                &format!("/api/v1/cases?limit=2&cursor={cursor}"),
            )
            .await;
        assert_eq!(page2["cases"][0]["title"], "case 2");
        assert_eq!(page["total"], 5, "the total on every page");
        assert_eq!(page2["total"], 5);
        let (_, segura) = app.get(&app.viewer, "/api/v1/cases?product=Segura").await;
        assert_eq!(segura["total"], 2);
        assert_eq!(
            segura["cases"].as_array().unwrap().len(),
            2,
            "{}",
            app.backend
        );
        let (_, received) = app
            .get(&app.viewer, "/api/v1/cases?state=received&severity=high")
            .await;
        assert_eq!(received["cases"].as_array().unwrap().len(), 0);
        let (status, err) = app.get(&app.viewer, "/api/v1/cases?state=bogus").await;
        assert_eq!(status, 400);
        assert_eq!(err["error"]["field"], "state");
        let (status, err) = app.get(&app.viewer, "/api/v1/cases?colour=red").await;
        assert_eq!(
            (status, err["error"]["code"].as_str()),
            (400, Some("unknown_field"))
        );
        let (status, _) = app.get(&app.viewer, "/api/v1/cases?limit=0").await;
        assert_eq!(status, 400);
    })
    .await;
}

/// A duplicate names a case that exists; the refusal names the missing one.
#[tokio::test]
async fn duplicate_must_name_an_existing_case() {
    each_backend(|app| async move {
        for title in ["a", "b"] {
            let (status, _) = app
                .post(&app.responder, "/api/v1/cases", &new_case(title))
                .await;
            assert_eq!(status, 201);
        }
        let path = "/api/v1/cases/EMB-2026-0002/transitions";
        let (status, err) = app
            .post(
                &app.responder,
                path,
                &json!({"action": "duplicate", "of": "EMB-2026-0099"}),
            )
            .await;
        assert_eq!(status, 422, "{}: {err}", app.backend);
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap()
                .contains("EMB-2026-0099"),
            "{err}"
        );
        let (status, out) = app
            .post(
                &app.responder,
                path,
                &json!({"action": "duplicate", "of": "EMB-2026-0001"}),
            )
            .await;
        assert_eq!(status, 200, "{out}");
        assert_eq!(out["case"]["duplicate_of"], "EMB-2026-0001");
        let (status, _) = app.get(&app.viewer, "/api/v1/cases/EMB-2026-0099").await;
        assert_eq!(status, 404);
    })
    .await;
}
