//! Severity: CVSS 3.x and 4.0 vectors scored and mapped to the policy's own
//! levels, a case's severity set from a vector, the CWE table, and a plain
//! calculator page that works without JavaScript.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use embargo_core::advisory::cwe;
use embargo_core::auth::Role;
use embargo_core::cvss::{self, CvssScore};
use embargo_core::policy::Policy;
use embargo_core::publish::escape_html;
use embargo_core::{Command, Severity};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::cases::{CommandOutcome, reference, run};
use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// A scored vector and the policy level it falls in.
#[derive(Debug, Serialize, ToSchema)]
pub struct Assessment {
    /// `3.0`, `3.1` or `4.0`.
    pub version: String,
    pub vector: String,
    pub score: f64,
    pub severity: Severity,
    /// The policy's own level covering this severity (its id and name), if it names one.
    pub policy_level: Option<PolicyLevel>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyLevel {
    pub id: String,
    pub name: String,
}

fn assessment(policy: &Policy, s: CvssScore) -> Assessment {
    let policy_level = policy
        .severity
        .iter()
        .find(|l| l.covers.contains(&s.severity))
        .map(|l| PolicyLevel {
            id: l.id.clone(),
            name: l.name.clone(),
        });
    Assessment {
        version: s.version.to_owned(),
        vector: s.vector,
        score: s.score,
        severity: s.severity,
        policy_level,
    }
}

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

/// The calculator's inputs: a whole vector, or CVSS 3.1's base metrics one by one.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CalculatorQuery {
    pub vector: Option<String>,
    #[serde(rename = "AV")]
    pub av: Option<String>,
    #[serde(rename = "AC")]
    pub ac: Option<String>,
    #[serde(rename = "PR")]
    pub pr: Option<String>,
    #[serde(rename = "UI")]
    pub ui: Option<String>,
    #[serde(rename = "S")]
    pub s: Option<String>,
    #[serde(rename = "C")]
    pub c: Option<String>,
    #[serde(rename = "I")]
    pub i: Option<String>,
    #[serde(rename = "A")]
    pub a: Option<String>,
}

/// A metric of the form: its key, its label, and its (value, label) choices.
pub(crate) type Metric = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// CVSS 3.1 base metrics.
pub(crate) const METRICS: [Metric; 8] = [
    (
        "AV",
        "Attack vector",
        &[
            ("N", "Network"),
            ("A", "Adjacent"),
            ("L", "Local"),
            ("P", "Physical"),
        ],
    ),
    ("AC", "Attack complexity", &[("L", "Low"), ("H", "High")]),
    (
        "PR",
        "Privileges required",
        &[("N", "None"), ("L", "Low"), ("H", "High")],
    ),
    (
        "UI",
        "User interaction",
        &[("N", "None"), ("R", "Required")],
    ),
    ("S", "Scope", &[("U", "Unchanged"), ("C", "Changed")]),
    (
        "C",
        "Confidentiality",
        &[("H", "High"), ("L", "Low"), ("N", "None")],
    ),
    (
        "I",
        "Integrity",
        &[("H", "High"), ("L", "Low"), ("N", "None")],
    ),
    (
        "A",
        "Availability",
        &[("H", "High"), ("L", "Low"), ("N", "None")],
    ),
];

/// A CVSS calculator: a plain form (no JavaScript needed) for CVSS 3.1's
/// base metrics, or any 3.x or 4.0 vector pasted whole.
#[utoipa::path(get, path = "/cvss", tag = "severity", params(CalculatorQuery),
    responses((status = 200, description = "The calculator", body = String, content_type = "text/html"),
        (status = 422, description = "The calculator, saying why the vector is not valid", body = String, content_type = "text/html")))]
pub async fn calculator(
    State(state): State<AppState>,
    Query(q): Query<CalculatorQuery>,
) -> Response {
    let chosen = [&q.av, &q.ac, &q.pr, &q.ui, &q.s, &q.c, &q.i, &q.a];
    let from_metrics = chosen.iter().all(|c| c.is_some()).then(|| {
        let parts: Vec<String> = METRICS
            .iter()
            .zip(chosen)
            .map(|((key, _, _), v)| format!("{key}:{}", v.as_deref().unwrap_or_default()))
            .collect();
        format!("CVSS:3.1/{}", parts.join("/"))
    });
    let vector = q
        .vector
        .clone()
        .filter(|v| !v.trim().is_empty())
        .or(from_metrics);
    let mut body = String::from("<h1>CVSS calculator</h1>\n");
    let mut status = StatusCode::OK;
    if let Some(v) = &vector {
        match cvss::assess(v) {
            Ok(s) => {
                let a = assessment(state.settings.policies.primary(), s);
                let level = a
                    .policy_level
                    .as_ref()
                    .map(|l| {
                        format!(
                            " — the policy calls this <strong>{}</strong>",
                            escape_html(&l.name)
                        )
                    })
                    .unwrap_or_default();
                body.push_str(&format!(
                    "<p role=\"status\">CVSS {} score <strong>{}</strong>, {}{level}.<br><code>{}</code></p>\n",
                    a.version,
                    a.score,
                    a.severity.as_str(),
                    escape_html(&a.vector)
                ));
            }
            Err(e) => {
                status = StatusCode::UNPROCESSABLE_ENTITY;
                body.push_str(&format!(
                    "<p role=\"alert\">{}</p>\n",
                    escape_html(&e.to_string())
                ));
            }
        }
    }
    body.push_str("<form method=\"get\" action=\"/cvss\">\n<fieldset><legend>CVSS 3.1 base metrics</legend>\n");
    for ((key, label, values), current) in METRICS.iter().zip(chosen) {
        body.push_str(&format!(
            "<label for=\"m-{key}\">{label}</label>\n<select id=\"m-{key}\" name=\"{key}\">\n"
        ));
        for (value, name) in *values {
            let selected = if current.as_deref() == Some(*value) {
                " selected"
            } else {
                ""
            };
            body.push_str(&format!(
                "<option value=\"{value}\"{selected}>{name}</option>\n"
            ));
        }
        body.push_str("</select>\n");
    }
    body.push_str("</fieldset>\n<button type=\"submit\">Score</button>\n</form>\n");
    body.push_str(&format!(
        "<form method=\"get\" action=\"/cvss\">\n<label for=\"vector\">Or a whole vector (CVSS 3.x or 4.0)</label>\n\
         <input id=\"vector\" name=\"vector\" size=\"80\" maxlength=\"512\" value=\"{}\">\n<button type=\"submit\">Score</button>\n</form>\n",
        escape_html(q.vector.as_deref().unwrap_or_default())
    ));
    crate::pages::html(
        status,
        crate::pages::page("CVSS calculator", "en", &body),
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_fall_in_the_policys_own_levels() {
        let (_, text) = embargo_core::policy::presets::ALL
            .iter()
            .find(|(name, _)| *name == "truvera")
            .expect("the truvera preset (policy 002)");
        let policy = Policy::parse(text).expect("the preset parses");
        let critical = cvss::assess("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").expect("valid");
        let level = assessment(&policy, critical).policy_level.expect("a level");
        assert_eq!((level.id.as_str(), level.name.as_str()), ("high", "High"));
        let low = cvss::assess("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N").expect("valid");
        assert_eq!(
            assessment(&policy, low).policy_level.expect("a level").name,
            "Low"
        );
    }
}
