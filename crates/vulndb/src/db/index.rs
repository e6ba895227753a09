//! The database's on-disk form, read in place: its tables read and checked
//! at load, then a binary search over a table of fixed-size rows, and only
//! the package looked up and the advisories it matches read from the file
//! and decoded. Loading a database of 300,000 advisories therefore costs a
//! read and a check of its tables (offsets, package rows and names), not a
//! read of every record nor its decoding. embargo forbids `unsafe`, so the
//! file is not memory-mapped: records are read at their offsets (`pread`),
//! each a copy of a few hundred bytes from the page cache. A database given
//! as bytes (an import, a test) is kept whole in memory instead.
//!
//! Layout, little-endian `u32`s after an 8-byte magic:
//!
//! ```text
//! magic "EMBOSV\0\0" | format | advisories A | packages P
//! advisory offsets: A + 1 u32, into the advisory blob
//! package rows: P + 1 × (ecosystem, name offset, entries offset), the last
//!   a sentinel holding the ends; rows sorted by (ecosystem, name)
//! name blob | entries blob (postcard, one Vec<StoredEntry> per package)
//! advisory blob (postcard, one Advisory each)
//! ```

use std::borrow::Cow;
use std::fs::File;
use std::sync::Arc;

use crate::version::Ecosystem;

use super::{Advisory, StoredEntry};

const MAGIC: &[u8; 8] = b"EMBOSV\0\0";
/// The layout's version; a different one is refused with a message.
pub(super) const FORMAT: u32 = 3;
const HEADER: usize = 8 + 4 * 3;
const ROW: usize = 12;

/// A database file's tables, checked, with the places of its sections.
#[derive(Debug, Clone)]
pub(super) struct Index {
    /// The file from its start through its name table: the whole file when
    /// `rest` is `None`.
    head: Vec<u8>,
    /// The file the records are read from, when they are not in `head`.
    rest: Option<Arc<File>>,
    /// The file's length.
    len: usize,
    advisories: usize,
    packages: usize,
    rows_at: usize,
    names_at: usize,
    entries_at: usize,
    blob_at: usize,
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn ecosystem_code(e: Ecosystem) -> u32 {
    Ecosystem::ALL
        .iter()
        .position(|x| *x == e)
        .and_then(|i| u32::try_from(i).ok())
        .unwrap_or(u32::MAX)
}

/// The ecosystem of a row's code ([`Index::open`] checked every code).
fn ecosystem_of(code: u32) -> Ecosystem {
    Ecosystem::ALL[(code as usize).min(Ecosystem::ALL.len() - 1)]
}

impl Index {
    /// Writes the layout from the advisories in their stored form (postcard)
    /// and each package's entries. `packages` are sorted here by (ecosystem, name).
    /// Both are consumed as they are written, so that an import's peak
    /// memory is the records' or the file's, hardly both.
    pub(super) fn encode(
        advisories: Vec<Vec<u8>>,
        mut packages: Vec<(Ecosystem, String, Vec<StoredEntry>)>,
    ) -> Result<Vec<u8>, String> {
        let too_large = || "the database outgrows its 4 GiB layout".to_owned();
        let count = |n: usize| u32::try_from(n).map_err(|_| too_large());
        let (advisory_count, package_count) = (count(advisories.len())?, count(packages.len())?);
        packages.sort_by(|a, b| (ecosystem_code(a.0), &a.1).cmp(&(ecosystem_code(b.0), &b.1)));
        let mut blob = Vec::new();
        let mut offsets = Vec::with_capacity(advisories.len() + 1);
        for a in advisories {
            offsets.push(count(blob.len())?);
            blob.extend(a);
        }
        offsets.push(count(blob.len())?);
        let (mut names, mut entries, mut rows): (Vec<u8>, Vec<u8>, Vec<[u32; 3]>) = (
            Vec::new(),
            Vec::new(),
            Vec::with_capacity(packages.len() + 1),
        );
        for (ecosystem, name, stored) in packages {
            rows.push([
                ecosystem_code(ecosystem),
                count(names.len())?,
                count(entries.len())?,
            ]);
            names.extend(name.as_bytes());
            entries = postcard::to_extend(&stored, entries).map_err(|e| e.to_string())?;
        }
        rows.push([0, count(names.len())?, count(entries.len())?]);
        let mut out = Vec::with_capacity(
            HEADER
                + 4 * offsets.len()
                + ROW * rows.len()
                + names.len()
                + entries.len()
                + blob.len(),
        );
        out.extend(MAGIC);
        for n in [FORMAT, advisory_count, package_count] {
            out.extend(n.to_le_bytes());
        }
        for o in offsets {
            out.extend(o.to_le_bytes());
        }
        for row in rows {
            for n in row {
                out.extend(n.to_le_bytes());
            }
        }
        out.extend(names);
        out.extend(entries);
        out.extend(blob);
        Ok(out)
    }

