//! Customer notices: the customers who run a release that a case's
//! advisory covers, and telling each of them once per advisory revision.

use embargo_core::advisory::Advisory;
use embargo_core::notify::{CustomerNotice, customer_notice_email};
use embargo_core::portfolio::{ImpactedCustomer, impacted_customers};
use embargo_core::{Case, CaseRef};
use embargo_store::CustomerMessage;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
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
pub fn email_of(contact: &str) -> Option<String> {
    let address = contact.strip_prefix("mailto:")?;
    let address = address.split('?').next().unwrap_or_default().trim();
    embargo_core::auth::validate_email(address)
        .is_ok()
        .then(|| address.to_owned())
}

/// The case's advisory and the customers it concerns.
pub async fn impacted(
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

pub fn view(i: &ImpactedCustomer, queued: bool) -> CustomerNoticeView {
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
pub async fn send(state: &AppState, caller: &Caller, r: CaseRef) -> ApiResult<CustomerNotices> {
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
