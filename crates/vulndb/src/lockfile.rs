//! The packages a project pins, read from its lockfiles and SBOMs:
//! `Cargo.lock`; `package-lock.json` / `npm-shrinkwrap.json` (lockfile
//! versions 1 to 3), `yarn.lock` (v1 and Berry) and `pnpm-lock.yaml` (v5 to
//! v9); pinned `requirements*.txt`, `poetry.lock`, `Pipfile.lock` and
//! `uv.lock`; `go.mod` (or `go.sum` alone); `composer.lock`; `Gemfile.lock`;
//! NuGet's `packages.lock.json`; and CycloneDX / SPDX documents (see
//! [`crate::sbom`]). The format is recognized from the file name, then from
//! the content; a malformed file is reported with the file, the line or JSON
//! path, and the problem.

use std::path::{Path, PathBuf};

use crate::version::Ecosystem;

/// The largest lockfile read.
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

pub use crate::pinned::{LockfileError, Pinned, ReadOptions, Reading};

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
    YarnLock,
    PnpmLock,
    Requirements,
    PoetryLock,
    PipfileLock,
    UvLock,
    GoMod,
    GoSum,
    ComposerLock,
    GemfileLock,
    NugetLock,
    /// CycloneDX (JSON or XML) or SPDX JSON.
    Sbom,
}

impl Format {
    /// The format a file name says, if any.
    #[must_use]
    pub fn from_name(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?;
        match name {
            "Cargo.lock" => Some(Format::CargoLock),
            "package-lock.json" | "npm-shrinkwrap.json" => Some(Format::NpmLock),
            "yarn.lock" => Some(Format::YarnLock),
            "pnpm-lock.yaml" => Some(Format::PnpmLock),
            "poetry.lock" => Some(Format::PoetryLock),
            "Pipfile.lock" => Some(Format::PipfileLock),
            "uv.lock" => Some(Format::UvLock),
            "go.mod" => Some(Format::GoMod),
            "go.sum" => Some(Format::GoSum),
            "composer.lock" => Some(Format::ComposerLock),
            "Gemfile.lock" | "gems.locked" => Some(Format::GemfileLock),
            "packages.lock.json" => Some(Format::NugetLock),
            "bom.json" | "bom.xml" => Some(Format::Sbom),
            n if n.ends_with(".cdx.json")
                || n.ends_with(".cdx.xml")
                || n.ends_with(".spdx.json") =>
            {
                Some(Format::Sbom)
            }
            n if n.starts_with("requirements") && n.ends_with(".txt") => Some(Format::Requirements),
            _ => None,
        }
    }

    /// The format the content shows, for files with other names.
    #[must_use]
    pub fn sniff(text: &str) -> Option<Format> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let head = text.trim_start();
        let json = head.starts_with('{');
        let json_sbom = json
            && (text.contains("\"bomFormat\"")
                || text.contains("\"spdxVersion\"")
                || text.contains("spdx.org/rdf/3"));
        let xml_sbom = head.starts_with('<') && text.contains("cyclonedx.org/schema/bom");
        if json_sbom || xml_sbom {
            Some(Format::Sbom)
        } else if json && text.contains("\"lockfileVersion\"") {
            Some(Format::NpmLock)
        } else if json && text.contains("\"_meta\"") && text.contains("\"default\"") {
            Some(Format::PipfileLock)
        } else if json && text.contains("\"content-hash\"") && text.contains("\"packages\"") {
            Some(Format::ComposerLock)
        } else if head.starts_with("# yarn lockfile v1") || is_berry(text) {
            Some(Format::YarnLock)
        } else if head.starts_with("lockfileVersion:") {
            Some(Format::PnpmLock)
        } else if text.contains("\nGEM\n") || head.starts_with("GEM\n") {
            Some(Format::GemfileLock)
        } else if head.starts_with("module ") {
            Some(Format::GoMod)
        } else if text.contains("[[package]]") && text.contains("\nversion = ") {
            if text.contains("[metadata]") && text.contains("content-hash") {
                Some(Format::PoetryLock)
            } else if text.contains("requires-python") {
                Some(Format::UvLock)
            } else {
                Some(Format::CargoLock)
            }
        } else if looks_like_requirements(text) {
            Some(Format::Requirements)
        } else {
            None
        }
    }
}

/// A file or directory a directory scan passed over, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
    /// Whether it may hold packages that went unchecked (a file too large
    /// or unreadable), which makes the scan incomplete; a file that is
    /// simply no lockfile does not.
    pub incomplete: bool,
}

/// What a search for lockfiles found, and what it passed over.
#[derive(Debug, Default)]
pub struct Discovery {
    pub found: Vec<(PathBuf, Format)>,
    pub skipped: Vec<Skipped>,
}

/// Directories never searched: version control, build output, installed
/// packages (what they hold is what the lockfiles already pin).
const SKIPPED_DIRECTORIES: [(&str, &str); 6] = [
    (".git", "version control"),
    (".hg", "version control"),
    ("target", "build output"),
    ("node_modules", "installed packages; the lockfile pins them"),
    (".venv", "installed packages; the lockfile pins them"),
    ("__pycache__", "build output"),
];

/// Extensions of files that may hold a lockfile or an SBOM under any name,
/// read and recognized by content (as are files without an extension).
const TEXT_EXTENSIONS: [&str; 13] = [
    "json", "jsonld", "xml", "txt", "in", "lock", "toml", "yaml", "yml", "mod", "sum", "cdx",
    "spdx",
];

/// Finds the lockfiles under `paths`: files as given (recognized by name,
/// else by content); directories searched recursively, every file that may
/// be one recognized by name or content, whatever it is called. Version
/// control, build output and installed packages are passed over, and said.
pub fn discover(paths: &[PathBuf]) -> Result<Discovery, LockfileError> {
    let mut out = Discovery::default();
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
                            "neither a lockfile nor an SBOM embargo reads (see `embargo scan --help`)",
                        )
                    })?
                }
            };
            out.found.push((path.clone(), format));
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
            // Depth first, in name order.
            let mut subdirectories = Vec::new();
            for p in entries {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                if p.is_dir() {
                    match SKIPPED_DIRECTORIES.iter().find(|(d, _)| *d == name) {
                        Some((_, why)) => out.skipped.push(Skipped {
                            path: p.clone(),
                            reason: format!("directory not searched: {why}"),
                            incomplete: false,
                        }),
                        None => subdirectories.push(p),
                    }
                    continue;
                }
                if !p.is_file() {
                    continue;
                }
                if let Some(format) = Format::from_name(&p) {
                    // go.sum lists what go.mod's graph may need; go.mod says
                    // what is used, so go.sum is read only alone.
                    if format == Format::GoSum && p.with_file_name("go.mod").exists() {
                        continue;
                    }
                    out.found.push((p, format));
                    continue;
                }
                let extension = p.extension().and_then(|e| e.to_str());
                let may_be_one = extension
                    .is_none_or(|e| TEXT_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
                if !may_be_one {
                    continue;
                }
                match read(&p) {
                    Ok(text) => match Format::sniff(&text) {
                        Some(format) => out.found.push((p, format)),
                        None => out.skipped.push(Skipped {
                            path: p,
                            reason: "not a lockfile or SBOM embargo reads".into(),
                            incomplete: false,
                        }),
                    },
                    Err(e) => {
                        // A binary file without an extension is no lockfile;
                        // a `.json` that cannot be read may be one.
                        let incomplete = extension.is_some() || e.message != "not UTF-8 text";
                        out.skipped.push(Skipped {
                            path: p,
                            reason: e.message,
                            incomplete,
                        });
                    }
                }
            }
            stack.extend(subdirectories.into_iter().rev());
        }
    }
    Ok(out)
}

