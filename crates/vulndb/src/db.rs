//! The local vulnerability database: OSV records imported from feeds
//! (`all.zip` archives, directories of JSON files, single files), indexed by
//! ecosystem and normalized package name with every bound pre-parsed, and
//! kept on disk in a compact binary form so that a scan starts without
//! parsing JSON.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::cvss;
use crate::osv::{self, CompiledRange, EventKind, Record};

mod index;
mod slots;
use crate::version::{Ecosystem, Version, VersionError};
use index::Index;
use slots::LazySlots;

/// The largest OSV record read from a feed.
const MAX_RECORD_BYTES: u64 = 8 * 1024 * 1024;
/// The most records one source may hold.
const MAX_RECORDS: usize = 2_000_000;

pub use crate::severity::Severity;

/// What a scan reports of an advisory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    pub id: String,
    pub aliases: Vec<String>,
    pub summary: String,
    pub modified: String,
    pub published: Option<String>,
    /// The CVSS vector the record gives, if any.
    pub cvss: Option<String>,
    pub score: Option<f32>,
    pub severity: Option<Severity>,
    /// RustSec's informational notices (`unmaintained`, `unsound`, …):
    /// reported apart from vulnerabilities.
    pub informational: Option<String>,
    /// In CISA's Known Exploited Vulnerabilities catalog.
    pub known_exploited: bool,
    /// FIRST's EPSS exploit probability (0 to 1).
    pub epss: Option<f32>,
    /// The catalog's entry, when `known_exploited`.
    pub kev: Option<KevListing>,
    /// The EPSS score's percentile among all scored CVEs (0 to 1).
    pub epss_percentile: Option<f32>,
}

impl Advisory {
    /// Its id, then its aliases: how catalogs keyed by CVE find it.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

/// What CISA's KEV catalog says of an exploited vulnerability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KevListing {
    /// The CVE the catalog lists.
    pub cve: String,
    /// When it joined the catalog (a date, `2025-08-25`).
    pub date_added: String,
    /// The remediation date CISA sets for US federal agencies.
    pub due_date: Option<String>,
    /// Known to be used in ransomware campaigns.
    pub ransomware: bool,
}

/// What a KEV import did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KevImport {
    /// The catalog's version (`catalogVersion`).
    pub catalog_version: Option<String>,
    /// CVEs the catalog lists.
    pub listed: usize,
    /// Advisories of the database marked known exploited.
    pub marked: usize,
    /// Entries of the catalog that could not be read, with why.
    pub skipped: Vec<String>,
}

/// What an EPSS import did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EpssImport {
    /// From the file's comment line (`#model_version:…,score_date:…`).
    pub model_version: Option<String>,
    pub score_date: Option<String>,
    /// Scores read.
    pub scores: usize,
    /// Advisories given a score.
    pub attached: usize,
    /// Lines skipped, each with its number and why.
    pub skipped: Vec<(usize, String)>,
}

/// The largest EPSS file accepted once decompressed (today's is about 10 MB).
pub const MAX_EPSS_BYTES: u64 = 256 * 1024 * 1024;
/// The most problems an EPSS import lists one by one (the rest are counted).
const MAX_LISTED_PROBLEMS: usize = 1_000;

/// Whether `id` is shaped like a CVE id (`CVE-2024-12345`).
fn is_cve(id: &str) -> bool {
    let mut parts = id.split('-');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some("CVE"), Some(y), Some(n), None)
            if y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit())
                && n.len() >= 4 && n.len() <= 19 && n.bytes().all(|b| b.is_ascii_digit())
    )
}

/// The text of an EPSS file as FIRST publishes it, gzipped or not.
pub fn epss_text(bytes: &[u8]) -> Result<String, String> {
    use std::io::Read as _;
    let raw = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .take(MAX_EPSS_BYTES + 1)
            .read_to_end(&mut out)
            .map_err(|e| format!("EPSS: the gzip stream is damaged ({e})"))?;
        if out.len() as u64 > MAX_EPSS_BYTES {
            return Err(format!(
                "EPSS: larger than {MAX_EPSS_BYTES} bytes once decompressed"
            ));
        }
        out
    } else {
        bytes.to_vec()
    };
    String::from_utf8(raw).map_err(|e| {
        format!(
            "EPSS: not UTF-8 text at byte {} (neither CSV nor gzipped CSV)",
            e.utf8_error().valid_up_to()
        )
    })
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredEntry {
    advisory: u32,
    versions: Vec<String>,
    /// Each range: whether it is a `SEMVER` range, and its events.
    ranges: Vec<(bool, Vec<(EventKind, String)>)>,
}

