//! CVE JSON 5: a published CVE record whose CNA container is ready for CVE
//! Services (`containers.cna`), for advisories that carry a CVE id.

use serde_json::{Value, json};

use super::{Advisory, Publisher, cwe, timestamp};

/// The CVE record, when the advisory is published and has a CVE id.
#[must_use]
pub fn record(a: &Advisory, publisher: &Publisher) -> Option<Value> {
    let cve = a.cve.as_ref()?;
    let published = a.published?;
    let org = publisher
        .cna_org_id
        .clone()
        .unwrap_or_else(|| "00000000-0000-4000-8000-000000000000".into());
    let affected: Vec<Value> = a
        .affected
        .iter()
        .map(|p| {
            let versions: Vec<Value> = p
                .ranges
                .iter()
                .map(|r| {
                    let start = r.introduced.clone().unwrap_or_else(|| "0".into());
                    let mut v =
                        json!({"version": start, "status": "affected", "versionType": "custom"});
                    if let Some(f) = &r.fixed {
                        v["lessThan"] = json!(f);
                    } else if let Some(l) = &r.last_affected {
                        v["lessThanOrEqual"] = json!(l);
                    }
                    v
                })
                .collect();
            let mut entry = json!({
                "vendor": p.vendor,
                "product": p.product,
                "versions": versions,
                "defaultStatus": "unaffected",
            });
            if let Some(purl) = &p.purl {
                entry["packageURL"] = json!(purl);
            }
            entry
        })
        .collect();
    let mut cna = json!({
        "providerMetadata": {"orgId": org, "shortName": short_name(&publisher.name), "dateUpdated": timestamp(a.modified().unwrap_or(published))},
        "title": a.title,
        "descriptions": [{"lang": a.language, "value": if a.description.is_empty() { a.summary.clone() } else { a.description.clone() }}],
        "affected": affected,
        "references": std::iter::once(json!({
            "url": format!("{}/advisories/{}", publisher.base_url.trim_end_matches('/'), a.id),
            "tags": ["vendor-advisory"],
        }))
        .chain(a.references.iter().map(|r| json!({"url": r.url})))
        .collect::<Vec<_>>(),
        "datePublic": timestamp(published),
    });
    if let Some(n) = a.cwe.as_deref().and_then(cwe::parse) {
        let description =
            cwe::name(n).map_or_else(|| format!("CWE-{n}"), |name| format!("CWE-{n}: {name}"));
        cna["problemTypes"] = json!([{"descriptions": [{"lang": "en", "cweId": format!("CWE-{n}"), "description": description, "type": "CWE"}]}]);
    }
    if let Some(score) = a.score() {
        let key = match score.version {
            "4.0" => "cvssV4_0",
            "3.0" => "cvssV3_0",
            _ => "cvssV3_1",
        };
        cna["metrics"] = json!([{key: {
            "version": score.version,
            "vectorString": score.vector,
            "baseScore": score.score,
            "baseSeverity": score.severity.as_str().to_uppercase(),
        }}]);
    }
    if !a.credits.is_empty() {
        cna["credits"] = Value::Array(
            a.credits
                .iter()
                .map(|c| json!({"lang": a.language, "value": c.name, "type": c.kind.cve()}))
                .collect(),
        );
    }
    if !a.workarounds.is_empty() {
        cna["workarounds"] = Value::Array(
            a.workarounds
                .iter()
                .map(|w| json!({"lang": a.language, "value": w}))
                .collect(),
        );
    }
    Some(json!({
        "dataType": "CVE_RECORD",
        "dataVersion": "5.1",
        "cveMetadata": {
            "cveId": cve,
            "assignerOrgId": org,
            "state": "PUBLISHED",
            "datePublished": timestamp(published),
        },
        "containers": {"cna": cna},
    }))
}

/// A CVE short name: 2 to 32 characters of letters, digits, `_` and `-`.
fn short_name(name: &str) -> String {
    let s: String = name
        .chars()
        .filter_map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                Some(c)
            } else if c == ' ' {
                Some('_')
            } else {
                None
            }
        })
        .take(32)
        .collect();
    if s.len() < 2 { "embargo".into() } else { s }
}
