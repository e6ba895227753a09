//! CSAF 2.0 (`csaf_security_advisory`) from an advisory, and the mandatory
//! tests of the standard's section 6.1 that apply to what embargo writes.
//!
//! The product tree names, per affected product, each affected version
//! range (`product_version_range`, a `vers:` expression) and each fixed
//! version (`product_version`); the vulnerability lists them as known
//! affected and fixed, with a vendor fix, workarounds, the CVSS 3.x score,
//! the CWE and the consenting reporters' acknowledgments. The validator
//! ([`check`]) is run on every document embargo writes and is checked
//! against the CSAF technical committee's test files.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::{Advisory, Publisher, cwe, timestamp};
use crate::Instant;

/// The file name CSAF gives a document: its tracking id in lowercase, other
/// characters than `+`, `-`, letters and digits as `_`.
#[must_use]
pub fn file_name(tracking_id: &str) -> String {
    let mut name: String = tracking_id
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '+' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    name.push_str(".json");
    name
}

/// The CSAF document of an advisory. A draft (no revision yet) is written
/// with status `draft` and version `0`, dated `generated`.
#[must_use]
pub fn document(a: &Advisory, publisher: &Publisher, generated: Instant) -> Value {
    let mut vendors: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    let mut known_affected = Vec::new();
    let mut fixed = Vec::new();
    let mut remediations = Vec::new();
    let mut without_fix = Vec::new();
    for (i, product) in a.affected.iter().enumerate() {
        let scheme = product
            .purl
            .as_deref()
            .and_then(|p| embargo_spec::purl::Purl::parse(p).ok())
            .map_or_else(|| "generic".to_owned(), |p| p.kind);
        let mut versions = Vec::new();
        for (j, r) in product.ranges.iter().enumerate() {
            let id = format!("CSAFPID-{}-{}", i + 1, j + 1);
            versions.push(json!({
                "category": "product_version_range",
                "name": r.vers(&scheme),
                "product": {
                    "name": format!("{} {} {}", product.vendor, product.product, r.describe()),
                    "product_id": id,
                },
            }));
            known_affected.push(id.clone());
            match &r.fixed {
                Some(version) => {
                    let fixed_id = format!("{id}-FIXED");
                    let mut full = json!({
                        "name": format!("{} {} {version}", product.vendor, product.product),
                        "product_id": fixed_id,
                    });
                    if let Some(purl) = &product.purl {
                        full["product_identification_helper"] =
                            json!({"purl": format!("{purl}@{version}")});
                    }
                    versions.push(
                        json!({"category": "product_version", "name": version, "product": full}),
                    );
                    fixed.push(fixed_id);
                    remediations.push(json!({
                        "category": "vendor_fix",
                        "details": format!("Update {} to {version} or later.", product.product),
                        "product_ids": [id],
                    }));
                }
                None => without_fix.push(id),
            }
        }
        vendors.entry(&product.vendor).or_default().push(json!({
            "category": "product_name",
            "name": product.product,
            "branches": versions,
        }));
    }
    if !without_fix.is_empty() {
        remediations.push(json!({
            "category": "none_available",
            "details": "No fixed version is available yet.",
            "product_ids": without_fix,
        }));
    }
    for w in &a.workarounds {
        remediations
            .push(json!({"category": "workaround", "details": w, "product_ids": known_affected}));
    }
    let branches: Vec<Value> = vendors
        .into_iter()
        .map(|(vendor, products)| json!({"category": "vendor", "name": vendor, "branches": products}))
        .collect();

    let mut vulnerability = json!({
        "title": a.title,
        "notes": [{"category": "description", "title": "Vulnerability description", "text": a.description}],
        "product_status": {"known_affected": known_affected},
        "remediations": remediations,
    });
    if a.description.trim().is_empty() {
        vulnerability["notes"][0]["text"] = json!(a.summary);
    }
    if let Some(x) = &a.exploited {
        vulnerability["threats"] = json!([{
            "category": "exploit_status",
            "details": format!(
                "Actively exploited: the publisher holds reliable evidence of exploitation (source: {}).",
                x.source.replace('_', " ")
            ),
            "date": timestamp(x.since),
            "product_ids": known_affected,
        }]);
    }
    if !fixed.is_empty() {
        vulnerability["product_status"]["fixed"] = json!(fixed);
    }
    if let Some(cve) = &a.cve {
        vulnerability["cve"] = json!(cve);
    }
    if let Some(n) = a.cwe.as_deref().and_then(cwe::parse)
        && let Some(name) = cwe::name(n)
    {
        vulnerability["cwe"] = json!({"id": format!("CWE-{n}"), "name": name});
    }
    if let Some(score) = a.score()
        && score.version != "4.0"
    {
        vulnerability["scores"] = json!([{
            "cvss_v3": {
                "version": score.version,
                "vectorString": score.vector,
                "baseScore": score.score,
                "baseSeverity": score.severity.as_str().to_uppercase(),
            },
            "products": vulnerability["product_status"]["known_affected"].clone(),
        }]);
    }
    if !a.credits.is_empty() {
        vulnerability["acknowledgments"] = Value::Array(
            a.credits
                .iter()
                .map(|c| json!({"names": [c.name], "summary": format!("{} of this vulnerability", c.kind.cve())}))
                .collect(),
        );
    }

    let (status, version, history, initial, current) = if a.revisions.is_empty() {
        let date = timestamp(generated);
        (
            "draft",
            "0".to_owned(),
            json!([{"number": "0", "date": date, "summary": "Draft"}]),
            date.clone(),
            date,
        )
    } else {
        let history: Vec<Value> = a
            .revisions
            .iter()
            .map(|r| json!({"number": r.number.to_string(), "date": timestamp(r.date), "summary": r.summary}))
            .collect();
        let first = a.published.unwrap_or(a.revisions[0].date);
        let last = a.revisions.last().map_or(first, |r| r.date);
        (
            "final",
            a.revisions.last().map_or(1, |r| r.number).to_string(),
            Value::Array(history),
            timestamp(first),
            timestamp(last),
        )
    };
    let self_url = format!(
        "{}/.well-known/csaf/white/{}/{}",
        publisher.base_url.trim_end_matches('/'),
        a.published.unwrap_or(generated).format("%Y"),
        file_name(&a.id)
    );
    let mut references =
        vec![json!({"category": "self", "summary": "This advisory as CSAF", "url": self_url})];
    references.extend(
        a.references
            .iter()
            .map(|r| json!({"category": "external", "summary": if r.summary.is_empty() { r.url.clone() } else { r.summary.clone() }, "url": r.url})),
    );
    let mut doc = json!({
        "document": {
            "category": "csaf_security_advisory",
            "csaf_version": "2.0",
            "lang": a.language,
            "publisher": {
                "category": "vendor",
                "name": publisher.name,
                "namespace": publisher.namespace,
                "contact_details": publisher.contact,
            },
            "title": a.title,
            "notes": [{"category": "summary", "title": "Summary", "text": a.summary}],
            "references": references,
            "tracking": {
                "id": a.id,
                "status": status,
                "version": version,
                "revision_history": history,
                "initial_release_date": initial,
                "current_release_date": current,
                "generator": {"engine": {"name": "embargo", "version": env!("CARGO_PKG_VERSION")}},
            },
        },
        "product_tree": {"branches": branches},
        "vulnerabilities": [vulnerability],
    });
    if let Some(score) = a.score() {
        doc["document"]["aggregate_severity"] = json!({"text": score.severity.as_str()});
    }
    doc
}

