//! The public report form at `/report`: the policy's fields with their help
//! text, errors beside the field they concern, input kept on error, a CSRF
//! token (double submit: a cookie and a hidden field that must match), and a
//! honeypot field that people never see and bots fill in.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use embargo_core::attachment::AttachmentLimits;
use embargo_core::policy::{IntakeField, Policy};
use embargo_core::{NewCase, ReportContent, Reporter};
use minijinja::{Value, context};

use crate::app::intake;
use crate::error::ApiError;
use crate::extract::client_address;
use crate::pages;
use crate::state::AppState;
use crate::templates;
use crate::upload;

const FORM_COOKIE: &str = "embargo_form";

/// The form's fields: name, label, whether it is a text area, and the intake
/// field a policy may require.
const FIELDS: &[(&str, &str, bool, Option<IntakeField>)] = &[
    ("title", "Title", false, None),
    ("product", "Product", false, None),
    (
        "summary",
        "Summary: one or two sentences",
        true,
        Some(IntakeField::Summary),
    ),
    (
        "description",
        "Description of the vulnerability",
        true,
        Some(IntakeField::Description),
    ),
    (
        "steps_to_reproduce",
        "Steps to reproduce the issue",
        true,
        Some(IntakeField::StepsToReproduce),
    ),
    (
        "impact",
        "Potential impact",
        true,
        Some(IntakeField::Impact),
    ),
    (
        "suggested_mitigation",
        "Mitigations you have identified",
        true,
        Some(IntakeField::SuggestedMitigation),
    ),
    (
        "affected_versions",
        "Affected versions",
        false,
        Some(IntakeField::AffectedVersions),
    ),
    (
        "contact",
        "Your email address (leave empty to stay anonymous)",
        false,
        Some(IntakeField::Contact),
    ),
    ("name", "Name or handle to credit (optional)", false, None),
    (
        "pgp_key",
        "Your OpenPGP public key, to encrypt our emails to you (optional, ASCII-armored)",
        true,
        None,
    ),
    (
        "disclosure_deadline",
        "Your disclosure date, if you have one (YYYY-MM-DD)",
        false,
        None,
    ),
    (
        "exploited_evidence",
        "Is it being exploited in the wild? If you know it is, your evidence (optional)",
        true,
        None,
    ),
];

fn required(policy: &Policy, field: Option<IntakeField>, name: &str) -> bool {
    matches!(name, "title" | "product" | "summary" | "description")
        || field.is_some_and(|f| policy.intake.required.contains(&f))
}

/// Why the form is shown again with what was typed, above the fields.
struct Banner {
    text: String,
    /// Also list the policy's other ways to report (when embargo itself
    /// refused for now).
    other_channels: bool,
}

fn render_form(
    policy: &Policy,
    attachment_limits: AttachmentLimits,
    values: &HashMap<String, String>,
    errors: &HashMap<String, String>,
    csrf: &str,
    banner: Option<Banner>,
) -> String {
    // One id per filled form: sent twice (a reload, a double click, the back
    // button) it opens one case.
    let submission = values
        .get("submission")
        .filter(|v| v.len() <= 100 && v.starts_with("sub_"))
        .cloned()
        .unwrap_or_else(|| embargo_core::auth::generate_token("sub_"));
    let mut channels: Vec<String> = Vec::new();
    if banner.as_ref().is_some_and(|b| b.other_channels) {
        for c in policy
            .organization
            .contacts
            .iter()
            .chain(&policy.intake.channels)
        {
            let shown = c.strip_prefix("mailto:").unwrap_or(c).to_owned();
            if !channels.contains(&shown) {
                channels.push(shown);
            }
        }
    }
    let banner = banner.map(|b| b.text);
    let fields: Vec<Value> = FIELDS
        .iter()
        .map(|(name, label, area, field)| {
            context! {
                name,
                label,
                area,
                required => required(policy, *field, name),
                value => values.get(*name).map(String::as_str).unwrap_or_default(),
                error => errors.get(*name),
            }
        })
        .collect();
    templates::page(
        "report_form.html",
        context! {
            title => format!("Report a vulnerability to {}", policy.organization.name),
            lang => policy.language(),
            organization => &policy.organization.name,
            guidance => &policy.intake.guidance,
            has_errors => !errors.is_empty(),
            csrf,
            submission,
            banner,
            channels,
            fields,
            files => context! {
                max_count => attachment_limits.max_count,
                max_size => attachment_limits.describe_size(),
                error => errors.get("attachments"),
            },
        },
    )
}

fn html_response(status: StatusCode, html: String, cookie: Option<&str>) -> Response {
    pages::html(status, html, cookie.map(|c| (FORM_COOKIE, c, "/report")))
}

/// The report form.
#[utoipa::path(get, path = "/report", tag = "reporter", security(()),
    responses((status = 200, description = "The report form", body = String, content_type = "text/html")))]
