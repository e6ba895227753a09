//! The published policy documents and the policies' metrics.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use embargo_core::auth::Role;
use embargo_core::clock::{self, ClockStatus};
use embargo_core::policy::Policy;
use embargo_store::CaseFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiQuery;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyList {
    pub policies: Vec<Policy>,
}

/// The installation's policies, as validated.
#[utoipa::path(get, path = "/api/v1/policies", tag = "policy",
    responses((status = 200, body = PolicyList), (status = 401, body = ErrorBody)))]
pub async fn list_policies(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<PolicyList>> {
    caller.require(Role::Viewer)?;
    Ok(Json(PolicyList {
        policies: state.settings.policies.all().to_vec(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MetricsQuery {
    /// Only clocks started at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Only clocks started before this instant.
    pub to: Option<DateTime<Utc>>,
}

/// How one clock did in one month (by the month it started, UTC).
#[derive(Debug, Serialize, ToSchema)]
pub struct ClockMetric {
    pub policy: String,
    pub clock: String,
    pub name: String,
    /// `YYYY-MM`.
    pub period: String,
    /// Runs started (a clock whose condition returned runs again).
    pub started: u32,
    /// Stopped on time.
    pub met: u32,
    /// Stopped, but after the deadline.
    pub met_late: u32,
    /// Past the deadline and never stopped: still open, or ended by the
    /// case closing after it. Closing a case never removes a breach.
    pub breached: u32,
    /// Still running (or paused) and not yet late.
    pub open: u32,
    /// Ended before their deadline without having to be kept (the case
    /// closed as spam, the severity lowered); not counted in `met_share`.
    pub cancelled: u32,
    /// Met on time, of those that finished or are late (absent when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub met_share: Option<f64>,
    /// Time taken by the clocks that stopped, in the clock's measure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub median_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p90_seconds: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClockMetrics {
    pub clocks: Vec<ClockMetric>,
}

/// One clock's runs in one month, as counted.
#[derive(Debug, Default)]
struct Bucket {
    name: String,
    /// Time taken by the runs that stopped, in the clock's measure.
    taken: Vec<i64>,
    met: u32,
    met_late: u32,
    breached: u32,
    open: u32,
    cancelled: u32,
}

/// The time a stopped run took in its clock's own measure (business time
/// for business clocks): the latest run's counted time when it is that
/// run, else the wall time between start and stop.
fn report_taken(report: &clock::ClockReport, run: &clock::ClockRun) -> Option<i64> {
    if report.started_at == Some(run.started_at) {
        report.elapsed_seconds
    } else {
        run.stopped_at.map(|s| (s - run.started_at).num_seconds())
    }
}

/// Per clock and month: the share met on time, and the median and 90th
/// percentile of the time taken.
#[utoipa::path(get, path = "/api/v1/metrics/clocks", tag = "policy", params(MetricsQuery),
    responses((status = 200, body = ClockMetrics), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn clock_metrics(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<MetricsQuery>,
) -> ApiResult<Json<ClockMetrics>> {
    caller.require(Role::Viewer)?;
    let now = state.now();
    let mut buckets: BTreeMap<(String, String, String), Bucket> = BTreeMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = state
            .store
            .list_cases(&CaseFilter::default(), 200, cursor.as_deref())
            .await?;
        for case in &page.cases {
            let policy = state.settings.policies.for_product(&case.product);
            if policy.clocks.is_empty() {
                continue;
            }
            let history = state.store.history(case.reference).await?;
            for report in clock::evaluate(policy, case, &history, now) {
                for run in report.runs() {
                    let started = run.started_at;
                    if q.from.is_some_and(|f| started < f) || q.to.is_some_and(|t| started >= t) {
                        continue;
                    }
                    let key = (
                        policy.id.clone(),
                        report.id.clone(),
                        started.format("%Y-%m").to_string(),
                    );
                    let b = buckets.entry(key).or_insert_with(|| Bucket {
                        name: report.name.clone(),
                        ..Bucket::default()
                    });
                    let taken = report_taken(&report, &run);
                    match run.status {
                        ClockStatus::Met => {
                            b.met += 1;
                            b.taken.extend(taken);
                        }
                        ClockStatus::MetLate => {
                            b.met_late += 1;
                            b.taken.extend(taken);
                        }
                        ClockStatus::Breached => b.breached += 1,
                        ClockStatus::Running | ClockStatus::Warning | ClockStatus::Paused => {
                            b.open += 1;
                        }
                        ClockStatus::Cancelled => b.cancelled += 1,
                        ClockStatus::NotStarted => {}
                    }
                }
            }
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let clocks = buckets
        .into_iter()
        .map(|((policy, clock, period), mut b)| {
            b.taken.sort_unstable();
            let pct = |p: f64| -> Option<i64> {
                if b.taken.is_empty() {
                    return None;
                }
                // Nearest rank.
                let rank = ((p * b.taken.len() as f64).ceil() as usize).clamp(1, b.taken.len());
                b.taken.get(rank - 1).copied()
            };
            let decided = b.met + b.met_late + b.breached;
            ClockMetric {
                policy,
                clock,
                period,
                started: b.met + b.met_late + b.breached + b.open + b.cancelled,
                met: b.met,
                met_late: b.met_late,
                breached: b.breached,
                open: b.open,
                cancelled: b.cancelled,
                met_share: (decided > 0).then(|| f64::from(b.met) / f64::from(decided)),
                median_seconds: pct(0.5),
                p90_seconds: pct(0.9),
                name: b.name,
            }
        })
        .collect();
    Ok(Json(ClockMetrics { clocks }))
}