/// A release's current analysis as a CSAF 2.0 VEX document
/// (`csaf_vex`): the release is a product, each component with findings is
/// a product too (its purl), and "component in release" is the product each
/// status names. Per advisory: in triage is under investigation; affected
/// and risk accepted are known affected, with the fix or the acceptance as
/// the action; not affected and false positive are known not affected, with
/// the justification's CSAF flag as the impact statement; resolved is fixed.
#[must_use]
pub fn release_vex(
    product: &str,
    version: &str,
    findings: &[crate::portfolio::Finding],
    publisher: &Publisher,
    generated: Instant,
) -> Value {
    use crate::portfolio::Analysis;
    const RELEASE: &str = "CSAFPID-RELEASE";
    let mut components: BTreeMap<&str, String> = BTreeMap::new();
    for f in findings {
        let n = components.len() + 1;
        components
            .entry(f.component.as_str())
            .or_insert_with(|| format!("CSAFPID-COMPONENT-{n}"));
    }
    let in_release = |component: &str| format!("{}-IN-RELEASE", components[component]);
    let full_names: Vec<Value> = components
        .iter()
        .map(|(purl, id)| {
            let mut p = json!({"name": purl, "product_id": id});
            if purl.starts_with("pkg:") {
                p["product_identification_helper"] = json!({"purl": purl});
            }
            p
        })
        .collect();
    let relationships: Vec<Value> = components
        .keys()
        .map(|purl| {
            json!({
                "category": "default_component_of",
                "product_reference": components[purl],
                "relates_to_product_reference": RELEASE,
                "full_product_name": {"name": format!("{purl} in {product} {version}"), "product_id": in_release(purl)},
            })
        })
        .collect();
    let mut by_advisory: BTreeMap<&str, Vec<&crate::portfolio::Finding>> = BTreeMap::new();
    for f in findings {
        by_advisory.entry(f.advisory.as_str()).or_default().push(f);
    }
    let vulnerabilities: Vec<Value> = by_advisory
        .iter()
        .map(|(advisory, list)| {
            let mut status: BTreeMap<&str, Vec<String>> = BTreeMap::new();
            let mut flags: BTreeMap<&str, Vec<String>> = BTreeMap::new();
            let mut remediations = Vec::new();
            for f in list {
                let id = in_release(&f.component);
                match &f.analysis {
                    Analysis::InTriage => status.entry("under_investigation").or_default().push(id),
                    Analysis::Affected => {
                        status.entry("known_affected").or_default().push(id.clone());
                        remediations.push(if f.fixed.is_empty() {
                            json!({"category": "none_available", "details": "No fixed version is available yet.", "product_ids": [id]})
                        } else {
                            json!({"category": "vendor_fix", "details": format!("Update {} to {}.", f.component, f.fixed.join(" or ")), "product_ids": [id]})
                        });
                    }
                    Analysis::RiskAccepted { until } => {
                        status.entry("known_affected").or_default().push(id.clone());
                        remediations.push(json!({"category": "no_fix_planned",
                            "details": format!("The risk is accepted until {}.", timestamp(*until)), "product_ids": [id]}));
                    }
                    Analysis::NotAffected { justification } => {
                        status.entry("known_not_affected").or_default().push(id.clone());
                        flags.entry(justification.csaf_flag()).or_default().push(id);
                    }
                    Analysis::FalsePositive => {
                        status.entry("known_not_affected").or_default().push(id.clone());
                        flags.entry("vulnerable_code_not_present").or_default().push(id);
                    }
                    Analysis::Resolved => status.entry("fixed").or_default().push(id),
                }
            }
            let mut v = json!({
                "product_status": status,
                "notes": [{"category": "description", "title": "Finding",
                    "text": format!("{advisory} found in {} component(s) of {product} {version}.", list.len())}],
            });
            if advisory.starts_with("CVE-") {
                v["cve"] = json!(advisory);
            } else {
                let system = if advisory.contains('#') { "embargo scanner finding" } else { "OSV" };
                v["ids"] = json!([{"system_name": system, "text": advisory}]);
            }
            if !flags.is_empty() {
                v["flags"] = Value::Array(
                    flags
                        .into_iter()
                        .map(|(label, ids)| json!({"label": label, "product_ids": ids}))
                        .collect(),
                );
            }
            if !remediations.is_empty() {
                v["remediations"] = Value::Array(remediations);
            }
            v
        })
        .collect();
    let tracking_id: String = format!("{product}-{version}-vex")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let date = timestamp(generated);
    json!({
        "document": {
            "category": "csaf_vex",
            "csaf_version": "2.0",
            "lang": "en",
            "publisher": {
                "category": "vendor",
                "name": publisher.name,
                "namespace": publisher.namespace,
                "contact_details": publisher.contact,
            },
            "title": format!("VEX for {product} {version}"),
            "notes": [{"category": "summary", "title": "Summary",
                "text": format!("The current analysis of every vulnerability found in {product} {version}.")}],
            "tracking": {
                "id": tracking_id,
                "status": "interim",
                "version": "1",
                "revision_history": [{"number": "1", "date": date, "summary": "The analysis as it stands"}],
                "initial_release_date": date,
                "current_release_date": date,
                "generator": {"engine": {"name": "embargo", "version": env!("CARGO_PKG_VERSION")}},
            },
        },
        "product_tree": {
            "branches": [{"category": "vendor", "name": publisher.name, "branches": [{
                "category": "product_name", "name": product, "branches": [{
                    "category": "product_version", "name": version,
                    "product": {"name": format!("{product} {version}"), "product_id": RELEASE},
                }],
            }]}],
            "full_product_names": full_names,
            "relationships": relationships,
        },
        "vulnerabilities": vulnerabilities,
    })
}

