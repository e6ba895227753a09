//! Files on a case: the team attaches and downloads them; a reporter adds
//! to and downloads from their own case's shared files only.
//!
//! Uploads are the raw request body with the name in `?filename=`, so tools
//! need no multipart encoder (`curl --data-binary @poc.py`). Downloads are
//! always `application/octet-stream` attachments under a sandboxing CSP.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use embargo_core::attachment::Attachment;
use embargo_core::auth::Role;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::api::cases::reference;
use crate::app::reporter::{no_such_attachment, shared_download};
use crate::auth::Caller;
use crate::auth::ReporterAccess;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiQuery;
use crate::state::AppState;
use crate::upload;

#[derive(Debug, Deserialize, IntoParams, ToSchema)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FileName {
    /// The file's name (paths and unsafe characters are dropped).
    pub filename: String,
}

fn added(attachments: Vec<Attachment>) -> ApiResult<(StatusCode, Json<Attachment>)> {
    attachments
        .into_iter()
        .next()
        .map(|a| (StatusCode::CREATED, Json(a)))
        .ok_or_else(|| ApiError::internal("attachment", &"no attachment event"))
}

fn attachments_of(events: Vec<embargo_core::Event>) -> Vec<Attachment> {
    events
        .into_iter()
        .filter_map(|e| match e.kind {
            embargo_core::EventKind::AttachmentAdded { attachment } => Some(attachment),
            _ => None,
        })
        .collect()
}

/// Attach a file to a case (team only; the reporter does not see it).
#[utoipa::path(post, path = "/api/v1/cases/{reference}/attachments", tag = "cases",
    params(("reference" = String, Path, description = "The case reference"), FileName),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = Attachment), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, description = "Larger than the attachment limit", body = ErrorBody)))]
pub async fn attach(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    ApiQuery(name): ApiQuery<FileName>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<Attachment>)> {
    caller.require(Role::Responder)?;
    let r = reference(&raw)?;
    let limits = state.settings.attachments;
    let file = upload::read_file(&headers, body, &name.filename, limits).await?;
    let files = upload::describe(vec![file], false, limits)?;
    let (_, events) = crate::app::cases::attach(&state, &caller.actor(), r, files).await?;
    added(attachments_of(events))
}

/// Download a case's attachment.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/attachments/{id}", tag = "cases",
    params(("reference" = String, Path, description = "The case reference"), ("id" = String, Path, description = "The attachment id")),
    responses((status = 200, description = "The file", body = Vec<u8>, content_type = "application/octet-stream"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn case_attachment(
    State(state): State<AppState>,
    caller: Caller,
    Path((raw, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    caller.require(Role::Viewer)?;
    let r = reference(&raw)?;
    let (attachment, content) = state
        .store
        .attachment(r, &id)
        .await?
        .ok_or_else(no_such_attachment)?;
    Ok(upload::download(&attachment, content))
}

/// Add a file to your report (for example a proof of concept).
#[utoipa::path(post, path = "/api/v1/reporter/attachments", tag = "reporter", security(("reporter" = [])),
    params(FileName),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = Attachment), (status = 401, body = ErrorBody),
        (status = 413, description = "Larger than the attachment limit", body = ErrorBody)))]
pub async fn reporter_attach(
    State(state): State<AppState>,
    access: ReporterAccess,
    ApiQuery(name): ApiQuery<FileName>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<Attachment>)> {
    let limits = state.settings.attachments;
    let file = upload::read_file(&headers, body, &name.filename, limits).await?;
    let files = upload::describe(vec![file], true, limits)?;
    let (_, events) =
        crate::app::reporter::message(&state, access.reference, "", files, None).await?;
    added(attachments_of(events))
}

/// Download one of your report's files.
#[utoipa::path(get, path = "/api/v1/reporter/attachments/{id}", tag = "reporter", security(("reporter" = [])),
    params(("id" = String, Path, description = "The attachment id")),
    responses((status = 200, description = "The file", body = Vec<u8>, content_type = "application/octet-stream"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reporter_attachment(
    State(state): State<AppState>,
    access: ReporterAccess,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    shared_download(&state, access, &id).await
}