pub async fn form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let csrf = crate::forms::csrf_token(&headers, FORM_COOKIE);
    let policy = state.settings.policies.primary();
    html_response(
        StatusCode::OK,
        render_form(
            policy,
            state.settings.attachments,
            &HashMap::new(),
            &HashMap::new(),
            &csrf,
            None,
        ),
        Some(&csrf),
    )
}

/// Submit the report form.
#[utoipa::path(post, path = "/report", tag = "reporter", security(()),
    request_body(content = String, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "The receipt page", body = String, content_type = "text/html"),
        (status = 400, description = "A malformed form body", body = String, content_type = "text/html"),
        (status = 403, description = "The form's CSRF token does not match", body = String, content_type = "text/html"),
        (status = 413, description = "A file over the limit: the form again, with the limit beside the files", body = String, content_type = "text/html"),
        (status = 422, description = "The form again, with the errors beside their fields", body = String, content_type = "text/html"),
        (status = 429, description = "Too many reports", body = String, content_type = "text/html"),
    ))]
pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let limits = state.settings.attachments;
    let upload =
        match upload::read_form(&headers, body, state.settings.max_body_bytes, limits).await {
            Ok(upload) => upload,
            Err(e) => return error_page(e),
        };
    let values = upload.fields;
    let policy = state.settings.policies.primary();
    if !crate::forms::csrf_matches(&headers, FORM_COOKIE, &values) {
        // Nothing is taken, but nothing typed is lost: the form again, filled
        // in, with a fresh token (and its cookie) to send it with.
        let csrf = embargo_core::auth::generate_token("frm_");
        let banner = Banner {
            text: "The form had expired, so your report was not sent yet. Your text is kept below: check it and send it again. Files have to be chosen again.".into(),
            other_channels: false,
        };
        return html_response(
            StatusCode::FORBIDDEN,
            render_form(
                policy,
                limits,
                &values,
                &HashMap::new(),
                &csrf,
                Some(banner),
            ),
            Some(&csrf),
        );
    }
    // Re-rendered forms keep the token the cookie already holds.
    let csrf = values.get("csrf").cloned().unwrap_or_default();
    let now = state.now();
    // A filled honeypot is a bot: thank it and keep nothing.
    if values.get("website").is_some_and(|v| !v.is_empty()) {
        tracing::info!(target: "embargo::intake", "honeypot filled; report dropped");
        return html_response(
            StatusCode::CREATED,
            receipt_page(policy, "EMB-0000-0000", None, None),
            None,
        );
    }
    let text = |k: &str| {
        values
            .get(k)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let mut errors: HashMap<String, String> = HashMap::new();
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    if let Some(refused) = upload.refused {
        status = refused.status;
        errors.insert(
            "attachments".into(),
            format!("{}. Please choose the files again.", refused.message),
        );
    }
    let files = match upload::describe(upload.files, true, limits) {
        Ok(files) => files,
        Err(e) => {
            status = e.status;
            errors.insert("attachments".into(), e.message);
            Vec::new()
        }
    };
    let deadline = match text("disclosure_deadline") {
        None => None,
        Some(d) => match chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d") {
            Ok(date) => date.and_hms_opt(0, 0, 0).map(|t| t.and_utc()),
            Err(_) => {
                errors.insert(
                    "disclosure_deadline".into(),
                    "Write the date as YYYY-MM-DD.".into(),
                );
                None
            }
        },
    };
    let request = NewCase {
        title: text("title").unwrap_or_default(),
        product: text("product").unwrap_or_default(),
        reporter: Reporter {
            contact: text("contact"),
            name: text("name"),
            pgp_key: text("pgp_key"),
        },
        report: ReportContent {
            summary: text("summary").unwrap_or_default(),
            description: text("description").unwrap_or_default(),
            steps_to_reproduce: text("steps_to_reproduce"),
            impact: text("impact"),
            suggested_mitigation: text("suggested_mitigation"),
            affected_versions: text("affected_versions"),
        },
        reporter_deadline: deadline,
        exploited_evidence: text("exploited_evidence"),
    };
    if !errors.is_empty() {
        // The form's own problems (files, dates) come with the report's.
        for problem in intake::problems(&state, &request) {
            errors
                .entry(form_field(&problem.field))
                .or_insert_with(|| format!("This {}.", problem.message));
        }
        return html_response(
            status,
            render_form(policy, limits, &values, &errors, &csrf, None),
            None,
        );
    }
    let submission = intake::Submission {
        channel: intake::Channel::WebForm,
        request,
        files,
        address: Some(client_address(&state, peer, &headers)),
        mail_key: None,
        idempotency_key: values
            .get("submission")
            .filter(|v| v.len() <= 100 && v.starts_with("sub_"))
            .cloned(),
    };
    match intake::submit_report(&state, submission, now).await {
        // Submit, redirect, receipt: reloading the receipt sends nothing.
        Ok(submitted) => receipt_redirect(&state, &submitted.token),
        Err(intake::Refused::Invalid(problems)) => {
            // Every problem at once, each beside its field.
            for problem in problems {
                errors
                    .entry(form_field(&problem.field))
                    .or_insert_with(|| format!("This {}.", problem.message));
            }
            html_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                render_form(policy, limits, &values, &errors, &csrf, None),
                None,
            )
        }
        Err(intake::Refused::TooMany(e)) => {
            let minutes = e.retry_after.unwrap_or(3600).div_ceil(60);
            let banner = Banner {
                text: format!(
                    "Too many reports came from your address or your email address in the last hour, so this one was not sent yet. Your text is kept below: send it again in {minutes} minutes, or use another way to reach the team."
                ),
                other_channels: true,
            };
            let mut response = html_response(
                StatusCode::TOO_MANY_REQUESTS,
                render_form(
                    policy,
                    limits,
                    &values,
                    &HashMap::new(),
                    &csrf,
                    Some(banner),
                ),
                None,
            );
            if let Some(r) = e.retry_after
                && let Ok(v) = HeaderValue::from_str(&r.to_string())
            {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            response
        }
        Err(refused) => error_page(ApiError::from(refused)),
    }
}

