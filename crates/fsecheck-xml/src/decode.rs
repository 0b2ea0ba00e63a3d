//! Bytes → text: byte order marks, the XML declaration's `encoding`, and the contradictions
//! between the two. Supported: UTF-8, UTF-16LE/BE, US-ASCII, ISO-8859-1 and windows-1252.

use crate::truncate_chars;
use fsecheck_core::{Finding, Stage};
use serde::Serialize;

/// The character encoding a document was read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Encoding {
    #[serde(rename = "UTF-8")]
    Utf8,
    #[serde(rename = "UTF-16LE")]
    Utf16Le,
    #[serde(rename = "UTF-16BE")]
    Utf16Be,
    #[serde(rename = "US-ASCII")]
    Ascii,
    #[serde(rename = "ISO-8859-1")]
    Latin1,
    #[serde(rename = "windows-1252")]
    Windows1252,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf16Le => "UTF-16LE",
            Encoding::Utf16Be => "UTF-16BE",
            Encoding::Ascii => "US-ASCII",
            Encoding::Latin1 => "ISO-8859-1",
            Encoding::Windows1252 => "windows-1252",
        }
    }

    fn is_utf16(self) -> bool {
        matches!(self, Encoding::Utf16Le | Encoding::Utf16Be)
    }
}

/// Decoded text (BOM removed) plus warnings found on the way.
#[derive(Debug)]
pub struct Decoded {
    pub text: String,
    pub encoding: Encoding,
    pub had_bom: bool,
    pub findings: Vec<Finding>,
}

/// What the `encoding` pseudo-attribute names, as far as we support it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Declared {
    Utf8,
    Utf16Any,
    Utf16Le,
    Utf16Be,
    Ascii,
    Latin1,
    Windows1252,
}

fn classify(label: &str) -> Option<Declared> {
    let l = label.trim().to_ascii_lowercase();
    Some(match l.as_str() {
        "utf-8" | "utf8" => Declared::Utf8,
        "utf-16" | "utf16" => Declared::Utf16Any,
        "utf-16le" => Declared::Utf16Le,
        "utf-16be" => Declared::Utf16Be,
        "us-ascii" | "ascii" => Declared::Ascii,
        "iso-8859-1" | "iso8859-1" | "iso_8859-1" | "latin1" | "latin-1" | "l1" => Declared::Latin1,
        "windows-1252" | "cp1252" => Declared::Windows1252,
        _ => return None,
    })
}

fn err(id: &str, message: String, hint: &str) -> Box<Finding> {
    Box::new(Finding::error(id, Stage::Xml, message).with_hint(hint))
}

/// Decode owned bytes: plain UTF-8 without a BOM (the common case) becomes the text without a
/// copy; everything else goes through [`decode`], with the same results.
pub fn decode_owned(bytes: Vec<u8>) -> Result<Decoded, Box<Finding>> {
    let plain = !bytes.is_empty()
        && !bytes.starts_with(&[0xEF, 0xBB, 0xBF])
        && !bytes.starts_with(&[0xFF, 0xFE])
        && !bytes.starts_with(&[0xFE, 0xFF])
        && !matches!(bytes.get(..2), Some([0, _] | [_, 0]))
        && declared_encoding(&bytes).is_none_or(|l| classify(&l) == Some(Declared::Utf8));
    if !plain {
        return decode(&bytes);
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Decoded {
            text,
            encoding: Encoding::Utf8,
            had_bom: false,
            findings: Vec::new(),
        }),
        Err(e) => decode(e.as_bytes()),
    }
}

