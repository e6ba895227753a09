//! SBOM inputs: the CycloneDX 1.6 conformance suite
//! (`../shared/data/conformance/cyclonedx-1.6`, read when present: every
//! valid JSON and XML document is read, every invalid one refused with a
//! message) and fixtures of each format.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use embargo_vulndb::sbom;
use embargo_vulndb::version::Ecosystem;

/// "Valid" documents of the suites that break a rule of the specification
/// its schema cannot express, and the refusal they get.
const UPSTREAM_DEFECTS: [(&str, &str); 1] = [(
    // "Every bom-ref MUST be unique within the BOM": the formula and its
    // workflow share `workflow-1`.
    "valid-citations-1.7.json",
    "the bom-ref `workflow-1` is already used at formulation[0].bom-ref",
)];

/// Every valid document of a version's suite is read, every invalid one
/// refused with a message saying where and why.
fn conformance_suite(version: &str, least_valid: usize, least_invalid: usize) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!(
        "../../../shared/data/conformance/cyclonedx-{version}"
    ));
    if !root.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{} is absent, and CI must not pass by skipping",
            root.display()
        );
        eprintln!("skipped: {} is absent", root.display());
        return;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json" || e == "xml"))
        .collect();
    files.sort();
    let mut wrong = Vec::new();
    let (mut valid, mut invalid) = (0, 0);
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(file).unwrap();
        let result = sbom::read(file, &text);
        if let Some((_, defect)) = UPSTREAM_DEFECTS.iter().find(|(n, _)| *n == name) {
            match result {
                Err(e) if e.message.contains(defect) => {}
                other => wrong.push(format!(
                    "{name}: expected refusal for `{defect}`: {other:?}"
                )),
            }
        } else if name.starts_with("valid-") {
            valid += 1;
            if let Err(e) = result {
                wrong.push(format!("{name}: refused: {e}"));
            }
        } else if name.starts_with("invalid-") {
            invalid += 1;
            match result {
                Ok(_) => wrong.push(format!("{name}: accepted")),
                Err(e) => assert!(e.message.contains(": "), "{name}: a message says why: {e}"),
            }
        }
    }
    assert!(
        valid >= least_valid && invalid >= least_invalid,
        "{valid} valid, {invalid} invalid"
    );
    assert!(
        wrong.is_empty(),
        "{} of {} wrong:\n{}",
        wrong.len(),
        files.len(),
        wrong.join("\n")
    );
}

#[test]
fn the_cyclonedx_1_6_conformance_suite() {
    conformance_suite("1.6", 80, 50);
}

#[test]
fn the_cyclonedx_1_7_conformance_suite() {
    conformance_suite("1.7", 90, 50);
}

const CDX_JSON: &str = r#"{
  "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
  "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
  "metadata": {"timestamp": "2024-05-01T10:00:00Z",
    "component": {"type": "application", "name": "shop", "purl": "pkg:npm/shop@1.0.0"}},
  "components": [
    {"type": "library", "name": "lodash", "version": "4.17.20", "purl": "pkg:npm/lodash@4.17.20",
     "components": [{"type": "library", "name": "serde", "purl": "pkg:cargo/serde@1.0.0"}]},
    {"type": "library", "name": "log4j-core", "purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"},
    {"type": "library", "name": "openssl", "purl": "pkg:rpm/fedora/openssl@3.0"},
    {"type": "file", "name": "README"}
  ]
}"#;

#[test]
fn cyclonedx_json_components_become_packages() {
    let c = sbom::read(Path::new("bom.json"), CDX_JSON).unwrap();
    let got: Vec<(Ecosystem, &str, &str)> = c
        .pinned
        .iter()
        .map(|p| (p.ecosystem, p.name.as_str(), p.version.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (Ecosystem::CratesIo, "serde", "1.0.0"),
            (Ecosystem::Npm, "lodash", "4.17.20"),
            (Ecosystem::Npm, "shop", "1.0.0"),
            (
                Ecosystem::Maven,
                "org.apache.logging.log4j:log4j-core",
                "2.14.1"
            ),
        ]
    );
    assert_eq!(c.unchecked.len(), 2, "{:?}", c.unchecked);
    assert_eq!(
        c.unchecked[0],
        "1 component are of purl type `rpm`, which embargo does not check, not checked: pkg:rpm/fedora/openssl@3.0"
    );
    assert_eq!(
        c.unchecked[1],
        "1 component have no package URL, not checked: README"
    );
}

