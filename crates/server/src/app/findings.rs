//! What a match and the vulnerability rules do to a release's findings: the
//! decisions are core's (`portfolio::changes`, `portfolio::rule_for`), made
//! here over what the store holds and written in one unit of work.

use crate::paging::PageOf;
use std::collections::{BTreeMap, BTreeSet};

use embargo_core::Instant;
use embargo_core::notify::{FindingRef, Notice};
use embargo_core::policy::PolicySet;
use embargo_core::portfolio::{
    self, Analysis, Finding, FindingKey, MatchChanges, Matched, RuleAction,
};
use embargo_store::{FindingDates, FindingFilter, Store, StoreError, StoredFinding};

use crate::state::AppState;

/// Applies a match of a release: opens new findings, resolves those whose
/// advisory no longer matches (among the re-checked ones: `None` is all),
/// and records a fix that appeared since. A match that changes nothing
/// writes nothing.
pub async fn apply_matches(
    store: &Store,
    release: i64,
    matched: &[Matched],
    rechecked: Option<&BTreeSet<String>>,
    now: Instant,
) -> Result<MatchChanges, StoreError> {
    let mut work = store.begin().await?;
    let stored: BTreeMap<FindingKey, StoredFinding> = work
        .findings()
        .of_release(release)
        .await?
        .into_iter()
        .map(|f| (f.key.clone(), f))
        .collect();
    let key_of = |m: &Matched| FindingKey {
        release: release.to_string(),
        component: m.component.clone(),
        advisory: m.advisory.clone(),
    };
    let existing: Vec<FindingKey> = stored.keys().cloned().collect();
    let resolved: Vec<FindingKey> = stored
        .values()
        .filter(|f| f.analysis == Analysis::Resolved)
        .map(|f| f.key.clone())
        .collect();
    let keys: Vec<FindingKey> = matched.iter().map(key_of).collect();
    let changes = portfolio::changes(&existing, &resolved, &keys, rechecked);
    for key in &changes.opened {
        let Some(m) = matched.iter().find(|m| key_of(m) == *key) else {
            continue;
        };
        // A fix listed from the start: the advisory's publication is the
        // best date known for the patch.
        let patch = (!m.fixed.is_empty()).then(|| m.patch_date(true, now));
        work.findings()
            .open(release, m, patch, "matcher", now)
            .await?;
    }
    let why = serde_json::json!({"resolved": "the advisory no longer matches"});
    for key in &changes.gone {
        if let Some(finding) = stored.get(key) {
            work.findings()
                .set_analysis(finding.id, &Analysis::Resolved, None, "matcher", &why, now)
                .await?;
        }
    }
    // An affected component is back: the finding is open again, to triage.
    let why = serde_json::json!({
        "reopened": "the component is in the release again at an affected version",
        "analysis": Analysis::InTriage,
    });
    for key in &changes.reopened {
        if let Some(finding) = stored.get(key) {
            work.findings()
                .set_analysis(
                    finding.id,
                    &Analysis::InTriage,
                    Some(&Analysis::Resolved),
                    "matcher",
                    &why,
                    now,
                )
                .await?;
        }
    }
    // Exploitation signals that changed (a KEV listing, a new EPSS score)
    // are kept; a finding newly listed in KEV tells the team, once.
    let mut listed = Vec::new();
    for m in matched {
        if let Some(finding) = stored.get(&key_of(m))
            && (finding.kev != m.kev
                || finding.epss != m.epss
                || finding.epss_percentile != m.epss_percentile)
        {
            let newly = finding.kev.is_none() && m.kev.is_some();
            work.findings()
                .set_signals(finding.id, m, newly, now)
                .await?;
            if newly {
                listed.push((finding.id, m));
            }
        }
    }
    if !listed.is_empty() {
        let (product, version) = store.release_of(release).await?;
        let notices: Vec<Notice> = listed
            .into_iter()
            .map(|(id, m)| {
                Notice::finding_known_exploited(
                    FindingRef {
                        id,
                        release: version.clone(),
                        component: m.component.clone(),
                        advisory: m.advisory.clone(),
                    },
                    &product,
                    m.severity,
                    now,
                )
            })
            .collect();
        work.outbox().queue_notices(&notices, None, now).await?;
    }
    // A patch that appeared after the finding opened starts its clock now.
    for m in matched {
        if let Some(finding) = stored.get(&key_of(m))
            && finding.fixed.is_empty()
            && !m.fixed.is_empty()
        {
            work.findings()
                .patch_appeared(finding.id, &m.fixed, m.patch_date(false, now), now)
                .await?;
        }
    }
    work.commit().await?;
    Ok(changes)
}

