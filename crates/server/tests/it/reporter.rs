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
    let receipt = crate::receipt_page(&app, r).await;
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
    assert_eq!(form("203.0.113.3").await.unwrap().status().as_u16(), 303);
    app.stop().await;
}

/// The value of the hidden field `name` in a page.
fn hidden_value(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name}: {html}"))
        + marker.len();
    html[at..at + html[at..].find('"').unwrap()].to_owned()
}

fn set_cookie(r: &reqwest::Response) -> String {
    r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// Nothing a reporter types is lost: every error at once; an expired form
/// and a 429 show the filled form again (the 429 with the policy's other
/// channels), with a token that works; submit → redirect → receipt, whose
/// reload (or a resent form) opens no second case; the receipt says whether
/// a confirmation email comes.
#[tokio::test]
async fn the_report_form_never_loses_what_the_reporter_typed() {
    for db in TestDatabase::all().await {
        let settings = ServerSettings {
            intake_per_address_per_hour: 2,
            ..opensecops()
        };
        let app = TestApp::start_with(db, settings).await;
        let r = app.http.get(app.url("/report")).send().await.unwrap();
        let cookie = set_cookie(&r);
        let html = r.text().await.unwrap();
        let csrf = hidden_value(&html, "csrf");
        let submission = hidden_value(&html, "submission");
        assert!(submission.starts_with("sub_"), "{submission}");
        let post = |body: String, cookie: String| {
            app.http
                .post(app.url("/report"))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("cookie", cookie)
                .body(body)
                .send()
        };

        // An empty form: every field it needs, at once.
        let r = post(form_body(&[("csrf", &csrf)]), cookie.clone())
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 422);
        let html = r.text().await.unwrap();
        for field in [
            "title",
            "product",
            "summary",
            "description",
            "steps_to_reproduce",
            "impact",
        ] {
            assert!(
                html.contains(&format!("id=\"{field}-error\"")),
                "{field} is flagged with the rest: {html}"
            );
        }

        // The form expired (its cookie is gone): the text comes back, with a
        // new token and cookie that work.
        let long_text = "Step one: open the export.\nStep two: read another tenant's tokens.";
        let fields = |csrf: &str, submission: &str, title: &str| {
            form_body(&[
                ("csrf", csrf),
                ("submission", submission),
                ("title", title),
                ("product", "Dock Certs"),
                ("summary", "Tokens leak across tenants"),
                ("description", long_text),
                ("steps_to_reproduce", "1. export"),
                ("impact", "takeover"),
                ("contact", "finder@example.org"),
            ])
        };
        let r = post(
            fields(&csrf, &submission, "Cross-tenant export"),
            "embargo_form=frm_gone".into(),
        )
        .await
        .unwrap();
        assert_eq!(r.status().as_u16(), 403);
        let fresh_cookie = set_cookie(&r);
        let html = r.text().await.unwrap();
        assert!(html.contains("The form had expired"), "{html}");
        assert!(
            html.contains(
                "Step one: open the export.\nStep two: read another tenant&#39;s tokens."
            ),
            "the description is kept: {html}"
        );
        assert!(html.contains("value=\"Cross-tenant export\""));
        let fresh = hidden_value(&html, "csrf");
        assert_ne!(fresh, csrf);
        assert_eq!(fresh_cookie, format!("embargo_form={fresh}"));
        assert_eq!(
            hidden_value(&html, "submission"),
            submission,
            "the same report"
        );

        // Sent again with the new token: submit, redirect, receipt.
        let r = post(
            fields(&fresh, &submission, "Cross-tenant export"),
            fresh_cookie.clone(),
        )
        .await
        .unwrap();
        let receipt = crate::receipt_page(&app, r).await;
        assert!(
            receipt.contains("<strong>EMB-2026-0001</strong>"),
            "{receipt}"
        );
        assert!(
            receipt.contains("this server sends no email yet, so no confirmation email will come"),
            "{receipt}"
        );
        // The same form sent again (a double click, the back button): the
        // same case, the same receipt.
        let r = post(
            fields(&fresh, &submission, "Cross-tenant export"),
            fresh_cookie.clone(),
        )
        .await
        .unwrap();
        let again = crate::receipt_page(&app, r).await;
        assert!(again.contains("<strong>EMB-2026-0001</strong>"), "{again}");
        assert_eq!(
            hidden_token(&again),
            hidden_token(&receipt),
            "the first receipt's private link"
        );
        let (_, list) = app.get(&app.viewer, "/api/v1/cases").await;
        assert_eq!(list["cases"].as_array().unwrap().len(), 1, "one case");
        // No receipt cookie: nothing to show, nothing sent.
        let r = app
            .http
            .get(app.url("/report/receipt"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 404);
        let r = app
            .http
            .get(app.url("/report/receipt"))
            .header("cookie", "embargo_receipt=rep_forged")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 404);

        // Over the hourly limit: the form again with the text, when to retry
        // and the other ways to report.
        let second = post(
            fields(&fresh, "sub_second", "Second report"),
            fresh_cookie.clone(),
        )
        .await
        .unwrap();
        assert_eq!(second.status().as_u16(), 303);
        let r = post(
            fields(&fresh, "sub_third", "Third report"),
            fresh_cookie.clone(),
        )
        .await
        .unwrap();
        assert_eq!(r.status().as_u16(), 429);
        assert!(r.headers().get("retry-after").is_some());
        let html = r.text().await.unwrap();
        assert!(html.contains("value=\"Third report\""), "{html}");
        assert!(html.contains("read another tenant&#39;s tokens"));
        assert!(html.contains("send it again in 60 minutes"), "{html}");
        assert!(html.contains("<li>security@opensecops.org</li>"), "{html}");
        let (_, list) = app.get(&app.viewer, "/api/v1/cases").await;
        assert_eq!(list["cases"].as_array().unwrap().len(), 2);
        app.stop().await;
    }
}