const RECEIPT_COOKIE: &str = "embargo_receipt";
const RECEIPT_PATH: &str = "/report/receipt";

/// A 303 to the receipt page, the reporter's token in a cookie only that
/// page reads (for a day): the token is never in a URL the browser keeps.
fn receipt_redirect(state: &AppState, token: &str) -> Response {
    let mut response = axum::response::IntoResponse::into_response((
        StatusCode::SEE_OTHER,
        [(header::LOCATION, HeaderValue::from_static(RECEIPT_PATH))],
    ));
    let cookie = format!(
        "{RECEIPT_COOKIE}={token}; Path={RECEIPT_PATH}; HttpOnly; SameSite=Strict; Max-Age=86400{}",
        if state.settings.secure_cookies {
            "; Secure"
        } else {
            ""
        }
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

/// The receipt of the report this browser just sent: its reference, the
/// private link, what happens next and whether a confirmation email comes.
/// Reloading it shows it again and sends nothing.
#[utoipa::path(get, path = "/report/receipt", tag = "reporter", security(()),
    responses(
        (status = 200, description = "The receipt page", body = String, content_type = "text/html"),
        (status = 404, description = "No receipt in this browser (it is kept a day)", body = String, content_type = "text/html"),
    ))]
pub async fn receipt(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let missing = || {
        pages::notice(
            StatusCode::NOT_FOUND,
            "No receipt here",
            "A report's receipt is shown in the browser that sent it, for a day. Your report's private link opens the report itself.",
            Some(("/report", "Report a vulnerability")),
        )
    };
    let Some(token) = crate::auth::cookie_value(&headers, RECEIPT_COOKIE)
        .filter(|t| t.len() <= 200 && t.starts_with(intake::REPORTER_PREFIX))
    else {
        return missing();
    };
    let digest = embargo_core::auth::token_digest(&token);
    let case = match state.store.reporter_case(&digest).await {
        Ok(Some(reference)) => match state.store.case(reference).await {
            Ok(case) => case,
            Err(e) => return error_page(ApiError::from(e)),
        },
        Ok(None) => return missing(),
        Err(e) => return error_page(ApiError::from(e)),
    };
    let policy = state.settings.policies.for_product(&case.product);
    let confirmation = intake::confirmation(&state, &case);
    html_response(
        StatusCode::OK,
        receipt_page(
            policy,
            &case.reference.to_string(),
            Some(&token),
            Some(confirmation),
        ),
        None,
    )
}

/// The form's name for a report field (`report.impact` is `impact`).
fn form_field(path: &str) -> String {
    path.rsplit('.').next().unwrap_or(path).to_owned()
}

fn receipt_page(
    policy: &Policy,
    reference: &str,
    token: Option<&str>,
    confirmation: Option<Result<String, &'static str>>,
) -> String {
    let (confirmation_to, no_confirmation) = match confirmation {
        Some(Ok(to)) => (Some(to), None),
        Some(Err(why)) => (None, Some(why)),
        None => (None, None),
    };
    let promises: Vec<&str> = policy
        .clocks
        .iter()
        .filter(|c| c.public)
        .map(|c| c.promise.as_str())
        .collect();
    templates::page(
        "receipt.html",
        context! {
            title => "Report received",
            lang => policy.language(),
            reference,
            token,
            promises,
            confirmation_to,
            no_confirmation,
        },
    )
}

fn error_page(e: ApiError) -> Response {
    let mut response = pages::notice(
        e.status,
        "Your report was not sent",
        &e.message,
        Some(("/report", "Back to the form")),
    );
    if let Some(r) = e.retry_after
        && let Ok(v) = HeaderValue::from_str(&r.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}
