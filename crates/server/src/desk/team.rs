//! The team, for admins: members and their roles, adding one, disabling,
//! a new password or second factor for a member who lost theirs, and the
//! recent sign-in attempts (who is trying, from where).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use embargo_core::auth::Role;
use minijinja::Value;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use crate::desk::{Desk, DeskForm, PageError, PageResult, redirect, when};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Serialize)]
struct MemberRow {
    username: String,
    role: &'static str,
    email: Option<String>,
    disabled: bool,
    second_factor: bool,
    since: String,
    is_you: bool,
}

#[derive(Debug, Serialize)]
struct TokenRow {
    id: i64,
    name: String,
    owner: String,
    created: String,
    last_used: Option<String>,
    revoked: Option<String>,
}

#[derive(Debug, Serialize)]
struct AttemptRow {
    at: String,
    address: String,
    username: Option<String>,
    succeeded: bool,
}

/// What one action leaves on the page: a notice, an error, or a password
/// to hand over (shown once).
#[derive(Debug, Default)]
struct TeamExtras {
    notice: Option<String>,
    error: Option<String>,
    new_password: Option<(String, String)>,
}

async fn team_page(
    state: &AppState,
    desk: &Desk,
    status: StatusCode,
    extras: TeamExtras,
) -> PageResult {
    desk.require(Role::Admin)?;
    let with_factor = state.store.members_with_second_factor().await?;
    let members: Vec<MemberRow> = state
        .store
        .list_users()
        .await?
        .into_iter()
        .map(|u| MemberRow {
            second_factor: with_factor.contains(&u.id),
            is_you: u.id == desk.caller.user.id,
            role: u.role.as_str(),
            since: when(u.created_at),
            email: u.email,
            disabled: u.disabled,
            username: u.username,
        })
        .collect();
    let attempts: Vec<AttemptRow> = state
        .store
        .login_attempts(100)
        .await?
        .into_iter()
        .map(|a| AttemptRow {
            at: when(a.at),
            address: a.address,
            username: a.username,
            succeeded: a.succeeded,
        })
        .collect();
    let tokens: Vec<TokenRow> = state
        .store
        .list_api_tokens(None)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            name: t.name,
            owner: t.username,
            created: when(t.created_at),
            last_used: t.last_used_at.map(when),
            revoked: t.revoked_at.map(when),
        })
        .collect();
    let mut ctx = desk.context("Team", "team");
    ctx.insert("tokens", Value::from_serialize(&tokens));
    ctx.insert("members", Value::from_serialize(&members));
    ctx.insert("attempts", Value::from_serialize(&attempts));
    ctx.insert("notice", Value::from(extras.notice));
    ctx.insert("error", Value::from(extras.error));
    if let Some((user, password)) = extras.new_password {
        ctx.insert("new_password_for", Value::from(user));
        ctx.insert("new_password", Value::from(password));
    }
    Ok(desk.page(status, "team.html", ctx))
}

/// The team: members, roles, second factors and recent sign-in attempts.
#[utoipa::path(get, path = "/desk/team", tag = "desk", params(TeamQuery),
    responses((status = 200, description = "The team page", body = String, content_type = "text/html"),
        (status = 303, description = "Not signed in: to the sign-in form"),
        (status = 403, description = "Not an admin", body = String, content_type = "text/html")))]
pub async fn team(
    State(state): State<AppState>,
    desk: Desk,
    Query(q): Query<TeamQuery>,
) -> PageResult {
    let notice = match (q.done.as_deref(), q.member.as_deref()) {
        (Some("disable"), Some(m)) => Some(format!("{m} is disabled; their sessions ended.")),
        (Some("enable"), Some(m)) => Some(format!("{m} can sign in again.")),
        (Some("role"), Some(m)) => Some(format!("{m}'s role is changed.")),
        (Some("second-factor"), Some(m)) => Some(format!(
            "{m}'s second factor is removed; they set one up again after signing in."
        )),
        _ => None,
    };
    team_page(
        &state,
        &desk,
        StatusCode::OK,
        TeamExtras {
            notice,
            ..TeamExtras::default()
        },
    )
    .await
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TeamQuery {
    /// The action just done (`disable`, `enable`, `second-factor`).
    pub done: Option<String>,
    /// The member it was done to.
    pub member: Option<String>,
}

/// Add a member with a generated password, shown once on the page.
#[utoipa::path(post, path = "/desk/team", tag = "desk",
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 201, description = "The team page with the new member's password", body = String, content_type = "text/html"),
        (status = 403, description = "Not an admin", body = String, content_type = "text/html"),
        (status = 409, description = "The username is taken", body = String, content_type = "text/html"),
        (status = 422, description = "A bad username or role", body = String, content_type = "text/html")))]
