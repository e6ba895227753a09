//! Software bills of materials: CycloneDX 1.4 to 1.6 (JSON and XML) and
//! SPDX 2.3 (JSON). A document is checked before it is read: the
//! constraints of the CycloneDX schema on the parts of the model embargo
//! reads or that name things (format and version, serial number,
//! timestamps, component types and names, references, scopes, hashes,
//! licences with SPDX identifiers, SWID tags, properties, dependencies,
//! issue, patch and data-flow types) are enforced, and each violation is
//! reported with its JSON path or XML element. The components are then
//! read through their package URLs.

use std::path::Path;

use serde_json::Value;

use crate::pinned::{LockfileError, Pinned};
use crate::purl::Purl;

/// What a valid document yields: the components embargo can check, and one
/// note per kind of component it cannot (no purl, or a purl type whose
/// versions it does not order).
#[derive(Debug, Default)]
pub struct Components {
    pub pinned: Vec<Pinned>,
    pub unchecked: Vec<String>,
}

/// The violations found in a document, each `path: problem`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.join("; "))]
pub struct Invalid(pub Vec<String>);

const COMPONENT_TYPES: [&str; 13] = [
    "application",
    "framework",
    "library",
    "container",
    "platform",
    "operating-system",
    "device",
    "device-driver",
    "firmware",
    "file",
    "machine-learning-model",
    "data",
    "cryptographic-asset",
];
const SCOPES: [&str; 3] = ["required", "optional", "excluded"];
const HASH_ALGORITHMS: [&str; 12] = [
    "MD5",
    "SHA-1",
    "SHA-256",
    "SHA-384",
    "SHA-512",
    "SHA3-256",
    "SHA3-384",
    "SHA3-512",
    "BLAKE2b-256",
    "BLAKE2b-384",
    "BLAKE2b-512",
    "BLAKE3",
];
const ISSUE_TYPES: [&str; 3] = ["defect", "enhancement", "security"];
const PATCH_TYPES: [&str; 4] = ["unofficial", "monkey", "backport", "cherry-pick"];
const DATA_FLOWS: [&str; 4] = ["inbound", "outbound", "bi-directional", "unknown"];
const SPEC_VERSIONS: [&str; 7] = ["1.0", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6"];

/// The checks shared by the JSON and XML readings; each failure is kept
/// with where it was found.
#[derive(Default)]
struct Checker {
    problems: Vec<String>,
}

impl Checker {
    fn fail(&mut self, at: &str, problem: impl std::fmt::Display) {
        // Bounded: a hostile document could hold millions of violations.
        if self.problems.len() < 50 {
            self.problems.push(format!("{at}: {problem}"));
        }
    }

    fn one_of(&mut self, at: &str, value: &str, allowed: &[&str]) {
        if !allowed.contains(&value) {
            self.fail(
                at,
                format!("`{value}` is not one of {}", allowed.join(", ")),
            );
        }
    }

    fn serial_number(&mut self, at: &str, value: &str) {
        let uuid = value.strip_prefix("urn:uuid:").unwrap_or("");
        let groups: Vec<&str> = uuid.split('-').collect();
        let lens = [8, 4, 4, 4, 12];
        let ok = groups.len() == 5
            && groups
                .iter()
                .zip(lens)
                .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()));
        if !ok {
            self.fail(at, "must be urn:uuid: followed by a UUID");
        }
    }

    fn timestamp(&mut self, at: &str, value: &str) {
        if !is_date_time(value) {
            self.fail(
                at,
                format!("`{value}` is not an RFC 3339 date-time (2024-01-31T12:00:00Z)"),
            );
        }
    }

    fn bom_ref(&mut self, at: &str, value: &str) {
        if value.is_empty() {
            self.fail(at, "a reference must not be empty");
        }
    }

    fn hash(&mut self, at: &str, alg: Option<&str>, content: Option<&str>) {
        match alg {
            Some(alg) => self.one_of(&format!("{at}.alg"), alg, &HASH_ALGORITHMS),
            None => self.fail(at, "a hash needs its algorithm"),
        }
        match content {
            Some(c)
                if [32, 40, 64, 96, 128].contains(&c.len())
                    && c.bytes().all(|b| b.is_ascii_hexdigit()) => {}
            Some(c) => self.fail(
                &format!("{at}.content"),
                format!(
                    "`{}` is not a hexadecimal digest",
                    c.chars().take(40).collect::<String>()
                ),
            ),
            None => self.fail(at, "a hash needs its content"),
        }
    }

    /// A licence: exactly one of an SPDX id or a name.
    fn license(&mut self, at: &str, ids: &[&str], names: &[&str], encoding: Option<&str>) {
        match (ids.len(), names.len()) {
            (1, 0) => {
                if spdx::license_id(ids[0]).is_none() {
                    self.fail(
                        &format!("{at}.id"),
                        format!("`{}` is not an SPDX licence identifier", ids[0]),
                    );
                }
            }
            (0, 1) => {}
            (0, 0) => self.fail(at, "a licence needs an SPDX id or a name"),
            _ => self.fail(at, "a licence has exactly one id or one name"),
        }
        if let Some(e) = encoding {
            self.one_of(&format!("{at}.text.encoding"), e, &["base64"]);
        }
    }

    /// A licence choice: licences, or a single expression.
    fn license_choice(&mut self, at: &str, licenses: usize, expressions: usize) {
        if expressions > 0 && (expressions > 1 || licenses > 0) {
            self.fail(
                at,
                "either licences or one SPDX expression, not both nor several expressions",
            );
        }
    }
}

