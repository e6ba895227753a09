//! Bounds on free text, shared by every validated field.

use super::DomainError;

/// Checks a required text field: present after trimming, at most `max` characters,
/// and free of control characters other than newline and tab.
pub(crate) fn required(
    field: &'static str,
    value: &str,
    max: usize,
) -> Result<String, DomainError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    bounded(field, trimmed, max).map(str::to_owned)
}

/// Checks an optional text field; an empty or blank value becomes `None`.
pub(crate) fn optional(
    field: &'static str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, DomainError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => bounded(field, v, max).map(|v| Some(v.to_owned())),
    }
}

fn bounded<'a>(field: &'static str, value: &'a str, max: usize) -> Result<&'a str, DomainError> {
    let count = value.chars().count();
    if count > max {
        return Err(DomainError::invalid(
            field,
            format!("is {count} characters long; the limit is {max}"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(DomainError::invalid(field, "contains control characters"));
    }
    Ok(value)
}

/// A single-line text field (titles, names, products): no line breaks.
pub(crate) fn single_line(
    field: &'static str,
    value: &str,
    max: usize,
) -> Result<String, DomainError> {
    let v = required(field, value, max)?;
    if v.contains(['\n', '\r', '\t']) {
        return Err(DomainError::invalid(field, "must be a single line"));
    }
    Ok(v)
}