// ------------------------------------------------------------- 6.1 tests

/// A failed mandatory test: its number (`6.1.1`) and what is wrong where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub test: &'static str,
    pub message: String,
}

/// The mandatory tests embargo implements, by number.
pub const IMPLEMENTED: &[&str] = &[
    "6.1.1",
    "6.1.2",
    "6.1.4",
    "6.1.5",
    "6.1.6",
    "6.1.7",
    "6.1.9",
    "6.1.11",
    "6.1.13",
    "6.1.14",
    "6.1.15",
    "6.1.16",
    "6.1.17",
    "6.1.18",
    "6.1.19",
    "6.1.20",
    "6.1.21",
    "6.1.22",
    "6.1.23",
    "6.1.24",
    "6.1.25",
    "6.1.26",
    "6.1.27.1",
    "6.1.27.2",
    "6.1.27.3",
    "6.1.27.4",
    "6.1.27.5",
    "6.1.27.6",
    "6.1.27.7",
    "6.1.27.8",
    "6.1.27.9",
    "6.1.27.10",
    "6.1.27.11",
    "6.1.29",
    "6.1.32",
];

/// Runs every implemented test.
#[must_use]
pub fn check(doc: &Value) -> Vec<Violation> {
    IMPLEMENTED.iter().flat_map(|t| run(t, doc)).collect()
}

/// What each check reads of the document.
#[derive(Clone, Copy)]
struct Doc<'a> {
    doc: &'a Value,
    vulns: &'a [Value],
    category: &'a str,
    /// A security advisory or a VEX document (the profiles with most rules).
    profiled: bool,
    /// The test being run (some checks serve several).
    test: &'static str,
}

