//! Intake is one use case behind three doors: the same report meets the
//! same rules through the JSON API, the public form and the security mailbox
//! (a real Dovecot), on SQLite and PostgreSQL. The one difference is the
//! policy's own: a person at a form or a client can correct a report, a
//! mailed one is kept and its reporter asked, in its thread, for what is
//! missing.

use std::collections::BTreeSet;

use embargo_core::clock::{self, ClockStatus};
use embargo_core::{CaseRef, EventKind};
use embargo_server::ServerSettings;
use embargo_server::mailbox::{self, Taken};
use embargo_store::testing::TestDatabase;
use serde_json::{Value, json};

use crate::mailbox::{Dovecot, crlf, server_state};
use crate::reporter::{form_body, opensecops};
use crate::t0;

const STEPS: &str = "report.steps_to_reproduce";
const IMPACT: &str = "report.impact";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Door {
    Api,
    Form,
    Mail,
}

/// What a channel made of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// A case opened, its reporter asked for these fields in its thread.
    Opened { asked: BTreeSet<&'static str> },
    /// Refused, naming these fields.
    Invalid(BTreeSet<&'static str>),
    /// Refused: too many reports from this reporter.
    TooMany,
}

/// A report (its name, steps, impact) and what the API, the form and the
/// mailbox make of it.
type Row = (
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    [Outcome; 3],
);

fn opened(asked: &[&'static str]) -> Outcome {
    Outcome::Opened {
        asked: asked.iter().copied().collect(),
    }
}

fn invalid(fields: &[&'static str]) -> Outcome {
    Outcome::Invalid(fields.iter().copied().collect())
}

/// One report, sent through each door in turn.
struct Report {
    contact: String,
    title: String,
    steps: Option<&'static str>,
    impact: Option<&'static str>,
}

/// The three doors onto one server state (so one set of rate limits).
struct Doors {
    state: embargo_server::AppState,
    base: String,
    http: reqwest::Client,
    dovecot: Dovecot,
    mails: u32,
    tag: &'static str,
}

impl Doors {
    async fn send(&mut self, door: Door, r: &Report) -> (Outcome, Option<CaseRef>) {
        match door {
            Door::Api => self.api(r).await,
            Door::Form => self.form(r).await,
            Door::Mail => self.mail(r).await,
        }
    }

    async fn api(&self, r: &Report) -> (Outcome, Option<CaseRef>) {
        let mut report =
            json!({"summary": "Tokens leak", "description": "The export leaks tokens."});
        if let Some(steps) = r.steps {
            report["steps_to_reproduce"] = json!(steps);
        }
        if let Some(impact) = r.impact {
            report["impact"] = json!(impact);
        }
        let body = json!({"title": r.title, "product": "Mail Intake",
            "reporter": {"contact": r.contact}, "report": report});
        let resp = self
            .http
            .post(format!("{}/api/v1/reports", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let v: Value = resp.json().await.unwrap();
        match status {
            201 => {
                let case = v["reference"].as_str().unwrap().parse().unwrap();
                (self.asked(case).await, Some(case))
            }
            422 => {
                let message = v["error"]["message"].as_str().unwrap();
                (Outcome::Invalid(named(message, &[STEPS, IMPACT])), None)
            }
            429 => (Outcome::TooMany, None),
            other => panic!("API answered {other}: {v}"),
        }
    }

    async fn form(&self, r: &Report) -> (Outcome, Option<CaseRef>) {
        let (cookie, csrf) = crate::form_cookie(&self.http, &format!("{}/report", self.base)).await;
        let mut fields = vec![
            ("csrf", csrf.as_str()),
            ("title", r.title.as_str()),
            ("product", "Mail Intake"),
            ("summary", "Tokens leak"),
            ("description", "The export leaks tokens."),
            ("contact", r.contact.as_str()),
        ];
        if let Some(steps) = r.steps {
            fields.push(("steps_to_reproduce", steps));
        }
        if let Some(impact) = r.impact {
            fields.push(("impact", impact));
        }
        let resp = self
            .http
            .post(format!("{}/report", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", cookie)
            .body(form_body(&fields))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let html = if status == 303 {
            // Submit, redirect, receipt: the receipt's cookie opens it.
            let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
            let page = self
                .http
                .get(format!("{}/report/receipt", self.base))
                .header("cookie", cookie.split(';').next().unwrap())
                .send()
                .await
                .unwrap();
            assert_eq!(page.status().as_u16(), 200);
            page.text().await.unwrap()
        } else {
            resp.text().await.unwrap()
        };
        match status {
            303 => {
                let reference = html
                    .split("<strong>")
                    .nth(1)
                    .and_then(|s| s.split("</strong>").next())
                    .unwrap();
                let case = reference.parse().unwrap();
                (self.asked(case).await, Some(case))
            }
            422 => {
                // Each problem is shown beside its field.
                let mut fields = BTreeSet::new();
                for (path, id) in [(STEPS, "steps_to_reproduce"), (IMPACT, "impact")] {
                    if html.contains(&format!("id=\"{id}-error\"")) {
                        fields.insert(path);
                    }
                }
                (Outcome::Invalid(fields), None)
            }
            429 => (Outcome::TooMany, None),
            other => panic!("the form answered {other}: {html}"),
        }
    }

    async fn mail(&mut self, r: &Report) -> (Outcome, Option<CaseRef>) {
        self.mails += 1;
        let mut body = String::from("The export leaks tokens.\n");
        if let Some(steps) = r.steps {
            body.push_str(&format!("\nSteps to reproduce:\n{steps}\n"));
        }
        if let Some(impact) = r.impact {
            body.push_str(&format!("\nImpact: {impact}\n"));
        }
        self.dovecot.deliver(&crlf(&format!(
            "From: {}\nTo: security@example.org\nSubject: {}\nMessage-ID: <intake-{}-{}@example.org>\n\
             MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n{body}",
            r.contact, r.title, self.tag, self.mails
        )));
        let taken = mailbox::poll_once(&self.state, &self.dovecot.settings())
            .await
            .unwrap();
        match taken.as_slice() {
            [Taken::Opened(case)] => (self.asked(*case).await, Some(*case)),
            [Taken::Refused(why)] if why.contains("too many reports") => (Outcome::TooMany, None),
            [Taken::Refused(why)] => (Outcome::Invalid(named(why, &[STEPS, IMPACT])), None),
            other => panic!("the mailbox took {other:?}"),
        }
    }

    /// An opened case: checks what every channel owes it (the reporter
    /// opened it, the receipt is queued, the acknowledgement clock runs),
    /// and returns the fields its reporter was asked for in its thread.
    async fn asked(&self, case: CaseRef) -> Outcome {
        let store = &self.state.store;
        let history = store.history(case).await.unwrap();
        assert_eq!(history[0].actor, "reporter", "{case}");
        let deliveries = store
            .deliveries(Some(&case.to_string()), None, 100)
            .await
            .unwrap();
        assert!(
            deliveries
                .iter()
                .any(|d| d.kind == "case.created" && d.channel == "email"),
            "{case}: the receipt is queued: {deliveries:?}"
        );
        let opened = store.case(case).await.unwrap();
        let policy = self.state.settings.policies.for_product(&opened.product);
        let clocks = clock::evaluate(policy, &opened, &history, t0());
        assert_eq!(clocks[0].status, ClockStatus::Running, "{case}: {clocks:?}");
        let mut asked = BTreeSet::new();
        for event in &history {
            if let EventKind::MessageToReporter { text } = &event.kind {
                if text.contains("Steps to reproduce the issue") {
                    asked.insert(STEPS);
                }
                if text.contains("Potential impact of the vulnerability") {
                    asked.insert(IMPACT);
                }
            }
        }
        Outcome::Opened { asked }
    }
}

/// The fields of `candidates` that `text` names.
fn named(text: &str, candidates: &[&'static str]) -> BTreeSet<&'static str> {
    candidates
        .iter()
        .copied()
        .filter(|c| text.contains(c) || text.contains(c.trim_start_matches("report.")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_report_meets_the_same_rules_through_the_api_the_form_and_the_mailbox() {
    let Some(dovecot) = Dovecot::start() else {
        return;
    };
    let mut dovecot = Some(dovecot);
    for db in TestDatabase::all().await {
        const LIMIT: u32 = 3;
        // OpenSecOps asks every report for steps to reproduce and impact.
        let settings = ServerSettings {
            intake_per_contact_per_hour: LIMIT,
            ..opensecops()
        };
        let tag = db.backend();
        let (_store, state) = server_state(&db, settings).await;
        let router = embargo_server::router(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let _ = embargo_server::serve(listener, router, std::future::pending()).await;
        });
        let mut doors = Doors {
            state,
            base,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            dovecot: dovecot.take().unwrap(),
            mails: 0,
            tag,
        };
        // (what is sent, what each door makes of it: API, form, mail)
        let table: [Row; 3] = [
            (
                "complete",
                Some("1. export\n2. read the file"),
                Some("account takeover"),
                [opened(&[]), opened(&[]), opened(&[])],
            ),
            (
                "without steps or impact",
                None,
                None,
                [
                    invalid(&[STEPS, IMPACT]),
                    invalid(&[STEPS, IMPACT]),
                    opened(&[STEPS, IMPACT]),
                ],
            ),
            (
                "without steps",
                None,
                Some("account takeover"),
                [invalid(&[STEPS]), invalid(&[STEPS]), opened(&[STEPS])],
            ),
        ];
        for (i, (name, steps, impact, expected)) in table.into_iter().enumerate() {
            for (door, expect) in [Door::Api, Door::Form, Door::Mail]
                .into_iter()
                .zip(expected)
            {
                let report = Report {
                    contact: format!("{door:?}-{i}@example.org").to_lowercase(),
                    title: format!("{name} ({door:?})"),
                    steps,
                    impact,
                };
                let (outcome, _) = doors.send(door, &report).await;
                assert_eq!(outcome, expect, "{name} through {door:?} ({tag})");
            }
        }
        // The same limit per reporter on every door: LIMIT complete reports
        // an hour, then a refusal saying so.
        for door in [Door::Api, Door::Form, Door::Mail] {
            let mut outcomes = Vec::new();
            for n in 0..=LIMIT {
                let report = Report {
                    contact: format!("busy-{door:?}@example.org").to_lowercase(),
                    title: format!("busy {n} ({door:?})"),
                    steps: Some("1. export"),
                    impact: Some("account takeover"),
                };
                outcomes.push(doors.send(door, &report).await.0);
            }
            let mut expected = vec![opened(&[]); LIMIT as usize];
            expected.push(Outcome::TooMany);
            assert_eq!(
                outcomes, expected,
                "the per-reporter limit through {door:?} ({tag})"
            );
        }
        dovecot = Some(doors.dovecot);
        server.abort();
    }
}
