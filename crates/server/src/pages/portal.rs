//! The reporter's portal behind their private link (`/portal/{token}`): the
//! report, its status in plain words, the public clocks, the thread, and a
//! reply box. Only that case, and nothing the team keeps to itself.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use embargo_core::auth::token_digest;
use embargo_core::clock::{self, ClockStatus};
use embargo_core::{CaseRef, EventKind};
use minijinja::{Value, context};

use crate::auth::{REPORTER_PREFIX, ReporterAccess};
use crate::pages;
use crate::state::AppState;
use crate::templates;
use crate::upload;

const PORTAL_COOKIE: &str = "embargo_portal";

async fn case_for(state: &AppState, token: &str) -> Option<CaseRef> {
    if !token.starts_with(REPORTER_PREFIX) || token.len() > 200 {
        return None;
    }
    state
        .store
        .reporter_case(&token_digest(token))
        .await
        .ok()
        .flatten()
}

/// A clock's status in the reporter's words.
fn status_words(s: ClockStatus) -> &'static str {
    match s {
        ClockStatus::NotStarted => "not started",
        ClockStatus::Running => "running",
        ClockStatus::Warning => "due soon",
        ClockStatus::Paused => "paused while we wait for you",
        ClockStatus::Met => "met",
        ClockStatus::MetLate => "met late",
        ClockStatus::Breached => "missed",
        ClockStatus::Cancelled => "no longer applies",
    }
}

fn not_found() -> Response {
    pages::notice(
        StatusCode::NOT_FOUND,
        "This link is not valid",
        "It may have been replaced or revoked. Use the newest link you received.",
        None,
    )
}

/// Your report, its status and the thread with the team.
#[utoipa::path(get, path = "/portal/{token}", tag = "reporter", security(()),
    params(("token" = String, Path, description = "The private token from the receipt")),
    responses(
        (status = 200, description = "The reporter's page", body = String, content_type = "text/html"),
        (status = 404, description = "Not a valid link", body = String, content_type = "text/html"),
    ))]
pub async fn view(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(reference) = case_for(&state, &token).await else {
        return not_found();
    };
    let (Ok(case), Ok(history)) = (
        state.store.case(reference).await,
        state.store.history(reference).await,
    ) else {
        return not_found();
    };
    let policy = state.settings.policies.for_product(&case.product);
    let csrf = crate::forms::csrf_token(&headers, PORTAL_COOKIE);
    let clocks: Vec<Value> = clock::evaluate(policy, &case, &history, state.now())
        .into_iter()
        .filter(|c| c.public)
        .filter_map(|c| {
            let due = c.due_at?;
            Some(context! {
                promise => c.promise,
                due => due.format("%Y-%m-%d %H:%M UTC").to_string(),
                status => status_words(c.status),
            })
        })
        .collect();
    let messages: Vec<Value> = history
        .iter()
        .filter_map(|ev| {
            let (who, text) = match &ev.kind {
                EventKind::MessageToReporter { text } => ("The security team", text),
                EventKind::MessageFromReporter { text } => ("You", text),
                _ => return None,
            };
            Some(context! { who, text, at => ev.at.format("%Y-%m-%d %H:%M UTC").to_string() })
        })
        .collect();
    // The published advisory, once there is one: the reporter's finding, public.
    let advisory = history.iter().find_map(|ev| match &ev.kind {
        EventKind::AdvisoryPublished { advisory, .. } => Some(advisory.clone()),
        _ => None,
    });
    let files: Vec<Value> = case
        .attachments
        .iter()
        .filter(|a| a.shared_with_reporter)
        .map(|a| {
            context! {
                id => a.id,
                name => a.filename,
                media_type => a.media_type,
                size => a.size,
                sha256 => a.sha256,
            }
        })
        .collect();
    let limits = state.settings.attachments;
    let html = templates::page(
        "portal.html",
        context! {
            title => format!("Your report {}", case.reference),
            lang => policy.language(),
            reference => case.reference.to_string(),
            status => case.state.describe(),
            reason => case.reason.as_deref().filter(|_| case.state.is_rejection()),
            clocks,
            case_title => case.title,
            product => case.product,
            summary => case.report.summary,
            description => case.report.description,
            messages,
            files,
            token,
            csrf,
            max_files => limits.max_count,
            max_size => limits.describe_size(),
            credit => case.reporter.name,
            advisory,
        },
    );
    pages::html(
        StatusCode::OK,
        html,
        Some((PORTAL_COOKIE, &csrf, "/portal")),
    )
}

