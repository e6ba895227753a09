//! Issue 18: what a clock *means*, driven through the API at fixed instants
//! for each seed policy's preset. Each scenario quotes the promise it keeps
//! and checks the clock's due time and final outcome as the API reports
//! them, and that closing, rejecting or reopening never rewrites an outcome.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, TimeZone, Utc};
use embargo_core::policy::{Policy, PolicySet, presets};
use embargo_server::ServerSettings;
use embargo_store::testing::TestDatabase;
use serde_json::{Value, json};

use crate::TestApp;

pub(crate) fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).single().unwrap()
}

/// A server whose clock the test moves.
pub(crate) struct Desk {
    pub(crate) app: TestApp,
    now: Arc<AtomicI64>,
}

impl Desk {
    pub(crate) async fn start(db: TestDatabase, preset: &str, start: DateTime<Utc>) -> Desk {
        let now = Arc::new(AtomicI64::new(start.timestamp_millis()));
        let read = now.clone();
        let settings = ServerSettings {
            policies: Arc::new(
                PolicySet::new(vec![Policy::parse(presets::get(preset).unwrap()).unwrap()])
                    .unwrap(),
            ),
            public_url: "https://security.example.org".into(),
            ..ServerSettings::default()
        };
        let app = TestApp::start_with_clock(
            db,
            settings,
            Arc::new(move || DateTime::from_timestamp_millis(read.load(Ordering::SeqCst)).unwrap()),
        )
        .await;
        Desk { app, now }
    }

    pub(crate) fn set(&self, t: DateTime<Utc>) {
        self.now.store(t.timestamp_millis(), Ordering::SeqCst);
    }

    /// Opens a case at `t`; returns its reference.
    pub(crate) async fn report(&self, t: DateTime<Utc>, extra: Value) -> String {
        self.set(t);
        let mut body = crate::new_case("a promise kept");
        if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
            b.extend(e);
        }
        let (status, case) = self
            .app
            .post(&self.app.responder, "/api/v1/cases", &body)
            .await;
        assert_eq!(status, 201, "{case}");
        case["reference"].as_str().unwrap().to_owned()
    }

    /// Sends a command for `reference` at `t`; returns the answer.
    pub(crate) async fn attempt(
        &self,
        reference: &str,
        t: DateTime<Utc>,
        command: &Value,
    ) -> (u16, Value) {
        self.set(t);
        self.app
            .post(
                &self.app.responder,
                &format!("/api/v1/cases/{reference}/transitions"),
                command,
            )
            .await
    }

    /// Runs a command on `reference` at `t`.
    pub(crate) async fn act(&self, reference: &str, t: DateTime<Utc>, command: Value) {
        let (status, body) = self.attempt(reference, t, &command).await;
        assert_eq!(status, 200, "{command}: {body}");
    }

    /// The clock `id` of `reference` as the API reports it at `t`.
    pub(crate) async fn clock(&self, reference: &str, id: &str, t: DateTime<Utc>) -> Value {
        self.set(t);
        let (status, detail) = self
            .app
            .get(&self.app.viewer, &format!("/api/v1/cases/{reference}"))
            .await;
        assert_eq!(status, 200);
        detail["clocks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("no clock {id}: {detail}"))
            .clone()
    }

    pub(crate) async fn history_kinds(&self, reference: &str) -> Vec<Value> {
        let (_, detail) = self
            .app
            .get(&self.app.viewer, &format!("/api/v1/cases/{reference}"))
            .await;
        detail["history"].as_array().unwrap().clone()
    }
}

/// The same clock from `embargo policy simulate`'s engine, over `script`,
/// read at `at`: the acceptance asks that both agree.
fn simulated(preset: &str, script: &str, id: &str, at: DateTime<Utc>) -> Value {
    let policy = Policy::parse(presets::get(preset).unwrap()).unwrap();
    let run = embargo_core::simulate::simulate(&policy, script, Some(at)).unwrap();
    serde_json::to_value(run.clocks.iter().find(|c| c.id == id).unwrap()).unwrap()
}

/// The fields both answers must share.
fn same_clock(api: &Value, sim: &Value) {
    for field in [
        "status",
        "started_at",
        "due_at",
        "stopped_at",
        "overdue_seconds",
    ] {
        assert_eq!(
            api[field], sim[field],
            "{field}: API {api} / simulate {sim}"
        );
    }
}

