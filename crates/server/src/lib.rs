//! embargo's HTTP server: the JSON API, authentication, health and metrics.
//!
//! [`app`] builds the whole router from a store; the CLI binds and serves it,
//! and the tests drive it over real HTTP on port 0.

pub mod api;
pub mod app;
pub mod auth;
pub mod clock;
pub mod delivery;
pub mod desk;
pub mod error;
pub mod escalation;
pub mod extract;
pub mod forms;
pub mod jobs;
pub mod limits;
pub mod mailbox;
pub mod metrics;
pub mod pages;
pub mod paging;
pub mod qr;
pub mod state;
pub mod templates;
pub mod upload;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use embargo_store::Store;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use state::{AppState, Clock, ServerSettings, system_clock};

use crate::error::ApiError;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "embargo",
        description = "The JSON API of embargo, a self-hosted product-security desk. \
            Authenticate with `Authorization: Bearer TOKEN` (API tokens), or sign in at \
            `POST /api/v1/session` and send the session cookie with the `X-CSRF-Token` \
            header on every request that changes data. Errors are \
            `{\"error\": {\"code\", \"message\", \"field\"?}}`. Any operation may \
            also answer `503 unavailable` (the database cannot be reached) or, when it \
            writes, `507 storage_full` (the database's disk is full; nothing was \
            saved), both with `Retry-After`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    modifiers(&SecuritySchemes),
    security(("bearer" = []), ("session" = [])),
    tags(
        (name = "cases", description = "Vulnerability cases and their workflow"),
        (name = "session", description = "Signing in and the signed-in account"),
        (name = "tokens", description = "API tokens"),
        (name = "users", description = "Team members (admins)"),
        (name = "reporter", description = "Public intake and the reporter's private thread"),
        (name = "notifications", description = "Webhooks, the delivery log and notification preferences"),
        (name = "policy", description = "Security policies, their published documents and clock metrics"),
        (name = "system", description = "Health, readiness, metrics and this document"),
        (name = "desk", description = "The team's web pages (HTML): sign-in, dashboard, queues, case pages, charts"),
    )
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "reporter",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The private token from a report's receipt (rep_…)"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(auth::SESSION_COOKIE))),
        );
    }
}

