//! The findings queue (with the analysis form) and the products with their
//! releases.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use embargo_core::Severity;
use embargo_core::auth::Role;
use embargo_core::portfolio::{Analysis, DeadlineStatus};
use embargo_store::{FindingFilter, FindingSort};
use minijinja::Value;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use crate::app::portfolio::{AnalysisRequest, analysis_from};
use crate::desk::{Desk, DeskForm, PageResult, redirect, when};
use crate::state::AppState;

/// How many findings a page lists.
const FINDINGS_PAGE: u32 = 100;

#[derive(Debug, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FindingsQuery {
    /// Only this product's findings.
    pub product: Option<String>,
    /// `all` to include those that need no fixing (default: open only).
    pub show: Option<String>,
    /// `deadline` (default: most urgent deadline first) or `exploitation`
    /// (known exploited first, then by EPSS score).
    pub sort: Option<String>,
    /// The finding just changed (shown as a confirmation).
    pub done: Option<i64>,
    /// The page (from 1).
    pub page: Option<String>,
}

#[derive(Debug, Serialize)]
struct FindingRow {
    id: i64,
    product: String,
    release: String,
    component: String,
    advisory: String,
    severity: Option<&'static str>,
    kev: bool,
    /// CISA's listing, in words: when added, its due date, ransomware use.
    kev_detail: Option<String>,
    epss: Option<String>,
    fixed: String,
    analysis: String,
    due: Option<String>,
    deadline: &'static str,
    case: Option<String>,
}

fn analysis_name(a: &Analysis) -> String {
    match a {
        Analysis::InTriage => "in triage".into(),
        Analysis::Affected => "affected".into(),
        Analysis::NotAffected { justification } => format!(
            "not affected ({})",
            serde_json::to_value(justification)
                .ok()
                .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
                .unwrap_or_default()
        ),
        Analysis::FalsePositive => "false positive".into(),
        Analysis::Resolved => "resolved".into(),
        Analysis::RiskAccepted { until } => format!("risk accepted until {}", when(*until)),
    }
}

/// Findings: components of releases affected by advisories.
#[utoipa::path(get, path = "/desk/findings", tag = "desk", params(FindingsQuery),
    responses((status = 200, description = "The findings", body = String, content_type = "text/html"),
        (status = 303, description = "Not signed in: to the sign-in form")))]
