//! The policy's published documents: security.txt (RFC 9116) and the policy
//! page.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use embargo_core::publish;

use crate::state::AppState;

/// RFC 9116 security.txt, rendered from the installation's policy.
#[utoipa::path(get, path = "/.well-known/security.txt", tag = "policy",
    responses((status = 200, description = "security.txt", body = String, content_type = "text/plain"),
        (status = 503, description = "public_url is not https (RFC 9116 requires it): the answer names the setting", body = String, content_type = "text/plain")))]
pub async fn security_txt(State(state): State<AppState>) -> Response {
    let policy = state.settings.policies.primary();
    match publish::security_txt(policy, &state.settings.public_url, state.now()) {
        Ok(text) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response(),
        // No security.txt rather than a wrong one: the server log and the
        // answer say which setting to fix.
        Err(e) => {
            tracing::warn!(error = %e, "security.txt not served");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!("security.txt is not available: {e}\n"),
            )
                .into_response()
        }
    }
}

/// The public policy page.
#[utoipa::path(get, path = "/policy", tag = "policy",
    responses((status = 200, description = "The policy as a web page", body = String, content_type = "text/html")))]
pub async fn policy_page(State(state): State<AppState>) -> impl IntoResponse {
    let policy = state.settings.policies.primary();
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        crate::templates::page(
            "policy.html",
            minijinja::context! {
                title => format!("Security policy: {}", policy.organization.name),
                lang => policy.language(),
                // Built by `publish::policy_body_html`, every value escaped.
                body => minijinja::Value::from_safe_string(
                    publish::policy_body_html(policy, &state.settings.public_url),
                ),
            },
        ),
    )
}
