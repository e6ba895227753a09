//! Signing in and out through forms, and the member's own account: password,
//! API tokens (shown once) and the optional TOTP second factor.

use std::collections::HashMap;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use embargo_core::auth::token_digest;
use embargo_core::totp;
use minijinja::Value;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use crate::app::accounts::start_session;
use crate::auth::{Credential, session_cookie_value};
use crate::desk::{Desk, DeskForm, PageError, PageResult, redirect, render, when};
use crate::error::ApiError;
use crate::state::AppState;

/// The sign-in form's own CSRF cookie (double submit): there is no session yet.
const LOGIN_COOKIE: &str = "embargo_login";

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LoginQuery {
    /// Where to go after signing in (a path on this server).
    pub next: Option<String>,
}

/// A path on this server to return to; anything else (another site, a
/// protocol-relative URL) becomes the dashboard.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && n.len() <= 500
                && !n.contains(['\r', '\n']) =>
        {
            n.to_owned()
        }
        _ => "/desk".to_owned(),
    }
}

fn login_page(
    status: StatusCode,
    csrf: &str,
    next: &str,
    username: &str,
    error: Option<&str>,
) -> Response {
    let mut response = render(
        status,
        "login.html",
        minijinja::context! {
            title => "Sign in",
            form_csrf => csrf,
            next => next,
            username => username,
            error => error,
        },
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LOGIN_COOKIE}={csrf}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=7200"
    )) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

/// The sign-in form.
#[utoipa::path(get, path = "/login", tag = "desk", security(()), params(LoginQuery),
    responses((status = 200, description = "The sign-in form", body = String, content_type = "text/html")))]
pub async fn login_form(headers: HeaderMap, Query(q): Query<LoginQuery>) -> Response {
    let csrf = crate::forms::csrf_token(&headers, LOGIN_COOKIE);
    login_page(
        StatusCode::OK,
        &csrf,
        &safe_next(q.next.as_deref()),
        "",
        None,
    )
}

/// Sign in: a new session (a new secret, whatever cookie came in), then back
/// to where the member was going.
#[utoipa::path(post, path = "/login", tag = "desk", security(()),
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Signed in; on to `next`"),
        (status = 401, description = "The form again, saying what was wrong", body = String, content_type = "text/html"),
        (status = 403, description = "The form's CSRF token does not match", body = String, content_type = "text/html"),
        (status = 429, description = "Too many failed attempts", body = String, content_type = "text/html"),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let values = crate::forms::form_values(&body);
    let field = |k: &str| values.get(k).cloned().unwrap_or_default();
    let next = safe_next(values.get("next").map(String::as_str));
    let csrf = crate::forms::csrf_token(&headers, LOGIN_COOKIE);
    if !crate::forms::csrf_matches(&headers, LOGIN_COOKIE, &values) {
        return login_page(
            StatusCode::FORBIDDEN,
            &csrf,
            &next,
            &field("username"),
            Some("The form expired. Please sign in again."),
        );
    }
    let code = values.get("code").map(String::as_str);
    let address = crate::extract::client_address(&state, peer, &headers);
    match start_session(
        &state,
        &field("username"),
        field("password"),
        code,
        &address,
    )
    .await
    {
        Ok(signed_in) => {
            let mut response = redirect(&next);
            response
                .headers_mut()
                .insert(header::SET_COOKIE, signed_in.cookie);
            response
        }
        Err(e) => {
            let retry = e.retry_after;
            let mut response =
                login_page(e.status, &csrf, &next, &field("username"), Some(&e.message));
            if let Some(r) = retry
                && let Ok(v) = HeaderValue::from_str(&r.to_string())
            {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            response
        }
    }
}

