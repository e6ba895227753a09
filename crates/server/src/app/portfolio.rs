//! The portfolio's use cases: recording a release's SBOM or lockfile and
//! matching it at once, re-matching every release after a feed update (the
//! job and the admin's button alike), and a finding's analysis.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use embargo_core::policy::{PolicySet, ScanKind};
use embargo_core::portfolio::{self, Analysis, Component, Justification, Matched, Rule, ScanGap};
use embargo_core::{Instant, Severity};
use embargo_store::{Store, StoreError};
use embargo_vulndb::db::Database;
use embargo_vulndb::purl::Purl;
use embargo_vulndb::version::Ecosystem;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use embargo_core::case::decide;
use embargo_core::{CaseRef, Command, NewCase, ReportContent, Reporter};

use crate::app::record::NoticeExtras;

use axum::http::StatusCode;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The largest SBOM or lockfile accepted.
pub const MAX_SBOM_BYTES: usize = 64 * 1024 * 1024;

/// What an upload did.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadOutcome {
    pub release: String,
    pub components: usize,
    /// Findings opened by this match.
    pub opened: usize,
    /// Findings resolved because their advisory no longer matches.
    pub resolved: usize,
    /// Resolved findings open again: their component is back at an
    /// affected version.
    pub reopened: usize,
    /// What could not be checked, and why.
    pub unchecked: Vec<String>,
    /// Whether a vulnerability database was there to match against.
    pub matched: bool,
}

fn severity_of(s: Option<embargo_vulndb::db::Severity>) -> Option<Severity> {
    use embargo_vulndb::db::Severity as V;
    s.map(|s| match s {
        V::Low => Severity::Low,
        V::Medium => Severity::Medium,
        V::High => Severity::High,
        V::Critical => Severity::Critical,
    })
}

fn published(text: Option<&str>) -> Option<Instant> {
    text.and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|d| d.to_utc())
}

/// Reads an uploaded SBOM or lockfile (named `filename`, which says its
/// format when the content does not), records the release's components and
/// matches them at once (the API's upload and the desk's form).
pub async fn record_upload(
    state: &AppState,
    product: &str,
    version: &str,
    filename: &str,
    body: &[u8],
) -> ApiResult<UploadOutcome> {
    let name = PathBuf::from(filename.rsplit(['/', '\\']).next().unwrap_or("upload"));
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::invalid("body", "the file is not UTF-8 text"))?;
    let reading =
        embargo_vulndb::lockfile::read_text(&name, text, Default::default()).map_err(|e| {
            ApiError::invalid(
                e.location.clone().unwrap_or_else(|| "body".into()),
                e.message,
            )
        })?;
    // Each named: the desk and `sbom push` show them as they are.
    let mut unchecked: Vec<String> = reading
        .problems
        .iter()
        .map(|p| match &p.location {
            Some(at) => format!("{at}: {}", p.message),
            None => p.message.clone(),
        })
        .chain(reading.unchecked)
        .collect();
    let mut components = Vec::with_capacity(reading.pinned.len());
    for pin in &reading.pinned {
        let purl = Purl::for_package(pin.ecosystem, &pin.name, &pin.version).to_string();
        components.push(Component {
            ecosystem: pin.ecosystem.osv_name().to_owned(),
            name: pin.name.clone(),
            version: pin.version.clone(),
            purl,
        });
    }
    let now = state.now();
    let release = state
        .store
        .record_release(product, version, &components, now)
        .await?;
    state
        .store
        .record_scan(product, version, "sbom", now)
        .await?;
    let db = state
        .vulndb()
        .map_err(|e| ApiError::internal("the vulnerability database", &e))?;
    let (mut opened, mut resolved, mut reopened) = (0, 0, 0);
    if let Some(db) = &db {
        let (matched, problems) = match_components(db, &components, None);
        unchecked.extend(problems);
        let changes =
            crate::app::findings::apply_matches(&state.store, release, &matched, None, now).await?;
        opened = changes.opened.len();
        resolved = changes.gone.len();
        reopened = changes.reopened.len();
        if opened + reopened > 0 {
            crate::app::findings::apply_rules(&state.store, now).await?;
        }
    }
    Ok(UploadOutcome {
        release: format!("{product}@{version}"),
        components: components.len(),
        opened,
        resolved,
        reopened,
        unchecked,
        matched: db.is_some(),
    })
}

