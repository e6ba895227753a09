//! PyPI versions by PEP 440: epochs, releases of any length, pre-, post- and
//! development releases, local versions, and the normalizations the PEP
//! allows (case, separators, spelled-out pre-release names, implicit
//! numbers, a leading `v`). Ordering follows the PEP's rules as the
//! reference implementation (`packaging`) applies them.

use std::cmp::Ordering;

use super::VersionError;

/// A parsed PEP 440 version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pep440 {
    epoch: u64,
    /// The release numbers with trailing zeros removed (1.0 == 1.0.0).
    release: Vec<u64>,
    /// (0 = a, 1 = b, 2 = rc, number).
    pre: Option<(u8, u64)>,
    post: Option<u64>,
    dev: Option<u64>,
    local: Vec<LocalPart>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum LocalPart {
    Text(String),
    Number(u64),
}

impl Ord for LocalPart {
    fn cmp(&self, other: &Self) -> Ordering {
        // Numbers sort after text.
        match (self, other) {
            (LocalPart::Number(a), LocalPart::Number(b)) => a.cmp(b),
            (LocalPart::Text(a), LocalPart::Text(b)) => a.cmp(b),
            (LocalPart::Number(_), LocalPart::Text(_)) => Ordering::Greater,
            (LocalPart::Text(_), LocalPart::Number(_)) => Ordering::Less,
        }
    }
}

impl PartialOrd for LocalPart {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A cursor over the lowercased version text.
struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn eat_sep(&mut self) -> bool {
        matches!(self.peek(), Some(b'.' | b'-' | b'_')) && {
            self.i += 1;
            true
        }
    }
    fn number(&mut self) -> Result<Option<u64>, ()> {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        if start == self.i {
            return Ok(None);
        }
        std::str::from_utf8(&self.s[start..self.i])
            .map_err(|_| ())?
            .parse()
            .map(Some)
            .map_err(|_| ())
    }
    /// `[-_.]?N?` after a pre/post/dev word: the number, 0 when absent
    /// (and then the separator is not consumed).
    fn implicit_number(&mut self) -> Result<u64, ()> {
        let before_sep = self.i;
        self.eat_sep();
        match self.number()? {
            Some(n) => Ok(n),
            None => {
                self.i = before_sep;
                Ok(0)
            }
        }
    }
    fn word(&mut self, words: &[&str]) -> Option<usize> {
        // Longest first, so "preview" wins over "pre".
        let rest = &self.s[self.i..];
        let mut best: Option<(usize, usize)> = None;
        for (k, w) in words.iter().enumerate() {
            if rest.starts_with(w.as_bytes()) && best.is_none_or(|(_, len)| w.len() > len) {
                best = Some((k, w.len()));
            }
        }
        best.map(|(k, len)| {
            self.i += len;
            k
        })
    }
}

impl Pep440 {
    /// Parses `text`; surrounding whitespace and a leading `v` are allowed.
    pub fn parse(text: &str) -> Result<Pep440, VersionError> {
        let lower = text.trim().to_ascii_lowercase();
        let bad = |why: &str| VersionError::new("PyPI", text, why);
        let mut c = Cursor {
            s: lower.as_bytes(),
            i: 0,
        };
        c.eat(b'v');
        let first = c
            .number()
            .map_err(|()| bad("a number is too large"))?
            .ok_or_else(|| bad("it does not start with a release number"))?;
        let (epoch, mut release) = if c.eat(b'!') {
            let r = c
                .number()
                .map_err(|()| bad("a number is too large"))?
                .ok_or_else(|| bad("no release number after the epoch"))?;
            (first, vec![r])
        } else {
            (0, vec![first])
        };
        loop {
            let save = c.i;
            if c.eat(b'.') {
                match c.number().map_err(|()| bad("a number is too large"))? {
                    Some(n) => release.push(n),
                    None => {
                        c.i = save;
                        break;
                    }
                }
            } else {
                break;
            }
        }
        // Pre-release: [-_.]?(a|alpha|b|beta|c|rc|pre|preview)[-_.]?N?
        let save = c.i;
        c.eat_sep();
        let pre = match c.word(&["a", "alpha", "b", "beta", "c", "rc", "pre", "preview"]) {
            Some(k) => {
                let kind = match k {
                    0 | 1 => 0,
                    2 | 3 => 1,
                    _ => 2,
                };
                let n = c
                    .implicit_number()
                    .map_err(|()| bad("a number is too large"))?;
                Some((kind, n))
            }
            None => {
                c.i = save;
                None
            }
        };
        // Post-release: -N, or [-_.]?(post|rev|r)[-_.]?N?
        let save = c.i;
        let post = if c.eat(b'-')
            && let Some(n) = c.number().map_err(|()| bad("a number is too large"))?
        {
            Some(n)
        } else {
            c.i = save;
            c.eat_sep();
            if c.word(&["post", "rev", "r"]).is_some() {
                Some(
                    c.implicit_number()
                        .map_err(|()| bad("a number is too large"))?,
                )
            } else {
                c.i = save;
                None
            }
        };
        // Development release: [-_.]?dev[-_.]?N?
        let save = c.i;
        c.eat_sep();
        let dev = if c.word(&["dev"]).is_some() {
            Some(
                c.implicit_number()
                    .map_err(|()| bad("a number is too large"))?,
            )
        } else {
            c.i = save;
            None
        };
        // Local version: +[a-z0-9]+([-_.][a-z0-9]+)*
        let mut local = Vec::new();
        if c.eat(b'+') {
            let rest = &lower[c.i..];
            for part in rest.split(['.', '-', '_']) {
                if part.is_empty() || !part.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return Err(bad("the local version is malformed"));
                }
                local.push(match part.parse::<u64>() {
                    Ok(n) if part.bytes().all(|b| b.is_ascii_digit()) => LocalPart::Number(n),
                    _ if part.bytes().all(|b| b.is_ascii_digit()) => {
                        return Err(bad("a number is too large"));
                    }
                    _ => LocalPart::Text(part.to_owned()),
                });
            }
            c.i = lower.len();
        }
        if c.i != lower.len() {
            return Err(bad(&format!(
                "unexpected `{}`",
                &lower[c.i..].chars().take(20).collect::<String>()
            )));
        }
        while release.len() > 1 && release.last() == Some(&0) {
            release.pop();
        }
        Ok(Pep440 {
            epoch,
            release,
            pre,
            post,
            dev,
            local,
        })
    }

    /// Whether this is a pre- or development release.
    #[must_use]
    pub fn is_prerelease(&self) -> bool {
        self.pre.is_some() || self.dev.is_some()
    }
}

