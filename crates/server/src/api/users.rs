//! Team members (admins only).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use embargo_core::auth::{self, Role, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    pub role: Role,
    /// At least 12 characters. Omit it to have one generated and returned once.
    pub password: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUser {
    pub user: User,
    /// The generated password, when none was given. Shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    pub users: Vec<User>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    /// Disable (true) or re-enable (false). Disabling ends the user's sessions.
    pub disabled: bool,
}

/// All team members.
#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    responses((status = 200, body = UserList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<UserList>> {
    caller.require(Role::Admin)?;
    Ok(Json(UserList {
        users: state.store.list_users().await?,
    }))
}

/// Add a team member.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUser,
    responses(
        (status = 201, body = CreatedUser),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 409, description = "The username is taken", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<NewUser>,
) -> ApiResult<(StatusCode, Json<CreatedUser>)> {
    caller.require(Role::Admin)?;
    auth::validate_username(&req.username)?;
    let (password, generated) = match req.password {
        Some(p) => {
            auth::validate_password(&p)?;
            (p, None)
        }
        None => {
            let p = auth::generate_password();
            (p.clone(), Some(p))
        }
    };
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|e| ApiError::internal("hashing task failed", &e))??;
    let user = state
        .store
        .add_user(&req.username, req.role, &hash, state.now())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedUser {
            user,
            password: generated,
        }),
    ))
}

/// Disable or re-enable a team member.
#[utoipa::path(patch, path = "/api/v1/users/{username}", tag = "users",
    params(("username" = String, Path, description = "The username")),
    request_body = UserUpdate,
    responses(
        (status = 200, body = User),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "An admin cannot disable themselves", body = ErrorBody),
    ))]
pub async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
    ApiJson(req): ApiJson<UserUpdate>,
) -> ApiResult<Json<User>> {
    caller.require(Role::Admin)?;
    if req.disabled && username == caller.user.username {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "you cannot disable your own account",
        ));
    }
    Ok(Json(
        state
            .store
            .set_user_disabled(&username, req.disabled)
            .await?,
    ))
}
