//! Vulnerability rules, portfolio metrics, and escalating findings to a case.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use embargo_core::auth::Role;
use embargo_core::portfolio::{PortfolioMetrics, Rule, metrics};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use crate::app::portfolio::Escalated;
use crate::app::portfolio::escalate_findings;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::state::AppState;

/// A rule as stored, and how many findings it changed when added.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleOutcome {
    pub rule: Rule,
    /// Findings changed by the rules just now.
    pub applied: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleList {
    pub rules: Vec<Rule>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleSwitch {
    pub disabled: bool,
}

/// Add a vulnerability rule; it applies at once to the findings it matches,
/// and to new findings at every match.
#[utoipa::path(post, path = "/api/v1/rules", tag = "portfolio", request_body = Rule,
    responses((status = 201, body = RuleOutcome), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 422, description = "A bad condition, action or window, named", body = ErrorBody)))]
pub async fn add_rule(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(rule): ApiJson<Rule>,
) -> ApiResult<(StatusCode, Json<RuleOutcome>)> {
    caller.require(Role::Admin)?;
    let (rule, applied) = crate::app::portfolio::add_rule(&state, &caller, &rule).await?;
    Ok((StatusCode::CREATED, Json(RuleOutcome { rule, applied })))
}

/// The vulnerability rules.
#[utoipa::path(get, path = "/api/v1/rules", tag = "portfolio",
    responses((status = 200, body = RuleList), (status = 401, body = ErrorBody)))]
pub async fn list_rules(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<RuleList>> {
    caller.require(Role::Viewer)?;
    Ok(Json(RuleList {
        rules: state.store.rules().await?,
    }))
}

/// Turn a rule off or on (what it changed stays changed).
#[utoipa::path(put, path = "/api/v1/rules/{id}", tag = "portfolio", request_body = RuleSwitch,
    params(("id" = i64, Path, description = "The rule's id")),
    responses((status = 200, body = Rule), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn switch_rule(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RuleSwitch>,
) -> ApiResult<Json<Rule>> {
    caller.require(Role::Admin)?;
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::not_found(format!("no rule `{id}`")))?;
    Ok(Json(
        crate::app::portfolio::switch_rule(&state, id, body.disabled).await?,
    ))
}

/// Open findings by severity, age, product and deadline, and deadline compliance.
#[utoipa::path(get, path = "/api/v1/portfolio/metrics", tag = "portfolio",
    responses((status = 200, body = PortfolioMetrics), (status = 401, body = ErrorBody)))]
pub async fn portfolio_metrics(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<PortfolioMetrics>> {
    caller.require(Role::Viewer)?;
    let now = state.now();
    Ok(Json(metrics(&state.findings(None, now).await?, now)))
}

/// The products lacking a recent scan their policy requires.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScanGaps {
    pub gaps: Vec<embargo_core::portfolio::ScanGap>,
}

/// Products whose policy (`[scanning]`) requires an SBOM upload or a SARIF
/// import within a number of days, and whose latest one is missing or
/// older; each is also a finding of the product's latest release.
#[utoipa::path(get, path = "/api/v1/portfolio/scans", tag = "portfolio",
    responses((status = 200, body = ScanGaps), (status = 401, body = ErrorBody)))]
pub async fn scan_gaps(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<ScanGaps>> {
    caller.require(Role::Viewer)?;
    let gaps =
        crate::app::portfolio::scan_gaps(&state.store, &state.settings.policies, state.now())
            .await?;
    Ok(Json(ScanGaps { gaps }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalateRequest {
    /// The findings to open the case for (1 to 100), of one product.
    pub findings: Vec<i64>,
    /// The case's title (by default the first finding's advisory and component).
    #[serde(default)]
    pub title: Option<String>,
}

/// Open a case for one or several findings of a product.
#[utoipa::path(post, path = "/api/v1/findings/escalate", tag = "portfolio", request_body = EscalateRequest,
    responses((status = 201, body = Escalated), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, description = "A finding already has a case", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn escalate(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<EscalateRequest>,
) -> ApiResult<(StatusCode, Json<Escalated>)> {
    caller.require(Role::Responder)?;
    let out = escalate_findings(&state, &caller, &body.findings, body.title).await?;
    Ok((StatusCode::CREATED, Json(out)))
}
