//! Packagist (Composer) versions: normalized as Composer's `VersionParser`
//! does (an optional `v`, up to four numbers padded to four, a stability
//! suffix spelled out: `a` → `alpha`, `b` → `beta`, `rc` → `RC`, `p`/`pl` →
//! `patch`, and an optional `-dev`), then ordered as PHP's
//! `version_compare` orders the normalized strings: `dev < alpha < beta <
//! RC < (release) < patch`.

use std::cmp::Ordering;

use super::VersionError;

/// A parsed Composer version, kept as its normalized spelling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composer {
    normalized: String,
}

impl Composer {
    pub fn parse(text: &str) -> Result<Composer, VersionError> {
        let err = |reason: &str| VersionError::new("Packagist", text, reason);
        let t = text.trim();
        let t = t.split_once('+').map_or(t, |(v, _)| v);
        let t = t
            .strip_prefix('v')
            .or_else(|| t.strip_prefix('V'))
            .unwrap_or(t);
        let bytes = t.as_bytes();
        // Up to four dot-separated numbers.
        let mut numbers: Vec<&str> = Vec::new();
        let mut i = 0;
        loop {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if i == start {
                return Err(err(if numbers.is_empty() {
                    "expected a number first (branch names such as dev-main are not versions)"
                } else {
                    "expected a number after `.`"
                }));
            }
            numbers.push(&t[start..i]);
            if numbers.len() < 4
                && i + 1 < bytes.len()
                && bytes[i] == b'.'
                && bytes[i + 1].is_ascii_digit()
            {
                i += 1;
            } else {
                break;
            }
        }
        let mut normalized = numbers
            .iter()
            .map(|n| {
                let n = n.trim_start_matches('0');
                if n.is_empty() { "0" } else { n }
            })
            .collect::<Vec<_>>()
            .join(".");
        for _ in numbers.len()..4 {
            normalized.push_str(".0");
        }
        let rest = t[i..].to_ascii_lowercase();
        let suffix = normalize_suffix(&rest).ok_or_else(|| {
            err("after the numbers only a stability (alpha, beta, RC, patch with a number) and -dev may follow")
        })?;
        normalized.push_str(&suffix);
        Ok(Composer { normalized })
    }
}

/// `[._-]?(stable|beta|b|rc|alpha|a|patch|pl|p)?((?:[.-]?\d+)*)?([.-]?dev)?`,
/// spelled as Composer normalizes it.
fn normalize_suffix(rest: &str) -> Option<String> {
    let mut s = rest;
    if s.is_empty() {
        return Some(String::new());
    }
    s = s.strip_prefix(['.', '_', '-']).unwrap_or(s);
    let mut out = String::new();
    let stabilities = [
        ("stable", ""),
        ("patch", "patch"),
        ("alpha", "alpha"),
        ("beta", "beta"),
        ("pl", "patch"),
        ("rc", "RC"),
        ("a", "alpha"),
        ("b", "beta"),
        ("p", "patch"),
    ];
    let mut stability = None;
    for (spelling, name) in stabilities {
        if let Some(after) = s.strip_prefix(spelling) {
            stability = Some(name);
            s = after;
            break;
        }
    }
    if let Some(name) = stability {
        // The numbers after a stability, separators dropped before the first.
        let mut digits = String::new();
        loop {
            let body = s.strip_prefix(['.', '-']).unwrap_or(s);
            let len = body.bytes().take_while(u8::is_ascii_digit).count();
            if len == 0 {
                break;
            }
            if !digits.is_empty() {
                digits.push_str(&s[..s.len() - body.len()]);
            }
            digits.push_str(&body[..len]);
            s = &body[len..];
        }
        if !name.is_empty() {
            out.push('-');
            out.push_str(name);
            out.push_str(&digits);
        }
    }
    let dev = s.strip_prefix(['.', '-']).unwrap_or(s);
    if dev == "dev" {
        out.push_str("-dev");
        s = "";
    }
    s.is_empty().then_some(out)
}

