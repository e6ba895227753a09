//! Security advisories drafted from a case, and their publication formats.
//!
//! An advisory says what is affected (products and version ranges), what
//! fixes it, how severe it is (a CVSS vector), which weakness (CWE), its CVE
//! id when one is assigned, references, and credits — only for reporters who
//! consented, under the name they chose. It is published only by an explicit
//! action once its case is fixed or its disclosure date has come ([`Advisory::publish`]);
//! until then nothing of it is public.
//!
//! Each export is its own wire format, built from the same advisory:
//! [`csaf`] (CSAF 2.0, with the mandatory tests of its section 6.1 that apply),
//! [`osv`], [`cve5`], [`vex`] (OpenVEX and CycloneDX) and [`markdown`].

pub mod csaf;
pub mod cve5;
pub mod cwe;
pub mod markdown;
pub mod osv;
pub mod vex;

use serde::{Deserialize, Serialize};

use crate::Instant;
use crate::case::DomainError;

/// Who publishes advisories: the organization, from its policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publisher {
    pub name: String,
    /// A URL that identifies the publisher (CSAF `publisher.namespace`).
    pub namespace: String,
    pub contact: String,
    /// The public base URL of the security center (`https://…`), for
    /// references to the advisory itself.
    pub base_url: String,
    /// The CVE Services organization id (a UUID), when the organization is a CNA.
    pub cna_org_id: Option<String>,
}

/// One version range of an affected product, in the product's own versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct VersionRange {
    /// The first affected version (`None`: from the beginning).
    pub introduced: Option<String>,
    /// The first version that is not affected any more.
    pub fixed: Option<String>,
    /// The last affected version, when no fix exists yet.
    pub last_affected: Option<String>,
}

impl VersionRange {
    /// The range as a VERS specifier (`vers:cargo/>=1.0.0|<1.4.2`; every
    /// version: `vers:cargo/*`), for the package URL type or scheme `kind`:
    /// the CSAF product tree's names and VEX product ids.
    #[must_use]
    pub fn vers(&self, kind: &str) -> String {
        let constraints: Vec<String> = self.bounds().map(|(op, v)| format!("{op}{v}")).collect();
        if constraints.is_empty() {
            format!("vers:{kind}/*")
        } else {
            format!("vers:{kind}/{}", constraints.join("|"))
        }
    }

    /// Its bounds, as comparators: `>=` introduced, `<` fixed, `<=` last affected.
    fn bounds(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            (">=", &self.introduced),
            ("<", &self.fixed),
            ("<=", &self.last_affected),
        ]
        .into_iter()
        .filter_map(|(op, v)| v.as_deref().map(|v| (op, v)))
    }

    /// The range in words: `>= 1.0, < 1.4.2`.
    #[must_use]
    pub fn describe(&self) -> String {
        let parts: Vec<String> = self.bounds().map(|(op, v)| format!("{op} {v}")).collect();
        if parts.is_empty() {
            "all versions".into()
        } else {
            parts.join(", ")
        }
    }
}

/// A product the advisory affects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedProduct {
    pub vendor: String,
    pub product: String,
    /// The package URL without a version (`pkg:cargo/foo`), when the
    /// product is a package of an ecosystem.
    pub purl: Option<String>,
    pub ranges: Vec<VersionRange>,
}

/// How a person contributed (the CVE/CSAF credit types embargo uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditKind {
    Finder,
    Reporter,
    Analyst,
    Coordinator,
    RemediationDeveloper,
}