/// RFC 3339 date-time: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
fn is_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b.get(r.clone())
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    if b.len() < 20
        || !digits(0..4)
        || b[4] != b'-'
        || !digits(5..7)
        || b[7] != b'-'
        || !digits(8..10)
        || !matches!(b[10], b'T' | b't')
        || !digits(11..13)
        || b[13] != b':'
        || !digits(14..16)
        || b[16] != b':'
        || !digits(17..19)
    {
        return false;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    match rest.as_bytes() {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|d| d.is_ascii_digit()),
        _ => false,
    }
}

/// The components a reading collects, before they become pins.
#[derive(Default)]
struct Found {
    /// (purl text, component version, where)
    purls: Vec<(String, Option<String>)>,
    without_purl: usize,
}

impl Found {
    fn into_components(self, file: &Path) -> Components {
        let mut out = Components::default();
        let mut unsupported: std::collections::BTreeMap<String, usize> = Default::default();
        let mut invalid = 0usize;
        for (text, version) in self.purls {
            let Ok(purl) = Purl::parse(&text) else {
                invalid += 1;
                continue;
            };
            let Some((ecosystem, name)) = purl.ecosystem() else {
                *unsupported.entry(purl.kind.clone()).or_default() += 1;
                continue;
            };
            let Some(version) = purl.version.clone().or(version) else {
                *unsupported
                    .entry(format!("{} without a version", purl.kind))
                    .or_default() += 1;
                continue;
            };
            out.pinned.push(Pinned {
                ecosystem,
                name,
                version,
                file: file.to_path_buf(),
            });
        }
        out.pinned.sort();
        out.pinned.dedup();
        for (kind, n) in unsupported {
            out.unchecked.push(format!(
                "{n} component(s) of purl type `{kind}` cannot be checked"
            ));
        }
        if invalid > 0 {
            out.unchecked.push(format!(
                "{invalid} component(s) have a package URL that does not parse"
            ));
        }
        if self.without_purl > 0 {
            out.unchecked.push(format!(
                "{} component(s) have no package URL and cannot be checked",
                self.without_purl
            ));
        }
        out
    }
}

// ---------------------------------------------------------------- JSON

