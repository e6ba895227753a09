//! Policy clocks, derived from a case's events and its policy at an instant.
//! Nothing here is stored: the same history and `now` always give the same
//! clocks.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::Instant;
use crate::case::{Case, CaseState, ClockOutcome, Event, EventKind, Exposure};
use crate::cra::CraStage;
use crate::policy::{ClockRule, ClockSettings, Policy, Target, Trigger};

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
    /// Stopped, after its deadline (`overdue_seconds` says how late).
    MetLate,
    /// Past its deadline and never stopped: still open (`stopped_at` empty),
    /// or ended after the deadline by the case closing or the clock's
    /// condition ending. A breach stays a breach whatever happens next.
    Breached,
    /// It no longer had to be kept before its deadline: the case was closed
    /// (as spam, out of scope, …) or the clock's condition became false.
    Cancelled,
}

/// A status in words for a terminal or a page.
#[must_use]
pub fn status_label(s: ClockStatus) -> &'static str {
    match s {
        ClockStatus::NotStarted => "not started",
        ClockStatus::Running => "running",
        ClockStatus::Warning => "running, past its warning",
        ClockStatus::Paused => "paused while waiting on the reporter",
        ClockStatus::Met => "met",
        ClockStatus::MetLate => "met late",
        ClockStatus::Breached => "breached",
        ClockStatus::Cancelled => "cancelled",
    }
}

/// A duration in days, hours and minutes ("2 days 3 hours").
#[must_use]
pub fn duration_words(seconds: i64) -> String {
    let s = seconds.unsigned_abs();
    let (days, hours, minutes) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    let unit = |n: u64, one: &str| match n {
        0 => None,
        1 => Some(format!("1 {one}")),
        n => Some(format!("{n} {one}s")),
    };
    let parts: Vec<String> = [
        unit(days, "day"),
        unit(hours, "hour"),
        unit(minutes, "minute"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() {
        "under a minute".to_owned()
    } else {
        parts.join(" ")
    }
}

/// One run of a clock (a clock runs again when its condition returns).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ClockRun {
    pub status: ClockStatus,
    pub started_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<Utc>>,
    /// When it stopped, or when the case or its condition ended it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overdue_seconds: Option<i64>,
    /// Why it ended without its stop event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// Whether this outcome is recorded in the case's history (final).
    pub recorded: bool,
}

impl ClockStatus {
    /// The status's name on the wire (as serialized), also a CSS class.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ClockStatus::NotStarted => "not_started",
            ClockStatus::Running => "running",
            ClockStatus::Warning => "warning",
            ClockStatus::Paused => "paused",
            ClockStatus::Met => "met",
            ClockStatus::MetLate => "met_late",
            ClockStatus::Breached => "breached",
            ClockStatus::Cancelled => "cancelled",
        }
    }
}

/// One clock of one case: its latest run, and the runs before it.
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
    /// When it stopped, or when the case or its condition ended it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped_at: Option<DateTime<Utc>>,
    /// Time counted so far, or until it stopped (business time for business clocks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elapsed_seconds: Option<i64>,
    /// How late: now or the stop, minus the deadline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overdue_seconds: Option<i64>,
    /// Why it ended without its stop event ("the case was closed as spam").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// Whether its outcome is recorded in the case's history (final).
    pub recorded: bool,
    /// `business` (counted on the policy's calendar) or `elapsed`.
    pub measure: &'static str,
    /// Earlier runs of the clock, oldest first (a severity that went and
    /// came back), each with its own outcome.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub earlier_runs: Vec<ClockRun>,
}

impl ClockReport {
    /// Every run: the earlier ones, then the latest (when it started).
    #[must_use]
    pub fn runs(&self) -> Vec<ClockRun> {
        let mut runs = self.earlier_runs.clone();
        runs.extend(self.latest_run());
        runs
    }

    /// The latest run, once the clock has started.
    fn latest_run(&self) -> Option<ClockRun> {
        Some(ClockRun {
            status: self.status,
            started_at: self.started_at?,
            due_at: self.due_at,
            stopped_at: self.stopped_at,
            overdue_seconds: self.overdue_seconds,
            cause: self.cause.clone(),
            recorded: self.recorded,
        })
    }

    /// `rule`'s clock before it starts.
    fn not_started(rule: &ClockRule) -> ClockReport {
        ClockReport {
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
            cause: None,
            recorded: false,
            measure: if rule.target.is_business() {
                "business"
            } else {
                "elapsed"
            },
            earlier_runs: Vec::new(),
        }
    }
}

fn is_final(status: ClockStatus, stopped_at: Option<Instant>) -> bool {
    match status {
        ClockStatus::Met | ClockStatus::MetLate | ClockStatus::Cancelled => true,
        ClockStatus::Breached => stopped_at.is_some(),
        _ => false,
    }
}

/// The `ClockEnded` event that records `run` of clock `id`.
#[must_use]
pub fn ended_event(id: &str, run: &ClockRun) -> Option<EventKind> {
    let outcome = match run.status {
        ClockStatus::Met => ClockOutcome::Met,
        ClockStatus::MetLate => ClockOutcome::MetLate,
        ClockStatus::Breached if run.stopped_at.is_some() => ClockOutcome::Breached,
        ClockStatus::Cancelled => ClockOutcome::Cancelled,
        _ => return None,
    };
    Some(EventKind::ClockEnded {
        clock: id.to_owned(),
        outcome,
        started: run.started_at,
        due: run.due_at,
        ended: run.stopped_at?,
        late_seconds: run.overdue_seconds,
        cause: run.cause.clone(),
    })
}