    /// The bytes of an empty database.
    pub(super) fn empty() -> Vec<u8> {
        Index::encode(Vec::new(), Vec::new()).unwrap_or_default()
    }

    /// An index of nothing, for the case no empty encoding could be read
    /// (which does not happen: [`Index::empty`] always opens).
    pub(super) fn unchecked_empty() -> Index {
        Index {
            head: Vec::new(),
            rest: None,
            len: 0,
            advisories: 0,
            packages: 0,
            rows_at: 0,
            names_at: 0,
            entries_at: 0,
            blob_at: 0,
        }
    }

    /// Checks a whole file's bytes: its tables (sizes, offsets in bounds
    /// and in order, names UTF-8 and sorted) so that every later read is in
    /// bounds; the records themselves are checked when decoded.
    pub(super) fn open(bytes: Vec<u8>) -> Result<Index, String> {
        let len = bytes.len();
        Index::check(bytes, None, len)
    }

    /// Reads a database file's tables, checked as [`Index::open`] does; its
    /// records stay in the file until a lookup needs them.
    #[cfg(unix)]
    pub(super) fn open_file(file: File) -> Result<Index, String> {
        use std::os::unix::fs::FileExt;
        let len = usize::try_from(file.metadata().map_err(|e| e.to_string())?.len())
            .map_err(|_| "larger than this machine can address".to_owned())?;
        let mut head = Vec::new();
        // The file's first `end` bytes, read onto what `head` holds.
        let read_to = |head: &mut Vec<u8>, end: usize| -> Result<(), String> {
            let from = head.len();
            if end > len {
                return Err(format!("truncated{AGAIN}"));
            }
            head.resize(end, 0);
            file.read_exact_at(&mut head[from..], from as u64)
                .map_err(|e| e.to_string())
        };
        read_to(&mut head, HEADER.min(len))?;
        let (_, _, _, names_at) = layout(&head)?;
        read_to(&mut head, names_at)?;
        let names_len = row_in(&head, names_at - ROW)[1] as usize;
        read_to(&mut head, names_at + names_len)?;
        Index::check(head, Some(Arc::new(file)), len)
    }

