//! The CVSS calculator: a plain form (no JavaScript needed) for CVSS 3.1's
//! base metrics, or any 3.x or 4.0 vector pasted whole.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use embargo_core::cvss;
use minijinja::{Value, context};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::severity::{METRICS, assessment, vector_from_metrics};
use crate::state::AppState;

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

/// A CVSS calculator: a plain form (no JavaScript needed) for CVSS 3.1's
/// base metrics, or any 3.x or 4.0 vector pasted whole.
#[utoipa::path(get, path = "/cvss", tag = "severity", params(CalculatorQuery),
    responses((status = 200, description = "The calculator", body = String, content_type = "text/html"),
        (status = 422, description = "The calculator, saying why the vector is not valid", body = String, content_type = "text/html")))]
pub async fn calculator(
    State(state): State<AppState>,
    Query(q): Query<CalculatorQuery>,
) -> Response {
    let chosen = [&q.av, &q.ac, &q.pr, &q.ui, &q.s, &q.c, &q.i, &q.a].map(|c| c.as_deref());
    let from_metrics = vector_from_metrics(&chosen);
    let vector = q
        .vector
        .clone()
        .filter(|v| !v.trim().is_empty())
        .or(from_metrics);
    let mut status = StatusCode::OK;
    let (mut shown, mut error) = (None, None);
    if let Some(v) = &vector {
        match cvss::assess(v) {
            Ok(s) => shown = Some(assessment(state.settings.policies.primary(), s)),
            Err(e) => {
                status = StatusCode::UNPROCESSABLE_ENTITY;
                error = Some(e.to_string());
            }
        }
    }
    let metrics: Vec<Value> = METRICS
        .iter()
        .zip(chosen)
        .map(|((key, label, values), current)| {
            context! { key, label, values, current }
        })
        .collect();
    crate::templates::render(
        status,
        "calculator.html",
        context! {
            title => "CVSS calculator",
            assessment => shown,
            error,
            metrics,
            vector => q.vector.as_deref().unwrap_or_default(),
        },
    )
}
