//! Public intake and the reporter's private thread: a reporter token opens
//! exactly its own case and never anything of the team's.

use std::sync::Arc;

use embargo_core::policy::{Policy, PolicySet, presets};
use embargo_server::ServerSettings;
use embargo_store::testing::TestDatabase;
use serde_json::{Value, json};

use crate::{TestApp, new_case};

pub(crate) fn opensecops() -> ServerSettings {
    ServerSettings {
        policies: Arc::new(
            PolicySet::new(vec![
                Policy::parse(presets::get("opensecops").unwrap()).unwrap(),
            ])
            .unwrap(),
        ),
        ..ServerSettings::default()
    }
}

fn complete_report(title: &str) -> Value {
    let mut c = new_case(title);
    c["report"]["steps_to_reproduce"] = json!("1. log in\n2. <script>alert(1)</script>");
    c["report"]["impact"] = json!("account takeover");
    c
}

async fn submit(app: &TestApp, body: &Value) -> (u16, Value) {
    let r = app
        .http
        .post(app.url("/api/v1/reports"))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn intake_enforces_the_policys_required_fields() {
    for db in TestDatabase::all().await {
        let app = TestApp::start_with(db, opensecops()).await;
        // OpenSecOps asks for steps to reproduce and impact.
        let (status, err) = submit(&app, &new_case("incomplete")).await;
        assert_eq!(
            (status, err["error"]["field"].as_str()),
            (422, Some("report.steps_to_reproduce")),
            "{err}"
        );
        let (status, receipt) = submit(&app, &complete_report("complete")).await;
        assert_eq!(status, 201, "{}: {receipt}", app.backend);
        assert_eq!(receipt["reference"], "EMB-2026-0001");
        assert!(receipt["token"].as_str().unwrap().starts_with("rep_"));
        // The emailed receipt carries the private link (sealed in the outbox).
        let queued = app
            .store
            .claim_deliveries(
                "test",
                crate::t0(),
                crate::t0() + chrono::TimeDelta::hours(1),
                100,
            )
            .await
            .unwrap();
        let link = receipt["private_url"].as_str().unwrap();
        assert!(
            queued.iter().any(|c| matches!(&c.delivery, embargo_core::notify::Delivery::Email { subject, text, .. }
                if subject.contains("We received") && text.contains(link))),
            "{queued:?}"
        );
        // The team sees it, opened by the reporter, with the acknowledgement clock running.
        let (_, detail) = app.get(&app.viewer, "/api/v1/cases/EMB-2026-0001").await;
        assert_eq!(detail["history"][0]["actor"], "reporter");
        assert_eq!(detail["clocks"][0]["status"], "running");
        app.stop().await;
    }
}

#[tokio::test]
async fn a_reporter_token_opens_exactly_its_own_case() {
    for db in TestDatabase::all().await {
        let app = TestApp::start_with(db, opensecops()).await;
        let (_, mine) = submit(&app, &complete_report("mine")).await;
        let (_, other) = submit(&app, &complete_report("someone else's")).await;
        let token = mine["token"].as_str().unwrap().to_owned();
        let other_ref = other["reference"].as_str().unwrap().to_owned();

        // The team writes to the reporter and keeps an internal note.
        let path = "/api/v1/cases/EMB-2026-0001";
        assert_eq!(
            app.post(
                &app.responder,
                &format!("{path}/messages"),
                &json!({"text": "Can you share the request?"})
            )
            .await
            .0,
            200
        );
        assert_eq!(
            app.post(
                &app.responder,
                &format!("{path}/notes"),
                &json!({"text": "INTERNAL-ONLY note"})
            )
            .await
            .0,
            200
        );

        let (status, view) = app.get(&token, "/api/v1/reporter/case").await;
        assert_eq!(status, 200, "{}", app.backend);
        assert_eq!(view["reference"], "EMB-2026-0001");
        assert_eq!(view["status"], "Received; not yet acknowledged");
        assert_eq!(view["thread"][0]["from"], "team");
        assert_eq!(view["thread"][0]["text"], "Can you share the request?");
        let text = view.to_string();
        assert!(!text.contains("INTERNAL-ONLY"), "no internal note");
        assert!(!text.contains("someone else"), "no other case");
        assert!(!text.contains("user:rita"), "no team detail");
        assert!(
            view["clocks"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["promise"].is_string())
        );

        // Team routes refuse a reporter token, whichever case they name.
        for route in [
            "/api/v1/cases/EMB-2026-0001",
            &format!("/api/v1/cases/{other_ref}"),
            "/api/v1/cases",
            "/api/v1/me",
        ] {
            assert_eq!(app.get(&token, route).await.0, 401, "{route}");
        }
        let (status, _) = app
            .post(
                &token,
                &format!("/api/v1/cases/{other_ref}/notes"),
                &json!({"text": "x"}),
            )
            .await;
        assert_eq!(status, 401);
        app.stop().await;
    }
}

#[tokio::test]
async fn the_reporter_answers_rotates_and_loses_access_when_revoked() {
    for db in TestDatabase::all().await {
        let app = TestApp::start_with(db, opensecops()).await;
        let (_, receipt) = submit(&app, &complete_report("thread")).await;
        let token = receipt["token"].as_str().unwrap().to_owned();
        let path = "/api/v1/cases/EMB-2026-0001/transitions";
        for action in ["acknowledge", "start_triage", "request_information"] {
            assert_eq!(
                app.post(&app.responder, path, &json!({"action": action}))
                    .await
                    .0,
                200
            );
        }
        let (status, msg) = app
            .post(
                &token,
                "/api/v1/reporter/messages",
                &json!({"text": "Here is the request."}),
            )
            .await;
        assert_eq!(
            (status, msg["from"].as_str()),
            (201, Some("reporter")),
            "{msg}"
        );
        let (_, detail) = app.get(&app.viewer, "/api/v1/cases/EMB-2026-0001").await;
        assert_eq!(
            detail["state"], "triage",
            "the answer ends the wait ({})",
            app.backend
        );
        let (status, err) = app
            .post(&token, "/api/v1/reporter/messages", &json!({"text": "  "}))
            .await;
        assert_eq!(
            (status, err["error"]["field"].as_str()),
            (422, Some("text"))
        );

        let r = app
            .http
            .post(app.url("/api/v1/reporter/token"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let rotated = r.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            app.get(&token, "/api/v1/reporter/case").await.0,
            401,
            "the old token is gone"
        );
        assert_eq!(app.get(&rotated, "/api/v1/reporter/case").await.0, 200);

        let r = app
            .http
            .delete(app.url("/api/v1/cases/EMB-2026-0001/reporter-tokens"))
            .bearer_auth(&app.responder)
            .send()
            .await
            .unwrap();
        assert_eq!(r.json::<Value>().await.unwrap()["revoked"], 1);
        assert_eq!(app.get(&rotated, "/api/v1/reporter/case").await.0, 401);
        assert_eq!(app.get("rep_0000", "/api/v1/reporter/case").await.0, 401);
        app.stop().await;
    }
}

#[tokio::test]
async fn triagers_see_likely_duplicates_and_the_reporters_track_record() {
    for db in TestDatabase::all().await {
        let app = TestApp::start_with(db, opensecops()).await;
        let mut original = complete_report("SQL injection in the admin login form");
        original["report"]["description"] = json!(
            "The username parameter of the admin portal login is concatenated into a database query."
        );
        submit(&app, &original).await;
        let mut unrelated = complete_report("Clickjacking on the settings page");
        unrelated["report"]["description"] =
            json!("The settings page can be framed by any site; no frame-ancestors policy.");
        submit(&app, &unrelated).await;
        let mut again = complete_report("Admin login vulnerable to SQL injection");
        again["report"]["description"] =
            json!("Injection of SQL through the username field on the admin portal login page.");
        let (_, dup) = submit(&app, &again).await;
        // The same reporter earlier sent spam.
        app.post(
            &app.responder,
            "/api/v1/cases/EMB-2026-0002/transitions",
            &json!({"action": "spam"}),
        )
        .await;

        let (status, aid) = app
            .get(
                &app.viewer,
                &format!(
                    "/api/v1/cases/{}/triage",
                    dup["reference"].as_str().unwrap()
                ),
            )
            .await;
        assert_eq!(status, 200, "{aid}");
        assert_eq!(
            aid["duplicates"][0]["reference"], "EMB-2026-0001",
            "{} {aid}",
            app.backend
        );
        assert!(
            aid["duplicates"][0]["score"].as_f64().unwrap() > 0.3,
            "{aid}"
        );
        assert!(
            aid["duplicates"]
                .as_array()
                .unwrap()
                .iter()
                .all(|d| d["reference"] != "EMB-2026-0003")
        );
        let record = &aid["reporter_record"];
        assert_eq!(
            (
                record["reports"].as_u64(),
                record["spam"].as_u64(),
                record["open"].as_u64()
            ),
            (Some(3), Some(1), Some(2)),
            "{aid}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn floods_are_refused_per_address_and_per_reporter() {
    let mut settings = opensecops();
    settings.intake_per_address_per_hour = 3;
    settings.intake_per_contact_per_hour = 1;
    let app = TestApp::start_with(TestDatabase::sqlite().unwrap(), settings).await;
    assert_eq!(submit(&app, &complete_report("one")).await.0, 201);
    let r = app
        .http
        .post(app.url("/api/v1/reports"))
        .json(&complete_report("two"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 429, "the same reporter again");
    assert!(r.headers().get("retry-after").is_some());
    let mut other = complete_report("three");
    other["reporter"]["contact"] = json!("someone@example.net");
    assert_eq!(submit(&app, &other).await.0, 201, "another reporter");
    other["reporter"] = json!({});
    let (status, err) = submit(&app, &other).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (429, Some("too_many_requests")),
        "the address's limit: {err}"
    );
    app.stop().await;
}

/// An `application/x-www-form-urlencoded` body, every non-alphanumeric byte escaped.
pub(crate) fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}={}",
                v.bytes()
                    .map(|b| if b.is_ascii_alphanumeric() {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    })
                    .collect::<String>()
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The HTML form works without JavaScript: required fields from the policy,
/// errors beside their field with the input kept and escaped, CSRF, honeypot.
#[tokio::test]
async fn the_report_form_validates_escapes_and_refuses_forgeries() {
    let app = TestApp::start_with(TestDatabase::sqlite().unwrap(), opensecops()).await;
    let r = app.http.get(app.url("/report")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let html = r.text().await.unwrap();
    assert!(
        html.contains("<label for=\"steps_to_reproduce\">Steps to reproduce the issue *</label>"),
        "{html}"
    );
    assert!(
        html.contains(
            "<label for=\"suggested_mitigation\">Mitigations you have identified</label>"
        ),
        "optional in this policy"
    );
    assert!(!html.contains("<script"));
    let csrf = cookie.split_once('=').unwrap().1.to_owned();

    let post = |body: String, cookie: Option<String>| {
        let mut req = app
            .http
            .post(app.url("/report"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        req.send()
    };
    let xss = "<script>alert('x')</script>";
    let partial = form_body(&[
        ("csrf", &csrf),
        ("title", xss),
        ("product", "Dock Certs"),
        ("summary", xss),
        ("description", xss),
        ("impact", xss),
    ]);
    // No cookie: a forged cross-site post.
    assert_eq!(
        post(partial.clone(), None).await.unwrap().status().as_u16(),
        403
    );
    let r = post(partial, Some(cookie.clone())).await.unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("<strong id=\"steps_to_reproduce-error\">"),
        "{html}"
    );
    assert!(
        html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"),
        "kept and escaped"
    );
    assert!(!html.contains(xss), "never raw");

    let complete = form_body(&[
        ("csrf", &csrf),
        ("title", "Stored XSS in comments"),
        ("product", "Dock Certs"),
        ("summary", "s"),
        ("description", "d"),
        ("steps_to_reproduce", "1. post"),
        ("impact", "session theft"),
        ("website", ""),
    ]);
    let r = post(complete, Some(cookie.clone())).await.unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let receipt = r.text().await.unwrap();
    assert!(
        receipt.contains("EMB-2026-0001") && receipt.contains("rep_"),
        "{receipt}"
    );
    assert!(receipt.contains("Acknowledge receipt of your report within 24 hours"));

    let bot = form_body(&[
        ("csrf", &csrf),
        ("title", "t"),
        ("product", "p"),
        ("summary", "s"),
        ("description", "d"),
        ("steps_to_reproduce", "x"),
        ("impact", "y"),
        ("website", "http://spam.example"),
    ]);
    assert_eq!(
        post(bot, Some(cookie)).await.unwrap().status().as_u16(),
        201
    );
    let (_, list) = app.get(&app.viewer, "/api/v1/cases").await;
    assert_eq!(
        list["cases"].as_array().unwrap().len(),
        1,
        "the bot's report was dropped"
    );
    app.stop().await;
}

/// The private page behind the link: the report (escaped), its status, the
/// thread, and a reply box guarded by CSRF; an invalid link shows nothing.
#[tokio::test]
async fn the_private_page_shows_the_thread_and_takes_replies() {
    let app = TestApp::start_with(TestDatabase::sqlite().unwrap(), opensecops()).await;
    let mut report = complete_report("<img src=x onerror=alert(1)> in avatars");
    report["report"]["description"] = json!("<script>steal()</script>");
    let (_, receipt) = submit(&app, &report).await;
    let token = receipt["token"].as_str().unwrap().to_owned();
    assert!(
        receipt["private_url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/portal/{token}"))
    );
    app.post(
        &app.responder,
        "/api/v1/cases/EMB-2026-0001/messages",
        &json!({"text": "Thanks, <b>looking</b>"}),
    )
    .await;
    app.post(
        &app.responder,
        "/api/v1/cases/EMB-2026-0001/notes",
        &json!({"text": "INTERNAL-ONLY"}),
    )
    .await;

    let r = app
        .http
        .get(app.url(&format!("/portal/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let html = r.text().await.unwrap();
    assert!(
        html.contains("&lt;img src=x onerror=alert(1)&gt;")
            && html.contains("&lt;script&gt;steal()&lt;/script&gt;")
    );
    assert!(!html.contains("<script") && !html.contains("<img"));
    assert!(html.contains("Thanks, &lt;b&gt;looking&lt;/b&gt;"));
    assert!(!html.contains("INTERNAL-ONLY"));
    assert!(html.contains("Received; not yet acknowledged"));
    let csrf = cookie.split_once('=').unwrap().1.to_owned();

    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let send = |body: String, cookie: Option<String>| {
        let mut req = no_redirect
            .post(app.url(&format!("/portal/{token}/reply")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        req.send()
    };
    assert_eq!(
        send(form_body(&[("csrf", &csrf), ("text", "forged")]), None)
            .await
            .unwrap()
            .status()
            .as_u16(),
        403
    );
    let r = send(
        form_body(&[("csrf", &csrf), ("text", "Here is more detail.")]),
        Some(cookie),
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let (_, detail) = app.get(&app.viewer, "/api/v1/cases/EMB-2026-0001").await;
    let kinds: Vec<_> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        kinds.contains(&"message_from_reporter".to_owned()),
        "{kinds:?}"
    );
    assert!(!detail.to_string().contains("forged"));
    assert_eq!(
        app.http
            .get(app.url("/portal/rep_0123"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    app.stop().await;
}

/// Behind a reverse proxy the client is the first `X-Forwarded-For` entry,
/// for the API and the form alike (they share one limit per address).
#[tokio::test]
async fn behind_a_proxy_limits_count_the_forwarded_address() {
    let mut settings = opensecops();
    settings.behind_proxy = true;
    settings.intake_per_address_per_hour = 1;
    let app = TestApp::start_with(TestDatabase::sqlite().unwrap(), settings).await;
    let api = |from: &'static str, title: &'static str| {
        let mut report = complete_report(title);
        report["reporter"] = json!({});
        app.http
            .post(app.url("/api/v1/reports"))
            .header("x-forwarded-for", format!("{from}, 10.0.0.1"))
            .json(&report)
            .send()
    };
    assert_eq!(
        api("203.0.113.1", "a").await.unwrap().status().as_u16(),
        201
    );
    assert_eq!(
        api("203.0.113.1", "b").await.unwrap().status().as_u16(),
        429
    );
    assert_eq!(
        api("203.0.113.2", "c").await.unwrap().status().as_u16(),
        201
    );

    let (cookie, csrf) = crate::form_cookie(&app.http, &app.url("/report")).await;
    let form = |from: &'static str| {
        app.http
            .post(app.url("/report"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", &cookie)
            .header("x-forwarded-for", from)
            .body(form_body(&[
                ("csrf", &csrf),
                ("title", "form"),
                ("product", "Dock Certs"),
                ("summary", "s"),
                ("description", "d"),
                ("steps_to_reproduce", "1"),
                ("impact", "i"),
            ]))
            .send()
    };
    assert_eq!(
        form("203.0.113.2").await.unwrap().status().as_u16(),
        429,
        "the API used this address's report"
    );
    assert_eq!(form("203.0.113.3").await.unwrap().status().as_u16(), 201);
    app.stop().await;
}