/// A check: reads the document, reports each violation's message.
type Check = fn(&Doc<'_>, &mut dyn FnMut(String));

/// The mandatory tests embargo runs, by number, each a small named check.
const CHECKS: &[(&str, Check)] = &[
    ("6.1.1", missing_product_ids),
    ("6.1.2", product_ids_defined_twice),
    ("6.1.4", missing_group_ids),
    ("6.1.5", group_ids_defined_twice),
    ("6.1.6", contradicting_product_status),
    ("6.1.7", several_scores_of_one_version),
    ("6.1.9", invalid_cvss),
    ("6.1.13", invalid_purl),
    ("6.1.14", unsorted_revision_history),
    ("6.1.16", latest_version_not_the_document_version),
    ("6.1.17", draft_status_with_release_version),
    ("6.1.21", missing_revision_history_items),
    ("6.1.22", revision_numbers_defined_twice),
    ("6.1.23", cve_used_twice),
    ("6.1.11", unknown_cwe),
    ("6.1.15", translator_without_source_language),
    ("6.1.18", revision_history_versions),
    ("6.1.19", revision_history_versions),
    ("6.1.20", revision_history_versions),
    ("6.1.24", involvements_defined_twice),
    ("6.1.25", hash_algorithm_used_twice),
    ("6.1.26", prohibited_category_name),
    ("6.1.27.1", profile_document_notes),
    ("6.1.27.2", profile_document_references),
    ("6.1.27.3", profile_informational_without_vulnerabilities),
    ("6.1.27.7", profile_vex_product_status),
    ("6.1.27.8", profile_vex_vulnerability_id),
    ("6.1.27.9", profile_vex_statements),
    ("6.1.27.10", profile_vex_statements),
    ("6.1.29", remediations_and_flags_name_products),
    ("6.1.32", remediations_and_flags_name_products),
    ("6.1.27.4", profile_product_tree),
    ("6.1.27.5", profile_vulnerability_notes),
    ("6.1.27.6", profile_product_status),
    ("6.1.27.11", profile_vulnerabilities),
];

/// Runs one test by number (an unknown number finds nothing).
#[must_use]
pub fn run(test: &'static str, doc: &Value) -> Vec<Violation> {
    let mut out = Vec::new();
    let Some((_, check)) = CHECKS.iter().find(|(number, _)| *number == test) else {
        return out;
    };
    let category = doc["document"]["category"].as_str().unwrap_or("");
    let context = Doc {
        doc,
        vulns: doc["vulnerabilities"]
            .as_array()
            .map_or(&[][..], |v| v.as_slice()),
        category,
        profiled: matches!(category, "csaf_security_advisory" | "csaf_vex"),
        test,
    };
    check(&context, &mut |message| {
        out.push(Violation { test, message })
    });
    out
}

/// CSAF test 6.1.1.
fn missing_product_ids(c: &Doc<'_>, fail: &mut dyn FnMut(String)) {
    let Doc { doc, .. } = *c;
    let defined = defined_products(doc);
    for (at, id) in referenced_products(doc) {
        if !defined.contains(id) {
            fail(format!(
                "{at}: product id `{id}` is not defined in the product tree"
            ));
        }
    }
}

/// CSAF test 6.1.2.
fn product_ids_defined_twice(c: &Doc<'_>, fail: &mut dyn FnMut(String)) {
    let Doc { doc, .. } = *c;
    let mut seen = BTreeSet::new();
    for (at, id) in product_definitions(doc) {
        if !seen.insert(id) {
            fail(format!("{at}: product id `{id}` is defined twice"));
        }
    }
}

/// CSAF test 6.1.4.
fn missing_group_ids(c: &Doc<'_>, fail: &mut dyn FnMut(String)) {
    let Doc { doc, .. } = *c;
    let groups: BTreeSet<&str> = groups(doc).into_iter().map(|(_, g)| g).collect();
    for (at, id) in referenced_groups(doc) {
        if !groups.contains(id) {
            fail(format!("{at}: product group id `{id}` is not defined"));
        }
    }
}

/// CSAF test 6.1.5.
fn group_ids_defined_twice(c: &Doc<'_>, fail: &mut dyn FnMut(String)) {
    let Doc { doc, .. } = *c;
    let mut seen = BTreeSet::new();
    for (at, id) in groups(doc) {
        if !seen.insert(id) {
            fail(format!("{at}: product group id `{id}` is defined twice"));
        }
    }
}

/// CSAF test 6.1.6.
fn contradicting_product_status(c: &Doc<'_>, fail: &mut dyn FnMut(String)) {
    let Doc { vulns, .. } = *c;
    const GROUPS: [(&str, &[&str]); 4] = [
        (
            "affected",
            &["first_affected", "known_affected", "last_affected"],
        ),
        ("not affected", &["known_not_affected"]),
        ("fixed", &["first_fixed", "fixed"]),
        ("under investigation", &["under_investigation"]),
    ];
    for (i, v) in vulns.iter().enumerate() {
        let mut status: BTreeMap<&str, &str> = BTreeMap::new();
        for (group, keys) in GROUPS {
            for key in keys {
                for id in strings(&v["product_status"][*key]) {
                    if let Some(other) = status.insert(id, group)
                        && other != group
                    {
                        fail(format!(
                            "vulnerabilities[{i}]: product `{id}` is both {other} and {group}"
                        ));
                    }
                }
            }
        }
    }
}

/// CSAF test 6.1.7.
fn several_scores_of_one_version(c: &Doc<'_>, fail: &mut dyn FnMut(String)) {
    let Doc { vulns, .. } = *c;
    for (i, v) in vulns.iter().enumerate() {
        let mut seen = BTreeSet::new();
        for score in v["scores"].as_array().into_iter().flatten() {
            for kind in ["cvss_v2", "cvss_v3"] {
                let Some(version) = score[kind]["version"].as_str() else {
                    continue;
                };
                for p in strings(&score["products"]) {
                    if !seen.insert((kind, version, p)) {
                        fail(format!(
                            "vulnerabilities[{i}]: product `{p}` has two CVSS {version} scores"
                        ));
                    }
                }
            }
        }
    }
}

/// CSAF test 6.1.9.
fn invalid_cvss(c: &Doc<'_>, fail: &mut dyn FnMut(String)) {
    let Doc { vulns, .. } = *c;
    for (i, v) in vulns.iter().enumerate() {
        for (j, score) in v["scores"].as_array().into_iter().flatten().enumerate() {
            let c2 = &score["cvss_v2"];
            if let (Some(vector), Some(base)) =
                (c2["vectorString"].as_str(), c2["baseScore"].as_f64())
            {
                match embargo_spec::cvss::score_v2(vector) {
                    Ok(s) if (f64::from(s) - base).abs() > 0.05 => fail(format!(
                        "vulnerabilities[{i}].scores[{j}]: CVSS 2.0 baseScore {base} but the vector scores {s}"
                    )),
                    Ok(_) => {}
                    Err(e) => fail(format!("vulnerabilities[{i}].scores[{j}]: {e}")),
                }
            }
            let c = &score["cvss_v3"];
            let (Some(vector), Some(base)) = (c["vectorString"].as_str(), c["baseScore"].as_f64())
            else {
                continue;
            };
            match crate::cvss::assess(vector) {
                Ok(s) => {
                    if (s.score - base).abs() > 1e-9 {
                        fail(format!(
                            "vulnerabilities[{i}].scores[{j}]: baseScore {base} but the vector scores {}",
                            s.score
                        ));
                    }
                    if let Some(sev) = c["baseSeverity"].as_str()
                        && !sev.eq_ignore_ascii_case(s.severity.as_str())
                    {
                        fail(format!(
                            "vulnerabilities[{i}].scores[{j}]: baseSeverity {sev} but the score rates {}",
                            s.severity.as_str()
                        ));
                    }
                }
                Err(e) => fail(format!("vulnerabilities[{i}].scores[{j}]: {e}")),
            }
        }
    }
}

/// CSAF test 6.1.13.
fn invalid_purl(c: &Doc<'_>, fail: &mut dyn FnMut(String)) {
    let Doc { doc, .. } = *c;
    walk(doc, "", &mut |at, key, value| {
        if key == "purl"
            && let Some(p) = value.as_str()
            && let Err(e) = embargo_spec::purl::Purl::parse_strict(p)
        {
            fail(format!("{at}: {e}"));
        }
    });
}

/// CSAF test 6.1.14.
fn unsorted_revision_history(c: &Doc<'_>, fail: &mut dyn FnMut(String)) {
    let Doc { doc, .. } = *c;
    let history = revisions(doc);
    let mut by_date = history.clone();
    by_date.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| cmp_version(a.0, b.0)));
    let mut by_number = history;
    by_number.sort_by(|a, b| cmp_version(a.0, b.0));
    if by_date
        .iter()
        .map(|r| r.0)
        .ne(by_number.iter().map(|r| r.0))
    {
        fail("the revision history sorted by date is not in the order of its numbers".into());
    }
}