/// Matches components against a database; with `only`, keeps the matches
/// of those advisories. Returns the matches and what could not be checked.
pub(crate) fn match_components(
    db: &Database,
    components: &[Component],
    only: Option<&BTreeSet<String>>,
) -> (Vec<Matched>, Vec<String>) {
    let mut parsed = Vec::with_capacity(components.len());
    let mut problems = Vec::new();
    for c in components {
        match c.ecosystem.parse::<Ecosystem>() {
            Ok(e) => parsed.push((e, c)),
            Err(e) => problems.push(format!("{}: {e}", c.purl)),
        }
    }
    let queries: Vec<_> = parsed
        .iter()
        .map(|(e, c)| (*e, c.name.as_str(), c.version.as_str()))
        .collect();
    let mut matched = Vec::new();
    for ((_, component), result) in parsed.iter().zip(db.matches_all(&queries)) {
        match result {
            Ok(found) => {
                matched.extend(
                    found
                        .into_iter()
                        .filter(|m| only.is_none_or(|ids| ids.contains(&m.advisory.id)))
                        .map(|m| Matched {
                            component: component.purl.clone(),
                            advisory: m.advisory.id.clone(),
                            severity: severity_of(m.advisory.severity),
                            known_exploited: m.advisory.known_exploited,
                            epss: m.advisory.epss,
                            kev: m.advisory.kev.as_ref().map(|k| {
                                embargo_core::portfolio::KevMark {
                                    cve: k.cve.clone(),
                                    date_added: k.date_added.clone(),
                                    due_date: k.due_date.clone(),
                                    ransomware: k.ransomware,
                                }
                            }),
                            epss_percentile: m.advisory.epss_percentile,
                            fixed: m.fixed.to_vec(),
                            published: published(m.advisory.published.as_deref()),
                            modified: published(Some(m.advisory.modified.as_str())),
                        }),
                )
            }
            Err(e) => problems.push(format!("{} {}: {e}", component.name, component.version)),
        }
    }
    (matched, problems)
}

/// What a re-match did.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct RematchOutcome {
    /// `full` (every release against every advisory: the first match of
    /// this server), `incremental` (only advisories the feed changed),
    /// `unchanged`, or (a background pass only) `interrupted` when another
    /// server took the re-match job over.
    pub kind: &'static str,
    /// Advisories the feed added, changed or removed.
    pub changed_advisories: usize,
    pub releases: usize,
    pub opened: usize,
    pub resolved: usize,
    pub reopened: usize,
}

/// Re-matches the portfolio against the vulnerability database: after a
/// feed update, only the advisories it added, changed or removed, and only
/// the releases shipping a package they name.
pub async fn rematch_portfolio(state: &AppState) -> ApiResult<RematchOutcome> {
    rematch_held(state, None).await
}

