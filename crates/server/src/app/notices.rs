//! Customer notices: the customers who run a release that a case's
//! advisory covers, and telling each of them once per advisory revision.

use embargo_core::Severity;
use embargo_core::advisory::Advisory;
use embargo_core::auth;
use embargo_core::notify::{CustomerNotice, customer_notice_email};
use embargo_core::notify::{NoticeKind, Webhook, WebhookFormat};
use embargo_core::portfolio::{ImpactedCustomer, impacted_customers};
use embargo_core::{Case, CaseRef};
use serde::{Deserialize, Serialize};
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

/// A JSON document attached to an email.
fn json_attachment(
    filename: &str,
    document: &serde_json::Value,
) -> embargo_core::notify::EmailAttachment {
    embargo_core::notify::EmailAttachment {
        filename: filename.to_owned(),
        media_type: "application/json".to_owned(),
        content: serde_json::to_string_pretty(document).unwrap_or_default(),
    }
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
    // An actively exploited vulnerability: customers are told so first and
    // get the advisory as CSAF 2.0 and their releases' VEX (CRA Article 14(8)).
    let exploited = case
        .cra
        .as_ref()
        .is_some_and(embargo_core::cra::CraStatus::is_exploited_vulnerability);
    let now = state.now();
    let publisher = crate::app::advisories::publisher(state);
    let products = state.store.products().await?;
    let mut messages: Vec<CustomerMessage> = Vec::new();
    for i in &list {
        let Some(to) = email_of(&i.contact) else {
            continue;
        };
        let mut attachments = Vec::new();
        if exploited {
            let csaf = embargo_core::advisory::csaf::document(&advisory, &publisher, now);
            attachments.push(json_attachment(
                &format!("{}.csaf.json", advisory.id),
                &csaf,
            ));
            let product_id = products
                .iter()
                .find(|p| p.name == i.product || p.id == i.product)
                .map(|p| p.id.clone());
            if let Some(product_id) = product_id {
                let findings = state.findings(Some(&product_id), now).await?;
                for version in &i.releases {
                    let of_release: Vec<_> = findings
                        .iter()
                        .filter(|f| f.release == *version)
                        .cloned()
                        .collect();
                    let vex = embargo_core::advisory::csaf::release_vex(
                        &product_id,
                        version,
                        &of_release,
                        &publisher,
                        now,
                    );
                    attachments.push(json_attachment(
                        &embargo_core::evidence::safe_name(&format!(
                            "{product_id}-{version}.vex.csaf.json"
                        )),
                        &vex,
                    ));
                }
            }
        }
        messages.push(CustomerMessage {
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
                exploited,
                // Links to the public documents once they are published.
                documents: advisory
                    .published
                    .map(|_| (format!("{url}/csaf.json"), format!("{url}/openvex.json"))),
                attachments,
            }),
        });
    }
    let queued = queue_customer_notices(state, &caller.actor(), r, &messages).await?;
    Ok(CustomerNotices {
        advisory: advisory.id,
        notices: list
            .iter()
            .map(|i| view(i, queued.contains(&i.customer)))
            .collect(),
    })
}

/// A message for one customer, queued under its own idempotency key.
#[derive(Debug, Clone)]
struct CustomerMessage {
    customer: String,
    /// Unique per case, advisory revision and customer: asking twice queues nothing new.
    idempotency_key: String,
    delivery: embargo_core::notify::Delivery,
}

/// Queues one notice per impacted customer and, when at least one is new,
/// records on the case that customers were notified (which stops the
/// customer-notice clock), in one unit. Returns the customers whose notice
/// was queued now (the others had theirs).
async fn queue_customer_notices(
    state: &AppState,
    actor: &str,
    reference: CaseRef,
    messages: &[CustomerMessage],
) -> ApiResult<Vec<String>> {
    let now = embargo_core::to_millis(state.now());
    let mut work = state.store.begin().await?;
    let handle = work.cases().lock(reference).await?;
    let mut queued = Vec::new();
    for m in messages {
        let new = work
            .outbox()
            .queue(
                &m.idempotency_key,
                "customer.notice",
                Some(&reference.to_string()),
                &m.delivery,
                now,
            )
            .await?;
        if new {
            queued.push(m.customer.clone());
        }
    }
    if queued.is_empty() {
        return Ok(queued);
    }
    let note = format!(
        "{} customer{} notified: {}",
        queued.len(),
        if queued.len() == 1 { "" } else { "s" },
        queued.join(", ")
    );
    let events = vec![embargo_core::EventKind::CustomersNotified { note: Some(note) }];
    state
        .recording()
        .finish(work, handle, events, actor, now)
        .await?;
    Ok(queued)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    pub name: String,
    /// An http:// or https:// URL.
    pub url: String,
    #[serde(default = "embargo_format")]
    pub format: WebhookFormat,
    /// Event kinds to send; empty or absent means all.
    #[serde(default)]
    pub kinds: Vec<NoticeKind>,
    /// Products to send about; empty or absent means all.
    #[serde(default)]
    pub products: Vec<String>,
    /// Only cases at least this severe.
    pub min_severity: Option<Severity>,
    /// The signing secret (16 to 256 characters); omit it to have one generated.
    pub secret: Option<String>,
}

fn embargo_format() -> WebhookFormat {
    WebhookFormat::Embargo
}

/// Subscribes a webhook; returns it and its signing secret (generated when
/// none was given), which is shown this once.
pub async fn add_webhook(state: &AppState, req: NewWebhook) -> ApiResult<(Webhook, String)> {
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.contains(char::is_control) {
        return Err(ApiError::invalid(
            "name",
            "name: must be 1 to 100 characters on one line",
        ));
    }
    let url = req.url.trim();
    if !(url.starts_with("https://") || url.starts_with("http://"))
        || url.len() > 2000
        || url.contains(char::is_whitespace)
    {
        return Err(ApiError::invalid(
            "url",
            "url: must be an http:// or https:// URL without spaces",
        ));
    }
    let secret = match req.secret {
        Some(s) if (16..=256).contains(&s.chars().count()) => s,
        Some(_) => {
            return Err(ApiError::invalid(
                "secret",
                "secret: must be 16 to 256 characters",
            ));
        }
        None => auth::generate_token("whsec_"),
    };
    if req.products.len() > 100 || req.products.iter().any(|p| p.len() > 100) {
        return Err(ApiError::invalid(
            "products",
            "products: at most 100 names of at most 100 characters",
        ));
    }
    let webhook = state
        .store
        .add_webhook(
            name,
            url,
            req.format,
            &req.kinds,
            &req.products,
            req.min_severity,
            &secret,
            state.now(),
        )
        .await?;
    Ok((webhook, secret))
}
