//! The policies in force, read-only: each one's clocks (when they start and
//! stop, how long they run, for which cases), finding deadlines, severity
//! levels and scope rules, and what `embargo policy check` would warn about.
//! Policies change in their files (`embargo policy check`, then a restart);
//! this page shows what the server holds now.

use axum::extract::State;
use axum::http::StatusCode;
use embargo_core::auth::Role;
use embargo_core::policy::{Condition, Policy};
use minijinja::Value;
use serde::Serialize;

use crate::desk::{Desk, PageResult};
use crate::state::AppState;

#[derive(Debug, Serialize)]
struct ClockView {
    id: String,
    name: String,
    promise: String,
    runs: String,
    target: String,
    when: String,
    public: bool,
    warn_percent: u32,
}

#[derive(Debug, Serialize)]
struct PolicyView {
    id: String,
    name: String,
    revision: Option<String>,
    products: String,
    time_zone: String,
    contacts: Vec<String>,
    clocks: Vec<ClockView>,
    finding_clocks: Vec<(String, String)>,
    severity: Vec<(String, String)>,
    scope_rules: Vec<(String, String)>,
    cra: Option<String>,
    warnings: Vec<String>,
}

fn condition_text(c: &Condition) -> String {
    let mut parts = Vec::new();
    if !c.severity.is_empty() {
        parts.push(format!(
            "severity {}",
            c.severity
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" or ")
        ));
    }
    if !c.level.is_empty() {
        parts.push(format!("level {}", c.level.join(" or ")));
    }
    if let Some(e) = c.exposure {
        parts.push(format!("exposure {}", e.as_str()));
    }
    if c.reporter_deadline {
        parts.push("the reporter set a disclosure date".to_owned());
    }
    if !c.cra.is_empty() {
        parts.push("an actively exploited vulnerability or severe incident".to_owned());
    }
    if parts.is_empty() {
        "every case".to_owned()
    } else {
        parts.join("; ")
    }
}

fn view(p: &Policy) -> PolicyView {
    PolicyView {
        id: p.id.clone(),
        name: p.name.clone(),
        revision: p.revision.clone(),
        products: if p.products.is_empty() {
            "every product (the default policy)".to_owned()
        } else {
            p.products.join(", ")
        },
        time_zone: p.time_zone.clone(),
        contacts: p.organization.contacts.clone(),
        clocks: p
            .clocks
            .iter()
            .map(|c| ClockView {
                id: c.id.clone(),
                name: c.name.clone(),
                promise: c.promise.clone(),
                runs: format!(
                    "from when {} until {}",
                    c.start.describe(),
                    c.stop.describe()
                ),
                target: c.target.to_string(),
                when: condition_text(&c.when),
                public: c.public,
                warn_percent: c.warn_percent,
            })
            .collect(),
        finding_clocks: p
            .finding_clocks
            .iter()
            .map(|f| (f.name.clone(), f.promise.clone()))
            .collect(),
        severity: p
            .severity
            .iter()
            .map(|s| (s.name.clone(), s.description.clone()))
            .collect(),
        scope_rules: p
            .scope_rules
            .iter()
            .map(|r| (r.id.clone(), r.title.clone()))
            .collect(),
        cra: p.cra.as_ref().map(|c| {
            format!(
                "{} (main establishment {}, coordinator {}), {} product{} in scope",
                c.manufacturer.name,
                c.main_establishment,
                c.coordinator.name,
                c.products.len(),
                if c.products.len() == 1 { "" } else { "s" }
            )
        }),
        warnings: p.warnings("").into_iter().map(|w| w.to_string()).collect(),
    }
}

/// The policies in force, as the server holds them, with their warnings.
#[utoipa::path(get, path = "/desk/policy", tag = "desk",
    responses((status = 200, description = "The policies in force", body = String, content_type = "text/html"),
        (status = 303, description = "Not signed in: to the sign-in form")))]
pub async fn policies(State(state): State<AppState>, desk: Desk) -> PageResult {
    desk.require(Role::Viewer)?;
    let views: Vec<PolicyView> = state.settings.policies.all().iter().map(view).collect();
    let mut ctx = desk.context("Policies in force", "policy");
    ctx.insert("policies", Value::from_serialize(&views));
    Ok(desk.page(StatusCode::OK, "policies.html", ctx))
}
