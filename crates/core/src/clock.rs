//! Policy clocks, derived from a case's events and its policy at an instant.
//! Nothing here is stored: the same history and `now` always give the same
//! clocks.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::Instant;
use crate::case::{Case, CaseState, Event, EventKind, Exposure};
use crate::policy::{ClockRule, Policy, Target, Trigger};

/// Where a clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClockStatus {
    /// Its start event has not happened, or it does not apply to this case.
    NotStarted,
    Running,
    /// Running and past its warning threshold.
    Warning,
    /// Stopped while the case waits on the reporter.
    Paused,
    /// Stopped on time.
    Met,
    /// Past its deadline: still running, or stopped late.
    Breached,
    /// The case was closed before the clock could stop.
    Cancelled,
}

/// One clock of one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ClockReport {
    pub id: String,
    pub name: String,
    pub promise: String,
    /// Whether the reporter sees it.
    pub public: bool,
    pub status: ClockStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warn_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped_at: Option<DateTime<Utc>>,
    /// Time counted so far, or until it stopped (business time for business clocks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elapsed_seconds: Option<i64>,
    /// How late: now or the stop, minus the deadline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overdue_seconds: Option<i64>,
    /// `business` (counted on the policy's calendar) or `elapsed`.
    pub measure: &'static str,
}

/// The moments of a history that clocks care about.
#[derive(Debug, Default)]
struct Facts {
    reported: Option<Instant>,
    acknowledged: Option<Instant>,
    triaged: Option<Instant>,
    customers_notified: Option<Instant>,
    patch_available: Option<Instant>,
    released: Option<Instant>,
    disclosed: Option<Instant>,
    resolved: Option<Instant>,
    /// (entered, left) waiting on the reporter.
    waiting: Vec<(Instant, Option<Instant>)>,
    /// Severity changes, in order.
    severities: Vec<(Instant, crate::Severity)>,
}

fn first(slot: &mut Option<Instant>, at: Instant) {
    if slot.is_none() {
        *slot = Some(at);
    }
}

impl Facts {
    fn of(case: &Case, history: &[Event]) -> Facts {
        let mut f = Facts {
            reported: Some(case.created_at),
            ..Facts::default()
        };
        for e in history {
            match &e.kind {
                EventKind::StateChanged {
                    from,
                    to,
                    patch_available_at,
                    ..
                } => {
                    if *from == CaseState::Received {
                        first(&mut f.acknowledged, e.at);
                    }
                    if *to == CaseState::Accepted || to.is_rejection() {
                        first(&mut f.triaged, e.at);
                    }
                    if let Some(p) = patch_available_at {
                        // A later correction of the patch date wins.
                        f.patch_available = Some(*p);
                    }
                    match to {
                        CaseState::Released => first(&mut f.released, e.at),
                        CaseState::Disclosed => first(&mut f.disclosed, e.at),
                        _ => {}
                    }
                    if to.is_final() {
                        first(&mut f.resolved, e.at);
                    }
                    if *to == CaseState::WaitingOnReporter {
                        f.waiting.push((e.at, None));
                    } else if *from == CaseState::WaitingOnReporter
                        && let Some(last) = f.waiting.last_mut()
                    {
                        last.1 = Some(e.at);
                    }
                }
                EventKind::SeverityChanged { to, .. } => f.severities.push((e.at, *to)),
                EventKind::CustomersNotified { .. } => first(&mut f.customers_notified, e.at),
                _ => {}
            }
        }
        f
    }

    fn trigger(&self, trigger: Trigger, rule: &ClockRule) -> Option<Instant> {
        match trigger {
            Trigger::Reported => self.reported,
            Trigger::Acknowledged => self.acknowledged,
            Trigger::Triaged => self.triaged,
            Trigger::SeverityAssessed => self
                .severities
                .iter()
                .find(|(_, s)| rule.when.severity.contains(s))
                .map(|(at, _)| *at),
            Trigger::CustomersNotified => self.customers_notified,
            Trigger::PatchAvailable => self.patch_available,
            Trigger::Released => self.released,
            Trigger::Disclosed => self.disclosed,
            Trigger::Resolved => self.resolved,
        }
    }
}

fn applies(rule: &ClockRule, case: &Case) -> bool {
    let when = &rule.when;
    if !when.severity.is_empty() && !case.severity.is_some_and(|s| when.severity.contains(&s)) {
        return false;
    }
    // An exposure never assessed counts as normal ("by default", policy 003).
    if let Some(e) = when.exposure
        && case.exposure.unwrap_or(Exposure::Normal) != e
    {
        return false;
    }
    !(when.reporter_deadline && case.reporter_deadline.is_none())
}

