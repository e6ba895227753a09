//! The reporter's portal behind their private link (`/portal/{token}`): the
//! report, its status in plain words, the public clocks, the thread, and a
//! reply box. Only that case, and nothing the team keeps to itself.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use embargo_core::auth::token_digest;
use embargo_core::clock;
use embargo_core::publish::escape_html;
use embargo_core::{CaseRef, EventKind};

use crate::api::reporter::REPORTER_PREFIX;
use crate::pages::{self, page};
use crate::state::AppState;

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
    let csrf = pages::csrf_token(&headers, PORTAL_COOKIE);
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
    body.push_str(&format!(
        "<form method=\"post\" action=\"/portal/{t}/reply\">\n<input type=\"hidden\" name=\"csrf\" value=\"{c}\">\n\
         <p><label for=\"text\">Write to the security team</label><br>\n\
         <textarea id=\"text\" name=\"text\" rows=\"6\" cols=\"60\" required></textarea></p>\n\
         <p><button type=\"submit\">Send</button></p>\n</form>\n",
        t = e(&token),
        c = e(&csrf)
    ));
    let html = page(
        &format!("Your report {}", case.reference),
        policy
            .organization
            .languages
            .first()
            .map_or("en", String::as_str),
        &body,
    );
    pages::html(
        StatusCode::OK,
        html,
        Some((PORTAL_COOKIE, &csrf, "/portal")),
    )
}

/// Send a message to the team from the portal.
#[utoipa::path(post, path = "/portal/{token}/reply", tag = "reporter", security(()),
    params(("token" = String, Path, description = "The private token from the receipt")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Back to the portal"),
        (status = 403, description = "The form's CSRF token does not match", body = String, content_type = "text/html"),
        (status = 404, description = "Not a valid link", body = String, content_type = "text/html"),
        (status = 422, description = "An empty or overlong message", body = String, content_type = "text/html"),
    ))]
pub async fn reply(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(reference) = case_for(&state, &token).await else {
        return not_found();
    };
    let values = pages::form_values(&body);
    if !pages::csrf_matches(&headers, PORTAL_COOKIE, &values) {
        let html = page(
            "The form expired",
            "en",
            "<h1>The form expired</h1><p>Go back to your report's page and send the message again.</p>",
        );
        return pages::html(StatusCode::FORBIDDEN, html, None);
    }
    let text = values.get("text").cloned().unwrap_or_default();
    match state
        .store
        .reporter_message(reference, &text, state.now())
        .await
    {
        Ok(_) => {
            let location = format!("/portal/{token}");
            (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
        }
        Err(e) => {
            let html = page(
                "Message not sent",
                "en",
                &format!(
                    "<h1>Your message was not sent</h1><p>{}</p>",
                    escape_html(&e.to_string())
                ),
            );
            pages::html(StatusCode::UNPROCESSABLE_ENTITY, html, None)
        }
    }
}
