//! "When is this due if it starts at T?" — a policy's clocks run over a
//! script of events, without a server (`embargo policy simulate`).
//!
//! A script is one event per line, in time order:
//!
//! ```text
//! # comments and blank lines are ignored
//! 2026-03-06T17:30 Europe/Paris reported
//! 2026-03-09T09:00 acknowledge                 # the policy's time zone
//! 2026-03-09T10:00 start_triage
//! 2026-03-09T11:00 set_severity critical
//! 2026-03-10T09:00Z request_information        # an offset, or Z
//! 2026-03-12T09:00Z information_received
//! 2026-03-12T10:00 patch_available 2026-02-01T00:00
//! ```
//!
//! An instant is `YYYY-MM-DDTHH:MM[:SS]` followed by an offset (`Z`,
//! `+02:00`) or, after a space, an IANA time zone or `UTC`; with neither it
//! is read in the policy's time zone. The events are the case commands
//! (`acknowledge`, `set_severity high`, `set_level high`, `close`, …) and these names for
//! facts: `reported` (first, once), `waiting_on_reporter` and
//! `reporter_answered`, `customers_notified`, `patch_available [SINCE]`
//! (the patch's date, by default the line's own), `reporter_deadline WHEN`,
//! `published` (the advisory is published: the disclosure). Each runs
//! through the same workflow and clock code as the server, and the clocks
//! settle their outcomes as the server records them.

use std::str::FromStr;

use crate::zone::Zone;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;

use crate::calendar::BusinessCalendar;
use crate::case::{Exposure, ReportContent, Reporter, decide};
use crate::clock::{ClockReport, evaluate, unrecorded_outcomes};
use crate::policy::Policy;
use crate::{Case, CaseRef, CaseState, Command, Event, EventKind, Instant, NewCase, Severity};

/// The longest script read, in lines.
pub const MAX_LINES: usize = 10_000;

/// A line of a script that could not be run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ScriptError {
    pub line: usize,
    pub message: String,
}

/// The clocks after a script, at an instant.
#[derive(Debug, Clone, Serialize)]
pub struct Simulation {
    pub policy: String,
    pub time_zone: String,
    /// The instant the clocks are read at.
    pub at: Instant,
    /// Where the case's workflow stands.
    pub state: CaseState,
    pub clocks: Vec<ClockReport>,
}