/// Decode `bytes` to text. Fatal problems (no way to read the text) are `Err`.
pub fn decode(bytes: &[u8]) -> Result<Decoded, Box<Finding>> {
    if bytes.is_empty() {
        return Err(Box::new(
            Finding::error("xml/empty", Stage::Xml, "the file is empty")
                .with_hint("An empty file cannot be a CDA document."),
        ));
    }
    if bytes.starts_with(&[0, 0, 0xFE, 0xFF]) || bytes.starts_with(&[0xFF, 0xFE, 0, 0]) {
        return Err(err(
            "xml/unsupported-encoding",
            "UTF-32 is not supported".into(),
            "Save the document as UTF-8.",
        ));
    }
    let mut findings = Vec::new();
    // Byte order marks first: they decide the family.
    let (bom_enc, body) = if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        (Some(Encoding::Utf8), rest)
    } else if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        (Some(Encoding::Utf16Le), rest)
    } else if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        (Some(Encoding::Utf16Be), rest)
    } else {
        (None, bytes)
    };

    // UTF-16 without a BOM is recognisable by '<' followed by a zero byte (or the reverse).
    let sniffed16 = if bom_enc.is_none() && body.len() >= 4 {
        match body[..4] {
            [0x3C, 0, b, 0] if b != 0 => Some(Encoding::Utf16Le),
            [0, 0x3C, 0, b] if b != 0 => Some(Encoding::Utf16Be),
            _ => None,
        }
    } else {
        None
    };

    let family = bom_enc.or(sniffed16);
    if let Some(enc) = family.filter(|e| e.is_utf16()) {
        let text = decode_utf16(body, enc)?;
        if sniffed16.is_some() {
            findings.push(
                Finding::warning(
                    "xml/utf16-without-bom",
                    Stage::Xml,
                    format!("{} text without a byte order mark", enc.name()),
                )
                .with_hint(
                    "XML requires UTF-16 documents to start with a byte order mark; many parsers \
                     (the gateway's Xerces among them) guess the order anyway. Prefer UTF-8.",
                ),
            );
        }
        if let Some(label) = declared_encoding(text.as_bytes()) {
            match classify(&label) {
                Some(Declared::Utf16Any) => {}
                Some(Declared::Utf16Le) if enc == Encoding::Utf16Le => {}
                Some(Declared::Utf16Be) if enc == Encoding::Utf16Be => {}
                _ => {
                    return Err(err(
                        "xml/encoding-mismatch",
                        format!(
                            "the bytes are {} but the XML declaration says encoding=\"{label}\"",
                            enc.name()
                        ),
                        "The declaration contradicts the byte order mark; fix one of them.",
                    ))
                }
            }
        }
        return Ok(Decoded {
            text,
            encoding: enc,
            had_bom: bom_enc.is_some(),
            findings,
        });
    }

    // 8-bit family: UTF-8 (BOM or default) or what the declaration names.
    let label = declared_encoding(body);
    let declared =
        match &label {
            None => None,
            Some(l) => match classify(l) {
                Some(d) => Some(d),
                None => return Err(err(
                    "xml/unsupported-encoding",
                    format!("unsupported encoding \"{l}\" in the XML declaration"),
                    "Supported: UTF-8, UTF-16, US-ASCII, ISO-8859-1, windows-1252. Prefer UTF-8.",
                )),
            },
        };
    let enc = match (bom_enc, declared) {
        (Some(_), None | Some(Declared::Utf8)) => Encoding::Utf8,
        (Some(_), Some(_)) => {
            return Err(err(
                "xml/encoding-mismatch",
                format!(
                    "the file starts with a UTF-8 byte order mark but the XML declaration says \
                     encoding=\"{}\"",
                    label.unwrap_or_default()
                ),
                "The declaration contradicts the byte order mark; fix one of them.",
            ))
        }
        (None, None | Some(Declared::Utf8)) => Encoding::Utf8,
        (None, Some(Declared::Utf16Any | Declared::Utf16Le | Declared::Utf16Be)) => {
            return Err(err(
                "xml/encoding-mismatch",
                format!(
                    "the XML declaration says encoding=\"{}\" but the bytes are not UTF-16",
                    label.unwrap_or_default()
                ),
                "The declaration contradicts the bytes: declare the encoding actually used.",
            ))
        }
        (None, Some(Declared::Ascii)) => Encoding::Ascii,
        (None, Some(Declared::Latin1)) => Encoding::Latin1,
        (None, Some(Declared::Windows1252)) => Encoding::Windows1252,
    };
    let text = match enc {
        Encoding::Utf8 => decode_utf8(body, label.is_some())?,
        Encoding::Ascii => {
            if let Some(i) = body.iter().position(|b| !b.is_ascii()) {
                let (line, col) = position_in_prefix(&body[..i]);
                return Err(Box::new(
                    Finding::error(
                        "xml/invalid-encoding",
                        Stage::Xml,
                        format!(
                            "byte 0x{:02X} at line {line}, column {col} is not US-ASCII, as declared",
                            body[i]
                        ),
                    )
                    .with_line_col(line, col)
                    .with_hint("Declare the encoding actually used (UTF-8 is best)."),
                ));
            }
            String::from_utf8_lossy(body).into_owned()
        }
        Encoding::Latin1 => body.iter().map(|&b| b as char).collect(),
        Encoding::Windows1252 => body.iter().map(|&b| cp1252(b)).collect(),
        Encoding::Utf16Le | Encoding::Utf16Be => unreachable!("handled above"),
    };
    Ok(Decoded {
        text,
        encoding: enc,
        had_bom: bom_enc.is_some(),
        findings,
    })
}