fn read(path: &Path) -> Result<String, LockfileError> {
    let meta = std::fs::metadata(path).map_err(|e| error(path, None, e.to_string()))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(error(path, None, "larger than 64 MiB"));
    }
    let text = std::fs::read_to_string(path).map_err(|e| {
        error(
            path,
            None,
            if e.kind() == std::io::ErrorKind::InvalidData {
                "not UTF-8 text".to_owned()
            } else {
                e.to_string()
            },
        )
    })?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    })
}

/// Reads one lockfile. Entries that cannot be checked (an unpinned
/// requirement) come back as problems beside the packages; pinned
/// requirements files follow their `-r`/`-c` includes.
pub fn read_lockfile(
    path: &Path,
    format: Format,
    options: ReadOptions,
) -> Result<Reading, LockfileError> {
    let text = read(path)?;
    if format == Format::Requirements {
        let mut reading = Reading::default();
        let mut visited = vec![std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())];
        requirements(path, &text, Some(&mut visited), &mut reading);
        return Ok(reading);
    }
    parse(path, format, &text, options)
}

/// Reads a lockfile or SBOM given as text (an upload), its format told by
/// `name` or else by its content. `path` names it in errors. Includes of a
/// requirements file cannot be followed here: each is a problem.
pub fn read_text(path: &Path, text: &str, options: ReadOptions) -> Result<Reading, LockfileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let format = Format::from_name(path)
        .or_else(|| Format::sniff(text))
        .ok_or_else(|| {
            error(
                path,
                None,
                "neither a lockfile nor an SBOM embargo reads (see `embargo scan --help`)",
            )
        })?;
    parse(path, format, text, options)
}

fn parse(
    path: &Path,
    format: Format,
    text: &str,
    options: ReadOptions,
) -> Result<Reading, LockfileError> {
    let alone = |r: Result<Vec<Pinned>, LockfileError>| {
        r.map(|pinned| Reading {
            pinned,
            ..Reading::default()
        })
    };
    match format {
        Format::CargoLock => cargo_lock(path, text, options),
        Format::NpmLock => alone(npm_lock(path, text)),
        Format::YarnLock => alone(yarn_lock(path, text)),
        Format::PnpmLock => alone(pnpm_lock(path, text)),
        Format::Requirements => {
            let mut reading = Reading::default();
            requirements(path, text, None, &mut reading);
            Ok(reading)
        }
        Format::PoetryLock | Format::UvLock => alone(toml_packages(path, text, format)),
        Format::PipfileLock => alone(pipfile_lock(path, text)),
        Format::GoMod => {
            let (pinned, problems) = go_mod(path, text);
            Ok(Reading {
                pinned,
                problems,
                ..Reading::default()
            })
        }
        Format::GoSum => alone(go_sum(path, text)),
        Format::ComposerLock => alone(composer_lock(path, text)),
        Format::GemfileLock => alone(gemfile_lock(path, text)),
        Format::NugetLock => alone(nuget_lock(path, text)),
        Format::Sbom => {
            let c = crate::sbom::read(path, text)?;
            let file = path.display();
            Ok(Reading {
                pinned: c.pinned,
                problems: Vec::new(),
                unchecked: c
                    .unchecked
                    .into_iter()
                    .map(|m| format!("{file}: {m}"))
                    .collect(),
                local: c
                    .product
                    .into_iter()
                    .map(|p| format!("{file}: the product it describes, {p}"))
                    .collect(),
            })
        }
    }
}

fn pinned(path: &Path, ecosystem: Ecosystem, name: &str, version: &str) -> Pinned {
    Pinned {
        ecosystem,
        name: name.to_owned(),
        version: version.to_owned(),
        file: path.to_path_buf(),
    }
}

fn parse_toml(path: &Path, text: &str) -> Result<toml::Table, LockfileError> {
    text.parse().map_err(|e: toml::de::Error| {
        let line = e.span().map(|s| {
            format!(
                "line {}",
                text[..s.start.min(text.len())].lines().count().max(1)
            )
        });
        error(path, line, e.message().to_owned())
    })
}

fn parse_json(path: &Path, text: &str) -> Result<serde_json::Value, LockfileError> {
    serde_json::from_str(text)
        .map_err(|e| error(path, Some(format!("line {}", e.line())), e.to_string()))
}

/// Cargo.lock: packages from a registry. The workspace's own crates and
/// path dependencies have no `source`; crates from a git repository are
/// listed as not checked (cargo-audit checks registry packages only) unless
/// `options` asks to check them by version.
fn cargo_lock(path: &Path, text: &str, options: ReadOptions) -> Result<Reading, LockfileError> {
    // Cargo writes its lockfiles in one plain shape, read here line by line;
    // anything else (hand edits, escapes, a malformed file) goes through the
    // TOML parser, which also names the place of any error.
    let packages = match cargo_lock_as_written(text) {
        Some(packages) => packages,
        None => cargo_lock_as_toml(path, text)?,
    };
    Ok(cargo_lock_packages(path, &packages, options))
}

/// A Cargo.lock package: name, version and source.
type LockedCrate<'a> = (
    std::borrow::Cow<'a, str>,
    std::borrow::Cow<'a, str>,
    Option<std::borrow::Cow<'a, str>>,
);

