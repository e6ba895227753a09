//! Package URLs (`pkg:type/namespace/name@version?qualifiers#subpath`),
//! parsed and written in canonical form as the purl specification
//! describes, with the normalizations its types define (lowercase names for
//! the types whose registries ignore case, PyPI's `_` → `-`, and so on).
//!
//! Only what a purl can say is checked here; whether its type is one whose
//! versions embargo orders is [`Purl::ecosystem`]'s question.

use std::collections::BTreeMap;
use std::fmt;

use crate::version::Ecosystem;

/// Why a string is not a package URL, or components make none.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("package URL `{input}`: {reason}")]
pub struct PurlError {
    pub input: String,
    pub reason: String,
}

/// A package URL's components, decoded and normalized.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Purl {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub version: Option<String>,
    pub qualifiers: BTreeMap<String, String>,
    pub subpath: Option<String>,
}

/// The longest purl accepted: real ones are well under a kilobyte.
const MAX_LEN: usize = 4096;

impl Purl {
    /// Parses a package URL and normalizes it, accepting what the
    /// specification says to canonicalize (an uppercase qualifier key, say):
    /// the reading for SBOMs written by other tools.
    pub fn parse(input: &str) -> Result<Purl, PurlError> {
        Purl::read(input, false)
    }

    /// Parses a package URL that must already spell its qualifier keys in
    /// lowercase, as the specification requires of a valid purl.
    pub fn parse_strict(input: &str) -> Result<Purl, PurlError> {
        Purl::read(input, true)
    }