impl StoredEntry {
    /// The versions that fix it, as the record writes them.
    fn fixed(&self) -> Vec<String> {
        self.ranges
            .iter()
            .flat_map(|(_, events)| events.iter())
            .filter(|(k, _)| *k == EventKind::Fixed)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

#[derive(Debug, Clone)]
struct Entry {
    advisory: u32,
    versions: Vec<Version>,
    /// Listed versions the ecosystem's rules reject, matched as text.
    unparsed: Vec<String>,
    ranges: Vec<(bool, CompiledRange<Version>)>,
    fixed: Vec<String>,
}

/// The index the matcher reads: the on-disk form, read in place (see
/// [`index`]), each package's entries compiled on its first lookup — a
/// scan touches a few packages of thousands, so loading compiles nothing.
#[derive(Debug, Clone)]
pub struct Database {
    index: Index,
    compiled: LazySlots<Result<Vec<Entry>, String>>,
    /// Each advisory decoded on its first match (a 36,000-component SBOM
    /// meets the same advisories many times).
    decoded: LazySlots<Box<Advisory>>,
}

impl Default for Database {
    /// The empty database.
    fn default() -> Self {
        Database::from_vec(Index::empty()).unwrap_or_else(|_| Database {
            index: Index::unchecked_empty(),
            compiled: LazySlots::new(0),
            decoded: LazySlots::new(0),
        })
    }
}

/// What a feed update changed: the advisories' ids, and the packages
/// (ecosystem, normalized name) any of them names.
pub type FeedChanges = (BTreeSet<String>, BTreeSet<(Ecosystem, String)>);

/// Each package's entries, as the import gathers them.
type PackageEntries = Vec<(Ecosystem, String, Vec<StoredEntry>)>;

/// An advisory that affects a package version, with the versions that fix it.
#[derive(Debug, Clone, PartialEq)]
pub struct Match<'a> {
    pub advisory: &'a Advisory,
    pub fixed: &'a [String],
}

/// What an import did: counts, and each record skipped with its reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub imported: usize,
    pub withdrawn: usize,
    /// Records (by id, or by file where the id is unreadable) and why they were skipped.
    pub skipped: Vec<(String, String)>,
    /// Affected entries of ecosystems embargo does not order, by ecosystem.
    pub unsupported: BTreeMap<String, usize>,
    /// Defects in records that were imported anyway (by id), such as a GIT
    /// range whose event is not a commit.
    pub warnings: Vec<(String, String)>,
}

/// A failure to read a source or the database file.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{path}: {message}")]
    Source { path: String, message: String },
    #[error("the vulnerability database {path}: {message}")]
    File { path: String, message: String },
}

fn source_error(path: &Path, message: impl std::fmt::Display) -> DbError {
    DbError::Source {
        path: path.display().to_string(),
        message: message.to_string(),
    }
}

/// Reads the OSV records of a source: an `all.zip`, a directory of `.json`
/// files (recursively), or one `.json` file. Records that do not parse are
/// returned as `Err((name, reason))`, so the import reports and skips them.
/// A record as read from a source, or (its id or file, why it is unreadable).
pub type SourceRecord = Result<Record, (String, String)>;

pub fn read_source(path: &Path) -> Result<Vec<SourceRecord>, DbError> {
    let mut out = Vec::new();
    for_each_record(path, |r| out.push(r))?;
    Ok(out)
}

/// Checks that a file is a readable zip archive (its central directory,
/// which comes last, so a truncated download fails), without reading its
/// records; returns how many entries it holds.
pub fn check_archive(path: &Path) -> Result<usize, DbError> {
    let file = std::fs::File::open(path).map_err(|e| source_error(path, e))?;
    let archive = zip::ZipArchive::new(file).map_err(|e| source_error(path, e))?;
    Ok(archive.len())
}

