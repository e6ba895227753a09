//! Files attached to a case: proofs of concept, screenshots, logs.
//!
//! The name a client gives a file is only a label: it is cleaned of paths and
//! control characters, and the media type embargo records is the one the
//! content shows (sniffed from its first bytes), never the one the client
//! declared. Attachments are always served as downloads, so an HTML or SVG
//! "screenshot" cannot run in a team member's browser.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::DomainError;

/// The longest file name kept, in characters.
pub const MAX_FILENAME_CHARS: usize = 200;

/// What is recorded about an attached file. The content is stored apart,
/// encrypted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    /// A random identifier (hex), unique across cases.
    pub id: String,
    /// The cleaned file name.
    pub filename: String,
    /// The media type the content shows (see [`sniff`]).
    pub media_type: String,
    pub size: u64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// Whether the reporter sees it: true for what they sent, false for the
    /// team's own files.
    pub shared_with_reporter: bool,
}

/// A file on its way in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttachment {
    pub filename: String,
    pub content: Vec<u8>,
}

/// How many files one submission may carry and how large each may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttachmentLimits {
    pub max_bytes: usize,
    pub max_count: usize,
}

impl Default for AttachmentLimits {
    fn default() -> Self {
        AttachmentLimits {
            max_bytes: 10 * 1024 * 1024,
            max_count: 5,
        }
    }
}

impl AttachmentLimits {
    /// The size limit in words, for error messages.
    #[must_use]
    pub fn describe_size(&self) -> String {
        describe_bytes(self.max_bytes)
    }
}

