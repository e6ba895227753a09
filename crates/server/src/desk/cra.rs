//! The desk's Article 14 report pack: one stage, drafted from the case,
//! edited, saved, and marked submitted with the platform's reference.
//! Printable as it is; JSON and Markdown one click away.

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use embargo_core::Command;
use embargo_core::auth::Role;
use embargo_core::cra::{CraPack, CraStage};
use minijinja::Value;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::cases::{move_case, reference};
use crate::desk::{Desk, DeskForm, PageError, PageResult, redirect, when};
use crate::error::ApiError;
use crate::state::AppState;

/// How the pack page is asked for.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct PackPageQuery {
    /// `json` or `markdown` for a download; the page otherwise.
    pub format: Option<String>,
    /// What was just done (`saved`, `submitted`).
    pub done: Option<String>,
}

/// The text fields of a pack, in the order shown, with their labels.
const FIELDS: [(&str, &str); 10] = [
    (
        "nature",
        "General nature of the exploit (or of the incident)",
    ),
    ("vulnerability", "General nature of the vulnerability"),
    (
        "corrective_measures_taken",
        "Corrective or mitigating measures taken",
    ),
    ("user_measures", "Measures users can take"),
    ("description", "Description (final report)"),
    ("impact", "Impact (final report)"),
    (
        "malicious_actor",
        "What is known of the malicious actor (final report)",
    ),
    (
        "security_update",
        "The security update or corrective measure made available (final report)",
    ),
    (
        "root_cause",
        "Type of threat or root cause (incident final report)",
    ),
    (
        "notes",
        "Notes (and what the CSIRT asked for, for an intermediate report)",
    ),
];

/// What the pack page says besides the pack: a notice, or an error with
/// the team's edit kept.
struct Outcome {
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
    edited: Option<CraPack>,
}

async fn render(
    state: &AppState,
    desk: &Desk,
    raw: &str,
    stage: CraStage,
    outcome: Outcome,
) -> PageResult {
    let Outcome {
        status,
        notice,
        error,
        edited,
    } = outcome;
    let r = reference(raw)?;
    let case = state.store.case(r).await?;
    let history = state.store.history(r).await?;
    let view = crate::app::cra::pack_view(state, &case, &history, stage, state.now())?;
    let pack = edited.unwrap_or_else(|| view.pack.clone());
    let fields: Vec<Value> = FIELDS
        .iter()
        .map(|(name, label)| {
            let value = pack.text(name).cloned().unwrap_or_default();
            Value::from_serialize(serde_json::json!({
                "name": name, "label": label, "value": value,
                "missing": view.missing.contains(name),
            }))
        })
        .collect();
    let mut ctx = desk.context(
        &format!("{} — {} {}", stage.title(), r, case.title),
        "cases",
    );
    ctx.insert("case", Value::from_serialize(&case));
    ctx.insert("stage", Value::from(stage.as_str()));
    ctx.insert("stage_title", Value::from(stage.title()));
    ctx.insert("pack", Value::from_serialize(&pack));
    ctx.insert("fields", Value::from(fields));
    ctx.insert("missing", Value::from_serialize(&view.missing));
    ctx.insert("aware", Value::from(pack.aware_at.map(when)));
    ctx.insert(
        "clock",
        Value::from_serialize(view.clock.as_ref().map(|c| {
            serde_json::json!({
                "status": c.status.as_str(),
                "due": c.due_at.map(when),
                "left": c.due_at.map(|d| crate::app::cra::hours_minutes((d - state.now()).num_seconds())),
            })
        })),
    );
    ctx.insert(
        "submitted",
        Value::from_serialize(view.submitted.as_ref().map(|s| {
            serde_json::json!({
                "at": when(s.submitted_at), "by": s.by,
                "reference": s.platform_reference,
            })
        })),
    );
    ctx.insert("saved", Value::from(view.saved_at.map(when)));
    ctx.insert(
        "severities",
        Value::from_serialize(
            embargo_core::Severity::ALL
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>(),
        ),
    );
    ctx.insert("notice", Value::from(notice));
    ctx.insert("error", Value::from(error));
    Ok(desk.page(status, "cra_pack.html", ctx))
}

fn stage_of(raw: &str) -> Result<CraStage, PageError> {
    raw.parse()
        .map_err(|e: String| PageError::from(ApiError::not_found(e)))
}

/// One stage's report pack under the Cyber Resilience Act (Article 14):
/// the page to read, print, edit and mark submitted; or its JSON or Markdown.
#[utoipa::path(get, path = "/desk/cases/{reference}/cra/{stage}", tag = "desk",
    params(("reference" = String, Path, description = "The case reference"),
           ("stage" = String, Path, description = "early_warning, notification, intermediate or final_report"),
           PackPageQuery),
    responses((status = 200, description = "The pack", body = String, content_type = "text/html"),
        (status = 303, description = "Not signed in: to the sign-in form"),
        (status = 404, description = "No such case or stage", body = String, content_type = "text/html"),
        (status = 422, description = "The policy has no [cra] section", body = String, content_type = "text/html")))]
