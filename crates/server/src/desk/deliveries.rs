//! The delivery log for admins: every message embargo sent or is trying to
//! send, what failed and why (the dead letters), and a retry button.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use embargo_core::auth::Role;
use embargo_store::{DeliveryRecord, OutboxState};
use minijinja::Value;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use crate::desk::{Desk, DeskForm, PageError, PageResult, redirect, when};
use crate::error::ApiError;
use crate::state::AppState;

/// A delivery as the pages show it.
#[derive(Debug, Serialize)]
pub(crate) struct DeliveryRow {
    pub id: i64,
    pub kind: String,
    pub channel: String,
    pub to: String,
    pub case_ref: Option<String>,
    pub state: &'static str,
    pub attempts: i64,
    pub created: String,
    pub delivered: Option<String>,
    pub last_error: Option<String>,
}

pub(crate) fn rows(records: Vec<DeliveryRecord>) -> Vec<DeliveryRow> {
    records
        .into_iter()
        .map(|d| DeliveryRow {
            id: d.id,
            kind: d.kind,
            channel: d.channel,
            to: d.to,
            case_ref: d.case_ref,
            state: d.state.as_str(),
            attempts: d.attempts,
            created: when(d.created_at),
            delivered: d.delivered_at.map(when),
            last_error: d.last_error,
        })
        .collect()
}

#[derive(Debug, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// `pending`, `delivering`, `delivered` or `dead`.
    pub state: Option<String>,
    /// The delivery just put back in the queue.
    pub retried: Option<i64>,
}

/// Every message sent or failing; `?state=dead` lists the dead letters.
#[utoipa::path(get, path = "/desk/deliveries", tag = "desk", params(DeliveriesQuery),
    responses((status = 200, description = "The delivery log", body = String, content_type = "text/html"),
        (status = 303, description = "Not signed in: to the sign-in form"),
        (status = 403, description = "Not an admin", body = String, content_type = "text/html")))]
pub async fn deliveries(
    State(state): State<AppState>,
    desk: Desk,
    Query(q): Query<DeliveriesQuery>,
) -> PageResult {
    desk.require(Role::Admin)?;
    let wanted = match q.state.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(name) => Some(OutboxState::named(name).ok_or_else(|| {
            PageError(ApiError::invalid(
                "state",
                format!("state: `{name}` is not pending, delivering, delivered or dead"),
            ))
        })?),
    };
    let list = rows(state.store.deliveries(None, wanted, 500).await?);
    let mut ctx = desk.context("Deliveries", "deliveries");
    ctx.insert("rows", Value::from_serialize(&list));
    ctx.insert("filter", Value::from_serialize(&q));
    ctx.insert(
        "notice",
        Value::from(
            q.retried
                .map(|id| format!("Delivery {id} is queued again.")),
        ),
    );
    Ok(desk.page(StatusCode::OK, "deliveries.html", ctx))
}

/// Put a dead delivery back in the queue.
#[utoipa::path(post, path = "/desk/deliveries/{id}/retry", tag = "desk",
    params(("id" = i64, Path, description = "The delivery's id")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Queued again; back to the log"),
        (status = 404, description = "No such delivery", body = String, content_type = "text/html"),
        (status = 409, description = "Not dead", body = String, content_type = "text/html")))]
pub async fn retry(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: DeskForm,
) -> PageResult {
    form.desk.require(Role::Admin)?;
    let id: i64 = id
        .parse()
        .map_err(|_| PageError(ApiError::not_found(format!("No delivery `{id}`."))))?;
    state.store.retry_delivery(id, state.now()).await?;
    Ok(redirect(&format!(
        "/desk/deliveries?state=pending&retried={id}"
    )))
}
