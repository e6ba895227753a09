//! The evidence bundle of a case (`embargo cra export`): what the
//! organization knew when, and what it sent, in a form a market-surveillance
//! authority can check offline (`embargo cra verify`).
//!
//! The bundle is a zip archive of plain files, stored uncompressed so that
//! each can be read as it is: `manifest.json` lists every other file with
//! its SHA-256 and size; `manifest.json.asc` is the organization's OpenPGP
//! signature over the manifest, and `signing-key.asc` the public key it was
//! made with (compare its fingerprint with the key the organization
//! publishes). `events.json` holds the case's events with the fields of the
//! store's hash chain, so each event's hash is recomputed; the packs, the
//! advisory documents and the evidence files follow.
//!
//! Verification names what does not fit: a file whose bytes changed, a file
//! missing or added, a manifest not signed by the key, an event whose hash
//! does not match its contents.

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::chain::{Link, hex};
use crate::signing::SigningKey;

/// The bundle format name and version.
pub const FORMAT: &str = "embargo-cra-bundle/1";
/// The largest bundle `verify` reads, and the largest file in it.
pub const MAX_BUNDLE_BYTES: u64 = 1024 * 1024 * 1024;
/// The most files a bundle holds.
const MAX_FILES: usize = 10_000;

/// One file of the bundle, as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// What the bundle says it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub case: String,
    pub exported_at: String,
    /// The software that wrote it.
    pub exporter: String,
    /// The fingerprint of the key that signed the manifest.
    pub signing_key: String,
    pub files: Vec<ManifestEntry>,
}

/// An event as `events.json` carries it: the event in full (what the team
/// and the reporter wrote included) and the fields the store's hash chain
/// covers, so that its hash can be recomputed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainedEvent {
    pub seq: i64,
    pub case_ref: String,
    pub at_millis: i64,
    pub actor: String,
    pub kind: String,
    /// The public part of the event, exactly as stored (JSON text).
    pub payload: String,
    pub has_sealed: bool,
    pub prev_hash: String,
    pub hash: String,
    /// The whole event, its confidential fields included.
    pub event: crate::Event,
}

impl ChainedEvent {
    fn link(&self) -> Link<'_> {
        Link {
            seq: self.seq,
            case_ref: &self.case_ref,
            at_millis: self.at_millis,
            actor: &self.actor,
            kind: &self.kind,
            payload: &self.payload,
            has_sealed: self.has_sealed,
            prev_hash: &self.prev_hash,
        }
    }
}

fn sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Writes a bundle of `files` (path, bytes) for case `case`, signed with `key`.
pub fn build(
    case: &str,
    exported_at: crate::Instant,
    files: &[(String, Vec<u8>)],
    key: &SigningKey,
) -> Result<Vec<u8>, String> {
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        case: case.to_owned(),
        exported_at: exported_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        exporter: concat!("embargo ", env!("CARGO_PKG_VERSION")).to_owned(),
        signing_key: key.fingerprint(),
        files: files
            .iter()
            .map(|(path, bytes)| ManifestEntry {
                path: path.clone(),
                sha256: sha256(bytes),
                bytes: bytes.len() as u64,
            })
            .collect(),
    };
    let manifest_text = serde_json::to_vec_pretty(&manifest).map_err(|e| e.to_string())?;
    let signature = key.sign(&manifest_text)?;
    let public = key.public_armored()?;
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(zip::DateTime::default());
    let mut add = |path: &str, bytes: &[u8]| -> Result<(), String> {
        zip.start_file(path, options).map_err(|e| e.to_string())?;
        zip.write_all(bytes).map_err(|e| e.to_string())
    };
    add("manifest.json", &manifest_text)?;
    add("manifest.json.asc", signature.as_bytes())?;
    add("signing-key.asc", public.as_bytes())?;
    for (path, bytes) in files {
        add(path, bytes)?;
    }
    Ok(zip.finish().map_err(|e| e.to_string())?.into_inner())
}

