//! Team members (admins only).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use embargo_core::auth::{Role, User};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
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
    #[serde(default)]
    pub disabled: Option<bool>,
    /// Another role (refused when it would leave no enabled admin).
    #[serde(default)]
    pub role: Option<Role>,
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
    let (user, generated) = crate::app::accounts::add_member(
        &state.store,
        &req.username,
        req.role,
        req.password,
        state.now(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedUser {
            user,
            password: generated,
        }),
    ))
}

/// Disable or re-enable a team member, or give them another role.
#[utoipa::path(patch, path = "/api/v1/users/{username}", tag = "users",
    params(("username" = String, Path, description = "The username")),
    request_body = UserUpdate,
    responses(
        (status = 200, body = User),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "An admin cannot disable themselves; no change may leave no admin", body = ErrorBody),
        (status = 422, description = "Neither `disabled` nor `role` given", body = ErrorBody),
    ))]
pub async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
    ApiJson(req): ApiJson<UserUpdate>,
) -> ApiResult<Json<User>> {
    caller.require(Role::Admin)?;
    if req.disabled.is_none() && req.role.is_none() {
        return Err(crate::error::ApiError::invalid(
            "disabled",
            "send `disabled`, `role`, or both",
        ));
    }
    let mut user = state.store.user(&username).await?;
    if let Some(role) = req.role {
        user = state.store.set_user_role(&username, role).await?;
    }
    if let Some(disabled) = req.disabled {
        user =
            crate::app::accounts::set_member_disabled(&state, &caller, &username, disabled).await?;
    }
    Ok(Json(user))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordReset {
    pub user: String,
    /// The new generated password. Shown this once; hand it over privately.
    pub password: String,
}

/// Give a member a new generated password; every session of theirs ends.
#[utoipa::path(post, path = "/api/v1/users/{username}/password", tag = "users",
    params(("username" = String, Path, description = "The username")),
    responses(
        (status = 200, body = PasswordReset),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Your own password is changed with the current one", body = ErrorBody),
    ))]
pub async fn reset_password(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
) -> ApiResult<Json<PasswordReset>> {
    caller.require(Role::Admin)?;
    let password = crate::app::accounts::reset_member_password(&state, &caller, &username).await?;
    Ok(Json(PasswordReset {
        user: username,
        password,
    }))
}

/// Remove a member's second factor (a lost phone); their sessions end and
/// they set one up again after signing in.
#[utoipa::path(delete, path = "/api/v1/users/{username}/totp", tag = "users",
    params(("username" = String, Path, description = "The username")),
    responses(
        (status = 200, body = User),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn reset_second_factor(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
) -> ApiResult<Json<User>> {
    caller.require(Role::Admin)?;
    Ok(Json(
        crate::app::accounts::reset_member_second_factor(&state, &caller, &username).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SignInsQuery {
    /// How many, newest first (1–1000, default 200).
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignInList {
    pub attempts: Vec<embargo_store::LoginAttempt>,
}

/// Recent sign-in attempts, newest first: where they came from, the account
/// named (when the username named one) and whether they succeeded. Kept 30
/// days.
#[utoipa::path(get, path = "/api/v1/sign-ins", tag = "users", params(SignInsQuery),
    responses((status = 200, body = SignInList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn sign_ins(
    State(state): State<AppState>,
    caller: Caller,
    crate::extract::ApiQuery(q): crate::extract::ApiQuery<SignInsQuery>,
) -> ApiResult<Json<SignInList>> {
    caller.require(Role::Admin)?;
    Ok(Json(SignInList {
        attempts: state.store.login_attempts(q.limit.unwrap_or(200)).await?,
    }))
}
