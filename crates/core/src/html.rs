//! HTML escaping, for every place embargo writes untrusted text into a page
//! or an email's HTML part; and Markdown escaping, for the documents embargo
//! writes in Markdown (release notes, report packs).

/// Whether `c` reorders the text around it: the bidirectional embeddings,
/// overrides and isolates (U+202A–U+202E, U+2066–U+2069) and the
/// left-to-right and right-to-left marks (U+200E, U+200F). In a file name
/// or a title they make `invoice\u{202e}fdp.html` read as `invoicelmth.pdf`.
#[must_use]
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

/// Untrusted text with every bidirectional control made visible
/// (`[U+202E]`), so that what a person reads is what the text holds.
#[must_use]
pub fn neutralise_bidi(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(is_bidi_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_bidi_control(c) {
            out.push_str(&format!("[U+{:04X}]", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Escapes Markdown's active characters in text from people, so that a
/// pasted `<script>` or `[link](…)` stays text in any renderer.
#[must_use]
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '!'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Escapes text for HTML element content and attribute values.
#[must_use]
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidirectional_controls_are_made_visible() {
        assert_eq!(
            neutralise_bidi("invoice\u{202e}fdp.html"),
            "invoice[U+202E]fdp.html"
        );
        assert_eq!(neutralise_bidi("a\u{2066}b\u{200f}"), "a[U+2066]b[U+200F]");
        assert_eq!(neutralise_bidi("plain"), "plain");
        for c in [
            '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{2067}', '\u{2068}', '\u{2069}',
            '\u{200e}',
        ] {
            assert!(is_bidi_control(c), "{c:?}");
        }
        assert!(!is_bidi_control('\u{2010}'));
    }

    #[test]
    fn markup_stays_text() {
        assert_eq!(escape_markdown("<script>*x*"), "\\<script\\>\\*x\\*");
        assert_eq!(
            escape_html("<a href='x'>&"),
            "&lt;a href=&#39;x&#39;&gt;&amp;"
        );
    }
}