/// What a bundle that verifies holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub manifest: Manifest,
    /// Events whose hashes were recomputed.
    pub events: usize,
}

/// The names of the files of a bundle that are not listed in its manifest.
const UNLISTED: [&str; 3] = ["manifest.json", "manifest.json.asc", "signing-key.asc"];

/// Checks a bundle offline; the error names the first thing that does not fit.
pub fn verify(bundle: &[u8]) -> Result<Verified, String> {
    if bundle.len() as u64 > MAX_BUNDLE_BYTES {
        return Err(format!("larger than {MAX_BUNDLE_BYTES} bytes"));
    }
    let mut zip = zip::ZipArchive::new(Cursor::new(bundle))
        .map_err(|e| format!("not a readable bundle (the archive's structure is damaged: {e})"))?;
    if zip.len() > MAX_FILES {
        return Err(format!("more than {MAX_FILES} files"));
    }
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|e| format!("file {i} of the archive is damaged: {e}"))?;
        let name = entry.name().to_owned();
        if entry.size() > MAX_BUNDLE_BYTES {
            return Err(format!("{name}: larger than {MAX_BUNDLE_BYTES} bytes"));
        }
        let mut bytes = Vec::new();
        // A changed byte fails the archive's own checksum first: say which file.
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| format!("{name} changed: its bytes no longer match ({e})"))?;
        if files.insert(name.clone(), bytes).is_some() {
            return Err(format!("{name} appears twice"));
        }
    }
    let take = |files: &BTreeMap<String, Vec<u8>>, name: &str| {
        files
            .get(name)
            .cloned()
            .ok_or_else(|| format!("{name} is missing: not an embargo evidence bundle"))
    };
    let manifest_bytes = take(&files, "manifest.json")?;
    let signature = take(&files, "manifest.json.asc")?;
    let key = take(&files, "signing-key.asc")?;
    let fingerprint = crate::signing::verify_detached(
        &String::from_utf8_lossy(&key),
        &String::from_utf8_lossy(&signature),
        &manifest_bytes,
    )
    .map_err(|e| format!("manifest.json changed, or was not signed by signing-key.asc: {e}"))?;
    let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
        .map_err(|e| format!("manifest.json is not a manifest: {e}"))?;
    if manifest.format != FORMAT {
        return Err(format!(
            "manifest.json: format `{}`, this embargo reads `{FORMAT}`",
            manifest.format
        ));
    }
    if manifest.signing_key != fingerprint {
        return Err(format!(
            "manifest.json names key {} but was signed by {fingerprint}",
            manifest.signing_key
        ));
    }
    for entry in &manifest.files {
        let Some(bytes) = files.get(&entry.path) else {
            return Err(format!("{} is missing", entry.path));
        };
        if bytes.len() as u64 != entry.bytes || sha256(bytes) != entry.sha256 {
            return Err(format!(
                "{} changed: its SHA-256 is {}, the signed manifest says {}",
                entry.path,
                sha256(bytes),
                entry.sha256
            ));
        }
    }
    if let Some(extra) = files.keys().find(|name| {
        !UNLISTED.contains(&name.as_str()) && !manifest.files.iter().any(|e| e.path == **name)
    }) {
        return Err(format!(
            "{extra} was added: the signed manifest does not list it"
        ));
    }
    let events: Vec<ChainedEvent> = serde_json::from_slice(&take(&files, "events.json")?)
        .map_err(|e| format!("events.json is not a list of events: {e}"))?;
    let mut last = i64::MIN;
    for e in &events {
        if e.case_ref != manifest.case {
            return Err(format!(
                "event {} belongs to {}, not {}",
                e.seq, e.case_ref, manifest.case
            ));
        }
        if e.seq <= last {
            return Err(format!("event {} is out of order", e.seq));
        }
        last = e.seq;
        if e.link().hash() != e.hash {
            return Err(format!(
                "event {} ({}) has been edited: its hash does not match its contents",
                e.seq, e.kind
            ));
        }
        if e.event.seq != e.seq || e.event.kind.name() != e.kind {
            return Err(format!(
                "event {}: its full form does not match its chained form",
                e.seq
            ));
        }
    }
    Ok(Verified {
        events: events.len(),
        manifest,
    })
}