/// How a clock measures time: business time on the calendar, or elapsed time.
fn measure(policy: &Policy, target: Target, from: Instant, to: Instant) -> TimeDelta {
    if to <= from {
        TimeDelta::zero()
    } else if target.is_business() {
        policy.calendar.business_between(from, to)
    } else {
        to - from
    }
}

/// The running stretches of a clock from `start` to `end`, without the pauses.
fn running_segments(
    start: Instant,
    end: Option<Instant>,
    pauses: &[(Instant, Option<Instant>)],
) -> Vec<(Instant, Option<Instant>)> {
    let mut segments = Vec::new();
    let mut cursor = Some(start);
    for (p_start, p_end) in pauses {
        let Some(c) = cursor else { break };
        if p_end.is_some_and(|e| e <= c) {
            continue;
        }
        if end.is_some_and(|e| *p_start >= e) {
            break;
        }
        if *p_start > c {
            segments.push((c, Some(*p_start)));
        }
        cursor = p_end.map(|e| e.max(c));
    }
    if let Some(c) = cursor
        && end.is_none_or(|e| c < e)
    {
        segments.push((c, end));
    }
    segments
}

/// The instant at which `amount` of the clock's measure has been consumed
/// over the running segments; `None` while paused with some left over.
fn consume(
    policy: &Policy,
    target: Target,
    segments: &[(Instant, Option<Instant>)],
    amount: TimeDelta,
) -> Option<Instant> {
    let mut remaining = amount;
    for (from, to) in segments {
        let available = to.map(|t| measure(policy, target, *from, t));
        if available.is_none_or(|a| remaining <= a) {
            return if target.is_business() {
                policy.calendar.add_business(*from, remaining)
            } else {
                Some(*from + remaining)
            };
        }
        remaining -= available.unwrap_or_default();
    }
    None
}

/// The clock's length in its own measure, from `start` (calendar units are
/// converted at `start`, so "3 months" from 31 January ends on 30 April).
fn length(
    policy: &Policy,
    target: Target,
    start: Instant,
    deadline: Option<Instant>,
) -> Option<TimeDelta> {
    let cal = &policy.calendar;
    Some(match target {
        Target::Hours(n) => TimeDelta::hours(i64::from(n)),
        Target::BusinessHours(n) => TimeDelta::hours(i64::from(n)),
        Target::BusinessDays(n) => cal.day_length() * i32::try_from(n).ok()?,
        Target::Days(n) => cal.add_days(start, n)? - start,
        Target::Months(n) => cal.add_months(start, n)? - start,
        Target::ReporterDeadline => deadline? - start,
    })
}

/// Every clock of `policy` for `case` at `now`.
#[must_use]
pub fn evaluate(policy: &Policy, case: &Case, history: &[Event], now: Instant) -> Vec<ClockReport> {
    let facts = Facts::of(case, history);
    policy
        .clocks
        .iter()
        .map(|rule| evaluate_one(policy, rule, case, &facts, now))
        .collect()
}

