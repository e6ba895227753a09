//! Who is calling: a login session (cookie) or an API token (bearer), and
//! what their role lets them do.
//!
//! Cookie-authenticated requests that change something must also carry the
//! session's CSRF token in `X-CSRF-Token`; bearer tokens are not ambient
//! credentials and need none.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use embargo_core::CaseRef;
use embargo_core::auth::{Role, User, token_digest};

use crate::error::ApiError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "embargo_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const TOKEN_PREFIX: &str = "emb_";
pub const SESSION_PREFIX: &str = "ses_";

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A login session; holds the session secret's digest.
    Session(String),
    ApiToken,
}

/// An authenticated team member.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    pub credential: Credential,
}

impl Caller {
    /// The actor name recorded in events.
    pub fn actor(&self) -> String {
        format!("user:{}", self.user.username)
    }

    /// Fails with 403 unless the caller's role is at least `role`.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.user.role >= role {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this needs the {role} role; you are a {}",
                self.user.role
            )))
        }
    }
}

/// The CSRF token that belongs to a session secret: derived, so it needs no storage.
pub fn csrf_token(session_secret: &str) -> String {
    token_digest(&format!("csrf:{session_secret}"))
}

/// The value of the cookie `name`, if the request carries it.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.to_owned())
}

pub fn session_cookie_value(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, SESSION_COOKIE)
}

/// The token of an `Authorization: Bearer TOKEN` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Who a request's credentials name: a bearer API token when the request
/// has one (and then nothing else counts), else the session cookie. `None`
/// when they name nobody (missing, malformed, revoked, expired, disabled).
/// A session comes with its secret, from which its CSRF token derives.
/// Shared by the API's [`Caller`] and the desk's pages, which differ only in
/// what they do about `None` and how a form proves its CSRF token.
pub(crate) async fn identify(
    headers: &HeaderMap,
    state: &AppState,
) -> Result<Option<(Caller, Option<String>)>, ApiError> {
    let now = state.now();
    if let Some(token) = bearer(headers) {
        if !token.starts_with(TOKEN_PREFIX) || token.len() > 200 {
            return Ok(None);
        }
        let user = state.store.token_user(&token_digest(token), now).await?;
        return Ok(user.map(|user| {
            (
                Caller {
                    user,
                    credential: Credential::ApiToken,
                },
                None,
            )
        }));
    }
    let Some(secret) =
        session_cookie_value(headers).filter(|s| s.starts_with(SESSION_PREFIX) && s.len() <= 200)
    else {
        return Ok(None);
    };
    let digest = token_digest(&secret);
    let user = state.store.session_user(&digest, now).await?;
    Ok(user.map(|user| {
        (
            Caller {
                user,
                credential: Credential::Session(digest),
            },
            Some(secret),
        )
    }))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (caller, secret) = identify(&parts.headers, state)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        if let Some(secret) = secret
            && changes_state(&parts.method)
        {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            if sent != Some(csrf_token(&secret).as_str()) {
                return Err(ApiError::forbidden(
                    "this request changes data and was authenticated by cookie: send the session's CSRF token in X-CSRF-Token",
                ));
            }
        }
        Ok(caller)
    }
}

/// How a reporter's private token begins.
pub const REPORTER_PREFIX: &str = "rep_";

/// A reporter holding a valid private token for one case.
#[derive(Debug, Clone, Copy)]
pub struct ReporterAccess {
    pub reference: CaseRef,
}

impl FromRequestParts<AppState> for ReporterAccess {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(&parts.headers)
            .filter(|t| t.starts_with(REPORTER_PREFIX) && t.len() <= 200)
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "send the private token from your receipt as `Authorization: Bearer rep_…`",
                )
            })?;
        let reference = state
            .store
            .reporter_case(&token_digest(token))
            .await?
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "this private token is not valid (it may have been rotated or revoked)",
                )
            })?;
        Ok(ReporterAccess { reference })
    }
}