/// CSAF test 6.1.16.
fn latest_version_not_the_document_version(c: &Doc<'_>, fail: &mut dyn FnMut(String)) {
    let Doc { doc, .. } = *c;
    let version = doc["document"]["tracking"]["version"]
        .as_str()
        .unwrap_or("");
    let draft = doc["document"]["tracking"]["status"] == "draft";
    let mut history = revisions(doc);
    history.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| cmp_version(a.0, b.0)));
    if let Some((latest, _)) = history.last() {
        let strip = |v: &str| -> String {
            let v = v.split('+').next().unwrap_or(v);
            if draft {
                v.split('-').next().unwrap_or(v).to_owned()
            } else {
                v.to_owned()
            }
        };
        if strip(latest) != strip(version) {
            fail(format!(
                "the document version `{version}` is not the latest revision number `{latest}`"
            ));
        }
    }
}

/// CSAF test 6.1.17.
fn draft_status_with_release_version(c: &Doc<'_>, fail: &mut dyn FnMut(String)) {
    let Doc { doc, .. } = *c;
    let tracking = &doc["document"]["tracking"];
    let version = tracking["version"].as_str().unwrap_or("");
    let zero = version == "0" || version.starts_with("0.");
    let prerelease = version.split('+').next().unwrap_or("").contains('-');
    if (zero || prerelease) && tracking["status"] != "draft" {
        fail(format!(
            "version `{version}` (0, 0.y.z or a pre-release) is only for a draft, not status {}",
            tracking["status"]
        ));
    }
}

/// CSAF test 6.1.21.
fn missing_revision_history_items(c: &Doc<'_>, fail: &mut dyn FnMut(String)) {
    let Doc { doc, .. } = *c;
    let mut numbers: Vec<u64> = Vec::new();
    for (n, _) in revisions(doc) {
        let major = n.split(['.', '-', '+']).next().unwrap_or(n);
        match major.parse() {
            Ok(m) => numbers.push(m),
            Err(_) => return,
        }
    }
    // Integer versions count every revision; semantic ones their majors.
    let semantic = revisions(doc).iter().any(|(n, _)| n.contains('.'));
    let mut majors = numbers.clone();
    majors.sort_unstable();
    if semantic {
        majors.dedup();
    }
    if let Some(&first) = majors.first()
        && first > 1
    {
        fail(format!(
            "the revision history starts at {first}, not 0 or 1"
        ));
    }
    for w in majors.windows(2) {
        if w[1] > w[0] + 1 {
            fail(format!("the revision history has no item {}", w[0] + 1));
        }
    }
}

/// CSAF test 6.1.22.
fn revision_numbers_defined_twice(c: &Doc<'_>, fail: &mut dyn FnMut(String)) {
    let Doc { doc, .. } = *c;
    let mut seen = BTreeSet::new();
    for (n, _) in revisions(doc) {
        if !seen.insert(n) {
            fail(format!("revision number `{n}` appears twice"));
        }
    }
}

/// CSAF test 6.1.23.
fn cve_used_twice(c: &Doc<'_>, fail: &mut dyn FnMut(String)) {
    let Doc { vulns, .. } = *c;
    let mut seen = BTreeSet::new();
    for (i, v) in vulns.iter().enumerate() {
        if let Some(cve) = v["cve"].as_str()
            && !seen.insert(cve)
        {
            fail(format!("vulnerabilities[{i}]: {cve} is used twice"));
        }
    }
}

