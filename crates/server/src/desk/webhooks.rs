//! Webhooks for admins: the subscriptions, adding one (its signing secret
//! shown once), turning one off and on, a test message, and the latest
//! deliveries to webhooks with why they failed.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use embargo_core::Severity;
use embargo_core::auth::Role;
use embargo_core::notify::{Delivery, WebhookFormat};
use minijinja::Value;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use crate::desk::deliveries::rows;
use crate::desk::{Desk, DeskForm, PageError, PageResult, redirect, when};
use crate::error::ApiError;
use crate::state::AppState;

/// The outbox kind of a webhook test message.
pub const TEST_KIND: &str = "webhook.test";
const FORMATS: [WebhookFormat; 4] = [
    WebhookFormat::Embargo,
    WebhookFormat::Slack,
    WebhookFormat::Teams,
    WebhookFormat::Mattermost,
];

#[derive(Debug, Serialize)]
struct HookRow {
    id: i64,
    name: String,
    url: String,
    format: &'static str,
    kinds: String,
    products: String,
    min_severity: Option<&'static str>,
    disabled: bool,
}

#[derive(Debug, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WebhooksQuery {
    /// What was just done (`test`, `disable`, `enable`).
    pub done: Option<String>,
}

async fn webhooks_page(
    state: &AppState,
    desk: &Desk,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
    secret: Option<String>,
) -> PageResult {
    desk.require(Role::Admin)?;
    let hooks: Vec<HookRow> = state
        .store
        .list_webhooks()
        .await?
        .into_iter()
        .map(|w| HookRow {
            id: w.id,
            name: w.name,
            url: w.url,
            format: w.format.as_str(),
            kinds: if w.kinds.is_empty() {
                "every kind".into()
            } else {
                w.kinds
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            products: if w.products.is_empty() {
                "every product".into()
            } else {
                w.products.join(", ")
            },
            min_severity: w.min_severity.map(Severity::as_str),
            disabled: w.disabled,
        })
        .collect();
    let recent = state.store.deliveries_on_channel("webhook", 20).await?;
    let mut ctx = desk.context("Webhooks", "webhooks");
    ctx.insert("hooks", Value::from_serialize(&hooks));
    ctx.insert("rows", Value::from_serialize(rows(recent)));
    ctx.insert(
        "formats",
        Value::from_serialize(FORMATS.iter().map(|f| f.as_str()).collect::<Vec<_>>()),
    );
    ctx.insert(
        "severities",
        Value::from_serialize(Severity::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>()),
    );
    ctx.insert("notice", Value::from(notice));
    ctx.insert("error", Value::from(error));
    ctx.insert("secret", Value::from(secret));
    Ok(desk.page(status, "webhooks.html", ctx))
}

/// The webhook subscriptions and their latest deliveries.
#[utoipa::path(get, path = "/desk/webhooks", tag = "desk", params(WebhooksQuery),
    responses((status = 200, description = "The webhooks page", body = String, content_type = "text/html"),
        (status = 303, description = "Not signed in: to the sign-in form"),
        (status = 403, description = "Not an admin", body = String, content_type = "text/html")))]
pub async fn webhooks(
    State(state): State<AppState>,
    desk: Desk,
    Query(q): Query<WebhooksQuery>,
) -> PageResult {
    let notice = match q.done.as_deref() {
        Some("test") => Some("A test message is queued; its delivery shows below.".to_owned()),
        Some("disable") => Some("The webhook is off: it gets nothing new.".to_owned()),
        Some("enable") => Some("The webhook is on again.".to_owned()),
        _ => None,
    };
    webhooks_page(&state, &desk, StatusCode::OK, notice, None, None).await
}

/// Subscribe a webhook; its signing secret is shown once.
#[utoipa::path(post, path = "/desk/webhooks", tag = "desk",
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 201, description = "The page with the new signing secret", body = String, content_type = "text/html"),
        (status = 403, description = "Not an admin", body = String, content_type = "text/html"),
        (status = 422, description = "A bad name, URL, format or severity", body = String, content_type = "text/html")))]
pub async fn add_webhook(State(state): State<AppState>, form: DeskForm) -> PageResult {
    form.desk.require(Role::Admin)?;
    let made = async {
        let format = match form.text("format").as_deref() {
            None | Some("embargo") => WebhookFormat::Embargo,
            Some(name) => FORMATS
                .iter()
                .copied()
                .find(|f| f.as_str() == name)
                .ok_or_else(|| {
                    ApiError::invalid("format", format!("format: no format `{name}`"))
                })?,
        };
        let min_severity = match form.text("min_severity") {
            None => None,
            Some(name) => Some(
                Severity::ALL
                    .iter()
                    .copied()
                    .find(|s| s.as_str() == name)
                    .ok_or_else(|| {
                        ApiError::invalid(
                            "min_severity",
                            format!("min_severity: no severity `{name}`"),
                        )
                    })?,
            ),
        };
        let products = form
            .text("products")
            .map(|p| {
                p.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        crate::app::notices::add_webhook(
            &state,
            crate::app::notices::NewWebhook {
                name: form.text("name").unwrap_or_default(),
                url: form.text("url").unwrap_or_default(),
                format,
                kinds: Vec::new(),
                products,
                min_severity,
                secret: None,
            },
        )
        .await
    }
    .await;
    match made {
        Ok((hook, secret)) => {
            webhooks_page(
                &state,
                &form.desk,
                StatusCode::CREATED,
                Some(format!(
                    "“{}” is subscribed. Its signing secret is shown once, below: the receiver checks each message's signature with it.",
                    hook.name
                )),
                None,
                Some(secret),
            )
            .await
        }
        Err(e) => webhooks_page(&state, &form.desk_keeping_values(), e.status, None, Some(e.message), None).await,
    }
}

/// `disable`, `enable`, or `test` (a test message through the usual queue).
#[utoipa::path(post, path = "/desk/webhooks/{id}/{action}", tag = "desk",
    params(("id" = i64, Path, description = "The subscription's id"),
        ("action" = String, Path, description = "`disable`, `enable` or `test`")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Done; back to the webhooks page"),
        (status = 403, description = "Not an admin", body = String, content_type = "text/html"),
        (status = 404, description = "No such webhook or action", body = String, content_type = "text/html")))]
pub async fn webhook_action(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    form: DeskForm,
) -> PageResult {
    form.desk.require(Role::Admin)?;
    let missing = || PageError(ApiError::not_found(format!("No webhook `{id}`.")));
    let number: i64 = id.parse().map_err(|_| missing())?;
    let now = state.now();
    match action.as_str() {
        "disable" | "enable" => {
            state
                .store
                .set_webhook_disabled(number, action == "disable")
                .await?;
        }
        "test" => {
            let (hook, _) = state.store.webhook(number).await.map_err(|_| missing())?;
            let body = serde_json::json!({
                "kind": "test",
                "text": format!("A test message from embargo to “{}”, sent by {}.", hook.name, form.desk.caller.user.username),
                "sent_at": when(now),
            })
            .to_string();
            let delivery = Delivery::Webhook {
                webhook_id: hook.id,
                url: hook.url,
                body,
            };
            let key = format!("webhook-test-{}-{}", hook.id, now.timestamp_millis());
            state
                .store
                .queue_deliveries(&[(key, TEST_KIND, delivery)], now)
                .await?;
        }
        other => {
            return Err(PageError(ApiError::not_found(format!(
                "No action `{other}` on a webhook: disable, enable or test."
            ))));
        }
    }
    Ok(redirect(&format!("/desk/webhooks?done={action}")))
}
