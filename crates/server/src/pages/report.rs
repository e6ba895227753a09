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
use embargo_core::publish::escape_html;
use embargo_core::{NewCase, ReportContent, Reporter};

use crate::app::intake;
use crate::error::ApiError;
use crate::extract::client_address;
use crate::pages::{self, page};
use crate::state::AppState;
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
];

fn required(policy: &Policy, field: Option<IntakeField>, name: &str) -> bool {
    matches!(name, "title" | "product" | "summary" | "description")
        || field.is_some_and(|f| policy.intake.required.contains(&f))
}

fn render_form(
    policy: &Policy,
    attachment_limits: AttachmentLimits,
    values: &HashMap<String, String>,
    errors: &HashMap<String, String>,
    csrf: &str,
) -> String {
    let e = escape_html;
    let mut body = format!(
        "<h1>Report a vulnerability to {}</h1>\n",
        e(&policy.organization.name)
    );
    if let Some(g) = &policy.intake.guidance {
        body.push_str(&format!("<p>{}</p>\n", e(g)));
    }
    body.push_str(
        "<p>Your report goes privately to the security team. Fields marked * are required.</p>\n",
    );
    if !errors.is_empty() {
        body.push_str(
            "<p role=\"alert\"><strong>Please correct the fields marked below.</strong></p>\n",
        );
    }
    body.push_str("<form method=\"post\" action=\"/report\" enctype=\"multipart/form-data\">\n");
    body.push_str(&format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">\n",
        e(csrf)
    ));
    for (name, label, area, field) in FIELDS {
        let req = required(policy, *field, name);
        let value = values.get(*name).map(String::as_str).unwrap_or_default();
        let error_id = format!("{name}-error");
        body.push_str(&format!(
            "<p>\n<label for=\"{name}\">{}{}</label><br>\n",
            e(label),
            if req { " *" } else { "" }
        ));
        let described = if errors.contains_key(*name) {
            format!(" aria-invalid=\"true\" aria-describedby=\"{error_id}\"")
        } else {
            String::new()
        };
        let req_attr = if req { " required" } else { "" };
        if *area {
            body.push_str(&format!(
                "<textarea id=\"{name}\" name=\"{name}\" rows=\"6\" cols=\"60\"{req_attr}{described}>{}</textarea>\n",
                e(value)
            ));
        } else {
            body.push_str(&format!(
                "<input id=\"{name}\" name=\"{name}\" value=\"{}\" size=\"60\"{req_attr}{described}>\n",
                e(value)
            ));
        }
        if let Some(msg) = errors.get(*name) {
            body.push_str(&format!(
                "<br><strong id=\"{error_id}\">{}</strong>\n",
                e(msg)
            ));
        }
        body.push_str("</p>\n");
    }
    let limits = attachment_limits;
    body.push_str(&format!(
        "<p>\n<label for=\"attachments\">Files: proof of concept, screenshots, logs \
         (up to {} files of at most {} each)</label><br>\n\
         <input id=\"attachments\" name=\"attachments\" type=\"file\" multiple{}>\n",
        limits.max_count,
        e(&limits.describe_size()),
        if errors.contains_key("attachments") {
            " aria-invalid=\"true\" aria-describedby=\"attachments-error\""
        } else {
            ""
        }
    ));
    if let Some(msg) = errors.get("attachments") {
        body.push_str(&format!(
            "<br><strong id=\"attachments-error\">{}</strong>\n",
            e(msg)
        ));
    }
    body.push_str("</p>\n");
    // The honeypot: hidden from people (and from assistive technology).
    body.push_str(
        "<p hidden aria-hidden=\"true\"><label for=\"website\">Website</label>\
         <input id=\"website\" name=\"website\" tabindex=\"-1\" autocomplete=\"off\"></p>\n",
    );
    body.push_str("<p><button type=\"submit\">Send the report privately</button></p>\n</form>\n");
    page(
        &format!("Report a vulnerability to {}", policy.organization.name),
        policy.language(),
        &body,
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
    if !crate::forms::csrf_matches(&headers, FORM_COOKIE, &values) {
        let html = page(
            "The form expired",
            "en",
            "<h1>The form expired</h1><p>Please <a href=\"/report\">open the form again</a> and resend your report.</p>",
        );
        return html_response(StatusCode::FORBIDDEN, html, None);
    }
    // Re-rendered forms keep the token the cookie already holds.
    let csrf = values.get("csrf").cloned().unwrap_or_default();
    let policy = state.settings.policies.primary();
    let now = state.now();
    // A filled honeypot is a bot: thank it and keep nothing.
    if values.get("website").is_some_and(|v| !v.is_empty()) {
        tracing::info!(target: "embargo::intake", "honeypot filled; report dropped");
        return html_response(
            StatusCode::CREATED,
            receipt_page(policy, "EMB-0000-0000", None),
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
            render_form(policy, limits, &values, &errors, &csrf),
            None,
        );
    }
    let submission = intake::Submission {
        channel: intake::Channel::WebForm,
        request,
        files,
        address: Some(client_address(&state, peer, &headers)),
        mail_key: None,
    };
    match intake::submit_report(&state, submission, now).await {
        Ok(submitted) => html_response(
            StatusCode::CREATED,
            receipt_page(
                policy,
                &submitted.case.reference.to_string(),
                Some(&submitted.token),
            ),
            None,
        ),
        Err(intake::Refused::Invalid(problems)) => {
            // Every problem at once, each beside its field.
            for problem in problems {
                errors
                    .entry(form_field(&problem.field))
                    .or_insert_with(|| format!("This {}.", problem.message));
            }
            html_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                render_form(policy, limits, &values, &errors, &csrf),
                None,
            )
        }
        Err(refused) => error_page(ApiError::from(refused)),
    }
}

/// The form's name for a report field (`report.impact` is `impact`).
fn form_field(path: &str) -> String {
    path.rsplit('.').next().unwrap_or(path).to_owned()
}

fn receipt_page(policy: &Policy, reference: &str, token: Option<&str>) -> String {
    let e = escape_html;
    let mut body = format!(
        "<h1>Thank you</h1>\n<p>Your report is <strong>{}</strong>. Keep this reference.</p>\n",
        e(reference)
    );
    if let Some(t) = token {
        body.push_str(&format!(
            "<p>Your private link opens your report and its thread with the team. It is shown only now; keep it secret:</p>\n\
             <p><a href=\"/portal/{t}\">Your report's private page</a></p>\n<p>Token: <code>{t}</code></p>\n",
            t = e(t)
        ));
    }
    let promises: Vec<String> = policy
        .clocks
        .iter()
        .filter(|c| c.public)
        .map(|c| format!("<li>{}</li>", e(&c.promise)))
        .collect();
    if !promises.is_empty() {
        body.push_str(&format!(
            "<h2>What happens next</h2>\n<ul>\n{}\n</ul>\n",
            promises.join("\n")
        ));
    }
    page("Report received", policy.language(), &body)
}

fn error_page(e: ApiError) -> Response {
    let retry = e.retry_after;
    let html = page(
        "Report not sent",
        "en",
        &format!(
            "<h1>Your report was not sent</h1><p>{}</p><p><a href=\"/report\">Back to the form</a></p>",
            escape_html(&e.message)
        ),
    );
    let mut response = html_response(e.status, html, None);
    if let Some(r) = retry
        && let Ok(v) = HeaderValue::from_str(&r.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}
