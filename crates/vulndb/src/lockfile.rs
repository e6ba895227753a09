//! The packages a project pins, read from its lockfiles: `Cargo.lock`,
//! `package-lock.json` / `npm-shrinkwrap.json` (lockfile versions 1 to 3)
//! and pinned `requirements*.txt`. The format is recognized from the file
//! name, then from the content; a malformed file is reported with the file,
//! the line or JSON path, and the problem.

use std::path::{Path, PathBuf};

use crate::version::Ecosystem;

/// The largest lockfile read.
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// A package at a pinned version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pinned {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: String,
    /// The file that pins it.
    pub file: PathBuf,
}

/// A lockfile that could not be read, or an entry that cannot be checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", location.as_ref().map(|l| format!(" ({l})")).unwrap_or_default())]
pub struct LockfileError {
    pub file: String,
    /// A line (`line 12`) or a JSON path (`packages."node_modules/x".version`).
    pub location: Option<String>,
    pub message: String,
}

fn error(file: &Path, location: Option<String>, message: impl Into<String>) -> LockfileError {
    LockfileError {
        file: file.display().to_string(),
        location,
        message: message.into(),
    }
}

/// The lockfile formats embargo reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    CargoLock,
    NpmLock,
    Requirements,
}

impl Format {
    /// The format a file name says, if any.
    #[must_use]
    pub fn from_name(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?;
        match name {
            "Cargo.lock" => Some(Format::CargoLock),
            "package-lock.json" | "npm-shrinkwrap.json" => Some(Format::NpmLock),
            n if n.starts_with("requirements") && n.ends_with(".txt") => Some(Format::Requirements),
            _ => None,
        }
    }

    /// The format the content shows, for files with other names.
    #[must_use]
    pub fn sniff(text: &str) -> Option<Format> {
        let head = text.trim_start();
        if head.starts_with('{') && text.contains("\"lockfileVersion\"") {
            Some(Format::NpmLock)
        } else if text.contains("[[package]]") && text.contains("\nversion = ") {
            Some(Format::CargoLock)
        } else {
            None
        }
    }
}

/// Finds the lockfiles under `paths` (files as given; directories searched
/// recursively, skipping `.git`, `target` and `node_modules`).
pub fn discover(paths: &[PathBuf]) -> Result<Vec<(PathBuf, Format)>, LockfileError> {
    let mut found = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| error(path, None, e.to_string()))?;
        if meta.is_file() {
            let format = match Format::from_name(path) {
                Some(f) => f,
                None => {
                    let text = read(path)?;
                    Format::sniff(&text).ok_or_else(|| {
                        error(
                            path,
                            None,
                            "not a lockfile embargo reads (Cargo.lock, package-lock.json, requirements.txt)",
                        )
                    })?
                }
            };
            found.push((path.clone(), format));
            continue;
        }
        let mut stack = vec![path.clone()];
        while let Some(dir) = stack.pop() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
                .map_err(|e| error(&dir, None, e.to_string()))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .collect();
            entries.sort();
            for p in entries {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                if p.is_dir() {
                    if !matches!(name, ".git" | "target" | "node_modules") {
                        stack.push(p);
                    }
                } else if let Some(format) = Format::from_name(&p) {
                    found.push((p, format));
                }
            }
        }
    }
    Ok(found)
}

fn read(path: &Path) -> Result<String, LockfileError> {
    let meta = std::fs::metadata(path).map_err(|e| error(path, None, e.to_string()))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(error(path, None, "larger than 64 MiB"));
    }
    std::fs::read_to_string(path).map_err(|e| error(path, None, e.to_string()))
}

/// Reads one lockfile. Entries that cannot be checked (an unpinned
/// requirement) come back as problems beside the packages.
pub fn read_lockfile(
    path: &Path,
    format: Format,
) -> Result<(Vec<Pinned>, Vec<LockfileError>), LockfileError> {
    let text = read(path)?;
    match format {
        Format::CargoLock => cargo_lock(path, &text).map(|p| (p, Vec::new())),
        Format::NpmLock => npm_lock(path, &text).map(|p| (p, Vec::new())),
        Format::Requirements => Ok(requirements(path, &text)),
    }
}