/// A file name safe inside the bundle: letters, digits, `.`, `-` and `_`
/// only (a directory separator, a control or bidirectional character
/// becomes `_`).
#[must_use]
pub fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    let trimmed = cleaned.trim_start_matches('.');
    if trimmed.is_empty() {
        "file".to_owned()
    } else {
        trimmed.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z")
            .unwrap()
            .to_utc();
        SigningKey::generate("Example <security@example.org>", now).unwrap()
    }

    /// The bundle's files, re-zipped with `change` applied: a forger who
    /// writes a valid archive around edited contents.
    fn rezip(
        bundle: &[u8],
        change: impl Fn(&str, Vec<u8>) -> Option<Vec<u8>>,
        add: Option<(&str, &[u8])>,
    ) -> Vec<u8> {
        let mut zip = zip::ZipArchive::new(Cursor::new(bundle)).unwrap();
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for i in 0..zip.len() {
            let mut f = zip.by_index(i).unwrap();
            let name = f.name().to_owned();
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes).unwrap();
            if let Some(bytes) = change(&name, bytes) {
                out.start_file(name, options).unwrap();
                out.write_all(&bytes).unwrap();
            }
        }
        if let Some((name, bytes)) = add {
            out.start_file(name, options).unwrap();
            out.write_all(bytes).unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    #[test]
    fn a_bundle_verifies_and_a_forged_file_missing_file_or_added_file_is_named() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-01T09:00:00Z")
            .unwrap()
            .to_utc();
        let files = vec![
            ("events.json".to_owned(), b"[]".to_vec()),
            (
                "evidence/a-log.txt".to_owned(),
                b"GET /export?id=1' OR 1=1".to_vec(),
            ),
        ];
        let bundle = build("EMB-2026-0001", now, &files, &key()).unwrap();
        let ok = verify(&bundle).unwrap();
        assert_eq!((ok.manifest.case.as_str(), ok.events), ("EMB-2026-0001", 0));

        let forged = rezip(
            &bundle,
            |n, b| {
                Some(if n == "evidence/a-log.txt" {
                    b"edited".to_vec()
                } else {
                    b
                })
            },
            None,
        );
        let err = verify(&forged).unwrap_err();
        assert!(
            err.starts_with("evidence/a-log.txt changed: its SHA-256"),
            "{err}"
        );

        let missing = rezip(
            &bundle,
            |n, b| (n != "evidence/a-log.txt").then_some(b),
            None,
        );
        assert_eq!(
            verify(&missing).unwrap_err(),
            "evidence/a-log.txt is missing"
        );

        let added = rezip(&bundle, |_, b| Some(b), Some(("evidence/b.txt", b"x")));
        assert!(
            verify(&added)
                .unwrap_err()
                .starts_with("evidence/b.txt was added")
        );

        // Another key's signature over an edited manifest does not pass as ours.
        let other = key();
        let resigned = rezip(
            &bundle,
            |n, b| match n {
                "manifest.json.asc" => Some(other.sign(b"something else").unwrap().into_bytes()),
                _ => Some(b),
            },
            None,
        );
        assert!(
            verify(&resigned)
                .unwrap_err()
                .starts_with("manifest.json changed")
        );
        assert!(
            verify(b"not a zip")
                .unwrap_err()
                .starts_with("not a readable bundle")
        );
    }

    #[test]
    fn file_names_are_made_safe() {
        assert_eq!(safe_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_name("invoice\u{202e}fdp.html"), "invoice_fdp.html");
        assert_eq!(safe_name(""), "file");
    }
}