fn hidden_token(receipt: &str) -> String {
    receipt
        .split("<code>")
        .nth(1)
        .and_then(|s| s.split("</code>").next())
        .unwrap()
        .to_owned()
}

/// The API: every problem at once in `problems`; an `Idempotency-Key` sent
/// again with the same report gets the first receipt (one case), with
/// another report a 422; the receipt says whether a confirmation comes.
#[tokio::test]
async fn a_retried_api_report_opens_one_case() {
    for db in TestDatabase::all().await {
        let settings = ServerSettings {
            sends_email: true,
            ..opensecops()
        };
        let app = TestApp::start_with(db, settings).await;
        let (status, body) = submit(
            &app,
            &json!({"title": "", "product": "", "report": {"summary": "", "description": ""}}),
        )
        .await;
        assert_eq!(status, 422, "{body}");
        let fields: Vec<&str> = body["error"]["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["field"].as_str().unwrap())
            .collect();
        for field in [
            "title",
            "product",
            "report.summary",
            "report.description",
            "report.steps_to_reproduce",
            "report.impact",
        ] {
            assert!(fields.contains(&field), "{field}: {body}");
        }
        assert_eq!(body["error"]["field"], "title");

        let keyed = |key: &'static str, body: Value| {
            app.http
                .post(app.url("/api/v1/reports"))
                .header("idempotency-key", key)
                .json(&body)
                .send()
        };
        let report = complete_report("Retried over a flaky network");
        let first = keyed("7f1c2d9e-retry", report.clone()).await.unwrap();
        assert_eq!(first.status().as_u16(), 201);
        assert!(first.headers().get("idempotent-replayed").is_none());
        let first: Value = first.json().await.unwrap();
        assert_eq!(first["confirmation_email"], true, "{first}");
        assert!(
            first["message"]
                .as_str()
                .unwrap()
                .contains("A confirmation email goes to r@example.org"),
            "{first}"
        );
        let again = keyed("7f1c2d9e-retry", report.clone()).await.unwrap();
        assert_eq!(again.status().as_u16(), 201);
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        let again: Value = again.json().await.unwrap();
        assert_eq!(again["reference"], first["reference"]);
        assert_eq!(again["token"], first["token"], "the first receipt, whole");
        let (_, list) = app.get(&app.viewer, "/api/v1/cases").await;
        assert_eq!(list["cases"].as_array().unwrap().len(), 1);

        let other = keyed("7f1c2d9e-retry", complete_report("Another report"))
            .await
            .unwrap();
        assert_eq!(other.status().as_u16(), 422);
        let other: Value = other.json().await.unwrap();
        assert_eq!(other["error"]["code"], "idempotency_key_reused", "{other}");
        for bad in ["", "naïve", &"k".repeat(256)] {
            let r = app
                .http
                .post(app.url("/api/v1/reports"))
                .header("idempotency-key", bad)
                .json(&report)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 422, "{bad:?}");
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["error"]["field"], "Idempotency-Key");
        }
        // Without a contact: said so.
        let mut anonymous = complete_report("Anonymous");
        anonymous["reporter"] = json!({});
        let (status, body) = submit(&app, &anonymous).await;
        assert_eq!(status, 201);
        assert_eq!(body["confirmation_email"], false);
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("You gave no email address"),
            "{body}"
        );
        app.stop().await;
    }
}