#[test]
fn cyclonedx_xml_and_spdx_are_read() {
    let xml = r#"<?xml version="1.0"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.4" version="1">
  <components>
    <component type="library"><name>lodash</name><version>4.17.20</version>
      <purl>pkg:npm/lodash@4.17.20</purl></component>
    <component type="library"><name>django</name><purl>pkg:pypi/Django@3.2.0</purl></component>
  </components>
</bom>"#;
    let c = sbom::read(Path::new("bom.xml"), xml).unwrap();
    assert_eq!(c.pinned.len(), 2);
    assert_eq!(c.pinned[1].name, "django");
    let spdx = r#"{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "x",
      "dataLicense": "CC0-1.0", "creationInfo": {"created": "2024-01-01T00:00:00Z", "creators": ["Tool: x"]},
      "packages": [{"SPDXID": "SPDXRef-1", "name": "requests", "versionInfo": "2.19.0",
        "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                          "referenceLocator": "pkg:pypi/requests@2.19.0"}]}]}"#;
    let c = sbom::read(Path::new("sbom.spdx.json"), spdx).unwrap();
    assert_eq!(c.pinned[0].ecosystem, Ecosystem::PyPI);
    assert_eq!(c.pinned[0].version, "2.19.0");
}

#[test]
fn invalid_documents_name_the_place_and_the_problem() {
    let bad = CDX_JSON.replace("\"type\": \"file\"", "\"type\": \"folder\"");
    let e = sbom::read(Path::new("bom.json"), &bad).unwrap_err();
    assert!(e.message.contains("components[3].type"), "{e}");
    assert!(e.message.contains("`folder` is not one of"), "{e}");
    let e = sbom::read(Path::new("bom.xml"), "<bom xmlns='urn:x'><").unwrap_err();
    assert!(e.message.contains("XML"), "{e}");
    let e = sbom::read(Path::new("bom.json"), "{\"bomFormat\": 1").unwrap_err();
    assert_eq!(e.location.as_deref(), Some("line 1"));
    let spdx = r#"{"spdxVersion": "SPDX-2.3", "SPDXID": "d", "name": "x", "dataLicense": "CC0-1.0",
      "packages": [{"name": "a"}]}"#;
    let e = sbom::read(Path::new("s.json"), spdx).unwrap_err();
    assert!(
        e.message.contains("packages[0]: a package needs `SPDXID`"),
        "{e}"
    );
}

/// (name, version) of each package a document yields, in order.
fn packages(c: &sbom::Components) -> Vec<(&str, &str)> {
    c.pinned
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str()))
        .collect()
}

/// A CycloneDX 1.6 document as cyclonedx-py writes it: the generator's own
/// entries under `metadata.tools`, some without a purl.
const WITH_TOOLS: &str = r#"{
  "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
  "metadata": {
    "tools": {"components": [
      {"type": "application", "name": "cyclonedx-py", "version": "5.1.1"},
      {"type": "library", "name": "cyclonedx-python-lib", "version": "8.0.0"},
      {"type": "application", "name": "pip", "version": "23.0.1", "purl": "pkg:pypi/pip@23.0.1"}
    ]},
    "component": {"type": "application", "name": "shop", "version": "latest", "purl": "pkg:npm/shop@latest"}
  },
  "components": [
    {"type": "library", "name": "django", "version": "3.2.0", "purl": "pkg:pypi/django@3.2.0", "bom-ref": "django"}
  ],
  "formulation": [{"bom-ref": "build", "components": [
    {"type": "application", "name": "cdxgen", "purl": "pkg:npm/%40cyclonedx/cdxgen@12.8.4"}]}]
}"#;

#[test]
fn the_generator_and_the_build_are_not_the_product() {
    let c = sbom::read(Path::new("bom.json"), WITH_TOOLS).unwrap();
    let got = packages(&c);
    assert_eq!(
        got,
        [("django", "3.2.0")],
        "no pip, no cdxgen, no placeholder product"
    );
    assert!(
        c.unchecked.is_empty(),
        "tools without a purl are no unchecked components: {:?}",
        c.unchecked
    );
    assert_eq!(c.product.as_deref(), Some("pkg:npm/shop@latest"));
    // The same in XML, 1.7.
    let xml = r#"<?xml version="1.0"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.7" version="1">
  <metadata>
    <tools><components>
      <component type="application"><name>sbom4python</name><version>0.12.0</version></component>
      <component type="library"><name>pip</name><purl>pkg:pypi/pip@23.0.1</purl></component>
    </components></tools>
    <component type="library"><name>requests</name><version>2.19.0</version><purl>pkg:pypi/requests@2.19.0</purl></component>
  </metadata>
  <components>
    <component type="library"><name>urllib3</name><purl>pkg:pypi/urllib3@1.26.2</purl></component>
  </components>
</bom>"#;
    let c = sbom::read(Path::new("bom.xml"), xml).unwrap();
    let got = packages(&c);
    assert_eq!(
        got,
        [("requests", "2.19.0"), ("urllib3", "1.26.2")],
        "a product with a real version is checked like a dependency"
    );
    assert!(
        c.unchecked.is_empty() && c.product.is_none(),
        "{:?}",
        c.unchecked
    );
}

