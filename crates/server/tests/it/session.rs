//! Signing in with cookies and CSRF, throttling, tokens, and the system routes.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::DateTime;
use embargo_server::ServerSettings;
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
async fn wrong_passwords_are_refused_then_slowed_for_that_address_only() {
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
            "this address waits, even with the right password ({})",
            app.backend
        );
        assert!(r.headers().get("retry-after").is_some());
        let (status, _, _) = login(&app, "vic", PASSWORD).await;
        assert_eq!(status, 200, "other accounts from here are unaffected");
    })
    .await;
}

/// A stranger guessing the admin's password from their own address cannot
/// lock the admin out: the admin, from theirs, signs in (API and form), and
/// sees the attempts on the team page and the API.
#[tokio::test]
async fn a_strangers_fifty_wrong_passwords_do_not_stop_the_member_signing_in() {
    for db in embargo_store::testing::TestDatabase::all().await {
        let now = Arc::new(AtomicI64::new(crate::t0().timestamp_millis()));
        let read = now.clone();
        let settings = ServerSettings {
            behind_proxy: true,
            ..ServerSettings::default()
        };
        let app = TestApp::start_with_clock(
            db,
            settings,
            Arc::new(move || DateTime::from_timestamp_millis(read.load(Ordering::SeqCst)).unwrap()),
        )
        .await;
        let from = |address: &'static str, username: &'static str, password: &'static str| {
            app.http
                .post(app.url("/api/v1/session"))
                .header("x-forwarded-for", address)
                .json(&json!({"username": username, "password": password}))
                .send()
        };
        const STRANGER: &str = "203.0.113.9";
        const MEMBER: &str = "198.51.100.7";
        let mut statuses = Vec::new();
        for i in 0..50 {
            let r = from(STRANGER, "admin", "guess guess guess").await.unwrap();
            statuses.push(r.status().as_u16());
            if i >= 5 {
                assert!(r.headers().get("retry-after").is_some());
            }
        }
        assert_eq!(statuses[..5], [401; 5], "{}", app.backend);
        assert!(
            statuses[5..].iter().all(|s| *s == 429),
            "then the stranger's address waits: {statuses:?}"
        );
        let r = from(STRANGER, "admin", PASSWORD).await.unwrap();
        assert_eq!(r.status().as_u16(), 429, "even a right guess waits");

        let r = from(MEMBER, "admin", PASSWORD).await.unwrap();
        assert_eq!(
            r.status().as_u16(),
            200,
            "the member signs in from their own address ({})",
            app.backend
        );
        // The sign-in form too, from the member's address.
        let (cookie, csrf) = crate::form_cookie(&app.http, &app.url("/login")).await;
        let r = app
            .http
            .post(app.url("/login"))
            .header("cookie", &cookie)
            .header("x-forwarded-for", MEMBER)
            .form(&[
                ("csrf", csrf.as_str()),
                ("username", "admin"),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 303, "{}", r.text().await.unwrap());

        // The wait grows: 15 s after the fifth failure, one more failure
        // gives 30 s.
        now.fetch_add(16_000, Ordering::SeqCst);
        let r = from(STRANGER, "admin", "guess again").await.unwrap();
        assert_eq!(r.status().as_u16(), 401, "the first wait is over");
        let r = from(STRANGER, "admin", "guess again").await.unwrap();
        assert_eq!(r.status().as_u16(), 429);
        assert_eq!(r.headers()["retry-after"], "30");

        // Admins see the attempts; nobody else does.
        let (status, list) = app.get(&app.admin, "/api/v1/sign-ins?limit=10").await;
        assert_eq!(status, 200, "{list}");
        let attempts = list["attempts"].as_array().unwrap();
        assert_eq!(attempts[0]["address"], STRANGER);
        assert_eq!(attempts[0]["username"], "admin");
        assert_eq!(attempts[0]["succeeded"], false);
        assert!(
            attempts
                .iter()
                .any(|a| a["address"] == MEMBER && a["succeeded"] == true),
            "{list}"
        );
        let failures = app
            .store
            .login_attempts(1000)
            .await
            .unwrap()
            .iter()
            .filter(|a| !a.succeeded)
            .count();
        assert_eq!(failures, 6, "refused attempts are not counted as guesses");
        assert_eq!(app.get(&app.responder, "/api/v1/sign-ins").await.0, 403);
        let html = app
            .http
            .get(app.url("/desk/team"))
            .bearer_auth(&app.admin)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("<code>203.0.113.9</code>"), "{html}");
        // A username that names nobody is not kept (people type passwords there).
        from("192.0.2.1", "my secret password", "x").await.unwrap();
        let (_, list) = app.get(&app.admin, "/api/v1/sign-ins?limit=1").await;
        assert_eq!(list["attempts"][0]["address"], "192.0.2.1");
        assert_eq!(list["attempts"][0]["username"], Value::Null);
        assert!(!list.to_string().contains("my secret password"));
        app.stop().await;
    }
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