pub async fn findings(
    State(state): State<AppState>,
    desk: Desk,
    Query(q): Query<FindingsQuery>,
) -> PageResult {
    desk.require(Role::Viewer)?;
    let now = state.now();
    let product = q
        .product
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    let show_all = q.show.as_deref() == Some("all");
    let page_number = crate::desk::page_number(q.page.as_deref())?;
    // Most urgent first (breached, due soon, running, no patch yet; then
    // severity), or by exploitation: the database orders, counts and pages,
    // from each finding's deadline kept on its row.
    let filter = FindingFilter {
        product: product.map(str::to_owned),
        open_only: !show_all,
        sort: if q.sort.as_deref() == Some("exploitation") {
            FindingSort::Exploitation
        } else {
            FindingSort::Urgency
        },
        now,
    };
    let listed =
        crate::app::findings::urgent_page(&state, &filter, page_number, FINDINGS_PAGE).await?;
    let total = listed.place.total;
    let rows: Vec<FindingRow> = listed
        .findings
        .into_iter()
        .map(|f| FindingRow {
            id: f.id,
            severity: f.severity.map(Severity::as_str),
            kev: f.known_exploited,
            kev_detail: f.kev.as_ref().map(|k| {
                let mut t = format!("in CISA's KEV since {}", k.date_added);
                if let Some(due) = &k.due_date {
                    t.push_str(&format!(", CISA due date {due}"));
                }
                if k.ransomware {
                    t.push_str(", used in ransomware campaigns");
                }
                t
            }),
            epss: f.epss.map(|e| match f.epss_percentile {
                Some(p) => format!("{:.1}% (percentile {:.0})", e * 100.0, p * 100.0),
                None => format!("{:.1}%", e * 100.0),
            }),
            fixed: f.fixed.join(", "),
            analysis: analysis_name(&f.analysis),
            due: f.due.map(when),
            deadline: match f.deadline {
                Some(DeadlineStatus::Breached) => "breached",
                Some(DeadlineStatus::DueSoon) => "due_soon",
                Some(DeadlineStatus::Running) => "running",
                Some(DeadlineStatus::Stopped) => "stopped",
                Some(DeadlineStatus::NotStarted) | None => "no patch yet",
            },
            product: f.product,
            release: f.release,
            component: f.component,
            advisory: f.advisory,
            case: None,
        })
        .collect();
    let mut rows = rows;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut linked = state.store.finding_cases(&ids).await?;
    for row in &mut rows {
        row.case = linked.remove(&row.id);
    }
    let products: Vec<String> = state
        .store
        .products()
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
    let mut ctx = desk.context("Findings", "findings");
    ctx.insert("rows", Value::from_serialize(&rows));
    ctx.insert("total", Value::from(total));
    ctx.insert("shown", Value::from(rows.len()));
    let link = |n: u64| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("product", product),
            ("show", q.show.as_deref()),
            ("sort", q.sort.as_deref()),
        ] {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                query.append_pair(k, v);
            }
        }
        query.append_pair("page", &n.to_string());
        format!("/desk/findings?{}", query.finish())
    };
    ctx.insert(
        "paging",
        Value::from_serialize(listed.place.paging(rows.len(), link)),
    );
    ctx.insert("filter", Value::from_serialize(&q));
    ctx.insert("products", Value::from_serialize(&products));
    ctx.insert(
        "notice",
        Value::from(q.done.map(|id| format!("Finding {id}: analysis recorded."))),
    );
    ctx.insert(
        "justifications",
        Value::from_serialize([
            "code_not_present",
            "code_not_reachable",
            "requires_configuration",
            "requires_dependency",
            "requires_environment",
            "protected_by_compiler",
            "protected_at_runtime",
            "protected_at_perimeter",
            "protected_by_mitigating_control",
        ]),
    );
    Ok(desk.page(StatusCode::OK, "findings.html", ctx))
}

/// Record a person's analysis of a finding.
#[utoipa::path(post, path = "/desk/findings/{id}/analysis", tag = "desk",
    params(("id" = i64, Path, description = "The finding id")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Recorded; back to the findings"),
        (status = 404, description = "No such finding", body = String, content_type = "text/html"),
        (status = 422, description = "A field is wrong", body = String, content_type = "text/html")))]
pub async fn set_analysis(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: DeskForm,
) -> PageResult {
    form.desk.require(Role::Responder)?;
    let id = finding_id(&id)?;
    let now = state.now();
    let until = crate::desk::day_field(&form, "until")?.map(|t| t.to_rfc3339());
    let request = AnalysisRequest {
        state: form.text("state").unwrap_or_default(),
        justification: form.text("justification"),
        until,
    };
    let analysis = analysis_from(&request, now)?;
    state
        .store
        .set_analysis(id, &analysis, &form.desk.caller.actor(), now)
        .await?;
    let back = form
        .text("back")
        .filter(|b| b.starts_with("/desk/findings"))
        .unwrap_or_else(|| "/desk/findings".into());
    let sep = if back.contains('?') { '&' } else { '?' };
    Ok(redirect(&format!("{back}{sep}done={id}")))
}

#[derive(Debug, Serialize)]
struct ProductView {
    id: String,
    name: String,
    owner: String,
    deployment: String,
    exposure: String,
    releases: Vec<(String, String, i64)>,
    /// Open findings by severity, most severe first.
    open: Vec<(String, usize)>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductsQuery {
    /// What the last upload did (shown as a confirmation).
    pub uploaded: Option<String>,
    /// The product just added.
    pub added: Option<String>,
}

/// Products, their releases and their open findings.
#[utoipa::path(get, path = "/desk/products", tag = "desk", params(ProductsQuery),
    responses((status = 200, description = "The products", body = String, content_type = "text/html"),
        (status = 303, description = "Not signed in: to the sign-in form")))]
