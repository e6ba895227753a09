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
    pub started: u32,
    pub met: u32,
    pub breached: u32,
    /// Still running (or paused) and not yet late.
    pub open: u32,
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
    // (policy, clock, period) -> (name, taken durations, met, breached, open)
    type Bucket = (String, Vec<i64>, u32, u32, u32);
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
            for c in clock::evaluate(policy, case, &history, now) {
                let Some(started) = c.started_at else {
                    continue;
                };
                if q.from.is_some_and(|f| started < f) || q.to.is_some_and(|t| started >= t) {
                    continue;
                }
                let key = (
                    policy.id.clone(),
                    c.id.clone(),
                    started.format("%Y-%m").to_string(),
                );
                let b = buckets
                    .entry(key)
                    .or_insert_with(|| (c.name.clone(), Vec::new(), 0, 0, 0));
                match c.status {
                    ClockStatus::Met => {
                        b.2 += 1;
                        b.1.extend(c.elapsed_seconds);
                    }
                    ClockStatus::Breached => {
                        b.3 += 1;
                        if c.stopped_at.is_some() {
                            b.1.extend(c.elapsed_seconds);
                        }
                    }
                    ClockStatus::Running | ClockStatus::Warning | ClockStatus::Paused => b.4 += 1,
                    ClockStatus::NotStarted | ClockStatus::Cancelled => {}
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
        .map(
            |((policy, clock, period), (name, mut taken, met, breached, open))| {
                taken.sort_unstable();
                let pct = |p: f64| -> Option<i64> {
                    if taken.is_empty() {
                        return None;
                    }
                    // Nearest rank.
                    let rank = ((p * taken.len() as f64).ceil() as usize).clamp(1, taken.len());
                    taken.get(rank - 1).copied()
                };
                let decided = met + breached;
                ClockMetric {
                    policy,
                    clock,
                    name,
                    period,
                    started: met + breached + open,
                    met,
                    breached,
                    open,
                    met_share: (decided > 0).then(|| f64::from(met) / f64::from(decided)),
                    median_seconds: pct(0.5),
                    p90_seconds: pct(0.9),
                }
            },
        )
        .collect();
    Ok(Json(ClockMetrics { clocks }))
}
