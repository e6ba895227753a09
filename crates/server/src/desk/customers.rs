//! Customers for admins: who runs which releases (the impact of an advisory
//! and the customer notices follow from it), adding one, and changing the
//! releases they run.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use embargo_core::auth::Role;
use embargo_core::portfolio::Customer;
use minijinja::Value;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use crate::desk::{Desk, DeskForm, PageResult, redirect};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomersQuery {
    /// The customer just added or changed.
    pub saved: Option<String>,
}

/// Releases typed one per line or separated by commas: `product@version`.
fn releases_of(text: &str) -> Vec<String> {
    text.split([',', '\n'])
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect()
}

async fn customers_page(
    state: &AppState,
    desk: &Desk,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> PageResult {
    desk.require(Role::Admin)?;
    let customers = state.store.customers().await?;
    let releases: Vec<String> = state
        .store
        .releases()
        .await?
        .into_iter()
        .map(|(product, version, _, _)| format!("{product}@{version}"))
        .collect();
    let mut ctx = desk.context("Customers", "customers");
    ctx.insert("customers", Value::from_serialize(&customers));
    ctx.insert("releases", Value::from_serialize(&releases));
    ctx.insert("notice", Value::from(notice));
    ctx.insert("error", Value::from(error));
    Ok(desk.page(status, "customers.html", ctx))
}

/// Customers and the releases they run.
#[utoipa::path(get, path = "/desk/customers", tag = "desk", params(CustomersQuery),
    responses((status = 200, description = "The customers page", body = String, content_type = "text/html"),
        (status = 303, description = "Not signed in: to the sign-in form"),
        (status = 403, description = "Not an admin", body = String, content_type = "text/html")))]
pub async fn customers(
    State(state): State<AppState>,
    desk: Desk,
    Query(q): Query<CustomersQuery>,
) -> PageResult {
    let notice = q
        .saved
        .filter(|s| s.len() <= 100)
        .map(|id| format!("Customer `{id}` is saved."));
    customers_page(&state, &desk, StatusCode::OK, notice, None).await
}

/// Add a customer with the releases they run.
#[utoipa::path(post, path = "/desk/customers", tag = "desk",
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Added; back to the customers"),
        (status = 403, description = "Not an admin", body = String, content_type = "text/html"),
        (status = 422, description = "A bad or taken id, a bad name, contact or release", body = String, content_type = "text/html")))]
pub async fn add_customer(State(state): State<AppState>, form: DeskForm) -> PageResult {
    form.desk.require(Role::Admin)?;
    let customer = Customer {
        id: form.text("id").unwrap_or_default(),
        name: form.text("name").unwrap_or_default(),
        contact: form.text("contact").unwrap_or_default(),
        releases: releases_of(&form.text("releases").unwrap_or_default()),
    };
    match state.store.add_customer(&customer).await {
        Ok(saved) => Ok(redirect(&format!(
            "/desk/customers?saved={}",
            form_urlencoded::byte_serialize(saved.id.as_bytes()).collect::<String>()
        ))),
        Err(e) => {
            let e = crate::error::ApiError::from(e);
            customers_page(
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

/// Change the releases a customer runs.
#[utoipa::path(post, path = "/desk/customers/{id}/releases", tag = "desk",
    params(("id" = String, Path, description = "The customer id")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Saved; back to the customers"),
        (status = 403, description = "Not an admin", body = String, content_type = "text/html"),
        (status = 404, description = "No such customer", body = String, content_type = "text/html"),
        (status = 422, description = "A release that does not exist", body = String, content_type = "text/html")))]
pub async fn set_releases(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: DeskForm,
) -> PageResult {
    form.desk.require(Role::Admin)?;
    let releases = releases_of(&form.text("releases").unwrap_or_default());
    match state.store.set_customer_releases(&id, &releases).await {
        Ok(saved) => Ok(redirect(&format!(
            "/desk/customers?saved={}",
            form_urlencoded::byte_serialize(saved.id.as_bytes()).collect::<String>()
        ))),
        Err(e) => {
            let e = crate::error::ApiError::from(e);
            if e.status == StatusCode::NOT_FOUND {
                return Err(crate::desk::PageError(e));
            }
            customers_page(&state, &form.desk, e.status, None, Some(e.message)).await
        }
    }
}