fn decode_utf8(body: &[u8], declared: bool) -> Result<String, Box<Finding>> {
    match std::str::from_utf8(body) {
        Ok(s) => Ok(s.to_owned()),
        Err(e) => {
            let i = e.valid_up_to();
            let (line, col) = position_in_prefix(&body[..i]);
            let line_start = body[..i]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |p| p + 1);
            let line_end = body[i..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(body.len(), |p| i + p);
            let line_text = String::from_utf8_lossy(&body[line_start..line_end]);
            let why = if declared {
                "declared as UTF-8"
            } else {
                "no encoding declared, so UTF-8"
            };
            Err(Box::new(
                Finding::error(
                    "xml/invalid-utf8",
                    Stage::Xml,
                    format!(
                        "byte 0x{:02X} at line {line}, column {col} is not valid UTF-8 ({why})",
                        body[i]
                    ),
                )
                .with_line_col(line, col)
                .with_detail("line_text", truncate_chars(line_text.trim_end(), 200))
                .with_hint(
                    "The text is probably ISO-8859-1 or windows-1252: convert it to UTF-8, or \
                     declare the encoding in the XML declaration.",
                ),
            ))
        }
    }
}

fn decode_utf16(body: &[u8], enc: Encoding) -> Result<String, Box<Finding>> {
    if !body.len().is_multiple_of(2) {
        return Err(err(
            "xml/invalid-encoding",
            format!("{} text with an odd number of bytes", enc.name()),
            "The file is truncated or not UTF-16.",
        ));
    }
    let units = body.chunks_exact(2).map(|c| match enc {
        Encoding::Utf16Le => u16::from_le_bytes([c[0], c[1]]),
        _ => u16::from_be_bytes([c[0], c[1]]),
    });
    let mut text = String::with_capacity(body.len() / 2);
    let (mut line, mut col) = (1u32, 1u32);
    for r in char::decode_utf16(units) {
        match r {
            Ok(c) => {
                if c == '\n' {
                    line += 1;
                    col = 1;
                } else {
                    col += 1;
                }
                text.push(c);
            }
            Err(e) => {
                return Err(Box::new(
                    Finding::error(
                        "xml/invalid-encoding",
                        Stage::Xml,
                        format!(
                            "unpaired surrogate 0x{:04X} at line {line}, column {col} in {} text",
                            e.unpaired_surrogate(),
                            enc.name()
                        ),
                    )
                    .with_line_col(line, col),
                ))
            }
        }
    }
    Ok(text)
}

/// 1-based line:col of the position right after `prefix` (valid UTF-8 up to there).
fn position_in_prefix(prefix: &[u8]) -> (u32, u32) {
    let line = 1 + prefix.iter().filter(|&&b| b == b'\n').count() as u32;
    let start = prefix
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let col = 1 + String::from_utf8_lossy(&prefix[start..]).chars().count() as u32;
    (line, col)
}

/// The `encoding` pseudo-attribute of a leading XML declaration, read as ASCII.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let b = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let rest = b.strip_prefix(b"<?xml")?;
    if !rest.first().is_some_and(|c| c.is_ascii_whitespace()) {
        return None;
    }
    let end = rest.windows(2).position(|w| w == b"?>")?;
    let decl = &rest[..end.min(512)];
    let mut i = 0;
    while i + 8 <= decl.len() {
        if &decl[i..i + 8] == b"encoding" && (i == 0 || decl[i - 1].is_ascii_whitespace()) {
            let mut j = i + 8;
            while j < decl.len() && decl[j].is_ascii_whitespace() {
                j += 1;
            }
            if decl.get(j) != Some(&b'=') {
                return None;
            }
            j += 1;
            while j < decl.len() && decl[j].is_ascii_whitespace() {
                j += 1;
            }
            let q = *decl.get(j)?;
            if q != b'"' && q != b'\'' {
                return None;
            }
            let start = j + 1;
            let len = decl[start..].iter().position(|&c| c == q)?;
            return Some(String::from_utf8_lossy(&decl[start..start + len]).into_owned());
        }
        i += 1;
    }
    None
}

