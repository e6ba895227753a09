//! Webhook subscriptions, the delivery log (with its dead letters), and each
//! user's notification preferences.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use embargo_core::auth::Role;
use embargo_core::notify::{NoticeKind, Preferences, Webhook};
use embargo_store::{DeliveryRecord, OutboxState};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

pub use crate::app::notices::NewWebhook;

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// The signing secret. Shown this once.
    pub secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub webhooks: Vec<Webhook>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookUpdate {
    pub disabled: bool,
}

/// Webhook subscriptions.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "notifications",
    responses((status = 200, body = WebhookList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_webhooks(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<WebhookList>> {
    caller.require(Role::Admin)?;
    Ok(Json(WebhookList {
        webhooks: state.store.list_webhooks().await?,
    }))
}

/// Subscribe a URL to events. Each delivery is signed with HMAC-SHA256 in
/// the `Embargo-Signature` header (`t=UNIX,v1=HEX` over `UNIX.BODY`) and
/// carries its idempotency key in `Embargo-Delivery`.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "notifications", request_body = NewWebhook,
    responses((status = 201, body = CreatedWebhook), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_webhook(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<NewWebhook>,
) -> ApiResult<(StatusCode, Json<CreatedWebhook>)> {
    caller.require(Role::Admin)?;
    let (webhook, secret) = crate::app::notices::add_webhook(&state, req).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedWebhook { webhook, secret }),
    ))
}

/// Disable or re-enable a subscription.
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "notifications",
    params(("id" = i64, Path, description = "The subscription's id")), request_body = WebhookUpdate,
    responses((status = 200, body = Webhook), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<WebhookUpdate>,
) -> ApiResult<Json<Webhook>> {
    caller.require(Role::Admin)?;
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::not_found(format!("no webhook `{id}`")))?;
    Ok(Json(
        state.store.set_webhook_disabled(id, req.disabled).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// pending, delivering, delivered or dead (the dead letters).
    #[param(inline)]
    pub state: Option<DeliveryStateParam>,
    /// At most this many, newest first (default 100, at most 1000).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStateParam {
    Pending,
    Delivering,
    Delivered,
    Dead,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    pub deliveries: Vec<DeliveryRecord>,
    /// How many deliveries there are in all (in the state asked for).
    pub total: i64,
    /// Pass as `cursor` for the next (older) page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// The delivery log; `?state=dead` lists what failed and why.
#[utoipa::path(get, path = "/api/v1/deliveries", tag = "notifications", params(DeliveryQuery),
    responses((status = 200, body = DeliveryList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<DeliveryQuery>,
) -> ApiResult<Json<DeliveryList>> {
    caller.require(Role::Admin)?;
    let wanted = q.state.map(|s| match s {
        DeliveryStateParam::Pending => OutboxState::Pending,
        DeliveryStateParam::Delivering => OutboxState::Delivering,
        DeliveryStateParam::Delivered => OutboxState::Delivered,
        DeliveryStateParam::Dead => OutboxState::Dead,
    });
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let before = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(c.parse::<i64>().map_err(|_| {
            ApiError::invalid("cursor", "cursor: pass the next_cursor of a page")
                .with_status(axum::http::StatusCode::BAD_REQUEST)
        })?),
    };
    let (mut deliveries, total) = state
        .store
        .deliveries_page(wanted, before, limit + 1)
        .await?;
    let next_cursor = super::next_cursor(&mut deliveries, limit as usize, |d| d.id.to_string());
    Ok(Json(DeliveryList {
        deliveries,
        total,
        next_cursor,
    }))
}

/// Put a dead delivery back in the queue.
#[utoipa::path(post, path = "/api/v1/deliveries/{id}/retry", tag = "notifications",
    params(("id" = i64, Path, description = "The delivery's id")),
    responses((status = 200, body = DeliveryRecord), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn retry_delivery(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<DeliveryRecord>> {
    caller.require(Role::Admin)?;
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::not_found(format!("no delivery `{id}`")))?;
    Ok(Json(state.store.retry_delivery(id, state.now()).await?))
}

/// The messages sent (or failed) about one case: to whom, when, and how it went.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/deliveries", tag = "notifications",
    params(("reference" = String, Path, description = "The case reference")),
    responses((status = 200, body = DeliveryList), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn case_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> ApiResult<Json<DeliveryList>> {
    caller.require(Role::Viewer)?;
    let reference = super::cases::reference(&raw)?;
    state.store.case(reference).await?;
    // A case's messages are few: all of them, in one answer.
    let deliveries = state
        .store
        .deliveries(Some(&reference.to_string()), None, 1000)
        .await?;
    Ok(Json(DeliveryList {
        total: i64::try_from(deliveries.len()).unwrap_or(i64::MAX),
        deliveries,
        next_cursor: None,
    }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationSettings {
    /// Where to send email; absent or null for none.
    #[serde(default)]
    pub email: Option<String>,
    /// Event kinds to hear about; empty means new reports and clock warnings and breaches.
    #[serde(default)]
    pub kinds: Vec<NoticeKind>,
    /// Products to hear about; empty means all.
    #[serde(default)]
    pub products: Vec<String>,
    /// Kinds to receive once a day in a digest instead.
    #[serde(default)]
    pub digest: Vec<NoticeKind>,
    /// An armored OpenPGP public key; email to you is then encrypted (PGP/MIME).
    #[serde(default)]
    pub pgp_key: Option<String>,
}

/// Your email address, which events and products you hear about, your digest
/// and your OpenPGP key.
#[utoipa::path(get, path = "/api/v1/me/notifications", tag = "notifications",
    responses((status = 200, body = NotificationSettings), (status = 401, body = ErrorBody)))]
pub async fn my_notifications(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<NotificationSettings>> {
    let (preferences, pgp_key) = state.store.preferences(caller.user.id).await?;
    Ok(Json(NotificationSettings {
        email: caller.user.email.clone(),
        kinds: preferences.kinds,
        products: preferences.products,
        digest: preferences.digest,
        pgp_key,
    }))
}

/// Replace your notification settings.
#[utoipa::path(put, path = "/api/v1/me/notifications", tag = "notifications", request_body = NotificationSettings,
    responses((status = 200, body = NotificationSettings), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_my_notifications(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<NotificationSettings>,
) -> ApiResult<Json<NotificationSettings>> {
    let email = req
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty());
    let key = req
        .pgp_key
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty());
    if req.products.len() > 100 || req.products.iter().any(|p| p.len() > 100) {
        return Err(ApiError::invalid(
            "products",
            "products: at most 100 names of at most 100 characters",
        ));
    }
    let preferences = Preferences {
        kinds: req.kinds,
        products: req.products,
        digest: req.digest,
    };
    state.store.set_pgp_key(caller.user.id, key).await?;
    state
        .store
        .set_notifications(caller.user.id, email, &preferences)
        .await?;
    Ok(Json(NotificationSettings {
        email: email.map(str::to_owned),
        kinds: preferences.kinds,
        products: preferences.products,
        digest: preferences.digest,
        pgp_key: key.map(str::to_owned),
    }))
}
