//! The team's web interface ("the desk"): server-rendered pages over the same
//! store and rules as the JSON API. Templates are minijinja files compiled
//! into the binary and auto-escaped; forms carry the session's CSRF token in
//! a hidden field; the only script is `/static/embargo.js`, which enhances
//! pages that already work without it.

pub mod account;
pub mod cases;
pub mod charts;
pub mod cra;
pub mod customers;
pub mod dashboard;
pub mod deliveries;
pub mod policy;
pub mod portfolio;
pub mod rules;
pub mod team;
pub mod webhooks;

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use embargo_core::Instant;
use embargo_core::auth::Role;
use minijinja::Value;
use serde::Serialize;

use crate::auth::{Caller, Credential, csrf_token};
use crate::error::ApiError;
use crate::state::AppState;

/// Renders `template` with `context` as a complete HTML response.
pub(crate) fn render(status: StatusCode, template: &str, context: Value) -> Response {
    crate::templates::render(status, template, context)
}

pub(crate) use crate::app::when;

/// A duration in the largest sensible unit: `3 d 4 h`, `5 h 10 min`, `12 min`.
pub(crate) fn span(seconds: i64) -> String {
    let s = seconds.abs();
    let (d, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    if d > 0 {
        format!("{d} d {h} h")
    } else if h > 0 {
        format!("{h} h {m} min")
    } else {
        format!("{m} min")
    }
}

/// A signed-in team member looking at the desk.
#[derive(Debug, Clone)]
pub struct Desk {
    pub caller: Caller,
    /// The token every form must carry (empty for API-token callers, who
    /// carry no ambient credential and need none).
    pub csrf: String,
    /// What a refused form held, shown in it again so nothing typed is
    /// lost (never the CSRF token or a password).
    pub(crate) posted: HashMap<String, String>,
}

#[derive(Debug, Serialize)]
struct UserView<'a> {
    username: &'a str,
    role: &'a str,
}

impl Desk {
    /// The context every desk page starts from: who is signed in, the CSRF
    /// token, the page title and the navigation section.
    pub(crate) fn context(&self, title: &str, section: &str) -> HashMap<&'static str, Value> {
        let mut ctx = HashMap::new();
        ctx.insert(
            "user",
            Value::from_serialize(UserView {
                username: &self.caller.user.username,
                role: self.caller.user.role.as_str(),
            }),
        );
        ctx.insert("csrf", Value::from(self.csrf.clone()));
        ctx.insert("posted", Value::from_serialize(&self.posted));
        ctx.insert("title", Value::from(title.to_owned()));
        ctx.insert("section", Value::from(section.to_owned()));
        ctx.insert(
            "can_act",
            Value::from(self.caller.user.role >= Role::Responder),
        );
        ctx.insert(
            "is_admin",
            Value::from(self.caller.user.role >= Role::Admin),
        );
        ctx
    }

    /// A page for this member.
    pub(crate) fn page(
        &self,
        status: StatusCode,
        template: &str,
        ctx: HashMap<&'static str, Value>,
    ) -> Response {
        render(status, template, Value::from_iter(ctx))
    }

    /// Fails with a 403 page unless the member's role is at least `role`.
    pub(crate) fn require(&self, role: Role) -> Result<(), PageError> {
        self.caller.require(role).map_err(PageError)
    }
}

/// Where an anonymous visitor goes: the sign-in form, then back here.
fn to_login(parts: &Parts) -> Response {
    let here = parts
        .uri
        .path_and_query()
        .map_or("/desk", |p| p.as_str())
        .to_owned();
    let next: String = form_urlencoded::byte_serialize(here.as_bytes()).collect();
    redirect(&format!("/login?next={next}"))
}

/// A 303 to `location` (a path on this server).
pub(crate) fn redirect(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

impl FromRequestParts<AppState> for Desk {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match crate::auth::identify(&parts.headers, state).await {
            Ok(Some((caller, secret))) => Ok(Desk {
                caller,
                // API-token callers carry no ambient credential: no token.
                csrf: secret.as_deref().map(csrf_token).unwrap_or_default(),
                posted: HashMap::new(),
            }),
            Ok(None) => Err(to_login(parts)),
            Err(e) => Err(PageError(e).into_response()),
        }
    }
}

