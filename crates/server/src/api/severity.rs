//! Severity: CVSS 3.x and 4.0 vectors scored and mapped to the policy's own
//! levels, a case's severity set from a vector, the CWE table, and a plain
//! calculator page that works without JavaScript.

use axum::Json;
use axum::extract::{Path, State};
use embargo_core::Command;
use embargo_core::advisory::cwe;
use embargo_core::auth::Role;
use embargo_core::cvss::{self};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::cases::{CommandOutcome, reference, run};
use crate::app::severity::assessment;
pub use crate::app::severity::{Assessment, PolicyLevel};
use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VectorQuery {
    /// A CVSS 3.x or 4.0 vector.
    pub vector: String,
}

/// Score a CVSS vector and name the primary policy's level for it.
#[utoipa::path(get, path = "/api/v1/cvss", tag = "severity", params(VectorQuery),
    responses((status = 200, body = Assessment), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn score(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<VectorQuery>,
) -> ApiResult<Json<Assessment>> {
    caller.require(Role::Viewer)?;
    let s = cvss::assess(&q.vector)?;
    Ok(Json(assessment(state.settings.policies.primary(), s)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VectorRequest {
    pub vector: String,
}

/// The case's severity from a vector, with the assessment.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseAssessment {
    pub assessment: Assessment,
    #[serde(flatten)]
    pub outcome: CommandOutcome,
}

/// Set a case's severity from a CVSS vector (its qualitative rating).
#[utoipa::path(post, path = "/api/v1/cases/{reference}/cvss", tag = "severity",
    params(("reference" = String, Path, description = "The case reference")),
    request_body = VectorRequest,
    responses(
        (status = 200, body = CaseAssessment),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn set_from_vector(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<VectorRequest>,
) -> ApiResult<Json<CaseAssessment>> {
    caller.require(Role::Responder)?;
    reference(&raw)?;
    let s = cvss::assess(&body.vector)?;
    let severity = s.severity;
    let Json(outcome) = run(&state, &caller, &raw, &Command::SetSeverity { severity }).await?;
    let policy = state
        .settings
        .policies
        .for_product(&outcome.case.case.product);
    Ok(Json(CaseAssessment {
        assessment: assessment(policy, s),
        outcome,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Weakness {
    /// `CWE-79`.
    pub id: String,
    pub name: String,
}

/// The weaknesses embargo names (CWE Top 25 and the policies' categories).
#[utoipa::path(get, path = "/api/v1/cwe", tag = "severity",
    responses((status = 200, body = [Weakness]), (status = 401, body = ErrorBody)))]
pub async fn weaknesses(caller: Caller) -> ApiResult<Json<Vec<Weakness>>> {
    caller.require(Role::Viewer)?;
    Ok(Json(
        cwe::TABLE
            .iter()
            .map(|(n, name)| Weakness {
                id: format!("CWE-{n}"),
                name: (*name).to_owned(),
            })
            .collect(),
    ))
}
