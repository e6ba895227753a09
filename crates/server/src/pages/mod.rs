//! Server-rendered HTML pages. They work with JavaScript off, carry no inline
//! script or style (the Content-Security-Policy forbids both), and escape
//! every value they show.

pub mod advisories;
pub mod calculator;
pub mod policy;
pub mod portal;
pub mod report;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// A complete page around `body` (already escaped HTML).
pub(crate) fn page(title: &str, lang: &str, body: &str) -> String {
    crate::templates::public_page(title, lang, body)
}

/// An HTML response, optionally setting a form's CSRF cookie scoped to `path`.
pub(crate) fn html(
    status: StatusCode,
    body: String,
    csrf_cookie: Option<(&str, &str, &str)>,
) -> Response {
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response();
    if let Some((name, value, path)) = csrf_cookie
        && let Ok(v) = HeaderValue::from_str(&format!(
            "{name}={value}; Path={path}; HttpOnly; SameSite=Strict; Max-Age=7200"
        ))
    {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}
