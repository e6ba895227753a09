//! SBOM inputs: the CycloneDX 1.6 conformance suite
//! (`../shared/data/conformance/cyclonedx-1.6`, read when present: every
//! valid JSON and XML document is read, every invalid one refused with a
//! message) and fixtures of each format.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use embargo_vulndb::sbom;
use embargo_vulndb::version::Ecosystem;

#[test]
fn the_cyclonedx_1_6_conformance_suite() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/conformance/cyclonedx-1.6");
    if !root.exists() {
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
        if name.starts_with("valid-") {
            valid += 1;
            if let Err(e) = result {
                wrong.push(format!("{name}: refused: {e}"));
            }
        } else {
            invalid += 1;
            match result {
                Ok(_) => wrong.push(format!("{name}: accepted")),
                Err(e) => assert!(e.message.contains(": "), "{name}: a message says why: {e}"),
            }
        }
    }
    assert!(
        valid > 80 && invalid > 50,
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
    assert!(c.unchecked[0].contains("`rpm`"));
    assert!(c.unchecked[1].contains("no package URL"));
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
