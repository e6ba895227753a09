//! The team's web pages over HTTP, on both stores: signing in through the
//! form (CSRF, throttle, safe redirects), acting on a case through its forms
//! (only the moves the state allows, only with the form's token, only with
//! the right role), saved views, the second factor, API tokens, the
//! dashboard and the charts. The browser test (`browser.rs`) drives the same
//! pages in Chromium.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use embargo_core::{NewCase, totp};
use embargo_server::ServerSettings;
use embargo_store::testing::TestDatabase;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

use crate::{PASSWORD, TestApp, each_backend, new_case, t0};

/// A signed-in browser, as far as the server can tell: its session cookie
/// and the CSRF token the pages put in their forms.
struct Session {
    cookie: String,
    csrf: String,
}

fn cookie_pair(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
        .find(|pair| pair.starts_with(&format!("{name}=")))
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

async fn login_form(app: &TestApp) -> (String, String) {
    let r = app.http.get(app.url("/login")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let cookie = cookie_pair(&r, "embargo_login").expect("the form's CSRF cookie");
    let html = r.text().await.unwrap();
    (cookie, hidden(&html, "csrf"))
}

async fn post_login(app: &TestApp, fields: &[(&str, &str)]) -> reqwest::Response {
    let (cookie, csrf) = login_form(app).await;
    let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf)];
    form.extend_from_slice(fields);
    app.http
        .post(app.url("/login"))
        .header(COOKIE, cookie)
        .form(&form)
        .send()
        .await
        .unwrap()
}

async fn sign_in(app: &TestApp, username: &str) -> Session {
    let r = post_login(
        app,
        &[
            ("username", username),
            ("password", PASSWORD),
            ("next", "/desk"),
        ],
    )
    .await;
    assert_eq!(r.status().as_u16(), 303, "sign in as {username}");
    let cookie = cookie_pair(&r, "embargo_session").expect("a session cookie");
    let page = get(
        app,
        &Session {
            cookie: cookie.clone(),
            csrf: String::new(),
        },
        "/desk/account",
    )
    .await;
    assert_eq!(page.0, 200);
    Session {
        csrf: hidden(&page.1, "csrf"),
        cookie,
    }
}