pub(crate) fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub(crate) fn due(c: &Value) -> DateTime<Utc> {
    c["due_at"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn acknowledgement_is_met_by_a_message_and_cancelled_by_spam() {
    for db in TestDatabase::all().await {
        // 004 (OpenSecOps): "We will acknowledge receipt of your report within 24 hours."
        let desk = Desk::start(db, "opensecops", at(2026, 3, 6, 17, 0)).await;
        let answered = desk.report(at(2026, 3, 6, 17, 0), json!({})).await;
        desk.act(
            &answered,
            at(2026, 3, 6, 17, 40),
            json!({"action": "message_reporter", "text": "Thank you, we are on it."}),
        )
        .await;
        let c = desk
            .clock(&answered, "acknowledgement", at(2026, 3, 9, 0, 0))
            .await;
        assert_eq!(c["status"], "met", "{c}");
        assert_eq!(c["stopped_at"], iso(at(2026, 3, 6, 17, 40)));
        assert_eq!(due(&c), at(2026, 3, 7, 17, 0));
        assert_eq!(c["recorded"], true);

        // Spam answers nobody: the clock is cancelled, with the reason.
        let spam = desk.report(at(2026, 3, 6, 18, 0), json!({})).await;
        desk.act(&spam, at(2026, 3, 6, 18, 5), json!({"action": "spam"}))
            .await;
        let c = desk
            .clock(&spam, "acknowledgement", at(2026, 3, 9, 0, 0))
            .await;
        assert_eq!(c["status"], "cancelled", "{c}");
        assert_eq!(c["cause"], "the case was closed as spam");

        // "…provide a preliminary assessment within 3 business days": Friday
        // 17:00 is due Wednesday 17:00; accepted on Thursday, it is met late.
        let late = desk.report(at(2026, 3, 6, 17, 0), json!({})).await;
        for (t, action) in [
            (at(2026, 3, 7, 9, 0), "acknowledge"),
            (at(2026, 3, 9, 9, 0), "start_triage"),
            (at(2026, 3, 12, 10, 0), "accept"),
        ] {
            desk.act(&late, t, json!({"action": action})).await;
        }
        let c = desk
            .clock(&late, "preliminary-assessment", at(2026, 3, 20, 0, 0))
            .await;
        assert_eq!(
            (c["status"].clone(), due(&c)),
            (json!("met_late"), at(2026, 3, 11, 17, 0)),
            "{c}"
        );
        assert_eq!(c["overdue_seconds"], 17 * 3600);
        same_clock(
            &c,
            &simulated(
                "opensecops",
                "2026-03-06T17:00Z reported\n2026-03-07T09:00Z acknowledge\n\
                 2026-03-09T09:00Z start_triage\n2026-03-12T10:00Z accept\n",
                "preliminary-assessment",
                at(2026, 3, 20, 0, 0),
            ),
        );
        let c = desk
            .clock(&spam, "acknowledgement", at(2026, 3, 9, 0, 0))
            .await;
        same_clock(
            &c,
            &simulated(
                "opensecops",
                "2026-03-06T18:00Z reported\n2026-03-06T18:05Z spam\n",
                "acknowledgement",
                at(2026, 3, 9, 0, 0),
            ),
        );
        desk.app.stop().await;
    }
}

#[tokio::test]
async fn a_breach_survives_closing_and_the_months_metrics_count_it() {
    for db in TestDatabase::all().await {
        // 002 (Truvera): "Security Level High: we will proactively notify
        // impacted customers within 72 hours of identification."
        let desk = Desk::start(db, "truvera", at(2026, 3, 2, 9, 0)).await;
        let r = desk.report(at(2026, 3, 2, 9, 0), json!({})).await;
        desk.act(&r, at(2026, 3, 2, 10, 0), json!({"action": "start_triage"}))
            .await;
        // 002's levels are chosen by their criteria: a breach is High.
        desk.act(
            &r,
            at(2026, 3, 2, 10, 0),
            json!({"action": "set_level", "level": "high"}),
        )
        .await;
        let c = desk
            .clock(&r, "customer-notice", at(2026, 3, 5, 11, 0))
            .await;
        assert_eq!(c["status"], "breached", "{c}");
        assert_eq!(due(&c), at(2026, 3, 5, 10, 0));
        // Rejected on day 5: the breach stays, and stops growing.
        desk.act(
            &r,
            at(2026, 3, 7, 10, 0),
            json!({"action": "out_of_scope", "reason": "a third-party service"}),
        )
        .await;
        let c = desk
            .clock(&r, "customer-notice", at(2026, 4, 20, 0, 0))
            .await;
        assert_eq!(
            (c["status"].clone(), c["overdue_seconds"].clone()),
            (json!("breached"), json!(2 * 86_400)),
            "{c}"
        );
        assert_eq!(c["recorded"], true);
        // Reopening does not rewrite it.
        desk.act(
            &r,
            at(2026, 3, 8, 10, 0),
            json!({"action": "reopen", "reason": "in scope after all"}),
        )
        .await;
        let c = desk
            .clock(&r, "customer-notice", at(2026, 4, 20, 0, 0))
            .await;
        assert_eq!(c["status"], "breached", "{c}");
        let recorded: Vec<Value> = desk
            .history_kinds(&r)
            .await
            .into_iter()
            .filter(|e| e["kind"] == "clock_ended" && e["clock"] == "customer-notice")
            .collect();
        assert_eq!(recorded.len(), 1, "{recorded:?}");
        assert_eq!(recorded[0]["outcome"], "breached");

        // The month's metrics count the breach.
        let (status, metrics) = desk
            .app
            .get(&desk.app.viewer, "/api/v1/metrics/clocks")
            .await;
        assert_eq!(status, 200);
        let month = metrics["clocks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["clock"] == "customer-notice" && m["period"] == "2026-03")
            .unwrap()
            .clone();
        assert_eq!(
            (month["breached"].clone(), month["met"].clone()),
            (json!(1), json!(0)),
            "{month}"
        );
        assert_eq!(month["met_share"], 0.0);
        desk.app.stop().await;
    }
}

#[tokio::test]
async fn a_severity_that_returns_restarts_the_customer_clock() {
    for db in TestDatabase::all().await {
        // 002: High, then Medium on day 1, then High again on day 8: the
        // 72 hours count from the second High, not born breached.
        let desk = Desk::start(db, "truvera", at(2026, 3, 2, 9, 0)).await;
        let r = desk.report(at(2026, 3, 2, 9, 0), json!({})).await;
        for (t, level) in [
            (at(2026, 3, 2, 10, 0), "high"),
            (at(2026, 3, 3, 10, 0), "medium"),
            (at(2026, 3, 10, 10, 0), "high"),
        ] {
            desk.act(&r, t, json!({"action": "set_level", "level": level}))
                .await;
        }
        // A level the policy does not define is refused, naming the levels.
        let (status, body) = desk
            .attempt(
                &r,
                at(2026, 3, 10, 11, 0),
                &json!({"action": "set_level", "level": "critical"}),
            )
            .await;
        assert_eq!(status, 422, "{body}");
        assert!(body.to_string().contains("high, medium, low"), "{body}");
        let c = desk
            .clock(&r, "customer-notice", at(2026, 3, 11, 0, 0))
            .await;
        assert_eq!(c["status"], "running", "{c}");
        assert_eq!(due(&c), at(2026, 3, 13, 10, 0));
        assert_eq!(c["earlier_runs"][0]["status"], "cancelled");
        assert_eq!(
            c["earlier_runs"][0]["cause"],
            "the severity level changed to medium"
        );
        let sim = simulated(
            "truvera",
            "2026-03-02T09:00Z reported\n2026-03-02T10:00Z set_level high\n\
             2026-03-03T10:00Z set_level medium\n2026-03-10T10:00Z set_level high\n",
            "customer-notice",
            at(2026, 3, 11, 0, 0),
        );
        same_clock(&c, &sim);
        assert_eq!(c["earlier_runs"], sim["earlier_runs"]);
        desk.app.stop().await;
    }
}

#[tokio::test]
async fn a_patch_recorded_before_the_report_starts_the_remediation_clock() {
    for db in TestDatabase::all().await {
        // 003 (Zeenea): "critical … fixed within 30 days after a patch is
        // available". The upstream patch predates the report.
        let desk = Desk::start(db, "zeenea", at(2026, 3, 2, 9, 0)).await;
        let r = desk.report(at(2026, 3, 2, 9, 0), json!({})).await;
        // Not before triage: a patch is a fact about a triaged vulnerability.
        let (status, body) = desk
            .attempt(&r, at(2026, 3, 2, 9, 30), &json!({"action": "record_patch", "available_at": iso(at(2026, 2, 1, 0, 0)), "source": "upstream 4.2.1"}))
            .await;
        assert_eq!(status, 409, "{body}");
        for (t, command) in [
            (at(2026, 3, 2, 10, 0), json!({"action": "start_triage"})),
            (
                at(2026, 3, 2, 11, 0),
                json!({"action": "set_severity", "severity": "critical"}),
            ),
            (
                at(2026, 3, 2, 12, 0),
                json!({"action": "record_patch", "available_at": iso(at(2026, 2, 1, 0, 0)),
                       "source": "upstream 4.2.1", "link": "https://example.org/4.2.1"}),
            ),
        ] {
            desk.act(&r, t, command).await;
        }
        let c = desk
            .clock(&r, "remediation-critical", at(2026, 3, 2, 12, 0))
            .await;
        assert_eq!(c["started_at"], iso(at(2026, 2, 1, 0, 0)), "{c}");
        assert_eq!(due(&c), at(2026, 3, 3, 0, 0));
        assert_eq!(c["status"], "warning");

        // A correction needs a reason, and moves the clock.
        let (status, body) = desk
            .attempt(&r, at(2026, 3, 2, 13, 0), &json!({"action": "record_patch", "available_at": iso(at(2026, 2, 10, 0, 0)), "source": "upstream 4.2.2"}))
            .await;
        assert_eq!(status, 422, "{body}");
        assert!(body.to_string().contains("reason"), "{body}");
        desk.act(
            &r,
            at(2026, 3, 2, 13, 0),
            json!({"action": "record_patch", "available_at": iso(at(2026, 2, 10, 0, 0)),
                   "source": "upstream 4.2.2", "reason": "4.2.1 did not fix it"}),
        )
        .await;
        let c = desk
            .clock(&r, "remediation-critical", at(2026, 3, 2, 13, 0))
            .await;
        assert_eq!(due(&c), at(2026, 3, 12, 0, 0), "{c}");
        same_clock(
            &c,
            &simulated(
                "zeenea",
                "2026-03-02T09:00Z reported\n2026-03-02T10:00Z start_triage\n\
                 2026-03-02T11:00Z set_severity critical\n\
                 2026-03-02T12:00Z patch_available 2026-02-01T00:00Z\n\
                 2026-03-02T13:00Z patch_available 2026-02-10T00:00Z\n",
                "remediation-critical",
                at(2026, 3, 2, 13, 0),
            ),
        );
        let (_, detail) = desk
            .app
            .get(&desk.app.viewer, &format!("/api/v1/cases/{r}"))
            .await;
        assert_eq!(detail["patch_available_at"], iso(at(2026, 2, 10, 0, 0)));
        desk.app.stop().await;
    }
}

/// A draft advisory good enough to publish.
fn draft() -> Value {
    json!({
        "id": "EMB-2026-0001",
        "title": "A promise kept",
        "summary": "A crafted name writes outside the upload directory",
        "description": "Details.",
        "affected": [{"vendor": "Example Corp", "product": "Dock Certs", "purl": "pkg:cargo/dock-certs",
                      "ranges": [{"introduced": "1.0.0", "fixed": "1.4.2"}]}],
        "cvss": "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:N/I:H/A:N",
        "cwe": "CWE-22"
    })
}

#[tokio::test]
async fn publishing_discloses_and_stops_the_disclosure_clocks_as_met() {
    for db in TestDatabase::all().await {
        // 001 (coordinated disclosure): the reporter's own deadline is kept
        // by disclosing before it.
        let desk = Desk::start(db, "coordinated-disclosure", at(2026, 3, 2, 9, 0)).await;
        let r = desk
            .report(
                at(2026, 3, 2, 9, 0),
                json!({"reporter_deadline": iso(at(2026, 5, 31, 0, 0))}),
            )
            .await;
        for (t, action) in [
            (at(2026, 3, 2, 10, 0), "acknowledge"),
            (at(2026, 3, 3, 10, 0), "start_triage"),
            (at(2026, 3, 4, 10, 0), "accept"),
        ] {
            desk.act(&r, t, json!({"action": action})).await;
        }
        let saved = desk
            .app
            .http
            .put(desk.app.url(&format!("/api/v1/cases/{r}/advisory")))
            .bearer_auth(&desk.app.responder)
            .json(&draft())
            .send()
            .await
            .unwrap();
        let status = saved.status().as_u16();
        assert_eq!(status, 200, "{}", saved.text().await.unwrap());
        // During the fix the desk does not offer Publish, and says why.
        desk.set(at(2026, 3, 5, 10, 0));
        let publish = format!("/api/v1/cases/{r}/advisory/publish");
        let (status, _) = desk
            .app
            .post(
                &desk.app.responder,
                &publish,
                &json!({"credit_reporter": true}),
            )
            .await;
        assert_eq!(status, 422);
        desk.act(
            &r,
            at(2026, 4, 1, 10, 0),
            json!({"action": "fix_available"}),
        )
        .await;
        desk.set(at(2026, 4, 2, 10, 0));
        let (status, body) = desk
            .app
            .post(
                &desk.app.responder,
                &publish,
                &json!({"credit_reporter": true}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let (_, detail) = desk
            .app
            .get(&desk.app.viewer, &format!("/api/v1/cases/{r}"))
            .await;
        assert_eq!(detail["state"], "disclosed", "{detail}");
        let c = desk
            .clock(&r, "reporter-deadline", at(2026, 6, 30, 0, 0))
            .await;
        assert_eq!(
            (c["status"].clone(), c["stopped_at"].clone()),
            (json!("met"), json!(iso(at(2026, 4, 2, 10, 0)))),
            "{c}"
        );
        same_clock(
            &c,
            &simulated(
                "coordinated-disclosure",
                "2026-03-02T09:00Z reported\n2026-03-02T09:00Z reporter_deadline 2026-05-31T00:00Z\n\
                 2026-03-02T10:00Z acknowledge\n2026-03-03T10:00Z start_triage\n\
                 2026-03-04T10:00Z accept\n2026-04-01T10:00Z fix_available\n2026-04-02T10:00Z published\n",
                "reporter-deadline",
                at(2026, 6, 30, 0, 0),
            ),
        );
        desk.app.stop().await;
    }
}

#[tokio::test]
async fn a_scope_rule_is_a_filter_a_person_can_override_with_a_reason() {
    for db in TestDatabase::all().await {
        // 000 (Segura): "our definition serves as a broader filter for
        // reporting new vulnerabilities, rather than being the final word."
        let desk = Desk::start(db, "segura", at(2026, 3, 2, 9, 0)).await;
        let r = desk
            .report(
                at(2026, 3, 2, 9, 0),
                json!({"title": "Admin console behind a self-signed digital certificate",
                       "report": {"summary": "s", "description": "The certificate is self-signed and the private key ships in the image."}}),
            )
            .await;
        let aid_path = format!("/api/v1/cases/{r}/triage");
        let suggested = desk.app.get(&desk.app.viewer, &aid_path).await.1;
        assert_eq!(
            suggested["scope_rules"][0]["rule"], "self-signed-certificate",
            "{suggested}"
        );
        assert!(suggested["scope_rules"][0]["overridden"].is_null());
        for (bad, field) in [
            (
                json!({"action": "override_scope_rule", "rule": "self-signed-certificate", "reason": " "}),
                "reason",
            ),
            (
                json!({"action": "override_scope_rule", "rule": "no-such-rule", "reason": "r"}),
                "no scope rule",
            ),
        ] {
            let (status, body) = desk.attempt(&r, at(2026, 3, 2, 10, 0), &bad).await;
            assert_eq!(status, 422, "{body}");
            assert!(body.to_string().contains(field), "{body}");
        }
        desk.act(
            &r,
            at(2026, 3, 2, 10, 0),
            json!({"action": "override_scope_rule", "rule": "self-signed-certificate",
                   "reason": "The private key is shared by every installation: anyone can impersonate the console."}),
        )
        .await;
        let after = desk.app.get(&desk.app.viewer, &aid_path).await.1;
        assert!(
            after["scope_rules"][0]["overridden"]
                .as_str()
                .unwrap()
                .contains("private key is shared"),
            "{after}"
        );
        let history = desk.history_kinds(&r).await;
        assert!(
            history
                .iter()
                .any(|e| e["kind"] == "scope_rule_overridden"
                    && e["rule"] == "self-signed-certificate"),
            "{history:?}"
        );
        desk.app.stop().await;
    }
}