/// Runs `script` under `policy` and reads the clocks at `at` (default: the
/// last event's instant).
pub fn simulate(
    policy: &Policy,
    script: &str,
    at: Option<Instant>,
) -> Result<Simulation, ScriptError> {
    let zone = policy.calendar.time_zone();
    let mut case: Option<Case> = None;
    let mut history: Vec<Event> = Vec::new();
    let mut last: Option<(Instant, usize)> = None;
    for (index, raw) in script.lines().enumerate() {
        let line = index + 1;
        if line > MAX_LINES {
            return Err(ScriptError {
                line,
                message: format!("a script has at most {MAX_LINES} lines"),
            });
        }
        let err = |message: String| ScriptError { line, message };
        let text = raw.split('#').next().unwrap_or_default().trim();
        if text.is_empty() {
            continue;
        }
        let mut words = text.split_whitespace().peekable();
        let Some(first) = words.next() else { continue };
        // Event names have no `/`: a word with one is a time zone.
        let zone_word = words.next_if(|w| *w == "UTC" || w.contains('/'));
        let when = instant(first, zone_word, zone).map_err(err)?;
        if let Some((previous, previous_line)) = last
            && when < previous
        {
            return Err(err(format!(
                "{} is before line {previous_line}'s {}; events go in time order",
                first,
                previous.format("%Y-%m-%dT%H:%M:%SZ")
            )));
        }
        last = Some((when, line));
        let Some(name) = words.next() else {
            return Err(err("an event name is missing after the instant".into()));
        };
        let args: Vec<&str> = words.collect();
        if name == "reported" {
            if case.is_some() {
                return Err(err("`reported` comes once, first".into()));
            }
            let request = NewCase {
                title: "simulation".into(),
                product: policy
                    .products
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "simulation".into()),
                reporter: Reporter::default(),
                report: ReportContent {
                    summary: "simulation".into(),
                    description: "simulation".into(),
                    ..ReportContent::default()
                },
                reporter_deadline: None,
                exploited_evidence: None,
            };
            let year = u16::try_from(chrono::Datelike::year(&when)).unwrap_or(2026);
            let (opened, created) =
                Case::open(CaseRef::new(year, 1), request, when).map_err(|e| err(e.to_string()))?;
            history.push(Event {
                seq: 1,
                at: when,
                actor: "simulation".into(),
                kind: created,
            });
            case = Some(opened);
            continue;
        }
        let Some(current) = case.as_mut() else {
            return Err(err(format!(
                "`{name}` before `reported`: a script starts with the report"
            )));
        };
        let events = if name == "published" {
            let mut events = Vec::new();
            if crate::case::next_state(current.state, current.waiting_from, &Command::Disclose {})
                .is_some()
            {
                events.extend(
                    decide(current, &Command::Disclose {}, when).map_err(|e| err(e.to_string()))?,
                );
            }
            events.push(EventKind::AdvisoryPublished {
                advisory: current.reference.to_string(),
                revision: 1,
            });
            events
        } else if let Some(stage) = submitted_stage(name) {
            // The stage is sent as drafted, with what the Act asks filled in.
            let Some(section) = policy.cra.as_ref() else {
                return Err(err(format!(
                    "`{name}`: policy `{}` has no [cra] section",
                    policy.id
                )));
            };
            let mut pack = crate::cra::CraPack::draft(stage, current, &history, section);
            fill_for_simulation(&mut pack);
            let command = Command::SubmitCraReport {
                stage,
                submitted_at: None,
                platform_reference: None,
                report: Some(pack),
            };
            decide(current, &command, when).map_err(|e| err(e.to_string()))?
        } else {
            let command = command(name, &args, when, zone, policy).map_err(err)?;
            decide(current, &command, when).map_err(|e| err(e.to_string()))?
        };
        for kind in events {
            push(current, &mut history, when, kind).map_err(err)?;
        }
        for kind in unrecorded_outcomes(policy, current, &history, when) {
            push(current, &mut history, when, kind).map_err(err)?;
        }
    }
    let Some(case) = case else {
        return Err(ScriptError {
            line: 1,
            message: "the script has no `reported` line".into(),
        });
    };
    let at = at.unwrap_or_else(|| last.map_or(case.created_at, |(t, _)| t));
    Ok(Simulation {
        policy: policy.id.clone(),
        time_zone: policy.time_zone.clone(),
        at,
        state: case.state,
        clocks: evaluate(policy, &case, &history, at),
    })
}

fn push(
    case: &mut Case,
    history: &mut Vec<Event>,
    at: Instant,
    kind: EventKind,
) -> Result<(), String> {
    case.apply(&kind, at).map_err(|e| e.to_string())?;
    let seq = i64::try_from(history.len()).unwrap_or(i64::MAX - 1) + 1;
    history.push(Event {
        seq,
        at,
        actor: "simulation".into(),
        kind,
    });
    Ok(())
}

/// An instant from `YYYY-MM-DDTHH:MM[:SS]` with an offset, or in `zone_word`,
/// or in the policy's zone.
pub fn instant(text: &str, zone_word: Option<&str>, policy_zone: &Zone) -> Result<Instant, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    for (fmt, suffix) in [("%Y-%m-%dT%H:%M%#z", ""), ("%Y-%m-%dT%H:%M%:z", "")] {
        if let Ok(t) = DateTime::parse_from_str(&format!("{text}{suffix}"), fmt) {
            return Ok(t.with_timezone(&Utc));
        }
    }
    if let Some(plain) = text.strip_suffix('Z') {
        let local = naive(plain)?;
        return Ok(local.and_utc());
    }
    let local = naive(text)?;
    let zone = match zone_word {
        None => policy_zone.clone(),
        Some(z) => Zone::named(z).ok_or_else(|| format!("`{z}` is not an IANA time zone"))?,
    };
    Ok(BusinessCalendar::weekdays(zone).instant(local))
}