impl CreditKind {
    /// The CVE JSON 5 / OSV spelling.
    #[must_use]
    pub fn cve(self) -> &'static str {
        match self {
            CreditKind::Finder => "finder",
            CreditKind::Reporter => "reporter",
            CreditKind::Analyst => "analyst",
            CreditKind::Coordinator => "coordinator",
            CreditKind::RemediationDeveloper => "remediation developer",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credit {
    pub name: String,
    pub kind: CreditKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    pub url: String,
    pub summary: String,
}

/// An entry of the revision history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    pub number: u32,
    pub date: Instant,
    pub summary: String,
}

/// An advisory, a draft until published.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    /// The publisher's tracking id (`EMB-2026-0001`).
    pub id: String,
    /// The case it was drafted from.
    pub case_ref: String,
    pub title: String,
    pub summary: String,
    pub description: String,
    pub affected: Vec<AffectedProduct>,
    pub workarounds: Vec<String>,
    /// A CVSS 3.x or 4.0 vector.
    pub cvss: Option<String>,
    /// `CWE-n`.
    pub cwe: Option<String>,
    pub cve: Option<String>,
    pub references: Vec<Reference>,
    /// Only reporters who consented, under the name they chose.
    pub credits: Vec<Credit>,
    /// The language of the text (BCP 47), from the policy.
    pub language: String,
    pub revisions: Vec<Revision>,
    /// When it was first published; `None` for a draft.
    pub published: Option<Instant>,
    /// The vulnerability is actively exploited (its case's confirmation,
    /// copied at publication): CSAF `threats` with category
    /// `exploit_status`, OSV `database_specific.exploitation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exploited: Option<Exploited>,
}

/// What an advisory says of active exploitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exploited {
    /// Since when the publisher knows of it.
    pub since: Instant,
    /// The kind of signal (`kev`, `reporter`, `threat_intelligence`, `own_telemetry`).
    pub source: String,
}

/// The bounds of an advisory's fields, so that no input is unbounded.
const MAX_TEXT: usize = 20_000;
const MAX_LINE: usize = 300;
const MAX_ITEMS: usize = 100;