fn expired() -> Response {
    pages::notice(
        StatusCode::FORBIDDEN,
        "The form expired",
        "Go back to your report's page and send it again.",
        None,
    )
}

fn not_sent(token: &str, status: StatusCode, message: &str) -> Response {
    pages::notice(
        status,
        "That was not sent",
        message,
        Some((&format!("/portal/{token}"), "Back to your report")),
    )
}

/// Back to the portal when the store took the post, else why it did not.
fn back_to_portal<T>(token: &str, stored: Result<T, crate::error::ApiError>) -> Response {
    match stored {
        Ok(_) => {
            let location = format!("/portal/{token}");
            (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
        }
        Err(e) => not_sent(token, e.status, &e.message),
    }
}

/// Send a message (and files) to the team from the portal.
#[utoipa::path(post, path = "/portal/{token}/reply", tag = "reporter", security(()),
    params(("token" = String, Path, description = "The private token from the receipt")),
    request_body(content = String, content_type = "multipart/form-data"),
    responses(
        (status = 303, description = "Back to the portal"),
        (status = 403, description = "The form's CSRF token does not match", body = String, content_type = "text/html"),
        (status = 404, description = "Not a valid link", body = String, content_type = "text/html"),
        (status = 413, description = "A file over the limit (the page names it)", body = String, content_type = "text/html"),
        (status = 422, description = "An empty or overlong message", body = String, content_type = "text/html"),
    ))]
pub async fn reply(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(reference) = case_for(&state, &token).await else {
        return not_found();
    };
    let limits = state.settings.attachments;
    let upload =
        match upload::read_form(&headers, body, state.settings.max_body_bytes, limits).await {
            Ok(upload) => upload,
            Err(e) => return not_sent(&token, e.status, &e.message),
        };
    if !crate::forms::csrf_matches(&headers, PORTAL_COOKIE, &upload.fields) {
        return expired();
    }
    if let Some(refused) = upload.refused {
        return not_sent(&token, refused.status, &refused.message);
    }
    let files = match upload::describe(upload.files, true, limits) {
        Ok(files) => files,
        Err(e) => return not_sent(&token, e.status, &e.message),
    };
    let text = upload.fields.get("text").cloned().unwrap_or_default();
    let sent = crate::app::reporter::message(&state, reference, &text, files, None).await;
    back_to_portal(&token, sent)
}

/// Save the credit preference from the portal.
#[utoipa::path(post, path = "/portal/{token}/credit", tag = "reporter", security(()),
    params(("token" = String, Path, description = "The private token from the receipt")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Back to the portal"),
        (status = 403, description = "The form's CSRF token does not match", body = String, content_type = "text/html"),
        (status = 404, description = "Not a valid link", body = String, content_type = "text/html"),
        (status = 422, description = "An overlong name", body = String, content_type = "text/html"),
    ))]
pub async fn credit(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(reference) = case_for(&state, &token).await else {
        return not_found();
    };
    let values = crate::forms::form_values(&body);
    if !crate::forms::csrf_matches(&headers, PORTAL_COOKIE, &values) {
        return expired();
    }
    let credit = values.get("credit").map(String::as_str);
    let saved = crate::app::reporter::credit(&state, reference, credit).await;
    back_to_portal(&token, saved)
}

/// Download one of the report's files from the portal.
#[utoipa::path(get, path = "/portal/{token}/attachments/{id}", tag = "reporter", security(()),
    params(("token" = String, Path, description = "The private token from the receipt"),
        ("id" = String, Path, description = "The attachment id")),
    responses(
        (status = 200, description = "The file", body = Vec<u8>, content_type = "application/octet-stream"),
        (status = 404, description = "Not a valid link or no such file", body = String, content_type = "text/html"),
    ))]
pub async fn attachment(
    State(state): State<AppState>,
    Path((token, id)): Path<(String, String)>,
) -> Response {
    let Some(reference) = case_for(&state, &token).await else {
        return not_found();
    };
    crate::app::reporter::shared_download(&state, ReporterAccess { reference }, &id)
        .await
        .unwrap_or_else(|_| not_found())
}
