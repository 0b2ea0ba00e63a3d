//! Content sniffing: what a file is, from its first bytes, never from its name.

use fsecheck_report::Kind;

/// What the first bytes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    Pdf,
    Xml,
    Http,
    Other,
}

impl Sniffed {
    pub fn kind(self) -> Kind {
        match self {
            Sniffed::Pdf => Kind::Pdf,
            Sniffed::Xml => Kind::Xml,
            Sniffed::Http => Kind::Http,
            Sniffed::Other => Kind::Other,
        }
    }
}

const METHODS: [&str; 5] = ["GET ", "POST ", "PUT ", "DELETE ", "PATCH "];

/// Classify `head` (the first bytes of a file; 1 KiB is plenty).
pub fn sniff(head: &[u8]) -> Sniffed {
    if head.starts_with(b"%PDF-") {
        return Sniffed::Pdf;
    }
    // UTF-16 with BOM, or without one: '<' next to a zero byte.
    if head.starts_with(&[0xFF, 0xFE, b'<', 0])
        || head.starts_with(&[0xFE, 0xFF, 0, b'<'])
        || head.starts_with(&[b'<', 0])
        || head.starts_with(&[0, b'<'])
    {
        return Sniffed::Xml;
    }
    let body = head.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(head);
    let trimmed = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(&[][..], |i| &body[i..]);
    if trimmed.first() == Some(&b'<') {
        // `<?xml`, `<!--`, `<name`: markup. A lone '<' followed by a space is not XML.
        if trimmed.get(1).is_some_and(|&c| {
            matches!(c, b'?' | b'!' | b'_' | b':') || c.is_ascii_alphabetic() || c >= 0x80
        }) {
            return Sniffed::Xml;
        }
    }
    // An HTTP request file (.http, as in IDE REST clients): comments (#, //) then a request line.
    let text = String::from_utf8_lossy(&trimmed[..trimmed.len().min(1024)]);
    for line in text.lines() {
        let l = line.trim();
        // Blank lines, comments and `@name = value` variable definitions come before the request.
        if l.is_empty() || l.starts_with('#') || l.starts_with("//") || l.starts_with('@') {
            continue;
        }
        let mut words = l.split_whitespace();
        let method = words.next().unwrap_or_default();
        let target = words.next().unwrap_or_default();
        if METHODS.iter().any(|m| m.trim_end() == method)
            && (target.starts_with("http") || target.starts_with('/') || target.starts_with("{{"))
        {
            return Sniffed::Http;
        }
        break;
    }
    Sniffed::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_content_not_name() {
        assert_eq!(sniff(b"%PDF-1.7\n"), Sniffed::Pdf);
        assert_eq!(sniff(b"<?xml version='1.0'?><a/>"), Sniffed::Xml);
        assert_eq!(sniff(b"\xEF\xBB\xBF\n  <ClinicalDocument/>"), Sniffed::Xml);
        assert_eq!(sniff(b"<!-- c --><a/>"), Sniffed::Xml);
        assert_eq!(sniff(&[0xFF, 0xFE, b'<', 0, b'a', 0]), Sniffed::Xml);
        assert_eq!(sniff(&[b'<', 0, b'a', 0]), Sniffed::Xml);
        assert_eq!(
            sniff(b"### validate\nPOST http://localhost:8010/v1/documents/validation\n"),
            Sniffed::Http
        );
        assert_eq!(
            sniff(b"@id=2.16.840^1\n\n# comment\nPOST {{$dotenv HOST}}/v1/documents\n"),
            Sniffed::Http
        );
        assert_eq!(sniff(b"{\"a\": 1}"), Sniffed::Other);
        assert_eq!(sniff(b""), Sniffed::Other);
        assert_eq!(sniff(b"< not xml"), Sniffed::Other);
        assert_eq!(sniff(&[0x89, b'P', b'N', b'G']), Sniffed::Other);
    }
}