/// [`read_source`] one record at a time, so that an import holds only what
/// it keeps of each record, never a whole feed.
pub fn for_each_record(path: &Path, mut each: impl FnMut(SourceRecord)) -> Result<(), DbError> {
    let meta = std::fs::metadata(path).map_err(|e| source_error(path, e))?;
    let parse = |name: &str, bytes: &[u8]| {
        serde_json::from_slice::<Record>(bytes).map_err(|e| {
            // Name the record by its id when the JSON has one.
            let id = serde_json::from_slice::<serde_json::Value>(bytes)
                .ok()
                .and_then(|v| v.get("id").and_then(|i| i.as_str()).map(str::to_owned))
                .unwrap_or_else(|| name.to_owned());
            (id, format!("not a valid OSV record: {e}"))
        })
    };
    let mut count = 0usize;
    if meta.is_dir() {
        let mut stack = vec![path.to_path_buf()];
        while let Some(dir) = stack.pop() {
            let mut entries: Vec<_> = std::fs::read_dir(&dir)
                .map_err(|e| source_error(&dir, e))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .collect();
            entries.sort();
            for p in entries {
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|e| e == "json") {
                    let len = std::fs::metadata(&p)
                        .map_err(|e| source_error(&p, e))?
                        .len();
                    if len > MAX_RECORD_BYTES {
                        each(Err((p.display().to_string(), "larger than 8 MiB".into())));
                        continue;
                    }
                    let bytes = std::fs::read(&p).map_err(|e| source_error(&p, e))?;
                    each(parse(&p.display().to_string(), &bytes));
                }
                count += 1;
                if count > MAX_RECORDS {
                    return Err(source_error(path, "more than 2,000,000 records"));
                }
            }
        }
    } else if path.extension().is_some_and(|e| e == "zip") {
        let file = std::fs::File::open(path).map_err(|e| source_error(path, e))?;
        let mut archive = zip::ZipArchive::new(file).map_err(|e| source_error(path, e))?;
        if archive.len() > MAX_RECORDS {
            return Err(source_error(path, "more than 2,000,000 entries"));
        }
        let mut buf = Vec::new();
        for i in 0..archive.len() {
            let mut entry = archive.by_index(i).map_err(|e| source_error(path, e))?;
            if !entry.is_file() || !entry.name().ends_with(".json") {
                continue;
            }
            let name = entry.name().to_owned();
            if entry.size() > MAX_RECORD_BYTES {
                each(Err((name, "larger than 8 MiB".into())));
                continue;
            }
            buf.clear();
            // Bounded even if the archive lies about the size.
            (&mut entry)
                .take(MAX_RECORD_BYTES + 1)
                .read_to_end(&mut buf)
                .map_err(|e| source_error(path, format!("{name}: {e}")))?;
            each(parse(&name, &buf));
        }
    } else {
        if meta.len() > MAX_RECORD_BYTES {
            return Err(source_error(path, "larger than 8 MiB"));
        }
        let bytes = std::fs::read(path).map_err(|e| source_error(path, e))?;
        each(parse(&path.display().to_string(), &bytes));
    }
    Ok(())
}

fn severity_of(record: &Record) -> (Option<String>, Option<f32>, Option<Severity>) {
    let scores = record
        .severity
        .iter()
        .chain(record.affected.iter().flat_map(|a| a.severity.iter()));
    for s in scores {
        if matches!(s.kind.as_str(), "CVSS_V3" | "CVSS_V4")
            && let Ok(scored) = cvss::score(&s.score)
        {
            return (
                Some(s.score.clone()),
                Some(scored.score),
                cvss::rating(scored.score),
            );
        }
    }
    let stated = record
        .database_specific
        .as_ref()
        .and_then(|d| d.get("severity"))
        .and_then(|s| s.as_str())
        .and_then(|s| s.parse().ok());
    let vector = record.severity.first().map(|s| s.score.clone());
    (vector, None, stated)
}

fn informational_of(record: &Record) -> Option<String> {
    record
        .affected
        .iter()
        .filter_map(|a| a.database_specific.as_ref())
        .chain(record.database_specific.as_ref())
        .filter_map(|d| d.get("informational").and_then(|i| i.as_str()))
        .map(str::to_owned)
        .next()
}

/// Whether one of an entry's compiled ranges holds a version (its text, and
/// as parsed by its ecosystem's rules).
fn in_a_range(
    ecosystem: Ecosystem,
    text: &str,
    version: &Version,
    ranges: &[(bool, CompiledRange<Version>)],
) -> bool {
    let order = |a: &Version, b: &Version| a.compare(b).unwrap_or(std::cmp::Ordering::Equal);
    let as_semver = std::cell::OnceCell::new();
    ranges.iter().any(|(semver, range)| {
        if *semver && !ecosystem.uses_semver() {
            as_semver
                .get_or_init(|| Ecosystem::parse_semver_range(text).ok())
                .as_ref()
                .is_some_and(|v| range.contains(v, order))
        } else {
            range.contains(version, order)
        }
    })
}

/// What the import keeps of a record until every source is read: the
/// newest record of each id wins.
#[derive(Debug)]
enum Pending {
    Imported {
        modified: String,
        /// The advisory in its stored form: 300,000 of them held as structs
        /// would double an import's memory.
        advisory: Vec<u8>,
        entries: Vec<(Ecosystem, String, StoredEntry)>,
    },
    Withdrawn {
        modified: String,
    },
    Skipped {
        modified: String,
    },
}

impl Pending {
    fn modified(&self) -> &str {
        match self {
            Pending::Imported { modified, .. }
            | Pending::Withdrawn { modified }
            | Pending::Skipped { modified } => modified,
        }
    }
}

/// Builds a database from records one at a time (see [`for_each_record`]):
/// each record is checked and reduced to what the index keeps as it
/// arrives, so an import's memory is the index's, not the feeds'.
#[derive(Debug, Default)]
pub struct Builder {
    report: ImportReport,
    latest: HashMap<String, Pending>,
}