impl Advisory {
    /// Checks a draft; errors name the field.
    pub fn validate(&self) -> Result<(), DomainError> {
        let line = |field: &str, v: &str, required: bool| {
            if required && v.trim().is_empty() {
                return Err(DomainError::invalid(field, "must not be empty"));
            }
            if v.len() > MAX_LINE || v.contains('\n') {
                return Err(DomainError::invalid(
                    field,
                    format!("one line of at most {MAX_LINE} characters"),
                ));
            }
            Ok(())
        };
        line("id", &self.id, true)?;
        if !self
            .id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Err(DomainError::invalid(
                "id",
                "letters, digits, `-`, `_` and `.` only (it names files)",
            ));
        }
        line("title", &self.title, true)?;
        line("summary", &self.summary, true)?;
        if self.description.len() > MAX_TEXT {
            return Err(DomainError::TooLarge {
                field: "description".into(),
                limit: MAX_TEXT,
            });
        }
        for (field, n) in [
            ("affected", self.affected.len()),
            ("workarounds", self.workarounds.len()),
            ("references", self.references.len()),
            ("credits", self.credits.len()),
        ] {
            if n > MAX_ITEMS {
                return Err(DomainError::invalid(field, format!("at most {MAX_ITEMS}")));
            }
        }
        if self.affected.is_empty() {
            return Err(DomainError::invalid(
                "affected",
                "name at least one product",
            ));
        }
        for (i, a) in self.affected.iter().enumerate() {
            line(&format!("affected[{i}].vendor"), &a.vendor, true)?;
            line(&format!("affected[{i}].product"), &a.product, true)?;
            if let Some(purl) = &a.purl {
                embargo_spec::purl::Purl::parse(purl)
                    .map_err(|e| DomainError::invalid(format!("affected[{i}].purl"), e.reason))?;
            }
            if a.ranges.is_empty() {
                return Err(DomainError::invalid(
                    format!("affected[{i}].ranges"),
                    "give at least one range (an empty range means all versions)",
                ));
            }
            for (j, r) in a.ranges.iter().enumerate() {
                for v in [&r.introduced, &r.fixed, &r.last_affected]
                    .into_iter()
                    .flatten()
                {
                    line(&format!("affected[{i}].ranges[{j}]"), v, true)?;
                }
                if r.fixed.is_some() && r.last_affected.is_some() {
                    return Err(DomainError::invalid(
                        format!("affected[{i}].ranges[{j}]"),
                        "either `fixed` or `last_affected`, not both",
                    ));
                }
            }
        }
        for (i, w) in self.workarounds.iter().enumerate() {
            if w.trim().is_empty() || w.len() > MAX_TEXT {
                return Err(DomainError::invalid(
                    format!("workarounds[{i}]"),
                    "must be text of at most 20,000 characters",
                ));
            }
        }
        if let Some(v) = &self.cvss {
            crate::cvss::assess(v)?;
        }
        if let Some(c) = &self.cwe
            && cwe::parse(c).is_none()
        {
            return Err(DomainError::invalid(
                "cwe",
                format!("`{c}` is not CWE-<number>"),
            ));
        }
        if let Some(c) = &self.cve
            && !is_cve_id(c)
        {
            return Err(DomainError::invalid(
                "cve",
                format!("`{c}` is not CVE-YYYY-NNNN"),
            ));
        }
        for (i, r) in self.references.iter().enumerate() {
            if !(r.url.starts_with("https://") || r.url.starts_with("http://"))
                || r.url.len() > 2048
                || r.url.contains(char::is_whitespace)
            {
                return Err(DomainError::invalid(
                    format!("references[{i}].url"),
                    "an http(s) URL without spaces",
                ));
            }
            line(&format!("references[{i}].summary"), &r.summary, false)?;
        }
        for (i, c) in self.credits.iter().enumerate() {
            line(&format!("credits[{i}].name"), &c.name, true)?;
        }
        if self.language.is_empty()
            || self.language.len() > 35
            || !self
                .language
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(DomainError::invalid(
                "language",
                "a BCP 47 language tag such as en or de-CH",
            ));
        }
        Ok(())
    }

    /// Publishes the draft at `now`, as an explicit action: only once its
    /// case is fixed, or its disclosure date has come. A republication adds
    /// a revision.
    pub fn publish(
        &mut self,
        case_fixed: bool,
        disclosure: Option<Instant>,
        now: Instant,
        summary: &str,
    ) -> Result<(), DomainError> {
        self.validate()?;
        let due = disclosure.is_some_and(|d| d <= now);
        if !case_fixed && !due {
            return Err(DomainError::invalid(
                "advisory",
                "an advisory is published once its case is fixed or its disclosure date has come",
            ));
        }
        let number = self.revisions.last().map_or(1, |r| r.number + 1);
        self.revisions.push(Revision {
            number,
            date: now,
            summary: if summary.trim().is_empty() {
                if number == 1 {
                    "Initial public release".into()
                } else {
                    "Updated".into()
                }
            } else {
                summary.trim().to_owned()
            },
        });
        if self.published.is_none() {
            self.published = Some(now);
        }
        Ok(())
    }

    /// The last revision's date: when the published text last changed.
    #[must_use]
    pub fn modified(&self) -> Option<Instant> {
        self.revisions.last().map(|r| r.date)
    }

    /// The CVSS assessment, when a vector is set.
    #[must_use]
    pub fn score(&self) -> Option<crate::cvss::CvssScore> {
        self.cvss
            .as_deref()
            .and_then(|v| crate::cvss::assess(v).ok())
    }

    /// Every version the advisory names as fixing it.
    #[must_use]
    pub fn fixed_versions(&self) -> Vec<(&AffectedProduct, &str)> {
        self.affected
            .iter()
            .flat_map(|a| {
                a.ranges
                    .iter()
                    .filter_map(move |r| r.fixed.as_deref().map(|f| (a, f)))
            })
            .collect()
    }
}

