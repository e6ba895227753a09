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
use embargo_core::publish::escape_html;

/// A complete page around `body`.
pub(crate) fn page(title: &str, lang: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<link rel=\"stylesheet\" href=\"/static/embargo.css\">\n</head>\n<body>\n\
         <header class=\"site\"><a class=\"brand\" href=\"/\">Security</a></header>\n\
         <main>\n{body}</main>\n</body>\n</html>\n",
        lang = escape_html(lang),
        title = escape_html(title),
    )
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
