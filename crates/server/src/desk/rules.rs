//! Vulnerability rules for admins: the rules (what they match, what they
//! do, whether they are on), adding one from a form, turning one off and on.
//! A rule decides findings automatically, each change recorded with it.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use embargo_core::Severity;
use embargo_core::auth::Role;
use embargo_core::portfolio::{Analysis, Rule, RuleAction, RuleCondition};
use minijinja::Value;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use crate::desk::{Desk, DeskForm, PageError, PageResult, day_field, redirect};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Serialize)]
struct RuleRow {
    id: i64,
    name: String,
    when: String,
    then: String,
    disabled: bool,
}

#[derive(Debug, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RulesQuery {
    /// How many findings the rule just added changed.
    pub applied: Option<usize>,
}

fn when_text(c: &RuleCondition) -> String {
    let mut parts = Vec::new();
    for (label, value) in [
        ("package", &c.package),
        ("advisory", &c.advisory),
        ("product", &c.product),
    ] {
        if let Some(v) = value {
            parts.push(format!("{label} {v}"));
        }
    }
    if let Some(s) = c.min_severity {
        parts.push(format!("at least {}", s.as_str()));
    }
    if let Some(s) = c.max_severity {
        parts.push(format!("at most {}", s.as_str()));
    }
    parts.join(", ")
}

fn then_text(a: &RuleAction) -> String {
    match a {
        RuleAction::SetSeverity { severity } => format!("severity becomes {}", severity.as_str()),
        RuleAction::SetAnalysis { analysis } => match analysis {
            Analysis::FalsePositive => "false positive".into(),
            Analysis::RiskAccepted { until } => {
                format!("risk accepted until {}", crate::desk::when(*until))
            }
            Analysis::NotAffected { .. } => "not affected".into(),
            Analysis::Resolved => "resolved".into(),
            Analysis::Affected => "affected".into(),
            Analysis::InTriage => "in triage".into(),
        },
    }
}

async fn rules_page(
    state: &AppState,
    desk: &Desk,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> PageResult {
    desk.require(Role::Admin)?;
    let rules: Vec<RuleRow> = state
        .store
        .rules()
        .await?
        .into_iter()
        .map(|r| RuleRow {
            id: r.id,
            when: when_text(&r.when),
            then: then_text(&r.then),
            name: r.name,
            disabled: r.disabled,
        })
        .collect();
    let mut ctx = desk.context("Vulnerability rules", "rules");
    ctx.insert("rules", Value::from_serialize(&rules));
    ctx.insert(
        "severities",
        Value::from_serialize(Severity::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>()),
    );
    ctx.insert("notice", Value::from(notice));
    ctx.insert("error", Value::from(error));
    Ok(desk.page(status, "rules.html", ctx))
}

/// The vulnerability rules.
#[utoipa::path(get, path = "/desk/rules", tag = "desk", params(RulesQuery),
    responses((status = 200, description = "The rules page", body = String, content_type = "text/html"),
        (status = 303, description = "Not signed in: to the sign-in form"),
        (status = 403, description = "Not an admin", body = String, content_type = "text/html")))]
pub async fn rules(
    State(state): State<AppState>,
    desk: Desk,
    Query(q): Query<RulesQuery>,
) -> PageResult {
    let notice = q.applied.map(|n| {
        format!(
            "The rule is on; it changed {n} finding{} now and applies to every new one.",
            if n == 1 { "" } else { "s" }
        )
    });
    rules_page(&state, &desk, StatusCode::OK, notice, None).await
}

fn severity_field(form: &DeskForm, name: &str) -> Result<Option<Severity>, ApiError> {
    form.text(name)
        .map(|s| {
            Severity::ALL
                .iter()
                .copied()
                .find(|v| v.as_str() == s)
                .ok_or_else(|| ApiError::invalid(name, format!("{name}: no severity `{s}`")))
        })
        .transpose()
}

/// Add a rule from the form: conditions, and one action.
#[utoipa::path(post, path = "/desk/rules", tag = "desk",
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Added and applied; back to the rules"),
        (status = 403, description = "Not an admin", body = String, content_type = "text/html"),
        (status = 422, description = "A bad condition, action or date, named", body = String, content_type = "text/html")))]
pub async fn add_rule(State(state): State<AppState>, form: DeskForm) -> PageResult {
    form.desk.require(Role::Admin)?;
    let built = (|| {
        let then = match form.text("action").as_deref() {
            Some("set_severity") => RuleAction::SetSeverity {
                severity: severity_field(&form, "severity")?.ok_or_else(|| {
                    ApiError::invalid("severity", "severity: choose the severity to set")
                })?,
            },
            Some("false_positive") => RuleAction::SetAnalysis {
                analysis: Analysis::FalsePositive,
            },
            Some("risk_accepted") => RuleAction::SetAnalysis {
                analysis: Analysis::RiskAccepted {
                    until: day_field(&form, "until")?.ok_or_else(|| {
                        ApiError::invalid("until", "until: the date the acceptance ends")
                    })?,
                },
            },
            other => {
                return Err(ApiError::invalid(
                    "action",
                    format!(
                        "action: `{}` is not set_severity, false_positive or risk_accepted",
                        other.unwrap_or("")
                    ),
                ));
            }
        };
        Ok(Rule {
            id: 0,
            name: form.text("name").unwrap_or_default(),
            when: RuleCondition {
                package: form.text("package"),
                advisory: form.text("advisory"),
                product: form.text("product"),
                min_severity: severity_field(&form, "min_severity")?,
                ..RuleCondition::default()
            },
            then,
            valid_from: None,
            valid_until: None,
            disabled: false,
        })
    })();
    let outcome = match built {
        Ok(rule) => crate::app::portfolio::add_rule(&state, &form.desk.caller, &rule).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok((_, applied)) => Ok(redirect(&format!("/desk/rules?applied={applied}"))),
        Err(e) => {
            rules_page(
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

/// `disable` or `enable` a rule (what it changed stays changed).
#[utoipa::path(post, path = "/desk/rules/{id}/{action}", tag = "desk",
    params(("id" = i64, Path, description = "The rule's id"),
        ("action" = String, Path, description = "`disable` or `enable`")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Done; back to the rules"),
        (status = 403, description = "Not an admin", body = String, content_type = "text/html"),
        (status = 404, description = "No such rule or action", body = String, content_type = "text/html")))]
pub async fn rule_action(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    form: DeskForm,
) -> PageResult {
    form.desk.require(Role::Admin)?;
    let number: i64 = id
        .parse()
        .map_err(|_| PageError(ApiError::not_found(format!("No rule `{id}`."))))?;
    let disabled = match action.as_str() {
        "disable" => true,
        "enable" => false,
        other => {
            return Err(PageError(ApiError::not_found(format!(
                "No action `{other}` on a rule: disable or enable."
            ))));
        }
    };
    crate::app::portfolio::switch_rule(&state, number, disabled).await?;
    Ok(redirect("/desk/rules"))
}
