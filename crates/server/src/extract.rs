//! Request extractors that fail with embargo's JSON errors, naming the field.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body: `application/json`, within the size limit, every field known,
/// every required field present. Errors name the field as a dotted path.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                let v = v.trim();
                v.eq_ignore_ascii_case("application/json")
                    || v.to_ascii_lowercase().ends_with("+json")
            });
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with `Content-Type: application/json`",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "the request body is larger than this server accepts (see `max_body_bytes`)",
                )
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.body_text())
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses JSON into `T`, turning serde's message into an error naming the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("the body is not valid JSON: {inner}"),
            );
        }
        describe_shape_error(&path, &inner.to_string())
    })?;
    de.end().map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    Ok(value)
}

/// Well-formed input of the wrong shape: a missing, unknown or mistyped field.
fn describe_shape_error(path: &str, message: &str) -> ApiError {
    let named = message.split('`').nth(1).map(str::to_owned);
    let join = |name: &str| {
        if path.is_empty() || path == "." {
            name.to_owned()
        } else if path == name || path.ends_with(&format!(".{name}")) {
            // serde_path_to_error already descended into the unknown field.
            path.to_owned()
        } else {
            format!("{path}.{name}")
        }
    };
    let (code, field) = if message.starts_with("missing field") {
        ("missing_field", named.as_deref().map(join))
    } else if message.starts_with("unknown field") {
        ("unknown_field", named.as_deref().map(join))
    } else if message.starts_with("unknown variant") {
        (
            "invalid_field",
            Some(if path.is_empty() || path == "." {
                "action".to_owned()
            } else {
                path.to_owned()
            }),
        )
    } else {
        (
            "invalid_field",
            (!path.is_empty() && path != ".").then(|| path.to_owned()),
        )
    };
    let message = match &field {
        Some(f) => format!("{f}: {message}"),
        None => message.to_owned(),
    };
    let mut err = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message);
    err.field = field;
    err
}

/// A query string with every parameter known; errors name the parameter.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| {
                let path = e.path().to_string();
                let mut err = describe_shape_error(&path, &e.into_inner().to_string());
                err.status = StatusCode::BAD_REQUEST;
                err
            })
    }
}

/// The client's address for rate limits: the connection's, or behind a
/// reverse proxy the first `X-Forwarded-For` entry.
pub(crate) fn client_address(
    state: &crate::state::AppState,
    peer: std::net::SocketAddr,
    headers: &axum::http::HeaderMap,
) -> String {
    if state.settings.behind_proxy {
        headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| peer.ip().to_string())
    } else {
        peer.ip().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        title: String,
        inner: Inner,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        n: u32,
    }

    fn err(json: &str) -> ApiError {
        parse_json::<Outer>(json.as_bytes()).unwrap_err()
    }

    #[test]
    fn errors_name_the_field() {
        let e = err(r#"{"title":"x"}"#);
        assert_eq!(
            (e.code, e.field.as_deref()),
            ("missing_field", Some("inner"))
        );
        let e = err(r#"{"title":"x","inner":{"n":1,"zz":2}}"#);
        assert_eq!(
            (e.code, e.field.as_deref()),
            ("unknown_field", Some("inner.zz"))
        );
        let e = err(r#"{"title":5,"inner":{"n":1}}"#);
        assert_eq!(
            (e.code, e.field.as_deref()),
            ("invalid_field", Some("title"))
        );
        let e = err(r#"{"title":"x","inner":{"n":1}} trailing"#);
        assert_eq!(e.code, "invalid_json");
        let e = err(r#"{"title":"#);
        assert_eq!(
            (e.code, e.status),
            ("invalid_json", StatusCode::BAD_REQUEST)
        );
    }

    #[test]
    fn query_values_decode() {
        #[derive(Debug, serde::Deserialize, PartialEq)]
        #[serde(deny_unknown_fields)]
        struct Q {
            a: Option<String>,
            n: Option<u32>,
        }
        let parse = |q: &'static str| -> Result<Q, _> {
            serde_path_to_error::deserialize(serde_urlencoded::Deserializer::new(
                form_urlencoded::parse(q.as_bytes()),
            ))
        };
        let q = parse("a=Dock+Certs%21&n=5").unwrap();
        assert_eq!(
            q,
            Q {
                a: Some("Dock Certs!".into()),
                n: Some(5)
            }
        );
        assert!(parse("x=1").is_err());
        assert!(parse("n=many").is_err());
    }
}