pub async fn products(
    State(state): State<AppState>,
    desk: Desk,
    Query(q): Query<ProductsQuery>,
) -> PageResult {
    let notice = q.uploaded.map(|u| format!("Uploaded {u}.")).or_else(|| {
        q.added
            .map(|p| format!("Product `{p}` is added: upload a release's SBOM next."))
    });
    products_page(&state, &desk, StatusCode::OK, notice, None).await
}

/// Add a product from the products page (admins).
#[utoipa::path(post, path = "/desk/products", tag = "desk",
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Added; back to the products"),
        (status = 403, description = "Not an admin", body = String, content_type = "text/html"),
        (status = 422, description = "A bad or taken id, a missing name or owner, an unknown deployment or exposure", body = String, content_type = "text/html")))]
pub async fn add_product(State(state): State<AppState>, form: crate::desk::DeskForm) -> PageResult {
    form.desk.require(Role::Admin)?;
    let parsed = serde_json::from_value::<embargo_core::portfolio::Product>(serde_json::json!({
        "id": form.text("id").unwrap_or_default(),
        "name": form.text("name").unwrap_or_default(),
        "owner": form.text("owner").unwrap_or_default(),
        "repositories": form.text("repositories").map(|r| r.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect::<Vec<_>>()).unwrap_or_default(),
        "deployment": form.text("deployment").unwrap_or_default(),
        "exposure": form.text("exposure").unwrap_or_default(),
    }))
    .map_err(|e| {
        let field = if e.to_string().contains("deployment") || form.text("deployment").is_none() {
            "deployment"
        } else {
            "exposure"
        };
        crate::error::ApiError::invalid(field, format!("{field}: choose one of the list"))
    });
    let added = match parsed {
        Ok(product) => state
            .store
            .add_product(&product, state.now())
            .await
            .map_err(crate::error::ApiError::from),
        Err(e) => Err(e),
    };
    match added {
        Ok(p) => Ok(crate::desk::redirect(&format!(
            "/desk/products?added={}",
            form_urlencoded::byte_serialize(p.id.as_bytes()).collect::<String>()
        ))),
        Err(e) => {
            products_page(
                &state,
                &form.desk_keeping_values(),
                e.status,
                None,
                Some(e.message),
            )
            .await
        }
    }
}

async fn products_page(
    state: &AppState,
    desk: &Desk,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> PageResult {
    desk.require(Role::Viewer)?;
    let now = state.now();
    let mut releases: BTreeMap<String, Vec<(String, String, i64)>> = BTreeMap::new();
    for (product, version, at, count) in state.store.releases().await? {
        releases
            .entry(product)
            .or_default()
            .push((version, when(at), count));
    }
    let mut open: BTreeMap<String, BTreeMap<std::cmp::Reverse<Option<Severity>>, usize>> =
        BTreeMap::new();
    crate::app::findings::bring_dates_up_to_date(state, now).await?;
    for (product, severity, n) in state.store.open_finding_counts(now).await? {
        *open
            .entry(product)
            .or_default()
            .entry(std::cmp::Reverse(severity))
            .or_default() += usize::try_from(n).unwrap_or(0);
    }
    let views: Vec<ProductView> = state
        .store
        .products()
        .await?
        .into_iter()
        .map(|p| ProductView {
            releases: releases.remove(&p.id).unwrap_or_default(),
            open: open
                .remove(&p.id)
                .unwrap_or_default()
                .into_iter()
                .map(|(s, n)| (s.0.map_or("unknown", Severity::as_str).to_owned(), n))
                .collect(),
            deployment: serde_json::to_value(p.deployment)
                .ok()
                .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
                .unwrap_or_default(),
            exposure: serde_json::to_value(p.exposure)
                .ok()
                .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
                .unwrap_or_default(),
            id: p.id,
            name: p.name,
            owner: p.owner,
        })
        .collect();
    let mut ctx = desk.context("Products", "products");
    ctx.insert("products", Value::from_serialize(&views));
    ctx.insert("notice", Value::from(notice));
    ctx.insert("error", Value::from(error));
    Ok(desk.page(status, "products.html", ctx))
}

/// Upload a release's SBOM or lockfile from the products page (a multipart
/// form: the file and its version); it is matched at once.
#[utoipa::path(post, path = "/desk/products/{product}/upload", tag = "desk",
    params(("product" = String, Path, description = "The product id")),
    request_body(content = String, content_type = "multipart/form-data"),
    responses((status = 303, description = "Recorded and matched; back to the products with the outcome"),
        (status = 403, description = "Not allowed (role or CSRF)", body = String, content_type = "text/html"),
        (status = 413, description = "Over the size limit", body = String, content_type = "text/html"),
        (status = 422, description = "Not an SBOM or lockfile embargo reads, or no version", body = String, content_type = "text/html")))]
