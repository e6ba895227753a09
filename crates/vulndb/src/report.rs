//! A scan written in the formats other tools read: SARIF 2.1.0 (code
//! scanning dashboards), CycloneDX 1.6 VEX and OpenVEX 0.2.0.
//!
//! A scan matches versions against advisories; it does not analyse whether
//! the vulnerable code is reachable. The VEX documents therefore state what
//! a scan knows: each match is `in_triage` (CycloneDX) or
//! `under_investigation` (OpenVEX), and an ignored advisory carries the
//! ignore's reason as its detail. The analysis states a person sets come
//! from the portfolio's findings, not from here.

use serde_json::{Value, json};

use crate::db::Severity;
use crate::purl::Purl;
use crate::scan::{Finding, Scan};
use crate::version::Ecosystem;

/// Who made a document and when: supplied by the caller, so that output is
/// reproducible in tests (time is a parameter).
#[derive(Debug, Clone)]
pub struct Provenance {
    pub tool_version: String,
    /// RFC 3339.
    pub timestamp: String,
    /// A random UUID, for the document's serial number or id.
    pub uuid: String,
}

/// The package URL of a finding's package.
#[must_use]
pub fn purl_of(f: &Finding) -> String {
    match f.ecosystem.parse::<Ecosystem>() {
        Ok(e) => Purl::for_package(e, &f.package, &f.version).to_string(),
        Err(_) => format!("pkg:generic/{}@{}", f.package, f.version),
    }
}

fn advisory_url(id: &str) -> String {
    format!("https://osv.dev/vulnerability/{id}")
}

fn all_findings(scan: &Scan) -> impl Iterator<Item = (&Finding, Option<&str>)> {
    scan.vulnerabilities
        .iter()
        .map(|f| (f, None))
        .chain(scan.notices.iter().map(|f| (f, None)))
        .chain(scan.ignored.iter().map(|(f, why)| (f, Some(why.as_str()))))
}

fn fix_text(f: &Finding) -> String {
    if f.fixed.is_empty() {
        "no fixed version is known".to_owned()
    } else {
        format!("fixed in {}", f.fixed.join(", "))
    }
}

