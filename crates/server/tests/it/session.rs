//! Signing in with cookies and CSRF, throttling, tokens, and the system routes.

use serde_json::{Value, json};

use crate::{PASSWORD, TestApp, each_backend, new_case};

async fn login(app: &TestApp, username: &str, password: &str) -> (u16, Option<String>, Value) {
    let r = app
        .http
        .post(app.url("/api/v1/session"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let cookie = r
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, cookie, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn cookie_sessions_need_the_csrf_token_to_change_anything() {
    each_backend(|app| async move {
        let (status, cookie, body) = login(&app, "rita", PASSWORD).await;
        assert_eq!(status, 200, "{body}");
        let cookie = cookie.unwrap();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        assert!(!cookie.contains("Secure"), "plain HTTP in tests");
        let session = cookie.split(';').next().unwrap().to_owned();
        let csrf = body["csrf_token"].as_str().unwrap().to_owned();
        assert_eq!(body["user"]["role"], "responder");

        let me = app
            .http
            .get(app.url("/api/v1/me"))
            .header("cookie", &session)
            .send()
            .await
            .unwrap();
        assert_eq!(me.status().as_u16(), 200);

        let without = app
            .http
            .post(app.url("/api/v1/cases"))
            .header("cookie", &session)
            .json(&new_case("x"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            without.status().as_u16(),
            403,
            "CSRF token required ({})",
            app.backend
        );
        let wrong = app
            .http
            .post(app.url("/api/v1/cases"))
            .header("cookie", &session)
            .header("x-csrf-token", "0".repeat(64))
            .json(&new_case("x"))
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status().as_u16(), 403);
        let with = app
            .http
            .post(app.url("/api/v1/cases"))
            .header("cookie", &session)
            .header("x-csrf-token", &csrf)
            .json(&new_case("x"))
            .send()
            .await
            .unwrap();
        assert_eq!(with.status().as_u16(), 201);

        let out = app
            .http
            .delete(app.url("/api/v1/session"))
            .header("cookie", &session)
            .header("x-csrf-token", &csrf)
            .send()
            .await
            .unwrap();
        assert_eq!(out.status().as_u16(), 204);
        let after = app
            .http
            .get(app.url("/api/v1/me"))
            .header("cookie", &session)
            .send()
            .await
            .unwrap();
        assert_eq!(after.status().as_u16(), 401, "the session ended");
    })
    .await;
}

#[tokio::test]
async fn wrong_passwords_are_refused_then_throttled() {
    each_backend(|app| async move {
        let (status, cookie, body) = login(&app, "rita", "not the password").await;
        assert_eq!((status, cookie), (401, None), "{body}");
        let (status, _, _) = login(&app, "nobody", "not the password").await;
        assert_eq!(status, 401, "unknown users look the same");
        for _ in 0..4 {
            login(&app, "rita", "still not it at all").await;
        }
        let r = app
            .http
            .post(app.url("/api/v1/session"))
            .json(&json!({"username": "rita", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status().as_u16(),
            429,
            "locked even with the right password ({})",
            app.backend
        );
        assert!(r.headers().get("retry-after").is_some());
        let (status, _, _) = login(&app, "vic", PASSWORD).await;
        assert_eq!(status, 200, "other users are unaffected");
    })
    .await;
}

#[tokio::test]
async fn tokens_are_shown_once_and_stop_working_when_revoked() {
    each_backend(|app| async move {
        let (status, created) = app
            .post(&app.viewer, "/api/v1/tokens", &json!({"name": "laptop"}))
            .await;
        assert_eq!(status, 201);
        let token = created["token"].as_str().unwrap().to_owned();
        let id = created["id"].as_i64().unwrap();
        assert_eq!(
            app.get(&token, "/api/v1/me").await.1["user"]["username"],
            "vic"
        );
        let (_, list) = app.get(&app.viewer, "/api/v1/tokens").await;
        assert!(
            list.to_string().find(&token).is_none(),
            "the list never shows a token"
        );
        assert_eq!(list["tokens"].as_array().unwrap().len(), 2);

        // Another non-admin cannot revoke it; it looks missing to them.
        let r = app
            .http
            .delete(app.url(&format!("/api/v1/tokens/{id}")))
            .bearer_auth(&app.responder)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 404);
        let r = app
            .http
            .delete(app.url(&format!("/api/v1/tokens/{id}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(
            app.get(&token, "/api/v1/me").await.0,
            401,
            "{}",
            app.backend
        );
        assert_eq!(app.get("emb_nonsense", "/api/v1/me").await.0, 401);
        assert_eq!(app.get("garbage", "/api/v1/me").await.0, 401);
    })
    .await;
}

#[tokio::test]
async fn admins_manage_users_and_disabled_users_are_locked_out() {
    each_backend(|app| async move {
        let (status, created) = app
            .post(
                &app.admin,
                "/api/v1/users",
                &json!({"username": "dana", "role": "responder"}),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        let password = created["password"].as_str().unwrap().to_owned();
        assert_eq!(login(&app, "dana", &password).await.0, 200);
        let (status, _) = app
            .post(
                &app.admin,
                "/api/v1/users",
                &json!({"username": "dana", "role": "viewer"}),
            )
            .await;
        assert_eq!(status, 409);
        let (status, err) = app
            .post(
                &app.admin,
                "/api/v1/users",
                &json!({"username": "eve", "role": "viewer", "password": "short"}),
            )
            .await;
        assert_eq!(
            (status, err["error"]["field"].as_str()),
            (422, Some("password"))
        );
        let r = app
            .http
            .patch(app.url("/api/v1/users/vic"))
            .bearer_auth(&app.admin)
            .json(&json!({"disabled": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(
            app.get(&app.viewer, "/api/v1/me").await.0,
            401,
            "disabled user's token stops working"
        );
        assert_eq!(login(&app, "vic", PASSWORD).await.0, 401);
        let r = app
            .http
            .patch(app.url("/api/v1/users/admin"))
            .bearer_auth(&app.admin)
            .json(&json!({"disabled": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 409, "no self-lockout");
    })
    .await;
}

#[tokio::test]
async fn health_readiness_metrics_and_headers() {
    each_backend(|app| async move {
        let r = app.http.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        assert_eq!(r.headers()["x-frame-options"], "DENY");
        assert!(r.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
        assert_eq!(app.http.get(app.url("/readyz")).send().await.unwrap().status().as_u16(), 200);
        app.get(&app.viewer, "/api/v1/cases/EMB-2026-0042").await;
        let text = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
        assert!(
            text.contains("embargo_http_requests_total{method=\"GET\",route=\"/api/v1/cases/{reference}\",status=\"404\"} 1"),
            "{text}"
        );
        assert!(text.contains("embargo_http_request_duration_seconds_bucket"));
        assert!(!text.contains("EMB-2026-0042"), "metrics never hold raw paths");
        let doc: Value = app.http.get(app.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
        assert!(doc["paths"]["/api/v1/cases"]["post"].is_object());
        app.store.close().await;
        let r = app.http.get(app.url("/readyz")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 503, "{}", app.backend);
    })
    .await;
}