    fn read(input: &str, strict: bool) -> Result<Purl, PurlError> {
        let fail = |reason: &str| PurlError {
            input: input.chars().take(200).collect(),
            reason: reason.to_owned(),
        };
        if input.len() > MAX_LEN {
            return Err(fail("longer than 4096 bytes"));
        }
        let text = input.trim();
        let (text, subpath) = match text.rsplit_once('#') {
            Some((rest, sub)) => (rest, Some(sub)),
            None => (text, None),
        };
        let (text, qualifiers) = match text.rsplit_once('?') {
            Some((rest, q)) => (rest, Some(q)),
            None => (text, None),
        };
        let (scheme, rest) = text
            .split_once(':')
            .ok_or_else(|| fail("the `pkg:` scheme is missing"))?;
        if !scheme.eq_ignore_ascii_case("pkg") {
            return Err(fail("the scheme must be `pkg`"));
        }
        let rest = rest.trim_start_matches('/');
        let (kind, rest) = rest
            .split_once('/')
            .ok_or_else(|| fail("the type is missing (pkg:type/name)"))?;
        // The version follows the last `@` of the last segment, so that an
        // unencoded npm scope (`@babel/core`) is not taken for one.
        let rest = rest.trim_end_matches('/');
        let (path, last) = match rest.rsplit_once('/') {
            Some((path, last)) => (Some(path), last),
            None => (None, rest),
        };
        let (name, version) = match last.rsplit_once('@') {
            Some((name, v)) => (name, Some(decode(v).map_err(|e| fail(&e))?)),
            None => (last, None),
        };
        // A git purl's namespace is its host alone; the rest is the name.
        let (namespace, name) = match path {
            Some(path) if kind.eq_ignore_ascii_case("git") => {
                let path = path.trim_start_matches('/');
                match path.split_once('/') {
                    Some((host, repo)) => (Some(host.to_owned()), format!("{repo}/{name}")),
                    None => (Some(path.to_owned()), name.to_owned()),
                }
            }
            Some(path) => (Some(path.to_owned()), name.to_owned()),
            None => (None, name.to_owned()),
        };
        let name = name
            .split('/')
            .map(decode)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| fail(&e))?
            .join("/");
        let namespace = match namespace {
            Some(ns) => {
                let segments = ns
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .map(decode)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| fail(&e))?;
                (!segments.is_empty()).then(|| segments.join("/"))
            }
            None => None,
        };
        let mut parsed_qualifiers = BTreeMap::new();
        if let Some(q) = qualifiers {
            for pair in q.split('&').filter(|p| !p.is_empty()) {
                let (key, value) = pair
                    .split_once('=')
                    .ok_or_else(|| fail("a qualifier has no `=`"))?;
                if strict && key.bytes().any(|b| b.is_ascii_uppercase()) {
                    return Err(fail(&format!(
                        "the qualifier key `{key}` must be lowercase"
                    )));
                }
                let key = key.to_ascii_lowercase();
                let value = decode(value).map_err(|e| fail(&e))?;
                if value.is_empty() {
                    continue;
                }
                if parsed_qualifiers.insert(key.clone(), value).is_some() {
                    return Err(fail(&format!("the qualifier `{key}` appears twice")));
                }
            }
        }
        let subpath = match subpath {
            Some(s) => clean_subpath(s).map_err(|e| fail(&e))?,
            None => None,
        };
        Purl::build(
            kind,
            namespace.as_deref(),
            &name,
            version.as_deref(),
            parsed_qualifiers,
            subpath.as_deref(),
        )
        .map_err(|e| PurlError {
            input: input.chars().take(200).collect(),
            reason: e.reason,
        })
    }

    /// Makes a package URL from decoded components, validated and
    /// normalized as its type requires.
    pub fn build(
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        version: Option<&str>,
        qualifiers: BTreeMap<String, String>,
        subpath: Option<&str>,
    ) -> Result<Purl, PurlError> {
        let fail = |reason: String| PurlError {
            input: format!("pkg:{kind}/{}", name.chars().take(100).collect::<String>()),
            reason,
        };
        let kind = kind.to_ascii_lowercase();
        if kind.is_empty() {
            return Err(fail("the type is missing".into()));
        }
        if kind.starts_with(|c: char| c.is_ascii_digit())
            || !kind
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-'))
        {
            return Err(fail(format!(
                "the type `{kind}` may hold only letters, digits, `.`, `+` and `-`, not first a digit"
            )));
        }
        let mut qualifiers_checked = BTreeMap::new();
        for (key, value) in qualifiers {
            let key = key.to_ascii_lowercase();
            if key.is_empty()
                || key.starts_with(|c: char| c.is_ascii_digit())
                || !key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
            {
                return Err(fail(format!(
                    "the qualifier key `{key}` may hold only letters, digits, `.`, `-` and `_`, not first a digit"
                )));
            }
            if !value.is_empty() {
                qualifiers_checked.insert(key, value);
            }
        }
        let mut purl = Purl {
            kind,
            namespace: namespace
                .map(|ns| ns.trim_matches('/').to_owned())
                .filter(|ns| !ns.is_empty()),
            name: name.trim_matches('/').to_owned(),
            version: version.map(str::to_owned).filter(|v| !v.is_empty()),
            qualifiers: qualifiers_checked,
            subpath: match subpath {
                Some(s) => clean_subpath(&encode_path(s)).map_err(fail)?,
                None => None,
            },
        };
        if purl.name.is_empty() {
            return Err(fail("the name is missing".into()));
        }
        purl.apply_type_rules().map_err(fail)?;
        Ok(purl)
    }

    /// The normalizations and requirements of the types the specification
    /// defines.
    fn apply_type_rules(&mut self) -> Result<(), String> {
        let lower = |s: &mut String| *s = s.to_ascii_lowercase();
        let lower_namespace = |p: &mut Purl| {
            if let Some(ns) = p.namespace.as_mut() {
                *ns = ns.to_ascii_lowercase();
            }
        };
        match self.kind.as_str() {
            "alpm" | "apk" | "bitbucket" | "brew" | "composer" | "deb" | "github" | "git"
            | "hex" => {
                lower_namespace(self);
                lower(&mut self.name);
            }
            "pypi" => {
                lower(&mut self.name);
                self.name = self.name.replace('_', "-");
            }
            "huggingface" => {
                if let Some(v) = self.version.as_mut() {
                    lower(v);
                }
            }
            "mlflow" => {
                let databricks = self
                    .qualifiers
                    .get("repository_url")
                    .is_some_and(|u| u.contains("databricks"));
                if databricks {
                    lower(&mut self.name);
                }
            }
            _ => {}
        }
        let kind = self.kind.as_str();
        if matches!(kind, "swift" | "vscode-extension") && self.namespace.is_none() {
            return Err(format!("a {kind} package URL needs a namespace"));
        }
        if matches!(kind, "otp" | "vcpkg") && self.namespace.is_some() {
            return Err(format!("a {kind} package URL has no namespace"));
        }
        match kind {
            "chrome-extension" => {
                if self.name.len() != 32 || !self.name.bytes().all(|b| (b'a'..=b'p').contains(&b)) {
                    return Err("a Chrome extension id is 32 letters from a to p".into());
                }
                if let Some(v) = &self.version {
                    let parts: Vec<&str> = v.split('.').collect();
                    if parts.len() > 4
                        || parts
                            .iter()
                            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
                    {
                        return Err("a Chrome extension version is one to four numbers".into());
                    }
                }
            }
            "cpan" if self.name.contains("::") => {
                return Err(
                    "a CPAN package URL names a distribution (URI-PackageURL), not a module (URI::PackageURL)"
                        .into(),
                );
            }
            "julia" if !self.qualifiers.contains_key("uuid") => {
                return Err("a Julia package URL needs the `uuid` qualifier".into());
            }
            _ => {}
        }
        Ok(())
    }

    /// The package URL of a package of an ecosystem at a version: the
    /// inverse of [`Purl::ecosystem`] (Maven's `group:artifact`, npm's
    /// `@scope/name`, Go's and Packagist's paths become namespaces).
    #[must_use]
    pub fn for_package(ecosystem: Ecosystem, name: &str, version: &str) -> Purl {
        let split = |sep: char| match name.rsplit_once(sep) {
            Some((ns, n)) => (Some(ns.to_owned()), n.to_owned()),
            None => (None, name.to_owned()),
        };
        let (kind, namespace, short) = match ecosystem {
            Ecosystem::CratesIo => ("cargo", None, name.to_owned()),
            Ecosystem::Npm if name.starts_with('@') => {
                let (ns, n) = split('/');
                ("npm", ns, n)
            }
            Ecosystem::Npm => ("npm", None, name.to_owned()),
            Ecosystem::Go => {
                let (ns, n) = split('/');
                ("golang", ns, n)
            }
            Ecosystem::PyPI => ("pypi", None, name.to_owned()),
            Ecosystem::Hex => ("hex", None, name.to_owned()),
            Ecosystem::Pub => ("pub", None, name.to_owned()),
            Ecosystem::Debian => ("deb", Some("debian".to_owned()), name.to_owned()),
            Ecosystem::Alpine => ("apk", Some("alpine".to_owned()), name.to_owned()),
            Ecosystem::Maven => {
                let (ns, n) = split(':');
                ("maven", ns, n)
            }
            Ecosystem::NuGet => ("nuget", None, name.to_owned()),
            Ecosystem::RubyGems => ("gem", None, name.to_owned()),
            Ecosystem::Packagist => {
                let (ns, n) = split('/');
                ("composer", ns, n)
            }
        };
        Purl::build(
            kind,
            namespace.as_deref(),
            &short,
            Some(version),
            BTreeMap::new(),
            None,
        )
        .unwrap_or_else(|_| Purl {
            kind: "generic".into(),
            name: name.to_owned(),
            version: Some(version.to_owned()),
            ..Purl::default()
        })
    }

    /// The OSV ecosystem and package name this purl names, when embargo
    /// orders versions of its type.
    #[must_use]
    pub fn ecosystem(&self) -> Option<(Ecosystem, String)> {
        let joined = |sep: &str| match &self.namespace {
            Some(ns) => format!("{ns}{sep}{}", self.name),
            None => self.name.clone(),
        };
        let ecosystem = match self.kind.as_str() {
            "cargo" => Ecosystem::CratesIo,
            "npm" => Ecosystem::Npm,
            "golang" => Ecosystem::Go,
            "pypi" => Ecosystem::PyPI,
            "hex" => Ecosystem::Hex,
            "pub" => Ecosystem::Pub,
            "deb" => Ecosystem::Debian,
            "maven" => Ecosystem::Maven,
            "nuget" => Ecosystem::NuGet,
            "gem" => Ecosystem::RubyGems,
            "composer" => Ecosystem::Packagist,
            "apk" => Ecosystem::Alpine,
            _ => return None,
        };
        let name = match ecosystem {
            Ecosystem::Maven => joined(":"),
            Ecosystem::Npm | Ecosystem::Go | Ecosystem::Packagist => joined("/"),
            _ => self.name.clone(),
        };
        Some((ecosystem, name))
    }
}