/// The packages of a Cargo.lock in the shape Cargo writes, or `None` when
/// a line is anything else (then the TOML parser reads it).
fn cargo_lock_as_written(text: &str) -> Option<Vec<LockedCrate<'_>>> {
    use std::borrow::Cow;
    // A basic string without escapes: `"…"` and nothing after it.
    fn plain_string(value: &str) -> Option<&str> {
        let b = value.as_bytes();
        // What TOML forbids unescaped in a basic string, and escapes.
        // (A fold without an early exit: the compiler vectorizes it.)
        let plain = b.len() >= 2
            && b[0] == b'"'
            && b[b.len() - 1] == b'"'
            && b[1..b.len() - 1].iter().fold(true, |ok, &c| {
                ok & (c != b'"') & (c != b'\\') & (c >= 0x20) & (c != 0x7f)
            });
        // Both ends are ASCII quotes: the inside is whole characters.
        plain.then(|| &value[1..value.len() - 1])
    }
    /// (name, version, source) of the package being read.
    type Partial<'t> = Option<(Option<&'t str>, Option<&'t str>, Option<&'t str>)>;
    /// Ends the package being read; `None` when it lacks a name or version.
    fn finish<'t>(out: &mut Vec<LockedCrate<'t>>, current: &mut Partial<'t>) -> Option<()> {
        if let Some((name, version, source)) = current.take() {
            out.push((
                Cow::Borrowed(name?),
                Cow::Borrowed(version?),
                source.map(Cow::Borrowed),
            ));
        }
        Some(())
    }
    let mut out = Vec::new();
    let mut current: Partial<'_> = None;
    let mut in_array = false;
    // An array item without its comma was read: only `]` may follow.
    let mut last_item = false;
    // Lines cut at `\n` (a `\r` before it is trimmed below). The trims are
    // of ASCII whitespace only: TOML knows no other, and a line ending in
    // another is not Cargo's and goes to the TOML parser.
    let mut rest = text;
    while !rest.is_empty() {
        let (line, after) = match memchr::memchr(b'\n', rest.as_bytes()) {
            Some(at) => (&rest[..at], &rest[at + 1..]),
            None => (rest, ""),
        };
        rest = after;
        let line = line.trim_ascii_end();
        if in_array {
            match line.trim_ascii_start() {
                "]" => (in_array, last_item) = (false, false),
                // Items are separated by commas; only the last may go without.
                _ if last_item => return None,
                item => match item.strip_suffix(',') {
                    Some(item) => {
                        plain_string(item)?;
                    }
                    None => {
                        plain_string(item)?;
                        last_item = true;
                    }
                },
            }
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line == "[[package]]" {
            finish(&mut out, &mut current)?;
            current = Some((None, None, None));
            continue;
        }
        if line.starts_with('[') {
            // `[metadata]` (checksums of version 1) or `[[patch.unused]]`:
            // whatever follows is not a package of the graph.
            finish(&mut out, &mut current)?;
            if !matches!(line, "[metadata]" | "[[patch.unused]]") {
                return None;
            }
            continue;
        }
        // `key = value`, split at the first `=` (a quoted key holding one
        // goes to the TOML parser).
        let at = memchr::memchr(b'=', line.as_bytes())?;
        let (key, value) = (&line[..at], &line[at + 1..]);
        let (key, value) = (key.strip_suffix(' ')?, value.strip_prefix(' ')?);
        // A bare key, or a quoted one (version 1's `[metadata]` checksums).
        let bare = key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !bare && plain_string(key).is_none() {
            return None;
        }
        if value == "[" {
            in_array = true;
            continue;
        }
        if value == "[]" {
            continue;
        }
        let string = if value.starts_with('"') {
            Some(plain_string(value)?)
        } else if value.bytes().all(|b| b.is_ascii_digit()) {
            None
        } else {
            return None;
        };
        if let Some((name, version, source)) = current.as_mut() {
            let slot = match key {
                "name" => name,
                "version" => version,
                "source" => source,
                _ => continue,
            };
            // A duplicate key or a number where a string belongs: the
            // TOML parser says what is wrong.
            if slot.is_some() || string.is_none() {
                return None;
            }
            *slot = string;
        }
    }
    if in_array {
        return None;
    }
    finish(&mut out, &mut current)?;
    Some(out)
}

/// The packages of a Cargo.lock read as TOML.
fn cargo_lock_as_toml<'a>(path: &Path, text: &str) -> Result<Vec<LockedCrate<'a>>, LockfileError> {
    use std::borrow::Cow;
    let doc = parse_toml(path, text)?;
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
        out.push((
            Cow::Owned(field("name")?.to_owned()),
            Cow::Owned(field("version")?.to_owned()),
            p.get("source")
                .and_then(|s| s.as_str())
                .map(|s| Cow::Owned(s.to_owned())),
        ));
    }
    Ok(out)
}

fn cargo_lock_packages(path: &Path, packages: &[LockedCrate<'_>], options: ReadOptions) -> Reading {
    let mut reading = Reading::default();
    let mut from_git = Vec::new();
    for (name, version, source) in packages {
        // No source: the workspace's own crates and path dependencies.
        let Some(source) = source else { continue };
        let registry = source.starts_with("registry+") || source.starts_with("sparse+");
        if !registry && !options.check_vcs_by_version {
            from_git.push(format!("{name} {version} ({source})"));
            continue;
        }
        reading
            .pinned
            .push(pinned(path, Ecosystem::CratesIo, name, version));
    }
    if !from_git.is_empty() {
        reading.unchecked.push(format!(
            "{}: {} crate{} not from a registry, not checked (--check-vcs-by-version checks them by version): {}",
            path.display(),
            from_git.len(),
            if from_git.len() == 1 { "" } else { "s" },
            from_git.join(", ")
        ));
    }
    reading
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

/// One significant line of a requirements file.
#[derive(Debug, PartialEq, Eq)]
enum RequirementLine<'a> {
    /// `-r file` / `-c file` (and their long forms).
    Include(&'a str),
    /// `-e …` / `--editable …`: a local or VCS checkout.
    Editable,
    /// Another option (`--index-url`, `--hash`, …).
    Option,
    /// A PEP 508 requirement: the name and, when it is pinned with `==` or
    /// `===` to one version, that version.
    Requirement {
        name: &'a str,
        pinned: Option<&'a str>,
    },
    /// A direct reference (`name @ url`, or a bare URL or path).
    Direct,
}

/// Reads one line (comments and markers already removed) of a
/// requirements file; `None` when it is none of the above.
fn requirement_line(line: &str) -> Option<RequirementLine<'_>> {
    let line = line.trim();
    if let Some(option) = line.strip_prefix('-') {
        let (flag, rest) = option
            .split_once(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or((option, ""));
        let rest = rest.trim();
        return Some(match flag {
            "r" | "-requirement" | "c" | "-constraint" if !rest.is_empty() => {
                RequirementLine::Include(rest)
            }
            f if (f.starts_with('r') || f.starts_with('c'))
                && f.len() > 1
                && !f.starts_with("-") =>
            {
                // `-rbase.txt`
                RequirementLine::Include(&option[1..])
            }
            "e" | "-editable" => RequirementLine::Editable,
            f if f.starts_with('e') && !f.starts_with("-") => RequirementLine::Editable,
            _ => RequirementLine::Option,
        });
    }
    if line.contains("://") || line.starts_with('.') || line.starts_with('/') {
        return Some(RequirementLine::Direct);
    }
    let name_len = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .unwrap_or(line.len());
    let name = &line[..name_len];
    if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return None;
    }
    let mut rest = line[name_len..].trim_start();
    if let Some(extras) = rest.strip_prefix('[') {
        let close = extras.find(']')?;
        rest = extras[close + 1..].trim_start();
    }
    // Options after the specifier (`--hash=…`) belong to pip, not PEP 508.
    let rest = rest.split(" --").next().unwrap_or_default().trim();
    if rest.starts_with('@') {
        return Some(RequirementLine::Direct);
    }
    if rest.is_empty() {
        return Some(RequirementLine::Requirement { name, pinned: None });
    }
    let specifiers: Vec<&str> = rest
        .trim_start_matches('(')
        .trim_end_matches(')')
        .split(',')
        .map(str::trim)
        .collect();
    const OPERATORS: [&str; 8] = ["===", "==", "~=", "!=", "<=", ">=", "<", ">"];
    let mut pinned = None;
    for spec in &specifiers {
        let op = OPERATORS.iter().find(|op| spec.starts_with(**op))?;
        let version = spec[op.len()..].trim();
        if version.is_empty() || version.contains(char::is_whitespace) {
            return None;
        }
        if matches!(*op, "==" | "===") && !version.contains('*') {
            pinned = Some(version);
        }
    }
    Some(RequirementLine::Requirement {
        name,
        pinned: pinned.filter(|_| specifiers.len() == 1),
    })
}

/// The significant lines of a requirements file, numbered from 1:
/// continuation lines joined, comments and environment markers removed.
fn requirement_lines(text: &str) -> impl Iterator<Item = (usize, String)> + '_ {
    let mut lines = text.lines().enumerate();
    std::iter::from_fn(move || {
        loop {
            let (n, first) = lines.next()?;
            let mut line = first.to_owned();
            while line.ends_with('\\') {
                line.pop();
                match lines.next() {
                    Some((_, next)) => {
                        line.push(' ');
                        line.push_str(next);
                    }
                    None => break,
                }
            }
            // A comment starts at `#` at the start or after whitespace.
            let cut = line
                .char_indices()
                .find(|&(i, c)| c == '#' && (i == 0 || line[..i].ends_with(char::is_whitespace)))
                .map_or(line.len(), |(i, _)| i);
            line.truncate(cut);
            if let Some(marker) = line.find(';') {
                line.truncate(marker);
            }
            let line = line.trim().to_owned();
            if !line.is_empty() {
                return Some((n + 1, line));
            }
        }
    })
}