/// Applies the active vulnerability rules to every finding they match;
/// returns how many findings changed. A rule sets an analysis only on a
/// finding still in triage (a person may have decided meanwhile).
pub async fn apply_rules(store: &Store, now: Instant) -> Result<usize, StoreError> {
    let rules: Vec<_> = store
        .rules()
        .await?
        .into_iter()
        .filter(|r| r.active_at(now))
        .collect();
    if rules.is_empty() {
        return Ok(0);
    }
    let mut work = store.begin().await?;
    let mut changed = 0;
    for (finding, exposure) in work.findings().with_exposure().await? {
        let Some((rule, change)) = portfolio::rule_for(&rules, &finding, exposure, now) else {
            continue;
        };
        let actor = format!("rule:{}", rule.id);
        match &change {
            RuleAction::SetAnalysis { analysis } => {
                let why = serde_json::json!({"analysis": analysis, "rule": rule.id, "rule_name": rule.name});
                let set = work
                    .findings()
                    .set_analysis(
                        finding.id,
                        analysis,
                        Some(&Analysis::InTriage),
                        &actor,
                        &why,
                        now,
                    )
                    .await?;
                if !set {
                    continue;
                }
            }
            RuleAction::SetSeverity { severity } => {
                let why = serde_json::json!({"severity": severity, "from": finding.severity, "rule": rule.id, "rule_name": rule.name});
                work.findings()
                    .set_severity(finding.id, *severity, &actor, &why, now)
                    .await?;
            }
        }
        changed += 1;
    }
    work.commit().await?;
    Ok(changed)
}

/// Findings of `product` (or all), each with the deadline its product's
/// policy gives it at `now` (`[[finding_clock]]`).
pub async fn dated(
    store: &Store,
    policies: &PolicySet,
    product: Option<&str>,
    now: Instant,
) -> Result<Vec<Finding>, StoreError> {
    let mut findings = store.findings(product).await?;
    apply_policies(store, policies, &mut findings, now).await?;
    Ok(findings)
}

/// A page of findings under their policies, and the number of all.
pub async fn dated_page(
    store: &Store,
    policies: &PolicySet,
    product: Option<&str>,
    after: i64,
    limit: u32,
    now: Instant,
) -> Result<(Vec<Finding>, i64), StoreError> {
    let (mut findings, total) = store.findings_page(product, after, limit).await?;
    apply_policies(store, policies, &mut findings, now).await?;
    Ok((findings, total))
}

/// Works out the deadline of every finding whose row changed since (or
/// every one, under a new policy) and keeps it on the row; returns how many
/// were written. One indexed query when nothing changed, so the findings
/// page and the dashboard call it before they read.
pub async fn bring_dates_up_to_date(state: &AppState, now: Instant) -> Result<usize, StoreError> {
    const BATCH: u32 = 2000;
    crate::app::summaries::same_policy(state, now).await?;
    let mut names: Option<BTreeMap<String, String>> = None;
    let mut written = 0;
    loop {
        let undated = state.store.undated_findings(BATCH).await?;
        if undated.is_empty() {
            return crate::app::summaries::finish_rebuild(
                state,
                embargo_store::Rebuilt::FindingDates,
                written,
            )
            .await;
        }
        if names.is_none() {
            names = Some(
                state
                    .store
                    .products()
                    .await?
                    .into_iter()
                    .map(|p| (p.id, p.name))
                    .collect(),
            );
        }
        let names = names.as_ref().map_or_else(BTreeMap::new, Clone::clone);
        let dates: Vec<FindingDates> = undated
            .iter()
            .map(|(f, version)| {
                let policy = state
                    .settings
                    .policies
                    .for_inventory_product(&f.product, names.get(&f.product).map(String::as_str));
                let deadline = embargo_core::portfolio::finding_deadline(
                    policy,
                    f.severity,
                    f.product_exposure,
                    f.first_seen,
                    f.patch_available_at,
                );
                FindingDates::of(f, deadline.as_ref(), *version)
            })
            .collect();
        let batch = state.store.write_finding_dates(&dates).await?;
        written += batch;
        if batch == 0 || undated.len() < BATCH as usize {
            return crate::app::summaries::finish_rebuild(
                state,
                embargo_store::Rebuilt::FindingDates,
                written,
            )
            .await;
        }
    }
}

/// A page of findings: which, of how many.
#[derive(Debug)]
pub struct FindingsPage {
    /// Each dated under its product's policy.
    pub findings: Vec<Finding>,
    /// Which page (asked for, or the last one) of how many the filter
    /// selects.
    pub place: PageOf,
}

/// Page `page` (from 1; past the end: the last) of the findings `filter`
/// selects, `per_page` a page.
pub async fn urgent_page(
    state: &AppState,
    filter: &FindingFilter,
    page: u64,
    per_page: u32,
) -> Result<FindingsPage, StoreError> {
    bring_dates_up_to_date(state, filter.now).await?;
    let total = u64::try_from(state.store.count_findings_by(filter).await?).unwrap_or(0);
    let place = PageOf::clamped(total, u64::from(per_page), page);
    let mut findings = state
        .store
        .findings_by(filter, place.offset(), per_page)
        .await?;
    apply_policies(
        &state.store,
        &state.settings.policies,
        &mut findings,
        filter.now,
    )
    .await?;
    Ok(FindingsPage { findings, place })
}

/// Gives each finding the deadline its product's policy sets at `now`.
async fn apply_policies(
    store: &Store,
    policies: &PolicySet,
    findings: &mut [Finding],
    now: Instant,
) -> Result<(), StoreError> {
    let names: BTreeMap<String, String> = store
        .products()
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();
    for f in findings {
        let policy =
            policies.for_inventory_product(&f.product, names.get(&f.product).map(String::as_str));
        f.apply_policy(policy, now);
    }
    Ok(())
}

impl AppState {
    /// [`dated`] under this server's policies.
    pub async fn findings(
        &self,
        product: Option<&str>,
        now: Instant,
    ) -> Result<Vec<Finding>, StoreError> {
        dated(&self.store, &self.settings.policies, product, now).await
    }
}
