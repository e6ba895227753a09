//! Reading uploads within their limits: HTML forms with files
//! (`multipart/form-data`, or `application/x-www-form-urlencoded` without),
//! raw request bodies for the API's attachment routes, and the download
//! response that serves a file back.
//!
//! Limits are enforced while the body streams in, so an oversize file costs
//! the server at most the limit plus one chunk, and the client learns the
//! limit in the 413.

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use embargo_core::attachment::{
    Attachment, AttachmentLimits, NewAttachment, clean_filename, describe_bytes,
};
use embargo_core::auth;
use embargo_store::AttachmentFile;

use crate::error::ApiError;

/// A submitted form: its text fields and its files.
#[derive(Debug, Default)]
pub struct Upload {
    pub fields: HashMap<String, String>,
    pub files: Vec<NewAttachment>,
    /// The first file refused (too large, one too many), if any: the rest of
    /// the form is still read, so a page can show it again with the error.
    pub refused: Option<ApiError>,
}

fn too_large(what: &str, limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!(
            "{what} is larger than the limit of {}",
            describe_bytes(limit)
        ),
    )
    .with_field("attachments")
}

fn too_many(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_many_files",
        format!("at most {limit} files may be attached at once"),
    )
    .with_field("attachments")
}

fn malformed(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "malformed_form", message)
}

fn declared_length(headers: &HeaderMap) -> Option<usize> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// Reads a posted form. `text_limit` bounds the text fields together (and a
/// form without files as a whole); each file is bounded by `limits`.
pub async fn read_form(
    headers: &HeaderMap,
    body: Body,
    text_limit: usize,
    limits: AttachmentLimits,
) -> Result<Upload, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Ok(boundary) = multer::parse_boundary(content_type) else {
        // A form without files.
        if declared_length(headers).is_some_and(|n| n > text_limit) {
            return Err(too_large("the form", text_limit));
        }
        let bytes = axum::body::to_bytes(body, text_limit)
            .await
            .map_err(|_| too_large("the form", text_limit))?;
        return Ok(Upload {
            fields: crate::forms::form_values(&bytes),
            ..Upload::default()
        });
    };
    // Whole-stream bound: every file at its limit, the text, and framing.
    let whole = limits
        .max_bytes
        .saturating_mul(limits.max_count)
        .saturating_add(text_limit)
        .saturating_add(64 * 1024);
    if declared_length(headers).is_some_and(|n| n > whole) {
        return Err(too_large("the submission", whole));
    }
    let constraints =
        multer::Constraints::new().size_limit(multer::SizeLimit::new().whole_stream(whole as u64));
    let mut multipart =
        multer::Multipart::with_constraints(body.into_data_stream(), boundary, constraints);
    let mut upload = Upload::default();
    let mut text_bytes = 0usize;
    let mut parts = 0usize;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(multer::Error::StreamSizeExceeded { .. }) => {
                return Err(too_large("the submission", whole));
            }
            Err(e) => return Err(malformed(format!("the form could not be read: {e}"))),
        };
        parts += 1;
        if parts > 64 + limits.max_count {
            return Err(malformed("the form has too many parts"));
        }
        let name = field.name().unwrap_or_default().to_owned();
        if name.len() > 64 {
            return Err(malformed("a form field's name is longer than 64 bytes"));
        }
        match field.file_name().map(str::to_owned) {
            Some(filename) => {
                let mut field = field;
                let mut content = Vec::new();
                let mut oversize = false;
                loop {
                    match field.chunk().await {
                        Ok(Some(chunk)) => {
                            // Past the limit the file is read and dropped.
                            if oversize || content.len() + chunk.len() > limits.max_bytes {
                                if !oversize {
                                    oversize = true;
                                    content = Vec::new();
                                    upload.refused.get_or_insert_with(|| {
                                        too_large(
                                            &format!("`{}`", clean_filename(&filename)),
                                            limits.max_bytes,
                                        )
                                    });
                                }
                                continue;
                            }
                            content.extend_from_slice(&chunk);
                        }
                        Ok(None) => break,
                        Err(multer::Error::StreamSizeExceeded { .. }) => {
                            return Err(too_large("the submission", whole));
                        }
                        Err(e) => {
                            return Err(malformed(format!("the form could not be read: {e}")));
                        }
                    }
                }
                // A file input left empty arrives as a part with no name and no bytes.
                if oversize || (content.is_empty() && filename.is_empty()) {
                    continue;
                }
                if upload.files.len() == limits.max_count {
                    upload
                        .refused
                        .get_or_insert_with(|| too_many(limits.max_count));
                    continue;
                }
                upload.files.push(NewAttachment { filename, content });
            }
            None => {
                let text = field
                    .text()
                    .await
                    .map_err(|e| malformed(format!("the form could not be read: {e}")))?;
                text_bytes += text.len();
                if text_bytes > text_limit {
                    return Err(too_large("the form's text", text_limit));
                }
                upload.fields.insert(name, text);
            }
        }
    }
    Ok(upload)
}

/// Reads a raw request body as one file named `filename`.
pub async fn read_file(
    headers: &HeaderMap,
    body: Body,
    filename: &str,
    limits: AttachmentLimits,
) -> Result<NewAttachment, ApiError> {
    if declared_length(headers).is_some_and(|n| n > limits.max_bytes) {
        return Err(too_large("the attachment", limits.max_bytes));
    }
    let content = axum::body::to_bytes(body, limits.max_bytes)
        .await
        .map_err(|_| too_large("the attachment", limits.max_bytes))?;
    Ok(NewAttachment {
        filename: filename.to_owned(),
        content: content.to_vec(),
    })
}

/// Checks and describes files for storage, each under a new random id.
pub fn describe(
    files: Vec<NewAttachment>,
    shared_with_reporter: bool,
    limits: AttachmentLimits,
) -> Result<Vec<AttachmentFile>, ApiError> {
    if files.len() > limits.max_count {
        return Err(too_many(limits.max_count));
    }
    files
        .into_iter()
        .map(|file| {
            let attachment =
                file.describe(auth::generate_token("att_"), shared_with_reporter, limits)?;
            Ok((attachment, file.content))
        })
        .collect()
}

/// A file as a download: never rendered by the browser, whatever it holds
/// (the security headers add a sandboxing Content-Security-Policy).
pub fn download(attachment: &Attachment, content: Vec<u8>) -> Response {
    // No bidirectional control reaches the saved file's name (files stored
    // before names were cleaned of them may still hold one).
    let name: String = attachment
        .filename
        .chars()
        .filter(|c| !embargo_core::html::is_bidi_control(*c))
        .collect();
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        percent_encode(&name)
    );
    let mut response = (StatusCode::OK, content).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// RFC 8187 percent-encoding of a header parameter value.
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_are_percent_encoded() {
        assert_eq!(percent_encode("poc é.txt"), "poc%20%C3%A9.txt");
        assert_eq!(percent_encode("a\"b"), "a%22b");
    }
}
