//! API tokens: created by their owner, shown once, stored hashed, revocable.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use embargo_core::auth::{ApiToken, Role};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// What the token is for, such as "CI pipeline".
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    /// The token itself. Shown this once; store it now.
    pub token: String,
    #[serde(flatten)]
    pub record: ApiToken,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    pub tokens: Vec<ApiToken>,
}

/// Your API tokens (an admin sees everyone's).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens",
    responses((status = 200, body = TokenList), (status = 401, body = ErrorBody)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<TokenList>> {
    let whose = (caller.user.role < Role::Admin).then_some(caller.user.id);
    Ok(Json(TokenList {
        tokens: state.store.list_api_tokens(whose).await?,
    }))
}

/// Create an API token for yourself, with your role.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = TokenRequest,
    responses((status = 201, body = CreatedToken), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<TokenRequest>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let (token, record) =
        crate::app::accounts::create_token(&state.store, &caller.user, &req.name, state.now())
            .await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { token, record })))
}

/// Revoke a token: your own, or anyone's as an admin.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens",
    params(("id" = i64, Path, description = "The token's id")),
    responses((status = 200, body = ApiToken), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ApiToken>> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::not_found(format!("no token `{id}`")))?;
    Ok(Json(
        crate::app::accounts::revoke_token(&state, &caller, id).await?,
    ))
}
