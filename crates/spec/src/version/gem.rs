//! RubyGems versions, ordered as `Gem::Version#<=>` orders them: the
//! version splits into numbers and letter runs (`1.0.a10` is `1 0 a 10`; a
//! `-` reads as `.pre.`); trailing zeros of the release part and of the
//! pre-release part are dropped; then segment by segment, a missing one is
//! zero, letters sort before numbers (so any letter makes a pre-release),
//! letters compare as bytes, numbers as numbers.

use std::cmp::Ordering;

use super::VersionError;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// Digits without leading zeros ("" for zero).
    Number(String),
    Text(String),
}

const ZERO: Segment = Segment::Number(String::new());

/// A parsed RubyGems version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gem {
    canonical: Vec<Segment>,
}

impl Gem {
    pub fn parse(text: &str) -> Result<Gem, VersionError> {
        let err = |reason: &str| VersionError::new("RubyGems", text, reason);
        let t = text.trim();
        if !valid(t) {
            return Err(err(
                "expected digits, then dot-separated letters and digits, then an optional `-` label",
            ));
        }
        let t = if t.is_empty() { "0" } else { t };
        let spelled = t.replace('-', ".pre.");
        let mut segments = Vec::new();
        let bytes = spelled.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let start = i;
            if bytes[i].is_ascii_digit() {
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                let digits = spelled[start..i].trim_start_matches('0');
                segments.push(Segment::Number(digits.to_owned()));
            } else if bytes[i].is_ascii_alphabetic() {
                while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                    i += 1;
                }
                segments.push(Segment::Text(spelled[start..i].to_owned()));
            } else {
                i += 1;
            }
        }
        // Canonical form: trailing zeros dropped from the release numbers
        // and from the pre-release part separately.
        let split = segments
            .iter()
            .position(|s| matches!(s, Segment::Text(_)))
            .unwrap_or(segments.len());
        let (release, pre) = segments.split_at(split);
        let mut canonical = Vec::with_capacity(segments.len());
        for part in [release, pre] {
            let keep = part.len() - part.iter().rev().take_while(|s| **s == ZERO).count();
            canonical.extend_from_slice(&part[..keep]);
        }
        Ok(Gem { canonical })
    }
}

/// `[0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?`, or empty.
fn valid(t: &str) -> bool {
    if t.is_empty() {
        return true;
    }
    let (main, label) = match t.split_once('-') {
        Some((m, l)) => (m, Some(l)),
        None => (t, None),
    };
    let mut parts = main.split('.');
    let first_ok = parts
        .next()
        .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let rest_ok = parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    let label_ok = label.is_none_or(|l| {
        l.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    });
    first_ok && rest_ok && label_ok
}

impl Ord for Gem {
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = (&self.canonical, &other.canonical);
        let zero = ZERO;
        for i in 0..a.len().max(b.len()) {
            let x = a.get(i).unwrap_or(&zero);
            let y = b.get(i).unwrap_or(&zero);
            let order = match (x, y) {
                (Segment::Number(m), Segment::Number(n)) => {
                    m.len().cmp(&n.len()).then_with(|| m.cmp(n))
                }
                (Segment::Text(_), Segment::Number(_)) => Ordering::Less,
                (Segment::Number(_), Segment::Text(_)) => Ordering::Greater,
                (Segment::Text(m), Segment::Text(n)) => m.cmp(n),
            };
            if order != Ordering::Equal {
                return order;
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for Gem {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        Gem::parse(a).unwrap().cmp(&Gem::parse(b).unwrap())
    }

    #[test]
    fn prereleases_sort_between_releases() {
        let ordered = [
            "0.9", "1.0.a.2", "1.0.a10", "1.0.b1", "1.0", "1.0.1", "3.2", "3.10",
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
        assert_eq!(cmp("1.0.0", "1"), Ordering::Equal);
        assert_eq!(cmp("1.0-rc1", "1.0.pre.rc1"), Ordering::Equal);
        assert!(Gem::parse("1..2").is_err());
        assert!(Gem::parse("a.1").is_err());
    }
}
