//! The portfolio: products, releases with the components their SBOM or
//! lockfile names (matched at once against the vulnerability database),
//! and findings with their analysis and policy-003 deadlines.

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use embargo_core::Severity;
use embargo_core::auth::Role;
use embargo_core::portfolio::{Analysis, Customer, Finding, Impacted, Product};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub use crate::app::portfolio::SarifOutcome;
pub use crate::app::portfolio::{
    AnalysisRequest, MAX_SBOM_BYTES, RematchOutcome, UploadOutcome, rematch_portfolio,
    spawn_rematch,
};
use crate::app::portfolio::{analysis_from, record_upload};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// Add a product to the inventory.
#[utoipa::path(post, path = "/api/v1/products", tag = "portfolio", request_body = Product,
    responses((status = 201, body = Product), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_product(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(product): ApiJson<Product>,
) -> ApiResult<(axum::http::StatusCode, Json<Product>)> {
    caller.require(Role::Admin)?;
    let p = state.store.add_product(&product, state.now()).await?;
    Ok((axum::http::StatusCode::CREATED, Json(p)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductList {
    pub products: Vec<Product>,
    /// How many products there are in all.
    pub total: usize,
    /// Pass as `cursor` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// How many (products: 1–500, default 100; components: 1–5000,
    /// default 1000).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A page size asked for (`default` when absent), refused outside 1..=`max`.
fn checked_limit(asked: Option<u32>, default: u32, max: u32) -> ApiResult<u32> {
    let limit = asked.unwrap_or(default);
    if (1..=max).contains(&limit) {
        Ok(limit)
    } else {
        Err(crate::error::ApiError::invalid(
            "limit",
            format!("limit: between 1 and {max}"),
        ))
    }
}

impl PageQuery {
    /// The limit asked for, checked against `max`.
    fn limit(&self, default: u32, max: u32) -> ApiResult<u32> {
        checked_limit(self.limit, default, max)
    }

    fn cursor(&self) -> &str {
        self.cursor.as_deref().unwrap_or_default()
    }
}

/// The inventory's products by id, a page at a time (`limit`, then
/// `cursor` from the answer), with the total.
#[utoipa::path(get, path = "/api/v1/products", tag = "portfolio", params(PageQuery),
    responses((status = 200, body = ProductList), (status = 401, body = ErrorBody),
        (status = 422, description = "A bad limit", body = ErrorBody)))]
pub async fn list_products(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<ProductList>> {
    caller.require(Role::Viewer)?;
    let limit = q.limit(100, 500)? as usize;
    let mut all = state.store.products().await?;
    all.sort_by(|a, b| a.id.cmp(&b.id));
    let total = all.len();
    let mut products: Vec<Product> = all
        .into_iter()
        .filter(|p| p.id.as_str() > q.cursor())
        .take(limit + 1)
        .collect();
    let next_cursor = super::next_cursor(&mut products, limit, |p| p.id.clone());
    Ok(Json(ProductList {
        products,
        total,
        next_cursor,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComponentList {
    pub components: Vec<embargo_core::portfolio::Component>,
    /// How many components the release has.
    pub total: i64,
    /// Pass as `cursor` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A release's components in purl order, a page at a time (`limit`, then
/// `cursor` from the answer), with the total.
#[utoipa::path(get, path = "/api/v1/products/{product}/releases/{version}/components", tag = "portfolio",
    params(("product" = String, Path, description = "The product id"),
           ("version" = String, Path, description = "The release's version"),
           PageQuery),
    responses((status = 200, body = ComponentList), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "A bad limit", body = ErrorBody)))]
pub async fn list_components(
    State(state): State<AppState>,
    caller: Caller,
    Path((product, version)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<ComponentList>> {
    caller.require(Role::Viewer)?;
    let limit = q.limit(1000, 5000)?;
    let release = state.store.release_id(&product, &version).await?;
    let (mut components, total) = state
        .store
        .release_components_page(release, q.cursor(), limit + 1)
        .await?;
    let next_cursor = super::next_cursor(&mut components, limit as usize, |c| c.purl.clone());
    Ok(Json(ComponentList {
        components,
        total,
        next_cursor,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The file's name (`bom.cdx.json`, `Cargo.lock`, …): it tells the format.
    pub filename: Option<String>,
}

/// Upload a release's SBOM (CycloneDX, SPDX) or lockfile; the components
/// replace those of an earlier upload of the release and are matched at
/// once.
#[utoipa::path(post, path = "/api/v1/products/{product}/releases/{version}/sbom", tag = "portfolio",
    params(("product" = String, Path, description = "The product id"),
           ("version" = String, Path, description = "The release's version"),
           UploadQuery),
    request_body(content = String, description = "The SBOM or lockfile", content_type = "application/octet-stream"),
    responses((status = 200, body = UploadOutcome), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Path((product, version)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<UploadQuery>,
    body: axum::body::Body,
) -> ApiResult<Json<UploadOutcome>> {
    caller.require(Role::Responder)?;
    // SBOMs outgrow the API's body limit: they have their own, read as the
    // body streams.
    let body: Bytes = axum::body::to_bytes(body, MAX_SBOM_BYTES)
        .await
        .map_err(|_| {
            ApiError::new(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!(
                    "an SBOM or lockfile is at most {} MiB",
                    MAX_SBOM_BYTES / (1024 * 1024)
                ),
            )
        })?;
    let name = q.filename.unwrap_or_else(|| "upload".into());
    Ok(Json(
        record_upload(&state, &product, &version, &name, &body).await?,
    ))
}

/// The largest SARIF file accepted.
const MAX_SARIF_BYTES: usize = 64 * 1024 * 1024;

/// Import a SAST or DAST tool's SARIF 2.1.0 results as findings of a
/// release. Results are deduplicated by fingerprint across imports; a
/// result of the same tool absent from the next import is resolved.
#[utoipa::path(post, path = "/api/v1/products/{product}/releases/{version}/sarif", tag = "portfolio",
    params(("product" = String, Path, description = "The product id"),
           ("version" = String, Path, description = "The release's version")),
    request_body(content = String, description = "SARIF 2.1.0", content_type = "application/json"),
    responses((status = 200, body = SarifOutcome), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn import_sarif(
    State(state): State<AppState>,
    caller: Caller,
    Path((product, version)): Path<(String, String)>,
    body: axum::body::Body,
) -> ApiResult<Json<SarifOutcome>> {
    caller.require(Role::Responder)?;
    let body: Bytes = axum::body::to_bytes(body, MAX_SARIF_BYTES)
        .await
        .map_err(|_| {
            ApiError::new(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!(
                    "a SARIF file is at most {} MiB",
                    MAX_SARIF_BYTES / (1024 * 1024)
                ),
            )
        })?;
    Ok(Json(
        crate::app::portfolio::import_sarif(&state, &product, &version, &body).await?,
    ))
}

/// A release's current analysis as CycloneDX 1.6 VEX: its components,
/// and each advisory found in them with its analysis state (scanner
/// results, which are no components, are left out).
#[utoipa::path(get, path = "/api/v1/products/{product}/releases/{version}/vex", tag = "portfolio",
    params(("product" = String, Path, description = "The product id"),
           ("version" = String, Path, description = "The release's version")),
    responses((status = 200, description = "CycloneDX 1.6 VEX"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn release_vex(
    State(state): State<AppState>,
    caller: Caller,
    Path((product, version)): Path<(String, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    use serde_json::json;
    caller.require(Role::Viewer)?;
    let now = state.now();
    let release = state.store.release_id(&product, &version).await?;
    let components = state.store.release_components(release).await?;
    let findings: Vec<Finding> = state
        .findings(Some(&product), now)
        .await?
        .into_iter()
        .filter(|f| f.release == version && f.component.starts_with("pkg:"))
        .collect();
    let mut vulnerabilities: BTreeMap<&str, serde_json::Value> = BTreeMap::new();
    for f in &findings {
        let (state_name, mut analysis) = match &f.analysis {
            Analysis::InTriage => ("in_triage", json!({})),
            Analysis::Affected => ("exploitable", json!({"response": ["update"]})),
            Analysis::NotAffected { justification } => (
                "not_affected",
                json!({"justification": serde_json::to_value(justification).unwrap_or_default()}),
            ),
            Analysis::FalsePositive => ("false_positive", json!({})),
            Analysis::Resolved => ("resolved", json!({})),
            Analysis::RiskAccepted { until } => (
                "exploitable",
                json!({"response": ["will_not_fix"],
                       "detail": format!("risk accepted until {}", embargo_core::advisory::timestamp(*until))}),
            ),
        };
        analysis["state"] = json!(state_name);
        let entry = vulnerabilities.entry(f.advisory.as_str()).or_insert_with(|| {
            let mut v = json!({
                "bom-ref": format!("vulnerability:{}", f.advisory),
                "id": f.advisory,
                "source": {"name": "OSV", "url": format!("https://osv.dev/vulnerability/{}", f.advisory)},
                "affects": [],
                "analysis": analysis.clone(),
            });
            if let Some(s) = f.severity {
                v["ratings"] = json!([{"severity": s.as_str()}]);
            }
            v
        });
        if let Some(list) = entry["affects"].as_array_mut() {
            list.push(json!({"ref": f.component}));
        }
    }
    let serial = embargo_core::advisory::derived_uuid(&format!(
        "{product}@{version}#{}",
        now.timestamp_millis()
    ));
    Ok(Json(json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:{serial}"),
        "version": 1,
        "metadata": {
            "timestamp": embargo_core::advisory::timestamp(now),
            "component": {"type": "application", "bom-ref": format!("{product}@{version}"), "name": product, "version": version},
        },
        "components": components.iter().map(|c| json!({
            "type": "library", "bom-ref": c.purl, "name": c.name, "version": c.version, "purl": c.purl,
        })).collect::<Vec<_>>(),
        "vulnerabilities": vulnerabilities.into_values().collect::<Vec<_>>(),
    })))
}

/// A release's current analysis as a CSAF 2.0 VEX document (scanner
/// results included, as products of their own).
#[utoipa::path(get, path = "/api/v1/products/{product}/releases/{version}/csaf-vex", tag = "portfolio",
    params(("product" = String, Path, description = "The product id"),
           ("version" = String, Path, description = "The release's version")),
    responses((status = 200, description = "CSAF 2.0 csaf_vex"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn release_csaf_vex(
    State(state): State<AppState>,
    caller: Caller,
    Path((product, version)): Path<(String, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    caller.require(Role::Viewer)?;
    let now = state.now();
    state.store.release_id(&product, &version).await?;
    let findings: Vec<Finding> = state
        .findings(Some(&product), now)
        .await?
        .into_iter()
        .filter(|f| f.release == version)
        .collect();
    let publisher = crate::app::advisories::publisher(&state);
    Ok(Json(embargo_core::advisory::csaf::release_vex(
        &product, &version, &findings, &publisher, now,
    )))
}

/// Re-match the portfolio now (a background task does it after each sync).
#[utoipa::path(post, path = "/api/v1/portfolio/rematch", tag = "portfolio",
    responses((status = 200, body = RematchOutcome), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn rematch(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<RematchOutcome>> {
    caller.require(Role::Admin)?;
    Ok(Json(rematch_portfolio(&state).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FindingQuery {
    /// Only findings of this product.
    pub product: Option<String>,
    /// How many (1–5000, default 1000).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FindingList {
    pub findings: Vec<Finding>,
    /// How many findings there are in all (this filter, every page).
    pub total: i64,
    /// Pass as `cursor` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// The largest page of findings the API gives.
const FINDINGS_MAX_PAGE: u32 = 5000;

/// Findings, with their analysis and deadline status now, a page at a time
/// in id order (`limit`, then `cursor` from the answer), with the total.
#[utoipa::path(get, path = "/api/v1/findings", tag = "portfolio", params(FindingQuery),
    responses((status = 200, body = FindingList), (status = 401, body = ErrorBody),
        (status = 422, description = "A bad limit or cursor", body = ErrorBody)))]
pub async fn list_findings(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<FindingQuery>,
) -> ApiResult<Json<FindingList>> {
    caller.require(Role::Viewer)?;
    let limit = checked_limit(q.limit, 1000, FINDINGS_MAX_PAGE)?;
    let after = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => 0,
        Some(c) => c.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            crate::error::ApiError::invalid("cursor", "cursor: pass the next_cursor of a page")
        })?,
    };
    let product = q.product.as_deref().filter(|p| !p.is_empty());
    // One more than asked: whether another page follows.
    let (mut findings, total) = crate::app::findings::dated_page(
        &state.store,
        &state.settings.policies,
        product,
        after,
        limit + 1,
        state.now(),
    )
    .await?;
    let next_cursor = super::next_cursor(&mut findings, limit as usize, |f| f.id.to_string());
    Ok(Json(FindingList {
        findings,
        total,
        next_cursor,
    }))
}

/// Set a finding's analysis; recorded as an event of the finding.
#[utoipa::path(put, path = "/api/v1/findings/{id}/analysis", tag = "portfolio",
    params(("id" = i64, Path, description = "The finding id")),
    request_body = AnalysisRequest,
    responses((status = 200, body = Finding), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_analysis(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<AnalysisRequest>,
) -> ApiResult<Json<Finding>> {
    caller.require(Role::Responder)?;
    let now = state.now();
    let analysis = analysis_from(&body, now)?;
    let mut finding = state
        .store
        .set_analysis(id, &analysis, &caller.actor(), now)
        .await?;
    let product = state.store.product(&finding.product).await.ok();
    let policy = state
        .settings
        .policies
        .for_inventory_product(&finding.product, product.as_ref().map(|p| p.name.as_str()));
    finding.apply_policy(policy, now);
    Ok(Json(finding))
}

/// Add a customer, with the releases (`product@version`) they run.
#[utoipa::path(post, path = "/api/v1/customers", tag = "portfolio", request_body = Customer,
    responses((status = 201, body = Customer), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_customer(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(customer): ApiJson<Customer>,
) -> ApiResult<(axum::http::StatusCode, Json<Customer>)> {
    caller.require(Role::Admin)?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(state.store.add_customer(&customer).await?),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerList {
    pub customers: Vec<Customer>,
}

/// Customers and what they run.
#[utoipa::path(get, path = "/api/v1/customers", tag = "portfolio",
    responses((status = 200, body = CustomerList), (status = 401, body = ErrorBody)))]
pub async fn list_customers(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<CustomerList>> {
    caller.require(Role::Viewer)?;
    Ok(Json(CustomerList {
        customers: state.store.customers().await?,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleasesRequest {
    /// `product@version` of each release the customer runs.
    pub releases: Vec<String>,
}

/// Set the releases a customer runs.
#[utoipa::path(put, path = "/api/v1/customers/{id}/releases", tag = "portfolio",
    params(("id" = String, Path, description = "The customer id")),
    request_body = ReleasesRequest,
    responses((status = 200, body = Customer), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_customer_releases(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReleasesRequest>,
) -> ApiResult<Json<Customer>> {
    caller.require(Role::Admin)?;
    Ok(Json(
        state
            .store
            .set_customer_releases(&id, &body.releases)
            .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImpactQuery {
    /// The advisory id (`GHSA-…`, `RUSTSEC-…`).
    pub advisory: String,
}

/// An impacted customer and where their notice stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImpactedView {
    #[serde(flatten)]
    pub impacted: Impacted,
    /// `email`, or `by_hand` when their contact is a web address.
    pub channel: &'static str,
    /// Their notice's delivery state (`pending`, `delivered`, `dead`…), once queued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<embargo_store::OutboxState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice_delivered_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImpactList {
    pub advisory: String,
    /// For a High or Critical finding, when customers must have been told:
    /// 72 hours after it was first seen (policy 002).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice_due: Option<chrono::DateTime<chrono::Utc>>,
    pub customers: Vec<ImpactedView>,
}

fn notice_key(advisory: &str, customer: &str) -> String {
    format!("customer:advisory:{advisory}:{customer}")
}

async fn impact_list(state: &AppState, advisory: &str) -> ApiResult<ImpactList> {
    let now = state.now();
    let findings: Vec<Finding> = state
        .findings(None, now)
        .await?
        .into_iter()
        .filter(|f| f.advisory == advisory && f.analysis.open_at(now))
        .collect();
    let notice_due = findings
        .iter()
        .filter(|f| f.severity.is_some_and(|s| s >= Severity::High))
        .map(|f| f.first_seen)
        .min()
        .map(|first| first + chrono::Duration::hours(72));
    let mut customers = Vec::new();
    for impacted in state.store.impact(advisory, now).await? {
        let record = state
            .store
            .delivery_by_key(&notice_key(advisory, &impacted.customer))
            .await?;
        customers.push(ImpactedView {
            channel: if crate::app::notices::email_of(&impacted.contact).is_some() {
                "email"
            } else {
                "by_hand"
            },
            notice: record.as_ref().map(|r| r.state),
            notice_delivered_at: record.and_then(|r| r.delivered_at),
            impacted,
        });
    }
    Ok(ImpactList {
        advisory: advisory.to_owned(),
        notice_due,
        customers,
    })
}

/// The customers an advisory reaches through the affected releases they
/// run, and where each one's notice stands.
#[utoipa::path(get, path = "/api/v1/impact", tag = "portfolio", params(ImpactQuery),
    responses((status = 200, body = ImpactList), (status = 401, body = ErrorBody)))]
pub async fn impact(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ImpactQuery>,
) -> ApiResult<Json<ImpactList>> {
    caller.require(Role::Viewer)?;
    Ok(Json(impact_list(&state, &q.advisory).await?))
}

/// Tell every customer an advisory of the feed reaches (once per advisory),
/// with the "exceptional security delivery" wording for releases deployed
/// at their site; returns the list with each notice's state.
#[utoipa::path(post, path = "/api/v1/impact/notices", tag = "portfolio", params(ImpactQuery),
    responses((status = 200, body = ImpactList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn notify_impacted(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ImpactQuery>,
) -> ApiResult<Json<ImpactList>> {
    use embargo_core::notify::{CustomerNotice, customer_notice_email};
    caller.require(Role::Responder)?;
    let now = state.now();
    let policy = state.settings.policies.primary();
    let language = policy.language().to_owned();
    let findings: Vec<Finding> = state
        .findings(None, now)
        .await?
        .into_iter()
        .filter(|f| f.advisory == q.advisory)
        .collect();
    let fixed = findings.iter().find_map(|f| f.fixed.first().cloned());
    let products = state.store.products().await?;
    let mut deliveries = Vec::new();
    for impacted in state.store.impact(&q.advisory, now).await? {
        let Some(to) = crate::app::notices::email_of(&impacted.contact) else {
            continue;
        };
        let product_ids: BTreeSet<&str> = impacted
            .releases
            .iter()
            .filter_map(|r| r.split_once('@').map(|(p, _)| p))
            .collect();
        let product = product_ids
            .iter()
            .map(|id| {
                products
                    .iter()
                    .find(|p| p.id == *id)
                    .map_or_else(|| (*id).to_owned(), |p| p.name.clone())
            })
            .collect::<Vec<_>>()
            .join(", ");
        let releases: Vec<String> = impacted
            .releases
            .iter()
            .map(|r| r.split_once('@').map_or(r.clone(), |(_, v)| v.to_owned()))
            .collect();
        let delivery = customer_notice_email(&CustomerNotice {
            to,
            language: language.clone(),
            organization: policy.organization.name.clone(),
            title: format!("{} in a component of {product}", q.advisory),
            product,
            releases,
            fixed: fixed.clone(),
            customer_deployed: impacted.exceptional_delivery,
            advisory: q.advisory.clone(),
            url: format!("https://osv.dev/vulnerability/{}", q.advisory),
            // In CISA's KEV catalog: the customer reads it first.
            exploited: findings.iter().any(|f| f.known_exploited),
            documents: None,
            attachments: Vec::new(),
        });
        deliveries.push((
            notice_key(&q.advisory, &impacted.customer),
            "customer.notice",
            delivery,
        ));
    }
    state.store.queue_deliveries(&deliveries, now).await?;
    Ok(Json(impact_list(&state, &q.advisory).await?))
}
