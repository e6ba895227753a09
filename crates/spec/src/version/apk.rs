//! Alpine (apk) versions: `1.2.3a_rc2_p1-r4`. Numbers, one optional letter,
//! suffixes ordered `_alpha < _beta < _pre < _rc < (none) < _cvs < _svn <
//! _git < _hg < _p`, each with an optional number, then a package revision
//! `-rN`. A number with a leading zero after the first compares as a
//! decimal fraction (`1.05 < 1.1`), as apk does.

use std::cmp::Ordering;

use super::VersionError;

/// A parsed Alpine package version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Apk {
    numbers: Vec<String>,
    letter: Option<u8>,
    suffixes: Vec<(i8, String)>,
    revision: String,
}

fn suffix_rank(name: &str) -> Option<i8> {
    Some(match name {
        "alpha" => -4,
        "beta" => -3,
        "pre" => -2,
        "rc" => -1,
        "cvs" => 1,
        "svn" => 2,
        "git" => 3,
        "hg" => 4,
        "p" => 5,
        _ => return None,
    })
}

fn digits(s: &str) -> usize {
    s.bytes().take_while(u8::is_ascii_digit).count()
}

impl Apk {
    pub fn parse(text: &str) -> Result<Apk, VersionError> {
        let err = |reason: &str| VersionError::new("Alpine", text, reason);
        let t = text.trim();
        let (t, revision) = match t.rsplit_once("-r") {
            Some((v, r)) if !r.is_empty() && digits(r) == r.len() => {
                (v, r.trim_start_matches('0').to_owned())
            }
            _ => (t, String::new()),
        };
        let mut rest = t;
        let mut numbers = Vec::new();
        loop {
            let n = digits(rest);
            if n == 0 {
                return Err(err("expected a number"));
            }
            numbers.push(rest[..n].to_owned());
            rest = &rest[n..];
            match rest.strip_prefix('.') {
                Some(after) => rest = after,
                None => break,
            }
        }
        if numbers[0].len() > 1 && numbers[0].starts_with('0') {
            return Err(err("the first number has a leading zero"));
        }
        let letter = match rest.as_bytes().first() {
            Some(b) if b.is_ascii_alphabetic() => {
                rest = &rest[1..];
                Some(*b)
            }
            _ => None,
        };
        let mut suffixes = Vec::new();
        while let Some(after) = rest.strip_prefix('_') {
            let name_len = after.bytes().take_while(u8::is_ascii_lowercase).count();
            let rank = suffix_rank(&after[..name_len]).ok_or_else(|| {
                err("unknown suffix (alpha, beta, pre, rc, cvs, svn, git, hg, p)")
            })?;
            let after = &after[name_len..];
            let n = digits(after);
            suffixes.push((rank, after[..n].trim_start_matches('0').to_owned()));
            rest = &after[n..];
        }
        if !rest.is_empty() {
            return Err(err("unexpected text after the version"));
        }
        Ok(Apk {
            numbers,
            letter,
            suffixes,
            revision,
        })
    }
}

fn cmp_integers(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn cmp_component(a: &str, b: &str) -> Ordering {
    if a == b {
        Ordering::Equal
    } else if !a.starts_with('0') && !b.starts_with('0') {
        cmp_integers(a, b)
    } else {
        // A leading zero: compared as the digits of a fraction.
        a.trim_end_matches('0').cmp(b.trim_end_matches('0'))
    }
}

impl Ord for Apk {
    fn cmp(&self, other: &Self) -> Ordering {
        let release = || {
            for (a, b) in self.numbers.iter().zip(&other.numbers) {
                let order = cmp_component(a, b);
                if order != Ordering::Equal {
                    return order;
                }
            }
            self.numbers
                .len()
                .cmp(&other.numbers.len())
                .then_with(|| self.letter.cmp(&other.letter))
        };
        let suffixes = || {
            for i in 0..self.suffixes.len().max(other.suffixes.len()) {
                let order = match (self.suffixes.get(i), other.suffixes.get(i)) {
                    (Some((r, _)), None) => r.cmp(&0),
                    (None, Some((r, _))) => 0.cmp(r),
                    (Some((r, n)), Some((s, m))) => r.cmp(s).then_with(|| cmp_integers(n, m)),
                    (None, None) => Ordering::Equal,
                };
                if order != Ordering::Equal {
                    return order;
                }
            }
            Ordering::Equal
        };
        release()
            .then_with(suffixes)
            .then_with(|| cmp_integers(&self.revision, &other.revision))
    }
}

impl PartialOrd for Apk {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        Apk::parse(a).unwrap().cmp(&Apk::parse(b).unwrap())
    }

    #[test]
    fn suffixes_letters_and_revisions() {
        let ordered = [
            "1.2_alpha",
            "1.2_beta2",
            "1.2_pre",
            "1.2_rc1",
            "1.2",
            "1.2-r1",
            "1.2_git2020",
            "1.2_p1",
            "1.2a",
            "1.2.1",
            "1.10",
        ];
        for pair in ordered.windows(2) {
            assert_eq!(
                cmp(pair[0], pair[1]),
                Ordering::Less,
                "{} < {}",
                pair[0],
                pair[1]
            );
        }
        assert_eq!(cmp("1.05", "1.1"), Ordering::Less);
        assert_eq!(cmp("1.2-r0", "1.2"), Ordering::Equal);
        assert!(Apk::parse("1.2_foo").is_err());
        assert!(Apk::parse("01.2").is_err());
    }
}
