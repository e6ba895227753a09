//! Software bills of materials: CycloneDX 1.0 to 1.7 (JSON and XML) and
//! SPDX 2.2/2.3 (JSON); SPDX 3 (JSON-LD) is recognized and refused by name. A document is checked before it is read: the
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
/// versions it does not order), naming them.
#[derive(Debug, Default)]
pub struct Components {
    pub pinned: Vec<Pinned>,
    /// One note per reason, naming the components it applies to.
    pub unchecked: Vec<String>,
    /// The product the document describes (`metadata.component`) when it is
    /// not itself checked: its version is no real version of its ecosystem
    /// (cdxgen writes `latest`), or it has no package URL.
    pub product: Option<String>,
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
const SPEC_VERSIONS: [&str; 8] = ["1.0", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7"];
/// The keys of `metadata` in any version (its schema allows no others).
const METADATA_KEYS: [&str; 11] = [
    "timestamp",
    "lifecycles",
    "tools",
    "manufacturer",
    "authors",
    "component",
    "manufacture",
    "supplier",
    "licenses",
    "properties",
    "distributionConstraints",
];
/// The most components named in one "not checked" note.
const NAMED_PER_NOTE: usize = 50;

/// The checks shared by the JSON and XML readings; each failure is kept
/// with where it was found.
#[derive(Default)]
struct Checker {
    problems: Vec<String>,
    /// The specification's minor version (`1.7` → 7), once known: some
    /// constraints changed between versions.
    minor: u8,
    /// Every `bom-ref` met, with where: the specification requires them
    /// unique within a document.
    refs: std::collections::HashMap<String, String>,
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

    /// A reference to something in the document (a dependency's `ref`).
    fn reference(&mut self, at: &str, value: &str) {
        if value.is_empty() {
            self.fail(at, "a reference must not be empty");
        }
    }

    /// An identifier (`bom-ref`): not empty, and unique in the document.
    fn bom_ref(&mut self, at: &str, value: &str) {
        self.reference(at, value);
        if value.is_empty() {
            return;
        }
        if let Some(first) = self.refs.get(value) {
            let problem =
                format!("the bom-ref `{value}` is already used at {first}; each must be unique");
            self.fail(at, problem);
        } else {
            self.refs.insert(value.to_owned(), at.to_owned());
        }
    }

    /// CycloneDX 1.7: a component has a `version` or a `versionRange`, not
    /// both, and a range only when the component is external.
    fn version_range(&mut self, at: &str, version: bool, range: bool, external: bool) {
        if range && version {
            self.fail(
                at,
                "a component has a `version` or a `versionRange`, not both",
            );
        }
        if range && !external {
            self.fail(
                at,
                "a `versionRange` is only for a component with `isExternal` true",
            );
        }
    }

    /// CycloneDX 1.7 citations: exactly one of pointers and expressions, at
    /// least one of attributedTo and process.
    fn citation(&mut self, at: &str, has: impl Fn(&str) -> bool) {
        if has("pointers") == has("expressions") {
            self.fail(
                at,
                "a citation has exactly one of `pointers` and `expressions`",
            );
        }
        if !has("attributedTo") && !has("process") {
            self.fail(at, "a citation needs `attributedTo` or `process`");
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

    /// A licence choice: licences, or a single expression (before 1.7,
    /// which allows any mix).
    fn license_choice(&mut self, at: &str, licenses: usize, expressions: usize) {
        if self.minor < 7 && expressions > 0 && (expressions > 1 || licenses > 0) {
            self.fail(
                at,
                "either licences or one SPDX expression, not both nor several expressions",
            );
        }
    }
}

/// `1.7` → 7; anything else → 0 (the oldest rules).
fn minor_version(spec_version: &str) -> u8 {
    spec_version
        .strip_prefix("1.")
        .and_then(|m| m.parse().ok())
        .unwrap_or(0)
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

/// One component as the document lists it.
struct Listed {
    purl: Option<String>,
    version: Option<String>,
    /// `name@version`, to name it when it cannot be checked.
    label: String,
}

/// The components a reading collects, before they become pins. The
/// generator's own entries (`metadata.tools`) and the build's
/// (`formulation`) are checked for validity but never collected: they are
/// not part of the product.
#[derive(Default)]
struct Found {
    components: Vec<Listed>,
    /// `metadata.component`: the product the document describes.
    root: Option<Listed>,
}

impl Listed {
    /// The package a component names (ecosystem, name, version), or why
    /// it cannot be checked.
    fn package(&self) -> Result<(crate::version::Ecosystem, String, String), String> {
        let Some(text) = &self.purl else {
            return Err("have no package URL".into());
        };
        let Ok(purl) = Purl::parse(text) else {
            return Err("have a package URL that does not parse".into());
        };
        let Some((ecosystem, name)) = purl.ecosystem() else {
            return Err(format!(
                "are of purl type `{}`, which embargo does not check",
                purl.kind
            ));
        };
        match purl.version.clone().or_else(|| self.version.clone()) {
            Some(version) => Ok((ecosystem, name, version)),
            None => Err(format!("are `{}` packages without a version", purl.kind)),
        }
    }
}

impl Found {
    fn add(&mut self, root: bool, purl: Option<&str>, name: Option<&str>, version: Option<&str>) {
        let name = name.unwrap_or("(unnamed)");
        let listed = Listed {
            purl: purl.map(str::to_owned),
            version: version.map(str::to_owned),
            label: match version {
                Some(v) => format!("{name}@{v}"),
                None => name.to_owned(),
            },
        };
        if root {
            self.root = Some(listed);
        } else {
            self.components.push(listed);
        }
    }

    fn into_components(self, file: &Path) -> Components {
        let mut out = Components::default();
        // Why a component cannot be checked → the components, in order.
        let mut unchecked: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        // The product itself is checked like a dependency when its version
        // is a real one of its ecosystem (a published library's SBOM); a
        // placeholder (cdxgen's `latest`, `0.0.0-dev`…) is the product
        // being built, not a package anyone could have pinned.
        if let Some(root) = self.root {
            match root.package() {
                Ok((ecosystem, name, version)) if ecosystem.parse(&version).is_ok() => {
                    out.pinned.push(Pinned {
                        ecosystem,
                        name,
                        version,
                        file: file.to_path_buf(),
                    });
                }
                _ => out.product = Some(root.purl.unwrap_or(root.label)),
            }
        }
        for listed in self.components {
            match listed.package() {
                Ok((ecosystem, name, version)) => out.pinned.push(Pinned {
                    ecosystem,
                    name,
                    version,
                    file: file.to_path_buf(),
                }),
                Err(why) => {
                    // Named by its package URL, or by name when it has none.
                    let named = listed.purl.unwrap_or(listed.label);
                    unchecked.entry(why).or_default().push(named);
                }
            }
        }
        out.pinned.sort();
        out.pinned.dedup();
        for (why, mut names) in unchecked {
            let n = names.len();
            names.sort();
            names.dedup();
            let more = names.len().saturating_sub(NAMED_PER_NOTE);
            names.truncate(NAMED_PER_NOTE);
            let mut note = format!(
                "{n} component{} {why}, not checked: {}",
                if n == 1 { "" } else { "s" },
                names.join(", ")
            );
            if more > 0 {
                note.push_str(&format!(" and {more} more"));
            }
            out.unchecked.push(note);
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
        Some(v) => {
            check.one_of("specVersion", v, &SPEC_VERSIONS);
            check.minor = minor_version(v);
        }
        None => check.fail("specVersion", "missing"),
    }
    if let Some(s) = doc.get("serialNumber") {
        check.serial_number("serialNumber", s.as_str().unwrap_or(""));
    }
    if let Some(Value::Object(metadata)) = doc.get("metadata") {
        for key in metadata.keys() {
            if !METADATA_KEYS.contains(&key.as_str()) {
                check.fail(
                    &format!("metadata.{key}"),
                    "not a metadata field of CycloneDX",
                );
            }
        }
    }
    if let Some(Value::Array(citations)) = doc.get("citations") {
        for (i, c) in citations.iter().enumerate() {
            check.citation(&format!("citations[{i}]"), |k| c.get(k).is_some());
        }
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
                            json_component(check, found, &format!("{here}[{i}]"), c, false);
                        }
                    }
                    ("component", Value::Object(_)) if key == Some("metadata") => {
                        let here = path();
                        json_component(check, found, &here, child, true);
                    }
                    // The generator and the build are checked, not collected.
                    ("tools", _) if key == Some("metadata") => {
                        walk_json(check, &mut Found::default(), &path(), child, Some("tools"));
                    }
                    ("formulation", Value::Array(_)) if at.is_empty() => {
                        walk_json(
                            check,
                            &mut Found::default(),
                            &path(),
                            child,
                            Some("formulation"),
                        );
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
                                Some(r) => check.reference(&format!("{at}.ref"), r),
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
                ) || (matches!(k.as_str(), "component" | "tools")
                    && key == Some("metadata"))
                    || (k == "formulation" && at.is_empty());
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

fn json_component(check: &mut Checker, found: &mut Found, at: &str, c: &Value, root: bool) {
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
    let has = |k: &str| c.get(k).is_some();
    if has("versionRange") {
        let external = c.get("isExternal").and_then(Value::as_bool) == Some(true);
        check.version_range(at, has("version"), true, external);
    }
    found.add(
        root,
        str_of(c, "purl"),
        str_of(c, "name"),
        str_of(c, "version"),
    );
    walk_json(check, found, at, c, Some("component"));
}

fn json_licenses(check: &mut Checker, at: &str, items: &[Value]) {
    let mut licenses = 0;
    let mut expressions = 0;
    for (i, item) in items.iter().enumerate() {
        let here = format!("{at}[{i}]");
        if item.get("expression").is_some() {
            expressions += 1;
            if item.get("license").is_some() {
                check.fail(
                    &here,
                    "an entry is a `license` or an `expression`, not both",
                );
            }
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
    check.minor = minor_version(ns.rsplit('/').next().unwrap_or(""));
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
        let parent = node.tag_name().name();
        match name {
            _ if parent == "metadata" && !METADATA_KEYS.contains(&name) => {
                check.fail(&here, "not a metadata element of CycloneDX");
            }
            // The generator and the build are checked, not collected.
            "tools" if parent == "metadata" => {
                walk_xml(check, &mut Found::default(), el, &here, ns);
                continue;
            }
            "formulation" if parent == "bom" => {
                walk_xml(check, &mut Found::default(), el, &here, ns);
                continue;
            }
            "citation" => check.citation(&here, |k| children(el, k, ns).next().is_some()),
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
                let has = |k: &str| children(el, k, ns).next().is_some();
                if has("versionRange") {
                    let external = el.attribute("isExternal") == Some("true");
                    check.version_range(&here, has("version"), true, external);
                }
                found.add(
                    parent == "metadata",
                    child_text(el, "purl", ns),
                    child_text(el, "name", ns),
                    child_text(el, "version", ns),
                );
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
                Some(r) => check.reference(&format!("{here}/@ref"), r),
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
    // The package the document describes, when it names exactly one, is
    // the product (see `Found::root`).
    let mut described: Vec<&str> = doc
        .get("documentDescribes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let document_id = str_of(doc, "SPDXID").unwrap_or("SPDXRef-DOCUMENT");
    for r in doc
        .get("relationships")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if str_of(r, "relationshipType") == Some("DESCRIBES")
            && str_of(r, "spdxElementId") == Some(document_id)
            && let Some(target) = str_of(r, "relatedSpdxElement")
        {
            described.push(target);
        }
    }
    described.sort_unstable();
    described.dedup();
    let root_id = match described.as_slice() {
        [one] => Some(*one),
        _ => None,
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
        let root = root_id.is_some() && str_of(p, "SPDXID") == root_id;
        found.add(root, purl, str_of(p, "name"), str_of(p, "versionInfo"));
    }
    if check.problems.is_empty() {
        Ok(found.into_components(file))
    } else {
        Err(Invalid(check.problems))
    }
}

/// Whether a JSON document is SPDX 3 (JSON-LD with the SPDX 3 context).
fn is_spdx3(doc: &Value) -> bool {
    let names_spdx3 = |v: &Value| v.as_str().is_some_and(|c| c.contains("spdx.org/rdf/3"));
    match doc.get("@context") {
        Some(Value::Array(items)) => items.iter().any(names_spdx3),
        Some(v) => names_spdx3(v),
        None => false,
    }
}

/// Reads an SPDX 3 JSON-LD document: each `software_Package` of its graph,
/// named by its `software_packageUrl` (or a `packageUrl` external
/// identifier). The package a `software_Sbom` names as its root element is
/// the product.
pub fn spdx3_json(file: &Path, doc: &Value) -> Result<Components, Invalid> {
    let mut check = Checker::default();
    let mut found = Found::default();
    let graph = match doc.get("@graph") {
        Some(Value::Array(g)) => g.as_slice(),
        Some(_) => {
            check.fail("@graph", "must be an array");
            &[][..]
        }
        None => {
            check.fail(
                "@graph",
                "missing: an SPDX 3 document lists its elements there",
            );
            &[][..]
        }
    };
    fn kind(e: &Value) -> Option<&str> {
        str_of(e, "type").or_else(|| str_of(e, "@type"))
    }
    fn id(e: &Value) -> Option<&str> {
        str_of(e, "spdxId").or_else(|| str_of(e, "@id"))
    }
    let roots: Vec<&str> = graph
        .iter()
        .filter(|e| kind(e) == Some("software_Sbom"))
        .flat_map(|e| {
            e.get("rootElement")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
        })
        .collect();
    let mut seen = std::collections::HashMap::new();
    for (i, e) in graph.iter().enumerate() {
        let at = format!("@graph[{i}]");
        if kind(e).is_none() {
            check.fail(&at, "an element needs its `type`");
            continue;
        }
        if let Some(spdx_id) = id(e)
            && let Some(first) = seen.insert(spdx_id.to_owned(), at.clone())
        {
            check.fail(
                &at,
                format!("the spdxId `{spdx_id}` is already used at {first}"),
            );
        }
        if kind(e) != Some("software_Package") {
            continue;
        }
        let purl = str_of(e, "software_packageUrl").or_else(|| {
            e.get("externalIdentifier")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|x| str_of(x, "externalIdentifierType") == Some("packageUrl"))
                .and_then(|x| str_of(x, "identifier"))
        });
        let root = roots.len() == 1 && id(e) == roots.first().copied();
        found.add(
            root,
            purl,
            str_of(e, "name"),
            str_of(e, "software_packageVersion"),
        );
    }
    if check.problems.is_empty() {
        Ok(found.into_components(file))
    } else {
        Err(Invalid(check.problems))
    }
}

/// Reads a document of any of the SBOM formats, told apart by content. A
/// UTF-8 byte-order mark before it is allowed.
pub fn read(file: &Path, text: &str) -> Result<Components, LockfileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
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
    } else if is_spdx3(&doc) {
        spdx3_json(file, &doc).map_err(|e| LockfileError {
            file: file.display().to_string(),
            location: None,
            message: format!("not a valid SPDX 3 document: {e}"),
        })
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
