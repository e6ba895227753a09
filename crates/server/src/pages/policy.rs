//! The policy's published documents: security.txt (RFC 9116) and the policy
//! page.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use embargo_core::publish;

use crate::state::AppState;

/// RFC 9116 security.txt, rendered from the installation's policy.
#[utoipa::path(get, path = "/.well-known/security.txt", tag = "policy",
    responses((status = 200, description = "security.txt", body = String, content_type = "text/plain")))]
pub async fn security_txt(State(state): State<AppState>) -> impl IntoResponse {
    let policy = state.settings.policies.primary();
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        publish::security_txt(policy, &state.settings.public_url, state.now()),
    )
}

/// The public policy page.
#[utoipa::path(get, path = "/policy", tag = "policy",
    responses((status = 200, description = "The policy as a web page", body = String, content_type = "text/html")))]
pub async fn policy_page(State(state): State<AppState>) -> impl IntoResponse {
    let policy = state.settings.policies.primary();
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        publish::policy_html(policy, &state.settings.public_url),
    )
}