pub async fn upload(
    State(state): State<AppState>,
    desk: Desk,
    Path(product): Path<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> PageResult {
    use crate::error::ApiError;
    desk.require(Role::Responder)?;
    let limits = embargo_core::attachment::AttachmentLimits {
        max_bytes: crate::app::portfolio::MAX_SBOM_BYTES,
        max_count: 1,
    };
    let form = crate::upload::read_form(&headers, body, 16 * 1024, limits).await?;
    if matches!(desk.caller.credential, crate::auth::Credential::Session(_))
        && form
            .fields
            .get("csrf")
            .is_none_or(|c| c.is_empty() || *c != desk.csrf)
    {
        return Err(crate::desk::PageError(ApiError::forbidden(
            "This form expired or did not come from this site. Go back, reload the page and try again.",
        )));
    }
    if let Some(refused) = form.refused {
        return Err(crate::desk::PageError(refused));
    }
    let version = form
        .fields
        .get("version")
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            crate::desk::PageError(ApiError::invalid(
                "version",
                "version: the release's version is required",
            ))
        })?;
    let file = form.files.into_iter().next().ok_or_else(|| {
        crate::desk::PageError(ApiError::invalid(
            "file",
            "file: choose the SBOM or lockfile",
        ))
    })?;
    let outcome = crate::app::portfolio::record_upload(
        &state,
        &product,
        &version,
        &file.filename,
        &file.content,
    )
    .await?;
    let mut q = form_urlencoded::Serializer::new(String::new());
    // What was not checked is named: the notice travels in the redirect's
    // address, so a long list is cut with a pointer to the full one.
    let mut not_checked = outcome.unchecked.join("; ");
    const MOST: usize = 1500;
    if not_checked.len() > MOST {
        let cut = (0..=MOST)
            .rev()
            .find(|i| not_checked.is_char_boundary(*i))
            .unwrap_or(0);
        not_checked.truncate(cut);
        not_checked.push_str(" … (the API's upload answer lists them all)");
    }
    q.append_pair(
        "uploaded",
        &format!(
            "{}: {} components, {} findings opened, {} resolved, {} reopened{}{}",
            outcome.release,
            outcome.components,
            outcome.opened,
            outcome.resolved,
            outcome.reopened,
            if outcome.matched {
                ""
            } else {
                " (no vulnerability database to match against yet: run embargo db sync)"
            },
            if not_checked.is_empty() {
                String::new()
            } else {
                format!(". Not checked: {not_checked}")
            }
        ),
    );
    Ok(redirect(&format!("/desk/products?{}", q.finish())))
}

/// Open a case for a finding; the finding stays linked and resolves when
/// the case's fix is released.
#[utoipa::path(post, path = "/desk/findings/{id}/escalate", tag = "desk",
    params(("id" = i64, Path, description = "The finding id")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "The new case"),
        (status = 404, description = "No such finding", body = String, content_type = "text/html"),
        (status = 409, description = "The finding has a case already", body = String, content_type = "text/html")))]
pub async fn escalate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: DeskForm,
) -> PageResult {
    form.desk.require(Role::Responder)?;
    let id = finding_id(&id)?;
    let out =
        crate::app::portfolio::escalate_findings(&state, &form.desk.caller, &[id], None).await?;
    Ok(redirect(&format!("/desk/cases/{}", out.case)))
}

/// A finding id from a path segment; a malformed one is a 404 like a missing one.
fn finding_id(raw: &str) -> Result<i64, crate::desk::PageError> {
    raw.parse().map_err(|_| {
        crate::desk::PageError(crate::error::ApiError::not_found(format!(
            "No finding `{raw}`."
        )))
    })
}