fn evaluate_one(
    policy: &Policy,
    rule: &ClockRule,
    case: &Case,
    facts: &Facts,
    now: Instant,
) -> ClockReport {
    let mut report = ClockReport {
        id: rule.id.clone(),
        name: rule.name.clone(),
        promise: rule.promise.clone(),
        public: rule.public,
        status: ClockStatus::NotStarted,
        started_at: None,
        warn_at: None,
        due_at: None,
        stopped_at: None,
        elapsed_seconds: None,
        overdue_seconds: None,
        measure: if rule.target.is_business() {
            "business"
        } else {
            "elapsed"
        },
    };
    let Some(start) = facts.trigger(rule.start, rule).filter(|s| *s <= now) else {
        return report;
    };
    if !applies(rule, case) {
        return report;
    }
    report.started_at = Some(start);
    let stop = facts
        .trigger(rule.stop, rule)
        .filter(|s| *s >= start && *s <= now);
    // Closed or rejected before the clock stopped: nothing left to keep.
    let cancelled_at = match stop {
        Some(_) => None,
        None => facts.resolved.filter(|r| *r >= start && *r <= now),
    };
    let end = stop.or(cancelled_at);
    let pauses: &[(Instant, Option<Instant>)] = if rule.pause_while_waiting_on_reporter {
        &facts.waiting
    } else {
        &[]
    };
    let segments = running_segments(start, end, pauses);
    let Some(total) = length(policy, rule.target, start, case.reporter_deadline) else {
        return report;
    };
    let all_running = running_segments(start, None, pauses);
    let due = if rule.target == Target::ReporterDeadline {
        case.reporter_deadline
    } else {
        consume(policy, rule.target, &all_running, total)
    };
    let warn_amount = total * i32::try_from(rule.warn_percent).unwrap_or(75) / 100;
    report.warn_at = consume(policy, rule.target, &all_running, warn_amount)
        .filter(|w| due.is_none_or(|d| *w <= d));
    report.due_at = due;
    let until = end.unwrap_or(now);
    let elapsed: TimeDelta = segments
        .iter()
        .map(|(a, b)| measure(policy, rule.target, *a, b.unwrap_or(until).min(until)))
        .sum();
    report.elapsed_seconds = Some(elapsed.num_seconds());
    if let Some(stopped) = stop {
        report.stopped_at = Some(stopped);
        match due {
            Some(d) if stopped > d => {
                report.status = ClockStatus::Breached;
                report.overdue_seconds = Some((stopped - d).num_seconds());
            }
            _ => report.status = ClockStatus::Met,
        }
        return report;
    }
    if let Some(c) = cancelled_at {
        report.stopped_at = Some(c);
        report.status = ClockStatus::Cancelled;
        return report;
    }
    let paused_now = pauses
        .iter()
        .any(|(a, b)| *a <= now && b.is_none_or(|b| now < b));
    report.status = match due {
        Some(d) if now >= d => {
            report.overdue_seconds = Some((now - d).num_seconds());
            ClockStatus::Breached
        }
        _ if paused_now => ClockStatus::Paused,
        _ if report.warn_at.is_some_and(|w| now >= w) => ClockStatus::Warning,
        _ => ClockStatus::Running,
    };
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::at_local;
    use crate::case::{Command, NewCase, ReportContent, Reporter, decide};
    use crate::policy::{Policy, presets};
    use crate::{CaseRef, Severity};
    use chrono_tz::Tz;

    /// A case driven through commands at fixed instants.
    struct Story {
        policy: Policy,
        case: Case,
        history: Vec<Event>,
    }

    impl Story {
        fn new(preset: &str, reported: Instant, deadline: Option<Instant>) -> Story {
            let policy = Policy::parse(presets::get(preset).unwrap()).unwrap();
            let request = NewCase {
                title: "t".into(),
                product: "p".into(),
                reporter: Reporter::default(),
                report: ReportContent {
                    summary: "s".into(),
                    description: "d".into(),
                    ..ReportContent::default()
                },
                reporter_deadline: deadline,
            };
            let (case, created) = Case::open(CaseRef::new(2026, 1), request, reported).unwrap();
            let history = vec![Event {
                seq: 1,
                at: reported,
                actor: "cli".into(),
                kind: created,
            }];
            Story {
                policy,
                case,
                history,
            }
        }

        fn with_policy(mut self, text: &str) -> Story {
            self.policy = Policy::parse(text).unwrap();
            self
        }

        fn run(mut self, at: Instant, command: Command) -> Story {
            for kind in decide(&self.case, &command, at).unwrap() {
                self.case.apply(&kind, at).unwrap();
                let seq = i64::try_from(self.history.len()).unwrap() + 1;
                self.history.push(Event {
                    seq,
                    at,
                    actor: "user:t".into(),
                    kind,
                });
            }
            self
        }

        fn clock(&self, id: &str, now: Instant) -> ClockReport {
            evaluate(&self.policy, &self.case, &self.history, now)
                .into_iter()
                .find(|c| c.id == id)
                .unwrap()
        }
    }

    const UTC: Tz = chrono_tz::UTC;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> Instant {
        at_local(UTC, y, m, d, h, min).unwrap()
    }

    // ---- OpenSecOps (004): acknowledge within 24 h; assess within 3 business days.

    #[test]
    fn opensecops_acknowledgement_within_24_hours() {
        let friday = at(2026, 3, 6, 17, 0);
        let s = Story::new("opensecops", friday, None);
        let c = s.clock("acknowledgement", at(2026, 3, 7, 10, 0));
        assert_eq!(
            (c.status, c.due_at),
            (ClockStatus::Running, Some(at(2026, 3, 7, 17, 0)))
        );
        assert_eq!(c.warn_at, Some(at(2026, 3, 7, 11, 0)), "75% of 24 hours");
        assert_eq!(
            s.clock("acknowledgement", at(2026, 3, 7, 12, 0)).status,
            ClockStatus::Warning
        );
        let late = s.clock("acknowledgement", at(2026, 3, 7, 17, 30));
        assert_eq!(
            (late.status, late.overdue_seconds),
            (ClockStatus::Breached, Some(1800))
        );
        let s = s.run(at(2026, 3, 7, 9, 0), Command::Acknowledge {});
        let met = s.clock("acknowledgement", at(2026, 3, 9, 0, 0));
        assert_eq!(
            (met.status, met.elapsed_seconds),
            (ClockStatus::Met, Some(16 * 3600))
        );
    }

    #[test]
    fn opensecops_assessment_friday_17_is_due_wednesday_17() {
        let s = Story::new("opensecops", at(2026, 3, 6, 17, 0), None);
        let c = s.clock("preliminary-assessment", at(2026, 3, 9, 12, 0));
        assert_eq!(c.due_at, Some(at(2026, 3, 11, 17, 0)));
        assert_eq!(c.measure, "business");
        assert_eq!(
            c.elapsed_seconds,
            Some((7 + 12) * 3600),
            "Friday 17-24 and Monday 0-12"
        );
        let s = s
            .run(at(2026, 3, 9, 10, 0), Command::StartTriage {})
            .run(at(2026, 3, 11, 16, 59), Command::Accept {});
        assert_eq!(
            s.clock("preliminary-assessment", at(2026, 3, 12, 0, 0))
                .status,
            ClockStatus::Met
        );
    }

    #[test]
    fn a_monday_holiday_moves_the_assessment_to_thursday() {
        let text = presets::get("opensecops").unwrap().replace(
            "working_days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]",
            "working_days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]\nholidays = [\"2026-03-09\"]",
        );
        let s = Story::new("opensecops", at(2026, 3, 6, 17, 0), None).with_policy(&text);
        assert_eq!(
            s.clock("preliminary-assessment", at(2026, 3, 7, 0, 0))
                .due_at,
            Some(at(2026, 3, 12, 17, 0))
        );
    }

    #[test]
    fn the_assessment_counts_in_the_policy_time_zone_across_dst() {
        // Paris, report Friday 27 March 2026 17:00 CET; clocks go forward on the 29th.
        let paris = chrono_tz::Europe::Paris;
        let text = presets::get("opensecops")
            .unwrap()
            .replace("time_zone = \"UTC\"", "time_zone = \"Europe/Paris\"");
        let reported = at_local(paris, 2026, 3, 27, 17, 0).unwrap();
        let s = Story::new("opensecops", reported, None).with_policy(&text);
        let c = s.clock("preliminary-assessment", reported);
        assert_eq!(
            c.due_at,
            at_local(paris, 2026, 4, 1, 17, 0),
            "Wednesday 17:00 CEST"
        );
    }

    #[test]
    fn a_case_closed_before_a_clock_starts_never_starts_it() {
        // Rejected as spam before triage: the 004 clocks stop (triage ended).
        let s = Story::new("opensecops", at(2026, 3, 6, 17, 0), None)
            .run(at(2026, 3, 6, 18, 0), Command::Spam {});
        assert_eq!(
            s.clock("preliminary-assessment", at(2026, 3, 20, 0, 0))
                .status,
            ClockStatus::Met
        );
        // A remediation clock whose start (patch) never came stays not started.
        let s = Story::new("zeenea", at(2026, 3, 6, 17, 0), None)
            .run(
                at(2026, 3, 6, 17, 0),
                Command::SetSeverity {
                    severity: Severity::Critical,
                },
            )
            .run(at(2026, 3, 7, 0, 0), Command::StartTriage {})
            .run(
                at(2026, 3, 7, 1, 0),
                Command::NotAVulnerability {
                    reason: "no".into(),
                    rule: None,
                },
            );
        assert_eq!(
            s.clock("remediation-critical", at(2026, 5, 1, 0, 0)).status,
            ClockStatus::NotStarted
        );
    }

    // ---- Truvera (002): triage in 3 business days; High: customers within 72 h; 90 days.

    #[test]
    fn truvera_triage_and_customer_notice_for_high() {
        let s = Story::new("truvera", at(2026, 3, 6, 17, 0), None);
        assert_eq!(
            s.clock("triage", at(2026, 3, 6, 17, 0)).due_at,
            Some(at(2026, 3, 11, 17, 0))
        );
        assert_eq!(
            s.clock("customer-notice", at(2026, 3, 10, 0, 0)).status,
            ClockStatus::NotStarted,
            "no severity yet"
        );
        let s = s
            .run(at(2026, 3, 9, 9, 0), Command::StartTriage {})
            .run(
                at(2026, 3, 9, 10, 0),
                Command::SetSeverity {
                    severity: Severity::Medium,
                },
            )
            .run(
                at(2026, 3, 9, 11, 0),
                Command::SetSeverity {
                    severity: Severity::High,
                },
            );
        let c = s.clock("customer-notice", at(2026, 3, 10, 0, 0));
        assert_eq!(
            (c.status, c.started_at, c.due_at),
            (
                ClockStatus::Running,
                Some(at(2026, 3, 9, 11, 0)),
                Some(at(2026, 3, 12, 11, 0))
            )
        );
        let s = s.run(
            at(2026, 3, 11, 9, 0),
            Command::RecordCustomerNotice { note: None },
        );
        assert_eq!(
            s.clock("customer-notice", at(2026, 3, 20, 0, 0)).status,
            ClockStatus::Met
        );
    }

    #[test]
    fn truvera_medium_has_no_customer_clock_and_90_days_triggers_discussion() {
        let s = Story::new("truvera", at(2026, 1, 5, 9, 0), None).run(
            at(2026, 1, 5, 10, 0),
            Command::SetSeverity {
                severity: Severity::Medium,
            },
        );
        assert_eq!(
            s.clock("customer-notice", at(2026, 1, 9, 0, 0)).status,
            ClockStatus::NotStarted
        );
        let d = s.clock("disclosure-discussion", at(2026, 4, 5, 9, 0));
        assert_eq!(
            (d.status, d.due_at),
            (ClockStatus::Breached, Some(at(2026, 4, 5, 9, 0)))
        );
    }

    // ---- Zeenea (003): from patch availability; critical 30 d; lower by exposure.

    fn zeenea(sev: Severity, exposure: Option<Exposure>) -> Story {
        let mut s = Story::new("zeenea", at(2026, 1, 10, 12, 0), None).run(
            at(2026, 1, 10, 12, 0),
            Command::SetSeverity { severity: sev },
        );
        if let Some(e) = exposure {
            s = s.run(at(2026, 1, 10, 12, 0), Command::SetExposure { exposure: e });
        }
        s.run(at(2026, 1, 11, 0, 0), Command::StartTriage {})
            .run(at(2026, 1, 11, 0, 0), Command::Accept {})
    }

    #[test]
    fn zeenea_critical_30_days_after_a_patch_that_came_later() {
        let s = zeenea(Severity::Critical, None);
        assert_eq!(
            s.clock("remediation-critical", at(2026, 2, 1, 0, 0)).status,
            ClockStatus::NotStarted,
            "no patch yet"
        );
        // The patch became available on 1 February, recorded on the 3rd.
        let s = s.run(
            at(2026, 2, 3, 0, 0),
            Command::FixAvailable {
                patch_available_at: Some(at(2026, 2, 1, 8, 0)),
            },
        );
        let c = s.clock("remediation-critical", at(2026, 2, 3, 0, 0));
        assert_eq!(
            (c.started_at, c.due_at),
            (Some(at(2026, 2, 1, 8, 0)), Some(at(2026, 3, 3, 8, 0)))
        );
        assert_eq!(
            s.clock("remediation-high-exposure", at(2026, 2, 3, 0, 0))
                .status,
            ClockStatus::NotStarted
        );
        let s = s.run(at(2026, 3, 4, 0, 0), Command::Release { version: None });
        let c = s.clock("remediation-critical", at(2026, 3, 5, 0, 0));
        assert_eq!(
            (c.status, c.overdue_seconds),
            (ClockStatus::Breached, Some(16 * 3600))
        );
    }

    #[test]
    fn zeenea_lower_severity_depends_on_exposure() {
        let patch = Some(at(2026, 1, 31, 9, 0));
        let high = zeenea(Severity::Medium, Some(Exposure::High)).run(
            at(2026, 2, 1, 0, 0),
            Command::FixAvailable {
                patch_available_at: patch,
            },
        );
        assert_eq!(
            high.clock("remediation-high-exposure", at(2026, 2, 1, 0, 0))
                .due_at,
            Some(at(2026, 3, 2, 9, 0))
        );
        assert_eq!(
            high.clock("remediation-default", at(2026, 2, 1, 0, 0))
                .status,
            ClockStatus::NotStarted
        );
        let normal = zeenea(Severity::Low, None).run(
            at(2026, 2, 1, 0, 0),
            Command::FixAvailable {
                patch_available_at: patch,
            },
        );
        let c = normal.clock("remediation-default", at(2026, 2, 1, 0, 0));
        assert_eq!(
            c.due_at,
            Some(at(2026, 4, 30, 9, 0)),
            "3 months from 31 January"
        );
        assert_eq!(
            normal
                .clock("remediation-critical", at(2026, 2, 1, 0, 0))
                .status,
            ClockStatus::NotStarted
        );
    }

    // ---- Coordinated disclosure (001): the reporter's own deadline.

    #[test]
    fn the_reporters_deadline_is_a_clock_only_when_given() {
        let none = Story::new("coordinated-disclosure", at(2026, 3, 1, 0, 0), None);
        assert_eq!(
            none.clock("reporter-deadline", at(2026, 3, 2, 0, 0)).status,
            ClockStatus::NotStarted
        );
        let s = Story::new(
            "coordinated-disclosure",
            at(2026, 3, 1, 0, 0),
            Some(at(2026, 5, 30, 0, 0)),
        );
        let c = s.clock("reporter-deadline", at(2026, 5, 1, 0, 0));
        assert_eq!(
            (c.status, c.due_at),
            (ClockStatus::Running, Some(at(2026, 5, 30, 0, 0)))
        );
        assert_eq!(c.warn_at, Some(at(2026, 5, 7, 12, 0)), "75% of the 90 days");
        assert_eq!(
            s.clock("reporter-deadline", at(2026, 5, 8, 0, 0)).status,
            ClockStatus::Warning
        );
        let s = s
            .run(at(2026, 3, 2, 0, 0), Command::StartTriage {})
            .run(at(2026, 3, 3, 0, 0), Command::Accept {})
            .run(
                at(2026, 5, 1, 0, 0),
                Command::FixAvailable {
                    patch_available_at: None,
                },
            )
            .run(at(2026, 5, 20, 0, 0), Command::Disclose {});
        assert_eq!(
            s.clock("reporter-deadline", at(2026, 6, 1, 0, 0)).status,
            ClockStatus::Met
        );
    }

    // ---- Segura (000) promises no clock.

    #[test]
    fn segura_has_scope_rules_and_no_clocks() {
        let s = Story::new("segura", at(2026, 3, 1, 0, 0), None);
        assert!(evaluate(&s.policy, &s.case, &s.history, at(2026, 3, 2, 0, 0)).is_empty());
        assert_eq!(s.policy.scope_rules.len(), 7);
        assert!(s.policy.scope_rule("self-signed-certificate").is_some());
    }

    // ---- Pause and resume.

    #[test]
    fn waiting_on_the_reporter_pauses_a_clock_that_says_so() {
        // default preset: triage 3 business days, paused while waiting.
        let s = Story::new("default", at(2026, 3, 2, 9, 0), None) // Monday
            .run(at(2026, 3, 2, 10, 0), Command::StartTriage {})
            .run(at(2026, 3, 3, 9, 0), Command::RequestInformation {}); // Tuesday 09:00, 24h counted
        let paused = s.clock("triage", at(2026, 3, 4, 9, 0));
        assert_eq!(
            (paused.status, paused.due_at),
            (ClockStatus::Paused, None),
            "no due date while paused"
        );
        assert_eq!(paused.elapsed_seconds, Some(24 * 3600));
        // The reporter answers on Thursday 09:00: two business days remain.
        let s = s.run(at(2026, 3, 5, 9, 0), Command::InformationReceived {});
        let c = s.clock("triage", at(2026, 3, 5, 10, 0));
        assert_eq!(
            (c.status, c.due_at),
            (ClockStatus::Running, Some(at(2026, 3, 9, 9, 0))),
            "Thu 9 + 2 business days, over the weekend"
        );
        // The acknowledgement clock does not pause.
        assert_eq!(
            s.clock("acknowledgement", at(2026, 3, 5, 10, 0)).status,
            ClockStatus::Met
        );
    }
}