/// The events that record every run of `policy`'s clocks on `case` that
/// has ended at `now` and is not recorded yet.
#[must_use]
pub fn unrecorded_outcomes(
    policy: &Policy,
    case: &Case,
    history: &[Event],
    now: Instant,
) -> Vec<EventKind> {
    evaluate(policy, case, history, now)
        .iter()
        .flat_map(|report| {
            report
                .runs()
                .into_iter()
                .filter(|r| !r.recorded && is_final(r.status, r.stopped_at))
                .filter_map(|r| ended_event(&report.id, &r))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// How a case ended a run: entering a final state.
#[derive(Debug, Clone, Copy)]
struct Resolution {
    at: Instant,
    state: CaseState,
}

/// The moments of a history that clocks care about.
#[derive(Debug, Default)]
struct Facts {
    reported: Option<Instant>,
    acknowledged: Vec<Instant>,
    triaged: Vec<Instant>,
    customers_notified: Vec<Instant>,
    patch_available: Option<Instant>,
    released: Vec<Instant>,
    disclosed: Vec<Instant>,
    resolved: Vec<Resolution>,
    /// (entered, left) waiting on the reporter.
    waiting: Vec<(Instant, Option<Instant>)>,
    /// Severity changes, in order.
    severities: Vec<(Instant, crate::Severity)>,
    /// Exposure changes, in order.
    exposures: Vec<(Instant, Exposure)>,
    /// The policy's severity level as chosen, in order.
    levels: Vec<(Instant, String)>,
    /// Outcomes already recorded: (clock, run start) → the run as recorded.
    recorded: Vec<(String, ClockRun)>,
    /// Article 14: when the team became aware (the latest correction wins).
    aware: Option<Instant>,
    /// Article 14: the first corrective or mitigating measure's availability.
    measure: Option<Instant>,
    /// Article 14: what the case is, as it changed: `Some` from a
    /// confirmation or an incident's declaration, `None` from a rejection.
    cra: Vec<(Instant, Option<crate::cra::CraSubject>)>,
    /// Article 14 stages sent, with when.
    submitted: Vec<(crate::cra::CraStage, Instant)>,
}

impl Facts {
    /// Every instant the facts hold.
    fn instants(&self) -> impl Iterator<Item = Instant> + '_ {
        self.reported
            .into_iter()
            .chain(self.acknowledged.iter().copied())
            .chain(self.triaged.iter().copied())
            .chain(self.customers_notified.iter().copied())
            .chain(self.patch_available)
            .chain(self.released.iter().copied())
            .chain(self.disclosed.iter().copied())
            .chain(self.resolved.iter().map(|r| r.at))
            .chain(
                self.waiting
                    .iter()
                    .flat_map(|(a, b)| std::iter::once(*a).chain(*b)),
            )
            .chain(self.severities.iter().map(|(t, _)| *t))
            .chain(self.exposures.iter().map(|(t, _)| *t))
            .chain(self.levels.iter().map(|(t, _)| *t))
            .chain(self.aware)
            .chain(self.measure)
            .chain(self.cra.iter().map(|(t, _)| *t))
            .chain(self.submitted.iter().map(|(_, t)| *t))
    }

    fn of(policy: &Policy, case: &Case, history: &[Event]) -> Facts {
        let acknowledging = &policy.clock_settings.acknowledged_by;
        let answers = |action: &str| acknowledging.iter().any(|a| a == action);
        let mut f = Facts {
            reported: Some(case.created_at),
            ..Facts::default()
        };
        for e in history {
            match &e.kind {
                EventKind::StateChanged {
                    from,
                    to,
                    action,
                    patch_available_at,
                    ..
                } => {
                    if *from == CaseState::Received && answers(action) {
                        f.acknowledged.push(e.at);
                    }
                    if *to == CaseState::Accepted || to.is_rejection() {
                        f.triaged.push(e.at);
                    }
                    if let Some(p) = patch_available_at {
                        // A later correction of the patch date wins.
                        f.patch_available = Some(*p);
                    }
                    match to {
                        CaseState::Released => f.released.push(e.at),
                        CaseState::Disclosed => f.disclosed.push(e.at),
                        _ => {}
                    }
                    if to.is_final() {
                        f.resolved.push(Resolution {
                            at: e.at,
                            state: *to,
                        });
                    }
                    if *to == CaseState::WaitingOnReporter {
                        f.waiting.push((e.at, None));
                    } else if *from == CaseState::WaitingOnReporter
                        && let Some(last) = f.waiting.last_mut()
                    {
                        last.1 = Some(e.at);
                    }
                }
                // A person's message answers the report; embargo's own
                // (asking for the fields the policy requires) does not.
                EventKind::MessageToReporter { .. }
                    if answers("message_reporter") && e.actor != "system" =>
                {
                    f.acknowledged.push(e.at);
                }
                EventKind::PatchAvailabilityRecorded { available_at, .. } => {
                    f.patch_available = Some(*available_at);
                }
                // Publishing the advisory discloses the vulnerability,
                // whatever state the case is in.
                EventKind::AdvisoryPublished { .. } => f.disclosed.push(e.at),
                EventKind::SeverityChanged { to, .. } => f.severities.push((e.at, *to)),
                EventKind::ExposureChanged { to, .. } => f.exposures.push((e.at, *to)),
                EventKind::LevelAssessed { to, .. } => f.levels.push((e.at, to.clone())),
                EventKind::CustomersNotified { .. } => f.customers_notified.push(e.at),
                EventKind::ExploitationConfirmed { aware_at, .. } => {
                    f.aware = Some(*aware_at);
                    f.cra
                        .push((e.at, Some(crate::cra::CraSubject::Vulnerability)));
                }
                EventKind::IncidentDeclared { aware_at, .. } => {
                    f.aware = Some(*aware_at);
                    f.cra.push((e.at, Some(crate::cra::CraSubject::Incident)));
                }
                EventKind::ExploitationRejected { .. } => f.cra.push((e.at, None)),
                EventKind::AwarenessCorrected { aware_at, .. } => f.aware = Some(*aware_at),
                EventKind::CorrectiveMeasureRecorded { available_at, .. } => {
                    f.measure = Some(f.measure.map_or(*available_at, |m| m.min(*available_at)));
                }
                EventKind::CraReportSubmitted {
                    stage,
                    submitted_at,
                    ..
                } => f.submitted.push((*stage, *submitted_at)),
                EventKind::ClockEnded {
                    clock,
                    outcome,
                    started,
                    due,
                    ended,
                    late_seconds,
                    cause,
                } => f.recorded.push((
                    clock.clone(),
                    ClockRun {
                        status: match outcome {
                            ClockOutcome::Met => ClockStatus::Met,
                            ClockOutcome::MetLate => ClockStatus::MetLate,
                            ClockOutcome::Breached => ClockStatus::Breached,
                            ClockOutcome::Cancelled => ClockStatus::Cancelled,
                        },
                        started_at: *started,
                        due_at: *due,
                        stopped_at: Some(*ended),
                        overdue_seconds: *late_seconds,
                        cause: cause.clone(),
                        recorded: true,
                    },
                )),
                _ => {}
            }
        }
        f
    }

    /// The first instant of `trigger` at or after `from`.
    fn first_from(&self, trigger: Trigger, from: Instant) -> Option<Instant> {
        let after = |list: &[Instant]| list.iter().copied().find(|t| *t >= from);
        match trigger {
            Trigger::Reported => self.reported.filter(|t| *t >= from),
            Trigger::Acknowledged => after(&self.acknowledged),
            Trigger::Triaged => after(&self.triaged),
            // As a stop: the severity is assessed at all.
            Trigger::SeverityAssessed => {
                self.severities.iter().map(|(t, _)| *t).find(|t| *t >= from)
            }
            Trigger::CustomersNotified => after(&self.customers_notified),
            Trigger::PatchAvailable => self.patch_available.filter(|t| *t >= from),
            Trigger::Released => after(&self.released),
            Trigger::Disclosed => after(&self.disclosed),
            Trigger::Resolved => self.resolved.iter().map(|r| r.at).find(|t| *t >= from),
            Trigger::Aware => self.aware.filter(|t| *t >= from),
            Trigger::MeasureAvailable => self.measure_after_awareness().filter(|t| *t >= from),
            Trigger::EarlyWarningSubmitted => self.sent(CraStage::EarlyWarning, from),
            Trigger::NotificationSubmitted => self.sent(CraStage::Notification, from),
            Trigger::FinalReportSubmitted => self.sent(CraStage::FinalReport, from),
        }
    }

    /// The first submission at or after `from` of `stage` or of a later
    /// stage that carries it.
    fn sent(&self, stage: CraStage, from: Instant) -> Option<Instant> {
        self.submitted
            .iter()
            .filter(|(s, at)| s.covers(stage) && *at >= from)
            .map(|(_, at)| *at)
            .min()
    }

    /// When Article 14's final report starts counting: a corrective
    /// measure (or a patch) available, but never before the team knew of
    /// the exploitation (a patch from before then is available at awareness).
    fn measure_after_awareness(&self) -> Option<Instant> {
        let aware = self.aware?;
        let measure = match (self.measure, self.patch_available) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b)?,
        };
        Some(measure.max(aware))
    }

    /// When a start trigger (other than the severity assessment) happened.
    fn start_of(&self, trigger: Trigger) -> Option<Instant> {
        match trigger {
            Trigger::Reported => self.reported,
            Trigger::PatchAvailable => self.patch_available,
            Trigger::SeverityAssessed => self
                .severities
                .first()
                .map(|(t, _)| *t)
                .into_iter()
                .chain(self.levels.first().map(|(t, _)| *t))
                .min(),
            Trigger::Acknowledged => self.acknowledged.first().copied(),
            Trigger::Triaged => self.triaged.first().copied(),
            Trigger::CustomersNotified => self.customers_notified.first().copied(),
            Trigger::Released => self.released.first().copied(),
            Trigger::Disclosed => self.disclosed.first().copied(),
            Trigger::Resolved => self.resolved.first().map(|r| r.at),
            Trigger::Aware => self.aware,
            Trigger::MeasureAvailable => self.measure_after_awareness(),
            Trigger::EarlyWarningSubmitted => self.sent(CraStage::EarlyWarning, Instant::MIN_UTC),
            Trigger::NotificationSubmitted => self.sent(CraStage::Notification, Instant::MIN_UTC),
            Trigger::FinalReportSubmitted => self.sent(CraStage::FinalReport, Instant::MIN_UTC),
        }
    }

    /// The stretches of time during which `rule`'s `when` condition held,
    /// with what ended each: severity and exposure as they were then.
    fn condition_intervals(
        &self,
        rule: &ClockRule,
        settings: &ClockSettings,
        case: &Case,
    ) -> Vec<(Instant, Option<(Instant, String)>)> {
        let when = &rule.when;
        let Some(reported) = self.reported else {
            return Vec::new();
        };
        if when.reporter_deadline && case.reporter_deadline.is_none() {
            return Vec::new();
        }
        // What the condition looks at, as it stood at an instant.
        #[derive(Clone)]
        struct State {
            severity: Option<crate::Severity>,
            exposure: Option<Exposure>,
            level: Option<String>,
            cra: Option<crate::cra::CraSubject>,
        }
        let holds = |st: &State| {
            (when.severity.is_empty() || st.severity.is_some_and(|s| when.severity.contains(&s)))
                // An exposure never assessed counts as normal ("by default", policy 003).
                && when
                    .exposure
                    .is_none_or(|e| st.exposure.unwrap_or(Exposure::Normal) == e)
                && (when.level.is_empty()
                    || st.level.as_ref().is_some_and(|l| when.level.contains(l)))
                && (when.cra.is_empty() || st.cra.is_some_and(|c| when.cra.contains(&c)))
        };
        // Every instant the condition may change, in order (a stable sort
        // keeps the history's order among changes at one instant).
        enum Change<'a> {
            Severity(crate::Severity),
            Exposure(Exposure),
            Level(&'a str),
            Cra(Option<crate::cra::CraSubject>),
        }
        let mut events: Vec<(Instant, Change<'_>)> = self
            .severities
            .iter()
            .map(|(t, v)| (*t, Change::Severity(*v)))
            .chain(
                self.exposures
                    .iter()
                    .map(|(t, v)| (*t, Change::Exposure(*v))),
            )
            .chain(
                self.levels
                    .iter()
                    .map(|(t, v)| (*t, Change::Level(v.as_str()))),
            )
            .chain(self.cra.iter().map(|(t, v)| (*t, Change::Cra(*v))))
            .collect();
        events.sort_by_key(|(t, _)| *t);
        let mut state = State {
            severity: settings.default_severity,
            exposure: None,
            level: None,
            cra: None,
        };
        let mut changes: Vec<(Instant, State)> = vec![(reported, state.clone())];
        let mut i = 0;
        while i < events.len() {
            let at = events[i].0;
            while i < events.len() && events[i].0 == at {
                match &events[i].1 {
                    Change::Severity(v) => state.severity = Some(*v),
                    Change::Exposure(v) => state.exposure = Some(*v),
                    Change::Level(v) => state.level = Some((*v).to_owned()),
                    Change::Cra(v) => state.cra = *v,
                }
                i += 1;
            }
            changes.push((at, state.clone()));
        }
        let mut intervals: Vec<(Instant, Option<(Instant, String)>)> = Vec::new();
        let mut open: Option<Instant> = None;
        for (at, st) in changes {
            match (open, holds(&st)) {
                (None, true) => open = Some(at),
                (Some(since), false) => {
                    let why = match (st.severity, st.exposure, &st.level) {
                        _ if !when.cra.is_empty()
                            && st.cra.is_none_or(|c| !when.cra.contains(&c)) =>
                        {
                            "active exploitation was rejected".to_owned()
                        }
                        (Some(s), _, _)
                            if !when.severity.is_empty() && !when.severity.contains(&s) =>
                        {
                            format!("the severity changed to {}", s.as_str())
                        }
                        (_, _, Some(l)) if !when.level.is_empty() && !when.level.contains(l) => {
                            format!("the severity level changed to {l}")
                        }
                        (_, Some(e), _) => format!("the exposure changed to {}", e.as_str()),
                        _ => "its condition no longer held".to_owned(),
                    };
                    intervals.push((since, Some((at, why))));
                    open = None;
                }
                _ => {}
            }
        }
        if let Some(since) = open {
            intervals.push((since, None));
        }
        intervals
    }
}

fn resolution_cause(state: CaseState) -> String {
    match state {
        CaseState::Closed => "the case was closed".to_owned(),
        CaseState::NotAVulnerability => "the case was closed as not a vulnerability".to_owned(),
        CaseState::OutOfScope => "the case was closed as out of scope".to_owned(),
        CaseState::Duplicate => "the case was closed as a duplicate".to_owned(),
        CaseState::Spam => "the case was closed as spam".to_owned(),
        other => format!("the case became {other}"),
    }
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

/// The time a run from `start` counted by `until` (its end, or now), in the
/// clock's measure, without the pauses.
fn counted(
    policy: &Policy,
    target: Target,
    start: Instant,
    end: Option<Instant>,
    until: Instant,
    pauses: &[(Instant, Option<Instant>)],
) -> TimeDelta {
    running_segments(start, end, pauses)
        .iter()
        .map(|(a, b)| measure(policy, target, *a, b.unwrap_or(until).min(until)))
        .sum()
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
    let facts = Facts::of(policy, case, history);
    policy
        .clocks
        .iter()
        .map(|rule| evaluate_rule(policy, rule, case, &facts, now))
        .collect()
}

/// A running clock's deadline: past `warn_at` it is due soon, past `due_at`
/// breached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadline {
    pub clock: String,
    pub warn_at: Option<Instant>,
    pub due_at: Instant,
}

impl Deadline {
    /// What the clock reports at `now`, as long as the case's history has
    /// not changed since the deadline was worked out: breached from its due
    /// instant, a warning from its warning point, running before.
    #[must_use]
    pub fn status_at(&self, now: Instant) -> ClockStatus {
        if now >= self.due_at {
            ClockStatus::Breached
        } else if self.warn_at.is_some_and(|w| now >= w) {
            ClockStatus::Warning
        } else {
            ClockStatus::Running
        }
    }
}

/// What a case's clocks will say from `now` on, until its history changes:
/// the deadlines of the clocks running now, and the first instant after
/// `now` at which a dated fact already in the history (a patch date or an
/// awareness given ahead of time) takes effect, after which they must be
/// worked out again. Until then each clock's status follows from its
/// deadline and the time alone, which is what lets a store sort and count
/// cases by due time without evaluating every history.
#[must_use]
pub fn deadlines(
    policy: &Policy,
    case: &Case,
    history: &[Event],
    now: Instant,
) -> (Vec<Deadline>, Option<Instant>) {
    let running = evaluate(policy, case, history, now)
        .into_iter()
        .filter(|c| {
            matches!(
                c.status,
                ClockStatus::Running | ClockStatus::Warning | ClockStatus::Breached
            ) && c.stopped_at.is_none()
        })
        .filter_map(|c| {
            c.due_at.map(|due_at| Deadline {
                clock: c.id,
                warn_at: c.warn_at,
                due_at,
            })
        })
        .collect();
    let changes_at = Facts::of(policy, case, history)
        .instants()
        .filter(|t| *t > now)
        .min();
    (running, changes_at)
}

/// A run's start, and what may end it before its stop event: the end of
/// the condition that let it run.
type RunWindow = (Instant, Option<(Instant, String)>);

/// The runs of `rule` that have started by `now`: each with its start and
/// the end of the condition it ran under.
fn runs_of(
    rule: &ClockRule,
    settings: &ClockSettings,
    case: &Case,
    facts: &Facts,
    now: Instant,
) -> Vec<RunWindow> {
    let intervals = facts.condition_intervals(rule, settings, case);
    let mut runs: Vec<RunWindow> = Vec::new();
    if rule.start == Trigger::SeverityAssessed {
        // Each time the severity enters the clock's set, a run starts.
        runs.extend(intervals.into_iter().filter(|(a, _)| {
            // A default severity is assumed, not assessed: it starts nothing.
            facts.severities.iter().any(|(t, _)| t == a)
                || facts.levels.iter().any(|(t, _)| t == a)
                || settings.default_severity.is_some()
        }));
    } else if let Some(t) = facts.start_of(rule.start) {
        // The first stretch of the condition that reaches past the start
        // runs from the start itself (a severity assessed after the patch
        // still counts from the patch); a later stretch restarts the clock
        // from the time its condition returned.
        let mut first = true;
        for (a, end) in intervals {
            if end.as_ref().is_some_and(|(b, _)| *b <= t) {
                continue;
            }
            if first {
                runs.push((t, end));
                first = false;
            } else {
                runs.push((a.max(t), end));
            }
        }
    }
    if !settings.restart_when_condition_returns {
        runs.truncate(1);
    }
    runs.retain(|(start, _)| *start <= now);
    runs
}

fn evaluate_rule(
    policy: &Policy,
    rule: &ClockRule,
    case: &Case,
    facts: &Facts,
    now: Instant,
) -> ClockReport {
    let mut report = ClockReport::not_started(rule);
    let runs = runs_of(rule, &policy.clock_settings, case, facts, now);
    let count = runs.len();
    for (i, (start, condition_end)) in runs.into_iter().enumerate() {
        let run = evaluate_run(policy, rule, case, facts, start, condition_end, now);
        if i + 1 < count {
            report.earlier_runs.extend(run.latest_run());
        } else {
            let earlier = std::mem::take(&mut report.earlier_runs);
            report = ClockReport {
                earlier_runs: earlier,
                ..run
            };
        }
    }
    report
}

/// One run of `rule` from `start`, at `now`.
fn evaluate_run(
    policy: &Policy,
    rule: &ClockRule,
    case: &Case,
    facts: &Facts,
    start: Instant,
    condition_end: Option<(Instant, String)>,
    now: Instant,
) -> ClockReport {
    let mut report = ClockReport {
        status: ClockStatus::Running,
        started_at: Some(start),
        ..ClockReport::not_started(rule)
    };
    let pauses: &[(Instant, Option<Instant>)] = if rule.pause_while_waiting_on_reporter {
        &facts.waiting
    } else {
        &[]
    };
    let all_running = running_segments(start, None, pauses);
    let total = length(policy, rule.target, start, case.reporter_deadline);
    // The reporter's deadline is a date, not time consumed: pauses do not move it.
    let due = match total {
        Some(_) if rule.target == Target::ReporterDeadline => case.reporter_deadline,
        Some(total) => consume(policy, rule.target, &all_running, total),
        None => None,
    };
    report.warn_at = total
        .and_then(|total| {
            let warn_amount = total * i32::try_from(rule.warn_percent).unwrap_or(75) / 100;
            consume(policy, rule.target, &all_running, warn_amount)
        })
        .filter(|w| due.is_none_or(|d| *w <= d));
    report.due_at = due;

    // A recorded outcome is final: read back, never recomputed.
    if let Some((_, recorded)) = facts
        .recorded
        .iter()
        .rev()
        .find(|(clock, run)| *clock == rule.id && run.started_at == start)
    {
        report.status = recorded.status;
        report.due_at = recorded.due_at;
        report.stopped_at = recorded.stopped_at;
        report.overdue_seconds = recorded.overdue_seconds;
        report.cause.clone_from(&recorded.cause);
        report.recorded = true;
        report.elapsed_seconds = recorded
            .stopped_at
            .map(|s| counted(policy, rule.target, start, Some(s), s, pauses).num_seconds());
        return report;
    }

    let stop = facts.first_from(rule.stop, start).filter(|s| *s <= now);
    // What else ends the run first: the case closing, or its condition ending.
    let resolution = facts
        .resolved
        .iter()
        .find(|r| r.at >= start)
        .map(|r| (r.at, resolution_cause(r.state)));
    let ending = match (resolution, condition_end) {
        (Some(r), Some(c)) => Some(if r.0 <= c.0 { r } else { c }),
        (r, c) => r.or(c),
    }
    .filter(|(at, _)| *at <= now);
    let stopped_first = match (&stop, &ending) {
        (Some(s), Some((e, _))) => s <= e,
        (Some(_), None) => true,
        _ => false,
    };
    let end = if stopped_first {
        stop
    } else {
        ending.as_ref().map(|(e, _)| *e)
    };
    let elapsed = counted(policy, rule.target, start, end, end.unwrap_or(now), pauses);
    report.elapsed_seconds = Some(elapsed.num_seconds());
    if stopped_first && let Some(stopped) = stop {
        report.stopped_at = Some(stopped);
        match due {
            Some(d) if stopped > d => {
                report.status = ClockStatus::MetLate;
                report.overdue_seconds = Some((stopped - d).num_seconds());
            }
            _ => report.status = ClockStatus::Met,
        }
        return report;
    }
    if let Some((ended, cause)) = ending {
        report.stopped_at = Some(ended);
        report.cause = Some(cause);
        match due {
            Some(d) if ended > d => {
                report.status = ClockStatus::Breached;
                report.overdue_seconds = Some((ended - d).num_seconds());
            }
            _ => report.status = ClockStatus::Cancelled,
        }
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
    use crate::zone::Zone;
    use crate::{CaseRef, Severity};

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
                exploited_evidence: None,
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

        /// Runs `command` at `at`, then records the clock outcomes it
        /// settled, as the server's unit of work does.
        fn run(mut self, at: Instant, command: Command) -> Story {
            for kind in decide(&self.case, &command, at).unwrap() {
                self.push(at, kind);
            }
            for kind in unrecorded_outcomes(&self.policy, &self.case, &self.history, at) {
                self.push(at, kind);
            }
            self
        }

        fn push(&mut self, at: Instant, kind: EventKind) {
            self.case.apply(&kind, at).unwrap();
            let seq = i64::try_from(self.history.len()).unwrap() + 1;
            self.history.push(Event {
                seq,
                at,
                actor: "user:t".into(),
                kind,
            });
        }

        fn outcomes(&self) -> Vec<(String, ClockOutcome, Option<String>)> {
            self.history
                .iter()
                .filter_map(|e| match &e.kind {
                    EventKind::ClockEnded {
                        clock,
                        outcome,
                        cause,
                        ..
                    } => Some((clock.clone(), *outcome, cause.clone())),
                    _ => None,
                })
                .collect()
        }

        fn clock(&self, id: &str, now: Instant) -> ClockReport {
            evaluate(&self.policy, &self.case, &self.history, now)
                .into_iter()
                .find(|c| c.id == id)
                .unwrap()
        }
    }

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> Instant {
        at_local(&Zone::utc(), y, m, d, h, min).unwrap()
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
    fn deadlines_say_what_the_clocks_will_report_until_the_history_changes() {
        let reported = at(2026, 3, 6, 17, 0);
        let s = Story::new("opensecops", reported, None);
        let (running, changes_at) = deadlines(&s.policy, &s.case, &s.history, reported);
        assert_eq!(changes_at, None, "nothing dated after now");
        let assessment = running
            .iter()
            .find(|d| d.clock == "preliminary-assessment")
            .expect("the assessment clock runs from the report");
        assert_eq!(assessment.due_at, at(2026, 3, 11, 17, 0));
        // Each clock's status at any later instant follows from its deadline
        // alone, as long as nothing is written.
        // Later instants: some hours on, and each deadline's own edges (a
        // minute before and at its warning point and its due instant).
        let minute = chrono::Duration::minutes(1);
        let mut instants: Vec<Instant> = [1, 30, 60, 90, 200]
            .iter()
            .map(|h| reported + chrono::Duration::hours(*h))
            .collect();
        for d in &running {
            for edge in d.warn_at.into_iter().chain([d.due_at]) {
                instants.extend([edge - minute, edge]);
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for later in instants {
            for d in &running {
                let c = s.clock(&d.clock, later);
                assert_eq!(c.status, d.status_at(later), "{} at {later}", d.clock);
                seen.insert(c.status.as_str());
            }
        }
        assert_eq!(
            seen,
            ["breached", "running", "warning"].into(),
            "the instants cover each status"
        );
        // A fact dated after the instant the deadlines are worked out at
        // (an instance whose clock lags): they hold until then, no longer.
        let s = s.run(at(2026, 3, 9, 10, 0), Command::StartTriage {});
        let before = at(2026, 3, 9, 9, 0);
        let (_, changes_at) = deadlines(&s.policy, &s.case, &s.history, before);
        assert_eq!(changes_at, Some(at(2026, 3, 9, 10, 0)));
        let (after, changes_at) = deadlines(&s.policy, &s.case, &s.history, at(2026, 3, 9, 11, 0));
        assert_eq!(changes_at, None);
        assert!(
            after.iter().all(|d| d.clock != "acknowledgement"),
            "a met clock has no deadline: {after:?}"
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
        let paris = Zone::named("Europe/Paris").unwrap();
        let text = presets::get("opensecops")
            .unwrap()
            .replace("time_zone = \"UTC\"", "time_zone = \"Europe/Paris\"");
        let reported = at_local(&paris, 2026, 3, 27, 17, 0).unwrap();
        let s = Story::new("opensecops", reported, None).with_policy(&text);
        let c = s.clock("preliminary-assessment", reported);
        assert_eq!(
            c.due_at,
            at_local(&paris, 2026, 4, 1, 17, 0),
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
                Command::SetLevel {
                    level: "medium".into(),
                },
            )
            .run(
                at(2026, 3, 9, 11, 0),
                Command::SetLevel {
                    level: "high".into(),
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
            Command::SetLevel {
                level: "medium".into(),
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
            (ClockStatus::MetLate, Some(16 * 3600))
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

    // ---- Outcomes are final (issue 18).

    #[test]
    fn closing_after_a_breach_keeps_the_breach() {
        // 003: CRITICAL, patch on 1 February, nothing released; 29 days
        // past the deadline the team discloses and closes.
        let s = zeenea(Severity::Critical, None).run(
            at(2026, 2, 1, 8, 0),
            Command::FixAvailable {
                patch_available_at: None,
            },
        );
        let open = s.clock("remediation-critical", at(2026, 4, 1, 8, 0));
        assert_eq!(
            (open.status, open.stopped_at),
            (ClockStatus::Breached, None)
        );
        let s = s
            .run(at(2026, 4, 1, 8, 0), Command::Disclose {})
            .run(at(2026, 4, 1, 9, 0), Command::Close {});
        let c = s.clock("remediation-critical", at(2026, 6, 1, 0, 0));
        assert_eq!(
            (c.status, c.stopped_at, c.overdue_seconds, c.recorded),
            (
                ClockStatus::Breached,
                Some(at(2026, 4, 1, 9, 0)),
                Some(29 * 86_400 + 3600),
                true
            )
        );
        assert_eq!(c.cause.as_deref(), Some("the case was closed"));
        // Reopening never rewrites it.
        let s = s.run(at(2026, 4, 2, 0, 0), Command::Reopen { reason: None });
        assert_eq!(
            s.clock("remediation-critical", at(2026, 6, 1, 0, 0)).status,
            ClockStatus::Breached
        );
        assert!(s.outcomes().contains(&(
            "remediation-critical".into(),
            ClockOutcome::Breached,
            Some("the case was closed".into())
        )));
    }

    #[test]
    fn a_customer_notice_breached_then_rejected_stays_breached() {
        let s = Story::new("truvera", at(2026, 3, 2, 9, 0), None)
            .run(at(2026, 3, 2, 10, 0), Command::StartTriage {})
            .run(
                at(2026, 3, 2, 10, 0),
                Command::SetLevel {
                    level: "high".into(),
                },
            )
            .run(
                at(2026, 3, 7, 10, 0),
                Command::OutOfScope {
                    reason: "r".into(),
                    rule: None,
                },
            );
        let c = s.clock("customer-notice", at(2026, 3, 9, 0, 0));
        assert_eq!(
            (c.status, c.overdue_seconds),
            (ClockStatus::Breached, Some(2 * 86_400))
        );
    }

    #[test]
    fn a_recorded_outcome_survives_a_policy_change() {
        let s = Story::new("default", at(2026, 3, 2, 9, 0), None)
            .run(at(2026, 3, 3, 10, 0), Command::Acknowledge {});
        assert_eq!(
            s.clock("acknowledgement", at(2026, 3, 4, 0, 0)).status,
            ClockStatus::MetLate
        );
        // A week later the policy grants 48 hours: the recorded outcome stands.
        let text = presets::get("default").unwrap().replacen(
            "target = \"24 hours\"",
            "target = \"48 hours\"",
            1,
        );
        let s = s.with_policy(&text);
        let c = s.clock("acknowledgement", at(2026, 3, 10, 0, 0));
        assert_eq!((c.status, c.recorded), (ClockStatus::MetLate, true));
        assert_eq!(c.overdue_seconds, Some(3600));
    }

    #[test]
    fn a_message_to_the_reporter_acknowledges_and_spam_cancels() {
        let s = Story::new("default", at(2026, 3, 2, 9, 0), None).run(
            at(2026, 3, 2, 9, 40),
            Command::MessageReporter {
                text: "Thanks, we are looking at it.".into(),
            },
        );
        let c = s.clock("acknowledgement", at(2026, 3, 3, 0, 0));
        assert_eq!(
            (c.status, c.stopped_at),
            (ClockStatus::Met, Some(at(2026, 3, 2, 9, 40)))
        );
        let spam = Story::new("default", at(2026, 3, 2, 9, 0), None)
            .run(at(2026, 3, 2, 9, 5), Command::Spam {});
        let c = spam.clock("acknowledgement", at(2026, 3, 3, 0, 0));
        assert_eq!(c.status, ClockStatus::Cancelled);
        assert_eq!(c.cause.as_deref(), Some("the case was closed as spam"));
        // A policy may count spam as an answer.
        let text = format!(
            "{}\n[clock_settings]\nacknowledged_by = [\"acknowledge\", \"spam\"]\n",
            presets::get("default").unwrap()
        );
        let counted = Story::new("default", at(2026, 3, 2, 9, 0), None)
            .with_policy(&text)
            .run(at(2026, 3, 2, 9, 5), Command::Spam {});
        assert_eq!(
            counted
                .clock("acknowledgement", at(2026, 3, 3, 0, 0))
                .status,
            ClockStatus::Met
        );
    }

    #[test]
    fn a_severity_that_returns_restarts_its_clock() {
        let high = Command::SetLevel {
            level: "high".into(),
        };
        let s = Story::new("truvera", at(2026, 3, 2, 9, 0), None)
            .run(at(2026, 3, 2, 10, 0), high.clone())
            .run(
                at(2026, 3, 3, 10, 0),
                Command::SetLevel {
                    level: "medium".into(),
                },
            )
            .run(at(2026, 3, 10, 10, 0), high);
        let c = s.clock("customer-notice", at(2026, 3, 11, 0, 0));
        assert_eq!(
            (c.status, c.started_at, c.due_at),
            (
                ClockStatus::Running,
                Some(at(2026, 3, 10, 10, 0)),
                Some(at(2026, 3, 13, 10, 0))
            ),
            "not born breached"
        );
        assert_eq!(c.earlier_runs.len(), 1);
        assert_eq!(c.earlier_runs[0].status, ClockStatus::Cancelled);
        assert_eq!(
            c.earlier_runs[0].cause.as_deref(),
            Some("the severity level changed to medium")
        );
        // A policy may keep the first start.
        let text = format!(
            "{}\n[clock_settings]\nrestart_when_condition_returns = false\n",
            presets::get("truvera").unwrap()
        );
        let first_only = s.with_policy(&text);
        let c = first_only.clock("customer-notice", at(2026, 3, 11, 0, 0));
        assert_eq!(c.started_at, Some(at(2026, 3, 2, 10, 0)));
    }

    #[test]
    fn a_default_severity_starts_severity_bound_clocks() {
        let text = format!(
            "{}\n[clock_settings]\ndefault_severity = \"high\"\n",
            presets::get("zeenea").unwrap()
        );
        let s = Story::new("zeenea", at(2026, 3, 2, 9, 0), None)
            .with_policy(&text)
            .run(at(2026, 3, 2, 10, 0), Command::StartTriage {})
            .run(
                at(2026, 3, 3, 10, 0),
                Command::RecordPatch {
                    available_at: at(2025, 12, 1, 0, 0),
                    source: "upstream 1.2.3".into(),
                    link: None,
                    reason: None,
                },
            );
        let c = s.clock("remediation-default", at(2026, 3, 4, 0, 0));
        assert_eq!(
            (c.status, c.started_at, c.due_at),
            (
                ClockStatus::Breached,
                Some(at(2025, 12, 1, 0, 0)),
                Some(at(2026, 3, 1, 0, 0))
            ),
            "3 months from a patch that predates the report"
        );
        let without = Story::new("zeenea", at(2026, 3, 2, 9, 0), None)
            .run(at(2026, 3, 2, 10, 0), Command::StartTriage {});
        assert_eq!(
            without
                .clock("remediation-default", at(2026, 3, 4, 0, 0))
                .status,
            ClockStatus::NotStarted
        );
    }

    #[test]
    fn coordinated_disclosure_acknowledges_and_tells_the_reporter_when_they_may_disclose() {
        // 001: "Acknowledge receipt … as quickly as possible" (held to 24
        // hours) and "acceptable … to disclose publicly after a period if
        // they … not received a response" (14 days), both shown to the reporter.
        let s = Story::new("coordinated-disclosure", at(2026, 3, 2, 9, 0), None);
        let ack = s.clock("acknowledgement", at(2026, 3, 2, 10, 0));
        let silence = s.clock("no-response", at(2026, 3, 2, 10, 0));
        assert_eq!(ack.due_at, Some(at(2026, 3, 3, 9, 0)));
        assert_eq!(silence.due_at, Some(at(2026, 3, 16, 9, 0)));
        assert!(ack.public && silence.public);
        let s = s.run(
            at(2026, 3, 4, 9, 0),
            Command::MessageReporter {
                text: "Received, thank you.".into(),
            },
        );
        assert_eq!(
            s.clock("acknowledgement", at(2026, 3, 20, 0, 0)).status,
            ClockStatus::MetLate
        );
        assert_eq!(
            s.clock("no-response", at(2026, 3, 20, 0, 0)).status,
            ClockStatus::Met
        );
    }

    // ---- The Cyber Resilience Act, Article 14: wall-clock hours from awareness.

    fn paris(y: i32, m: u32, d: u32, h: u32, min: u32) -> Instant {
        at_local(&Zone::named("Europe/Paris").unwrap(), y, m, d, h, min).unwrap()
    }

    fn exploited(aware_at: Option<Instant>) -> Command {
        Command::MarkExploited {
            source: crate::cra::ExploitationSource::ThreatIntelligence,
            evidence: "seen in the wild".into(),
            link: None,
            evidence_file: None,
            aware_at,
        }
    }

    /// A stage's pack drafted from the story's case, filled where the Act
    /// asks, and submitted at `at`.
    fn submit(s: Story, stage: crate::cra::CraStage, at: Instant) -> Story {
        let cra = s.policy.cra.clone().unwrap();
        let mut pack = crate::cra::CraPack::draft(stage, &s.case, &s.history, &cra);
        for field in pack.missing() {
            match field {
                "nature" => pack.nature = "remote code execution".into(),
                "vulnerability" => pack.vulnerability = "injection".into(),
                "corrective_measures_taken" => pack.corrective_measures_taken = "WAF rule".into(),
                "user_measures" => pack.user_measures = "upgrade".into(),
                "description" => pack.description = "d".into(),
                "severity" => pack.severity = Some(Severity::Critical),
                "impact" => pack.impact = "i".into(),
                "security_update" => pack.security_update = "2.4.1".into(),
                "root_cause" => pack.root_cause = "stolen key".into(),
                "suspected_malicious" => pack.suspected_malicious = Some(true),
                "notes" => pack.notes = "n".into(),
                other => panic!("unexpected missing field {other}"),
            }
        }
        s.run(
            at,
            Command::SubmitCraReport {
                stage,
                submitted_at: None,
                platform_reference: Some("SRP-1".into()),
                report: Some(pack),
            },
        )
    }

    #[test]
    fn cra_early_warning_is_24_hours_from_a_saturday_night_with_no_business_days() {
        let reported = paris(2026, 10, 14, 10, 0);
        let saturday = paris(2026, 10, 17, 23, 0);
        let s = Story::new("eu-cra", reported, None).run(saturday, exploited(None));
        let warning = s.clock("cra_early_warning", saturday);
        assert_eq!(warning.started_at, Some(saturday));
        assert_eq!(
            warning.due_at,
            Some(paris(2026, 10, 18, 23, 0)),
            "Sunday 23:00"
        );
        assert_eq!(
            warning.warn_at,
            Some(paris(2026, 10, 18, 11, 0)),
            "half way"
        );
        let notification = s.clock("cra_notification", saturday);
        assert_eq!(notification.due_at, Some(paris(2026, 10, 20, 23, 0)));
        // No corrective measure yet: the final report's clock has not started.
        assert_eq!(
            s.clock("cra_final_report", saturday).status,
            ClockStatus::NotStarted
        );
    }

    #[test]
    fn cra_early_warning_is_due_at_the_same_wall_clock_time_across_the_october_dst_change() {
        // Summer time ends on Sunday 25 October 2026 at 03:00 in Paris. By
        // default the Act's 24 and 72 hours are read on the local wall
        // clock: Saturday 23:00 gives Sunday 23:00 (25 elapsed hours).
        let saturday = paris(2026, 10, 24, 23, 0);
        let s =
            Story::new("eu-cra", paris(2026, 10, 20, 9, 0), None).run(saturday, exploited(None));
        let warning = s.clock("cra_early_warning", saturday);
        assert_eq!(
            warning.due_at,
            Some(paris(2026, 10, 25, 23, 0)),
            "Sunday 23:00"
        );
        assert_eq!(warning.due_at, Some(saturday + TimeDelta::hours(25)));
        assert_eq!(
            s.clock("cra_notification", saturday).due_at,
            Some(paris(2026, 10, 27, 23, 0)),
            "Tuesday 23:00"
        );
        // In March the night is an hour shorter, and the wall clock says so.
        let march = paris(2026, 3, 28, 23, 0);
        let s = Story::new("eu-cra", paris(2026, 3, 20, 9, 0), None).run(march, exploited(None));
        let warning = s.clock("cra_early_warning", march);
        assert_eq!(warning.due_at, Some(paris(2026, 3, 29, 23, 0)));
        assert_eq!(warning.due_at, Some(march + TimeDelta::hours(23)));
    }

    #[test]
    fn cra_hours_can_be_counted_as_elapsed_time() {
        // `hours = "elapsed"`: 24 elapsed hours after Saturday 23:00 CEST
        // end on Sunday at 22:00 CET, the night being an hour longer.
        let text = presets::get("eu-cra")
            .unwrap()
            .replace("hours = \"wall_clock\"", "hours = \"elapsed\"");
        assert!(text.contains("hours = \"elapsed\""));
        let saturday = paris(2026, 10, 24, 23, 0);
        let s = Story::new("eu-cra", paris(2026, 10, 20, 9, 0), None)
            .with_policy(&text)
            .run(saturday, exploited(None));
        let warning = s.clock("cra_early_warning", saturday);
        assert_eq!(warning.due_at, Some(saturday + TimeDelta::hours(24)));
        assert_eq!(warning.due_at, Some(paris(2026, 10, 25, 22, 0)));
        assert_eq!(
            s.clock("cra_notification", saturday).due_at,
            Some(paris(2026, 10, 27, 22, 0)),
            "72 elapsed hours"
        );
        // A team's own "without undue delay" in hours follows the same reading.
        let users = s.clock("cra_users_informed", saturday);
        assert_eq!(users.due_at, Some(paris(2026, 10, 27, 22, 0)));
        let s =
            Story::new("eu-cra", paris(2026, 10, 20, 9, 0), None).run(saturday, exploited(None));
        assert_eq!(
            s.clock("cra_users_informed", saturday).due_at,
            Some(paris(2026, 10, 27, 23, 0))
        );
    }

    #[test]
    fn cra_final_report_is_due_14_days_after_the_corrective_measure() {
        let day = |n: u32| paris(2026, 9, 1 + n, 10, 0);
        let s = Story::new("eu-cra", day(0), None)
            .run(day(0), exploited(None))
            .run(
                day(5),
                Command::RecordCorrectiveMeasure {
                    available_at: day(5),
                    description: "configuration change disabling the endpoint".into(),
                    link: None,
                },
            );
        let final_report = s.clock("cra_final_report", day(6));
        assert_eq!(final_report.started_at, Some(day(5)));
        assert_eq!(final_report.due_at, Some(day(19)));
        // Early warning in time, the notification 8 hours late, the final report in time.
        let s = submit(
            s,
            crate::cra::CraStage::EarlyWarning,
            day(0) + TimeDelta::hours(20),
        );
        let s = submit(
            s,
            crate::cra::CraStage::Notification,
            day(0) + TimeDelta::hours(80),
        );
        let s = submit(s, crate::cra::CraStage::FinalReport, day(18));
        let outcomes: Vec<_> = s
            .outcomes()
            .into_iter()
            .map(|(c, o, _)| (c, o))
            .filter(|(c, _)| c.starts_with("cra_") && c != "cra_users_informed")
            .collect();
        assert_eq!(
            outcomes,
            vec![
                ("cra_early_warning".to_owned(), ClockOutcome::Met),
                ("cra_notification".to_owned(), ClockOutcome::MetLate),
                ("cra_final_report".to_owned(), ClockOutcome::Met),
            ]
        );
        assert_eq!(
            s.clock("cra_notification", day(25)).overdue_seconds,
            Some(8 * 3600)
        );
    }

    #[test]
    fn a_patch_from_before_awareness_starts_the_final_report_at_awareness() {
        let s = Story::new("eu-cra", paris(2026, 9, 1, 10, 0), None)
            .run(paris(2026, 9, 2, 10, 0), Command::StartTriage {})
            .run(
                paris(2026, 9, 3, 10, 0),
                Command::RecordPatch {
                    available_at: paris(2026, 9, 3, 10, 0),
                    source: "our release 2.4.1".into(),
                    link: None,
                    reason: None,
                },
            )
            .run(paris(2026, 9, 10, 8, 0), exploited(None));
        let c = s.clock("cra_final_report", paris(2026, 9, 10, 9, 0));
        assert_eq!(c.started_at, Some(paris(2026, 9, 10, 8, 0)));
        assert_eq!(c.due_at, Some(paris(2026, 9, 24, 8, 0)));
    }

    #[test]
    fn an_incident_final_report_is_due_one_month_after_its_notification() {
        let aware = paris(2026, 1, 30, 9, 0);
        let s = Story::new("eu-cra", aware, None).run(
            aware,
            Command::DeclareIncident {
                description: "a signing key was stolen".into(),
                aware_at: None,
            },
        );
        assert_eq!(
            s.clock("cra_incident_final_report", aware).status,
            ClockStatus::NotStarted
        );
        assert_eq!(
            s.clock("cra_final_report", aware).status,
            ClockStatus::NotStarted
        );
        let s = submit(
            s,
            crate::cra::CraStage::EarlyWarning,
            paris(2026, 1, 30, 20, 0),
        );
        let s = submit(
            s,
            crate::cra::CraStage::Notification,
            paris(2026, 1, 31, 9, 0),
        );
        let c = s.clock("cra_incident_final_report", paris(2026, 2, 1, 0, 0));
        assert_eq!(c.started_at, Some(paris(2026, 1, 31, 9, 0)));
        // One month after 31 January is the last day of February.
        assert_eq!(c.due_at, Some(paris(2026, 2, 28, 9, 0)));
    }

    #[test]
    fn a_missed_stage_stays_breached_through_closing_and_reopening() {
        let aware = paris(2026, 3, 2, 9, 0);
        let s = Story::new("eu-cra", aware, None)
            .run(aware, Command::StartTriage {})
            .run(aware, exploited(None));
        assert_eq!(
            s.clock("cra_early_warning", paris(2026, 3, 3, 10, 0))
                .status,
            ClockStatus::Breached
        );
        let s = s
            .run(
                paris(2026, 3, 4, 9, 0),
                Command::OutOfScope {
                    reason: "r".into(),
                    rule: None,
                },
            )
            .run(paris(2026, 3, 5, 9, 0), Command::Reopen { reason: None });
        let ended: Vec<_> = s
            .outcomes()
            .into_iter()
            .filter(|(c, _, _)| c == "cra_early_warning")
            .collect();
        assert_eq!(ended.len(), 1, "{ended:?}");
        assert_eq!(ended[0].1, ClockOutcome::Breached);
        let later = s.clock("cra_early_warning", paris(2026, 4, 1, 0, 0));
        assert_eq!(later.status, ClockStatus::Breached);
    }

    #[test]
    fn a_rejected_claim_cancels_the_clocks_before_their_deadline() {
        let t = paris(2026, 3, 2, 9, 0);
        let s = Story::new("eu-cra", t, None).run(t, exploited(None)).run(
            t + TimeDelta::hours(3),
            Command::RejectExploitation {
                reason: "the exploit targets another product".into(),
            },
        );
        let outcomes = s.outcomes();
        let early = outcomes
            .iter()
            .find(|(c, _, _)| c == "cra_early_warning")
            .unwrap();
        assert_eq!(early.1, ClockOutcome::Cancelled);
        assert_eq!(early.2.as_deref(), Some("active exploitation was rejected"));
    }

    #[test]
    fn awareness_defaults_to_the_first_claim_and_a_correction_moves_the_clocks() {
        let claimed = paris(2026, 5, 4, 8, 0);
        let s = Story::new("eu-cra", paris(2026, 5, 1, 8, 0), None)
            .run(
                claimed,
                Command::ClaimExploited {
                    evidence: "we see it used against our servers".into(),
                },
            )
            .run(paris(2026, 5, 4, 15, 0), exploited(None));
        assert_eq!(s.case.cra.as_ref().unwrap().aware_at, Some(claimed));
        assert_eq!(
            s.clock("cra_early_warning", claimed).due_at,
            Some(paris(2026, 5, 5, 8, 0))
        );
        let s = s.run(
            paris(2026, 5, 4, 16, 0),
            Command::CorrectAwareness {
                aware_at: paris(2026, 5, 4, 6, 0),
                reason: "the first alert came from our monitoring at 06:00".into(),
            },
        );
        assert_eq!(
            s.clock("cra_early_warning", claimed).due_at,
            Some(paris(2026, 5, 5, 6, 0))
        );
        // Informing users stops on the customer notice.
        let s = s.run(
            paris(2026, 5, 5, 9, 0),
            Command::RecordCustomerNotice { note: None },
        );
        assert_eq!(
            s.clock("cra_users_informed", paris(2026, 5, 6, 0, 0))
                .status,
            ClockStatus::Met
        );
    }

    #[test]
    fn a_submission_needs_the_fields_the_act_names() {
        let t = paris(2026, 3, 2, 9, 0);
        let s = Story::new("eu-cra", t, None).run(t, exploited(None));
        let cra = s.policy.cra.clone().unwrap();
        let pack = crate::cra::CraPack::draft(
            crate::cra::CraStage::Notification,
            &s.case,
            &s.history,
            &cra,
        );
        let err = decide(
            &s.case,
            &Command::SubmitCraReport {
                stage: crate::cra::CraStage::Notification,
                submitted_at: None,
                platform_reference: None,
                report: Some(pack),
            },
            t,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("report.corrective_measures_taken: "),
            "{err}"
        );
        // The evidence file must be one of the case's.
        let err = decide(
            &Story::new("eu-cra", t, None).case,
            &Command::MarkExploited {
                source: crate::cra::ExploitationSource::OwnTelemetry,
                evidence: "honeypot".into(),
                link: None,
                evidence_file: Some("0123abcd".into()),
                aware_at: None,
            },
            t,
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("evidence_file: "), "{err}");
    }
}