async fn get(app: &TestApp, s: &Session, path: &str) -> (u16, String) {
    let r = app
        .http
        .get(app.url(path))
        .header(COOKIE, &s.cookie)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Posts a form with the session's CSRF token; returns the status, the
/// redirect target (if any) and the page.
async fn post(
    app: &TestApp,
    s: &Session,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, String, String) {
    let mut form: Vec<(&str, &str)> = vec![("csrf", &s.csrf)];
    form.extend_from_slice(fields);
    let r = app
        .http
        .post(app.url(path))
        .header(COOKIE, &s.cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, location, r.text().await.unwrap())
}

async fn open_case(app: &TestApp, title: &str) -> String {
    let (status, case) = app
        .post(&app.responder, "/api/v1/cases", &new_case(title))
        .await;
    assert_eq!(status, 201);
    case["reference"].as_str().unwrap().to_owned()
}

async fn case_json(app: &TestApp, reference: &str) -> Value {
    app.get(&app.viewer, &format!("/api/v1/cases/{reference}"))
        .await
        .1
}

#[tokio::test]
async fn signing_in_and_out_through_the_form() {
    each_backend(|app| async move {
        // Not signed in: every team page leads to the form, and back.
        let r = app
            .http
            .get(app.url("/desk/cases?state=triage"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 303);
        assert_eq!(
            r.headers()[LOCATION],
            "/login?next=%2Fdesk%2Fcases%3Fstate%3Dtriage"
        );

        let r = post_login(
            &app,
            &[("username", "rita"), ("password", "not the password")],
        )
        .await;
        assert_eq!(r.status().as_u16(), 401);
        assert!(cookie_pair(&r, "embargo_session").is_none());
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("wrong username or password")
        );

        // The form's token must match its cookie.
        let r = app
            .http
            .post(app.url("/login"))
            .form(&[
                ("csrf", "frm_forged"),
                ("username", "rita"),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 403);
        assert!(cookie_pair(&r, "embargo_session").is_none());

        // `next` goes only to a path on this server.
        for (next, expected) in [
            ("/desk/cases?state=triage", "/desk/cases?state=triage"),
            ("//evil.example/x", "/desk"),
            ("https://evil.example/", "/desk"),
            ("/\\evil.example", "/desk"),
        ] {
            let r = post_login(
                &app,
                &[("username", "rita"), ("password", PASSWORD), ("next", next)],
            )
            .await;
            assert_eq!(r.status().as_u16(), 303);
            assert_eq!(r.headers()[LOCATION], expected, "next={next}");
        }

        let rita = sign_in(&app, "rita").await;
        let (status, html) = get(&app, &rita, "/desk").await;
        assert_eq!(status, 200);
        assert!(html.contains("Sign out rita"));

        // A case in triage without a severity is flagged on the dashboard.
        let (status, case) = app
            .post(
                &app.responder,
                "/api/v1/cases",
                &crate::new_case("not assessed"),
            )
            .await;
        assert_eq!(status, 201);
        let reference = case["reference"].as_str().unwrap().to_owned();
        let (status, _) = app
            .post(
                &app.responder,
                &format!("/api/v1/cases/{reference}/transitions"),
                &serde_json::json!({"action": "start_triage"}),
            )
            .await;
        assert_eq!(status, 200);
        let (_, html) = get(&app, &rita, "/desk").await;
        let section = html.split("id=\"unassessed\"").nth(1).unwrap();
        assert!(section.contains(&reference), "{section}");

        // Signing out without the form's token does nothing.
        let r = app
            .http
            .post(app.url("/logout"))
            .header(COOKIE, &rita.cookie)
            .form(&[("csrf", "wrong")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 403);
        assert_eq!(get(&app, &rita, "/desk").await.0, 200);
        let (status, location, _) = post(&app, &rita, "/logout", &[]).await;
        assert_eq!((status, location.as_str()), (303, "/login"));
        assert_eq!(get(&app, &rita, "/desk").await.0, 303, "the session ended");

        // Five wrong passwords lock the username out for a while.
        for _ in 0..5 {
            post_login(
                &app,
                &[("username", "vic"), ("password", "guess guess guess")],
            )
            .await;
        }
        let r = post_login(&app, &[("username", "vic"), ("password", PASSWORD)]).await;
        assert_eq!(r.status().as_u16(), 429);
        assert!(r.headers().contains_key("retry-after"));
    })
    .await;
}

#[tokio::test]
async fn a_case_is_worked_through_its_forms() {
    each_backend(|app| async move {
        let reference = open_case(&app, "Stored <script>alert(1)</script> in the profile").await;
        let rita = sign_in(&app, "rita").await;
        let path = format!("/desk/cases/{reference}");
        let act = format!("{path}/act");

        let (status, html) = get(&app, &rita, &path).await;
        assert_eq!(status, 200);
        assert!(html.contains("Stored &lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!html.contains("<script>alert(1)"));
        // Only the moves the state allows are offered.
        assert!(html.contains("value=\"acknowledge\""));
        assert!(
            !html.contains("value=\"accept\""),
            "accept is not allowed before triage"
        );

        let (status, location, _) = post(&app, &rita, &act, &[("action", "acknowledge")]).await;
        assert_eq!(
            (status, location.as_str()),
            (303, format!("{path}?done=acknowledge").as_str())
        );
        assert_eq!(case_json(&app, &reference).await["state"], "acknowledged");
        let (_, html) = get(&app, &rita, &format!("{path}?done=acknowledge")).await;
        assert!(html.contains("Done: Acknowledge receipt."));

        // A move the state does not allow: the page says which are.
        let (status, _, html) = post(&app, &rita, &act, &[("action", "close")]).await;
        assert_eq!(status, 409);
        assert!(html.contains("cannot `close` a case in state `acknowledged`"));

        // Without the form's token, or as a viewer, nothing happens.
        let r = app
            .http
            .post(app.url(&act))
            .header(COOKIE, &rita.cookie)
            .form(&[("action", "start_triage")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 403);
        let vic = sign_in(&app, "vic").await;
        let (status, _, _) = post(&app, &vic, &act, &[("action", "start_triage")]).await;
        assert_eq!(status, 403);
        let (_, html) = get(&app, &vic, &path).await;
        assert!(
            !html.contains("value=\"start_triage\""),
            "a viewer is offered no actions"
        );
        assert_eq!(case_json(&app, &reference).await["state"], "acknowledged");

        // Assignment: only to an active member.
        let (status, _, html) = post(
            &app,
            &rita,
            &act,
            &[("action", "assign"), ("to", "mallory")],
        )
        .await;
        assert_eq!(status, 422);
        assert!(html.contains("`mallory` is not an active team member"));
        let (status, _, _) = post(&app, &rita, &act, &[("action", "assign"), ("to", "vic")]).await;
        assert_eq!(status, 303);
        assert_eq!(case_json(&app, &reference).await["assignee"], "vic");

        // Notes, the reporter thread, the calculator.
        post(
            &app,
            &rita,
            &act,
            &[
                ("action", "add_note"),
                ("text", "Reproduced <b>locally</b>"),
            ],
        )
        .await;
        post(
            &app,
            &rita,
            &act,
            &[
                ("action", "message_reporter"),
                ("text", "Thanks, we reproduced it."),
            ],
        )
        .await;
        let (status, location, _) = post(
            &app,
            &rita,
            &format!("{path}/cvss"),
            &[
                ("AV", "N"),
                ("AC", "L"),
                ("PR", "N"),
                ("UI", "N"),
                ("S", "U"),
                ("C", "H"),
                ("I", "H"),
                ("A", "H"),
            ],
        )
        .await;
        assert_eq!(
            (status, location.as_str()),
            (303, format!("{path}?done=cvss").as_str())
        );
        assert_eq!(case_json(&app, &reference).await["severity"], "critical");
        let (status, _, html) = post(
            &app,
            &rita,
            &format!("{path}/cvss"),
            &[("vector", "CVSS:3.1/AV:X")],
        )
        .await;
        assert_eq!(status, 422);
        assert!(html.contains("role=\"alert\""));

        let (_, html) = get(&app, &rita, &path).await;
        assert!(html.contains("Reproduced &lt;b&gt;locally&lt;/b&gt;"));
        assert!(html.contains("Thanks, we reproduced it."));
        assert!(html.contains("Assigned to vic"));
        assert!(html.contains("Severity set to critical"));

        // The messages about the case are listed on it: the reporter's
        // receipt and the team's message, queued for their address.
        let messages =
            &html[html.find("id=\"messages\"").unwrap()..html.find("id=\"timeline\"").unwrap()];
        assert!(
            messages.contains("case.created") && messages.contains("case.message_sent"),
            "{messages}"
        );
        assert!(messages.contains("r@example.org"));

        // The advisory: drafted on the page, published once the fix exists.
        let (status, _, _) = post(
            &app,
            &rita,
            &format!("{path}/advisory"),
            &[
                ("id", "EMB-ADV-1"),
                ("title", "Stored XSS in the profile"),
                ("summary", "Script runs in viewers' sessions"),
                ("vendor", "Example"),
                ("product", "Dock Certs"),
                ("fixed", "2.0.1"),
                ("cwe", "CWE-79"),
                ("cvss", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            ],
        )
        .await;
        assert_eq!(status, 303);
        let (status, _, html) = post(&app, &rita, &format!("{path}/advisory/publish"), &[]).await;
        assert!(status == 409 || status == 422, "not fixed yet: {status}");
        assert!(html.contains("role=\"alert\""));
        assert_eq!(
            app.http
                .get(app.url("/advisories/EMB-ADV-1"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
            404
        );
        for action in ["start_triage", "accept", "fix_available"] {
            let (status, _, html) = post(&app, &rita, &act, &[("action", action)]).await;
            assert_eq!(status, 303, "{action}: {html}");
        }
        let (status, _, _) = post(
            &app,
            &rita,
            &format!("{path}/advisory/publish"),
            &[("credit_reporter", "yes")],
        )
        .await;
        assert_eq!(status, 303);
        assert_eq!(
            app.http
                .get(app.url("/advisories/EMB-ADV-1"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
            200
        );
    })
    .await;
}

#[tokio::test]
async fn the_queue_filters_and_saves_views() {
    each_backend(|app| async move {
        let mine = open_case(&app, "Alpha token leak").await;
        let other = open_case(&app, "Beta open redirect").await;
        let rita = sign_in(&app, "rita").await;
        post(
            &app,
            &rita,
            &format!("/desk/cases/{mine}/act"),
            &[("action", "assign"), ("to", "rita")],
        )
        .await;

        let (_, html) = get(&app, &rita, "/desk/cases?assignee=me").await;
        assert!(html.contains(&mine) && !html.contains(&other));
        let (_, html) = get(&app, &rita, "/desk/cases?assignee=nobody").await;
        assert!(html.contains(&other) && !html.contains(&mine), "{html}");
        let (_, html) = get(&app, &rita, "/desk/cases?q=redirect").await;
        assert!(html.contains(&other) && !html.contains(&mine));
        let (status, html) = get(&app, &rita, "/desk/cases?state=nonsense").await;
        assert_eq!(status, 422);
        assert!(html.contains("no state `nonsense`"));

        let (status, location, _) = post(
            &app,
            &rita,
            "/desk/views",
            &[
                ("name", "My queue"),
                ("query", "assignee=me&page=99&evil=1"),
            ],
        )
        .await;
        assert_eq!(
            (status, location.as_str()),
            (303, "/desk/cases?assignee=me")
        );
        let (_, html) = get(&app, &rita, "/desk/cases").await;
        assert!(html.contains("href=\"/desk/cases?assignee=me\">My queue</a>"));
        // Another member does not see it, and cannot delete it.
        let vic = sign_in(&app, "vic").await;
        let (_, html) = get(&app, &vic, "/desk/cases").await;
        assert!(!html.contains(">My queue</a>"));
        let views = app
            .store
            .saved_views(app.store.user("rita").await.unwrap().id)
            .await
            .unwrap();
        assert_eq!(views.len(), 1);
        post(
            &app,
            &vic,
            &format!("/desk/views/{}/delete", views[0].id),
            &[],
        )
        .await;
        assert_eq!(
            app.store
                .saved_views(app.store.user("rita").await.unwrap().id)
                .await
                .unwrap()
                .len(),
            1
        );
        post(
            &app,
            &rita,
            &format!("/desk/views/{}/delete", views[0].id),
            &[],
        )
        .await;
        assert!(
            app.store
                .saved_views(app.store.user("rita").await.unwrap().id)
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn a_second_factor_guards_the_sign_in() {
    each_backend(|app| async move {
        let vic = sign_in(&app, "vic").await;
        let (status, _, html) = post(&app, &vic, "/desk/account/totp", &[]).await;
        assert_eq!(status, 200);
        assert!(html.contains("otpauth:"), "the setup link");
        let id = app.store.user("vic").await.unwrap().id;
        let secret = app.store.totp(id).await.unwrap().unwrap().secret;
        assert!(
            html.contains(&totp::base32(&secret)),
            "the page shows the secret"
        );

        // Until confirmed, signing in needs no code.
        sign_in(&app, "vic").await;
        assert!(
            html.contains("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"qr\""),
            "a QR code drawn on the server"
        );
        let (status, _, html) = post(
            &app,
            &vic,
            "/desk/account/totp/confirm",
            &[("code", "000000")],
        )
        .await;
        assert_eq!(status, 422);
        assert!(
            html.contains(&totp::base32(&secret)) && html.contains("class=\"qr\""),
            "a typo keeps the pending secret and its QR code"
        );
        assert_eq!(app.store.totp(id).await.unwrap().unwrap().secret, secret);
        let now = t0();
        let code = totp::code_at(&secret, now);
        let (status, _, html) =
            post(&app, &vic, "/desk/account/totp/confirm", &[("code", &code)]).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("Your second factor is on"));
        // Ten recovery codes, shown once.
        let codes: Vec<String> = html
            .split("<li><code>")
            .skip(1)
            .map(|c| c[..c.find("</code>").unwrap()].to_owned())
            .collect();
        assert_eq!(codes.len(), 10, "{html}");
        assert_eq!(app.store.recovery_codes_left(id).await.unwrap(), 10);
        let (_, page) = get(&app, &vic, "/desk/account").await;
        assert!(page.contains("10 recovery codes left"));
        assert!(!page.contains(&codes[0]), "never shown again");

        // Now a password alone is not enough, on the form or the API.
        let r = post_login(&app, &[("username", "vic"), ("password", PASSWORD)]).await;
        assert_eq!(r.status().as_u16(), 401);
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("send the code from your authenticator app")
        );
        let api = |code: Option<String>| {
            let app = app.clone();
            async move {
                app.http
                    .post(app.url("/api/v1/session"))
                    .json(&json!({"username": "vic", "password": PASSWORD, "code": code}))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        };
        assert_eq!(api(None).await, 401);
        assert_eq!(
            api(Some(code.clone())).await,
            401,
            "the confirming code is spent"
        );
        let next = totp::code_at(&secret, now + Duration::seconds(30));
        let r = post_login(
            &app,
            &[("username", "vic"), ("password", PASSWORD), ("code", &next)],
        )
        .await;
        assert_eq!(
            r.status().as_u16(),
            303,
            "the next step's code, within the skew"
        );
        assert_eq!(api(Some(next)).await, 401, "a code is good once");
        // A lost phone: a recovery code signs in once, typed any way.
        let typed = codes[3].to_lowercase().replace('-', " ");
        assert_eq!(api(Some(typed.clone())).await, 200, "{typed}");
        assert_eq!(api(Some(typed)).await, 401, "good once");
        assert_eq!(app.store.recovery_codes_left(id).await.unwrap(), 9);
        // New codes take the password; the old ones stop working.
        let (status, _, _) = post(
            &app,
            &vic,
            "/desk/account/recovery-codes",
            &[("password", "wrong password here")],
        )
        .await;
        assert_eq!(status, 422);
        let (status, _, html) = post(
            &app,
            &vic,
            "/desk/account/recovery-codes",
            &[("password", PASSWORD)],
        )
        .await;
        assert_eq!(status, 200);
        assert!(html.contains("id=\"recovery-codes\""));
        assert_eq!(api(Some(codes[5].clone())).await, 401, "replaced");
        assert_eq!(app.store.recovery_codes_left(id).await.unwrap(), 10);

        // Turning it off takes the password.
        let (status, _, _) = post(
            &app,
            &vic,
            "/desk/account/totp/disable",
            &[("password", "wrong password here")],
        )
        .await;
        assert_eq!(status, 422);
        let (status, _, _) = post(
            &app,
            &vic,
            "/desk/account/totp/disable",
            &[("password", PASSWORD)],
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(api(None).await, 200);
    })
    .await;
}

#[tokio::test]
async fn api_tokens_are_made_and_revoked_on_the_account_page() {
    each_backend(|app| async move {
        let rita = sign_in(&app, "rita").await;
        let (status, _, html) = post(
            &app,
            &rita,
            "/desk/account/tokens",
            &[("name", "CI <pipeline>")],
        )
        .await;
        assert_eq!(status, 201);
        let start = html.find("<code id=\"new-token\">").unwrap() + "<code id=\"new-token\">".len();
        let token = html[start..].split('<').next().unwrap().to_owned();
        assert!(token.starts_with("emb_"));
        assert!(html.contains("CI &lt;pipeline&gt;"));
        assert_eq!(app.get(&token, "/api/v1/me").await.0, 200);
        let (_, html) = get(&app, &rita, "/desk/account").await;
        assert!(!html.contains(&token), "shown only once");
        let id = app
            .store
            .list_api_tokens(None)
            .await
            .unwrap()
            .into_iter()
            .find(|t| t.name == "CI <pipeline>")
            .unwrap()
            .id;
        // Someone else's token cannot be revoked from their page.
        let vic = sign_in(&app, "vic").await;
        let (status, _, _) = post(
            &app,
            &vic,
            &format!("/desk/account/tokens/{id}/revoke"),
            &[],
        )
        .await;
        assert_eq!(status, 404);
        assert_eq!(app.get(&token, "/api/v1/me").await.0, 200);
        let (status, _, _) = post(
            &app,
            &rita,
            &format!("/desk/account/tokens/{id}/revoke"),
            &[],
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(app.get(&token, "/api/v1/me").await.0, 401);
    })
    .await;
}

#[tokio::test]
async fn the_dashboard_and_charts_show_what_needs_action() {
    for db in TestDatabase::all().await {
        // Ten days after the reports: the 24-hour acknowledgement is breached.
        let later: DateTime<Utc> = t0() + Duration::days(10);
        let app = Arc::new(
            TestApp::start_with_clock(db, ServerSettings::default(), Arc::new(move || later)).await,
        );
        let request = |title: &str| serde_json::from_value::<NewCase>(new_case(title)).unwrap();
        let late = crate::recording()
            .create_case(&app.store, request("Late one"), "user:rita", t0())
            .await
            .unwrap();
        let fresh = crate::recording()
            .create_case(
                &app.store,
                request("Fresh one"),
                "user:rita",
                later - Duration::hours(2),
            )
            .await
            .unwrap();
        let warned = crate::recording()
            .create_case(
                &app.store,
                request("Warned one"),
                "user:rita",
                later - Duration::hours(23),
            )
            .await
            .unwrap();
        let done = crate::recording()
            .create_case(&app.store, request("Triaged one"), "user:rita", t0())
            .await
            .unwrap();
        for (action, hours) in [("acknowledge", 2), ("start_triage", 3), ("accept", 30)] {
            let command: embargo_core::Command =
                serde_json::from_value(json!({"action": action})).unwrap();
            crate::recording()
                .execute(
                    &app.store,
                    done.reference,
                    &command,
                    "user:rita",
                    t0() + Duration::hours(hours),
                )
                .await
                .unwrap();
        }
        let rita = sign_in(&app, "rita").await;
        let (status, html) = get(&app, &rita, "/desk").await;
        assert_eq!(status, 200);
        let section = |id: &str| {
            let start = html.find(&format!("<h2 id=\"{id}\">")).unwrap();
            let rest = &html[start + 10..];
            rest[..rest.find("<h2 ").unwrap_or(rest.len())].to_owned()
        };
        let breached = section("breached");
        assert!(breached.contains(&late.reference.to_string()), "{breached}");
        assert!(breached.contains("Acknowledge receipt"));
        assert!(!breached.contains(&fresh.reference.to_string()));
        let due = section("due-soon");
        assert!(
            due.contains(&warned.reference.to_string()),
            "past the clock's warning point: {due}"
        );
        assert!(
            !due.contains(&fresh.reference.to_string()),
            "a 24-hour acknowledgement two hours in is not due soon: {due}"
        );
        let new = section("new");
        assert!(
            new.contains(&late.reference.to_string()) && new.contains(&fresh.reference.to_string())
        );
        assert!(!new.contains(&done.reference.to_string()));
        assert!(section("unassigned").contains(&done.reference.to_string()));

        let (status, html) = get(&app, &rita, "/desk/charts").await;
        assert_eq!(status, 200);
        assert_eq!(html.matches("<svg class=\"chart\"").count(), 4);
        // One case was triaged, in 30 hours: the 1–2 day bucket.
        let triage = &html[html.find("id=\"triage-h\"").unwrap()..];
        let row = &triage[triage.find("<th scope=\"row\">1–2 d</th>").unwrap()..];
        assert!(
            row.starts_with("<th scope=\"row\">1–2 d</th><td>1</td>"),
            "{}",
            &row[..80]
        );
        for page in [
            "/desk/cases",
            "/desk/findings",
            "/desk/products",
            "/desk/account",
        ] {
            assert_eq!(get(&app, &rita, page).await.0, 200, "{page}");
        }
        // The delivery log is the admins'.
        assert_eq!(get(&app, &rita, "/desk/deliveries").await.0, 403);
        let admin = sign_in(&app, "admin").await;
        let (status, html) = get(&app, &admin, "/desk/deliveries?state=pending").await;
        assert_eq!(status, 200);
        assert!(
            html.contains(">Deliveries</a>"),
            "admins see it in the menu"
        );
        let (status, html) = get(&app, &admin, "/desk/deliveries?state=lost").await;
        assert_eq!(status, 422);
        assert!(html.contains("`lost` is not pending"));
        if let Ok(app) = Arc::try_unwrap(app) {
            app.stop().await;
        }
    }
}

/// The team page: an admin adds a member (the generated password signs
/// in), gives them a new password, removes their second factor, disables
/// and enables them; a responder cannot reach it; an admin cannot disable
/// themselves.
#[tokio::test]
async fn admins_run_the_team_from_its_page() {
    for db in TestDatabase::all().await {
        let app = TestApp::start(db).await;
        let admin = sign_in(&app, "admin").await;
        let rita = sign_in(&app, "rita").await;
        assert_eq!(get(&app, &rita, "/desk/team").await.0, 403);
        let (status, _, _) = post(
            &app,
            &rita,
            "/desk/team",
            &[("username", "mallory"), ("role", "admin")],
        )
        .await;
        assert_eq!(status, 403, "a responder adds nobody");

        let (status, html) = get(&app, &admin, "/desk/team").await;
        assert_eq!(status, 200);
        assert!(html.contains(">Team</a>"), "in the admin's menu");
        assert!(html.contains("<td>rita</td>\n<td>responder</td>"), "{html}");

        let (status, _, html) = post(
            &app,
            &admin,
            "/desk/team",
            &[("username", "nora"), ("role", "responder")],
        )
        .await;
        assert_eq!(status, 201, "{html}");
        let password = {
            let at = html.find("<code id=\"new-password\">").unwrap() + 24;
            html[at..at + html[at..].find('<').unwrap()].to_owned()
        };
        assert!(password.len() >= 12);
        let signed_in = |password: String| {
            let app = &app;
            async move {
                let r = app
                    .http
                    .post(app.url("/api/v1/session"))
                    .json(&json!({"username": "nora", "password": password}))
                    .send()
                    .await
                    .unwrap();
                r.status().as_u16()
            }
        };
        assert_eq!(signed_in(password.clone()).await, 200, "the password works");
        let (status, _, html) = post(
            &app,
            &admin,
            "/desk/team",
            &[("username", "nora"), ("role", "viewer")],
        )
        .await;
        assert_eq!(status, 409, "taken");
        assert!(html.contains("role=\"alert\""), "{html}");
        let (status, _, html) = post(
            &app,
            &admin,
            "/desk/team",
            &[("username", "otto"), ("role", "")],
        )
        .await;
        assert_eq!(status, 422, "a role is chosen, never defaulted: {html}");
        assert!(html.contains("value=\"otto\""), "kept: {html}");

        let (status, _, html) = post(&app, &admin, "/desk/team/nora/password", &[]).await;
        assert_eq!(status, 200, "{html}");
        let at = html.find("<code id=\"new-password\">").unwrap() + 24;
        let new_password = html[at..at + html[at..].find('<').unwrap()].to_owned();
        assert_ne!(new_password, password);
        assert_eq!(signed_in(password).await, 401, "the old one is gone");
        assert_eq!(signed_in(new_password.clone()).await, 200);

        let user = app.store.user("nora").await.unwrap();
        app.store
            .begin_totp(user.id, b"0123456789abcdef0123")
            .await
            .unwrap();
        app.store
            .use_totp_step(user.id, 1, crate::t0())
            .await
            .unwrap();
        let (_, html) = get(&app, &admin, "/desk/team").await;
        assert!(html.contains("Remove the second factor of nora"), "{html}");
        let (status, location, _) = post(&app, &admin, "/desk/team/nora/second-factor", &[]).await;
        assert_eq!(
            (status, location.as_str()),
            (303, "/desk/team?done=second-factor&member=nora")
        );
        assert!(app.store.totp(user.id).await.unwrap().is_none());
        let (_, html) = get(&app, &admin, &location).await;
        assert!(
            html.contains("nora&#39;s second factor is removed"),
            "{html}"
        );

        let (status, _, _) = post(&app, &admin, "/desk/team/nora/disable", &[]).await;
        assert_eq!(status, 303);
        assert_eq!(signed_in(new_password.clone()).await, 401, "disabled");
        post(&app, &admin, "/desk/team/nora/enable", &[]).await;
        assert_eq!(signed_in(new_password).await, 200, "enabled again");

        let (status, _, html) = post(&app, &admin, "/desk/team/admin/disable", &[]).await;
        assert_eq!(status, 409, "{html}");
        assert!(html.contains("you cannot disable your own account"));
        let (status, _, _) = post(&app, &admin, "/desk/team/nobody/password", &[]).await;
        assert_eq!(status, 404);
        let (status, _, _) = post(&app, &admin, "/desk/team/nora/promote", &[]).await;
        assert_eq!(status, 404);

        // Roles: nora becomes a viewer; the last admin cannot stop being one.
        let (status, location, _) =
            post(&app, &admin, "/desk/team/nora/role", &[("role", "viewer")]).await;
        assert_eq!(
            (status, location.as_str()),
            (303, "/desk/team?done=role&member=nora")
        );
        assert_eq!(
            app.store.user("nora").await.unwrap().role.as_str(),
            "viewer"
        );
        let (status, _, html) =
            post(&app, &admin, "/desk/team/admin/role", &[("role", "viewer")]).await;
        assert_eq!(status, 409, "{html}");
        assert!(html.contains("that would leave no admin"));
        assert_eq!(
            app.store.user("admin").await.unwrap().role.as_str(),
            "admin"
        );
        let (status, _, _) = post(&app, &admin, "/desk/team/nora/role", &[("role", "root")]).await;
        assert_eq!(status, 422);
        let (status, body) = app.post(&app.admin, "/api/v1/users/nora", &json!({})).await;
        assert_eq!(status, 405, "PATCH, not POST: {body}");
        let r = app
            .http
            .patch(app.url("/api/v1/users/nora"))
            .bearer_auth(&app.admin)
            .json(&json!({"role": "responder"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(
            app.store.user("nora").await.unwrap().role.as_str(),
            "responder"
        );

        // Every member's API tokens, and an admin revokes one.
        let (_, html) = get(&app, &admin, "/desk/team#tokens").await;
        assert!(html.contains("Revoke the token tests of rita"), "{html}");
        let rita_token = app
            .store
            .list_api_tokens(None)
            .await
            .unwrap()
            .into_iter()
            .find(|t| t.username == "rita")
            .unwrap();
        assert_eq!(app.get(&app.responder, "/api/v1/me").await.0, 200);
        let (status, _, _) = post(
            &app,
            &admin,
            &format!("/desk/team/tokens/{}/revoke", rita_token.id),
            &[],
        )
        .await;
        assert_eq!(status, 303);
        assert_eq!(
            app.get(&app.responder, "/api/v1/me").await.0,
            401,
            "revoked"
        );
        app.stop().await;
    }
}

/// CSRF on every state-changing route, read from the OpenAPI document: a
/// signed-in browser's cookie without the form's (or header's) token changes
/// nothing, on every page form and every cookie-authenticated API call.
#[tokio::test]
async fn every_state_changing_route_refuses_a_cookie_without_its_csrf_token() {
    let app = TestApp::start(TestDatabase::sqlite().unwrap()).await;
    let reference = open_case(&app, "csrf").await;
    let admin = sign_in(&app, "admin").await;
    let doc = serde_json::to_value(embargo_server::openapi()).unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if !matches!(method.as_str(), "post" | "put" | "delete") {
                continue;
            }
            // Routes with no cookie session: signing in, the public report
            // form (its own double-submit token), and the reporter's token.
            if path == "/api/v1/session" && method == "post"
                || path == "/login"
                || path == "/report"
                || path == "/api/v1/reports"
                || path.starts_with("/portal/")
                || path.starts_with("/api/v1/reporter")
            {
                continue;
            }
            let concrete = path
                .replace("{reference}", &reference)
                .replace("{id}", "1")
                .replace("{product}", "none")
                .replace("{version}", "1.0")
                .replace("{token}", "x")
                .replace("{file}", "x");
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let form = path.starts_with("/desk") || path == "/logout";
            let mut req = app
                .http
                .request(m, app.url(&concrete))
                .header(COOKIE, &admin.cookie);
            req = if form {
                req.form(&[
                    ("csrf", "frm_not_the_token"),
                    ("action", "add_note"),
                    ("text", "x"),
                ])
            } else {
                req.json(&json!({}))
            };
            let status = req.send().await.unwrap().status().as_u16();
            assert_eq!(
                status, 403,
                "{method} {path} with the cookie and no valid token"
            );
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} routes checked");
    // Nothing happened to the case.
    let history = case_json(&app, &reference).await["history"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(history, 1, "the case still has only its first event");
    app.stop().await;
}

/// Session fixation: a session cookie planted in the browser before sign-in
/// (made up, or a real session of the attacker's) is never the one the
/// victim signs in with; the sign-in form's own cookie is no session; and a
/// session ended by signing out stays ended.
#[tokio::test]
async fn signing_in_always_issues_a_fresh_session() {
    each_backend(|app| async move {
        let attacker = sign_in(&app, "rita").await;
        let made_up = "embargo_session=ses_attacker-chosen-value-0000000000000000".to_owned();
        for planted in [made_up.clone(), attacker.cookie.clone()] {
            let (form_cookie, csrf) = login_form(&app).await;
            let r = app
                .http
                .post(app.url("/login"))
                .header(COOKIE, format!("{form_cookie}; {planted}"))
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("username", "vic"),
                    ("password", PASSWORD),
                    ("next", "/desk"),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 303);
            let issued = cookie_pair(&r, "embargo_session").expect("a session cookie");
            assert_ne!(issued, planted, "the planted session was kept");
            let victim = Session {
                cookie: issued,
                csrf: String::new(),
            };
            let (status, html) = get(&app, &victim, "/desk").await;
            assert_eq!(status, 200);
            assert!(html.contains("Sign out vic"), "signed in as the victim");
        }
        // The made-up value is no session, and the attacker's own session is
        // still the attacker's, not the victim's.
        let (status, _) = get(
            &app,
            &Session {
                cookie: made_up,
                csrf: String::new(),
            },
            "/desk",
        )
        .await;
        assert_eq!(status, 303);
        let (status, html) = get(&app, &attacker, "/desk").await;
        assert_eq!(status, 200);
        assert!(html.contains("Sign out rita") && !html.contains("Sign out vic"));
        // The sign-in form's CSRF cookie does not authenticate.
        let (form_cookie, _) = login_form(&app).await;
        let value = form_cookie.split_once('=').unwrap().1.to_owned();
        for cookie in [form_cookie, format!("embargo_session={value}")] {
            let (status, _) = get(
                &app,
                &Session {
                    cookie,
                    csrf: String::new(),
                },
                "/desk",
            )
            .await;
            assert_eq!(status, 303);
        }
        // Signed out is signed out: the old cookie opens nothing, on the
        // pages or the API.
        let (status, _, _) = post(&app, &attacker, "/logout", &[]).await;
        assert_eq!(status, 303);
        assert_eq!(get(&app, &attacker, "/desk").await.0, 303);
        let r = app
            .http
            .get(app.url("/api/v1/me"))
            .header(COOKIE, &attacker.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401);
    })
    .await;
}

/// The queue at volume: 60 new reports, sorted by their next due clock by
/// default, paged 50 at a time with totals both ways; found by a word only
/// in one report's (encrypted) description; the views ("needs our reply",
/// "mine", "waiting on the reporter", "breached", "due soon"); and a bulk
/// acknowledgement of 55 of them, one event each, naming the case the
/// workflow refused.
#[tokio::test]
async fn the_queue_sorts_searches_pages_and_acts_in_bulk() {
    for db in TestDatabase::all().await {
        let now: DateTime<Utc> = t0() + Duration::days(3);
        let app =
            TestApp::start_with_clock(db, ServerSettings::default(), Arc::new(move || now)).await;
        let mut refs = Vec::new();
        for i in 0..60i64 {
            let mut body = new_case(&format!("Report number {i}"));
            if i == 7 {
                body["report"]["description"] = json!("The quokka endpoint leaks tokens.");
            }
            let request: NewCase = serde_json::from_value(body).unwrap();
            // Report 0 is the oldest: 59 hours before now; report 59 arrived now.
            let at = now - Duration::hours(59 - i);
            let case = crate::recording()
                .create_case(&app.store, request, "user:rita", at)
                .await
                .unwrap();
            refs.push(case.reference.to_string());
        }
        let rita = sign_in(&app, "rita").await;
        let (status, html) = get(&app, &rita, "/desk/cases").await;
        assert_eq!(status, 200);
        assert!(html.contains("Cases 1–50 of 60"), "{html}");
        assert!(html.contains("Page 1 of 2"));
        // Next due first: the oldest report's acknowledgement is most late.
        let first = html.find(&format!(">{}</a>", refs[0])).unwrap();
        let later = html.find(&format!(">{}</a>", refs[40])).unwrap();
        assert!(first < later, "soonest due first");
        assert!(!html.contains(&format!(">{}</a>", refs[59])), "on page 2");
        let (_, page2) = get(&app, &rita, "/desk/cases?page=2").await;
        assert!(page2.contains("Cases 51–60 of 60"), "{page2}");
        assert!(page2.contains(&format!(">{}</a>", refs[59])));
        assert!(page2.contains("rel=\"prev\""));
        let (_, oldest) = get(&app, &rita, "/desk/cases?sort=activity").await;
        assert!(
            oldest.find(&format!(">{}</a>", refs[59])).unwrap()
                < oldest.find(&format!(">{}</a>", refs[30])).unwrap(),
            "latest activity first"
        );
        assert_eq!(get(&app, &rita, "/desk/cases?sort=sideways").await.0, 422);
        assert_eq!(get(&app, &rita, "/desk/cases?view=everything").await.0, 422);
        assert_eq!(get(&app, &rita, "/desk/cases?page=0").await.0, 422);

        // A word only in one report's encrypted description finds it.
        let (_, found) = get(&app, &rita, "/desk/cases?q=quokka").await;
        assert!(found.contains("Cases 1–1 of 1"), "{found}");
        assert!(found.contains(&format!(">{}</a>", refs[7])));

        // Views: breached (acknowledgement past 24 hours), due soon (past
        // the clock's warning point, not breached), mine, waiting, needs reply.
        let (_, breached) = get(&app, &rita, "/desk/cases?view=breached").await;
        assert!(breached.contains(&format!(">{}</a>", refs[0])));
        assert!(!breached.contains(&format!(">{}</a>", refs[59])));
        let (_, soon) = get(&app, &rita, "/desk/cases?view=due_soon").await;
        assert!(soon.contains(&format!(">{}</a>", refs[38])), "{soon}");
        assert!(!soon.contains(&format!(">{}</a>", refs[0])));
        assert!(!soon.contains(&format!(">{}</a>", refs[59])));

        let (status, _, _) = post(
            &app,
            &rita,
            &format!("/desk/cases/{}/act", refs[3]),
            &[("action", "assign"), ("to", "rita")],
        )
        .await;
        assert_eq!(status, 303);
        let (_, mine) = get(&app, &rita, "/desk/cases?view=mine").await;
        assert!(mine.contains("Cases 1–1 of 1"), "{mine}");

        // Bulk: acknowledge 55 ticked cases; one was already acknowledged.
        let (status, _, _) = post(
            &app,
            &rita,
            &format!("/desk/cases/{}/act", refs[5]),
            &[("action", "acknowledge")],
        )
        .await;
        assert_eq!(status, 303);
        let ticks: Vec<String> = refs[..55].iter().map(|r| format!("case-{r}")).collect();
        let mut fields: Vec<(&str, &str)> = ticks.iter().map(|t| (t.as_str(), "on")).collect();
        fields.push(("action", "acknowledge"));
        fields.push(("query", "sort=age"));
        let (status, _, html) = post(&app, &rita, "/desk/cases/bulk", &fields).await;
        assert_eq!(status, 409, "{html}");
        assert!(html.contains("Done for 54 of 55 cases"), "{html}");
        assert!(html.contains(&refs[5]), "the refused one is named");
        for (i, r) in refs.iter().enumerate() {
            let history = app.store.history(r.parse().unwrap()).await.unwrap();
            let acks = history
                .iter()
                .filter(|e| e.kind.name() == "state_changed" || e.kind.name() == "acknowledged")
                .count();
            let (_, case) = app.get(&app.viewer, &format!("/api/v1/cases/{r}")).await;
            let expected = if i < 55 { "acknowledged" } else { "received" };
            assert_eq!(case["state"], expected, "{r}");
            if i < 55 {
                assert!(acks >= 1, "{r}: one event each");
            }
        }
        // Nothing ticked, an unknown action, out of scope without a rule.
        let (status, _, _) = post(&app, &rita, "/desk/cases/bulk", &[("action", "spam")]).await;
        assert_eq!(status, 422);
        let tick = format!("case-{}", refs[59]);
        let (status, _, _) = post(
            &app,
            &rita,
            "/desk/cases/bulk",
            &[(&tick, "on"), ("action", "explode")],
        )
        .await;
        assert_eq!(status, 422);
        let (status, _, _) = post(
            &app,
            &rita,
            "/desk/cases/bulk",
            &[(&tick, "on"), ("action", "out_of_scope")],
        )
        .await;
        assert_eq!(status, 422);
        let (status, location, _) = post(
            &app,
            &rita,
            "/desk/cases/bulk",
            &[(&tick, "on"), ("action", "spam"), ("query", "view=mine")],
        )
        .await;
        assert_eq!(
            (status, location.as_str()),
            (303, "/desk/cases?view=mine&done=1")
        );
        // Waiting on the reporter; the reporter wrote last.
        let (status, _, _) = post(
            &app,
            &rita,
            &format!("/desk/cases/{}/act", refs[10]),
            &[("action", "request_information")],
        )
        .await;
        assert_eq!(status, 303);
        let (_, waiting) = get(&app, &rita, "/desk/cases?view=waiting").await;
        assert!(waiting.contains("Cases 1–1 of 1"), "{waiting}");
        assert!(waiting.contains(&format!(">{}</a>", refs[10])));
        let (status, receipt) = app
            .post("", "/api/v1/reports", &new_case("From outside"))
            .await;
        assert_eq!(status, 201, "{receipt}");
        let r = app
            .http
            .post(app.url("/api/v1/reporter/messages"))
            .bearer_auth(receipt["token"].as_str().unwrap())
            .json(&json!({"text": "Any news?"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        let (_, owed) = get(&app, &rita, "/desk/cases?view=needs_reply").await;
        assert!(owed.contains("Cases 1–1 of 1"), "{owed}");
        assert!(owed.contains(receipt["reference"].as_str().unwrap()));
        assert!(owed.contains("reporter waiting"));
        // A viewer acts on nothing.
        let vic = sign_in(&app, "vic").await;
        let (status, _, _) = post(
            &app,
            &vic,
            "/desk/cases/bulk",
            &[(&tick, "on"), ("action", "acknowledge")],
        )
        .await;
        assert_eq!(status, 403);
        app.stop().await;
    }
}

/// The webhooks page: an admin subscribes one (the secret shown once),
/// sends it a test message through the queue, turns it off; others cannot.
#[tokio::test]
async fn admins_manage_webhooks_from_their_page() {
    for db in TestDatabase::all().await {
        let app = TestApp::start(db).await;
        let admin = sign_in(&app, "admin").await;
        let rita = sign_in(&app, "rita").await;
        assert_eq!(get(&app, &rita, "/desk/webhooks").await.0, 403);
        let (status, html) = get(&app, &admin, "/desk/webhooks").await;
        assert_eq!(status, 200);
        assert!(html.contains("No webhook yet."));
        let (status, _, html) = post(
            &app,
            &admin,
            "/desk/webhooks",
            &[("name", "Chat"), ("url", "ftp://nope"), ("format", "slack")],
        )
        .await;
        assert_eq!(status, 422, "{html}");
        assert!(html.contains("url: must be an http:// or https:// URL"));
        // What was typed is in the form again.
        assert!(
            html.contains("name=\"name\" required maxlength=\"100\" value=\"Chat\""),
            "{html}"
        );
        assert!(html.contains("value=\"ftp://nope\""), "{html}");
        assert!(html.contains("<option value=\"slack\" selected>"), "{html}");
        let (status, _, html) = post(
            &app,
            &admin,
            "/desk/webhooks",
            &[
                ("name", "Chat"),
                ("url", "https://hooks.example.org/x"),
                ("format", "slack"),
                ("products", "Dock Certs, Web"),
                ("min_severity", "high"),
            ],
        )
        .await;
        assert_eq!(status, 201, "{html}");
        assert!(
            html.contains("<code id=\"webhook-secret\">whsec_"),
            "{html}"
        );
        let hooks = app.store.list_webhooks().await.unwrap();
        assert_eq!(hooks.len(), 1);
        assert_eq!(
            hooks[0].products,
            vec!["Dock Certs".to_owned(), "Web".to_owned()]
        );
        let id = hooks[0].id;
        let (status, location, _) =
            post(&app, &admin, &format!("/desk/webhooks/{id}/test"), &[]).await;
        assert_eq!(
            (status, location.as_str()),
            (303, "/desk/webhooks?done=test")
        );
        let queued = app
            .store
            .last_delivery_of_kind("webhook.test")
            .await
            .unwrap()
            .expect("a test message queued");
        assert_eq!(queued.channel, "webhook");
        let (_, html) = get(&app, &admin, &location).await;
        assert!(html.contains("A test message is queued"));
        assert!(html.contains("webhook.test"), "the delivery is listed");
        let (status, _, _) = post(&app, &admin, &format!("/desk/webhooks/{id}/disable"), &[]).await;
        assert_eq!(status, 303);
        assert!(app.store.list_webhooks().await.unwrap()[0].disabled);
        assert_eq!(
            post(&app, &admin, &format!("/desk/webhooks/{id}/explode"), &[])
                .await
                .0,
            404
        );
        assert_eq!(
            post(&app, &rita, &format!("/desk/webhooks/{id}/test"), &[])
                .await
                .0,
            403
        );
        app.stop().await;
    }
}

/// The policies in force, read-only, for every member: clocks with when they
/// run and for which cases, scope rules, the CRA section, and the check's
/// warnings (a clock that can never stop is named).
#[tokio::test]
async fn the_policies_in_force_are_shown_with_their_check() {
    use embargo_core::policy::{Policy, PolicySet, presets};
    let broken = presets::get("opensecops").unwrap().replacen(
        "id = \"opensecops\"",
        "id = \"loose\"",
        1,
    ) + "\n[applies_to]\nproducts = [\"Loose\"]\n\n[[clock]]\nid = \"forever\"\nname = \"Never stops\"\npromise = \"p\"\nstart = \"released\"\nstop = \"acknowledged\"\ntarget = \"1 day\"\n";
    let policies = vec![
        Policy::parse(presets::get("eu-cra").unwrap()).unwrap(),
        Policy::parse(&broken).unwrap(),
    ];
    let settings = ServerSettings {
        policies: Arc::new(PolicySet::new(policies).unwrap()),
        ..ServerSettings::default()
    };
    let app = TestApp::start_with(TestDatabase::sqlite().unwrap(), settings).await;
    let vic = sign_in(&app, "vic").await;
    let (status, html) = get(&app, &vic, "/desk/policy").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("CRA early warning"), "{html}");
    assert!(html.contains("an actively exploited vulnerability or severe incident"));
    assert!(html.contains("Cyber Resilience Act"));
    assert!(html.contains("No warnings"), "the eu-cra preset is clean");
    assert!(html.contains(">Policy</a>"), "in everyone's menu");
    let loose = &html[html.find("id=\"policy-loose\"").unwrap()..];
    assert!(
        loose.contains("clock `forever`.stop"),
        "the check's warning: {loose}"
    );
    app.stop().await;
}

/// The customers page: an admin adds a customer, then the releases they
/// run (a release that does not exist is named); others cannot.
#[tokio::test]
async fn admins_keep_the_customers_on_their_page() {
    for db in TestDatabase::all().await {
        let app = TestApp::start(db).await;
        let product = json!({"id": "dock-certs", "name": "Dock Certs", "owner": "Platform",
            "deployment": "both", "exposure": "internet_facing"});
        assert_eq!(
            app.post(&app.admin, "/api/v1/products", &product).await.0,
            201
        );
        let lock = json!({"name": "web", "lockfileVersion": 3, "packages": {
            "": {"name": "web"}, "node_modules/left-pad": {"version": "1.3.0"}}});
        let r =
            app.http
                .post(app.url(
                    "/api/v1/products/dock-certs/releases/2.4.0/sbom?filename=package-lock.json",
                ))
                .bearer_auth(&app.responder)
                .body(lock.to_string())
                .send()
                .await
                .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let admin = sign_in(&app, "admin").await;
        let rita = sign_in(&app, "rita").await;
        assert_eq!(get(&app, &rita, "/desk/customers").await.0, 403);
        let (status, location, html) = post(
            &app,
            &admin,
            "/desk/customers",
            &[
                ("id", "acme"),
                ("name", "ACME Corp"),
                ("contact", "mailto:security@acme.example"),
                ("releases", "dock-certs@2.4.0"),
            ],
        )
        .await;
        assert_eq!(
            (status, location.as_str()),
            (303, "/desk/customers?saved=acme"),
            "{html}"
        );
        let (_, html) = get(&app, &admin, &location).await;
        assert!(
            html.contains("ACME Corp") && html.contains("dock-certs@2.4.0"),
            "{html}"
        );
        let (status, _, html) = post(
            &app,
            &admin,
            "/desk/customers",
            &[
                ("id", "acme"),
                ("name", "Again"),
                ("contact", "mailto:a@b.example"),
            ],
        )
        .await;
        assert_eq!(status, 422, "{html}");
        assert!(html.contains("the customer `acme` exists already"));
        assert!(html.contains("value=\"Again\""), "kept: {html}");
        assert!(
            html.contains("value=\"mailto:a@b.example\""),
            "kept: {html}"
        );
        let (status, _, _) = post(
            &app,
            &admin,
            "/desk/customers",
            &[
                ("id", "Bad Id"),
                ("name", "x"),
                ("contact", "mailto:a@b.example"),
            ],
        )
        .await;
        assert_eq!(status, 422);
        let (status, _, html) = post(
            &app,
            &admin,
            "/desk/customers/acme/releases",
            &[("releases", "dock-certs@2.4.0\nnope@1.0")],
        )
        .await;
        assert_eq!(status, 422, "{html}");
        assert!(
            html.contains("nope@1.0"),
            "the unknown release is named: {html}"
        );
        let (status, _, _) = post(
            &app,
            &admin,
            "/desk/customers/nobody/releases",
            &[("releases", "")],
        )
        .await;
        assert_eq!(status, 404);
        let (_, list) = app.get(&app.viewer, "/api/v1/customers").await;
        assert_eq!(
            list["customers"][0]["releases"],
            json!(["dock-certs@2.4.0"])
        );
        assert_eq!(
            post(
                &app,
                &rita,
                "/desk/customers/acme/releases",
                &[("releases", "")]
            )
            .await
            .0,
            403
        );
        app.stop().await;
    }
}

/// The rules page: an admin adds a rule from the form (it applies at once),
/// turns it off; a bad action or a missing date is named; others cannot.
#[tokio::test]
async fn admins_keep_the_vulnerability_rules_on_their_page() {
    for db in TestDatabase::all().await {
        let app = TestApp::start(db).await;
        let admin = sign_in(&app, "admin").await;
        let rita = sign_in(&app, "rita").await;
        assert_eq!(get(&app, &rita, "/desk/rules").await.0, 403);
        let (status, _, html) = post(
            &app,
            &admin,
            "/desk/rules",
            &[
                ("name", "Accept left-pad"),
                ("package", "pkg:npm/left-pad"),
                ("action", "risk_accepted"),
            ],
        )
        .await;
        assert_eq!(status, 422, "{html}");
        assert!(html.contains("until: the date the acceptance ends"));
        let (status, _, html) = post(
            &app,
            &admin,
            "/desk/rules",
            &[("name", "Everything"), ("action", "false_positive")],
        )
        .await;
        assert_eq!(status, 422, "a rule needs a condition: {html}");
        assert!(html.contains("value=\"Everything\""), "kept: {html}");
        assert!(
            html.contains("<option value=\"false_positive\" selected>"),
            "kept: {html}"
        );
        let (status, location, html) = post(
            &app,
            &admin,
            "/desk/rules",
            &[
                ("name", "Accept left-pad"),
                ("package", "pkg:npm/left-pad"),
                ("action", "risk_accepted"),
                ("until", "2026-06-30"),
            ],
        )
        .await;
        assert_eq!(
            (status, location.as_str()),
            (303, "/desk/rules?applied=0"),
            "{html}"
        );
        let (_, html) = get(&app, &admin, &location).await;
        assert!(html.contains("package pkg:npm/left-pad"), "{html}");
        assert!(html.contains("risk accepted until 2026-06-30 00:00 UTC"));
        let (_, list) = app.get(&app.viewer, "/api/v1/rules").await;
        let id = list["rules"][0]["id"].as_i64().unwrap();
        let (status, _, _) = post(&app, &admin, &format!("/desk/rules/{id}/disable"), &[]).await;
        assert_eq!(status, 303);
        let (_, list) = app.get(&app.viewer, "/api/v1/rules").await;
        assert_eq!(list["rules"][0]["disabled"], true);
        assert_eq!(
            post(&app, &rita, &format!("/desk/rules/{id}/enable"), &[])
                .await
                .0,
            403
        );
        app.stop().await;
    }
}

/// An admin adds a product from the products page; a bad id, a missing
/// choice and a taken id are named; a responder sees no form and is refused.
#[tokio::test]
async fn admins_add_products_from_the_products_page() {
    for db in TestDatabase::all().await {
        let app = TestApp::start(db).await;
        let admin = sign_in(&app, "admin").await;
        let rita = sign_in(&app, "rita").await;
        let (_, html) = get(&app, &rita, "/desk/products").await;
        assert!(
            !html.contains("action=\"/desk/products\""),
            "no form for a responder"
        );
        let fields = |id: &'static str, deployment: &'static str| {
            vec![
                ("id", id),
                ("name", "Dock Certs"),
                ("owner", "Platform team"),
                ("deployment", deployment),
                ("exposure", "internet_facing"),
                ("repositories", "https://git.example.org/dock\n"),
            ]
        };
        let (status, _, html) =
            post(&app, &admin, "/desk/products", &fields("dock-certs", "")).await;
        assert_eq!(status, 422, "{html}");
        assert!(
            html.contains("deployment: choose one of the list"),
            "{html}"
        );
        assert!(html.contains("value=\"dock-certs\""), "kept: {html}");
        assert!(
            html.contains("<option value=\"internet_facing\" selected>"),
            "kept: {html}"
        );
        assert!(
            html.contains(">https://git.example.org/dock\n</textarea>"),
            "kept: {html}"
        );
        let (status, _, _) = post(
            &app,
            &admin,
            "/desk/products",
            &fields("Dock Certs", "both"),
        )
        .await;
        assert_eq!(status, 422);
        let (status, location, html) = post(
            &app,
            &admin,
            "/desk/products",
            &fields("dock-certs", "both"),
        )
        .await;
        assert_eq!(
            (status, location.as_str()),
            (303, "/desk/products?added=dock-certs"),
            "{html}"
        );
        let (_, html) = get(&app, &admin, &location).await;
        assert!(html.contains("Product `dock-certs` is added"), "{html}");
        assert!(html.contains("id=\"p-dock-certs\""));
        let (status, _, _) = post(
            &app,
            &admin,
            "/desk/products",
            &fields("dock-certs", "both"),
        )
        .await;
        assert_eq!(status, 422, "taken");
        assert_eq!(
            post(&app, &rita, "/desk/products", &fields("other", "saas"))
                .await
                .0,
            403
        );
        let (_, list) = app.get(&app.viewer, "/api/v1/products").await;
        assert_eq!(list["products"].as_array().unwrap().len(), 1);
        assert_eq!(list["products"][0]["deployment"], "both");
        app.stop().await;
    }
}
