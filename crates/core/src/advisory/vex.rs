//! VEX statements of a published advisory: OpenVEX 0.2.0 and CycloneDX 1.6.
//! Each affected range is `affected` with the action to take; each fixed
//! version is `fixed`.

use serde_json::{Value, json};

use super::{Advisory, Publisher, timestamp};

/// What a VEX statement names: one version of the product, or a range.
enum Versions<'a> {
    Exactly(&'a str),
    Range(&'a super::VersionRange),
}

/// A product id for VEX, an IRI: the package URL at a version, or with a
/// `vers` qualifier for a range (`pkg:cargo/foo?vers=vers:cargo%2F%3E%3D…`),
/// written by the package URL's own canonical form; otherwise a URN naming
/// vendor, product and version or range.
fn product_id(p: &super::AffectedProduct, versions: Versions<'_>) -> String {
    // An advisory's purl was checked when it was saved.
    let purl = p
        .purl
        .as_deref()
        .and_then(|purl| embargo_spec::purl::Purl::parse(purl).ok());
    match (purl, versions) {
        (Some(mut purl), Versions::Exactly(v)) => {
            purl.version = Some(v.to_owned());
            purl.to_string()
        }
        (Some(mut purl), Versions::Range(r)) => {
            let vers = r.vers(&purl.kind);
            purl.qualifiers.insert("vers".into(), vers);
            purl.to_string()
        }
        (None, versions) => {
            let part = |s: &str| -> String {
                s.chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect()
            };
            let version = match versions {
                Versions::Exactly(v) => part(v),
                Versions::Range(r) => part(&r.describe()),
            };
            format!(
                "urn:embargo:product:{}:{}:{version}",
                part(&p.vendor),
                part(&p.product),
            )
        }
    }
}

fn action(a: &Advisory, fixed: Option<&str>) -> String {
    let mut text = match fixed {
        Some(f) => format!("Update to {f} or later."),
        None => "No fixed version is available yet.".to_owned(),
    };
    for w in &a.workarounds {
        text.push_str(" Workaround: ");
        text.push_str(w);
    }
    text
}

/// OpenVEX 0.2.0.
#[must_use]
pub fn openvex(a: &Advisory, publisher: &Publisher, uuid: &str) -> Option<Value> {
    let published = a.published?;
    let vulnerability = {
        let mut v = json!({"name": a.cve.clone().unwrap_or_else(|| a.id.clone()), "description": a.summary});
        if a.cve.is_some() {
            v["aliases"] = json!([a.id]);
        }
        v
    };
    let mut statements = Vec::new();
    for p in &a.affected {
        for r in &p.ranges {
            statements.push(json!({
                "vulnerability": vulnerability,
                "products": [{"@id": product_id(p, Versions::Range(r))}],
                "status": "affected",
                "action_statement": action(a, r.fixed.as_deref()),
            }));
            if let Some(f) = &r.fixed {
                statements.push(json!({
                    "vulnerability": vulnerability,
                    "products": [{"@id": product_id(p, Versions::Exactly(f))}],
                    "status": "fixed",
                }));
            }
        }
    }
    Some(json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": format!("urn:uuid:{uuid}"),
        "author": publisher.name,
        "role": "vendor",
        "timestamp": timestamp(a.modified().unwrap_or(published)),
        "version": a.revisions.len().max(1),
        "statements": statements,
    }))
}

/// CycloneDX 1.6 with a `vulnerabilities` section.
#[must_use]
pub fn cyclonedx(a: &Advisory, publisher: &Publisher, uuid: &str) -> Option<Value> {
    let published = a.published?;
    let mut components = Vec::new();
    let mut affects = Vec::new();
    for (i, p) in a.affected.iter().enumerate() {
        for (j, r) in p.ranges.iter().enumerate() {
            let reference = format!("product-{}-{}", i + 1, j + 1);
            let mut component = json!({"type": "application", "bom-ref": reference, "name": p.product, "publisher": p.vendor});
            if let Some(purl) = &p.purl {
                component["purl"] = json!(purl);
            }
            components.push(component);
            let mut range = json!({"status": "affected", "range": format!("vers:generic/{}", r.describe().replace(", ", "|").replace(' ', ""))});
            if r.introduced.is_none() && r.fixed.is_none() && r.last_affected.is_none() {
                range["range"] = json!("vers:generic/*");
            }
            let mut versions = vec![range];
            if let Some(f) = &r.fixed {
                versions.push(json!({"version": f, "status": "unaffected"}));
            }
            affects.push(json!({"ref": reference, "versions": versions}));
        }
    }
    let mut vulnerability = json!({
        "bom-ref": format!("advisory-{}", a.id),
        "id": a.cve.clone().unwrap_or_else(|| a.id.clone()),
        "source": {"name": publisher.name, "url": format!("{}/advisories/{}", publisher.base_url.trim_end_matches('/'), a.id)},
        "description": a.summary,
        "detail": a.description,
        "published": timestamp(published),
        "updated": timestamp(a.modified().unwrap_or(published)),
        "affects": affects,
        "analysis": {"state": "exploitable", "response": ["update"], "detail": action(a, None)},
    });
    if a.affected
        .iter()
        .all(|p| p.ranges.iter().all(|r| r.fixed.is_some()))
    {
        vulnerability["analysis"]["detail"] = json!("Fixed versions are available: update.");
    }
    if !a.workarounds.is_empty() {
        vulnerability["analysis"]["response"] = json!(["update", "workaround_available"]);
        vulnerability["workaround"] = json!(a.workarounds.join("\n\n"));
    }
    if let Some(n) = a.cwe.as_deref().and_then(super::cwe::parse) {
        vulnerability["cwes"] = json!([n]);
    }
    if let Some(score) = a.score() {
        let method = match score.version {
            "4.0" => "CVSSv4",
            "3.0" => "CVSSv3",
            _ => "CVSSv31",
        };
        vulnerability["ratings"] = json!([{"score": score.score, "severity": score.severity.as_str(), "method": method, "vector": score.vector}]);
    }
    if !a.credits.is_empty() {
        vulnerability["credits"] = json!({"individuals": a.credits.iter().map(|c| json!({"name": c.name})).collect::<Vec<_>>()});
    }
    Some(json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:{uuid}"),
        "version": a.revisions.len().max(1),
        "metadata": {"timestamp": timestamp(a.modified().unwrap_or(published)), "supplier": {"name": publisher.name}},
        "components": components,
        "vulnerabilities": [vulnerability],
    }))
}