/// CSAF test 6.1.11.
fn unknown_cwe(c: &Doc<'_>, fail: &mut dyn FnMut(String)) {
    let Doc { vulns, .. } = *c;
    for (i, v) in vulns.iter().enumerate() {
        let (Some(id), Some(name)) = (v["cwe"]["id"].as_str(), v["cwe"]["name"].as_str()) else {
            continue;
        };
        // Judged only for weaknesses in embargo's table.
        if let Some(expected) = cwe::parse(id).and_then(cwe::name)
            && expected != name
        {
            fail(format!(
                "vulnerabilities[{i}].cwe: {id} is named `{expected}`, not `{name}`"
            ));
        }
    }
}

/// CSAF test 6.1.15.
fn translator_without_source_language(c: &Doc<'_>, fail: &mut dyn FnMut(String)) {
    let Doc { doc, .. } = *c;
    let document = &doc["document"];
    if document["publisher"]["category"] == "translator" && document.get("source_lang").is_none() {
        fail("a translator's document must give its source_lang".into());
    }
}

/// CSAF test 6.1.18, 6.1.19, 6.1.20.
fn revision_history_versions(c: &Doc<'_>, fail: &mut dyn FnMut(String)) {
    let Doc { doc, test, .. } = *c;
    let tracking = &doc["document"]["tracking"];
    if matches!(tracking["status"].as_str(), Some("final" | "interim")) {
        let prerelease = |v: &str| v.split('+').next().unwrap_or(v).contains('-');
        for (n, _) in revisions(doc) {
            if test == "6.1.18" && (n == "0" || n.starts_with("0.")) {
                fail(format!(
                    "a released document's history has the draft revision `{n}`"
                ));
            }
            if test == "6.1.19" && prerelease(n) {
                fail(format!(
                    "a released document's history has the pre-release revision `{n}`"
                ));
            }
        }
        let version = tracking["version"].as_str().unwrap_or("");
        if test == "6.1.20" && prerelease(version) {
            fail(format!(
                "a released document has the pre-release version `{version}`"
            ));
        }
    }
}

/// CSAF test 6.1.24.
fn involvements_defined_twice(c: &Doc<'_>, fail: &mut dyn FnMut(String)) {
    let Doc { vulns, .. } = *c;
    for (i, v) in vulns.iter().enumerate() {
        let mut seen = BTreeSet::new();
        for inv in v["involvements"].as_array().into_iter().flatten() {
            let key = (inv["party"].as_str(), inv["date"].as_str());
            if !seen.insert(key) {
                fail(format!(
                    "vulnerabilities[{i}]: two involvements of {} on {}",
                    key.0.unwrap_or("?"),
                    key.1.unwrap_or("?")
                ));
            }
        }
    }
}

/// CSAF test 6.1.25.
fn hash_algorithm_used_twice(c: &Doc<'_>, fail: &mut dyn FnMut(String)) {
    let Doc { doc, .. } = *c;
    walk(doc, "", &mut |at, key, value| {
        if key == "file_hashes" {
            let mut seen = BTreeSet::new();
            for h in value.as_array().into_iter().flatten() {
                if let Some(alg) = h["algorithm"].as_str()
                    && !seen.insert(alg)
                {
                    fail(format!(
                        "{at}: the hash algorithm {alg} is used twice for one file"
                    ));
                }
            }
        }
    });
}

/// CSAF test 6.1.26.
fn prohibited_category_name(c: &Doc<'_>, fail: &mut dyn FnMut(String)) {
    let Doc { category, .. } = *c;
    const OFFICIAL: [&str; 5] = [
        "csaf_base",
        "csaf_security_incident_response",
        "csaf_informational_advisory",
        "csaf_security_advisory",
        "csaf_vex",
    ];
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .collect::<String>()
            .to_lowercase()
    };
    if !OFFICIAL.contains(&category) {
        let n = norm(category);
        if OFFICIAL
            .iter()
            .any(|o| n == norm(o) || n == norm(o.trim_start_matches("csaf_")))
        {
            fail(format!(
                "the category `{category}` imitates a profile's name"
            ));
        }
    }
}

/// CSAF test 6.1.27.1.
fn profile_document_notes(c: &Doc<'_>, fail: &mut dyn FnMut(String)) {
    let Doc { doc, category, .. } = *c;
    if !(matches!(
        category,
        "csaf_informational_advisory" | "csaf_security_incident_response"
    )) {
        return;
    }

    let has = doc["document"]["notes"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|n| {
            matches!(
                n["category"].as_str(),
                Some("description" | "details" | "general" | "summary")
            )
        });
    if !has {
        fail("an informational or incident document needs a note of category description, details, general or summary".into());
    }
}

/// CSAF test 6.1.27.2.
fn profile_document_references(c: &Doc<'_>, fail: &mut dyn FnMut(String)) {
    let Doc { doc, category, .. } = *c;
    if !(matches!(
        category,
        "csaf_informational_advisory" | "csaf_security_incident_response"
    )) {
        return;
    }

    let has = doc["document"]["references"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|r| r["category"] == "external");
    if !has {
        fail("an informational or incident document needs an external reference".into());
    }
}