/// Sign out: ends the session and clears its cookie.
#[utoipa::path(post, path = "/logout", tag = "desk",
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Signed out; on to the sign-in form")))]
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: DeskForm,
) -> PageResult {
    if let Credential::Session(digest) = &form.desk.caller.credential {
        state.store.delete_session(digest).await?;
    } else if let Some(secret) = session_cookie_value(&headers) {
        state.store.delete_session(&token_digest(&secret)).await?;
    }
    let mut response = redirect("/login");
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("embargo_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    Ok(response)
}

#[derive(Debug, Serialize)]
struct TokenRow {
    id: i64,
    name: String,
    created: String,
    last_used: Option<String>,
    revoked: Option<String>,
}

/// What the account page shows besides the forms.
#[derive(Debug, Default)]
struct AccountExtras {
    new_token: Option<String>,
    /// The pending secret (base32) and its `otpauth://` link.
    totp_setup: Option<(String, String)>,
    /// New recovery codes, shown once.
    recovery_codes: Option<Vec<String>>,
    notice: Option<String>,
    error: Option<String>,
}

/// The setup of a pending secret: its base32 text and `otpauth://` link.
fn setup_of(state: &AppState, username: &str, secret: &[u8]) -> (String, String) {
    let issuer = format!(
        "{} embargo",
        state.settings.policies.primary().organization.name
    );
    (
        totp::base32(secret),
        totp::provisioning_uri(&issuer, username, secret),
    )
}

async fn account_page(
    state: &AppState,
    desk: &Desk,
    status: StatusCode,
    extras: AccountExtras,
) -> PageResult {
    let tokens: Vec<TokenRow> = state
        .store
        .list_api_tokens(Some(desk.caller.user.id))
        .await?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            name: t.name,
            created: when(t.created_at),
            last_used: t.last_used_at.map(when),
            revoked: t.revoked_at.map(when),
        })
        .collect();
    let factor = state.store.totp(desk.caller.user.id).await?;
    let mut ctx = desk.context("Your account", "account");
    ctx.insert("tokens", Value::from_serialize(&tokens));
    ctx.insert(
        "totp_enabled",
        Value::from(factor.as_ref().is_some_and(|f| f.confirmed)),
    );
    ctx.insert("new_token", Value::from(extras.new_token));
    ctx.insert(
        "totp_setup",
        Value::from_serialize(extras.totp_setup.map(|(s, u)| {
            let qr = crate::qr::svg(&u, "QR code of the setup link, for your authenticator app")
                .unwrap_or_default();
            HashMap::from([("secret", s), ("uri", u), ("qr", qr)])
        })),
    );
    ctx.insert(
        "recovery_codes",
        Value::from_serialize(extras.recovery_codes),
    );
    let confirmed = factor.as_ref().is_some_and(|f| f.confirmed);
    ctx.insert(
        "recovery_left",
        Value::from(if confirmed {
            state.store.recovery_codes_left(desk.caller.user.id).await?
        } else {
            0
        }),
    );
    ctx.insert("notice", Value::from(extras.notice));
    ctx.insert("error", Value::from(extras.error));
    Ok(desk.page(status, "account.html", ctx))
}

/// Your account: password, API tokens, second factor.
#[utoipa::path(get, path = "/desk/account", tag = "desk",
    responses((status = 200, description = "The account page", body = String, content_type = "text/html"),
        (status = 303, description = "Not signed in: to the sign-in form")))]
pub async fn account(State(state): State<AppState>, desk: Desk) -> PageResult {
    account_page(&state, &desk, StatusCode::OK, AccountExtras::default()).await
}

fn failed(e: PageError) -> AccountExtras {
    AccountExtras {
        error: Some(e.0.message),
        ..AccountExtras::default()
    }
}

/// Change your password; your other sessions end.
#[utoipa::path(post, path = "/desk/account/password", tag = "desk",
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The account page, saying what happened", body = String, content_type = "text/html"),
        (status = 422, description = "Wrong current password or a weak new one", body = String, content_type = "text/html")))]
pub async fn change_password(State(state): State<AppState>, form: DeskForm) -> PageResult {
    let current = form
        .values
        .get("current_password")
        .cloned()
        .unwrap_or_default();
    let new = form.values.get("new_password").cloned().unwrap_or_default();
    let result = crate::app::accounts::set_password(&state, &form.desk.caller, current, new).await;
    match result {
        Ok(()) => {
            account_page(
                &state,
                &form.desk,
                StatusCode::OK,
                AccountExtras {
                    notice: Some(
                        "Your password is changed; your other sessions have ended.".into(),
                    ),
                    ..AccountExtras::default()
                },
            )
            .await
        }
        Err(e) => {
            let status = e.status;
            account_page(&state, &form.desk, status, failed(PageError(e))).await
        }
    }
}

