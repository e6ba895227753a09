//! The reporter's portal behind their private link (`/portal/{token}`): the
//! report, its status in plain words, the public clocks, the thread, and a
//! reply box. Only that case, and nothing the team keeps to itself.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use embargo_core::auth::token_digest;
use embargo_core::clock;
use embargo_core::publish::escape_html;
use embargo_core::{CaseRef, EventKind};

use crate::auth::{REPORTER_PREFIX, ReporterAccess};
use crate::pages::{self, page};
use crate::state::AppState;
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

fn not_found() -> Response {
    let html = page(
        "Link not valid",
        "en",
        "<h1>This link is not valid</h1><p>It may have been replaced or revoked. Use the newest link you received.</p>",
    );
    pages::html(StatusCode::NOT_FOUND, html, None)
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
    let e = escape_html;
    let csrf = crate::forms::csrf_token(&headers, PORTAL_COOKIE);
    let mut body = format!(
        "<h1>Your report {}</h1>\n<p>Status: <strong>{}</strong></p>\n",
        e(&case.reference.to_string()),
        e(case.state.describe())
    );
    if case.state.is_rejection()
        && let Some(reason) = &case.reason
    {
        body.push_str(&format!("<p>The reason: {}</p>\n", e(reason)));
    }
    let clocks: Vec<String> = clock::evaluate(policy, &case, &history, state.now())
        .into_iter()
        .filter(|c| c.public && c.due_at.is_some())
        .map(|c| {
            format!(
                "<li>{}: due {} ({})</li>",
                e(&c.promise),
                c.due_at
                    .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
                    .unwrap_or_default(),
                e(&format!("{:?}", c.status).to_lowercase())
            )
        })
        .collect();
    if !clocks.is_empty() {
        body.push_str(&format!(
            "<h2>Our promises</h2>\n<ul>\n{}\n</ul>\n",
            clocks.join("\n")
        ));
    }
    body.push_str(&format!(
        "<h2>Your report</h2>\n<h3>{}</h3>\n<p>Product: {}</p>\n<h3>Summary</h3>\n<p>{}</p>\n<h3>Description</h3>\n<pre>{}</pre>\n",
        e(&case.title),
        e(&case.product),
        e(&case.report.summary),
        e(&case.report.description)
    ));
    body.push_str("<h2>Messages</h2>\n");
    let mut any = false;
    for ev in &history {
        let (who, text) = match &ev.kind {
            EventKind::MessageToReporter { text } => ("The security team", text),
            EventKind::MessageFromReporter { text } => ("You", text),
            _ => continue,
        };
        any = true;
        body.push_str(&format!(
            "<article><p><strong>{who}</strong>, {}</p><pre>{}</pre></article>\n",
            ev.at.format("%Y-%m-%d %H:%M UTC"),
            e(text)
        ));
    }
    if !any {
        body.push_str("<p>No messages yet.</p>\n");
    }
    let shared: Vec<String> = case
        .attachments
        .iter()
        .filter(|a| a.shared_with_reporter)
        .map(|a| {
            format!(
                "<li><a href=\"/portal/{t}/attachments/{id}\" download>{name}</a> ({media}, {size} bytes, SHA-256 <code>{sha}</code>)</li>",
                t = e(&token),
                id = e(&a.id),
                name = e(&a.filename),
                media = e(&a.media_type),
                size = a.size,
                sha = e(&a.sha256),
            )
        })
        .collect();
    if !shared.is_empty() {
        body.push_str(&format!(
            "<h2>Your files</h2>\n<ul>\n{}\n</ul>\n",
            shared.join("\n")
        ));
    }
    let limits = state.settings.attachments;
    body.push_str(&format!(
        "<form method=\"post\" action=\"/portal/{t}/reply\" enctype=\"multipart/form-data\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{c}\">\n\
         <p><label for=\"text\">Write to the security team</label><br>\n\
         <textarea id=\"text\" name=\"text\" rows=\"6\" cols=\"60\"></textarea></p>\n\
         <p><label for=\"attachments\">Files (up to {n} of at most {size} each)</label><br>\n\
         <input id=\"attachments\" name=\"attachments\" type=\"file\" multiple></p>\n\
         <p><button type=\"submit\">Send</button></p>\n</form>\n",
        t = e(&token),
        c = e(&csrf),
        n = limits.max_count,
        size = e(&limits.describe_size()),
    ));
    let credit = case.reporter.name.as_deref();
    body.push_str(&format!(
        "<h2>Credit</h2>\n<p>{}</p>\n\
         <form method=\"post\" action=\"/portal/{t}/credit\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{c}\">\n\
         <p><label for=\"credit\">Name or handle to credit (leave empty for no credit)</label><br>\n\
         <input id=\"credit\" name=\"credit\" value=\"{v}\" size=\"40\" maxlength=\"200\"></p>\n\
         <p><button type=\"submit\">Save the credit preference</button></p>\n</form>\n",
        match credit {
            Some(name) => format!("You will be credited as <strong>{}</strong>.", e(name)),
            None => "You will not be credited by name.".to_owned(),
        },
        t = e(&token),
        c = e(&csrf),
        v = e(credit.unwrap_or_default()),
    ));
    let html = page(
        &format!("Your report {}", case.reference),
        policy.language(),
        &body,
    );
    pages::html(
        StatusCode::OK,
        html,
        Some((PORTAL_COOKIE, &csrf, "/portal")),
    )
}

fn expired() -> Response {
    let html = page(
        "The form expired",
        "en",
        "<h1>The form expired</h1><p>Go back to your report's page and send it again.</p>",
    );
    pages::html(StatusCode::FORBIDDEN, html, None)
}

fn not_sent(token: &str, status: StatusCode, message: &str) -> Response {
    let html = page(
        "Not sent",
        "en",
        &format!(
            "<h1>That was not sent</h1><p>{}</p><p><a href=\"/portal/{}\">Back to your report</a></p>",
            escape_html(message),
            escape_html(token)
        ),
    );
    pages::html(status, html, None)
}

/// Back to the portal when the store took the post, else why it did not.
fn back_to_portal<T>(token: &str, stored: Result<T, embargo_store::StoreError>) -> Response {
    match stored {
        Ok(_) => {
            let location = format!("/portal/{token}");
            (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
        }
        Err(e) => {
            let e = crate::error::ApiError::from(e);
            not_sent(token, e.status, &e.message)
        }
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
    let sent = state
        .store
        .reporter_message(reference, &text, files, None, state.now())
        .await;
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
    let saved = state
        .store
        .reporter_credit(reference, credit, state.now())
        .await;
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