/// Every route with its documentation. The router and the OpenAPI document
/// come from this one list, so neither can miss a route the other has.
fn routes() -> OpenApiRouter<AppState> {
    use api::{
        advisories, attachments, cases, cra, notices, notifications, policy, portfolio, reporter,
        rules, session, severity, system, tokens, users,
    };
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(system::healthz))
        .routes(routes!(system::readyz))
        .routes(routes!(system::metrics))
        .routes(routes!(system::openapi))
        .routes(routes!(session::login, session::logout))
        .routes(routes!(session::me))
        .routes(routes!(session::change_password))
        .routes(routes!(cases::list_cases, cases::create_case))
        .routes(routes!(cases::get_case))
        .routes(routes!(cases::transition))
        .routes(routes!(cases::add_note))
        .routes(routes!(tokens::list_tokens, tokens::create_token))
        .routes(routes!(tokens::revoke_token))
        .routes(routes!(users::list_users, users::create_user))
        .routes(routes!(users::update_user))
        .routes(routes!(users::reset_password))
        .routes(routes!(users::reset_second_factor))
        .routes(routes!(users::sign_ins))
        .routes(routes!(crate::pages::policy::security_txt))
        .routes(routes!(crate::pages::policy::policy_page))
        .routes(routes!(policy::list_policies))
        .routes(routes!(policy::clock_metrics))
        .routes(routes!(
            notifications::list_webhooks,
            notifications::create_webhook
        ))
        .routes(routes!(notifications::update_webhook))
        .routes(routes!(notifications::list_deliveries))
        .routes(routes!(notifications::retry_delivery))
        .routes(routes!(notifications::case_deliveries))
        .routes(routes!(
            notifications::my_notifications,
            notifications::set_my_notifications
        ))
        .routes(routes!(cases::triage_aid))
        .routes(routes!(cra::bundle))
        .routes(routes!(cra::open_incident))
        .routes(routes!(cra::get_pack))
        .routes(routes!(cra::pack_schema))
        .routes(routes!(pages::report::form, pages::report::submit))
        .routes(routes!(pages::report::receipt))
        .routes(routes!(pages::portal::view))
        .routes(routes!(pages::portal::reply))
        .routes(routes!(reporter::submit_report))
        .routes(routes!(reporter::reporter_case))
        .routes(routes!(reporter::reporter_reply))
        .routes(routes!(reporter::rotate_token))
        .routes(routes!(reporter::message_reporter))
        .routes(routes!(reporter::revoke_reporter_tokens))
        .routes(routes!(reporter::set_credit))
        .routes(routes!(attachments::attach))
        .routes(routes!(attachments::case_attachment))
        .routes(routes!(attachments::reporter_attach))
        .routes(routes!(attachments::reporter_attachment))
        .routes(routes!(pages::portal::attachment))
        .routes(routes!(pages::portal::credit))
        .routes(routes!(advisories::save_draft, advisories::get_draft))
        .routes(routes!(advisories::publish))
        .routes(routes!(crate::pages::advisories::index))
        .routes(routes!(pages::documents::feed))
        .routes(routes!(crate::pages::advisories::advisory_page))
        .routes(routes!(pages::documents::advisory_file))
        .routes(routes!(pages::documents::provider_metadata))
        .routes(routes!(pages::documents::provider_index))
        .routes(routes!(pages::documents::provider_changes))
        .routes(routes!(pages::documents::provider_file))
        .routes(routes!(pages::documents::provider_key))
        .routes(routes!(severity::score))
        .routes(routes!(severity::set_from_vector))
        .routes(routes!(severity::weaknesses))
        .routes(routes!(crate::pages::calculator::calculator))
        .routes(routes!(portfolio::add_product, portfolio::list_products))
        .routes(routes!(portfolio::upload))
        .routes(routes!(portfolio::list_findings))
        .routes(routes!(portfolio::set_analysis))
        .routes(routes!(portfolio::add_customer, portfolio::list_customers))
        .routes(routes!(portfolio::set_customer_releases))
        .routes(routes!(portfolio::impact))
        .routes(routes!(portfolio::notify_impacted))
        .routes(routes!(portfolio::rematch))
        .routes(routes!(portfolio::import_sarif))
        .routes(routes!(portfolio::release_vex))
        .routes(routes!(portfolio::list_components))
        .routes(routes!(portfolio::release_csaf_vex))
        .routes(routes!(rules::add_rule, rules::list_rules))
        .routes(routes!(rules::switch_rule))
        .routes(routes!(rules::portfolio_metrics))
        .routes(routes!(rules::scan_gaps))
        .routes(routes!(rules::escalate))
        .routes(routes!(notices::preview, notices::notify))
        .routes(routes!(desk::home))
        .routes(routes!(desk::stylesheet))
        .routes(routes!(desk::script))
        .routes(routes!(desk::account::login_form, desk::account::login))
        .routes(routes!(desk::account::logout))
        .routes(routes!(desk::account::account))
        .routes(routes!(desk::account::change_password))
        .routes(routes!(desk::account::create_token))
        .routes(routes!(desk::account::revoke_token))
        .routes(routes!(desk::account::begin_totp))
        .routes(routes!(desk::account::confirm_totp))
        .routes(routes!(desk::account::renew_recovery_codes))
        .routes(routes!(desk::account::disable_totp))
        .routes(routes!(desk::dashboard::dashboard))
        .routes(routes!(desk::cases::queue))
        .routes(routes!(desk::cases::save_view))
        .routes(routes!(desk::cases::delete_view))
        .routes(routes!(desk::cases::case_page))
        .routes(routes!(desk::cases::act))
        .routes(routes!(desk::cases::bulk))
        .routes(routes!(desk::cra::pack_page, desk::cra::save_pack))
        .routes(routes!(desk::cases::set_cvss))
        .routes(routes!(desk::cases::save_advisory))
        .routes(routes!(desk::cases::publish_advisory))
        .routes(routes!(desk::cases::notify_customers))
        .routes(routes!(desk::portfolio::findings))
        .routes(routes!(desk::portfolio::set_analysis))
        .routes(routes!(
            desk::portfolio::products,
            desk::portfolio::add_product
        ))
        .routes(routes!(desk::portfolio::upload))
        .routes(routes!(desk::portfolio::escalate))
        .routes(routes!(desk::charts::charts))
        .routes(routes!(desk::deliveries::deliveries))
        .routes(routes!(desk::deliveries::retry))
        .routes(routes!(desk::team::team, desk::team::add_member))
        .routes(routes!(desk::team::member_action))
        .routes(routes!(desk::team::revoke_token))
        .routes(routes!(
            desk::webhooks::webhooks,
            desk::webhooks::add_webhook
        ))
        .routes(routes!(desk::webhooks::webhook_action))
        .routes(routes!(desk::policy::policies))
        .routes(routes!(
            desk::customers::customers,
            desk::customers::add_customer
        ))
        .routes(routes!(desk::customers::set_releases))
        .routes(routes!(desk::rules::rules, desk::rules::add_rule))
        .routes(routes!(desk::rules::rule_action))
        .routes(routes!(desk::dashboard::send_test_email))
        .routes(routes!(desk::dashboard::confirm_backups))
}

