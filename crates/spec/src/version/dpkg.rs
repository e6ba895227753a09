//! Debian versions as dpkg orders them: `[epoch:]upstream[-revision]`, each
//! part compared by alternating runs of non-digits (where `~` sorts before
//! everything, even the end, and letters before other characters) and
//! digits (numerically).

use std::cmp::Ordering;

use super::VersionError;

/// A parsed Debian package version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dpkg {
    epoch: u64,
    upstream: String,
    revision: String,
}

impl Dpkg {
    pub fn parse(text: &str) -> Result<Dpkg, VersionError> {
        let bad = |why: &str| VersionError::new("Debian", text, why);
        let t = text.trim();
        if t.is_empty() {
            return Err(bad("it is empty"));
        }
        if t.contains(char::is_whitespace) {
            return Err(bad("it contains whitespace"));
        }
        let (epoch, rest) = match t.split_once(':') {
            Some((e, rest)) => {
                if e.is_empty() || !e.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad("the epoch is not a number"));
                }
                (e.parse().map_err(|_| bad("the epoch is too large"))?, rest)
            }
            None => (0, t),
        };
        let (upstream, revision) = match rest.rsplit_once('-') {
            Some((u, r)) => (u, r),
            None => (rest, ""),
        };
        if upstream.is_empty() {
            return Err(bad("the upstream version is empty"));
        }
        if !upstream.as_bytes()[0].is_ascii_digit() {
            return Err(bad("the upstream version does not start with a digit"));
        }
        let allowed = |s: &str, extra: &[u8]| {
            s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+.~".contains(&b) || extra.contains(&b))
        };
        if !allowed(upstream, if revision.is_empty() { b":" } else { b"-:" }) {
            return Err(bad(
                "the upstream version has a character dpkg does not allow",
            ));
        }
        if rest.contains('-') && revision.is_empty() {
            return Err(bad("the revision after `-` is empty"));
        }
        if !allowed(revision, b"") {
            return Err(bad("the revision has a character dpkg does not allow"));
        }
        Ok(Dpkg {
            epoch,
            upstream: upstream.to_owned(),
            revision: revision.to_owned(),
        })
    }
}

fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(b'~') => -1,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's comparison of two upstream versions or revisions.
fn compare_part(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    let digit = |s: &[u8], k: usize| s.get(k).is_some_and(u8::is_ascii_digit);
    while i < a.len() || j < b.len() {
        while (i < a.len() && !digit(a, i)) || (j < b.len() && !digit(b, j)) {
            let (ac, bc) = (order(a.get(i).copied()), order(b.get(j).copied()));
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while a.get(i) == Some(&b'0') {
            i += 1;
        }
        while b.get(j) == Some(&b'0') {
            j += 1;
        }
        let mut first_diff = Ordering::Equal;
        while digit(a, i) && digit(b, j) {
            if first_diff.is_eq() {
                first_diff = a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
        if digit(a, i) {
            return Ordering::Greater;
        }
        if digit(b, j) {
            return Ordering::Less;
        }
        if first_diff.is_ne() {
            return first_diff;
        }
    }
    Ordering::Equal
}

impl Ord for Dpkg {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| compare_part(self.upstream.as_bytes(), other.upstream.as_bytes()))
            .then_with(|| compare_part(self.revision.as_bytes(), other.revision.as_bytes()))
    }
}

impl PartialOrd for Dpkg {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Dpkg {
        Dpkg::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn tilde_sorts_before_everything_and_epochs_win() {
        let ordered = [
            "1.0~~", "1.0~~a", "1.0~", "1.0", "1.0-1", "1.0a", "1.0+b1", "1.0.1", "1.00.2", "1.1",
            "1:0.1",
        ];
        for pair in ordered.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
        }
        assert_eq!(v("1.01").cmp(&v("1.1")), Ordering::Equal);
        assert_eq!(v("0:1.0").cmp(&v("1.0")), Ordering::Equal);
        assert!(v("2.30-1ubuntu1") > v("2.30-1"));
    }

    #[test]
    fn malformed_versions_are_errors() {
        for bad in ["", "a1.0", "1.0-", "x:1.0", "1.0 1", "1.0_1", ":1.0"] {
            assert!(Dpkg::parse(bad).is_err(), "{bad:?}");
        }
        assert!(
            Dpkg::parse("1:2.3-4-5").is_ok(),
            "hyphens in upstream with a revision"
        );
    }
}