/// `a/b/../c` → `a/c`, without touching the disk: an included file is
/// named the same whichever file includes it, so its pins are counted once.
fn lexically_normal(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Whether a text is a requirements file, whatever its name: every line is
/// a requirement or an option, and at least one pins a version or
/// includes another file.
fn looks_like_requirements(text: &str) -> bool {
    let mut telling = false;
    for (_, line) in requirement_lines(text) {
        match requirement_line(&line) {
            None => return false,
            Some(RequirementLine::Include(_))
            | Some(RequirementLine::Requirement {
                pinned: Some(_), ..
            }) => telling = true,
            Some(_) => {}
        }
    }
    telling
}

/// A requirements file's pins; unpinned and direct requirements are
/// problems. With `visited`, includes are followed (a file already read is
/// not read again, which also ends a cycle); without, each include is a
/// problem (an upload cannot reach the files it names).
fn requirements(
    path: &Path,
    text: &str,
    mut visited: Option<&mut Vec<PathBuf>>,
    reading: &mut Reading,
) {
    for (n, line) in requirement_lines(text) {
        let at = || Some(format!("line {n}"));
        match requirement_line(&line) {
            Some(RequirementLine::Requirement {
                name,
                pinned: Some(version),
            }) => reading
                .pinned
                .push(pinned(path, Ecosystem::PyPI, name, version)),
            Some(RequirementLine::Requirement { pinned: None, .. }) => {
                reading.problems.push(error(
                    path,
                    at(),
                    format!(
                        "`{line}` is not pinned to one version with `==`; it cannot be checked"
                    ),
                ));
            }
            Some(RequirementLine::Direct) => reading.problems.push(error(
                path,
                at(),
                format!("`{line}` is a direct reference (a URL or a path); it cannot be checked"),
            )),
            Some(RequirementLine::Editable) => reading.problems.push(error(
                path,
                at(),
                "an editable requirement cannot be checked",
            )),
            Some(RequirementLine::Option) => {}
            Some(RequirementLine::Include(target)) => {
                let Some(visited) = visited.as_deref_mut() else {
                    reading.problems.push(error(
                        path,
                        at(),
                        format!("includes `{target}`, which an upload cannot follow: upload that file too, or a lockfile"),
                    ));
                    continue;
                };
                let included =
                    lexically_normal(&path.parent().unwrap_or(Path::new("")).join(target));
                let key = std::fs::canonicalize(&included).unwrap_or_else(|_| included.clone());
                if visited.contains(&key) {
                    continue;
                }
                visited.push(key);
                match read(&included) {
                    Ok(text) => requirements(&included, &text, Some(visited), reading),
                    Err(e) => reading.problems.push(error(
                        path,
                        at(),
                        format!("the included `{target}` cannot be read: {}", e.message),
                    )),
                }
            }
            None => reading.problems.push(error(
                path,
                at(),
                format!("`{line}` is not a requirement (PEP 508) nor a pip option"),
            )),
        }
    }
}

/// yarn.lock, v1 (`version "1.2.3"` under the specifiers) or Berry (YAML
/// with `resolution: "name@npm:1.2.3"`; workspace, link and patch
/// resolutions are not registry packages).
fn yarn_lock(path: &Path, text: &str) -> Result<Vec<Pinned>, LockfileError> {
    let mut out = Vec::new();
    let berry = is_berry(text);
    let mut entry: Option<(usize, String)> = None;
    for (n, line) in text.lines().enumerate() {
        let at = || Some(format!("line {}", n + 1));
        if !line.starts_with(' ') && line.ends_with(':') && !line.starts_with('#') {
            let first = line
                .trim_end_matches(':')
                .split(", ")
                .next()
                .unwrap_or_default()
                .trim_matches('"');
            entry = (first != "__metadata").then(|| (n, first.to_owned()));
            continue;
        }
        let Some((_, spec)) = &entry else { continue };
        let trimmed = line.trim();
        if berry {
            if let Some(res) = trimmed.strip_prefix("resolution:") {
                let res = res.trim().trim_matches('"');
                let Some((name, version)) = split_at_version(res) else {
                    return Err(error(path, at(), format!("`{res}` is not name@version")));
                };
                if let Some(version) = version.strip_prefix("npm:") {
                    out.push(pinned(path, Ecosystem::Npm, name, version));
                }
            }
        } else if let Some(v) = trimmed.strip_prefix("version ") {
            let Some((name, _)) = split_at_version(spec) else {
                return Err(error(path, at(), format!("`{spec}` is not name@range")));
            };
            let version = v.trim().trim_matches('"');
            let local = ["file:", "link:", "workspace:"]
                .iter()
                .any(|p| spec.contains(&format!("@{p}")));
            if !local {
                out.push(pinned(path, Ecosystem::Npm, name, version));
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Yarn 2+ ("Berry") lockfiles are YAML with a `__metadata` entry.
fn is_berry(text: &str) -> bool {
    text.starts_with("__metadata:") || text.contains("\n__metadata:")
}

/// `name@rest`, where a scoped name's own leading `@` does not count.
fn split_at_version(spec: &str) -> Option<(&str, &str)> {
    let from = usize::from(spec.starts_with('@'));
    let at = spec[from..].find('@')? + from;
    Some((&spec[..at], &spec[at + 1..]))
}

/// pnpm-lock.yaml: the keys of `packages:` (`/name/1.0.0` in v5,
/// `/name@1.0.0(peer)` in v6, `name@1.0.0` in v9).
fn pnpm_lock(path: &Path, text: &str) -> Result<Vec<Pinned>, LockfileError> {
    let mut out = Vec::new();
    let mut in_packages = false;
    for (n, line) in text.lines().enumerate() {
        if !line.starts_with(' ') && !line.is_empty() {
            in_packages = line.trim_end() == "packages:";
            continue;
        }
        if !in_packages || !line.starts_with("  ") || line.starts_with("   ") {
            continue;
        }
        let key = line
            .trim()
            .trim_end_matches(':')
            .trim_matches(|c| c == '"' || c == '\'');
        let key = key.strip_prefix('/').unwrap_or(key);
        // Peer-dependency suffixes: `(react@18.0.0)` (v6+) or `_react@18.0.0` (v5).
        let key = key.split('(').next().unwrap_or(key);
        let parsed = match split_at_version(key) {
            Some((name, version)) if !name.contains('/') || name.starts_with('@') => {
                Some((name, version))
            }
            _ => {
                // v5: name/version, the scope counted in the name.
                key.rsplit_once('/')
            }
        };
        let Some((name, version)) = parsed else {
            return Err(error(
                path,
                Some(format!("line {}", n + 1)),
                format!("`{key}` is not a package key"),
            ));
        };
        let version = version.split('_').next().unwrap_or(version);
        if version.starts_with(|c: char| c.is_ascii_digit()) {
            out.push(pinned(path, Ecosystem::Npm, name, version));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// poetry.lock and uv.lock: `[[package]]` tables with a name and version,
/// those from a git repository or a local path left out.
fn toml_packages(path: &Path, text: &str, format: Format) -> Result<Vec<Pinned>, LockfileError> {
    let doc = parse_toml(path, text)?;
    let Some(packages) = doc.get("package") else {
        return Ok(Vec::new());
    };
    let packages = packages
        .as_array()
        .ok_or_else(|| error(path, Some("package".into()), "must be an array of tables"))?;
    let mut out = Vec::new();
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
        let source = p.get("source");
        let from_registry = match format {
            // uv: `source = { registry = "…" }`; the project itself is
            // virtual or editable.
            Format::UvLock => source.is_some_and(|s| s.get("registry").is_some()),
            // poetry: no source table means PyPI; `legacy` is another index.
            _ => source
                .and_then(|s| s.get("type"))
                .and_then(|t| t.as_str())
                .is_none_or(|t| t == "legacy"),
        };
        if !from_registry {
            continue;
        }
        out.push(pinned(path, Ecosystem::PyPI, name, field("version")?));
    }
    Ok(out)
}

/// Pipfile.lock: `default` and `develop`, each version spelled `==1.2.3`.
fn pipfile_lock(path: &Path, text: &str) -> Result<Vec<Pinned>, LockfileError> {
    let doc = parse_json(path, text)?;
    let mut out = Vec::new();
    for section in ["default", "develop"] {
        let Some(deps) = doc.get(section) else {
            continue;
        };
        let deps = deps
            .as_object()
            .ok_or_else(|| error(path, Some(section.into()), "must be an object"))?;
        for (name, entry) in deps {
            // Git and path requirements carry no version.
            let Some(version) = entry.get("version") else {
                continue;
            };
            let version = version
                .as_str()
                .and_then(|v| v.strip_prefix("===").or_else(|| v.strip_prefix("==")))
                .ok_or_else(|| {
                    error(
                        path,
                        Some(format!("{section}.\"{name}\".version")),
                        "must be a string `==version` (or `===version`)",
                    )
                })?;
            out.push(pinned(path, Ecosystem::PyPI, name, version));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// go.mod: the `require` directives (direct and `// indirect`), after the
/// `replace` directives that swap a module for another version; a module
/// replaced by a local directory is reported, not checked.
fn go_mod(path: &Path, text: &str) -> (Vec<Pinned>, Vec<LockfileError>) {
    let mut required: Vec<(String, String, usize)> = Vec::new();
    // (module, the version replaced or every version, the replacement).
    type Replace = (String, Option<String>, Option<(String, String)>);
    let mut replaced: Vec<Replace> = Vec::new();
    let mut block: Option<&str> = None;
    let mut problems = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split("//").next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        if line == ")" {
            block = None;
            continue;
        }
        let (directive, rest) = match block {
            Some(d) => (d, line),
            None => {
                let (d, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
                let rest = rest.trim();
                if rest == "(" {
                    block = Some(match d {
                        "require" => "require",
                        "replace" => "replace",
                        _ => "other",
                    });
                    continue;
                }
                (d, rest)
            }
        };
        // Module paths and versions may be quoted ("…" or `…`).
        let words: Vec<&str> = rest
            .split_whitespace()
            .map(|w| w.trim_matches(|c| c == '"' || c == '`'))
            .collect();
        match directive {
            "require" => match words.as_slice() {
                [module, version, ..] => {
                    required.push(((*module).to_owned(), (*version).to_owned(), n + 1));
                }
                _ => problems.push(error(
                    path,
                    Some(format!("line {}", n + 1)),
                    "a require names a module and a version",
                )),
            },
            "replace" => {
                let (from, to) = match rest.split_once("=>") {
                    Some(x) => x,
                    None => continue,
                };
                let unquote = |w: &str| w.trim_matches(|c| c == '"' || c == '`').to_owned();
                let from: Vec<String> = from.split_whitespace().map(unquote).collect();
                let to: Vec<String> = to.split_whitespace().map(unquote).collect();
                let Some(module) = from.first() else { continue };
                let target = match to.as_slice() {
                    [m, v] => Some((m.clone(), v.clone())),
                    _ => None,
                };
                replaced.push((module.clone(), from.get(1).cloned(), target));
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (module, version, line) in required {
        let rule = replaced
            .iter()
            .find(|(m, v, _)| *m == module && v.as_ref().is_none_or(|v| *v == version));
        match rule {
            Some((_, _, Some((to, to_version)))) => {
                out.push(pinned(path, Ecosystem::Go, to, to_version));
            }
            Some((_, _, None)) => problems.push(error(
                path,
                Some(format!("line {line}")),
                format!("{module} is replaced by a local directory; it cannot be checked"),
            )),
            None => out.push(pinned(path, Ecosystem::Go, &module, &version)),
        }
    }
    (out, problems)
}

/// go.sum alone: each module version whose content (not only its go.mod)
/// was downloaded.
fn go_sum(path: &Path, text: &str) -> Result<Vec<Pinned>, LockfileError> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [] => {}
            [module, version, _hash] => {
                if !version.ends_with("/go.mod") {
                    out.push(pinned(path, Ecosystem::Go, module, version));
                }
            }
            _ => {
                return Err(error(
                    path,
                    Some(format!("line {}", n + 1)),
                    "expected `module version hash`",
                ));
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// composer.lock: `packages` and `packages-dev`.
fn composer_lock(path: &Path, text: &str) -> Result<Vec<Pinned>, LockfileError> {
    let doc = parse_json(path, text)?;
    let mut out = Vec::new();
    for section in ["packages", "packages-dev"] {
        let Some(list) = doc.get(section) else {
            continue;
        };
        let list = list
            .as_array()
            .ok_or_else(|| error(path, Some(section.into()), "must be an array"))?;
        for (i, p) in list.iter().enumerate() {
            let field = |k: &str| {
                p.get(k).and_then(|v| v.as_str()).ok_or_else(|| {
                    error(
                        path,
                        Some(format!("{section}[{i}].{k}")),
                        "missing or not a string",
                    )
                })
            };
            out.push(pinned(
                path,
                Ecosystem::Packagist,
                field("name")?,
                field("version")?,
            ));
        }
    }
    Ok(out)
}

/// Gemfile.lock: the `specs:` of each `GEM` section (`name (version)` at
/// four spaces; a platform suffix such as `-x86_64-linux` dropped). Gems
/// from `GIT` and `PATH` sections are not from a registry.
fn gemfile_lock(path: &Path, text: &str) -> Result<Vec<Pinned>, LockfileError> {
    let mut out = Vec::new();
    let mut in_gem = false;
    for (n, line) in text.lines().enumerate() {
        if !line.starts_with(' ') && !line.is_empty() {
            in_gem = line.trim() == "GEM";
            continue;
        }
        if !in_gem || !line.starts_with("    ") || line.starts_with("     ") {
            continue;
        }
        let spec = line.trim();
        let parsed = spec
            .split_once(" (")
            .and_then(|(name, v)| v.strip_suffix(')').map(|v| (name, v)));
        let Some((name, version)) = parsed else {
            return Err(error(
                path,
                Some(format!("line {}", n + 1)),
                format!("`{spec}` is not `name (version)`"),
            ));
        };
        let version = version.split('-').next().unwrap_or(version);
        out.push(pinned(path, Ecosystem::RubyGems, name, version));
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// NuGet packages.lock.json: every target framework's resolved packages,
/// the solution's own projects left out.
fn nuget_lock(path: &Path, text: &str) -> Result<Vec<Pinned>, LockfileError> {
    let doc = parse_json(path, text)?;
    let frameworks = doc
        .get("dependencies")
        .and_then(|d| d.as_object())
        .ok_or_else(|| {
            error(
                path,
                Some("dependencies".into()),
                "missing or not an object",
            )
        })?;
    let mut out = Vec::new();
    for (framework, packages) in frameworks {
        let packages = packages.as_object().ok_or_else(|| {
            error(
                path,
                Some(format!("dependencies.\"{framework}\"")),
                "must be an object",
            )
        })?;
        for (name, entry) in packages {
            if entry.get("type").and_then(|t| t.as_str()) == Some("Project") {
                continue;
            }
            let version = entry
                .get("resolved")
                .and_then(|v| v.as_str())
                .ok_or_else(|| {
                    error(
                        path,
                        Some(format!("dependencies.\"{framework}\".\"{name}\".resolved")),
                        "missing or not a string",
                    )
                })?;
            out.push(pinned(path, Ecosystem::NuGet, name, version));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
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
        let pins = cargo_lock(&p(), text, ReadOptions::default())
            .unwrap()
            .pinned;
        assert_eq!(pins.len(), 1);
        assert_eq!(
            (pins[0].name.as_str(), pins[0].version.as_str()),
            ("smallvec", "1.6.0")
        );
        let err = cargo_lock(
            &p(),
            "[[package]]\nname = \"x\"\nversion = 3\nsource = \"s\"\n",
            ReadOptions::default(),
        )
        .unwrap_err();
        assert_eq!(err.location.as_deref(), Some("package[0].version"));
        let err = cargo_lock(&p(), "[[package]\nname=", ReadOptions::default()).unwrap_err();
        assert!(
            err.location.unwrap().starts_with("line "),
            "a line for syntax errors"
        );
    }

    /// The line reader and the TOML parser agree on every real lockfile
    /// here (this workspace's, and those published in the local registry),
    /// and on every one-character damage of one: the line reader either
    /// gives what the TOML parser gives, or hands the text over to it.
    #[test]
    fn cargo_lock_line_reader_agrees_with_the_toml_parser() {
        let mut files = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.lock")];
        let registry = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
            .map(|h| h.join("registry/src"));
        if let Some(Ok(indexes)) = registry.map(std::fs::read_dir) {
            for index in indexes.filter_map(Result::ok) {
                for krate in std::fs::read_dir(index.path())
                    .into_iter()
                    .flatten()
                    .filter_map(Result::ok)
                {
                    let lock = krate.path().join("Cargo.lock");
                    if lock.exists() {
                        files.push(lock);
                    }
                }
            }
        }
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap();
            let fast = cargo_lock_as_written(&text)
                .unwrap_or_else(|| panic!("{} is in Cargo's own shape", file.display()));
            assert_eq!(
                fast,
                cargo_lock_as_toml(file, &text).unwrap(),
                "{}",
                file.display()
            );
        }
        let text = std::fs::read_to_string(&files[0]).unwrap();
        // The first twelve packages, whole.
        let cut = text
            .match_indices("\n\n[[package]]")
            .nth(12)
            .map_or(text.len(), |(i, _)| i);
        let text = text[..cut].to_owned();
        let mut checked = 0;
        for (at, _) in text.char_indices() {
            for damage in ["", "\"", "\\", "=", "[", "\n", "x"] {
                let mut damaged = text.clone();
                let end = at + text[at..].chars().next().map_or(0, char::len_utf8);
                damaged.replace_range(at..end, damage);
                if let Some(fast) = cargo_lock_as_written(&damaged) {
                    checked += 1;
                    assert_eq!(
                        Ok(fast),
                        cargo_lock_as_toml(&p(), &damaged),
                        "{damage:?} at {at}:\n{damaged}"
                    );
                }
            }
        }
        assert!(checked > 100, "{checked}");
    }

    #[test]
    fn cargo_lock_git_crates_are_named_not_checked_unless_asked() {
        // vaultwarden's lettre, taken from git at a commit.
        let text = "version = 3\n\n[[package]]\nname = \"lettre\"\nversion = \"0.10.0-pre\"\n\
                    source = \"git+https://github.com/lettre/lettre?rev=245c600#245c6004\"\n\n\
                    [[package]]\nname = \"smallvec\"\nversion = \"1.6.0\"\nsource = \"sparse+https://index.crates.io/\"\n\n\
                    [[package]]\nname = \"mine\"\nversion = \"0.1.0\"\n";
        let reading = cargo_lock(&p(), text, ReadOptions::default()).unwrap();
        assert_eq!(names(&reading.pinned), [("smallvec", "1.6.0")]);
        assert_eq!(reading.unchecked.len(), 1);
        assert!(
            reading.unchecked[0].contains("1 crate not from a registry")
                && reading.unchecked[0]
                    .contains("lettre 0.10.0-pre (git+https://github.com/lettre"),
            "{:?}",
            reading.unchecked
        );
        let all = cargo_lock(
            &p(),
            text,
            ReadOptions {
                check_vcs_by_version: true,
            },
        )
        .unwrap();
        assert_eq!(
            names(&all.pinned),
            [("lettre", "0.10.0-pre"), ("smallvec", "1.6.0")],
            "the workspace's own crate is never a dependency"
        );
        assert!(all.unchecked.is_empty());
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

    fn read_requirements(text: &str) -> Reading {
        let mut reading = Reading::default();
        requirements(&p(), text, None, &mut reading);
        reading
    }

    #[test]
    fn requirements_take_pins_and_report_the_rest() {
        let text = "# comment\nDjango==3.2.0  # pinned\nrequests[socks]==2.19.0 ; python_version>'3'\n\
                    flask>=2\n-r other.txt\nnumpy===1.0 \\\n    --hash=sha256:abc\n";
        let reading = read_requirements(text);
        assert_eq!(
            names(&reading.pinned),
            [
                ("Django", "3.2.0"),
                ("requests", "2.19.0"),
                ("numpy", "1.0")
            ]
        );
        let lines: Vec<_> = reading
            .problems
            .iter()
            .map(|p| p.location.as_deref().unwrap_or_default())
            .collect();
        assert_eq!(lines, ["line 4", "line 5"], "{:?}", reading.problems);
        assert!(
            reading.problems[1].message.contains("upload cannot follow"),
            "an include in an upload is said, not ignored"
        );
    }

    #[test]
    fn pep_508_spacing_arbitrary_equality_and_direct_references() {
        let text = "urllib3 == 1.26.2\nrequests [security] ==2.19.0\nlegacy===1.24.1\n\
                    foo @ https://x/foo.whl\nbar==1.*\nbaz>=1,==1.2\n";
        let reading = read_requirements(text);
        assert_eq!(
            names(&reading.pinned),
            [
                ("urllib3", "1.26.2"),
                ("requests", "2.19.0"),
                ("legacy", "1.24.1")
            ]
        );
        let messages: Vec<_> = reading
            .problems
            .iter()
            .map(|p| p.message.as_str())
            .collect();
        assert!(messages[0].contains("direct reference"), "{messages:?}");
        assert!(
            messages[1].contains("`bar==1.*` is not pinned"),
            "{messages:?}"
        );
        assert!(
            messages[2].contains("`baz>=1,==1.2` is not pinned"),
            "{messages:?}"
        );
    }

    #[test]
    fn requirements_under_any_name_and_their_includes() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("requirements")).unwrap();
        std::fs::write(
            d.join("requirements/main.txt"),
            "-r base.txt\n-c ../constraints.txt\nflask==2.0.0\n",
        )
        .unwrap();
        // base.txt includes main.txt again: read once, no endless loop.
        std::fs::write(
            d.join("requirements/base.txt"),
            "--requirement=main.txt\nclick==8.0.0\n",
        )
        .unwrap();
        std::fs::write(d.join("constraints.txt"), "jinja2==3.0.0\n").unwrap();
        std::fs::write(d.join("deps.txt"), "-rrequirements/missing.txt\n").unwrap();
        std::fs::write(d.join("notes.txt"), "Remember to pin flask.\n").unwrap();
        let main = d.join("requirements/main.txt");
        assert_eq!(
            Format::sniff(&std::fs::read_to_string(&main).unwrap()),
            Some(Format::Requirements)
        );
        assert_eq!(Format::sniff("Remember to pin flask.\n"), None);
        let reading = read_lockfile(&main, Format::Requirements, ReadOptions::default()).unwrap();
        let mut got = names(&reading.pinned);
        got.sort_unstable();
        assert_eq!(
            got,
            [("click", "8.0.0"), ("flask", "2.0.0"), ("jinja2", "3.0.0")]
        );
        assert!(reading.problems.is_empty(), "{:?}", reading.problems);
        let reading = read_lockfile(
            &d.join("deps.txt"),
            Format::Requirements,
            ReadOptions::default(),
        )
        .unwrap();
        assert!(
            reading.problems[0]
                .message
                .contains("the included `requirements/missing.txt` cannot be read"),
            "{:?}",
            reading.problems
        );
        // A directory search finds them all by content, and says what it passed over.
        let found = discover(&[d.to_path_buf()]).unwrap();
        let files: Vec<_> = found
            .found
            .iter()
            .map(|(p, _)| p.strip_prefix(d).unwrap().display().to_string())
            .collect();
        assert_eq!(
            files,
            [
                "constraints.txt",
                "deps.txt",
                "requirements/base.txt",
                "requirements/main.txt"
            ]
        );
        assert_eq!(found.skipped.len(), 1);
        assert!(found.skipped[0].path.ends_with("notes.txt") && !found.skipped[0].incomplete);
    }

    #[test]
    fn a_byte_order_mark_is_no_obstacle() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bom.json");
        std::fs::write(
            &path,
            "\u{feff}{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.6\", \"components\": [\
             {\"type\": \"library\", \"name\": \"lodash\", \"purl\": \"pkg:npm/lodash@4.17.20\"}]}",
        )
        .unwrap();
        let reading = read_lockfile(&path, Format::Sbom, ReadOptions::default()).unwrap();
        assert_eq!(names(&reading.pinned), [("lodash", "4.17.20")]);
        let xml = "\u{feff}<?xml version=\"1.0\"?><bom xmlns=\"http://cyclonedx.org/schema/bom/1.6\" version=\"1\"><components><component type=\"library\"><name>lodash</name><purl>pkg:npm/lodash@4.17.20</purl></component></components></bom>";
        assert_eq!(Format::sniff(xml), Some(Format::Sbom));
        let reading = read_text(Path::new("upload"), xml, ReadOptions::default()).unwrap();
        assert_eq!(names(&reading.pinned), [("lodash", "4.17.20")]);
    }

    fn names(pins: &[Pinned]) -> Vec<(&str, &str)> {
        pins.iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect()
    }

    #[test]
    fn yarn_v1_and_berry() {
        let v1 = "# yarn lockfile v1\n\n\"@babel/code-frame@^7.0.0\", \"@babel/code-frame@^7.10.4\":\n  version \"7.12.13\"\n  resolved \"https://registry.yarnpkg.com/x\"\n\nlodash@^4.17.0:\n  version \"4.17.20\"\n\nmine@file:../mine:\n  version \"0.0.1\"\n";
        let pins = yarn_lock(&p(), v1).unwrap();
        assert_eq!(
            names(&pins),
            [("@babel/code-frame", "7.12.13"), ("lodash", "4.17.20")]
        );
        let berry = "__metadata:\n  version: 6\n\n\"@babel/core@npm:^7.0.0\":\n  version: 7.1.0\n  resolution: \"@babel/core@npm:7.1.0\"\n\n\"app@workspace:.\":\n  version: 0.0.0-use.local\n  resolution: \"app@workspace:.\"\n\n\"resolve@patch:resolve@npm%3A^1.0.0#~builtin<compat/resolve>\":\n  version: 1.22.0\n  resolution: \"resolve@patch:resolve@npm%3A1.22.0#~builtin<compat/resolve>::version=1.22.0\"\n";
        let pins = yarn_lock(&p(), berry).unwrap();
        assert_eq!(names(&pins), [("@babel/core", "7.1.0")]);
        assert_eq!(Format::sniff(berry), Some(Format::YarnLock));
    }

    #[test]
    fn pnpm_of_every_version() {
        let v5 = "lockfileVersion: 5.4\n\nspecifiers:\n  lodash: ^4\n\npackages:\n\n  /lodash/4.17.21:\n    resolution: {integrity: sha512-x}\n\n  /@babel/core/7.0.0:\n    dev: true\n\n  /react-dom/17.0.2_react@17.0.2:\n    dev: false\n";
        assert_eq!(
            names(&pnpm_lock(&p(), v5).unwrap()),
            [
                ("@babel/core", "7.0.0"),
                ("lodash", "4.17.21"),
                ("react-dom", "17.0.2")
            ]
        );
        let v6 = "lockfileVersion: '6.0'\n\npackages:\n\n  /lodash@4.17.21:\n    resolution: {integrity: sha512-x}\n\n  /@babel/core@7.0.0(supports-color@8.0.0):\n    dev: true\n";
        assert_eq!(
            names(&pnpm_lock(&p(), v6).unwrap()),
            [("@babel/core", "7.0.0"), ("lodash", "4.17.21")]
        );
        let v9 = "lockfileVersion: '9.0'\n\nimporters:\n\n  .:\n    dependencies:\n      lodash:\n        specifier: ^4\n        version: 4.17.21\n\npackages:\n\n  '@babel/core@7.0.0':\n    resolution: {integrity: sha512-x}\n\n  lodash@4.17.21:\n    resolution: {integrity: sha512-y}\n\nsnapshots:\n\n  lodash@4.17.21: {}\n";
        assert_eq!(
            names(&pnpm_lock(&p(), v9).unwrap()),
            [("@babel/core", "7.0.0"), ("lodash", "4.17.21")]
        );
        assert_eq!(Format::sniff(v9), Some(Format::PnpmLock));
    }

    #[test]
    fn python_locks() {
        let poetry = "[[package]]\nname = \"Django\"\nversion = \"3.2.0\"\n\n[[package]]\nname = \"mine\"\nversion = \"0.1.0\"\n[package.source]\ntype = \"git\"\nurl = \"https://x\"\n\n[metadata]\ncontent-hash = \"abc\"\n";
        assert_eq!(Format::sniff(poetry), Some(Format::PoetryLock));
        let pins = toml_packages(&p(), poetry, Format::PoetryLock).unwrap();
        assert_eq!(names(&pins), [("Django", "3.2.0")]);
        let uv = "version = 1\nrequires-python = \">=3.11\"\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\nsource = { virtual = \".\" }\n\n[[package]]\nname = \"requests\"\nversion = \"2.19.0\"\nsource = { registry = \"https://pypi.org/simple\" }\n";
        assert_eq!(Format::sniff(uv), Some(Format::UvLock));
        let pins = toml_packages(&p(), uv, Format::UvLock).unwrap();
        assert_eq!(names(&pins), [("requests", "2.19.0")]);
        let pipfile = r#"{"_meta": {"hash": {}}, "default": {"flask": {"version": "==2.0.0"}, "mine": {"git": "https://x"}}, "develop": {"pytest": {"version": "==7.0.0"}}}"#;
        assert_eq!(Format::sniff(pipfile), Some(Format::PipfileLock));
        assert_eq!(
            names(&pipfile_lock(&p(), pipfile).unwrap()),
            [("flask", "2.0.0"), ("pytest", "7.0.0")]
        );
        let arbitrary = r#"{"_meta": {}, "default": {"urllib3": {"version": "===1.24.1"}}}"#;
        assert_eq!(
            names(&pipfile_lock(&p(), arbitrary).unwrap()),
            [("urllib3", "1.24.1")],
            "`===` is arbitrary equality, not a version starting with `=`"
        );
        let bad = r#"{"_meta": {}, "default": {"flask": {"version": ">=2"}}}"#;
        assert_eq!(
            pipfile_lock(&p(), bad).unwrap_err().location.as_deref(),
            Some("default.\"flask\".version")
        );
    }

    #[test]
    fn go_modules() {
        let gomod = "module example.com/app\n\ngo 1.21\n\nrequire (\n\tgithub.com/gin-gonic/gin v1.9.0\n\tgolang.org/x/net v0.0.0-20210101000000-abcdef123456 // indirect\n\texample.com/local v1.0.0\n)\n\nrequire github.com/pkg/errors v0.9.1\n\nreplace golang.org/x/net => golang.org/x/net v0.17.0\nreplace example.com/local => ../local\n";
        let (pins, problems) = go_mod(&p(), gomod);
        assert_eq!(
            names(&pins),
            [
                ("github.com/gin-gonic/gin", "v1.9.0"),
                ("golang.org/x/net", "v0.17.0"),
                ("github.com/pkg/errors", "v0.9.1")
            ]
        );
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.contains("local directory"));
        let quoted = "module \"example.com/app\"\n\nrequire \"github.com/gorilla/websocket\" v1.4.0\nrequire (\n\t`golang.org/x/text` \"v0.3.0\"\n)\n";
        let (pins, problems) = go_mod(&p(), quoted);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            names(&pins),
            [
                ("github.com/gorilla/websocket", "v1.4.0"),
                ("golang.org/x/text", "v0.3.0")
            ]
        );
        let gosum = "github.com/pkg/errors v0.9.1 h1:abc=\ngithub.com/pkg/errors v0.9.1/go.mod h1:def=\ngolang.org/x/text v0.3.0/go.mod h1:x=\n";
        assert_eq!(
            names(&go_sum(&p(), gosum).unwrap()),
            [("github.com/pkg/errors", "v0.9.1")]
        );
        assert_eq!(
            go_sum(&p(), "a b\n").unwrap_err().location.as_deref(),
            Some("line 1")
        );
    }

    #[test]
    fn composer_gems_and_nuget() {
        let composer = r#"{"content-hash": "x", "packages": [{"name": "laravel/framework", "version": "v8.0.0"}], "packages-dev": [{"name": "phpunit/phpunit", "version": "9.5.0"}]}"#;
        assert_eq!(Format::sniff(composer), Some(Format::ComposerLock));
        assert_eq!(
            names(&composer_lock(&p(), composer).unwrap()),
            [
                ("laravel/framework", "v8.0.0"),
                ("phpunit/phpunit", "9.5.0")
            ]
        );
        let gems = "GIT\n  remote: https://x\n  specs:\n    mine (0.1.0)\n\nGEM\n  remote: https://rubygems.org/\n  specs:\n    actionpack (7.0.0)\n      rack (~> 2.0)\n    nokogiri (1.13.0-x86_64-linux)\n    rack (2.2.3)\n\nPLATFORMS\n  ruby\n";
        assert_eq!(
            names(&gemfile_lock(&p(), gems).unwrap()),
            [
                ("actionpack", "7.0.0"),
                ("nokogiri", "1.13.0"),
                ("rack", "2.2.3")
            ]
        );
        let nuget = r#"{"version": 1, "dependencies": {"net6.0": {"Newtonsoft.Json": {"type": "Direct", "requested": "[13.0.1, )", "resolved": "13.0.1"}, "Mine": {"type": "Project"}}}}"#;
        assert_eq!(
            names(&nuget_lock(&p(), nuget).unwrap()),
            [("Newtonsoft.Json", "13.0.1")]
        );
        let bad = r#"{"dependencies": {"net6.0": {"X": {"type": "Direct"}}}}"#;
        assert_eq!(
            nuget_lock(&p(), bad).unwrap_err().location.as_deref(),
            Some("dependencies.\"net6.0\".\"X\".resolved")
        );
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
