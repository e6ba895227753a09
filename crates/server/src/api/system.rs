//! Health, readiness, metrics, and the API description.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use crate::state::AppState;

/// Liveness: the process is up.
#[utoipa::path(get, path = "/healthz", tag = "system",
    responses((status = 200, description = "Alive", body = String, content_type = "text/plain")))]
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// Readiness: the database answers and every background job is alive; one
/// line per job says how its passes go.
#[utoipa::path(get, path = "/readyz", tag = "system",
    responses(
        (status = 200, description = "Ready", body = String, content_type = "text/plain"),
        (status = 503, description = "The database does not answer, or a background job has stopped", body = String, content_type = "text/plain"),
    ))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, String) {
    let jobs = state.jobs.snapshot();
    let mut lines: Vec<String> = jobs
        .iter()
        .map(|(name, s)| {
            let health = match (&s.last_error, s.running) {
                (_, false) => "stopped".to_owned(),
                (Some(e), true) => format!(
                    "running; {} of {} passes failed, the last: {e}",
                    s.failures,
                    s.passes + s.failures
                ),
                (None, true) => format!("running; {} passes", s.passes),
            };
            format!("job {name}: {health}")
        })
        .collect();
    let stopped: Vec<&str> = jobs
        .iter()
        .filter(|(_, s)| !s.running)
        .map(|(n, _)| *n)
        .collect();
    let status = match state.store.ping().await {
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            lines.insert(0, "database unavailable".into());
            StatusCode::SERVICE_UNAVAILABLE
        }
        Ok(()) if !stopped.is_empty() => {
            lines.insert(
                0,
                format!("background jobs stopped: {}", stopped.join(", ")),
            );
            StatusCode::SERVICE_UNAVAILABLE
        }
        Ok(()) => {
            lines.insert(0, "ready".into());
            StatusCode::OK
        }
    };
    (status, lines.join("\n") + "\n")
}

/// Prometheus metrics: request counts and latencies per route. With
/// `metrics_token` configured, only for `Authorization: Bearer <token>`.
#[utoipa::path(get, path = "/metrics", tag = "system",
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain"),
              (status = 401, description = "A metrics token is configured and was not given")))]
pub async fn metrics(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    if let Some(expected) = &state.settings.metrics_token_digest {
        use sha2::Digest;
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| sha2::Sha256::digest(t.trim().as_bytes()));
        let ok = given.is_some_and(|g| {
            // Constant time: every byte compared whatever the first mismatch.
            g.iter()
                .zip(expected)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
        });
        if !ok {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "the metrics token is required\n",
            )
                .into_response();
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render() + &state.jobs.render(),
    )
        .into_response()
}

/// This API's OpenAPI 3.1 description.
#[utoipa::path(get, path = "/api/openapi.json", tag = "system",
    responses((status = 200, description = "OpenAPI 3.1 document", body = Object)))]
pub async fn openapi(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.openapi_json.as_str().to_owned(),
    )
}
