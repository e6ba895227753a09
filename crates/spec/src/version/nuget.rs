//! NuGet versions: up to four numbers (`major.minor.patch.revision`, missing
//! ones are zero, leading zeros ignored), then an optional pre-release label
//! compared as SemVer 2.0 does but without regard to case; build metadata
//! after `+` does not count.

use std::cmp::Ordering;

use super::VersionError;

/// One dot-separated identifier of a pre-release label.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Label {
    // Numeric identifiers sort before alphanumeric ones (declaration order).
    Number(u64),
    Text(String),
}

/// A parsed NuGet version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NuGet {
    numbers: [u64; 4],
    pre: Vec<Label>,
}

impl NuGet {
    pub fn parse(text: &str) -> Result<NuGet, VersionError> {
        let err = |reason: &str| VersionError::new("NuGet", text, reason);
        let t = text.trim();
        let t = t.strip_prefix('v').unwrap_or(t);
        let (t, _build) = t.split_once('+').unwrap_or((t, ""));
        let (core, pre) = match t.split_once('-') {
            Some((core, pre)) => (core, Some(pre)),
            None => (t, None),
        };
        let parts: Vec<&str> = core.split('.').collect();
        if parts.len() > 4 {
            return Err(err("more than four numbers"));
        }
        let mut numbers = [0u64; 4];
        for (slot, part) in numbers.iter_mut().zip(&parts) {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err("each of the first four parts must be a number"));
            }
            *slot = part.parse().map_err(|_| err("a number is too large"))?;
        }
        let mut labels = Vec::new();
        if let Some(pre) = pre {
            for ident in pre.split('.') {
                if ident.is_empty()
                    || !ident
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                {
                    return Err(err(
                        "a pre-release label must be letters, digits and hyphens",
                    ));
                }
                labels.push(if ident.bytes().all(|b| b.is_ascii_digit()) {
                    Label::Number(ident.parse().map_err(|_| err("a number is too large"))?)
                } else {
                    Label::Text(ident.to_ascii_lowercase())
                });
            }
        }
        Ok(NuGet {
            numbers,
            pre: labels,
        })
    }
}

impl Ord for NuGet {
    fn cmp(&self, other: &Self) -> Ordering {
        self.numbers.cmp(&other.numbers).then_with(|| {
            match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => self.pre.cmp(&other.pre),
            }
        })
    }
}

impl PartialOrd for NuGet {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        NuGet::parse(a).unwrap().cmp(&NuGet::parse(b).unwrap())
    }

    #[test]
    fn four_numbers_and_case_blind_labels() {
        assert_eq!(cmp("1.0", "1.0.0.0"), Ordering::Equal);
        assert_eq!(cmp("01.2", "1.2.0"), Ordering::Equal);
        assert_eq!(cmp("1.0.0.1-beta", "1.0.0"), Ordering::Greater);
        assert_eq!(cmp("1.0.0-Beta", "1.0.0-beta"), Ordering::Equal);
        assert_eq!(cmp("1.0.0-beta.2", "1.0.0-beta.10"), Ordering::Less);
        assert_eq!(cmp("1.0.0-rc", "1.0.0"), Ordering::Less);
        assert_eq!(cmp("1.0.0+abc", "1.0.0"), Ordering::Equal);
        assert!(NuGet::parse("1.2.3.4.5").is_err());
        assert!(NuGet::parse("one").is_err());
    }
}