/// Reads a CycloneDX JSON document.
pub fn cyclonedx_json(file: &Path, doc: &Value) -> Result<Components, Invalid> {
    let mut check = Checker::default();
    let mut found = Found::default();
    match doc.get("bomFormat").and_then(Value::as_str) {
        Some("CycloneDX") => {}
        Some(other) => check.fail("bomFormat", format!("`{other}` is not CycloneDX")),
        None => check.fail("bomFormat", "missing"),
    }
    match doc.get("specVersion").and_then(Value::as_str) {
        Some(v) => check.one_of("specVersion", v, &SPEC_VERSIONS),
        None => check.fail("specVersion", "missing"),
    }
    if let Some(s) = doc.get("serialNumber") {
        check.serial_number("serialNumber", s.as_str().unwrap_or(""));
    }
    walk_json(&mut check, &mut found, "", doc, None);
    if check.problems.is_empty() {
        Ok(found.into_components(file))
    } else {
        Err(Invalid(check.problems))
    }
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn walk_json(check: &mut Checker, found: &mut Found, at: &str, v: &Value, key: Option<&str>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                // Scalars matter only under the keys matched below; the path
                // is spelled out only where it is used.
                if !child.is_object()
                    && !child.is_array()
                    && !matches!(k.as_str(), "bom-ref" | "timestamp")
                {
                    continue;
                }
                let path = || {
                    if at.is_empty() {
                        k.clone()
                    } else {
                        format!("{at}.{k}")
                    }
                };
                match (k.as_str(), child) {
                    (
                        "components" | "ancestors" | "descendants" | "variants",
                        Value::Array(items),
                    ) => {
                        let here = path();
                        for (i, c) in items.iter().enumerate() {
                            json_component(check, found, &format!("{here}[{i}]"), c);
                        }
                    }
                    ("component", Value::Object(_)) if key == Some("metadata") => {
                        let here = path();
                        json_component(check, found, &here, child);
                    }
                    ("licenses", Value::Array(items)) => json_licenses(check, &path(), items),
                    ("hashes", Value::Array(items)) => {
                        let here = path();
                        for (i, h) in items.iter().enumerate() {
                            check.hash(
                                &format!("{here}[{i}]"),
                                str_of(h, "alg"),
                                str_of(h, "content"),
                            );
                        }
                    }
                    ("properties", Value::Array(items)) => {
                        let here = path();
                        for (i, p) in items.iter().enumerate() {
                            let at = format!("{here}[{i}]");
                            if str_of(p, "name").is_none() {
                                check.fail(&at, "a property needs a name");
                            }
                            if let Some(extra) = p
                                .as_object()
                                .and_then(|m| m.keys().find(|k| *k != "name" && *k != "value"))
                            {
                                check.fail(&at, format!("unexpected key `{extra}`"));
                            }
                        }
                    }
                    ("dependencies", Value::Array(items)) if at.is_empty() => {
                        let here = path();
                        for (i, d) in items.iter().enumerate() {
                            let at = format!("{here}[{i}]");
                            match str_of(d, "ref") {
                                Some(r) => check.bom_ref(&format!("{at}.ref"), r),
                                None => check.fail(&at, "a dependency needs its `ref`"),
                            }
                        }
                    }
                    ("bom-ref", Value::String(r)) => check.bom_ref(&path(), r),
                    ("timestamp", Value::String(t)) => check.timestamp(&path(), t),
                    ("swid", Value::Object(_)) => {
                        let here = path();
                        for field in ["tagId", "name"] {
                            if str_of(child, field).is_none() {
                                check.fail(&here, format!("a SWID tag needs `{field}`"));
                            }
                        }
                    }
                    ("resolves", Value::Array(items)) => {
                        let here = path();
                        for (i, issue) in items.iter().enumerate() {
                            match str_of(issue, "type") {
                                Some(t) => {
                                    check.one_of(&format!("{here}[{i}].type"), t, &ISSUE_TYPES)
                                }
                                None => {
                                    check.fail(&format!("{here}[{i}]"), "an issue needs its type")
                                }
                            }
                        }
                    }
                    ("patches", Value::Array(items)) => {
                        let here = path();
                        for (i, patch) in items.iter().enumerate() {
                            match str_of(patch, "type") {
                                Some(t) => {
                                    check.one_of(&format!("{here}[{i}].type"), t, &PATCH_TYPES)
                                }
                                None => {
                                    check.fail(&format!("{here}[{i}]"), "a patch needs its type")
                                }
                            }
                        }
                    }
                    ("data", Value::Array(items)) if key == Some("services") => {
                        let here = path();
                        for (i, d) in items.iter().enumerate() {
                            if let Some(flow) = str_of(d, "flow") {
                                check.one_of(&format!("{here}[{i}].flow"), flow, &DATA_FLOWS);
                            }
                        }
                    }
                    _ => {}
                }
                let recurse_key = if k == "services" {
                    Some("services")
                } else {
                    Some(k.as_str())
                };
                // Components were walked by json_component, which recurses.
                let walked_as_component = matches!(
                    k.as_str(),
                    "components" | "ancestors" | "descendants" | "variants"
                ) || (k == "component" && key == Some("metadata"));
                if !walked_as_component {
                    walk_json(check, found, &path(), child, recurse_key);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if item.is_object() || item.is_array() {
                    walk_json(check, found, &format!("{at}[{i}]"), item, key);
                }
            }
        }
        _ => {}
    }
}