/// [`rematch_portfolio`] under the re-match job's lease, renewed before each
/// release; a pass whose lease was taken over stops, and the next pass
/// (here or on the server that took over) starts again from the last
/// database matched in full.
pub(crate) async fn rematch_held(
    state: &AppState,
    held: Option<&crate::jobs::HeldJob<'_>>,
) -> ApiResult<RematchOutcome> {
    let Some(db) = state
        .vulndb()
        .map_err(|e| ApiError::internal("the vulnerability database", &e))?
    else {
        return Ok(RematchOutcome {
            kind: "unchanged",
            ..RematchOutcome::default()
        });
    };
    let mut last = state.vulndb.matched_against.lock().await;
    if last.as_ref().is_some_and(|l| Arc::ptr_eq(l, &db)) {
        return Ok(RematchOutcome {
            kind: "unchanged",
            ..RematchOutcome::default()
        });
    }
    let now = state.now();
    let mut outcome = RematchOutcome::default();
    // (release → its components to match), and the advisories re-checked.
    let mut work: BTreeMap<i64, Vec<Component>> = BTreeMap::new();
    let rechecked = match last.as_ref() {
        None => {
            outcome.kind = "full";
            for release in state.store.release_ids().await? {
                work.insert(release, state.store.release_components(release).await?);
            }
            None
        }
        Some(older) => {
            outcome.kind = "incremental";
            let (changed, packages) = db
                .changes_since(older)
                .map_err(|e| ApiError::internal("the vulnerability database", &e))?;
            outcome.changed_advisories = changed.len();
            // Only the components of the packages the update names, found
            // by the index on their normalized name.
            let mut by_ecosystem: BTreeMap<Ecosystem, Vec<String>> = BTreeMap::new();
            for (ecosystem, name) in packages {
                by_ecosystem.entry(ecosystem).or_default().push(name);
            }
            for (ecosystem, names) in by_ecosystem {
                for (release, component) in state
                    .store
                    .components_of_packages(ecosystem.osv_name(), &names)
                    .await?
                {
                    work.entry(release).or_default().push(component);
                }
            }
            Some(changed)
        }
    };
    outcome.releases = work.len();
    for (release, components) in work {
        if let Some(held) = held
            && !held.hold().await?
        {
            outcome.kind = "interrupted";
            return Ok(outcome);
        }
        let (matched, _) = match_components(&db, &components, rechecked.as_ref());
        let changes = crate::app::findings::apply_matches(
            &state.store,
            release,
            &matched,
            rechecked.as_ref(),
            now,
        )
        .await?;
        outcome.opened += changes.opened.len();
        outcome.resolved += changes.gone.len();
        outcome.reopened += changes.reopened.len();
    }
    if outcome.opened + outcome.reopened > 0 {
        crate::app::findings::apply_rules(&state.store, now).await?;
    }
    *last = Some(db);
    Ok(outcome)
}

/// Re-matches the portfolio every `every` until `stop` fires (a sync
/// replacing the database file is noticed at the next pass; an unchanged
/// file costs a `stat`). With several servers on one database, each pass
/// runs on whichever holds the job's lease.
pub fn spawn_rematch(
    state: AppState,
    job: crate::jobs::SharedJob,
    every: std::time::Duration,
    mut stop: crate::jobs::Shutdown,
    report: crate::jobs::JobReporter,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let _running = report.running();
        loop {
            let pass = job
                .run(async |held| {
                    rematch_held(&state, Some(held))
                        .await
                        .map_err(|e| e.message)
                })
                .await;
            if let Some(o) = report.settle(pass)
                && o.kind != "unchanged"
            {
                tracing::info!(
                    kind = o.kind,
                    changed = o.changed_advisories,
                    releases = o.releases,
                    opened = o.opened,
                    resolved = o.resolved,
                    reopened = o.reopened,
                    "portfolio re-matched"
                );
            }
            if !stop.sleep(every).await {
                break;
            }
        }
    })
}

/// A person's analysis of a finding.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnalysisRequest {
    /// in_triage, affected, not_affected, false_positive, resolved or risk_accepted.
    pub state: String,
    /// For not_affected: code_not_present, code_not_reachable, requires_configuration, …
    pub justification: Option<String>,
    /// For risk_accepted: until when (RFC 3339).
    pub until: Option<String>,
}

