//! Advisories over the JSON API: the team drafts one per case and publishes
//! it by an explicit action. The published documents themselves (each
//! format, the feed, the CSAF provider) are served by `pages::documents`.

use axum::Json;
use axum::extract::{Path, State};
use embargo_core::auth::Role;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::api::cases::reference;
pub use crate::app::advisories::{
    AdvisoryView, AffectedInput, CreditInput, DraftRequest, RangeInput, ReferenceInput,
};
use crate::app::advisories::{save_draft_as, view};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    /// What changed, for the revision history (default: "Initial public release").
    #[serde(default)]
    pub summary: String,
    /// Credit the reporter, under the name they chose, if they consented.
    #[serde(default)]
    pub credit_reporter: bool,
}

/// Write or replace the case's advisory draft.
#[utoipa::path(put, path = "/api/v1/cases/{reference}/advisory", tag = "advisories",
    params(("reference" = String, Path, description = "The case reference")),
    request_body = DraftRequest,
    responses(
        (status = 200, body = AdvisoryView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn save_draft(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<DraftRequest>,
) -> ApiResult<Json<AdvisoryView>> {
    caller.require(Role::Responder)?;
    let r = reference(&raw)?;
    let saved = save_draft_as(&state, &caller, r, body).await?;
    Ok(Json(view(&state, &saved)))
}

/// The case's advisory (draft or published) with its CSAF preview.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/advisory", tag = "advisories",
    params(("reference" = String, Path, description = "The case reference")),
    responses(
        (status = 200, body = AdvisoryView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn get_draft(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> ApiResult<Json<AdvisoryView>> {
    caller.require(Role::Viewer)?;
    let r = reference(&raw)?;
    let a = state
        .store
        .advisory_draft(r)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("{r} has no advisory")))?;
    Ok(Json(view(&state, &a)))
}

/// Publish the case's advisory (or republish it with a new revision): only
/// once the case is fixed or the reporter's disclosure date has come.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/advisory/publish", tag = "advisories",
    params(("reference" = String, Path, description = "The case reference")),
    request_body = PublishRequest,
    responses(
        (status = 200, body = AdvisoryView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<PublishRequest>,
) -> ApiResult<Json<AdvisoryView>> {
    caller.require(Role::Responder)?;
    let r = reference(&raw)?;
    let a =
        crate::app::advisories::publish(&state, &caller, r, &body.summary, body.credit_reporter)
            .await?;
    Ok(Json(view(&state, &a)))
}
