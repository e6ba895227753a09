//! Messages to people outside the team, on both stores: customer notices
//! for the releases an advisory covers (each customer once per advisory
//! revision, the exceptional-delivery wording for customer-deployed
//! products, the 72-hour clock stopped), the reporter told when their
//! advisory is published (with its link and their credit), webhooks told
//! too, and all of it in the policy's language.

use std::sync::Arc;

use chrono::Duration;
use embargo_core::notify::Delivery;
use embargo_core::policy::{Policy, PolicySet, presets};
use embargo_server::ServerSettings;
use embargo_store::testing::TestDatabase;
use serde_json::{Value, json};

use crate::{TestApp, t0};

/// Truvera's policy (the 72-hour customer notice for High), in `language`.
fn settings(language: &str) -> ServerSettings {
    let text = presets::get("truvera").unwrap().replace(
        "languages = [\"en\"]",
        &format!("languages = [\"{language}\"]"),
    );
    ServerSettings {
        policies: Arc::new(PolicySet::new(vec![Policy::parse(&text).unwrap()]).unwrap()),
        public_url: "https://security.example.org".into(),
        ..ServerSettings::default()
    }
}

/// Every queued delivery, opened (the test claims them as a worker would).
async fn claim_all(app: &TestApp) -> Vec<(String, Delivery)> {
    let now = t0() + Duration::days(30);
    app.store
        .claim_deliveries("test", now, now + Duration::minutes(5), 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.idempotency_key, c.delivery))
        .collect()
}