pub async fn pack_page(
    State(state): State<AppState>,
    desk: Desk,
    Path((raw, stage)): Path<(String, String)>,
    Query(q): Query<PackPageQuery>,
) -> PageResult {
    desk.require(Role::Viewer)?;
    let stage = stage_of(&stage)?;
    if let Some(format) = q.format.as_deref() {
        let r = reference(&raw)?;
        let case = state.store.case(r).await?;
        let history = state.store.history(r).await?;
        let view = crate::app::cra::pack_view(&state, &case, &history, stage, state.now())?;
        let name = format!("{r}-{stage}");
        return match format {
            "json" => Ok((
                [
                    (header::CONTENT_TYPE, "application/json".to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{name}.json\""),
                    ),
                ],
                serde_json::to_string_pretty(&view.pack).unwrap_or_default(),
            )
                .into_response()),
            "markdown" => Ok((
                [
                    (
                        header::CONTENT_TYPE,
                        "text/markdown; charset=utf-8".to_owned(),
                    ),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{name}.md\""),
                    ),
                ],
                view.pack.to_markdown(),
            )
                .into_response()),
            other => Err(ApiError::invalid(
                "format",
                format!("format: `{other}` is not json or markdown"),
            )
            .into()),
        };
    }
    let notice = match q.done.as_deref() {
        Some("saved") => Some("Done: the pack is saved.".to_owned()),
        Some("submitted") => {
            Some("Done: the stage is marked submitted; its clock stopped.".to_owned())
        }
        _ => None,
    };
    let outcome = Outcome {
        status: StatusCode::OK,
        notice,
        error: None,
        edited: None,
    };
    render(&state, &desk, &raw, stage, outcome).await
}

/// Save the team's edit of a pack (`intent=save`), or mark the stage
/// submitted with the platform's reference (`intent=submit`).
#[utoipa::path(post, path = "/desk/cases/{reference}/cra/{stage}", tag = "desk",
    params(("reference" = String, Path, description = "The case reference"),
           ("stage" = String, Path, description = "The stage")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Saved or submitted; back to the pack"),
        (status = 403, description = "Not allowed (role or CSRF)", body = String, content_type = "text/html"),
        (status = 422, description = "A field is wrong or missing: the page says which, the text kept", body = String, content_type = "text/html")))]
pub async fn save_pack(
    State(state): State<AppState>,
    Path((raw, stage)): Path<(String, String)>,
    form: DeskForm,
) -> PageResult {
    form.desk.require(Role::Responder)?;
    let stage = stage_of(&stage)?;
    let r = reference(&raw)?;
    let case = state.store.case(r).await?;
    let history = state.store.history(r).await?;
    let mut pack = crate::app::cra::pack_view(&state, &case, &history, stage, state.now())?.pack;
    for (name, _) in FIELDS {
        if let Some(slot) = pack.text_mut(name) {
            *slot = form
                .values
                .get(name)
                .map(|v| v.trim().to_owned())
                .unwrap_or_default();
        }
    }
    let list = |name: &str, split: &[char]| -> Vec<String> {
        form.values
            .get(name)
            .map(|v| {
                v.split(split)
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    pack.versions = list("versions", &[',', '\n']);
    pack.member_states = list("member_states", &[',', ' ', '\n'])
        .into_iter()
        .map(|m| m.to_ascii_uppercase())
        .collect();
    if let Some(s) = form.text("sensitivity") {
        pack.sensitivity = s;
    }
    pack.severity = form.text("severity").and_then(|s| s.parse().ok());
    pack.suspected_malicious = match form.text("suspected_malicious").as_deref() {
        Some("yes") => Some(true),
        Some("no") => Some(false),
        _ => None,
    };
    let submit = form.text("intent").as_deref() == Some("submit");
    let command = if submit {
        Command::SubmitCraReport {
            stage,
            submitted_at: None,
            platform_reference: form.text("platform_reference"),
            report: Some(pack.clone()),
        }
    } else {
        Command::SaveCraReport {
            report: pack.clone(),
        }
    };
    match move_case(&state, &form.desk.caller, &raw, command).await {
        Ok(_) => Ok(redirect(&format!(
            "/desk/cases/{r}/cra/{stage}?done={}",
            if submit { "submitted" } else { "saved" }
        ))),
        // The page again with what the team typed, and what is wrong.
        Err(e) => {
            let outcome = Outcome {
                status: e.status,
                notice: None,
                error: Some(e.message),
                edited: Some(pack),
            };
            render(&state, &form.desk, &raw, stage, outcome).await
        }
    }
}