/// CSAF test 6.1.27.3.
fn profile_informational_without_vulnerabilities(c: &Doc<'_>, fail: &mut dyn FnMut(String)) {
    let Doc { doc, category, .. } = *c;
    if !(category == "csaf_informational_advisory" && doc.get("vulnerabilities").is_some()) {
        return;
    }

    fail("an informational advisory has no vulnerabilities".into());
}

/// CSAF test 6.1.27.7.
fn profile_vex_product_status(c: &Doc<'_>, fail: &mut dyn FnMut(String)) {
    let Doc {
        vulns, category, ..
    } = *c;
    if category != "csaf_vex" {
        return;
    }

    for (i, v) in vulns.iter().enumerate() {
        let s = &v["product_status"];
        if [
            "fixed",
            "known_affected",
            "known_not_affected",
            "under_investigation",
        ]
        .iter()
        .all(|k| s.get(*k).is_none())
        {
            fail(format!(
                "vulnerabilities[{i}] names no fixed, known affected, known not affected or under investigation product"
            ));
        }
    }
}

/// CSAF test 6.1.27.8.
fn profile_vex_vulnerability_id(c: &Doc<'_>, fail: &mut dyn FnMut(String)) {
    let Doc {
        vulns, category, ..
    } = *c;
    if category != "csaf_vex" {
        return;
    }

    for (i, v) in vulns.iter().enumerate() {
        if v.get("cve").is_none() && v.get("ids").is_none() {
            fail(format!("vulnerabilities[{i}] has neither cve nor ids"));
        }
    }
}

/// CSAF test 6.1.27.9, 6.1.27.10.
fn profile_vex_statements(c: &Doc<'_>, fail: &mut dyn FnMut(String)) {
    let Doc {
        doc,
        vulns,
        category,
        test,
        ..
    } = *c;
    if category != "csaf_vex" {
        return;
    }

    let groups = group_members(doc);
    let covered = |items: &Value, keep: &dyn Fn(&Value) -> bool| -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for item in items.as_array().into_iter().flatten().filter(|x| keep(x)) {
            out.extend(strings(&item["product_ids"]).map(str::to_owned));
            for g in strings(&item["group_ids"]) {
                out.extend(groups.get(g).into_iter().flatten().cloned());
            }
        }
        out
    };
    for (i, v) in vulns.iter().enumerate() {
        if test == "6.1.27.9" {
            let mut stated = covered(&v["flags"], &|_| true);
            stated.extend(covered(&v["threats"], &|t| t["category"] == "impact"));
            for p in strings(&v["product_status"]["known_not_affected"]) {
                if !stated.contains(p) {
                    fail(format!(
                        "vulnerabilities[{i}]: `{p}` is not affected but has no impact statement"
                    ));
                }
            }
        } else {
            let acted = covered(&v["remediations"], &|_| true);
            for p in strings(&v["product_status"]["known_affected"]) {
                if !acted.contains(p) {
                    fail(format!(
                        "vulnerabilities[{i}]: `{p}` is affected but has no action statement"
                    ));
                }
            }
        }
    }
}

/// CSAF test 6.1.29, 6.1.32.
fn remediations_and_flags_name_products(c: &Doc<'_>, fail: &mut dyn FnMut(String)) {
    let Doc { vulns, test, .. } = *c;
    let (key, what) = if test == "6.1.29" {
        ("remediations", "remediation")
    } else {
        ("flags", "flag")
    };
    for (i, v) in vulns.iter().enumerate() {
        for (j, item) in v[key].as_array().into_iter().flatten().enumerate() {
            if item.get("product_ids").is_none() && item.get("group_ids").is_none() {
                fail(format!(
                    "vulnerabilities[{i}].{key}[{j}]: a {what} names no product or group"
                ));
            }
        }
    }
}

/// CSAF test 6.1.27.4.
fn profile_product_tree(c: &Doc<'_>, fail: &mut dyn FnMut(String)) {
    let Doc { doc, profiled, .. } = *c;
    if !(profiled && doc.get("product_tree").is_none()) {
        return;
    }

    fail("a security advisory or VEX document needs a product tree".into());
}

/// CSAF test 6.1.27.5.
fn profile_vulnerability_notes(c: &Doc<'_>, fail: &mut dyn FnMut(String)) {
    let Doc {
        vulns, profiled, ..
    } = *c;
    if !(profiled) {
        return;
    }

    for (i, v) in vulns.iter().enumerate() {
        if v.get("notes").is_none() {
            fail(format!("vulnerabilities[{i}] has no notes"));
        }
    }
}

/// CSAF test 6.1.27.6.
fn profile_product_status(c: &Doc<'_>, fail: &mut dyn FnMut(String)) {
    let Doc {
        vulns, category, ..
    } = *c;
    if category != "csaf_security_advisory" {
        return;
    }

    for (i, v) in vulns.iter().enumerate() {
        if v.get("product_status").is_none() {
            fail(format!("vulnerabilities[{i}] has no product status"));
        }
    }
}

/// CSAF test 6.1.27.11.
fn profile_vulnerabilities(c: &Doc<'_>, fail: &mut dyn FnMut(String)) {
    let Doc {
        vulns, profiled, ..
    } = *c;
    if !(profiled && vulns.is_empty()) {
        return;
    }

    fail("a security advisory or VEX document needs vulnerabilities".into());
}

fn strings(v: &Value) -> impl Iterator<Item = &str> {
    v.as_array().into_iter().flatten().filter_map(Value::as_str)
}

