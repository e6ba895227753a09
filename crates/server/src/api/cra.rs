//! The Cyber Resilience Act's report packs (Article 14), read as JSON or
//! Markdown; they are edited and submitted through the case's transitions
//! (`save_cra_report`, `submit_cra_report`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use embargo_core::auth::Role;
use embargo_core::cra::{CraStage, PACK_JSON_SCHEMA};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::app::cases::reference;
pub use crate::app::cra::{PackView, Submitted};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

/// A stage of `reference`'s notification under the Cyber Resilience Act:
/// the pack (as sent, as last saved, or drafted from the case), what it
/// still lacks, and the stage's clock. (Its Markdown and printable page are
/// the desk's: `/desk/cases/{reference}/cra/{stage}`.)
#[utoipa::path(get, path = "/api/v1/cases/{reference}/cra/{stage}", tag = "cra",
    params(("reference" = String, Path, description = "The case reference"),
           ("stage" = String, Path, description = "early_warning, notification, intermediate or final_report")),
    responses((status = 200, body = PackView),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn get_pack(
    State(state): State<AppState>,
    caller: Caller,
    Path((raw, stage)): Path<(String, String)>,
) -> ApiResult<axum::Json<PackView>> {
    caller.require(Role::Viewer)?;
    let stage: CraStage = stage.parse().map_err(ApiError::not_found)?;
    let r = reference(&raw)?;
    let case = state.store.case(r).await?;
    let history = state.store.history(r).await?;
    Ok(axum::Json(crate::app::cra::pack_view(
        &state,
        &case,
        &history,
        stage,
        state.now(),
    )?))
}

/// The JSON schema of a CRA report pack (`embargo-cra-report/1`).
#[utoipa::path(get, path = "/api/v1/schemas/cra-report.json", tag = "cra",
    responses((status = 200, description = "JSON Schema (draft 2020-12)")))]
pub async fn pack_schema() -> Response {
    (
        [(header::CONTENT_TYPE, "application/schema+json")],
        PACK_JSON_SCHEMA,
    )
        .into_response()
}

/// The case's evidence bundle: its events with their chain hashes, each
/// stage as sent, the advisory's documents and the evidence files, signed
/// with the organization's OpenPGP key (`embargo cra verify` checks it).
#[utoipa::path(get, path = "/api/v1/cases/{reference}/cra/bundle.zip", tag = "cra",
    params(("reference" = String, Path, description = "The case reference")),
    responses((status = 200, description = "The bundle (zip)", content_type = "application/zip"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn bundle(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> ApiResult<Response> {
    caller.require(Role::Responder)?;
    let r = reference(&raw)?;
    let bytes = crate::app::evidence::export(&state, r).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{r}-evidence.zip\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// A severe incident having an impact on a product's security, as the team
/// declares it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIncident {
    pub title: String,
    pub product: String,
    /// What happened, as far as it is known.
    pub description: String,
    /// When the team became aware (RFC 3339; default: now).
    #[serde(default)]
    pub aware_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Open a case for a severe incident (Cyber Resilience Act, Article 14(3)):
/// not tied to a report; its early warning, notification and final report
/// clocks run from the instant of awareness.
#[utoipa::path(post, path = "/api/v1/incidents", tag = "cra", request_body = NewIncident,
    responses((status = 201, body = crate::api::cases::CaseView),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn open_incident(
    State(state): State<AppState>,
    caller: Caller,
    crate::extract::ApiJson(body): crate::extract::ApiJson<NewIncident>,
) -> ApiResult<(StatusCode, axum::Json<crate::api::cases::CaseView>)> {
    caller.require(Role::Responder)?;
    let request = embargo_core::NewCase {
        title: body.title,
        product: body.product,
        reporter: embargo_core::Reporter::default(),
        report: embargo_core::ReportContent {
            summary: "A severe incident having an impact on the product's security".into(),
            description: body.description,
            ..embargo_core::ReportContent::default()
        },
        reporter_deadline: None,
        exploited_evidence: None,
    };
    let case = state
        .recording()
        .open_incident(
            &state.store,
            request,
            body.aware_at,
            &caller.actor(),
            state.now(),
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(case.into())))
}