/// A subpath's segments, without empty, `.` and `..` ones, decoded.
fn clean_subpath(raw: &str) -> Result<Option<String>, String> {
    let segments = raw
        .split('/')
        .filter(|s| !s.is_empty() && *s != "." && *s != "..")
        .map(decode)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((!segments.is_empty()).then(|| segments.join("/")))
}

/// Encodes a decoded subpath so that `clean_subpath` can decode it again.
fn encode_path(s: &str) -> String {
    s.split('/')
        .filter(|p| !p.is_empty())
        .map(encode)
        .collect::<Vec<_>>()
        .join("/")
}

fn decode(s: &str) -> Result<String, String> {
    if !s.contains('%') {
        return Ok(s.to_owned());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("`{s}` has a `%` not followed by two hex digits"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("`{s}` decodes to invalid UTF-8"))
}

/// Percent-encodes all but unreserved characters and `:`.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~' | b':') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl fmt::Display for Purl {
    /// The canonical form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pkg:{}/", self.kind)?;
        if let Some(ns) = &self.namespace {
            // A segment that decoded to contain `/` splits, as the
            // specification's building rules say, and empty ones go: the
            // canonical form parses back to itself (found by fuzzing).
            for segment in ns.split('/').filter(|s| !s.is_empty()) {
                write!(f, "{}/", encode(segment))?;
            }
        }
        // Only a git purl's name is a path (its repository); any other name
        // is one segment, and a `/` in it is encoded (found by fuzzing).
        if self.kind == "git" {
            f.write_str(&encode_path(&self.name))?;
        } else {
            f.write_str(&encode(&self.name))?;
        }
        if let Some(v) = &self.version {
            write!(f, "@{}", encode(v))?;
        }
        for (i, (key, value)) in self.qualifiers.iter().enumerate() {
            let sep = if i == 0 { '?' } else { '&' };
            write!(f, "{sep}{key}={}", encode(value))?;
        }
        if let Some(sub) = &self.subpath {
            write!(f, "#{}", encode_path(sub))?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Purl {
    type Err = PurlError;
    fn from_str(s: &str) -> Result<Self, PurlError> {
        Purl::parse(s)
    }
}
