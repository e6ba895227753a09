//! A case's evidence bundle (`embargo cra export`, and the API): its events
//! with their chain hashes, each Article 14 stage as it was sent, the
//! published advisory's documents, the evidence files and the clocks as they
//! stand, signed with the organization's OpenPGP key. See
//! [`embargo_core::evidence`] for the format and its offline check.

use embargo_core::advisory::{csaf, osv};
use embargo_core::evidence::safe_name;
use embargo_core::{CaseRef, EventKind, clock};

use crate::app::advisories::publisher;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

fn pretty(value: &impl serde::Serialize) -> ApiResult<Vec<u8>> {
    serde_json::to_vec_pretty(value).map_err(|e| ApiError::internal("the evidence bundle", &e))
}

/// The bundle's bytes.
pub async fn export(state: &AppState, reference: CaseRef) -> ApiResult<Vec<u8>> {
    let now = state.now();
    let case = state.store.case(reference).await?;
    let chain = state.store.case_chain(reference).await?;
    let history: Vec<embargo_core::Event> = chain.iter().map(|c| c.event.clone()).collect();
    let policy = state.settings.policies.for_product(&case.product);
    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("case.json".into(), pretty(&case)?),
        ("events.json".into(), pretty(&chain)?),
        (
            "clocks.json".into(),
            pretty(&clock::evaluate(policy, &case, &history, now))?,
        ),
    ];
    for (n, e) in history.iter().enumerate() {
        if let EventKind::CraReportSubmitted { stage, report, .. } = &e.kind {
            let stem = format!("packs/{:03}-{stage}", n + 1);
            files.push((format!("{stem}.json"), pretty(report)?));
            files.push((format!("{stem}.md"), report.to_markdown().into_bytes()));
        }
    }
    let p = publisher(state);
    for a in state
        .store
        .published_advisories()
        .await?
        .into_iter()
        .filter(|a| a.case_ref == reference.to_string())
    {
        let stem = format!("advisory/{}", safe_name(&a.id));
        files.push((
            format!("{stem}.csaf.json"),
            pretty(&csaf::document(&a, &p, now))?,
        ));
        if let Some(record) = osv::record(&a, &p) {
            files.push((format!("{stem}.osv.json"), pretty(&record)?));
        }
    }
    for attachment in &case.attachments {
        if let Some((meta, bytes)) = state.store.attachment(reference, &attachment.id).await? {
            files.push((
                format!("evidence/{}-{}", meta.id, safe_name(&meta.filename)),
                bytes,
            ));
        }
    }
    let contact = p.contact.strip_prefix("mailto:").unwrap_or(&p.contact);
    let user_id = format!("{} CSAF <{}>", p.name, contact);
    let key = state.store.csaf_signing_key(&user_id, now).await?;
    embargo_core::evidence::build(&reference.to_string(), now, &files, &key)
        .map_err(|e| ApiError::internal("the evidence bundle", &e))
}