/// Create an API token for yourself; it is shown once.
#[utoipa::path(post, path = "/desk/account/tokens", tag = "desk",
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 201, description = "The account page with the new token", body = String, content_type = "text/html"),
        (status = 422, description = "A bad name", body = String, content_type = "text/html")))]
pub async fn create_token(State(state): State<AppState>, form: DeskForm) -> PageResult {
    let name = form.text("name").unwrap_or_default();
    let made = crate::app::accounts::create_token(
        &state.store,
        &form.desk.caller.user,
        &name,
        state.now(),
    )
    .await;
    match made {
        Ok((token, _)) => {
            account_page(
                &state,
                &form.desk,
                StatusCode::CREATED,
                AccountExtras {
                    new_token: Some(token),
                    ..AccountExtras::default()
                },
            )
            .await
        }
        Err(e) => {
            let e = PageError::from(e);
            let status = e.0.status;
            account_page(&state, &form.desk, status, failed(e)).await
        }
    }
}

/// Revoke one of your API tokens.
#[utoipa::path(post, path = "/desk/account/tokens/{id}/revoke", tag = "desk",
    params(("id" = i64, Path, description = "The token's id")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The account page", body = String, content_type = "text/html"),
        (status = 404, description = "Not one of your tokens", body = String, content_type = "text/html")))]
pub async fn revoke_token(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: DeskForm,
) -> PageResult {
    let missing = || PageError(ApiError::not_found(format!("You have no token `{id}`.")));
    let id_number: i64 = id.parse().map_err(|_| missing())?;
    // The desk lists and revokes the member's own tokens only.
    let own = state
        .store
        .api_token(id_number)
        .await
        .is_ok_and(|t| t.username == form.desk.caller.user.username);
    if !own {
        return Err(missing());
    }
    let record = crate::app::accounts::revoke_token(&state, &form.desk.caller, id_number)
        .await
        .map_err(|_| missing())?;
    account_page(
        &state,
        &form.desk,
        StatusCode::OK,
        AccountExtras {
            notice: Some(format!("The token “{}” is revoked.", record.name)),
            ..AccountExtras::default()
        },
    )
    .await
}

/// Start setting up a second factor: a new secret to add to an
/// authenticator app, confirmed by the next form with one code.
#[utoipa::path(post, path = "/desk/account/totp", tag = "desk",
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The secret and the confirmation form", body = String, content_type = "text/html"),
        (status = 409, description = "A second factor is already on", body = String, content_type = "text/html")))]
pub async fn begin_totp(State(state): State<AppState>, form: DeskForm) -> PageResult {
    let secret = totp::generate_secret();
    state
        .store
        .begin_totp(form.desk.caller.user.id, &secret)
        .await?;
    account_page(
        &state,
        &form.desk,
        StatusCode::OK,
        AccountExtras {
            totp_setup: Some(setup_of(&state, &form.desk.caller.user.username, &secret)),
            ..AccountExtras::default()
        },
    )
    .await
}

/// Confirm the second factor with a code from the app; from then on every
/// sign-in asks for one.
#[utoipa::path(post, path = "/desk/account/totp/confirm", tag = "desk",
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Confirmed", body = String, content_type = "text/html"),
        (status = 422, description = "The code does not match", body = String, content_type = "text/html")))]