fn naive(text: &str) -> Result<NaiveDateTime, String> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M"))
        .map_err(|_| {
            format!("`{text}` is not an instant such as 2026-03-06T17:30, 2026-03-06T17:30Z or 2026-03-06T17:30+01:00")
        })
}

/// The Article 14 stage an event line sends, if it sends one.
fn submitted_stage(name: &str) -> Option<crate::cra::CraStage> {
    use crate::cra::CraStage;
    match name {
        "early_warning_submitted" => Some(CraStage::EarlyWarning),
        "notification_submitted" => Some(CraStage::Notification),
        "intermediate_submitted" => Some(CraStage::Intermediate),
        "final_report_submitted" => Some(CraStage::FinalReport),
        _ => None,
    }
}

/// Fills every field the Act asks of a pack's stage with a placeholder.
fn fill_for_simulation(pack: &mut crate::cra::CraPack) {
    for field in pack.missing() {
        if let Some(text) = pack.text_mut(field) {
            "simulation".clone_into(text);
            continue;
        }
        match field {
            "severity" => pack.severity = Some(Severity::High),
            "suspected_malicious" => pack.suspected_malicious = Some(true),
            _ => {}
        }
    }
}

/// The case command an event line names.
fn command(
    name: &str,
    args: &[&str],
    when: Instant,
    zone: &Zone,
    policy: &Policy,
) -> Result<Command, String> {
    let one = |what: &str| -> Result<&str, String> {
        match args {
            [a] => Ok(a),
            _ => Err(format!("`{name}` takes one argument: {what}")),
        }
    };
    let none = || -> Result<(), String> {
        if args.is_empty() {
            Ok(())
        } else {
            Err(format!("`{name}` takes no argument"))
        }
    };
    let later_instant = |text: &str| -> Result<Instant, String> {
        let (t, z) = match text.split_once('@') {
            Some((t, z)) => (t, Some(z)),
            None => (text, None),
        };
        instant(t, z, zone)
    };
    Ok(match name {
        "acknowledge" => none().map(|()| Command::Acknowledge {})?,
        "start_triage" => none().map(|()| Command::StartTriage {})?,
        "request_information" | "waiting_on_reporter" => {
            none().map(|()| Command::RequestInformation {})?
        }
        "information_received" | "reporter_answered" => {
            none().map(|()| Command::InformationReceived {})?
        }
        "accept" => none().map(|()| Command::Accept {})?,
        "start_fix" => none().map(|()| Command::StartFix {})?,
        "fix_available" => Command::FixAvailable {
            patch_available_at: match args {
                [] => None,
                [since] => Some(later_instant(since)?),
                _ => return Err("`fix_available` takes at most the patch's date".into()),
            },
        },
        "release" => Command::Release {
            version: args.first().map(|v| (*v).to_owned()),
        },
        "disclose" => none().map(|()| Command::Disclose {})?,
        "close" => none().map(|()| Command::Close {})?,
        "not_a_vulnerability" => Command::NotAVulnerability {
            reason: "simulation".into(),
            rule: None,
        },
        "out_of_scope" => Command::OutOfScope {
            reason: "simulation".into(),
            rule: None,
        },
        "duplicate" => Command::Duplicate {
            of: CaseRef::new(2000, 1),
        },
        "spam" => none().map(|()| Command::Spam {})?,
        "reopen" => Command::Reopen { reason: None },
        "set_severity" => Command::SetSeverity {
            severity: Severity::from_str(one("a severity: critical, high, medium, low, none")?)
                .map_err(|e| e.to_string())?,
        },
        "set_level" => Command::SetLevel {
            level: policy
                .severity_level(one("one of the policy's severity levels")?)?
                .id
                .clone(),
        },
        "set_exposure" => Command::SetExposure {
            exposure: match one("high or normal")? {
                "high" => Exposure::High,
                "normal" => Exposure::Normal,
                other => return Err(format!("`{other}` is not an exposure: high or normal")),
            },
        },
        "message_reporter" => Command::MessageReporter {
            text: "simulation".into(),
        },
        "customers_notified" | "record_customer_notice" => {
            Command::RecordCustomerNotice { note: None }
        }
        "patch_available" | "record_patch" => Command::RecordPatch {
            available_at: match args {
                [] => when,
                [since] => later_instant(since)?,
                _ => return Err("`patch_available` takes at most the patch's date".into()),
            },
            source: "simulation".into(),
            link: None,
            reason: Some("simulation".into()),
        },
        "exploited" | "mark_exploited" => Command::MarkExploited {
            source: crate::cra::ExploitationSource::ThreatIntelligence,
            evidence: "simulation".into(),
            link: None,
            evidence_file: None,
            aware_at: match args {
                [] => None,
                [since] => Some(later_instant(since)?),
                _ => return Err("`exploited` takes at most the instant of awareness".into()),
            },
        },
        "exploitation_claimed" => Command::ClaimExploited {
            evidence: "simulation".into(),
        },
        "exploitation_rejected" => Command::RejectExploitation {
            reason: "simulation".into(),
        },
        "incident" => Command::DeclareIncident {
            description: "simulation".into(),
            aware_at: match args {
                [] => None,
                [since] => Some(later_instant(since)?),
                _ => return Err("`incident` takes at most the instant of awareness".into()),
            },
        },
        "corrective_measure" => Command::RecordCorrectiveMeasure {
            available_at: match args {
                [] => when,
                [since] => later_instant(since)?,
                _ => return Err("`corrective_measure` takes at most its date".into()),
            },
            description: "simulation".into(),
            link: None,
        },
        "reporter_deadline" => Command::SetReporterDeadline {
            deadline: Some(later_instant(one("the reporter's disclosure date")?)?),
        },
        other => {
            return Err(format!(
                "unknown event `{other}`; use reported, acknowledge, start_triage, waiting_on_reporter, reporter_answered, accept, start_fix, fix_available, patch_available, release, disclose, published, close, not_a_vulnerability, out_of_scope, duplicate, spam, reopen, set_severity, set_level, set_exposure, message_reporter, customers_notified, reporter_deadline, exploited, exploitation_claimed, exploitation_rejected, incident, corrective_measure, early_warning_submitted, notification_submitted, intermediate_submitted, final_report_submitted"
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ClockStatus;
    use crate::policy::presets;

    fn preset(name: &str) -> Policy {
        Policy::parse(presets::get(name).unwrap()).unwrap()
    }

    fn clock<'a>(s: &'a Simulation, id: &str) -> &'a ClockReport {
        s.clocks.iter().find(|c| c.id == id).unwrap()
    }

    #[test]
    fn a_script_runs_the_clocks_in_the_policys_zone() {
        let text = presets::get("opensecops")
            .unwrap()
            .replace("time_zone = \"UTC\"", "time_zone = \"Europe/Paris\"");
        let policy = Policy::parse(&text).unwrap();
        let s = simulate(
            &policy,
            "2026-03-27T17:00 reported   # Friday, CET\n\
             2026-03-28T09:00 message_reporter\n",
            Some("2026-03-28T12:00:00Z".parse().unwrap()),
        )
        .unwrap();
        assert_eq!(clock(&s, "acknowledgement").status, ClockStatus::Met);
        // Three business days from Friday 17:00 CET: Wednesday 17:00 CEST.
        assert_eq!(
            clock(&s, "preliminary-assessment").due_at,
            Some("2026-04-01T15:00:00Z".parse().unwrap())
        );
    }

    #[test]
    fn the_article_14_clocks_simulate_from_awareness_to_the_final_report() {
        let p = preset("eu-cra");
        let s = simulate(
            &p,
            "2026-09-01T10:00 reported\n\
             2026-09-01T10:00 exploited\n\
             2026-09-02T06:00 early_warning_submitted\n\
             2026-09-06T10:00 corrective_measure\n\
             2026-09-07T10:00 notification_submitted\n",
            Some("2026-09-08T00:00:00Z".parse().unwrap()),
        )
        .unwrap();
        assert_eq!(clock(&s, "cra_early_warning").status, ClockStatus::Met);
        assert_eq!(clock(&s, "cra_notification").status, ClockStatus::MetLate);
        // 14 days after the measure, at the same time in Paris (10:00 CEST).
        assert_eq!(
            clock(&s, "cra_final_report").due_at,
            Some("2026-09-20T08:00:00Z".parse().unwrap())
        );
        let e = simulate(
            &preset("default"),
            "2026-09-01T10:00 reported\n2026-09-01T10:00 exploited\n2026-09-01T11:00 early_warning_submitted\n",
            None,
        )
        .unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("no [cra] section"), "{e}");
    }

    #[test]
    fn errors_name_the_line() {
        let p = preset("default");
        let e = simulate(&p, "2026-03-06T17:30 acknowledge", None).unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.message.contains("before `reported`"), "{e}");
        let e = simulate(
            &p,
            "2026-03-06T17:30 reported\n\n2026-03-06T17:00 acknowledge",
            None,
        )
        .unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("time order"), "{e}");
        let e = simulate(
            &p,
            "2026-03-06T17:30 reported\n2026-03-07T10:00 accept",
            None,
        )
        .unwrap_err();
        assert_eq!(e.line, 2);
        assert!(
            e.message.contains("start_triage"),
            "names what is allowed: {e}"
        );
        let e = simulate(&p, "2026-03-06 reported", None).unwrap_err();
        assert!(e.message.contains("not an instant"), "{e}");
        let e = simulate(
            &p,
            "2026-03-06T17:30 reported\n2026-03-07T10:00 frobnicate",
            None,
        )
        .unwrap_err();
        assert!(e.message.contains("unknown event `frobnicate`"), "{e}");
        let e = simulate(&p, "2026-03-06T17:30 Mars/Olympus reported", None).unwrap_err();
        assert!(
            e.message
                .contains("`Mars/Olympus` is not an IANA time zone"),
            "{e}"
        );
    }

    #[test]
    fn a_patch_before_the_report_and_publication() {
        let s = simulate(
            &preset("zeenea"),
            "2026-03-02T09:00Z reported\n\
             2026-03-02T10:00Z start_triage\n\
             2026-03-02T11:00Z set_severity critical\n\
             2026-03-02T12:00Z patch_available 2026-02-01T00:00Z\n",
            None,
        )
        .unwrap();
        let c = clock(&s, "remediation-critical");
        assert_eq!(c.started_at, Some("2026-02-01T00:00:00Z".parse().unwrap()));
        assert_eq!(c.due_at, Some("2026-03-03T00:00:00Z".parse().unwrap()));
        let s = simulate(
            &preset("default"),
            "2026-03-02T09:00Z reported\n2026-03-02T10:00Z start_triage\n2026-03-03T10:00Z accept\n\
             2026-03-20T10:00Z fix_available\n2026-03-21T10:00Z published\n",
            None,
        )
        .unwrap();
        assert_eq!(s.state, CaseState::Disclosed);
        assert_eq!(clock(&s, "disclosure").status, ClockStatus::Met);
    }
}
