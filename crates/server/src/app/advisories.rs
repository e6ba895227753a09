//! Advisories: drafting one from what the team entered (the API's body and
//! the desk's form alike), the view of a draft with its documents, and the
//! published advisories the public sees.

use embargo_core::advisory::{
    self, AffectedProduct, Credit, CreditKind, Publisher, Reference, VersionRange, csaf, markdown,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use embargo_core::case::{decide, next_state};
use embargo_core::{CaseRef, Command, EventKind};

use crate::app::cases::invalid;
use crate::app::record::NoticeExtras;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The published advisory `id`, or a 404 that says so.
pub async fn published(state: &AppState, id: &str) -> ApiResult<advisory::Advisory> {
    state
        .store
        .published_advisory(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no published advisory `{id}`")))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RangeInput {
    pub introduced: Option<String>,
    pub fixed: Option<String>,
    pub last_affected: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AffectedInput {
    pub vendor: String,
    pub product: String,
    /// A package URL without version (`pkg:cargo/name`), for packages.
    pub purl: Option<String>,
    pub ranges: Vec<RangeInput>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferenceInput {
    pub url: String,
    #[serde(default)]
    pub summary: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditInput {
    pub name: String,
    /// analyst, coordinator or remediation_developer (the reporter's credit
    /// comes from their consent, at publication).
    pub kind: String,
}

/// An advisory draft, as the team writes it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftRequest {
    /// The tracking id (`EMB-2026-0001`): letters, digits, `-`, `_`, `.`.
    pub id: String,
    pub title: String,
    pub summary: String,
    #[serde(default)]
    pub description: String,
    pub affected: Vec<AffectedInput>,
    #[serde(default)]
    pub workarounds: Vec<String>,
    /// A CVSS 3.x or 4.0 vector.
    pub cvss: Option<String>,
    /// `CWE-n`.
    pub cwe: Option<String>,
    /// Entered when assigned.
    pub cve: Option<String>,
    #[serde(default)]
    pub references: Vec<ReferenceInput>,
    #[serde(default)]
    pub credits: Vec<CreditInput>,
    /// BCP 47; the policy's first language by default.
    pub language: Option<String>,
}

/// A case's advisory and what it will look like.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdvisoryView {
    #[schema(value_type = Object)]
    pub advisory: Value,
    /// `draft` or `published`.
    pub status: &'static str,
    /// The CSAF document as it stands (a draft is marked draft).
    #[schema(value_type = Object)]
    pub csaf: Value,
    /// CSAF 6.1 mandatory tests that the document fails (empty when it passes).
    pub csaf_problems: Vec<String>,
    pub release_note: String,
}

pub fn publisher(state: &AppState) -> Publisher {
    let policy = state.settings.policies.primary();
    let base = state.settings.public_url.trim_end_matches('/').to_owned();
    Publisher {
        name: policy.organization.name.clone(),
        namespace: base.clone(),
        contact: policy
            .organization
            .contacts
            .first()
            .cloned()
            .unwrap_or_else(|| format!("{base}/report")),
        base_url: base,
        cna_org_id: None,
    }
}

pub fn view(state: &AppState, a: &advisory::Advisory) -> AdvisoryView {
    let p = publisher(state);
    let document = csaf::document(a, &p, state.now());
    AdvisoryView {
        advisory: serde_json::to_value(a).unwrap_or(Value::Null),
        status: if a.published.is_some() {
            "published"
        } else {
            "draft"
        },
        csaf_problems: csaf::check(&document)
            .into_iter()
            .map(|v| format!("{}: {}", v.test, v.message))
            .collect(),
        csaf: document,
        release_note: markdown::release_note(a, &format!("{}/advisories/{}", p.base_url, a.id)),
    }
}

/// Writes the draft of case `r` from what the team entered (the API's body
/// or the desk's form).
pub async fn save_draft_as(
    state: &AppState,
    caller: &Caller,
    r: embargo_core::CaseRef,
    body: DraftRequest,
) -> ApiResult<advisory::Advisory> {
    let credits = body
        .credits
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let kind = match c.kind.as_str() {
                "analyst" => CreditKind::Analyst,
                "coordinator" => CreditKind::Coordinator,
                "remediation_developer" => CreditKind::RemediationDeveloper,
                other => {
                    return Err(ApiError::invalid(
                        format!("credits[{i}].kind"),
                        format!("`{other}`: one of analyst, coordinator, remediation_developer (the reporter is credited by their consent)"),
                    ));
                }
            };
            Ok(Credit { name: c.name, kind })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let language = body
        .language
        .unwrap_or_else(|| state.settings.policies.primary().language().to_owned());
    let draft = advisory::Advisory {
        id: body.id,
        case_ref: r.to_string(),
        title: body.title,
        summary: body.summary,
        description: body.description,
        affected: body
            .affected
            .into_iter()
            .map(|a| AffectedProduct {
                vendor: a.vendor,
                product: a.product,
                purl: a.purl,
                ranges: a
                    .ranges
                    .into_iter()
                    .map(|r| VersionRange {
                        introduced: r.introduced,
                        fixed: r.fixed,
                        last_affected: r.last_affected,
                    })
                    .collect(),
            })
            .collect(),
        workarounds: body.workarounds,
        cvss: body.cvss.filter(|v| !v.trim().is_empty()),
        cwe: body.cwe.filter(|v| !v.trim().is_empty()),
        cve: body.cve.filter(|v| !v.trim().is_empty()),
        references: body
            .references
            .into_iter()
            .map(|r| Reference {
                url: r.url,
                summary: r.summary,
            })
            .collect(),
        credits,
        language,
        revisions: Vec::new(),
        published: None,
        exploited: None,
    };
    save_draft(state, &caller.actor(), r, draft).await
}

/// Writes (or replaces) the draft advisory of a case. The case's reference
/// and the revisions and publication of an earlier draft are kept as they
/// are: only publishing changes them.
async fn save_draft(
    state: &AppState,
    actor: &str,
    r: CaseRef,
    mut draft: advisory::Advisory,
) -> ApiResult<advisory::Advisory> {
    let now = embargo_core::to_millis(state.now());
    draft.case_ref = r.to_string();
    if draft
        .credits
        .iter()
        .any(|c| matches!(c.kind, CreditKind::Finder | CreditKind::Reporter))
    {
        return Err(invalid(
            "credits",
            "the reporter's credit comes from their own consent (credit_reporter), not from the team",
        ));
    }
    let mut work = state.store.begin().await?;
    let handle = work.cases().lock(r).await?;
    if let Some(old) = work.advisories().draft(&handle).await? {
        if old.published.is_some() && old.id != draft.id {
            return Err(invalid("id", "a published advisory keeps its id"));
        }
        draft.revisions = old.revisions;
        draft.published = old.published;
    }
    draft.validate()?;
    if work
        .advisories()
        .id_taken_elsewhere(&handle, &draft.id)
        .await?
    {
        return Err(invalid(
            "id",
            format!("`{}` is the id of another case's advisory", draft.id),
        ));
    }
    work.advisories().save_draft(&handle, &draft, now).await?;
    let events = vec![EventKind::AdvisoryDrafted {
        advisory: draft.id.clone(),
    }];
    state
        .recording()
        .finish(work, handle, events, actor, now)
        .await?;
    Ok(draft)
}

/// Publishes (or republishes) a case's advisory: allowed once the case is
/// fixed or the reporter's disclosure date has come. The reporter is
/// credited when `credit_reporter` is set and they gave a name to credit
/// (their consent, changeable in their portal).
pub async fn publish(
    state: &AppState,
    caller: &Caller,
    r: CaseRef,
    summary: &str,
    credit_reporter: bool,
) -> ApiResult<advisory::Advisory> {
    crate::app::setup::check_publishable(&state.settings.public_url)?;
    let now = embargo_core::to_millis(state.now());
    let mut work = state.store.begin().await?;
    let handle = work.cases().lock(r).await?;
    let mut advisory = work
        .advisories()
        .draft(&handle)
        .await?
        .ok_or_else(|| invalid("advisory", "the case has no advisory draft"))?;
    advisory
        .credits
        .retain(|c| !matches!(c.kind, CreditKind::Finder | CreditKind::Reporter));
    let case = &handle.case;
    if credit_reporter && let Some(name) = case.reporter.name.as_deref() {
        advisory.credits.insert(
            0,
            Credit {
                name: name.to_owned(),
                kind: CreditKind::Finder,
            },
        );
    }
    // An actively exploited vulnerability says so in every format (CRA
    // Article 14(8): users informed in a machine-readable form).
    advisory.exploited = case.cra.as_ref().and_then(|c| {
        c.is_exploited_vulnerability().then(|| advisory::Exploited {
            since: c.aware_at.unwrap_or(now),
            source: c.source.map_or("reporter", |s| s.as_str()).to_owned(),
        })
    });
    advisory.publish(case.is_fixed(), case.reporter_deadline, now, summary)?;
    work.advisories().publish(&handle, &advisory, now).await?;
    let revision = advisory.revisions.last().map_or(1, |r| r.number);
    // The first publication is the disclosure: the case moves to
    // `disclosed` when its workflow allows (a fix exists), so the
    // disclosure clocks stop as met. Published on the reporter's date
    // before a fix, the publication itself is the disclosure the clocks
    // count, and the case stays where its work is.
    let mut events = Vec::new();
    if revision == 1 && next_state(case.state, case.waiting_from, &Command::Disclose {}).is_some() {
        events.extend(decide(case, &Command::Disclose {}, now)?);
    }
    events.push(EventKind::AdvisoryPublished {
        advisory: advisory.id.clone(),
        revision,
    });
    let extras = NoticeExtras {
        private_link: None,
        credited_as: advisory
            .credits
            .iter()
            .find(|c| matches!(c.kind, CreditKind::Finder))
            .map(|c| c.name.clone()),
    };
    state
        .recording()
        .finish_with(work, handle, events, &caller.actor(), now, &extras)
        .await?;
    Ok(advisory)
}

/// The files each published advisory is offered as: (file name, label).
pub const FORMATS: [(&str, &str); 6] = [
    ("csaf.json", "CSAF 2.0"),
    ("osv.json", "OSV"),
    ("cve.json", "CVE JSON 5"),
    ("openvex.json", "OpenVEX"),
    ("cyclonedx.json", "CycloneDX VEX"),
    ("release-note.md", "Release note (Markdown)"),
];