impl Builder {
    #[must_use]
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Adds a record (or reports an unreadable one). A record id seen twice
    /// keeps the most recently modified one.
    pub fn add(&mut self, record: SourceRecord) {
        let record = match record {
            Err(skip) => {
                self.report.skipped.push(skip);
                return;
            }
            Ok(r) if r.id.trim().is_empty() => {
                self.report
                    .skipped
                    .push(("(no id)".into(), "the record has no id".into()));
                return;
            }
            Ok(r) => r,
        };
        if self
            .latest
            .get(&record.id)
            .is_some_and(|old| old.modified() > record.modified.as_str())
        {
            return;
        }
        let pending = self.reduce(&record);
        self.latest.insert(record.id, pending);
    }

    /// Checks a record: every entry is compiled, so that the stored form
    /// always loads; a record is imported whole or skipped.
    fn reduce(&mut self, record: &Record) -> Pending {
        let report = &mut self.report;
        if record.withdrawn.is_some() {
            return Pending::Withdrawn {
                modified: record.modified.clone(),
            };
        }
        let skip = |report: &mut ImportReport, why: String| {
            report.skipped.push((record.id.clone(), why));
            Pending::Skipped {
                modified: record.modified.clone(),
            }
        };
        let mut entries = Vec::new();
        for affected in &record.affected {
            let Some(package) = &affected.package else {
                continue;
            };
            let ecosystem: Ecosystem = match package.ecosystem.parse() {
                Ok(e) => e,
                Err(_) => {
                    *report
                        .unsupported
                        .entry(package.ecosystem.clone())
                        .or_default() += 1;
                    continue;
                }
            };
            let mut ranges = Vec::new();
            let mut compiled = Vec::new();
            for range in &affected.ranges {
                let semver = match range.kind.as_str() {
                    "SEMVER" => true,
                    "ECOSYSTEM" => false,
                    // Commits cannot be ordered without the repository:
                    // GIT ranges count only through the listed versions.
                    "GIT" => {
                        for event in &range.events {
                            let is_commit = |t: &str| {
                                (7..=64).contains(&t.len())
                                    && t.bytes().all(|b| b.is_ascii_hexdigit())
                            };
                            if let Ok((_, text)) = event.parts()
                                && text != "0"
                                && !is_commit(text)
                            {
                                report.warnings.push((
                                    record.id.clone(),
                                    format!("a GIT range event `{text}` is not a commit"),
                                ));
                            }
                        }
                        continue;
                    }
                    other => return skip(report, format!("unknown range type `{other}`")),
                };
                let mut events = Vec::with_capacity(range.events.len());
                for event in &range.events {
                    match event.parts() {
                        Ok((kind, text)) => events.push((kind, text.to_owned())),
                        Err(why) => return skip(report, why),
                    }
                }
                match compile_range(ecosystem, semver, &events) {
                    Ok(range) => compiled.push((semver, range)),
                    Err(e) => return skip(report, e.to_string()),
                }
                ranges.push((semver, events));
            }
            let mut versions = Vec::new();
            for v in &affected.versions {
                // A listed version that a range already covers adds nothing
                // (affected = listed or in a range), and most records list
                // every version their ranges cover: those are not kept,
                // which keeps the index small and the lookup short.
                // A listed version the ecosystem's rules reject is kept as
                // text: the specification matches `versions` by string
                // equality, so `0.1-bulbasaur` matches itself.
                match ecosystem.parse(v) {
                    Ok(version) if in_a_range(ecosystem, v, &version, &compiled) => {}
                    _ => versions.push(v.clone()),
                }
            }
            entries.push((
                ecosystem,
                ecosystem.normalize_name(&package.name),
                StoredEntry {
                    advisory: 0,
                    versions,
                    ranges,
                },
            ));
        }
        let (cvss, score, severity) = severity_of(record);
        let advisory = Advisory {
            id: record.id.clone(),
            aliases: record.aliases.clone(),
            summary: record
                .summary
                .clone()
                .or_else(|| {
                    record
                        .details
                        .as_ref()
                        .map(|d| d.lines().next().unwrap_or_default().to_owned())
                })
                .unwrap_or_default(),
            modified: record.modified.clone(),
            published: record.published.clone(),
            cvss,
            score,
            severity,
            informational: informational_of(record),
            known_exploited: false,
            epss: None,
            kev: None,
            epss_percentile: None,
        };
        match postcard::to_stdvec(&advisory) {
            Ok(encoded) => Pending::Imported {
                modified: record.modified.clone(),
                advisory: encoded,
                entries,
            },
            Err(e) => skip(report, format!("cannot be stored ({e})")),
        }
    }

