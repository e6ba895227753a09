//! Accounts: signing in (password, second factor, the login throttle),
//! changing a password, API tokens, and the team's members — the same
//! through the API and the desk's forms.

use axum::http::StatusCode;
use embargo_core::auth::{self, User, token_digest};

use axum::http::HeaderValue;

use embargo_core::Instant;
use embargo_store::{Store, StoreError};

use crate::auth::{Caller, Credential, SESSION_COOKIE, SESSION_PREFIX};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// A new login session: its user, its secret and the cookie that carries it.
#[derive(Debug)]
pub(crate) struct SignedIn {
    pub user: User,
    pub secret: String,
    pub cookie: HeaderValue,
}

/// Checks a username, password and (when the account has a second factor)
/// authenticator code, with the login throttle, and opens a session. Shared
/// by the API and the sign-in form so that both refuse alike. `address` is
/// where the attempt came from: the throttle slows an address that keeps
/// failing, never the account for everyone.
pub(crate) async fn start_session(
    state: &AppState,
    username: &str,
    password: String,
    code: Option<&str>,
    address: &str,
) -> ApiResult<SignedIn> {
    use crate::limits::login_throttle;
    let now = state.now();
    let username = username.trim().to_owned();
    if username.len() > 64 || password.len() > 1024 {
        return Err(ApiError::unauthorized());
    }
    let found = state.store.user_credentials(&username).await?;
    let account = found.as_ref().map(|(user, _)| user.id);
    let recent = state
        .store
        .recent_login_failures(address, account, now - login_throttle::WINDOW)
        .await?;
    if let Err(e) = login_throttle::check(&recent, now) {
        tracing::warn!(target: "embargo::auth", %address, "sign-in refused: too many failures from this address");
        return Err(e);
    }
    let failed = |what: &'static str| async move {
        tracing::warn!(
            target: "embargo::auth",
            %address,
            account = account.is_some(),
            "{what}"
        );
        state
            .store
            .record_login_attempt(
                now,
                address,
                account,
                false,
                now - login_throttle::RETENTION,
            )
            .await
    };
    // Unknown users cost the same Argon2 work as known ones.
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), hash),
        None => (None, auth::dummy_password_hash().to_owned()),
    };
    let ok = password_matches(password, hash).await;
    let user = match user {
        Some(user) if ok && !user.disabled => user,
        _ => {
            failed("failed sign-in").await?;
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
        let mut accepted = match step {
            Some(step) => state.store.use_totp_step(user.id, step, now).await?,
            None => false,
        };
        // A lost phone: one of the recovery codes, good once.
        if !accepted && let Some(digest) = auth::recovery_code_digest(code) {
            accepted = state.store.use_recovery_code(user.id, &digest, now).await?;
            if accepted {
                let left = state.store.recovery_codes_left(user.id).await?;
                tracing::warn!(target: "embargo::auth", member = %user.username, left, "signed in with a recovery code");
            }
        }
        if !accepted {
            failed("failed second factor").await?;
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "wrong or already used authentication code",
            )
            .with_field("code"));
        }
    }
    state
        .store
        .record_login_attempt(
            now,
            address,
            Some(user.id),
            true,
            now - login_throttle::RETENTION,
        )
        .await?;
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

/// Check a password on the blocking pool: Argon2 is deliberately slow.
async fn password_matches(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash))
        .await
        .unwrap_or(false)
}

fn wrong_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "wrong username or password",
    )
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

/// Creates an API token for a member, with their role; returns the token
/// (shown this once; only its digest is kept) and its record. The API and
/// the desk make one for the caller; the CLI, for whom the operator names.
pub async fn create_token(
    store: &Store,
    owner: &User,
    name: &str,
    now: Instant,
) -> Result<(String, auth::ApiToken), StoreError> {
    let token = auth::generate_token(crate::auth::TOKEN_PREFIX);
    let record = store
        .create_api_token(owner.id, name, &token_digest(&token), now)
        .await?;
    Ok((token, record))
}

/// Revokes a token: the caller's own, or anyone's for an admin. Someone
/// else's token looks the same as a missing one.
pub async fn revoke_token(state: &AppState, caller: &Caller, id: i64) -> ApiResult<auth::ApiToken> {
    let missing = || ApiError::not_found(format!("no token `{id}`"));
    let record = match state.store.api_token(id).await {
        Ok(record) => record,
        Err(embargo_store::StoreError::NotFound { .. }) => return Err(missing()),
        Err(e) => return Err(e.into()),
    };
    if record.username != caller.user.username && caller.user.role < auth::Role::Admin {
        return Err(missing());
    }
    Ok(state.store.revoke_api_token(id, state.now()).await?)
}

/// Adds a team member with `password`, or a generated one (returned, to be
/// shown once): through the API, and from the CLI.
pub async fn add_member(
    store: &Store,
    username: &str,
    role: auth::Role,
    password: Option<String>,
    now: Instant,
) -> ApiResult<(User, Option<String>)> {
    auth::validate_username(username)?;
    let (password, generated) = match password {
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
    let user = store.add_user(username, role, &hash, now).await?;
    Ok((user, generated))
}

/// Disables or re-enables a member; nobody disables their own account.
pub async fn set_member_disabled(
    state: &AppState,
    caller: &Caller,
    username: &str,
    disabled: bool,
) -> ApiResult<User> {
    if disabled && username == caller.user.username {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "you cannot disable your own account",
        ));
    }
    Ok(state.store.set_user_disabled(username, disabled).await?)
}

/// Gives a member a new generated password (returned, to be shown once) and
/// ends every session of theirs: for a member who forgot theirs. An admin
/// changes their own through the account page, knowing the current one.
pub async fn reset_member_password(
    state: &AppState,
    caller: &Caller,
    username: &str,
) -> ApiResult<String> {
    if username == caller.user.username {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "change your own password on your account page (it asks for the current one)",
        ));
    }
    let user = state.store.user(username).await?;
    let password = auth::generate_password();
    let hashed = password.clone();
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&hashed))
        .await
        .map_err(|e| ApiError::internal("hashing task failed", &e))??;
    state.store.set_password(user.id, &hash, None).await?;
    tracing::info!(target: "embargo::auth", member = %user.username, by = %caller.user.username, "password reset");
    Ok(password)
}

/// Removes a member's second factor (a lost phone): they sign in with their
/// password and set one up again. Their sessions end.
pub async fn reset_member_second_factor(
    state: &AppState,
    caller: &Caller,
    username: &str,
) -> ApiResult<User> {
    let user = state.store.user(username).await?;
    state.store.disable_totp(user.id).await?;
    state.store.end_sessions(user.id).await?;
    tracing::info!(target: "embargo::auth", member = %user.username, by = %caller.user.username, "second factor reset");
    Ok(user)
}
