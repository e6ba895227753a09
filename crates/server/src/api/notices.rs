//! Customer notices: when a case's advisory covers releases that customers
//! run, each of those customers is told, once per advisory revision, in the
//! policy's language — with the "exceptional security delivery" wording when
//! they run the product themselves (policy 003). Sending them records on the
//! case that customers were notified, which stops the customer-notice clock
//! (policy 002's 72 hours for High).

use axum::Json;
use axum::extract::{Path, State};
use embargo_core::auth::Role;

use crate::api::cases::reference;
pub use crate::app::notices::{CustomerNoticeView, CustomerNotices};
use crate::app::notices::{impacted, send, view};
use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;

/// The customers the case's advisory concerns (nothing is sent).
#[utoipa::path(get, path = "/api/v1/cases/{reference}/customer-notices", tag = "portfolio",
    params(("reference" = String, Path, description = "The case reference")),
    responses((status = 200, body = CustomerNotices), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, description = "The case has no advisory yet", body = ErrorBody)))]
pub async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> ApiResult<Json<CustomerNotices>> {
    caller.require(Role::Viewer)?;
    let (_, advisory, list) = impacted(&state, reference(&raw)?).await?;
    Ok(Json(CustomerNotices {
        advisory: advisory.id,
        notices: list.iter().map(|i| view(i, false)).collect(),
    }))
}

/// Tell every impacted customer (once per advisory revision) and record it on the case.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/customer-notices", tag = "portfolio",
    params(("reference" = String, Path, description = "The case reference")),
    responses((status = 200, body = CustomerNotices), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, description = "The case has no advisory yet", body = ErrorBody)))]
pub async fn notify(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> ApiResult<Json<CustomerNotices>> {
    caller.require(Role::Responder)?;
    Ok(Json(send(&state, &caller, reference(&raw)?).await?))
}
