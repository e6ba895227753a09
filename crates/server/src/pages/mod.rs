//! Server-rendered HTML pages. They work with JavaScript off, carry no inline
//! script or style (the Content-Security-Policy forbids both), and escape
//! every value they show.

pub mod advisories;
pub mod calculator;
pub mod documents;
pub mod policy;
pub mod portal;
pub mod report;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// A short public page that says one thing (a refusal, an expired form, a
/// link no longer valid) and, when there is one, the way back.
pub(crate) fn notice(
    status: StatusCode,
    heading: &str,
    message: &str,
    back: Option<(&str, &str)>,
) -> Response {
    let (back_href, back_text) = back.unzip();
    let page = crate::templates::page(
        "notice.html",
        minijinja::context! { title => heading, heading, message, back_href, back_text },
    );
    html(status, page, None)
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