/// `CVE-YYYY-NNNN…` (four or more digits).
#[must_use]
pub fn is_cve_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("CVE-") else {
        return false;
    };
    let Some((year, number)) = rest.split_once('-') else {
        return false;
    };
    year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && (4..=19).contains(&number.len())
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// A version-4-shaped UUID derived from `seed` (SHA-256): the same seed
/// gives the same id, so a regenerated document keeps its serial number;
/// a random seed gives a random id.
#[must_use]
pub fn derived_uuid(seed: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(seed.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// RFC 3339 in UTC with seconds (`2026-11-23T10:00:00Z`), as every format here writes times.
#[must_use]
pub fn timestamp(at: Instant) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod schema_tests;

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn at(s: &str) -> Instant {
        chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    /// A complete advisory, used by the exports' tests too.
    pub fn sample() -> (Advisory, Publisher) {
        (
            Advisory {
                id: "EMB-2026-0001".into(),
                case_ref: "SEC-2026-0007".into(),
                title: "Path traversal in the upload handler".into(),
                summary: "A crafted file name writes outside the upload directory".into(),
                description: "The upload handler joined the client's file name to the upload directory without removing `..` segments.\n\nAn authenticated user could overwrite files the service can write.".into(),
                affected: vec![
                    AffectedProduct {
                        vendor: "Example Corp".into(),
                        product: "widget-server".into(),
                        purl: Some("pkg:cargo/widget-server".into()),
                        ranges: vec![VersionRange {
                            introduced: Some("1.0.0".into()),
                            fixed: Some("1.4.2".into()),
                            last_affected: None,
                        }],
                    },
                    AffectedProduct {
                        vendor: "Example Corp".into(),
                        product: "Widget Appliance".into(),
                        purl: None,
                        ranges: vec![VersionRange {
                            introduced: None,
                            fixed: None,
                            last_affected: Some("7.2".into()),
                        }],
                    },
                ],
                workarounds: vec!["Disable uploads with `uploads.enabled = false`.".into()],
                cvss: Some("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:N/I:H/A:N".into()),
                cwe: Some("CWE-22".into()),
                cve: Some("CVE-2026-12345".into()),
                references: vec![Reference {
                    url: "https://example.org/changelog#1.4.2".into(),
                    summary: "Release notes".into(),
                }],
                credits: vec![Credit {
                    name: "Ada Researcher".into(),
                    kind: CreditKind::Finder,
                }],
                language: "en".into(),
                revisions: vec![],
                published: None,
                exploited: None,
            },
            Publisher {
                name: "Example Corp".into(),
                namespace: "https://example.org".into(),
                contact: "security@example.org".into(),
                base_url: "https://security.example.org".into(),
                cna_org_id: Some("b3476cb9-2e3d-41a6-98d0-0f47421a65b6".into()),
            },
        )
    }

    #[test]
    fn drafts_are_checked_field_by_field() {
        let (mut a, _) = sample();
        assert!(a.validate().is_ok());
        a.cwe = Some("79".into());
        assert!(a.validate().unwrap_err().to_string().starts_with("cwe:"));
        a.cwe = None;
        a.cve = Some("CVE-26-1".into());
        assert!(a.validate().unwrap_err().to_string().starts_with("cve:"));
        a.cve = None;
        a.affected[0].ranges[0].last_affected = Some("1.4.1".into());
        assert!(
            a.validate()
                .unwrap_err()
                .to_string()
                .contains("affected[0].ranges[0]")
        );
        a.affected.clear();
        assert!(
            a.validate()
                .unwrap_err()
                .to_string()
                .starts_with("affected:")
        );
        let (mut a, _) = sample();
        a.id = "../etc".into();
        assert!(a.validate().is_err());
        a.id = "EMB-1".into();
        a.cvss = Some("CVSS:3.1/AV:N".into());
        assert!(a.validate().unwrap_err().to_string().starts_with("cvss:"));
    }

    #[test]
    fn publication_waits_for_the_fix_or_the_disclosure_date() {
        let (mut a, _) = sample();
        let now = at("2026-11-23T10:00:00Z");
        let err = a
            .publish(false, Some(at("2026-12-01T00:00:00Z")), now, "")
            .unwrap_err();
        assert!(err.to_string().contains("fixed or its disclosure date"));
        assert!(a.published.is_none() && a.revisions.is_empty());
        a.publish(false, Some(at("2026-11-23T09:00:00Z")), now, "")
            .unwrap();
        assert_eq!(a.published, Some(now));
        assert_eq!(a.revisions[0].summary, "Initial public release");
        let later = at("2026-11-24T10:00:00Z");
        a.publish(true, None, later, "CVE assigned").unwrap();
        assert_eq!(a.revisions.len(), 2);
        assert_eq!(a.published, Some(now), "first publication stays");
        assert_eq!(a.modified(), Some(later));
    }
}