/// The position of the pre-release in the order: a dev release of the final
/// (no pre, no post) sorts before every pre-release; no pre-release after all.
fn pre_key(v: &Pep440) -> (i8, u8, u64) {
    match v.pre {
        Some((kind, n)) => (0, kind, n),
        None if v.post.is_none() && v.dev.is_some() => (-1, 0, 0),
        None => (1, 0, 0),
    }
}

impl Ord for Pep440 {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| {
                // Compare releases as if padded with zeros (trailing ones are gone).
                let n = self.release.len().max(other.release.len());
                (0..n)
                    .map(|i| {
                        self.release
                            .get(i)
                            .unwrap_or(&0)
                            .cmp(other.release.get(i).unwrap_or(&0))
                    })
                    .find(|o| o.is_ne())
                    .unwrap_or(Ordering::Equal)
            })
            .then_with(|| pre_key(self).cmp(&pre_key(other)))
            .then_with(|| match (self.post, other.post) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(a), Some(b)) => a.cmp(&b),
            })
            .then_with(|| match (self.dev, other.dev) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => a.cmp(&b),
            })
            .then_with(|| match (self.local.is_empty(), other.local.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Less,
                (false, true) => Ordering::Greater,
                (false, false) => self.local.cmp(&other.local),
            })
    }
}

impl PartialOrd for Pep440 {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Pep440 {
        Pep440::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn the_peps_own_ordering_example_holds() {
        let ordered = [
            "1.dev0",
            "1.0.dev456",
            "1.0a1",
            "1.0a2.dev456",
            "1.0a12.dev456",
            "1.0a12",
            "1.0b1.dev456",
            "1.0b2",
            "1.0b2.post345.dev456",
            "1.0b2.post345",
            "1.0rc1.dev456",
            "1.0rc1",
            "1.0",
            "1.0+abc.5",
            "1.0+abc.7",
            "1.0+5",
            "1.0.post456.dev34",
            "1.0.post456",
            "1.0.15",
            "1.1.dev1",
        ];
        for pair in ordered.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
        }
    }

    #[test]
    fn normalizations_compare_equal() {
        for (a, b) in [
            ("1.0", "1.0.0"),
            ("v1.0", "1.0"),
            ("1.0ALPHA1", "1.0a1"),
            ("1.0-beta.2", "1.0b2"),
            ("1.0c1", "1.0rc1"),
            ("1.0preview3", "1.0rc3"),
            ("1.0-1", "1.0.post1"),
            ("1.0.rev", "1.0.post0"),
            ("1.0-dev", "1.0.dev0"),
            ("0!1.0", "1.0"),
            ("1.0+ubuntu-1", "1.0+ubuntu.1"),
            ("  1.2 ", "1.2"),
        ] {
            assert_eq!(v(a).cmp(&v(b)), Ordering::Equal, "{a} == {b}");
        }
        assert!(v("1!0.1") > v("2.0"), "epochs first");
    }

    #[test]
    fn malformed_versions_are_errors() {
        for bad in [
            "", "abc", "1.0+", "1.0+a..b", "1.0 beta", "1.0-", "1..0", "1.0junk",
        ] {
            assert!(Pep440::parse(bad).is_err(), "{bad:?}");
        }
    }
}