/// A posted desk form: the member, and the fields once the CSRF token in
/// the form matched the session's. Every desk handler that changes data
/// takes this, so none can forget the check.
#[derive(Debug)]
pub struct DeskForm {
    pub desk: Desk,
    pub values: HashMap<String, String>,
}

/// A list's `page` parameter: from 1, 1 when absent or blank.
pub(crate) fn page_number(raw: Option<&str>) -> Result<u64, PageError> {
    match raw.map(str::trim).filter(|p| !p.is_empty()) {
        None => Ok(1),
        Some(p) => p.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
            PageError(crate::error::ApiError::invalid(
                "page",
                format!("page: `{p}` is not a page number"),
            ))
        }),
    }
}

impl DeskForm {
    /// The member, with this form's fields to show again in a refused form.
    pub(crate) fn desk_keeping_values(&self) -> Desk {
        let mut desk = self.desk.clone();
        desk.posted = self
            .values
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "csrf" | "password" | "secret"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        desk
    }

    /// A field, trimmed; `None` when absent or blank.
    pub(crate) fn text(&self, name: &str) -> Option<String> {
        self.values
            .get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }
}

/// A `YYYY-MM-DD` field of a form as midnight UTC; `None` when blank.
pub(crate) fn day_field(form: &DeskForm, name: &str) -> Result<Option<Instant>, ApiError> {
    match form.text(name) {
        None => Ok(None),
        Some(d) => chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| Some(t.and_utc()))
            .ok_or_else(|| {
                ApiError::invalid(name, format!("{name}: write the date as YYYY-MM-DD"))
            }),
    }
}

impl FromRequest<AppState> for DeskForm {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let desk = Desk::from_request_parts(&mut parts, state).await?;
        let request = Request::from_parts(parts, body);
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let values = crate::forms::form_values(&bytes);
        if matches!(desk.caller.credential, Credential::Session(_)) {
            let sent = values.get("csrf").map(String::as_str).unwrap_or_default();
            if sent.is_empty() || sent != desk.csrf {
                return Err(PageError(ApiError::forbidden(
                    "This form expired or did not come from this site. Go back, reload the page and try again.",
                ))
                .into_response());
            }
        }
        Ok(DeskForm { desk, values })
    }
}

/// An error shown as a page: the status and the message, nothing internal.
#[derive(Debug)]
pub struct PageError(pub ApiError);

impl<E: Into<ApiError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let e = self.0;
        let heading = match e.status {
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::CONFLICT => "Not possible now",
            StatusCode::UNPROCESSABLE_ENTITY => "Please check the form",
            s if s.is_server_error() => "Something went wrong",
            _ => "Not done",
        };
        let ctx = minijinja::context! {
            title => heading,
            heading => heading,
            message => e.message,
            link => ("/desk", "Back to the dashboard"),
        };
        let mut response = render(e.status, "message.html", ctx);
        if let Some(r) = e.retry_after
            && let Ok(v) = HeaderValue::from_str(&r.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

pub(crate) type PageResult = Result<Response, PageError>;

/// The stylesheet.
#[utoipa::path(get, path = "/static/embargo.css", tag = "desk", security(()),
    responses((status = 200, description = "The stylesheet", body = String, content_type = "text/css")))]
pub async fn stylesheet() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../assets/embargo.css"),
    )
}

/// The script that enhances pages (they work without it).
#[utoipa::path(get, path = "/static/embargo.js", tag = "desk", security(()),
    responses((status = 200, description = "The script", body = String, content_type = "text/javascript")))]
pub async fn script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../assets/embargo.js"),
    )
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// The public front page: where to report, the policy, the advisories.
#[utoipa::path(get, path = "/", tag = "desk", security(()),
    responses((status = 200, description = "The front page", body = String, content_type = "text/html")))]
pub async fn home(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    let policy = state.settings.policies.primary();
    render(
        StatusCode::OK,
        "home.html",
        minijinja::context! {
            title => format!("{} security", policy.organization.name),
            organization => policy.organization.name.clone(),
            lang => policy.language(),
        },
    )
}