    /// The database, and what the import did.
    #[must_use]
    pub fn finish(self) -> (Database, ImportReport) {
        let mut report = self.report;
        report.skipped.sort();
        let mut advisories = Vec::new();
        let mut ids: Vec<(String, Pending)> = self.latest.into_iter().collect();
        ids.sort_by(|a, b| a.0.cmp(&b.0));
        let mut packages: BTreeMap<(Ecosystem, String), Vec<StoredEntry>> = BTreeMap::new();
        for (_, pending) in ids {
            match pending {
                Pending::Withdrawn { .. } => report.withdrawn += 1,
                Pending::Skipped { .. } => {}
                Pending::Imported {
                    advisory, entries, ..
                } => {
                    let index = u32::try_from(advisories.len()).unwrap_or(u32::MAX);
                    advisories.push(advisory);
                    report.imported += 1;
                    for (ecosystem, name, mut stored) in entries {
                        stored.advisory = index;
                        packages.entry((ecosystem, name)).or_default().push(stored);
                    }
                }
            }
        }
        let packages: Vec<_> = packages.into_iter().map(|((e, n), s)| (e, n, s)).collect();
        match Database::assemble_encoded(advisories, packages) {
            Ok(db) => (db, report),
            Err(e) => {
                // Said, never an empty database passed off as the feeds.
                report.skipped.push(("(every record)".into(), e));
                report.imported = 0;
                (Database::default(), report)
            }
        }
    }
}

impl Database {
    /// The database holding `advisories` and the packages' entries.
    fn assemble(advisories: Vec<Advisory>, packages: PackageEntries) -> Result<Database, String> {
        let encoded = advisories
            .iter()
            .map(|a| postcard::to_stdvec(a).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        Database::assemble_encoded(encoded, packages)
    }

    /// The same, the advisories already in their stored form.
    fn assemble_encoded(
        advisories: Vec<Vec<u8>>,
        packages: PackageEntries,
    ) -> Result<Database, String> {
        Database::from_vec(Index::encode(advisories, packages)?)
    }

    /// Every advisory and every package's entries, decoded (for the rare
    /// rewrite: enrichment at import).
    fn decode_all(&self) -> Result<(Vec<Advisory>, PackageEntries), String> {
        let advisories = self.advisories()?;
        let mut packages = Vec::with_capacity(self.index.package_count());
        for i in 0..self.index.package_count() {
            let (e, n) = self.index.package(i);
            packages.push((e, n.to_owned(), self.index.entries(i)?));
        }
        Ok((advisories, packages))
    }

    /// Builds a database from records (and unreadable ones, reported).
    /// A record id seen twice keeps the most recently modified one.
    pub fn build(
        records: impl IntoIterator<Item = Result<Record, (String, String)>>,
    ) -> (Database, ImportReport) {
        let mut builder = Builder::new();
        for record in records {
            builder.add(record);
        }
        builder.finish()
    }

    /// Rewrites every advisory with `mark` (through its id and aliases, for
    /// the catalogs keyed by CVE); returns how many it said it marked.
    fn annotate(&mut self, mut mark: impl FnMut(&mut Advisory) -> bool) -> Result<usize, String> {
        let (mut advisories, packages) = self.decode_all()?;
        let mut marked = 0;
        for a in &mut advisories {
            marked += usize::from(mark(a));
        }
        *self = Database::assemble(advisories, packages)?;
        Ok(marked)
    }

    /// Marks advisories whose CVE aliases are in CISA's KEV catalog (its
    /// JSON), with the catalog's dates and ransomware flag. An entry that
    /// cannot be read is reported and skipped; a file that is no catalog is
    /// an error.
    pub fn enrich_kev(&mut self, kev_json: &[u8]) -> Result<KevImport, String> {
        let v: serde_json::Value =
            serde_json::from_slice(kev_json).map_err(|e| format!("KEV catalog: {e}"))?;
        let entries = v
            .get("vulnerabilities")
            .and_then(|l| l.as_array())
            .ok_or("KEV catalog: no `vulnerabilities` list")?;
        let mut import = KevImport {
            catalog_version: v
                .get("catalogVersion")
                .and_then(|c| c.as_str())
                .map(str::to_owned),
            ..KevImport::default()
        };
        let mut listings: HashMap<String, KevListing> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            let text = |key: &str| e.get(key).and_then(|c| c.as_str());
            let Some(cve) = text("cveID").filter(|c| is_cve(c)) else {
                import
                    .skipped
                    .push(format!("entry {i}: no CVE id in `cveID`"));
                continue;
            };
            let Some(added) = text("dateAdded") else {
                import
                    .skipped
                    .push(format!("entry {i} ({cve}): no `dateAdded`"));
                continue;
            };
            listings.insert(
                cve.to_owned(),
                KevListing {
                    cve: cve.to_owned(),
                    date_added: added.to_owned(),
                    due_date: text("dueDate").map(str::to_owned),
                    ransomware: text("knownRansomwareCampaignUse")
                        .is_some_and(|k| k.eq_ignore_ascii_case("known")),
                },
            );
        }
        import.listed = listings.len();
        import.marked = self.annotate(|a| {
            let hit = a.ids().find_map(|id| listings.get(id));
            a.known_exploited = hit.is_some();
            a.kev = hit.cloned();
            hit.is_some()
        })?;
        Ok(import)
    }