/// SARIF 2.1.0: one rule per advisory, one result per affected package, at
/// the lockfile that pins it; `security-severity` carries the CVSS score so
/// that code-scanning dashboards rank results.
#[must_use]
pub fn sarif(scan: &Scan, provenance: &Provenance) -> Value {
    let mut rules: Vec<Value> = Vec::new();
    let mut rule_index: std::collections::BTreeMap<String, usize> = Default::default();
    let mut results = Vec::new();
    for (f, ignored) in all_findings(scan) {
        let a = &f.advisory;
        let index = *rule_index.entry(a.id.clone()).or_insert_with(|| {
            let mut properties = json!({"tags": ["security", "vulnerability", f.ecosystem]});
            if let Some(score) = a.score {
                properties["security-severity"] = json!(format!("{score:.1}"));
            }
            let summary = if a.summary.is_empty() {
                a.id.clone()
            } else {
                a.summary.clone()
            };
            rules.push(json!({
                "id": a.id,
                "name": a.id,
                "shortDescription": {"text": summary},
                "fullDescription": {"text": summary},
                "helpUri": advisory_url(&a.id),
                "help": {"text": format!("{summary} ({})", advisory_url(&a.id))},
                "properties": properties,
            }));
            rules.len() - 1
        });
        let level = match (a.informational.is_some(), a.severity) {
            (true, _) => "note",
            (false, Some(Severity::Critical | Severity::High) | None) => "error",
            (false, Some(Severity::Medium)) => "warning",
            (false, Some(Severity::Low)) => "note",
        };
        let mut result = json!({
            "ruleId": a.id,
            "ruleIndex": index,
            "level": level,
            "message": {"text": format!(
                "{} {} is affected by {}{}: {}",
                f.package,
                f.version,
                a.id,
                if a.aliases.is_empty() { String::new() } else { format!(" ({})", a.aliases.join(", ")) },
                fix_text(f)
            )},
            "locations": [{"physicalLocation": {"artifactLocation": {
                "uri": f.file.display().to_string().replace('\\', "/")
            }}}],
            "partialFingerprints": {"package/advisory": format!("{}@{}/{}", f.package, f.version, a.id)},
        });
        if let Some(why) = ignored {
            result["suppressions"] = json!([{"kind": "external", "justification": why}]);
        }
        results.push(result);
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "embargo",
                "version": provenance.tool_version,
                "informationUri": "https://github.com/embargo-security/embargo",
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

fn cdx_severity(s: Option<Severity>) -> &'static str {
    s.map_or("unknown", Severity::as_str)
}

/// CycloneDX 1.6 VEX: the affected packages as components and one
/// vulnerability per advisory, affecting them.
#[must_use]
pub fn cyclonedx_vex(scan: &Scan, provenance: &Provenance) -> Value {
    let mut components: std::collections::BTreeMap<String, Value> = Default::default();
    let mut vulnerabilities: std::collections::BTreeMap<String, Value> = Default::default();
    for (f, ignored) in all_findings(scan) {
        let purl = purl_of(f);
        components.entry(purl.clone()).or_insert_with(|| {
            json!({"type": "library", "bom-ref": purl, "name": f.package, "version": f.version, "purl": purl})
        });
        let a = &f.advisory;
        let v = vulnerabilities.entry(a.id.clone()).or_insert_with(|| {
            let mut rating = json!({"severity": cdx_severity(a.severity)});
            if let Some(score) = a.score {
                rating["score"] = json!((f64::from(score) * 10.0).round() / 10.0);
            }
            if let Some(vector) = &a.cvss {
                rating["vector"] = json!(vector);
                rating["method"] = json!(if vector.starts_with("CVSS:4.0") {
                    "CVSSv4"
                } else if vector.starts_with("CVSS:3.0") {
                    "CVSSv3"
                } else {
                    "CVSSv31"
                });
            }
            let mut v = json!({
                "bom-ref": format!("vulnerability:{}", a.id),
                "id": a.id,
                "source": {"name": "OSV", "url": advisory_url(&a.id)},
                "ratings": [rating],
                "affects": [],
                "analysis": {"state": "in_triage", "detail": fix_text(f)},
            });
            if !a.summary.is_empty() {
                v["description"] = json!(a.summary);
            }
            if !a.aliases.is_empty() {
                v["references"] = Value::Array(
                    a.aliases
                        .iter()
                        .map(|alias| json!({"id": alias, "source": {"url": advisory_url(alias)}}))
                        .collect(),
                );
            }
            if let Some(published) = &a.published {
                v["published"] = json!(published);
            }
            if let Some(why) = ignored {
                v["analysis"]["detail"] = json!(format!("ignored: {why}"));
            }
            v
        });
        if let Some(affects) = v["affects"].as_array_mut()
            && !affects.iter().any(|x| x["ref"] == purl)
        {
            affects.push(json!({"ref": purl}));
        }
    }
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:{}", provenance.uuid),
        "version": 1,
        "metadata": {
            "timestamp": provenance.timestamp,
            "tools": {"components": [{"type": "application", "name": "embargo", "version": provenance.tool_version}]},
        },
        "components": components.into_values().collect::<Vec<_>>(),
        "vulnerabilities": vulnerabilities.into_values().collect::<Vec<_>>(),
    })
}

/// OpenVEX 0.2.0: one statement per advisory and affected package.
#[must_use]
pub fn openvex(scan: &Scan, provenance: &Provenance) -> Value {
    let statements: Vec<Value> = all_findings(scan)
        .map(|(f, ignored)| {
            let a = &f.advisory;
            let mut vulnerability = json!({"@id": advisory_url(&a.id), "name": a.id});
            if !a.summary.is_empty() {
                vulnerability["description"] = json!(a.summary);
            }
            if !a.aliases.is_empty() {
                vulnerability["aliases"] = json!(a.aliases);
            }
            let notes = match ignored {
                Some(why) => format!("matched by version; ignored: {why}; {}", fix_text(f)),
                None => format!("matched by version, not yet analysed; {}", fix_text(f)),
            };
            json!({
                "vulnerability": vulnerability,
                "products": [{"@id": purl_of(f)}],
                "status": "under_investigation",
                "status_notes": notes,
            })
        })
        .collect();
    json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": format!("urn:uuid:{}", provenance.uuid),
        "author": format!("embargo {}", provenance.tool_version),
        "role": "scanner",
        "timestamp": provenance.timestamp,
        "version": 1,
        "tooling": format!("embargo {}", provenance.tool_version),
        "statements": statements,
    })
}