/// `10485760` as "10 MiB (10485760 bytes)".
#[must_use]
pub fn describe_bytes(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    const KIB: usize = 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB ({bytes} bytes)", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB ({bytes} bytes)", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

impl NewAttachment {
    /// Checks the file against `limits` (size; the count is the caller's) and
    /// describes it. `id` is the caller's random identifier.
    pub fn describe(
        &self,
        id: String,
        shared_with_reporter: bool,
        limits: AttachmentLimits,
    ) -> Result<Attachment, DomainError> {
        if self.content.is_empty() {
            return Err(DomainError::invalid(
                "attachments",
                format!("`{}` is empty", clean_filename(&self.filename)),
            ));
        }
        if self.content.len() > limits.max_bytes {
            return Err(DomainError::TooLarge {
                field: "attachments".into(),
                limit: limits.max_bytes,
            });
        }
        Ok(Attachment {
            id,
            filename: clean_filename(&self.filename),
            media_type: sniff(&self.content).to_owned(),
            size: self.content.len() as u64,
            sha256: crate::chain::hex(&Sha256::digest(&self.content)),
            shared_with_reporter,
        })
    }
}

/// The last path component of `raw`, without control or bidirectional
/// characters (a right-to-left override disguises `…lmth.pdf`), quotes or
/// characters that mean something to shells and headers, at most
/// [`MAX_FILENAME_CHARS`] characters; `attachment` when nothing is left.
#[must_use]
pub fn clean_filename(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !crate::html::is_bidi_control(*c))
        .map(|c| match c {
            '"' | '\'' | '<' | '>' | '|' | ':' | '*' | '?' | ';' | '`' | '$' => '_',
            other => other,
        })
        .take(MAX_FILENAME_CHARS)
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    if trimmed.is_empty() {
        "attachment".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// The media type `content` shows, from its leading bytes ("magic numbers"),
/// falling back to `text/plain` for valid UTF-8 without NUL bytes and
/// `application/octet-stream` otherwise. Markup is named as such
/// (`text/html`, `image/svg+xml`) so that the team sees what it is; it is
/// still only ever served as a download.
#[must_use]
pub fn sniff(content: &[u8]) -> &'static str {
    const SIGNATURES: &[(&[u8], &str)] = &[
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"%PDF-", "application/pdf"),
        (b"PK\x03\x04", "application/zip"),
        (b"PK\x05\x06", "application/zip"),
        (b"\x1f\x8b", "application/gzip"),
        (b"BZh", "application/x-bzip2"),
        (b"\xfd7zXZ\x00", "application/x-xz"),
        (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
        (b"\x28\xb5\x2f\xfd", "application/zstd"),
        (b"\x7fELF", "application/x-executable"),
        (b"MZ", "application/x-msdownload"),
        (b"\xca\xfe\xba\xbe", "application/java-vm"),
        (b"\xcf\xfa\xed\xfe", "application/x-mach-binary"),
        (b"\x00asm", "application/wasm"),
        (b"\xd4\xc3\xb2\xa1", "application/vnd.tcpdump.pcap"),
        (b"\xa1\xb2\xc3\xd4", "application/vnd.tcpdump.pcap"),
        (b"\x0a\x0d\x0d\x0a", "application/x-pcapng"),
        (b"SQLite format 3\x00", "application/vnd.sqlite3"),
    ];
    if content.len() >= 12 && &content[..4] == b"RIFF" && &content[8..12] == b"WEBP" {
        return "image/webp";
    }
    if content.len() >= 12 && &content[4..8] == b"ftyp" {
        return "video/mp4";
    }
    if let Some((_, media_type)) = SIGNATURES.iter().find(|(sig, _)| content.starts_with(sig)) {
        return media_type;
    }
    let Ok(text) = std::str::from_utf8(content) else {
        return "application/octet-stream";
    };
    if text.contains('\0') {
        return "application/octet-stream";
    }
    let head: String = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .chars()
        .take(256)
        .collect::<String>()
        .to_ascii_lowercase();
    if head.starts_with("<svg") || (head.starts_with("<?xml") && head.contains("<svg")) {
        "image/svg+xml"
    } else if [
        "<!doctype html",
        "<html",
        "<head",
        "<body",
        "<script",
        "<iframe",
    ]
    .iter()
    .any(|p| head.starts_with(p))
    {
        "text/html"
    } else if head.starts_with("<?xml") {
        "application/xml"
    } else if head.starts_with('{') || head.starts_with('[') {
        if serde_json::from_str::<serde_json::Value>(text).is_ok() {
            "application/json"
        } else {
            "text/plain"
        }
    } else {
        "text/plain"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_trusts_the_content_not_the_name() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "image/png");
        assert_eq!(sniff(b"%PDF-1.7\n"), "application/pdf");
        assert_eq!(sniff(b"\x7fELF\x02\x01"), "application/x-executable");
        assert_eq!(sniff(b"  <!DOCTYPE html><p>hi"), "text/html");
        assert_eq!(sniff(b"<script>alert(1)</script>"), "text/html");
        assert_eq!(
            sniff(b"<?xml version=\"1.0\"?>\n<svg onload=alert(1)>"),
            "image/svg+xml"
        );
        assert_eq!(sniff(br#"{"a": 1}"#), "application/json");
        assert_eq!(sniff(b"{not json"), "text/plain");
        assert_eq!(sniff(b"curl -X POST http://target/"), "text/plain");
        assert_eq!(sniff(b"abc\0def"), "application/octet-stream");
        assert_eq!(sniff(&[0xff, 0xfe, 0x00]), "application/octet-stream");
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), "image/webp");
    }

    #[test]
    fn file_names_lose_paths_and_dangerous_characters() {
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("C:\\Users\\me\\poc.py"), "poc.py");
        assert_eq!(clean_filename("a\"b;c\r\n.txt"), "a_b_c.txt");
        assert_eq!(clean_filename(".htaccess"), "htaccess");
        assert_eq!(clean_filename("invoice\u{202e}fdp.html"), "invoicefdp.html");
        assert_eq!(clean_filename("   "), "attachment");
        assert_eq!(clean_filename("dir/"), "attachment");
        assert_eq!(
            clean_filename(&"x".repeat(500)).chars().count(),
            MAX_FILENAME_CHARS
        );
    }

    #[test]
    fn describe_checks_size_and_hashes_the_content() {
        let limits = AttachmentLimits {
            max_bytes: 8,
            max_count: 1,
        };
        let ok = NewAttachment {
            filename: "poc.txt".into(),
            content: b"abc".to_vec(),
        }
        .describe("id1".into(), true, limits)
        .expect("within the limit");
        assert_eq!(ok.size, 3);
        assert_eq!(
            ok.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(ok.media_type, "text/plain");
        let big = NewAttachment {
            filename: "big".into(),
            content: vec![b'a'; 9],
        }
        .describe("id2".into(), true, limits);
        assert!(matches!(big, Err(DomainError::TooLarge { limit: 8, .. })));
        let empty = NewAttachment {
            filename: "e".into(),
            content: Vec::new(),
        }
        .describe("id3".into(), true, limits);
        assert!(matches!(empty, Err(DomainError::Invalid { .. })));
        assert_eq!(describe_bytes(10 * 1024 * 1024), "10 MiB (10485760 bytes)");
        assert_eq!(describe_bytes(1000), "1000 bytes");
    }
}