    /// Checks the tables in `head`, of a file of `len` bytes.
    fn check(head: Vec<u8>, rest: Option<Arc<File>>, len: usize) -> Result<Index, String> {
        let (advisories, packages, rows_at, names_at) = layout(&head)?;
        let bad = |what: &str| Err(format!("{what}{AGAIN}"));
        if names_at > head.len() {
            return bad("truncated");
        }
        let mut index = Index {
            head,
            rest,
            len,
            advisories,
            packages,
            rows_at,
            names_at,
            entries_at: 0,
            blob_at: 0,
        };
        let end = index.row(packages);
        index.entries_at = names_at + end[1] as usize;
        index.blob_at = index.entries_at + end[2] as usize;
        if index.entries_at > index.head.len() && index.rest.is_none() {
            return bad("truncated");
        }
        let blob_len = index.offset(advisories) as usize;
        if index.blob_at.checked_add(blob_len) != Some(len) {
            return bad("its sections do not add up to its size");
        }
        // One pass over each table, in order: a scan's load is mostly this
        // check, so it reads each table once, without a lookup per entry.
        let offsets = index.head.get(HEADER..rows_at).unwrap_or_default();
        let mut last = 0;
        for o in offsets.chunks_exact(4).map(le) {
            if o < last {
                return bad("its advisory offsets are out of order");
            }
            last = o;
        }
        let rows = index.head.get(rows_at..names_at).unwrap_or_default();
        let (mut name_end, mut entries_end) = (0, 0);
        for (i, row) in rows.chunks_exact(ROW).enumerate() {
            let [code, name, entries] = [0, 4, 8].map(|d| le(&row[d..]));
            if name < name_end
                || entries < entries_end
                || (i < packages && code as usize >= Ecosystem::ALL.len())
            {
                return bad("its package table is damaged");
            }
            (name_end, entries_end) = (name, entries);
        }
        // Every name UTF-8: the names together, and each name's ends on a
        // character's boundary (`str::get` checks both). The offsets rise
        // to the sentinel's, which ends the names.
        let Some(Ok(names)) = index
            .head
            .get(names_at..index.entries_at)
            .map(std::str::from_utf8)
        else {
            return bad("a package name is not UTF-8");
        };
        let mut previous: Option<(u32, &str)> = None;
        // Each row with the next one, which holds where its name ends.
        for pair in rows.windows(2 * ROW).step_by(ROW) {
            let (code, start, end) = (le(pair), le(&pair[4..]), le(&pair[ROW + 4..]));
            let Some(name) = names.get(start as usize..end as usize) else {
                return bad("a package name is not UTF-8");
            };
            if previous.is_some_and(|p| p >= (code, name)) {
                return bad("its packages are out of order");
            }
            previous = Some((code, name));
        }
        Ok(index)
    }

    /// The whole file's bytes, read from it if they are not all in memory.
    pub(super) fn to_vec(&self) -> Result<Vec<u8>, String> {
        Ok(self.record(0, self.len)?.into_owned())
    }

    /// Bytes `start..end` of the file.
    fn record(&self, start: usize, end: usize) -> Result<Cow<'_, [u8]>, String> {
        match &self.rest {
            None => self
                .head
                .get(start..end)
                .map(Cow::Borrowed)
                .ok_or_else(|| "a record lies outside the file".to_owned()),
            Some(file) => {
                if start > end || end > self.len {
                    return Err("a record lies outside the file".to_owned());
                }
                let mut buf = vec![0; end - start];
                read_at(file, &mut buf, start).map_err(|e| format!("reading a record: {e}"))?;
                Ok(Cow::Owned(buf))
            }
        }
    }

    pub(super) fn advisory_count(&self) -> usize {
        self.advisories
    }

    pub(super) fn package_count(&self) -> usize {
        self.packages
    }

    fn offset(&self, i: usize) -> u32 {
        u32_at(&self.head, HEADER + 4 * i).unwrap_or(0)
    }

    fn row(&self, i: usize) -> [u32; 3] {
        row_in(&self.head, self.rows_at + ROW * i)
    }

    fn name_bytes(&self, i: usize) -> &[u8] {
        let (start, end) = (self.row(i)[1] as usize, self.row(i + 1)[1] as usize);
        self.head
            .get(self.names_at + start..self.names_at + end)
            .unwrap_or_default()
    }

    fn key(&self, i: usize) -> (u32, &[u8]) {
        (self.row(i)[0], self.name_bytes(i))
    }

    /// Package `i`: its ecosystem and normalized name.
    pub(super) fn package(&self, i: usize) -> (Ecosystem, &str) {
        (
            ecosystem_of(self.row(i)[0]),
            std::str::from_utf8(self.name_bytes(i)).unwrap_or_default(),
        )
    }