pub async fn confirm_totp(State(state): State<AppState>, form: DeskForm) -> PageResult {
    let now = state.now();
    let user = form.desk.caller.user.id;
    let code = form.text("code").unwrap_or_default();
    let pending = state.store.totp(user).await?.filter(|f| !f.confirmed);
    let confirmed = match &pending {
        Some(f) => match totp::verify(&f.secret, &code, now, f.last_step) {
            Some(step) => state.store.use_totp_step(user, step, now).await?,
            None => false,
        },
        None => false,
    };
    if confirmed {
        let codes = new_recovery_codes(&state, user).await?;
        return account_page(
            &state,
            &form.desk,
            StatusCode::OK,
            AccountExtras {
                notice: Some("Your second factor is on: signing in now asks for a code.".into()),
                recovery_codes: Some(codes),
                ..AccountExtras::default()
            },
        )
        .await;
    }
    // A typo keeps the pending secret: the same QR code, try again.
    let extras = match pending {
        Some(f) => AccountExtras {
            error: Some(
                "That code does not match. Check the app's clock and enter the code it shows now."
                    .into(),
            ),
            totp_setup: Some(setup_of(&state, &form.desk.caller.user.username, &f.secret)),
            ..AccountExtras::default()
        },
        None => AccountExtras {
            error: Some("No setup is waiting for a code: start the setup first.".into()),
            ..AccountExtras::default()
        },
    };
    account_page(&state, &form.desk, StatusCode::UNPROCESSABLE_ENTITY, extras).await
}

/// Ten new recovery codes for `user` (the old ones stop working); the
/// codes, to be shown once.
async fn new_recovery_codes(state: &AppState, user: i64) -> Result<Vec<String>, PageError> {
    let codes: Vec<String> = (0..embargo_core::auth::RECOVERY_CODES)
        .map(|_| embargo_core::auth::generate_recovery_code())
        .collect();
    let digests: Vec<String> = codes
        .iter()
        .filter_map(|c| embargo_core::auth::recovery_code_digest(c))
        .collect();
    state.store.replace_recovery_codes(user, &digests).await?;
    Ok(codes)
}

/// New recovery codes (the old ones stop working); it takes your password.
#[utoipa::path(post, path = "/desk/account/recovery-codes", tag = "desk",
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The new codes, shown once", body = String, content_type = "text/html"),
        (status = 409, description = "No second factor is on", body = String, content_type = "text/html"),
        (status = 422, description = "Wrong password", body = String, content_type = "text/html")))]
pub async fn renew_recovery_codes(State(state): State<AppState>, form: DeskForm) -> PageResult {
    let user = form.desk.caller.user.id;
    let password = form.values.get("password").cloned().unwrap_or_default();
    let ok = crate::app::accounts::password_is(&state, &form.desk.caller.user.username, password)
        .await?;
    let on = state.store.totp(user).await?.is_some_and(|f| f.confirmed);
    let (status, extras) = if !ok {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            AccountExtras {
                error: Some(
                    "That is not your password; your recovery codes stay as they were.".into(),
                ),
                ..AccountExtras::default()
            },
        )
    } else if !on {
        (
            StatusCode::CONFLICT,
            AccountExtras {
                error: Some("Recovery codes come with a second factor: set one up first.".into()),
                ..AccountExtras::default()
            },
        )
    } else {
        (
            StatusCode::OK,
            AccountExtras {
                notice: Some("New recovery codes; the old ones no longer work.".into()),
                recovery_codes: Some(new_recovery_codes(&state, user).await?),
                ..AccountExtras::default()
            },
        )
    };
    account_page(&state, &form.desk, status, extras).await
}

/// Turn the second factor off; it takes your password.
#[utoipa::path(post, path = "/desk/account/totp/disable", tag = "desk",
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Turned off", body = String, content_type = "text/html"),
        (status = 422, description = "Wrong password", body = String, content_type = "text/html")))]
pub async fn disable_totp(State(state): State<AppState>, form: DeskForm) -> PageResult {
    let password = form.values.get("password").cloned().unwrap_or_default();
    let ok = crate::app::accounts::password_is(&state, &form.desk.caller.user.username, password)
        .await?;
    if !ok {
        return account_page(
            &state,
            &form.desk,
            StatusCode::UNPROCESSABLE_ENTITY,
            AccountExtras {
                error: Some("That is not your password; the second factor stays on.".into()),
                ..AccountExtras::default()
            },
        )
        .await;
    }
    state.store.disable_totp(form.desk.caller.user.id).await?;
    account_page(
        &state,
        &form.desk,
        StatusCode::OK,
        AccountExtras {
            notice: Some("Your second factor is off.".into()),
            ..AccountExtras::default()
        },
    )
    .await
}