/// The OpenAPI 3.1 document of this server.
#[must_use]
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}

/// The application: every route, its middleware and state.
pub fn app(store: Store, settings: ServerSettings, clock: Clock) -> Router {
    router(state(store, settings, clock))
}

/// The state the handlers and background tasks (mailbox, escalation) share.
pub fn state(store: Store, settings: ServerSettings, clock: Clock) -> AppState {
    let openapi_json = openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    let intake_per_address = Arc::new(limits::RateLimiter::new(
        settings.intake_per_address_per_hour,
        3600,
    ));
    let intake_per_contact = Arc::new(limits::RateLimiter::new(
        settings.intake_per_contact_per_hour,
        3600,
    ));
    AppState {
        store,
        intake_per_address,
        intake_per_contact,
        settings: Arc::new(settings),
        clock,
        metrics: Arc::default(),
        openapi_json: Arc::new(openapi_json),
        vulndb: Arc::default(),
        jobs: Arc::default(),
        summaries_policy_checked: Arc::default(),
    }
}

/// Every route over `state`, with its middleware.
pub fn router(state: AppState) -> Router {
    let max_body = state.settings.max_body_bytes;
    let (router, _) = routes().split_for_parts();
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn(html_errors))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route; see /api/openapi.json")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method; see /api/openapi.json",
    )
}

/// A browser (it asks for `text/html`) that meets an error outside the
/// JSON API gets a page saying what went wrong, not the JSON an API client
/// reads; the API always answers JSON.
async fn html_errors(request: Request, next: Next) -> Response {
    let wants_html = !request.uri().path().starts_with("/api/")
        && request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"));
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json"));
    if !wants_html || !is_json || status.as_u16() < 400 {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let message = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .filter(|m| !m.starts_with("no such route"))
        .unwrap_or_else(|| match status.as_u16() {
            404 => "There is no page at this address.".to_owned(),
            _ => status.canonical_reason().unwrap_or("Error").to_owned(),
        });
    let title = match status.as_u16() {
        401 => "Sign in first",
        403 => "Not allowed",
        404 => "Not found",
        405 => "Not here",
        413 => "Too large",
        429 => "Too many requests",
        s if s >= 500 => "Something went wrong",
        _ => "That did not work",
    };
    let mut page = pages::notice(status, title, &message, Some(("/", "The security page")));
    for name in [header::RETRY_AFTER, header::WWW_AUTHENTICATE, header::ALLOW] {
        if let Some(v) = parts.headers.get(&name) {
            page.headers_mut().insert(name, v.clone());
        }
    }
    page
}

/// Headers every response carries: nothing is framed, sniffed, cached or
/// leaks a referrer, and no script runs from an API response.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await.into_response();
    let h = response.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // Files served back (attachments) are sandboxed as well: even a browser
    // that ignored the download disposition would run nothing from them.
    let download = h
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == b"application/octet-stream");
    let html = h
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(if download {
            "default-src 'none'; frame-ancestors 'none'; sandbox"
        } else if html {
            // Pages load the one stylesheet and script from here, and the
            // script talks only to this server. No inline script or style.
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
             connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        } else {
            "default-src 'none'; frame-ancestors 'none'"
        }),
    );
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// Serves `app` on `listener` until `shutdown` completes, then finishes the
/// requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Connection info gives handlers the client's address (intake rate limits).
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Records each request and logs one line for it (method, route, status,
/// latency; no query string, no headers, no body).
async fn track(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let started = std::time::Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let elapsed = started.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    state.metrics.record(&method, &route, status, elapsed);
    tracing::info!(
        target: "embargo::http",
        method,
        route,
        status,
        latency_ms = (elapsed * 1000.0).round(),
        "request"
    );
    response
}