/// The rank of a PHP "special version form"; a word matches the first form
/// that is its prefix, and an unknown word ranks below `dev`.
fn special_rank(word: &str) -> i32 {
    const FORMS: [(&str, i32); 10] = [
        ("dev", 0),
        ("alpha", 1),
        ("a", 1),
        ("beta", 2),
        ("b", 2),
        ("RC", 3),
        ("rc", 3),
        ("#", 4),
        ("pl", 5),
        ("p", 5),
    ];
    FORMS
        .iter()
        .find(|(form, _)| word.starts_with(form))
        .map_or(-6, |(_, rank)| *rank)
}

/// PHP's canonical spelling: separators become `.`, and a `.` goes between
/// digits and letters.
fn canonical_parts(v: &str) -> Vec<String> {
    let mut out = String::with_capacity(v.len() * 2);
    let mut previous: Option<char> = None;
    for c in v.chars() {
        let dot = |out: &mut String| {
            if !out.is_empty() && !out.ends_with('.') {
                out.push('.');
            }
        };
        match previous {
            None => out.push(c),
            Some(p) => {
                if matches!(c, '-' | '_' | '+') {
                    dot(&mut out);
                } else if (p != '.' && !p.is_ascii_digit() && c.is_ascii_digit())
                    || (p.is_ascii_digit() && c != '.' && !c.is_ascii_digit())
                {
                    dot(&mut out);
                    out.push(c);
                } else if !c.is_ascii_alphanumeric() {
                    dot(&mut out);
                } else {
                    out.push(c);
                }
            }
        }
        previous = Some(c);
    }
    out.split('.').map(str::to_owned).collect()
}

fn is_number(part: &str) -> bool {
    !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit())
}

fn cmp_part(a: &str, b: &str) -> Ordering {
    match (is_number(a), is_number(b)) {
        (true, true) => {
            let (x, y) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
            x.len().cmp(&y.len()).then_with(|| x.cmp(y))
        }
        (false, false) => special_rank(a).cmp(&special_rank(b)),
        (true, false) => special_rank("#").cmp(&special_rank(b)),
        (false, true) => special_rank(a).cmp(&special_rank("#")),
    }
}

/// PHP's `version_compare` on two spellings.
fn version_compare(a: &str, b: &str) -> Ordering {
    let (x, y) = (canonical_parts(a), canonical_parts(b));
    for i in 0..x.len().max(y.len()) {
        let order = match (x.get(i), y.get(i)) {
            (Some(p), Some(q)) => cmp_part(p, q),
            (Some(p), None) if is_number(p) => Ordering::Greater,
            (Some(p), None) => cmp_part(p, "#"),
            (None, Some(q)) if is_number(q) => Ordering::Less,
            (None, Some(q)) => cmp_part("#", q),
            (None, None) => Ordering::Equal,
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    Ordering::Equal
}

impl Ord for Composer {
    fn cmp(&self, other: &Self) -> Ordering {
        version_compare(&self.normalized, &other.normalized)
    }
}

impl PartialOrd for Composer {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        Composer::parse(a)
            .unwrap()
            .cmp(&Composer::parse(b).unwrap())
    }

    #[test]
    fn normalizes_and_orders_like_composer() {
        assert_eq!(Composer::parse("v1.2").unwrap().normalized, "1.2.0.0");
        assert_eq!(
            Composer::parse("1.0.0-beta.2").unwrap().normalized,
            "1.0.0.0-beta2"
        );
        assert_eq!(
            Composer::parse("1.0.0-RC1-dev").unwrap().normalized,
            "1.0.0.0-RC1-dev"
        );
        assert_eq!(
            Composer::parse("2.1.3-p1").unwrap().normalized,
            "2.1.3.0-patch1"
        );
        let ordered = [
            "1.0.0-dev",
            "1.0.0-alpha",
            "1.0.0-alpha2",
            "1.0.0-beta",
            "1.0.0-RC1",
            "1.0.0",
            "1.0.0-patch1",
            "1.0.0.1",
            "1.0.1",
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
        assert_eq!(cmp("1.0", "v1.0.0.0"), Ordering::Equal);
        assert!(Composer::parse("dev-main").is_err());
        assert!(Composer::parse("1.0.0-foo").is_err());
    }
}
