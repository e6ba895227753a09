//! Server-rendered HTML pages. They work with JavaScript off, carry no inline
//! script or style (the Content-Security-Policy forbids both), and escape
//! every value they show.

pub mod advisories;
pub mod calculator;
pub mod portal;
pub mod report;

use std::collections::HashMap;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use embargo_core::auth;
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

/// The fields of an `application/x-www-form-urlencoded` body (malformed: none).
pub(crate) fn form_values(body: &[u8]) -> HashMap<String, String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k.len() <= 64)
        .collect()
}

/// The form's CSRF token: the one in the cookie `name` when it is well
/// formed, else a new one (double submit: the form's hidden field must match).
pub(crate) fn csrf_token(headers: &HeaderMap, name: &str) -> String {
    crate::auth::cookie_value(headers, name)
        .filter(|c| c.len() == 68 && c.starts_with("frm_"))
        .unwrap_or_else(|| auth::generate_token("frm_"))
}

/// Whether a posted form carries the same CSRF token as its cookie `name`.
pub(crate) fn csrf_matches(
    headers: &HeaderMap,
    name: &str,
    values: &HashMap<String, String>,
) -> bool {
    let sent = values.get("csrf").map(String::as_str).unwrap_or_default();
    sent.starts_with("frm_") && crate::auth::cookie_value(headers, name).as_deref() == Some(sent)
}