pub async fn add_member(State(state): State<AppState>, form: DeskForm) -> PageResult {
    form.desk.require(Role::Admin)?;
    let username = form.text("username").unwrap_or_default();
    let added = async {
        let role: Role = form
            .text("role")
            .unwrap_or_default()
            .parse()
            .map_err(|e: embargo_core::DomainError| ApiError::from(e))?;
        crate::app::accounts::add_member(&state.store, &username, role, None, state.now()).await
    }
    .await;
    match added {
        Ok((user, Some(password))) => {
            team_page(
                &state,
                &form.desk,
                StatusCode::CREATED,
                TeamExtras {
                    notice: Some(format!(
                        "{} is a {} now. Hand the password over privately; they change it on their account page.",
                        user.username,
                        user.role.as_str()
                    )),
                    new_password: Some((user.username, password)),
                    ..TeamExtras::default()
                },
            )
            .await
        }
        Ok((user, None)) => Err(PageError(ApiError::internal(
            "no password generated",
            &user.username,
        ))),
        Err(e) => {
            team_page(
                &state,
                &form.desk_keeping_values(),
                e.status,
                TeamExtras {
                    error: Some(e.message),
                    ..TeamExtras::default()
                },
            )
            .await
        }
    }
}

/// One action on a member: `disable`, `enable`, `role` (the form's `role`),
/// `password` (a new generated password, shown once) or `second-factor`
/// (remove it).
#[utoipa::path(post, path = "/desk/team/{username}/{action}", tag = "desk",
    params(("username" = String, Path, description = "The member"),
        ("action" = String, Path, description = "`disable`, `enable`, `role`, `password` or `second-factor`")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The team page with the new password", body = String, content_type = "text/html"),
        (status = 303, description = "Done; back to the team page"),
        (status = 403, description = "Not an admin", body = String, content_type = "text/html"),
        (status = 404, description = "No such member or action", body = String, content_type = "text/html"),
        (status = 409, description = "Not on your own account; never leaving no admin", body = String, content_type = "text/html"),
        (status = 422, description = "No such role", body = String, content_type = "text/html")))]
pub async fn member_action(
    State(state): State<AppState>,
    Path((username, action)): Path<(String, String)>,
    form: DeskForm,
) -> PageResult {
    form.desk.require(Role::Admin)?;
    let caller = &form.desk.caller;
    let result = match action.as_str() {
        "disable" | "enable" => crate::app::accounts::set_member_disabled(
            &state,
            caller,
            &username,
            action == "disable",
        )
        .await
        .map(drop),
        "password" => {
            match crate::app::accounts::reset_member_password(&state, caller, &username).await {
                Ok(password) => {
                    return team_page(
                        &state,
                        &form.desk,
                        StatusCode::OK,
                        TeamExtras {
                            notice: Some(format!(
                                "{username} has a new password; their sessions ended. Hand it over privately."
                            )),
                            new_password: Some((username, password)),
                            ..TeamExtras::default()
                        },
                    )
                    .await;
                }
                Err(e) => Err(e),
            }
        }
        "role" => {
            let role: Result<Role, ApiError> = form
                .text("role")
                .unwrap_or_default()
                .parse()
                .map_err(|e: embargo_core::DomainError| ApiError::from(e));
            match role {
                Ok(role) => state
                    .store
                    .set_user_role(&username, role)
                    .await
                    .map(drop)
                    .map_err(ApiError::from),
                Err(e) => Err(e),
            }
        }
        "second-factor" => {
            crate::app::accounts::reset_member_second_factor(&state, caller, &username)
                .await
                .map(drop)
        }
        other => {
            return Err(PageError(ApiError::not_found(format!(
                "No action `{other}` on a member: disable, enable, role, password or second-factor."
            ))));
        }
    };
    match result {
        Ok(()) => Ok(redirect(&format!(
            "/desk/team?done={action}&member={}",
            form_urlencoded::byte_serialize(username.as_bytes()).collect::<String>()
        ))),
        Err(e) if e.status == StatusCode::NOT_FOUND => Err(PageError(e)),
        Err(e) => {
            team_page(
                &state,
                &form.desk,
                e.status,
                TeamExtras {
                    error: Some(e.message),
                    ..TeamExtras::default()
                },
            )
            .await
        }
    }
}

/// Revoke any member's API token (a leaked CI secret, a member who left).
#[utoipa::path(post, path = "/desk/team/tokens/{id}/revoke", tag = "desk",
    params(("id" = i64, Path, description = "The token's id")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Revoked; back to the team page"),
        (status = 403, description = "Not an admin", body = String, content_type = "text/html"),
        (status = 404, description = "No such token", body = String, content_type = "text/html")))]
pub async fn revoke_token(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: DeskForm,
) -> PageResult {
    form.desk.require(Role::Admin)?;
    let missing = || PageError(ApiError::not_found(format!("No token `{id}`.")));
    let number: i64 = id.parse().map_err(|_| missing())?;
    crate::app::accounts::revoke_token(&state, &form.desk.caller, number)
        .await
        .map_err(|_| missing())?;
    Ok(redirect("/desk/team#tokens"))
}