fn json_component(check: &mut Checker, found: &mut Found, at: &str, c: &Value) {
    if !c.is_object() {
        check.fail(at, "a component must be an object");
        return;
    }
    // The paths are spelled out only for a violation: this runs for each
    // of tens of thousands of components.
    match str_of(c, "type") {
        Some(t) if !COMPONENT_TYPES.contains(&t) => {
            check.one_of(&format!("{at}.type"), t, &COMPONENT_TYPES);
        }
        Some(_) => {}
        None => check.fail(at, "a component needs its `type`"),
    }
    if str_of(c, "name").is_none() {
        check.fail(at, "a component needs its `name`");
    }
    if let Some(scope) = str_of(c, "scope")
        && !SCOPES.contains(&scope)
    {
        check.one_of(&format!("{at}.scope"), scope, &SCOPES);
    }
    match str_of(c, "purl") {
        Some(p) => found
            .purls
            .push((p.to_owned(), str_of(c, "version").map(str::to_owned))),
        None => found.without_purl += 1,
    }
    walk_json(check, found, at, c, Some("component"));
}

fn json_licenses(check: &mut Checker, at: &str, items: &[Value]) {
    let mut licenses = 0;
    let mut expressions = 0;
    for (i, item) in items.iter().enumerate() {
        let here = format!("{at}[{i}]");
        if item.get("expression").is_some() {
            expressions += 1;
        }
        if let Some(l) = item.get("license") {
            licenses += 1;
            let ids: Vec<&str> = str_of(l, "id").into_iter().collect();
            let names: Vec<&str> = str_of(l, "name").into_iter().collect();
            let encoding = l.get("text").and_then(|t| str_of(t, "encoding"));
            check.license(&format!("{here}.license"), &ids, &names, encoding);
        }
    }
    check.license_choice(at, licenses, expressions);
}

// ---------------------------------------------------------------- XML

/// Reads a CycloneDX XML document.
pub fn cyclonedx_xml(file: &Path, text: &str) -> Result<Components, Invalid> {
    let doc = roxmltree::Document::parse_with_options(
        text,
        roxmltree::ParsingOptions {
            allow_dtd: false,
            nodes_limit: 5_000_000,
            ..roxmltree::ParsingOptions::default()
        },
    )
    .map_err(|e| Invalid(vec![format!("XML: {e}")]))?;
    let root = doc.root_element();
    let mut check = Checker::default();
    let mut found = Found::default();
    if root.tag_name().name() != "bom" {
        check.fail("/", "the root element must be <bom>");
    }
    let ns = root.tag_name().namespace().unwrap_or("");
    let known = SPEC_VERSIONS
        .iter()
        .any(|v| ns == format!("http://cyclonedx.org/schema/bom/{v}"));
    if !known {
        check.fail(
            "/bom",
            format!("`{ns}` is not a CycloneDX namespace (http://cyclonedx.org/schema/bom/1.6)"),
        );
    }
    if let Some(s) = root.attribute("serialNumber") {
        check.serial_number("/bom/@serialNumber", s);
    }
    walk_xml(&mut check, &mut found, root, "/bom", ns);
    if check.problems.is_empty() {
        Ok(found.into_components(file))
    } else {
        Err(Invalid(check.problems))
    }
}

