//! OSV 1.7 from an advisory: one `affected` entry per product, its ranges
//! as OSV events (`ECOSYSTEM` ranges under the package's ecosystem when the
//! product has a package URL of one; otherwise the product is named in
//! `database_specific`). The id is the advisory's with OSV's `x_` prefix for
//! databases whose prefix is not registered with OSV.

use serde_json::{Value, json};

use super::{Advisory, Publisher, cwe, timestamp};

/// The OSV record of a published advisory (a draft is never exported).
#[must_use]
pub fn record(a: &Advisory, publisher: &Publisher) -> Option<Value> {
    let published = a.published?;
    let modified = a.modified().unwrap_or(published);
    let affected: Vec<Value> = a
        .affected
        .iter()
        .map(|p| {
            let events = |r: &super::VersionRange| {
                let mut events = vec![json!({"introduced": r.introduced.clone().unwrap_or_else(|| "0".into())})];
                if let Some(f) = &r.fixed {
                    events.push(json!({"fixed": f}));
                }
                if let Some(l) = &r.last_affected {
                    events.push(json!({"last_affected": l}));
                }
                events
            };
            let ranges: Vec<Value> = p
                .ranges
                .iter()
                .map(|r| json!({"type": "ECOSYSTEM", "events": events(r)}))
                .collect();
            let mut entry = json!({
                "ranges": ranges,
                "database_specific": {"vendor": p.vendor, "product": p.product},
            });
            let package = p
                .purl
                .as_deref()
                .and_then(|purl| embargo_spec::purl::Purl::parse(purl).ok())
                .and_then(|purl| purl.ecosystem().map(|(e, name)| (e, name, purl)));
            if let Some((ecosystem, name, purl)) = package {
                entry["package"] = json!({"ecosystem": ecosystem.osv_name(), "name": name, "purl": purl.to_string()});
            }
            entry
        })
        .collect();
    let mut record = json!({
        "schema_version": "1.7.0",
        // OSV reserves ids to registered databases; others take `x_`.
        "id": format!("x_{}", a.id),
        "modified": timestamp(modified),
        "published": timestamp(published),
        "summary": a.summary,
        "details": if a.description.is_empty() { a.summary.clone() } else { a.description.clone() },
        "affected": affected,
        "references": std::iter::once(json!({
            "type": "ADVISORY",
            "url": format!("{}/advisories/{}", publisher.base_url.trim_end_matches('/'), a.id),
        }))
        .chain(a.references.iter().map(|r| json!({"type": "WEB", "url": r.url})))
        .collect::<Vec<_>>(),
        "database_specific": {"source": publisher.name},
    });
    if let Some(cve) = &a.cve {
        record["aliases"] = json!([cve]);
    }
    if let Some(score) = a.score() {
        let kind = if score.version == "4.0" {
            "CVSS_V4"
        } else {
            "CVSS_V3"
        };
        record["severity"] = json!([{"type": kind, "score": score.vector}]);
    }
    if let Some(n) = a.cwe.as_deref().and_then(cwe::parse) {
        record["database_specific"]["cwe_ids"] = json!([format!("CWE-{n}")]);
    }
    if let Some(x) = &a.exploited {
        record["database_specific"]["exploitation"] = json!({
            "status": "actively_exploited",
            "known_since": timestamp(x.since),
            "source": x.source,
        });
    }
    if !a.credits.is_empty() {
        record["credits"] = Value::Array(
            a.credits
                .iter()
                .map(|c| {
                    let kind = match c.kind {
                        super::CreditKind::Finder => "FINDER",
                        super::CreditKind::Reporter => "REPORTER",
                        super::CreditKind::Analyst => "ANALYST",
                        super::CreditKind::Coordinator => "COORDINATOR",
                        super::CreditKind::RemediationDeveloper => "REMEDIATION_DEVELOPER",
                    };
                    json!({"name": c.name, "type": kind})
                })
                .collect(),
        );
    }
    Some(record)
}
