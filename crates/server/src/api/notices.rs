//! Customer notices: when a case's advisory covers releases that customers
//! run, each of those customers is told, once per advisory revision, in the
//! policy's language — with the "exceptional security delivery" wording when
//! they run the product themselves (policy 003). Sending them records on the
//! case that customers were notified, which stops the customer-notice clock
//! (policy 002's 72 hours for High).

use axum::Json;
use axum::extract::{Path, State};
use embargo_core::advisory::Advisory;
use embargo_core::auth::Role;
use embargo_core::notify::{CustomerNotice, customer_notice_email};
use embargo_core::portfolio::{ImpactedCustomer, impacted_customers};
use embargo_core::{Case, CaseRef};
use embargo_store::CustomerMessage;
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::cases::reference;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

/// A customer an advisory concerns, and how their notice goes out.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CustomerNoticeView {
    pub customer: String,
    pub name: String,
    pub product: String,
    /// The affected releases they run.
    pub releases: Vec<String>,
    /// They run the product themselves: an exceptional security delivery.
    pub customer_deployed: bool,
    /// `email`, or `by_hand` when their contact is a web address.
    pub channel: &'static str,
    /// Queued by this request (false: queued earlier, or to be told by hand).
    pub queued: bool,
}

/// The customers a case's advisory concerns.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerNotices {
    pub advisory: String,
    pub notices: Vec<CustomerNoticeView>,
}

/// The email address of a `mailto:` contact.
pub(crate) fn email_of(contact: &str) -> Option<String> {
    let address = contact.strip_prefix("mailto:")?;
    let address = address.split('?').next().unwrap_or_default().trim();
    embargo_core::auth::validate_email(address)
        .is_ok()
        .then(|| address.to_owned())
}

/// The case's advisory and the customers it concerns.
pub(crate) async fn impacted(
    state: &AppState,
    r: CaseRef,
) -> ApiResult<(Case, Advisory, Vec<ImpactedCustomer>)> {
    let case = state.store.case(r).await?;
    let advisory = state.store.advisory_draft(r).await?.ok_or_else(|| {
        ApiError::invalid(
            "advisory",
            "draft the case's advisory first: its affected products and versions say who is impacted",
        )
    })?;
    let products = state.store.products().await?;
    let customers = state.store.customers().await?;
    let list = impacted_customers(&advisory, &products, &customers);
    Ok((case, advisory, list))
}

fn view(i: &ImpactedCustomer, queued: bool) -> CustomerNoticeView {
    CustomerNoticeView {
        customer: i.customer.clone(),
        name: i.name.clone(),
        product: i.product.clone(),
        releases: i.releases.clone(),
        customer_deployed: i.customer_deployed,
        channel: if email_of(&i.contact).is_some() {
            "email"
        } else {
            "by_hand"
        },
        queued,
    }
}

/// Queues the notices of a case's advisory; returns who was told now.
pub(crate) async fn send(
    state: &AppState,
    caller: &Caller,
    r: CaseRef,
) -> ApiResult<CustomerNotices> {
    let (case, advisory, list) = impacted(state, r).await?;
    let policy = state.settings.policies.for_product(&case.product);
    let language = policy.language().to_owned();
    let url = format!(
        "{}/advisories/{}",
        state.settings.public_url.trim_end_matches('/'),
        advisory.id
    );
    let fixed = advisory
        .affected
        .iter()
        .flat_map(|a| a.ranges.iter())
        .find_map(|r| r.fixed.clone());
    let messages: Vec<CustomerMessage> = list
        .iter()
        .filter_map(|i| {
            let to = email_of(&i.contact)?;
            Some(CustomerMessage {
                customer: i.customer.clone(),
                idempotency_key: format!(
                    "customer:{r}:{}:r{}:{}",
                    advisory.id,
                    advisory.revisions.len(),
                    i.customer
                ),
                delivery: customer_notice_email(&CustomerNotice {
                    to,
                    language: language.clone(),
                    organization: policy.organization.name.clone(),
                    title: advisory.title.clone(),
                    product: i.product.clone(),
                    releases: i.releases.clone(),
                    fixed: fixed.clone(),
                    customer_deployed: i.customer_deployed,
                    advisory: advisory.id.clone(),
                    url: url.clone(),
                }),
            })
        })
        .collect();
    let (queued, _, _) = state
        .store
        .notify_customers(r, &messages, &caller.actor(), state.now())
        .await?;
    Ok(CustomerNotices {
        advisory: advisory.id,
        notices: list
            .iter()
            .map(|i| view(i, queued.contains(&i.customer)))
            .collect(),
    })
}

/// The customers the case's advisory concerns (nothing is sent).
#[utoipa::path(get, path = "/api/v1/cases/{reference}/customer-notices", tag = "portfolio",
    params(("reference" = String, Path, description = "The case reference")),
    responses((status = 200, body = CustomerNotices), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, description = "The case has no advisory yet", body = ErrorBody)))]
pub async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> ApiResult<Json<CustomerNotices>> {
    caller.require(Role::Viewer)?;
    let (_, advisory, list) = impacted(&state, reference(&raw)?).await?;
    Ok(Json(CustomerNotices {
        advisory: advisory.id,
        notices: list.iter().map(|i| view(i, false)).collect(),
    }))
}

/// Tell every impacted customer (once per advisory revision) and record it on the case.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/customer-notices", tag = "portfolio",
    params(("reference" = String, Path, description = "The case reference")),
    responses((status = 200, body = CustomerNotices), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, description = "The case has no advisory yet", body = ErrorBody)))]
pub async fn notify(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> ApiResult<Json<CustomerNotices>> {
    caller.require(Role::Responder)?;
    Ok(Json(send(&state, &caller, reference(&raw)?).await?))
}