fn cp1252(b: u8) -> char {
    const HIGH: [u16; 32] = [
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
        0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
        0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
    ];
    if (0x80..0xA0).contains(&b) {
        char::from_u32(HIGH[(b - 0x80) as usize] as u32).unwrap_or('\u{FFFD}')
    } else {
        b as char
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(s: &str, le: bool, bom: bool) -> Vec<u8> {
        let mut v = Vec::new();
        if bom {
            v.extend_from_slice(if le { &[0xFF, 0xFE] } else { &[0xFE, 0xFF] });
        }
        for u in s.encode_utf16() {
            v.extend_from_slice(&if le { u.to_le_bytes() } else { u.to_be_bytes() });
        }
        v
    }

    #[test]
    fn utf8_with_and_without_bom() {
        let d = decode(b"\xEF\xBB\xBF<a>\xC3\xA8</a>").unwrap();
        assert_eq!(d.text, "<a>è</a>");
        assert!(d.had_bom);
        let d = decode("<?xml version='1.0'?><a>è</a>".as_bytes()).unwrap();
        assert_eq!(d.encoding, Encoding::Utf8);
    }

    #[test]
    fn utf16_both_orders_with_bom() {
        for le in [true, false] {
            let d = decode(&utf16(
                "<?xml version=\"1.0\" encoding=\"UTF-16\"?><a>è</a>",
                le,
                true,
            ))
            .unwrap();
            assert!(d.text.ends_with("<a>è</a>"));
            assert!(d.findings.is_empty());
        }
    }

    #[test]
    fn utf16_without_bom_is_read_with_a_warning() {
        let d = decode(&utf16("<a>x</a>", true, false)).unwrap();
        assert_eq!(d.text, "<a>x</a>");
        assert_eq!(d.findings[0].id, "xml/utf16-without-bom");
    }

    #[test]
    fn declared_latin1_and_cp1252() {
        let d = decode(b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xE8</a>").unwrap();
        assert!(d.text.ends_with("<a>è</a>"));
        let d = decode(b"<?xml version=\"1.0\" encoding=\"windows-1252\"?><a>\x80</a>").unwrap();
        assert!(d.text.ends_with("<a>€</a>"));
    }

    #[test]
    fn invalid_utf8_points_at_the_byte() {
        let e = decode(b"<a>\n  caff\xE8</a>").unwrap_err();
        assert_eq!(e.id, "xml/invalid-utf8");
        assert_eq!((e.location.line, e.location.column), (Some(2), Some(7)));
    }

    #[test]
    fn contradictions_are_findings() {
        let e =
            decode(b"\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>").unwrap_err();
        assert_eq!(e.id, "xml/encoding-mismatch");
        let e = decode(&utf16(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a/>",
            true,
            true,
        ))
        .unwrap_err();
        assert_eq!(e.id, "xml/encoding-mismatch");
        let e = decode(b"<?xml version=\"1.0\" encoding=\"UTF-16\"?><a/>").unwrap_err();
        assert_eq!(e.id, "xml/encoding-mismatch");
        let e = decode(b"<?xml version=\"1.0\" encoding=\"EBCDIC-XYZ\"?><a/>").unwrap_err();
        assert_eq!(e.id, "xml/unsupported-encoding");
    }

    #[test]
    fn owned_fast_path_agrees_with_decode() {
        let cases: [&[u8]; 6] = [
            b"<a>\xC3\xA8</a>",
            b"<?xml version='1.0' encoding='UTF-8'?><a/>",
            b"<?xml version='1.0' encoding='ISO-8859-1'?><a>\xE8</a>",
            b"<a>caff\xE8</a>",
            b"",
            b"\xEF\xBB\xBF<a/>",
        ];
        for c in cases {
            let a = decode(c).map(|d| (d.text, d.encoding)).map_err(|f| f.id);
            let b = decode_owned(c.to_vec())
                .map(|d| (d.text, d.encoding))
                .map_err(|f| f.id);
            assert_eq!(a, b);
        }
    }

    #[test]
    fn empty_and_odd_utf16() {
        assert_eq!(decode(b"").unwrap_err().id, "xml/empty");
        assert_eq!(
            decode(&[0xFF, 0xFE, 0x3C]).unwrap_err().id,
            "xml/invalid-encoding"
        );
    }
}