#[test]
fn duplicate_bom_refs_are_refused_with_both_places() {
    let doc = WITH_TOOLS.replace(r#""bom-ref": "build""#, r#""bom-ref": "django""#);
    let e = sbom::read(Path::new("bom.json"), &doc).unwrap_err();
    assert!(
        e.message.contains(
            "formulation[0].bom-ref: the bom-ref `django` is already used at components[0].bom-ref"
        ),
        "{e}"
    );
}

#[test]
fn cyclonedx_1_7_reads_as_its_1_6_twin() {
    let v17 = WITH_TOOLS.replace("\"1.6\"", "\"1.7\"");
    let a = sbom::read(Path::new("bom.json"), WITH_TOOLS).unwrap();
    let b = sbom::read(Path::new("bom.json"), &v17).unwrap();
    assert_eq!(a.pinned, b.pinned);
    let e = sbom::read(
        Path::new("bom.json"),
        &WITH_TOOLS.replace("\"1.6\"", "\"1.8\""),
    )
    .unwrap_err();
    assert!(
        e.message.contains("specVersion: `1.8` is not one of"),
        "{e}"
    );
}

#[test]
fn spdx_3_json_ld_is_read_through_its_package_urls() {
    let doc = r#"{
      "@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld",
      "@graph": [
        {"type": "CreationInfo", "@id": "_:creationinfo", "specVersion": "3.0.1", "created": "2025-01-01T00:00:00Z"},
        {"type": "SpdxDocument", "spdxId": "urn:x:doc", "rootElement": ["urn:x:sbom"]},
        {"type": "software_Sbom", "spdxId": "urn:x:sbom", "rootElement": ["urn:x:app"]},
        {"type": "software_Package", "spdxId": "urn:x:app", "name": "app", "software_packageVersion": "0.0.0-dev",
         "software_packageUrl": "pkg:pypi/app@0.0.0-dev"},
        {"type": "software_Package", "spdxId": "urn:x:jinja2", "name": "jinja2", "software_packageVersion": "2.10",
         "externalIdentifier": [{"type": "ExternalIdentifier", "externalIdentifierType": "packageUrl", "identifier": "pkg:pypi/jinja2@2.10"}]},
        {"type": "software_Package", "spdxId": "urn:x:blob", "name": "blob"}
      ]
    }"#;
    let c = sbom::read(Path::new("sbom.spdx3.json"), doc).unwrap();
    let got = packages(&c);
    assert_eq!(got, [("app", "0.0.0-dev"), ("jinja2", "2.10")]);
    assert_eq!(
        c.unchecked,
        ["1 component have no package URL, not checked: blob"]
    );
    let e = sbom::read(
        Path::new("sbom.json"),
        r#"{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"}"#,
    )
    .unwrap_err();
    assert!(
        e.message
            .contains("not a valid SPDX 3 document: @graph: missing"),
        "{e}"
    );
}

/// cyclonedx-py's own output (fixtures/cyclonedx-py): CycloneDX 1.7, JSON and
/// XML, gives the same packages as its 1.6 twin, the same findings against
/// the real PyPI feed, and no unchecked component for the generator's entries.
#[test]
fn a_real_generators_cyclonedx_1_7_matches_like_its_1_6_twin() {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cyclonedx-py");
    let read = |name: &str| {
        let path = fixtures.join(name);
        sbom::read(&path, &std::fs::read_to_string(&path).unwrap()).unwrap()
    };
    let v16 = read("req-1.6.cdx.json");
    let v17 = read("req-1.7.cdx.json");
    let v17_xml = read("req-1.7.cdx.xml");
    assert_eq!(packages(&v16).len(), 5, "{:?}", packages(&v16));
    assert_eq!(packages(&v16), packages(&v17));
    assert_eq!(packages(&v17), packages(&v17_xml));
    for c in [&v16, &v17, &v17_xml] {
        assert!(c.unchecked.is_empty(), "{:?}", c.unchecked);
    }
    let zip =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/osv/PyPI/all.zip");
    if !zip.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{} is absent",
            zip.display()
        );
        eprintln!("skipped the matching: {} is absent", zip.display());
        return;
    }
    let (db, _) =
        embargo_vulndb::db::Database::build(embargo_vulndb::db::read_source(&zip).unwrap());
    let findings = |c: &sbom::Components| -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = c
            .pinned
            .iter()
            .flat_map(|p| {
                db.matches(p.ecosystem, &p.name, &p.version)
                    .unwrap()
                    .into_iter()
                    .map(|m| (p.name.clone(), m.advisory.id.clone()))
            })
            .collect();
        out.sort();
        out
    };
    let expected = findings(&v16);
    assert!(expected.len() > 10, "{expected:?}");
    assert_eq!(findings(&v17), expected);
    assert_eq!(findings(&v17_xml), expected);
}
