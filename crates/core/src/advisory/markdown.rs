//! A release-note section in Markdown that says plainly that the release
//! fixes a security vulnerability.

use super::Advisory;
use crate::html::escape_markdown as escape;

/// The section for a release's notes.
#[must_use]
pub fn release_note(a: &Advisory, advisory_url: &str) -> String {
    let mut s = String::new();
    s.push_str("### Security\n\n");
    let ids = match &a.cve {
        Some(cve) => format!("{cve}, {}", a.id),
        None => a.id.clone(),
    };
    s.push_str(&format!(
        "This release fixes a security vulnerability: **{}** ({}).",
        escape(&a.title),
        escape(&ids)
    ));
    if let Some(score) = a.score() {
        s.push_str(&format!(
            " Severity: {} (CVSS {} {}).",
            score.severity.as_str(),
            score.version,
            score.score
        ));
    }
    s.push_str("\n\n");
    s.push_str(&escape(&a.summary));
    s.push_str("\n\n");
    for p in &a.affected {
        let ranges: Vec<String> = p.ranges.iter().map(super::VersionRange::describe).collect();
        s.push_str(&format!(
            "- Affected: {} {} ({})",
            escape(&p.vendor),
            escape(&p.product),
            escape(&ranges.join("; "))
        ));
        let fixes: Vec<&str> = p.ranges.iter().filter_map(|r| r.fixed.as_deref()).collect();
        if fixes.is_empty() {
            s.push_str("; no fixed version yet");
        } else {
            s.push_str(&format!("; fixed in {}", escape(&fixes.join(", "))));
        }
        s.push('\n');
    }
    for w in &a.workarounds {
        s.push_str(&format!("- Workaround: {}\n", escape(w)));
    }
    if !a.credits.is_empty() {
        let names: Vec<String> = a.credits.iter().map(|c| escape(&c.name)).collect();
        s.push_str(&format!(
            "\nThanks to {} for reporting it.\n",
            names.join(", ")
        ));
    }
    s.push_str(&format!("\nFull advisory: <{advisory_url}>\n"));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advisory::tests::sample;

    #[test]
    fn the_note_says_it_is_a_security_fix_and_escapes_names() {
        let (mut a, _) = sample();
        a.credits[0].name = "<b>Ada</b> *R*".into();
        let note = release_note(&a, "https://security.example.org/advisories/EMB-2026-0001");
        assert!(note.contains("This release fixes a security vulnerability"));
        assert!(note.contains("CVE-2026-12345"));
        assert!(note.contains("fixed in 1.4.2"));
        assert!(note.contains("\\<b\\>Ada\\</b\\> \\*R\\*"));
        assert!(!note.contains("<b>"));
    }
}
