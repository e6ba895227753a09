//! Signing in and out, and the signed-in user's own account.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use embargo_core::auth::{self, User, token_digest};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{
    Caller, Credential, SESSION_COOKIE, SESSION_PREFIX, csrf_token, session_cookie_value,
};
use crate::error::{ApiError, ApiResult, ErrorBody};
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

/// Check a password on the blocking pool: Argon2 is deliberately slow.
async fn password_matches(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash))
        .await
        .unwrap_or(false)
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
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let signed_in = start_session(&state, &req.username, req.password, req.code.as_deref()).await?;
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

/// A new login session: its user, its secret and the cookie that carries it.
#[derive(Debug)]
pub(crate) struct SignedIn {
    pub user: User,
    pub secret: String,
    pub cookie: HeaderValue,
}

fn wrong_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "wrong username or password",
    )
}

/// Checks a username, password and (when the account has a second factor)
/// authenticator code, with the login throttle, and opens a session. Shared
/// by the API and the sign-in form so that both refuse alike.
pub(crate) async fn start_session(
    state: &AppState,
    username: &str,
    password: String,
    code: Option<&str>,
) -> ApiResult<SignedIn> {
    let now = state.now();
    let username = username.trim().to_owned();
    if username.len() > 64 || password.len() > 1024 {
        return Err(ApiError::unauthorized());
    }
    state.throttle.check(&username, now)?;
    let found = state.store.user_credentials(&username).await?;
    // Unknown users cost the same Argon2 work as known ones.
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), hash),
        None => (None, auth::dummy_password_hash().to_owned()),
    };
    let ok = password_matches(password, hash).await;
    let user = match user {
        Some(user) if ok && !user.disabled => user,
        _ => {
            state.throttle.failed(&username, now);
            tracing::warn!(target: "embargo::auth", "failed login");
            return Err(wrong_credentials());
        }
    };
    if let Some(factor) = state.store.totp(user.id).await?
        && factor.confirmed
    {
        let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) else {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "code_required",
                "this account has a second factor: send the code from your authenticator app",
            )
            .with_field("code"));
        };
        let step = embargo_core::totp::verify(&factor.secret, code, now, factor.last_step);
        let accepted = match step {
            Some(step) => state.store.use_totp_step(user.id, step, now).await?,
            None => false,
        };
        if !accepted {
            state.throttle.failed(&username, now);
            tracing::warn!(target: "embargo::auth", "failed second factor");
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "wrong or already used authentication code",
            )
            .with_field("code"));
        }
    }
    state.throttle.succeeded(&username);
    let secret = auth::generate_token(SESSION_PREFIX);
    let ttl = chrono::Duration::from_std(state.settings.session_ttl)
        .unwrap_or(chrono::Duration::hours(12));
    state
        .store
        .create_session(&token_digest(&secret), user.id, now, now + ttl)
        .await?;
    let cookie = format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        ttl.num_seconds(),
        if state.settings.secure_cookies {
            "; Secure"
        } else {
            ""
        }
    );
    let cookie =
        HeaderValue::from_str(&cookie).map_err(|e| ApiError::internal("session cookie", &e))?;
    Ok(SignedIn {
        user,
        secret,
        cookie,
    })
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

/// Whether `password` is the current password of `username`.
pub(crate) async fn password_is(
    state: &AppState,
    username: &str,
    password: String,
) -> ApiResult<bool> {
    let (_, hash) = state
        .store
        .user_credentials(username)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    Ok(password_matches(password, hash).await)
}

/// Changes the caller's password after checking the current one; every
/// other session of theirs ends (the one in use stays).
pub(crate) async fn set_password(
    state: &AppState,
    caller: &Caller,
    current: String,
    new: String,
) -> ApiResult<()> {
    auth::validate_password(&new)?;
    if !password_is(state, &caller.user.username, current).await? {
        return Err(ApiError::invalid(
            "current_password",
            "current_password: does not match",
        ));
    }
    let new_hash = tokio::task::spawn_blocking(move || auth::hash_password(&new))
        .await
        .map_err(|e| ApiError::internal("hashing task failed", &e))??;
    let keep = match &caller.credential {
        Credential::Session(digest) => Some(digest.as_str()),
        Credential::ApiToken => None,
    };
    state
        .store
        .set_password(caller.user.id, &new_hash, keep)
        .await?;
    Ok(())
}