fn cargo_lock(path: &Path, text: &str) -> Result<Vec<Pinned>, LockfileError> {
    let doc: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let line = e.span().map(|s| {
            format!(
                "line {}",
                text[..s.start.min(text.len())].lines().count().max(1)
            )
        });
        error(path, line, e.message().to_owned())
    })?;
    let Some(packages) = doc.get("package") else {
        return Ok(Vec::new());
    };
    let packages = packages
        .as_array()
        .ok_or_else(|| error(path, Some("package".into()), "must be an array of tables"))?;
    let mut out = Vec::with_capacity(packages.len());
    for (i, p) in packages.iter().enumerate() {
        let field = |k: &str| {
            p.get(k).and_then(|v| v.as_str()).ok_or_else(|| {
                error(
                    path,
                    Some(format!("package[{i}].{k}")),
                    "missing or not a string",
                )
            })
        };
        let name = field("name")?;
        let version = field("version")?;
        // Path dependencies (the workspace's own crates) have no source.
        if p.get("source").is_none() {
            continue;
        }
        out.push(Pinned {
            ecosystem: Ecosystem::CratesIo,
            name: name.to_owned(),
            version: version.to_owned(),
            file: path.to_path_buf(),
        });
    }
    Ok(out)
}

fn npm_lock(path: &Path, text: &str) -> Result<Vec<Pinned>, LockfileError> {
    let doc: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| error(path, Some(format!("line {}", e.line())), e.to_string()))?;
    let mut out = Vec::new();
    let pin = |out: &mut Vec<Pinned>, name: &str, version: &str| {
        out.push(Pinned {
            ecosystem: Ecosystem::Npm,
            name: name.to_owned(),
            version: version.to_owned(),
            file: path.to_path_buf(),
        });
    };
    if let Some(packages) = doc.get("packages") {
        // Lockfile versions 2 and 3.
        let packages = packages
            .as_object()
            .ok_or_else(|| error(path, Some("packages".into()), "must be an object"))?;
        for (key, entry) in packages {
            if key.is_empty()
                || entry.get("link").and_then(serde_json::Value::as_bool) == Some(true)
            {
                continue;
            }
            let Some(version) = entry.get("version") else {
                continue;
            };
            let version = version.as_str().ok_or_else(|| {
                error(
                    path,
                    Some(format!("packages.\"{key}\".version")),
                    "must be a string",
                )
            })?;
            let name = entry
                .get("name")
                .and_then(|n| n.as_str())
                .or_else(|| key.rsplit("node_modules/").next())
                .unwrap_or(key);
            if !key.contains("node_modules/") {
                // A workspace member of the project itself.
                continue;
            }
            pin(&mut out, name, version);
        }
    } else if let Some(deps) = doc.get("dependencies") {
        // Lockfile version 1: nested dependencies.
        let mut stack = vec![("dependencies".to_owned(), deps)];
        while let Some((at, deps)) = stack.pop() {
            let deps = deps
                .as_object()
                .ok_or_else(|| error(path, Some(at.clone()), "must be an object"))?;
            for (name, entry) in deps {
                let here = format!("{at}.\"{name}\"");
                let version = entry
                    .get("version")
                    .and_then(|v| v.as_str())
                    .ok_or_else(|| {
                        error(
                            path,
                            Some(format!("{here}.version")),
                            "missing or not a string",
                        )
                    })?;
                // Bundled or linked (`file:`) packages are not from the registry.
                if !version.starts_with("file:") {
                    pin(&mut out, name, version);
                }
                if let Some(nested) = entry.get("dependencies") {
                    stack.push((format!("{here}.dependencies"), nested));
                }
            }
        }
    } else if doc.get("lockfileVersion").is_none() {
        return Err(error(
            path,
            None,
            "not a package-lock.json (no lockfileVersion)",
        ));
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn requirements(path: &Path, text: &str) -> (Vec<Pinned>, Vec<LockfileError>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    // Continuation lines join the next.
    let joined = text.replace("\\\n", " ");
    for (n, raw) in joined.lines().enumerate() {
        let line = raw.split(" #").next().unwrap_or_default();
        let line = line.split(';').next().unwrap_or_default().trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = Some(format!("line {}", n + 1));
        if line.starts_with('-') {
            // Options (-r, -c, --index-url, -e …) are not packages.
            if line.starts_with("-e") || line.starts_with("--editable") {
                problems.push(error(path, at, "an editable requirement cannot be checked"));
            }
            continue;
        }
        let spec = line.split_whitespace().next().unwrap_or_default();
        let (name, version) = match spec.split_once("===").or_else(|| spec.split_once("==")) {
            Some((n, v)) => (n, v),
            None => {
                problems.push(error(
                    path,
                    at,
                    format!("`{spec}` is not pinned with `==`; it cannot be checked"),
                ));
                continue;
            }
        };
        let name = name.split('[').next().unwrap_or(name).trim();
        let version = version.trim();
        if name.is_empty() || version.is_empty() || version.contains('*') {
            problems.push(error(
                path,
                at,
                format!("`{spec}` is not a pinned requirement"),
            ));
            continue;
        }
        out.push(Pinned {
            ecosystem: Ecosystem::PyPI,
            name: name.to_owned(),
            version: version.to_owned(),
            file: path.to_path_buf(),
        });
    }
    (out, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> PathBuf {
        PathBuf::from("fixture")
    }

    #[test]
    fn cargo_lock_skips_the_workspace_and_names_bad_lines() {
        let text = "version = 3\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n\n\
                    [[package]]\nname = \"smallvec\"\nversion = \"1.6.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n";
        let pins = cargo_lock(&p(), text).unwrap();
        assert_eq!(pins.len(), 1);
        assert_eq!(
            (pins[0].name.as_str(), pins[0].version.as_str()),
            ("smallvec", "1.6.0")
        );
        let err = cargo_lock(
            &p(),
            "[[package]]\nname = \"x\"\nversion = 3\nsource = \"s\"\n",
        )
        .unwrap_err();
        assert_eq!(err.location.as_deref(), Some("package[0].version"));
        let err = cargo_lock(&p(), "[[package]\nname=").unwrap_err();
        assert!(
            err.location.unwrap().starts_with("line "),
            "a line for syntax errors"
        );
    }

    #[test]
    fn npm_locks_of_every_version() {
        let v3 = r#"{"lockfileVersion": 3, "packages": {
            "": {"name": "app", "version": "1.0.0"},
            "node_modules/lodash": {"version": "4.17.20"},
            "node_modules/a/node_modules/@scope/b": {"version": "2.0.0"},
            "packages/local": {"version": "0.0.1"},
            "node_modules/linked": {"link": true, "resolved": "packages/local"}}}"#;
        let pins = npm_lock(&p(), v3).unwrap();
        let names: Vec<_> = pins
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        assert_eq!(names, [("@scope/b", "2.0.0"), ("lodash", "4.17.20")]);
        let v1 = r#"{"lockfileVersion": 1, "dependencies": {
            "minimist": {"version": "0.0.8", "dependencies": {"deep": {"version": "1.0.0"}}},
            "mine": {"version": "file:../mine"}}}"#;
        let pins = npm_lock(&p(), v1).unwrap();
        assert_eq!(pins.len(), 2);
        let bad = r#"{"lockfileVersion": 1, "dependencies": {"x": {"version": 3}}}"#;
        assert_eq!(
            npm_lock(&p(), bad).unwrap_err().location.as_deref(),
            Some("dependencies.\"x\".version")
        );
        assert!(
            npm_lock(&p(), "{\"lockfileVersion\": 2,")
                .unwrap_err()
                .to_string()
                .contains("line 1")
        );
    }

    #[test]
    fn requirements_take_pins_and_report_the_rest() {
        let text = "# comment\nDjango==3.2.0  # pinned\nrequests[socks]==2.19.0 ; python_version>'3'\n\
                    flask>=2\n-r other.txt\nnumpy===1.0 \\\n    --hash=sha256:abc\n";
        let (pins, problems) = requirements(&p(), text);
        let got: Vec<_> = pins
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("Django", "3.2.0"),
                ("requests", "2.19.0"),
                ("numpy", "1.0")
            ]
        );
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].location.as_deref(), Some("line 4"));
    }

    #[test]
    fn formats_are_recognized_by_name_then_content() {
        assert_eq!(
            Format::from_name(Path::new("a/Cargo.lock")),
            Some(Format::CargoLock)
        );
        assert_eq!(
            Format::from_name(Path::new("requirements-dev.txt")),
            Some(Format::Requirements)
        );
        assert_eq!(
            Format::sniff("{\n \"lockfileVersion\": 3}"),
            Some(Format::NpmLock)
        );
        assert_eq!(Format::sniff("hello"), None);
    }
}
