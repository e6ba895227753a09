//! Advisories as the public sees them: only published ones.

use embargo_core::advisory;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The published advisory `id`, or a 404 that says so.
pub async fn published(state: &AppState, id: &str) -> ApiResult<advisory::Advisory> {
    state
        .store
        .published_advisory(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no published advisory `{id}`")))
}