    /// Attaches EPSS scores from FIRST's CSV (a `#model_version:…,score_date:…`
    /// comment, a `cve,epss,percentile` header, then one CVE a line),
    /// gzipped or not. A malformed line, an id that is no CVE and a score
    /// outside 0..1 are each reported with their line and skipped; the rest
    /// imports.
    pub fn enrich_epss(&mut self, bytes: &[u8]) -> Result<EpssImport, String> {
        let text = epss_text(bytes)?;
        let mut import = EpssImport::default();
        let mut problems = 0usize;
        let mut problem = |import: &mut EpssImport, line: usize, why: String| {
            problems += 1;
            if import.skipped.len() < MAX_LISTED_PROBLEMS {
                import.skipped.push((line, why));
            }
        };
        let mut scores: HashMap<&str, (f32, Option<f32>)> = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            let number = n + 1;
            let line = line.trim();
            if let Some(comment) = line.strip_prefix('#') {
                for pair in comment.split(',') {
                    match pair.split_once(':') {
                        Some(("model_version", v)) => {
                            import.model_version = Some(v.trim().to_owned())
                        }
                        Some(("score_date", v)) => import.score_date = Some(v.trim().to_owned()),
                        _ => {}
                    }
                }
                continue;
            }
            if line.is_empty() || line.starts_with("cve,") {
                continue;
            }
            let cols: Vec<&str> = line.split(',').map(str::trim).collect();
            let [cve, score, rest @ ..] = cols.as_slice() else {
                problem(&mut import, number, "expected `cve,epss,percentile`".into());
                continue;
            };
            if rest.len() > 1 {
                problem(
                    &mut import,
                    number,
                    format!("{} columns, expected 3", cols.len()),
                );
                continue;
            }
            if !is_cve(cve) {
                problem(&mut import, number, format!("`{cve}` is not a CVE id"));
                continue;
            }
            let probability = |v: &str, what: &str| -> Result<f32, String> {
                let p: f32 = v
                    .parse()
                    .map_err(|_| format!("{what} `{v}` is not a number"))?;
                if (0.0..=1.0).contains(&p) {
                    Ok(p)
                } else {
                    Err(format!("{what} {v} is not between 0 and 1"))
                }
            };
            let score = match probability(score, "score") {
                Ok(p) => p,
                Err(why) => {
                    problem(&mut import, number, why);
                    continue;
                }
            };
            let percentile = match rest.first().map(|v| probability(v, "percentile")) {
                None => None,
                Some(Ok(p)) => Some(p),
                Some(Err(why)) => {
                    problem(&mut import, number, why);
                    continue;
                }
            };
            scores.insert(cve, (score, percentile));
        }
        if problems > import.skipped.len() {
            let more = problems - import.skipped.len();
            import
                .skipped
                .push((0, format!("and {more} more lines like these")));
        }
        import.scores = scores.len();
        import.attached = self.annotate(|a| {
            let hit = a.ids().find_map(|id| scores.get(id)).copied();
            a.epss = hit.map(|(p, _)| p);
            a.epss_percentile = hit.and_then(|(_, q)| q);
            hit.is_some()
        })?;
        Ok(import)
    }

    /// The advisories affecting `version` of a package, or why the version
    /// cannot be judged.
    /// [`Database::matches`] for many packages, in order, spread over the
    /// machine's cores: the index is shared, and each package's ranges are
    /// compiled once by whichever thread meets it first.
    pub fn matches_all<'p>(
        &self,
        packages: &[(Ecosystem, &'p str, &'p str)],
    ) -> Vec<Result<Vec<Match<'_>>, VersionError>> {
        // Below this many, starting threads costs more than it saves.
        const PER_THREAD: usize = 2_000;
        // Asking for the cores reads the cgroup's files: not for a small scan.
        let threads = if packages.len() <= PER_THREAD {
            1
        } else {
            std::thread::available_parallelism()
                .map_or(1, std::num::NonZero::get)
                .min(packages.len().div_ceil(PER_THREAD))
        };
        if threads == 1 {
            return packages
                .iter()
                .map(|(e, n, v)| self.matches(*e, n, v))
                .collect();
        }
        let chunk = packages.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let handles: Vec<_> = packages
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .map(|(e, n, v)| self.matches(*e, n, v))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        })
    }

    /// The advisories affecting one package version.
    pub fn matches(
        &self,
        ecosystem: Ecosystem,
        name: &str,
        version: &str,
    ) -> Result<Vec<Match<'_>>, VersionError> {
        let name = ecosystem.normalize_name(name);
        let Some(at) = self.index.find(ecosystem, &name) else {
            return Ok(Vec::new());
        };
        let damaged = |why: &str| VersionError {
            ecosystem: ecosystem.osv_name().to_owned(),
            version: version.chars().take(100).collect(),
            reason: format!(
                "the vulnerability database is damaged ({why}); import the feeds again"
            ),
        };
        let entries = self
            .compiled
            .slot(at)
            .ok_or_else(|| damaged("a package past the end of its table"))?
            .get_or_init(|| {
                self.index
                    .entries(at)
                    .map(|stored| compile_entries(ecosystem, &stored))
            })
            .as_ref()
            .map_err(|e| damaged(e))?;
        let advisory = |i: u32| self.advisory(i as usize).map_err(|e| damaged(&e));
        let parsed = match ecosystem.parse(version) {
            Ok(v) => v,
            Err(e) => {
                // Not a version of the ecosystem: only a record listing this
                // very text can name it; otherwise it cannot be judged.
                let mut listed: Vec<Match<'_>> = Vec::new();
                for entry in entries {
                    if entry.unparsed.iter().any(|u| u == version) {
                        listed.push(Match {
                            advisory: advisory(entry.advisory)?,
                            fixed: &entry.fixed,
                        });
                    }
                }
                return if listed.is_empty() {
                    Err(e)
                } else {
                    Ok(listed)
                };
            }
        };
        // For SEMVER ranges over an ecosystem with other rules, parsed only
        // if such a range is met.
        let semver_form = std::cell::OnceCell::new();
        let mut out: Vec<Match<'_>> = Vec::new();
        for entry in entries {
            let listed = entry
                .versions
                .iter()
                .any(|v| v.compare(&parsed) == Some(std::cmp::Ordering::Equal));
            let in_range = || -> Result<bool, VersionError> {
                for (semver, range) in &entry.ranges {
                    let v = if *semver && !matches!(parsed, Version::Semver(_)) {
                        semver_form
                            .get_or_init(|| Ecosystem::parse_semver_range(version))
                            .as_ref()
                            .map_err(Clone::clone)?
                    } else {
                        &parsed
                    };
                    if range.contains(v, |a, b| a.compare(b).unwrap_or(std::cmp::Ordering::Equal)) {
                        return Ok(true);
                    }
                }
                Ok(false)
            };
            if listed || in_range()? {
                let advisory = advisory(entry.advisory)?;
                if !out.iter().any(|m| m.advisory.id == advisory.id) {
                    out.push(Match {
                        advisory,
                        fixed: &entry.fixed,
                    });
                }
            }
        }
        Ok(out)
    }

    /// Advisory `i`, decoded once.
    fn advisory(&self, i: usize) -> Result<&Advisory, String> {
        let slot = self
            .decoded
            .slot(i)
            .ok_or_else(|| format!("no advisory {i}"))?;
        if let Some(a) = slot.get() {
            return Ok(a);
        }
        let a = Box::new(self.index.advisory(i)?);
        Ok(slot.get_or_init(|| a))
    }

    /// Every advisory, decoded.
    pub fn advisories(&self) -> Result<Vec<Advisory>, String> {
        (0..self.index.advisory_count())
            .map(|i| self.index.advisory(i))
            .collect()
    }

    /// How many advisories the database holds.
    #[must_use]
    pub fn advisory_count(&self) -> usize {
        self.index.advisory_count()
    }

    /// What changed from `older` to this database: the ids of advisories
    /// added, modified (a different `modified`) or gone (withdrawn or
    /// removed), and the packages (ecosystem, normalized name) any of them
    /// names in either database — what a portfolio must re-match.
    pub fn changes_since(&self, older: &Database) -> Result<FeedChanges, String> {
        // An advisory changed when its record did, or when its exploitation
        // signals did (a KEV listing, a new EPSS score): findings show them.
        let ids = |db: &Database| -> Result<Vec<(String, String)>, String> {
            Ok(db
                .advisories()?
                .into_iter()
                .map(|a| {
                    let signals = format!(
                        "{}|{:?}|{:?}|{:?}",
                        a.modified,
                        a.kev,
                        a.epss.map(f32::to_bits),
                        a.epss_percentile.map(f32::to_bits)
                    );
                    (a.id, signals)
                })
                .collect())
        };
        let (now_ids, before_ids) = (ids(self)?, ids(older)?);
        let now: HashMap<&str, &str> = now_ids
            .iter()
            .map(|(i, m)| (i.as_str(), m.as_str()))
            .collect();
        let before: HashMap<&str, &str> = before_ids
            .iter()
            .map(|(i, m)| (i.as_str(), m.as_str()))
            .collect();
        let mut changed: BTreeSet<String> = now
            .iter()
            .filter(|(id, modified)| before.get(*id) != Some(*modified))
            .map(|(id, _)| (*id).to_owned())
            .collect();
        changed.extend(
            before
                .keys()
                .filter(|id| !now.contains_key(*id))
                .map(|id| (*id).to_owned()),
        );
        let mut packages = BTreeSet::new();
        for (db, ids) in [(self, &now_ids), (older, &before_ids)] {
            for i in 0..db.index.package_count() {
                let names_one = db.index.entries(i)?.iter().any(|e| {
                    ids.get(e.advisory as usize)
                        .is_some_and(|(id, _)| changed.contains(id))
                });
                if names_one {
                    let (ecosystem, name) = db.index.package(i);
                    packages.insert((ecosystem, name.to_owned()));
                }
            }
        }
        Ok((changed, packages))
    }

    /// The ecosystems the database holds advisories for.
    #[must_use]
    pub fn ecosystems(&self) -> BTreeSet<Ecosystem> {
        self.index.ecosystems()
    }

    /// Packages indexed.
    #[must_use]
    pub fn package_count(&self) -> usize {
        self.index.package_count()
    }

    /// The indexed packages, by ecosystem and normalized name.
    #[must_use]
    pub fn package_names(&self) -> Vec<(Ecosystem, String)> {
        (0..self.index.package_count())
            .map(|i| {
                let (e, n) = self.index.package(i);
                (e, n.to_owned())
            })
            .collect()
    }

    /// The on-disk form.
    pub fn to_bytes(&self) -> Result<Vec<u8>, String> {
        self.index.to_vec()
    }

    /// Reads the on-disk form: its tables are checked, its records decoded
    /// when a lookup needs them.
    pub fn from_bytes(bytes: &[u8]) -> Result<Database, String> {
        Database::from_vec(bytes.to_vec())
    }

    fn from_vec(bytes: Vec<u8>) -> Result<Database, String> {
        Database::from_index(Index::open(bytes)?)
    }

    fn from_index(index: Index) -> Result<Database, String> {
        Ok(Database {
            compiled: LazySlots::new(index.package_count()),
            decoded: LazySlots::new(index.advisory_count()),
            index,
        })
    }

    /// Writes the database to `path` atomically: a new file beside it,
    /// renamed over the old one, so a failed write leaves the old one whole.
    pub fn save(&self, path: &Path) -> Result<(), DbError> {
        let err = |m: String| DbError::File {
            path: path.display().to_string(),
            message: m,
        };
        let bytes = self.index.to_vec().map_err(err)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
        }
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, bytes).map_err(|e| err(e.to_string()))?;
        std::fs::rename(&tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            err(e.to_string())
        })
    }

    pub fn load(path: &Path) -> Result<Database, DbError> {
        let err = |m: String| DbError::File {
            path: path.display().to_string(),
            message: m,
        };
        let opening = |e: std::io::Error| {
            err(if e.kind() == std::io::ErrorKind::NotFound {
                "not found; run `embargo db import` first".into()
            } else {
                e.to_string()
            })
        };
        // The tables are read and checked now, the records when a lookup
        // needs them: a scan of a small project reads a few kilobytes of a
        // database of any size.
        #[cfg(unix)]
        let index = Index::open_file(std::fs::File::open(path).map_err(opening)?);
        #[cfg(not(unix))]
        let index = Index::open(std::fs::read(path).map_err(opening)?);
        Database::from_index(index.map_err(err)?).map_err(err)
    }
}

