//! What a reporter holding their private token may reach.

use axum::response::Response;

use crate::auth::ReporterAccess;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::upload;

/// The one answer for a file that is not there or not the caller's to see.
pub(crate) fn no_such_attachment() -> ApiError {
    ApiError::not_found("no such attachment on this case")
}

/// The download of a file the reporter may see, for the API and the portal.
pub async fn shared_download(
    state: &AppState,
    access: ReporterAccess,
    id: &str,
) -> ApiResult<Response> {
    let (attachment, content) = state
        .store
        .attachment(access.reference, id)
        .await?
        .filter(|(a, _)| a.shared_with_reporter)
        .ok_or_else(no_such_attachment)?;
    Ok(upload::download(&attachment, content))
}