/// Visits every key and value with its JSON path.
fn walk<'a>(v: &'a Value, at: &str, f: &mut dyn FnMut(&str, &str, &'a Value)) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let here = format!("{at}/{k}");
                f(&here, k, child);
                walk(child, &here, f);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{at}/{i}"), f);
            }
        }
        _ => {}
    }
}

/// Every product definition (`full_product_name`) with its path.
fn product_definitions(doc: &Value) -> Vec<(String, &str)> {
    let mut out = Vec::new();
    walk(
        &doc["product_tree"],
        "/product_tree",
        &mut |at, key, value| {
            if matches!(key, "product" | "full_product_name")
                && let Some(id) = value["product_id"].as_str()
            {
                out.push((at.to_owned(), id));
            }
            if key == "full_product_names" {
                for (i, p) in value.as_array().into_iter().flatten().enumerate() {
                    if let Some(id) = p["product_id"].as_str() {
                        out.push((format!("{at}/{i}"), id));
                    }
                }
            }
        },
    );
    out
}

fn defined_products(doc: &Value) -> BTreeSet<&str> {
    product_definitions(doc)
        .into_iter()
        .map(|(_, id)| id)
        .collect()
}

/// Every reference to a product id, with its path.
fn referenced_products(doc: &Value) -> Vec<(String, &str)> {
    let mut out = Vec::new();
    walk(
        &doc["product_tree"],
        "/product_tree",
        &mut |at, key, value| match key {
            "product_ids" => out.extend(strings(value).map(|id| (at.to_owned(), id))),
            "product_reference" | "relates_to_product_reference" => {
                if let Some(id) = value.as_str() {
                    out.push((at.to_owned(), id));
                }
            }
            _ => {}
        },
    );
    walk(
        &doc["vulnerabilities"],
        "/vulnerabilities",
        &mut |at, key, value| {
            let in_status = at.contains("/product_status/");
            if matches!(key, "product_ids" | "products") || in_status {
                out.extend(strings(value).map(|id| (at.to_owned(), id)));
            }
        },
    );
    out
}

fn groups(doc: &Value) -> Vec<(String, &str)> {
    doc["product_tree"]["product_groups"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, g)| {
            g["group_id"]
                .as_str()
                .map(|id| (format!("/product_tree/product_groups/{i}"), id))
        })
        .collect()
}

fn referenced_groups(doc: &Value) -> Vec<(String, &str)> {
    let mut out = Vec::new();
    walk(
        &doc["vulnerabilities"],
        "/vulnerabilities",
        &mut |at, key, value| {
            if key == "group_ids" {
                out.extend(strings(value).map(|id| (at.to_owned(), id)));
            }
        },
    );
    out
}

/// Each product group's members.
fn group_members(doc: &Value) -> BTreeMap<&str, Vec<String>> {
    doc["product_tree"]["product_groups"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|g| {
            Some((
                g["group_id"].as_str()?,
                strings(&g["product_ids"]).map(str::to_owned).collect(),
            ))
        })
        .collect()
}

/// (number, date) of each revision; dates as instants, so that
/// `10:00:00.00010Z` comes after `10:00:00.000Z`.
fn revisions(doc: &Value) -> Vec<(&str, Option<chrono::DateTime<chrono::FixedOffset>>)> {
    doc["document"]["tracking"]["revision_history"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let date = chrono::DateTime::parse_from_rfc3339(r["date"].as_str()?).ok();
            Some((r["number"].as_str()?, date))
        })
        .collect()
}

/// Orders integer or semantic version numbers.
fn cmp_version(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => match (semver::Version::parse(a), semver::Version::parse(b)) {
            (Ok(x), Ok(y)) => x.cmp_precedence(&y),
            _ => a.cmp(b),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advisory::tests::{at, sample};

    #[test]
    fn every_implemented_test_has_its_check_and_no_check_is_unlisted() {
        let checks: Vec<&str> = CHECKS.iter().map(|(number, _)| *number).collect();
        let mut listed = IMPLEMENTED.to_vec();
        let mut registered = checks.clone();
        listed.sort_unstable();
        registered.sort_unstable();
        assert_eq!(listed, registered);
        registered.dedup();
        assert_eq!(registered.len(), checks.len(), "a number registered twice");
    }

    #[test]
    fn a_published_advisory_passes_the_mandatory_tests() {
        let (mut a, publisher) = sample();
        let now = at("2026-11-23T10:00:00Z");
        let draft = document(&a, &publisher, now);
        assert_eq!(draft["document"]["tracking"]["status"], "draft");
        assert_eq!(check(&draft), vec![]);
        a.publish(true, None, now, "").unwrap();
        let doc = document(&a, &publisher, now);
        assert_eq!(check(&doc), vec![]);
        assert_eq!(doc["document"]["tracking"]["status"], "final");
        assert_eq!(
            doc["vulnerabilities"][0]["cwe"]["name"],
            "Improper Limitation of a Pathname to a Restricted Directory ('Path Traversal')"
        );
        assert_eq!(
            doc["vulnerabilities"][0]["scores"][0]["cvss_v3"]["baseScore"],
            6.5
        );
        assert_eq!(
            doc["product_tree"]["branches"][0]["branches"][0]["branches"][0]["name"],
            "vers:cargo/>=1.0.0|<1.4.2"
        );
        assert_eq!(file_name("EMB-2026-0001"), "emb-2026-0001.json");
        assert_eq!(file_name("Acme:1/2"), "acme_1_2.json");
    }
}
