//! HTML forms, as every page that takes one reads it: the fields of a
//! urlencoded body, and the double-submit CSRF token of a form that is
//! posted before anyone signs in (the report form, the sign-in form).

use std::collections::HashMap;

use axum::http::HeaderMap;
use embargo_core::auth;

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