/// The analysis a person asks for; errors name the field.
pub fn analysis_from(body: &AnalysisRequest, now: embargo_core::Instant) -> ApiResult<Analysis> {
    let analysis = match body.state.as_str() {
        "in_triage" => Analysis::InTriage,
        "affected" => Analysis::Affected,
        "false_positive" => Analysis::FalsePositive,
        "resolved" => Analysis::Resolved,
        "not_affected" => {
            let j = body.justification.clone().ok_or_else(|| {
                ApiError::invalid("justification", "not_affected needs a justification")
            })?;
            let justification: Justification =
                serde_json::from_value(serde_json::Value::String(j.clone())).map_err(|_| {
                    ApiError::invalid(
                        "justification",
                        format!("`{j}` is not a CycloneDX justification"),
                    )
                })?;
            Analysis::NotAffected { justification }
        }
        "risk_accepted" => {
            let until = body
                .until
                .as_deref()
                .and_then(|u| chrono::DateTime::parse_from_rfc3339(u).ok())
                .map(|d| d.to_utc())
                .ok_or_else(|| {
                    ApiError::invalid("until", "risk_accepted needs an RFC 3339 expiry")
                })?;
            if until <= now {
                return Err(ApiError::invalid(
                    "until",
                    "the expiry must be in the future",
                ));
            }
            Analysis::RiskAccepted { until }
        }
        other => {
            return Err(ApiError::invalid(
                "state",
                format!("`{other}` is not an analysis state"),
            ));
        }
    };
    Ok(analysis)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Escalated {
    #[schema(value_type = String)]
    pub case: CaseRef,
    pub findings: Vec<i64>,
}

/// Open a case for findings; they stay linked to it and are resolved when
/// the case's fix is released.
pub async fn escalate_findings(
    state: &AppState,
    caller: &Caller,
    ids: &[i64],
    title: Option<String>,
) -> ApiResult<Escalated> {
    if ids.is_empty() || ids.len() > 100 {
        return Err(ApiError::invalid(
            "findings",
            "findings: 1 to 100 finding ids",
        ));
    }
    let now = state.now();
    let all = state.findings(None, now).await?;
    let mut chosen = Vec::new();
    for id in ids {
        let f = all
            .iter()
            .find(|f| f.id == *id)
            .ok_or_else(|| ApiError::not_found(format!("no finding {id}")))?;
        chosen.push(f);
    }
    let linked_cases = state.store.finding_cases(ids).await?;
    for id in ids {
        if let Some(linked) = linked_cases.get(id) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("finding {id} is already linked to {linked}"),
            ));
        }
    }
    let product_id = &chosen[0].product;
    if chosen.iter().any(|f| &f.product != product_id) {
        return Err(ApiError::invalid(
            "findings",
            "findings: all of one product (a case is about one product)",
        ));
    }
    let product = state.store.product(product_id).await?;
    let first = chosen[0];
    let lines: Vec<String> = chosen
        .iter()
        .map(|f| {
            format!(
                "- {} in {} of {} {} (severity {}, fixed in {})",
                f.advisory,
                f.component,
                product.name,
                f.release,
                f.severity.map_or("unknown", |s| s.as_str()),
                if f.fixed.is_empty() {
                    "no version yet".to_owned()
                } else {
                    f.fixed.join(", ")
                }
            )
        })
        .collect();
    let request = NewCase {
        title: title
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| format!("{} in {}", first.advisory, first.component)),
        product: product.name.clone(),
        reporter: Reporter::default(),
        report: ReportContent {
            summary: format!(
                "Portfolio monitoring found {} finding{} in {}.",
                chosen.len(),
                if chosen.len() == 1 { "" } else { "s" },
                product.name
            ),
            description: lines.join("\n"),
            ..ReportContent::default()
        },
        reporter_deadline: None,
        exploited_evidence: None,
    };
    // The case, its severity and the findings' links: one unit, so a case
    // is never left without the findings it was opened for.
    let actor = caller.actor();
    let now = embargo_core::to_millis(now);
    let mut work = state.store.begin().await?;
    let recording = state.recording();
    let no_extras = NoticeExtras::default();
    let (mut handle, opened) = work.cases().open(request, &actor, now).await?;
    recording
        .carry_out(&mut work, &handle.case, &[opened], &no_extras, now)
        .await?;
    if let Some(severity) = chosen.iter().filter_map(|f| f.severity).max() {
        let decided = decide(&handle.case, &Command::SetSeverity { severity }, now)?;
        let set = work
            .cases()
            .append(&mut handle, decided, &actor, now)
            .await?;
        recording
            .carry_out(&mut work, &handle.case, &set, &no_extras, now)
            .await?;
    }
    let case = handle.case;
    work.findings()
        .link_to_case(ids, case.reference, now)
        .await?;
    work.commit().await?;
    Ok(Escalated {
        case: case.reference,
        findings: ids.to_vec(),
    })
}