    /// The ecosystems of the packages, read from their rows' codes alone:
    /// the rows are sorted by ecosystem, so one search per ecosystem.
    pub(super) fn ecosystems(&self) -> std::collections::BTreeSet<Ecosystem> {
        let mut out = std::collections::BTreeSet::new();
        let mut at = 0;
        while at < self.packages {
            let code = self.row(at)[0];
            out.insert(ecosystem_of(code));
            // The first row of the next ecosystem.
            let (mut low, mut high) = (at + 1, self.packages);
            while low < high {
                let mid = low + (high - low) / 2;
                if self.row(mid)[0] == code {
                    low = mid + 1;
                } else {
                    high = mid;
                }
            }
            at = low;
        }
        out
    }

    /// The row of a package, by binary search.
    pub(super) fn find(&self, ecosystem: Ecosystem, name: &str) -> Option<usize> {
        let wanted = (ecosystem_code(ecosystem), name.as_bytes());
        let (mut low, mut high) = (0, self.packages);
        while low < high {
            let mid = low + (high - low) / 2;
            match self.key(mid).cmp(&wanted) {
                std::cmp::Ordering::Less => low = mid + 1,
                std::cmp::Ordering::Greater => high = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// Package `i`'s entries, decoded.
    pub(super) fn entries(&self, i: usize) -> Result<Vec<StoredEntry>, String> {
        let (start, end) = (self.row(i)[2] as usize, self.row(i + 1)[2] as usize);
        let bytes = self.record(self.entries_at + start, self.entries_at + end)?;
        postcard::from_bytes(&bytes).map_err(|e| format!("a damaged entry ({e})"))
    }

    /// Advisory `i`, decoded.
    pub(super) fn advisory(&self, i: usize) -> Result<Advisory, String> {
        if i >= self.advisories {
            return Err(format!("no advisory {i}"));
        }
        let (start, end) = (self.offset(i) as usize, self.offset(i + 1) as usize);
        let bytes = self.record(self.blob_at + start, self.blob_at + end)?;
        postcard::from_bytes(&bytes).map_err(|e| format!("a damaged advisory ({e})"))
    }
}

/// What every refusal of a damaged file ends with.
const AGAIN: &str = "; import the feeds again";

/// The counts and the places of the tables, from a file's first bytes.
fn layout(head: &[u8]) -> Result<(usize, usize, usize, usize), String> {
    if head.get(..8) != Some(MAGIC.as_slice()) {
        return Err(format!(
            "not an embargo database, or of an older format{AGAIN}"
        ));
    }
    let header = |at| u32_at(head, at).map(|n| n as usize);
    let (Some(format), Some(advisories), Some(packages)) = (header(8), header(12), header(16))
    else {
        return Err(format!("truncated{AGAIN}"));
    };
    if format != FORMAT as usize {
        return Err(format!(
            "written in format {format} (this embargo reads format {FORMAT}){AGAIN}"
        ));
    }
    let rows_at = advisories
        .checked_add(1)
        .and_then(|n| n.checked_mul(4))
        .and_then(|n| n.checked_add(HEADER));
    let names_at = rows_at.and_then(|r| {
        packages
            .checked_add(1)
            .and_then(|n| n.checked_mul(ROW))
            .and_then(|n| n.checked_add(r))
    });
    match (rows_at, names_at) {
        (Some(rows_at), Some(names_at)) => Ok((advisories, packages, rows_at, names_at)),
        _ => Err(format!("its counts are impossible{AGAIN}")),
    }
}

/// The `u32` a table entry starts with (its caller holds four bytes or more).
#[inline(always)]
fn le(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// The row at byte `at` of the tables.
fn row_in(head: &[u8], at: usize) -> [u32; 3] {
    [0, 4, 8].map(|d| u32_at(head, at + d).unwrap_or(0))
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], at: usize) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, at as u64)
}

/// Elsewhere a database is loaded whole ([`Index::open`]): no record is
/// read from a file.
#[cfg(not(unix))]
fn read_at(_: &File, _: &mut [u8], _: usize) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}