fn children<'a, 'i>(
    node: roxmltree::Node<'a, 'i>,
    name: &'a str,
    ns: &'a str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> + 'a {
    node.children().filter(move |c| {
        c.is_element() && c.tag_name().name() == name && c.tag_name().namespace() == Some(ns)
    })
}

fn child_text<'a>(node: roxmltree::Node<'a, '_>, name: &str, ns: &str) -> Option<&'a str> {
    node.children()
        .find(|c| {
            c.is_element() && c.tag_name().name() == name && c.tag_name().namespace() == Some(ns)
        })
        .map(|c| c.text().unwrap_or("").trim())
}

fn walk_xml(
    check: &mut Checker,
    found: &mut Found,
    node: roxmltree::Node<'_, '_>,
    at: &str,
    ns: &str,
) {
    // XPath positions count the siblings of the same name.
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for el in node.children().filter(roxmltree::Node::is_element) {
        // Elements of other namespaces (extensions, signatures) are not ours.
        if el.tag_name().namespace() != Some(ns) {
            continue;
        }
        let name = el.tag_name().name();
        let position = seen.entry(name).or_default();
        *position += 1;
        let here = format!("{at}/{name}[{position}]");
        match name {
            "component" => {
                match el.attribute("type") {
                    Some(t) => check.one_of(&format!("{here}/@type"), t, &COMPONENT_TYPES),
                    None => check.fail(&here, "a component needs its type attribute"),
                }
                if children(el, "name", ns).count() != 1 {
                    check.fail(&here, "a component needs one <name>");
                }
                if let Some(scope) = child_text(el, "scope", ns) {
                    check.one_of(&format!("{here}/scope"), scope, &SCOPES);
                }
                match child_text(el, "purl", ns) {
                    Some(p) => found.purls.push((
                        p.to_owned(),
                        child_text(el, "version", ns).map(str::to_owned),
                    )),
                    None => found.without_purl += 1,
                }
            }
            "hash" => check.hash(&here, el.attribute("alg"), el.text().map(str::trim)),
            "licenses" => {
                let licenses = children(el, "license", ns).count();
                let expressions = children(el, "expression", ns).count();
                check.license_choice(&here, licenses, expressions);
            }
            "license" => {
                let ids: Vec<&str> = children(el, "id", ns)
                    .map(|c| c.text().unwrap_or("").trim())
                    .collect();
                let names: Vec<&str> = children(el, "name", ns)
                    .map(|c| c.text().unwrap_or("").trim())
                    .collect();
                let encoding = children(el, "text", ns)
                    .next()
                    .and_then(|t| t.attribute("encoding"));
                check.license(&here, &ids, &names, encoding);
            }
            "swid" => {
                for field in ["tagId", "name"] {
                    if el.attribute(field).is_none() {
                        check.fail(&here, format!("a SWID tag needs `{field}`"));
                    }
                }
            }
            "dependency" => match el.attribute("ref") {
                Some(r) => check.bom_ref(&format!("{here}/@ref"), r),
                None => check.fail(&here, "a dependency needs its ref attribute"),
            },
            "property" if el.attribute("name").is_none() => {
                check.fail(&here, "a property needs a name attribute");
            }
            "issue" => match el.attribute("type") {
                Some(t) => check.one_of(&format!("{here}/@type"), t, &ISSUE_TYPES),
                None => check.fail(&here, "an issue needs its type attribute"),
            },
            "patch" => match el.attribute("type") {
                Some(t) => check.one_of(&format!("{here}/@type"), t, &PATCH_TYPES),
                None => check.fail(&here, "a patch needs its type attribute"),
            },
            "timestamp" => check.timestamp(&here, el.text().unwrap_or("").trim()),
            "classification" => {
                if let Some(flow) = el.attribute("flow") {
                    check.one_of(&format!("{here}/@flow"), flow, &DATA_FLOWS);
                }
            }
            _ => {}
        }
        if let Some(r) = el.attribute("bom-ref") {
            check.bom_ref(&format!("{here}/@bom-ref"), r);
        }
        walk_xml(check, found, el, &here, ns);
    }
}

// ---------------------------------------------------------------- SPDX

/// Reads an SPDX 2.x JSON document: each package's `purl` external
/// reference names what it is.
pub fn spdx_json(file: &Path, doc: &Value) -> Result<Components, Invalid> {
    let mut check = Checker::default();
    let mut found = Found::default();
    match str_of(doc, "spdxVersion") {
        Some("SPDX-2.2" | "SPDX-2.3") => {}
        Some(other) => check.fail(
            "spdxVersion",
            format!("`{other}` is not SPDX-2.2 or SPDX-2.3"),
        ),
        None => check.fail("spdxVersion", "missing"),
    }
    for field in ["SPDXID", "name", "dataLicense"] {
        if str_of(doc, field).is_none() {
            check.fail(field, "missing");
        }
    }
    if let Some(created) = doc.get("creationInfo").and_then(|c| str_of(c, "created")) {
        check.timestamp("creationInfo.created", created);
    }
    let packages = match doc.get("packages") {
        None => &[][..],
        Some(Value::Array(p)) => p.as_slice(),
        Some(_) => {
            check.fail("packages", "must be an array");
            &[][..]
        }
    };
    for (i, p) in packages.iter().enumerate() {
        let at = format!("packages[{i}]");
        for field in ["SPDXID", "name"] {
            if str_of(p, field).is_none() {
                check.fail(&at, format!("a package needs `{field}`"));
            }
        }
        let purl = p
            .get("externalRefs")
            .and_then(Value::as_array)
            .and_then(|refs| {
                refs.iter().find(|r| {
                    str_of(r, "referenceType") == Some("purl")
                        && matches!(
                            str_of(r, "referenceCategory"),
                            Some("PACKAGE-MANAGER" | "PACKAGE_MANAGER")
                        )
                })
            })
            .and_then(|r| str_of(r, "referenceLocator"));
        match purl {
            Some(purl) => found
                .purls
                .push((purl.to_owned(), str_of(p, "versionInfo").map(str::to_owned))),
            None => found.without_purl += 1,
        }
    }
    if check.problems.is_empty() {
        Ok(found.into_components(file))
    } else {
        Err(Invalid(check.problems))
    }
}

/// Reads a document of any of the SBOM formats, told apart by content.
pub fn read(file: &Path, text: &str) -> Result<Components, LockfileError> {
    let invalid = |e: Invalid| LockfileError {
        file: file.display().to_string(),
        location: None,
        message: format!("not a valid SBOM: {e}"),
    };
    if text.trim_start().starts_with('<') {
        return cyclonedx_xml(file, text).map_err(invalid);
    }
    let doc: Value = serde_json::from_str(text).map_err(|e| LockfileError {
        file: file.display().to_string(),
        location: Some(format!("line {}", e.line())),
        message: e.to_string(),
    })?;
    if doc.get("spdxVersion").is_some() {
        spdx_json(file, &doc).map_err(invalid)
    } else {
        cyclonedx_json(file, &doc).map_err(invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_times() {
        assert!(is_date_time("2020-04-13T20:20:39+00:00"));
        assert!(is_date_time("2020-04-13T20:20:39.123Z"));
        assert!(!is_date_time("2020-04-13"));
        assert!(!is_date_time("2020-04-13T20:20:39"));
    }
}