/// What a SARIF import did.
#[derive(Debug, Serialize, ToSchema)]
pub struct SarifOutcome {
    pub release: String,
    /// Results read (deduplicated by fingerprint).
    pub results: usize,
    pub opened: usize,
    /// Earlier results of the same tools absent from this import.
    pub resolved: usize,
    /// Resolved results found again.
    pub reopened: usize,
}

/// Imports a SAST or DAST tool's SARIF 2.1.0 results as findings of a
/// release: each result a finding, each earlier result of the same tools
/// missing from this import resolved; the rules apply to what opened.
pub async fn import_sarif(
    state: &AppState,
    product: &str,
    version: &str,
    body: &[u8],
) -> ApiResult<SarifOutcome> {
    let results =
        embargo_vulndb::sarif::read(body).map_err(|e| ApiError::invalid(e.path, e.message))?;
    let now = state.now();
    let release = state.store.release_id(product, version).await?;
    state
        .store
        .record_scan(product, version, "sarif", now)
        .await?;
    let tools: BTreeSet<String> = results.iter().map(|r| r.tool.clone()).collect();
    // Every earlier result of these tools is re-checked by this import.
    let mut rechecked: BTreeSet<String> = state
        .store
        .findings_of_components(
            release,
            &tools
                .iter()
                .map(|t| format!("sarif:{t}"))
                .collect::<Vec<_>>(),
        )
        .await?;
    let matched: Vec<Matched> = results
        .iter()
        .map(|r| Matched {
            component: format!("sarif:{}", r.tool),
            advisory: format!("{}#{}", r.rule, r.fingerprint),
            severity: Some(match r.security_severity {
                Some(score) => embargo_core::cvss::rating(f64::from(score)),
                None => match r.level.as_str() {
                    "error" => Severity::High,
                    "warning" => Severity::Medium,
                    "note" => Severity::Low,
                    _ => Severity::None,
                },
            }),
            known_exploited: false,
            epss: None,
            kev: None,
            epss_percentile: None,
            fixed: Vec::new(),
            published: None,
            modified: None,
        })
        .collect();
    rechecked.extend(matched.iter().map(|m| m.advisory.clone()));
    let changes =
        crate::app::findings::apply_matches(&state.store, release, &matched, Some(&rechecked), now)
            .await?;
    if !changes.opened.is_empty() || !changes.reopened.is_empty() {
        crate::app::findings::apply_rules(&state.store, now).await?;
    }
    Ok(SarifOutcome {
        release: format!("{product}@{version}"),
        results: matched.len(),
        opened: changes.opened.len(),
        resolved: changes.gone.len(),
        reopened: changes.reopened.len(),
    })
}

/// Adds a vulnerability rule and applies the rules at once; returns the
/// rule as stored and how many findings changed.
pub async fn add_rule(state: &AppState, caller: &Caller, rule: &Rule) -> ApiResult<(Rule, usize)> {
    let now = state.now();
    let rule = state.store.add_rule(rule, &caller.actor(), now).await?;
    let applied = crate::app::findings::apply_rules(&state.store, now).await?;
    Ok((rule, applied))
}