async fn portfolio(app: &TestApp) {
    for (id, name, deployment) in [
        ("dock", "Dock Certs", "customer_deployed"),
        ("portal", "Portal", "saas"),
    ] {
        let (status, body) = app
            .post(
                &app.admin,
                "/api/v1/products",
                &json!({"id": id, "name": name, "owner": "o", "deployment": deployment, "exposure": "internal"}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let lock =
        json!({"name": "x", "lockfileVersion": 3, "packages": {"": {"name": "x"}}}).to_string();
    for (product, version) in [("dock", "2.3.0"), ("dock", "2.4.1"), ("portal", "1.0")] {
        let r = app
            .http
            .post(app.url(&format!(
                "/api/v1/products/{product}/releases/{version}/sbom?filename=package-lock.json"
            )))
            .bearer_auth(&app.responder)
            .body(lock.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
    }
    for (id, contact, releases) in [
        (
            "old",
            "mailto:ops@old.example",
            vec!["dock@2.3.0", "portal@1.0"],
        ),
        ("new", "mailto:ops@new.example", vec!["dock@2.4.1"]),
        ("web", "https://web.example/security", vec!["dock@2.3.0"]),
    ] {
        let (status, body) = app
            .post(
                &app.admin,
                "/api/v1/customers",
                &json!({"id": id, "name": id.to_uppercase(), "contact": contact, "releases": releases}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
}

#[tokio::test]
async fn impacted_customers_are_told_once_in_the_policys_language() {
    for db in TestDatabase::all().await {
        let app = TestApp::start_with(db, settings("fr")).await;
        portfolio(&app).await;
        let (_, case) = app
            .post(
                &app.responder,
                "/api/v1/cases",
                &crate::new_case("Injection SQL"),
            )
            .await;
        let r = case["reference"].as_str().unwrap().to_owned();
        let base = format!("/api/v1/cases/{r}");
        assert_eq!(
            app.get(&app.viewer, &format!("{base}/customer-notices"))
                .await
                .0,
            422,
            "no advisory yet"
        );
        let (status, _) = app
            .post(
                &app.responder,
                &format!("{base}/transitions"),
                &json!({"action": "set_severity", "severity": "high"}),
            )
            .await;
        assert_eq!(status, 200);
        // Truvera's levels are chosen by their criteria: a breach is High.
        let (status, _) = app
            .post(
                &app.responder,
                &format!("{base}/transitions"),
                &json!({"action": "set_level", "level": "high"}),
            )
            .await;
        assert_eq!(status, 200);
        let draft = json!({"id": "TRU-2026-01", "title": "Injection SQL dans la recherche",
            "summary": "s", "affected": [{"vendor": "Truvera", "product": "Dock Certs",
            "ranges": [{"introduced": "2.0", "fixed": "2.4.1"}]}]});
        let r2 = app
            .http
            .put(app.url(&format!("{base}/advisory")))
            .bearer_auth(&app.responder)
            .json(&draft)
            .send()
            .await
            .unwrap();
        assert_eq!(r2.status().as_u16(), 200);
        claim_all(&app).await; // what earlier events queued

        let (status, preview) = app
            .get(&app.viewer, &format!("{base}/customer-notices"))
            .await;
        assert_eq!(status, 200);
        let who: Vec<(&str, &str, bool)> = preview["notices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                (
                    n["customer"].as_str().unwrap(),
                    n["channel"].as_str().unwrap(),
                    n["queued"].as_bool().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            who,
            vec![("old", "email", false), ("web", "by_hand", false)],
            "2.4.1 is fixed; portal is not covered"
        );
        let (status, _) = app
            .post(
                &app.viewer,
                &format!("{base}/customer-notices"),
                &json!(null),
            )
            .await;
        assert_eq!(status, 403, "viewers do not send");

        let before = app.get(&app.viewer, &base).await.1["history"]
            .as_array()
            .unwrap()
            .len();
        let (status, sent) = app
            .post(
                &app.responder,
                &format!("{base}/customer-notices"),
                &json!(null),
            )
            .await;
        assert_eq!(status, 200, "{sent}");
        assert_eq!(sent["notices"][0]["queued"], true);
        assert_eq!(
            sent["notices"][1]["queued"], false,
            "a web contact is told by hand"
        );
        let detail = app.get(&app.viewer, &base).await.1;
        let history = detail["history"].as_array().unwrap();
        // The notice, then the customer-notice clock's outcome.
        assert_eq!(history.len(), before + 2);
        let notified = &history[history.len() - 2];
        assert_eq!(notified["kind"], "customers_notified");
        assert_eq!(notified["note"], "1 customer notified: old");
        assert_eq!(history.last().unwrap()["kind"], "clock_ended");
        assert_eq!(history.last().unwrap()["clock"], "customer-notice");
        assert_eq!(history.last().unwrap()["outcome"], "met");
        let clock = detail["clocks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "customer-notice")
            .unwrap()
            .clone();
        assert_eq!(clock["status"], "met", "{clock}");

        let queued = claim_all(&app).await;
        assert_eq!(queued.len(), 1, "{queued:?}");
        let Delivery::Email {
            to,
            subject,
            text,
            html,
            ..
        } = &queued[0].1
        else {
            panic!("{queued:?}")
        };
        assert_eq!(to, "ops@old.example");
        assert_eq!(
            subject,
            "Livraison de sécurité exceptionnelle : Injection SQL dans la recherche"
        );
        assert!(text.starts_with("Bonjour,"), "{text}");
        assert!(
            text.contains("Dock Certs 2.3.0") && text.contains("version 2.4.1"),
            "{text}"
        );
        assert!(text.contains("https://security.example.org/advisories/TRU-2026-01"));
        assert!(html.contains("<p>Bonjour,</p>"));

        // Asking again tells nobody twice and records nothing.
        let (status, again) = app
            .post(
                &app.responder,
                &format!("{base}/customer-notices"),
                &json!(null),
            )
            .await;
        assert_eq!(status, 200);
        assert!(
            again["notices"]
                .as_array()
                .unwrap()
                .iter()
                .all(|n| n["queued"] == false)
        );
        assert_eq!(
            app.get(&app.viewer, &base).await.1["history"]
                .as_array()
                .unwrap()
                .len(),
            before + 2
        );
        assert!(claim_all(&app).await.is_empty());
        app.stop().await;
    }
}

#[tokio::test]
async fn the_reporter_and_webhooks_hear_of_the_published_advisory() {
    for db in TestDatabase::all().await {
        let app = TestApp::start_with(db, settings("de")).await;
        let (status, hook) = app
            .post(
                &app.admin,
                "/api/v1/webhooks",
                &json!({"name": "siem", "url": "https://siem.example/hook",
                "kinds": ["advisory.published"]}),
            )
            .await;
        assert_eq!(status, 201, "{hook}");
        let report = json!({"title": "XSS", "product": "Dock Certs",
            "reporter": {"contact": "finder@example.org", "name": "Finder"},
            "report": {"summary": "s", "description": "d"}});
        let mut bad = report.clone();
        bad["reporter"]["pgp_key"] = json!("-----BEGIN PGP PUBLIC KEY BLOCK-----\nnot a key");
        let (status, body) = app.post("", "/api/v1/reports", &bad).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["error"]["field"], "reporter.pgp_key");
        let (status, receipt) = app.post("", "/api/v1/reports", &report).await;
        assert_eq!(status, 201, "{receipt}");
        let r = receipt["reference"].as_str().unwrap().to_owned();
        let base = format!("/api/v1/cases/{r}");
        let mails = claim_all(&app).await;
        let receipt_mail = mails
            .iter()
            .find_map(|(_, d)| match d {
                Delivery::Email {
                    to, subject, text, ..
                } if to == "finder@example.org" => Some((subject.clone(), text.clone())),
                _ => None,
            })
            .expect("the receipt");
        assert_eq!(
            receipt_mail.0,
            format!("[{r}] Wir haben Ihre Schwachstellenmeldung erhalten")
        );
        assert!(receipt_mail.1.starts_with("Guten Tag,"));

        let draft = json!({"id": "TRU-2026-02", "title": "XSS", "summary": "s",
            "affected": [{"vendor": "Truvera", "product": "Dock Certs", "ranges": [{"fixed": "2.4.1"}]}]});
        let r2 = app
            .http
            .put(app.url(&format!("{base}/advisory")))
            .bearer_auth(&app.responder)
            .json(&draft)
            .send()
            .await
            .unwrap();
        assert_eq!(r2.status().as_u16(), 200);
        for action in ["acknowledge", "start_triage", "accept", "fix_available"] {
            let (status, _) = app
                .post(
                    &app.responder,
                    &format!("{base}/transitions"),
                    &json!({"action": action}),
                )
                .await;
            assert_eq!(status, 200);
        }
        claim_all(&app).await;
        let (status, _) = app
            .post(
                &app.responder,
                &format!("{base}/advisory/publish"),
                &json!({"credit_reporter": true}),
            )
            .await;
        assert_eq!(status, 200);
        let sent = claim_all(&app).await;
        let mail = sent
            .iter()
            .find_map(|(_, d)| match d {
                Delivery::Email {
                    to, subject, text, ..
                } if to == "finder@example.org" => Some((subject.clone(), text.clone())),
                _ => None,
            })
            .expect("the reporter hears of the publication");
        assert_eq!(
            mail.0,
            format!("[{r}] Das Advisory zu Ihrer Meldung ist veröffentlicht")
        );
        assert!(
            mail.1
                .contains("https://security.example.org/advisories/TRU-2026-02"),
            "{}",
            mail.1
        );
        assert!(mail.1.contains("Es nennt Sie als Finder."), "{}", mail.1);
        let webhook: Value = sent
            .iter()
            .find_map(|(_, d)| match d {
                Delivery::Webhook { body, .. } => serde_json::from_str(body).ok(),
                _ => None,
            })
            .expect("the webhook");
        assert_eq!(webhook["kind"], "advisory.published");
        assert_eq!(webhook["advisory"]["id"], "TRU-2026-02");
        assert_eq!(webhook["advisory"]["revision"], 1);
        assert_eq!(
            webhook["advisory"]["url"],
            "https://security.example.org/advisories/TRU-2026-02"
        );

        // A second revision tells webhooks, not the reporter again.
        let (status, _) = app
            .post(
                &app.responder,
                &format!("{base}/advisory/publish"),
                &json!({"summary": "CVE added", "credit_reporter": true}),
            )
            .await;
        assert_eq!(status, 200);
        let sent = claim_all(&app).await;
        assert!(
            sent.iter().all(
                |(_, d)| !matches!(d, Delivery::Email { to, .. } if to == "finder@example.org")
            ),
            "{sent:?}"
        );
        assert!(
            sent.iter()
                .any(|(_, d)| matches!(d, Delivery::Webhook { .. }))
        );
        app.stop().await;
    }
}

/// An actively exploited vulnerability's customer notice (CRA Article
/// 14(8)): said first, with the advisory as CSAF 2.0 and the VEX of the
/// release the customer runs attached, machine-readable.
#[tokio::test]
async fn an_exploited_vulnerabilitys_notice_carries_the_csaf_and_the_releases_vex() {
    for db in TestDatabase::all().await {
        let app = TestApp::start_with(db, settings("en")).await;
        portfolio(&app).await;
        let (_, case) = app
            .post(
                &app.responder,
                "/api/v1/cases",
                &crate::new_case("SQL injection"),
            )
            .await;
        let r = case["reference"].as_str().unwrap().to_owned();
        let base = format!("/api/v1/cases/{r}");
        let (status, body) = app
            .post(
                &app.responder,
                &format!("{base}/transitions"),
                &json!({"action": "mark_exploited", "source": "own_telemetry",
                        "evidence": "seen against our own instance"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let draft = json!({"id": "TRU-2026-02", "title": "SQL injection in the search",
            "summary": "s", "affected": [{"vendor": "Truvera", "product": "Dock Certs",
            "ranges": [{"introduced": "2.0", "fixed": "2.4.1"}]}]});
        let put = app
            .http
            .put(app.url(&format!("{base}/advisory")))
            .bearer_auth(&app.responder)
            .json(&draft)
            .send()
            .await
            .unwrap();
        assert_eq!(put.status().as_u16(), 200);
        claim_all(&app).await;
        let (status, sent) = app
            .post(
                &app.responder,
                &format!("{base}/customer-notices"),
                &json!(null),
            )
            .await;
        assert_eq!(status, 200, "{sent}");
        let deliveries = claim_all(&app).await;
        let (_, email) = deliveries
            .iter()
            .find(|(_, d)| matches!(d, Delivery::Email { to, .. } if to == "ops@old.example"))
            .expect("the customer's email");
        let Delivery::Email {
            text, attachments, ..
        } = email
        else {
            unreachable!()
        };
        assert!(text.contains("actively exploited"), "{text}");
        let names: Vec<&str> = attachments.iter().map(|a| a.filename.as_str()).collect();
        assert_eq!(
            names,
            ["TRU-2026-02.csaf.json", "dock-2.3.0.vex.csaf.json"],
            "{names:?}"
        );
        let csaf: Value = serde_json::from_str(&attachments[0].content).unwrap();
        assert_eq!(csaf["document"]["category"], "csaf_security_advisory");
        let vex: Value = serde_json::from_str(&attachments[1].content).unwrap();
        assert_eq!(vex["document"]["category"], "csaf_vex", "{vex}");
        app.stop().await;
    }
}
