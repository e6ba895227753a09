//! Signing in and out, and the signed-in user's own account.

use axum::Json;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use embargo_core::auth::{User, token_digest};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::accounts::{set_password, start_session};
use crate::auth::{Caller, Credential, csrf_token, session_cookie_value};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// The current code of the account's authenticator app, when the
    /// account has a second factor.
    #[serde(default)]
    pub code: Option<String>,
}

/// A new session. The session secret travels only in the HttpOnly cookie;
/// the CSRF token must accompany every cookie-authenticated change.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionResponse {
    pub user: User,
    pub csrf_token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    pub user: User,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Sign in with a username and password.
#[utoipa::path(post, path = "/api/v1/session", tag = "session",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in; the session cookie is set", body = SessionResponse),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 401, description = "Wrong username, password or authentication code", body = ErrorBody),
        (status = 415, description = "Not sent as application/json", body = ErrorBody),
        (status = 422, description = "A missing or unknown field", body = ErrorBody),
        (status = 429, description = "Too many failed attempts", body = ErrorBody),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let address = crate::extract::client_address(&state, peer, &headers);
    let signed_in = start_session(
        &state,
        &req.username,
        req.password,
        req.code.as_deref(),
        &address,
    )
    .await?;
    let mut response = Json(SessionResponse {
        user: signed_in.user,
        csrf_token: csrf_token(&signed_in.secret),
    })
    .into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, signed_in.cookie);
    Ok(response)
}

/// Sign out: ends the session and clears the cookie.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session",
    responses((status = 204, description = "Signed out"), (status = 401, body = ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> ApiResult<Response> {
    if let Credential::Session(digest) = &caller.credential {
        state.store.delete_session(digest).await?;
    } else if let Some(secret) = session_cookie_value(&headers) {
        state.store.delete_session(&token_digest(&secret)).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("embargo_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    Ok(response)
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/me", tag = "session",
    responses((status = 200, body = MeResponse), (status = 401, body = ErrorBody)))]
pub async fn me(caller: Caller) -> Json<MeResponse> {
    Json(MeResponse { user: caller.user })
}

/// Change the signed-in user's password; other sessions end.
#[utoipa::path(put, path = "/api/v1/me/password", tag = "session",
    request_body = PasswordChange,
    responses(
        (status = 204, description = "Changed"),
        (status = 401, body = ErrorBody),
        (status = 422, description = "Wrong current password or a weak new one", body = ErrorBody),
    ))]
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    set_password(&state, &caller, req.current_password, req.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}