/// A package's stored entries compiled for matching. The import checked
/// every bound, so none fails here unless the file was altered; such an
/// entry is left out.
fn compile_entries(ecosystem: Ecosystem, entries: &[StoredEntry]) -> Vec<Entry> {
    entries
        .iter()
        .filter_map(|e| {
            let ranges = e
                .ranges
                .iter()
                .map(|(semver, events)| {
                    compile_range(ecosystem, *semver, events).map(|r| (*semver, r))
                })
                .collect::<Result<Vec<_>, _>>()
                .ok()?;
            // Each listed version parsed once: by the ecosystem's rules, or
            // kept as text.
            let (mut versions, mut unparsed) = (Vec::new(), Vec::new());
            for v in &e.versions {
                match ecosystem.parse(v) {
                    Ok(parsed) => versions.push(parsed),
                    Err(_) => unparsed.push(v.clone()),
                }
            }
            Some(Entry {
                advisory: e.advisory,
                versions,
                unparsed,
                ranges,
                fixed: e.fixed(),
            })
        })
        .collect()
}

#[derive(Debug, thiserror::Error)]
enum CompileError {
    #[error("{0}")]
    Version(#[from] VersionError),
    #[error("{0}")]
    Malformed(String),
}

fn compile_range(
    ecosystem: Ecosystem,
    semver: bool,
    events: &[(EventKind, String)],
) -> Result<CompiledRange<Version>, CompileError> {
    let parse = |s: &str| {
        if semver && !ecosystem.uses_semver() {
            Ecosystem::parse_semver_range(s)
        } else {
            ecosystem.parse(s)
        }
    };
    let events = events.iter().map(|(kind, v)| Ok((*kind, v.as_str())));
    osv::compile_events(events, parse, |a, b| {
        a.compare(b).unwrap_or(std::cmp::Ordering::Equal)
    })
    .map_err(|e| match e {
        osv::RangeError::Malformed(m) => CompileError::Malformed(m),
        osv::RangeError::Version(v) => CompileError::Version(v),
    })
}