/// Turns a rule off or on; a rule turned on applies at once (what a rule
/// changed stays changed when it is turned off).
pub async fn switch_rule(state: &AppState, id: i64, disabled: bool) -> ApiResult<Rule> {
    let rule = state.store.set_rule_disabled(id, disabled).await?;
    if !disabled {
        crate::app::findings::apply_rules(&state.store, state.now()).await?;
    }
    Ok(rule)
}

/// The scans each product's policy requires (`[scanning]`) that are missing
/// or too old at `now`.
pub async fn scan_gaps(
    store: &Store,
    policies: &PolicySet,
    now: Instant,
) -> Result<Vec<ScanGap>, StoreError> {
    if policies.all().iter().all(|p| p.scanning.is_none()) {
        return Ok(Vec::new());
    }
    let latest = store.latest_scans().await?;
    let mut gaps = Vec::new();
    for p in store.products().await? {
        let policy = policies.for_inventory_product(&p.id, Some(&p.name));
        gaps.extend(portfolio::scan_gaps(
            policy,
            &[(p.id, p.name)],
            &latest,
            now,
        ));
    }
    Ok(gaps)
}

/// Keeps one finding per scan gap on each product's latest release (a
/// `policy:scanning` component, advisory `scan-overdue:sbom` or `…:sarif`):
/// opened when the gap appears, resolved when a fresh scan closes it, on an
/// older release once a newer one exists. Findings then carry the gap to
/// the desk, the rules, the metrics and the escalation like any other.
/// Returns the gaps.
pub async fn check_scans(
    store: &Store,
    policies: &PolicySet,
    now: Instant,
) -> Result<Vec<ScanGap>, StoreError> {
    let gaps = scan_gaps(store, policies, now).await?;
    // Releases holding an open gap finding: a fresh scan or a newer release resolves it.
    let mut with_open_gaps: BTreeSet<(String, String)> = BTreeSet::new();
    for f in store
        .findings_of_component(portfolio::SCANNING_COMPONENT)
        .await?
    {
        if f.analysis.open_at(now) {
            with_open_gaps.insert((f.product, f.release));
        }
    }
    // Nothing to open or resolve (no policy asks for scans): the scheduler's
    // pass reads no release.
    if gaps.is_empty() && with_open_gaps.is_empty() {
        return Ok(gaps);
    }
    // The newest release of each product (listed newest first per product).
    let mut newest: BTreeMap<String, String> = BTreeMap::new();
    for (product, version, _, _) in store.releases().await? {
        newest.entry(product).or_insert(version);
    }
    let rechecked: BTreeSet<String> = [ScanKind::Sbom, ScanKind::Sarif]
        .iter()
        .map(|k| ScanGap::advisory(k.as_str()))
        .collect();
    for (product, version) in newest {
        let matched: Vec<Matched> = gaps
            .iter()
            .filter(|g| g.product == product)
            .map(|g| Matched {
                component: portfolio::SCANNING_COMPONENT.to_owned(),
                advisory: ScanGap::advisory(&g.kind),
                severity: Some(Severity::Medium),
                known_exploited: false,
                epss: None,
                kev: None,
                epss_percentile: None,
                fixed: Vec::new(),
                published: None,
                modified: None,
            })
            .collect();
        let key = (product, version);
        if matched.is_empty() && !with_open_gaps.contains(&key) {
            continue;
        }
        let release = store.release_id(&key.0, &key.1).await?;
        crate::app::findings::apply_matches(store, release, &matched, Some(&rechecked), now)
            .await?;
        with_open_gaps.remove(&key);
    }
    for (product, version) in with_open_gaps {
        let release = store.release_id(&product, &version).await?;
        crate::app::findings::apply_matches(store, release, &[], Some(&rechecked), now).await?;
    }
    Ok(gaps)
}
